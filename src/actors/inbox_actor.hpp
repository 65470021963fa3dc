// The inbox actor: accepts each incoming event (webhook) once per tenant and
// message id, for the retention period.
//
//   (inbox_atom, InboxCall) => InboxReply   accepted: true the first time
//
// Requests for an id already being recorded wait for that write and are then
// answered "not accepted" (or retried, if the write failed). Rows older than
// the retention are forgotten by a periodic sweep (an id seen again after
// that is accepted again).
#pragma once

#include <caf/fwd.hpp>

#include <chrono>

#include "actors/deps.hpp"

namespace orch::actors {

caf::actor spawn_inbox_actor(caf::actor_system& sys, DepsPtr deps, std::chrono::milliseconds retention);

}  // namespace orch::actors
