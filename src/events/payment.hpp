// A payment transaction: the state machine of one authorization and what
// happened to its money afterwards.
//
//   authorized -> captured | voided
//   captured   -> partially_refunded -> refunded   (refunds tracked by amount)
//   declined   (authorization refused; terminal, shown as "failed")
//
// Every call to the payment back-end is journaled before it is made
// (OperationRequested, carrying the idempotency key the call uses) and after
// it returns (Captured / Voided / Refunded / OperationFailed). A transaction
// whose last event is a request has an operation in flight; after a crash it
// is completed by calling the back-end again with the same key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/error.hpp"

namespace orch::payment {

enum class State { none, authorized, captured, partially_refunded, refunded, voided, declined };
// snake_case as clients see it; declined is "failed".
std::string_view to_string(State s);
std::optional<State> state_from(std::string_view s);

enum class Op { capture, void_, refund };
std::string_view to_string(Op op);
bool parse_enum(std::string_view name, Op& out);

struct HistoryEntry {
  std::string type;  // "authorized", "captured", "voided", "refunded", "declined", "operation_failed"
  std::int64_t amount_minor = 0;
  std::string reference;
  std::int64_t at_ms = 0;
};

struct PendingOp {
  Op op = Op::capture;
  std::int64_t amount_minor = 0;
  std::string idempotency_key;  // sent to the back-end
  std::string client_key;       // see OperationRequested
};

struct Payment {
  std::string tenant_id;
  std::string transaction_id;
  std::string merchant_id;
  std::string cart_id;
  std::string currency;
  State state = State::none;
  std::int64_t authorized_minor = 0;
  std::int64_t captured_minor = 0;
  std::int64_t refunded_minor = 0;
  std::string authorization_reference;
  std::optional<PendingOp> pending;
  std::vector<HistoryEntry> history;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;

  bool exists() const { return state != State::none; }
};

// ------------------------------------------------------------------ events

struct Authorized {
  std::string transaction_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string cart_id;
  std::string currency;
  std::int64_t amount_minor = 0;
  std::string reference;
};
struct Declined {
  std::string transaction_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string cart_id;
  std::string currency;
  std::int64_t amount_minor = 0;
  std::string reference;
};
struct OperationRequested {
  Op op = Op::capture;
  std::int64_t amount_minor = 0;
  std::string idempotency_key;  // sent to the back-end
  // The idempotency-table key of the client request that asked for it
  // (empty for operations of a checkout saga).
  std::string client_key;
};
struct Captured {
  std::int64_t amount_minor = 0;
  std::string reference;
};
struct Voided {
  std::string reference;
};
struct Refunded {
  std::int64_t amount_minor = 0;
  std::string reference;
};
struct OperationFailed {
  Op op = Op::capture;
  std::string reason;
};

using EventBody = std::variant<Authorized, Declined, OperationRequested, Captured, Voided, Refunded,
                               OperationFailed>;
struct Event {
  std::int64_t at_ms = 0;
  EventBody body;
};

void apply(Payment& p, const Event& e);
Payment fold(const std::vector<Event>& events, Payment from = {});

// ---------------------------------------------------------------- commands

// A lifecycle request from a client (POST /api/v1/payments/{capture,void,refund}).
struct Request {
  Op op = Op::capture;
  std::int64_t amount_minor = 0;  // ignored for void
};

// What to do about a request, decided before calling the back-end.
struct Plan {
  // No call needed: the transaction is already where the request wants it
  // (capture of a captured transaction, void of a voided one).
  bool already_done = false;
  // Otherwise: journal this, then call the back-end with its key.
  OperationRequested request;
};

// INVALID_PAYMENT_TRANSITION for an illegal move, REFUND_EXCEEDS_CAPTURED
// for a refund over what is left, VALIDATION_ERROR for a bad amount,
// NOT_FOUND for an unknown transaction, and an error while another
// operation is in flight.
Result<Plan> plan(const Payment& p, const Request& r, const std::string& idempotency_key);

// The back-end's answer to the operation in flight, as events.
struct ProviderOutcome {
  bool success = false;
  std::string reference;
  std::string error;  // when !success
};
std::vector<EventBody> settle(const Payment& p, const ProviderOutcome& outcome);

// Fingerprint of a lifecycle request, for its idempotency record.
std::string fingerprint(const std::string& merchant_id, const std::string& transaction_id,
                        const Request& r);
// The key sent to the back-end for a client request: stable for that client
// key (so a retry has no second effect), different for different keys.
std::string backend_key(const std::string& transaction_id, Op op, const std::string& client_key);
// The 200 response of a lifecycle call: {"success": true, "reference": "..."}.
std::string success_json(const std::string& reference);
// What the client of a lifecycle call gets for the back-end's outcome of `op`:
// the success body, or PAYMENT_ERROR (422) naming the operation and the reason.
Result<std::string> outcome_answer(Op op, const ProviderOutcome& outcome);
// What an already-done request answers (no back-end call).
std::string current_reference(const Payment& p, Op op);

// Reconciliation (api.md 5): for each transaction our state and the
// back-end's (nullopt: unknown to that side), reported as three lists:
// mismatches (both known, different), missing_at_provider (known here only)
// and unknown_locally (known at the back-end only).
struct ReconcileItem {
  std::string transaction_id;
  std::optional<std::string> ours;
  std::optional<std::string> theirs;
};
std::string reconciliation_json(const std::vector<ReconcileItem>& items);

}  // namespace orch::payment
