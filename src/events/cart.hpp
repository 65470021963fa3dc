// The cart: commands, events, and the two pure functions of the domain.
//
//   decide(cart, command, facts, context) -> events | error
//   apply(cart, event)                    -> cart
//
// Back-end answers (catalog item, discount definition, prices, tax) are
// gathered by the caller before deciding and are recorded inside the events,
// so that apply() and therefore replay never call out and always give the
// same cart. Ids and time are passed in; nothing here reads a clock or draws
// a random number.
//
// A command runs in two stages, both pure:
//   1. decide() checks the command against the cart and the facts named by
//      needs(), and returns the primary events (at most one);
//   2. when needs().recalculate is set, the caller asks pricing and tax about
//      the cart with those events applied, and reprice()/retax() turn the
//      answers into further events.
// All events of one command are appended to the journal in one atomic write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/error.hpp"

namespace orch::cart {

inline constexpr std::int64_t max_quantity = 10000;
inline constexpr std::size_t max_lines = 1000;
inline constexpr std::size_t max_adjustments = 1000;

enum class CartStatus { draft, checkout_ready, checked_out };
std::string_view to_string(CartStatus s);

enum class DiscountKind { percentage, fixed_amount };
std::string_view to_string(DiscountKind k);
std::optional<DiscountKind> discount_kind_from(std::string_view s);

struct Line {
  std::string line_id;
  std::string item_id;
  std::string title;
  std::int64_t quantity = 0;
  std::int64_t unit_price_minor = 0;
  std::int64_t total_minor = 0;  // unit_price_minor * quantity
};

struct Adjustment {
  std::string code;
  DiscountKind kind = DiscountKind::percentage;
  std::int64_t value = 0;  // percent (0..100) or minor units
  std::string description;
  std::int64_t amount_minor = 0;  // what it takes off the cart right now
};

struct Cart {
  std::string tenant_id;
  std::string cart_id;
  std::string merchant_id;
  std::string currency;
  std::uint64_t version = 0;  // 0: the cart does not exist
  std::vector<Line> lines;
  std::vector<Adjustment> adjustments;
  std::int64_t subtotal_minor = 0;
  std::int64_t discount_minor = 0;
  std::int64_t tax_minor = 0;
  std::int64_t total_minor = 0;  // subtotal - discount + tax
  bool geo_ok = true;
  CartStatus status = CartStatus::draft;
  std::string transaction_id;  // the checkout that holds the cart (running or done)
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;

  bool exists() const { return version > 0; }
  // A checkout saga holds the cart: no change is allowed.
  bool locked() const { return !transaction_id.empty(); }
  const Line* find_line(std::string_view line_id) const;
  // Total quantity of an item over all lines, leaving out one line.
  std::int64_t quantity_of(std::string_view item_id, std::string_view except_line = {}) const;
  bool has_adjustment(std::string_view code) const;
};

// ------------------------------------------------------------------ events

struct Created {
  std::string cart_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string currency;
};
struct ItemAdded {
  std::string line_id;
  std::string item_id;
  std::string title;
  std::int64_t unit_price_minor = 0;
  std::int64_t quantity = 0;
};
struct ItemQuantityChanged {
  std::string line_id;
  std::int64_t quantity = 0;
};
struct ItemRemoved {
  std::string line_id;
};
struct AdjustmentApplied {
  std::string code;
  DiscountKind kind = DiscountKind::percentage;
  std::int64_t value = 0;
  std::string description;
};
struct LinePrice {
  std::string line_id;
  std::int64_t unit_price_minor = 0;
};
struct Repriced {
  std::vector<LinePrice> prices;  // only the lines whose price changed
};
struct TaxResolved {
  std::int64_t tax_minor = 0;
};
struct CheckoutReady {};
// The checkout saga locks the cart while it runs, and then either closes it
// for good (CheckedOut) or releases it (the checkout failed; the cart may be
// checked out again).
struct CheckoutStarted {
  std::string transaction_id;
};
struct CheckoutReleased {
  std::string transaction_id;
};
struct CheckedOut {
  std::string transaction_id;
};

using EventBody =
    std::variant<Created, ItemAdded, ItemQuantityChanged, ItemRemoved, AdjustmentApplied, Repriced,
                 TaxResolved, CheckoutReady, CheckedOut, CheckoutStarted, CheckoutReleased>;

struct Event {
  std::int64_t at_ms = 0;  // when it was recorded
  EventBody body;
};

// Pure fold. Never fails: decide() only emits events whose effects fit.
void apply(Cart& cart, const Event& event);
Cart applied(Cart cart, const Event& event);
Cart fold(const std::vector<Event>& events, Cart from = {});

// ---------------------------------------------------------------- commands

struct CreateCart {
  std::string merchant_id;
  std::string currency;
};
struct AddItem {
  std::string item_id;
  std::int64_t quantity = 0;
  std::optional<std::uint64_t> expected_version;
};
struct UpdateItemQty {
  std::string line_id;
  std::int64_t quantity = 0;
  std::optional<std::uint64_t> expected_version;
};
struct RemoveItem {
  std::string line_id;
  std::optional<std::uint64_t> expected_version;
};
struct ApplyAdjustment {
  std::string code;
  std::optional<std::uint64_t> expected_version;
};
struct GetCart {};
struct StartCheckout {
  std::uint64_t cart_version = 0;
};

using Command = std::variant<CreateCart, AddItem, UpdateItemQty, RemoveItem, ApplyAdjustment,
                             GetCart, StartCheckout>;

// "create_cart", "add_item", ...
std::string_view kind_of(const Command& c);
bool is_read_only(const Command& c);

// Input limits of the command alone (api.md 1): every problem, in order.
// Empty means valid.
std::vector<std::string> validate(const Command& c);

// --------------------------------------------------------------- back-ends

struct CatalogItem {
  std::string item_id;
  std::string title;
  std::int64_t price_minor = 0;
  std::int64_t available = 0;  // units in stock
};

struct Discount {
  std::string code;
  DiscountKind kind = DiscountKind::percentage;
  std::int64_t value = 0;
  std::string description;
};

// What decide() needs to know from the back-ends for this command.
struct Needs {
  std::optional<std::string> catalog_item;   // look this item up
  std::optional<std::string> discount_code;  // resolve this code
  bool recalculate = false;                  // reprice and retax afterwards
};
Needs needs(const Cart& cart, const Command& c);

// The answers to Needs. An unanswered lookup means "not found".
struct Facts {
  std::optional<CatalogItem> item;
  std::optional<Discount> discount;
};

// New identities, drawn by the caller.
struct Context {
  std::string tenant_id;
  std::string new_cart_id;  // for create_cart
  std::string new_line_id;  // for add_item
};

// Checks that need no back-end: existence, closed cart, expected version,
// unknown line. decide() runs it again, so callers may skip it; it lets them
// refuse a command before calling any back-end.
orch::Status precheck(const Cart& cart, const Command& c);

// Stage 1. Returns the primary events (none for a no-op or a read).
Result<std::vector<EventBody>> decide(const Cart& cart, const Command& c, const Facts& facts,
                                      const Context& ctx);

// Stage 2, on the cart with the stage-1 events applied. `prices` are the
// pricing back-end's answer; lines it does not mention keep their price.
// Returns no event when nothing changed.
Result<std::vector<EventBody>> reprice(const Cart& cart, const std::vector<LinePrice>& prices);
Result<std::vector<EventBody>> retax(const Cart& cart, std::int64_t tax_minor);

// Totals of a set of lines, adjustments and tax with checked arithmetic;
// AMOUNT_OUT_OF_RANGE when any sum overflows.
struct Totals {
  std::int64_t subtotal_minor = 0;
  std::int64_t discount_minor = 0;
  std::int64_t tax_minor = 0;
  std::int64_t total_minor = 0;
  std::vector<std::int64_t> adjustment_amounts;  // per adjustment, in order
};
Result<Totals> compute_totals(const std::vector<Line>& lines,
                              const std::vector<Adjustment>& adjustments, std::int64_t tax_minor);
// The same from a subtotal already known (the sum of the line totals).
Result<Totals> totals_from_subtotal(std::int64_t subtotal, const std::vector<Adjustment>& adjustments,
                                    std::int64_t tax_minor);

}  // namespace orch::cart
