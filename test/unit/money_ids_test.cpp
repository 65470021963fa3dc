// src/events/money.hpp and src/events/ids.hpp.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "actors/ids.hpp"
#include "events/ids.hpp"
#include "events/money.hpp"

namespace money = orch::money;
namespace ids = orch::ids;

namespace {
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
using Opt = std::optional<std::int64_t>;
}  // namespace

// ------------------------------------------------------------------ money

TEST_CASE("money::add is exact in range and reports overflow") {
  CHECK(money::add(2, 3) == Opt(5));
  CHECK(money::add(-2, 3) == Opt(1));
  CHECK(money::add(kMax, 0) == Opt(kMax));
  CHECK(money::add(kMax - 1, 1) == Opt(kMax));
  CHECK(money::add(kMax, 1) == std::nullopt);
  CHECK(money::add(kMax, kMax) == std::nullopt);
  CHECK(money::add(kMin, -1) == std::nullopt);
  CHECK(money::add(kMin, kMax) == Opt(-1));
}

TEST_CASE("money::sub is exact in range and reports overflow") {
  CHECK(money::sub(5, 7) == Opt(-2));
  CHECK(money::sub(kMin + 1, 1) == Opt(kMin));
  CHECK(money::sub(kMin, 1) == std::nullopt);
  CHECK(money::sub(kMax, -1) == std::nullopt);
  CHECK(money::sub(0, kMin) == std::nullopt);
  CHECK(money::sub(-1, kMin) == Opt(kMax));
}

TEST_CASE("money::mul is exact in range and reports overflow") {
  CHECK(money::mul(3500, 2) == Opt(7000));
  CHECK(money::mul(-3, 4) == Opt(-12));
  CHECK(money::mul(kMax, 1) == Opt(kMax));
  CHECK(money::mul(kMax, 0) == Opt(0));
  CHECK(money::mul(kMax / 2, 2) == Opt(kMax - 1));
  CHECK(money::mul(kMax / 2 + 1, 2) == std::nullopt);
  CHECK(money::mul(kMax, 10000) == std::nullopt);
  CHECK(money::mul(922337203685478, 10000) == std::nullopt);  // just above kMax
  CHECK(money::mul(922337203685477, 10000) == Opt(9223372036854770000));
  CHECK(money::mul(kMin, -1) == std::nullopt);
}

TEST_CASE("money::percent_of is floor(amount * percent / 100)") {
  CHECK(money::percent_of(7000, 10) == 700);
  CHECK(money::percent_of(999, 10) == 99);  // 99.9 floored
  CHECK(money::percent_of(1, 99) == 0);
  CHECK(money::percent_of(199, 50) == 99);
  CHECK(money::percent_of(12345, 33) == 4073);  // 4073.85
  CHECK(money::percent_of(6300, 20) == 1260);
  SUBCASE("brute force against the exact formula for small amounts") {
    for (std::int64_t amount = 0; amount <= 1000; ++amount)
      for (std::int64_t pct = 0; pct <= 100; ++pct) {
        CAPTURE(amount);
        CAPTURE(pct);
        REQUIRE(money::percent_of(amount, pct) == amount * pct / 100);
      }
  }
}

TEST_CASE("money::percent_of edges: 0 %, 100 %, zero amount") {
  CHECK(money::percent_of(12345, 0) == 0);
  CHECK(money::percent_of(12345, 100) == 12345);
  CHECK(money::percent_of(0, 50) == 0);
  CHECK(money::percent_of(kMax, 0) == 0);
  CHECK(money::percent_of(kMax, 100) == kMax);
}

TEST_CASE("money::percent_of of huge amounts does not overflow") {
  // kMax = 9223372036854775807; kMax * 50 would overflow an int64.
  CHECK(money::percent_of(kMax, 50) == 4611686018427387903);
  CHECK(money::percent_of(kMax, 99) == 9131138316486228048);  // floor(kMax * 99 / 100)
  CHECK(money::percent_of(kMax, 1) == 92233720368547758);
  CHECK(money::percent_of(kMax - 1, 10) == 922337203685477580);
  // Never more than the amount and never negative.
  for (std::int64_t pct = 0; pct <= 100; ++pct) {
    std::int64_t p = money::percent_of(kMax, pct);
    CHECK(p >= 0);
    CHECK(p <= kMax);
  }
}

// ------------------------------------------------------------------ ids

TEST_CASE("ids::is_valid_id: 1..128 bytes of visible ASCII") {
  CHECK_FALSE(ids::is_valid_id(""));
  CHECK(ids::is_valid_id("a"));
  CHECK(ids::is_valid_id(std::string(127, 'x')));
  CHECK(ids::is_valid_id(std::string(128, 'x')));
  CHECK_FALSE(ids::is_valid_id(std::string(129, 'x')));
  CHECK(ids::is_valid_id("li_0b7d-XY:z!~"));
  CHECK(ids::is_valid_id("!"));  // 0x21, first visible
  CHECK(ids::is_valid_id("~"));  // 0x7E, last visible
}

TEST_CASE("ids::is_valid_id refuses spaces, control characters and non-ASCII") {
  CHECK_FALSE(ids::is_valid_id(" "));
  CHECK_FALSE(ids::is_valid_id("a b"));
  CHECK_FALSE(ids::is_valid_id("ab "));
  CHECK_FALSE(ids::is_valid_id("a\tb"));
  CHECK_FALSE(ids::is_valid_id("a\nb"));
  CHECK_FALSE(ids::is_valid_id(std::string("a\0b", 3)));
  CHECK_FALSE(ids::is_valid_id("\x7f"));
  CHECK_FALSE(ids::is_valid_id("caf\xc3\xa9"));
  CHECK_FALSE(ids::is_valid_id("\xff"));
}

TEST_CASE("ids::normalize_uuid accepts every documented form and lowercases") {
  const std::string canon = "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11";
  using S = std::optional<std::string>;
  CHECK(ids::normalize_uuid(canon) == S(canon));
  CHECK(ids::normalize_uuid("6f0c9a521d7e4b8e9f622b0a8d6f4c11") == S(canon));
  CHECK(ids::normalize_uuid("{6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11}") == S(canon));
  CHECK(ids::normalize_uuid("urn:uuid:6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11") == S(canon));
  CHECK(ids::normalize_uuid("6F0C9A52-1D7E-4B8E-9F62-2B0A8D6F4C11") == S(canon));
  CHECK(ids::normalize_uuid("6F0C9A521D7E4B8E9F622B0A8D6F4C11") == S(canon));
  CHECK(ids::normalize_uuid("{6F0C9A52-1d7e-4B8E-9f62-2B0A8D6F4C11}") == S(canon));
  CHECK(ids::normalize_uuid("URN:UUID:6F0C9A52-1D7E-4B8E-9F62-2B0A8D6F4C11") == S(canon));
  CHECK(ids::normalize_uuid("00000000-0000-0000-0000-000000000000") ==
        S("00000000-0000-0000-0000-000000000000"));
}

TEST_CASE("ids::normalize_uuid rejects everything else") {
  for (const char* s : {
           "",
           "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c1",     // 35 characters
           "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c111",   // 37 characters
           "6f0c9a521d7e4b8e9f622b0a8d6f4c1",         // 31 hex digits
           "6f0c9a521d7e4b8e9f622b0a8d6f4c111",       // 33 hex digits
           "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c1g",    // not hex
           "6f0c9a521d7e4b8e9f622b0a8d6f4c1g",        // not hex, simple form
           "6f0c9a521-d7e-4b8e-9f62-2b0a8d6f4c11",    // hyphen misplaced
           "6f0c9a52-1d7e-4b8e-9f622-b0a8d6f4c11",    // hyphen misplaced
           "6f0c9a52x1d7e-4b8e-9f62-2b0a8d6f4c11",    // wrong separator
           "6f0c9a52-1d7e-4b8e-9f62-2b0a-8d6f4c11",   // 36 chars, five hyphens
           "6f0c-9a52-1d7e-4b8e-9f62-2b0a8d6f4c11",   // extra hyphen
           "{6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11",   // unbalanced brace
           "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11}",   // unbalanced brace
           "{{6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11}}",
           "urn:uuid:",
           "urn:uuid:6f0c9a52",
           "uuid:6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11",
           " 6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11",
           "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11 ",
           "{}",
           "--------------------------------",          // 32 hyphens
           "------------------------------------",      // 36 hyphens
       }) {
    CAPTURE(s);
    CHECK(ids::normalize_uuid(s) == std::nullopt);
  }
}

TEST_CASE("actors::new_uuid makes canonical version 7 UUIDs that sort by creation time") {
  std::string prev = orch::actors::new_uuid();
  for (int i = 0; i < 200; ++i) {
    const std::int64_t before = orch::actors::now_ms();
    std::string u = orch::actors::new_uuid();
    CHECK(ids::normalize_uuid(u) == std::optional<std::string>(u));  // canonical lowercase form
    CHECK(u[14] == '7');                                               // version
    CHECK(std::string("89ab").find(u[19]) != std::string::npos);       // RFC variant
    // The first 48 bits are the creation time in milliseconds.
    std::string ms_hex = u.substr(0, 8) + u.substr(9, 4);
    const auto ms = static_cast<std::int64_t>(std::stoull(ms_hex, nullptr, 16));
    CHECK(ms >= before);
    CHECK(ms <= orch::actors::now_ms());
    // Made in a later millisecond: sorts later.
    if (u.substr(0, 13) != prev.substr(0, 13)) CHECK(prev < u);
    CHECK(u != prev);
    prev = u;
  }
  CHECK(orch::actors::new_id("txn_").rfind("txn_", 0) == 0);
}
