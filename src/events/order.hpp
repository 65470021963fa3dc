// An order: what a completed checkout sold, kept as its own stream (kind
// "order") so that it can be read back (GET /api/v1/orders/{id}) and, later,
// fulfilled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "events/cart.hpp"
#include "events/checkout.hpp"

namespace orch::order {

struct Order {
  std::string order_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string transaction_id;
  std::string cart_id;
  std::string correlation_id;
  std::string currency;
  std::string status;  // "created"
  std::vector<cart::Line> lines;
  checkout::Totals totals;
  std::optional<std::string> receipt_payload;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;

  bool exists() const { return !order_id.empty(); }
};

struct Created {
  std::string order_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string transaction_id;
  std::string cart_id;
  std::string correlation_id;
  std::string currency;
  std::vector<cart::Line> lines;
  checkout::Totals totals;
};
struct ReceiptAttached {
  std::string content;
};

using EventBody = std::variant<Created, ReceiptAttached>;
struct Event {
  std::int64_t at_ms = 0;
  EventBody body;
};

void apply(Order& o, const Event& e);

// The order created by a saga that has just captured its payment.
Created created_from(const checkout::Saga& s, const std::string& order_id);

}  // namespace orch::order
