// bench_setup URL N OUT: creates N carts on the server at URL (8 client
// threads, keep-alive) and writes their ids to OUT, one per line, for the wrk
// scripts to use.
#include <httplib.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/json.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s URL N OUT\n", argv[0]);
    return 2;
  }
  std::string url = argv[1];
  int n = std::stoi(argv[2]);
  std::vector<std::string> ids;
  std::mutex mu;
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      httplib::Client cli(url);
      cli.set_keep_alive(true);
      while (next.fetch_add(1) < n) {
        auto res = cli.Post("/api/v1/cart/commands",
                            R"({"command":{"kind":"create_cart","merchant_id":"flower_shop","currency":"USD"}})",
                            "application/json");
        if (!res || res->status != 200) {
          failures++;
          continue;
        }
        auto doc = orch::json::parse(res->body);
        if (!doc || !doc->find("cart_id")) {
          failures++;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        ids.push_back(doc->find("cart_id")->as_string());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::ofstream out(argv[3]);
  for (const auto& id : ids) out << id << "\n";
  std::printf("created %zu carts (%d failures)\n", ids.size(), failures.load());
  return failures.load() == 0 ? 0 : 1;
}
