// src/events/checkout.hpp: the checkout saga (start, reject, next_action,
// after_*, payment_events, cart_events, finishes, result_json, apply/fold)
// and src/events/order.hpp.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "builders.hpp"
#include "events/order.hpp"

using namespace testing;
using namespace testing::fx;
namespace order = orch::order;
using orch::json::Value;

namespace {

template <class T>
const T& as(const co::EventBody& e) {
  INFO("saga event alternative index ", e.index());
  REQUIRE(std::holds_alternative<T>(e));
  return std::get<T>(e);
}

template <class T>
const T& as_pay(const pay::EventBody& e) {
  INFO("payment event alternative index ", e.index());
  REQUIRE(std::holds_alternative<T>(e));
  return std::get<T>(e);
}

// The Finished event that must end `events`, and its result document.
const co::Finished& finished_of(const std::vector<co::EventBody>& events) {
  REQUIRE_FALSE(events.empty());
  return as<co::Finished>(events.back());
}

const std::vector<std::string> kResultKeys = {
    "transaction_id", "status",         "totals_breakdown", "payment_reference",
    "receipt_payload", "correlation_id", "audit_trail_id",  "payment_state",
    "order_id",       "receipt_status", "failure_reason"};

// Checks that `result` has exactly the documented members and the totals of
// ready_cart().
void check_result_shape(const Value& result) {
  CHECK(keys_in(result) == kResultKeys);
  const Value& t = member(result, "totals_breakdown");
  CHECK(int_of(t, "subtotal_minor") == 2500);
  CHECK(int_of(t, "tax_minor") == 170);
  CHECK(int_of(t, "discount_minor") == 300);
  CHECK(int_of(t, "total_minor") == 2370);
  CHECK(str_of(result, "transaction_id") == "txn_1");
  CHECK(str_of(result, "correlation_id") == "corr_1");
}

// Sagas at each stage of the happy path.
struct Path {
  Cart cart = ready_cart();
  co::Saga started = started_saga(cart);
  std::vector<co::EventBody> auth_events = co::after_authorize(started, call_ok("auth_1"), 6000);
  co::Saga authorized = saga_after(auth_events, started);
  std::vector<co::EventBody> capture_events = co::after_capture(authorized, call_ok("cap_1"), "ord_1");
  co::Saga captured = saga_after(capture_events, authorized);
};

}  // namespace

// -------------------------------------------------------------- start/fold

TEST_CASE("saga start: Started with the cart and request, then AuthorizeRequested") {
  Cart c = ready_cart();
  co::Request r = request_for(c);
  auto events = co::start(c, r, "txn_1", "corr_1");
  REQUIRE(events.size() == 2);
  const auto& s = as<co::Started>(events[0]);
  CHECK(s.transaction_id == "txn_1");
  CHECK(s.tenant_id == "t1");
  CHECK(s.merchant_id == "m1");
  CHECK(s.cart_id == "cart-1");
  CHECK(s.cart_version == 5);
  CHECK(s.currency == "USD");
  CHECK(s.idempotency_key == "idem_1");
  CHECK(s.fingerprint == co::fingerprint(r));
  CHECK(s.correlation_id == "corr_1");
  CHECK(s.totals.subtotal_minor == 2500);
  CHECK(s.totals.discount_minor == 300);
  CHECK(s.totals.tax_minor == 170);
  CHECK(s.totals.total_minor == 2370);
  REQUIRE(s.lines.size() == 2);
  CHECK(s.lines[0].line_id == "l1");
  CHECK(s.lines[1].line_id == "l2");
  REQUIRE(s.location.has_value());
  CHECK(s.location->country_code == std::optional<std::string>("US"));
  CHECK(as<co::AuthorizeRequested>(events[1]).idempotency_key == "txn_1:authorize");
  CHECK(co::step_key("txn_9", "capture") == "txn_9:capture");
  CHECK_FALSE(co::finishes(events));
}

TEST_CASE("saga fold after start: authorizing") {
  Cart c = ready_cart();
  co::Saga none;
  CHECK_FALSE(none.exists());
  CHECK(co::next_action(none, true) == co::Action::none);

  co::Saga s = started_saga(c);
  CHECK(s.exists());
  CHECK_FALSE(s.finished());
  CHECK(s.phase == co::Phase::authorizing);
  CHECK(s.transaction_id == "txn_1");
  CHECK(s.tenant_id == "t1");
  CHECK(s.cart_version == 5);
  CHECK(s.totals.total_minor == 2370);
  CHECK(s.started_at_ms == 5000);
  CHECK_FALSE(s.authorized);
  CHECK(s.payment_state.empty());
  CHECK_FALSE(s.outcome.has_value());
  CHECK(s.result_json.empty());

  // fold() over timed events gives the same saga as applying them one by one.
  std::vector<co::Event> timed;
  for (const auto& e : co::start(c, request_for(c), "txn_1", "corr_1")) timed.push_back(co::Event{5000, e});
  co::Saga f = co::fold(timed);
  CHECK(f.phase == co::Phase::authorizing);
  CHECK(f.fingerprint == s.fingerprint);
  CHECK(f.started_at_ms == 5000);
}

TEST_CASE("saga next_action: authorize with the token, void without it") {
  co::Saga s = started_saga(ready_cart());
  CHECK(co::next_action(s, true) == co::Action::authorize);
  CHECK(co::next_action(s, false) == co::Action::void_);
}

// -------------------------------------------------------- after_authorize

TEST_CASE("after_authorize ok: Authorized + CaptureRequested of the cart total") {
  Path p;
  REQUIRE(p.auth_events.size() == 2);
  CHECK(as<co::Authorized>(p.auth_events[0]).reference == "auth_1");
  const auto& cr = as<co::CaptureRequested>(p.auth_events[1]);
  CHECK(cr.amount_minor == 2370);
  CHECK(cr.idempotency_key == "txn_1:capture");
  CHECK_FALSE(co::finishes(p.auth_events));

  CHECK(p.authorized.phase == co::Phase::capturing);
  CHECK(p.authorized.authorized);
  CHECK(p.authorized.payment_reference == "auth_1");
  CHECK(p.authorized.payment_state == "authorized");
  CHECK(co::next_action(p.authorized, true) == co::Action::capture);
  CHECK(co::next_action(p.authorized, false) == co::Action::capture);
}

TEST_CASE("after_authorize refused: Declined + Finished(auth_failed)") {
  co::Saga s = started_saga(ready_cart());
  auto events = co::after_authorize(s, call_refused("dec_1", "insufficient funds"), 6000);
  REQUIRE(events.size() == 2);
  const auto& d = as<co::Declined>(events[0]);
  CHECK(d.reference == "dec_1");
  CHECK(d.reason == "insufficient funds");
  const auto& f = finished_of(events);
  CHECK(f.outcome == co::Outcome::auth_failed);
  CHECK(co::finishes(events));

  co::Saga done = saga_after(events, s);
  CHECK(done.finished());
  CHECK(done.outcome == std::optional<co::Outcome>(co::Outcome::auth_failed));
  CHECK(done.payment_state == "failed");
  CHECK_FALSE(done.authorized);
  CHECK(done.result_json == f.result_json);
  CHECK(co::next_action(done, true) == co::Action::none);

  Value res = parse_json(f.result_json);
  check_result_shape(res);
  CHECK(str_of(res, "status") == "auth_failed");
  CHECK(str_of(res, "payment_reference") == "dec_1");
  CHECK(is_null_member(res, "receipt_payload"));
  CHECK(is_null_member(res, "audit_trail_id"));
  CHECK(str_of(res, "payment_state") == "failed");
  CHECK(is_null_member(res, "order_id"));
  CHECK(is_null_member(res, "receipt_status"));
  CHECK(str_of(res, "failure_reason") == "insufficient funds");
}

TEST_CASE("after_authorize unknown: AuthorizeFailed + VoidRequested, then voiding") {
  co::Saga s = started_saga(ready_cart());
  auto events = co::after_authorize(s, call_unknown("timeout"), 6000);
  REQUIRE(events.size() == 2);
  CHECK(as<co::AuthorizeFailed>(events[0]).reason == "timeout");
  CHECK(as<co::VoidRequested>(events[1]).idempotency_key == "txn_1:void");
  CHECK_FALSE(co::finishes(events));

  co::Saga v = saga_after(events, s);
  CHECK(v.phase == co::Phase::voiding);
  CHECK(v.failure_reason == "timeout");
  CHECK_FALSE(v.authorized);
  CHECK(co::next_action(v, true) == co::Action::void_);
  CHECK(co::next_action(v, false) == co::Action::void_);

  SUBCASE("void ok: failed, voided") {
    auto fin = co::after_void(v, call_ok("void_1"), 7000);
    REQUIRE(fin.size() == 2);
    CHECK(as<co::Voided>(fin[0]).reference == "void_1");
    CHECK(finished_of(fin).outcome == co::Outcome::failed);
    Value res = parse_json(finished_of(fin).result_json);
    check_result_shape(res);
    CHECK(str_of(res, "status") == "failed");
    CHECK(str_of(res, "payment_state") == "voided");
    CHECK(is_null_member(res, "payment_reference"));
    CHECK(is_null_member(res, "order_id"));
    CHECK(is_null_member(res, "receipt_status"));
    CHECK(str_of(res, "failure_reason") == "timeout");
  }
  SUBCASE("void fails: failed, still authorized, both reasons") {
    auto fin = co::after_void(v, call_unknown("provider down"), 7000);
    REQUIRE(fin.size() == 2);
    CHECK(contains(as<co::VoidFailed>(fin[0]).reason, "provider down"));
    Value res = parse_json(finished_of(fin).result_json);
    CHECK(str_of(res, "status") == "failed");
    CHECK(str_of(res, "payment_state") == "authorized");
    CHECK(str_of(res, "failure_reason") == "timeout; void failed: provider down");
  }
}

// ---------------------------------------------------------- after_capture

TEST_CASE("after_capture ok: Captured + OrderCreated + ReceiptRequested") {
  Path p;
  REQUIRE(p.capture_events.size() == 3);
  CHECK(as<co::Captured>(p.capture_events[0]).reference == "cap_1");
  CHECK(as<co::OrderCreated>(p.capture_events[1]).order_id == "ord_1");
  CHECK(as<co::ReceiptRequested>(p.capture_events[2]).idempotency_key == "txn_1:receipt");
  CHECK_FALSE(co::finishes(p.capture_events));

  CHECK(p.captured.phase == co::Phase::receipting);
  CHECK(p.captured.payment_state == "captured");
  CHECK(p.captured.order_id == "ord_1");
  CHECK(p.captured.payment_reference == "auth_1");  // the authorization's reference
  CHECK(co::next_action(p.captured, true) == co::Action::receipt);
  CHECK(co::next_action(p.captured, false) == co::Action::receipt);
}

TEST_CASE("after_capture failure: CaptureFailed + VoidRequested, then the void ends it") {
  Path p;
  for (auto bad : {call_refused("", "card expired"), call_unknown("card expired")}) {
    CAPTURE(bad.kind);
    auto events = co::after_capture(p.authorized, bad, "ord_unused");
    REQUIRE(events.size() == 2);
    CHECK(as<co::CaptureFailed>(events[0]).reason == "card expired");
    CHECK(as<co::VoidRequested>(events[1]).idempotency_key == "txn_1:void");
    CHECK_FALSE(co::finishes(events));
    co::Saga v = saga_after(events, p.authorized);
    CHECK(v.phase == co::Phase::voiding);
    CHECK(v.order_id.empty());
    CHECK(co::next_action(v, true) == co::Action::void_);

    auto ok = co::after_void(v, call_ok("void_1"), 7000);
    co::Saga done = saga_after(ok, v);
    CHECK(done.finished());
    CHECK(done.outcome == std::optional<co::Outcome>(co::Outcome::failed));
    CHECK(done.payment_state == "voided");
    Value res = parse_json(done.result_json);
    check_result_shape(res);
    CHECK(str_of(res, "status") == "failed");
    CHECK(str_of(res, "payment_state") == "voided");
    CHECK(str_of(res, "payment_reference") == "auth_1");
    CHECK(is_null_member(res, "order_id"));
    CHECK(is_null_member(res, "receipt_payload"));
    CHECK(is_null_member(res, "receipt_status"));
    CHECK(is_null_member(res, "audit_trail_id"));
    CHECK(str_of(res, "failure_reason") == "card expired");

    auto fail = co::after_void(v, call_refused("", "nope"), 7000);
    REQUIRE(fail.size() == 2);
    CHECK(as<co::VoidFailed>(fail[0]).reason == "void failed: nope");
    co::Saga stuck = saga_after(fail, v);
    CHECK(stuck.finished());
    CHECK(stuck.outcome == std::optional<co::Outcome>(co::Outcome::failed));
    CHECK(stuck.payment_state == "authorized");
    Value res2 = parse_json(stuck.result_json);
    CHECK(str_of(res2, "status") == "failed");
    CHECK(str_of(res2, "payment_state") == "authorized");
    CHECK(str_of(res2, "failure_reason") == "card expired; void failed: nope");
  }
}

TEST_CASE("resolve_unanswered_capture: the provider's state decides an unanswered capture") {
  using Opt = std::optional<std::string>;
  const auto lost = call_unknown("payment back-end timed out");
  // The capture went through: the checkout goes on to its order.
  for (std::string st : {"captured", "partially_refunded", "refunded", "refund_pending"}) {
    CAPTURE(st);
    auto cr = co::resolve_unanswered_capture(lost, Opt(st));
    CHECK(cr.kind == co::CallResult::ok);
    CHECK(cr.detail.find(st) != std::string::npos);
    Path p;
    auto events = co::after_capture(p.authorized, cr, "ord_9");
    REQUIRE(events.size() == 3);
    CHECK(as<co::OrderCreated>(events[1]).order_id == "ord_9");
  }
  // It did not, or nobody knows: still unknown, and the saga voids.
  for (Opt st : {Opt("authorized"), Opt("voided"), Opt("failed"), Opt()}) {
    CAPTURE(st.value_or("(no answer)"));
    auto cr = co::resolve_unanswered_capture(lost, st);
    CHECK(cr.kind == co::CallResult::unknown);
    CHECK(cr.detail.rfind("payment back-end timed out", 0) == 0);
    Path p;
    CHECK(std::holds_alternative<co::CaptureFailed>(co::after_capture(p.authorized, cr, "ord_9").front()));
  }
  CHECK(co::resolve_unanswered_capture(lost, Opt()).detail == "payment back-end timed out");
  // Only an unanswered capture is reconsidered: answers stand.
  auto refused = call_refused("", "card expired");
  CHECK(co::resolve_unanswered_capture(refused, Opt("captured")).kind == co::CallResult::refused);
  CHECK(co::resolve_unanswered_capture(call_ok("cap_1"), Opt("authorized")).reference == "cap_1");
}

// ---------------------------------------------------------- after_receipt

TEST_CASE("after_receipt ok: ReceiptIssued + Finished(completed), receipt issued") {
  Path p;
  auto events = co::after_receipt(p.captured, call_ok("Receipt txn=txn_1 total=2370"), 8000);
  REQUIRE(events.size() == 2);
  CHECK(as<co::ReceiptIssued>(events[0]).content == "Receipt txn=txn_1 total=2370");
  CHECK(finished_of(events).outcome == co::Outcome::completed);
  CHECK(co::finishes(events));

  co::Saga done = saga_after(events, p.captured, 8000);
  CHECK(done.finished());
  CHECK(done.outcome == std::optional<co::Outcome>(co::Outcome::completed));
  CHECK(done.receipt_payload == std::optional<std::string>("Receipt txn=txn_1 total=2370"));
  CHECK_FALSE(done.receipt_pending);
  CHECK(co::next_action(done, true) == co::Action::none);
  CHECK(co::next_action(done, false) == co::Action::none);

  // The full happy path: every documented field.
  Value res = parse_json(done.result_json);
  check_result_shape(res);
  CHECK(str_of(res, "status") == "completed");
  CHECK(str_of(res, "payment_reference") == "auth_1");
  CHECK(str_of(res, "receipt_payload") == "Receipt txn=txn_1 total=2370");
  CHECK(is_null_member(res, "audit_trail_id"));
  CHECK(str_of(res, "payment_state") == "captured");
  CHECK(str_of(res, "order_id") == "ord_1");
  CHECK(str_of(res, "receipt_status") == "issued");
  CHECK(is_null_member(res, "failure_reason"));
  // result_json() renders the same document from the finished saga.
  CHECK(co::result_json(done, co::Outcome::completed) == done.result_json);
}

TEST_CASE("after_receipt failure: still completed, receipt pending, payload null") {
  Path p;
  auto events = co::after_receipt(p.captured, call_unknown("receipt service down"), 8000);
  REQUIRE(events.size() == 2);
  CHECK(as<co::ReceiptFailed>(events[0]).reason == "receipt service down");
  CHECK(finished_of(events).outcome == co::Outcome::completed);

  co::Saga done = saga_after(events, p.captured);
  CHECK(done.receipt_pending);
  CHECK_FALSE(done.receipt_payload.has_value());
  Value res = parse_json(done.result_json);
  check_result_shape(res);
  CHECK(str_of(res, "status") == "completed");
  CHECK(str_of(res, "payment_state") == "captured");
  CHECK(str_of(res, "receipt_status") == "pending");
  CHECK(is_null_member(res, "receipt_payload"));
  CHECK(str_of(res, "order_id") == "ord_1");
  CHECK(is_null_member(res, "failure_reason"));
}

TEST_CASE("saga fold: a later ReceiptIssued clears a pending receipt") {
  Path p;
  co::Saga s = saga_after({co::ReceiptFailed{"down"}}, p.captured);
  CHECK(s.receipt_pending);
  s = saga_after({co::ReceiptIssued{"R"}}, s);
  CHECK_FALSE(s.receipt_pending);
  CHECK(s.receipt_payload == std::optional<std::string>("R"));
}

// ------------------------------------------------------------------ reject

TEST_CASE("reject: Started + Rejected + Finished(rejected) with the reasons as audit trail") {
  Cart c = ready_cart();
  co::Request r = request_for(c);
  auto events = co::reject(c, r, "txn_1", "corr_1", {"total 2370 exceeds max allowed 100", "country US is not allowed"},
                           9000);
  REQUIRE(events.size() == 3);
  const auto& st = as<co::Started>(events[0]);
  CHECK(st.transaction_id == "txn_1");
  CHECK(as<co::Rejected>(events[1]).reasons.size() == 2);
  CHECK(st.fingerprint == co::fingerprint(r));
  const auto& f = finished_of(events);
  CHECK(f.outcome == co::Outcome::rejected);
  CHECK(co::finishes(events));

  co::Saga s = saga_after(events, {}, 9000);
  CHECK(s.finished());
  CHECK(s.outcome == std::optional<co::Outcome>(co::Outcome::rejected));
  CHECK(s.result_json == f.result_json);
  CHECK(co::next_action(s, true) == co::Action::none);
  // The folded saga (what the replay tool shows) agrees with the response.
  CHECK(s.payment_state == "failed");
  CHECK(s.audit_trail == "total 2370 exceeds max allowed 100;country US is not allowed");

  Value res = parse_json(f.result_json);
  check_result_shape(res);
  CHECK(str_of(res, "status") == "rejected");
  CHECK(is_null_member(res, "payment_reference"));
  CHECK(is_null_member(res, "receipt_payload"));
  CHECK(str_of(res, "audit_trail_id") == "total 2370 exceeds max allowed 100;country US is not allowed");
  CHECK(str_of(res, "payment_state") == "failed");
  CHECK(is_null_member(res, "order_id"));
  CHECK(is_null_member(res, "receipt_status"));
  CHECK(is_null_member(res, "failure_reason"));

  SUBCASE("a single reason is not decorated") {
    auto one = co::reject(c, r, "txn_1", "corr_1", {"geo: country US is not allowed"}, 9000);
    CHECK(str_of(parse_json(finished_of(one).result_json), "audit_trail_id") ==
          "geo: country US is not allowed");
  }
}

// ------------------------------------------------------------- result_json

TEST_CASE("result_json: payment_state defaults to failed, failure_reason only when not completed") {
  co::Saga s = started_saga(ready_cart());
  Value none = parse_json(co::result_json(s, co::Outcome::failed));
  check_result_shape(none);
  CHECK(str_of(none, "payment_state") == "failed");
  CHECK(is_null_member(none, "failure_reason"));

  s.failure_reason = "boom";
  Value failed = parse_json(co::result_json(s, co::Outcome::failed));
  CHECK(str_of(failed, "failure_reason") == "boom");
  Value completed = parse_json(co::result_json(s, co::Outcome::completed));
  CHECK(is_null_member(completed, "failure_reason"));
  CHECK(str_of(completed, "receipt_status") == "issued");
}

TEST_CASE("outcome names round-trip") {
  for (co::Outcome o : {co::Outcome::completed, co::Outcome::rejected, co::Outcome::auth_failed,
                        co::Outcome::failed}) {
    co::Outcome back = co::Outcome::completed;
    REQUIRE(co::parse_enum(co::to_string(o), back));
    CHECK(back == o);
  }
  CHECK(co::to_string(co::Outcome::auth_failed) == "auth_failed");
  co::Outcome x = co::Outcome::failed;
  CHECK_FALSE(co::parse_enum("timed_out", x));
  CHECK_FALSE(co::parse_enum("Completed", x));
  CHECK(x == co::Outcome::failed);
}

// ---------------------------------------------------------- payment_events

TEST_CASE("payment_events: the payment event of each saga event") {
  Path p;
  const co::Saga& s = p.authorized;  // txn_1, t1, m1, cart-1, USD, total 2370

  SUBCASE("Authorized") {
    auto out = co::payment_events(p.started, {co::Authorized{"auth_1"}});
    REQUIRE(out.size() == 1);
    const auto& a = as_pay<pay::Authorized>(out[0]);
    CHECK(a.transaction_id == "txn_1");
    CHECK(a.tenant_id == "t1");
    CHECK(a.merchant_id == "m1");
    CHECK(a.cart_id == "cart-1");
    CHECK(a.currency == "USD");
    CHECK(a.amount_minor == 2370);
    CHECK(a.reference == "auth_1");
  }
  SUBCASE("Declined") {
    auto out = co::payment_events(p.started, {co::Declined{"dec_1", "no"}});
    REQUIRE(out.size() == 1);
    const auto& d = as_pay<pay::Declined>(out[0]);
    CHECK(d.transaction_id == "txn_1");
    CHECK(d.tenant_id == "t1");
    CHECK(d.merchant_id == "m1");
    CHECK(d.cart_id == "cart-1");
    CHECK(d.currency == "USD");
    CHECK(d.amount_minor == 2370);
    CHECK(d.reference == "dec_1");
  }
  SUBCASE("AuthorizeFailed counts as possibly authorized") {
    auto out = co::payment_events(p.started, {co::AuthorizeFailed{"timeout"}});
    REQUIRE(out.size() == 1);
    const auto& a = as_pay<pay::Authorized>(out[0]);
    CHECK(a.transaction_id == "txn_1");
    CHECK(a.amount_minor == 2370);
    CHECK(a.reference.empty());
  }
  SUBCASE("CaptureRequested") {
    auto out = co::payment_events(s, {co::CaptureRequested{2370, "txn_1:capture"}});
    REQUIRE(out.size() == 1);
    const auto& r = as_pay<pay::OperationRequested>(out[0]);
    CHECK(r.op == pay::Op::capture);
    CHECK(r.amount_minor == 2370);
    CHECK(r.idempotency_key == "txn_1:capture");
    CHECK(r.client_key.empty());
  }
  SUBCASE("Captured") {
    auto out = co::payment_events(s, {co::Captured{"cap_1"}});
    REQUIRE(out.size() == 1);
    const auto& c = as_pay<pay::Captured>(out[0]);
    CHECK(c.amount_minor == 2370);
    CHECK(c.reference == "cap_1");
  }
  SUBCASE("CaptureFailed") {
    auto out = co::payment_events(s, {co::CaptureFailed{"card expired"}});
    REQUIRE(out.size() == 1);
    const auto& f = as_pay<pay::OperationFailed>(out[0]);
    CHECK(f.op == pay::Op::capture);
    CHECK(f.reason == "card expired");
  }
  SUBCASE("VoidRequested") {
    auto out = co::payment_events(s, {co::VoidRequested{"txn_1:void"}});
    REQUIRE(out.size() == 1);
    const auto& r = as_pay<pay::OperationRequested>(out[0]);
    CHECK(r.op == pay::Op::void_);
    CHECK(r.amount_minor == 2370);
    CHECK(r.idempotency_key == "txn_1:void");
    CHECK(r.client_key.empty());
  }
  SUBCASE("Voided") {
    auto out = co::payment_events(s, {co::Voided{"void_1"}});
    REQUIRE(out.size() == 1);
    CHECK(as_pay<pay::Voided>(out[0]).reference == "void_1");
  }
  SUBCASE("events without a payment side") {
    co::Started started;
    std::vector<co::EventBody> quiet;
    quiet.emplace_back(started);
    quiet.emplace_back(co::AuthorizeRequested{"k"});
    quiet.emplace_back(co::VoidFailed{"x"});
    quiet.emplace_back(co::OrderCreated{"ord_1"});
    quiet.emplace_back(co::ReceiptRequested{"k"});
    quiet.emplace_back(co::ReceiptIssued{"R"});
    quiet.emplace_back(co::ReceiptFailed{"x"});
    quiet.emplace_back(co::Finished{co::Outcome::completed, "{}"});
    CHECK(co::payment_events(s, quiet).empty());
  }
}

TEST_CASE("payment_events along the saga paths leave the payment where the saga says") {
  Path p;
  pay::Payment pm;
  pay_apply_all(pm, co::payment_events(p.started, p.auth_events));
  CHECK(pm.state == pay::State::authorized);
  CHECK(pm.authorized_minor == 2370);
  REQUIRE(pm.pending.has_value());
  CHECK(pm.pending->op == pay::Op::capture);

  SUBCASE("happy path: captured, nothing pending") {
    pay_apply_all(pm, co::payment_events(p.authorized, p.capture_events));
    CHECK(pm.state == pay::State::captured);
    CHECK(pm.captured_minor == 2370);
    CHECK_FALSE(pm.pending.has_value());
    auto receipt = co::after_receipt(p.captured, call_ok("R"), 8000);
    CHECK(co::payment_events(p.captured, receipt).empty());
  }
  SUBCASE("capture failed then voided: voided") {
    auto failed = co::after_capture(p.authorized, call_unknown("x"), "ord");
    pay_apply_all(pm, co::payment_events(p.authorized, failed));
    REQUIRE(pm.pending.has_value());
    CHECK(pm.pending->op == pay::Op::void_);
    co::Saga v = saga_after(failed, p.authorized);
    pay_apply_all(pm, co::payment_events(v, co::after_void(v, call_ok("void_1"), 7000)));
    CHECK(pm.state == pay::State::voided);
    CHECK_FALSE(pm.pending.has_value());
  }
  SUBCASE("void failed: the void stays pending") {
    auto failed = co::after_capture(p.authorized, call_unknown("x"), "ord");
    pay_apply_all(pm, co::payment_events(p.authorized, failed));
    co::Saga v = saga_after(failed, p.authorized);
    pay_apply_all(pm, co::payment_events(v, co::after_void(v, call_unknown("down"), 7000)));
    CHECK(pm.state == pay::State::authorized);
    REQUIRE(pm.pending.has_value());
    CHECK(pm.pending->op == pay::Op::void_);
  }
}

TEST_CASE("payment_events: unknown authorization shows as authorized, then voided") {
  co::Saga s = started_saga(ready_cart());
  auto unknown = co::after_authorize(s, call_unknown("timeout"), 6000);
  pay::Payment pm;
  pay_apply_all(pm, co::payment_events(s, unknown));
  CHECK(pm.state == pay::State::authorized);
  CHECK(pm.transaction_id == "txn_1");
  REQUIRE(pm.pending.has_value());
  CHECK(pm.pending->op == pay::Op::void_);
  co::Saga v = saga_after(unknown, s);
  pay_apply_all(pm, co::payment_events(v, co::after_void(v, call_ok("void_1"), 7000)));
  CHECK(pm.state == pay::State::voided);
}

TEST_CASE("payment_events: a declined authorization is a declined payment shown as failed") {
  co::Saga s = started_saga(ready_cart());
  pay::Payment pm;
  pay_apply_all(pm, co::payment_events(s, co::after_authorize(s, call_refused("dec_1", "no"), 6000)));
  CHECK(pm.state == pay::State::declined);
  CHECK(pay::to_string(pm.state) == "failed");
  CHECK(pm.authorization_reference == "dec_1");
}

// -------------------------------------------------- cart_events, finishes

TEST_CASE("cart_events: completed closes the cart, any other end releases it") {
  Path p;
  auto completed = co::after_receipt(p.captured, call_ok("R"), 8000);
  auto ce = co::cart_events(p.captured, completed);
  REQUIRE(ce.size() == 1);
  REQUIRE(std::holds_alternative<CheckedOut>(ce[0]));
  CHECK(std::get<CheckedOut>(ce[0]).transaction_id == "txn_1");

  auto check_released = [](const co::Saga& s, const std::vector<co::EventBody>& events) {
    auto out = co::cart_events(s, events);
    REQUIRE(out.size() == 1);
    REQUIRE(std::holds_alternative<CheckoutReleased>(out[0]));
    CHECK(std::get<CheckoutReleased>(out[0]).transaction_id == "txn_1");
  };
  check_released(p.started, co::after_authorize(p.started, call_refused("d", "no"), 6000));
  co::Saga v = saga_after(co::after_capture(p.authorized, call_unknown("x"), "o"), p.authorized);
  check_released(v, co::after_void(v, call_ok("v"), 7000));
  check_released(v, co::after_void(v, call_unknown("v"), 7000));
  std::vector<co::EventBody> rejected;
  rejected.emplace_back(co::Finished{co::Outcome::rejected, "{}"});
  check_released(p.started, rejected);

  SUBCASE("no Finished: nothing for the cart") {
    CHECK(co::cart_events(p.started, p.auth_events).empty());
    CHECK(co::cart_events(p.authorized, p.capture_events).empty());
    CHECK(co::cart_events(p.started, {}).empty());
  }
}

TEST_CASE("finishes: only when the last event is Finished") {
  CHECK_FALSE(co::finishes({}));
  std::vector<co::EventBody> e;
  e.emplace_back(co::Finished{co::Outcome::failed, "{}"});
  CHECK(co::finishes(e));
  e.emplace_back(co::ReceiptFailed{"x"});
  CHECK_FALSE(co::finishes(e));
  CHECK_FALSE(co::finishes({co::AuthorizeRequested{"k"}}));
}

// ------------------------------------------------------------------- order

TEST_CASE("order: created_from a captured saga, then the receipt attached") {
  Path p;
  order::Created c = order::created_from(p.captured, "ord_1");
  CHECK(c.order_id == "ord_1");
  CHECK(c.tenant_id == "t1");
  CHECK(c.merchant_id == "m1");
  CHECK(c.transaction_id == "txn_1");
  CHECK(c.cart_id == "cart-1");
  CHECK(c.correlation_id == "corr_1");
  CHECK(c.currency == "USD");
  CHECK(c.lines.size() == 2);
  CHECK(c.totals.total_minor == 2370);
  CHECK(c.totals.discount_minor == 300);

  order::Order o;
  CHECK_FALSE(o.exists());
  order::apply(o, order::Event{100, c});
  CHECK(o.exists());
  CHECK(o.order_id == "ord_1");
  CHECK(o.tenant_id == "t1");
  CHECK(o.merchant_id == "m1");
  CHECK(o.transaction_id == "txn_1");
  CHECK(o.cart_id == "cart-1");
  CHECK(o.correlation_id == "corr_1");
  CHECK(o.currency == "USD");
  CHECK(o.status == "created");
  CHECK(o.lines.size() == 2);
  CHECK(o.totals.subtotal_minor == 2500);
  CHECK_FALSE(o.receipt_payload.has_value());
  CHECK(o.created_at_ms == 100);
  CHECK(o.updated_at_ms == 100);

  order::apply(o, order::Event{200, order::ReceiptAttached{"R"}});
  CHECK(o.receipt_payload == std::optional<std::string>("R"));
  CHECK(o.created_at_ms == 100);
  CHECK(o.updated_at_ms == 200);
  CHECK(o.status == "created");
}
