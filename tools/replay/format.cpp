#include <cstdio>

#include "replay.hpp"

namespace orch::replay {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<std::uint64_t>(z - era * 146097);
  const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::uint64_t mp = (5 * doy + 2) / 153;
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return Civil{y, m, d};
}

}  // namespace

std::string iso8601(std::int64_t ms) {
  const std::int64_t secs = floor_div(ms, 1000);
  const auto millis = static_cast<int>(ms - secs * 1000);
  const std::int64_t days = floor_div(secs, 86400);
  const auto sod = static_cast<int>(secs - days * 86400);
  const Civil c = civil_from_days(days);
  char buf[64];
  const char* year_fmt = (c.year >= 0 && c.year <= 9999) ? "%04lld" : "%+05lld";
  int n = std::snprintf(buf, sizeof buf, year_fmt, static_cast<long long>(c.year));
  std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n),
                "-%02u-%02uT%02d:%02d:%02d.%03dZ", c.month, c.day, sod / 3600, sod / 60 % 60,
                sod % 60, millis);
  return buf;
}

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;  // overlong
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string printable(std::string_view s, bool keep_space) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c > 0x20 && c < 0x7F) || (c == 0x20 && keep_space)) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(hex_digits[c >> 4]);
      out.push_back(hex_digits[c & 0xF]);
    }
  }
  return out;
}

void write_bytes(json::Writer& w, std::string_view key, std::string_view bytes) {
  if (is_utf8(bytes)) {
    w.field(key, bytes);
    return;
  }
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    hex.push_back(hex_digits[c >> 4]);
    hex.push_back(hex_digits[c & 0xF]);
  }
  w.field(std::string(key) + "_hex", hex);
}

Result<json::Value> parse_payload(std::string_view payload) {
  json::ParseLimits limits;
  limits.max_depth = 128;
  return json::parse(payload, limits);
}

bool event_json(const store::StoredEvent& e, std::string& line) {
  json::Writer w;
  w.begin_object();
  write_bytes(w, "stream", store::to_string(e.stream));
  w.field("seq", e.seq).field("position", e.position);
  write_bytes(w, "type", e.data.type);
  w.field("schema", e.data.schema);
  w.field("recorded_at", iso8601(e.data.recorded_at_ms));
  w.field("recorded_at_ms", e.data.recorded_at_ms);
  const std::string& payload = e.data.payload;
  auto doc = parse_payload(payload);
  bool ok = true;
  w.key("data");
  if (!doc) {
    ok = false;
    w.null();
    w.field("error", "payload is not valid JSON: " + doc.error().message);
    write_bytes(w, "payload", payload);
  } else if (payload.find_first_of("\r\n") != std::string::npos) {
    w.raw(doc->dump());  // keep one event per line
  } else {
    w.raw(payload);
  }
  w.end_object();
  line = w.take();
  return ok;
}

}  // namespace orch::replay
