// The actor runtime as the rest of the program sees it: start it over a data
// directory and a set of back-ends, send it commands, shut it down. HTTP
// handlers call these blocking methods from their own threads; nothing here
// exposes CAF, so callers do not pay for its headers.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "actors/deps.hpp"
#include "adapters/backends.hpp"
#include "events/cart.hpp"
#include "events/error.hpp"
#include "store/journal.hpp"

namespace orch::actors {

struct WriterStats;

struct RuntimeOptions {
  store::Options journal;
  Settings settings;
  adapters::Backends backends;
  std::size_t scheduler_threads = 2;
  std::size_t blocking_threads = 32;  // threads for blocking back-end calls
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
};

class Runtime {
 public:
  // Opens the journal (STORE_ERROR naming the file when it cannot) and
  // starts the actors.
  static Result<std::unique_ptr<Runtime>> start(RuntimeOptions options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Runs one cart command for `tenant`. `cart_id` is ignored for create_cart.
  // Blocks the calling thread until the owning actor answers (after the
  // change is durable) or the request timeout passes.
  Result<cart::Cart> cart_command(const std::string& tenant, std::string cart_id,
                                  cart::Command command, std::string request_id);

  // Stops the actors, flushes and closes the journal. Idempotent. Callers
  // must have stopped sending commands.
  void shutdown();

  const WriterStats& writer_stats() const;
  store::Journal& journal();

 private:
  struct Impl;
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace orch::actors
