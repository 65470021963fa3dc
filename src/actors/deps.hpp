// What every entity actor needs, shared read-only between them.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

#include "actors/blocking_executor.hpp"
#include "adapters/backends.hpp"
#include "store/journal.hpp"

namespace orch::actors {

struct Settings {
  // An entity actor with no work for this long stops; it is rebuilt from the
  // journal on its next message.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  // A snapshot is written every this many events of a stream (0: never).
  std::uint64_t snapshot_every = 200;
  // How long an actor waits for the journal writer before giving up.
  std::chrono::milliseconds journal_timeout{std::chrono::seconds(30)};
};

struct Deps {
  store::Journal* journal = nullptr;
  caf::actor writer;
  adapters::Backends backends;
  BlockingExecutor* executor = nullptr;
  Settings settings;
};

using DepsPtr = std::shared_ptr<const Deps>;

}  // namespace orch::actors
