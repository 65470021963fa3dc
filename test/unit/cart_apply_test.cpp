// src/events/cart.hpp: apply/fold, totals, reprice and retax.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "builders.hpp"

using namespace testing;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

Line line(std::string id, std::int64_t price, std::int64_t qty) {
  return Line{id, "item-" + id, "T", qty, price, 0};
}

Adjustment pct(std::string code, std::int64_t value) {
  return Adjustment{code, DiscountKind::percentage, value, "", 0};
}

Adjustment fixed(std::string code, std::int64_t value) {
  return Adjustment{code, DiscountKind::fixed_amount, value, "", 0};
}

Totals totals_ok(const std::vector<Line>& lines, const std::vector<Adjustment>& adjs, std::int64_t tax) {
  auto t = compute_totals(lines, adjs, tax);
  INFO("compute_totals: ", describe(t));
  REQUIRE(t.ok());
  return *t;
}

// Invariant clients rely on.
void check_total_identity(const Cart& c) {
  CHECK(c.total_minor == c.subtotal_minor - c.discount_minor + c.tax_minor);
  std::int64_t subtotal = 0;
  for (const auto& l : c.lines) {
    CHECK(l.total_minor == l.unit_price_minor * l.quantity);
    subtotal += l.total_minor;
  }
  CHECK(c.subtotal_minor == subtotal);
  std::int64_t discount = 0;
  for (const auto& a : c.adjustments) discount += a.amount_minor;
  CHECK(c.discount_minor == discount);
}

}  // namespace

// ---------------------------------------------------------------- versions

TEST_CASE("apply: version bumps by exactly 1 per content event") {
  Cart c = new_cart();
  REQUIRE(c.version == 1);
  add_line(c, "l1", "rose", 100, 1);
  CHECK(c.version == 2);
  apply(c, ev(ItemQuantityChanged{"l1", 3}));
  CHECK(c.version == 3);
  add_adjustment(c, "A", DiscountKind::percentage, 10);
  CHECK(c.version == 4);
  apply(c, ev(ItemRemoved{"l1"}));
  CHECK(c.version == 5);
  apply(c, ev(CheckoutReady{}));
  CHECK(c.version == 6);
}

TEST_CASE("apply: a checkout that starts and is released leaves the cart as the client knew it") {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 100, 1);
  apply(c, ev(CheckoutReady{}));
  REQUIRE(c.version == 3);
  apply(c, ev(CheckoutStarted{"txn_1"}));
  CHECK(c.locked());
  CHECK(c.transaction_id == "txn_1");
  CHECK(c.version == 3);
  CHECK(c.status == CartStatus::checkout_ready);
  apply(c, ev(CheckoutReleased{"txn_1"}));
  CHECK_FALSE(c.locked());
  CHECK(c.transaction_id.empty());
  CHECK(c.version == 3);
  CHECK(c.status == CartStatus::checkout_ready);
  CHECK(c.total_minor == 100);
}

TEST_CASE("apply: repriced and tax_resolved do not change the version") {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 100, 1);
  REQUIRE(c.version == 2);
  apply(c, ev(Repriced{{LinePrice{"l1", 150}}}));
  CHECK(c.version == 2);
  apply(c, ev(TaxResolved{15}));
  CHECK(c.version == 2);
  CHECK(c.lines[0].unit_price_minor == 150);
  CHECK(c.tax_minor == 15);
}

TEST_CASE("apply: a mutation of a checkout_ready cart puts it back to draft") {
  auto ready = [] {
    Cart c = new_cart();
    add_line(c, "l1", "rose", 100, 2);
    apply(c, ev(CheckoutReady{}));
    REQUIRE(c.status == CartStatus::checkout_ready);
    return c;
  };
  SUBCASE("item_added") {
    Cart c = ready();
    add_line(c, "l2", "pot", 5, 1);
    CHECK(c.status == CartStatus::draft);
  }
  SUBCASE("item_quantity_changed") {
    Cart c = ready();
    apply(c, ev(ItemQuantityChanged{"l1", 1}));
    CHECK(c.status == CartStatus::draft);
  }
  SUBCASE("item_removed") {
    Cart c = ready();
    apply(c, ev(ItemRemoved{"l1"}));
    CHECK(c.status == CartStatus::draft);
  }
  SUBCASE("adjustment_applied") {
    Cart c = ready();
    add_adjustment(c, "A", DiscountKind::fixed_amount, 1);
    CHECK(c.status == CartStatus::draft);
  }
}

TEST_CASE("apply: timestamps") {
  Cart c = fold({ev(Created{"c", "t", "m", "USD"}, 100), ev(ItemAdded{"l1", "i", "T", 5, 1}, 200),
                 ev(TaxResolved{1}, 300)});
  CHECK(c.created_at_ms == 100);
  CHECK(c.updated_at_ms == 300);
}

TEST_CASE("apply: checked_out records the transaction and closes the cart") {
  Cart c = new_cart();
  apply(c, ev(CheckoutReady{}));
  apply(c, ev(CheckoutStarted{"txn_1"}));
  apply(c, ev(CheckedOut{"txn_1"}));
  CHECK(c.status == CartStatus::checked_out);
  CHECK(c.transaction_id == "txn_1");
  CHECK(c.locked());
  CHECK(to_string(c.status) == "checked_out");
  CHECK(to_string(CartStatus::draft) == "draft");
  CHECK(to_string(CartStatus::checkout_ready) == "checkout_ready");
}

TEST_CASE("fold and applied give the same cart as apply, and leave their input alone") {
  std::vector<Event> events = {ev(Created{"c", "t", "m", "USD"}), ev(ItemAdded{"l1", "i", "T", 250, 4}),
                               ev(TaxResolved{100})};
  Cart folded = fold(events);
  Cart base = fold({events[0], events[1]});
  Cart next = applied(base, events[2]);
  CHECK(base.tax_minor == 0);
  CHECK(next.tax_minor == 100);
  CHECK(next.total_minor == folded.total_minor);
  CHECK(folded.total_minor == 1100);
}

// ---------------------------------------------------------------- lines

TEST_CASE("apply: line totals and subtotal follow quantities") {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 3500, 2);
  add_line(c, "l2", "pot", 1500, 1);
  CHECK(c.lines[0].total_minor == 7000);
  CHECK(c.lines[1].total_minor == 1500);
  CHECK(c.subtotal_minor == 8500);
  apply(c, ev(ItemQuantityChanged{"l1", 5}));
  CHECK(c.lines[0].total_minor == 17500);
  CHECK(c.subtotal_minor == 19000);
  apply(c, ev(ItemRemoved{"l2"}));
  CHECK(c.subtotal_minor == 17500);
  CHECK(c.total_minor == 17500);
  check_total_identity(c);
}

TEST_CASE("Cart::quantity_of sums an item over all lines, optionally leaving one out") {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 1, 2);
  add_line(c, "l2", "pot", 1, 7);
  add_line(c, "l3", "rose", 1, 3);
  CHECK(c.quantity_of("rose") == 5);
  CHECK(c.quantity_of("rose", "l1") == 3);
  CHECK(c.quantity_of("pot") == 7);
  CHECK(c.quantity_of("none") == 0);
}

// ---------------------------------------------------------------- totals

TEST_CASE("totals: total = subtotal - discount + tax") {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 3500, 2);
  add_adjustment(c, "10OFF", DiscountKind::percentage, 10);
  set_tax(c, 630);
  CHECK(c.subtotal_minor == 7000);
  CHECK(c.discount_minor == 700);
  CHECK(c.tax_minor == 630);
  CHECK(c.total_minor == 6930);
  REQUIRE(c.adjustments.size() == 1);
  CHECK(c.adjustments[0].amount_minor == 700);
  check_total_identity(c);
}

TEST_CASE("totals: percentage discounts apply to the running total, in order, floored") {
  SUBCASE("two percentages") {
    Totals t = totals_ok({line("a", 10000, 1)}, {pct("A", 10), pct("B", 20)}, 0);
    CHECK(t.adjustment_amounts == std::vector<std::int64_t>{1000, 1800});
    CHECK(t.discount_minor == 2800);
    CHECK(t.total_minor == 7200);
  }
  SUBCASE("order matters when fixed and percentage mix") {
    Totals fixed_first = totals_ok({line("a", 10000, 1)}, {fixed("F", 500), pct("P", 10)}, 0);
    CHECK(fixed_first.adjustment_amounts == std::vector<std::int64_t>{500, 950});
    CHECK(fixed_first.total_minor == 8550);
    Totals pct_first = totals_ok({line("a", 10000, 1)}, {pct("P", 10), fixed("F", 500)}, 0);
    CHECK(pct_first.adjustment_amounts == std::vector<std::int64_t>{1000, 500});
    CHECK(pct_first.total_minor == 8500);
  }
  SUBCASE("floored at each step") {
    Totals t = totals_ok({line("a", 999, 1)}, {pct("A", 10), pct("B", 10)}, 0);
    CHECK(t.adjustment_amounts == std::vector<std::int64_t>{99, 90});
    CHECK(t.discount_minor == 189);
    CHECK(t.total_minor == 810);
  }
  SUBCASE("100 % leaves nothing for the next") {
    Totals t = totals_ok({line("a", 1234, 1)}, {pct("ALL", 100), pct("B", 50), fixed("F", 10)}, 7);
    CHECK(t.adjustment_amounts == std::vector<std::int64_t>{1234, 0, 0});
    CHECK(t.total_minor == 7);
  }
  SUBCASE("0 % takes nothing") {
    Totals t = totals_ok({line("a", 1234, 1)}, {pct("Z", 0)}, 0);
    CHECK(t.adjustment_amounts == std::vector<std::int64_t>{0});
    CHECK(t.total_minor == 1234);
  }
}

TEST_CASE("totals: a fixed discount is capped at the running total") {
  Totals t = totals_ok({line("a", 300, 1)}, {fixed("FIXED500", 500)}, 30);
  CHECK(t.adjustment_amounts == std::vector<std::int64_t>{300});
  CHECK(t.discount_minor == 300);
  CHECK(t.subtotal_minor == 300);
  CHECK(t.total_minor == 30);

  Totals two = totals_ok({line("a", 800, 1)}, {fixed("F1", 500), fixed("F2", 500)}, 0);
  CHECK(two.adjustment_amounts == std::vector<std::int64_t>{500, 300});
  CHECK(two.total_minor == 0);

  Totals empty = totals_ok({}, {fixed("F", 500), pct("P", 10)}, 0);
  CHECK(empty.adjustment_amounts == std::vector<std::int64_t>{0, 0});
  CHECK(empty.total_minor == 0);

  Totals huge = totals_ok({line("a", 100, 1)}, {fixed("BIG", kMax)}, 0);
  CHECK(huge.discount_minor == 100);
  CHECK(huge.total_minor == 0);
}

TEST_CASE("totals: the discount follows the cart when lines change") {
  Cart c = new_cart();
  add_line(c, "l1", "a", 1000, 1);
  add_line(c, "l2", "b", 1000, 1);
  add_adjustment(c, "F", DiscountKind::fixed_amount, 1500);
  add_adjustment(c, "P", DiscountKind::percentage, 50);
  CHECK(c.adjustments[0].amount_minor == 1500);
  CHECK(c.adjustments[1].amount_minor == 250);
  CHECK(c.total_minor == 250);
  apply(c, ev(ItemRemoved{"l2"}));
  CHECK(c.adjustments[0].amount_minor == 1000);  // capped now
  CHECK(c.adjustments[1].amount_minor == 0);
  CHECK(c.discount_minor == 1000);
  CHECK(c.total_minor == 0);
  apply(c, ev(ItemQuantityChanged{"l1", 4}));
  CHECK(c.adjustments[0].amount_minor == 1500);
  CHECK(c.adjustments[1].amount_minor == 1250);
  CHECK(c.total_minor == 1250);
  check_total_identity(c);
}

TEST_CASE("compute_totals: empty cart") {
  Totals t = totals_ok({}, {}, 0);
  CHECK(t.subtotal_minor == 0);
  CHECK(t.discount_minor == 0);
  CHECK(t.tax_minor == 0);
  CHECK(t.total_minor == 0);
  CHECK(t.adjustment_amounts.empty());
}

TEST_CASE("compute_totals: overflow is AMOUNT_OUT_OF_RANGE") {
  SUBCASE("a line total") {
    auto t = compute_totals({line("a", kMax / 2 + 1, 2)}, {}, 0);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == Code::amount_out_of_range);
  }
  SUBCASE("the subtotal") {
    auto t = compute_totals({line("a", kMax, 1), line("b", 1, 1)}, {}, 0);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == Code::amount_out_of_range);
  }
  SUBCASE("subtotal plus tax") {
    auto t = compute_totals({line("a", kMax, 1)}, {}, 1);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == Code::amount_out_of_range);
  }
  SUBCASE("a discount can make room for the tax") {
    Totals t = totals_ok({line("a", kMax, 1)}, {fixed("F", 1)}, 1);
    CHECK(t.total_minor == kMax);
  }
  SUBCASE("the largest exact values are fine") {
    Totals t = totals_ok({line("a", kMax - 10, 1), line("b", 5, 2)}, {}, 0);
    CHECK(t.subtotal_minor == kMax);
    CHECK(t.total_minor == kMax);
    Totals p = totals_ok({line("a", kMax, 1)}, {pct("H", 50)}, 0);
    CHECK(p.discount_minor == kMax / 2);
  }
}

// ---------------------------------------------------------------- reprice

TEST_CASE("reprice: emits only the lines whose price changed") {
  Cart c = new_cart();
  add_line(c, "l1", "a", 100, 1);
  add_line(c, "l2", "b", 200, 2);
  add_line(c, "l3", "c", 300, 3);
  auto r = reprice(c, {LinePrice{"l1", 100}, LinePrice{"l2", 250}, LinePrice{"ghost", 999}});
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  const auto* e = std::get_if<Repriced>(&(*r)[0]);
  REQUIRE(e != nullptr);
  REQUIRE(e->prices.size() == 1);
  CHECK(e->prices[0].line_id == "l2");
  CHECK(e->prices[0].unit_price_minor == 250);

  std::uint64_t v = c.version;
  apply_all(c, *r);
  CHECK(c.version == v);
  CHECK(c.find_line("l1")->unit_price_minor == 100);
  CHECK(c.find_line("l2")->unit_price_minor == 250);
  CHECK(c.find_line("l2")->total_minor == 500);
  CHECK(c.find_line("l3")->unit_price_minor == 300);  // not mentioned: keeps its price
  CHECK(c.subtotal_minor == 100 + 500 + 900);
  check_total_identity(c);
}

TEST_CASE("reprice: nothing changed means no event") {
  Cart c = new_cart();
  add_line(c, "l1", "a", 100, 1);
  auto same = reprice(c, {LinePrice{"l1", 100}});
  REQUIRE(same.ok());
  CHECK(same->empty());
  auto none = reprice(c, {});
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto unknown = reprice(c, {LinePrice{"zz", 5}});
  REQUIRE(unknown.ok());
  CHECK(unknown->empty());
}

TEST_CASE("reprice: a price of 0 is allowed, a negative price is refused") {
  Cart c = new_cart();
  add_line(c, "l1", "a", 100, 1);
  auto free = reprice(c, {LinePrice{"l1", 0}});
  REQUIRE(free.ok());
  CHECK(free->size() == 1);
  auto neg = reprice(c, {LinePrice{"l1", -1}});
  REQUIRE_FALSE(neg.ok());
  CHECK(neg.error().code == Code::backend_error);
  auto neg_after_good = reprice(c, {LinePrice{"l1", 50}, LinePrice{"l1", -5}});
  CHECK_FALSE(neg_after_good.ok());
}

TEST_CASE("reprice: a price that would overflow is AMOUNT_OUT_OF_RANGE") {
  Cart c = new_cart();
  add_line(c, "l1", "a", 100, 3);
  auto r = reprice(c, {LinePrice{"l1", kMax / 2}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::amount_out_of_range);
}

// ---------------------------------------------------------------- retax

TEST_CASE("retax") {
  Cart c = new_cart();
  add_line(c, "l1", "a", 1000, 1);
  SUBCASE("a new tax is one TaxResolved") {
    auto r = retax(c, 100);
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    const auto* e = std::get_if<TaxResolved>(&(*r)[0]);
    REQUIRE(e != nullptr);
    CHECK(e->tax_minor == 100);
    apply_all(c, *r);
    CHECK(c.tax_minor == 100);
    CHECK(c.total_minor == 1100);
  }
  SUBCASE("the same tax: no event") {
    CHECK(retax(c, 0)->empty());
    set_tax(c, 100);
    auto r = retax(c, 100);
    REQUIRE(r.ok());
    CHECK(r->empty());
  }
  SUBCASE("back to zero is an event") {
    set_tax(c, 100);
    auto r = retax(c, 0);
    REQUIRE(r.ok());
    CHECK(r->size() == 1);
  }
  SUBCASE("a negative tax is refused") {
    auto r = retax(c, -1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::backend_error);
  }
  SUBCASE("a tax that would overflow the total is refused") {
    auto r = retax(c, kMax);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::amount_out_of_range);
    auto fits = retax(c, kMax - 1000);
    CHECK(fits.ok());
  }
}

// ---------------------------------------------------------------- sequences

TEST_CASE("several mutations in a row all succeed: versions 2, 3, 4, 5, 6") {
  // The reference service failed the second mutation of a cart (§17.1-1).
  Cart c = new_cart();
  auto rose = with_item(catalog_item("rose", 3500, 100));
  auto pot = with_item(catalog_item("pot", 1500, 100));
  auto run = [&](const Command& cmd, const Facts& facts, const std::string& line_id) {
    auto events = decide_ok(c, cmd, facts, ctx_with_line(line_id));
    REQUIRE(events.size() == 1);
    apply_all(c, events);
    // What the pipeline adds afterwards must not bump the version.
    auto tax = retax(c, (c.subtotal_minor - c.discount_minor) / 10);
    REQUIRE(tax.ok());
    apply_all(c, *tax);
  };
  run(AddItem{"rose", 2, 1}, rose, "l1");
  CHECK(c.version == 2);
  run(AddItem{"pot", 1, 2}, pot, "l2");
  CHECK(c.version == 3);
  run(UpdateItemQty{"l1", 3, 3}, rose, "");
  CHECK(c.version == 4);
  run(RemoveItem{"l2", 4}, {}, "");
  CHECK(c.version == 5);
  run(AddItem{"pot", 2, 5}, pot, "l3");
  CHECK(c.version == 6);

  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0].line_id == "l1");
  CHECK(c.lines[0].quantity == 3);
  CHECK(c.lines[1].line_id == "l3");
  CHECK(c.subtotal_minor == 10500 + 3000);
  CHECK(c.tax_minor == 1350);
  CHECK(c.total_minor == 14850);
  check_total_identity(c);
}

TEST_CASE("a ready cart mutated, then checked out again") {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 100, 1);  // v2
  apply_all(c, decide_ok(c, StartCheckout{2}));  // v3 ready
  apply_all(c, decide_ok(c, ApplyAdjustment{"P", 3}, with_discount("P", DiscountKind::percentage, 50)));
  CHECK(c.version == 4);
  CHECK(c.status == CartStatus::draft);
  CHECK(c.total_minor == 50);
  apply_all(c, decide_ok(c, StartCheckout{4}));
  CHECK(c.version == 5);
  CHECK(c.status == CartStatus::checkout_ready);
  apply(c, ev(CheckoutStarted{"txn"}));
  apply(c, ev(CheckedOut{"txn"}));
  CHECK(c.status == CartStatus::checked_out);
  CHECK(decide_err(c, RemoveItem{"l1", {}}).code == Code::cart_closed);
}
