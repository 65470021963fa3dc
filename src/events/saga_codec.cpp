// Codecs of the checkout, payment and order streams, and their views.
#include "events/codec.hpp"
#include "events/fields.hpp"

namespace orch::fields {

// ---------------------------------------------------------------- checkout

template <class F>
void fields(checkout::Started& x, F& f) {
  f("transaction_id", x.transaction_id);
  f("tenant_id", x.tenant_id);
  f("merchant_id", x.merchant_id);
  f("cart_id", x.cart_id);
  f("cart_version", x.cart_version);
  f("currency", x.currency);
  f("idempotency_key", x.idempotency_key);
  f("fingerprint", x.fingerprint);
  f("correlation_id", x.correlation_id);
  f("totals", x.totals);
  f("lines", x.lines);
  f("location", x.location);
}
template <class F>
void fields(checkout::AuthorizeRequested& x, F& f) { f("idempotency_key", x.idempotency_key); }
template <class F>
void fields(checkout::Authorized& x, F& f) { f("reference", x.reference); }
template <class F>
void fields(checkout::Declined& x, F& f) {
  f("reference", x.reference);
  f("reason", x.reason);
}
template <class F>
void fields(checkout::AuthorizeFailed& x, F& f) { f("reason", x.reason); }
template <class F>
void fields(checkout::CaptureRequested& x, F& f) {
  f("amount_minor", x.amount_minor);
  f("idempotency_key", x.idempotency_key);
}
template <class F>
void fields(checkout::Captured& x, F& f) { f("reference", x.reference); }
template <class F>
void fields(checkout::CaptureFailed& x, F& f) { f("reason", x.reason); }
template <class F>
void fields(checkout::VoidRequested& x, F& f) { f("idempotency_key", x.idempotency_key); }
template <class F>
void fields(checkout::Voided& x, F& f) { f("reference", x.reference); }
template <class F>
void fields(checkout::VoidFailed& x, F& f) { f("reason", x.reason); }
template <class F>
void fields(checkout::OrderCreated& x, F& f) { f("order_id", x.order_id); }
template <class F>
void fields(checkout::ReceiptRequested& x, F& f) { f("idempotency_key", x.idempotency_key); }
template <class F>
void fields(checkout::ReceiptIssued& x, F& f) { f("content", x.content); }
template <class F>
void fields(checkout::ReceiptFailed& x, F& f) { f("reason", x.reason); }
template <class F>
void fields(checkout::Rejected& x, F& f) { f("reasons", x.reasons); }
template <class F>
void fields(checkout::Finished& x, F& f) {
  f("outcome", x.outcome);
  f("result_json", x.result_json);
}

// ----------------------------------------------------------------- payment

template <class F>
void fields(payment::Authorized& x, F& f) {
  f("transaction_id", x.transaction_id);
  f("tenant_id", x.tenant_id);
  f("merchant_id", x.merchant_id);
  f("cart_id", x.cart_id);
  f("currency", x.currency);
  f("amount_minor", x.amount_minor);
  f("reference", x.reference);
}
template <class F>
void fields(payment::Declined& x, F& f) {
  f("transaction_id", x.transaction_id);
  f("tenant_id", x.tenant_id);
  f("merchant_id", x.merchant_id);
  f("cart_id", x.cart_id);
  f("currency", x.currency);
  f("amount_minor", x.amount_minor);
  f("reference", x.reference);
}
template <class F>
void fields(payment::OperationRequested& x, F& f) {
  f("op", x.op);
  f("amount_minor", x.amount_minor);
  f("idempotency_key", x.idempotency_key);
  f("client_key", x.client_key);
}
template <class F>
void fields(payment::Captured& x, F& f) {
  f("amount_minor", x.amount_minor);
  f("reference", x.reference);
}
template <class F>
void fields(payment::Voided& x, F& f) { f("reference", x.reference); }
template <class F>
void fields(payment::Refunded& x, F& f) {
  f("amount_minor", x.amount_minor);
  f("reference", x.reference);
}
template <class F>
void fields(payment::OperationFailed& x, F& f) {
  f("op", x.op);
  f("reason", x.reason);
}

// ------------------------------------------------------------------- order

template <class F>
void fields(order::Created& x, F& f) {
  f("order_id", x.order_id);
  f("tenant_id", x.tenant_id);
  f("merchant_id", x.merchant_id);
  f("transaction_id", x.transaction_id);
  f("cart_id", x.cart_id);
  f("correlation_id", x.correlation_id);
  f("currency", x.currency);
  f("lines", x.lines);
  f("totals", x.totals);
}
template <class F>
void fields(order::ReceiptAttached& x, F& f) { f("content", x.content); }

}  // namespace orch::fields

namespace orch::codec {

namespace {

constexpr std::array<std::string_view, 17> checkout_types = {
    "checkout.started",         "checkout.authorize_requested", "checkout.authorized",
    "checkout.declined",        "checkout.authorize_failed",    "checkout.capture_requested",
    "checkout.captured",        "checkout.capture_failed",      "checkout.void_requested",
    "checkout.voided",          "checkout.void_failed",         "checkout.order_created",
    "checkout.receipt_requested", "checkout.receipt_issued",    "checkout.receipt_failed",
    "checkout.finished",        "checkout.rejected"};

constexpr std::array<std::string_view, 7> payment_types = {
    "payment.authorized", "payment.declined", "payment.operation_requested", "payment.captured",
    "payment.voided",     "payment.refunded", "payment.operation_failed"};

constexpr std::array<std::string_view, 2> order_types = {"order.created", "order.receipt_attached"};

void write_totals(json::Writer& w, const checkout::Totals& t) {
  w.begin_object();
  w.field("subtotal_minor", t.subtotal_minor).field("discount_minor", t.discount_minor);
  w.field("tax_minor", t.tax_minor).field("total_minor", t.total_minor);
  w.end_object();
}

}  // namespace

Encoded encode(const checkout::EventBody& e) { return fields::encode_variant(e, checkout_types); }

Result<checkout::EventBody> decode_checkout_event(std::string_view type, std::uint32_t schema,
                                                  std::string_view payload) {
  return fields::decode_variant<checkout::EventBody>(type, schema, payload, checkout_types);
}

Encoded encode(const payment::EventBody& e) { return fields::encode_variant(e, payment_types); }

Result<payment::EventBody> decode_payment_event(std::string_view type, std::uint32_t schema,
                                                std::string_view payload) {
  return fields::decode_variant<payment::EventBody>(type, schema, payload, payment_types);
}

Encoded encode(const order::EventBody& e) { return fields::encode_variant(e, order_types); }

Result<order::EventBody> decode_order_event(std::string_view type, std::uint32_t schema,
                                            std::string_view payload) {
  return fields::decode_variant<order::EventBody>(type, schema, payload, order_types);
}

std::string saga_json(const checkout::Saga& s) {
  static constexpr const char* phases[] = {"none",      "authorizing", "capturing",
                                           "voiding",   "receipting",  "finished"};
  json::Writer w;
  w.begin_object();
  w.field("transaction_id", s.transaction_id).field("tenant_id", s.tenant_id);
  w.field("merchant_id", s.merchant_id).field("cart_id", s.cart_id);
  w.field("cart_version", s.cart_version).field("currency", s.currency);
  w.field("idempotency_key", s.idempotency_key).field("correlation_id", s.correlation_id);
  w.key("totals");
  write_totals(w, s.totals);
  w.field("phase", phases[static_cast<int>(s.phase)]);
  w.field("payment_reference", s.payment_reference).field("payment_state", s.payment_state);
  w.field("order_id", s.order_id).field("receipt_payload", s.receipt_payload);
  w.field("receipt_pending", s.receipt_pending).field("failure_reason", s.failure_reason);
  w.key("outcome");
  if (s.outcome) w.value(checkout::to_string(*s.outcome)); else w.null();
  w.key("result");
  if (s.result_json.empty()) w.null(); else w.raw(s.result_json);
  w.end_object();
  return w.take();
}

std::string payment_view_json(const payment::Payment& p) {
  json::Writer w;
  w.begin_object();
  w.field("transaction_id", p.transaction_id).field("tenant_id", p.tenant_id);
  w.field("merchant_id", p.merchant_id).field("cart_id", p.cart_id).field("currency", p.currency);
  w.field("state", payment::to_string(p.state));
  w.field("authorized_minor", p.authorized_minor).field("captured_minor", p.captured_minor);
  w.field("refunded_minor", p.refunded_minor);
  w.field("authorization_reference", p.authorization_reference);
  w.key("pending_operation");
  if (p.pending) {
    w.begin_object().field("op", payment::to_string(p.pending->op));
    w.field("amount_minor", p.pending->amount_minor).end_object();
  } else {
    w.null();
  }
  w.key("history").begin_array();
  for (const auto& h : p.history) {
    w.begin_object().field("type", h.type).field("amount_minor", h.amount_minor);
    w.field("reference", h.reference).field("at_ms", h.at_ms).end_object();
  }
  w.end_array();
  w.field("created_at_ms", p.created_at_ms).field("updated_at_ms", p.updated_at_ms);
  w.end_object();
  return w.take();
}

std::string order_view_json(const order::Order& o) {
  json::Writer w;
  w.begin_object();
  w.field("order_id", o.order_id).field("tenant_id", o.tenant_id);
  w.field("merchant_id", o.merchant_id).field("transaction_id", o.transaction_id);
  w.field("cart_id", o.cart_id).field("correlation_id", o.correlation_id);
  w.field("status", o.status).field("currency", o.currency);
  w.key("items").begin_array();
  for (const auto& l : o.lines) {
    w.begin_object().field("line_id", l.line_id).field("item_id", l.item_id);
    w.field("title", l.title).field("quantity", l.quantity);
    w.field("unit_price_minor", l.unit_price_minor).field("total_minor", l.total_minor);
    w.end_object();
  }
  w.end_array();
  w.key("totals");
  write_totals(w, o.totals);
  w.field("receipt_payload", o.receipt_payload);
  w.field("created_at_ms", o.created_at_ms).field("updated_at_ms", o.updated_at_ms);
  w.end_object();
  return w.take();
}

}  // namespace orch::codec
