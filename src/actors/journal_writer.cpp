#include "actors/journal_writer.hpp"

#include <spdlog/spdlog.h>

#include <variant>
#include <vector>

#include "actors/messages.hpp"
#include "store/journal.hpp"

namespace orch::actors {

namespace {

// Who gets told about a WriteSet's result: the requester of a plain append,
// or the original requester and the entity of a delegated one.
struct Delegated {
  caf::response_promise promise;
  std::function<caf::message(const store::WriteResult&)> reply;
  caf::actor notify;
  std::uint64_t seq = 0;
};
using Waiter = std::variant<caf::typed_response_promise<store::WriteResult>, Delegated>;

struct WriterState {
  store::Journal* journal = nullptr;
  WriterStats* stats = nullptr;
  WriterOptions options;
  std::vector<store::WriteSet> pending;
  std::vector<Waiter> waiters;
  static inline const char* name = "journal_writer";
};

using Self = caf::stateful_actor<WriterState>;

// Queues a WriteSet for the next commit.
void enqueue(Self* self, store::WriteSet ws, Waiter w);

void commit_pending(Self* self) {
  auto& st = self->state;
  if (st.pending.empty()) return;
  auto results = st.journal->commit(st.pending);
  std::uint64_t events = 0;
  for (std::size_t i = 0; i < st.pending.size(); ++i)
    if (results[i].status == store::WriteStatus::ok)
      for (const auto& a : st.pending[i].appends) events += a.events.size();
  st.stats->commits.fetch_add(1, std::memory_order_relaxed);
  st.stats->write_sets.fetch_add(st.pending.size(), std::memory_order_relaxed);
  st.stats->events.fetch_add(events, std::memory_order_relaxed);
  for (std::size_t i = 0; i < st.waiters.size(); ++i) {
    if (results[i].status != store::WriteStatus::ok &&
        results[i].status != store::WriteStatus::conflict)
      spdlog::error("journal write failed: {}: {}", store::to_string(results[i].status),
                    results[i].message);
    if (auto* plain = std::get_if<0>(&st.waiters[i])) {
      plain->deliver(std::move(results[i]));
    } else {
      auto& d = std::get<1>(st.waiters[i]);
      d.promise.deliver(d.reply(results[i]));
      self->send(d.notify, committed_atom::value, d.seq, results[i].status == store::WriteStatus::ok);
    }
  }
  st.pending.clear();
  st.waiters.clear();
}

void enqueue(Self* self, store::WriteSet ws, Waiter w) {
  auto& st = self->state;
  // The commit message lands behind every append already queued, so one
  // commit picks up all of them.
  if (st.pending.empty()) self->send(self, commit_atom::value);
  st.pending.push_back(std::move(ws));
  st.waiters.push_back(std::move(w));
  if (st.pending.size() >= st.options.max_batch) commit_pending(self);
}

caf::behavior journal_writer(Self* self, store::Journal* journal, WriterStats* stats,
                             WriterOptions options) {
  self->state.journal = journal;
  self->state.stats = stats;
  self->state.options = options;
  return {
      [=](append_atom, store::WriteSet& ws) -> caf::result<store::WriteResult> {
        auto rp = self->make_response_promise<store::WriteResult>();
        enqueue(self, std::move(ws), rp);
        return rp;
      },
      [=](append_atom, DelegatedAppend& d) -> caf::result<caf::message> {
        auto rp = self->make_response_promise();
        enqueue(self, std::move(d.ws), Delegated{rp, std::move(d.reply), std::move(d.notify), d.seq});
        return rp;
      },
      [=](commit_atom) { commit_pending(self); },
  };
}

}  // namespace

caf::actor spawn_journal_writer(caf::actor_system& sys, store::Journal& journal,
                                WriterStats& stats, WriterOptions options) {
  return sys.spawn<caf::detached>(journal_writer, &journal, &stats, options);
}

}  // namespace orch::actors
