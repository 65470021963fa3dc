// Route groups. Each adds its routes to the router; handlers stay a few
// lines: parse, call the runtime, render.
#pragma once

namespace orch::actors {
class Runtime;
}

namespace orch::http {

class Router;

// POST /api/v1/cart/commands
void add_cart_routes(Router& router, actors::Runtime& runtime);

}  // namespace orch::http
