#include "events/outbox.hpp"

#include <algorithm>
#include <tuple>

#include "events/json.hpp"

namespace orch::outbox {

std::string encode(const Message& m) {
  json::Writer w;
  w.begin_object();
  w.field("id", m.id).field("topic", m.topic).field("tenant_id", m.tenant_id);
  w.field("correlation_id", m.correlation_id).field("payload", m.payload);
  w.field("created_at_ms", m.created_at_ms).field("attempts", static_cast<std::uint64_t>(m.attempts));
  w.field("next_attempt_at_ms", m.next_attempt_at_ms);
  w.field("last_attempt_at_ms", m.last_attempt_at_ms).field("last_error", m.last_error);
  w.field("dead_lettered_at_ms", m.dead_lettered_at_ms);
  w.field("claimed_until_ms", m.claimed_until_ms).field("claimed_by", m.claimed_by);
  w.end_object();
  return w.take();
}

Result<Message> decode(std::string_view row) {
  auto doc = json::parse(row);
  if (!doc) return Error(Code::store_error, "cannot decode outbox row: " + doc.error().message);
  json::ObjectReader r(&*doc, "");
  Message m;
  m.id = r.string("id").value_or("");
  m.topic = r.string("topic").value_or("");
  m.tenant_id = r.string("tenant_id").value_or("");
  m.correlation_id = r.string("correlation_id").value_or("");
  m.payload = r.string("payload").value_or("");
  m.created_at_ms = r.int64("created_at_ms").value_or(0);
  m.attempts = static_cast<std::uint32_t>(r.uint64("attempts").value_or(0));
  m.next_attempt_at_ms = r.int64("next_attempt_at_ms").value_or(0);
  m.last_attempt_at_ms = r.int64("last_attempt_at_ms").value_or(0);
  m.last_error = r.string("last_error").value_or("");
  m.dead_lettered_at_ms = r.int64("dead_lettered_at_ms", false).value_or(0);
  m.claimed_until_ms = r.int64("claimed_until_ms", false).value_or(0);
  m.claimed_by = r.string("claimed_by", false).value_or("");
  if (!r.ok()) return Error(Code::store_error, "cannot decode outbox row: " + r.error().message);
  return m;
}

std::int64_t next_attempt_at(const RetryPolicy& p, std::uint32_t attempts, std::int64_t now_ms,
                             double jitter) {
  std::int64_t delay = p.base_ms;
  for (std::uint32_t i = 1; i < attempts && delay < p.max_ms; ++i) delay *= 2;
  delay = std::min(delay, p.max_ms);
  delay += static_cast<std::int64_t>(static_cast<double>(delay) * 0.5 * std::clamp(jitter, 0.0, 1.0));
  return now_ms + std::max(delay, p.base_ms);
}

AfterFailure after_failure(const Message& m, const RetryPolicy& p, const std::string& error,
                           std::int64_t now_ms, double jitter) {
  AfterFailure out{m, false};
  Message& n = out.message;
  n.attempts += 1;
  n.last_error = error;
  n.last_attempt_at_ms = now_ms;
  n.claimed_until_ms = 0;
  n.claimed_by.clear();
  if (n.attempts >= p.max_attempts) {
    out.dead_letter = true;
    n.dead_lettered_at_ms = now_ms;
  } else {
    n.next_attempt_at_ms = next_attempt_at(p, n.attempts, now_ms, jitter);
  }
  return out;
}

Message requeued(const Message& dead, std::int64_t now_ms) {
  Message m = dead;
  m.attempts = 0;
  m.next_attempt_at_ms = now_ms;
  m.dead_lettered_at_ms = 0;
  m.claimed_until_ms = 0;
  m.claimed_by.clear();
  return m;
}

std::string dead_letter_list_json(std::vector<Message> entries) {
  std::sort(entries.begin(), entries.end(), [](const Message& a, const Message& b) {
    return std::tie(a.dead_lettered_at_ms, a.id) < std::tie(b.dead_lettered_at_ms, b.id);
  });
  json::Writer w;
  w.begin_array();
  for (const auto& m : entries) {
    w.begin_object().field("id", m.id).field("topic", m.topic).field("tenant_id", m.tenant_id);
    w.field("correlation_id", m.correlation_id).field("attempts", static_cast<std::uint64_t>(m.attempts));
    w.field("last_error", m.last_error).field("created_at_ms", m.created_at_ms);
    w.field("last_attempt_at_ms", m.last_attempt_at_ms).field("dead_lettered_at_ms", m.dead_lettered_at_ms);
    w.end_object();
  }
  w.end_array();
  return w.take();
}

std::string due_key(std::int64_t due_at_ms, const std::string& id) {
  std::string k(8, '\0');
  auto v = static_cast<std::uint64_t>(due_at_ms < 0 ? 0 : due_at_ms);
  for (int i = 7; i >= 0; --i) {
    k[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
  return k + id;
}

namespace {

// A message whose payload document is built by `data` (which writes the
// members of the "data" object).
template <class F>
Message make(const std::string& id, const std::string& topic, const std::string& tenant,
             const std::string& correlation_id, std::int64_t at_ms, F&& data) {
  json::Writer w;
  w.begin_object();
  w.field("id", id).field("topic", topic).field("tenant_id", tenant);
  w.field("correlation_id", correlation_id).field("occurred_at_ms", at_ms);
  w.key("data").begin_object();
  data(w);
  w.end_object();
  w.end_object();
  Message m;
  m.id = id;
  m.topic = topic;
  m.tenant_id = tenant;
  m.correlation_id = correlation_id;
  m.payload = w.take();
  m.created_at_ms = at_ms;
  m.next_attempt_at_ms = at_ms;
  return m;
}

}  // namespace

std::vector<Message> for_completed_checkout(const checkout::Saga& s, const std::vector<std::string>& ids,
                                            std::int64_t at_ms) {
  std::vector<Message> out;
  out.push_back(make(ids.at(0), "order.created", s.tenant_id, s.correlation_id, at_ms, [&](json::Writer& w) {
    w.field("order_id", s.order_id).field("transaction_id", s.transaction_id);
    w.field("cart_id", s.cart_id).field("merchant_id", s.merchant_id);
    w.field("currency", s.currency).field("total_minor", s.totals.total_minor);
    w.field("line_count", static_cast<std::uint64_t>(s.lines.size()));
  }));
  out.push_back(make(ids.at(1), "payment.captured", s.tenant_id, s.correlation_id, at_ms, [&](json::Writer& w) {
    w.field("transaction_id", s.transaction_id).field("order_id", s.order_id);
    w.field("merchant_id", s.merchant_id).field("currency", s.currency);
    w.field("amount_minor", s.totals.total_minor).field("payment_reference", s.payment_reference);
  }));
  out.push_back(make(ids.at(2), "receipt.requested", s.tenant_id, s.correlation_id, at_ms, [&](json::Writer& w) {
    w.field("transaction_id", s.transaction_id).field("order_id", s.order_id);
    w.field("cart_id", s.cart_id).field("total_minor", s.totals.total_minor);
    w.field("receipt_status", s.receipt_pending ? "pending" : "issued");
    w.field("receipt_payload", s.receipt_payload);
  }));
  return out;
}

Message for_payment_operation(const payment::Payment& p, payment::Op op, std::int64_t amount_minor,
                              const std::string& reference, const std::string& id, std::int64_t at_ms) {
  std::string topic = op == payment::Op::capture ? "payment.captured"
                      : op == payment::Op::void_ ? "payment.voided"
                                                 : "payment.refunded";
  return make(id, topic, p.tenant_id, p.transaction_id, at_ms, [&](json::Writer& w) {
    w.field("transaction_id", p.transaction_id).field("merchant_id", p.merchant_id);
    w.field("currency", p.currency).field("amount_minor", amount_minor);
    w.field("reference", reference).field("state", payment::to_string(p.state));
  });
}

}  // namespace orch::outbox
