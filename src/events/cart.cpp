#include "events/cart.hpp"

#include <algorithm>

#include "events/ids.hpp"
#include "events/money.hpp"

namespace orch::cart {

std::string_view to_string(CartStatus s) {
  switch (s) {
    case CartStatus::draft: return "draft";
    case CartStatus::checkout_ready: return "checkout_ready";
    case CartStatus::checked_out: return "checked_out";
  }
  return "draft";
}

std::string_view to_string(DiscountKind k) {
  return k == DiscountKind::percentage ? "percentage" : "fixed_amount";
}

std::optional<DiscountKind> discount_kind_from(std::string_view s) {
  if (s == "percentage") return DiscountKind::percentage;
  if (s == "fixed_amount") return DiscountKind::fixed_amount;
  return std::nullopt;
}

const Line* Cart::find_line(std::string_view line_id) const {
  for (const auto& l : lines)
    if (l.line_id == line_id) return &l;
  return nullptr;
}

std::int64_t Cart::quantity_of(std::string_view item_id, std::string_view except_line) const {
  std::int64_t n = 0;
  for (const auto& l : lines)
    if (l.item_id == item_id && l.line_id != except_line) n += l.quantity;
  return n;
}

bool Cart::has_adjustment(std::string_view code) const {
  return std::any_of(adjustments.begin(), adjustments.end(),
                     [&](const Adjustment& a) { return a.code == code; });
}

// ------------------------------------------------------------------ totals

namespace {
Error out_of_range(const char* what) {
  return Error(Code::amount_out_of_range, std::string(what) + " exceeds the supported range");
}
}  // namespace

Result<Totals> totals_from_subtotal(std::int64_t subtotal, const std::vector<Adjustment>& adjustments,
                                    std::int64_t tax_minor) {
  Totals t;
  t.subtotal_minor = subtotal;
  std::int64_t running = subtotal;
  t.adjustment_amounts.reserve(adjustments.size());
  for (const auto& a : adjustments) {
    std::int64_t base = std::max<std::int64_t>(running, 0);
    std::int64_t amount = a.kind == DiscountKind::percentage ? money::percent_of(base, a.value)
                                                             : std::min(a.value, base);
    running -= amount;  // amount <= base <= running: no overflow
    t.discount_minor += amount;
    t.adjustment_amounts.push_back(amount);
  }
  t.tax_minor = tax_minor;
  auto total = money::add(running, tax_minor);
  if (!total) return out_of_range("the cart total");
  t.total_minor = *total;
  return t;
}

Result<Totals> compute_totals(const std::vector<Line>& lines,
                              const std::vector<Adjustment>& adjustments, std::int64_t tax_minor) {
  std::int64_t subtotal = 0;
  for (const auto& l : lines) {
    auto line_total = money::mul(l.unit_price_minor, l.quantity);
    if (!line_total) return out_of_range("a line total");
    auto s = money::add(subtotal, *line_total);
    if (!s) return out_of_range("the cart subtotal");
    subtotal = *s;
  }
  return totals_from_subtotal(subtotal, adjustments, tax_minor);
}

// ------------------------------------------------------------------- apply

namespace {

void recompute(Cart& c) {
  for (auto& l : c.lines) l.total_minor = money::mul(l.unit_price_minor, l.quantity).value_or(0);
  auto t = compute_totals(c.lines, c.adjustments, c.tax_minor);
  if (!t) return;  // unreachable for events emitted by decide()
  c.subtotal_minor = t->subtotal_minor;
  c.discount_minor = t->discount_minor;
  c.total_minor = t->total_minor;
  for (std::size_t i = 0; i < c.adjustments.size(); ++i)
    c.adjustments[i].amount_minor = t->adjustment_amounts[i];
}

// A change of content: new version, and a ready cart goes back to draft.
void mutated(Cart& c) {
  ++c.version;
  if (c.status == CartStatus::checkout_ready) c.status = CartStatus::draft;
}

struct Applier {
  Cart& c;
  void operator()(const Created& e) {
    c.cart_id = e.cart_id;
    c.tenant_id = e.tenant_id;
    c.merchant_id = e.merchant_id;
    c.currency = e.currency;
    c.version = 1;
    c.status = CartStatus::draft;
  }
  void operator()(const ItemAdded& e) {
    c.lines.push_back(Line{e.line_id, e.item_id, e.title, e.quantity, e.unit_price_minor, 0});
    mutated(c);
    recompute(c);
  }
  void operator()(const ItemQuantityChanged& e) {
    for (auto& l : c.lines)
      if (l.line_id == e.line_id) l.quantity = e.quantity;
    mutated(c);
    recompute(c);
  }
  void operator()(const ItemRemoved& e) {
    std::erase_if(c.lines, [&](const Line& l) { return l.line_id == e.line_id; });
    mutated(c);
    recompute(c);
  }
  void operator()(const AdjustmentApplied& e) {
    c.adjustments.push_back(Adjustment{e.code, e.kind, e.value, e.description, 0});
    mutated(c);
    recompute(c);
  }
  void operator()(const Repriced& e) {
    for (const auto& p : e.prices)
      for (auto& l : c.lines)
        if (l.line_id == p.line_id) l.unit_price_minor = p.unit_price_minor;
    recompute(c);
  }
  void operator()(const TaxResolved& e) {
    c.tax_minor = e.tax_minor;
    recompute(c);
  }
  void operator()(const CheckoutReady&) {
    ++c.version;
    c.status = CartStatus::checkout_ready;
  }
  void operator()(const CheckoutStarted& e) { c.transaction_id = e.transaction_id; }
  void operator()(const CheckoutReleased&) { c.transaction_id.clear(); }
  void operator()(const CheckedOut& e) {
    c.status = CartStatus::checked_out;
    c.transaction_id = e.transaction_id;
  }
};

}  // namespace

void apply(Cart& cart, const Event& event) {
  std::visit(Applier{cart}, event.body);
  if (std::holds_alternative<Created>(event.body)) cart.created_at_ms = event.at_ms;
  cart.updated_at_ms = event.at_ms;
}

Cart applied(Cart cart, const Event& event) {
  apply(cart, event);
  return cart;
}

Cart fold(const std::vector<Event>& events, Cart from) {
  for (const auto& e : events) apply(from, e);
  return from;
}

// ---------------------------------------------------------------- commands

std::string_view kind_of(const Command& c) {
  static constexpr std::string_view names[] = {"create_cart",      "add_item", "update_item_qty",
                                               "remove_item",      "apply_adjustment",
                                               "get_cart",         "start_checkout"};
  return names[c.index()];
}

bool is_read_only(const Command& c) { return std::holds_alternative<GetCart>(c); }

namespace {

void check_id(std::vector<std::string>& out, std::string_view name, const std::string& v) {
  if (v.empty())
    out.push_back(std::string(name) + " required");
  else if (!ids::is_valid_id(v))
    out.push_back(std::string(name) + " must be 1 to 128 visible ASCII characters");
}

bool is_currency(const std::string& s) {
  return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void check_quantity(std::vector<std::string>& out, std::int64_t q, std::int64_t min) {
  if (q < min || q > max_quantity)
    out.push_back("quantity must be between " + std::to_string(min) + " and " +
                  std::to_string(max_quantity));
}

struct Validator {
  std::vector<std::string>& out;
  void operator()(const CreateCart& c) {
    check_id(out, "merchant_id", c.merchant_id);
    if (!is_currency(c.currency))
      out.push_back("currency must be a 3-letter uppercase code (ISO 4217)");
  }
  void operator()(const AddItem& c) {
    check_id(out, "item_id", c.item_id);
    check_quantity(out, c.quantity, 1);
  }
  void operator()(const UpdateItemQty& c) {
    check_id(out, "line_id", c.line_id);
    check_quantity(out, c.quantity, 0);
  }
  void operator()(const RemoveItem& c) { check_id(out, "line_id", c.line_id); }
  void operator()(const ApplyAdjustment& c) { check_id(out, "code", c.code); }
  void operator()(const GetCart&) {}
  void operator()(const StartCheckout& c) {
    if (c.cart_version == 0) out.push_back("cart_version must be > 0");
  }
};

std::optional<std::uint64_t> expected_version_of(const Command& c) {
  return std::visit(
      [](const auto& x) -> std::optional<std::uint64_t> {
        if constexpr (requires { x.expected_version; })
          return x.expected_version;
        else
          return std::nullopt;
      },
      c);
}

Error version_conflict(std::uint64_t expected, std::uint64_t current) {
  return Error(Code::cart_version_conflict,
               "cart version conflict: request expected version " + std::to_string(expected) +
                   ", current cart version is " + std::to_string(current));
}

Error closed(const Cart& cart) {
  if (cart.status == CartStatus::checked_out)
    return Error(Code::cart_closed, "cart " + cart.cart_id +
                                        " is closed: it was checked out (transaction " +
                                        cart.transaction_id + ")");
  return Error(Code::cart_closed, "cart " + cart.cart_id + " is being checked out (transaction " +
                                      cart.transaction_id + ")");
}

bool is_mutation(const Command& c) {
  return std::holds_alternative<AddItem>(c) || std::holds_alternative<UpdateItemQty>(c) ||
         std::holds_alternative<RemoveItem>(c) || std::holds_alternative<ApplyAdjustment>(c);
}

// start_checkout repeated: the cart is ready and either the request names the
// current version or it is the very request that made the cart ready.
bool already_ready_for(const Cart& cart, std::uint64_t cart_version) {
  return cart.status == CartStatus::checkout_ready &&
         (cart_version == cart.version || cart_version + 1 == cart.version);
}

}  // namespace

std::vector<std::string> validate(const Command& c) {
  std::vector<std::string> out;
  std::visit(Validator{out}, c);
  return out;
}

orch::Status precheck(const Cart& cart, const Command& c) {
  if (std::holds_alternative<CreateCart>(c)) {
    if (cart.exists()) return Error(Code::internal_error, "cart id already in use");
    return ok();
  }
  if (!cart.exists()) return Error(Code::not_found, "cart not found");
  if (is_mutation(c)) {
    if (cart.locked()) return closed(cart);
    if (auto ev = expected_version_of(c); ev && *ev != cart.version)
      return version_conflict(*ev, cart.version);
    const std::string* line_id = nullptr;
    if (auto* u = std::get_if<UpdateItemQty>(&c)) line_id = &u->line_id;
    if (auto* r = std::get_if<RemoveItem>(&c)) line_id = &r->line_id;
    if (line_id && !cart.find_line(*line_id))
      return Error(Code::line_not_found, "cart line '" + *line_id + "' not found");
  }
  if (auto* s = std::get_if<StartCheckout>(&c)) {
    if (cart.locked()) return closed(cart);
    if (!already_ready_for(cart, s->cart_version) && s->cart_version != cart.version)
      return version_conflict(s->cart_version, cart.version);
  }
  return ok();
}

Needs needs(const Cart& cart, const Command& c) {
  Needs n;
  if (auto* a = std::get_if<AddItem>(&c)) {
    n.catalog_item = a->item_id;
    n.recalculate = true;
  } else if (auto* u = std::get_if<UpdateItemQty>(&c)) {
    const Line* line = cart.find_line(u->line_id);
    if (line && u->quantity > line->quantity) n.catalog_item = line->item_id;
    n.recalculate = true;
  } else if (std::holds_alternative<RemoveItem>(c)) {
    n.recalculate = true;
  } else if (auto* adj = std::get_if<ApplyAdjustment>(&c)) {
    if (!cart.has_adjustment(adj->code)) {
      n.discount_code = adj->code;
      n.recalculate = true;
    }
  }
  return n;
}

namespace {

Error stock_error(const std::string& item_id, std::int64_t wanted, std::int64_t available) {
  return Error(Code::out_of_stock, "item '" + item_id + "' is out of stock: " +
                                       std::to_string(wanted) + " requested, " +
                                       std::to_string(std::max<std::int64_t>(available, 0)) +
                                       " available");
}

// Whether the cart's totals stay in range when its subtotal changes by
// removing `old_total` and adding `unit * quantity` (checked, without
// copying the lines).
Status fits(const Cart& cart, std::int64_t old_total, std::int64_t unit, std::int64_t quantity) {
  auto line_total = money::mul(unit, quantity);
  if (!line_total) return out_of_range("a line total");
  auto without = money::sub(cart.subtotal_minor, old_total);
  auto subtotal = without ? money::add(*without, *line_total) : std::nullopt;
  if (!subtotal) return out_of_range("the cart subtotal");
  auto t = totals_from_subtotal(*subtotal, cart.adjustments, cart.tax_minor);
  if (!t) return t.error();
  return ok();
}

struct Decider {
  const Cart& cart;
  const Facts& facts;
  const Context& ctx;
  using Out = Result<std::vector<EventBody>>;

  Out operator()(const CreateCart& c) {
    return std::vector<EventBody>{Created{ctx.new_cart_id, ctx.tenant_id, c.merchant_id, c.currency}};
  }

  Out operator()(const AddItem& c) {
    if (!facts.item) return Error(Code::item_not_found, "item '" + c.item_id + "' not found");
    const CatalogItem& item = *facts.item;
    if (item.price_minor < 0)
      return Error(Code::backend_error, "catalog returned a negative price for '" + c.item_id + "'");
    if (cart.lines.size() >= max_lines)
      return validation_failed({"a cart holds at most " + std::to_string(max_lines) + " lines"});
    std::int64_t wanted = cart.quantity_of(c.item_id) + c.quantity;
    if (wanted > item.available) return stock_error(c.item_id, wanted, item.available);
    if (auto s = fits(cart, 0, item.price_minor, c.quantity); !s) return s.error();
    return std::vector<EventBody>{
        ItemAdded{ctx.new_line_id, c.item_id, item.title, item.price_minor, c.quantity}};
  }

  Out operator()(const UpdateItemQty& c) {
    if (c.quantity == 0) return std::vector<EventBody>{ItemRemoved{c.line_id}};
    const Line* line = cart.find_line(c.line_id);
    if (c.quantity > line->quantity) {
      if (!facts.item)
        return Error(Code::item_not_found, "item '" + line->item_id + "' not found");
      std::int64_t wanted = cart.quantity_of(line->item_id, line->line_id) + c.quantity;
      if (wanted > facts.item->available)
        return stock_error(line->item_id, wanted, facts.item->available);
    }
    if (auto s = fits(cart, line->total_minor, line->unit_price_minor, c.quantity); !s) return s.error();
    return std::vector<EventBody>{ItemQuantityChanged{c.line_id, c.quantity}};
  }

  Out operator()(const RemoveItem& c) { return std::vector<EventBody>{ItemRemoved{c.line_id}}; }

  Out operator()(const ApplyAdjustment& c) {
    if (cart.has_adjustment(c.code)) return std::vector<EventBody>{};
    if (!facts.discount)
      return Error(Code::adjustment_rejected, "discount code '" + c.code + "' is not valid");
    const Discount& d = *facts.discount;
    bool sane = d.kind == DiscountKind::percentage ? (d.value >= 0 && d.value <= 100) : d.value >= 0;
    if (!sane)
      return Error(Code::backend_error, "pricing returned an invalid discount for '" + c.code + "'");
    if (cart.adjustments.size() >= max_adjustments)
      return validation_failed({"a cart holds at most " + std::to_string(max_adjustments) + " adjustments"});
    return std::vector<EventBody>{AdjustmentApplied{c.code, d.kind, d.value, d.description}};
  }

  Out operator()(const GetCart&) { return std::vector<EventBody>{}; }

  Out operator()(const StartCheckout& c) {
    if (already_ready_for(cart, c.cart_version)) return std::vector<EventBody>{};
    return std::vector<EventBody>{CheckoutReady{}};
  }
};

}  // namespace

Result<std::vector<EventBody>> decide(const Cart& cart, const Command& c, const Facts& facts,
                                      const Context& ctx) {
  if (auto problems = validate(c); !problems.empty())
    return validation_failed(std::move(problems));
  if (auto s = precheck(cart, c); !s) return s.error();
  return std::visit(Decider{cart, facts, ctx}, c);
}

Result<std::vector<EventBody>> reprice(const Cart& cart, const std::vector<LinePrice>& prices) {
  Repriced changed;
  std::int64_t subtotal = cart.subtotal_minor;
  for (std::size_t i = 0; i < prices.size(); ++i) {
    const LinePrice& p = prices[i];
    // Back-ends answer in line order; look further only when they do not.
    const Line* l = i < cart.lines.size() && cart.lines[i].line_id == p.line_id ? &cart.lines[i]
                                                                               : cart.find_line(p.line_id);
    if (!l || l->unit_price_minor == p.unit_price_minor) continue;
    if (p.unit_price_minor < 0)
      return Error(Code::backend_error, "pricing returned a negative price for line " + l->line_id);
    auto new_total = money::mul(p.unit_price_minor, l->quantity);
    if (!new_total) return out_of_range("a line total");
    auto s1 = money::sub(subtotal, l->total_minor);
    auto s2 = s1 ? money::add(*s1, *new_total) : std::nullopt;
    if (!s2) return out_of_range("the cart subtotal");
    subtotal = *s2;
    changed.prices.push_back(p);
  }
  if (changed.prices.empty()) return std::vector<EventBody>{};
  auto t = totals_from_subtotal(subtotal, cart.adjustments, cart.tax_minor);
  if (!t) return t.error();
  return std::vector<EventBody>{std::move(changed)};
}

Result<std::vector<EventBody>> retax(const Cart& cart, std::int64_t tax_minor) {
  if (tax_minor < 0) return Error(Code::backend_error, "tax back-end returned a negative tax");
  if (tax_minor == cart.tax_minor) return std::vector<EventBody>{};
  auto t = totals_from_subtotal(cart.subtotal_minor, cart.adjustments, tax_minor);
  if (!t) return t.error();
  return std::vector<EventBody>{TaxResolved{tax_minor}};
}

}  // namespace orch::cart
