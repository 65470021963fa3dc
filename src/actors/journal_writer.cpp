#include "actors/journal_writer.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "actors/messages.hpp"
#include "store/journal.hpp"

namespace orch::actors {

namespace {

struct WriterState {
  store::Journal* journal = nullptr;
  WriterStats* stats = nullptr;
  WriterOptions options;
  std::vector<store::WriteSet> pending;
  std::vector<caf::typed_response_promise<store::WriteResult>> waiters;
  static inline const char* name = "journal_writer";
};

void commit_pending(caf::stateful_actor<WriterState>* self) {
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
    st.waiters[i].deliver(std::move(results[i]));
  }
  st.pending.clear();
  st.waiters.clear();
}

caf::behavior journal_writer(caf::stateful_actor<WriterState>* self, store::Journal* journal,
                             WriterStats* stats, WriterOptions options) {
  self->state.journal = journal;
  self->state.stats = stats;
  self->state.options = options;
  return {
      [=](append_atom, store::WriteSet& ws) -> caf::result<store::WriteResult> {
        auto& st = self->state;
        auto rp = self->make_response_promise<store::WriteResult>();
        // The commit message lands behind every append already queued, so
        // one commit picks up all of them.
        if (st.pending.empty()) self->send(self, commit_atom::value);
        st.pending.push_back(std::move(ws));
        st.waiters.push_back(rp);
        if (st.pending.size() >= st.options.max_batch) commit_pending(self);
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
