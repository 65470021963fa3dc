#include "actors/runtime.hpp"
#include "http/cart_json.hpp"
#include "http/router.hpp"
#include "http/routes.hpp"

namespace orch::http {

void add_cart_routes(Router& router, actors::Runtime& runtime) {
  router.add("POST", "/api/v1/cart/commands", [&runtime](Exchange& ex) {
    auto body = ex.json_body();
    if (!body) return;
    auto parsed = parse_cart_command(*body);
    if (!parsed) return ex.fail(parsed.error());
    auto cart = runtime.cart_command(ex.principal().tenant_id, std::move(parsed->cart_id),
                                     std::move(parsed->command), ex.request_id());
    if (!cart) return ex.fail(cart.error());
    ex.reply_json(200, std::move(*cart));
  }, RouteOptions{true, "cart:write"});
}

}  // namespace orch::http
