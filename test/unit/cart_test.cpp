// src/events/cart.hpp: validate, precheck, needs and decide for every command.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "builders.hpp"

using namespace testing;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// A draft cart at version 3 with two lines of "rose" (2 + 3) and one "pot".
//   l1: rose x2 @ 1000, l2: pot x1 @ 500, l3: rose x3 @ 1000
Cart cart_with_lines() {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 1000, 2);
  add_line(c, "l2", "pot", 500, 1);
  add_line(c, "l3", "rose", 1000, 3);
  return c;
}

// Ready, and held by a running checkout saga (transaction "txn_1").
Cart locked_cart() {
  Cart c = cart_with_lines();
  apply(c, ev(CheckoutReady{}));
  apply(c, ev(CheckoutStarted{"txn_1"}));
  return c;
}

Cart checked_out_cart() {
  Cart c = locked_cart();
  apply(c, ev(CheckedOut{"txn_1"}));
  return c;
}

Cart ready_cart() {
  Cart c = cart_with_lines();  // version 4
  apply(c, ev(CheckoutReady{}));  // version 5
  return c;
}

std::vector<std::string> problems_of(const Command& c) { return validate(c); }

Error precheck_err(const Cart& cart, const Command& cmd) {
  auto s = precheck(cart, cmd);
  REQUIRE_FALSE(s.ok());
  return s.error();
}

}  // namespace

// ---------------------------------------------------------------- validate

TEST_CASE("validate create_cart") {
  CHECK(problems_of(CreateCart{"m1", "USD"}).empty());
  CHECK(problems_of(CreateCart{"m1", "EUR"}).empty());
  CHECK(problems_of(CreateCart{std::string(128, 'm'), "JPY"}).empty());

  SUBCASE("both problems listed, in order") {
    auto p = problems_of(CreateCart{"", ""});
    REQUIRE(p.size() == 2);
    CHECK(contains(p[0], "merchant_id"));
    CHECK(contains(p[1], "currency"));
  }
  SUBCASE("merchant id must be a valid id") {
    for (std::string bad : {std::string("m 1"), std::string(129, 'm'), std::string("caf\xc3\xa9")}) {
      CAPTURE(bad);
      auto p = problems_of(CreateCart{bad, "USD"});
      REQUIRE(p.size() == 1);
      CHECK(contains(p[0], "merchant_id"));
    }
  }
  SUBCASE("currency must be three uppercase ASCII letters") {
    for (const char* bad : {"usd", "Usd", "US", "USDD", "U1D", "U D", "", "\xc3\x89UR"}) {
      CAPTURE(bad);
      auto p = problems_of(CreateCart{"m1", bad});
      REQUIRE(p.size() == 1);
      CHECK(contains(p[0], "currency"));
    }
  }
}

TEST_CASE("validate add_item: item id and quantity 1..10000") {
  CHECK(problems_of(AddItem{"rose", 1, {}}).empty());
  CHECK(problems_of(AddItem{"rose", 10000, {}}).empty());
  for (std::int64_t q : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{10001},
                         std::numeric_limits<std::int64_t>::min(), kMax}) {
    CAPTURE(q);
    auto p = problems_of(AddItem{"rose", q, {}});
    REQUIRE(p.size() == 1);
    CHECK(contains(p[0], "quantity"));
  }
  SUBCASE("both problems listed, item id first") {
    auto p = problems_of(AddItem{"", 0, {}});
    REQUIRE(p.size() == 2);
    CHECK(contains(p[0], "item_id"));
    CHECK(contains(p[1], "quantity"));
  }
  SUBCASE("item id too long or not visible ASCII") {
    CHECK(problems_of(AddItem{std::string(128, 'i'), 1, {}}).empty());
    auto p = problems_of(AddItem{std::string(129, 'i'), 1, {}});
    REQUIRE(p.size() == 1);
    CHECK(contains(p[0], "item_id"));
    CHECK(problems_of(AddItem{"a b", 1, {}}).size() == 1);
  }
}

TEST_CASE("validate update_item_qty: line id and quantity 0..10000") {
  CHECK(problems_of(UpdateItemQty{"l1", 0, {}}).empty());
  CHECK(problems_of(UpdateItemQty{"l1", 1, {}}).empty());
  CHECK(problems_of(UpdateItemQty{"l1", 10000, {}}).empty());
  for (std::int64_t q : {std::int64_t{-1}, std::int64_t{10001}}) {
    CAPTURE(q);
    auto p = problems_of(UpdateItemQty{"l1", q, {}});
    REQUIRE(p.size() == 1);
    CHECK(contains(p[0], "quantity"));
  }
  auto p = problems_of(UpdateItemQty{"", -5, {}});
  REQUIRE(p.size() == 2);
  CHECK(contains(p[0], "line_id"));
  CHECK(contains(p[1], "quantity"));
}

TEST_CASE("validate remove_item, apply_adjustment, get_cart") {
  CHECK(problems_of(RemoveItem{"l1", {}}).empty());
  auto r = problems_of(RemoveItem{"", {}});
  REQUIRE(r.size() == 1);
  CHECK(contains(r[0], "line_id"));
  CHECK(problems_of(RemoveItem{"l 1", {}}).size() == 1);

  CHECK(problems_of(ApplyAdjustment{"10OFF", {}}).empty());
  auto a = problems_of(ApplyAdjustment{"", {}});
  REQUIRE(a.size() == 1);
  CHECK(contains(a[0], "code"));
  CHECK(problems_of(ApplyAdjustment{std::string(129, 'C'), {}}).size() == 1);

  CHECK(problems_of(GetCart{}).empty());
}

TEST_CASE("validate start_checkout: cart_version > 0") {
  CHECK(problems_of(StartCheckout{1}).empty());
  auto s = problems_of(StartCheckout{0});
  REQUIRE(s.size() == 1);
  CHECK(contains(s[0], "cart_version"));
}

TEST_CASE("decide refuses an invalid command with VALIDATION_ERROR listing every problem") {
  Cart c = cart_with_lines();
  Error e = decide_err(c, AddItem{"", 0, {}}, with_item(catalog_item("rose", 1000, 100)));
  CHECK(e.code == Code::validation_error);
  REQUIRE(e.details.size() == 2);
  CHECK(contains(e.details[0], "item_id"));
  CHECK(contains(e.details[1], "quantity"));
  CHECK(contains(e.message, "item_id"));
  CHECK(contains(e.message, "quantity"));
}

TEST_CASE("kind_of and is_read_only") {
  CHECK(kind_of(CreateCart{}) == "create_cart");
  CHECK(kind_of(AddItem{}) == "add_item");
  CHECK(kind_of(UpdateItemQty{}) == "update_item_qty");
  CHECK(kind_of(RemoveItem{}) == "remove_item");
  CHECK(kind_of(ApplyAdjustment{}) == "apply_adjustment");
  CHECK(kind_of(GetCart{}) == "get_cart");
  CHECK(kind_of(StartCheckout{}) == "start_checkout");
  CHECK(is_read_only(GetCart{}));
  CHECK_FALSE(is_read_only(AddItem{}));
  CHECK_FALSE(is_read_only(StartCheckout{}));
}

// ---------------------------------------------------------------- precheck

TEST_CASE("precheck: a missing cart is NOT_FOUND for every command but create_cart") {
  Cart none;
  const std::vector<Command> cmds = {AddItem{"rose", 1, {}}, UpdateItemQty{"l1", 1, {}},
                                     RemoveItem{"l1", {}},   ApplyAdjustment{"10OFF", {}},
                                     GetCart{},              StartCheckout{1}};
  for (const auto& cmd : cmds) {
    CAPTURE(kind_of(cmd));
    CHECK(precheck_err(none, cmd).code == Code::not_found);
    CHECK(decide_err(none, cmd, with_item(catalog_item("rose", 1, 10))).code == Code::not_found);
  }
  CHECK(precheck(none, CreateCart{"m1", "USD"}).ok());
}

TEST_CASE("precheck: create_cart on an existing cart id is refused") {
  CHECK_FALSE(precheck(new_cart(), CreateCart{"m1", "USD"}).ok());
}

TEST_CASE("precheck: every mutation of a checked-out cart is CART_CLOSED") {
  Cart c = checked_out_cart();
  REQUIRE(c.status == CartStatus::checked_out);
  const std::vector<Command> cmds = {AddItem{"rose", 1, {}}, UpdateItemQty{"l1", 1, {}},
                                     UpdateItemQty{"l1", 0, {}}, RemoveItem{"l1", {}},
                                     ApplyAdjustment{"10OFF", {}}, StartCheckout{c.version}};
  for (const auto& cmd : cmds) {
    CAPTURE(kind_of(cmd));
    CHECK(precheck_err(c, cmd).code == Code::cart_closed);
    CHECK(decide_err(c, cmd, with_item(catalog_item("rose", 1, 100))).code == Code::cart_closed);
  }
  SUBCASE("even with a matching expected_version") {
    CHECK(precheck_err(c, AddItem{"rose", 1, c.version}).code == Code::cart_closed);
  }
  SUBCASE("reading it is still fine") { CHECK(precheck(c, GetCart{}).ok()); }
}

TEST_CASE("precheck: expected_version mismatch is CART_VERSION_CONFLICT naming both versions") {
  Cart c = cart_with_lines();  // version 4
  REQUIRE(c.version == 4);
  const std::vector<Command> cmds = {AddItem{"rose", 1, 7}, UpdateItemQty{"l1", 1, 7},
                                     RemoveItem{"l1", 7}, ApplyAdjustment{"10OFF", 7}};
  for (const auto& cmd : cmds) {
    CAPTURE(kind_of(cmd));
    Error e = precheck_err(c, cmd);
    CHECK(e.code == Code::cart_version_conflict);
    CHECK(contains(e.message, "7"));
    CHECK(contains(e.message, "4"));
  }
  SUBCASE("an older expected version conflicts too") {
    Error e = precheck_err(c, RemoveItem{"l1", 3});
    CHECK(e.code == Code::cart_version_conflict);
    CHECK(contains(e.message, "3"));
    CHECK(contains(e.message, "4"));
  }
  SUBCASE("matching or absent expected_version passes") {
    CHECK(precheck(c, AddItem{"rose", 1, 4}).ok());
    CHECK(precheck(c, UpdateItemQty{"l1", 1, 4}).ok());
    CHECK(precheck(c, RemoveItem{"l1", 4}).ok());
    CHECK(precheck(c, ApplyAdjustment{"10OFF", 4}).ok());
    CHECK(precheck(c, AddItem{"rose", 1, std::nullopt}).ok());
  }
}

TEST_CASE("precheck: unknown line is LINE_NOT_FOUND for update and remove") {
  Cart c = cart_with_lines();
  Error u = precheck_err(c, UpdateItemQty{"nope", 1, {}});
  CHECK(u.code == Code::line_not_found);
  CHECK(contains(u.message, "nope"));
  CHECK(precheck_err(c, UpdateItemQty{"nope", 0, {}}).code == Code::line_not_found);
  Error r = precheck_err(c, RemoveItem{"nope", {}});
  CHECK(r.code == Code::line_not_found);
  CHECK(contains(r.message, "nope"));
  CHECK(decide_err(c, RemoveItem{"nope", {}}).code == Code::line_not_found);
  SUBCASE("a removed line is unknown afterwards") {
    apply(c, ev(ItemRemoved{"l2"}));
    CHECK(precheck_err(c, RemoveItem{"l2", {}}).code == Code::line_not_found);
  }
}

TEST_CASE("precheck: a checkout_ready cart still accepts mutations") {
  Cart c = ready_cart();
  CHECK(precheck(c, AddItem{"rose", 1, {}}).ok());
  CHECK(precheck(c, UpdateItemQty{"l1", 1, {}}).ok());
  CHECK(precheck(c, RemoveItem{"l1", {}}).ok());
  CHECK(precheck(c, ApplyAdjustment{"X", {}}).ok());
}

TEST_CASE("precheck: start_checkout needs the current version") {
  Cart c = cart_with_lines();  // version 4, draft
  CHECK(precheck(c, StartCheckout{4}).ok());
  for (std::uint64_t v : {std::uint64_t{3}, std::uint64_t{5}, std::uint64_t{1}}) {
    CAPTURE(v);
    Error e = precheck_err(c, StartCheckout{v});
    CHECK(e.code == Code::cart_version_conflict);
    CHECK(contains(e.message, std::to_string(v)));
    CHECK(contains(e.message, "4"));
  }
}

TEST_CASE("precheck: a cart held by a running checkout is CART_CLOSED for every change") {
  Cart c = locked_cart();
  REQUIRE(c.locked());
  const std::vector<Command> cmds = {AddItem{"rose", 1, {}}, UpdateItemQty{"l1", 1, {}},
                                     UpdateItemQty{"l1", 0, {}}, RemoveItem{"l1", {}},
                                     ApplyAdjustment{"10OFF", {}}, StartCheckout{c.version}};
  for (const auto& cmd : cmds) {
    CAPTURE(kind_of(cmd));
    Error e = precheck_err(c, cmd);
    CHECK(e.code == Code::cart_closed);
    CHECK(contains(e.message, "txn_1"));
    CHECK(decide_err(c, cmd, with_item(catalog_item("rose", 1, 100))).code == Code::cart_closed);
  }
  CHECK(precheck(c, GetCart{}).ok());
}

TEST_CASE("precheck: a released cart can be changed and checked out again") {
  Cart c = locked_cart();
  apply(c, ev(CheckoutReleased{"txn_1"}));
  CHECK_FALSE(c.locked());
  CHECK(precheck(c, AddItem{"rose", 1, c.version}).ok());
  CHECK(precheck(c, RemoveItem{"l1", {}}).ok());
  CHECK(precheck(c, StartCheckout{c.version}).ok());
}

// ---------------------------------------------------------------- needs

TEST_CASE("needs: what each command asks the back-ends") {
  Cart c = cart_with_lines();
  SUBCASE("add_item looks the item up and recalculates") {
    Needs n = needs(c, AddItem{"tulip", 1, {}});
    CHECK(n.catalog_item == std::optional<std::string>("tulip"));
    CHECK_FALSE(n.discount_code);
    CHECK(n.recalculate);
  }
  SUBCASE("update_item_qty looks the item up only when increasing") {
    Needs up = needs(c, UpdateItemQty{"l1", 3, {}});
    CHECK(up.catalog_item == std::optional<std::string>("rose"));
    CHECK(up.recalculate);
    Needs same = needs(c, UpdateItemQty{"l1", 2, {}});
    CHECK_FALSE(same.catalog_item);
    CHECK(same.recalculate);
    Needs down = needs(c, UpdateItemQty{"l1", 1, {}});
    CHECK_FALSE(down.catalog_item);
    CHECK(down.recalculate);
    CHECK_FALSE(needs(c, UpdateItemQty{"l1", 0, {}}).catalog_item);
  }
  SUBCASE("remove_item recalculates") {
    Needs n = needs(c, RemoveItem{"l1", {}});
    CHECK_FALSE(n.catalog_item);
    CHECK(n.recalculate);
  }
  SUBCASE("apply_adjustment resolves a new code, nothing for an applied one") {
    Needs n = needs(c, ApplyAdjustment{"10OFF", {}});
    CHECK(n.discount_code == std::optional<std::string>("10OFF"));
    CHECK(n.recalculate);
    add_adjustment(c, "10OFF", DiscountKind::percentage, 10);
    Needs again = needs(c, ApplyAdjustment{"10OFF", {}});
    CHECK_FALSE(again.discount_code);
    CHECK_FALSE(again.recalculate);
  }
  SUBCASE("reads and checkout need nothing") {
    for (const Command& cmd : std::vector<Command>{GetCart{}, StartCheckout{4}}) {
      Needs n = needs(c, cmd);
      CHECK_FALSE(n.catalog_item);
      CHECK_FALSE(n.discount_code);
      CHECK_FALSE(n.recalculate);
    }
  }
}

// ---------------------------------------------------------------- decide

TEST_CASE("decide create_cart: one Created event with the context's ids") {
  auto events = decide_ok(Cart{}, CreateCart{"m1", "EUR"}, {}, Context{"tenant-9", "cart-42", ""});
  REQUIRE(events.size() == 1);
  const auto* e = std::get_if<Created>(&events[0]);
  REQUIRE(e != nullptr);
  CHECK(e->cart_id == "cart-42");
  CHECK(e->tenant_id == "tenant-9");
  CHECK(e->merchant_id == "m1");
  CHECK(e->currency == "EUR");

  Cart c = fold({ev(events[0], 1234)});
  CHECK(c.exists());
  CHECK(c.version == 1);
  CHECK(c.cart_id == "cart-42");
  CHECK(c.tenant_id == "tenant-9");
  CHECK(c.merchant_id == "m1");
  CHECK(c.currency == "EUR");
  CHECK(c.status == CartStatus::draft);
  CHECK(c.lines.empty());
  CHECK(c.adjustments.empty());
  CHECK(c.subtotal_minor == 0);
  CHECK(c.total_minor == 0);
  CHECK(c.geo_ok);
  CHECK(c.transaction_id.empty());
  CHECK(c.created_at_ms == 1234);
  CHECK(c.updated_at_ms == 1234);
}

TEST_CASE("decide add_item: a new line with the catalog's title and price") {
  Cart c = new_cart();
  auto events = decide_ok(c, AddItem{"rose", 2, {}}, with_item(CatalogItem{"rose", "Red Rose", 3500, 10}),
                          ctx_with_line("li_1"));
  REQUIRE(events.size() == 1);
  const auto* e = std::get_if<ItemAdded>(&events[0]);
  REQUIRE(e != nullptr);
  CHECK(e->line_id == "li_1");
  CHECK(e->item_id == "rose");
  CHECK(e->title == "Red Rose");
  CHECK(e->unit_price_minor == 3500);
  CHECK(e->quantity == 2);

  apply_all(c, events);
  CHECK(c.version == 2);
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].line_id == "li_1");
  CHECK(c.lines[0].total_minor == 7000);
  CHECK(c.subtotal_minor == 7000);
  CHECK(c.total_minor == 7000);
}

TEST_CASE("decide add_item: the same item again is always a new line") {
  Cart c = cart_with_lines();
  auto events = decide_ok(c, AddItem{"pot", 1, {}}, with_item(catalog_item("pot", 500, 100)),
                          ctx_with_line("l4"));
  apply_all(c, events);
  REQUIRE(c.lines.size() == 4);
  CHECK(c.lines[1].quantity == 1);
  CHECK(c.lines[3].line_id == "l4");
  CHECK(c.lines[3].item_id == "pot");
}

TEST_CASE("decide add_item: ITEM_NOT_FOUND without a catalog fact") {
  Error e = decide_err(new_cart(), AddItem{"ghost", 1, {}}, Facts{});
  CHECK(e.code == Code::item_not_found);
  CHECK(code_name(e.code) == "ITEM_NOT_FOUND");
  CHECK(contains(e.message, "ghost"));
}

TEST_CASE("decide add_item: OUT_OF_STOCK counts the item over every line") {
  Cart c = cart_with_lines();  // rose: 2 + 3 in the cart
  SUBCASE("exactly the remaining stock is fine") {
    CHECK(decide(c, AddItem{"rose", 5, {}}, with_item(catalog_item("rose", 1000, 10)), ctx_with_line("x"))
              .ok());
  }
  SUBCASE("one more than the stock is refused") {
    Error e = decide_err(c, AddItem{"rose", 6, {}}, with_item(catalog_item("rose", 1000, 10)));
    CHECK(e.code == Code::out_of_stock);
    CHECK(contains(e.message, "rose"));
  }
  SUBCASE("lines of other items do not count") {
    CHECK(decide(c, AddItem{"pot", 4, {}}, with_item(catalog_item("pot", 500, 5)), ctx_with_line("x")).ok());
    CHECK(decide_err(c, AddItem{"pot", 5, {}}, with_item(catalog_item("pot", 500, 5))).code ==
          Code::out_of_stock);
  }
  SUBCASE("zero stock") {
    CHECK(decide_err(new_cart(), AddItem{"gardenia", 1, {}}, with_item(catalog_item("gardenia", 2000, 0)))
              .code == Code::out_of_stock);
  }
}

TEST_CASE("decide add_item: a cart holds at most 1000 lines") {
  Cart c = new_cart();
  for (int i = 0; i < 999; ++i) add_line(c, "l" + std::to_string(i), "i" + std::to_string(i), 1, 1);
  auto facts = with_item(catalog_item("more", 1, 100));
  auto events = decide_ok(c, AddItem{"more", 1, {}}, facts, ctx_with_line("l999"));
  apply_all(c, events);
  REQUIRE(c.lines.size() == 1000);
  Error e = decide_err(c, AddItem{"more", 1, {}}, facts, ctx_with_line("l1000"));
  CHECK(e.code == Code::validation_error);
  CHECK(contains(e.message, "1000"));
}

TEST_CASE("decide add_item: refuses a price and quantity that would overflow") {
  SUBCASE("the line total") {
    Error e = decide_err(new_cart(), AddItem{"gold", 3, {}}, with_item(catalog_item("gold", kMax / 2, 10)));
    CHECK(e.code == Code::amount_out_of_range);
  }
  SUBCASE("the subtotal") {
    Cart c = new_cart();
    add_line(c, "l1", "gold", kMax / 2, 1);
    CHECK(decide(c, AddItem{"gold2", 1, {}}, with_item(catalog_item("gold2", kMax / 2, 10)),
                 ctx_with_line("l2"))
              .ok());
    Error e = decide_err(c, AddItem{"gold2", 1, {}}, with_item(catalog_item("gold2", kMax / 2 + 2, 10)));
    CHECK(e.code == Code::amount_out_of_range);
  }
  SUBCASE("subtotal plus the current tax") {
    Cart c = new_cart();
    set_tax(c, 10);
    Error e = decide_err(c, AddItem{"gold", 1, {}}, with_item(catalog_item("gold", kMax - 5, 10)));
    CHECK(e.code == Code::amount_out_of_range);
  }
}

TEST_CASE("decide add_item: a negative catalog price is a back-end error") {
  Error e = decide_err(new_cart(), AddItem{"odd", 1, {}}, with_item(catalog_item("odd", -1, 10)));
  CHECK(e.code == Code::backend_error);
}

TEST_CASE("decide update_item_qty: changes the quantity") {
  Cart c = cart_with_lines();
  auto events = decide_ok(c, UpdateItemQty{"l2", 4, {}}, with_item(catalog_item("pot", 500, 10)));
  REQUIRE(events.size() == 1);
  const auto* e = std::get_if<ItemQuantityChanged>(&events[0]);
  REQUIRE(e != nullptr);
  CHECK(e->line_id == "l2");
  CHECK(e->quantity == 4);
  apply_all(c, events);
  CHECK(c.find_line("l2")->quantity == 4);
  CHECK(c.find_line("l2")->total_minor == 2000);
  CHECK(c.subtotal_minor == 2000 + 2000 + 3000);
}

TEST_CASE("decide update_item_qty to 0 removes the line") {
  Cart c = cart_with_lines();
  auto events = decide_ok(c, UpdateItemQty{"l1", 0, {}});
  REQUIRE(events.size() == 1);
  const auto* e = std::get_if<ItemRemoved>(&events[0]);
  REQUIRE(e != nullptr);
  CHECK(e->line_id == "l1");
  apply_all(c, events);
  CHECK(c.find_line("l1") == nullptr);
  CHECK(c.lines.size() == 2);
  CHECK(c.subtotal_minor == 500 + 3000);
}

TEST_CASE("decide update_item_qty: stock is checked only when increasing") {
  Cart c = cart_with_lines();  // l1 rose x2, l3 rose x3
  SUBCASE("increase within stock, counting the other lines of the item") {
    CHECK(decide(c, UpdateItemQty{"l1", 7, {}}, with_item(catalog_item("rose", 1000, 10)), {}).ok());
  }
  SUBCASE("increase beyond stock") {
    Error e = decide_err(c, UpdateItemQty{"l1", 8, {}}, with_item(catalog_item("rose", 1000, 10)));
    CHECK(e.code == Code::out_of_stock);
    CHECK(contains(e.message, "rose"));
  }
  SUBCASE("decrease needs no catalog and ignores stock") {
    CHECK(decide(c, UpdateItemQty{"l3", 1, {}}, Facts{}, {}).ok());
    CHECK(decide(c, UpdateItemQty{"l3", 1, {}}, with_item(catalog_item("rose", 1000, 0)), {}).ok());
  }
  SUBCASE("the same quantity needs no catalog") {
    CHECK(decide(c, UpdateItemQty{"l3", 3, {}}, Facts{}, {}).ok());
  }
  SUBCASE("increase of an item no longer in the catalog is ITEM_NOT_FOUND") {
    CHECK(decide_err(c, UpdateItemQty{"l1", 3, {}}, Facts{}).code == Code::item_not_found);
  }
  SUBCASE("stock already oversold: a decrease still works, an increase does not") {
    auto none_left = with_item(catalog_item("rose", 1000, 1));
    CHECK(decide(c, UpdateItemQty{"l3", 2, {}}, none_left, {}).ok());
    CHECK(decide_err(c, UpdateItemQty{"l1", 3, {}}, none_left).code == Code::out_of_stock);
  }
}

TEST_CASE("decide update_item_qty: refuses a quantity that would overflow") {
  Cart c = new_cart();
  add_line(c, "l1", "gold", kMax / 2, 1);
  CHECK(decide(c, UpdateItemQty{"l1", 2, {}}, with_item(catalog_item("gold", kMax / 2, 10)), {}).ok());
  Error e = decide_err(c, UpdateItemQty{"l1", 3, {}}, with_item(catalog_item("gold", kMax / 2, 10)));
  CHECK(e.code == Code::amount_out_of_range);
}

TEST_CASE("decide remove_item: one ItemRemoved") {
  Cart c = cart_with_lines();
  auto events = decide_ok(c, RemoveItem{"l3", {}});
  REQUIRE(events.size() == 1);
  const auto* e = std::get_if<ItemRemoved>(&events[0]);
  REQUIRE(e != nullptr);
  CHECK(e->line_id == "l3");
  apply_all(c, events);
  CHECK(c.lines.size() == 2);
  CHECK(c.find_line("l3") == nullptr);
  CHECK(c.subtotal_minor == 2500);
}

TEST_CASE("decide apply_adjustment") {
  Cart c = cart_with_lines();
  SUBCASE("a known code is recorded with its definition") {
    auto events = decide_ok(c, ApplyAdjustment{"10OFF", {}}, with_discount("10OFF", DiscountKind::percentage, 10));
    REQUIRE(events.size() == 1);
    const auto* e = std::get_if<AdjustmentApplied>(&events[0]);
    REQUIRE(e != nullptr);
    CHECK(e->code == "10OFF");
    CHECK(e->kind == DiscountKind::percentage);
    CHECK(e->value == 10);
    CHECK(e->description == "desc 10OFF");
  }
  SUBCASE("an unknown code is ADJUSTMENT_REJECTED") {
    Error e = decide_err(c, ApplyAdjustment{"BOGUS", {}}, Facts{});
    CHECK(e.code == Code::adjustment_rejected);
    CHECK(code_name(e.code) == "ADJUSTMENT_REJECTED");
    CHECK(contains(e.message, "BOGUS"));
  }
  SUBCASE("the same code twice gives no events") {
    add_adjustment(c, "10OFF", DiscountKind::percentage, 10);
    std::uint64_t v = c.version;
    CHECK(decide_ok(c, ApplyAdjustment{"10OFF", {}}, with_discount("10OFF", DiscountKind::percentage, 10))
              .empty());
    CHECK(decide_ok(c, ApplyAdjustment{"10OFF", {}}, Facts{}).empty());
    CHECK(decide_ok(c, ApplyAdjustment{"10OFF", v}, Facts{}).empty());
  }
  SUBCASE("an insane discount definition is a back-end error") {
    CHECK(decide_err(c, ApplyAdjustment{"X", {}}, with_discount("X", DiscountKind::percentage, 101)).code ==
          Code::backend_error);
    CHECK(decide_err(c, ApplyAdjustment{"X", {}}, with_discount("X", DiscountKind::percentage, -1)).code ==
          Code::backend_error);
    CHECK(decide_err(c, ApplyAdjustment{"X", {}}, with_discount("X", DiscountKind::fixed_amount, -1)).code ==
          Code::backend_error);
  }
  SUBCASE("boundary definitions are fine") {
    CHECK(decide(c, ApplyAdjustment{"A", {}}, with_discount("A", DiscountKind::percentage, 100), {}).ok());
    CHECK(decide(c, ApplyAdjustment{"B", {}}, with_discount("B", DiscountKind::fixed_amount, kMax), {}).ok());
  }
}

TEST_CASE("decide apply_adjustment: at most 1000 adjustments") {
  Cart c = cart_with_lines();
  for (int i = 0; i < 1000; ++i) add_adjustment(c, "C" + std::to_string(i), DiscountKind::fixed_amount, 0);
  Error e = decide_err(c, ApplyAdjustment{"ONE_MORE", {}}, with_discount("ONE_MORE", DiscountKind::fixed_amount, 1));
  CHECK(e.code == Code::validation_error);
}

TEST_CASE("decide get_cart: no events, also on a checked-out cart") {
  CHECK(decide_ok(cart_with_lines(), GetCart{}).empty());
  CHECK(decide_ok(checked_out_cart(), GetCart{}).empty());
  CHECK(decide_ok(locked_cart(), GetCart{}).empty());
}

TEST_CASE("decide start_checkout") {
  Cart c = cart_with_lines();  // version 4, draft
  auto events = decide_ok(c, StartCheckout{4});
  REQUIRE(events.size() == 1);
  CHECK(std::holds_alternative<CheckoutReady>(events[0]));
  apply_all(c, events);
  CHECK(c.version == 5);
  CHECK(c.status == CartStatus::checkout_ready);

  SUBCASE("repeated with the same cart_version: no events") { CHECK(decide_ok(c, StartCheckout{4}).empty()); }
  SUBCASE("repeated with the current version: no events") { CHECK(decide_ok(c, StartCheckout{5}).empty()); }
  SUBCASE("any other version: conflict") {
    for (std::uint64_t v : {std::uint64_t{3}, std::uint64_t{6}, std::uint64_t{1}}) {
      CAPTURE(v);
      Error e = decide_err(c, StartCheckout{v});
      CHECK(e.code == Code::cart_version_conflict);
      CHECK(contains(e.message, std::to_string(v)));
      CHECK(contains(e.message, "5"));
    }
  }
  SUBCASE("after a mutation the cart is draft again and needs a new start_checkout") {
    apply_all(c, decide_ok(c, RemoveItem{"l2", {}}));
    CHECK(c.status == CartStatus::draft);
    CHECK(c.version == 6);
    CHECK(decide_err(c, StartCheckout{4}).code == Code::cart_version_conflict);
    CHECK(decide_err(c, StartCheckout{5}).code == Code::cart_version_conflict);
    auto again = decide_ok(c, StartCheckout{6});
    REQUIRE(again.size() == 1);
    apply_all(c, again);
    CHECK(c.version == 7);
    CHECK(c.status == CartStatus::checkout_ready);
  }
}

TEST_CASE("decide start_checkout: the happy path bumps 1 -> 2 -> 3") {
  Cart c = new_cart();
  apply_all(c, decide_ok(c, AddItem{"rose", 1, 1}, with_item(catalog_item("rose", 100, 5)), ctx_with_line("l1")));
  CHECK(c.version == 2);
  apply_all(c, decide_ok(c, StartCheckout{2}));
  CHECK(c.version == 3);
  CHECK(c.status == CartStatus::checkout_ready);
}

TEST_CASE("decide never changes the cart it is given") {
  Cart c = cart_with_lines();
  Cart copy = c;
  (void)decide(c, AddItem{"rose", 1, {}}, with_item(catalog_item("rose", 1000, 100)), ctx_with_line("z"));
  (void)decide(c, UpdateItemQty{"l1", 0, {}}, {}, {});
  (void)decide(c, StartCheckout{c.version}, {}, {});
  CHECK(c.version == copy.version);
  CHECK(c.lines.size() == copy.lines.size());
  CHECK(c.status == copy.status);
}
