// Outbox messages: side effects to deliver to the outside world, written in
// the same transaction as the events that cause them (transactional outbox).
//
// Each message has a stable id (msg_<uuid>) that receivers de-duplicate on,
// a topic, and a JSON event document as payload:
//   {"id": "msg_…", "topic": "order.created", "tenant_id": "…",
//    "correlation_id": "…", "occurred_at_ms": …, "data": {…ids, amounts…}}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "events/checkout.hpp"
#include "events/error.hpp"
#include "events/payment.hpp"

namespace orch::outbox {

struct Message {
  std::string id;
  std::string topic;
  std::string tenant_id;
  std::string correlation_id;
  std::string payload;  // the JSON event document delivered to receivers
  std::int64_t created_at_ms = 0;
  std::uint32_t attempts = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::int64_t last_attempt_at_ms = 0;
  std::string last_error;
  std::int64_t dead_lettered_at_ms = 0;  // set in the dead_letter table
  // A delivery in progress holds the row until this time (a lease): a crash
  // mid-delivery leaves the row to be delivered again once it passes, and
  // another process will not pick it up meanwhile.
  std::int64_t claimed_until_ms = 0;
  std::string claimed_by;  // the process (boot id) holding the lease
};

// Retry policy of a failing delivery.
struct RetryPolicy {
  std::uint32_t max_attempts = 8;   // OUTBOX_MAX_ATTEMPTS: dead-lettered after this many
  std::int64_t base_ms = 100;       // first retry waits at least this long
  std::int64_t max_ms = 60000;      // no wait is longer than this
};

// When to try again after `attempts` failed attempts: exponential backoff
// base * 2^(attempts-1), stretched by up to 50 % by `jitter` (in [0, 1)), so
// that a burst of failures does not retry in lockstep; never below base.
std::int64_t next_attempt_at(const RetryPolicy& p, std::uint32_t attempts, std::int64_t now_ms,
                             double jitter);

// What a failed attempt does to the message: attempts + 1, last error, and
// either a new due time or (attempts reached max) the dead-letter table.
struct AfterFailure {
  Message message;
  bool dead_letter = false;
};
AfterFailure after_failure(const Message& m, const RetryPolicy& p, const std::string& error,
                           std::int64_t now_ms, double jitter);

// Back from the dead-letter table into the outbox, attempts 0, due now.
Message requeued(const Message& dead, std::int64_t now_ms);

// GET /api/v1/ops/dead-letter: entries oldest first, without payloads.
std::string dead_letter_list_json(std::vector<Message> entries);

// Row encoding in the outbox and dead_letter tables (JSON).
std::string encode(const Message& m);
Result<Message> decode(std::string_view row);

// Key of the outbox_due index: the due time (8 bytes big-endian) + the id, so
// that a key-order scan yields the messages that are due first.
std::string due_key(std::int64_t due_at_ms, const std::string& id);

// The messages a completed checkout emits.
std::vector<Message> for_completed_checkout(const checkout::Saga& s, const std::vector<std::string>& ids,
                                            std::int64_t at_ms);
// The message a payment lifecycle operation emits (payment.captured,
// payment.voided, payment.refunded).
Message for_payment_operation(const payment::Payment& p, payment::Op op, std::int64_t amount_minor,
                              const std::string& reference, const std::string& id,
                              std::int64_t at_ms);

}  // namespace orch::outbox
