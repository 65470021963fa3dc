// The inbox, POST /api/v1/events/incoming (api.md 6; seed-reference 3.10,
// 9.3, 16 #3 #32, 17.3 item 31): each (tenant, message id) is accepted once,
// empty ids are refused, an optional payload is kept, the decision is durable.
#include <latch>
#include <sstream>
#include <thread>

#include "support.hpp"

using namespace bb;
using namespace it;

namespace {

constexpr const char* incoming_path = "/api/v1/events/incoming";

Response incoming(Http& http, const std::string& body, const std::optional<std::string>& token = {}) {
  httplib::Headers h;
  if (token) h.emplace("Authorization", "Bearer " + *token);
  return http.post_json(incoming_path, body, h);
}

Response accept(Http& http, const std::string& id, const std::optional<std::string>& token = {}) {
  return incoming(http, "{\"message_id\":" + q(id) + "}", token);
}

std::optional<bool> accepted(const Response& r) {
  INFO("events/incoming: " << r.status << " " << r.body);
  CHECK(r.status == 200);
  return r["accepted"].b();
}

// The inbox table's rows (orchestrator-replay tables inbox): key and value.
struct InboxRow {
  std::string key;  // tenant + '\0' + message id (as printed by the tool)
  std::shared_ptr<orch::json::Value> value;
};
std::vector<InboxRow> inbox_rows(const std::string& data_dir) {
  auto r = run_replay(data_dir, {"tables", "inbox"});
  INFO("replay tables inbox:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<InboxRow> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto doc = parse(line);
    J j(doc.get());
    auto value = j["value"].s();
    REQUIRE_MESSAGE(value.has_value(), "an inbox row without a text value: " << line);
    std::string key = j["key"].s().value_or("");
    if (auto hex = j["key_hex"].s()) {  // not UTF-8: printed as hex
      key.clear();
      for (std::size_t i = 0; i + 1 < hex->size(); i += 2)
        key.push_back(static_cast<char>(std::stoi(hex->substr(i, 2), nullptr, 16)));
    }
    out.push_back({key, parse(*value)});
  }
  return out;
}

// The row of `message_id` (the key ends with it), or nullptr.
const InboxRow* find_row(const std::vector<InboxRow>& rows, const std::string& message_id) {
  for (const auto& row : rows)
    if (row.key.size() >= message_id.size() &&
        row.key.compare(row.key.size() - message_id.size(), message_id.size(), message_id) == 0)
      return &row;
  return nullptr;
}

}  // namespace

TEST_SUITE("inbox") {

TEST_CASE("an incoming message id is accepted once: true, then false (reference #3, #32)") {
  ServerProcess server;
  Http http(server.port());
  CHECK(accepted(accept(http, "webhook_evt_1")) == true);
  CHECK(accepted(accept(http, "webhook_evt_1")) == false);
  CHECK(accepted(accept(http, "webhook_evt_1")) == false);
  CHECK(accepted(accept(http, "m1")) == true);
  CHECK(accepted(accept(http, "m1")) == false);
  // Ids are exact: no case folding, no trimming.
  CHECK(accepted(accept(http, "WEBHOOK_EVT_1")) == true);
  CHECK(accepted(accept(http, "webhook_evt_1x")) == true);
  // A payload does not make a seen id new again.
  CHECK(accepted(incoming(http, R"({"message_id":"webhook_evt_1","payload":{"n":2}})")) == false);
}

TEST_CASE("ids are refused when empty or not 1..128 visible ASCII: 400 VALIDATION_ERROR") {
  ServerProcess server;
  Http http(server.port());
  for (const std::string& id : {std::string(), std::string(129, 'a'), std::string("has space"),
                                std::string("tab\there")}) {
    CAPTURE(id);
    auto r = accept(http, id);
    CHECK(r.status == 400);
    CHECK(r.code() == "VALIDATION_ERROR");
    CHECK(r["error"].s().value_or("").find("message_id") != std::string::npos);
  }
  // None of them was recorded; the longest valid id is fine.
  CHECK(accepted(accept(http, std::string(128, 'a'))) == true);
  auto missing = incoming(http, R"({"payload":{"a":1}})");
  CHECK(missing.status >= 400);
  CHECK(missing.status < 500);
  auto wrong_type = incoming(http, R"({"message_id":42})");
  CHECK(wrong_type.status >= 400);
  CHECK(wrong_type.status < 500);
  CHECK(inbox_rows(server.data_dir()).size() == 1);
}

TEST_CASE("the inbox is per tenant: the same id is accepted once by each tenant") {
  const std::string token_a = "inbox-tenant-a-token-0123456789";
  const std::string token_b = "inbox-tenant-b-token-9876543210";
  TempDir dir;
  auto file = dir.file("tokens.json");
  write_file(file, tokens_file_json({{token_a, "tenant_a", "alice", {"events:write"}},
                                     {token_b, "tenant_b", "bob", {"events:write"}}}));
  ServerProcess server(with_env({{"AUTH_TOKENS_FILE", file}}));
  Http http(server.port());
  CHECK(accepted(accept(http, "shared-evt-1", token_a)) == true);
  CHECK(accepted(accept(http, "shared-evt-1", token_b)) == true);
  CHECK(accepted(accept(http, "shared-evt-1")) == true);  // the dev tenant (no token)
  CHECK(accepted(accept(http, "shared-evt-1", token_a)) == false);
  CHECK(accepted(accept(http, "shared-evt-1", token_b)) == false);
  CHECK(accepted(accept(http, "shared-evt-1")) == false);
  CHECK(inbox_rows(server.data_dir()).size() == 3);
}

TEST_CASE("the optional payload is stored with the id") {
  ServerProcess server;
  Http http(server.port());
  const std::string payload = R"({"type":"payment.succeeded","amount_minor":7700,"tags":["a","b"],"nested":{"ok":true,"none":null}})";
  CHECK(accepted(incoming(http, R"({"message_id":"evt-with-payload","payload":)" + payload + "}")) == true);
  CHECK(accepted(accept(http, "evt-without-payload")) == true);
  CHECK(accepted(incoming(http, R"({"message_id":"evt-string-payload","payload":"plain text"})")) == true);

  auto rows = inbox_rows(server.data_dir());
  CHECK(rows.size() == 3);
  const InboxRow* with = find_row(rows, "evt-with-payload");
  REQUIRE(with != nullptr);
  J v(with->value.get());
  INFO("row: " << v.dump());
  CHECK(v["received_at_ms"].i().value_or(0) > 0);
  auto stored = v["payload"].s();
  REQUIRE(stored.has_value());
  auto doc = parse(*stored);
  J p(doc.get());
  CHECK(p["type"].s() == "payment.succeeded");
  CHECK(p["amount_minor"].i() == 7700);
  CHECK(p["tags"][1].s() == "b");
  CHECK(p["nested"]["ok"].b() == true);
  CHECK(p["nested"]["none"].is_null());

  const InboxRow* without = find_row(rows, "evt-without-payload");
  REQUIRE(without != nullptr);
  CHECK(J(without->value.get())["payload"].s().value_or("?").empty());

  const InboxRow* text = find_row(rows, "evt-string-payload");
  REQUIRE(text != nullptr);
  auto text_payload = J(text->value.get())["payload"].s();
  REQUIRE(text_payload.has_value());
  CHECK(J(parse(*text_payload).get()).s() == "plain text");
}

TEST_CASE("32 concurrent deliveries of one id: exactly one is accepted") {
  ServerProcess server;
  for (int round = 0; round < 3; ++round) {
    const std::string id = "concurrent-evt-" + std::to_string(round);
    constexpr int n = 32;
    std::vector<int> statuses(n, 0), yes(n, 0), no(n, 0);
    std::latch start(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        Http http(server.port(), false);
        start.arrive_and_wait();
        auto r = accept(http, id);
        statuses[static_cast<std::size_t>(i)] = r.status;
        auto a = r["accepted"].b();
        yes[static_cast<std::size_t>(i)] = a == true;
        no[static_cast<std::size_t>(i)] = a == false;
      });
    for (auto& t : threads) t.join();
    int accepted_count = 0, refused_count = 0;
    for (int i = 0; i < n; ++i) {
      CHECK(statuses[static_cast<std::size_t>(i)] == 200);
      accepted_count += yes[static_cast<std::size_t>(i)];
      refused_count += no[static_cast<std::size_t>(i)];
    }
    CAPTURE(round);
    CHECK(accepted_count == 1);
    CHECK(refused_count == n - 1);
  }
  Http http(server.port());
  CHECK(accepted(accept(http, "concurrent-evt-0")) == false);
}

TEST_CASE("an accepted id survives kill -9 and a restart") {
  ServerProcess server;
  {
    Http http(server.port());
    CHECK(accepted(accept(http, "durable-evt-1")) == true);
    CHECK(accepted(incoming(http, R"({"message_id":"durable-evt-2","payload":{"k":"v"}})")) == true);
  }
  server.kill9();  // right after the 200s
  server.restart();
  {
    Http http(server.port());
    CHECK(accepted(accept(http, "durable-evt-1")) == false);
    CHECK(accepted(accept(http, "durable-evt-2")) == false);
    CHECK(accepted(accept(http, "durable-evt-3")) == true);
  }
  CHECK(server.terminate() == 0);
  server.restart();
  Http http(server.port());
  CHECK(accepted(accept(http, "durable-evt-3")) == false);
  auto rows = inbox_rows(server.data_dir());
  CHECK(rows.size() == 3);
  const InboxRow* two = find_row(rows, "durable-evt-2");
  REQUIRE(two != nullptr);
  auto stored = J(two->value.get())["payload"].s();
  REQUIRE(stored.has_value());
  CHECK(J(parse(*stored).get())["k"].s() == "v");
}

}  // TEST_SUITE
