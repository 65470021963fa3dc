// Helpers of the integration tests, on top of the black-box harness
// (test/blackbox/harness.hpp): a recording HTTP server on 127.0.0.1 standing
// in for an outside party (the outbox webhook receiver, the merchant's
// back-ends), polling, HMAC, and readers of what the server delivered.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "harness.hpp"

namespace it {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One request a FakeHttp saw.
struct Seen {
  std::string method;
  std::string target;  // as sent, still percent-encoded
  std::string path;    // decoded by httplib
  httplib::Headers headers;
  std::string body;
  Clock::time_point at{};        // when it arrived
  Clock::time_point done_at{};   // when the handler returned (epoch: still running)
  int status = 0;                // the answer's status (0: still running)

  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const { return headers.find(name) != headers.end(); }
  bool done() const { return status != 0; }
  // The parsed body (nullptr when it is not JSON); the Value lives as long as `doc`.
  std::shared_ptr<orch::json::Value> json() const;
};

// An httplib::Server on 127.0.0.1 (any free port) that records every request
// and answers through a handler the test may swap at any time.
class FakeHttp {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Default handler: 200 {}.
  FakeHttp();
  explicit FakeHttp(Handler handler);
  ~FakeHttp();
  FakeHttp(const FakeHttp&) = delete;
  FakeHttp& operator=(const FakeHttp&) = delete;

  void set_handler(Handler handler);
  int port() const { return port_; }
  // http://127.0.0.1:<port><path>
  std::string url(const std::string& path = "") const;
  std::vector<Seen> seen() const;
  std::size_t count() const;
  // Requests whose handler has returned.
  std::vector<Seen> finished() const;

 private:
  void dispatch(const httplib::Request& req, httplib::Response& res);
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<Seen> seen_;
};

// A JSON answer.
void reply(httplib::Response& res, int status, const std::string& json_body);

// Polls `pred` every `every` until it holds or `timeout` passes; the final
// value of `pred`.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s,
                std::chrono::milliseconds every = 20ms);

// Lowercase hex HMAC-SHA256(key, data) (OpenSSL).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Parses `text`, REQUIREs success.
std::shared_ptr<orch::json::Value> parse(const std::string& text);

// DATA_DIR/deliveries.jsonl, the default outbox sink: one parsed line per
// delivery (REQUIREs every line to be JSON).
std::vector<std::shared_ptr<orch::json::Value>> read_deliveries(const std::string& data_dir);

// A completed checkout of a fresh ready cart (bouquet_roses x2) with `key`.
struct Checkout {
  std::string transaction_id, order_id, correlation_id;
  std::int64_t total_minor = 0;
  bb::Response response;
};
Checkout complete_checkout(bb::Api& api, const std::string& key);

// GET /api/v1/ops/outbox, REQUIREd to be 200.
bb::Response outbox_stats(bb::Http& http);
// GET /api/v1/ops/dead-letter, REQUIREd to be a 200 array.
bb::Response dead_letters(bb::Http& http);

// ORCH_* environment plus `extra`.
bb::Env env_with(bb::Env base, const bb::Env& extra);

}  // namespace it
