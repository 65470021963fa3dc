// src/events/idempotency.hpp (records, keys, classify) and
// src/events/outbox.hpp (messages, due keys, the messages of a checkout and
// of a payment operation).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "builders.hpp"
#include "events/idempotency.hpp"
#include "events/outbox.hpp"

using namespace testing;
using namespace testing::fx;
namespace idem = orch::idempotency;
namespace outbox = orch::outbox;
using orch::json::Value;

namespace {

idem::Record decode_ok(const std::string& row) {
  auto r = idem::decode(row);
  INFO(row, ": ", describe(r));
  REQUIRE(r.ok());
  return *r;
}

outbox::Message decode_msg(const std::string& row) {
  auto r = outbox::decode(row);
  INFO(row, ": ", describe(r));
  REQUIRE(r.ok());
  return *r;
}

// A finished, completed saga (receipt issued unless `receipt_fails`).
co::Saga completed_saga(bool receipt_fails = false) {
  Cart c = ready_cart();
  co::Saga s = started_saga(c);
  s = saga_after(co::after_authorize(s, call_ok("auth_1"), 6000), s);
  s = saga_after(co::after_capture(s, call_ok("cap_1"), "ord_1"), s);
  auto r = receipt_fails ? call_unknown("down") : call_ok("Receipt txn=txn_1");
  return saga_after(co::after_receipt(s, r, 7000), s);
}

}  // namespace

// ------------------------------------------------------------- idempotency

TEST_CASE("idempotency record: in progress round-trips") {
  idem::Record r;
  r.completed = false;
  r.fingerprint = "fp1";
  r.cart_id = "cart-1";
  r.transaction_id = "txn_1";
  idem::Record back = decode_ok(idem::encode(r));
  CHECK_FALSE(back.completed);
  CHECK(back.fingerprint == "fp1");
  CHECK(back.cart_id == "cart-1");
  CHECK(back.transaction_id == "txn_1");
  CHECK(back.response.empty());
  CHECK_FALSE(back.error.has_value());
}

TEST_CASE("idempotency record: completed with a response round-trips byte for byte") {
  idem::Record r;
  r.completed = true;
  r.fingerprint = "fp1";
  r.cart_id = "cart-1";
  r.transaction_id = "txn_1";
  r.status = 200;
  r.response = R"({"transaction_id":"txn_1","status":"completed","receipt_payload":"a\"b\\c\u00e9 é"})";
  idem::Record back = decode_ok(idem::encode(r));
  CHECK(back.completed);
  CHECK(back.fingerprint == "fp1");
  CHECK(back.cart_id == "cart-1");
  CHECK(back.transaction_id == "txn_1");
  CHECK(back.status == 200);
  CHECK(back.response == r.response);
  CHECK_FALSE(back.error.has_value());
}

TEST_CASE("idempotency record: completed with an error keeps status, code and message") {
  for (Code code : {Code::cart_version_conflict, Code::amount_mismatch, Code::payment_error,
                    Code::refund_exceeds_captured, Code::internal_error, Code::validation_error}) {
    CAPTURE(code_name(code));
    idem::Record r;
    r.completed = true;
    r.fingerprint = "fp2";
    r.transaction_id = "txn_2";
    r.status = 409;
    r.error = Error(code, "the message \"quoted\"");
    idem::Record back = decode_ok(idem::encode(r));
    CHECK(back.completed);
    CHECK(back.status == 409);
    REQUIRE(back.error.has_value());
    CHECK(back.error->code == code);
    CHECK(back.error->message == "the message \"quoted\"");
  }
}

TEST_CASE("idempotency record: undecodable rows are STORE_ERROR") {
  for (const char* bad : {"", "not json", "[]", R"({"fingerprint":"x"})", R"({"state":1})"}) {
    CAPTURE(bad);
    auto r = idem::decode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::store_error);
  }
}

TEST_CASE("idempotency keys: scoped by tenant and merchant, never colliding") {
  const std::string k = idem::checkout_key("t1", "m1", "idem_1");
  CHECK(k == idem::checkout_key("t1", "m1", "idem_1"));
  CHECK(k != idem::checkout_key("t2", "m1", "idem_1"));
  CHECK(k != idem::checkout_key("t1", "m2", "idem_1"));
  CHECK(k != idem::checkout_key("t1", "m1", "idem_2"));
  CHECK(idem::payment_key("t1", "k") != idem::payment_key("t2", "k"));
  CHECK(idem::payment_key("t1", "k") != idem::payment_key("t1", "k2"));
  CHECK(idem::payment_key("t1", "k") == idem::payment_key("t1", "k"));

  // Triples that a naive concatenation or the reference's `tenant|merchant|key`
  // would confuse (visible ASCII only; some parts empty).
  using Triple = std::tuple<std::string, std::string, std::string>;
  const std::vector<Triple> triples = {
      {"ab", "c", "k"},   {"a", "bc", "k"},   {"a", "b", "ck"},  {"a", "bck", ""},
      {"a|b", "c", "k"},  {"a", "b|c", "k"},  {"a", "b", "c|k"}, {"a:b", "c", "k"},
      {"a", "b:c", "k"},  {"t1", "m1", "k"},  {"t1m1", "", "k"}, {"", "t1m1", "k"},
      {"t1", "m1k", ""},  {"checkout", "t1", "m1"},
  };
  std::set<std::string> keys;
  for (const auto& [t, m, key] : triples) keys.insert(idem::checkout_key(t, m, key));
  CHECK(keys.size() == triples.size());

  // Checkout and payment keys live in one table and cannot meet.
  std::set<std::string> payment_keys;
  for (const auto& [t, m, key] : triples) {
    payment_keys.insert(idem::payment_key(t, key));
    payment_keys.insert(idem::payment_key(t, m));
    payment_keys.insert(idem::payment_key(t, m + key));
  }
  for (const auto& [t, m, key] : triples) CHECK(payment_keys.count(idem::checkout_key(t, m, key)) == 0);
}

TEST_CASE("idempotency keys: the NUL separator cannot occur in validated parts") {
  // The parts are joined with NUL bytes, so ("a\0b", "c") and ("a", "b\0c")
  // would give the same key. That is unreachable only because tenant_id,
  // merchant_id and idempotency_key must be visible ASCII.
  const std::string nul_a = std::string("a\0b", 3);
  co::Request r = request_for(ready_cart());
  for (int field = 0; field < 3; ++field) {
    CAPTURE(field);
    co::Request bad = r;
    (field == 0 ? bad.tenant_id : field == 1 ? bad.merchant_id : bad.idempotency_key) = nul_a;
    CHECK(co::validate(bad).size() == 1);
  }
}

TEST_CASE("idempotency classify") {
  idem::Record running;
  running.completed = false;
  running.fingerprint = "fp";
  idem::Record done = running;
  done.completed = true;
  done.response = "{}";

  CHECK(idem::classify(std::nullopt, "fp") == idem::Verdict::proceed);
  CHECK(idem::classify(done, "fp") == idem::Verdict::replay);
  CHECK(idem::classify(running, "fp") == idem::Verdict::wait);
  CHECK(idem::classify(done, "other") == idem::Verdict::reused);
  CHECK(idem::classify(running, "other") == idem::Verdict::reused);

  Error e = idem::key_reused();
  CHECK(e.code == Code::idempotency_key_reused);
  CHECK_FALSE(e.message.empty());
}

// ------------------------------------------------------------------ outbox

TEST_CASE("outbox message: encode/decode round-trips every field") {
  outbox::Message m;
  m.id = "msg_1";
  m.topic = "order.created";
  m.tenant_id = "t1";
  m.correlation_id = "corr_1";
  m.payload = R"({"id":"msg_1","data":{"note":"a\"b"}})";
  m.created_at_ms = 1'700'000'000'000;
  m.attempts = 4'000'000'000u;
  m.next_attempt_at_ms = 1'700'000'000'500;
  m.last_attempt_at_ms = 1'700'000'000'100;
  m.last_error = "HTTP 503: \"busy\"";
  outbox::Message b = decode_msg(outbox::encode(m));
  CHECK(b.id == m.id);
  CHECK(b.topic == m.topic);
  CHECK(b.tenant_id == m.tenant_id);
  CHECK(b.correlation_id == m.correlation_id);
  CHECK(b.payload == m.payload);
  CHECK(b.created_at_ms == m.created_at_ms);
  CHECK(b.attempts == m.attempts);
  CHECK(b.next_attempt_at_ms == m.next_attempt_at_ms);
  CHECK(b.last_attempt_at_ms == m.last_attempt_at_ms);
  CHECK(b.last_error == m.last_error);

  outbox::Message fresh;
  fresh.id = "msg_2";
  outbox::Message fb = decode_msg(outbox::encode(fresh));
  CHECK(fb.id == "msg_2");
  CHECK(fb.attempts == 0);
  CHECK(fb.last_error.empty());
}

TEST_CASE("outbox message: undecodable rows are STORE_ERROR") {
  for (const char* bad : {"", "{", "[1]", R"({"id":1})"}) {
    CAPTURE(bad);
    auto r = outbox::decode(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::store_error);
  }
}

TEST_CASE("outbox due_key: byte order is time order, then id order") {
  CHECK(outbox::due_key(0, "").size() == 8);
  CHECK(outbox::due_key(1, "msg_a").size() == 13);
  CHECK(outbox::due_key(0x0102030405060708, "") == std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  CHECK(outbox::due_key(5, "id").substr(8) == "id");

  // Ascending (time, id) pairs, including times whose bytes are >= 0x80 and
  // ids that would sort before the times if the time were not fixed-width.
  const std::vector<std::pair<std::int64_t, std::string>> ordered = {
      {0, "msg_a"},
      {0, "msg_b"},
      {1, "a"},
      {0x7F, "z"},
      {0x80, "a"},
      {0xFF, "a"},
      {0x100, "a"},
      {1'699'999'999'999, "msg_z"},
      {1'700'000'000'000, "msg_a"},
      {1'700'000'000'000, "msg_a0"},
      {1'700'000'000'000, "msg_b"},
      {1'700'000'000'001, ""},
      {std::numeric_limits<std::int64_t>::max(), "a"},
  };
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    CAPTURE(i);
    const std::string a = outbox::due_key(ordered[i].first, ordered[i].second);
    const std::string b = outbox::due_key(ordered[i + 1].first, ordered[i + 1].second);
    CHECK(a < b);  // std::string compares bytes as unsigned char, like LMDB
    CHECK(a.compare(b) < 0);
  }
  // A negative time is due now (clamped to 0).
  CHECK(outbox::due_key(-5, "x") == outbox::due_key(0, "x"));
}

TEST_CASE("outbox for_completed_checkout: three messages, documents with ids and amounts") {
  co::Saga s = completed_saga();
  auto msgs = outbox::for_completed_checkout(s, {"msg_1", "msg_2", "msg_3"}, 9000);
  REQUIRE(msgs.size() == 3);
  const std::vector<std::string> topics = {"order.created", "payment.captured", "receipt.requested"};
  for (std::size_t i = 0; i < 3; ++i) {
    CAPTURE(i);
    const auto& m = msgs[i];
    CHECK(m.id == "msg_" + std::to_string(i + 1));
    CHECK(m.topic == topics[i]);
    CHECK(m.tenant_id == "t1");
    CHECK(m.correlation_id == "corr_1");
    CHECK(m.created_at_ms == 9000);
    CHECK(m.next_attempt_at_ms == 9000);
    CHECK(m.attempts == 0);
    Value doc = parse_json(m.payload);
    CHECK(str_of(doc, "id") == m.id);
    CHECK(str_of(doc, "topic") == m.topic);
    CHECK(str_of(doc, "tenant_id") == "t1");
    CHECK(str_of(doc, "correlation_id") == "corr_1");
    CHECK(int_of(doc, "occurred_at_ms") == 9000);
    const Value& data = member(doc, "data");
    REQUIRE(data.is_object());
    CHECK(str_of(data, "transaction_id") == "txn_1");
    CHECK(str_of(data, "order_id") == "ord_1");
  }
  const Value order = member(parse_json(msgs[0].payload), "data");
  CHECK(str_of(order, "cart_id") == "cart-1");
  CHECK(str_of(order, "merchant_id") == "m1");
  CHECK(str_of(order, "currency") == "USD");
  CHECK(int_of(order, "total_minor") == 2370);
  CHECK(int_of(order, "line_count") == 2);

  const Value captured = member(parse_json(msgs[1].payload), "data");
  CHECK(str_of(captured, "merchant_id") == "m1");
  CHECK(str_of(captured, "currency") == "USD");
  CHECK(int_of(captured, "amount_minor") == 2370);
  CHECK(str_of(captured, "payment_reference") == "auth_1");

  const Value receipt = member(parse_json(msgs[2].payload), "data");
  CHECK(str_of(receipt, "cart_id") == "cart-1");
  CHECK(int_of(receipt, "total_minor") == 2370);
  CHECK(str_of(receipt, "receipt_status") == "issued");
  CHECK(str_of(receipt, "receipt_payload") == "Receipt txn=txn_1");

  SUBCASE("a pending receipt is announced as pending, without payload") {
    co::Saga p = completed_saga(true);
    auto m = outbox::for_completed_checkout(p, {"a", "b", "c"}, 9000);
    REQUIRE(m.size() == 3);
    const Value r = member(parse_json(m[2].payload), "data");
    CHECK(str_of(r, "receipt_status") == "pending");
    CHECK(is_null_member(r, "receipt_payload"));
  }
  SUBCASE("the encoded rows decode back to the same messages") {
    for (const auto& m : msgs) {
      outbox::Message b = decode_msg(outbox::encode(m));
      CHECK(b.id == m.id);
      CHECK(b.topic == m.topic);
      CHECK(b.payload == m.payload);
    }
  }
}

TEST_CASE("outbox for_payment_operation: topic per operation, document with amounts") {
  pay::Payment p = authorized_payment(1000);
  pay_apply_all(p, {pay::OperationRequested{pay::Op::capture, 1000, "k", ""}, pay::Captured{1000, "cap_1"}});
  struct Case {
    pay::Op op;
    const char* topic;
  };
  for (Case c : {Case{pay::Op::capture, "payment.captured"}, Case{pay::Op::void_, "payment.voided"},
                 Case{pay::Op::refund, "payment.refunded"}}) {
    CAPTURE(c.topic);
    outbox::Message m = outbox::for_payment_operation(p, c.op, 400, "ref_x", "msg_9", 12000);
    CHECK(m.id == "msg_9");
    CHECK(m.topic == c.topic);
    CHECK(m.tenant_id == "t1");
    CHECK(m.created_at_ms == 12000);
    CHECK(m.next_attempt_at_ms == 12000);
    Value doc = parse_json(m.payload);
    CHECK(str_of(doc, "id") == "msg_9");
    CHECK(str_of(doc, "topic") == c.topic);
    CHECK(str_of(doc, "tenant_id") == "t1");
    CHECK(str_of(doc, "correlation_id") == m.correlation_id);
    CHECK_FALSE(m.correlation_id.empty());
    CHECK(int_of(doc, "occurred_at_ms") == 12000);
    const Value& data = member(doc, "data");
    CHECK(str_of(data, "transaction_id") == "txn_1");
    CHECK(str_of(data, "merchant_id") == "m1");
    CHECK(str_of(data, "currency") == "USD");
    CHECK(int_of(data, "amount_minor") == 400);
    CHECK(str_of(data, "reference") == "ref_x");
    CHECK(str_of(data, "state") == "captured");
  }
}
