// The checkout saga, hosted by the cart actor that owns the cart.
//
// A checkout request is first settled by its idempotency key (replay, reuse,
// join the running saga). Otherwise it waits its turn in the cart's queue,
// is checked against the cart, the policy and geo, and then either recorded
// as rejected or started: one atomic write locks the cart, starts the saga
// stream, binds the key (in progress) and marks the saga open in the index.
// From there drive_saga() runs one back-end call at a time; each call's
// outcome is journaled (saga, payment, order, cart streams and the tables,
// in one write) before the next call. The last write closes or releases the
// cart, stores the response under the key, writes the outbox rows and
// removes the open mark; then everyone waiting gets the same response.
//
// The journal is the truth: when a write fails, the saga is reloaded from the
// journal and driven again. Back-end calls carry a stable idempotency key per
// step, so a repeated call has no second effect.
#include <spdlog/spdlog.h>

#include <csignal>

#include "actors/backend_work.hpp"
#include "actors/cart_state.hpp"
#include "actors/ids.hpp"
#include "actors/journal_append.hpp"
#include "actors/streams.hpp"
#include "events/idempotency.hpp"
#include "events/outbox.hpp"

namespace orch::actors {

namespace {

using Self = CartActor;

// TEST AID: ORCH_TEST_CRASH_AT=<point> kills the process right here, like kill -9.
void crash_point(Self* self, const char* point) {
  if (self->state.deps->settings.crash_at != point) return;
  spdlog::critical("ORCH_TEST_CRASH_AT={}: killing the process", point);
  spdlog::default_logger()->flush();
  std::raise(SIGKILL);
}

Result<std::optional<idempotency::Record>> read_record(Self* self, const checkout::Request& r) {
  auto row = self->state.deps->journal->get(
      store::Table::idempotency, idempotency::checkout_key(r.tenant_id, r.merchant_id, r.idempotency_key));
  if (!row) return Error(Code::store_error, row.error.message);
  if (!row->has_value()) return std::optional<idempotency::Record>{};
  auto rec = idempotency::decode(**row);
  if (!rec) return rec.error();
  return std::optional<idempotency::Record>{std::move(*rec)};
}

AnswerReply answer_of(const idempotency::Record& r) { return Answer{r.status, r.response}; }

// ------------------------------------------------------------- the writes

// Everything one step writes, in one WriteSet.
struct StepWrite {
  std::vector<checkout::EventBody> saga;
  std::vector<payment::EventBody> payment;
  std::vector<cart::EventBody> cart;
  std::vector<order::EventBody> order;  // appended to a new order stream or the existing one
  std::string order_id;
  std::uint64_t order_version = 0;
  std::vector<store::TablePut> puts;
};

void finish_saga(Self* self);
void after_step_failure(Self* self, const std::string& why);

// Writes `w`, applies it to the in-memory state once durable, then answers
// everyone waiting when that finished the saga, or else calls `then()`.
void commit_step(Self* self, StepWrite w, std::function<void()> then) {
  auto& st = self->state;
  auto& run = *st.saga;
  const auto at = now_ms();
  const auto& tenant = st.stream.tenant;
  const auto& txn = run.saga.transaction_id;
  store::WriteSet ws;
  ws.appends.push_back({streams::checkout_stream(tenant, txn), run.saga_version,
                        streams::encode_events(w.saga, at)});
  if (!w.payment.empty())
    ws.appends.push_back({streams::payment_stream(tenant, txn), run.payment_version,
                          streams::encode_events(w.payment, at)});
  if (!w.cart.empty())
    ws.appends.push_back({st.stream, st.stream_version, streams::encode_cart_events(w.cart, at)});
  if (!w.order.empty())
    ws.appends.push_back({streams::order_stream(tenant, w.order_id), w.order_version,
                          streams::encode_events(w.order, at)});
  ws.puts = std::move(w.puts);
  run.step_in_flight = true;
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) {
            auto& st = self->state;
            if (wr.status != store::WriteStatus::ok)
              return after_step_failure(self, std::string(store::to_string(wr.status)) + ": " + wr.message);
            auto& run = *st.saga;
            run.step_in_flight = false;
            for (const auto& e : w.saga) checkout::apply(run.saga, checkout::Event{at, e});
            for (const auto& e : w.payment) payment::apply(run.payment, payment::Event{at, e});
            for (const auto& e : w.cart) cart::apply(st.cart, cart::Event{at, e});
            if (!w.cart.empty()) st.view.clear();
            std::size_t i = 0;
            run.saga_version = wr.versions[i++];
            if (!w.payment.empty()) run.payment_version = wr.versions[i++];
            if (!w.cart.empty()) st.stream_version = wr.versions[i++];
            if (run.saga.finished()) return finish_saga(self);
            then();
          },
          [=](caf::error& err) { after_step_failure(self, self->system().render(err)); });
}

// The journal did not take a step: reload the saga from the journal after a
// pause and drive it again from what was durably recorded.
void after_step_failure(Self* self, const std::string& why) {
  auto& st = self->state;
  spdlog::error("checkout {}: journal write failed ({}); retrying from the journal",
                st.saga ? st.saga->saga.transaction_id : "?", why);
  if (!st.saga) return;
  st.saga->needs_reload = true;
  st.saga->step_in_flight = false;
  self->delayed_send(self, std::chrono::seconds(1), resume_atom::value);
}

// The rows that go with the write that finishes the saga.
void add_finishing_rows(Self* self, StepWrite& w, std::int64_t at) {
  auto& st = self->state;
  auto& run = *st.saga;
  checkout::Saga done = run.saga;
  for (const auto& e : w.saga) checkout::apply(done, checkout::Event{at, e});
  const auto& tenant = st.stream.tenant;

  idempotency::Record rec{true, done.fingerprint, done.cart_id, done.transaction_id, 200, done.result_json,
                          std::nullopt};
  w.puts.push_back({store::Table::idempotency,
                    idempotency::checkout_key(tenant, done.merchant_id, done.idempotency_key),
                    idempotency::encode(rec), store::PutMode::upsert});
  w.puts.push_back({store::Table::index, streams::open_saga_key(tenant, st.cart.cart_id), "",
                    store::PutMode::erase});
  w.cart = checkout::cart_events(run.saga, w.saga);
  if (done.outcome == checkout::Outcome::completed) {
    auto messages = outbox::for_completed_checkout(done, {new_id("msg_"), new_id("msg_"), new_id("msg_")}, at);
    for (const auto& m : messages) {
      w.puts.push_back({store::Table::outbox, m.id, outbox::encode(m), store::PutMode::insert_only});
      w.puts.push_back({store::Table::outbox_due, outbox::due_key(m.next_attempt_at_ms, m.id), m.id,
                        store::PutMode::upsert});
    }
    if (done.receipt_payload) {
      w.order.push_back(order::ReceiptAttached{*done.receipt_payload});
      w.order_id = done.order_id;
      auto v = st.deps->journal->stream_version(streams::order_stream(tenant, done.order_id));
      w.order_version = v ? *v : 1;
    }
  }
  // A void that did not go through stays pending on the payment; the
  // recovery supervisor retries it.
  if (run.payment.pending || !w.payment.empty()) {
    payment::Payment after = run.payment;
    for (const auto& e : w.payment) payment::apply(after, payment::Event{at, e});
    if (after.pending)
      w.puts.push_back({store::Table::index, streams::pending_payment_key(tenant, done.transaction_id),
                        "", store::PutMode::upsert});
  }
}

// Journals `events` (the saga's outcome of a step) with everything they imply.
void record(Self* self, std::vector<checkout::EventBody> events, std::function<void()> then,
            std::optional<order::Created> order = std::nullopt) {
  auto& run = *self->state.saga;
  StepWrite w;
  w.payment = checkout::payment_events(run.saga, events);
  if (order) {
    w.order_id = order->order_id;
    w.order.push_back(std::move(*order));
  }
  w.saga = std::move(events);
  if (checkout::finishes(w.saga)) add_finishing_rows(self, w, now_ms());
  commit_step(self, std::move(w), std::move(then));
}

// ------------------------------------------------------------- the steps

adapters::CallContext call_context(Self* self, const std::string& step) {
  const auto& run = *self->state.saga;
  return adapters::CallContext{run.request_id.empty() ? run.saga.correlation_id : run.request_id,
                               run.saga.tenant_id, checkout::step_key(run.saga.transaction_id, step)};
}

checkout::CallResult to_call_result(const Result<adapters::OperationResult>& r) {
  if (!r) return {checkout::CallResult::unknown, "", r.error().message};
  if (!r->success) return {checkout::CallResult::refused, r->reference, r->error};
  return {checkout::CallResult::ok, r->reference, ""};
}

adapters::OperationRequest operation_request(const checkout::Saga& s) {
  return {s.tenant_id, s.merchant_id, s.transaction_id, s.totals.total_minor};
}

void step_authorize(Self* self) {
  auto& run = *self->state.saga;
  adapters::AuthorizeRequest req{run.saga.transaction_id, run.saga.tenant_id, run.saga.merchant_id,
                                 run.saga.cart_id,        run.saga.currency,  run.saga.totals.total_minor,
                                 nullptr};
  run.step_in_flight = true;
  run_backend_work(
      self, *self->state.deps,
      [payment = self->state.deps->backends.payment, ctx = call_context(self, "authorize"), req,
       request = *run.request]() mutable {
        req.request = &request;
        return payment->authorize(ctx, req);
      },
      [self](Result<adapters::AuthorizeResult> r) {
        crash_point(self, "after_authorize");
        auto& run = *self->state.saga;
        checkout::CallResult cr;
        if (!r)
          cr = {checkout::CallResult::unknown, "", r.error().message};
        else if (!r->authorized)
          cr = {checkout::CallResult::refused, r->reference, r->decline_reason};
        else
          cr = {checkout::CallResult::ok, r->reference, ""};
        record(self, checkout::after_authorize(run.saga, cr, now_ms()), [self] { drive_saga(self); });
      });
}

// Journals the capture's outcome; a captured payment gets its order in the same write.
void record_capture(Self* self, const checkout::CallResult& cr) {
  auto& run = *self->state.saga;
  std::string order_id = new_id("ord_");
  auto events = checkout::after_capture(run.saga, cr, order_id);
  std::optional<order::Created> order;
  if (cr.kind == checkout::CallResult::ok) {
    checkout::Saga captured = run.saga;
    for (const auto& e : events) checkout::apply(captured, checkout::Event{0, e});
    order = order::created_from(captured, order_id);
  }
  record(self, std::move(events), [self] {
    if (!self->state.saga->saga.order_id.empty()) crash_point(self, "after_order");
    drive_saga(self);
  }, std::move(order));
}

// A capture without an answer, twice: ask the back-end for the transaction's
// state before deciding between the order and the void.
void confirm_unanswered_capture(Self* self, checkout::CallResult unanswered) {
  auto& run = *self->state.saga;
  run_backend_work(
      self, *self->state.deps,
      [payment = self->state.deps->backends.payment, ctx = call_context(self, "capture-state"),
       txn = run.saga.transaction_id] { return payment->state(ctx, txn); },
      [self, unanswered](Result<std::optional<std::string>> state) {
        std::optional<std::string> provider_state;
        if (state) provider_state = *state;
        auto cr = checkout::resolve_unanswered_capture(unanswered, provider_state);
        if (cr.kind == checkout::CallResult::ok)
          spdlog::warn("checkout {}: capture unanswered, but the payment back-end reports it captured",
                       self->state.saga->saga.transaction_id);
        record_capture(self, cr);
      });
}

void step_capture(Self* self) {
  auto& run = *self->state.saga;
  run.step_in_flight = true;
  run_backend_work(
      self, *self->state.deps,
      [payment = self->state.deps->backends.payment, ctx = call_context(self, "capture"),
       req = operation_request(run.saga)] { return payment->capture(ctx, req); },
      [self](Result<adapters::OperationResult> r) {
        crash_point(self, "after_capture");
        auto& run = *self->state.saga;
        auto cr = to_call_result(r);
        if (cr.kind == checkout::CallResult::unknown) {
          // An unanswered capture may have happened: ask again with the same
          // key (no second effect), then ask for the transaction's state.
          if (++run.unknown_captures < 2) {
            run.step_in_flight = false;
            return drive_saga(self);
          }
          return confirm_unanswered_capture(self, std::move(cr));
        }
        record_capture(self, cr);
      });
}

void step_void(Self* self) {
  auto& run = *self->state.saga;
  if (run.saga.phase == checkout::Phase::authorizing) {
    // Resumed after a crash in the middle of the authorization, without the
    // payment token: record that its outcome is unknown and void it.
    record(self,
           checkout::after_authorize(run.saga, {checkout::CallResult::unknown, "",
                                                "checkout interrupted before the authorization was confirmed"},
                                     now_ms()),
           [self] { drive_saga(self); });
    return;
  }
  run.step_in_flight = true;
  run_backend_work(
      self, *self->state.deps,
      [payment = self->state.deps->backends.payment, ctx = call_context(self, "void"),
       req = operation_request(run.saga)] { return payment->void_authorization(ctx, req); },
      [self](Result<adapters::OperationResult> r) {
        auto& run = *self->state.saga;
        record(self, checkout::after_void(run.saga, to_call_result(r), now_ms()), [] {});
      });
}

void step_receipt(Self* self) {
  auto& run = *self->state.saga;
  adapters::ReceiptRequest req{run.saga.transaction_id, run.saga.order_id,   run.saga.tenant_id,
                               run.saga.cart_id,        run.saga.lines,      run.saga.currency,
                               run.saga.totals,         run.saga.payment_reference,
                               run.saga.correlation_id};
  run.step_in_flight = true;
  run_backend_work(
      self, *self->state.deps,
      [receipt = self->state.deps->backends.receipt, ctx = call_context(self, "receipt"), req] {
        return receipt->generate(ctx, req);
      },
      [self](Result<std::string> r) {
        crash_point(self, "before_final");
        auto& run = *self->state.saga;
        checkout::CallResult cr = r ? checkout::CallResult{checkout::CallResult::ok, *r, ""}
                                    : checkout::CallResult{checkout::CallResult::unknown, "", r.error().message};
        record(self, checkout::after_receipt(run.saga, cr, now_ms()), [] {});
      });
}

// The saga has finished and its last write is durable: answer everyone.
void finish_saga(Self* self) {
  auto& st = self->state;
  SagaRun run = std::move(*st.saga);
  st.saga.reset();
  for (auto& w : run.waiters) w.deliver(AnswerReply(Answer{200, run.saga.result_json}));
  spdlog::debug("checkout {} finished: {}", run.saga.transaction_id,
                run.saga.outcome ? checkout::to_string(*run.saga.outcome) : "?");
}

// -------------------------------------------------------------- starting

void deliver_and_continue(Self* self, PendingCheckout& p, AnswerReply reply) {
  p.promise.deliver(std::move(reply));
  job_done(self);
}

void write_rejection(Self* self, PendingCheckout p, const std::vector<std::string>& reasons) {
  auto& st = self->state;
  const auto& r = p.call.request;
  const auto at = now_ms();
  auto events = checkout::reject(st.cart, r, new_id("txn_"), new_uuid(), reasons, at);
  checkout::Saga s = checkout::fold([&] {
    std::vector<checkout::Event> v;
    for (const auto& e : events) v.push_back(checkout::Event{at, e});
    return v;
  }());
  idempotency::Record rec{true, s.fingerprint, s.cart_id, s.transaction_id, 200, s.result_json, std::nullopt};
  store::WriteSet ws;
  ws.appends.push_back({streams::checkout_stream(st.stream.tenant, s.transaction_id), 0,
                        streams::encode_events(events, at)});
  ws.puts.push_back({store::Table::idempotency,
                     idempotency::checkout_key(r.tenant_id, r.merchant_id, r.idempotency_key),
                     idempotency::encode(rec), store::PutMode::insert_only});
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) mutable {
            if (wr.status == store::WriteStatus::ok)
              return deliver_and_continue(self, p, Answer{200, s.result_json});
            if (wr.status == store::WriteStatus::conflict && try_answer_checkout(self, p))
              return job_done(self);  // the key was taken meanwhile
            deliver_and_continue(self, p, Error(Code::store_error, "cannot record the checkout: " + wr.message));
          },
          [=](caf::error& err) mutable {
            deliver_and_continue(self, p, Error(Code::timeout, "journal did not confirm: " +
                                                                   self->system().render(err)));
          });
}

void begin_saga(Self* self, PendingCheckout p) {
  auto& st = self->state;
  const auto& r = p.call.request;
  const auto at = now_ms();
  const std::string txn = new_id("txn_");
  auto events = checkout::start(st.cart, r, txn, new_uuid());
  std::vector<cart::EventBody> lock{cart::CheckoutStarted{txn}};

  idempotency::Record rec{false, checkout::fingerprint(r), st.cart.cart_id, txn, 0, "", std::nullopt};
  store::WriteSet ws;
  ws.appends.push_back({st.stream, st.stream_version, streams::encode_cart_events(lock, at)});
  ws.appends.push_back({streams::checkout_stream(st.stream.tenant, txn), 0, streams::encode_events(events, at)});
  ws.puts.push_back({store::Table::idempotency,
                     idempotency::checkout_key(r.tenant_id, r.merchant_id, r.idempotency_key),
                     idempotency::encode(rec), store::PutMode::insert_only});
  ws.puts.push_back({store::Table::index, streams::open_saga_key(st.stream.tenant, st.cart.cart_id), txn,
                     store::PutMode::upsert});
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) mutable {
            auto& st = self->state;
            if (wr.status == store::WriteStatus::conflict) {
              if (wr.conflict_index >= 2 && try_answer_checkout(self, p)) return job_done(self);
              load_cart_state(self);  // the cart stream moved on: check again
              return start_checkout(self, std::move(p));
            }
            if (wr.status != store::WriteStatus::ok)
              return deliver_and_continue(self, p,
                                          Error(wr.status == store::WriteStatus::journal_full ? Code::journal_full
                                                                                              : Code::store_error,
                                                "cannot start the checkout: " + wr.message));
            for (const auto& e : lock) cart::apply(st.cart, cart::Event{at, e});
            st.view.clear();
            st.stream_version = wr.versions[0];
            SagaRun run;
            for (const auto& e : events) checkout::apply(run.saga, checkout::Event{at, e});
            run.saga_version = wr.versions[1];
            run.request = p.call.request;
            run.request_id = p.call.request_id;
            run.waiters.push_back(p.promise);
            st.saga = std::move(run);
            // The cart is locked now: jobs behind this one may run (changes
            // are refused, reads see the lock) while the saga goes on.
            job_done(self);
            drive_saga(self);
          },
          [=](caf::error& err) mutable {
            self->state.stale = true;
            deliver_and_continue(self, p, Error(Code::timeout, "journal did not confirm: " +
                                                                   self->system().render(err)));
          });
}

}  // namespace

bool try_answer_checkout(Self* self, PendingCheckout& p) {
  auto& st = self->state;
  const auto& r = p.call.request;
  const auto fp = checkout::fingerprint(r);
  if (st.saga && st.saga->saga.idempotency_key == r.idempotency_key &&
      st.saga->saga.merchant_id == r.merchant_id) {
    if (fp != st.saga->saga.fingerprint)
      p.promise.deliver(AnswerReply(idempotency::key_reused()));
    else
      st.saga->waiters.push_back(p.promise);  // the running saga answers it
    return true;
  }
  auto rec = read_record(self, r);
  if (!rec) {
    p.promise.deliver(AnswerReply(rec.error()));
    return true;
  }
  switch (idempotency::classify(*rec, fp)) {
    case idempotency::Verdict::proceed: return false;
    case idempotency::Verdict::replay: p.promise.deliver(answer_of(**rec)); return true;
    case idempotency::Verdict::reused: p.promise.deliver(AnswerReply(idempotency::key_reused())); return true;
    case idempotency::Verdict::wait:
      // In progress but not (yet) the saga running here: the job that is
      // starting it may still be waiting for its first write. Queue behind it;
      // by its turn the saga is known here and the request joins it.
      if (st.busy) return false;
      // Otherwise it belongs to another process, or to a saga this actor has
      // not loaded.
      p.promise.deliver(AnswerReply(Error(Code::cart_already_checked_out,
                                          "a checkout with this idempotency key is in progress (transaction " +
                                              (*rec)->transaction_id + ")")));
      return true;
  }
  return false;
}

void start_checkout(Self* self, PendingCheckout p) {
  auto& st = self->state;
  if (try_answer_checkout(self, p)) return job_done(self);
  const auto& r = p.call.request;
  if (auto s = checkout::check_cart(st.cart, r); !s) return deliver_and_continue(self, p, s.error());
  auto violations = checkout::policy_violations(st.deps->settings.policy, st.cart.total_minor, r.location);
  if (!violations.empty()) return write_rejection(self, std::move(p), violations);
  run_backend_work(
      self, *st.deps,
      [geo = st.deps->backends.geo, ctx = adapters::CallContext{p.call.request_id, r.tenant_id, {}},
       cart = st.cart, location = r.location] { return geo->check(ctx, cart, location); },
      [self, p](Result<bool> allowed) mutable {
        if (!allowed) return deliver_and_continue(self, p, allowed.error());
        if (!*allowed) {
          auto reason = checkout::geo_rejection(p.call.request.location);
          return write_rejection(self, std::move(p), {std::move(reason)});
        }
        begin_saga(self, std::move(p));
      });
}

void drive_saga(Self* self) {
  auto& st = self->state;
  if (!st.saga) return;
  if (st.saga->needs_reload) {
    if (st.saga->step_in_flight) return;
    // After a failed write: the journal says where the saga really is.
    auto keep_request = std::move(st.saga->request);
    auto keep_waiters = std::move(st.saga->waiters);
    auto keep_id = st.saga->request_id;
    auto keep_txn = st.saga->saga.transaction_id;
    st.saga.reset();
    load_cart_state(self);
    if (!st.saga) {
      // The saga finished after all (its last write did land).
      auto done = streams::load_saga(*st.deps->journal, streams::checkout_stream(st.stream.tenant, keep_txn));
      for (auto& w : keep_waiters)
        w.deliver(done && done->state.finished() ? AnswerReply(Answer{200, done->state.result_json})
                                                 : AnswerReply(Error(Code::store_error, "checkout state unknown")));
      return;
    }
    st.saga->request = std::move(keep_request);
    st.saga->waiters = std::move(keep_waiters);
    st.saga->request_id = keep_id;
  }
  auto& run = *st.saga;
  if (run.step_in_flight || run.saga.finished()) return;
  switch (checkout::next_action(run.saga, run.request.has_value())) {
    case checkout::Action::authorize: return step_authorize(self);
    case checkout::Action::capture: return step_capture(self);
    case checkout::Action::void_: return step_void(self);
    case checkout::Action::receipt: return step_receipt(self);
    case checkout::Action::none: return;
  }
}

}  // namespace orch::actors
