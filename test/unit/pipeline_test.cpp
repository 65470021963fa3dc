// src/actors/cart_pipeline.hpp: one cart command against the back-ends.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "actors/cart_pipeline.hpp"
#include "adapters/demo_backends.hpp"
#include "builders.hpp"

using namespace testing;
namespace adapters = orch::adapters;
using orch::actors::run_cart_command;

namespace {

// ------------------------------------------------------------ test doubles

class FailingCatalog final : public adapters::Catalog {
 public:
  Result<std::optional<CatalogItem>> get_item(const adapters::CallContext&, const std::string&) override {
    ++calls;
    return Error(Code::backend_unavailable, "catalog is down");
  }
  int calls = 0;
};

class CountingCatalog final : public adapters::Catalog {
 public:
  explicit CountingCatalog(std::shared_ptr<adapters::Catalog> inner) : inner_(std::move(inner)) {}
  Result<std::optional<CatalogItem>> get_item(const adapters::CallContext& c, const std::string& id) override {
    ++calls;
    return inner_->get_item(c, id);
  }
  int calls = 0;

 private:
  std::shared_ptr<adapters::Catalog> inner_;
};

// Pricing that can fail, or put every line at a fixed price.
class FakePricing final : public adapters::Pricing {
 public:
  explicit FakePricing(std::shared_ptr<adapters::Pricing> inner) : inner_(std::move(inner)) {}
  Result<std::vector<LinePrice>> resolve_prices(const adapters::CallContext& c, const Cart& cart) override {
    ++price_calls;
    if (fail_prices) return Error(Code::backend_error, "pricing exploded");
    if (!override_price) return inner_->resolve_prices(c, cart);
    std::vector<LinePrice> out;
    for (const auto& l : cart.lines) out.push_back({l.line_id, *override_price});
    return out;
  }
  Result<std::optional<Discount>> resolve_discount(const adapters::CallContext& c,
                                                   const std::string& code) override {
    ++discount_calls;
    if (fail_discount) return Error(Code::backend_unavailable, "pricing is down");
    return inner_->resolve_discount(c, code);
  }
  bool fail_prices = false;
  bool fail_discount = false;
  std::optional<std::int64_t> override_price;
  int price_calls = 0;
  int discount_calls = 0;

 private:
  std::shared_ptr<adapters::Pricing> inner_;
};

class FakeTax final : public adapters::Tax {
 public:
  Result<std::int64_t> resolve_tax(const adapters::CallContext&, const Cart& cart) override {
    ++calls;
    if (error) return *error;
    if (fixed) return *fixed;
    return adapters::demo_tax(cart);
  }
  std::optional<Error> error;
  std::optional<std::int64_t> fixed;
  int calls = 0;
};

adapters::Backends demo() {
  auto data = adapters::load_embedded_demo_data();
  REQUIRE(data.ok());
  auto backends = adapters::make_demo_backends(*data);
  INFO(describe(backends));
  REQUIRE(backends.ok());
  return *backends;
}

// The demo back-ends with every call observable and any of them breakable.
struct Rig {
  adapters::Backends backends = demo();
  std::shared_ptr<CountingCatalog> catalog = std::make_shared<CountingCatalog>(backends.catalog);
  std::shared_ptr<FakePricing> pricing = std::make_shared<FakePricing>(backends.pricing);
  std::shared_ptr<FakeTax> tax = std::make_shared<FakeTax>();
  Rig() {
    backends.catalog = catalog;
    backends.pricing = pricing;
    backends.tax = tax;
  }
  int calls() const { return catalog->calls + pricing->price_calls + pricing->discount_calls + tax->calls; }
};

const adapters::CallContext kCall{"req-1", "t1", "idem-1"};

Result<std::vector<EventBody>> run(const adapters::Backends& b, const Cart& cart, const Command& cmd,
                                   std::string new_line = "li_new") {
  return run_cart_command(b, kCall, cart, cmd, Context{"t1", "cart-new", std::move(new_line)});
}

std::vector<EventBody> run_ok(const adapters::Backends& b, const Cart& cart, const Command& cmd,
                              std::string new_line = "li_new") {
  auto r = run(b, cart, cmd, std::move(new_line));
  INFO(kind_of(cmd), ": ", describe(r));
  REQUIRE(r.ok());
  return *r;
}

Error run_err(const adapters::Backends& b, const Cart& cart, const Command& cmd) {
  auto r = run(b, cart, cmd);
  INFO(kind_of(cmd), " unexpectedly succeeded");
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// A cart created through the pipeline.
Cart created(const adapters::Backends& b) {
  Cart c;
  apply_all(c, run_ok(b, c, CreateCart{"flower_shop", "USD"}));
  REQUIRE(c.version == 1);
  return c;
}

// The cart with roses x2 (line "l1"), through the pipeline.
Cart with_roses(const adapters::Backends& b) {
  Cart c = created(b);
  apply_all(c, run_ok(b, c, AddItem{"bouquet_roses", 2, {}}, "l1"));
  return c;
}

}  // namespace

TEST_CASE("pipeline create_cart: one Created event, no back-end call") {
  Rig rig;
  Cart c;
  auto events = run_ok(rig.backends, c, CreateCart{"flower_shop", "USD"});
  REQUIRE(events.size() == 1);
  CHECK(std::holds_alternative<Created>(events[0]));
  CHECK(rig.calls() == 0);
  apply_all(c, events);
  CHECK(c.cart_id == "cart-new");
  CHECK(c.tenant_id == "t1");
  CHECK(c.merchant_id == "flower_shop");
}

TEST_CASE("pipeline add_item bouquet_roses x2: item_added then tax_resolved(700)") {
  adapters::Backends b = demo();
  Cart c = created(b);
  auto events = run_ok(b, c, AddItem{"bouquet_roses", 2, {}}, "l1");
  REQUIRE(events.size() == 2);
  const auto* added = std::get_if<ItemAdded>(&events[0]);
  REQUIRE(added != nullptr);
  CHECK(added->line_id == "l1");
  CHECK(added->item_id == "bouquet_roses");
  CHECK(added->title == "Bouquet of Red Roses");
  CHECK(added->unit_price_minor == 3500);
  CHECK(added->quantity == 2);
  const auto* tax = std::get_if<TaxResolved>(&events[1]);
  REQUIRE(tax != nullptr);
  CHECK(tax->tax_minor == 700);

  apply_all(c, events);
  CHECK(c.version == 2);
  CHECK(c.subtotal_minor == 7000);
  CHECK(c.discount_minor == 0);
  CHECK(c.tax_minor == 700);
  CHECK(c.total_minor == 7700);
}

TEST_CASE("pipeline apply_adjustment 10OFF: discount, then tax on the discounted subtotal") {
  adapters::Backends b = demo();
  Cart c = with_roses(b);
  auto events = run_ok(b, c, ApplyAdjustment{"10OFF", {}});
  REQUIRE(events.size() == 2);
  const auto* adj = std::get_if<AdjustmentApplied>(&events[0]);
  REQUIRE(adj != nullptr);
  CHECK(adj->code == "10OFF");
  CHECK(adj->kind == DiscountKind::percentage);
  CHECK(adj->value == 10);
  const auto* tax = std::get_if<TaxResolved>(&events[1]);
  REQUIRE(tax != nullptr);
  CHECK(tax->tax_minor == (7000 - 700) / 10);

  apply_all(c, events);
  CHECK(c.version == 3);
  CHECK(c.discount_minor == 700);
  CHECK(c.tax_minor == 630);
  CHECK(c.total_minor == 7000 - 700 + 630);

  SUBCASE("the same code again: no events") {
    CHECK(run_ok(b, c, ApplyAdjustment{"10OFF", {}}).empty());
  }
  SUBCASE("FIXED500 on top applies to the running total") {
    apply_all(c, run_ok(b, c, ApplyAdjustment{"FIXED500", {}}));
    CHECK(c.discount_minor == 1200);
    CHECK(c.tax_minor == 580);
    CHECK(c.total_minor == 7000 - 1200 + 580);
  }
}

TEST_CASE("pipeline: unknown discount code is ADJUSTMENT_REJECTED") {
  adapters::Backends b = demo();
  CHECK(run_err(b, with_roses(b), ApplyAdjustment{"FREESTUFF", {}}).code == Code::adjustment_rejected);
}

TEST_CASE("pipeline: unknown item is ITEM_NOT_FOUND") {
  adapters::Backends b = demo();
  Error e = run_err(b, created(b), AddItem{"ghost_lily", 1, {}});
  CHECK(e.code == Code::item_not_found);
  CHECK(contains(e.message, "ghost_lily"));
}

TEST_CASE("pipeline: gardenias are OUT_OF_STOCK") {
  adapters::Backends b = demo();
  CHECK(run_err(b, created(b), AddItem{"gardenias", 1, {}}).code == Code::out_of_stock);
}

TEST_CASE("pipeline: stock counts every line of the item") {
  adapters::Backends b = demo();  // bouquet_sunflowers: 500 in stock
  Cart c = created(b);
  apply_all(c, run_ok(b, c, AddItem{"bouquet_sunflowers", 300, {}}, "l1"));
  CHECK(run_err(b, c, AddItem{"bouquet_sunflowers", 201, {}}).code == Code::out_of_stock);
  apply_all(c, run_ok(b, c, AddItem{"bouquet_sunflowers", 200, {}}, "l2"));
  CHECK(run_err(b, c, UpdateItemQty{"l2", 201, {}}).code == Code::out_of_stock);
  CHECK(run(b, c, UpdateItemQty{"l2", 100, {}}).ok());
}

TEST_CASE("pipeline: several mutations in a row, versions 2 to 6, tax follows") {
  adapters::Backends b = demo();
  Cart c = created(b);
  apply_all(c, run_ok(b, c, AddItem{"bouquet_roses", 2, 1}, "l1"));
  CHECK(c.version == 2);
  apply_all(c, run_ok(b, c, AddItem{"pot_ceramic", 1, 2}, "l2"));
  CHECK(c.version == 3);
  CHECK(c.tax_minor == 850);
  apply_all(c, run_ok(b, c, UpdateItemQty{"l1", 3, 3}));
  CHECK(c.version == 4);
  apply_all(c, run_ok(b, c, RemoveItem{"l2", 4}));
  CHECK(c.version == 5);
  apply_all(c, run_ok(b, c, AddItem{"orchid_white", 1, 5}, "l3"));
  CHECK(c.version == 6);
  CHECK(c.subtotal_minor == 3 * 3500 + 4500);
  CHECK(c.tax_minor == 1500);
  CHECK(c.total_minor == 16500);
}

TEST_CASE("pipeline update_item_qty to 0 removes the line and retaxes") {
  adapters::Backends b = demo();
  Cart c = with_roses(b);
  auto events = run_ok(b, c, UpdateItemQty{"l1", 0, {}});
  REQUIRE(events.size() == 2);
  CHECK(std::holds_alternative<ItemRemoved>(events[0]));
  REQUIRE(std::holds_alternative<TaxResolved>(events[1]));
  CHECK(std::get<TaxResolved>(events[1]).tax_minor == 0);
  apply_all(c, events);
  CHECK(c.lines.empty());
  CHECK(c.total_minor == 0);
  CHECK(c.version == 3);
}

TEST_CASE("pipeline: a changed price gives item_added, repriced, tax_resolved on the new price") {
  Rig rig;
  Cart c = created(rig.backends);
  rig.pricing->override_price = 3000;
  auto events = run_ok(rig.backends, c, AddItem{"bouquet_roses", 2, {}}, "l1");
  REQUIRE(events.size() == 3);
  CHECK(std::holds_alternative<ItemAdded>(events[0]));
  REQUIRE(std::holds_alternative<Repriced>(events[1]));
  const auto& rp = std::get<Repriced>(events[1]);
  REQUIRE(rp.prices.size() == 1);
  CHECK(rp.prices[0].line_id == "l1");
  CHECK(rp.prices[0].unit_price_minor == 3000);
  REQUIRE(std::holds_alternative<TaxResolved>(events[2]));
  CHECK(std::get<TaxResolved>(events[2]).tax_minor == 600);
  apply_all(c, events);
  CHECK(c.version == 2);
  CHECK(c.subtotal_minor == 6000);
  CHECK(c.total_minor == 6600);
}

TEST_CASE("pipeline: reads and checkout call no back-end and emit no recalculation") {
  Rig rig;
  Cart c = with_roses(rig.backends);
  int before = rig.calls();
  CHECK(run_ok(rig.backends, c, GetCart{}).empty());
  auto events = run_ok(rig.backends, c, StartCheckout{c.version});
  REQUIRE(events.size() == 1);
  CHECK(std::holds_alternative<CheckoutReady>(events[0]));
  CHECK(rig.calls() == before);
  apply_all(c, events);
  CHECK(c.version == 3);
  CHECK(c.status == CartStatus::checkout_ready);
  CHECK(run_ok(rig.backends, c, StartCheckout{2}).empty());
}

TEST_CASE("pipeline: refused before any back-end call") {
  Rig rig;
  Cart c = with_roses(rig.backends);
  int before = rig.calls();
  SUBCASE("invalid command") {
    Error e = run_err(rig.backends, c, AddItem{"", 0, {}});
    CHECK(e.code == Code::validation_error);
    CHECK(e.details.size() == 2);
  }
  SUBCASE("missing cart") { CHECK(run_err(rig.backends, Cart{}, AddItem{"bouquet_roses", 1, {}}).code == Code::not_found); }
  SUBCASE("version conflict") {
    CHECK(run_err(rig.backends, c, AddItem{"bouquet_roses", 1, 1}).code == Code::cart_version_conflict);
  }
  SUBCASE("unknown line") {
    CHECK(run_err(rig.backends, c, UpdateItemQty{"nope", 5, {}}).code == Code::line_not_found);
  }
  SUBCASE("closed cart") {
    apply(c, ev(CheckoutReady{}));
    apply(c, ev(CheckedOut{"txn"}));
    CHECK(run_err(rig.backends, c, ApplyAdjustment{"10OFF", {}}).code == Code::cart_closed);
  }
  CHECK(rig.calls() == before);
}

TEST_CASE("pipeline: a failing back-end returns its error and no events") {
  Rig rig;
  Cart c = with_roses(rig.backends);
  SUBCASE("catalog") {
    auto failing = std::make_shared<FailingCatalog>();
    rig.backends.catalog = failing;
    Error e = run_err(rig.backends, c, AddItem{"bouquet_roses", 1, {}});
    CHECK(e.code == Code::backend_unavailable);
    CHECK(e.message == "catalog is down");
    CHECK(failing->calls == 1);
    SUBCASE("also when increasing a quantity") {
      CHECK(run_err(rig.backends, c, UpdateItemQty{"l1", 3, {}}).code == Code::backend_unavailable);
    }
    SUBCASE("but not when decreasing one") {
      CHECK(run(rig.backends, c, UpdateItemQty{"l1", 1, {}}).ok());
    }
  }
  SUBCASE("discount lookup") {
    rig.pricing->fail_discount = true;
    CHECK(run_err(rig.backends, c, ApplyAdjustment{"10OFF", {}}).code == Code::backend_unavailable);
  }
  SUBCASE("pricing") {
    rig.pricing->fail_prices = true;
    Error e = run_err(rig.backends, c, AddItem{"pot_ceramic", 1, {}});
    CHECK(e.code == Code::backend_error);
    CHECK(e.message == "pricing exploded");
  }
  SUBCASE("tax") {
    rig.tax->error = Error(Code::backend_unavailable, "tax is down");
    Error e = run_err(rig.backends, c, RemoveItem{"l1", {}});
    CHECK(e.code == Code::backend_unavailable);
    CHECK(e.message == "tax is down");
  }
  SUBCASE("tax answering a negative amount") {
    rig.tax->fixed = -5;
    CHECK(run_err(rig.backends, c, AddItem{"pot_ceramic", 1, {}}).code == Code::backend_error);
  }
  SUBCASE("pricing answering a negative price") {
    rig.pricing->override_price = -1;
    CHECK(run_err(rig.backends, c, AddItem{"pot_ceramic", 1, {}}).code == Code::backend_error);
  }
}
