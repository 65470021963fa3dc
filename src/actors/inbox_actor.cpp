#include "actors/inbox_actor.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <unordered_map>

#include "actors/ids.hpp"
#include "actors/journal_append.hpp"
#include "actors/messages.hpp"
#include "events/inbox.hpp"

namespace orch::actors {

namespace {

using sweep_atom = caf::atom_constant<caf::atom("isweep")>;

struct Waiting {
  InboxCall call;
  caf::typed_response_promise<InboxReply> promise;
};

struct InboxState {
  DepsPtr deps;
  std::int64_t retention_ms = 0;
  // Keys being written, with the requests for the same key that arrived meanwhile.
  std::unordered_map<std::string, std::deque<Waiting>> writing;
  static inline const char* name = "inbox";
};

using Self = caf::stateful_actor<InboxState>;

void accept(Self* self, Waiting w);

// The write for `key` is done: answer the requests that waited for it.
void settle(Self* self, const std::string& key, bool written) {
  auto& st = self->state;
  auto it = st.writing.find(key);
  if (it == st.writing.end()) return;
  auto waiting = std::move(it->second);
  st.writing.erase(it);
  if (!written && !waiting.empty()) {
    // The first write failed: the next request tries again.
    auto next = std::move(waiting.front());
    waiting.pop_front();
    accept(self, std::move(next));
    for (auto& w : waiting) st.writing[key].push_back(std::move(w));
    return;
  }
  for (auto& w : waiting) w.promise.deliver(InboxReply(false));
}

void accept(Self* self, Waiting w) {
  auto& st = self->state;
  const auto key = inbox::key(w.call.tenant_id, w.call.message_id);
  if (auto it = st.writing.find(key); it != st.writing.end()) {
    it->second.push_back(std::move(w));
    return;
  }
  const auto now = now_ms();
  auto row = st.deps->journal->get(store::Table::inbox, key);
  if (!row) {
    w.promise.deliver(InboxReply(Error(Code::store_error, row.error.message)));
    return;
  }
  store::WriteSet ws;
  if (row->has_value()) {
    auto rec = inbox::decode(**row);
    if (rec && !inbox::expired(*rec, st.retention_ms, now)) {
      w.promise.deliver(InboxReply(false));
      return;
    }
    if (rec)  // seen, but long enough ago to be forgotten: replace it
      ws.puts.push_back({store::Table::index, inbox::expiry_key(rec->received_at_ms, key), "",
                         store::PutMode::erase});
  }
  inbox::Record rec{now, w.call.payload};
  ws.puts.push_back({store::Table::inbox, key, inbox::encode(rec),
                     row->has_value() ? store::PutMode::upsert : store::PutMode::insert_only});
  ws.puts.push_back({store::Table::index, inbox::expiry_key(now, key), "", store::PutMode::upsert});
  st.writing[key];
  auto promise = w.promise;
  journal_append(self, *st.deps, std::move(ws))
      .then(
          [=](store::WriteResult& wr) mutable {
            bool written = wr.status == store::WriteStatus::ok;
            if (written || wr.status == store::WriteStatus::conflict)
              promise.deliver(InboxReply(written));
            else
              promise.deliver(InboxReply(Error(
                  wr.status == store::WriteStatus::journal_full ? Code::journal_full : Code::store_error,
                  "cannot record the event: " + wr.message)));
            settle(self, key, written || wr.status == store::WriteStatus::conflict);
          },
          [=](caf::error& err) mutable {
            promise.deliver(InboxReply(Error(Code::store_error, self->system().render(err))));
            settle(self, key, false);
          });
}

// Forgets ids received longer ago than the retention.
void sweep(Self* self) {
  auto& st = self->state;
  const auto cutoff = now_ms() - st.retention_ms;
  std::string prefix = inbox::expiry_prefix;
  prefix.push_back('\0');
  const std::string until = inbox::expiry_key(cutoff, "");
  auto rows = st.deps->journal->scan(store::Table::index, prefix, prefix, 1000);
  if (!rows) return;
  store::WriteSet ws;
  for (const auto& [key, value] : *rows) {
    if (key >= until) break;
    ws.puts.push_back({store::Table::index, key, "", store::PutMode::erase});
    ws.puts.push_back({store::Table::inbox, key.substr(prefix.size() + 8), "", store::PutMode::erase});
  }
  if (ws.puts.empty()) return;
  spdlog::debug("inbox: forgetting {} expired message id(s)", ws.puts.size() / 2);
  journal_append(self, *st.deps, std::move(ws)).then([](store::WriteResult&) {}, [](caf::error&) {});
}

caf::behavior inbox_actor(Self* self, DepsPtr deps, std::chrono::milliseconds retention) {
  self->state.deps = std::move(deps);
  self->state.retention_ms = retention.count();
  auto every = std::clamp<std::chrono::milliseconds>(retention / 10, std::chrono::seconds(1),
                                                     std::chrono::hours(1));
  self->send(self, sweep_atom::value);
  return {
      [=](inbox_atom, InboxCall& call) -> caf::result<InboxReply> {
        auto rp = self->make_response_promise<InboxReply>();
        accept(self, Waiting{std::move(call), rp});
        return rp;
      },
      [=](sweep_atom) {
        sweep(self);
        self->delayed_send(self, every, sweep_atom::value);
      },
  };
}

}  // namespace

caf::actor spawn_inbox_actor(caf::actor_system& sys, DepsPtr deps, std::chrono::milliseconds retention) {
  return sys.spawn(inbox_actor, std::move(deps), retention);
}

}  // namespace orch::actors
