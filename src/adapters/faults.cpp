#include "adapters/faults.hpp"

#include <charconv>
#include <thread>

namespace orch::adapters {

namespace {

Error bad(const std::string& rule, const std::string& why) {
  return Error(Code::internal_error, "DEMO_FAULTS: rule '" + rule + "': " + why);
}

bool to_u64(std::string_view s, std::uint64_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

Result<std::shared_ptr<FaultPlan>> FaultPlan::parse(const std::string& spec) {
  auto plan = std::make_shared<FaultPlan>();
  std::size_t start = 0;
  while (start < spec.size()) {
    auto comma = spec.find(',', start);
    std::string rule = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() : comma + 1;
    if (rule.empty()) continue;
    auto hash = rule.find('#');
    auto eq = rule.find('=');
    if (hash == std::string::npos || eq == std::string::npos || eq < hash)
      return bad(rule, "expected OP#N=ACTION");
    Rule r;
    r.op = rule.substr(0, hash);
    std::string nth = rule.substr(hash + 1, eq - hash - 1);
    std::string action = rule.substr(eq + 1);
    if (nth != "*" && (!to_u64(nth, r.nth) || r.nth == 0)) return bad(rule, "N must be 1, 2, ... or *");
    if (action == "fail") {
      r.fault.kind = Fault::fail;
    } else if (action == "lose") {
      r.fault.kind = Fault::lose;
    } else if (action == "decline") {
      r.fault.kind = Fault::decline;
    } else if (action.rfind("delay:", 0) == 0) {
      std::uint64_t ms = 0;
      if (!to_u64(action.substr(6), ms)) return bad(rule, "delay needs milliseconds");
      r.fault.kind = Fault::delay;
      r.fault.delay_ms = static_cast<std::int64_t>(ms);
    } else {
      return bad(rule, "unknown action '" + action + "' (fail, lose, decline, delay:MS)");
    }
    plan->rules_.push_back(std::move(r));
  }
  return plan;
}

Fault FaultPlan::on_call(const std::string& op) {
  if (rules_.empty()) return {};
  Fault found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t n = ++calls_[op];
    for (const auto& r : rules_)
      if (r.op == op && (r.nth == 0 || r.nth == n)) {
        found = r.fault;
        break;
      }
  }
  if (found.kind == Fault::delay) {
    std::this_thread::sleep_for(std::chrono::milliseconds(found.delay_ms));
    return {};
  }
  return found;
}

}  // namespace orch::adapters
