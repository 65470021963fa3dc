// Server configuration from the command line and the environment.
//
// Flags win over environment variables; a blank (or all-space) variable is
// the same as an unset one, everywhere. Invalid values stop start-up with a
// message that names the variable or flag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace orch::http {

struct AuthConfig {
  std::string bearer_token;  // AUTH_BEARER_TOKEN
  std::string tenant_id = "prod";
  std::string caller_id = "prod";
  std::vector<std::string> scopes;  // AUTH_SCOPES; default: all but ops:admin
  std::string tokens_file;          // AUTH_TOKENS_FILE
};

struct Config {
  bool production = false;  // ENV=production|prod
  std::string bind_host = "127.0.0.1";
  int bind_port = 8080;
  std::string data_dir = "./data";
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  std::size_t http_threads = 64;
  std::size_t max_body_bytes = 1 << 20;
  std::int64_t cart_idle_seconds = 300;
  std::size_t lmdb_map_size_mb = 1024;
  std::size_t lmdb_map_max_mb = 65536;
  std::size_t scheduler_threads = 2;
  std::size_t backend_threads = 32;
  std::int64_t request_timeout_ms = 30000;
  std::uint64_t snapshot_every = 200;
  std::int64_t shutdown_delay_ms = 0;
  std::string demo_data_dir;  // empty: the embedded flower shop
  std::string demo_faults;    // DEMO_FAULTS (test aid)
  std::optional<std::int64_t> policy_max_total_minor;
  std::vector<std::string> policy_blocked_countries;
  std::int64_t recovery_interval_seconds = 30;
  std::string test_crash_at;  // ORCH_TEST_CRASH_AT (test aid)
  // Outbox and inbox.
  std::string outbox_webhook_url;
  std::string outbox_webhook_secret;
  std::uint32_t outbox_max_attempts = 8;
  std::int64_t outbox_backoff_ms = 100;
  std::int64_t outbox_backoff_max_ms = 60000;
  std::int64_t outbox_poll_ms = 200;
  std::size_t outbox_concurrency = 8;
  std::int64_t outbox_lease_ms = 30000;
  bool outbox_background = true;  // OUTBOX_DELIVERY=off: only POST /api/v1/ops/outbox/process delivers
  std::int64_t dead_letter_retry_seconds = 0;
  std::int64_t inbox_retention_hours = 168;
  // HTTP back-ends (each unset one is the demo back-end; production needs all six).
  std::string catalog_url, pricing_url, tax_url, geo_url, payment_url, receipt_url;
  std::int64_t provider_connect_timeout_ms = 2000;
  std::int64_t provider_timeout_ms = 10000;
  int provider_max_retries = 3;
  std::int64_t provider_retry_backoff_ms = 100;
  int provider_breaker_failures = 5;
  std::int64_t provider_breaker_open_ms = 5000;
  std::string public_base_url;
  AuthConfig auth;
};

// Reads one environment variable; nullopt when unset or blank (trimmed).
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup process_env();

struct ParsedConfig {
  std::optional<Config> config;  // set when start-up may go on
  bool help = false;             // --help was given
  std::string error;             // why start-up is refused
};

ParsedConfig parse_config(int argc, const char* const* argv, const EnvLookup& env);

// The --help text: every flag and environment variable.
std::string usage_text();

}  // namespace orch::http
