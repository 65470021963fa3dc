// The message protocol between the actors (internal to src/actors).
//
//   front   <- (cart_atom, CartRequest)            => CartReply       (delegated to the cart actor)
//   front   <- (checkout_atom, CheckoutCall)       => Answer result   (delegated to the cart actor)
//   front   <- (resume_atom, tenant, kind, id)       wake an entity with unfinished work
//   front   <- (payment_atom, PaymentCall)         => Answer result   (delegated to the payment actor)
//   front   <- (read_payment_atom, tenant, id)     => PaymentRead     (a one-shot reader answers)
//   front   <- (read_order_atom, tenant, id)       => OrderRead
//   cart    <- (cart_atom | checkout_atom | resume_atom ...)
//   cart    <- (idle_atom)                           periodic passivation check
//   front   <- (passivate_atom, key)               => passivate_atom       (the entity may stop now)
//   writer  <- (append_atom, store::WriteSet)      => store::WriteResult   (durable when answered)
//   writer  <- (append_atom, DelegatedAppend)      => (the request's own answer, built by reply())
//   entity  <- (committed_atom, seq, ok)              after a DelegatedAppend was committed or refused
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
#include "events/checkout.hpp"
#include "events/error.hpp"
#include "events/order.hpp"
#include "events/outbox.hpp"
#include "events/payment.hpp"
#include "store/journal.hpp"

namespace orch::actors {

using cart_atom = caf::atom_constant<caf::atom("cart")>;
using append_atom = caf::atom_constant<caf::atom("append")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using job_done_atom = caf::atom_constant<caf::atom("jobdone")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using checkout_atom = caf::atom_constant<caf::atom("checkout")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using payment_atom = caf::atom_constant<caf::atom("payment")>;
using read_payment_atom = caf::atom_constant<caf::atom("readpay")>;
using read_order_atom = caf::atom_constant<caf::atom("readorder")>;
// outbox supervisor
using process_atom = caf::atom_constant<caf::atom("oprocess")>;
using stats_atom = caf::atom_constant<caf::atom("ostats")>;
using dead_letters_atom = caf::atom_constant<caf::atom("deadlist")>;
using replay_atom = caf::atom_constant<caf::atom("dlreplay")>;
// inbox
using inbox_atom = caf::atom_constant<caf::atom("inbox")>;

struct CartRequest {
  std::string tenant_id;
  std::string cart_id;  // empty for create_cart: the front actor draws one
  cart::Command command;
  std::string request_id;
};

// The cart as clients see it (codec::cart_view_json), rendered once by the
// cart actor.
using CartReply = Result<std::string>;

// A response decided by the domain, ready to send: status and JSON body.
// Idempotent replays answer the stored Answer byte for byte.
struct Answer {
  int status = 200;
  std::string body;
};
using AnswerReply = Result<Answer>;

struct CheckoutCall {
  checkout::Request request;  // request.tenant_id is the caller's tenant
  std::string request_id;
};

struct PaymentCall {
  std::string tenant_id;
  std::string merchant_id;
  std::string transaction_id;
  payment::Request op;
  std::string idempotency_key;
  std::string request_id;
};

using PaymentRead = Result<payment::Payment>;
using OrderRead = Result<order::Order>;
using DeadLetters = Result<std::vector<outbox::Message>>;

struct InboxCall {
  std::string tenant_id;
  std::string message_id;
  std::string payload;  // JSON, "" when none
};
using InboxReply = Result<bool>;  // accepted (first time seen)

// An append whose request was delegated to the journal writer: once the
// write is durable (or refused) the writer answers the original requester
// with reply(result) itself, and tells `notify` (committed_atom, seq, ok).
// This spares the entity actor a round trip on the hot path and lets it
// accept its next command while the write is in flight.
struct DelegatedAppend {
  store::WriteSet ws;
  std::function<caf::message(const store::WriteResult&)> reply;
  caf::actor notify;
  std::uint64_t seq = 0;
};

// A closure produced by blocking work on another thread, to be run inside the
// actor that asked for the work (so it may touch that actor's state).
struct Completion {
  std::function<void()> run;
};

}  // namespace orch::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::CartRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::CartReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::Completion)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::AnswerReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::CheckoutCall)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::PaymentCall)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::PaymentRead)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::OrderRead)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::DeadLetters)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::InboxCall)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::InboxReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::store::WriteSet)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::actors::DelegatedAppend)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orch::store::WriteResult)
