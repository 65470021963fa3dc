// The merchant's back-ends, as the orchestrator sees them.
//
// Each back-end is an interface with two kinds of implementation: an
// in-process demo (the embedded default, backed by the demo merchant's data)
// and an HTTP client speaking the original service's wire format. Calls are
// synchronous and may block (HTTP); callers decide where to run them (see
// Backends::in_process). Every call carries a CallContext so that HTTP
// implementations can send X-Request-Id and a stable Idempotency-Key.
//
// Results distinguish "the back-end answered no" (an empty optional, e.g. an
// unknown item) from "the back-end could not answer" (an Error with code
// BACKEND_UNAVAILABLE or BACKEND_ERROR).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/cart.hpp"
#include "events/checkout.hpp"
#include "events/error.hpp"

namespace orch::adapters {

struct CallContext {
  std::string request_id;
  std::string tenant_id;
  std::string idempotency_key;  // stable per logical operation; empty for reads
};

class Catalog {
 public:
  virtual ~Catalog() = default;
  // nullopt: the item does not exist.
  virtual Result<std::optional<cart::CatalogItem>> get_item(const CallContext& ctx,
                                                            const std::string& item_id) = 0;
};

class Pricing {
 public:
  virtual ~Pricing() = default;
  // Prices of the cart's lines; lines not mentioned keep their price.
  virtual Result<std::vector<cart::LinePrice>> resolve_prices(const CallContext& ctx,
                                                              const cart::Cart& cart) = 0;
  // nullopt: the code is not a known discount.
  virtual Result<std::optional<cart::Discount>> resolve_discount(const CallContext& ctx,
                                                                 const std::string& code) = 0;
};

class Tax {
 public:
  virtual ~Tax() = default;
  virtual Result<std::int64_t> resolve_tax(const CallContext& ctx, const cart::Cart& cart) = 0;
};

using checkout::Location;

class Geo {
 public:
  virtual ~Geo() = default;
  // Whether the merchant may sell this cart to this location.
  virtual Result<bool> check(const CallContext& ctx, const cart::Cart& cart,
                             const std::optional<Location>& location) = 0;
};

struct AuthorizeRequest {
  std::string transaction_id;
  std::string tenant_id;
  std::string merchant_id;
  std::string cart_id;
  std::string currency;
  std::int64_t amount_minor = 0;
  const checkout::Request* request = nullptr;  // token, customer, location, AP2 proof
};

struct AuthorizeResult {
  bool authorized = false;
  std::string reference;
  std::string decline_reason;  // when !authorized
};

// capture, void and refund.
struct OperationRequest {
  std::string tenant_id;
  std::string merchant_id;
  std::string transaction_id;
  std::int64_t amount_minor = 0;
};

struct OperationResult {
  bool success = false;
  std::string reference;
  std::string error;  // when !success: the back-end's definitive refusal
};

class Payment {
 public:
  virtual ~Payment() = default;
  // An Error means the outcome is unknown (transport failure, 5xx): the
  // caller must treat the authorization as possibly existing.
  virtual Result<AuthorizeResult> authorize(const CallContext& ctx, const AuthorizeRequest& r) = 0;
  virtual Result<OperationResult> capture(const CallContext& ctx, const OperationRequest& r) = 0;
  virtual Result<OperationResult> void_authorization(const CallContext& ctx,
                                                     const OperationRequest& r) = 0;
  virtual Result<OperationResult> refund(const CallContext& ctx, const OperationRequest& r) = 0;
  // The back-end's state of a transaction ("captured", ...); nullopt when it
  // does not know the transaction.
  virtual Result<std::optional<std::string>> state(const CallContext& ctx,
                                                   const std::string& transaction_id) = 0;
};

struct ReceiptRequest {
  std::string transaction_id;
  std::string order_id;
  std::string tenant_id;
  std::string cart_id;
  std::vector<cart::Line> lines;
  std::string currency;
  checkout::Totals totals;
  std::string payment_reference;
  std::string correlation_id;
};

class Receipt {
 public:
  virtual ~Receipt() = default;
  virtual Result<std::string> generate(const CallContext& ctx, const ReceiptRequest& r) = 0;
};

struct Backends {
  std::shared_ptr<Catalog> catalog;
  std::shared_ptr<Pricing> pricing;
  std::shared_ptr<Tax> tax;
  std::shared_ptr<Geo> geo;
  std::shared_ptr<Payment> payment;
  std::shared_ptr<Receipt> receipt;
  // True when every back-end answers in-process without blocking, so that
  // actors may call them directly instead of going through the blocking pool.
  bool in_process = false;
};

}  // namespace orch::adapters
