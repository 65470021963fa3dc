#include "events/order.hpp"

namespace orch::order {

void apply(Order& o, const Event& e) {
  if (const auto* c = std::get_if<Created>(&e.body)) {
    o.order_id = c->order_id;
    o.tenant_id = c->tenant_id;
    o.merchant_id = c->merchant_id;
    o.transaction_id = c->transaction_id;
    o.cart_id = c->cart_id;
    o.correlation_id = c->correlation_id;
    o.currency = c->currency;
    o.lines = c->lines;
    o.totals = c->totals;
    o.status = "created";
    o.created_at_ms = e.at_ms;
  } else if (const auto* r = std::get_if<ReceiptAttached>(&e.body)) {
    o.receipt_payload = r->content;
  }
  o.updated_at_ms = e.at_ms;
}

Created created_from(const checkout::Saga& s, const std::string& order_id) {
  return Created{order_id,         s.tenant_id, s.merchant_id, s.transaction_id, s.cart_id,
                 s.correlation_id, s.currency,  s.lines,       s.totals};
}

}  // namespace orch::order
