// Auth, tenants and scopes (api.md 2, 9).
#include "harness.hpp"

using namespace bb;

namespace {

const std::string token_a = "token-of-tenant-a-0123456789";
const std::string token_b = "token-of-tenant-b-9876543210";
const std::string token_readonly = "token-without-cart-write";

std::string tokens_file_json() {
  return "[" R"({"token_sha256":")" + sha256_hex(token_a) +
         R"(","tenant_id":"ta","caller_id":"alice","scopes":["cart:write","checkout:execute"]},)" +
         R"({"token_sha256":")" + sha256_hex(token_b) +
         R"(","tenant_id":"tb","caller_id":"bob","scopes":["cart:write"]},)" + R"({"token_sha256":")" +
         sha256_hex(token_readonly) + R"(","tenant_id":"ta","caller_id":"carol","scopes":["checkout:execute"]})" +
         "]";
}

// Production also needs the six back-end URLs. Nothing here calls a back-end
// (carts are only created), so they point at a closed loopback port.
const Env production_env = {
    {"ENV", "production"},
    {"PUBLIC_BASE_URL", "http://127.0.0.1"},
    {"AUTH_BEARER_TOKEN", "test-token"},
    {"CATALOG_BASE_URL", "http://127.0.0.1:9"},
    {"PRICING_BASE_URL", "http://127.0.0.1:9"},
    {"TAX_BASE_URL", "http://127.0.0.1:9"},
    {"GEO_BASE_URL", "http://127.0.0.1:9"},
    {"PAYMENT_BASE_URL", "http://127.0.0.1:9"},
    {"RECEIPT_BASE_URL", "http://127.0.0.1:9"}};

}  // namespace

TEST_SUITE("auth") {

TEST_CASE("development mode without Authorization acts as tenant dev") {
  ServerProcess server;
  Api api(server.port());
  auto c = api.create_cart();
  REQUIRE(c.status == 200);
  CHECK(c["tenant_id"].s() == "dev");
  CHECK(api.get_cart(*c["cart_id"].s()).status == 200);
}

TEST_CASE("tokens file: tenants are isolated, scopes enforced, bad tokens refused") {
  TempDir dir;
  auto file = dir.file("tokens.json");
  write_file(file, tokens_file_json());
  ServerProcess server(ServerOptions{{{"AUTH_TOKENS_FILE", file}}, {}, true, true, ""});

  Api a(server.port(), token_a), b(server.port(), token_b), dev(server.port());
  auto c = a.create_cart();
  REQUIRE(c.status == 200);
  CHECK(c["tenant_id"].s() == "ta");
  auto cart = *c["cart_id"].s();
  auto added = a.add_item(cart, "bouquet_roses", 1);
  REQUIRE(added.status == 200);

  SUBCASE("the owner sees it") {
    auto g = a.get_cart(cart);
    CHECK(g.status == 200);
    CHECK(g.body == added.body);
  }
  SUBCASE("another tenant gets 404 NOT_FOUND, exactly as if it did not exist") {
    auto ghost = b.get_cart(random_uuid());
    for (auto r : {b.get_cart(cart), b.add_item(cart, "bouquet_roses", 1), b.start_checkout(cart, 2),
                   b.apply_adjustment(cart, "10OFF"), b.remove_item(cart, "li_x")}) {
      INFO(r.body);
      CHECK(r.status == 404);
      CHECK(r.code() == "NOT_FOUND");
      CHECK(r["error"].s() == ghost["error"].s());
    }
    CHECK(a.get_cart(cart).body == added.body);
  }
  SUBCASE("the dev tenant (no token) gets 404 too") {
    auto r = dev.get_cart(cart);
    CHECK(r.status == 404);
    CHECK(r.code() == "NOT_FOUND");
    auto own = dev.create_cart();
    REQUIRE(own.status == 200);
    CHECK(own["tenant_id"].s() == "dev");
    CHECK(a.get_cart(*own["cart_id"].s()).status == 404);
  }
  SUBCASE("a wrong token is 401 UNAUTHORIZED") {
    Api wrong(server.port(), "not-a-known-token");
    auto r = wrong.get_cart(cart);
    CHECK(r.status == 401);
    CHECK(r.code() == "UNAUTHORIZED");
    auto w2 = wrong.create_cart();
    CHECK(w2.status == 401);
    // The token's hash itself is not a token.
    Api hash(server.port(), sha256_hex(token_a));
    CHECK(hash.get_cart(cart).status == 401);
    for (const std::string& header :
         std::vector<std::string>{"Bearer", "Bearer ", "Basic " + token_a, "Token " + token_a, token_a}) {
      auto h = dev.http().post_json(commands_path, R"({"command":{"kind":"get_cart","cart_id":")" + cart + "\"}}",
                                    {{"Authorization", header}});
      INFO("Authorization: " << header);
      CHECK(h.status == 401);
      CHECK(h.code() == "UNAUTHORIZED");
    }
  }
  SUBCASE("the scheme is case-insensitive") {
    for (std::string scheme : {"bearer", "BEARER", "bEaReR"}) {
      auto r = dev.http().post_json(commands_path, R"({"command":{"kind":"get_cart","cart_id":")" + cart + "\"}}",
                                    {{"Authorization", scheme + " " + token_a}});
      INFO(scheme);
      CHECK(r.status == 200);
      CHECK(r["tenant_id"].s() == "ta");
    }
  }
  SUBCASE("a token without cart:write is 403 FORBIDDEN_SCOPE") {
    Api ro(server.port(), token_readonly);
    auto r = ro.get_cart(cart);
    CHECK(r.status == 403);
    CHECK(r.code() == "FORBIDDEN_SCOPE");
    CHECK(r["error"].s().value_or("").find("cart:write") != std::string::npos);
    auto w = ro.add_item(cart, "bouquet_roses", 1);
    CHECK(w.status == 403);
    CHECK(a.get_cart(cart).body == added.body);
  }
}

TEST_CASE("production: a bearer token is required and checked") {
  ServerProcess server(ServerOptions{production_env, {}, true, true, ""});
  Api none(server.port()), wrong(server.port(), "test-token-x"), right(server.port(), "test-token");

  auto r0 = none.create_cart();
  CHECK(r0.status == 401);
  CHECK(r0.code() == "UNAUTHORIZED");
  auto r1 = wrong.create_cart();
  CHECK(r1.status == 401);
  CHECK(r1.code() == "UNAUTHORIZED");
  auto r2 = right.create_cart();
  REQUIRE(r2.status == 200);
  CHECK(r2["tenant_id"].s() == "prod");
  auto cart = *r2["cart_id"].s();
  CHECK(none.get_cart(cart).status == 401);
  CHECK(right.get_cart(cart).status == 200);
  auto lower = none.http().post_json(commands_path, R"({"command":{"kind":"get_cart","cart_id":")" + cart + "\"}}",
                                     {{"Authorization", "bearer test-token"}});
  CHECK(lower.status == 200);

  // Auth comes before the body: a bad token with a malformed body is 401.
  auto bad = wrong.raw_body("{not json");
  CHECK(bad.status == 401);
  CHECK(bad.code() == "UNAUTHORIZED");

  // Operational routes stay open.
  CHECK(none.http().get("/health/live").status == 200);
  CHECK(none.http().get("/health/ready").status == 200);
  CHECK(none.http().get("/metrics").status == 200);
}

TEST_CASE("production: AUTH_SCOPES without cart:write is 403 FORBIDDEN_SCOPE") {
  Env env = production_env;
  env.push_back({"AUTH_SCOPES", "checkout:execute, payments:write"});
  ServerProcess server(ServerOptions{env, {}, true, true, ""});
  Api right(server.port(), "test-token");
  auto r = right.create_cart();
  CHECK(r.status == 403);
  CHECK(r.code() == "FORBIDDEN_SCOPE");
}

TEST_CASE("production without PUBLIC_BASE_URL or without any token refuses to start") {
  TempDir dir;
  std::vector<std::string> args = {"--bind", "127.0.0.1:0", "--data-dir", dir.file("data")};
  auto no_url = run_process(orchestrator_bin(), args,
                            {{"ENV", "production"}, {"AUTH_BEARER_TOKEN", "test-token"}});
  INFO("stderr: " << no_url.err);
  CHECK_FALSE(no_url.timed_out);
  CHECK(no_url.exit_code != 0);
  CHECK(no_url.err.find("PUBLIC_BASE_URL") != std::string::npos);
  CHECK(no_url.out.find("listening") == std::string::npos);

  auto blank_url = run_process(orchestrator_bin(), args,
                               {{"ENV", "production"}, {"PUBLIC_BASE_URL", "   "}, {"AUTH_BEARER_TOKEN", "t"}});
  CHECK(blank_url.exit_code != 0);
  CHECK(blank_url.err.find("PUBLIC_BASE_URL") != std::string::npos);

  auto no_token = run_process(orchestrator_bin(), args,
                              {{"ENV", "production"}, {"PUBLIC_BASE_URL", "http://127.0.0.1"}});
  INFO("stderr: " << no_token.err);
  CHECK_FALSE(no_token.timed_out);
  CHECK(no_token.exit_code != 0);
  CHECK(no_token.err.find("AUTH_BEARER_TOKEN") != std::string::npos);
  CHECK(no_token.out.find("listening") == std::string::npos);
}

TEST_CASE("an unreadable or malformed AUTH_TOKENS_FILE refuses start-up naming the file") {
  TempDir dir;
  std::vector<std::string> args = {"--bind", "127.0.0.1:0", "--data-dir", dir.file("data")};
  auto missing = dir.file("missing.json");
  auto r = run_process(orchestrator_bin(), args, {{"AUTH_TOKENS_FILE", missing}});
  INFO("stderr: " << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(missing) != std::string::npos);

  auto bad = dir.file("bad.json");
  write_file(bad, R"([{"token_sha256":"abc","tenant_id":"t","scopes":[]}])");
  auto r2 = run_process(orchestrator_bin(), args, {{"AUTH_TOKENS_FILE", bad}});
  INFO("stderr: " << r2.err);
  CHECK(r2.exit_code != 0);
  CHECK(r2.err.find(bad) != std::string::npos);
}

TEST_CASE("production: AUTH_BEARER_TOKEN and AUTH_TOKENS_FILE work together") {
  TempDir dir;
  auto file = dir.file("tokens.json");
  write_file(file, tokens_file_json());
  Env env = production_env;
  env.push_back({"AUTH_TOKENS_FILE", file});
  env.push_back({"AUTH_TENANT_ID", "tp"});
  ServerProcess server(ServerOptions{env, {}, true, true, ""});
  Api p(server.port(), "test-token"), a(server.port(), token_a), none(server.port());
  auto cp = p.create_cart();
  REQUIRE(cp.status == 200);
  CHECK(cp["tenant_id"].s() == "tp");
  auto ca = a.create_cart();
  REQUIRE(ca.status == 200);
  CHECK(ca["tenant_id"].s() == "ta");
  CHECK(a.get_cart(*cp["cart_id"].s()).status == 404);
  CHECK(p.get_cart(*ca["cart_id"].s()).status == 404);
  CHECK(none.get_cart(*ca["cart_id"].s()).status == 401);
}

TEST_CASE("tokens never appear in the logs at the default level") {
  TempDir dir;
  auto file = dir.file("tokens.json");
  write_file(file, tokens_file_json());
  Env env = production_env;
  env.push_back({"AUTH_TOKENS_FILE", file});
  ServerProcess server(ServerOptions{env, {}, true, true, ""});
  const std::string secret = "sk-live-very-secret-token-31337";
  {
    Api wrong(server.port(), secret), a(server.port(), token_a), right(server.port(), "test-token");
    CHECK(wrong.create_cart().status == 401);
    CHECK(wrong.raw_body("{").status == 401);
    CHECK(a.create_cart().status == 200);
    CHECK(right.create_cart().status == 200);
  }
  CHECK(server.terminate() == 0);
  auto logs = server.stderr_text() + server.stdout_text();
  CHECK(logs.find(secret) == std::string::npos);
  CHECK(logs.find(token_a) == std::string::npos);
  CHECK(logs.find("test-token") == std::string::npos);
}

}  // TEST_SUITE
