#include "actors/outbox_supervisor.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <random>
#include <unordered_set>

#include "actors/backend_work.hpp"
#include "actors/ids.hpp"
#include "actors/journal_append.hpp"
#include "actors/messages.hpp"
#include "actors/streams.hpp"
#include "adapters/outbox_sinks.hpp"
#include "events/json.hpp"

namespace orch::actors {

namespace {

using tick_atom = caf::atom_constant<caf::atom("otick")>;
using dl_tick_atom = caf::atom_constant<caf::atom("dltick")>;

constexpr std::size_t page = 256;

// One delivery in progress.
struct Delivery {
  outbox::Message message;  // as claimed
  std::string due_key;      // its index key while claimed
  std::optional<adapters::ReceiptRequest> receipt;  // ask for a pending receipt first
  bool manual = false;      // part of an explicit round
};

// What the blocking part reports.
struct Outcome {
  Status delivered = ok();
  std::optional<std::string> receipt;  // content obtained on the way
};

struct SupervisorState {
  DepsPtr deps;
  std::shared_ptr<adapters::OutboxSink> sink;
  OutboxSettings settings;
  OutboxCounters* counters = nullptr;
  std::string boot_id;
  std::unordered_set<std::string> in_flight;  // message ids
  std::deque<Delivery> waiting;               // claimed, waiting for a free slot
  std::size_t active = 0;
  // The explicit round in progress, if any.
  std::optional<caf::typed_response_promise<OutboxReport>> manual;
  OutboxReport manual_report;
  std::uint32_t manual_max_attempts = 0;
  std::size_t manual_outstanding = 0;
  bool scanning = false;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "outbox";
};

using Self = caf::stateful_actor<SupervisorState>;

double jitter(Self* self) { return std::uniform_real_distribution<double>(0, 1)(self->state.rng); }

void start_deliveries(Self* self);

// The receipt a pending receipt.requested message still needs, from its order.
std::optional<adapters::ReceiptRequest> pending_receipt(Self* self, const outbox::Message& m) {
  if (m.topic != "receipt.requested") return std::nullopt;
  auto doc = json::parse(m.payload);
  if (!doc) return std::nullopt;
  const json::Value* data = doc->find("data");
  const json::Value* status = data ? data->find("receipt_status") : nullptr;
  const json::Value* order_id = data ? data->find("order_id") : nullptr;
  if (!status || !status->is_string() || status->as_string() != "pending" || !order_id ||
      !order_id->is_string())
    return std::nullopt;
  auto order = streams::load_order(*self->state.deps->journal,
                                   streams::order_stream(m.tenant_id, order_id->as_string()));
  if (!order || !order->state.exists()) return std::nullopt;
  const auto& o = order->state;
  return adapters::ReceiptRequest{o.transaction_id, o.order_id, o.tenant_id, o.cart_id, o.lines,
                                  o.currency,       o.totals,   "",          o.correlation_id};
}

// The payload of a receipt.requested message once its receipt exists.
std::string with_receipt(const std::string& payload, const std::string& content) {
  auto doc = json::parse(payload);
  if (!doc) return payload;
  json::Writer w;
  w.begin_object();
  for (const auto& [k, v] : doc->members()) {
    w.key(k);
    if (k != "data" || !v.is_object()) {
      v.write(w);
      continue;
    }
    w.begin_object();
    for (const auto& [dk, dv] : v.members()) {
      w.key(dk);
      if (dk == "receipt_status") w.value("issued");
      else if (dk == "receipt_payload") w.value(content);
      else dv.write(w);
    }
    w.end_object();
  }
  w.end_object();
  return w.take();
}

void round_finished_one(Self* self, const Delivery& d, int kind /*0 delivered 1 retried 2 dead*/) {
  auto& st = self->state;
  if (!d.manual || !st.manual) return;
  if (kind == 0) ++st.manual_report.delivered;
  if (kind == 1) ++st.manual_report.retried;
  if (kind == 2) ++st.manual_report.dead_lettered;
  if (--st.manual_outstanding == 0) {
    st.manual->deliver(st.manual_report);
    st.manual.reset();
  }
}

// Records the outcome of one delivery (one write).
void record(Self* self, Delivery d, Outcome outcome) {
  auto& st = self->state;
  const auto now = now_ms();
  store::WriteSet ws;
  ws.puts.push_back({store::Table::outbox_due, d.due_key, "", store::PutMode::erase});
  int kind = 0;
  if (outcome.delivered) {
    ws.puts.push_back({store::Table::outbox, d.message.id, "", store::PutMode::erase});
    if (outcome.receipt && d.receipt) {
      auto stream = streams::order_stream(d.message.tenant_id, d.receipt->order_id);
      auto version = st.deps->journal->stream_version(stream);
      if (version && *version > 0)
        ws.appends.push_back({stream, *version,
                              streams::encode_events(std::vector<order::EventBody>{order::ReceiptAttached{*outcome.receipt}}, now)});
    }
    st.counters->delivered++;
  } else {
    outbox::RetryPolicy policy = st.settings.retry;
    if (d.manual && st.manual_max_attempts > 0) policy.max_attempts = st.manual_max_attempts;
    auto next = outbox::after_failure(d.message, policy, outcome.delivered.error().message, now, jitter(self));
    st.counters->failed++;
    if (next.dead_letter) {
      kind = 2;
      st.counters->dead_lettered++;
      ws.puts.push_back({store::Table::outbox, d.message.id, "", store::PutMode::erase});
      ws.puts.push_back({store::Table::dead_letter, d.message.id, outbox::encode(next.message),
                         store::PutMode::upsert});
      spdlog::warn("outbox: {} ({}) dead-lettered after {} attempts: {}", d.message.id, d.message.topic,
                   next.message.attempts, next.message.last_error);
    } else {
      kind = 1;
      ws.puts.push_back({store::Table::outbox, d.message.id, outbox::encode(next.message), store::PutMode::upsert});
      ws.puts.push_back({store::Table::outbox_due, outbox::due_key(next.message.next_attempt_at_ms, d.message.id),
                         d.message.id, store::PutMode::upsert});
    }
  }
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) mutable {
            if (wr.status == store::WriteStatus::conflict && outcome.receipt) {
              // The order moved on meanwhile: record the delivery without the
              // receipt event (the receipt went out in the delivered message).
              return record(self, std::move(d), Outcome{ok(), std::nullopt});
            }
            if (wr.status != store::WriteStatus::ok)
              spdlog::error("outbox: cannot record the delivery of {}: {}", d.message.id, wr.message);
            auto& st = self->state;
            st.in_flight.erase(d.message.id);
            round_finished_one(self, d, kind);
          },
          [=](caf::error&) mutable {
            self->state.in_flight.erase(d.message.id);
            round_finished_one(self, d, kind);
          });
}

void deliver(Self* self, Delivery d) {
  auto& st = self->state;
  ++st.active;
  run_blocking(
      self, *st.deps->executor,
      [sink = st.sink, receipt = st.deps->backends.receipt, d]() mutable -> Outcome {
        Outcome out;
        if (d.receipt) {
          auto content = receipt->generate(
              adapters::CallContext{d.message.correlation_id, d.message.tenant_id,
                                    checkout::step_key(d.receipt->transaction_id, "receipt")},
              *d.receipt);
          if (!content) {
            out.delivered = Error(content.error().code, "receipt: " + content.error().message);
            return out;
          }
          out.receipt = *content;
          d.message.payload = with_receipt(d.message.payload, *content);
        }
        out.delivered = sink->deliver(d.message);
        return out;
      },
      [self, d](Outcome outcome) mutable {
        auto& st = self->state;
        --st.active;
        record(self, std::move(d), std::move(outcome));
        start_deliveries(self);
      });
}

void start_deliveries(Self* self) {
  auto& st = self->state;
  while (st.active < st.settings.concurrency && !st.waiting.empty()) {
    Delivery d = std::move(st.waiting.front());
    st.waiting.pop_front();
    deliver(self, std::move(d));
  }
}

// Claims up to `max` due rows (or all with max 0) and queues them for delivery.
// Returns how many it claimed.
std::size_t claim_due(Self* self, std::size_t max, bool manual) {
  auto& st = self->state;
  const auto now = now_ms();
  const std::string until = outbox::due_key(now + 1, "");
  std::vector<Delivery> batch;
  std::string from;
  for (;;) {
    auto rows = st.deps->journal->scan(store::Table::outbox_due, "", from, page);
    if (!rows) {
      spdlog::error("outbox: cannot scan: {}", rows.error.message);
      break;
    }
    bool more = rows->size() == page;
    for (const auto& [key, id] : *rows) {
      if (key >= until || (max && batch.size() >= max)) {
        more = false;
        break;
      }
      if (st.in_flight.count(id)) continue;
      auto row = st.deps->journal->get(store::Table::outbox, id);
      if (!row) continue;
      if (!row->has_value()) {  // delivered meanwhile: a stale index entry
        store::WriteSet ws;
        ws.puts.push_back({store::Table::outbox_due, key, "", store::PutMode::erase});
        journal_append(self, *st.deps, std::move(ws)).then([](store::WriteResult&) {}, [](caf::error&) {});
        continue;
      }
      auto m = outbox::decode(**row);
      if (!m) {
        spdlog::error("outbox: row {}: {}", id, m.error().message);
        continue;
      }
      Delivery d;
      d.message = std::move(*m);
      d.due_key = key;
      d.manual = manual;
      batch.push_back(std::move(d));
    }
    if (!more || rows->empty()) break;
    from = rows->back().first + '\0';
  }
  if (batch.empty()) return 0;

  // The claim: each row's due time moves to the end of its lease.
  store::WriteSet ws;
  const auto lease_until = now + st.settings.lease.count();
  for (auto& d : batch) {
    d.message.claimed_until_ms = lease_until;
    d.message.claimed_by = st.boot_id;
    ws.puts.push_back({store::Table::outbox_due, d.due_key, "", store::PutMode::erase});
    d.due_key = outbox::due_key(lease_until, d.message.id);
    ws.puts.push_back({store::Table::outbox_due, d.due_key, d.message.id, store::PutMode::upsert});
    ws.puts.push_back({store::Table::outbox, d.message.id, outbox::encode(d.message), store::PutMode::upsert});
    st.in_flight.insert(d.message.id);
  }
  const std::size_t n = batch.size();
  if (manual) st.manual_outstanding += n;
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) mutable {
            auto& st = self->state;
            if (wr.status != store::WriteStatus::ok) {
              spdlog::error("outbox: cannot claim {} rows: {}", batch.size(), wr.message);
              for (auto& d : batch) {
                st.in_flight.erase(d.message.id);
                if (d.manual && st.manual && --st.manual_outstanding == 0) {
                  st.manual->deliver(st.manual_report);
                  st.manual.reset();
                }
              }
              return;
            }
            for (auto& d : batch) {
              d.receipt = pending_receipt(self, d.message);
              st.waiting.push_back(std::move(d));
            }
            start_deliveries(self);
          },
          [=](caf::error&) mutable {
            for (auto& d : batch) self->state.in_flight.erase(d.message.id);
          });
  return n;
}

// Leases held by an earlier process (it crashed or stopped mid-delivery):
// due now instead of when the lease runs out.
void release_foreign_claims(Self* self) {
  auto& st = self->state;
  std::string from;
  store::WriteSet ws;
  for (;;) {
    auto rows = st.deps->journal->scan(store::Table::outbox, "", from, page);
    if (!rows || rows->empty()) break;
    for (const auto& [id, row] : *rows) {
      auto m = outbox::decode(row);
      if (!m || m->claimed_by.empty() || m->claimed_by == st.boot_id) continue;
      ws.puts.push_back({store::Table::outbox_due, outbox::due_key(m->claimed_until_ms, id), "",
                         store::PutMode::erase});
      m->claimed_by.clear();
      m->claimed_until_ms = 0;
      ws.puts.push_back({store::Table::outbox, id, outbox::encode(*m), store::PutMode::upsert});
      ws.puts.push_back({store::Table::outbox_due, outbox::due_key(m->next_attempt_at_ms, id), id,
                         store::PutMode::upsert});
    }
    if (rows->size() < page) break;
    from = rows->back().first + '\0';
  }
  if (ws.puts.empty()) return;
  spdlog::info("outbox: {} message(s) claimed before the restart will be delivered again", ws.puts.size() / 3);
  journal_append(self, *st.deps, std::move(ws)).then([](store::WriteResult&) {}, [](caf::error&) {});
}

// Dead letters old enough go back into the outbox.
void retry_dead_letters(Self* self) {
  auto& st = self->state;
  const auto now = now_ms();
  auto rows = st.deps->journal->scan(store::Table::dead_letter, "", "", 1000);
  if (!rows) return;
  store::WriteSet ws;
  for (const auto& [id, row] : *rows) {
    auto m = outbox::decode(row);
    if (!m || m->dead_lettered_at_ms + st.settings.dead_letter_retry.count() > now) continue;
    auto q = outbox::requeued(*m, now);
    ws.puts.push_back({store::Table::dead_letter, id, "", store::PutMode::erase});
    ws.puts.push_back({store::Table::outbox, id, outbox::encode(q), store::PutMode::insert_only});
    ws.puts.push_back({store::Table::outbox_due, outbox::due_key(now, id), id, store::PutMode::upsert});
  }
  if (ws.puts.empty()) return;
  spdlog::info("outbox: re-queuing {} dead letter(s)", ws.puts.size() / 3);
  journal_append(self, *st.deps, std::move(ws)).then([](store::WriteResult&) {}, [](caf::error&) {});
}

caf::behavior supervisor(Self* self, DepsPtr deps, std::shared_ptr<adapters::OutboxSink> sink,
                         OutboxSettings settings, OutboxCounters* counters) {
  auto& st = self->state;
  st.deps = std::move(deps);
  st.sink = std::move(sink);
  st.settings = settings;
  st.counters = counters;
  st.boot_id = new_uuid();
  release_foreign_claims(self);
  if (st.settings.background) self->send(self, tick_atom::value);
  if (st.settings.dead_letter_retry.count() > 0) self->send(self, dl_tick_atom::value);
  return {
      [=](tick_atom) {
        auto& st = self->state;
        if (!st.manual && st.waiting.empty()) claim_due(self, st.settings.concurrency * 4, false);
        self->delayed_send(self, st.settings.poll, tick_atom::value);
      },
      [=](dl_tick_atom) {
        retry_dead_letters(self);
        auto every = std::max<std::chrono::milliseconds>(self->state.settings.dead_letter_retry / 4,
                                                         std::chrono::seconds(1));
        self->delayed_send(self, every, dl_tick_atom::value);
      },
      [=](process_atom, std::uint32_t max_attempts) -> caf::result<OutboxReport> {
        auto& st = self->state;
        if (st.manual) return caf::make_error(caf::sec::runtime_error, "a delivery round is already running");
        auto rp = self->make_response_promise<OutboxReport>();
        st.manual = rp;
        st.manual_report = {};
        st.manual_max_attempts = max_attempts;
        st.manual_outstanding = 0;
        if (claim_due(self, 0, true) == 0) {
          st.manual.reset();
          rp.deliver(OutboxReport{});
        }
        return rp;
      },
      [=](stats_atom) -> OutboxStats {
        auto& st = self->state;
        OutboxStats s;
        auto pending = st.deps->journal->count(store::Table::outbox);
        auto dead = st.deps->journal->count(store::Table::dead_letter);
        s.pending = pending ? *pending : 0;
        s.dead_letters = dead ? *dead : 0;
        s.in_flight = st.in_flight.size();
        const std::string until = outbox::due_key(now_ms() + 1, "");
        auto first = st.deps->journal->scan(store::Table::outbox_due, "", "", 1);
        if (first && !first->empty()) {
          const auto& k = first->front().first;
          std::int64_t t = 0;
          for (int i = 0; i < 8 && i < static_cast<int>(k.size()); ++i)
            t = (t << 8) | static_cast<unsigned char>(k[static_cast<std::size_t>(i)]);
          s.oldest_due_at_ms = t;
        }
        for (std::string from;;) {
          auto rows = st.deps->journal->scan(store::Table::outbox_due, "", from, page);
          if (!rows || rows->empty()) break;
          bool done = false;
          for (const auto& [key, id] : *rows) {
            if (key >= until) {
              done = true;
              break;
            }
            ++s.due;
          }
          if (done || rows->size() < page) break;
          from = rows->back().first + '\0';
        }
        return s;
      },
      [=](dead_letters_atom) -> DeadLetters {
        std::vector<outbox::Message> out;
        for (std::string from;;) {
          auto rows = self->state.deps->journal->scan(store::Table::dead_letter, "", from, page);
          if (!rows) return Error(Code::store_error, rows.error.message);
          for (const auto& [id, row] : *rows)
            if (auto m = outbox::decode(row)) out.push_back(std::move(*m));
          if (rows->size() < page) break;
          from = rows->back().first + '\0';
        }
        return out;
      },
      [=](replay_atom, const std::string& id) -> caf::result<bool> {
        auto& st = self->state;
        auto row = st.deps->journal->get(store::Table::dead_letter, id);
        if (!row || !row->has_value()) return false;
        auto m = outbox::decode(**row);
        if (!m) return false;
        const auto now = now_ms();
        auto q = outbox::requeued(*m, now);
        store::WriteSet ws;
        ws.puts.push_back({store::Table::dead_letter, id, "", store::PutMode::erase});
        ws.puts.push_back({store::Table::outbox, id, outbox::encode(q), store::PutMode::insert_only});
        ws.puts.push_back({store::Table::outbox_due, outbox::due_key(now, id), id, store::PutMode::upsert});
        auto rp = self->make_response_promise<bool>();
        journal_append(self, *st.deps, std::move(ws))
            .then([=](store::WriteResult& wr) mutable { rp.deliver(wr.status == store::WriteStatus::ok); },
                  [=](caf::error&) mutable { rp.deliver(false); });
        return rp;
      },
      [=](job_done_atom, Completion& c) { c.run(); },
  };
}

}  // namespace

caf::actor spawn_outbox_supervisor(caf::actor_system& sys, DepsPtr deps,
                                   std::shared_ptr<adapters::OutboxSink> sink, OutboxSettings settings,
                                   OutboxCounters& counters) {
  return sys.spawn(supervisor, std::move(deps), std::move(sink), settings, &counters);
}

}  // namespace orch::actors
