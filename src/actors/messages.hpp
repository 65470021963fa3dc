// The message protocol between the actors (internal to src/actors).
//
//   front   <- (cart_atom, CartRequest)            => Result<cart::Cart>   (delegated to the cart actor)
//   cart    <- (cart_atom, CartRequest)            => Result<cart::Cart>
//   cart    <- (idle_atom)                           periodic passivation check
//   front   <- (passivate_atom, key)               => passivate_atom       (the entity may stop now)
//   writer  <- (append_atom, store::WriteSet)      => store::WriteResult   (durable when answered)
//   any     <- (job_done_atom, Completion)           result of blocking work, run in the actor
//
// Every message type is local to the process (never serialised), hence the
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE declarations.
#pragma once

#include <caf/all.hpp>

#include <functional>
#include <memory>
#include <string>

#include "adapters/backends.hpp"
#include "events/cart.hpp"
#include "events/error.hpp"
#include "store/journal.hpp"

namespace orch::actors {

using cart_atom = caf::atom_constant<caf::atom("cart")>;
using append_atom = caf::atom_constant<caf::atom("append")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using job_done_atom = caf::atom_constant<caf::atom("jobdone")>;

struct CartRequest {
  std::string tenant_id;
  std::string cart_id;  // empty for create_cart: the front actor draws one
  cart::Command command;
  std::string request_id;
};

using CartReply = Result<cart::Cart>;

// A closure produced by blocking work on another thread, to be run inside the
// actor that asked for the work (so it may touch that actor's state).
struct Completion {
  std::function<void()> run;
};

}  // namespace orch::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::CartRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::CartReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::Completion)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::store::WriteSet)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::store::WriteResult)
