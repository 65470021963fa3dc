// Retries, timeouts, idempotency, the circuit breaker and concurrent use.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "fakes.hpp"

using namespace fakes;
namespace adapters = orch::adapters;
using orch::Code;
using namespace std::chrono_literals;

namespace {

const adapters::CallContext read_ctx{"req-1", "t1", ""};
const char* const kItem = R"({"id":"item_1","title":"Test Product","price_minor":1999})";

const adapters::BackendCallStats* stats_of(const adapters::Backends& b, const std::string& name) {
  for (const auto& [n, s] : adapters::http_backend_stats(b))
    if (n == name) return s;
  return nullptr;
}

}  // namespace

TEST_SUITE("reliability") {
  TEST_CASE("500 then 200: success after exactly two requests") {
    std::atomic<int> n{0};
    FakeServer fake([&](const httplib::Request&, httplib::Response& res) {
      if (n++ == 0)
        reply(res, 500, R"({"error":"boom"})");
      else
        reply(res, 200, kItem);
    });
    auto b = make(all_at(fake.url()));
    auto item = b.catalog->get_item(read_ctx, "item_1");
    REQUIRE(item.ok());
    REQUIRE(item->has_value());
    CHECK(fake.count() == 2);
    auto* st = stats_of(b, "catalog");
    REQUIRE(st);
    CHECK(st->calls == 1);
    CHECK(st->retries == 1);
    CHECK(st->failures == 0);
  }

  TEST_CASE("429 with Retry-After: 0 is retried") {
    std::atomic<int> n{0};
    FakeServer fake([&](const httplib::Request&, httplib::Response& res) {
      if (n++ == 0) {
        reply(res, 429, R"({"error":"slow down"})");
        res.set_header("Retry-After", "0");
      } else {
        reply(res, 200, R"({"total_tax_minor":80})");
      }
    });
    auto b = make(all_at(fake.url()));
    auto tax = b.tax->resolve_tax(read_ctx, orch::cart::Cart{});
    REQUIRE(tax.ok());
    CHECK(*tax == 80);
    CHECK(fake.count() == 2);
  }

  TEST_CASE("500 forever: max_retries + 1 requests, then BACKEND_UNAVAILABLE") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) { reply(res, 500, "{}"); });
    auto s = all_at(fake.url());
    s.max_retries = 3;
    auto b = make(s);
    auto item = b.catalog->get_item(read_ctx, "item_1");
    REQUIRE_FALSE(item.ok());
    CHECK(item.error().code == Code::backend_unavailable);
    CHECK(item.error().message.find("catalog GET /items/item_1: HTTP 500") == 0);
    CHECK(fake.count() == 4);
    auto* st = stats_of(b, "catalog");
    REQUIRE(st);
    CHECK(st->failures == 1);
    CHECK(st->retries == 3);
  }

  TEST_CASE(
      "a back-end slower than the timeout: retried, then BACKEND_UNAVAILABLE, in bounded time") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(600ms);
      reply(res, 200, R"({"allowed":true})");
    });
    auto s = all_at(fake.url());
    s.max_retries = 1;
    auto b = make(s);
    auto t0 = std::chrono::steady_clock::now();
    auto geo = b.geo->check(read_ctx, orch::cart::Cart{}, std::nullopt);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(geo.ok());
    CHECK(geo.error().code == Code::backend_unavailable);
    CHECK(fake.count() == 2);
    CHECK(elapsed >= 500ms);  // two attempts of 300 ms each
    CHECK(elapsed < 3s);
  }

  TEST_CASE("a dropped connection is retried") {
    SUBCASE("once, then an answer") {
      DropServer drop(1, R"({"state":"captured"})");
      auto b = make(all_at(drop.url()));
      auto st = b.payment->state(read_ctx, "txn_1");
      INFO((st ? std::string() : st.error().message));
      REQUIRE(st.ok());
      REQUIRE(st->has_value());
      CHECK(**st == "captured");
      CHECK(drop.accepted() == 2);
    }
    SUBCASE("always: max_retries + 1 connections, then BACKEND_UNAVAILABLE") {
      DropServer drop(1000, "{}");
      auto s = all_at(drop.url());
      s.max_retries = 2;
      auto b = make(s);
      auto st = b.payment->state(read_ctx, "txn_1");
      REQUIRE_FALSE(st.ok());
      CHECK(st.error().code == Code::backend_unavailable);
      CHECK(drop.accepted() == 3);
    }
  }

  TEST_CASE("nothing listening: BACKEND_UNAVAILABLE") {
    int port;
    {
      FakeServer gone([](const httplib::Request&, httplib::Response&) {});
      port = gone.port();
    }
    auto b = make(all_at("http://127.0.0.1:" + std::to_string(port)));
    auto item = b.catalog->get_item(read_ctx, "item_1");
    REQUIRE_FALSE(item.ok());
    CHECK(item.error().code == Code::backend_unavailable);
  }

  TEST_CASE("404 and 400 are answered after exactly one request") {
    FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
      reply(res, req.path.find("bad") != std::string::npos ? 400 : 404, "{}");
    });
    auto b = make(all_at(fake.url()));
    REQUIRE(b.catalog->get_item(read_ctx, "missing").ok());
    CHECK(fake.count() == 1);
    auto bad = b.catalog->get_item(read_ctx, "bad");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == Code::backend_error);
    CHECK(fake.count() == 2);
    REQUIRE(b.payment->state(read_ctx, "missing").ok());
    CHECK(fake.count() == 3);
  }

  TEST_CASE("a payment POST without an idempotency key is never retried") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) { reply(res, 500, "{}"); });
    auto b = make(all_at(fake.url()));
    adapters::CallContext no_key{"req-1", "t1", ""};
    auto cap = b.payment->capture(no_key, adapters::OperationRequest{"t1", "m1", "txn_1", 100});
    REQUIRE_FALSE(cap.ok());
    CHECK(cap.error().code == Code::backend_unavailable);
    CHECK(fake.count() == 1);
    CHECK_FALSE(fake.last().has_header("Idempotency-Key"));

    orch::checkout::Request q;
    q.token = "tok_secret";
    adapters::AuthorizeRequest ar{"txn_1", "t1", "m1", "cart-1", "USD", 100, &q};
    auto auth = b.payment->authorize(no_key, ar);
    REQUIRE_FALSE(auth.ok());
    CHECK(fake.count() == 2);
    CHECK(auth.error().message.find("tok_secret") == std::string::npos);

    // With a key the same call is retried.
    adapters::CallContext keyed{"req-1", "t1", "txn_1:capture"};
    auto again = b.payment->capture(keyed, adapters::OperationRequest{"t1", "m1", "txn_1", 100});
    REQUIRE_FALSE(again.ok());
    CHECK(fake.count() == 2 + 4);
  }

  TEST_CASE("retries carry the same Idempotency-Key; a de-duplicating back-end acts once") {
    // The fake payment service performs each (operation, key) once; the first
    // answer of every operation is lost (503), so the client must retry.
    std::mutex mu;
    std::map<std::string, int> effects;   // op + key -> times performed
    std::map<std::string, int> attempts;  // op + key -> requests
    std::set<std::string> keys_seen;
    FakeServer fake([&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      std::string key = req.get_header_value("Idempotency-Key");
      keys_seen.insert(key);
      std::string id = req.path + "\n" + key;
      if (key.empty() || effects[id]++ == 0) {
        // performed now
      } else {
        effects[id]--;  // a duplicate: answered from the first result, no effect
      }
      if (attempts[id]++ == 0) {
        reply(res, 503, "{}");  // the effect happened, the answer is lost
        return;
      }
      if (req.path == "/authorize")
        reply(res, 200, R"({"authorized":true,"reference":"ref-123"})");
      else
        reply(res, 200, R"({"success":true,"reference":"cap-456"})");
    });
    auto b = make(all_at(fake.url()));
    orch::checkout::Request q;
    q.token = "tok_1";
    adapters::AuthorizeRequest ar{"txn_1", "t1", "m1", "cart-1", "USD", 100, &q};
    auto auth = b.payment->authorize(adapters::CallContext{"req-1", "t1", "txn_1:authorize"}, ar);
    REQUIRE(auth.ok());
    CHECK(auth->reference == "ref-123");
    auto cap = b.payment->capture(adapters::CallContext{"req-2", "t1", "txn_1:capture"},
                                  adapters::OperationRequest{"t1", "m1", "txn_1", 100});
    REQUIRE(cap.ok());
    CHECK(cap->reference == "cap-456");

    std::lock_guard<std::mutex> lock(mu);
    CHECK(attempts["/authorize\ntxn_1:authorize"] == 2);
    CHECK(attempts["/capture\ntxn_1:capture"] == 2);
    CHECK(effects["/authorize\ntxn_1:authorize"] == 1);
    CHECK(effects["/capture\ntxn_1:capture"] == 1);
    CHECK(keys_seen == std::set<std::string>{"txn_1:authorize", "txn_1:capture"});
    for (const auto& s : fake.seen()) {
      auto body = s.json();
      CHECK(body.find("idempotency_key")->as_string() == s.header("Idempotency-Key"));
    }
  }

  TEST_CASE("circuit breaker: opens after N failed calls, fails fast, probes, closes") {
    std::atomic<bool> healthy{false};
    FakeServer fake([&](const httplib::Request&, httplib::Response& res) {
      if (healthy)
        reply(res, 200, kItem);
      else
        reply(res, 500, "{}");
    });
    FakeServer tax_fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"total_tax_minor":1})");
    });
    auto s = fast_settings();
    s.catalog_url = fake.url();
    s.tax_url = tax_fake.url();
    s.max_retries = 0;
    s.breaker_failures = 3;
    s.breaker_open = 300ms;
    auto b = make(s);

    for (int i = 0; i < 3; ++i) {
      auto r = b.catalog->get_item(read_ctx, "item_1");
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().message.find("HTTP 500") != std::string::npos);
    }
    CHECK(fake.count() == 3);
    auto* st = stats_of(b, "catalog");
    REQUIRE(st);
    CHECK(st->breaker_opens == 1);

    // Open: fails at once, nothing reaches the back-end.
    auto t0 = std::chrono::steady_clock::now();
    auto fast = b.catalog->get_item(read_ctx, "item_1");
    CHECK(std::chrono::steady_clock::now() - t0 < 100ms);
    REQUIRE_FALSE(fast.ok());
    CHECK(fast.error().code == Code::backend_unavailable);
    CHECK(fast.error().message == "catalog: circuit open");
    CHECK(fake.count() == 3);

    // Other back-ends have their own breaker.
    CHECK(b.tax->resolve_tax(read_ctx, orch::cart::Cart{}).ok());

    SUBCASE("a successful probe closes it") {
      std::this_thread::sleep_for(350ms);
      healthy = true;
      auto probe = b.catalog->get_item(read_ctx, "item_1");
      REQUIRE(probe.ok());
      CHECK(fake.count() == 4);
      auto after = b.catalog->get_item(read_ctx, "item_1");
      REQUIRE(after.ok());
      CHECK(fake.count() == 5);
      CHECK(st->breaker_opens == 1);
    }
    SUBCASE("a failed probe opens it again") {
      std::this_thread::sleep_for(350ms);
      auto probe = b.catalog->get_item(read_ctx, "item_1");
      REQUIRE_FALSE(probe.ok());
      CHECK(probe.error().message.find("HTTP 500") != std::string::npos);
      CHECK(fake.count() == 4);
      CHECK(st->breaker_opens == 2);
      auto again = b.catalog->get_item(read_ctx, "item_1");
      REQUIRE_FALSE(again.ok());
      CHECK(again.error().message == "catalog: circuit open");
      CHECK(fake.count() == 4);
    }
  }

  TEST_CASE("definitive answers do not open the breaker") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) { reply(res, 404, "{}"); });
    auto s = all_at(fake.url());
    s.breaker_failures = 2;
    auto b = make(s);
    for (int i = 0; i < 5; ++i) REQUIRE(b.catalog->get_item(read_ctx, "x").ok());
    CHECK(fake.count() == 5);
  }

  TEST_CASE("16 threads at once against a healthy back-end all succeed") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(1ms);
      reply(res, 200, kItem);
    });
    auto s = all_at(fake.url());
    s.connect_timeout = 2000ms;  // 16 simultaneous connects on a busy machine
    s.timeout = 5000ms;
    auto b = make(s);
    constexpr int threads = 16, calls = 25;
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < calls; ++i) {
          adapters::CallContext ctx{"req-" + std::to_string(t) + "-" + std::to_string(i), "t1", ""};
          auto r = b.catalog->get_item(ctx, "item_1");
          if (r.ok() && r->has_value() && (*r)->price_minor == 1999) ++ok;
        }
      });
    for (auto& t : ts) t.join();
    CHECK(ok == threads * calls);
    CHECK(fake.count() == threads * calls);
    // Every request kept its own request id.
    std::set<std::string> ids;
    for (const auto& seen : fake.seen()) ids.insert(seen.header("X-Request-Id"));
    CHECK(ids.size() == static_cast<std::size_t>(threads * calls));
  }

}  // TEST_SUITE
