#include "actors/runtime.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

#include "actors/front_actor.hpp"
#include "actors/journal_writer.hpp"
#include "actors/messages.hpp"

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
  std::once_flag stopped;
};

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
  impl->front = spawn_front_actor(*impl->system, std::move(deps));
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() { shutdown(); }

Result<cart::Cart> Runtime::cart_command(const std::string& tenant, std::string cart_id,
                                         cart::Command command, std::string request_id) {
  std::optional<Result<cart::Cart>> out;
  caf::scoped_actor self{*impl_->system};
  self->request(impl_->front, impl_->options.request_timeout, cart_atom::value,
                CartRequest{tenant, std::move(cart_id), std::move(command), std::move(request_id)})
      .receive([&](CartReply& reply) { out.emplace(std::move(reply)); },
               [&](caf::error& err) {
                 if (err == caf::sec::request_timeout)
                   out.emplace(Error(Code::timeout, "the cart did not answer in time"));
                 else
                   out.emplace(Error(Code::internal_error,
                                     "cart request failed: " + impl_->system->render(err)));
               });
  return std::move(*out);
}

void Runtime::shutdown() {
  std::call_once(impl_->stopped, [this] {
    caf::anon_send_exit(impl_->front, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(impl_->writer, caf::exit_reason::user_shutdown);
    impl_->executor->shutdown();
    impl_->system->await_all_actors_done();
    impl_->front = nullptr;
    impl_->writer = nullptr;
    impl_->system.reset();
    impl_->journal->sync();
    impl_->journal.reset();
  });
}

const WriterStats& Runtime::writer_stats() const { return impl_->writer_stats; }

store::Journal& Runtime::journal() { return *impl_->journal; }

}  // namespace orch::actors
