// The recovery supervisor: finds work that a crash (or a failing back-end)
// left unfinished and wakes the actor that owns it.
//
//   - every checkout saga still open (index row saga/<tenant>/<cart>): its
//     cart actor is started, rebuilds the saga from the journal and drives
//     it to a terminal state;
//   - every payment operation still pending (index row payment/<tenant>/<txn>):
//     its payment actor calls the back-end again with the same idempotency key.
//
// It looks once at start-up and then every Settings::recovery_interval.
#pragma once

#include <caf/fwd.hpp>

#include "actors/deps.hpp"

namespace orch::actors {

caf::actor spawn_recovery_supervisor(caf::actor_system& sys, DepsPtr deps, caf::actor front);

}  // namespace orch::actors
