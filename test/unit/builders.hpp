// Helpers shared by the unit tests: carts built by folding real events, and
// short ways to run commands and inspect results.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "events/cart.hpp"
#include "events/checkout.hpp"
#include "events/error.hpp"
#include "events/json.hpp"
#include "events/payment.hpp"

namespace testing {

using namespace orch;
using namespace orch::cart;

// "CODE: message" of an error, for failure messages and checks.
inline std::string describe(const Error& e) {
  return std::string(code_name(e.code)) + ": " + e.message;
}

template <class T>
std::string describe(const Result<T>& r) {
  return r ? std::string("ok") : describe(r.error());
}

inline Event ev(EventBody body, std::int64_t at_ms = 1000) { return Event{at_ms, std::move(body)}; }

inline void apply_all(Cart& cart, const std::vector<EventBody>& events, std::int64_t at_ms = 2000) {
  for (const auto& e : events) apply(cart, Event{at_ms, e});
}

// A fresh draft cart at version 1 ("cart-1", tenant "t1", merchant "m1", USD).
inline Cart new_cart(std::string currency = "USD") {
  return fold({ev(Created{"cart-1", "t1", "m1", std::move(currency)})});
}

// Appends a line through an ItemAdded event (version + 1).
inline Cart& add_line(Cart& cart, std::string line_id, std::string item_id, std::int64_t price,
                      std::int64_t qty) {
  apply(cart, ev(ItemAdded{std::move(line_id), item_id, "Title of " + item_id, price, qty}));
  return cart;
}

inline Cart& add_adjustment(Cart& cart, std::string code, DiscountKind kind, std::int64_t value) {
  apply(cart, ev(AdjustmentApplied{code, kind, value, "desc " + code}));
  return cart;
}

inline Cart& set_tax(Cart& cart, std::int64_t tax) {
  apply(cart, ev(TaxResolved{tax}));
  return cart;
}

inline CatalogItem catalog_item(std::string id, std::int64_t price, std::int64_t available) {
  return CatalogItem{id, "Title of " + id, price, available};
}

inline Facts with_item(CatalogItem item) {
  Facts f;
  f.item = std::move(item);
  return f;
}

inline Facts with_discount(std::string code, DiscountKind kind, std::int64_t value) {
  Facts f;
  f.discount = Discount{code, kind, value, "desc " + code};
  return f;
}

inline Context ctx_with_line(std::string line_id) { return Context{"t1", "new-cart", std::move(line_id)}; }

// decide() that must succeed.
inline std::vector<EventBody> decide_ok(const Cart& cart, const Command& cmd, const Facts& facts = {},
                                        const Context& ctx = Context{"t1", "new-cart", "new-line"}) {
  auto r = decide(cart, cmd, facts, ctx);
  INFO("decide: ", describe(r));
  REQUIRE(r.ok());
  return *r;
}

// decide() that must fail; returns the error.
inline Error decide_err(const Cart& cart, const Command& cmd, const Facts& facts = {},
                        const Context& ctx = Context{"t1", "new-cart", "new-line"}) {
  auto r = decide(cart, cmd, facts, ctx);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ------------------------------------------------- checkout and payments
// Kept in their own namespace: their names (Event, apply, fold, Started...)
// would clash with the cart's under `using namespace testing`.
namespace fx {

namespace co = orch::checkout;
namespace pay = orch::payment;

// A parsed JSON document that must be valid.
inline orch::json::Value parse_json(const std::string& text) {
  auto v = orch::json::parse(text);
  INFO("parse(", text, "): ", describe(v));
  REQUIRE(v.ok());
  return *v;
}

// The member `key` of an object, which must be present.
inline const orch::json::Value& member(const orch::json::Value& obj, std::string_view key) {
  const orch::json::Value* v = obj.find(key);
  INFO("member '", std::string(key), "' of ", obj.dump());
  REQUIRE(v != nullptr);
  return *v;
}

inline std::string str_of(const orch::json::Value& obj, std::string_view key) {
  const auto& v = member(obj, key);
  INFO("member '", std::string(key), "' of ", obj.dump(), " is not a string");
  REQUIRE(v.is_string());
  return v.as_string();
}

inline std::int64_t int_of(const orch::json::Value& obj, std::string_view key) {
  const auto& v = member(obj, key);
  INFO("member '", std::string(key), "' of ", obj.dump(), " is not an integer");
  REQUIRE(v.as_int64().has_value());
  return *v.as_int64();
}

inline bool is_null_member(const orch::json::Value& obj, std::string_view key) {
  return member(obj, key).is_null();
}

inline std::vector<std::string> keys_in(const orch::json::Value& obj) {
  std::vector<std::string> keys;
  for (const auto& m : obj.members()) keys.push_back(m.first);
  return keys;
}

// A checkout-ready cart at version 5 ("cart-1", t1/m1, USD):
//   l1 rose x2 @ 1000, l2 pot x1 @ 500, fixed discount 300, tax 170
//   -> subtotal 2500, discount 300, tax 170, total 2370.
inline cart::Cart ready_cart() {
  cart::Cart c = new_cart();
  add_line(c, "l1", "rose", 1000, 2);
  add_line(c, "l2", "pot", 500, 1);
  add_adjustment(c, "300OFF", cart::DiscountKind::fixed_amount, 300);
  set_tax(c, 170);
  apply(c, ev(cart::CheckoutReady{}));
  return c;
}

// A valid request for `c` (amount = its total).
inline co::Request request_for(const cart::Cart& c) {
  co::Request r;
  r.tenant_id = c.tenant_id;
  r.merchant_id = c.merchant_id;
  r.cart_id = c.cart_id;
  r.cart_version = c.version;
  r.currency = c.currency;
  r.customer = co::Customer{std::string("a@b.c"), std::string("Jane Doe")};
  r.location = co::Location{std::string("US"), std::string("CA"), std::string("94043")};
  r.amount_minor = c.total_minor;
  r.token = "tok_123";
  r.idempotency_key = "idem_1";
  return r;
}

// Folds saga events (all recorded at `at_ms`) onto `from`.
inline co::Saga saga_after(const std::vector<co::EventBody>& events, co::Saga from = {},
                           std::int64_t at_ms = 5000) {
  for (const auto& e : events) co::apply(from, co::Event{at_ms, e});
  return from;
}

// The saga right after start(): "txn_1", correlation "corr_1", authorizing.
inline co::Saga started_saga(const cart::Cart& c) {
  return saga_after(co::start(c, request_for(c), "txn_1", "corr_1"));
}

inline co::CallResult call_ok(std::string reference) {
  co::CallResult r;
  r.kind = co::CallResult::ok;
  r.reference = std::move(reference);
  return r;
}
inline co::CallResult call_refused(std::string reference, std::string detail) {
  co::CallResult r;
  r.kind = co::CallResult::refused;
  r.reference = std::move(reference);
  r.detail = std::move(detail);
  return r;
}
inline co::CallResult call_unknown(std::string detail) {
  co::CallResult r;
  r.kind = co::CallResult::unknown;
  r.detail = std::move(detail);
  return r;
}

// An authorized payment "txn_1" of `amount` (t1/m1/cart-1/USD, reference "auth_1").
inline pay::Payment authorized_payment(std::int64_t amount = 2370) {
  pay::Payment p;
  pay::apply(p, pay::Event{1000, pay::Authorized{"txn_1", "t1", "m1", "cart-1", "USD", amount, "auth_1"}});
  return p;
}

inline void pay_apply_all(pay::Payment& p, const std::vector<pay::EventBody>& events,
                          std::int64_t at_ms = 2000) {
  for (const auto& e : events) pay::apply(p, pay::Event{at_ms, e});
}

}  // namespace fx

}  // namespace testing
