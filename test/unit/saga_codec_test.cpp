// src/events/saga_codec.cpp + fields.hpp: codecs of the checkout, payment and
// order streams and their views; src/events/error.hpp: code names.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "builders.hpp"
#include "events/codec.hpp"
#include "events/order.hpp"

using namespace testing;
using namespace testing::fx;
namespace codec = orch::codec;
namespace order = orch::order;
using orch::json::Value;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// Encodes `in` as an alternative of V, checks its type name, decodes it back.
template <class T>
T rt_checkout(const T& in, const char* type) {
  const co::EventBody body = in;
  codec::Encoded enc = codec::encode(body);
  CHECK(enc.type == type);
  CHECK(enc.schema == 1);
  auto d = codec::decode_checkout_event(enc.type, enc.schema, enc.payload);
  INFO("type ", enc.type, " payload ", enc.payload, ": ", describe(d));
  REQUIRE(d.ok());
  REQUIRE(std::holds_alternative<T>(*d));
  return std::get<T>(*d);
}

template <class T>
T rt_payment(const T& in, const char* type) {
  const pay::EventBody body = in;
  codec::Encoded enc = codec::encode(body);
  CHECK(enc.type == type);
  CHECK(enc.schema == 1);
  auto d = codec::decode_payment_event(enc.type, enc.schema, enc.payload);
  INFO("type ", enc.type, " payload ", enc.payload, ": ", describe(d));
  REQUIRE(d.ok());
  REQUIRE(std::holds_alternative<T>(*d));
  return std::get<T>(*d);
}

template <class T>
T rt_order(const T& in, const char* type) {
  const order::EventBody body = in;
  codec::Encoded enc = codec::encode(body);
  CHECK(enc.type == type);
  CHECK(enc.schema == 1);
  auto d = codec::decode_order_event(enc.type, enc.schema, enc.payload);
  INFO("type ", enc.type, " payload ", enc.payload, ": ", describe(d));
  REQUIRE(d.ok());
  REQUIRE(std::holds_alternative<T>(*d));
  return std::get<T>(*d);
}

void check_same_lines(const std::vector<cart::Line>& a, const std::vector<cart::Line>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CAPTURE(i);
    CHECK(a[i].line_id == b[i].line_id);
    CHECK(a[i].item_id == b[i].item_id);
    CHECK(a[i].title == b[i].title);
    CHECK(a[i].quantity == b[i].quantity);
    CHECK(a[i].unit_price_minor == b[i].unit_price_minor);
    CHECK(a[i].total_minor == b[i].total_minor);
  }
}

void check_same_totals(const co::Totals& a, const co::Totals& b) {
  CHECK(a.subtotal_minor == b.subtotal_minor);
  CHECK(a.discount_minor == b.discount_minor);
  CHECK(a.tax_minor == b.tax_minor);
  CHECK(a.total_minor == b.total_minor);
}

const std::string kTricky = "a \"quoted\" \\ back\nslash \xc3\xa9 \xe2\x80\x94";

co::Started full_started() {
  co::Started s;
  s.transaction_id = "txn_1";
  s.tenant_id = "t1";
  s.merchant_id = "m\"1";
  s.cart_id = "6f0c9a52-1d7e-4b8e-9f62-2b0a8d6f4c11";
  s.cart_version = 42;
  s.currency = "USD";
  s.idempotency_key = "idem_1";
  s.fingerprint = std::string(64, 'a');
  s.correlation_id = "corr_1";
  s.totals = co::Totals{2500, 300, 170, 2370};
  s.lines = {cart::Line{"l1", "rose", kTricky, 2, 1000, 2000}, cart::Line{"l2", "pot", "Pot", 1, 500, 500}};
  s.location = co::Location{std::string("US"), std::string("CA"), std::string("94043")};
  return s;
}

template <class F>
Error decode_err(F&& decode, std::string_view type, std::uint32_t schema, std::string_view payload) {
  auto d = decode(type, schema, payload);
  INFO("decoding ", std::string(type), " ", std::string(payload), " unexpectedly succeeded");
  REQUIRE_FALSE(d.ok());
  return d.error();
}

}  // namespace

// ------------------------------------------------------- checkout events

TEST_CASE("checkout codec: Started round-trips every field") {
  const co::Started in = full_started();
  co::Started out = rt_checkout(in, "checkout.started");
  CHECK(out.transaction_id == in.transaction_id);
  CHECK(out.tenant_id == in.tenant_id);
  CHECK(out.merchant_id == in.merchant_id);
  CHECK(out.cart_id == in.cart_id);
  CHECK(out.cart_version == in.cart_version);
  CHECK(out.currency == in.currency);
  CHECK(out.idempotency_key == in.idempotency_key);
  CHECK(out.fingerprint == in.fingerprint);
  CHECK(out.correlation_id == in.correlation_id);
  check_same_totals(out.totals, in.totals);
  check_same_lines(out.lines, in.lines);
  REQUIRE(out.location.has_value());
  CHECK(out.location->country_code == in.location->country_code);
  CHECK(out.location->region == in.location->region);
  CHECK(out.location->postal_code == in.location->postal_code);

  SUBCASE("no location, no lines") {
    co::Started bare = full_started();
    bare.location.reset();
    bare.lines.clear();
    co::Started b = rt_checkout(bare, "checkout.started");
    CHECK_FALSE(b.location.has_value());
    CHECK(b.lines.empty());
  }
  SUBCASE("a location with some parts only") {
    co::Started part = full_started();
    part.location = co::Location{std::string("de"), std::nullopt, std::string("")};
    co::Started b = rt_checkout(part, "checkout.started");
    REQUIRE(b.location.has_value());
    CHECK(b.location->country_code == std::optional<std::string>("de"));
    CHECK_FALSE(b.location->region.has_value());
    CHECK(b.location->postal_code == std::optional<std::string>(""));
  }
  SUBCASE("extreme numbers") {
    co::Started big = full_started();
    big.cart_version = std::numeric_limits<std::uint64_t>::max();
    big.totals = co::Totals{kMax, kMin, 0, -1};
    co::Started b = rt_checkout(big, "checkout.started");
    CHECK(b.cart_version == big.cart_version);
    check_same_totals(b.totals, big.totals);
  }
}

TEST_CASE("checkout codec: every other event round-trips") {
  CHECK(rt_checkout(co::AuthorizeRequested{"txn_1:authorize"}, "checkout.authorize_requested").idempotency_key ==
        "txn_1:authorize");
  CHECK(rt_checkout(co::Authorized{kTricky}, "checkout.authorized").reference == kTricky);
  {
    auto d = rt_checkout(co::Declined{"dec_1", kTricky}, "checkout.declined");
    CHECK(d.reference == "dec_1");
    CHECK(d.reason == kTricky);
  }
  CHECK(rt_checkout(co::AuthorizeFailed{"timeout"}, "checkout.authorize_failed").reason == "timeout");
  for (std::int64_t amount : {std::int64_t{0}, std::int64_t{2370}, kMax, kMin}) {
    CAPTURE(amount);
    auto c = rt_checkout(co::CaptureRequested{amount, "txn_1:capture"}, "checkout.capture_requested");
    CHECK(c.amount_minor == amount);
    CHECK(c.idempotency_key == "txn_1:capture");
  }
  CHECK(rt_checkout(co::Captured{"cap_1"}, "checkout.captured").reference == "cap_1");
  CHECK(rt_checkout(co::CaptureFailed{"expired"}, "checkout.capture_failed").reason == "expired");
  CHECK(rt_checkout(co::VoidRequested{"txn_1:void"}, "checkout.void_requested").idempotency_key == "txn_1:void");
  CHECK(rt_checkout(co::Voided{"void_1"}, "checkout.voided").reference == "void_1");
  CHECK(rt_checkout(co::VoidFailed{"void failed: x"}, "checkout.void_failed").reason == "void failed: x");
  CHECK(rt_checkout(co::OrderCreated{"ord_1"}, "checkout.order_created").order_id == "ord_1");
  CHECK(rt_checkout(co::ReceiptRequested{"txn_1:receipt"}, "checkout.receipt_requested").idempotency_key ==
        "txn_1:receipt");
  CHECK(rt_checkout(co::ReceiptIssued{kTricky}, "checkout.receipt_issued").content == kTricky);
  CHECK(rt_checkout(co::ReceiptFailed{"down"}, "checkout.receipt_failed").reason == "down");
  CHECK(rt_checkout(co::AuthorizeRequested{""}, "checkout.authorize_requested").idempotency_key.empty());
}

TEST_CASE("checkout codec: Finished round-trips each outcome and the result byte for byte") {
  Cart c = ready_cart();
  co::Saga s = started_saga(c);
  const std::string result = co::result_json(s, co::Outcome::failed);
  for (co::Outcome o : {co::Outcome::completed, co::Outcome::rejected, co::Outcome::auth_failed,
                        co::Outcome::failed}) {
    CAPTURE(co::to_string(o));
    auto f = rt_checkout(co::Finished{o, result}, "checkout.finished");
    CHECK(f.outcome == o);
    CHECK(f.result_json == result);
  }
}

TEST_CASE("checkout codec: a saga folded from decoded events equals the original") {
  Cart c = ready_cart();
  std::vector<co::EventBody> events = co::start(c, request_for(c), "txn_1", "corr_1");
  co::Saga s = saga_after(events);
  auto auth = co::after_authorize(s, call_ok("auth_1"), 6000);
  events.insert(events.end(), auth.begin(), auth.end());
  s = saga_after(auth, s);
  auto cap = co::after_capture(s, call_ok("cap_1"), "ord_1");
  events.insert(events.end(), cap.begin(), cap.end());
  s = saga_after(cap, s);
  auto rec = co::after_receipt(s, call_ok("R"), 7000);
  events.insert(events.end(), rec.begin(), rec.end());
  s = saga_after(rec, s);

  co::Saga replayed;
  for (const auto& e : events) {
    codec::Encoded enc = codec::encode(e);
    auto d = codec::decode_checkout_event(enc.type, enc.schema, enc.payload);
    REQUIRE(d.ok());
    co::apply(replayed, co::Event{5000, *d});
  }
  CHECK(codec::saga_json(replayed) == codec::saga_json(s));
  CHECK(replayed.result_json == s.result_json);
}

// -------------------------------------------------------- payment events

TEST_CASE("payment codec: every event round-trips") {
  {
    auto a = rt_payment(pay::Authorized{"txn_1", "t1", "m1", "cart-1", "USD", 2370, kTricky}, "payment.authorized");
    CHECK(a.transaction_id == "txn_1");
    CHECK(a.tenant_id == "t1");
    CHECK(a.merchant_id == "m1");
    CHECK(a.cart_id == "cart-1");
    CHECK(a.currency == "USD");
    CHECK(a.amount_minor == 2370);
    CHECK(a.reference == kTricky);
  }
  {
    auto d = rt_payment(pay::Declined{"txn_2", "t2", "m2", "cart-2", "EUR", kMax, "dec"}, "payment.declined");
    CHECK(d.transaction_id == "txn_2");
    CHECK(d.tenant_id == "t2");
    CHECK(d.merchant_id == "m2");
    CHECK(d.cart_id == "cart-2");
    CHECK(d.currency == "EUR");
    CHECK(d.amount_minor == kMax);
    CHECK(d.reference == "dec");
  }
  for (pay::Op op : {pay::Op::capture, pay::Op::void_, pay::Op::refund}) {
    CAPTURE(pay::to_string(op));
    auto r = rt_payment(pay::OperationRequested{op, -5, "txn_1:refund:abc", std::string("payment\0t1\0k", 12)},
                        "payment.operation_requested");
    CHECK(r.op == op);
    CHECK(r.amount_minor == -5);
    CHECK(r.idempotency_key == "txn_1:refund:abc");
    CHECK(r.client_key == std::string("payment\0t1\0k", 12));
    auto f = rt_payment(pay::OperationFailed{op, kTricky}, "payment.operation_failed");
    CHECK(f.op == op);
    CHECK(f.reason == kTricky);
  }
  {
    auto c = rt_payment(pay::Captured{1234, "cap"}, "payment.captured");
    CHECK(c.amount_minor == 1234);
    CHECK(c.reference == "cap");
  }
  CHECK(rt_payment(pay::Voided{"v"}, "payment.voided").reference == "v");
  {
    auto r = rt_payment(pay::Refunded{99, "r"}, "payment.refunded");
    CHECK(r.amount_minor == 99);
    CHECK(r.reference == "r");
  }
}

// ---------------------------------------------------------- order events

TEST_CASE("order codec: every event round-trips") {
  order::Created in{"ord_1", "t1", "m1", "txn_1", "cart-1", "corr_1", "USD",
                    {cart::Line{"l1", "rose", kTricky, 2, 1000, 2000}}, co::Totals{2000, 0, 100, 2100}};
  auto out = rt_order(in, "order.created");
  CHECK(out.order_id == in.order_id);
  CHECK(out.tenant_id == in.tenant_id);
  CHECK(out.merchant_id == in.merchant_id);
  CHECK(out.transaction_id == in.transaction_id);
  CHECK(out.cart_id == in.cart_id);
  CHECK(out.correlation_id == in.correlation_id);
  CHECK(out.currency == in.currency);
  check_same_lines(out.lines, in.lines);
  check_same_totals(out.totals, in.totals);
  CHECK(rt_order(order::ReceiptAttached{kTricky}, "order.receipt_attached").content == kTricky);
}

// --------------------------------------------------------------- failures

TEST_CASE("saga codecs: unknown type, schema or payload is a STORE_ERROR naming the type") {
  auto dc = [](std::string_view t, std::uint32_t s, std::string_view p) {
    return codec::decode_checkout_event(t, s, p);
  };
  auto dp = [](std::string_view t, std::uint32_t s, std::string_view p) {
    return codec::decode_payment_event(t, s, p);
  };
  auto dord = [](std::string_view t, std::uint32_t s, std::string_view p) {
    return codec::decode_order_event(t, s, p);
  };
  struct Case {
    int stream;  // 0 checkout, 1 payment, 2 order
    const char* type;
    std::uint32_t schema;
    const char* payload;
  };
  const std::vector<Case> cases = {
      {0, "checkout.exploded", 1, "{}"},
      {0, "cart.created", 1, R"({"cart_id":"c","tenant_id":"t","merchant_id":"m","currency":"USD"})"},
      {0, "payment.captured", 1, R"({"amount_minor":1,"reference":"r"})"},
      {0, "checkout.authorized", 2, R"({"reference":"r"})"},
      {0, "checkout.authorized", 0, R"({"reference":"r"})"},
      {0, "checkout.authorized", 1, "not json"},
      {0, "checkout.authorized", 1, "[]"},
      {0, "checkout.authorized", 1, "{}"},
      {0, "checkout.authorized", 1, R"({"reference":5})"},
      {0, "checkout.capture_requested", 1, R"({"amount_minor":"12","idempotency_key":"k"})"},
      {0, "checkout.capture_requested", 1, R"({"amount_minor":99999999999999999999,"idempotency_key":"k"})"},
      {0, "checkout.finished", 1, R"({"outcome":"timed_out","result_json":"{}"})"},
      {0, "checkout.finished", 1, R"({"outcome":"completed"})"},
      {0, "checkout.started", 1, R"({"transaction_id":"t"})"},
      {0, "checkout.started", 1,
       R"({"transaction_id":"t","tenant_id":"t","merchant_id":"m","cart_id":"c","cart_version":1,)"
       R"("currency":"USD","idempotency_key":"k","fingerprint":"f","correlation_id":"c",)"
       R"("totals":{"subtotal_minor":1,"discount_minor":0,"tax_minor":0},"lines":[],"location":null})"},
      {0, "checkout.started", 1,
       R"({"transaction_id":"t","tenant_id":"t","merchant_id":"m","cart_id":"c","cart_version":-1,)"
       R"("currency":"USD","idempotency_key":"k","fingerprint":"f","correlation_id":"c",)"
       R"("totals":{"subtotal_minor":1,"discount_minor":0,"tax_minor":0,"total_minor":1},"lines":[],"location":null})"},
      {0, "checkout.started", 1,
       R"({"transaction_id":"t","tenant_id":"t","merchant_id":"m","cart_id":"c","cart_version":1,)"
       R"("currency":"USD","idempotency_key":"k","fingerprint":"f","correlation_id":"c",)"
       R"("totals":{"subtotal_minor":1,"discount_minor":0,"tax_minor":0,"total_minor":1},"lines":[],"location":"US"})"},
      {0, "checkout.started", 1,
       R"({"transaction_id":"t","tenant_id":"t","merchant_id":"m","cart_id":"c","cart_version":1,)"
       R"("currency":"USD","idempotency_key":"k","fingerprint":"f","correlation_id":"c",)"
       R"("totals":{"subtotal_minor":1,"discount_minor":0,"tax_minor":0,"total_minor":1},"lines":[1],"location":null})"},
      {0, "checkout.started", 1,
       R"({"transaction_id":"t","tenant_id":"t","merchant_id":"m","cart_id":"c","cart_version":1,)"
       R"("currency":"USD","idempotency_key":"k","fingerprint":"f","correlation_id":"c",)"
       R"("totals":{"subtotal_minor":1,"discount_minor":0,"tax_minor":0,"total_minor":1},"lines":[],)"
       R"("location":{"country_code":5}})"},
      {0, "", 1, "{}"},
      {1, "payment.refunded_twice", 1, "{}"},
      {1, "payment.captured", 7, R"({"amount_minor":1,"reference":"r"})"},
      {1, "payment.operation_requested", 1,
       R"({"op":"refundx","amount_minor":1,"idempotency_key":"k","client_key":""})"},
      {1, "payment.operation_failed", 1, R"({"op":"void_","reason":"r"})"},
      {1, "payment.captured", 1, R"({"reference":"r"})"},
      {1, "checkout.captured", 1, R"({"reference":"r"})"},
      {2, "order.shipped", 1, "{}"},
      {2, "order.created", 2, "{}"},
      {2, "order.receipt_attached", 1, R"({"content":null})"},
      {2, "order.created", 1, R"({"order_id":"o"})"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.type);
    CAPTURE(c.schema);
    CAPTURE(c.payload);
    Error e = c.stream == 0   ? decode_err(dc, c.type, c.schema, c.payload)
              : c.stream == 1 ? decode_err(dp, c.type, c.schema, c.payload)
                              : decode_err(dord, c.type, c.schema, c.payload);
    CHECK(e.code == Code::store_error);
    CHECK(contains(e.message, "'" + std::string(c.type) + "'"));
  }
}

TEST_CASE("saga codecs: every type name is distinct and decodes an encoded default") {
  std::set<std::string> names;
  auto each_checkout = [&](auto body) {
    co::EventBody b = body;
    auto enc = codec::encode(b);
    names.insert(enc.type);
    auto d = codec::decode_checkout_event(enc.type, enc.schema, enc.payload);
    INFO(enc.type, " ", enc.payload, ": ", describe(d));
    CHECK(d.ok());
  };
  each_checkout(co::Started{});
  each_checkout(co::AuthorizeRequested{});
  each_checkout(co::Authorized{});
  each_checkout(co::Declined{});
  each_checkout(co::AuthorizeFailed{});
  each_checkout(co::CaptureRequested{});
  each_checkout(co::Captured{});
  each_checkout(co::CaptureFailed{});
  each_checkout(co::VoidRequested{});
  each_checkout(co::Voided{});
  each_checkout(co::VoidFailed{});
  each_checkout(co::OrderCreated{});
  each_checkout(co::ReceiptRequested{});
  each_checkout(co::ReceiptIssued{});
  each_checkout(co::ReceiptFailed{});
  each_checkout(co::Finished{});
  each_checkout(co::Rejected{{"total 1 exceeds max allowed 0", "geo: country ZZ is not allowed"}});
  CHECK(names.size() == 17);
  auto each_payment = [&](auto body) {
    pay::EventBody b = body;
    auto enc = codec::encode(b);
    names.insert(enc.type);
    CHECK(codec::decode_payment_event(enc.type, enc.schema, enc.payload).ok());
  };
  each_payment(pay::Authorized{});
  each_payment(pay::Declined{});
  each_payment(pay::OperationRequested{});
  each_payment(pay::Captured{});
  each_payment(pay::Voided{});
  each_payment(pay::Refunded{});
  each_payment(pay::OperationFailed{});
  CHECK(names.size() == 24);
  for (order::EventBody b : {order::EventBody{order::Created{}}, order::EventBody{order::ReceiptAttached{}}}) {
    auto enc = codec::encode(b);
    names.insert(enc.type);
    CHECK(codec::decode_order_event(enc.type, enc.schema, enc.payload).ok());
  }
  CHECK(names.size() == 26);
}

// ------------------------------------------------------------------ views

TEST_CASE("saga_json: the saga's state, phase by phase") {
  Cart c = ready_cart();
  co::Saga s = started_saga(c);
  const std::vector<std::string> keys = {
      "transaction_id",  "tenant_id",      "merchant_id",     "cart_id",       "cart_version",
      "currency",        "idempotency_key", "correlation_id", "totals",        "phase",
      "payment_reference", "payment_state", "order_id",       "receipt_payload", "receipt_pending",
      "failure_reason",  "outcome",        "result"};

  Value v = parse_json(codec::saga_json(s));
  CHECK(keys_in(v) == keys);
  CHECK(str_of(v, "transaction_id") == "txn_1");
  CHECK(str_of(v, "tenant_id") == "t1");
  CHECK(str_of(v, "merchant_id") == "m1");
  CHECK(str_of(v, "cart_id") == "cart-1");
  CHECK(int_of(v, "cart_version") == 5);
  CHECK(str_of(v, "currency") == "USD");
  CHECK(str_of(v, "idempotency_key") == "idem_1");
  CHECK(str_of(v, "correlation_id") == "corr_1");
  const Value& t = member(v, "totals");
  CHECK(int_of(t, "subtotal_minor") == 2500);
  CHECK(int_of(t, "discount_minor") == 300);
  CHECK(int_of(t, "tax_minor") == 170);
  CHECK(int_of(t, "total_minor") == 2370);
  CHECK(str_of(v, "phase") == "authorizing");
  CHECK(is_null_member(v, "outcome"));
  CHECK(is_null_member(v, "result"));
  CHECK(is_null_member(v, "receipt_payload"));
  REQUIRE(member(v, "receipt_pending").is_bool());
  CHECK_FALSE(member(v, "receipt_pending").as_bool());

  CHECK(str_of(parse_json(codec::saga_json(co::Saga{})), "phase") == "none");
  s = saga_after(co::after_authorize(s, call_ok("auth_1"), 6000), s);
  CHECK(str_of(parse_json(codec::saga_json(s)), "phase") == "capturing");
  CHECK(str_of(parse_json(codec::saga_json(s)), "payment_state") == "authorized");
  co::Saga voiding = saga_after(co::after_capture(s, call_unknown("x"), "o"), s);
  CHECK(str_of(parse_json(codec::saga_json(voiding)), "phase") == "voiding");
  CHECK(str_of(parse_json(codec::saga_json(voiding)), "failure_reason") == "x");
  s = saga_after(co::after_capture(s, call_ok("cap_1"), "ord_1"), s);
  CHECK(str_of(parse_json(codec::saga_json(s)), "phase") == "receipting");
  s = saga_after(co::after_receipt(s, call_unknown("down"), 7000), s);

  Value done = parse_json(codec::saga_json(s));
  CHECK(str_of(done, "phase") == "finished");
  CHECK(str_of(done, "outcome") == "completed");
  CHECK(str_of(done, "order_id") == "ord_1");
  CHECK(str_of(done, "payment_reference") == "auth_1");
  CHECK(str_of(done, "payment_state") == "captured");
  CHECK(member(done, "receipt_pending").as_bool());
  const Value& result = member(done, "result");
  REQUIRE(result.is_object());
  CHECK(result.dump() == parse_json(s.result_json).dump());
}

TEST_CASE("payment_view_json: state, amounts, pending operation and history") {
  pay::Payment p = authorized_payment(1000);
  pay::apply(p, pay::Event{2000, pay::OperationRequested{pay::Op::capture, 1000, "k", ""}});
  pay::apply(p, pay::Event{3000, pay::Captured{1000, "cap_1"}});
  pay::apply(p, pay::Event{4000, pay::Refunded{300, "ref_1"}});
  pay::apply(p, pay::Event{5000, pay::OperationRequested{pay::Op::refund, 200, "k2", "ck"}});

  Value v = parse_json(codec::payment_view_json(p));
  CHECK(keys_in(v) == std::vector<std::string>{"transaction_id", "tenant_id", "merchant_id", "cart_id",
                                               "currency", "state", "authorized_minor", "captured_minor",
                                               "refunded_minor", "authorization_reference",
                                               "pending_operation", "history", "created_at_ms",
                                               "updated_at_ms"});
  CHECK(str_of(v, "transaction_id") == "txn_1");
  CHECK(str_of(v, "tenant_id") == "t1");
  CHECK(str_of(v, "merchant_id") == "m1");
  CHECK(str_of(v, "cart_id") == "cart-1");
  CHECK(str_of(v, "currency") == "USD");
  CHECK(str_of(v, "state") == "partially_refunded");
  CHECK(int_of(v, "authorized_minor") == 1000);
  CHECK(int_of(v, "captured_minor") == 1000);
  CHECK(int_of(v, "refunded_minor") == 300);
  CHECK(str_of(v, "authorization_reference") == "auth_1");
  const Value& pending = member(v, "pending_operation");
  REQUIRE(pending.is_object());
  CHECK(str_of(pending, "op") == "refund");
  CHECK(int_of(pending, "amount_minor") == 200);
  CHECK(pending.find("client_key") == nullptr);  // internal
  const Value& h = member(v, "history");
  REQUIRE(h.is_array());
  REQUIRE(h.items().size() == 3);
  CHECK(str_of(h.items()[0], "type") == "authorized");
  CHECK(int_of(h.items()[0], "amount_minor") == 1000);
  CHECK(str_of(h.items()[0], "reference") == "auth_1");
  CHECK(int_of(h.items()[0], "at_ms") == 1000);
  CHECK(str_of(h.items()[1], "type") == "captured");
  CHECK(str_of(h.items()[2], "type") == "refunded");
  CHECK(int_of(h.items()[2], "amount_minor") == 300);
  CHECK(str_of(h.items()[2], "reference") == "ref_1");
  CHECK(int_of(h.items()[2], "at_ms") == 4000);
  CHECK(int_of(v, "created_at_ms") == 1000);
  CHECK(int_of(v, "updated_at_ms") == 5000);

  SUBCASE("nothing pending: null; declined shows as failed") {
    pay::Payment d;
    pay::apply(d, pay::Event{1, pay::Declined{"txn_d", "t1", "m1", "c", "USD", 10, "dec"}});
    Value dv = parse_json(codec::payment_view_json(d));
    CHECK(is_null_member(dv, "pending_operation"));
    CHECK(str_of(dv, "state") == "failed");
  }
}

TEST_CASE("order_view_json: items, totals, status, transaction") {
  co::Saga s = started_saga(ready_cart());
  order::Order o;
  order::apply(o, order::Event{100, order::created_from(s, "ord_1")});

  Value v = parse_json(codec::order_view_json(o));
  CHECK(keys_in(v) == std::vector<std::string>{"order_id", "tenant_id", "merchant_id", "transaction_id",
                                               "cart_id", "correlation_id", "status", "currency", "items",
                                               "totals", "receipt_payload", "created_at_ms",
                                               "updated_at_ms"});
  CHECK(str_of(v, "order_id") == "ord_1");
  CHECK(str_of(v, "tenant_id") == "t1");
  CHECK(str_of(v, "merchant_id") == "m1");
  CHECK(str_of(v, "transaction_id") == "txn_1");
  CHECK(str_of(v, "cart_id") == "cart-1");
  CHECK(str_of(v, "correlation_id") == "corr_1");
  CHECK(str_of(v, "status") == "created");
  CHECK(str_of(v, "currency") == "USD");
  const Value& items = member(v, "items");
  REQUIRE(items.is_array());
  REQUIRE(items.items().size() == 2);
  const Value& first = items.items()[0];
  CHECK(str_of(first, "line_id") == "l1");
  CHECK(str_of(first, "item_id") == "rose");
  CHECK(str_of(first, "title") == "Title of rose");
  CHECK(int_of(first, "quantity") == 2);
  CHECK(int_of(first, "unit_price_minor") == 1000);
  CHECK(int_of(first, "total_minor") == 2000);
  const Value& t = member(v, "totals");
  CHECK(int_of(t, "subtotal_minor") == 2500);
  CHECK(int_of(t, "discount_minor") == 300);
  CHECK(int_of(t, "tax_minor") == 170);
  CHECK(int_of(t, "total_minor") == 2370);
  CHECK(is_null_member(v, "receipt_payload"));
  CHECK(int_of(v, "created_at_ms") == 100);

  order::apply(o, order::Event{200, order::ReceiptAttached{"R"}});
  Value w = parse_json(codec::order_view_json(o));
  CHECK(str_of(w, "receipt_payload") == "R");
  CHECK(int_of(w, "updated_at_ms") == 200);
}

// ------------------------------------------------------------------ error

TEST_CASE("error codes: every name round-trips and is distinct") {
  // validation_mismatch is VALIDATION_ERROR answered as 422: the one code
  // that shares its name (with validation_error).
  std::set<std::string> names;
  const int last = static_cast<int>(Code::internal_error);
  for (int i = 0; i <= last; ++i) {
    const Code c = static_cast<Code>(i);
    const std::string name(code_name(c));
    CAPTURE(name);
    CHECK_FALSE(name.empty());
    for (char ch : name) CHECK(((ch >= 'A' && ch <= 'Z') || ch == '_'));
    const Code expected = c == Code::validation_mismatch ? Code::validation_error : c;
    CHECK(code_from_name(name) == std::optional<Code>(expected));
    names.insert(name);
  }
  CHECK(names.size() == static_cast<std::size_t>(last));
  CHECK(code_name(Code::refund_exceeds_captured) == "REFUND_EXCEEDS_CAPTURED");
  CHECK(code_name(Code::idempotency_key_reused) == "IDEMPOTENCY_KEY_REUSED");
  CHECK_FALSE(code_from_name("").has_value());
  CHECK_FALSE(code_from_name("validation_error").has_value());
  CHECK_FALSE(code_from_name("NOPE").has_value());
}
