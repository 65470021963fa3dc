// Running back-end calls without blocking the actor scheduler.
//
// run_backend_work(self, deps, work, then): `work` is the part that may
// block (it calls back-ends); `then` consumes its result inside the actor.
// With in-process back-ends the work runs right here; otherwise it runs on
// the blocking pool and `then` comes back to the actor as a message, so the
// actor keeps serving other messages meanwhile.
#pragma once

#include <utility>

#include "actors/deps.hpp"
#include "actors/messages.hpp"

namespace orch::actors {

// Always on the blocking pool (work that blocks whatever the back-ends are,
// like writing to a webhook).
template <class Self, class Work, class Then>
void run_blocking(Self* self, BlockingExecutor& executor, Work work, Then then) {
  auto handle = caf::actor_cast<caf::actor>(self);
  executor.submit([handle, work = std::move(work), then = std::move(then)]() mutable {
    auto result = work();
    caf::anon_send(handle, job_done_atom::value,
                   Completion{[then = std::move(then), result = std::move(result)]() mutable {
                     then(std::move(result));
                   }});
  });
}

template <class Self, class Work, class Then>
void run_backend_work(Self* self, const Deps& deps, Work work, Then then) {
  if (deps.backends.in_process) {
    then(work());
    return;
  }
  run_blocking(self, *deps.executor, std::move(work), std::move(then));
}

}  // namespace orch::actors
