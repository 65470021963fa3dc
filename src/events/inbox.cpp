#include "events/inbox.hpp"

#include "events/ids.hpp"
#include "events/json.hpp"
#include "events/outbox.hpp"

namespace orch::inbox {

std::string encode(const Record& r) {
  json::Writer w;
  w.begin_object().field("received_at_ms", r.received_at_ms).field("payload", r.payload).end_object();
  return w.take();
}

Result<Record> decode(std::string_view row) {
  auto doc = json::parse(row);
  if (!doc) return Error(Code::store_error, "cannot decode inbox row: " + doc.error().message);
  json::ObjectReader r(&*doc, "");
  Record rec{r.int64("received_at_ms").value_or(0), r.string("payload").value_or("")};
  if (!r.ok()) return Error(Code::store_error, "cannot decode inbox row: " + r.error().message);
  return rec;
}

std::string key(const std::string& tenant, const std::string& message_id) {
  std::string k = tenant;
  k.push_back('\0');
  k += message_id;
  return k;
}

std::string expiry_key(std::int64_t received_at_ms, const std::string& inbox_key) {
  std::string k = expiry_prefix;
  k.push_back('\0');
  k += outbox::due_key(received_at_ms, inbox_key);  // 8-byte big-endian time + key
  return k;
}

bool expired(const Record& r, std::int64_t retention_ms, std::int64_t now_ms) {
  return r.received_at_ms + retention_ms <= now_ms;
}

std::vector<std::string> validate(const std::string& message_id) {
  std::vector<std::string> out;
  if (message_id.empty())
    out.push_back("message_id required");
  else if (!ids::is_valid_id(message_id))
    out.push_back("message_id must be 1 to 128 visible ASCII characters");
  return out;
}

}  // namespace orch::inbox
