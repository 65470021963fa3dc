#include "events/idempotency.hpp"

#include "events/json.hpp"

namespace orch::idempotency {

std::string encode(const Record& r) {
  json::Writer w;
  w.begin_object();
  w.field("state", r.completed ? "completed" : "in_progress");
  w.field("fingerprint", r.fingerprint).field("cart_id", r.cart_id);
  w.field("transaction_id", r.transaction_id);
  if (r.completed) w.field("status", static_cast<std::int64_t>(r.status)).field("response", r.response);
  if (r.error) w.field("error_code", code_name(r.error->code)).field("error_message", r.error->message);
  w.end_object();
  return w.take();
}

Result<Record> decode(std::string_view row) {
  auto doc = json::parse(row);
  if (!doc) return Error(Code::store_error, "cannot decode idempotency record: " + doc.error().message);
  json::ObjectReader r(&*doc, "");
  Record rec;
  auto state = r.string("state").value_or("");
  rec.completed = state == "completed";
  rec.fingerprint = r.string("fingerprint").value_or("");
  rec.cart_id = r.string("cart_id").value_or("");
  rec.transaction_id = r.string("transaction_id").value_or("");
  if (rec.completed) {
    rec.status = static_cast<int>(r.int64("status").value_or(200));
    rec.response = r.string("response").value_or("");
    if (auto code = r.string("error_code", false)) {
      auto c = code_from_name(*code);
      rec.error = Error(c.value_or(Code::internal_error), r.string("error_message").value_or(""));
    }
  }
  if (!r.ok()) return Error(Code::store_error, "cannot decode idempotency record: " + r.error().message);
  return rec;
}

namespace {
std::string join(std::initializer_list<std::string_view> parts) {
  std::string k;
  for (auto p : parts) {
    if (!k.empty()) k.push_back('\0');
    k += p;
  }
  return k;
}
}  // namespace

std::string checkout_key(const std::string& tenant, const std::string& merchant,
                         const std::string& key) {
  return join({"checkout", tenant, merchant, key});
}

std::string payment_key(const std::string& tenant, const std::string& key) {
  return join({"payment", tenant, key});
}

Verdict classify(const std::optional<Record>& record, const std::string& fingerprint) {
  if (!record) return Verdict::proceed;
  if (record->fingerprint != fingerprint) return Verdict::reused;
  return record->completed ? Verdict::replay : Verdict::wait;
}

Error key_reused() {
  return Error(Code::idempotency_key_reused,
               "idempotency key was already used for a different request");
}

}  // namespace orch::idempotency
