// The inbox: incoming events (webhooks) accepted once per tenant and message
// id. A message id is remembered for the retention period (INBOX_RETENTION_HOURS)
// and then forgotten: a delivery of the same id after that is new again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/error.hpp"

namespace orch::inbox {

struct Record {
  std::int64_t received_at_ms = 0;
  std::string payload;  // the JSON payload as received ("" when none)
};

std::string encode(const Record& r);
Result<Record> decode(std::string_view row);

// Key of the inbox table.
std::string key(const std::string& tenant, const std::string& message_id);
// Key of the index row that expires it: "inbox_exp\0" + 8-byte big-endian
// received time + inbox key, so a key-order scan meets the oldest first.
std::string expiry_key(std::int64_t received_at_ms, const std::string& inbox_key);
inline constexpr const char* expiry_prefix = "inbox_exp";

bool expired(const Record& r, std::int64_t retention_ms, std::int64_t now_ms);

// message_id: 1..128 visible ASCII; payload: any JSON (kept as sent).
std::vector<std::string> validate(const std::string& message_id);

}  // namespace orch::inbox
