// The journal writer: the only actor that writes to the journal.
//
//   (append_atom, store::WriteSet) => store::WriteResult
//
// It runs detached (its own thread: an LMDB commit syncs to disk and must not
// block a scheduler worker) and commits in groups: every WriteSet waiting in
// its mailbox when a commit starts joins that commit, so many appends share
// one transaction and one sync. An answer is only sent after the commit that
// holds the WriteSet is durable.
#pragma once

#include <caf/fwd.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace orch::store {
class Journal;
}

namespace orch::actors {

struct WriterStats {
  std::atomic<std::uint64_t> commits{0};     // transactions (= syncs)
  std::atomic<std::uint64_t> write_sets{0};  // WriteSets committed or refused
  std::atomic<std::uint64_t> events{0};      // events written
};

struct WriterOptions {
  // Most WriteSets in one commit; 1 turns group commit off (for benchmarks).
  std::size_t max_batch = 4096;
};

caf::actor spawn_journal_writer(caf::actor_system& sys, store::Journal& journal,
                                WriterStats& stats, WriterOptions options = {});

}  // namespace orch::actors
