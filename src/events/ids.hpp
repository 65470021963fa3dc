// Identifier rules shared by every entity: what an id may contain, and the
// UUID forms clients may send for cart ids. Generating ids needs randomness
// and therefore lives outside this pure layer (src/actors/ids.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orch::ids {

inline constexpr std::size_t max_id_length = 128;

// 1..128 bytes of visible ASCII (0x21..0x7E).
bool is_valid_id(std::string_view s);

// Accepts hyphenated, simple (32 hex digits), braced and urn:uuid: forms in
// any letter case; returns the lowercase hyphenated form.
std::optional<std::string> normalize_uuid(std::string_view s);

}  // namespace orch::ids
