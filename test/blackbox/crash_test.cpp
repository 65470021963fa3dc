// Crash recovery of the checkout saga (api.md 4, 9; README "Test aids").
// ORCH_TEST_CRASH_AT=<point> makes the server SIGKILL itself at that step of
// the next checkout; a restart on the same data dir (without the variable)
// resumes the saga, and the retried request (same key) gets a terminal result.
// The demo payment ledger shows what reached the back-end: each operation at
// most once per idempotency key, never a second charge.
#include <algorithm>
#include <latch>
#include <set>
#include <thread>

#include "harness.hpp"

using namespace bb;

namespace {

std::string txn_of(const Response& r) { return r["transaction_id"].s().value_or(""); }

// orchestrator-replay check: exit 0 and problems=0.
void check_journal(const std::string& data_dir) {
  auto check = run_replay(data_dir, {"check"});
  INFO("replay check stdout:\n" << check.out << "\nstderr:\n" << check.err);
  CHECK_FALSE(check.timed_out);
  CHECK(check.exit_code == 0);
  CHECK(check.out.find("problems=0") != std::string::npos);
}

// Number of checkout streams (one per transaction) in the journal.
std::size_t checkout_streams(const std::string& data_dir) {
  auto s = run_replay(data_dir, {"streams", "--kind", "checkout"});
  INFO("replay streams stdout:\n" << s.out << "\nstderr:\n" << s.err);
  CHECK(s.exit_code == 0);
  return static_cast<std::size_t>(std::count(s.out.begin(), s.out.end(), '\n'));
}

// Sends `r` until it gets an answer that is not a transport failure (the
// restarted server may still be resuming), at most `timeout`.
Response send_until_answered(Api& api, const CheckoutRequest& r, std::chrono::seconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  api.http().tolerate_transport_errors(true);
  Response res;
  do {
    res = api.checkout(r);
    if (res.transport_ok) break;
    std::this_thread::sleep_for(100ms);
  } while (std::chrono::steady_clock::now() < deadline);
  api.http().tolerate_transport_errors(false);
  return res;
}

}  // namespace

TEST_SUITE("crash") {

TEST_CASE("a crash at each saga step is resumed after restart: a terminal result, no second effect") {
  for (std::string point : {"after_authorize", "after_capture", "after_order", "before_final"}) {
    CAPTURE(point);
    const bool completes = point != "after_authorize";
    ServerProcess server(with_env({{"ORCH_TEST_CRASH_AT", point}}));
    ReadyCart cart;
    CheckoutRequest req;
    {
      Api api(server.port());
      cart = api.ready_cart({{"bouquet_roses", 2}});
      req = cart.request("crash-" + point);
      req.country = "US";
      // The process kills itself during this request: any outcome is fine.
      api.http().tolerate_transport_errors(true);
      auto r = api.checkout(req);
      (void)r;
    }
    const int code = server.wait_exit(30s);
    REQUIRE_MESSAGE(code == -9, "the server should have killed itself with SIGKILL, exit status " << code
                                    << "\nstderr:\n" << server.stderr_text());
    const auto ledger_at_crash = read_ledger(server.data_dir());
    INFO("ledger at the crash:\n" << ledger_text(ledger_at_crash));
    CHECK(count_effects(ledger_at_crash, "authorize") == 1);
    CHECK(count_effects(ledger_at_crash, "capture") == (completes ? 1u : 0u));

    // The same data dir, without the variable: recovery resumes the saga.
    server.restart_with({});
    REQUIRE(server.wait_ready());
    Api api(server.port());
    auto r = send_until_answered(api, req);
    INFO("retry: " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
    const auto txn = txn_of(r);
    CHECK(txn.rfind("txn_", 0) == 0);
    if (completes) {
      CHECK(r["status"].s() == "completed");
      CHECK(r["payment_state"].s() == "captured");
      CHECK(r["order_id"].s().value_or("").rfind("ord_", 0) == 0);
      CHECK(r["totals_breakdown"]["total_minor"].i() == 7700);
      auto g = api.get_cart(cart.cart_id);
      CHECK(g["status"].s() == "checked_out");
      CHECK(g["checkout"].s() == txn);
      auto o = api.get_order(r["order_id"].s().value_or("x"));
      CHECK(o.status == 200);
      CHECK(o["transaction_id"].s() == txn);
      auto p = api.get_payment(txn);
      INFO("payment: " << p.body);
      CHECK(p["state"].s() == "captured");
      CHECK(p["captured_minor"].i() == 7700);
      CHECK(p["pending_operation"].is_null());
    } else {
      CHECK(r["status"].s() == "failed");
      CHECK(r["payment_state"].s() == "voided");
      CHECK(r["order_id"].is_null());
      auto g = api.get_cart(cart.cart_id);
      CHECK(g["status"].s() == "checkout_ready");
      CHECK(g["checkout"].is_null());
      auto p = api.get_payment(txn);
      INFO("payment: " << p.body);
      CHECK(p["state"].s() == "voided");
      CHECK(p["captured_minor"].i() == 0);
      CHECK(p["pending_operation"].is_null());
    }

    auto ledger = read_ledger(server.data_dir());
    INFO("ledger after recovery:\n" << ledger_text(ledger));
    CHECK(ledger_duplicates(ledger) == "");
    CHECK(count_effects(ledger, "authorize") == 1);
    CHECK(count_effects(ledger, "authorize", txn) == 1);
    CHECK(count_effects(ledger, "capture") == (completes ? 1u : 0u));
    CHECK(count_effects(ledger, "void") == (completes ? 0u : 1u));
    CHECK(count_effects(ledger, "refund") == 0);
    for (const auto& l : ledger) CHECK(l.txn == txn);
    CHECK(checkout_streams(server.data_dir()) == 1);
    check_journal(server.data_dir());

    // A second retry: the identical body, nothing new at the back-end.
    const auto ledger_text_before = read_file(server.data_dir() + "/demo-payment-ledger.jsonl");
    auto again2 = api.checkout(req);
    CHECK(again2.status == 200);
    CHECK(again2.body == r.body);
    CHECK(read_file(server.data_dir() + "/demo-payment-ledger.jsonl") == ledger_text_before);
    if (!completes) {
      // The released cart can be checked out with a new key.
      auto fresh = api.checkout(cart.request("crash-fresh-" + point));
      CHECK(fresh.status == 200);
      CHECK(fresh["status"].s() == "completed");
    }
    CHECK(server.terminate() == 0);
  }
}

TEST_CASE("kill -9 with 8 checkouts in flight: every retry gets a terminal result, no key captured twice") {
  ServerProcess server(with_env({{"DEMO_FAULTS", "payment.capture#*=delay:300"}, {"RECOVERY_INTERVAL_SECONDS", "1"}}));
  const int n = 8;
  std::vector<ReadyCart> carts;
  std::vector<CheckoutRequest> requests;
  {
    Api api(server.port());
    for (int i = 0; i < n; ++i) {
      carts.push_back(api.ready_cart({{"bouquet_roses", 1 + i % 2}, {"pot_ceramic", 1}}));
      requests.push_back(carts.back().request("inflight-" + std::to_string(i)));
    }
  }
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      Api mine(server.port());
      mine.http().tolerate_transport_errors(true);
      go.arrive_and_wait();
      mine.checkout(requests[i]);  // cut off by the kill: any outcome
    });
  // Kill once every authorization went through and the captures sleep (300 ms).
  const std::string ledger_file = server.data_dir() + "/demo-payment-ledger.jsonl";
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto text = read_file(ledger_file);
    std::size_t auths = 0;
    for (std::size_t at = text.find("\"op\":\"authorize\""); at != std::string::npos;
         at = text.find("\"op\":\"authorize\"", at + 1))
      ++auths;
    if (auths >= static_cast<std::size_t>(n)) break;
    std::this_thread::sleep_for(5ms);
  }
  // Let the sagas journal their authorizations; their captures are then asleep.
  std::this_thread::sleep_for(150ms);
  server.kill9();
  for (auto& t : threads) t.join();
  auto at_kill = read_ledger(server.data_dir());
  INFO("ledger at the kill:\n" << ledger_text(at_kill));
  CHECK(count_effects(at_kill, "authorize") == static_cast<std::size_t>(n));

  server.restart();
  REQUIRE(server.wait_ready());
  std::vector<Response> results(n);
  {
    std::latch go2(n);
    std::vector<std::thread> retries;
    for (int i = 0; i < n; ++i)
      retries.emplace_back([&, i] {
        Api mine(server.port());
        go2.arrive_and_wait();
        results[i] = mine.checkout(requests[i]);
      });
    for (auto& t : retries) t.join();
  }
  Api api(server.port());
  std::set<std::string> txns;
  for (int i = 0; i < n; ++i) {
    INFO("retry " << i << ": " << results[i].status << " " << results[i].body);
    REQUIRE(results[i].status == 200);
    auto status = results[i]["status"].s().value_or("");
    auto state = results[i]["payment_state"].s().value_or("");
    CHECK((status == "completed" || status == "failed"));
    const auto txn = txn_of(results[i]);
    txns.insert(txn);
    auto g = api.get_cart(carts[i].cart_id);
    if (status == "completed") {
      CHECK(state == "captured");
      CHECK(g["status"].s() == "checked_out");
      CHECK(g["checkout"].s() == txn);
    } else {
      CHECK(state == "voided");
      CHECK(g["status"].s() == "checkout_ready");
      CHECK(g["checkout"].is_null());
    }
    auto p = api.get_payment(txn);
    CHECK(p["state"].s() == state);
    CHECK(p["pending_operation"].is_null());
    // A second retry answers the same.
    CHECK(api.checkout(requests[i]).body == results[i].body);
  }
  CHECK(txns.size() == static_cast<std::size_t>(n));

  auto ledger = read_ledger(server.data_dir());
  INFO("ledger after recovery:\n" << ledger_text(ledger));
  CHECK(ledger_duplicates(ledger) == "");
  for (const auto& txn : txns) {
    CAPTURE(txn);
    CHECK(count_effects(ledger, "capture", txn) <= 1);
    CHECK(count_effects(ledger, "authorize", txn) == 1);
    // Captured or voided, never both.
    CHECK(count_effects(ledger, "capture", txn) + count_effects(ledger, "void", txn) == 1);
  }
  CHECK(count_effects(ledger, "authorize") == static_cast<std::size_t>(n));
  CHECK(checkout_streams(server.data_dir()) == static_cast<std::size_t>(n));
  check_journal(server.data_dir());
}

}  // TEST_SUITE
