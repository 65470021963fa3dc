// JSON mapping of cart commands (api.md 3; reference 3.5): the body
//   {"command": {"kind": "<kind>", ...}, "cart_id": "<uuid>"?}
// becomes a cart::Command plus the cart it addresses.
#pragma once

#include <string>

#include "events/cart.hpp"
#include "events/error.hpp"
#include "events/json.hpp"

namespace orch::http {

struct CartCommandRequest {
  cart::Command command;
  std::string cart_id;  // normalised UUID; empty for create_cart
};

// INVALID_BODY naming the field for shape errors, BAD_REQUEST for a cart id
// that is not a UUID, MISSING_CART_ID when a command needs a cart and none
// is given.
Result<CartCommandRequest> parse_cart_command(const json::Value& body);

}  // namespace orch::http
