// Fresh identifiers and the wall clock: the impure inputs that the domain
// (src/events) receives as plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orch::actors {

// Time-ordered (version 7) UUID, lowercase hyphenated: ids made later sort
// later (to the millisecond), the rest is random.
std::string new_uuid();
// prefix + UUID, e.g. "li_3f0e2c1a-...".
std::string new_id(std::string_view prefix);
// Milliseconds since the Unix epoch.
std::int64_t now_ms();

}  // namespace orch::actors
