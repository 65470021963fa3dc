// Fault injection for the demo back-ends — a TEST AID, not a feature.
//
// DEMO_FAULTS is a comma-separated list of rules OP#N=ACTION:
//   OP      payment.authorize, payment.capture, payment.void, payment.refund,
//           receipt.generate, catalog.get_item, pricing.resolve_prices,
//           pricing.resolve_discount, tax.resolve_tax, geo.check
//   N       which call of that operation (1-based, counted since start-up), or *
//   ACTION  fail       the call fails without effect (outcome unknown to the caller)
//           lose       the call takes effect, then fails (a lost response)
//           decline    a definitive refusal (authorize declined, operation refused)
//           delay:MS   the call waits MS milliseconds, then proceeds
// e.g. DEMO_FAULTS="payment.capture#1=fail,receipt.generate#*=fail"
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events/error.hpp"

namespace orch::adapters {

struct Fault {
  enum Kind { none, fail, lose, decline, delay } kind = none;
  std::int64_t delay_ms = 0;
};

class FaultPlan {
 public:
  static Result<std::shared_ptr<FaultPlan>> parse(const std::string& spec);

  // Counts a call of `op` and returns the fault for it (kind none: no fault).
  // A delay is carried out here (the call sleeps), and then reported as none.
  Fault on_call(const std::string& op);

  bool empty() const { return rules_.empty(); }

 private:
  struct Rule {
    std::string op;
    std::uint64_t nth = 0;  // 0: every call
    Fault fault;
  };
  std::vector<Rule> rules_;
  std::mutex mu_;
  std::map<std::string, std::uint64_t> calls_;
};

}  // namespace orch::adapters
