// Error shapes, request ids, health, metrics and hostile input (api.md 1, 8).
// The uniform error body of every non-2xx is checked centrally by Http.
#include <random>

#include "harness.hpp"

using namespace bb;

namespace {

struct Dev {
  ServerProcess server;
  Api api{server.port()};
  Http& http() { return api.http(); }
};

bool mentions(const Response& r, std::string_view word) {
  return r["error"].s().value_or("").find(word) != std::string::npos;
}

const std::string create_body = R"({"command":{"kind":"create_cart","merchant_id":"flower_shop","currency":"USD"}})";

std::optional<std::int64_t> prom_value(const std::string& text, const std::string& metric) {
  std::size_t at = 0;
  while ((at = text.find(metric + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stoll(text.substr(at + metric.size() + 1));
    at += metric.size();
  }
  return std::nullopt;
}

}  // namespace

TEST_SUITE("errors") {

TEST_CASE("malformed JSON is 400 MALFORMED_JSON") {
  Dev d;
  for (std::string body : {R"({"command":)", "{,}", "not json", "", "{\"command\":{\"kind\":'x'}}",
                           R"({"command":{"kind":"get_cart"}} trailing)", "{\"a\" 1}"}) {
    auto r = d.api.raw_body(body);
    INFO("body: " << body);
    CHECK(r.status == 400);
    CHECK(r.code() == "MALFORMED_JSON");
  }
}

TEST_CASE("a wrong or missing content type is 415 UNSUPPORTED_MEDIA_TYPE") {
  Dev d;
  for (std::string ct : {"text/plain", "", "application/xml", "application/x-www-form-urlencoded"}) {
    auto r = d.http().post(commands_path, create_body, ct);
    INFO("content type '" << ct << "'");
    CHECK(r.status == 415);
    CHECK(r.code() == "UNSUPPORTED_MEDIA_TYPE");
  }
  // JSON with parameters, and application/*+json, are JSON.
  for (std::string ct : {"application/json; charset=utf-8", "Application/JSON", "application/vnd.cart+json"}) {
    auto r = d.http().post(commands_path, create_body, ct);
    INFO("content type '" << ct << "'");
    CHECK(r.status == 200);
    CHECK(r.version() == 1);
  }
}

TEST_CASE("JSON of the wrong shape is 422 INVALID_BODY naming the field") {
  Dev d;
  auto cart = d.api.new_cart();
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {"{}", "command"},
      {"[]", ""},
      {"42", ""},
      {R"({"command":"create_cart"})", "command"},
      {R"({"command":{"merchant_id":"m","currency":"USD"}})", "kind"},
      {R"({"command":{"kind":"fly_to_moon"}})", "kind"},
      {R"({"command":{"kind":7}})", "kind"},
      {R"({"command":{"kind":"create_cart","merchant_id":5,"currency":"USD"}})", "merchant_id"},
      {R"({"command":{"kind":"create_cart","currency":"USD"}})", "merchant_id"},
      {R"({"command":{"kind":"add_item","item_id":"bouquet_roses","quantity":"2"},"cart_id":")" + cart +
           "\"}",
       "quantity"},
      {R"({"command":{"kind":"add_item","item_id":"bouquet_roses"},"cart_id":")" + cart + "\"}", "quantity"},
      {R"({"command":{"kind":"add_item","item_id":"bouquet_roses","quantity":1,"expected_version":-1},"cart_id":")" +
           cart + "\"}",
       "expected_version"},
      {R"({"command":{"kind":"add_item","item_id":"bouquet_roses","quantity":1,"expected_version":"1"},"cart_id":")" +
           cart + "\"}",
       "expected_version"},
      {R"({"command":{"kind":"start_checkout","cart_id":")" + cart + R"(","cart_version":-1}})", "cart_version"},
      {R"({"command":{"kind":"start_checkout","cart_id":")" + cart + R"("}})", "cart_version"},
      {R"({"command":{"kind":"get_cart","cart_id":12}})", "cart_id"},
      {R"({"command":{"kind":"create_cart","merchant_id":"m","currency":"USD"},"cart_id":5})", "cart_id"},
      {R"({"command":{"kind":"remove_item","line_id":["li_1"]},"cart_id":")" + cart + "\"}", "line_id"},
  };
  for (const auto& c : cases) {
    auto r = d.api.raw_body(c.body);
    INFO("body: " << c.body << " -> " << r.body);
    CHECK(r.status == 422);
    CHECK(r.code() == "INVALID_BODY");
    if (!c.field.empty()) CHECK(mentions(r, c.field));
  }
  CHECK(d.api.get_cart(cart).version() == 1);
}

TEST_CASE("a body over 1 MiB is 413 PAYLOAD_TOO_LARGE with a JSON body") {
  Dev d;
  std::string head = R"({"command":{"kind":"create_cart","merchant_id":"m","currency":"USD"},"pad":")";
  std::string big = head + std::string((1 << 20) + 1 - head.size(), 'x') + "\"}";
  REQUIRE(big.size() > (1u << 20));
  Http fresh(d.server.port(), false);
  auto r = fresh.post_json(commands_path, big, {{"X-Request-Id", "big-body-1"}});
  CHECK(r.status == 413);
  CHECK(r.code() == "PAYLOAD_TOO_LARGE");
  CHECK(r.header("X-Request-Id") == "big-body-1");
  CHECK(r["request_id"].s() == "big-body-1");

  // Well under the limit it is not refused for its size.
  std::string medium = head + std::string(900 * 1024, 'x') + "\"}";
  auto m = fresh.post_json(commands_path, medium);
  CHECK(m.status != 413);
  // The server is fine afterwards.
  CHECK(d.api.create_cart().status == 200);
}

TEST_CASE("an unknown route is 404 ROUTE_NOT_FOUND; a wrong method is 405 with Allow") {
  Dev d;
  for (std::string path : {"/nope", "/api/v1/nope", "/api/v1/cart/commands/extra", "/api/v2/cart/commands"}) {
    auto g = d.http().get(path);
    INFO(path);
    CHECK(g.status == 404);
    CHECK(g.code() == "ROUTE_NOT_FOUND");
    auto p = d.http().post_json(path, create_body);
    CHECK(p.status == 404);
    CHECK(p.code() == "ROUTE_NOT_FOUND");
  }
  for (std::string method : {"GET", "PUT", "DELETE", "PATCH"}) {
    auto r = d.http().request(method, commands_path, method == "GET" || method == "DELETE" ? "" : create_body,
                              method == "GET" || method == "DELETE" ? "" : "application/json");
    INFO(method);
    CHECK(r.status == 405);
    CHECK(r.code() == "METHOD_NOT_ALLOWED");
    CHECK(r.header("Allow").find("POST") != std::string::npos);
  }
  auto post_health = d.http().post_json("/health/live", "{}");
  CHECK(post_health.status == 405);
  CHECK(post_health.header("Allow").find("GET") != std::string::npos);
}

TEST_CASE("x-request-id is echoed when valid and generated otherwise") {
  Dev d;
  auto ok = d.http().get("/health/live", {{"X-Request-Id", "req-abc-123"}});
  CHECK(ok.status == 200);
  CHECK(ok.header("X-Request-Id") == "req-abc-123");

  auto err = d.api.raw_body("{", {{"x-request-id", "trace.42:z"}});
  CHECK(err.status == 400);
  CHECK(err.header("X-Request-Id") == "trace.42:z");
  CHECK(err["request_id"].s() == "trace.42:z");

  std::string id128(128, 'r');
  CHECK(d.http().get("/health/live", {{"X-Request-Id", id128}}).header("X-Request-Id") == id128);

  for (std::string bad : {std::string(200, 'r'), std::string(129, 'r'), std::string("has space"),
                          std::string("caf\xc3\xa9")}) {
    auto r = d.api.raw_body("{", {{"X-Request-Id", bad}});
    auto got = r.header("X-Request-Id");
    INFO("sent '" << bad << "', got '" << got << "'");
    CHECK(got != bad);
    CHECK(!got.empty());
    CHECK(got.size() <= 128);
    CHECK(std::all_of(got.begin(), got.end(), [](char c) { return c > 0x20 && c < 0x7f; }));
    CHECK(r["request_id"].s() == got);
  }

  auto a = d.http().get("/health/live");
  auto b = d.http().get("/health/live");
  CHECK(!a.header("X-Request-Id").empty());
  CHECK(a.header("X-Request-Id") != b.header("X-Request-Id"));
  auto cart = d.api.create_cart();
  CHECK(!cart.header("X-Request-Id").empty());
}

TEST_CASE("health endpoints answer {\"status\":\"ok\"}") {
  Dev d;
  for (std::string path : {"/health/live", "/health/ready"}) {
    auto r = d.http().get(path);
    INFO(path << " -> " << r.body);
    CHECK(r.status == 200);
    CHECK(r["status"].s() == "ok");
    CHECK(r.header("Content-Type").find("application/json") != std::string::npos);
  }
}

TEST_CASE("metrics: Prometheus text by default, JSON on request, errors counted") {
  Dev d;
  auto text = d.http().get("/metrics");
  REQUIRE(text.status == 200);
  INFO("Content-Type of the Prometheus text: " << text.header("Content-Type"));
  CHECK(text.header("Content-Type").find("text/plain") == 0);
  CHECK(text.body.find("# TYPE http_requests_total counter") != std::string::npos);
  auto requests = prom_value(text.body, "http_requests_total");
  auto errors = prom_value(text.body, "http_errors_total");
  REQUIRE(requests.has_value());
  REQUIRE(errors.has_value());

  auto j1 = d.http().get("/metrics", {{"Accept", "application/json"}});
  REQUIRE(j1.status == 200);
  CHECK(j1.header("Content-Type").find("application/json") != std::string::npos);
  auto req1 = j1["http_requests_total"].i();
  auto err1 = j1["http_errors_total"].i();
  REQUIRE(req1.has_value());
  REQUIRE(err1.has_value());
  CHECK(*req1 > *requests);
  CHECK(*err1 >= *errors);

  CHECK(d.api.raw_body("{").status == 400);
  CHECK(d.http().get("/no/such/route").status == 404);
  auto j2 = d.http().get("/metrics", {{"Accept", "application/json"}});
  CHECK(j2["http_errors_total"].i() >= *err1 + 2);
  CHECK(j2["http_requests_total"].i() >= *req1 + 3);
  auto text2 = d.http().get("/metrics");
  CHECK(prom_value(text2.body, "http_errors_total") >= *err1 + 2);
}

TEST_CASE("hostile bodies each get a 4xx JSON error; the server keeps serving") {
  Dev d;
  auto cart = d.api.new_cart();
  std::vector<std::string> bodies;
  auto wrap_qty = [&](const std::string& qty) {
    return R"({"command":{"kind":"add_item","item_id":"bouquet_roses","quantity":)" + qty +
           R"(},"cart_id":")" + cart + "\"}";
  };
  // Deep nesting.
  bodies.push_back(std::string(10000, '[') + std::string(10000, ']'));
  {
    std::string s;
    for (int i = 0; i < 10000; ++i) s += "{\"a\":";
    s += "1" + std::string(10000, '}');
    bodies.push_back(s);
    bodies.push_back(R"({"command":)" + s + "}");
  }
  bodies.push_back(std::string(10000, '['));
  // Huge numbers.
  for (std::string n : std::vector<std::string>{
           "1e400", "-1e400", "99999999999999999999", "-99999999999999999999", "1e-400",
           "18446744073709551616", "1" + std::string(400, '0'), "0x10", "NaN", "Infinity", "01", "+1",
           "1.", ".5"})
    bodies.push_back(wrap_qty(n));
  bodies.push_back("1e400");
  bodies.push_back(R"({"command":{"kind":"start_checkout","cart_id":")" + cart +
                   R"(","cart_version":99999999999999999999}})");
  // Duplicate keys.
  bodies.push_back(R"({"command":{"kind":"get_cart","cart_id":")" + cart + R"("},"command":{"kind":"get_cart","cart_id":")" +
                   cart + R"("}})");
  bodies.push_back(R"({"command":{"kind":"create_cart","kind":"create_cart","merchant_id":"m","currency":"US"}})");
  bodies.push_back(R"({"command":{"kind":"create_cart","merchant_id":"m","merchant_id":"n","currency":"usd"}})");
  // Invalid UTF-8, NUL bytes, control characters, lone surrogates, BOM.
  for (std::string bad : {std::string("\xff\xfe"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                          std::string("a\x80z"), std::string("\xf8\x88\x80\x80\x80"), std::string("x\x01y"),
                          std::string(1, '\0'), std::string("a\0b", 3), std::string("\n"),
                          std::string("\\ud800"), std::string("\\udc00x"), std::string("\\u0000")})
    bodies.push_back(R"({"command":{"kind":"create_cart","merchant_id":")" + bad + R"(","currency":"U5D"}})");
  bodies.push_back(std::string("\0\0\0\0", 4));
  bodies.push_back(std::string("{\"command\":{\"kind\":\"get_cart\",\"cart_id\":\"") + cart + "\"}}" +
                   std::string(1, '\0'));
  bodies.push_back("\xef\xbb\xbf" + create_body.substr(0, create_body.size() - 1));
  // Very long strings.
  bodies.push_back(R"({"command":{"kind":"create_cart","merchant_id":")" + std::string(500000, 'm') +
                   R"(","currency":"USD"}})");
  bodies.push_back(R"({"command":{"kind":"add_item","item_id":")" + std::string(300000, 'i') +
                   R"(","quantity":1},"cart_id":")" + cart + "\"}");
  bodies.push_back(R"({"command":{"kind":")" + std::string(200000, 'k') + R"("}})");
  bodies.push_back(R"({")" + std::string(200000, 'k') + R"(":1})");
  bodies.push_back(R"({"command":{"kind":"get_cart","cart_id":")" + std::string(100000, 'c') + R"("}})");
  // Large arrays.
  {
    std::string arr = "[";
    for (int i = 0; i < 100000; ++i) arr += i ? ",1" : "1";
    arr += "]";
    bodies.push_back(arr);
    bodies.push_back(R"({"command":)" + arr + "}");
    bodies.push_back(wrap_qty(arr));
    bodies.push_back(R"({"command":{"kind":"create_cart","merchant_id":)" + arr + R"(,"currency":"USD"}})");
  }
  // Every truncation of valid commands.
  for (const std::string& valid : {create_body, wrap_qty("1")})
    for (std::size_t n = 0; n < valid.size(); n += 1) bodies.push_back(valid.substr(0, n));
  // Random bytes and random token soup (seeded: reproducible).
  std::mt19937 rng(20261204);
  for (int i = 0; i < 60; ++i) {
    std::string s(1 + rng() % 2000, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    if (s[0] == '{' || s[0] == '[') s[0] = '#';
    bodies.push_back(s);
  }
  static const char* tokens[] = {"{",        "}",         "[",           "]",        ":",          ",",
                                 "\"kind\"", "\"command\"", "\"add_item\"", "\"get_cart\"", "\"create_cart\"",
                                 "\"quantity\"", "\"cart_id\"", "1",        "-1",       "null",       "true",
                                 "\"\"",     "\"x\"",     "1e999",       "\"item_id\"", "\"merchant_id\""};
  for (int i = 0; i < 60; ++i) {
    std::string s;
    int n = 1 + static_cast<int>(rng() % 40);
    for (int k = 0; k < n; ++k) s += tokens[rng() % std::size(tokens)];
    bodies.push_back(s);
  }
  REQUIRE(bodies.size() >= 200);

  Http http(d.server.port());
  http.set_read_timeout(std::chrono::seconds(20));
  std::size_t index = 0;
  for (const auto& body : bodies) {
    auto r = http.post_json(commands_path, body);
    INFO("case " << index << ", body (first 200 bytes): " << body.substr(0, 200));
    CHECK(r.transport_ok);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    ++index;
  }
  // Still serving, and the cart was never touched.
  auto g = d.api.get_cart(cart);
  CHECK(g.status == 200);
  CHECK(g.version() == 1);
  auto c = d.api.create_cart();
  CHECK(c.status == 200);
  CHECK(c.version() == 1);
  CHECK(d.http().get("/health/ready").status == 200);
}

TEST_CASE("malformed HTTP requests are answered with a JSON error or closed, never crash") {
  Dev d;
  std::vector<std::string> requests = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n",
      "POST /api/v1/cart/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: abc\r\nConnection: close\r\n\r\n{}",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'h') +
          "\r\nConnection: close\r\n\r\n",
      "POST /api/v1/cart/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
  };
  for (const auto& req : requests) {
    auto r = raw_request(d.server.port(), req, std::chrono::seconds(12));
    INFO("request: " << req.substr(0, 120) << "\nresponse head: " << r.head << "\nbody: " << r.body.substr(0, 300));
    if (!r.ok) continue;  // closing the connection is an acceptable answer
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
    auto doc = orch::json::parse(r.body);
    CHECK(doc.ok());
    if (doc) CHECK(J(&*doc)["code"].s().has_value());
  }
  CHECK(d.api.create_cart().status == 200);
}

TEST_CASE("a known but unsupported HTTP method is 405 with Allow, not 400") {
  Dev d;
  auto r = raw_request(d.server.port(),
                       "TRACE /api/v1/cart/commands HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  INFO("response: " << r.head << "\n" << r.body);
  REQUIRE(r.ok);
  CHECK(r.status == 405);
  std::string head = r.head;
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(head.find("\r\nallow: ") != std::string::npos);
  auto doc = orch::json::parse(r.body);
  REQUIRE(doc.ok());
  CHECK(J(&*doc)["code"].s() == "METHOD_NOT_ALLOWED");
}

TEST_CASE("request ids are written in the logs; LOG_FORMAT=json writes one JSON object per line") {
  ServerProcess server(ServerOptions{{{"LOG_LEVEL", "debug"}, {"LOG_FORMAT", "json"}}, {}, true, true, ""});
  {
    Http http(server.port(), false);
    CHECK(http.get("/health/live", {{"X-Request-Id", "trace-me-4711"}}).status == 200);
    CHECK(http.post_json(commands_path, "{", {{"X-Request-Id", "trace-me-4712"}}).status == 400);
  }
  CHECK(server.terminate() == 0);
  auto log = server.stderr_text();
  CHECK(log.find("trace-me-4711") != std::string::npos);
  CHECK(log.find("trace-me-4712") != std::string::npos);
  std::size_t start = 0, lines = 0;
  while (start < log.size()) {
    auto nl = log.find('\n', start);
    if (nl == std::string::npos) nl = log.size();
    auto line = log.substr(start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    ++lines;
    auto doc = orch::json::parse(line);
    INFO("log line: " << line);
    CHECK(doc.ok());
    if (doc) CHECK(doc->is_object());
  }
  CHECK(lines >= 3);
}

}  // TEST_SUITE
