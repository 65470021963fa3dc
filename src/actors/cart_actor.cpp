#include "actors/cart_actor.hpp"

#include <spdlog/spdlog.h>

#include "actors/backend_work.hpp"
#include "actors/cart_pipeline.hpp"
#include "actors/cart_state.hpp"
#include "actors/ids.hpp"
#include "actors/journal_append.hpp"
#include "actors/streams.hpp"
#include "events/codec.hpp"

namespace orch::actors {

namespace {

using Self = CartActor;

void drain(Self* self);
void start(Self* self, Pending p);

// The cart's client view, rendered at most once per change.
const std::string& view_of(CartState& st) {
  if (st.view.empty()) st.view = codec::cart_view_json(st.cart);
  return st.view;
}

// Answers with the cart once every change sent so far is durable.
void answer_with_cart(Self* self, caf::response_promise rp) {
  auto& st = self->state;
  if (st.in_flight > 0 || st.stale) {
    st.waiting_reads.push_back(std::move(rp));
    return;
  }
  if (st.broken) rp.deliver(CartReply(*st.broken));
  else if (!st.cart.exists()) rp.deliver(CartReply(Error(Code::not_found, "cart not found")));
  else rp.deliver(CartReply(view_of(st)));
}

CartReply reply_for(const store::WriteResult& wr, const std::string& view) {
  switch (wr.status) {
    case store::WriteStatus::ok: return view;
    case store::WriteStatus::conflict:
      return Error(Code::cart_version_conflict, "the cart changed concurrently; retry");
    case store::WriteStatus::journal_full: return Error(Code::journal_full, "the journal is full: " + wr.message);
    default: return Error(Code::store_error, "journal write failed: " + wr.message);
  }
}

// Sends the command's events to the journal writer, which answers the client
// once they are durable. The change is applied here right away, so the next
// command can be decided while this one is being written.
void append(Self* self, PendingCart p, std::vector<cart::EventBody> events) {
  auto& st = self->state;
  const auto at = now_ms();
  store::WriteSet ws;
  ws.appends.push_back(store::StreamAppend{st.stream, st.stream_version,
                                           streams::encode_cart_events(events, at)});
  for (const auto& e : events) cart::apply(st.cart, cart::Event{at, e});
  st.view.clear();
  const auto every = st.deps->settings.snapshot_every;
  const auto new_version = st.stream_version + events.size();
  if (every > 0 && new_version / every > st.stream_version / every)
    ws.puts.push_back(streams::cart_snapshot(st.stream, st.cart, new_version));

  st.stream_version = new_version;
  ++st.in_flight;
  DelegatedAppend d{std::move(ws),
                    [reply = view_of(st)](const store::WriteResult& wr) {
                      return caf::make_message(reply_for(wr, reply));
                    },
                    caf::actor_cast<caf::actor>(self), ++st.append_seq};
  p.promise.delegate(st.deps->writer, append_atom::value, std::move(d));
  job_done(self);
}

// The journal writer confirmed (or refused) an append sent by append().
void on_committed(Self* self, bool ok) {
  auto& st = self->state;
  --st.in_flight;
  if (!ok) st.stale = true;  // the state here ran ahead of the journal: reload
  if (st.in_flight > 0) return;
  if (st.stale) load_cart_state(self);
  auto reads = std::move(st.waiting_reads);
  st.waiting_reads.clear();
  for (auto& rp : reads) answer_with_cart(self, std::move(rp));
  drain(self);
}

void finish(Self* self, PendingCart& p, CartReply reply) {
  if (reply) answer_with_cart(self, std::move(p.promise));  // show the cart only once durable
  else p.promise.deliver(std::move(reply));
  job_done(self);
}

void decided(Self* self, PendingCart p, Result<std::vector<cart::EventBody>>&& events) {
  if (!events)
    finish(self, p, std::move(events.error()));
  else if (events->empty())
    finish(self, p, std::string());  // no change: answered with the cart
  else
    append(self, std::move(p), std::move(*events));
}

void start_cart_command(Self* self, PendingCart p) {
  auto& st = self->state;
  cart::Context ctx{st.stream.tenant, st.stream.id, new_id("li_")};
  adapters::CallContext call{p.request.request_id, st.stream.tenant, {}};
  if (st.deps->backends.in_process) {
    // In-process back-ends answer at once: decide on the state in place.
    auto events = run_cart_command(st.deps->backends, call, st.cart, p.request.command, ctx);
    return decided(self, std::move(p), std::move(events));
  }
  run_backend_work(
      self, *st.deps,
      [backends = st.deps->backends, call, cart = st.cart, command = p.request.command, ctx] {
        return run_cart_command(backends, call, cart, command, ctx);
      },
      [self, p](Result<std::vector<cart::EventBody>> events) mutable {
        decided(self, std::move(p), std::move(events));
      });
}

void start(Self* self, Pending p) {
  auto& st = self->state;
  st.busy = true;
  if (st.stale) load_cart_state(self);
  if (st.broken) {
    if (auto* c = std::get_if<PendingCart>(&p))
      c->promise.deliver(CartReply(*st.broken));
    else
      std::get<PendingCheckout>(p).promise.deliver(AnswerReply(*st.broken));
    job_done(self);
    return;
  }
  if (auto* c = std::get_if<PendingCart>(&p))
    start_cart_command(self, std::move(*c));
  else
    start_checkout(self, std::move(std::get<PendingCheckout>(p)));
}

bool has_unfinished_work(const CartState& st) {
  return st.busy || !st.queue.empty() || st.in_flight > 0 || !st.waiting_reads.empty() ||
         (st.saga && !st.saga->saga.finished());
}

void request_passivation(Self* self) {
  auto& st = self->state;
  if (st.passivation_requested) return;
  st.passivation_requested = true;
  self->request(st.front, caf::infinite, passivate_atom::value, streams::entity_key(st.stream))
      .then([=](passivate_atom) {
        // The front actor no longer routes to us; finish what is left.
        if (has_unfinished_work(self->state))
          self->state.stop_when_idle = true;
        else
          self->quit();
      });
}

void drain(Self* self) {
  auto& st = self->state;
  if (st.draining) return;
  st.draining = true;
  while (!st.busy && !st.queue.empty()) {
    // A checkout decides on durable state only, and after a refused append
    // nothing is decided until the state has been reloaded.
    bool needs_durable = st.stale || std::holds_alternative<PendingCheckout>(st.queue.front());
    if (st.in_flight > 0 && needs_durable) break;
    Pending p = std::move(st.queue.front());
    st.queue.pop_front();
    start(self, std::move(p));
  }
  st.draining = false;
  if (!has_unfinished_work(st)) {
    if (st.stop_when_idle)
      self->quit();
    else if (!st.cart.exists() || st.broken)
      request_passivation(self);  // nothing worth keeping in memory
  }
}

std::chrono::milliseconds idle_check_interval(const Settings& s) {
  auto half = s.idle_timeout / 2;
  return std::clamp<std::chrono::milliseconds>(half, std::chrono::milliseconds(10),
                                               std::chrono::seconds(30));
}

caf::behavior cart_actor(Self* self, DepsPtr deps, caf::actor front, std::string tenant,
                         std::string cart_id, bool fresh) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.front = std::move(front);
  st.stream = streams::cart_stream(tenant, cart_id);
  st.last_active_ms = now_ms();
  if (!fresh) {
    load_cart_state(self);
    drive_saga(self);  // a saga interrupted by a restart goes on
  }
  self->delayed_send(self, idle_check_interval(st.deps->settings), idle_atom::value);
  return {
      [=](cart_atom, CartRequest& req) -> caf::result<CartReply> {
        auto& st = self->state;
        st.last_active_ms = now_ms();
        auto rp = self->make_response_promise();
        if (cart::is_read_only(req.command) && !st.busy) {
          answer_with_cart(self, rp);
          if (!has_unfinished_work(st) && (!st.cart.exists() || st.broken)) request_passivation(self);
          return rp;
        }
        st.queue.push_back(PendingCart{std::move(req), rp});
        drain(self);
        return rp;
      },
      [=](committed_atom, std::uint64_t, bool ok) { on_committed(self, ok); },
      [=](checkout_atom, CheckoutCall& call) -> caf::result<AnswerReply> {
        auto& st = self->state;
        st.last_active_ms = now_ms();
        PendingCheckout p{std::move(call), self->make_response_promise<AnswerReply>()};
        auto rp = p.promise;
        if (!try_answer_checkout(self, p)) {
          st.queue.push_back(std::move(p));
          drain(self);
        }
        return rp;
      },
      [=](resume_atom) { drive_saga(self); },
      [=](job_done_atom, Completion& done) { done.run(); },
      [=](idle_atom) {
        auto& st = self->state;
        auto idle_for = std::chrono::milliseconds(now_ms() - st.last_active_ms);
        if (!has_unfinished_work(st) && idle_for >= st.deps->settings.idle_timeout)
          request_passivation(self);
        else
          self->delayed_send(self, idle_check_interval(st.deps->settings), idle_atom::value);
      },
  };
}

}  // namespace

void job_done(CartActor* self) {
  auto& st = self->state;
  st.busy = false;
  st.last_active_ms = now_ms();
  drain(self);
}

void load_cart_state(CartActor* self) {
  auto& st = self->state;
  st.stale = false;
  auto loaded = streams::load_cart(*st.deps->journal, st.stream);
  if (!loaded) {
    spdlog::error("cannot load {}: {}", store::to_string(st.stream), loaded.error().message);
    st.broken = loaded.error();
    return;
  }
  st.broken.reset();
  st.cart = std::move(loaded->cart);
  st.view.clear();
  st.stream_version = loaded->stream_version;
  // A cart held by a checkout that has not finished: load its saga.
  if (st.cart.locked() && st.cart.status != cart::CartStatus::checked_out) {
    if (st.saga && st.saga->saga.transaction_id == st.cart.transaction_id) return;
    const auto& tenant = st.stream.tenant;
    const auto& txn = st.cart.transaction_id;
    auto saga = streams::load_saga(*st.deps->journal, streams::checkout_stream(tenant, txn));
    auto pay = streams::load_payment(*st.deps->journal, streams::payment_stream(tenant, txn));
    if (!saga || !pay) {
      st.broken = !saga ? saga.error() : pay.error();
      spdlog::error("cannot load checkout {} of {}: {}", txn, store::to_string(st.stream),
                    st.broken->message);
      return;
    }
    SagaRun run;
    run.saga = std::move(saga->state);
    run.saga_version = saga->stream_version;
    run.payment = std::move(pay->state);
    run.payment_version = pay->stream_version;
    st.saga = std::move(run);
  } else {
    st.saga.reset();
  }
}

caf::actor spawn_cart_actor(caf::actor_system& sys, DepsPtr deps, caf::actor front,
                            std::string tenant, std::string cart_id, bool fresh) {
  return sys.spawn(cart_actor, std::move(deps), std::move(front), std::move(tenant),
                   std::move(cart_id), fresh);
}

}  // namespace orch::actors
