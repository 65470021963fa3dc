// orchestrator: the commerce orchestrator server.
//
// Start-up: configuration (flags and environment) -> logging -> back-ends ->
// journal and actors -> HTTP. Shutdown on SIGTERM/SIGINT: readiness turns
// 503, the listener closes, in-flight requests finish, the actors stop, the
// journal is flushed, exit 0.
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <cstdio>
#include <thread>

#include "actors/runtime.hpp"
#include "adapters/demo_backends.hpp"
#include "adapters/http_backends.hpp"
#include "adapters/outbox_sinks.hpp"
#include "http/config.hpp"
#include "http/logging.hpp"
#include "http/server.hpp"

namespace {

orch::Result<orch::adapters::Backends> make_backends(const orch::http::Config& config) {
  auto data = config.demo_data_dir.empty() ? orch::adapters::load_embedded_demo_data()
                                           : orch::adapters::load_demo_data(config.demo_data_dir);
  if (!data) return orch::Error(data.error().code, "demo merchant data: " + data.error().message);
  orch::adapters::DemoOptions options;
  options.payment_ledger_path = config.data_dir + "/demo-payment-ledger.jsonl";
  if (!config.demo_faults.empty()) {
    auto faults = orch::adapters::FaultPlan::parse(config.demo_faults);
    if (!faults) return faults.error();
    options.faults = *faults;
    spdlog::warn("DEMO_FAULTS is set: demo back-ends will fail on purpose ({})", config.demo_faults);
  }
  auto demo = orch::adapters::make_demo_backends(std::move(*data), std::move(options));
  if (!demo) return demo.error();
  orch::adapters::HttpBackendSettings http;
  http.catalog_url = config.catalog_url;
  http.pricing_url = config.pricing_url;
  http.tax_url = config.tax_url;
  http.geo_url = config.geo_url;
  http.payment_url = config.payment_url;
  http.receipt_url = config.receipt_url;
  http.connect_timeout = std::chrono::milliseconds(config.provider_connect_timeout_ms);
  http.timeout = std::chrono::milliseconds(config.provider_timeout_ms);
  http.max_retries = config.provider_max_retries;
  http.retry_backoff = std::chrono::milliseconds(config.provider_retry_backoff_ms);
  http.breaker_failures = config.provider_breaker_failures;
  http.breaker_open = std::chrono::milliseconds(config.provider_breaker_open_ms);
  return orch::adapters::with_http_backends(std::move(*demo), http);
}

orch::Result<std::shared_ptr<orch::adapters::OutboxSink>> make_outbox_sink(const orch::http::Config& config) {
  if (config.outbox_webhook_url.empty())
    return orch::adapters::make_file_sink(config.data_dir + "/deliveries.jsonl");
  orch::adapters::WebhookSettings s;
  s.url = config.outbox_webhook_url;
  s.secret = config.outbox_webhook_secret;
  s.connect_timeout = std::chrono::milliseconds(config.provider_connect_timeout_ms);
  s.timeout = std::chrono::milliseconds(config.provider_timeout_ms);
  return orch::adapters::make_webhook_sink(s);
}

void print_banner(const orch::http::Config& config, int port) {
  std::string host = config.bind_host.find(':') != std::string::npos ? "[" + config.bind_host + "]"
                                                                      : config.bind_host;
  if (host == "0.0.0.0") host = "127.0.0.1";
  std::string url = "http://" + host + ":" + std::to_string(port);
  std::printf("orchestrator listening on %s\n", url.c_str());
  std::printf("  mode: %s, data dir: %s\n", config.production ? "production" : "development",
              config.data_dir.c_str());
  if (!config.production) {
    std::printf(
        "  try: curl -s -X POST %s/api/v1/cart/commands -H 'Content-Type: application/json' \\\n"
        "         -d '{\"command\":{\"kind\":\"create_cart\",\"merchant_id\":\"flower_shop\","
        "\"currency\":\"USD\"}}'\n",
        url.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = orch::http::parse_config(argc, argv, orch::http::process_env());
  if (parsed.help) {
    std::fputs(orch::http::usage_text().c_str(), stdout);
    return 0;
  }
  if (!parsed.config) {
    std::fprintf(stderr, "orchestrator: %s\n", parsed.error.c_str());
    return 2;
  }
  const auto& config = *parsed.config;
  orch::http::setup_logging(config.log_level, config.log_format);

  // Signals are taken by one thread with sigwait; every other thread
  // (created below) inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    spdlog::critical("cannot create the data dir {}: {}", config.data_dir, ec.message());
    return 1;
  }
  auto backends = make_backends(config);
  if (!backends) {
    spdlog::critical("{}", backends.error().message);
    return 1;
  }
  auto sink = make_outbox_sink(config);
  if (!sink) {
    spdlog::critical("{}", sink.error().message);
    return 1;
  }

  orch::actors::RuntimeOptions options;
  options.journal.dir = config.data_dir;
  options.journal.map_size_mb = config.lmdb_map_size_mb;
  options.journal.max_map_size_mb = config.lmdb_map_max_mb;
  options.settings.idle_timeout = std::chrono::seconds(config.cart_idle_seconds);
  options.settings.snapshot_every = config.snapshot_every;
  options.backends = std::move(*backends);
  options.scheduler_threads = config.scheduler_threads;
  options.blocking_threads = config.backend_threads;
  options.request_timeout = std::chrono::milliseconds(config.request_timeout_ms);
  options.settings.policy.max_total_minor = config.policy_max_total_minor;
  options.settings.policy.blocked_countries = config.policy_blocked_countries;
  options.settings.recovery_interval = std::chrono::seconds(config.recovery_interval_seconds);
  options.settings.crash_at = config.test_crash_at;
  options.outbox_sink = *sink;
  options.outbox.retry = {config.outbox_max_attempts, config.outbox_backoff_ms, config.outbox_backoff_max_ms};
  options.outbox.poll = std::chrono::milliseconds(config.outbox_poll_ms);
  options.outbox.concurrency = config.outbox_concurrency;
  options.outbox.lease = std::chrono::milliseconds(config.outbox_lease_ms);
  options.outbox.dead_letter_retry = std::chrono::seconds(config.dead_letter_retry_seconds);
  options.outbox.background = config.outbox_background;
  options.inbox_retention = std::chrono::hours(config.inbox_retention_hours);
  if (!config.test_crash_at.empty())
    spdlog::warn("ORCH_TEST_CRASH_AT={}: the process will kill itself at that checkout step", config.test_crash_at);
  auto runtime = orch::actors::Runtime::start(std::move(options));
  if (!runtime) {
    spdlog::critical("cannot open the journal: {}", runtime.error().message);
    return 1;
  }

  orch::http::Server server(config, **runtime);
  auto port = server.bind();
  if (!port) {
    spdlog::critical("{}", port.error().message);
    (*runtime)->shutdown();
    return 1;
  }
  print_banner(config, *port);
  spdlog::info("listening on {}:{} ({} mode, data dir {}, outbox to {})", config.bind_host, *port,
               config.production ? "production" : "development", config.data_dir, (*sink)->describe());

  std::atomic<bool> serving{true};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!serving.load()) return;  // woken up by main at the end
    spdlog::info("received {}, draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server.begin_draining();
    if (config.shutdown_delay_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(config.shutdown_delay_ms));
    server.stop();
  });

  server.serve();  // returns once stopped and in-flight requests are done
  serving.store(false);
  (*runtime)->shutdown();
  spdlog::info("journal flushed, bye");
  pthread_kill(signal_thread.native_handle(), SIGTERM);  // no-op if it already returned
  signal_thread.join();
  return 0;
}
