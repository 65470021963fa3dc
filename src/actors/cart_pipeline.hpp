// One cart command from start to events: asks the back-ends what the domain
// needs (catalog item, discount code), decides, then reprices and retaxes
// the resulting cart. Only sequencing and back-end calls live here; every
// rule is a call into src/events/cart.hpp.
//
// Runs wherever the caller puts it: inline in the cart actor when all
// back-ends are in-process, on the blocking pool otherwise. No CAF.
#pragma once

#include <vector>

#include "adapters/backends.hpp"
#include "events/cart.hpp"

namespace orch::actors {

Result<std::vector<cart::EventBody>> run_cart_command(const adapters::Backends& backends,
                                                      const adapters::CallContext& call,
                                                      const cart::Cart& cart,
                                                      const cart::Command& command,
                                                      const cart::Context& ctx);

}  // namespace orch::actors
