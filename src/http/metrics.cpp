#include "http/metrics.hpp"

#include <fmt/format.h>

#include "actors/journal_writer.hpp"
#include "actors/outbox_supervisor.hpp"
#include "events/json.hpp"

namespace orch::http {

void Metrics::request_finished(int status, double seconds) {
  if (status >= 400) errors_.fetch_add(1, std::memory_order_relaxed);
  int cls = status / 100;
  if (cls >= 1 && cls <= 5) status_class_[cls].fetch_add(1, std::memory_order_relaxed);
  std::size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  duration_us_total_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  finished_.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::prometheus(const actors::WriterStats* writer, const actors::OutboxCounters* outbox) const {
  auto load = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  std::string out;
  out += "# HELP http_requests_total HTTP requests received.\n# TYPE http_requests_total counter\n";
  out += fmt::format("http_requests_total {}\n", load(requests_));
  out += "# HELP http_errors_total HTTP responses with a 4xx or 5xx status.\n"
         "# TYPE http_errors_total counter\n";
  out += fmt::format("http_errors_total {}\n", load(errors_));
  out += "# HELP http_responses_total HTTP responses by status class.\n"
         "# TYPE http_responses_total counter\n";
  for (int c = 1; c <= 5; ++c)
    out += fmt::format("http_responses_total{{class=\"{}xx\"}} {}\n", c, load(status_class_[c]));
  out += "# HELP http_request_duration_seconds Time from routing to response.\n"
         "# TYPE http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += load(buckets_[i]);
    out += fmt::format("http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", bounds_[i], cumulative);
  }
  cumulative += load(buckets_[bounds_.size()]);
  out += fmt::format("http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("http_request_duration_seconds_sum {:.6f}\n", load(duration_us_total_) / 1e6);
  out += fmt::format("http_request_duration_seconds_count {}\n", load(finished_));
  if (writer) {
    out += "# HELP journal_commits_total Journal transactions committed (one sync each).\n"
           "# TYPE journal_commits_total counter\n";
    out += fmt::format("journal_commits_total {}\n", load(writer->commits));
    out += "# HELP journal_write_sets_total Atomic write sets submitted to the journal.\n"
           "# TYPE journal_write_sets_total counter\n";
    out += fmt::format("journal_write_sets_total {}\n", load(writer->write_sets));
    out += "# HELP journal_events_total Events appended to the journal.\n"
           "# TYPE journal_events_total counter\n";
    out += fmt::format("journal_events_total {}\n", load(writer->events));
  }
  if (outbox) {
    out += "# HELP outbox_delivered_total Outbox messages delivered.\n# TYPE outbox_delivered_total counter\n";
    out += fmt::format("outbox_delivered_total {}\n", load(outbox->delivered));
    out += "# HELP outbox_failed_attempts_total Failed outbox delivery attempts.\n"
           "# TYPE outbox_failed_attempts_total counter\n";
    out += fmt::format("outbox_failed_attempts_total {}\n", load(outbox->failed));
    out += "# HELP outbox_dead_lettered_total Outbox messages moved to the dead-letter table.\n"
           "# TYPE outbox_dead_lettered_total counter\n";
    out += fmt::format("outbox_dead_lettered_total {}\n", load(outbox->dead_lettered));
  }
  return out;
}

std::string Metrics::json() const {
  orch::json::Writer w;
  w.begin_object();
  w.field("http_requests_total", requests_.load(std::memory_order_relaxed));
  w.field("http_errors_total", errors_.load(std::memory_order_relaxed));
  w.end_object();
  return w.take();
}

}  // namespace orch::http
