// The event format on disk: every event is stored with a type name, a schema
// version and a JSON payload. Type names are stable ("cart.item_added");
// when a payload changes shape the schema version goes up and the decoder
// keeps reading every older version, so old journals stay readable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/cart.hpp"
#include "events/checkout.hpp"
#include "events/error.hpp"
#include "events/order.hpp"
#include "events/payment.hpp"

namespace orch::codec {

struct Encoded {
  std::string type;
  std::uint32_t schema = 1;
  std::string payload;  // JSON object
};

// ------------------------------------------------------------------- carts

Encoded encode(const cart::EventBody& e);
// A STORE_ERROR naming the type when the type or schema is unknown or the
// payload does not match it.
Result<cart::EventBody> decode_cart_event(std::string_view type, std::uint32_t schema,
                                          std::string_view payload);

// The cart as clients see it (api.md 3).
std::string cart_view_json(const cart::Cart& c);
// The complete state, for snapshots; read back by cart_from_snapshot.
std::string cart_snapshot_json(const cart::Cart& c);
Result<cart::Cart> cart_from_snapshot(std::string_view json);

// --------------------------------------------------------------- checkouts

Encoded encode(const checkout::EventBody& e);
Result<checkout::EventBody> decode_checkout_event(std::string_view type, std::uint32_t schema,
                                                  std::string_view payload);
// The saga state, for the replay tool.
std::string saga_json(const checkout::Saga& s);

// ---------------------------------------------------------------- payments

Encoded encode(const payment::EventBody& e);
Result<payment::EventBody> decode_payment_event(std::string_view type, std::uint32_t schema,
                                                std::string_view payload);
// GET /api/v1/payments/{id}: state, amounts and history.
std::string payment_view_json(const payment::Payment& p);

// ------------------------------------------------------------------ orders

Encoded encode(const order::EventBody& e);
Result<order::EventBody> decode_order_event(std::string_view type, std::uint32_t schema,
                                            std::string_view payload);
// GET /api/v1/orders/{id}: items, totals, status, transaction.
std::string order_view_json(const order::Order& o);

}  // namespace orch::codec
