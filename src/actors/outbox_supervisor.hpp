// The outbox supervisor: delivers outbox rows to the sink, continuously.
//
//   (tick_atom)                        background round (self, every poll interval)
//   (process_atom, max_attempts)    => OutboxReport   one round over every due row, now
//   (stats_atom)                    => OutboxStats    pending, due, in flight, dead letters
//   (dead_letters_atom)             => DeadLetters    the dead-letter table
//   (replay_atom, message_id)       => bool           dead letter back into the outbox
//   (job_done_atom, Completion)                       delivery results (blocking pool)
//
// A round takes the rows that are due (outbox_due index, oldest first),
// claims them with a lease (one durable write: the row's due time moves to
// the end of the lease, so a crash mid-delivery leaves them to be delivered
// again, and no other process takes them meanwhile), delivers them on the
// blocking pool, and records each result: delivered rows are removed; failed
// ones get attempts + 1 and a backoff with jitter; after max_attempts they
// move to the dead-letter table with their last error. Delivery is therefore
// at least once, with the message id as the receiver's de-duplication key.
//
// A receipt.requested message whose receipt is still pending (the receipt
// back-end failed during checkout) first asks the receipt back-end again and
// attaches the receipt to the order.
//
// With dead_letter_retry > 0, dead letters older than that are re-queued.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <atomic>
#include <chrono>
#include <memory>

#include "actors/deps.hpp"
#include "events/outbox.hpp"

namespace orch::adapters {
class OutboxSink;
}

namespace orch::actors {

struct OutboxSettings {
  outbox::RetryPolicy retry;
  std::chrono::milliseconds poll{200};
  std::size_t concurrency = 8;            // deliveries in flight at once
  std::chrono::milliseconds lease{30000};  // a claim lasts this long
  std::chrono::milliseconds dead_letter_retry{0};  // 0: never re-queue by itself
  bool background = true;                 // deliver without being asked
};

struct OutboxReport {
  std::uint64_t delivered = 0, retried = 0, dead_lettered = 0;
};

struct OutboxStats {
  std::uint64_t pending = 0, due = 0, in_flight = 0, dead_letters = 0;
  std::int64_t oldest_due_at_ms = 0;  // 0: nothing pending
};

struct OutboxCounters {
  std::atomic<std::uint64_t> delivered{0}, failed{0}, dead_lettered{0};
};

caf::actor spawn_outbox_supervisor(caf::actor_system& sys, DepsPtr deps,
                                   std::shared_ptr<adapters::OutboxSink> sink, OutboxSettings settings,
                                   OutboxCounters& counters);

}  // namespace orch::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::OutboxReport)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::OutboxStats)
