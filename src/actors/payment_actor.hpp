// The payment actor: owns one payment transaction, (tenant, transaction id),
// for the lifecycle calls of clients (capture, void, refund).
//
//   (payment_atom, PaymentCall) => AnswerReply
//   (resume_atom)                  finish an operation a restart interrupted
//   (job_done_atom, Completion)    back-end results (blocking pool)
//   (idle_atom)                    passivation check (self)
//
// Calls are idempotent per (tenant, key): a repeated key with the same
// request gets the stored answer without a back-end call, another request
// gets 409 IDEMPOTENCY_KEY_REUSED. Operations run one at a time, so two
// concurrent refunds can never refund more than was captured. Each back-end
// call is journaled before (operation_requested) and after (its result),
// together with the idempotency record.
#pragma once

#include <caf/fwd.hpp>

#include <string>

#include "actors/deps.hpp"

namespace orch::actors {

caf::actor spawn_payment_actor(caf::actor_system& sys, DepsPtr deps, caf::actor front,
                               std::string tenant, std::string transaction_id);

}  // namespace orch::actors
