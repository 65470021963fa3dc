#include "actors/runtime.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

#include "actors/front_actor.hpp"
#include "actors/inbox_actor.hpp"
#include "actors/journal_writer.hpp"
#include "actors/messages.hpp"
#include "actors/recovery.hpp"

namespace orch::actors {

namespace {

void configure(caf::actor_system_config& cfg, std::size_t scheduler_threads) {
  // Work sharing: a blocking request from an HTTP thread is answered 2-3x
  // faster than with work stealing, whose idle workers poll (toolchain.md).
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", scheduler_threads);
  cfg.set("logger.verbosity", caf::atom("quiet"));
}

}  // namespace

struct Runtime::Impl {
  std::unique_ptr<store::Journal> journal;
  RuntimeOptions options;
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;
  std::unique_ptr<BlockingExecutor> executor;
  WriterStats writer_stats;
  caf::actor writer;
  caf::actor front;
  caf::actor recovery;
  caf::actor outbox;
  caf::actor inbox;
  OutboxCounters outbox_counters;
  std::once_flag stopped;

};

namespace {

// Sends a request and waits for its answer, from a non-actor thread. The
// request itself carries no timeout: CAF would put it on its clock, whose
// thread wakes up for every request. The wait has the timeout instead
// (a timed wait on the scoped actor's own mailbox).
template <class Reply, class OnReply, class... Ts>
void request_and_wait(caf::actor_system& sys, const caf::actor& dest, std::chrono::milliseconds timeout,
                      std::optional<Error>& failure, OnReply on_reply, Ts&&... xs) {
  caf::scoped_actor self{sys};
  auto handle = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
  caf::blocking_actor::accept_one_cond rc;
  self->varargs_receive(
      rc, handle.id(), [&](Reply& reply) { on_reply(reply); },
      [&](caf::error& err) { failure = Error(Code::internal_error, "request failed: " + sys.render(err)); },
      caf::after(timeout) >> [&] { failure = Error(Code::timeout, "the request did not complete in time"); });
}

// Sends a request to `dest` and waits for its Result<T> answer.
template <class T, class... Ts>
Result<T> ask(caf::actor_system& sys, const caf::actor& dest, std::chrono::milliseconds timeout,
              Ts&&... xs) {
  std::optional<Result<T>> out;
  std::optional<Error> failure;
  request_and_wait<Result<T>>(sys, dest, timeout, failure, [&](Result<T>& r) { out.emplace(std::move(r)); },
                              std::forward<Ts>(xs)...);
  if (failure) return *failure;
  return std::move(*out);
}

// The same for actors that answer a plain T (no Result).
template <class T, class... Ts>
Result<T> ask_plain(caf::actor_system& sys, const caf::actor& dest, std::chrono::milliseconds timeout,
                    Ts&&... xs) {
  std::optional<T> out;
  std::optional<Error> failure;
  request_and_wait<T>(sys, dest, timeout, failure, [&](T& r) { out.emplace(std::move(r)); },
                      std::forward<Ts>(xs)...);
  if (failure) return *failure;
  return std::move(*out);
}

Result<Reply> to_reply(Result<Answer> a) {
  if (!a) return a.error();
  return Reply{a->status, std::move(a->body)};
}

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::start(RuntimeOptions options) {
  auto journal = store::open_lmdb_journal(options.journal);
  if (!journal) return Error(Code::store_error, journal.error.message);

  auto impl = std::make_unique<Impl>();
  impl->journal = std::move(*journal);
  impl->options = std::move(options);
  configure(impl->config, impl->options.scheduler_threads);
  impl->system = std::make_unique<caf::actor_system>(impl->config);
  impl->executor = std::make_unique<BlockingExecutor>(impl->options.blocking_threads);
  impl->writer = spawn_journal_writer(*impl->system, *impl->journal, impl->writer_stats);

  auto deps = std::make_shared<Deps>();
  deps->journal = impl->journal.get();
  deps->writer = impl->writer;
  deps->backends = impl->options.backends;
  deps->executor = impl->executor.get();
  deps->settings = impl->options.settings;
  auto shared = std::shared_ptr<const Deps>(std::move(deps));
  impl->front = spawn_front_actor(*impl->system, shared);
  impl->recovery = spawn_recovery_supervisor(*impl->system, shared, impl->front);
  if (impl->options.outbox_sink)
    impl->outbox = spawn_outbox_supervisor(*impl->system, shared, impl->options.outbox_sink,
                                           impl->options.outbox, impl->outbox_counters);
  impl->inbox = spawn_inbox_actor(*impl->system, shared, impl->options.inbox_retention);
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() { shutdown(); }

Result<std::string> Runtime::cart_command(const std::string& tenant, std::string cart_id,
                                          cart::Command command, std::string request_id) {
  return ask<std::string>(*impl_->system, impl_->front, impl_->options.request_timeout, cart_atom::value,
                         CartRequest{tenant, std::move(cart_id), std::move(command), std::move(request_id)});
}

Result<Reply> Runtime::checkout(checkout::Request request, std::string request_id) {
  return to_reply(ask<Answer>(*impl_->system, impl_->front, impl_->options.request_timeout,
                              checkout_atom::value, CheckoutCall{std::move(request), std::move(request_id)}));
}

Result<Reply> Runtime::payment_operation(const std::string& tenant, const std::string& merchant_id,
                                         const std::string& transaction_id, payment::Request op,
                                         const std::string& idempotency_key, std::string request_id) {
  return to_reply(ask<Answer>(*impl_->system, impl_->front, impl_->options.request_timeout,
                              payment_atom::value,
                              PaymentCall{tenant, merchant_id, transaction_id, op, idempotency_key,
                                          std::move(request_id)}));
}

Result<payment::Payment> Runtime::get_payment(const std::string& tenant, const std::string& transaction_id) {
  return ask<payment::Payment>(*impl_->system, impl_->front, impl_->options.request_timeout,
                               read_payment_atom::value, tenant, transaction_id);
}

Result<order::Order> Runtime::get_order(const std::string& tenant, const std::string& order_id) {
  return ask<order::Order>(*impl_->system, impl_->front, impl_->options.request_timeout,
                           read_order_atom::value, tenant, order_id);
}

Result<std::vector<payment::ReconcileItem>> Runtime::reconcile(const std::string& tenant,
                                                               const std::vector<std::string>& ids,
                                                               const std::string& request_id) {
  std::vector<payment::ReconcileItem> out;
  for (const auto& id : ids) {
    payment::ReconcileItem e{id, std::nullopt, std::nullopt};
    auto ours = get_payment(tenant, id);
    if (ours) e.ours = std::string(payment::to_string(ours->state));
    else if (ours.error().code != Code::not_found) return ours.error();
    // This is an HTTP worker thread, not an actor: the blocking call is fine here.
    auto theirs = impl_->options.backends.payment->state(adapters::CallContext{request_id, tenant, {}}, id);
    if (!theirs) return Error(Code::backend_unavailable, theirs.error().message);
    e.theirs = *theirs;
    out.push_back(std::move(e));
  }
  return out;
}

Result<OutboxReport> Runtime::process_outbox(std::uint32_t max_attempts) {
  if (!impl_->outbox) return Error(Code::internal_error, "no outbox sink configured");
  return ask_plain<OutboxReport>(*impl_->system, impl_->outbox, impl_->options.request_timeout,
                                 process_atom::value, max_attempts);
}

Result<OutboxStats> Runtime::outbox_stats() {
  if (!impl_->outbox) return Error(Code::internal_error, "no outbox sink configured");
  return ask_plain<OutboxStats>(*impl_->system, impl_->outbox, impl_->options.request_timeout,
                                stats_atom::value);
}

Result<std::vector<outbox::Message>> Runtime::dead_letters() {
  if (!impl_->outbox) return Error(Code::internal_error, "no outbox sink configured");
  return ask<std::vector<outbox::Message>>(*impl_->system, impl_->outbox, impl_->options.request_timeout,
                                           dead_letters_atom::value);
}

Result<bool> Runtime::replay_dead_letter(const std::string& message_id) {
  if (!impl_->outbox) return Error(Code::internal_error, "no outbox sink configured");
  return ask_plain<bool>(*impl_->system, impl_->outbox, impl_->options.request_timeout, replay_atom::value,
                         message_id);
}

Result<bool> Runtime::accept_incoming(const std::string& tenant, const std::string& message_id,
                                      std::string payload) {
  return ask<bool>(*impl_->system, impl_->inbox, impl_->options.request_timeout, inbox_atom::value,
                   InboxCall{tenant, message_id, std::move(payload)});
}

const OutboxCounters& Runtime::outbox_counters() const { return impl_->outbox_counters; }

void Runtime::shutdown() {
  std::call_once(impl_->stopped, [this] {
    caf::anon_send_exit(impl_->recovery, caf::exit_reason::user_shutdown);
    if (impl_->outbox) caf::anon_send_exit(impl_->outbox, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(impl_->inbox, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(impl_->front, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(impl_->writer, caf::exit_reason::user_shutdown);
    impl_->executor->shutdown();
    impl_->system->await_all_actors_done();
    impl_->front = nullptr;
    impl_->writer = nullptr;
    impl_->recovery = nullptr;
    impl_->outbox = nullptr;
    impl_->inbox = nullptr;
    impl_->system.reset();
    impl_->journal->sync();
    impl_->journal.reset();
  });
}

const WriterStats& Runtime::writer_stats() const { return impl_->writer_stats; }

store::Journal& Runtime::journal() { return *impl_->journal; }

}  // namespace orch::actors
