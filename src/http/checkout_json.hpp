// JSON mapping of checkout and payment requests (reference 3.6 and 3.9).
#pragma once

#include <string>
#include <vector>

#include "events/checkout.hpp"
#include "events/error.hpp"
#include "events/json.hpp"
#include "events/payment.hpp"

namespace orch::http {

// INVALID_BODY naming the field for shape errors; BAD_REQUEST when cart_id
// is not a UUID. Value rules are checked later (checkout::validate).
Result<checkout::Request> parse_checkout_request(const json::Value& body);

struct PaymentOperationRequest {
  std::string tenant_id;
  std::string merchant_id;
  std::string transaction_id;
  payment::Request op;
  std::string idempotency_key;
};

// Shape and value rules (ids, amount) of a lifecycle request.
Result<PaymentOperationRequest> parse_payment_request(const json::Value& body, payment::Op op);

// {"transaction_ids": [...]}: at most 1000 valid ids.
Result<std::vector<std::string>> parse_reconciliation_request(const json::Value& body);

}  // namespace orch::http
