// Durability: SIGTERM and kill -9 lose nothing that was acknowledged; the
// replay tool reads the journal of a running server; a corrupt journal stops
// start-up; a full journal is a clean 507.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "harness.hpp"

using namespace bb;

namespace {

// A few carts in different states; returns cart id -> get_cart body.
std::map<std::string, std::string> fill_carts(Api& api) {
  std::map<std::string, std::string> out;
  // 1: empty draft
  auto c1 = api.new_cart("flower_shop", "USD");
  // 2: lines, an update, a removal and a discount
  auto c2 = api.new_cart("flower_shop", "EUR");
  auto a = api.add_item(c2, "bouquet_roses", 2);
  auto b = api.add_item(c2, "pot_ceramic", 3);
  REQUIRE(b.status == 200);
  REQUIRE(api.update_item_qty(c2, a["lines"][0]["line_id"].s().value_or(""), 4).status == 200);
  REQUIRE(api.add_item(c2, "bouquet_tulips", 1).status == 200);
  REQUIRE(api.remove_item(c2, b["lines"][1]["line_id"].s().value_or("")).status == 200);
  REQUIRE(api.apply_adjustment(c2, "WELCOME20").status == 200);
  // 3: checkout_ready
  auto c3 = api.new_cart("another_shop", "GBP");
  REQUIRE(api.add_item(c3, "orchid_white", 2).status == 200);
  REQUIRE(api.apply_adjustment(c3, "FIXED500").status == 200);
  REQUIRE(api.start_checkout(c3, 3).status == 200);
  // 4: many lines (crosses snapshot thresholds when SNAPSHOT_EVERY is small)
  auto c4 = api.new_cart();
  for (int i = 0; i < 25; ++i) REQUIRE(api.add_item(c4, i % 2 ? "bouquet_sunflowers" : "pot_ceramic", 1 + i % 5).status == 200);
  // 5: ready, then mutated back to draft
  auto c5 = api.new_cart();
  REQUIRE(api.add_item(c5, "bouquet_roses", 1).status == 200);
  REQUIRE(api.start_checkout(c5, 2).status == 200);
  REQUIRE(api.add_item(c5, "bouquet_roses", 1).status == 200);
  for (const auto& id : {c1, c2, c3, c4, c5}) {
    auto g = api.get_cart(id);
    REQUIRE(g.status == 200);
    check_cart_invariants(g);
    out[id] = g.body;
  }
  return out;
}

void check_same(Api& api, const std::map<std::string, std::string>& expected) {
  for (const auto& [id, body] : expected) {
    auto g = api.get_cart(id);
    INFO("cart " << id);
    CHECK(g.status == 200);
    CHECK(g.body == body);
  }
}

// The first JSON object in `text` holding both "version" and "total_minor"
// (searching nested objects), for the replay tool's output.
const orch::json::Value* find_state(const orch::json::Value& v) {
  if (v.is_object()) {
    if (v.find("version") && v.find("total_minor")) return &v;
    for (const auto& [k, m] : v.members())
      if (auto* s = find_state(m)) return s;
  }
  if (v.is_array())
    for (const auto& i : v.items())
      if (auto* s = find_state(i)) return s;
  return nullptr;
}

}  // namespace

TEST_SUITE("durability") {

TEST_CASE("SIGTERM then restart: every cart is byte-identical") {
  for (std::string snapshot_every : {"", "1", "3", "0"}) {
    CAPTURE(snapshot_every);
    ServerOptions options;
    if (!snapshot_every.empty()) options.env.push_back({"SNAPSHOT_EVERY", snapshot_every});
    ServerProcess server(options);
    std::map<std::string, std::string> before;
    {
      Api api(server.port());
      before = fill_carts(api);
    }
    CHECK(server.terminate() == 0);
    server.restart();
    REQUIRE(server.wait_ready());
    {
      Api api(server.port());
      check_same(api, before);
      // The carts go on from where they were.
      auto first = before.begin()->first;
      auto v = api.get_cart(first).version().value_or(0);
      auto r = api.add_item(first, "bouquet_roses", 1);
      CHECK(r.status == 200);
      CHECK(r.version() == v + 1);
      before[first] = api.get_cart(first).body;
    }
    // A second clean restart changes nothing either.
    CHECK(server.terminate() == 0);
    server.restart();
    {
      Api api(server.port());
      check_same(api, before);
    }
    CHECK(server.terminate() == 0);
  }
}

TEST_CASE("kill -9 right after a 200: the acknowledged change survives") {
  ServerProcess server;
  std::map<std::string, std::string> acknowledged;  // cart -> last 200 body
  for (int round = 0; round < 4; ++round) {
    CAPTURE(round);
    if (round > 0) {
      server.restart();
      REQUIRE(server.wait_ready());
    }
    Api api(server.port());
    check_same(api, acknowledged);
    // Touch an old cart and a new one; kill the moment the last 200 arrives.
    if (!acknowledged.empty()) {
      auto old = acknowledged.begin()->first;
      auto r = api.add_item(old, "pot_ceramic", 1);
      REQUIRE(r.status == 200);
      acknowledged[old] = r.body;
    }
    auto cart = api.new_cart();
    auto a = api.add_item(cart, "bouquet_roses", 1 + round);
    REQUIRE(a.status == 200);
    auto adj = api.apply_adjustment(cart, round % 2 ? "10OFF" : "FIXED500");
    REQUIRE(adj.status == 200);
    auto last = api.add_item(cart, "bouquet_tulips", 2);
    REQUIRE(last.status == 200);
    server.kill9();
    acknowledged[cart] = last.body;
  }
  server.restart();
  REQUIRE(server.wait_ready());
  Api api(server.port());
  check_same(api, acknowledged);
  CHECK(acknowledged.size() == 4);
}

TEST_CASE("kill -9 under load: every acknowledged command survives, the journal stays readable") {
  ServerProcess server;
  const int n = 4;
  struct Worker {
    std::string cart;
    std::int64_t acked_version = 0;
    std::string acked_body;
    int ok = 0;
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
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        Worker& w = workers[i];
        Api api(server.port());
        api.http().tolerate_transport_errors(true);
        for (int k = 0; k < 300 && !stop.load(); ++k) {
          auto r = api.add_item(w.cart, "orchid_white", 1);
          if (!r.transport_ok) break;
          if (r.status == 200) {
            w.acked_version = r.version().value_or(-1);
            w.acked_body = r.body;
            ++w.ok;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + 100 * round));
    server.kill9();
    stop = true;
    for (auto& t : threads) t.join();
    server.restart();
    REQUIRE(server.wait_ready());
    Api api(server.port());
    for (auto& w : workers) {
      INFO("cart " << w.cart << ", acknowledged version " << w.acked_version);
      auto g = api.get_cart(w.cart);
      REQUIRE(g.status == 200);
      auto v = g.version().value_or(-1);
      CHECK(v >= w.acked_version);
      CHECK(v <= w.acked_version + 1);  // one applied whose answer was lost
      CHECK(g["lines"].size() == static_cast<std::size_t>(v - 1));
      if (v == w.acked_version) CHECK(g.body == w.acked_body);
      check_cart_invariants(g);
      // Continue from what is there.
      w.acked_version = v;
      w.acked_body = g.body;
    }
  }
  for (const auto& w : workers) CHECK(w.ok > 0);
  // The journal itself is consistent after three crashes.
  auto check = run_process(replay_bin(), {"--data-dir", server.data_dir(), "check"}, {});
  INFO("check stdout:\n" << check.out << "\nstderr:\n" << check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.out.find("problems=0") != std::string::npos);
}

TEST_CASE("orchestrator-replay lists streams and rebuilds a cart while the server runs") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.new_cart();
  REQUIRE(api.add_item(cart, "bouquet_roses", 2).status == 200);
  REQUIRE(api.add_item(cart, "pot_ceramic", 1).status == 200);
  REQUIRE(api.apply_adjustment(cart, "10OFF").status == 200);
  auto other = api.new_cart();
  auto g = api.get_cart(cart);
  REQUIRE(g.status == 200);

  auto streams = run_process(replay_bin(), {"--data-dir", server.data_dir(), "streams"}, {});
  INFO("streams stdout:\n" << streams.out << "\nstderr:\n" << streams.err);
  CHECK_FALSE(streams.timed_out);
  CHECK(streams.exit_code == 0);
  CHECK(streams.out.find("dev/cart/" + cart) != std::string::npos);
  CHECK(streams.out.find("dev/cart/" + other) != std::string::npos);

  auto state = run_process(replay_bin(), {"--data-dir", server.data_dir(), "state", "dev/cart/" + cart}, {});
  INFO("state stdout:\n" << state.out << "\nstderr:\n" << state.err);
  CHECK_FALSE(state.timed_out);
  CHECK(state.exit_code == 0);
  auto open = state.out.find('{'), close = state.out.rfind('}');
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  auto doc = orch::json::parse(state.out.substr(open, close - open + 1));
  REQUIRE_MESSAGE(doc.ok(), "state output is not JSON");
  const auto* s = find_state(*doc);
  REQUIRE_MESSAGE(s != nullptr, "no object with version and total_minor in the state output");
  J st(s);
  CHECK(st["version"].i() == g.version());
  CHECK(st["subtotal_minor"].i() == g["subtotal_minor"].i());
  CHECK(st["discount_minor"].i() == g["discount_minor"].i());
  CHECK(st["tax_minor"].i() == g["tax_minor"].i());
  CHECK(st["total_minor"].i() == g["total_minor"].i());
  CHECK(st["lines"].size() == g["lines"].size());
  // Every field of the projection, as the server shows it.
  for (const auto& [key, value] : g.json().raw()->members()) {
    INFO("field " << key);
    CHECK(st[key].dump() == value.dump());
  }

  auto check = run_process(replay_bin(), {"--data-dir", server.data_dir(), "check"}, {});
  INFO("check stdout:\n" << check.out << "\nstderr:\n" << check.err);
  CHECK(check.exit_code == 0);
  CHECK(check.out.find("problems=0") != std::string::npos);

  // The server is unaffected by the reader.
  CHECK(api.add_item(cart, "bouquet_roses", 1).status == 200);
}

TEST_CASE("a corrupt journal stops start-up with a message naming data.mdb") {
  TempDir dir;
  auto data = dir.file("data");
  std::filesystem::create_directories(data);
  std::string garbage(64 * 1024, '\0');
  std::mt19937 rng(7);
  for (auto& c : garbage) c = static_cast<char>(rng() & 0xFF);
  write_file(data + "/data.mdb", garbage);

  auto r = run_process(orchestrator_bin(), {"--bind", "127.0.0.1:0", "--data-dir", data}, {}, 20s);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("data.mdb") != std::string::npos);
  CHECK(r.out.find("listening") == std::string::npos);
  // Never silently replaced.
  CHECK(read_file(data + "/data.mdb") == garbage);
}

TEST_CASE("a data dir that cannot be used stops start-up naming it") {
  TempDir dir;
  auto file = dir.file("not-a-dir");
  write_file(file, "plain file");
  auto r = run_process(orchestrator_bin(), {"--bind", "127.0.0.1:0", "--data-dir", file}, {}, 20s);
  INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(file) != std::string::npos);
  CHECK(read_file(file) == "plain file");
}

TEST_CASE("a full journal is 507 JOURNAL_FULL; reads and health keep working") {
  ServerProcess server(ServerOptions{{{"LMDB_MAP_SIZE_MB", "1"}, {"LMDB_MAP_MAX_MB", "1"}}, {}, true, true, ""});
  // Several writers, one cart each (their appends share commits): fills the
  // 1 MiB map in a few seconds. Bounded by count and time.
  const int n = 8;
  struct Writer {
    std::string cart;
    std::string acked;  // body of the last 200
    std::optional<Response> refused;
    std::string unexpected;
  };
  std::vector<Writer> writers(n);
  std::atomic<bool> full{false};
  std::vector<std::thread> threads;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Writer& w = writers[i];
      Api api(server.port());
      auto c = api.create_cart(std::string(100, 'm'), "USD");
      if (c.status != 200) {
        w.refused = c;
        full = true;
        return;
      }
      w.cart = c["cart_id"].s().value_or("");
      w.acked = c.body;
      for (int k = 0; k < 900 && !full.load() && std::chrono::steady_clock::now() < deadline; ++k) {
        auto r = api.add_item(w.cart, k % 2 ? "pot_ceramic" : "bouquet_tulips", 1);
        if (r.status == 200) {
          w.acked = r.body;
        } else {
          if (r.status == 507) full = true;
          w.refused = r;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE_MESSAGE(full.load(), "the journal never filled up");
  {  // (closes its keep-alive connection before the shutdown below)
    Api api(server.port());
    for (const auto& w : writers) {
      INFO("cart " << w.cart);
      if (w.refused) {
        CHECK(w.refused->status == 507);
        CHECK(w.refused->code() == "JOURNAL_FULL");
      }
      if (w.cart.empty()) continue;
      // A refused command changed nothing; everything acknowledged is there.
      auto g = api.get_cart(w.cart);
      CHECK(g.status == 200);
      CHECK(g.body == w.acked);
    }
    CHECK(api.http().get("/health/live").status == 200);
    // Going on: a smaller write may still fit, but soon it is full again, and
    // every answer is a 200 or a clean 507.
    bool full_again = false;
    for (int k = 0; k < 500 && !full_again; ++k) {
      auto again = api.add_item(writers[0].cart, "pot_ceramic", 1);
      if (again.status == 507) {
        CHECK(again.code() == "JOURNAL_FULL");
        full_again = true;
      } else {
        REQUIRE(again.status == 200);
        writers[0].acked = again.body;
      }
    }
    CHECK(full_again);
    CHECK(api.get_cart(writers[0].cart).body == writers[0].acked);
    CHECK(api.http().get("/health/live").status == 200);
  }

  // A full journal still shuts down cleanly and starts again (reads work)...
  CHECK(server.terminate() == 0);
  server.restart();
  REQUIRE(server.wait_ready());
  {
    Api again(server.port());
    auto g = again.get_cart(writers[0].cart);
    CHECK(g.status == 200);
    CHECK(g.body == writers[0].acked);
  }
  CHECK(server.terminate() == 0);
  // ... and with a larger limit, writes go on where they stopped.
  ServerProcess bigger(ServerOptions{{{"LMDB_MAP_SIZE_MB", "1"}, {"LMDB_MAP_MAX_MB", "8"}}, {}, true, true,
                                     server.data_dir()});
  REQUIRE(bigger.wait_ready());
  Api more(bigger.port());
  for (const auto& w : writers) {
    if (w.cart.empty()) continue;
    INFO("cart " << w.cart);
    CHECK(more.get_cart(w.cart).body == w.acked);
    auto before = more.get_cart(w.cart).version().value_or(0);
    auto r = more.add_item(w.cart, "pot_ceramic", 1);
    CHECK(r.status == 200);
    CHECK(r.version() == before + 1);
  }
}

}  // TEST_SUITE
