// Concurrent commands: one actor per cart serialises them; nothing is lost.
#include <atomic>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

#include "harness.hpp"

using namespace bb;

TEST_SUITE("concurrency") {

TEST_CASE("32 concurrent add_item on one cart: all applied, each version exactly once") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.new_cart();
  const int n = 32;
  std::vector<int> status(n, 0);
  std::vector<std::int64_t> versions(n, -1);
  std::vector<std::string> line_ids(n);
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Api mine(server.port());
      go.arrive_and_wait();
      auto r = mine.add_item(cart, i % 2 ? "bouquet_roses" : "pot_ceramic", 1 + i % 3);
      status[i] = r.status;
      versions[i] = r.version().value_or(-1);
      auto lines = r["lines"].size().value_or(0);
      if (lines > 0) line_ids[i] = r["lines"][lines - 1]["line_id"].s().value_or("");
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::int64_t> seen;
  std::int64_t expected_subtotal = 0;
  for (int i = 0; i < n; ++i) {
    INFO("thread " << i);
    CHECK(status[i] == 200);
    seen.insert(versions[i]);
    expected_subtotal += (i % 2 ? 3500 : 1500) * (1 + i % 3);
  }
  CHECK(seen.size() == static_cast<std::size_t>(n));
  CHECK(*seen.begin() == 2);
  CHECK(*seen.rbegin() == 1 + n);

  auto g = api.get_cart(cart);
  REQUIRE(g.status == 200);
  CHECK(g.version() == 1 + n);
  CHECK(g["lines"].size() == static_cast<std::size_t>(n));
  CHECK(g["subtotal_minor"].i() == expected_subtotal);
  check_cart_invariants(g);
  std::set<std::string> lines;
  for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
    lines.insert(g["lines"][i]["line_id"].s().value_or(""));
  CHECK(lines.size() == static_cast<std::size_t>(n));
}

TEST_CASE("16 carts mutated in parallel by 16 threads each end correct") {
  ServerProcess server;
  const int n = 16;
  std::vector<std::string> carts(n);
  std::vector<std::string> final_bodies(n);
  std::vector<std::string> failures(n);
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Api api(server.port());
      go.arrive_and_wait();
      std::string& fail = failures[i];
      auto expect = [&](const Response& r, std::int64_t version, const char* step) {
        if (r.status != 200 || r.version() != version)
          fail += std::string(step) + ": status " + std::to_string(r.status) + " body " + r.body + "\n";
      };
      auto c = api.create_cart();
      expect(c, 1, "create");
      auto cart = c["cart_id"].s().value_or("");
      carts[i] = cart;
      auto a = api.add_item(cart, "bouquet_roses", 2);
      expect(a, 2, "add roses");
      auto b = api.add_item(cart, "pot_ceramic", 1 + i % 4);
      expect(b, 3, "add pot");
      auto roses = a["lines"][0]["line_id"].s().value_or("");
      auto pot = b["lines"][1]["line_id"].s().value_or("");
      expect(api.update_item_qty(cart, roses, 3), 4, "update roses");
      expect(api.apply_adjustment(cart, "10OFF"), 5, "10OFF");
      expect(api.remove_item(cart, pot), 6, "remove pot");
      expect(api.add_item(cart, "bouquet_tulips", 1, 6), 7, "add tulips");
      expect(api.start_checkout(cart, 7), 8, "start_checkout");
      final_bodies[i] = api.get_cart(cart).body;
    });
  }
  for (auto& t : threads) t.join();

  Api api(server.port());
  std::set<std::string> ids;
  for (int i = 0; i < n; ++i) {
    INFO("cart " << i << " " << carts[i]);
    CHECK(failures[i] == "");
    ids.insert(carts[i]);
    auto g = api.get_cart(carts[i]);
    REQUIRE(g.status == 200);
    CHECK(g.body == final_bodies[i]);
    CHECK(g.version() == 8);
    CHECK(g["status"].s() == "checkout_ready");
    REQUIRE(g["lines"].size() == std::size_t{2});
    CHECK(g["lines"][0]["item_id"].s() == "bouquet_roses");
    CHECK(g["lines"][0]["quantity"].i() == 3);
    CHECK(g["lines"][1]["item_id"].s() == "bouquet_tulips");
    // 10500 + 3000 = 13500, 10% off = 1350, tax floor(12150 / 10) = 1215.
    CHECK(g["subtotal_minor"].i() == 13500);
    CHECK(g["discount_minor"].i() == 1350);
    CHECK(g["tax_minor"].i() == 1215);
    CHECK(g["total_minor"].i() == 13365);
    check_cart_invariants(g);
  }
  CHECK(ids.size() == static_cast<std::size_t>(n));
}

TEST_CASE("optimistic concurrency: racing writers with expected_version never lose an update") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.new_cart();
  const int n = 8, per_thread = 5;
  std::atomic<int> conflicts{0};
  std::vector<std::vector<std::int64_t>> won(n);
  std::vector<std::string> failures(n);
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Api mine(server.port());
      go.arrive_and_wait();
      int attempts = 0;
      while (static_cast<int>(won[i].size()) < per_thread && attempts++ < 400) {
        auto g = mine.get_cart(cart);
        auto v = g.version();
        if (g.status != 200 || !v) {
          failures[i] += "get_cart: " + g.body + "\n";
          return;
        }
        auto r = mine.add_item(cart, "orchid_white", 1, static_cast<std::uint64_t>(*v));
        if (r.status == 200) {
          if (r.version() != *v + 1) failures[i] += "version jump: " + r.body + "\n";
          won[i].push_back(r.version().value_or(-1));
        } else if (r.status == 409 && r.code() == "CART_VERSION_CONFLICT") {
          ++conflicts;
        } else {
          failures[i] += "unexpected: " + std::to_string(r.status) + " " + r.body + "\n";
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::int64_t> versions;
  std::size_t total = 0;
  for (int i = 0; i < n; ++i) {
    INFO("thread " << i);
    CHECK(failures[i] == "");
    CHECK(won[i].size() == static_cast<std::size_t>(per_thread));
    for (auto v : won[i]) versions.insert(v);
    total += won[i].size();
  }
  CHECK(versions.size() == total);  // no version was granted twice
  auto g = api.get_cart(cart);
  REQUIRE(g.status == 200);
  CHECK(g.version() == static_cast<std::int64_t>(1 + total));
  CHECK(g["lines"].size() == total);
  CHECK(g["subtotal_minor"].i() == static_cast<std::int64_t>(4500 * total));
  check_cart_invariants(g);
  MESSAGE("version conflicts observed: " << conflicts.load());
}

TEST_CASE("concurrent create_cart gives distinct carts") {
  ServerProcess server;
  const int n = 16, per_thread = 10;
  std::mutex mu;
  std::vector<std::string> ids;
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&] {
      Api api(server.port());
      go.arrive_and_wait();
      for (int k = 0; k < per_thread; ++k) {
        auto r = api.create_cart();
        std::lock_guard lock(mu);
        ids.push_back(r.status == 200 ? r["cart_id"].s().value_or("") : "");
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> unique(ids.begin(), ids.end());
  CHECK(unique.count("") == 0);
  CHECK(unique.size() == static_cast<std::size_t>(n * per_thread));
  Api api(server.port());
  for (std::size_t i = 0; i < ids.size(); i += 37) {
    auto g = api.get_cart(ids[i]);
    CHECK(g.status == 200);
    CHECK(g.version() == 1);
  }
}

}  // TEST_SUITE
