// bench_setup URL N OUT [ready]: creates N carts on the server at URL (8
// client threads, keep-alive) and writes one line per cart to OUT:
//   plain:  <cart_id>
//   ready:  <cart_id> <version> <total_minor>   (one rose added, start_checkout done)
// for the wrk scripts in bench/.
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/json.hpp"

namespace {

std::optional<orch::json::Value> post(httplib::Client& cli, const std::string& body) {
  auto res = cli.Post("/api/v1/cart/commands", body, "application/json");
  if (!res || res->status != 200) return std::nullopt;
  auto doc = orch::json::parse(res->body);
  if (!doc) return std::nullopt;
  return std::move(*doc);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s URL N OUT [ready]\n", argv[0]);
    return 2;
  }
  std::string url = argv[1];
  int n = std::stoi(argv[2]);
  bool ready = argc > 4 && std::string(argv[4]) == "ready";
  std::vector<std::string> lines;
  std::mutex mu;
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      httplib::Client cli(url);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      while (next.fetch_add(1) < n) {
        auto cart = post(cli, R"({"command":{"kind":"create_cart","merchant_id":"flower_shop","currency":"USD"}})");
        if (!cart) {
          failures++;
          continue;
        }
        std::string id = cart->find("cart_id")->as_string();
        std::string line = id;
        if (ready) {
          auto added = post(cli, R"({"cart_id":")" + id +
                                     R"(","command":{"kind":"add_item","item_id":"bouquet_roses","quantity":1}})");
          auto started = added ? post(cli, R"({"command":{"kind":"start_checkout","cart_id":")" + id +
                                               R"(","cart_version":2}})")
                               : std::nullopt;
          if (!started) {
            failures++;
            continue;
          }
          line += " " + std::to_string(*started->find("version")->as_int64()) + " " +
                  std::to_string(*started->find("total_minor")->as_int64());
        }
        std::lock_guard<std::mutex> lock(mu);
        lines.push_back(std::move(line));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::ofstream out(argv[3]);
  for (const auto& l : lines) out << l << "\n";
  std::printf("created %zu carts (%d failures)\n", lines.size(), failures.load());
  return failures.load() == 0 ? 0 : 1;
}
