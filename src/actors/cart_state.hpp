// State of the cart actor, shared by its two halves: cart commands
// (cart_actor.cpp) and the checkout saga it hosts (checkout_saga.cpp).
// Internal to src/actors.
#pragma once

#include <deque>
#include <optional>
#include <variant>
#include <vector>

#include "actors/deps.hpp"
#include "actors/messages.hpp"
#include "events/cart.hpp"
#include "events/checkout.hpp"
#include "events/payment.hpp"

namespace orch::actors {

struct PendingCart {
  CartRequest request;
  caf::response_promise promise;  // answers a CartReply; may be delegated to the writer
};

struct PendingCheckout {
  CheckoutCall call;
  caf::typed_response_promise<AnswerReply> promise;
};

// Work for the cart, run one at a time in arrival order.
using Pending = std::variant<PendingCart, PendingCheckout>;

// A checkout saga in progress on this cart.
struct SagaRun {
  checkout::Saga saga;
  std::uint64_t saga_version = 0;  // checkout stream
  payment::Payment payment;
  std::uint64_t payment_version = 0;  // payment stream
  // The request that started it, with the payment token. Absent for a saga
  // resumed after a restart (the token is never journaled).
  std::optional<checkout::Request> request;
  std::string request_id;
  std::vector<caf::typed_response_promise<AnswerReply>> waiters;  // same key, same request
  bool step_in_flight = false;
  bool needs_reload = false;  // a write failed: reload from the journal before going on
  int unknown_captures = 0;
};

struct CartState {
  DepsPtr deps;
  caf::actor front;
  store::StreamId stream;
  cart::Cart cart;
  std::uint64_t stream_version = 0;
  std::string view;  // cart_view_json(cart), rendered once per change ("" = not yet)
  std::optional<Error> broken;  // the stream could not be loaded
  bool stale = false;           // a write ended in an unknown state: reload first
  bool busy = false;            // a queued job is running (it may write the cart stream)
  bool draining = false;
  // Cart appends sent to the journal writer and not yet confirmed. Changes
  // are applied here as soon as they are sent (this actor is the stream's
  // only writer, and the journal refuses an append whose expected version is
  // off), but nothing that shows the cart is answered before they are durable.
  std::uint32_t in_flight = 0;
  std::uint64_t append_seq = 0;
  std::vector<caf::response_promise> waiting_reads;  // answered once in_flight is 0
  std::deque<Pending> queue;
  std::optional<SagaRun> saga;
  std::int64_t last_active_ms = 0;
  bool passivation_requested = false;
  bool stop_when_idle = false;
  static inline const char* name = "cart";
};

using CartActor = caf::stateful_actor<CartState>;

// cart_actor.cpp: the current queued job is done; run the next one.
void job_done(CartActor* self);
// Reloads cart (and saga) state from the journal.
void load_cart_state(CartActor* self);

// checkout_saga.cpp
// A checkout request that reached the front of the queue (busy is set).
void start_checkout(CartActor* self, PendingCheckout p);
// A checkout request as it arrives: true when its idempotency key settles it
// at once (answered with the stored response or a reuse error, or parked to
// wait for the running saga); false when it must be queued.
bool try_answer_checkout(CartActor* self, PendingCheckout& p);
// Drives a loaded or running saga to its next step (no-op when idle).
void drive_saga(CartActor* self);

}  // namespace orch::actors
