// Black-box harness: the real orchestrator binary as a child process on a
// free loopback port, with a fresh data directory, spoken to over HTTP.
//
// Every HTTP helper checks the uniform error shape of api.md 1 on every
// non-2xx response (JSON object with string error, code and request_id, the
// request_id equal to the X-Request-Id header), so no test can forget it.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/json.hpp"

namespace doctest {
template <class T>
struct StringMaker<std::optional<T>> {
  static String convert(const std::optional<T>& v) {
    if (!v) return "nullopt";
    return StringMaker<T>::convert(*v);
  }
};
}  // namespace doctest

namespace bb {

using namespace std::chrono_literals;
using Env = std::vector<std::pair<std::string, std::string>>;

// ------------------------------------------------------------------ files

// mkdtemp under /tmp; removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, std::string_view content);

// Lowercase hex SHA-256 (OpenSSL EVP).
std::string sha256_hex(std::string_view data);

// Paths of the binaries under test (ORCH_BIN, ORCH_REPLAY_BIN).
std::string orchestrator_bin();
std::string replay_bin();

// A free TCP port on 127.0.0.1 (bound to port 0, then released).
int free_port();

// --------------------------------------------------------------- processes

// A sanitizer report (ASan, LSan, UBSan, TSan) in a process's output, or
// "" when there is none. The server runs under the sanitizers in sanitizer
// builds; UBSan only prints, so its output is where its findings are.
std::string sanitizer_report(const std::string& output);

struct ProcessResult {
  int exit_code = -1000;  // exit status, or -signal, or -1000 on timeout
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs `bin args...` with exactly `env` (plus sanitizer variables of the
// test process), waits at most `timeout`; killed on timeout.
ProcessResult run_process(const std::string& bin, const std::vector<std::string>& args,
                          const Env& env, std::chrono::milliseconds timeout = 20s);

struct ServerOptions {
  Env env;                        // the child's whole environment (see env_for_child)
  std::vector<std::string> args;  // extra flags
  bool bind_flag = true;          // pass --bind 127.0.0.1:0
  bool data_dir_flag = true;      // pass --data-dir
  std::string data_dir;           // empty: a fresh directory of the server's own
};

// The orchestrator as a child process. The constructor starts it and waits
// for its "listening" banner (20 s); failures are doctest FAILs (they throw,
// ending the test case).
class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  bool running() const { return pid_ > 0; }

  // Polls GET /health/ready until 200.
  bool wait_ready(std::chrono::milliseconds timeout = 20s);
  void kill9();
  void sigterm();
  // Waits for the child to exit; returns its exit status (or -signal, or
  // -1000 on timeout, after which the child is killed).
  int wait_exit(std::chrono::milliseconds timeout = 15s);
  // SIGTERM + wait_exit.
  int terminate(std::chrono::milliseconds timeout = 15s);
  // Starts again on the same data dir (after kill9/terminate).
  void restart();
  // Starts again on the same data dir with another environment (which the
  // later restarts keep).
  void restart_with(Env env);

  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  void start();
  void check_logs() const;  // fails the test on a sanitizer report
  ServerOptions options_;
  std::unique_ptr<TempDir> dir_;  // logs, and the data dir unless given
  std::string data_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  int generation_ = 0;
  std::string out_path_, err_path_;
};

// -------------------------------------------------------------------- JSON

// A read-only cursor into a parsed document; missing members give an empty
// cursor whose accessors return nullopt, so checks fail instead of crashing.
class J {
 public:
  J() = default;
  explicit J(const orch::json::Value* v) : v_(v) {}
  J operator[](std::string_view key) const;
  J operator[](std::size_t index) const;
  J operator[](int index) const { return (*this)[static_cast<std::size_t>(index)]; }
  bool exists() const { return v_ != nullptr; }
  bool is_null() const { return v_ && v_->is_null(); }
  bool is_object() const { return v_ && v_->is_object(); }
  bool is_array() const { return v_ && v_->is_array(); }
  bool is_string() const { return v_ && v_->is_string(); }
  std::optional<std::int64_t> i() const;
  std::optional<std::uint64_t> u() const;
  std::optional<std::string> s() const;
  std::optional<bool> b() const;
  // Number of array items / object members; nullopt otherwise.
  std::optional<std::size_t> size() const;
  const orch::json::Value* raw() const { return v_; }
  std::string dump() const { return v_ ? v_->dump() : "<missing>"; }

 private:
  const orch::json::Value* v_ = nullptr;
};

// JSON string literal (with quotes), properly escaped.
std::string q(std::string_view s);

// -------------------------------------------------------------------- HTTP

struct Response {
  bool transport_ok = false;
  std::string transport_error;
  int status = 0;
  httplib::Headers headers;
  std::string body;
  std::shared_ptr<orch::json::Value> doc;  // parsed body, when it is JSON

  bool has_header(const std::string& name) const { return headers.find(name) != headers.end(); }
  std::string header(const std::string& name) const;
  J json() const { return J(doc.get()); }
  J operator[](std::string_view key) const { return json()[key]; }
  std::optional<std::string> code() const { return json()["code"].s(); }
  std::optional<std::int64_t> version() const { return json()["version"].i(); }
};

// Checks made on every response: transport ok, an X-Request-Id header, and
// for every non-2xx the uniform JSON error shape. Called by Http itself.
void check_response_shape(const Response& r, const std::string& what,
                          bool tolerate_transport_errors = false);

class Http {
 public:
  explicit Http(int port, bool keep_alive = true);
  void set_read_timeout(std::chrono::seconds s) { read_timeout_ = s; reset(); }

  Response get(const std::string& path, const httplib::Headers& headers = {});
  Response post_json(const std::string& path, const std::string& body,
                     const httplib::Headers& headers = {});
  // Any content type ("" sends no Content-Type header at all).
  Response post(const std::string& path, const std::string& body, const std::string& content_type,
                const httplib::Headers& headers = {});
  Response request(const std::string& method, const std::string& path, const std::string& body,
                   const std::string& content_type, const httplib::Headers& headers = {});
  int port() const { return port_; }
  // For tests that stop the server under load: a failed connection is then
  // an expected outcome, not a test failure (the response shape of every
  // answer that does arrive is still checked).
  void tolerate_transport_errors(bool on) { tolerate_transport_errors_ = on; }

 private:
  void reset();
  int port_;
  bool keep_alive_;
  bool tolerate_transport_errors_ = false;
  std::chrono::seconds read_timeout_{30};
  std::unique_ptr<httplib::Client> cli_;
  std::chrono::steady_clock::time_point last_use_{};
};

// Sends raw bytes on a fresh connection and reads until the server closes
// (or `timeout`). For requests httplib::Client cannot produce.
struct RawResponse {
  bool ok = false;  // a complete status line and headers were read
  int status = 0;
  std::string head;  // status line + headers
  std::string body;
};
RawResponse raw_request(int port, const std::string& bytes, std::chrono::milliseconds timeout = 10s);

// --------------------------------------------------------------- cart API

inline constexpr const char* commands_path = "/api/v1/cart/commands";
inline constexpr const char* checkout_path = "/api/v1/checkout/execute";

// A checkout request (api.md 4). json() renders it; location and customer
// only when set.
struct CheckoutRequest {
  std::string tenant_id = "dev";
  std::string merchant_id = "flower_shop";
  std::string cart_id;
  std::uint64_t cart_version = 0;
  std::string currency = "USD";
  std::int64_t amount_minor = 0;
  std::string token = "success_token";
  std::string idempotency_key;
  std::optional<std::string> country;  // location.country_code
  std::optional<std::string> email;    // customer.email
  std::string json() const;
};

// A cart made ready for checkout (start_checkout done).
struct ReadyCart {
  std::string cart_id;
  std::uint64_t version = 0;
  std::int64_t total_minor = 0;
  std::string body;  // the start_checkout response
  // A request that checks this cart out with `key`.
  CheckoutRequest request(const std::string& key) const;
};

class Api {
 public:
  explicit Api(int port, std::optional<std::string> token = std::nullopt, bool keep_alive = true)
      : http_(port, keep_alive), token_(std::move(token)) {}
  Http& http() { return http_; }
  void set_token(std::optional<std::string> token) { token_ = std::move(token); }

  // {"command": <command_json>, "cart_id": <cart_id>} (cart_id omitted when nullopt).
  Response command(const std::string& command_json, const std::optional<std::string>& cart_id = {});
  Response raw_body(const std::string& body, const httplib::Headers& extra = {});

  Response create_cart(const std::string& merchant = "flower_shop", const std::string& currency = "USD");
  Response add_item(const std::string& cart, const std::string& item, std::int64_t qty,
                    std::optional<std::uint64_t> expected_version = {});
  Response update_item_qty(const std::string& cart, const std::string& line, std::int64_t qty,
                           std::optional<std::uint64_t> expected_version = {});
  Response remove_item(const std::string& cart, const std::string& line,
                       std::optional<std::uint64_t> expected_version = {});
  Response apply_adjustment(const std::string& cart, const std::string& code,
                            std::optional<std::uint64_t> expected_version = {});
  Response get_cart(const std::string& cart);
  Response start_checkout(const std::string& cart, std::uint64_t cart_version);

  // create_cart that must succeed; returns the cart id.
  std::string new_cart(const std::string& merchant = "flower_shop", const std::string& currency = "USD");

  // ---- checkout and payments (api.md 4, 5)
  Response checkout(const CheckoutRequest& r) { return checkout_body(r.json()); }
  Response checkout_body(const std::string& body);
  // POST /api/v1/payments/{op} (op: capture, void, refund).
  Response payment(const std::string& op, const std::string& transaction_id, std::int64_t amount_minor,
                   const std::string& key, const std::string& tenant = "dev",
                   const std::string& merchant = "flower_shop");
  Response get_payment(const std::string& transaction_id);
  Response get_order(const std::string& order_id);
  Response reconcile(const std::vector<std::string>& transaction_ids);
  // create + add items + start_checkout, each required to succeed.
  ReadyCart ready_cart(const std::vector<std::pair<std::string, std::int64_t>>& items = {{"bouquet_roses", 2}},
                       const std::string& merchant = "flower_shop", const std::string& currency = "USD");

 private:
  httplib::Headers auth_headers(const httplib::Headers& extra) const;
  Http http_;
  std::optional<std::string> token_;
};

// Checks the projection invariants of a 200 cart response: line totals,
// subtotal = sum of lines, total = subtotal - discount + tax, tax = floor(10%
// of (subtotal - discount)) (the demo tax), discount = sum of adjustments.
void check_cart_invariants(const Response& r);

// A random v4-looking UUID (for carts that do not exist).
std::string random_uuid();

// ------------------------------------------- payment ledger, replay tool

// The demo payment back-end's ledger, DATA_DIR/demo-payment-ledger.jsonl.
struct LedgerLine {
  std::string op, key, txn, outcome, reference, detail;
  std::int64_t amount_minor = 0;
  bool replay = false;
  // A call that had an effect: not a replay, not a failed ("error") call.
  bool effect() const { return !replay && outcome != "error"; }
};
// Every line (none when the file does not exist); a line that is not the
// expected JSON fails the test.
std::vector<LedgerLine> read_ledger(const std::string& data_dir);
// Lines matching op (empty: any) and txn (empty: any) that had an effect.
std::size_t count_effects(const std::vector<LedgerLine>& ledger, const std::string& op,
                          const std::string& txn = "");
// "(op, key)" pairs seen with an effect more than once, one per line; "" when
// the back-end saw each operation at most once per idempotency key.
std::string ledger_duplicates(const std::vector<LedgerLine>& ledger);
std::string ledger_text(const std::vector<LedgerLine>& ledger);  // for messages

// orchestrator-replay --data-dir DIR tables TABLE: the rows' values.
std::vector<std::string> replay_table_values(const std::string& data_dir, const std::string& table);
// Every outbox message the server wrote, by id, wherever it is now: still in
// the outbox table, dead-lettered, or delivered to DATA_DIR/deliveries.jsonl
// (the default sink; a delivered row leaves the outbox table). Read with
// orchestrator-replay, also while the server runs.
struct OutboxMessage {
  std::string id, topic, tenant_id, correlation_id;
  std::string payload;  // the JSON event document
  std::string where;    // "outbox", "dead_letter" or "delivered"
};
std::map<std::string, OutboxMessage> outbox_messages(const std::string& data_dir);
// orchestrator-replay --data-dir DIR ARGS...
ProcessResult run_replay(const std::string& data_dir, const std::vector<std::string>& args);

// One entry of an AUTH_TOKENS_FILE (api.md 2).
struct TenantToken {
  std::string token, tenant_id, caller_id;
  std::vector<std::string> scopes;
};
// The file's JSON: [{token_sha256, tenant_id, caller_id, scopes}, ...].
std::string tokens_file_json(const std::vector<TenantToken>& tokens);
// Server options with exactly this environment.
ServerOptions with_env(Env env);

// Whether the error message of `r` contains `word`.
bool error_mentions(const Response& r, std::string_view word);

}  // namespace bb
