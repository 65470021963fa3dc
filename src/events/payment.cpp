#include "events/payment.hpp"

#include "events/hash.hpp"
#include "events/json.hpp"
#include "events/overloaded.hpp"

namespace orch::payment {

std::string_view to_string(State s) {
  switch (s) {
    case State::none: return "none";
    case State::authorized: return "authorized";
    case State::captured: return "captured";
    case State::partially_refunded: return "partially_refunded";
    case State::refunded: return "refunded";
    case State::voided: return "voided";
    case State::declined: return "failed";
  }
  return "none";
}

std::optional<State> state_from(std::string_view s) {
  for (State st : {State::authorized, State::captured, State::partially_refunded, State::refunded,
                   State::voided, State::declined})
    if (to_string(st) == s) return st;
  if (s == "refund_pending" || s == "refundpending") return State::partially_refunded;
  return std::nullopt;
}

std::string_view to_string(Op op) {
  switch (op) {
    case Op::capture: return "capture";
    case Op::void_: return "void";
    case Op::refund: return "refund";
  }
  return "capture";
}

bool parse_enum(std::string_view name, Op& out) {
  for (Op op : {Op::capture, Op::void_, Op::refund})
    if (to_string(op) == name) {
      out = op;
      return true;
    }
  return false;
}

namespace {

void record(Payment& p, std::string type, std::int64_t amount, std::string reference,
            std::int64_t at) {
  p.history.push_back(HistoryEntry{std::move(type), amount, std::move(reference), at});
}

}  // namespace

void apply(Payment& p, const Event& e) {
  std::visit(overloaded{
                 [&](const Authorized& x) {
                   p.transaction_id = x.transaction_id;
                   p.tenant_id = x.tenant_id;
                   p.merchant_id = x.merchant_id;
                   p.cart_id = x.cart_id;
                   p.currency = x.currency;
                   p.state = State::authorized;
                   p.authorized_minor = x.amount_minor;
                   p.authorization_reference = x.reference;
                   p.created_at_ms = e.at_ms;
                   record(p, "authorized", x.amount_minor, x.reference, e.at_ms);
                 },
                 [&](const Declined& x) {
                   p.transaction_id = x.transaction_id;
                   p.tenant_id = x.tenant_id;
                   p.merchant_id = x.merchant_id;
                   p.cart_id = x.cart_id;
                   p.currency = x.currency;
                   p.state = State::declined;
                   p.authorization_reference = x.reference;
                   p.created_at_ms = e.at_ms;
                   record(p, "declined", x.amount_minor, x.reference, e.at_ms);
                 },
                 [&](const OperationRequested& x) {
                   p.pending = PendingOp{x.op, x.amount_minor, x.idempotency_key, x.client_key};
                 },
                 [&](const Captured& x) {
                   p.pending.reset();
                   p.state = State::captured;
                   p.captured_minor = x.amount_minor;
                   record(p, "captured", x.amount_minor, x.reference, e.at_ms);
                 },
                 [&](const Voided& x) {
                   p.pending.reset();
                   p.state = State::voided;
                   record(p, "voided", p.authorized_minor, x.reference, e.at_ms);
                 },
                 [&](const Refunded& x) {
                   p.pending.reset();
                   p.refunded_minor += x.amount_minor;
                   p.state = p.refunded_minor >= p.captured_minor ? State::refunded
                                                                  : State::partially_refunded;
                   record(p, "refunded", x.amount_minor, x.reference, e.at_ms);
                 },
                 [&](const OperationFailed& x) {
                   p.pending.reset();
                   record(p, "operation_failed", 0, std::string(to_string(x.op)) + ": " + x.reason,
                          e.at_ms);
                 },
             },
             e.body);
  p.updated_at_ms = e.at_ms;
}

Payment fold(const std::vector<Event>& events, Payment from) {
  for (const auto& e : events) apply(from, e);
  return from;
}

namespace {

Error illegal(const Payment& p, Op op) {
  return Error(Code::invalid_payment_transition,
               "cannot " + std::string(to_string(op)) + " a transaction in state " +
                   std::string(to_string(p.state)));
}

}  // namespace

Result<Plan> plan(const Payment& p, const Request& r, const std::string& key) {
  if (!p.exists()) return Error(Code::not_found, "transaction not found");
  if (p.pending)
    return Error(Code::invalid_payment_transition,
                 "another " + std::string(to_string(p.pending->op)) +
                     " of this transaction is in progress");
  Plan out;
  out.request.op = r.op;
  out.request.idempotency_key = key;
  switch (r.op) {
    case Op::capture:
      if (p.state == State::captured || p.state == State::partially_refunded ||
          p.state == State::refunded) {
        out.already_done = true;  // capture is idempotent on a captured transaction
        return out;
      }
      if (p.state != State::authorized) return illegal(p, r.op);
      if (r.amount_minor <= 0 || r.amount_minor > p.authorized_minor)
        return validation_failed({"amount_minor must be between 1 and the authorized amount (" +
                                  std::to_string(p.authorized_minor) + ")"});
      out.request.amount_minor = r.amount_minor;
      return out;
    case Op::void_:
      if (p.state == State::voided) {
        out.already_done = true;
        return out;
      }
      if (p.state != State::authorized) return illegal(p, r.op);
      out.request.amount_minor = p.authorized_minor;
      return out;
    case Op::refund: {
      if (p.state != State::captured && p.state != State::partially_refunded &&
          p.state != State::refunded)
        return illegal(p, r.op);
      if (r.amount_minor <= 0) return validation_failed({"amount_minor must be > 0"});
      std::int64_t left = p.captured_minor - p.refunded_minor;
      if (r.amount_minor > left)
        return Error(Code::refund_exceeds_captured,
                     "refund of " + std::to_string(r.amount_minor) + " exceeds the " +
                         std::to_string(left) + " left to refund (captured " +
                         std::to_string(p.captured_minor) + ", refunded " +
                         std::to_string(p.refunded_minor) + ")");
      out.request.amount_minor = r.amount_minor;
      return out;
    }
  }
  return illegal(p, r.op);
}

std::vector<EventBody> settle(const Payment& p, const ProviderOutcome& outcome) {
  if (!p.pending) return {};
  const PendingOp& op = *p.pending;
  if (!outcome.success) return {OperationFailed{op.op, outcome.error}};
  switch (op.op) {
    case Op::capture: return {Captured{op.amount_minor, outcome.reference}};
    case Op::void_: return {Voided{outcome.reference}};
    case Op::refund: return {Refunded{op.amount_minor, outcome.reference}};
  }
  return {};
}

std::string fingerprint(const std::string& merchant_id, const std::string& transaction_id,
                        const Request& r) {
  json::Writer w;
  w.begin_object().field("op", to_string(r.op)).field("merchant_id", merchant_id);
  w.field("transaction_id", transaction_id).field("amount_minor", r.amount_minor).end_object();
  return sha256_hex(w.str());
}

std::string backend_key(const std::string& transaction_id, Op op, const std::string& client_key) {
  return transaction_id + ":" + std::string(to_string(op)) + ":" + sha256_hex(client_key).substr(0, 24);
}

std::string success_json(const std::string& reference) {
  json::Writer w;
  w.begin_object().field("success", true).field("reference", reference).end_object();
  return w.take();
}

Result<std::string> outcome_answer(Op op, const ProviderOutcome& outcome) {
  if (outcome.success) return success_json(outcome.reference);
  return Error(Code::payment_error,
               "payment back-end refused the " + std::string(to_string(op)) + ": " + outcome.error);
}

std::string current_reference(const Payment& p, Op op) {
  for (auto it = p.history.rbegin(); it != p.history.rend(); ++it) {
    if ((op == Op::capture && it->type == "captured") || (op == Op::void_ && it->type == "voided"))
      return it->reference;
  }
  return p.authorization_reference;
}

std::string reconciliation_json(const std::vector<ReconcileItem>& items) {
  json::Writer w;
  w.begin_object();
  w.key("mismatches").begin_array();
  for (const auto& i : items)
    if (i.ours && i.theirs && *i.ours != *i.theirs)
      w.begin_object().field("transaction_id", i.transaction_id).field("our_state", *i.ours)
          .field("provider_state", *i.theirs).end_object();
  w.end_array();
  w.key("missing_at_provider").begin_array();
  for (const auto& i : items)
    if (i.ours && !i.theirs)
      w.begin_object().field("transaction_id", i.transaction_id).field("our_state", *i.ours).end_object();
  w.end_array();
  w.key("unknown_locally").begin_array();
  for (const auto& i : items)
    if (!i.ours && i.theirs)
      w.begin_object().field("transaction_id", i.transaction_id).field("provider_state", *i.theirs)
          .end_object();
  w.end_array();
  w.end_object();
  return w.take();
}

}  // namespace orch::payment
