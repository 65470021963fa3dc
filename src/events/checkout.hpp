// Checkout: the request, the checks before anything happens, and the saga
// that turns a ready cart into a paid order.
//
// The saga is a stream of its own (kind "checkout", id = transaction id).
// Every step that calls a back-end is journaled before the call (the
// *Requested events, carrying the idempotency key the call uses) and after
// it. The state folded from the stream says what to do next (next_action),
// so a saga interrupted by a crash is resumed from its journal:
//
//   Started + AuthorizeRequested
//     -> Authorized + CaptureRequested        | Declined -> Finished(auth_failed)
//     -> Captured + OrderCreated + ReceiptRequested
//                                              | CaptureFailed + VoidRequested -> Voided -> Finished(failed)
//     -> ReceiptIssued | ReceiptFailed -> Finished(completed)
//
// The payment token is never journaled. A saga found after a crash in the
// middle of its authorization therefore cannot finish that authorization: it
// voids whatever the back-end may have authorized and ends `failed`.
//
// Everything here is pure; ids and time come in as arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/cart.hpp"
#include "events/error.hpp"
#include "events/payment.hpp"

namespace orch::checkout {

struct Customer {
  std::optional<std::string> email;
  std::optional<std::string> full_name;
};

struct Location {
  std::optional<std::string> country_code;
  std::optional<std::string> region;
  std::optional<std::string> postal_code;
};

struct Request {
  std::string tenant_id;
  std::string merchant_id;
  std::string cart_id;
  std::uint64_t cart_version = 0;
  std::string currency;
  std::optional<Customer> customer;
  std::optional<Location> location;
  std::int64_t amount_minor = 0;
  std::string token;  // payment_intent.token_or_reference: never journaled, never logged
  std::optional<std::string> ap2_consent_proof;
  std::optional<std::string> payment_handler_id;
  std::string idempotency_key;
};

// Input rules, every problem in the reference's order (api.md 1, reference 6.1).
std::vector<std::string> validate(const Request& r);

// Hex SHA-256 of the request's canonical form: the same request gives the same
// fingerprint whatever the JSON key order or spacing was.
std::string fingerprint(const Request& r);

// The cart checks of api.md 4, after the idempotency lookup: already checked
// out or being checked out (409 CART_ALREADY_CHECKED_OUT naming the
// transaction), version (409), ready (409 CART_NOT_READY), not empty
// (422 CART_EMPTY), currency and merchant (422 VALIDATION_ERROR), amount
// (422 AMOUNT_MISMATCH).
Status check_cart(const cart::Cart& cart, const Request& r);

struct Policy {
  std::optional<std::int64_t> max_total_minor;
  std::vector<std::string> blocked_countries;  // compared case-insensitively
};
// Every reason the policy refuses this checkout (empty: allowed).
std::vector<std::string> policy_violations(const Policy& p, std::int64_t total_minor,
                                           const std::optional<Location>& location);
// The reason a checkout the geo back-end refused is rejected with.
std::string geo_rejection(const std::optional<Location>& location);

// ------------------------------------------------------------------- saga

enum class Outcome { completed, rejected, auth_failed, failed };
std::string_view to_string(Outcome o);
bool parse_enum(std::string_view name, Outcome& out);

// Where the saga stands: which back-end call is (or was, before a crash) in
// flight.
enum class Phase { none, authorizing, capturing, voiding, receipting, finished };

struct Totals {
  std::int64_t subtotal_minor = 0;
  std::int64_t discount_minor = 0;
  std::int64_t tax_minor = 0;
  std::int64_t total_minor = 0;
};

struct Saga {
  std::string transaction_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string cart_id;
  std::uint64_t cart_version = 0;  // the version that was checked out
  std::string currency;
  std::string idempotency_key;
  std::string fingerprint;
  std::string correlation_id;
  Totals totals;
  std::vector<cart::Line> lines;
  std::optional<Location> location;
  std::int64_t started_at_ms = 0;

  Phase phase = Phase::none;
  bool authorized = false;  // the back-end confirmed the authorization
  std::string payment_reference;
  std::string payment_state;  // "authorized" | "captured" | "voided" | "failed"
  std::string failure_reason;
  std::string audit_trail;  // policy reasons of a rejection, joined by ';'
  std::string order_id;
  std::optional<std::string> receipt_payload;
  bool receipt_pending = false;  // the receipt failed; the outbox retries it
  std::optional<Outcome> outcome;
  std::string result_json;  // the response, once finished

  bool exists() const { return !transaction_id.empty(); }
  bool finished() const { return phase == Phase::finished; }
};

// ------------------------------------------------------------------ events

struct Started {
  std::string transaction_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string cart_id;
  std::uint64_t cart_version = 0;
  std::string currency;
  std::string idempotency_key;
  std::string fingerprint;
  std::string correlation_id;
  Totals totals;
  std::vector<cart::Line> lines;
  std::optional<Location> location;
};
struct AuthorizeRequested {
  std::string idempotency_key;
};
struct Authorized {
  std::string reference;
};
struct Declined {
  std::string reference;
  std::string reason;
};
struct AuthorizeFailed {  // no answer: the authorization may or may not exist
  std::string reason;
};
struct CaptureRequested {
  std::int64_t amount_minor = 0;
  std::string idempotency_key;
};
struct Captured {
  std::string reference;
};
struct CaptureFailed {
  std::string reason;
};
struct VoidRequested {
  std::string idempotency_key;
};
struct Voided {
  std::string reference;
};
struct VoidFailed {  // gave up for now; the payment keeps the void pending
  std::string reason;
};
struct OrderCreated {
  std::string order_id;
};
struct ReceiptRequested {
  std::string idempotency_key;
};
struct ReceiptIssued {
  std::string content;
};
struct ReceiptFailed {
  std::string reason;
};
struct Finished {
  Outcome outcome = Outcome::completed;
  std::string result_json;
};
struct Rejected {  // by policy or geo, before any back-end call
  std::vector<std::string> reasons;
};

using EventBody =
    std::variant<Started, AuthorizeRequested, Authorized, Declined, AuthorizeFailed, CaptureRequested,
                 Captured, CaptureFailed, VoidRequested, Voided, VoidFailed, OrderCreated,
                 ReceiptRequested, ReceiptIssued, ReceiptFailed, Finished, Rejected>;
struct Event {
  std::int64_t at_ms = 0;
  EventBody body;
};

void apply(Saga& s, const Event& e);
Saga fold(const std::vector<Event>& events, Saga from = {});

// ---------------------------------------------------------------- deciding

// Stable idempotency keys for the back-end calls of one saga.
std::string step_key(const std::string& transaction_id, std::string_view step);

// The saga's first events for a checked cart (Started + AuthorizeRequested).
std::vector<EventBody> start(const cart::Cart& cart, const Request& r,
                             const std::string& transaction_id,
                             const std::string& correlation_id);

// A checkout refused by policy or geo: Started + Rejected + Finished(rejected).
std::vector<EventBody> reject(const cart::Cart& cart, const Request& r,
                              const std::string& transaction_id, const std::string& correlation_id,
                              const std::vector<std::string>& reasons, std::int64_t at_ms);

enum class Action { none, authorize, capture, void_, receipt };
// What the saga needs next. `can_authorize` is false when the payment token is
// not at hand (a saga resumed after a crash): an authorization in flight is
// then voided instead.
Action next_action(const Saga& s, bool can_authorize);

struct CallResult {
  enum Kind { ok, refused, unknown } kind = ok;  // refused: a definitive no
  std::string reference;
  std::string detail;
};

// Events after each back-end call. Those that finish the saga end with a
// Finished event whose result_json is the response to send (and to store
// under the idempotency key).
std::vector<EventBody> after_authorize(const Saga& s, const CallResult& r, std::int64_t at_ms);
std::vector<EventBody> after_capture(const Saga& s, const CallResult& r, const std::string& order_id);
std::vector<EventBody> after_void(const Saga& s, const CallResult& r, std::int64_t at_ms);
std::vector<EventBody> after_receipt(const Saga& s, const CallResult& r, std::int64_t at_ms);

// A capture that stayed unanswered (the saga asked twice under one key):
// the payment back-end's own state of the transaction decides what happened.
// A captured (or since refunded) transaction means the capture went through,
// so the checkout completes instead of voiding money already taken; any
// other state, no such transaction, or no answer at all (`provider_state`
// empty) keeps the outcome unknown, and the saga voids.
CallResult resolve_unanswered_capture(const CallResult& unanswered,
                                      const std::optional<std::string>& provider_state);

// The payment stream follows the saga: the payment events that the saga
// events `events` (about to be applied to `s`) imply. An authorization whose
// outcome is unknown counts as possibly authorized, so that its void shows.
std::vector<payment::EventBody> payment_events(const Saga& s, const std::vector<EventBody>& events);
// The cart events they imply: the cart is closed by a completed checkout and
// released by any other outcome.
std::vector<cart::EventBody> cart_events(const Saga& s, const std::vector<EventBody>& events);
// Whether `events` end the saga.
bool finishes(const std::vector<EventBody>& events);

// The response body of a finished saga (reference 3.6, plus receipt_status).
std::string result_json(const Saga& s, Outcome outcome);

}  // namespace orch::checkout
