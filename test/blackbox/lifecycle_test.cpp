// Process lifecycle: idle passivation, draining on SIGTERM, readiness,
// command line and bind address (api.md 8, 9).
#include <atomic>
#include <filesystem>
#include <thread>

#include "harness.hpp"

using namespace bb;

TEST_SUITE("lifecycle") {

TEST_CASE("an idle cart actor is passivated and comes back identical") {
  ServerProcess server(ServerOptions{{{"CART_IDLE_SECONDS", "1"}}, {}, true, true, ""});
  Api api(server.port());
  auto cart = api.new_cart();
  auto a = api.add_item(cart, "bouquet_roses", 2);
  REQUIRE(a.status == 200);
  REQUIRE(api.add_item(cart, "pot_ceramic", 1).status == 200);
  REQUIRE(api.apply_adjustment(cart, "WELCOME20").status == 200);
  REQUIRE(api.update_item_qty(cart, a["lines"][0]["line_id"].s().value_or(""), 3).status == 200);
  REQUIRE(api.start_checkout(cart, 5).status == 200);
  auto before = api.get_cart(cart);
  REQUIRE(before.status == 200);
  CHECK(before.version() == 6);

  std::this_thread::sleep_for(3s);
  auto after = api.get_cart(cart);
  REQUIRE(after.status == 200);
  CHECK(after.body == before.body);

  auto more = api.add_item(cart, "bouquet_tulips", 1);
  REQUIRE(more.status == 200);
  CHECK(more.version() == 7);
  CHECK(more["status"].s() == "draft");
  CHECK(more["lines"].size() == std::size_t{3});
  // 3*3500 + 1500 + 3000 = 15000, 20% off = 3000, tax 1200.
  CHECK(more["subtotal_minor"].i() == 15000);
  CHECK(more["discount_minor"].i() == 3000);
  CHECK(more["total_minor"].i() == 13200);
  check_cart_invariants(more);

  // Passivated again, still there; a start_checkout on it at the right version works.
  std::this_thread::sleep_for(2500ms);
  auto s = api.start_checkout(cart, 7);
  REQUIRE(s.status == 200);
  CHECK(s.version() == 8);
}

TEST_CASE("commands racing idle passivation are never lost") {
  ServerProcess server(ServerOptions{{{"CART_IDLE_SECONDS", "1"}}, {}, true, true, ""});
  const int n = 8, rounds = 4;
  std::vector<std::string> failures(n);
  std::vector<std::string> carts(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Api api(server.port(), std::nullopt, false);
      auto c = api.create_cart();
      carts[i] = c["cart_id"].s().value_or("");
      std::int64_t version = 1;
      for (int k = 0; k < rounds; ++k) {
        // Around the idle timeout: sometimes just before, sometimes just after.
        std::this_thread::sleep_for(std::chrono::milliseconds(900 + 25 * ((i + k * 3) % 9)));
        auto r = api.add_item(carts[i], "bouquet_roses", 1);
        if (r.status != 200 || r.version() != version + 1)
          failures[i] += "round " + std::to_string(k) + ": " + std::to_string(r.status) + " " + r.body + "\n";
        version = r.version().value_or(version);
      }
    });
  }
  for (auto& t : threads) t.join();
  Api api(server.port());
  for (int i = 0; i < n; ++i) {
    INFO("cart " << carts[i]);
    CHECK(failures[i] == "");
    auto g = api.get_cart(carts[i]);
    CHECK(g.version() == 1 + rounds);
    CHECK(g["lines"].size() == static_cast<std::size_t>(rounds));
  }
}

TEST_CASE("SIGTERM under load: exit 0, and every acknowledged command is durable") {
  ServerProcess server;
  const int n = 4;
  struct Worker {
    std::string cart;
    std::int64_t acked_version = 0;
    std::string acked_body;
    int ok = 0;
    std::string unexpected;
  };
  std::vector<Worker> workers(n);
  {
    Api api(server.port());
    for (auto& w : workers) {
      auto c = api.create_cart();
      REQUIRE(c.status == 200);
      w.cart = *c["cart_id"].s();
      w.acked_version = 1;
      w.acked_body = c.body;
    }
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Worker& w = workers[i];
      Api api(server.port());
      api.http().tolerate_transport_errors(true);
      int failures_in_a_row = 0;
      for (int k = 0; k < 5000 && !stop.load() && failures_in_a_row < 20; ++k) {
        auto r = api.add_item(w.cart, "pot_ceramic", 1);
        if (r.status == 200) {
          w.acked_version = r.version().value_or(-1);
          w.acked_body = r.body;
          ++w.ok;
          failures_in_a_row = 0;
        } else {
          if (r.transport_ok && r.status != 503)
            w.unexpected += std::to_string(r.status) + " " + r.body + "\n";
          ++failures_in_a_row;
          std::this_thread::sleep_for(5ms);
        }
        if (w.ok >= 1900) break;  // stock of pot_ceramic is 2000
      }
    });
  }
  std::this_thread::sleep_for(600ms);
  server.sigterm();
  int code = server.wait_exit(15s);
  stop = true;
  for (auto& t : threads) t.join();
  CHECK(code == 0);

  server.restart();
  REQUIRE(server.wait_ready());
  Api api(server.port());
  for (const auto& w : workers) {
    INFO("cart " << w.cart << ", acknowledged version " << w.acked_version << " after " << w.ok << " 200s");
    CHECK(w.unexpected == "");
    CHECK(w.ok > 0);
    auto g = api.get_cart(w.cart);
    REQUIRE(g.status == 200);
    auto v = g.version().value_or(-1);
    // At most one more: a request applied whose answer was cut off.
    CHECK(v >= w.acked_version);
    CHECK(v <= w.acked_version + 1);
    CHECK(g["lines"].size() == static_cast<std::size_t>(v - 1));
    if (v == w.acked_version) CHECK(g.body == w.acked_body);
    check_cart_invariants(g);
  }
}

TEST_CASE("with SHUTDOWN_DELAY_MS, readiness is 503 shutting_down before the process exits") {
  ServerProcess server(ServerOptions{{{"SHUTDOWN_DELAY_MS", "1500"}}, {}, true, true, ""});
  {
    Http http(server.port(), false);
    REQUIRE(http.get("/health/ready").status == 200);
  }
  server.sigterm();
  std::optional<Response> seen;
  auto deadline = std::chrono::steady_clock::now() + 1400ms;
  while (std::chrono::steady_clock::now() < deadline) {
    Http http(server.port(), false);
    auto r = http.get("/health/ready");
    if (r.transport_ok && r.status == 503) {
      seen = r;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE_MESSAGE(seen.has_value(), "/health/ready never answered 503 after SIGTERM");
  CHECK((*seen)["status"].s() == "shutting_down");
  CHECK(seen->code() == "SHUTTING_DOWN");
  CHECK(server.wait_exit(15s) == 0);
}

TEST_CASE("--help exits 0 and lists flags and environment variables") {
  auto r = run_process(orchestrator_bin(), {"--help"}, {});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  for (std::string word : {"--bind", "--data-dir", "BIND_ADDR", "DATA_DIR", "LOG_LEVEL", "ENV"})
    CHECK_MESSAGE(r.out.find(word) != std::string::npos, word);
}

TEST_CASE("an unknown flag or an invalid setting exits 2 naming it") {
  auto u = run_process(orchestrator_bin(), {"--frobnicate"}, {});
  CHECK(u.exit_code == 2);
  CHECK(u.err.find("--frobnicate") != std::string::npos);

  TempDir dir;
  auto b = run_process(orchestrator_bin(), {"--bind", "nonsense", "--data-dir", dir.file("d")}, {});
  CHECK(b.exit_code == 2);
  CHECK(b.err.find("nonsense") != std::string::npos);

  auto e = run_process(orchestrator_bin(), {"--bind", "127.0.0.1:0", "--data-dir", dir.file("d")},
                       {{"CART_IDLE_SECONDS", "soon"}});
  CHECK(e.exit_code == 2);
  CHECK(e.err.find("CART_IDLE_SECONDS") != std::string::npos);

  auto l = run_process(orchestrator_bin(), {"--bind", "127.0.0.1:0", "--data-dir", dir.file("d")},
                       {{"LOG_LEVEL", "chatty"}});
  CHECK(l.exit_code == 2);
  CHECK(l.err.find("LOG_LEVEL") != std::string::npos);
}

TEST_CASE("BIND_ADDR is used without --bind, and --bind wins over it") {
  SUBCASE("BIND_ADDR alone") {
    int port = free_port();
    ServerProcess server(
        ServerOptions{{{"BIND_ADDR", "127.0.0.1:" + std::to_string(port)}}, {}, false, true, ""});
    CHECK(server.port() == port);
    Http http(server.port());
    CHECK(http.get("/health/live").status == 200);
  }
  SUBCASE("--bind wins") {
    int env_port = free_port();
    int flag_port = free_port();
    while (flag_port == env_port) flag_port = free_port();
    ServerProcess server(ServerOptions{{{"BIND_ADDR", "127.0.0.1:" + std::to_string(env_port)}},
                                       {"--bind", "127.0.0.1:" + std::to_string(flag_port)},
                                       false,
                                       true,
                                       ""});
    CHECK(server.port() == flag_port);
    Http http(server.port());
    CHECK(http.get("/health/live").status == 200);
    httplib::Client other("127.0.0.1", env_port);
    other.set_connection_timeout(1, 0);
    CHECK_FALSE(other.Get("/health/live"));
  }
  SUBCASE("an invalid BIND_ADDR is overridden by --bind") {
    ServerProcess server(ServerOptions{{{"BIND_ADDR", "not an address"}}, {}, true, true, ""});
    Http http(server.port());
    CHECK(http.get("/health/live").status == 200);
  }
}

TEST_CASE("DATA_DIR is used without --data-dir, and --data-dir wins over it") {
  TempDir dir;
  auto env_dir = dir.file("from-env"), flag_dir = dir.file("from-flag");
  {
    ServerProcess server(ServerOptions{{{"DATA_DIR", env_dir}}, {}, true, false, ""});
    Api(server.port()).new_cart();
    CHECK(server.terminate() == 0);
    CHECK(std::filesystem::exists(env_dir + "/data.mdb"));
  }
  {
    ServerProcess server(
        ServerOptions{{{"DATA_DIR", env_dir + "-unused"}}, {"--data-dir", flag_dir}, true, false, ""});
    Api(server.port()).new_cart();
    CHECK(server.terminate() == 0);
    CHECK(std::filesystem::exists(flag_dir + "/data.mdb"));
    CHECK_FALSE(std::filesystem::exists(env_dir + "-unused"));
  }
}

TEST_CASE("blank environment variables are unset; --flag=value forms work") {
  TempDir dir;
  ServerProcess server(ServerOptions{{{"ENV", "  "},
                                      {"CART_IDLE_SECONDS", ""},
                                      {"LOG_LEVEL", " "},
                                      {"AUTH_BEARER_TOKEN", "   "},
                                      {"PUBLIC_BASE_URL", ""},
                                      {"DATA_DIR", "  "}},
                                     {"--bind=127.0.0.1:0", "--data-dir=" + dir.file("data")},
                                     false,
                                     false,
                                     ""});
  Api api(server.port());
  auto c = api.create_cart();  // development mode: no token needed
  CHECK(c.status == 200);
  CHECK(c["tenant_id"].s() == "dev");
  auto out = server.stdout_text();
  CHECK(out.find("development") != std::string::npos);
  CHECK(std::filesystem::exists(dir.file("data") + "/data.mdb"));
}

}  // TEST_SUITE
