#include <type_traits>

#include "events/codec.hpp"
#include "events/json.hpp"
#include "events/overloaded.hpp"

namespace orch::codec {

using json::ObjectReader;
using json::Writer;
using namespace orch::cart;

namespace {

Encoded make(const char* type, Writer& w) { return Encoded{type, 1, w.take()}; }

}  // namespace

Encoded encode(const EventBody& e) {
  Writer w;
  w.begin_object();
  const char* type = std::visit(
      overloaded{
          [&](const Created& x) {
            w.field("cart_id", x.cart_id).field("tenant_id", x.tenant_id);
            w.field("merchant_id", x.merchant_id).field("currency", x.currency);
            return "cart.created";
          },
          [&](const ItemAdded& x) {
            w.field("line_id", x.line_id).field("item_id", x.item_id).field("title", x.title);
            w.field("unit_price_minor", x.unit_price_minor).field("quantity", x.quantity);
            return "cart.item_added";
          },
          [&](const ItemQuantityChanged& x) {
            w.field("line_id", x.line_id).field("quantity", x.quantity);
            return "cart.item_quantity_changed";
          },
          [&](const ItemRemoved& x) {
            w.field("line_id", x.line_id);
            return "cart.item_removed";
          },
          [&](const AdjustmentApplied& x) {
            w.field("code", x.code).field("kind", to_string(x.kind));
            w.field("value", x.value).field("description", x.description);
            return "cart.adjustment_applied";
          },
          [&](const Repriced& x) {
            w.key("prices").begin_array();
            for (const auto& p : x.prices) {
              w.begin_object().field("line_id", p.line_id);
              w.field("unit_price_minor", p.unit_price_minor).end_object();
            }
            w.end_array();
            return "cart.repriced";
          },
          [&](const TaxResolved& x) {
            w.field("tax_minor", x.tax_minor);
            return "cart.tax_resolved";
          },
          [&](const CheckoutReady&) { return "cart.checkout_ready"; },
          [&](const CheckedOut& x) {
            w.field("transaction_id", x.transaction_id);
            return "cart.checked_out";
          },
          [&](const CheckoutStarted& x) {
            w.field("transaction_id", x.transaction_id);
            return "cart.checkout_started";
          },
          [&](const CheckoutReleased& x) {
            w.field("transaction_id", x.transaction_id);
            return "cart.checkout_released";
          },
      },
      e);
  w.end_object();
  return make(type, w);
}

namespace {

Error corrupt(std::string_view type, std::uint32_t schema, const std::string& why) {
  return Error(Code::store_error, "cannot decode event '" + std::string(type) + "' (schema " +
                                      std::to_string(schema) + "): " + why);
}

}  // namespace

Result<EventBody> decode_cart_event(std::string_view type, std::uint32_t schema,
                                    std::string_view payload) {
  if (schema != 1) return corrupt(type, schema, "unknown schema version");
  auto doc = json::parse(payload);
  if (!doc) return corrupt(type, schema, doc.error().message);
  ObjectReader r(&*doc, "");
  std::optional<EventBody> out;
  if (type == "cart.created") {
    Created e;
    e.cart_id = r.string("cart_id").value_or("");
    e.tenant_id = r.string("tenant_id").value_or("");
    e.merchant_id = r.string("merchant_id").value_or("");
    e.currency = r.string("currency").value_or("");
    out = e;
  } else if (type == "cart.item_added") {
    ItemAdded e;
    e.line_id = r.string("line_id").value_or("");
    e.item_id = r.string("item_id").value_or("");
    e.title = r.string("title").value_or("");
    e.unit_price_minor = r.int64("unit_price_minor").value_or(0);
    e.quantity = r.int64("quantity").value_or(0);
    out = e;
  } else if (type == "cart.item_quantity_changed") {
    ItemQuantityChanged e;
    e.line_id = r.string("line_id").value_or("");
    e.quantity = r.int64("quantity").value_or(0);
    out = e;
  } else if (type == "cart.item_removed") {
    out = ItemRemoved{r.string("line_id").value_or("")};
  } else if (type == "cart.adjustment_applied") {
    AdjustmentApplied e;
    e.code = r.string("code").value_or("");
    auto kind = discount_kind_from(r.string("kind").value_or(""));
    if (r.ok() && !kind) return corrupt(type, schema, "unknown discount kind");
    e.kind = kind.value_or(DiscountKind::percentage);
    e.value = r.int64("value").value_or(0);
    e.description = r.string("description").value_or("");
    out = e;
  } else if (type == "cart.repriced") {
    Repriced e;
    if (const auto* prices = r.array("prices")) {
      for (const auto& p : prices->items()) {
        ObjectReader pr(&p, "prices[]");
        LinePrice lp{pr.string("line_id").value_or(""), pr.int64("unit_price_minor").value_or(0)};
        if (!pr.ok()) return corrupt(type, schema, pr.error().message);
        e.prices.push_back(std::move(lp));
      }
    }
    out = e;
  } else if (type == "cart.tax_resolved") {
    out = TaxResolved{r.int64("tax_minor").value_or(0)};
  } else if (type == "cart.checkout_ready") {
    out = CheckoutReady{};
  } else if (type == "cart.checked_out") {
    out = CheckedOut{r.string("transaction_id").value_or("")};
  } else if (type == "cart.checkout_started") {
    out = CheckoutStarted{r.string("transaction_id").value_or("")};
  } else if (type == "cart.checkout_released") {
    out = CheckoutReleased{r.string("transaction_id").value_or("")};
  } else {
    return corrupt(type, schema, "unknown event type");
  }
  if (!r.ok()) return corrupt(type, schema, r.error().message);
  return std::move(*out);
}

// ------------------------------------------------------------------- views

namespace {

void write_view_fields(Writer& w, const Cart& c) {
  w.field("cart_id", c.cart_id).field("version", c.version).field("currency", c.currency);
  w.key("lines").begin_array();
  for (const auto& l : c.lines) {
    w.begin_object();
    w.field("line_id", l.line_id).field("item_id", l.item_id).field("title", l.title);
    w.field("quantity", l.quantity).field("unit_price_minor", l.unit_price_minor);
    w.field("total_minor", l.total_minor);
    w.end_object();
  }
  w.end_array();
  w.field("subtotal_minor", c.subtotal_minor).field("discount_minor", c.discount_minor);
  w.field("tax_minor", c.tax_minor).field("total_minor", c.total_minor);
  w.key("adjustments").begin_array();
  for (const auto& a : c.adjustments) {
    w.begin_object();
    w.field("code", a.code).field("type", to_string(a.kind)).field("value", a.value);
    w.field("description", a.description).field("amount_minor", a.amount_minor);
    w.end_object();
  }
  w.end_array();
  w.field("geo_ok", c.geo_ok).field("status", to_string(c.status));
  w.field("merchant_id", c.merchant_id).field("tenant_id", c.tenant_id);
}

// "checkout": the transaction id once the cart is checked out (api.md 3).
// Snapshots also keep the id of a checkout still running (the lock).
void write_checkout(Writer& w, const Cart& c, bool with_running) {
  w.key("checkout");
  if (c.transaction_id.empty() || (!with_running && c.status != CartStatus::checked_out))
    w.null();
  else
    w.value(c.transaction_id);
}

}  // namespace

std::string cart_view_json(const Cart& c) {
  Writer w;
  w.begin_object();
  write_view_fields(w, c);
  write_checkout(w, c, false);
  w.end_object();
  return w.take();
}

std::string cart_snapshot_json(const Cart& c) {
  Writer w;
  w.begin_object();
  write_view_fields(w, c);
  write_checkout(w, c, true);
  w.field("created_at_ms", c.created_at_ms).field("updated_at_ms", c.updated_at_ms);
  w.end_object();
  return w.take();
}

Result<Cart> cart_from_snapshot(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc) return Error(Code::store_error, "cannot decode cart snapshot: " + doc.error().message);
  ObjectReader r(&*doc, "");
  Cart c;
  c.cart_id = r.string("cart_id").value_or("");
  c.version = r.uint64("version").value_or(0);
  c.currency = r.string("currency").value_or("");
  if (const auto* lines = r.array("lines")) {
    for (const auto& v : lines->items()) {
      ObjectReader lr(&v, "lines[]");
      Line l;
      l.line_id = lr.string("line_id").value_or("");
      l.item_id = lr.string("item_id").value_or("");
      l.title = lr.string("title").value_or("");
      l.quantity = lr.int64("quantity").value_or(0);
      l.unit_price_minor = lr.int64("unit_price_minor").value_or(0);
      l.total_minor = lr.int64("total_minor").value_or(0);
      if (!lr.ok()) r.fail(lr.error());
      c.lines.push_back(std::move(l));
    }
  }
  c.subtotal_minor = r.int64("subtotal_minor").value_or(0);
  c.discount_minor = r.int64("discount_minor").value_or(0);
  c.tax_minor = r.int64("tax_minor").value_or(0);
  c.total_minor = r.int64("total_minor").value_or(0);
  if (const auto* adjs = r.array("adjustments")) {
    for (const auto& v : adjs->items()) {
      ObjectReader ar(&v, "adjustments[]");
      Adjustment a;
      a.code = ar.string("code").value_or("");
      auto kind = discount_kind_from(ar.string("type").value_or(""));
      if (ar.ok() && !kind) ar.fail(Error(Code::store_error, "unknown adjustment type"));
      a.kind = kind.value_or(DiscountKind::percentage);
      a.value = ar.int64("value").value_or(0);
      a.description = ar.string("description").value_or("");
      a.amount_minor = ar.int64("amount_minor").value_or(0);
      if (!ar.ok()) r.fail(ar.error());
      c.adjustments.push_back(std::move(a));
    }
  }
  c.geo_ok = r.boolean("geo_ok").value_or(true);
  auto status = r.string("status").value_or("draft");
  if (status == "checkout_ready") c.status = CartStatus::checkout_ready;
  else if (status == "checked_out") c.status = CartStatus::checked_out;
  else if (status == "draft") c.status = CartStatus::draft;
  else r.fail(Error(Code::store_error, "unknown cart status '" + status + "'"));
  c.merchant_id = r.string("merchant_id").value_or("");
  c.tenant_id = r.string("tenant_id").value_or("");
  if (const auto* co = r.any("checkout"); co && co->is_string()) c.transaction_id = co->as_string();
  c.created_at_ms = r.int64("created_at_ms").value_or(0);
  c.updated_at_ms = r.int64("updated_at_ms").value_or(0);
  if (!r.ok()) return Error(Code::store_error, "cannot decode cart snapshot: " + r.error().message);
  return c;
}

}  // namespace orch::codec
