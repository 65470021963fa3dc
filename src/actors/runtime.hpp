// The actor runtime as the rest of the program sees it: start it over a data
// directory and a set of back-ends, send it commands, shut it down. HTTP
// handlers call these blocking methods from their own threads; nothing here
// exposes CAF, so callers do not pay for its headers.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "actors/deps.hpp"
#include "actors/outbox_supervisor.hpp"
#include "adapters/backends.hpp"
#include "events/cart.hpp"
#include "events/checkout.hpp"
#include "events/error.hpp"
#include "events/order.hpp"
#include "events/payment.hpp"
#include "store/journal.hpp"

namespace orch::actors {

struct WriterStats;

// A response decided by the domain: status and JSON body (idempotent
// replays return the stored one byte for byte).
struct Reply {
  int status = 200;
  std::string body;
};

struct RuntimeOptions {
  store::Options journal;
  Settings settings;
  adapters::Backends backends;
  std::size_t scheduler_threads = 2;
  std::size_t blocking_threads = 32;  // threads for blocking back-end calls
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  // Outbox delivery: where (a webhook, or a JSON-lines file) and how.
  std::shared_ptr<adapters::OutboxSink> outbox_sink;
  OutboxSettings outbox;
  std::chrono::milliseconds inbox_retention{std::chrono::hours(168)};
};

class Runtime {
 public:
  // Opens the journal (STORE_ERROR naming the file when it cannot) and
  // starts the actors.
  static Result<std::unique_ptr<Runtime>> start(RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs one cart command for `tenant`. `cart_id` is ignored for create_cart.
  // Blocks the calling thread until the owning actor answers (after the
  // change is durable) or the request timeout passes. The answer is the
  // cart as clients see it (JSON, api.md 3).
  Result<std::string> cart_command(const std::string& tenant, std::string cart_id,
                                   cart::Command command, std::string request_id);

  // POST /api/v1/checkout/execute for the caller's tenant (request.tenant_id).
  Result<Reply> checkout(checkout::Request request, std::string request_id);

  // Payment lifecycle call (capture, void, refund) on one transaction.
  Result<Reply> payment_operation(const std::string& tenant, const std::string& merchant_id,
                                  const std::string& transaction_id, payment::Request op,
                                  const std::string& idempotency_key, std::string request_id);

  Result<payment::Payment> get_payment(const std::string& tenant, const std::string& transaction_id);
  Result<order::Order> get_order(const std::string& tenant, const std::string& order_id);

  // Our state and the payment back-end's state of each transaction, in order.
  Result<std::vector<payment::ReconcileItem>> reconcile(const std::string& tenant,
                                                     const std::vector<std::string>& transaction_ids,
                                                     const std::string& request_id);

  // Outbox and dead letters (api.md 6).
  Result<OutboxReport> process_outbox(std::uint32_t max_attempts);
  Result<OutboxStats> outbox_stats();
  Result<std::vector<outbox::Message>> dead_letters();
  Result<bool> replay_dead_letter(const std::string& message_id);

  // Inbox: true the first time (tenant, message_id) is seen within the retention.
  Result<bool> accept_incoming(const std::string& tenant, const std::string& message_id,
                               std::string payload);

  // Stops the actors, flushes and closes the journal. Idempotent. Callers
  // must have stopped sending commands.
  void shutdown();

  const WriterStats& writer_stats() const;
  const OutboxCounters& outbox_counters() const;
  store::Journal& journal();

 private:
  struct Impl;
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orch::actors
