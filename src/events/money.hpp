// Checked money arithmetic. Money is a signed 64-bit count of minor units;
// every operation reports overflow instead of wrapping.
#pragma once

#include <cstdint>
#include <optional>

namespace orch::money {

inline std::optional<std::int64_t> add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<std::int64_t> sub(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

inline std::optional<std::int64_t> mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// floor(amount * percent / 100) for amount >= 0 and 0 <= percent <= 100,
// without overflowing the intermediate product.
inline std::int64_t percent_of(std::int64_t amount, std::int64_t percent) {
  if (amount <= 0 || percent <= 0) return 0;
  if (percent >= 100) return amount;
  return (amount / 100) * percent + (amount % 100) * percent / 100;
}

}  // namespace orch::money
