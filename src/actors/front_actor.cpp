#include "actors/front_actor.hpp"

#include <string>
#include <unordered_map>

#include "actors/cart_actor.hpp"
#include "actors/ids.hpp"
#include "actors/messages.hpp"
#include "actors/streams.hpp"

namespace orch::actors {

namespace {

struct FrontState {
  DepsPtr deps;
  std::unordered_map<std::string, caf::actor> entities;  // key -> owner
  std::unordered_map<caf::actor_addr, std::string> keys;  // owner -> key
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

caf::behavior front_actor(Self* self, DepsPtr deps) {
  self->state.deps = std::move(deps);
  self->set_down_handler([=](caf::down_msg& dm) { forget(self, dm.source); });
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& [key, owner] : self->state.entities) self->send_exit(owner, em.reason);
    self->quit(em.reason);
  });
  return {
      [=](cart_atom, CartRequest& req) {
        auto& st = self->state;
        bool fresh = std::holds_alternative<cart::CreateCart>(req.command);
        if (fresh) req.cart_id = new_uuid();
        auto key = streams::entity_key(streams::cart_stream(req.tenant_id, req.cart_id));
        auto& owner = st.entities[key];
        if (!owner) {
          owner = spawn_cart_actor(self->system(), st.deps, caf::actor_cast<caf::actor>(self),
                                   req.tenant_id, req.cart_id, fresh);
          self->monitor(owner);
          st.keys[owner.address()] = key;
        }
        return self->delegate(owner, cart_atom::value, std::move(req));
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
