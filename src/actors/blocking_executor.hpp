// A fixed pool of plain threads for work that blocks (HTTP calls to
// back-ends). Actors never block a CAF scheduler thread: they submit the
// blocking part here and receive the result back as a message.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace orch::actors {

class BlockingExecutor {
 public:
  explicit BlockingExecutor(std::size_t threads);
  ~BlockingExecutor();  // shutdown()
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  void submit(std::function<void()> job);
  // Stop accepting work, drop queued jobs, let running ones finish, join
  // the threads. Idempotent.
  void shutdown();

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

}  // namespace orch::actors
