// src/events/codec.hpp: event encoding, the client view and snapshots.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "builders.hpp"
#include "events/codec.hpp"
#include "events/json.hpp"

using namespace testing;
namespace codec = orch::codec;
namespace json = orch::json;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

EventBody round_trip(const EventBody& e) {
  codec::Encoded enc = codec::encode(e);
  auto d = codec::decode_cart_event(enc.type, enc.schema, enc.payload);
  INFO("type ", enc.type, " payload ", enc.payload, ": ", describe(d));
  REQUIRE(d.ok());
  REQUIRE(d->index() == e.index());
  return *d;
}

Error decode_err(std::string_view type, std::uint32_t schema, std::string_view payload) {
  auto d = codec::decode_cart_event(type, schema, payload);
  INFO("decoding ", std::string(type), " ", std::string(payload), " unexpectedly succeeded");
  REQUIRE_FALSE(d.ok());
  return d.error();
}

json::Value parse_ok(const std::string& text) {
  auto v = json::parse(text);
  INFO(text, ": ", describe(v));
  REQUIRE(v.ok());
  return *v;
}

std::vector<std::string> keys_of(const json::Value& obj) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : obj.members()) keys.push_back(k);
  return keys;
}

void check_same_cart(const Cart& a, const Cart& b) {
  CHECK(a.tenant_id == b.tenant_id);
  CHECK(a.cart_id == b.cart_id);
  CHECK(a.merchant_id == b.merchant_id);
  CHECK(a.currency == b.currency);
  CHECK(a.version == b.version);
  REQUIRE(a.lines.size() == b.lines.size());
  for (std::size_t i = 0; i < a.lines.size(); ++i) {
    CAPTURE(i);
    CHECK(a.lines[i].line_id == b.lines[i].line_id);
    CHECK(a.lines[i].item_id == b.lines[i].item_id);
    CHECK(a.lines[i].title == b.lines[i].title);
    CHECK(a.lines[i].quantity == b.lines[i].quantity);
    CHECK(a.lines[i].unit_price_minor == b.lines[i].unit_price_minor);
    CHECK(a.lines[i].total_minor == b.lines[i].total_minor);
  }
  REQUIRE(a.adjustments.size() == b.adjustments.size());
  for (std::size_t i = 0; i < a.adjustments.size(); ++i) {
    CAPTURE(i);
    CHECK(a.adjustments[i].code == b.adjustments[i].code);
    CHECK(a.adjustments[i].kind == b.adjustments[i].kind);
    CHECK(a.adjustments[i].value == b.adjustments[i].value);
    CHECK(a.adjustments[i].description == b.adjustments[i].description);
    CHECK(a.adjustments[i].amount_minor == b.adjustments[i].amount_minor);
  }
  CHECK(a.subtotal_minor == b.subtotal_minor);
  CHECK(a.discount_minor == b.discount_minor);
  CHECK(a.tax_minor == b.tax_minor);
  CHECK(a.total_minor == b.total_minor);
  CHECK(a.geo_ok == b.geo_ok);
  CHECK(a.status == b.status);
  CHECK(a.transaction_id == b.transaction_id);
  CHECK(a.created_at_ms == b.created_at_ms);
  CHECK(a.updated_at_ms == b.updated_at_ms);
}

// A cart with a bit of everything, folded from events.
Cart rich_cart() {
  return fold({
      ev(Created{"6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11", "tenant \"t\"", "m\\1", "USD"}, 1000),
      ev(ItemAdded{"li_1", "bouquet_roses", "Roses \xe2\x80\x94 \"red\"\n", 3500, 2}, 1001),
      ev(ItemAdded{"li_2", "pot_ceramic", "Pot", 1500, 1}, 1002),
      ev(ItemQuantityChanged{"li_2", 3}, 1003),
      ev(AdjustmentApplied{"10OFF", DiscountKind::percentage, 10, "10% Off"}, 1004),
      ev(AdjustmentApplied{"FIXED500", DiscountKind::fixed_amount, 500, "$5.00 Off"}, 1005),
      ev(Repriced{{LinePrice{"li_2", 1400}}}, 1006),
      ev(TaxResolved{1123}, 1007),
      ev(CheckoutReady{}, 1008),
  });
}

}  // namespace

// ---------------------------------------------------------------- events

TEST_CASE("encode: stable type names and schema 1") {
  struct Case {
    EventBody body;
    const char* type;
  };
  const std::vector<Case> cases = {
      {Created{}, "cart.created"},
      {ItemAdded{}, "cart.item_added"},
      {ItemQuantityChanged{}, "cart.item_quantity_changed"},
      {ItemRemoved{}, "cart.item_removed"},
      {AdjustmentApplied{}, "cart.adjustment_applied"},
      {Repriced{}, "cart.repriced"},
      {TaxResolved{}, "cart.tax_resolved"},
      {CheckoutReady{}, "cart.checkout_ready"},
      {CheckedOut{}, "cart.checked_out"},
      {CheckoutStarted{}, "cart.checkout_started"},
      {CheckoutReleased{}, "cart.checkout_released"},
  };
  for (const auto& c : cases) {
    codec::Encoded enc = codec::encode(c.body);
    CHECK(enc.type == c.type);
    CHECK(enc.schema == 1);
    json::Value payload = parse_ok(enc.payload);
    CHECK(payload.is_object());
  }
}

TEST_CASE("every cart event round-trips through encode and decode") {
  SUBCASE("created") {
    Created in{"cart-1", "t1", "m\"1", "EUR"};
    auto out = std::get<Created>(round_trip(in));
    CHECK(out.cart_id == in.cart_id);
    CHECK(out.tenant_id == in.tenant_id);
    CHECK(out.merchant_id == in.merchant_id);
    CHECK(out.currency == in.currency);
  }
  SUBCASE("item_added") {
    ItemAdded in{"li_1", "rose", "Ros\xc3\xa9 \\ \"x\"\t", kMax, 10000};
    auto out = std::get<ItemAdded>(round_trip(in));
    CHECK(out.line_id == in.line_id);
    CHECK(out.item_id == in.item_id);
    CHECK(out.title == in.title);
    CHECK(out.unit_price_minor == in.unit_price_minor);
    CHECK(out.quantity == in.quantity);
  }
  SUBCASE("item_quantity_changed") {
    ItemQuantityChanged in{"li_2", 42};
    auto out = std::get<ItemQuantityChanged>(round_trip(in));
    CHECK(out.line_id == "li_2");
    CHECK(out.quantity == 42);
  }
  SUBCASE("item_removed") {
    auto out = std::get<ItemRemoved>(round_trip(ItemRemoved{"li_3"}));
    CHECK(out.line_id == "li_3");
  }
  SUBCASE("adjustment_applied, both kinds") {
    for (auto kind : {DiscountKind::percentage, DiscountKind::fixed_amount}) {
      AdjustmentApplied in{"CODE", kind, 77, "77 off"};
      auto out = std::get<AdjustmentApplied>(round_trip(in));
      CHECK(out.code == "CODE");
      CHECK(out.kind == kind);
      CHECK(out.value == 77);
      CHECK(out.description == "77 off");
    }
  }
  SUBCASE("repriced, several lines in order") {
    Repriced in{{LinePrice{"a", 1}, LinePrice{"b", 0}, LinePrice{"c", kMax}}};
    auto out = std::get<Repriced>(round_trip(in));
    REQUIRE(out.prices.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(out.prices[i].line_id == in.prices[i].line_id);
      CHECK(out.prices[i].unit_price_minor == in.prices[i].unit_price_minor);
    }
  }
  SUBCASE("repriced, empty") { CHECK(std::get<Repriced>(round_trip(Repriced{})).prices.empty()); }
  SUBCASE("tax_resolved") { CHECK(std::get<TaxResolved>(round_trip(TaxResolved{700})).tax_minor == 700); }
  SUBCASE("checkout_ready") { CHECK(std::holds_alternative<CheckoutReady>(round_trip(CheckoutReady{}))); }
  SUBCASE("checked_out") {
    CHECK(std::get<CheckedOut>(round_trip(CheckedOut{"txn_1"})).transaction_id == "txn_1");
  }
  SUBCASE("checkout_started") {
    CHECK(std::get<CheckoutStarted>(round_trip(CheckoutStarted{"txn_2"})).transaction_id == "txn_2");
  }
  SUBCASE("checkout_released") {
    CHECK(std::get<CheckoutReleased>(round_trip(CheckoutReleased{"txn_3"})).transaction_id == "txn_3");
  }
}

TEST_CASE("decode reads hand-written schema-1 payloads (the on-disk format)") {
  auto d = codec::decode_cart_event(
      "cart.item_added", 1,
      R"({"line_id":"li_1","item_id":"rose","title":"Rose","unit_price_minor":3500,"quantity":2})");
  REQUIRE(d.ok());
  auto e = std::get<ItemAdded>(*d);
  CHECK(e.line_id == "li_1");
  CHECK(e.unit_price_minor == 3500);
  CHECK(e.quantity == 2);

  auto a = codec::decode_cart_event("cart.adjustment_applied", 1,
                                    R"({"code":"F","kind":"fixed_amount","value":500,"description":"d"})");
  REQUIRE(a.ok());
  CHECK(std::get<AdjustmentApplied>(*a).kind == DiscountKind::fixed_amount);

  auto r = codec::decode_cart_event("cart.repriced", 1, R"({"prices":[{"line_id":"x","unit_price_minor":5}]})");
  REQUIRE(r.ok());
  REQUIRE(std::get<Repriced>(*r).prices.size() == 1);
  CHECK(std::get<Repriced>(*r).prices[0].unit_price_minor == 5);
}

TEST_CASE("decode: unknown type is STORE_ERROR naming the type") {
  Error e = decode_err("cart.exploded", 1, "{}");
  CHECK(e.code == Code::store_error);
  CHECK(code_name(e.code) == "STORE_ERROR");
  CHECK(contains(e.message, "cart.exploded"));
}

TEST_CASE("decode: unknown schema is STORE_ERROR naming the type") {
  for (std::uint32_t schema : {0u, 2u, 99u}) {
    CAPTURE(schema);
    Error e = decode_err("cart.tax_resolved", schema, R"({"tax_minor":1})");
    CHECK(e.code == Code::store_error);
    CHECK(contains(e.message, "cart.tax_resolved"));
  }
}

TEST_CASE("decode: malformed payloads are STORE_ERROR naming the type") {
  struct Case {
    const char* type;
    const char* payload;
  };
  const Case cases[] = {
      {"cart.created", "{"},
      {"cart.created", ""},
      {"cart.created", R"({"cart_id":"c","tenant_id":"t","merchant_id":"m"})"},  // no currency
      {"cart.item_added", R"({"line_id":"l","item_id":"i","title":"t","unit_price_minor":"5","quantity":1})"},
      {"cart.item_added", R"({"line_id":"l","item_id":"i","title":"t","unit_price_minor":5,"quantity":1.5})"},
      {"cart.item_added", R"({"line_id":"l","item_id":"i","title":"t","unit_price_minor":5})"},
      {"cart.item_quantity_changed", R"({"line_id":"l"})"},
      {"cart.item_removed", R"({"line_id":7})"},
      {"cart.adjustment_applied", R"({"code":"c","kind":"bogus","value":1,"description":"d"})"},
      {"cart.adjustment_applied", R"({"code":"c","value":1,"description":"d"})"},
      {"cart.repriced", R"({})"},
      {"cart.repriced", R"({"prices":{}})"},
      {"cart.repriced", R"({"prices":[{"line_id":"x"}]})"},
      {"cart.repriced", R"({"prices":[5]})"},
      {"cart.tax_resolved", R"({"tax_minor":null})"},
      {"cart.tax_resolved", R"({"tax_minor":9223372036854775808})"},
      {"cart.checkout_ready", "[]"},
      {"cart.checked_out", R"({})"},
      {"cart.checkout_started", R"({"transaction_id":5})"},
      {"cart.checkout_released", "{"},
      {"cart.checked_out", R"({"transaction_id":"a","transaction_id":"b"})"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.type);
    CAPTURE(c.payload);
    Error e = decode_err(c.type, 1, c.payload);
    CHECK(e.code == Code::store_error);
    CHECK(contains(e.message, c.type));
  }
}

TEST_CASE("decode: a missing field is named in the message") {
  Error e = decode_err("cart.item_quantity_changed", 1, R"({"line_id":"l"})");
  CHECK(contains(e.message, "quantity"));
}

TEST_CASE("decoded events fold to the same cart as the originals") {
  std::vector<EventBody> bodies = {
      Created{"c", "t", "m", "USD"},
      ItemAdded{"l1", "rose", "Rose", 3500, 2},
      ItemAdded{"l2", "pot", "Pot", 1500, 1},
      AdjustmentApplied{"10OFF", DiscountKind::percentage, 10, "10%"},
      ItemQuantityChanged{"l2", 2},
      Repriced{{LinePrice{"l1", 3000}}},
      TaxResolved{810},
      ItemRemoved{"l2"},
      CheckoutReady{},
      CheckoutStarted{"txn0"},
      CheckoutReleased{"txn0"},
      CheckoutStarted{"txn"},
      CheckedOut{"txn"},
  };
  std::vector<Event> original, decoded;
  std::int64_t t = 100;
  for (const auto& b : bodies) {
    original.push_back(ev(b, t));
    decoded.push_back(ev(round_trip(b), t));
    ++t;
  }
  check_same_cart(fold(original), fold(decoded));
}

// ---------------------------------------------------------------- view

TEST_CASE("cart_view_json has exactly the documented fields") {
  Cart c = rich_cart();
  json::Value v = parse_ok(codec::cart_view_json(c));
  REQUIRE(v.is_object());
  std::vector<std::string> keys = keys_of(v);
  std::set<std::string> got(keys.begin(), keys.end());
  CHECK(got.size() == keys.size());
  const std::set<std::string> expected = {"cart_id",        "version",   "currency",     "lines",
                                          "subtotal_minor", "discount_minor", "tax_minor", "total_minor",
                                          "adjustments",    "geo_ok",    "status",       "merchant_id",
                                          "tenant_id",      "checkout"};
  CHECK(got == expected);
}

TEST_CASE("cart_view_json values") {
  Cart c = rich_cart();
  json::Value v = parse_ok(codec::cart_view_json(c));
  CHECK(v.find("cart_id")->as_string() == "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11");
  CHECK(v.find("version")->as_uint64() == std::optional<std::uint64_t>(c.version));
  CHECK(v.find("currency")->as_string() == "USD");
  CHECK(v.find("merchant_id")->as_string() == "m\\1");
  CHECK(v.find("tenant_id")->as_string() == "tenant \"t\"");
  CHECK(v.find("status")->as_string() == "checkout_ready");
  CHECK(v.find("geo_ok")->is_bool());
  CHECK(v.find("geo_ok")->as_bool());
  CHECK(v.find("checkout")->is_null());
  CHECK(v.find("subtotal_minor")->as_int64() == std::optional<std::int64_t>(c.subtotal_minor));
  CHECK(v.find("discount_minor")->as_int64() == std::optional<std::int64_t>(c.discount_minor));
  CHECK(v.find("tax_minor")->as_int64() == std::optional<std::int64_t>(1123));
  CHECK(v.find("total_minor")->as_int64() == std::optional<std::int64_t>(c.total_minor));
  // total = subtotal - discount + tax, as the client sees it.
  CHECK(*v.find("total_minor")->as_int64() ==
        *v.find("subtotal_minor")->as_int64() - *v.find("discount_minor")->as_int64() +
            *v.find("tax_minor")->as_int64());

  const json::Value* lines = v.find("lines");
  REQUIRE(lines != nullptr);
  REQUIRE(lines->is_array());
  REQUIRE(lines->items().size() == 2);
  const json::Value& l1 = lines->items()[0];
  std::vector<std::string> lk = keys_of(l1);
  CHECK(std::set<std::string>(lk.begin(), lk.end()) ==
        std::set<std::string>{"line_id", "item_id", "title", "quantity", "unit_price_minor", "total_minor"});
  CHECK(l1.find("line_id")->as_string() == "li_1");
  CHECK(l1.find("item_id")->as_string() == "bouquet_roses");
  CHECK(l1.find("title")->as_string() == "Roses \xe2\x80\x94 \"red\"\n");
  CHECK(l1.find("quantity")->as_int64() == std::optional<std::int64_t>(2));
  CHECK(l1.find("unit_price_minor")->as_int64() == std::optional<std::int64_t>(3500));
  CHECK(l1.find("total_minor")->as_int64() == std::optional<std::int64_t>(7000));
  const json::Value& l2 = lines->items()[1];
  CHECK(l2.find("quantity")->as_int64() == std::optional<std::int64_t>(3));
  CHECK(l2.find("unit_price_minor")->as_int64() == std::optional<std::int64_t>(1400));
  CHECK(l2.find("total_minor")->as_int64() == std::optional<std::int64_t>(4200));

  const json::Value* adjs = v.find("adjustments");
  REQUIRE(adjs != nullptr);
  REQUIRE(adjs->is_array());
  REQUIRE(adjs->items().size() == 2);
  const json::Value& a0 = adjs->items()[0];
  CHECK(a0.find("code")->as_string() == "10OFF");
  CHECK(a0.find("amount_minor")->as_int64() == std::optional<std::int64_t>(1120));  // 10 % of 11200
  CHECK(adjs->items()[1].find("code")->as_string() == "FIXED500");
  CHECK(adjs->items()[1].find("amount_minor")->as_int64() == std::optional<std::int64_t>(500));
  CHECK(v.find("discount_minor")->as_int64() == std::optional<std::int64_t>(1620));
}

TEST_CASE("cart_view_json: checkout holds the transaction id once checked out") {
  Cart c = rich_cart();
  apply(c, ev(CheckoutStarted{"txn_abc"}));
  apply(c, ev(CheckedOut{"txn_abc"}));
  json::Value v = parse_ok(codec::cart_view_json(c));
  REQUIRE(v.find("checkout") != nullptr);
  REQUIRE(v.find("checkout")->is_string());
  CHECK(v.find("checkout")->as_string() == "txn_abc");
  CHECK(v.find("status")->as_string() == "checked_out");
}

TEST_CASE("cart_view_json: checkout is null until the cart is checked out") {
  // api.md 3: "checkout (null, or the transaction id once checked out)".
  Cart c = rich_cart();
  apply(c, ev(CheckoutStarted{"txn_run"}));
  json::Value running = parse_ok(codec::cart_view_json(c));
  CHECK(running.find("status")->as_string() == "checkout_ready");
  CHECK(running.find("checkout")->is_null());
  apply(c, ev(CheckoutReleased{"txn_run"}));
  json::Value released = parse_ok(codec::cart_view_json(c));
  CHECK(released.find("checkout")->is_null());
}

TEST_CASE("cart_view_json of a new cart") {
  json::Value v = parse_ok(codec::cart_view_json(new_cart()));
  CHECK(v.find("version")->as_uint64() == std::optional<std::uint64_t>(1));
  CHECK(v.find("lines")->is_array());
  CHECK(v.find("lines")->items().empty());
  CHECK(v.find("adjustments")->is_array());
  CHECK(v.find("adjustments")->items().empty());
  CHECK(v.find("status")->as_string() == "draft");
  CHECK(v.find("checkout")->is_null());
  for (const char* k : {"subtotal_minor", "discount_minor", "tax_minor", "total_minor"}) {
    CAPTURE(k);
    CHECK(v.find(k)->as_int64() == std::optional<std::int64_t>(0));
  }
}

// ---------------------------------------------------------------- snapshot

TEST_CASE("snapshot round trip equals the folded cart") {
  SUBCASE("a ready cart with lines, adjustments and tax") {
    Cart c = rich_cart();
    auto back = codec::cart_from_snapshot(codec::cart_snapshot_json(c));
    INFO(describe(back));
    REQUIRE(back.ok());
    check_same_cart(*back, c);
  }
  SUBCASE("a checked-out cart, geo refused") {
    Cart c = rich_cart();
    apply(c, ev(CheckoutStarted{"txn_1"}, 4999));
    apply(c, ev(CheckedOut{"txn_1"}, 5000));
    c.geo_ok = false;
    auto back = codec::cart_from_snapshot(codec::cart_snapshot_json(c));
    REQUIRE(back.ok());
    check_same_cart(*back, c);
  }
  SUBCASE("a cart held by a running checkout stays held") {
    Cart c = rich_cart();
    apply(c, ev(CheckoutStarted{"txn_run"}, 4000));
    auto back = codec::cart_from_snapshot(codec::cart_snapshot_json(c));
    REQUIRE(back.ok());
    check_same_cart(*back, c);
    CHECK(back->locked());
  }
  SUBCASE("a new draft cart") {
    Cart c = new_cart();
    auto back = codec::cart_from_snapshot(codec::cart_snapshot_json(c));
    REQUIRE(back.ok());
    check_same_cart(*back, c);
  }
  SUBCASE("applying more events to the restored cart matches the original") {
    Cart c = rich_cart();
    auto back = codec::cart_from_snapshot(codec::cart_snapshot_json(c));
    REQUIRE(back.ok());
    Cart restored = *back;
    for (Cart* x : {&c, &restored}) {
      apply(*x, ev(ItemRemoved{"li_1"}, 9000));
      apply(*x, ev(TaxResolved{10}, 9001));
    }
    check_same_cart(restored, c);
  }
}

TEST_CASE("cart_from_snapshot refuses broken snapshots with STORE_ERROR") {
  std::string good = codec::cart_snapshot_json(rich_cart());
  REQUIRE(codec::cart_from_snapshot(good).ok());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    s.replace(pos, from.size(), to);
    return s;
  };
  for (const std::string& bad : {std::string(""), std::string("{"), std::string("[]"),
                                 replace("\"version\":", "\"versionX\":"),
                                 replace("\"quantity\":2", "\"quantity\":\"2\""),
                                 replace("\"lines\":[", "\"lines\":[5,")}) {
    CAPTURE(bad);
    auto r = codec::cart_from_snapshot(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::store_error);
  }
}
