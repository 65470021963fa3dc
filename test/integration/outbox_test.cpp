// The outbox (api.md 6, 9; seed-reference 3.11-3.13, 9.1-9.2, 16 #4 #7 #8 #33,
// 17.3): a completed checkout writes order.created, payment.captured and
// receipt.requested; the supervisor delivers them without being asked, to
// DATA_DIR/deliveries.jsonl or to a webhook (a real HTTP server in this
// test), retries with backoff, dead-letters after OUTBOX_MAX_ATTEMPTS, and
// loses nothing to a kill -9.
#include <filesystem>
#include <map>
#include <set>

#include "support.hpp"

using namespace bb;
using namespace it;

namespace {

const std::set<std::string> checkout_topics = {"order.created", "payment.captured", "receipt.requested"};

// The webhook receiver: answers `status` after `delay_ms`.
struct Receiver {
  std::atomic<int> status{200};
  std::atomic<int> delay_ms{0};
  FakeHttp http{[this](const httplib::Request&, httplib::Response& res) {
    if (int d = delay_ms.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    int s = status.load();
    reply(res, s, s < 300 ? R"({"received":true})" : R"({"error":"receiver is failing"})");
  }};
};

// Requests by X-Event-Id, in arrival order.
std::map<std::string, std::vector<Seen>> by_event(const std::vector<Seen>& seen) {
  std::map<std::string, std::vector<Seen>> out;
  for (const auto& s : seen) out[s.header("X-Event-Id")].push_back(s);
  return out;
}

// Whether the receiver answered a delivery of `id` with a 2xx, started at or
// after `since`.
bool delivered_since(const FakeHttp& http, const std::string& id, Clock::time_point since = {}) {
  for (const auto& s : http.finished())
    if (s.header("X-Event-Id") == id && s.status >= 200 && s.status < 300 && s.at >= since) return true;
  return false;
}

std::int64_t stat(Http& http, const char* field) { return outbox_stats(http)[field].i().value_or(-1); }

Response process(Http& http, const std::string& body) {
  return http.post_json("/api/v1/ops/outbox/process", body);
}

Response replay(Http& http, const std::string& id) {
  return http.post_json("/api/v1/ops/dead-letter/replay", "{\"message_id\":" + q(id) + "}");
}

// Checks one delivered event document against its checkout.
void check_document(J p, const Checkout& c) {
  INFO("document: " << p.dump());
  REQUIRE(p.is_object());
  auto id = p["id"].s(), topic = p["topic"].s();
  REQUIRE(id.has_value());
  REQUIRE(topic.has_value());
  CHECK(id->rfind("msg_", 0) == 0);
  CHECK(checkout_topics.count(*topic) == 1);
  CHECK(p["tenant_id"].s() == "dev");
  CHECK(p["correlation_id"].s() == c.correlation_id);
  CHECK(p["occurred_at_ms"].i().value_or(0) > 0);
  J d = p["data"];
  REQUIRE(d.is_object());
  CHECK(d["transaction_id"].s() == c.transaction_id);
  CHECK(d["order_id"].s() == c.order_id);
  if (*topic == "order.created") {
    CHECK(d["total_minor"].i() == c.total_minor);
    CHECK(d["cart_id"].s().has_value());
  } else if (*topic == "payment.captured") {
    CHECK(d["amount_minor"].i() == c.total_minor);
    CHECK(d["payment_reference"].s() == c.response["payment_reference"].s());
  } else {
    CHECK(d["total_minor"].i() == c.total_minor);
    CHECK(d["receipt_status"].s() == "issued");
    CHECK(d["receipt_payload"].s() == c.response["receipt_payload"].s());
  }
}

void check_outbox_drained(Http& http, std::int64_t dead = 0) {
  CHECK(eventually([&] { return stat(http, "pending") == 0; }, 10s));
  auto s = outbox_stats(http);
  INFO("ops/outbox: " << s.body);
  CHECK(s["pending"].i() == 0);
  CHECK(s["due"].i() == 0);
  CHECK(s["in_flight"].i() == 0);
  CHECK(s["dead_letter"].i() == dead);
  CHECK(s["oldest_due_at_ms"].is_null());
}

}  // namespace

TEST_SUITE("outbox") {

TEST_CASE("default sink: the three messages of a checkout are appended to DATA_DIR/deliveries.jsonl") {
  ServerProcess server;
  Api api(server.port());
  auto c = complete_checkout(api, "sink-1");

  std::vector<std::shared_ptr<orch::json::Value>> lines;
  REQUIRE_MESSAGE(eventually([&] {
                    lines = read_deliveries(server.data_dir());
                    return lines.size() >= 3;
                  }),
                  "deliveries.jsonl has " << lines.size() << " lines after 10 s:\n"
                                          << read_file(server.data_dir() + "/deliveries.jsonl"));
  check_outbox_drained(api.http());
  lines = read_deliveries(server.data_dir());
  CHECK(lines.size() == 3);  // nothing failed: each message exactly once
  std::set<std::string> topics, ids;
  for (const auto& line : lines) {
    J l(line.get());
    INFO("line: " << l.dump());
    auto id = l["id"].s().value_or("");
    auto topic = l["topic"].s().value_or("");
    CHECK(l["tenant_id"].s() == "dev");
    CHECK(l["correlation_id"].s() == c.correlation_id);
    CHECK(l["attempt"].i() == 1);
    J p = l["payload"];
    CHECK(p["id"].s() == id);
    CHECK(p["topic"].s() == topic);
    check_document(p, c);
    topics.insert(topic);
    ids.insert(id);
  }
  CHECK(topics == checkout_topics);
  CHECK(ids.size() == 3);
  CHECK(dead_letters(api.http()).json().size() == std::size_t{0});

  // A second checkout: three more messages, with ids of their own.
  auto c2 = complete_checkout(api, "sink-2");
  REQUIRE(eventually([&] { return read_deliveries(server.data_dir()).size() >= 6; }));
  check_outbox_drained(api.http());
  lines = read_deliveries(server.data_dir());
  CHECK(lines.size() == 6);
  std::set<std::string> all;
  std::size_t second = 0;
  for (const auto& line : lines) {
    J l(line.get());
    all.insert(l["id"].s().value_or(""));
    if (l["correlation_id"].s() == c2.correlation_id) {
      ++second;
      check_document(l["payload"], c2);
    }
  }
  CHECK(all.size() == 6);
  CHECK(second == 3);
}

TEST_CASE("webhook: signed POSTs with X-Event-Id, X-Event-Type, Idempotency-Key to a URL with a path") {
  Receiver rx;
  const std::string secret = "whsec-integration-7f3a9c";
  ServerProcess server(with_env({{"OUTBOX_WEBHOOK_URL", rx.http.url("/hooks/v1/orchestrator")},
                                 {"OUTBOX_WEBHOOK_SECRET", secret}}));
  Api api(server.port());
  auto c = complete_checkout(api, "hook-1");

  REQUIRE_MESSAGE(eventually([&] { return rx.http.finished().size() >= 3; }),
                  "the receiver got " << rx.http.count() << " requests");
  check_outbox_drained(api.http());
  auto seen = rx.http.seen();
  CHECK(seen.size() == 3);
  std::set<std::string> topics, ids;
  for (const auto& s : seen) {
    INFO("request: " << s.method << " " << s.target << "\nbody: " << s.body);
    CHECK(s.method == "POST");
    CHECK(s.path == "/hooks/v1/orchestrator");
    CHECK(s.header("Content-Type").find("application/json") != std::string::npos);
    auto doc = s.json();
    REQUIRE_MESSAGE(doc != nullptr, "the webhook body is not JSON");
    J p(doc.get());
    check_document(p, c);
    CHECK(s.header("X-Event-Id") == p["id"].s());
    CHECK(s.header("X-Event-Type") == p["topic"].s());
    CHECK(s.header("Idempotency-Key") == p["id"].s());
    CHECK(s.header("X-Correlation-Id") == c.correlation_id);
    // The signature covers the exact bytes sent.
    CHECK(s.header("X-Signature") == "sha256=" + hmac_sha256_hex(secret, s.body));
    CHECK(s.header("X-Signature") != "sha256=" + hmac_sha256_hex(secret + "x", s.body));
    topics.insert(p["topic"].s().value_or(""));
    ids.insert(p["id"].s().value_or(""));
  }
  CHECK(topics == checkout_topics);
  CHECK(ids.size() == 3);
  // The webhook replaces the default sink.
  CHECK_FALSE(std::filesystem::exists(server.data_dir() + "/deliveries.jsonl"));
}

TEST_CASE("failing receiver: exactly OUTBOX_MAX_ATTEMPTS attempts with growing backoff, then dead letters; replay") {
  Receiver rx;
  rx.status = 500;
  // A short poll interval, so that the backoff and not the poll sets the pace.
  ServerProcess server(with_env({{"OUTBOX_WEBHOOK_URL", rx.http.url("/hook")},
                                 {"OUTBOX_MAX_ATTEMPTS", "3"},
                                 {"OUTBOX_BACKOFF_MS", "50"},
                                 {"OUTBOX_POLL_MS", "10"}}));
  Api api(server.port());
  Http& http = api.http();
  auto c = complete_checkout(api, "failing-1");

  REQUIRE_MESSAGE(eventually([&] { return stat(http, "dead_letter") == 3; }, 15s),
                  "ops/outbox: " << outbox_stats(http).body << "\nreceiver saw " << rx.http.count());
  std::this_thread::sleep_for(400ms);  // a 4th attempt would show up meanwhile
  auto events = by_event(rx.http.seen());
  REQUIRE(events.size() == 3);
  for (const auto& [id, attempts] : events) {
    CAPTURE(id);
    REQUIRE(attempts.size() == 3);
    for (const auto& a : attempts) {
      CHECK(a.status == 500);
      CHECK(a.body == attempts[0].body);  // the same document each time
    }
    using ms = std::chrono::milliseconds;
    auto g1 = std::chrono::duration_cast<ms>(attempts[1].at - attempts[0].at);
    auto g2 = std::chrono::duration_cast<ms>(attempts[2].at - attempts[1].at);
    INFO("gaps: " << g1.count() << " ms, " << g2.count() << " ms");
    CHECK(g1 >= 50ms);           // the first retry waits at least OUTBOX_BACKOFF_MS
    CHECK(g2 >= 100ms);          // then twice that
    CHECK(g2 * 4 >= g1 * 3);     // growing (generously)
  }

  auto dl = dead_letters(http);
  J list = dl.json();
  INFO("dead letters: " << dl.body);
  REQUIRE(list.size() == std::size_t{3});
  std::vector<std::string> dead_ids;
  std::int64_t previous = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    J e = list[i];
    auto id = e["id"].s().value_or("");
    dead_ids.push_back(id);
    CHECK(events.count(id) == 1);
    CHECK(checkout_topics.count(e["topic"].s().value_or("")) == 1);
    CHECK(e["tenant_id"].s() == "dev");
    CHECK(e["correlation_id"].s() == c.correlation_id);
    CHECK(e["attempts"].i() == 3);
    CHECK(e["last_error"].s().value_or("").find("500") != std::string::npos);
    CHECK_FALSE(e["payload"].exists());
    auto created = e["created_at_ms"].i().value_or(-1), last = e["last_attempt_at_ms"].i().value_or(-1),
         dead = e["dead_lettered_at_ms"].i().value_or(-1);
    CHECK(created > 0);
    CHECK(created <= last);
    CHECK(last <= dead);
    CHECK(dead >= previous);  // oldest first
    previous = dead;
  }
  auto s = outbox_stats(http);
  CHECK(s["pending"].i() == 0);
  CHECK(s["dead_letter"].i() == 3);

  // Healed receiver; replay one dead letter.
  rx.status = 200;
  auto unknown = replay(http, "msg_00000000-0000-4000-8000-000000000000");
  CHECK(unknown.status == 200);
  CHECK(unknown["replayed"].b() == false);
  auto bad = http.post_json("/api/v1/ops/dead-letter/replay", "{}");
  CHECK(bad.status >= 400);
  CHECK(bad.status < 500);

  const auto before_replay = Clock::now();
  auto r = replay(http, dead_ids[0]);
  CHECK(r.status == 200);
  CHECK(r["replayed"].b() == true);
  CHECK(eventually([&] { return delivered_since(rx.http, dead_ids[0], before_replay); }));
  CHECK(eventually([&] { return dead_letters(http).json().size() == std::size_t{2}; }));
  check_outbox_drained(http, 2);
  auto rest = dead_letters(http);
  for (std::size_t i = 0; i < 2; ++i) CHECK(rest.json()[i]["id"].s() != dead_ids[0]);
  CHECK(replay(http, dead_ids[0])["replayed"].b() == false);  // no longer a dead letter
  // The others stay dead letters: nobody replayed them.
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(delivered_since(rx.http, dead_ids[1]));
  CHECK_FALSE(delivered_since(rx.http, dead_ids[2]));
}

TEST_CASE("OUTBOX_DELIVERY=off: nothing is delivered until ops/outbox/process (reference #4, #7)") {
  ServerProcess server(with_env({{"OUTBOX_DELIVERY", "off"}}));
  Api api(server.port());
  Http& http = api.http();
  auto c = complete_checkout(api, "off-1");
  std::this_thread::sleep_for(700ms);  // several default poll intervals
  CHECK(read_deliveries(server.data_dir()).empty());
  auto s = outbox_stats(http);
  INFO("ops/outbox: " << s.body);
  CHECK(s["pending"].i() == 3);
  CHECK(s["due"].i() == 3);
  CHECK(s["in_flight"].i() == 0);
  CHECK(s["dead_letter"].i() == 0);
  CHECK(s["oldest_due_at_ms"].i().value_or(0) > 0);

  auto zero = process(http, R"({"max_attempts":0})");
  CHECK(zero.status == 400);
  CHECK(zero.code() == "VALIDATION_ERROR");

  auto p = process(http, R"({"max_attempts":3})");
  INFO("process: " << p.body);
  REQUIRE(p.status == 200);
  CHECK(p["processed"].b() == true);
  CHECK(p["delivered"].i() == 3);
  CHECK(p["retried"].i() == 0);
  CHECK(p["dead_lettered"].i() == 0);
  // The round answers once its results are recorded.
  auto lines = read_deliveries(server.data_dir());
  CHECK(lines.size() == 3);
  for (const auto& line : lines) check_document(J(line.get())["payload"], c);
  check_outbox_drained(http);
  CHECK(dead_letters(http).json().size() == std::size_t{0});

  // An empty outbox: processed, nothing done.
  auto again = process(http, R"({"max_attempts":3})");
  CHECK(again.status == 200);
  CHECK(again["processed"].b() == true);
  CHECK(again["delivered"].i() == 0);
  CHECK(again["retried"].i() == 0);
  CHECK(again["dead_lettered"].i() == 0);
  CHECK(read_deliveries(server.data_dir()).size() == 3);
}

TEST_CASE("OUTBOX_DELIVERY=off, failing receiver: process with max_attempts 1 dead-letters; replay (reference #33)") {
  Receiver rx;
  rx.status = 503;
  ServerProcess server(with_env({{"OUTBOX_DELIVERY", "off"}, {"OUTBOX_WEBHOOK_URL", rx.http.url("/hook")}}));
  Api api(server.port());
  Http& http = api.http();
  complete_checkout(api, "off-fail-1");
  std::this_thread::sleep_for(500ms);
  CHECK(rx.http.count() == 0);

  auto p = process(http, R"({"max_attempts":1})");
  INFO("process: " << p.body);
  REQUIRE(p.status == 200);
  CHECK(p["processed"].b() == true);
  CHECK(p["delivered"].i() == 0);
  CHECK(p["retried"].i() == 0);
  CHECK(p["dead_lettered"].i() == 3);
  CHECK(rx.http.count() == 3);
  CHECK(by_event(rx.http.seen()).size() == 3);

  auto dl = dead_letters(http);
  REQUIRE(dl.json().size() == std::size_t{3});
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(dl.json()[i]["attempts"].i() == 1);
    CHECK(dl.json()[i]["last_error"].s().value_or("").find("503") != std::string::npos);
    ids.push_back(dl.json()[i]["id"].s().value_or(""));
  }
  auto s = outbox_stats(http);
  CHECK(s["pending"].i() == 0);
  CHECK(s["dead_letter"].i() == 3);

  // Every dead letter back into the outbox: the dead-letter list empties.
  for (const auto& id : ids) CHECK(replay(http, id)["replayed"].b() == true);
  CHECK(dead_letters(http).json().size() == std::size_t{0});
  s = outbox_stats(http);
  CHECK(s["pending"].i() == 3);
  CHECK(s["dead_letter"].i() == 0);
  CHECK(rx.http.count() == 3);  // replaying is not delivering

  // Healed: one round delivers all three.
  rx.status = 200;
  auto ok = process(http, R"({"max_attempts":1})");
  CHECK(ok["delivered"].i() == 3);
  CHECK(ok["dead_lettered"].i() == 0);
  for (const auto& id : ids) CHECK(delivered_since(rx.http, id));
  check_outbox_drained(http);
}

TEST_CASE("OUTBOX_DELIVERY=off, failing receiver: each round counts an attempt, then dead letter (reference #8)") {
  Receiver rx;
  rx.status = 500;
  ServerProcess server(with_env({{"OUTBOX_DELIVERY", "off"},
                                 {"OUTBOX_WEBHOOK_URL", rx.http.url("/hook")},
                                 {"OUTBOX_BACKOFF_MS", "50"}}));
  Api api(server.port());
  Http& http = api.http();
  complete_checkout(api, "off-retry-1");

  auto first = process(http, R"({"max_attempts":2})");
  INFO("first round: " << first.body);
  CHECK(first["delivered"].i() == 0);
  CHECK(first["retried"].i() == 3);
  CHECK(first["dead_lettered"].i() == 0);
  auto s = outbox_stats(http);
  CHECK(s["pending"].i() == 3);
  CHECK(s["dead_letter"].i() == 0);
  // Due again after the backoff.
  REQUIRE(eventually([&] { return stat(http, "due") == 3; }, 5s));
  auto second = process(http, R"({"max_attempts":2})");
  INFO("second round: " << second.body);
  CHECK(second["delivered"].i() == 0);
  CHECK(second["retried"].i() == 0);
  CHECK(second["dead_lettered"].i() == 3);

  auto dl = dead_letters(http);
  REQUIRE(dl.json().size() == std::size_t{3});
  for (std::size_t i = 0; i < 3; ++i) CHECK(dl.json()[i]["attempts"].i() == 2);
  auto events = by_event(rx.http.seen());
  CHECK(events.size() == 3);
  for (const auto& [id, attempts] : events) {
    CAPTURE(id);
    CHECK(attempts.size() == 2);
  }
  s = outbox_stats(http);
  CHECK(s["pending"].i() == 0);
  CHECK(s["dead_letter"].i() == 3);
}

TEST_CASE("DEAD_LETTER_RETRY_SECONDS: dead letters come back by themselves and are delivered once the receiver works") {
  Receiver rx;
  rx.status = 500;
  ServerProcess server(with_env({{"OUTBOX_WEBHOOK_URL", rx.http.url("/hook")},
                                 {"OUTBOX_MAX_ATTEMPTS", "1"},
                                 {"DEAD_LETTER_RETRY_SECONDS", "1"}}));
  Api api(server.port());
  Http& http = api.http();
  complete_checkout(api, "dl-retry-1");
  REQUIRE_MESSAGE(eventually([&] { return stat(http, "dead_letter") == 3; }, 10s),
                  "ops/outbox: " << outbox_stats(http).body);
  std::set<std::string> ids;
  for (const auto& [id, attempts] : by_event(rx.http.seen())) ids.insert(id);
  REQUIRE(ids.size() == 3);

  rx.status = 200;
  const auto healed = Clock::now();
  CHECK_MESSAGE(eventually([&] {
                  for (const auto& id : ids)
                    if (!delivered_since(rx.http, id, healed)) return false;
                  return true;
                }, 15s),
                "ops/outbox: " << outbox_stats(http).body);
  CHECK(eventually([&] { return stat(http, "dead_letter") == 0; }, 5s));
  check_outbox_drained(http);
  CHECK(dead_letters(http).json().size() == std::size_t{0});
}

TEST_CASE("kill -9 during a delivery loses no message: every id arrives after the restart") {
  // With a short lease, and with the default 30 s lease: rows claimed by the
  // dead process are released at start-up, not when the lease runs out.
  for (std::string lease : {"500", ""}) {
    CAPTURE(lease);
    Receiver rx;
    rx.delay_ms = 1000;  // a slow receiver: the kill lands inside a delivery
    Env env{{"OUTBOX_WEBHOOK_URL", rx.http.url("/hook")}};
    if (!lease.empty()) env.emplace_back("OUTBOX_LEASE_MS", lease);
    ServerProcess server(with_env(env));
    Checkout c;
    {
      Api api(server.port());
      c = complete_checkout(api, "kill-1");
    }
    REQUIRE(eventually([&] { return rx.http.count() >= 1; }, 10s));
    REQUIRE(rx.http.finished().empty());  // still inside the first delivery
    server.kill9();

    // Every message is still in the outbox (none was recorded as delivered).
    auto rows = outbox_messages(server.data_dir());
    std::set<std::string> ids, topics;
    for (const auto& [id, m] : rows) {
      INFO("message " << id << " is in " << m.where);
      CHECK(m.where == "outbox");
      CHECK(m.correlation_id == c.correlation_id);
      ids.insert(id);
      topics.insert(m.topic);
    }
    CHECK(ids.size() == 3);
    CHECK(topics == checkout_topics);

    const auto restarted = Clock::now();
    server.restart();
    Api api(server.port());
    CHECK_MESSAGE(eventually([&] {
                    for (const auto& id : ids)
                      if (!delivered_since(rx.http, id, restarted)) return false;
                    return true;
                  }, 12s),
                  "ops/outbox: " << outbox_stats(api.http()).body);
    check_outbox_drained(api.http());
    // At least once, with stable ids: duplicates carry the same document, so
    // a receiver de-duplicating on X-Event-Id sees each message exactly once.
    auto events = by_event(rx.http.seen());
    CHECK(events.size() == 3);
    for (const auto& [id, attempts] : events) {
      CAPTURE(id);
      CHECK(ids.count(id) == 1);
      for (const auto& a : attempts) CHECK(a.body == attempts.front().body);
      auto doc = attempts.front().json();
      REQUIRE(doc != nullptr);
      check_document(J(doc.get()), c);
    }
  }
}

TEST_CASE("a receipt that failed during checkout is issued through the outbox and attached to the order") {
  ServerProcess server(with_env({{"DEMO_FAULTS", "receipt.generate#1=fail"}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto r = api.checkout(cart.request("receipt-1"));
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["payment_state"].s() == "captured");
  CHECK(r["receipt_status"].s() == "pending");
  CHECK(r["receipt_payload"].is_null());
  const auto txn = r["transaction_id"].s().value_or("");
  const auto order_id = r["order_id"].s().value_or("");
  REQUIRE(!order_id.empty());

  std::shared_ptr<orch::json::Value> receipt_line;
  REQUIRE_MESSAGE(eventually([&] {
                    for (const auto& l : read_deliveries(server.data_dir()))
                      if (J(l.get())["topic"].s() == "receipt.requested") receipt_line = l;
                    return receipt_line != nullptr;
                  }),
                  "deliveries.jsonl:\n" << read_file(server.data_dir() + "/deliveries.jsonl"));
  J d = J(receipt_line.get())["payload"]["data"];
  INFO("receipt.requested: " << J(receipt_line.get()).dump());
  CHECK(d["transaction_id"].s() == txn);
  CHECK(d["order_id"].s() == order_id);
  CHECK(d["receipt_status"].s() == "issued");
  auto content = d["receipt_payload"].s().value_or("");
  CHECK(content.find(txn) != std::string::npos);

  Response order;
  CHECK(eventually([&] {
    order = api.get_order(order_id);
    return order.status == 200 && order["receipt_payload"].is_string();
  }));
  INFO("order: " << order.body);
  CHECK(order["receipt_payload"].s() == content);
  CHECK(order["transaction_id"].s() == txn);
  check_outbox_drained(api.http());
}

TEST_CASE("a receipt that keeps failing: receipt.requested is retried, then dead-lettered; the others are delivered") {
  ServerProcess server(with_env({{"DEMO_FAULTS", "receipt.generate#*=fail"},
                                 {"OUTBOX_MAX_ATTEMPTS", "2"},
                                 {"OUTBOX_BACKOFF_MS", "50"},
                                 {"OUTBOX_POLL_MS", "20"}}));
  Api api(server.port());
  Http& http = api.http();
  auto cart = api.ready_cart({{"bouquet_roses", 1}});
  auto r = api.checkout(cart.request("receipt-never"));
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["receipt_status"].s() == "pending");
  const auto order_id = r["order_id"].s().value_or("");

  REQUIRE_MESSAGE(eventually([&] { return stat(http, "dead_letter") == 1; }),
                  "ops/outbox: " << outbox_stats(http).body);
  auto dl = dead_letters(http);
  INFO("dead letters: " << dl.body);
  REQUIRE(dl.json().size() == std::size_t{1});
  CHECK(dl.json()[0]["topic"].s() == "receipt.requested");
  CHECK(dl.json()[0]["attempts"].i() == 2);
  CHECK(dl.json()[0]["last_error"].s().value_or("").find("receipt") != std::string::npos);
  check_outbox_drained(http, 1);
  std::multiset<std::string> topics;
  for (const auto& l : read_deliveries(server.data_dir())) topics.insert(J(l.get())["topic"].s().value_or(""));
  CHECK(topics == std::multiset<std::string>{"order.created", "payment.captured"});
  auto order = api.get_order(order_id);
  CHECK(order.status == 200);
  CHECK(order["receipt_payload"].is_null());
}

TEST_CASE("payment operations emit their own messages: a refund is delivered as payment.refunded") {
  ServerProcess server;
  Api api(server.port());
  auto c = complete_checkout(api, "refund-src-1");
  auto refund = api.payment("refund", c.transaction_id, 1000, "refund-1");
  INFO("refund: " << refund.body);
  REQUIRE(refund.status == 200);
  CHECK(refund["success"].b() == true);
  std::shared_ptr<orch::json::Value> line;
  REQUIRE_MESSAGE(eventually([&] {
                    for (const auto& l : read_deliveries(server.data_dir()))
                      if (J(l.get())["topic"].s() == "payment.refunded") line = l;
                    return line != nullptr;
                  }),
                  "deliveries.jsonl:\n" << read_file(server.data_dir() + "/deliveries.jsonl"));
  J p = J(line.get())["payload"];
  INFO("payment.refunded: " << p.dump());
  CHECK(p["id"].s() == J(line.get())["id"].s());
  CHECK(p["tenant_id"].s() == "dev");
  CHECK(p["data"]["transaction_id"].s() == c.transaction_id);
  CHECK(p["data"]["amount_minor"].i() == 1000);
  CHECK(p["data"]["state"].s() == "partially_refunded");
  CHECK(p["data"]["reference"].s() == refund["reference"].s());
  // The same request again is the stored answer: no second message.
  CHECK(api.payment("refund", c.transaction_id, 1000, "refund-1").body == refund.body);
  check_outbox_drained(api.http());
  std::this_thread::sleep_for(300ms);
  std::size_t refunded = 0;
  for (const auto& l : read_deliveries(server.data_dir()))
    refunded += J(l.get())["topic"].s() == "payment.refunded";
  CHECK(refunded == 1);
  CHECK(read_deliveries(server.data_dir()).size() == 4);
}

TEST_CASE("the outbox and dead-letter routes need ops:admin") {
  const std::string ops = "outbox-ops-token-0123456789", plain = "outbox-plain-token-0123456789";
  TempDir dir;
  auto file = dir.file("tokens.json");
  write_file(file, tokens_file_json({{ops, "tenant_ops", "op", {"ops:admin"}},
                                     {plain, "tenant_plain", "app", {"cart:write", "checkout:execute",
                                                                      "payments:write", "events:write"}}}));
  ServerProcess server(with_env({{"AUTH_TOKENS_FILE", file}}));
  Http http(server.port());
  const httplib::Headers as_ops{{"Authorization", "Bearer " + ops}}, as_plain{{"Authorization", "Bearer " + plain}};
  struct Route {
    const char* method;
    const char* path;
    const char* body;
  };
  for (const Route& route : {Route{"GET", "/api/v1/ops/outbox", ""}, Route{"GET", "/api/v1/ops/dead-letter", ""},
                             Route{"POST", "/api/v1/ops/outbox/process", R"({"max_attempts":1})"},
                             Route{"POST", "/api/v1/ops/dead-letter/replay", R"({"message_id":"msg_x"})"}}) {
    CAPTURE(route.path);
    const std::string type = route.method == std::string("POST") ? "application/json" : "";
    auto denied = http.request(route.method, route.path, route.body, type, as_plain);
    CHECK(denied.status == 403);
    CHECK(denied.code() == "FORBIDDEN_SCOPE");
    auto anonymous = http.request(route.method, route.path, route.body, type, {{"Authorization", "Bearer nope"}});
    CHECK(anonymous.status == 401);
    auto allowed = http.request(route.method, route.path, route.body, type, as_ops);
    CHECK(allowed.status == 200);
  }
}

TEST_CASE("an unusable OUTBOX_WEBHOOK_URL stops start-up with a message naming it") {
  for (const std::string url : {"ftp://127.0.0.1/hook", "127.0.0.1:9/hook", "http://"}) {
    CAPTURE(url);
    TempDir dir;
    auto r = run_process(orchestrator_bin(), {"--bind", "127.0.0.1:0", "--data-dir", dir.file("data")},
                         {{"OUTBOX_WEBHOOK_URL", url}}, 15s);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("OUTBOX_WEBHOOK_URL") != std::string::npos);
  }
}

TEST_CASE("SIGTERM during a slow delivery: the server exits 0 promptly, the message is delivered after the restart") {
  Receiver rx;
  rx.delay_ms = 4000;
  ServerProcess server(with_env({{"OUTBOX_WEBHOOK_URL", rx.http.url("/hook")}}));
  Checkout c;
  {
    Api api(server.port());
    c = complete_checkout(api, "term-1");
  }
  REQUIRE(eventually([&] { return rx.http.count() >= 3; }, 10s));
  const auto t0 = Clock::now();
  const int code = server.terminate(20s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  INFO("exit " << code << " after " << took.count() << " ms\nstderr:\n" << server.stderr_text());
  CHECK(code == 0);
  CHECK(took < 10s);
  std::set<std::string> ids;
  for (const auto& [id, m] : outbox_messages(server.data_dir())) ids.insert(id);
  CHECK(ids.size() == 3);
  rx.delay_ms = 0;
  const auto restarted = Clock::now();
  server.restart();
  Api api(server.port());
  CHECK(eventually([&] {
    for (const auto& id : ids)
      if (!delivered_since(rx.http, id, restarted)) return false;
    return true;
  }, 10s));
  check_outbox_drained(api.http());
}

TEST_CASE("hundreds of messages: counts, rounds and the dead-letter list page past 256 rows") {
  Receiver rx;
  rx.status = 500;
  ServerProcess server(with_env({{"OUTBOX_DELIVERY", "off"}, {"OUTBOX_WEBHOOK_URL", rx.http.url("/hook")}}));
  Api api(server.port());
  Http& http = api.http();
  constexpr int checkouts = 90;  // 270 messages
  for (int i = 0; i < checkouts; ++i) complete_checkout(api, "many-" + std::to_string(i));
  auto s = outbox_stats(http);
  CHECK(s["pending"].i() == 3 * checkouts);
  CHECK(s["due"].i() == 3 * checkouts);

  auto failed = process(http, R"({"max_attempts":1})");
  INFO("process: " << failed.body);
  CHECK(failed["dead_lettered"].i() == 3 * checkouts);
  auto dl = dead_letters(http);
  REQUIRE(dl.json().size() == std::size_t{3 * checkouts});
  std::set<std::string> ids;
  for (std::size_t i = 0; i < 3 * checkouts; ++i) ids.insert(dl.json()[i]["id"].s().value_or(""));
  CHECK(ids.size() == std::size_t{3 * checkouts});
  CHECK(outbox_stats(http)["dead_letter"].i() == 3 * checkouts);

  rx.status = 200;
  for (const auto& id : ids) REQUIRE(replay(http, id)["replayed"].b() == true);
  CHECK(outbox_stats(http)["pending"].i() == 3 * checkouts);
  auto ok = process(http, R"({"max_attempts":1})");
  INFO("process: " << ok.body);
  CHECK(ok["delivered"].i() == 3 * checkouts);
  std::set<std::string> delivered;
  for (const auto& seen : rx.http.finished())
    if (seen.status == 200) delivered.insert(seen.header("X-Event-Id"));
  CHECK(delivered == ids);
  check_outbox_drained(http);
}

}  // TEST_SUITE
