// FakeShop: the six merchant back-ends (catalog, pricing, tax, geo, payment,
// receipt) as one real HTTP server on 127.0.0.1, under the base path /shop,
// speaking the wire format of src/adapters/http_backends.hpp:
//
//   GET  /shop/items/{id}          the items added with add_item; else 404
//   GET  /shop/discounts/{code}    FAKE10 (10 %), FIXED300 (300); else 404
//   POST /shop/prices/resolve      each line's unit price: set_price's, or the
//                                  projection's own; 500 while pricing is down
//   POST /shop/tax/resolve         {"total_tax_minor": tax_minor}
//   POST /shop/geo/check           {"allowed": true}
//   POST /shop/authorize           authorizes any token but fail_token; one
//                                  effect per Idempotency-Key (a repeated key
//                                  gets the first answer again)
//   POST /shop/capture|void|refund one effect per Idempotency-Key
//   GET  /shop/state/{txn}         {"state": ...} as set by set_state; else 404
//   POST /shop/receipts/generate   {"content": "FAKE RECEIPT #n txn=... total=..."}
//
// Knobs (atomics) make it fail on purpose; the ledger records every payment
// effect; FakeHttp records every request.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"

namespace it {

class FakeShop {
 public:
  FakeShop();
  FakeShop(const FakeShop&) = delete;
  FakeShop& operator=(const FakeShop&) = delete;

  // http://127.0.0.1:<port>/shop
  std::string base() const { return http_.url("/shop"); }
  // The six *_BASE_URL at base(), short provider timeouts, 2 retries with a
  // 10 ms backoff; a variable of `extra` replaces the default of that name.
  bb::Env env(const bb::Env& extra = {}) const;

  // ---- the catalog and pricing
  void add_item(const std::string& id, const std::string& title, std::int64_t price_minor);
  void set_price(const std::string& id, std::int64_t unit_price_minor);
  // The payment state GET /state/{txn} reports.
  void set_state(const std::string& txn, const std::string& state);

  // ---- knobs
  std::atomic<std::int64_t> tax_minor{321};
  std::atomic<int> pricing_failures{0};    // the next N price resolutions answer 500
  std::atomic<bool> pricing_down{false};   // every price resolution answers 500
  std::atomic<int> pricing_status{0};      // not 0: price resolutions answer this status, body {}
  std::atomic<int> pricing_throttles{0};   // the next N price resolutions answer 429, Retry-After: 1
  std::atomic<int> capture_failures{0};    // the next N captures answer 500, without effect
  std::atomic<bool> capture_refuse{false}; // captures answer {"success": false}
  std::atomic<bool> capture_lost{false};   // captures: the effect, the state "Captured", then a 500
  std::atomic<int> authorize_delay_ms{0};  // authorize: the effect, then this long a wait
  std::atomic<int> receipt_failures{0};    // the next N receipt generations answer 500

  // ---- what happened
  struct Effect {
    std::string op;   // authorize, capture, void, refund
    std::string key;  // Idempotency-Key
    std::string txn;  // body transaction_id
    std::string reference;
    std::int64_t amount_minor = 0;
    int requests = 0;  // requests with this key (the first had the effect)
  };
  std::vector<Effect> effects(const std::string& op = "") const;
  // Receipt contents by transaction id.
  std::map<std::string, std::string> receipts() const;

  FakeHttp& http() { return http_; }
  // Requests whose path (after /shop) is `path` (or starts with it, for a
  // path ending in '/'), optionally of one method.
  std::vector<Seen> requests(const std::string& path, const std::string& method = "") const;

 private:
  void handle(const httplib::Request& req, httplib::Response& res);
  void payment_op(const std::string& op, const httplib::Request& req, httplib::Response& res);

  mutable std::mutex mu_;
  struct Item {
    std::string title;
    std::int64_t price_minor = 0;
  };
  std::map<std::string, Item> items_;
  std::map<std::string, std::int64_t> prices_;
  std::map<std::string, std::string> states_;
  std::map<std::pair<std::string, std::string>, Effect> effects_;  // (op, key)
  std::vector<std::pair<std::string, std::string>> order_;         // effects in order
  std::map<std::string, std::string> receipts_;
  int counter_ = 0;
  FakeHttp http_;  // last: its handler threads stop first
};

}  // namespace it
