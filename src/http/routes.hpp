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

// POST /api/v1/checkout/execute, POST /api/v1/payments/{capture,void,refund},
// GET /api/v1/payments/{id}, GET /api/v1/orders/{id}, POST /api/v1/ops/reconciliation
void add_checkout_routes(Router& router, actors::Runtime& runtime);

// /api/v1/ops/outbox/process, /api/v1/ops/outbox, /api/v1/ops/dead-letter,
// /api/v1/ops/dead-letter/replay, /api/v1/events/incoming
void add_ops_routes(Router& router, actors::Runtime& runtime);

}  // namespace orch::http
