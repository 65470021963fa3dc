#include "actors/recovery.hpp"

#include <spdlog/spdlog.h>

#include "actors/messages.hpp"
#include "actors/streams.hpp"

namespace orch::actors {

namespace {

using tick_atom = caf::atom_constant<caf::atom("rtick")>;

// Splits an index key "<prefix>\0<tenant>\0<id>".
bool split_key(const std::string& key, std::string& tenant, std::string& id) {
  auto a = key.find('\0');
  if (a == std::string::npos) return false;
  auto b = key.find('\0', a + 1);
  if (b == std::string::npos) return false;
  tenant = key.substr(a + 1, b - a - 1);
  id = key.substr(b + 1);
  return !tenant.empty() && !id.empty();
}

// Pokes the owner of every index row under `prefix`; returns how many.
std::size_t sweep(caf::event_based_actor* self, const DepsPtr& deps, const caf::actor& front,
                  const std::string& prefix, const char* kind) {
  std::size_t n = 0;
  std::string from = prefix;
  for (;;) {
    auto rows = deps->journal->scan(store::Table::index, prefix, from, 512);
    if (!rows) {
      spdlog::error("recovery: cannot scan the index: {}", rows.error.message);
      return n;
    }
    for (const auto& [key, value] : *rows) {
      std::string tenant, id;
      if (split_key(key, tenant, id)) {
        self->send(front, resume_atom::value, tenant, std::string(kind), id);
        ++n;
      }
    }
    if (rows->size() < 512) return n;
    from = rows->back().first + '\0';
  }
}

caf::behavior recovery(caf::event_based_actor* self, DepsPtr deps, caf::actor front) {
  self->send(self, tick_atom::value, true);
  return {
      [=](tick_atom, bool first) {
        auto sagas = sweep(self, deps, front, std::string("saga") + '\0', streams::cart_kind);
        auto payments = sweep(self, deps, front, std::string("payment") + '\0', streams::payment_kind);
        if (first && (sagas || payments))
          spdlog::info("recovery: resuming {} checkout(s) and {} payment operation(s)", sagas, payments);
        self->delayed_send(self, deps->settings.recovery_interval, tick_atom::value, false);
      },
  };
}

}  // namespace

caf::actor spawn_recovery_supervisor(caf::actor_system& sys, DepsPtr deps, caf::actor front) {
  return sys.spawn(recovery, std::move(deps), std::move(front));
}

}  // namespace orch::actors
