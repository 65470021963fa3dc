// Appending through the journal writer, for entity actors.
#pragma once

#include "actors/deps.hpp"
#include "actors/messages.hpp"

namespace orch::actors {

// Sends `ws` to the journal writer; the answer (a store::WriteResult) comes
// once the write is durable. No timeout: the writer always answers, or CAF
// reports it gone, and a timer per write would put a clock entry (a lock and
// a tree insert) on the hottest path of the service.
template <class Self>
auto journal_append(Self* self, const Deps& deps, store::WriteSet ws) {
  return self->request(deps.writer, caf::infinite, append_atom::value, std::move(ws));
}

}  // namespace orch::actors
