// Process metrics: request and error counters, a latency histogram and the
// journal writer's counters. GET /metrics renders them as Prometheus text,
// or as the reference service's JSON with "Accept: application/json".
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace orch::actors {
struct WriterStats;
struct OutboxCounters;
}

namespace orch::http {

class Metrics {
 public:
  void request_started() { requests_.fetch_add(1, std::memory_order_relaxed); }
  // status of the response and how long it took.
  void request_finished(int status, double seconds);

  std::string prometheus(const actors::WriterStats* writer, const actors::OutboxCounters* outbox) const;
  std::string json() const;

 private:
  static constexpr std::array<double, 12> bounds_ = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> status_class_[6] = {};  // index: status / 100
  std::atomic<std::uint64_t> buckets_[bounds_.size() + 1] = {};
  std::atomic<std::uint64_t> duration_us_total_{0};
  std::atomic<std::uint64_t> finished_{0};
};

}  // namespace orch::http
