#include "events/ids.hpp"

namespace orch::ids {

bool is_valid_id(std::string_view s) {
  if (s.empty() || s.size() > max_id_length) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> normalize_uuid(std::string_view s) {
  if (s.size() > 9 && (s.substr(0, 9) == "urn:uuid:" || s.substr(0, 9) == "URN:UUID:"))
    s.remove_prefix(9);
  else if (s.size() >= 2 && s.front() == '{' && s.back() == '}')
    s = s.substr(1, s.size() - 2);
  std::string hex;
  if (s.size() == 36) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      bool dash_pos = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash_pos != (s[i] == '-')) return std::nullopt;
      if (!dash_pos) hex.push_back(s[i]);
    }
  } else if (s.size() == 32) {
    hex = std::string(s);
  } else {
    return std::nullopt;
  }
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < hex.size(); ++i) {
    int v = hex_value(hex[i]);
    if (v < 0) return std::nullopt;
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    out.push_back("0123456789abcdef"[v]);
  }
  return out;
}

}  // namespace orch::ids
