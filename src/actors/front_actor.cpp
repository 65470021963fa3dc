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

struct FrontState {
  DepsPtr deps;
  std::unordered_map<std::string, caf::actor> entities;  // key -> owner
  std::unordered_map<caf::actor_addr, std::string> keys;  // owner -> key
  std::vector<caf::actor> readers;
  std::size_t next_reader = 0;
  static inline const char* name = "front";
};

using Self = caf::stateful_actor<FrontState>;

void forget(Self* self, const caf::actor_addr& addr) {
  auto& st = self->state;
  auto k = st.keys.find(addr);
  if (k == st.keys.end()) return;
  auto e = st.entities.find(k->second);
  if (e != st.entities.end() && e->second.address() == addr) st.entities.erase(e);
  st.keys.erase(k);
}

// The actor that owns (tenant, kind, id), spawned (and so rehydrated) on demand.
caf::actor& owner(Self* self, const std::string& tenant, const std::string& kind, const std::string& id,
                  bool fresh = false) {
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
      [=](cart_atom, CartRequest& req) {
        bool fresh = std::holds_alternative<cart::CreateCart>(req.command);
        if (fresh) req.cart_id = new_uuid();
        auto& a = owner(self, req.tenant_id, streams::cart_kind, req.cart_id, fresh);
        return self->delegate(a, cart_atom::value, std::move(req));
      },
      [=](checkout_atom, CheckoutCall& call) {
        auto& a = owner(self, call.request.tenant_id, streams::cart_kind, call.request.cart_id);
        return self->delegate(a, checkout_atom::value, std::move(call));
      },
      [=](payment_atom, PaymentCall& call) {
        auto& a = owner(self, call.tenant_id, streams::payment_kind, call.transaction_id);
        return self->delegate(a, payment_atom::value, std::move(call));
      },
      [=](resume_atom, const std::string& tenant, const std::string& kind, const std::string& id) {
        self->send(owner(self, tenant, kind, id), resume_atom::value);
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
          st.keys.erase(sender);
          st.entities.erase(e);
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
