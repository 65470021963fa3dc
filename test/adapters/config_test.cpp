// with_http_backends: URL checks, which back-ends get replaced, https, stats.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "adapters/demo_backends.hpp"
#include "fakes.hpp"

using namespace fakes;
namespace adapters = orch::adapters;
using orch::Code;

TEST_SUITE("config") {
  TEST_CASE("invalid URLs are refused with the variable's name") {
    for (const char* url :
         {"ftp://x", "http://", "not a url", "http://host:99999", "http://host:", "http://h/p?q=1",
          "http://user:pw@h", "http://h /x", "://h", "https://[::1"}) {
      auto s = fast_settings();
      s.payment_url = url;
      auto b = adapters::with_http_backends(adapters::Backends{}, s);
      INFO(url);
      REQUIRE_FALSE(b.ok());
      CHECK(b.error().message.rfind("PAYMENT_BASE_URL: ", 0) == 0);
      CHECK(b.error().message.find("pw") == std::string::npos);
    }
    auto s = fast_settings();
    s.catalog_url = "ftp://x";
    auto b = adapters::with_http_backends(adapters::Backends{}, s);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.rfind("CATALOG_BASE_URL: ", 0) == 0);
  }

  TEST_CASE("valid URLs; blank URLs keep the base back-end") {
    auto data = adapters::load_embedded_demo_data();
    REQUIRE(data.ok());
    auto demo = adapters::make_demo_backends(*data);
    REQUIRE(demo.ok());
    REQUIRE(demo->in_process);

    auto none = adapters::with_http_backends(*demo, fast_settings());
    REQUIRE(none.ok());
    CHECK(none->in_process);
    CHECK(none->catalog == demo->catalog);
    CHECK(adapters::http_backend_stats(*none).empty());

    auto s = fast_settings();
    s.payment_url = "https://payments.example.com/v1/";
    s.catalog_url = "HTTP://[::1]:8080/catalog";
    s.tax_url = "   ";
    auto mixed = adapters::with_http_backends(*demo, s);
    INFO((mixed ? std::string() : mixed.error().message));
    REQUIRE(mixed.ok());
    CHECK_FALSE(mixed->in_process);
    CHECK(mixed->tax == demo->tax);
    CHECK(mixed->pricing == demo->pricing);
    CHECK(mixed->payment != demo->payment);
    CHECK(mixed->catalog != demo->catalog);
    auto stats = adapters::http_backend_stats(*mixed);
    REQUIRE(stats.size() == 2);
    CHECK(stats[0].first == "catalog");
    CHECK(stats[1].first == "payment");
  }

  TEST_CASE("bad timing settings are refused") {
    auto s = fast_settings();
    s.timeout = std::chrono::milliseconds(0);
    auto b = adapters::with_http_backends(adapters::Backends{}, s);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.find("PROVIDER_TIMEOUT_MS") != std::string::npos);
    s = fast_settings();
    s.max_retries = -1;
    b = adapters::with_http_backends(adapters::Backends{}, s);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.find("PROVIDER_MAX_RETRIES") != std::string::npos);
  }

  TEST_CASE("an https URL to a plain-HTTP server fails cleanly") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"state":"captured"})");
    });
    auto s = fast_settings();
    s.max_retries = 1;
    s.payment_url = "https://127.0.0.1:" + std::to_string(fake.port());
    auto b = make(s);
    auto st = b.payment->state(adapters::CallContext{"req-1", "t1", ""}, "txn_1");
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == Code::backend_unavailable);
    CHECK(st.error().message.find("payment GET /state/txn_1") == 0);
  }

  TEST_CASE("https: the server certificate is verified (a self-signed one is refused)") {
    namespace fs = std::filesystem;
    fs::path dir = fs::temp_directory_path() / ("adapters-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
        " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      MESSAGE("openssl command line tool not available: skipped");
      fs::remove_all(dir);
      return;
    }
    httplib::SSLServer tls(cert.c_str(), key.c_str());
    REQUIRE(tls.is_valid());
    std::atomic<int> requests{0};
    tls.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
      ++requests;
      reply(res, 200, R"({"state":"captured"})");
    });
    int port = tls.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    std::thread t([&] { tls.listen_after_bind(); });
    while (!tls.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    auto s = fast_settings();
    s.connect_timeout = std::chrono::milliseconds(2000);
    s.timeout = std::chrono::milliseconds(2000);
    s.payment_url = "https://127.0.0.1:" + std::to_string(port);
    {
      auto b = make(s);
      auto st = b.payment->state(adapters::CallContext{"req-1", "t1", ""}, "txn_1");
      REQUIRE_FALSE(st.ok());
      CHECK(st.error().code == Code::backend_unavailable);
      CHECK(st.error().message.find("certificate verification failed") != std::string::npos);
      CHECK(st.error().message.find("attempts") ==
            std::string::npos);  // not retried: it would fail the same way
      CHECK(requests == 0);
    }
    tls.stop();
    t.join();
    fs::remove_all(dir);
  }

  TEST_CASE("stats count calls, retries and failures per back-end") {
    std::atomic<int> n{0};
    FakeServer fake([&](const httplib::Request& req, httplib::Response& res) {
      if (req.path.rfind("/items/", 0) == 0)
        reply(res, n++ % 2 == 0 ? 500 : 200, R"({"id":"x","title":"X","price_minor":1})");
      else
        reply(res, 200, "garbage");
    });
    auto b = make(all_at(fake.url()));
    adapters::CallContext ctx{"req-1", "t1", ""};
    REQUIRE(b.catalog->get_item(ctx, "x").ok());
    REQUIRE(b.catalog->get_item(ctx, "x").ok());
    REQUIRE_FALSE(b.tax->resolve_tax(ctx, orch::cart::Cart{}).ok());
    auto stats = adapters::http_backend_stats(b);
    REQUIRE(stats.size() == 6);
    const char* names[] = {"catalog", "pricing", "tax", "geo", "payment", "receipt"};
    for (std::size_t i = 0; i < 6; ++i) CHECK(stats[i].first == names[i]);
    CHECK(stats[0].second->calls == 2);
    CHECK(stats[0].second->retries == 2);
    CHECK(stats[0].second->failures == 0);
    CHECK(stats[2].second->calls == 1);
    CHECK(stats[2].second->failures == 1);
    CHECK(stats[1].second->calls == 0);
  }

}  // TEST_SUITE
