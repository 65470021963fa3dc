#include "actors/payment_actor.hpp"

#include <spdlog/spdlog.h>

#include <deque>

#include "actors/backend_work.hpp"
#include "actors/ids.hpp"
#include "actors/journal_append.hpp"
#include "actors/messages.hpp"
#include "actors/streams.hpp"
#include "events/idempotency.hpp"
#include "events/outbox.hpp"

namespace orch::actors {

namespace {

struct Job {
  PaymentCall call;  // empty transaction_id: resume the pending operation
  caf::typed_response_promise<AnswerReply> promise;
  bool resume = false;
};

struct PaymentState {
  DepsPtr deps;
  caf::actor front;
  store::StreamId stream;
  payment::Payment payment;
  std::uint64_t version = 0;
  bool busy = false;
  std::deque<Job> queue;
  // Requests waiting for the operation in flight, by idempotency-table key.
  std::string in_flight_key;
  std::vector<caf::typed_response_promise<AnswerReply>> waiters;
  std::int64_t last_active_ms = 0;
  bool passivation_requested = false;
  bool stop_when_idle = false;  // the front actor no longer routes to us
  static inline const char* name = "payment";
};

using Self = caf::stateful_actor<PaymentState>;

void drain(Self* self);

Status reload(Self* self) {
  auto& st = self->state;
  auto loaded = streams::load_payment(*st.deps->journal, st.stream);
  if (!loaded) return loaded.error();
  st.payment = std::move(loaded->state);
  st.version = loaded->stream_version;
  return ok();
}

// After a failed write the stream may have moved: reload, and if even that
// fails, the next job reloads again.
void reload_after_failure(Self* self) {
  if (auto s = reload(self); !s)
    spdlog::error("{}: cannot reload: {}", store::to_string(self->state.stream), s.error().message);
}

void done(Self* self, Job& job, AnswerReply reply) {
  auto& st = self->state;
  if (!job.resume) job.promise.deliver(reply);
  for (auto& w : st.waiters) w.deliver(reply);
  st.waiters.clear();
  st.in_flight_key.clear();
  st.busy = false;
  st.last_active_ms = now_ms();
  drain(self);
}

AnswerReply reply_of(const idempotency::Record& r) {
  if (r.error) return *r.error;
  return Answer{r.status, r.response};
}

// Settles the operation in flight with the back-end's answer and stores the
// client's result under its key, in one write.
void settle(Self* self, Job job, payment::ProviderOutcome outcome) {
  auto& st = self->state;
  const auto at = now_ms();
  const payment::PendingOp op = *st.payment.pending;
  auto events = payment::settle(st.payment, outcome);
  payment::Payment after = st.payment;
  for (const auto& e : events) payment::apply(after, payment::Event{at, e});

  auto body = payment::outcome_answer(op.op, outcome);
  AnswerReply reply = body ? AnswerReply(Answer{200, std::move(*body)}) : AnswerReply(body.error());
  store::WriteSet ws;
  ws.appends.push_back({st.stream, st.version, streams::encode_events(events, at)});
  ws.puts.push_back({store::Table::index, streams::pending_payment_key(st.stream.tenant, st.stream.id), "",
                     store::PutMode::erase});
  if (!op.client_key.empty()) {
    idempotency::Record rec;
    auto existing = st.deps->journal->get(store::Table::idempotency, op.client_key);
    if (existing && existing->has_value())
      if (auto r = idempotency::decode(**existing)) rec = *r;
    rec.completed = true;
    rec.transaction_id = st.stream.id;
    if (reply) {
      rec.status = reply->status;
      rec.response = reply->body;
    } else {
      rec.error = reply.error();
    }
    ws.puts.push_back({store::Table::idempotency, op.client_key, idempotency::encode(rec),
                       store::PutMode::upsert});
  }
  if (outcome.success) {
    auto m = outbox::for_payment_operation(after, op.op, op.amount_minor, outcome.reference,
                                           new_id("msg_"), at);
    ws.puts.push_back({store::Table::outbox, m.id, outbox::encode(m), store::PutMode::insert_only});
    ws.puts.push_back({store::Table::outbox_due, outbox::due_key(m.next_attempt_at_ms, m.id), m.id,
                       store::PutMode::upsert});
  }
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) mutable {
            auto& st = self->state;
            if (wr.status != store::WriteStatus::ok) {
              // Still pending in the journal: the recovery supervisor retries it.
              reload_after_failure(self);
              return done(self, job, Error(Code::store_error, "cannot record the payment result: " + wr.message));
            }
            st.payment = after;
            st.version = wr.versions.front();
            done(self, job, reply);
          },
          [=](caf::error& err) mutable {
            reload_after_failure(self);
            done(self, job, Error(Code::timeout, "journal did not confirm: " + self->system().render(err)));
          });
}

// Calls the back-end for the pending operation (journaled already).
void call_backend(Self* self, Job job, int attempt = 1) {
  auto& st = self->state;
  const payment::PendingOp op = *st.payment.pending;
  adapters::CallContext ctx{job.call.request_id, st.stream.tenant, op.idempotency_key};
  adapters::OperationRequest req{st.payment.tenant_id, st.payment.merchant_id, st.payment.transaction_id,
                                 op.amount_minor};
  run_backend_work(
      self, *st.deps,
      [payment = st.deps->backends.payment, ctx, req, kind = op.op]() -> Result<adapters::OperationResult> {
        switch (kind) {
          case payment::Op::capture: return payment->capture(ctx, req);
          case payment::Op::void_: return payment->void_authorization(ctx, req);
          case payment::Op::refund: return payment->refund(ctx, req);
        }
        return Error(Code::internal_error, "unknown operation");
      },
      [self, job, attempt](Result<adapters::OperationResult> r) mutable {
        if (!r) {
          // No answer: ask again with the same key (no second effect).
          if (attempt < 2) return call_backend(self, std::move(job), attempt + 1);
          // Still no answer: the outcome is unknown, so nothing is recorded as
          // final. The operation stays pending in the journal; the recovery
          // supervisor, or a retry of the same request, asks again later.
          spdlog::warn("{}: {} outcome unknown, left pending: {}", store::to_string(self->state.stream),
                       payment::to_string(self->state.payment.pending->op), r.error().message);
          return done(self, job, Error(Code::backend_unavailable,
                                       "the payment back-end did not answer; the operation is pending "
                                       "and will be retried (repeat the request with the same key)"));
        }
        settle(self, std::move(job), {r->success, r->reference, r->error});
      });
}

void start(Self* self, Job job) {
  auto& st = self->state;
  st.busy = true;
  // The checkout saga may have written this stream since we last looked.
  if (auto s = reload(self); !s) return done(self, job, s.error());
  if (job.resume) {
    bool saga_owns = false;
    if (st.payment.pending && st.payment.pending->client_key.empty()) {
      auto row = st.deps->journal->get(store::Table::index,
                                       streams::open_saga_key(st.stream.tenant, st.payment.cart_id));
      saga_owns = row && row->has_value();
    }
    if (!st.payment.pending || saga_owns) return done(self, job, Answer{200, ""});
    st.in_flight_key = st.payment.pending->client_key;
    return call_backend(self, std::move(job));
  }
  const auto& call = job.call;
  if (st.payment.exists() && call.merchant_id != st.payment.merchant_id)
    return done(self, job, validation_failed({"merchant_id does not match the transaction's merchant"}));
  const std::string client_key = idempotency::payment_key(st.stream.tenant, call.idempotency_key);
  const std::string fp = payment::fingerprint(call.merchant_id, call.transaction_id, call.op);
  if (st.payment.pending && st.payment.pending->client_key == client_key) {
    // This very request was interrupted by a restart: finish it.
    st.in_flight_key = client_key;
    return call_backend(self, std::move(job));
  }
  auto plan = payment::plan(st.payment, call.op, payment::backend_key(st.stream.id, call.op.op, client_key));
  if (!plan) return done(self, job, plan.error());  // nothing happened: the key stays free
  const auto at = now_ms();
  if (plan->already_done) {
    Answer answer{200, payment::success_json(payment::current_reference(st.payment, call.op.op))};
    idempotency::Record rec{true, fp, st.payment.cart_id, st.stream.id, 200, answer.body, std::nullopt};
    store::WriteSet ws;
    ws.puts.push_back({store::Table::idempotency, client_key, idempotency::encode(rec), store::PutMode::insert_only});
    journal_append(self, *st.deps, std::move(ws))
        .then([=](store::WriteResult&) mutable { done(self, job, answer); },
              [=](caf::error&) mutable { done(self, job, answer); });
    return;
  }
  plan->request.client_key = client_key;
  std::vector<payment::EventBody> events{plan->request};
  idempotency::Record rec{false, fp, st.payment.cart_id, st.stream.id, 0, "", std::nullopt};
  store::WriteSet ws;
  ws.appends.push_back({st.stream, st.version, streams::encode_events(events, at)});
  ws.puts.push_back({store::Table::idempotency, client_key, idempotency::encode(rec), store::PutMode::insert_only});
  ws.puts.push_back({store::Table::index, streams::pending_payment_key(st.stream.tenant, st.stream.id), "",
                     store::PutMode::upsert});
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) mutable {
            auto& st = self->state;
            if (wr.status == store::WriteStatus::conflict) {
              // The key was taken meanwhile, or the stream moved: start over.
              st.busy = false;
              st.queue.push_front(std::move(job));
              return drain(self);
            }
            if (wr.status != store::WriteStatus::ok)
              return done(self, job, Error(Code::store_error, "cannot record the payment request: " + wr.message));
            for (const auto& e : events) payment::apply(st.payment, payment::Event{at, e});
            st.version = wr.versions.front();
            st.in_flight_key = client_key;
            call_backend(self, std::move(job));
          },
          [=](caf::error& err) mutable {
            done(self, job, Error(Code::timeout, "journal did not confirm: " + self->system().render(err)));
          });
}

// Settles a request by its idempotency record when it can. True when answered
// or parked behind the operation in flight.
bool try_answer(Self* self, Job& job) {
  auto& st = self->state;
  const auto& call = job.call;
  const std::string client_key = idempotency::payment_key(st.stream.tenant, call.idempotency_key);
  const std::string fp = payment::fingerprint(call.merchant_id, call.transaction_id, call.op);
  auto row = st.deps->journal->get(store::Table::idempotency, client_key);
  if (!row) {
    job.promise.deliver(AnswerReply(Error(Code::store_error, row.error.message)));
    return true;
  }
  if (!row->has_value()) return false;
  auto rec = idempotency::decode(**row);
  if (!rec) {
    job.promise.deliver(AnswerReply(rec.error()));
    return true;
  }
  switch (idempotency::classify(*rec, fp)) {
    case idempotency::Verdict::proceed: return false;
    case idempotency::Verdict::replay: job.promise.deliver(reply_of(*rec)); return true;
    case idempotency::Verdict::reused: job.promise.deliver(AnswerReply(idempotency::key_reused())); return true;
    case idempotency::Verdict::wait:
      if (st.in_flight_key == client_key) {
        st.waiters.push_back(job.promise);
        return true;
      }
      return false;  // queued: by its turn the record is complete
  }
  return false;
}

void drain(Self* self) {
  auto& st = self->state;
  while (!st.busy && !st.queue.empty()) {
    Job job = std::move(st.queue.front());
    st.queue.pop_front();
    if (!job.resume && try_answer(self, job)) continue;
    start(self, std::move(job));
  }
  if (st.stop_when_idle && !st.busy && st.queue.empty()) self->quit();
}

void request_passivation(Self* self) {
  auto& st = self->state;
  if (st.passivation_requested) return;
  st.passivation_requested = true;
  self->request(st.front, caf::infinite, passivate_atom::value, streams::entity_key(st.stream))
      .then([=](passivate_atom) {
        self->state.stop_when_idle = true;  // finish what is queued, then stop
        drain(self);
      });
}

caf::behavior payment_actor(Self* self, DepsPtr deps, caf::actor front, std::string tenant, std::string txn) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.front = std::move(front);
  st.stream = streams::payment_stream(tenant, txn);
  st.last_active_ms = now_ms();
  auto interval = std::clamp<std::chrono::milliseconds>(st.deps->settings.idle_timeout / 2,
                                                        std::chrono::milliseconds(10), std::chrono::seconds(30));
  self->delayed_send(self, interval, idle_atom::value);
  return {
      [=](payment_atom, PaymentCall& call) -> caf::result<AnswerReply> {
        auto& st = self->state;
        st.last_active_ms = now_ms();
        Job job{std::move(call), self->make_response_promise<AnswerReply>(), false};
        auto rp = job.promise;
        if (!try_answer(self, job)) {
          st.queue.push_back(std::move(job));
          drain(self);
        }
        return rp;
      },
      [=](resume_atom) {
        auto& st = self->state;
        st.queue.push_back(Job{PaymentCall{}, self->make_response_promise<AnswerReply>(), true});
        drain(self);
      },
      [=](job_done_atom, Completion& c) { c.run(); },
      [=](idle_atom) {
        auto& st = self->state;
        auto idle_for = std::chrono::milliseconds(now_ms() - st.last_active_ms);
        if (!st.busy && st.queue.empty() && idle_for >= st.deps->settings.idle_timeout)
          request_passivation(self);
        self->delayed_send(self, interval, idle_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_payment_actor(caf::actor_system& sys, DepsPtr deps, caf::actor front, std::string tenant,
                               std::string transaction_id) {
  return sys.spawn(payment_actor, std::move(deps), std::move(front), std::move(tenant),
                   std::move(transaction_id));
}

}  // namespace orch::actors
