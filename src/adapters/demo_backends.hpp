// The embedded demo merchant: catalog with stock, pricing with discount
// codes, tax and geo, all in-process. Loaded at start-up from the flower-shop
// data that ships inside the binary (demo/flower_shop/*.csv), or from a
// directory with the same files (DEMO_DATA_DIR).
//
// Rules: prices come from products.csv; stock from inventory.csv; discount
// codes from discounts.csv (percentage or fixed_amount); tax is 10 % of the
// discounted subtotal, floored; geo refuses only country "ZZ".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "adapters/backends.hpp"

namespace orch::adapters {

struct DemoData {
  struct Product {
    std::string id;
    std::string title;
    std::int64_t price_minor = 0;
    std::int64_t stock = 0;
  };
  std::map<std::string, Product> products;
  std::map<std::string, cart::Discount> discounts;
};

// From the embedded copy of demo/flower_shop.
Result<DemoData> load_embedded_demo_data();
// From a directory holding products.csv, inventory.csv and discounts.csv.
Result<DemoData> load_demo_data(const std::string& dir);

// Tax of the demo merchant: 10 % of (subtotal - discount), floored, never < 0.
std::int64_t demo_tax(const cart::Cart& cart);

// All four demo back-ends over one data set (thread safe).
Backends make_demo_backends(DemoData data);

}  // namespace orch::adapters
