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
};

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
