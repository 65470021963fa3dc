#include "actors/front_actor.hpp"

#include <string>
#include <unordered_map>

#include "actors/cart_actor.hpp"
#include "actors/ids.hpp"
#include "actors/messages.hpp"
#include "actors/payment_actor.hpp"
#include "actors/streams.hpp"

namespace orch::actors {

namespace {

// A request for an entity whose actor is stopping: kept until it has stopped.
struct Held {
  caf::response_promise promise;
  caf::message message;
};

struct FrontState {
  DepsPtr deps;
  std::unordered_map<std::string, caf::actor> entities;  // key -> owner
  std::unordered_map<caf::actor_addr, std::string> keys;  // owner -> key (also while stopping)
  // Entities whose actor agreed to stop but has not stopped yet. Requests for
  // them wait here: a new actor is only started once the old one is gone, so
  // that it reads everything the old one wrote (no two owners at a time).
  std::unordered_map<std::string, std::vector<Held>> stopping;
  std::vector<caf::actor> readers;
  std::size_t next_reader = 0;
  static inline const char* name = "front";
};

using Self = caf::stateful_actor<FrontState>;

caf::actor& owner(Self* self, const std::string& tenant, const std::string& kind, const std::string& id,
                  bool fresh = false);

// The actor of an entity has stopped: requests held for it go to a new one.
void forget(Self* self, const caf::actor_addr& addr) {
  auto& st = self->state;
  auto k = st.keys.find(addr);
  if (k == st.keys.end()) return;
  const std::string key = k->second;
  st.keys.erase(k);
  auto e = st.entities.find(key);
  if (e != st.entities.end() && e->second.address() == addr) st.entities.erase(e);
  auto held = st.stopping.find(key);
  if (held == st.stopping.end()) return;
  auto requests = std::move(held->second);
  st.stopping.erase(held);
  if (requests.empty()) return;
  // The key is tenant\0kind\0id.
  auto a = key.find('\0'), b = key.find('\0', a + 1);
  auto& next = owner(self, key.substr(0, a), key.substr(a + 1, b - a - 1), key.substr(b + 1));
  for (auto& h : requests) h.promise.delegate(next, std::move(h.message));
}

// Where a request for `key` goes: the owner, or (while the old owner is
// stopping) the hold queue. Returns the result to hand back to CAF.
template <class... Ts>
caf::result<caf::message> route(Self* self, const std::string& tenant, const std::string& kind,
                                const std::string& id, bool fresh, Ts&&... xs) {
  auto& st = self->state;
  auto key = streams::entity_key(store::StreamId{tenant, kind, id});
  if (auto held = st.stopping.find(key); held != st.stopping.end()) {
    auto rp = self->make_response_promise();
    held->second.push_back(Held{rp, caf::make_message(std::forward<Ts>(xs)...)});
    return rp;
  }
  auto& a = owner(self, tenant, kind, id, fresh);
  auto rp = self->make_response_promise();
  rp.delegate(a, std::forward<Ts>(xs)...);
  return rp;
}

// The actor that owns (tenant, kind, id), spawned (and so rehydrated) on demand.
caf::actor& owner(Self* self, const std::string& tenant, const std::string& kind, const std::string& id,
                  bool fresh) {
  auto& st = self->state;
  auto key = streams::entity_key(store::StreamId{tenant, kind, id});
  auto& a = st.entities[key];
  if (!a) {
    auto front = caf::actor_cast<caf::actor>(self);
    if (kind == streams::payment_kind)
      a = spawn_payment_actor(self->system(), st.deps, front, tenant, id);
    else
      a = spawn_cart_actor(self->system(), st.deps, front, tenant, id, fresh);
    self->monitor(a);
    st.keys[a.address()] = key;
  }
  return a;
}

// Answers reads of entities that need no owner in memory (stateless).
caf::behavior reader(caf::event_based_actor*, DepsPtr deps) {
  return {
      [=](read_payment_atom, const std::string& tenant, const std::string& txn) -> PaymentRead {
        auto loaded = streams::load_payment(*deps->journal, streams::payment_stream(tenant, txn));
        if (!loaded) return loaded.error();
        if (!loaded->state.exists()) return Error(Code::not_found, "transaction not found");
        return std::move(loaded->state);
      },
      [=](read_order_atom, const std::string& tenant, const std::string& id) -> OrderRead {
        auto loaded = streams::load_order(*deps->journal, streams::order_stream(tenant, id));
        if (!loaded) return loaded.error();
        if (!loaded->state.exists()) return Error(Code::not_found, "order not found");
        return std::move(loaded->state);
      },
  };
}

caf::actor next_reader(Self* self) {
  auto& st = self->state;
  return st.readers[st.next_reader++ % st.readers.size()];
}

caf::behavior front_actor(Self* self, DepsPtr deps) {
  self->state.deps = std::move(deps);
  for (int i = 0; i < 2; ++i) self->state.readers.push_back(self->spawn(reader, self->state.deps));
  self->set_down_handler([=](caf::down_msg& dm) { forget(self, dm.source); });
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [key, a] : self->state.entities) self->send_exit(a, em.reason);
    for (auto& r : self->state.readers) self->send_exit(r, em.reason);
    self->quit(em.reason);
  });
  return {
      [=](cart_atom a, CartRequest& req) {
        bool fresh = std::holds_alternative<cart::CreateCart>(req.command);
        if (fresh) req.cart_id = new_uuid();
        auto tenant = req.tenant_id, id = req.cart_id;
        return route(self, tenant, streams::cart_kind, id, fresh, a, std::move(req));
      },
      [=](checkout_atom a, CheckoutCall& call) {
        auto tenant = call.request.tenant_id, id = call.request.cart_id;
        return route(self, tenant, streams::cart_kind, id, false, a, std::move(call));
      },
      [=](payment_atom a, PaymentCall& call) {
        auto tenant = call.tenant_id, id = call.transaction_id;
        return route(self, tenant, streams::payment_kind, id, false, a, std::move(call));
      },
      [=](resume_atom a, const std::string& tenant, const std::string& kind, const std::string& id) {
        route(self, tenant, kind, id, false, a);
      },
      [=](read_payment_atom a, const std::string& tenant, const std::string& id) {
        return self->delegate(next_reader(self), a, tenant, id);
      },
      [=](read_order_atom a, const std::string& tenant, const std::string& id) {
        return self->delegate(next_reader(self), a, tenant, id);
      },
      [=](passivate_atom, const std::string& key) {
        auto& st = self->state;
        auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
        auto e = st.entities.find(key);
        if (e != st.entities.end() && e->second.address() == sender) {
          // From now on requests for the key wait until the actor is gone
          // (forget(), on its down message), then go to a new one.
          st.entities.erase(e);
          st.stopping[key];
        }
        return passivate_atom::value;
      },
  };
}

}  // namespace

caf::actor spawn_front_actor(caf::actor_system& sys, DepsPtr deps) {
  return sys.spawn(front_actor, std::move(deps));
}

}  // namespace orch::actors
