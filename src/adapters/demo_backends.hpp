// The embedded demo merchant: catalog with stock, pricing with discount
// codes, tax and geo, all in-process. Loaded at start-up from the flower-shop
// data that ships inside the binary (demo/flower_shop/*.csv), or from a
// directory with the same files (DEMO_DATA_DIR).
//
// Rules: prices come from products.csv; stock from inventory.csv; discount
// codes from discounts.csv (percentage or fixed_amount); tax is 10 % of the
// discounted subtotal, floored; geo refuses only country "ZZ".
//
// Payment: declines the tokens "fail_token" and "fraud_token" and authorizes
// any other non-empty token (payment_instruments.csv uses "success_token").
// Like a real payment service it de-duplicates calls by idempotency key
// (a repeated key gets the first answer, without a second effect) and keeps
// its ledger across restarts: every call is appended to a JSON-lines file
// (<data dir>/demo-payment-ledger.jsonl) that is replayed at start-up. Void
// of an unknown transaction succeeds (nothing to void).
//
// Receipt: "Receipt txn=<transaction> cart=<cart> total=<total_minor>".
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "adapters/backends.hpp"
#include "adapters/faults.hpp"

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

struct DemoOptions {
  std::string payment_ledger_path;  // empty: in memory only
  std::shared_ptr<FaultPlan> faults;  // test aid, may be null
};

// All demo back-ends over one data set (thread safe). Fails when the payment
// ledger exists but cannot be read.
Result<Backends> make_demo_backends(DemoData data, DemoOptions options = {});

}  // namespace orch::adapters
