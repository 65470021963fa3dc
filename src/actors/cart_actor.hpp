// The cart actor: owns one cart, (tenant, cart id), and is the only writer of
// its stream.
//
//   (cart_atom, CartRequest) => CartReply     any cart command
//   (idle_atom)                                passivation check (self)
//   (job_done_atom, Completion)                back-end results (blocking pool)
//
// State is rebuilt from the journal when the actor starts. Commands run one
// at a time, in arrival order: back-ends are asked, the domain decides, the
// events are appended through the journal writer, and only once they are
// durable are they applied and the caller answered. Reads (get_cart) are
// answered at once from the last durable state. After `idle_timeout`
// without work the actor asks the front actor to forget it and stops.
#pragma once

#include <caf/fwd.hpp>

#include <string>

#include "actors/deps.hpp"

namespace orch::actors {

// `fresh`: the cart id was just drawn, so there is nothing to load.
caf::actor spawn_cart_actor(caf::actor_system& sys, DepsPtr deps, caf::actor front,
                            std::string tenant, std::string cart_id, bool fresh);

}  // namespace orch::actors
