// Helpers shared by the unit tests: carts built by folding real events, and
// short ways to run commands and inspect results.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "events/cart.hpp"
#include "events/error.hpp"

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

}  // namespace testing
