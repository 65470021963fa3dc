// What every entity actor needs, shared read-only between them.
#pragma once

#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <memory>

#include "actors/blocking_executor.hpp"
#include "adapters/backends.hpp"
#include "events/checkout.hpp"
#include "store/journal.hpp"

namespace orch::actors {

struct Settings {
  // An entity actor with no work for this long stops; it is rebuilt from the
  // journal on its next message.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(300)};
  // A snapshot is written every this many events of a stream (0: never).
  std::uint64_t snapshot_every = 200;
  // Checkout policy (POLICY_MAX_TOTAL_MINOR, POLICY_BLOCKED_COUNTRIES).
  checkout::Policy policy;
  // How often the recovery supervisor looks for unfinished sagas and payment
  // operations (it also looks once at start-up).
  std::chrono::milliseconds recovery_interval{std::chrono::seconds(30)};
  // TEST AID (ORCH_TEST_CRASH_AT): kill the process at this saga step:
  // after_authorize, after_capture, after_order or before_final.
  std::string crash_at;
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
