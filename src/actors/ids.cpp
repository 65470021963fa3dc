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
  // Version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.
  // Ids made close together sort close together, so the journal's B-trees
  // take a burst of new streams in a few adjacent pages instead of one
  // random page each (fewer pages written per commit).
  const auto ms = static_cast<std::uint64_t>(now_ms()) & 0xFFFFFFFFFFFFull;
  std::uint64_t hi = (ms << 16) | 0x7000 | (rng()() & 0x0FFF);                         // version 7
  std::uint64_t lo = (rng()() & ~(std::uint64_t{0xC} << 60)) | (std::uint64_t{0x8} << 60);  // RFC variant
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
