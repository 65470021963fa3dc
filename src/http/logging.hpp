// Process-wide logging: spdlog to stderr, as text or as JSON lines
// (LOG_FORMAT), at LOG_LEVEL. Messages never contain payment tokens,
// secrets or customer data: callers log ids, codes and counts only.
#pragma once

#include <string>

namespace orch::http {

void setup_logging(const std::string& level, const std::string& format);

}  // namespace orch::http
