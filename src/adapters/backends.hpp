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

struct Location {
  std::string country_code;
  std::string region;
  std::string postal_code;
};

class Geo {
 public:
  virtual ~Geo() = default;
  // Whether the merchant may sell this cart to this location.
  virtual Result<bool> check(const CallContext& ctx, const cart::Cart& cart,
                             const std::optional<Location>& location) = 0;
};

struct Backends {
  std::shared_ptr<Catalog> catalog;
  std::shared_ptr<Pricing> pricing;
  std::shared_ptr<Tax> tax;
  std::shared_ptr<Geo> geo;
  // True when every back-end answers in-process without blocking, so that
  // actors may call them directly instead of going through the blocking pool.
  bool in_process = false;
};

}  // namespace orch::adapters
