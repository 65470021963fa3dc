#include "http/checkout_json.hpp"

#include "events/ids.hpp"

namespace orch::http {

namespace {

// An optional nested object whose members are all optional strings.
template <class T, class Fill>
std::optional<T> optional_object(json::ObjectReader& parent, std::string_view key, Fill&& fill) {
  const json::Value* v = parent.object(key, false);
  if (!v) return std::nullopt;
  json::ObjectReader r(v, parent.path_of(key));
  T out;
  fill(r, out);
  if (!r.ok()) {
    parent.fail(r.error());
    return std::nullopt;
  }
  return out;
}

}  // namespace

Result<checkout::Request> parse_checkout_request(const json::Value& body) {
  json::ObjectReader r(&body, "");
  checkout::Request req;
  req.tenant_id = r.string("tenant_id").value_or("");
  req.merchant_id = r.string("merchant_id").value_or("");
  auto cart_id = r.string("cart_id");
  req.cart_version = r.uint64("cart_version").value_or(0);
  req.currency = r.string("currency").value_or("");
  req.customer = optional_object<checkout::Customer>(r, "customer", [](json::ObjectReader& c, checkout::Customer& out) {
    out.email = c.string("email", false);
    out.full_name = c.string("full_name", false);
  });
  req.location = optional_object<checkout::Location>(r, "location", [](json::ObjectReader& l, checkout::Location& out) {
    out.country_code = l.string("country_code", false);
    out.region = l.string("region", false);
    out.postal_code = l.string("postal_code", false);
  });
  const json::Value* intent = r.object("payment_intent");
  req.idempotency_key = r.string("idempotency_key").value_or("");
  if (!r.ok()) return r.error();
  json::ObjectReader p(intent, "payment_intent");
  req.amount_minor = p.int64("amount_minor").value_or(0);
  req.token = p.string("token_or_reference").value_or("");
  req.ap2_consent_proof = p.string("ap2_consent_proof", false);
  req.payment_handler_id = p.string("payment_handler_id", false);
  if (!p.ok()) return p.error();
  auto id = ids::normalize_uuid(*cart_id);
  if (!id) return Error(Code::bad_request, "cart_id must be a UUID");
  req.cart_id = *id;
  return req;
}

Result<PaymentOperationRequest> parse_payment_request(const json::Value& body, payment::Op op) {
  json::ObjectReader r(&body, "");
  PaymentOperationRequest out;
  out.tenant_id = r.string("tenant_id").value_or("");
  out.merchant_id = r.string("merchant_id").value_or("");
  out.transaction_id = r.string("transaction_id").value_or("");
  out.op.op = op;
  out.op.amount_minor = r.int64("amount_minor", op != payment::Op::void_).value_or(0);
  out.idempotency_key = r.string("idempotency_key").value_or("");
  if (!r.ok()) return r.error();
  std::vector<std::string> problems;
  auto check = [&](const char* name, const std::string& v) {
    if (v.empty()) problems.push_back(std::string(name) + " required");
    else if (!ids::is_valid_id(v)) problems.push_back(std::string(name) + " must be 1 to 128 visible ASCII characters");
  };
  check("tenant_id", out.tenant_id);
  check("merchant_id", out.merchant_id);
  check("transaction_id", out.transaction_id);
  check("idempotency_key", out.idempotency_key);
  if (op != payment::Op::void_ && out.op.amount_minor <= 0) problems.push_back("amount_minor must be > 0");
  if (!problems.empty()) return validation_failed(std::move(problems));
  return out;
}

Result<std::vector<std::string>> parse_reconciliation_request(const json::Value& body) {
  json::ObjectReader r(&body, "");
  const json::Value* ids_value = r.array("transaction_ids");
  if (!r.ok()) return r.error();
  std::vector<std::string> out;
  std::vector<std::string> problems;
  if (ids_value->items().size() > 1000) problems.push_back("transaction_ids holds at most 1000 ids");
  for (const auto& v : ids_value->items()) {
    if (!v.is_string()) return Error(Code::invalid_body, "field 'transaction_ids' must hold strings");
    if (!ids::is_valid_id(v.as_string()) && problems.empty())
      problems.push_back("transaction_ids must be 1 to 128 visible ASCII characters each");
    out.push_back(v.as_string());
  }
  if (!problems.empty()) return validation_failed(std::move(problems));
  return out;
}

}  // namespace orch::http
