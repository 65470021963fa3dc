#include "events/checkout.hpp"

#include <algorithm>

#include "events/hash.hpp"
#include "events/ids.hpp"
#include "events/json.hpp"
#include "events/overloaded.hpp"

namespace orch::checkout {

// ------------------------------------------------------------------ request

namespace {

bool is_currency(const std::string& s) {
  return s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void check_id(std::vector<std::string>& out, std::string_view name, const std::string& v) {
  if (v.empty())
    out.push_back(std::string(name) + " required");
  else if (!ids::is_valid_id(v))
    out.push_back(std::string(name) + " must be 1 to 128 visible ASCII characters");
}

constexpr std::size_t max_string = 4096;

void check_optional(std::vector<std::string>& out, std::string_view name,
                    const std::optional<std::string>& v) {
  if (v && v->size() > max_string)
    out.push_back(std::string(name) + " must be at most 4096 bytes");
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

}  // namespace

std::vector<std::string> validate(const Request& r) {
  std::vector<std::string> out;
  check_id(out, "tenant_id", r.tenant_id);
  check_id(out, "merchant_id", r.merchant_id);
  if (!is_currency(r.currency)) out.push_back("currency must be a 3-letter uppercase code (ISO 4217)");
  if (r.cart_version == 0) out.push_back("cart_version must be > 0");
  check_id(out, "idempotency_key", r.idempotency_key);
  if (r.amount_minor < 0) out.push_back("payment amount must be >= 0");
  if (r.token.empty())
    out.push_back("payment token_or_reference required");
  else if (r.token.size() > max_string)
    out.push_back("payment token_or_reference must be at most 4096 bytes");
  if (r.payment_handler_id && r.payment_handler_id->empty())
    out.push_back("payment_handler_id cannot be empty");
  check_optional(out, "payment_handler_id", r.payment_handler_id);
  check_optional(out, "ap2_consent_proof", r.ap2_consent_proof);
  if (r.customer) {
    check_optional(out, "customer.email", r.customer->email);
    check_optional(out, "customer.full_name", r.customer->full_name);
  }
  if (r.location) {
    check_optional(out, "location.country_code", r.location->country_code);
    check_optional(out, "location.region", r.location->region);
    check_optional(out, "location.postal_code", r.location->postal_code);
  }
  return out;
}

std::string fingerprint(const Request& r) {
  json::Writer w;
  w.begin_object();
  w.field("tenant_id", r.tenant_id).field("merchant_id", r.merchant_id);
  w.field("cart_id", r.cart_id).field("cart_version", r.cart_version);
  w.field("currency", r.currency);
  w.key("customer");
  if (r.customer) {
    w.begin_object().field("email", r.customer->email).field("full_name", r.customer->full_name);
    w.end_object();
  } else {
    w.null();
  }
  w.key("location");
  if (r.location) {
    w.begin_object().field("country_code", r.location->country_code);
    w.field("region", r.location->region).field("postal_code", r.location->postal_code);
    w.end_object();
  } else {
    w.null();
  }
  w.key("payment_intent").begin_object();
  w.field("amount_minor", r.amount_minor).field("token_or_reference", r.token);
  w.field("ap2_consent_proof", r.ap2_consent_proof);
  w.field("payment_handler_id", r.payment_handler_id);
  w.end_object();
  w.field("idempotency_key", r.idempotency_key);
  w.end_object();
  return sha256_hex(w.str());
}

Status check_cart(const cart::Cart& cart, const Request& r) {
  if (!cart.exists()) return Error(Code::not_found, "cart not found");
  if (!cart.transaction_id.empty()) {
    bool done = cart.status == cart::CartStatus::checked_out;
    return Error(Code::cart_already_checked_out,
                 std::string(done ? "cart was already checked out by transaction "
                                  : "cart is being checked out by transaction ") +
                     cart.transaction_id);
  }
  if (cart.version != r.cart_version)
    return Error(Code::cart_version_conflict,
                 "cart version conflict: request expected version " + std::to_string(r.cart_version) +
                     ", current cart version is " + std::to_string(cart.version));
  if (cart.status != cart::CartStatus::checkout_ready)
    return Error(Code::cart_not_ready,
                 "cart is not ready for checkout (status " + std::string(to_string(cart.status)) +
                     "): call start_checkout first");
  if (cart.lines.empty()) return Error(Code::cart_empty, "cart has no lines");
  std::vector<std::string> problems;
  if (r.currency != cart.currency)
    problems.push_back("currency " + r.currency + " does not match the cart currency " + cart.currency);
  if (r.merchant_id != cart.merchant_id)
    problems.push_back("merchant_id " + r.merchant_id + " does not match the cart merchant " +
                       cart.merchant_id);
  if (!problems.empty()) {
    Error e = validation_failed(std::move(problems));
    e.code = Code::validation_mismatch;  // 422: the request is valid, the cart is another
    return e;
  }
  if (r.amount_minor != cart.total_minor)
    return Error(Code::amount_mismatch, "payment_intent.amount_minor " + std::to_string(r.amount_minor) +
                                            " does not match the cart total " +
                                            std::to_string(cart.total_minor));
  return ok();
}

std::vector<std::string> policy_violations(const Policy& p, std::int64_t total,
                                           const std::optional<Location>& location) {
  std::vector<std::string> out;
  if (p.max_total_minor && total > *p.max_total_minor)
    out.push_back("total " + std::to_string(total) + " exceeds max allowed " +
                  std::to_string(*p.max_total_minor));
  if (location && location->country_code) {
    auto cc = upper(*location->country_code);
    for (const auto& blocked : p.blocked_countries)
      if (upper(blocked) == cc) {
        out.push_back("country " + *location->country_code + " is not allowed");
        break;
      }
  }
  return out;
}

std::string geo_rejection(const std::optional<Location>& location) {
  const std::string cc = location && location->country_code ? *location->country_code : "unknown";
  return "geo: country " + cc + " is not allowed";
}

// --------------------------------------------------------------------- saga

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::completed: return "completed";
    case Outcome::rejected: return "rejected";
    case Outcome::auth_failed: return "auth_failed";
    case Outcome::failed: return "failed";
  }
  return "failed";
}

bool parse_enum(std::string_view name, Outcome& out) {
  for (Outcome o : {Outcome::completed, Outcome::rejected, Outcome::auth_failed, Outcome::failed})
    if (to_string(o) == name) {
      out = o;
      return true;
    }
  return false;
}

void apply(Saga& s, const Event& e) {
  std::visit(overloaded{
                 [&](const Started& x) {
                   s.transaction_id = x.transaction_id;
                   s.tenant_id = x.tenant_id;
                   s.merchant_id = x.merchant_id;
                   s.cart_id = x.cart_id;
                   s.cart_version = x.cart_version;
                   s.currency = x.currency;
                   s.idempotency_key = x.idempotency_key;
                   s.fingerprint = x.fingerprint;
                   s.correlation_id = x.correlation_id;
                   s.totals = x.totals;
                   s.lines = x.lines;
                   s.location = x.location;
                   s.started_at_ms = e.at_ms;
                 },
                 [&](const AuthorizeRequested&) { s.phase = Phase::authorizing; },
                 [&](const Authorized& x) {
                   s.authorized = true;
                   s.payment_reference = x.reference;
                   s.payment_state = "authorized";
                 },
                 [&](const Declined& x) {
                   s.payment_reference = x.reference;
                   s.payment_state = "failed";
                   s.failure_reason = x.reason;
                 },
                 [&](const AuthorizeFailed& x) { s.failure_reason = x.reason; },
                 [&](const CaptureRequested&) { s.phase = Phase::capturing; },
                 [&](const Captured&) { s.payment_state = "captured"; },
                 [&](const CaptureFailed& x) { s.failure_reason = x.reason; },
                 [&](const VoidRequested&) { s.phase = Phase::voiding; },
                 [&](const Voided&) { s.payment_state = "voided"; },
                 [&](const VoidFailed& x) {
                   s.payment_state = "authorized";
                   s.failure_reason += (s.failure_reason.empty() ? "" : "; ") + x.reason;
                 },
                 [&](const OrderCreated& x) { s.order_id = x.order_id; },
                 [&](const ReceiptRequested&) { s.phase = Phase::receipting; },
                 [&](const ReceiptIssued& x) {
                   s.receipt_payload = x.content;
                   s.receipt_pending = false;
                 },
                 [&](const ReceiptFailed&) { s.receipt_pending = true; },
                 [&](const Rejected& x) {
                   s.payment_state = "failed";
                   for (const auto& reason : x.reasons)
                     s.audit_trail += (s.audit_trail.empty() ? "" : ";") + reason;
                 },
                 [&](const Finished& x) {
                   s.phase = Phase::finished;
                   s.outcome = x.outcome;
                   s.result_json = x.result_json;
                 },
             },
             e.body);
}

Saga fold(const std::vector<Event>& events, Saga from) {
  for (const auto& e : events) apply(from, e);
  return from;
}

std::string step_key(const std::string& transaction_id, std::string_view step) {
  std::string k = transaction_id;
  k += ':';
  k += step;
  return k;
}

namespace {

Started started(const cart::Cart& cart, const Request& r, const std::string& txn,
                const std::string& correlation_id) {
  Started s;
  s.transaction_id = txn;
  s.tenant_id = r.tenant_id;
  s.merchant_id = r.merchant_id;
  s.cart_id = cart.cart_id;
  s.cart_version = cart.version;
  s.currency = cart.currency;
  s.idempotency_key = r.idempotency_key;
  s.fingerprint = fingerprint(r);
  s.correlation_id = correlation_id;
  s.totals = Totals{cart.subtotal_minor, cart.discount_minor, cart.tax_minor, cart.total_minor};
  s.lines = cart.lines;
  s.location = r.location;
  return s;
}

// The saga after `events`, to render the final result from.
Saga after(const Saga& s, const std::vector<EventBody>& events, std::int64_t at_ms) {
  Saga next = s;
  for (const auto& e : events) apply(next, Event{at_ms, e});
  return next;
}

// Appends Finished(outcome) rendered from the saga as it will be.
void finish(const Saga& s, std::vector<EventBody>& events, Outcome outcome, std::int64_t at_ms) {
  Saga done = after(s, events, at_ms);
  events.push_back(Finished{outcome, result_json(done, outcome)});
}

}  // namespace

std::vector<EventBody> start(const cart::Cart& cart, const Request& r, const std::string& txn,
                             const std::string& correlation_id) {
  return {started(cart, r, txn, correlation_id), AuthorizeRequested{step_key(txn, "authorize")}};
}

std::vector<EventBody> reject(const cart::Cart& cart, const Request& r, const std::string& txn,
                              const std::string& correlation_id,
                              const std::vector<std::string>& reasons, std::int64_t at_ms) {
  std::vector<EventBody> events{started(cart, r, txn, correlation_id), Rejected{reasons}};
  finish(Saga{}, events, Outcome::rejected, at_ms);
  return events;
}

Action next_action(const Saga& s, bool can_authorize) {
  switch (s.phase) {
    case Phase::authorizing: return can_authorize ? Action::authorize : Action::void_;
    case Phase::capturing: return Action::capture;
    case Phase::voiding: return Action::void_;
    case Phase::receipting: return Action::receipt;
    default: return Action::none;
  }
}

std::vector<EventBody> after_authorize(const Saga& s, const CallResult& r, std::int64_t at_ms) {
  std::vector<EventBody> events;
  switch (r.kind) {
    case CallResult::ok:
      events = {Authorized{r.reference},
                CaptureRequested{s.totals.total_minor, step_key(s.transaction_id, "capture")}};
      break;
    case CallResult::refused:
      events = {Declined{r.reference, r.detail}};
      finish(s, events, Outcome::auth_failed, at_ms);
      break;
    case CallResult::unknown:
      // The authorization may exist at the back-end: void it to be sure.
      events = {AuthorizeFailed{r.detail}, VoidRequested{step_key(s.transaction_id, "void")}};
      break;
  }
  return events;
}

std::vector<EventBody> after_capture(const Saga& s, const CallResult& r, const std::string& order_id) {
  if (r.kind == CallResult::ok)
    return {Captured{r.reference}, OrderCreated{order_id},
            ReceiptRequested{step_key(s.transaction_id, "receipt")}};
  return {CaptureFailed{r.detail}, VoidRequested{step_key(s.transaction_id, "void")}};
}

CallResult resolve_unanswered_capture(const CallResult& unanswered,
                                      const std::optional<std::string>& provider_state) {
  if (unanswered.kind != CallResult::unknown || !provider_state) return unanswered;
  const auto state = payment::state_from(*provider_state);
  using payment::State;
  if (state == State::captured || state == State::partially_refunded || state == State::refunded)
    return {CallResult::ok, "", "capture confirmed by the payment back-end's state (" + *provider_state + ")"};
  CallResult still = unanswered;
  still.detail += "; the payment back-end reports the transaction as " + *provider_state;
  return still;
}

std::vector<EventBody> after_void(const Saga& s, const CallResult& r, std::int64_t at_ms) {
  std::vector<EventBody> events;
  if (r.kind == CallResult::ok)
    events = {Voided{r.reference}};
  else
    events = {VoidFailed{"void failed: " + r.detail}};
  finish(s, events, Outcome::failed, at_ms);
  return events;
}

std::vector<EventBody> after_receipt(const Saga& s, const CallResult& r, std::int64_t at_ms) {
  std::vector<EventBody> events;
  if (r.kind == CallResult::ok)
    events = {ReceiptIssued{r.reference}};
  else
    events = {ReceiptFailed{r.detail}};
  finish(s, events, Outcome::completed, at_ms);
  return events;
}

std::vector<payment::EventBody> payment_events(const Saga& s, const std::vector<EventBody>& events) {
  std::vector<payment::EventBody> out;
  const std::int64_t total = s.totals.total_minor;
  auto authorized = [&](const std::string& reference) {
    return payment::Authorized{s.transaction_id, s.tenant_id, s.merchant_id, s.cart_id,
                               s.currency,       total,       reference};
  };
  for (const auto& e : events) {
    std::visit(overloaded{
                   [&](const Authorized& x) { out.push_back(authorized(x.reference)); },
                   [&](const Declined& x) {
                     out.push_back(payment::Declined{s.transaction_id, s.tenant_id, s.merchant_id,
                                                     s.cart_id, s.currency, total, x.reference});
                   },
                   [&](const AuthorizeFailed&) { out.push_back(authorized("")); },
                   [&](const CaptureRequested& x) {
                     out.push_back(payment::OperationRequested{payment::Op::capture, x.amount_minor,
                                                               x.idempotency_key, {}});
                   },
                   [&](const Captured& x) { out.push_back(payment::Captured{total, x.reference}); },
                   [&](const CaptureFailed& x) {
                     out.push_back(payment::OperationFailed{payment::Op::capture, x.reason});
                   },
                   [&](const VoidRequested& x) {
                     out.push_back(payment::OperationRequested{payment::Op::void_, total,
                                                               x.idempotency_key, {}});
                   },
                   [&](const Voided& x) { out.push_back(payment::Voided{x.reference}); },
                   [&](const auto&) {},
               },
               e);
  }
  return out;
}

std::vector<cart::EventBody> cart_events(const Saga& s, const std::vector<EventBody>& events) {
  for (const auto& e : events)
    if (const auto* f = std::get_if<Finished>(&e)) {
      if (f->outcome == Outcome::completed) return {cart::CheckedOut{s.transaction_id}};
      return {cart::CheckoutReleased{s.transaction_id}};
    }
  return {};
}

bool finishes(const std::vector<EventBody>& events) {
  return !events.empty() && std::holds_alternative<Finished>(events.back());
}

std::string result_json(const Saga& s, Outcome outcome) {
  json::Writer w;
  w.begin_object();
  w.field("transaction_id", s.transaction_id).field("status", to_string(outcome));
  w.key("totals_breakdown").begin_object();
  w.field("subtotal_minor", s.totals.subtotal_minor).field("tax_minor", s.totals.tax_minor);
  w.field("discount_minor", s.totals.discount_minor).field("total_minor", s.totals.total_minor);
  w.end_object();
  w.key("payment_reference");
  if (s.payment_reference.empty()) w.null(); else w.value(s.payment_reference);
  w.field("receipt_payload", s.receipt_payload);
  w.field("correlation_id", s.correlation_id);
  w.key("audit_trail_id");
  if (s.audit_trail.empty()) w.null(); else w.value(s.audit_trail);
  w.field("payment_state", s.payment_state.empty() ? std::string("failed") : s.payment_state);
  w.key("order_id");
  if (s.order_id.empty()) w.null(); else w.value(s.order_id);
  w.key("receipt_status");
  if (outcome != Outcome::completed) w.null();
  else w.value(s.receipt_pending ? "pending" : "issued");
  w.key("failure_reason");
  if (outcome == Outcome::completed || s.failure_reason.empty()) w.null(); else w.value(s.failure_reason);
  w.end_object();
  return w.take();
}

}  // namespace orch::checkout
