// The front actor: the single entry point from the HTTP layer into the actor
// system. It routes each request to the actor that owns the entity, keyed by
// (tenant, kind, id), spawning and rehydrating it on demand, and delegates:
// the entity actor answers the original requester directly.
//
//   (cart_atom, CartRequest)        => CartReply  (delegated to the cart actor)
//   (passivate_atom, key)           => passivate_atom  (an idle entity may stop)
//
// Because every request for one entity reaches the same actor, whose mailbox
// is processed one message at a time, concurrent commands on one cart cannot
// lose updates, and a duplicate that arrives while the first is running just
// waits behind it.
#pragma once

#include <caf/fwd.hpp>

#include "actors/deps.hpp"

namespace orch::actors {

caf::actor spawn_front_actor(caf::actor_system& sys, DepsPtr deps);

}  // namespace orch::actors
