#include "actors/ids.hpp"

#include <chrono>
#include <random>

namespace orch::actors {

namespace {
std::mt19937_64& rng() {
  thread_local std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  return gen;
}
}  // namespace

std::string new_uuid() {
  std::uint64_t hi = rng()(), lo = rng()();
  hi = (hi & ~std::uint64_t{0xF000}) | 0x4000;                      // version 4
  lo = (lo & ~(std::uint64_t{0xC} << 60)) | (std::uint64_t{0x8} << 60);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    std::uint64_t word = i < 8 ? hi : lo;
    unsigned byte = static_cast<unsigned>((word >> (56 - 8 * (i % 8))) & 0xFF);
    out.push_back(hex[byte >> 4]);
    out.push_back(hex[byte & 0xF]);
  }
  return out;
}

std::string new_id(std::string_view prefix) {
  std::string out(prefix);
  out += new_uuid();
  return out;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace orch::actors
