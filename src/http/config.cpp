#include "http/config.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <cstdlib>
#include <thread>

namespace orch::http {

namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    auto item = trim(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

template <class T>
bool parse_number(const std::string& s, T& out, T min, T max) {
  T v{};
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v < min || v > max) return false;
  out = v;
  return true;
}

bool parse_bind(const std::string& s, std::string& host, int& port) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string h = s.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  int p = 0;
  if (!parse_number(s.substr(colon + 1), p, 0, 65535)) return false;
  host = h;
  port = p;
  return true;
}

}  // namespace

EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    auto t = trim(v);
    if (t.empty()) return std::nullopt;
    return t;
  };
}

std::string usage_text() {
  return R"(orchestrator - commerce orchestrator server

usage: orchestrator [--bind HOST:PORT] [--data-dir DIR] [--help]

flags (win over the environment):
  --bind HOST:PORT     listen address (env BIND_ADDR, default 127.0.0.1:8080; port 0 = any free port)
  --data-dir DIR       where the journal lives (env DATA_DIR, default ./data)
  --help               this text

environment (blank means unset):
  ENV                  "production" or "prod" for production mode; anything else is development
  BIND_ADDR            see --bind
  DATA_DIR             see --data-dir
  LOG_LEVEL            trace|debug|info|warn|error|off (default info)
  LOG_FORMAT           text|json (default text)
  HTTP_THREADS         HTTP worker threads = concurrent connections served (default 64)
  MAX_BODY_BYTES       largest request body accepted (default 1048576)
  REQUEST_TIMEOUT_MS   how long a request waits for its actor (default 30000)
  CART_IDLE_SECONDS    an idle cart actor stops after this long (default 300)
  SCHEDULER_THREADS    actor scheduler threads (default: CPU count, at least 2)
  BACKEND_THREADS      threads for blocking back-end calls (default 32)
  LMDB_MAP_SIZE_MB     initial journal map size (default 1024); the map doubles when full
  LMDB_MAP_MAX_MB      largest map size (default 65536); beyond it writes fail with JOURNAL_FULL
  SNAPSHOT_EVERY       write an entity snapshot every N events (default 200, 0 = never)
  SHUTDOWN_DELAY_MS    on SIGTERM, report not-ready this long before closing the listener (default 0)
  DEMO_DATA_DIR        directory with products.csv, inventory.csv, discounts.csv (default: built-in flower shop)
  POLICY_MAX_TOTAL_MINOR    checkouts above this total are rejected (default: no limit)
  POLICY_BLOCKED_COUNTRIES  comma-separated country codes whose checkouts are rejected
  RECOVERY_INTERVAL_SECONDS how often unfinished checkouts and payment operations are retried (default 30)

outbox and inbox:
  OUTBOX_WEBHOOK_URL   deliver outbox messages by POST to this URL (default: append to <data dir>/deliveries.jsonl)
  OUTBOX_WEBHOOK_SECRET  HMAC-SHA256 key of the X-Signature header
  OUTBOX_MAX_ATTEMPTS  a message that keeps failing is dead-lettered after this many attempts (default 8)
  OUTBOX_BACKOFF_MS    first retry delay, doubled per attempt, with jitter (default 100)
  OUTBOX_BACKOFF_MAX_MS  longest retry delay (default 60000)
  OUTBOX_POLL_MS       how often the supervisor looks for due messages (default 200)
  OUTBOX_CONCURRENCY   deliveries in flight at once (default 8)
  OUTBOX_LEASE_MS      a delivery claims its message for this long (default 30000)
  OUTBOX_DELIVERY      "off": no background delivery, only POST /api/v1/ops/outbox/process (default on)
  DEAD_LETTER_RETRY_SECONDS  re-queue dead letters older than this (default 0 = never)
  INBOX_RETENTION_HOURS  incoming event ids are remembered this long (default 168)

HTTP back-ends (unset: the demo back-end; production needs all six):
  CATALOG_BASE_URL, PRICING_BASE_URL, TAX_BASE_URL, GEO_BASE_URL, PAYMENT_BASE_URL, RECEIPT_BASE_URL
  PROVIDER_CONNECT_TIMEOUT_MS  (default 2000)    PROVIDER_TIMEOUT_MS     per attempt (default 10000)
  PROVIDER_MAX_RETRIES         (default 3)       PROVIDER_RETRY_BACKOFF_MS  (default 100)
  PROVIDER_BREAKER_FAILURES    failures that open a back-end's circuit (default 5)
  PROVIDER_BREAKER_OPEN_MS     how long it stays open before a probe (default 5000)

test aids (never set these in production):
  DEMO_FAULTS          fail or delay the Nth call of a demo back-end operation, e.g.
                       "payment.capture#1=fail,receipt.generate#*=fail,payment.authorize#2=delay:300"
                       (actions: fail, lose, decline, delay:MS; see src/adapters/faults.hpp)
  ORCH_TEST_CRASH_AT   kill the process at a checkout step: after_authorize, after_capture,
                       after_order, before_final
  PUBLIC_BASE_URL      public URL of this service (required in production)
  AUTH_BEARER_TOKEN    a bearer token accepted by the server
  AUTH_TENANT_ID       tenant of AUTH_BEARER_TOKEN (default prod)
  AUTH_CALLER_ID       caller id of AUTH_BEARER_TOKEN (default prod)
  AUTH_SCOPES          comma-separated scopes of AUTH_BEARER_TOKEN (default: all but ops:admin)
  AUTH_TOKENS_FILE     JSON array of {token_sha256, tenant_id, caller_id, scopes}
)";
}

ParsedConfig parse_config(int argc, const char* const* argv, const EnvLookup& env) {
  ParsedConfig out;
  Config c;
  c.scheduler_threads = std::max(2u, std::thread::hardware_concurrency());
  std::optional<std::string> bind = env("BIND_ADDR");
  std::optional<std::string> data_dir = env("DATA_DIR");

  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value_of = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      if (a == flag && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (a == "--help" || a == "-h") {
      out.help = true;
      return out;
    } else if (a.rfind("--bind", 0) == 0) {
      bind = value_of("--bind");
      if (!bind) return ParsedConfig{std::nullopt, false, "--bind needs a value HOST:PORT"};
    } else if (a.rfind("--data-dir", 0) == 0) {
      data_dir = value_of("--data-dir");
      if (!data_dir || data_dir->empty())
        return ParsedConfig{std::nullopt, false, "--data-dir needs a directory"};
    } else {
      return ParsedConfig{std::nullopt, false, "unknown argument '" + a + "' (see --help)"};
    }
  }

  if (bind && !parse_bind(*bind, c.bind_host, c.bind_port))
    return ParsedConfig{std::nullopt, false,
                        "invalid bind address '" + *bind + "' (BIND_ADDR / --bind): expected HOST:PORT"};
  if (data_dir) c.data_dir = *data_dir;

  if (auto e = env("ENV")) c.production = (*e == "production" || *e == "prod");
  if (auto v = env("LOG_LEVEL")) c.log_level = *v;
  if (auto v = env("LOG_FORMAT")) c.log_format = *v;
  static const std::vector<std::string> levels = {"trace", "debug", "info", "warn",
                                                  "error", "critical", "off"};
  if (std::find(levels.begin(), levels.end(), c.log_level) == levels.end())
    return ParsedConfig{std::nullopt, false, "LOG_LEVEL must be one of trace, debug, info, warn, error, off"};
  if (c.log_format != "text" && c.log_format != "json")
    return ParsedConfig{std::nullopt, false, "LOG_FORMAT must be text or json"};

  std::string error;
  auto number = [&](const char* name, auto& field, auto min, auto max) {
    if (!error.empty()) return;
    auto v = env(name);
    if (!v) return;
    using T = std::decay_t<decltype(field)>;
    if (!parse_number<T>(*v, field, static_cast<T>(min), static_cast<T>(max)))
      error = std::string(name) + " must be an integer between " + std::to_string(min) + " and " +
              std::to_string(max) + " (got '" + *v + "')";
  };
  number("HTTP_THREADS", c.http_threads, 1, 4096);
  number("MAX_BODY_BYTES", c.max_body_bytes, 1024, 64 << 20);
  number("REQUEST_TIMEOUT_MS", c.request_timeout_ms, 100, 600000);
  number("CART_IDLE_SECONDS", c.cart_idle_seconds, 1, 86400 * 7);
  number("SCHEDULER_THREADS", c.scheduler_threads, 1, 256);
  number("BACKEND_THREADS", c.backend_threads, 1, 1024);
  number("LMDB_MAP_SIZE_MB", c.lmdb_map_size_mb, 1, 1 << 24);
  number("LMDB_MAP_MAX_MB", c.lmdb_map_max_mb, 1, 1 << 24);
  number("SNAPSHOT_EVERY", c.snapshot_every, 0, 1000000);
  number("SHUTDOWN_DELAY_MS", c.shutdown_delay_ms, 0, 60000);
  number("RECOVERY_INTERVAL_SECONDS", c.recovery_interval_seconds, 1, 86400);
  number("OUTBOX_MAX_ATTEMPTS", c.outbox_max_attempts, 1, 1000);
  number("OUTBOX_BACKOFF_MS", c.outbox_backoff_ms, 1, 3600000);
  number("OUTBOX_BACKOFF_MAX_MS", c.outbox_backoff_max_ms, 1, 86400000);
  number("OUTBOX_POLL_MS", c.outbox_poll_ms, 10, 60000);
  number("OUTBOX_CONCURRENCY", c.outbox_concurrency, 1, 256);
  number("OUTBOX_LEASE_MS", c.outbox_lease_ms, 100, 3600000);
  number("DEAD_LETTER_RETRY_SECONDS", c.dead_letter_retry_seconds, 0, 86400 * 30);
  number("INBOX_RETENTION_HOURS", c.inbox_retention_hours, 1, 24 * 365);
  number("PROVIDER_CONNECT_TIMEOUT_MS", c.provider_connect_timeout_ms, 1, 600000);
  number("PROVIDER_TIMEOUT_MS", c.provider_timeout_ms, 1, 600000);
  number("PROVIDER_MAX_RETRIES", c.provider_max_retries, 0, 20);
  number("PROVIDER_RETRY_BACKOFF_MS", c.provider_retry_backoff_ms, 0, 60000);
  number("PROVIDER_BREAKER_FAILURES", c.provider_breaker_failures, 1, 1000);
  number("PROVIDER_BREAKER_OPEN_MS", c.provider_breaker_open_ms, 1, 3600000);
  if (error.empty() && env("POLICY_MAX_TOTAL_MINOR")) {
    std::int64_t max = 0;
    number("POLICY_MAX_TOTAL_MINOR", max, 0, std::numeric_limits<std::int64_t>::max());
    c.policy_max_total_minor = max;
  }
  if (!error.empty()) return ParsedConfig{std::nullopt, false, error};
  c.lmdb_map_max_mb = std::max(c.lmdb_map_max_mb, c.lmdb_map_size_mb);

  if (auto v = env("DEMO_DATA_DIR")) c.demo_data_dir = *v;
  if (auto v = env("DEMO_FAULTS")) c.demo_faults = *v;
  if (auto v = env("OUTBOX_WEBHOOK_URL")) c.outbox_webhook_url = *v;
  if (auto v = env("OUTBOX_WEBHOOK_SECRET")) c.outbox_webhook_secret = *v;
  if (auto v = env("OUTBOX_DELIVERY")) {
    if (*v != "on" && *v != "off") return ParsedConfig{std::nullopt, false, "OUTBOX_DELIVERY must be on or off"};
    c.outbox_background = *v == "on";
  }
  if (auto v = env("CATALOG_BASE_URL")) c.catalog_url = *v;
  if (auto v = env("PRICING_BASE_URL")) c.pricing_url = *v;
  if (auto v = env("TAX_BASE_URL")) c.tax_url = *v;
  if (auto v = env("GEO_BASE_URL")) c.geo_url = *v;
  if (auto v = env("PAYMENT_BASE_URL")) c.payment_url = *v;
  if (auto v = env("RECEIPT_BASE_URL")) c.receipt_url = *v;
  if (auto v = env("POLICY_BLOCKED_COUNTRIES")) c.policy_blocked_countries = split_list(*v);
  if (auto v = env("ORCH_TEST_CRASH_AT")) {
    static const std::vector<std::string> points = {"after_authorize", "after_capture", "after_order",
                                                    "before_final"};
    if (std::find(points.begin(), points.end(), *v) == points.end())
      return ParsedConfig{std::nullopt, false,
                          "ORCH_TEST_CRASH_AT must be after_authorize, after_capture, after_order or before_final"};
    c.test_crash_at = *v;
  }
  if (auto v = env("PUBLIC_BASE_URL")) c.public_base_url = *v;
  if (auto v = env("AUTH_BEARER_TOKEN")) c.auth.bearer_token = *v;
  if (auto v = env("AUTH_TENANT_ID")) c.auth.tenant_id = *v;
  if (auto v = env("AUTH_CALLER_ID")) c.auth.caller_id = *v;
  if (auto v = env("AUTH_TOKENS_FILE")) c.auth.tokens_file = *v;
  c.auth.scopes = {"cart:write", "checkout:execute", "payments:write", "events:write"};
  if (auto v = env("AUTH_SCOPES")) c.auth.scopes = split_list(*v);

  if (c.production) {
    if (c.public_base_url.empty())
      return ParsedConfig{std::nullopt, false, "production config: PUBLIC_BASE_URL required in production"};
    if (c.auth.bearer_token.empty() && c.auth.tokens_file.empty())
      return ParsedConfig{std::nullopt, false,
                          "production config: AUTH_BEARER_TOKEN or AUTH_TOKENS_FILE required in production"};
    const std::pair<const char*, const std::string*> urls[] = {
        {"CATALOG_BASE_URL", &c.catalog_url}, {"PRICING_BASE_URL", &c.pricing_url},
        {"TAX_BASE_URL", &c.tax_url},         {"GEO_BASE_URL", &c.geo_url},
        {"PAYMENT_BASE_URL", &c.payment_url}, {"RECEIPT_BASE_URL", &c.receipt_url}};
    for (const auto& [name, value] : urls)
      if (value->empty())
        return ParsedConfig{std::nullopt, false,
                            std::string("production config: ") + name + " required in production"};
  }
  out.config = std::move(c);
  return out;
}

}  // namespace orch::http
