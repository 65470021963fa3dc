// src/events/payment.hpp: the payment state machine (apply, plan, settle) and
// the helpers of the lifecycle routes (fingerprint, backend_key, success_json,
// current_reference, reconciliation_json).
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "builders.hpp"

using namespace testing;
using namespace testing::fx;
using orch::json::Value;

namespace {

pay::Plan plan_ok(const pay::Payment& p, pay::Op op, std::int64_t amount, const std::string& key = "k1") {
  auto r = pay::plan(p, pay::Request{op, amount}, key);
  INFO("plan ", std::string(pay::to_string(op)), " ", amount, ": ", describe(r));
  REQUIRE(r.ok());
  return *r;
}

Error plan_err(const pay::Payment& p, pay::Op op, std::int64_t amount) {
  auto r = pay::plan(p, pay::Request{op, amount}, "k1");
  INFO("plan ", std::string(pay::to_string(op)), " ", amount, " unexpectedly succeeded");
  REQUIRE_FALSE(r.ok());
  return r.error();
}

// Requests, then settles successfully, `op` of `amount`.
void run_op(pay::Payment& p, pay::Op op, std::int64_t amount, const std::string& reference) {
  pay::Plan pl = plan_ok(p, op, amount);
  REQUIRE_FALSE(pl.already_done);
  pay_apply_all(p, {pl.request});
  pay_apply_all(p, pay::settle(p, pay::ProviderOutcome{true, reference, ""}));
}

pay::Payment captured_payment(std::int64_t amount = 2370) {
  pay::Payment p = authorized_payment(amount);
  run_op(p, pay::Op::capture, amount, "cap_1");
  REQUIRE(p.state == pay::State::captured);
  return p;
}

pay::Payment voided_payment() {
  pay::Payment p = authorized_payment();
  run_op(p, pay::Op::void_, 0, "void_1");
  REQUIRE(p.state == pay::State::voided);
  return p;
}

pay::Payment declined_payment() {
  pay::Payment p;
  pay::apply(p, pay::Event{1000, pay::Declined{"txn_1", "t1", "m1", "cart-1", "USD", 2370, "dec_1"}});
  return p;
}

}  // namespace

// ------------------------------------------------------------ names, apply

TEST_CASE("payment states: snake_case names, declined is failed, state_from round trip") {
  CHECK(pay::to_string(pay::State::authorized) == "authorized");
  CHECK(pay::to_string(pay::State::captured) == "captured");
  CHECK(pay::to_string(pay::State::partially_refunded) == "partially_refunded");
  CHECK(pay::to_string(pay::State::refunded) == "refunded");
  CHECK(pay::to_string(pay::State::voided) == "voided");
  CHECK(pay::to_string(pay::State::declined) == "failed");
  for (pay::State s : {pay::State::authorized, pay::State::captured, pay::State::partially_refunded,
                       pay::State::refunded, pay::State::voided, pay::State::declined}) {
    CAPTURE(pay::to_string(s));
    CHECK(pay::state_from(pay::to_string(s)) == std::optional<pay::State>(s));
  }
  CHECK_FALSE(pay::state_from("").has_value());
  CHECK_FALSE(pay::state_from("Captured").has_value());
  CHECK_FALSE(pay::state_from("none").has_value());
  CHECK_FALSE(pay::state_from("declined").has_value());
  // Provider spellings of a refund in progress.
  CHECK(pay::state_from("refund_pending") == std::optional<pay::State>(pay::State::partially_refunded));
  CHECK(pay::state_from("refundpending") == std::optional<pay::State>(pay::State::partially_refunded));
}

TEST_CASE("payment ops: names round-trip") {
  for (pay::Op op : {pay::Op::capture, pay::Op::void_, pay::Op::refund}) {
    pay::Op back = pay::Op::refund;
    REQUIRE(pay::parse_enum(pay::to_string(op), back));
    CHECK(back == op);
  }
  CHECK(pay::to_string(pay::Op::void_) == "void");
  pay::Op x = pay::Op::capture;
  CHECK_FALSE(pay::parse_enum("void_", x));
  CHECK_FALSE(pay::parse_enum("", x));
  CHECK(x == pay::Op::capture);
}

TEST_CASE("payment apply: authorized") {
  pay::Payment none;
  CHECK_FALSE(none.exists());
  pay::Payment p = authorized_payment(2370);
  CHECK(p.exists());
  CHECK(p.state == pay::State::authorized);
  CHECK(p.transaction_id == "txn_1");
  CHECK(p.tenant_id == "t1");
  CHECK(p.merchant_id == "m1");
  CHECK(p.cart_id == "cart-1");
  CHECK(p.currency == "USD");
  CHECK(p.authorized_minor == 2370);
  CHECK(p.captured_minor == 0);
  CHECK(p.refunded_minor == 0);
  CHECK(p.authorization_reference == "auth_1");
  CHECK_FALSE(p.pending.has_value());
  CHECK(p.created_at_ms == 1000);
  CHECK(p.updated_at_ms == 1000);
  REQUIRE(p.history.size() == 1);
  CHECK(p.history[0].type == "authorized");
  CHECK(p.history[0].amount_minor == 2370);
  CHECK(p.history[0].reference == "auth_1");
  CHECK(p.history[0].at_ms == 1000);
}

TEST_CASE("payment apply: declined") {
  pay::Payment p = declined_payment();
  CHECK(p.exists());
  CHECK(p.state == pay::State::declined);
  CHECK(p.transaction_id == "txn_1");
  CHECK(p.authorization_reference == "dec_1");
  REQUIRE(p.history.size() == 1);
  CHECK(p.history[0].type == "declined");
  CHECK(p.history[0].amount_minor == 2370);
}

TEST_CASE("payment apply: request, result, history") {
  pay::Payment p = authorized_payment(2370);
  pay::apply(p, pay::Event{2000, pay::OperationRequested{pay::Op::capture, 2000, "bk", "ck"}});
  REQUIRE(p.pending.has_value());
  CHECK(p.pending->op == pay::Op::capture);
  CHECK(p.pending->amount_minor == 2000);
  CHECK(p.pending->idempotency_key == "bk");
  CHECK(p.pending->client_key == "ck");
  CHECK(p.state == pay::State::authorized);
  CHECK(p.history.size() == 1);  // a request is not history
  CHECK(p.updated_at_ms == 2000);

  pay::apply(p, pay::Event{3000, pay::Captured{2000, "cap_1"}});
  CHECK_FALSE(p.pending.has_value());
  CHECK(p.state == pay::State::captured);
  CHECK(p.captured_minor == 2000);
  CHECK(p.updated_at_ms == 3000);
  CHECK(p.created_at_ms == 1000);
  REQUIRE(p.history.size() == 2);
  CHECK(p.history[1].type == "captured");
  CHECK(p.history[1].amount_minor == 2000);
  CHECK(p.history[1].reference == "cap_1");
  CHECK(p.history[1].at_ms == 3000);

  pay::apply(p, pay::Event{4000, pay::OperationRequested{pay::Op::refund, 500, "bk2", ""}});
  pay::apply(p, pay::Event{5000, pay::OperationFailed{pay::Op::refund, "provider said no"}});
  CHECK_FALSE(p.pending.has_value());
  CHECK(p.state == pay::State::captured);
  CHECK(p.refunded_minor == 0);
  REQUIRE(p.history.size() == 3);
  CHECK(p.history[2].type == "operation_failed");
  CHECK(p.history[2].amount_minor == 0);
  CHECK(contains(p.history[2].reference, "refund"));
  CHECK(contains(p.history[2].reference, "provider said no"));
}

TEST_CASE("payment apply: refunds accumulate, partially_refunded then refunded at the captured amount") {
  pay::Payment p = captured_payment(1000);
  pay::apply(p, pay::Event{3000, pay::Refunded{300, "ref_1"}});
  CHECK(p.state == pay::State::partially_refunded);
  CHECK(p.refunded_minor == 300);
  pay::apply(p, pay::Event{3100, pay::Refunded{699, "ref_2"}});
  CHECK(p.state == pay::State::partially_refunded);
  CHECK(p.refunded_minor == 999);
  pay::apply(p, pay::Event{3200, pay::Refunded{1, "ref_3"}});
  CHECK(p.state == pay::State::refunded);
  CHECK(p.refunded_minor == 1000);
  CHECK(p.captured_minor == 1000);
  REQUIRE(p.history.size() == 5);
  CHECK(p.history[2].type == "refunded");
  CHECK(p.history[2].amount_minor == 300);
  CHECK(p.history[4].reference == "ref_3");
  CHECK(p.history[4].at_ms == 3200);
}

TEST_CASE("payment apply: voided records the authorized amount") {
  pay::Payment p = authorized_payment(2370);
  pay::apply(p, pay::Event{2000, pay::Voided{"void_1"}});
  CHECK(p.state == pay::State::voided);
  REQUIRE(p.history.size() == 2);
  CHECK(p.history[1].type == "voided");
  CHECK(p.history[1].amount_minor == 2370);
  CHECK(p.history[1].reference == "void_1");
}

TEST_CASE("payment fold equals applying one by one") {
  std::vector<pay::Event> events;
  events.push_back(pay::Event{1, pay::Authorized{"txn_1", "t1", "m1", "c", "USD", 100, "a"}});
  events.push_back(pay::Event{2, pay::OperationRequested{pay::Op::capture, 100, "k", ""}});
  events.push_back(pay::Event{3, pay::Captured{100, "c1"}});
  pay::Payment p = pay::fold(events);
  CHECK(p.state == pay::State::captured);
  CHECK(p.history.size() == 2);
  CHECK(p.updated_at_ms == 3);
}

// --------------------------------------------------------------------- plan

TEST_CASE("plan: an unknown transaction is NOT_FOUND") {
  pay::Payment none;
  for (pay::Op op : {pay::Op::capture, pay::Op::void_, pay::Op::refund})
    CHECK(plan_err(none, op, 100).code == Code::not_found);
}

TEST_CASE("plan capture") {
  SUBCASE("authorized: ok within 1..authorized, key passed through") {
    pay::Payment p = authorized_payment(2370);
    for (std::int64_t amount : {std::int64_t{1}, std::int64_t{2000}, std::int64_t{2370}}) {
      CAPTURE(amount);
      pay::Plan pl = plan_ok(p, pay::Op::capture, amount, "txn_1:capture:abc");
      CHECK_FALSE(pl.already_done);
      CHECK(pl.request.op == pay::Op::capture);
      CHECK(pl.request.amount_minor == amount);
      CHECK(pl.request.idempotency_key == "txn_1:capture:abc");
    }
    for (std::int64_t amount : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{2371}}) {
      CAPTURE(amount);
      Error e = plan_err(p, pay::Op::capture, amount);
      CHECK(e.code == Code::validation_error);
      CHECK(contains(e.message, "2370"));
    }
  }
  SUBCASE("captured, partially refunded, refunded: already done") {
    pay::Payment p = captured_payment(1000);
    CHECK(plan_ok(p, pay::Op::capture, 1000).already_done);
    CHECK(plan_ok(p, pay::Op::capture, 5).already_done);
    pay_apply_all(p, {pay::Refunded{400, "r1"}});
    REQUIRE(p.state == pay::State::partially_refunded);
    CHECK(plan_ok(p, pay::Op::capture, 1000).already_done);
    pay_apply_all(p, {pay::Refunded{600, "r2"}});
    REQUIRE(p.state == pay::State::refunded);
    CHECK(plan_ok(p, pay::Op::capture, 1000).already_done);
  }
  SUBCASE("voided and declined: INVALID_PAYMENT_TRANSITION") {
    Error v = plan_err(voided_payment(), pay::Op::capture, 2370);
    CHECK(v.code == Code::invalid_payment_transition);
    CHECK(contains(v.message, "voided"));
    Error d = plan_err(declined_payment(), pay::Op::capture, 2370);
    CHECK(d.code == Code::invalid_payment_transition);
    CHECK(contains(d.message, "failed"));
  }
}

TEST_CASE("plan void") {
  SUBCASE("authorized: ok, for the authorized amount") {
    pay::Payment p = authorized_payment(2370);
    pay::Plan pl = plan_ok(p, pay::Op::void_, 0, "vk");
    CHECK_FALSE(pl.already_done);
    CHECK(pl.request.op == pay::Op::void_);
    CHECK(pl.request.amount_minor == 2370);
    CHECK(pl.request.idempotency_key == "vk");
    // The amount of a void request is ignored.
    CHECK(plan_ok(p, pay::Op::void_, -5).request.amount_minor == 2370);
  }
  SUBCASE("voided: already done") {
    CHECK(plan_ok(voided_payment(), pay::Op::void_, 0).already_done);
  }
  SUBCASE("captured, refunded, declined: INVALID_PAYMENT_TRANSITION") {
    pay::Payment c = captured_payment(1000);
    CHECK(plan_err(c, pay::Op::void_, 0).code == Code::invalid_payment_transition);
    pay_apply_all(c, {pay::Refunded{1000, "r"}});
    CHECK(plan_err(c, pay::Op::void_, 0).code == Code::invalid_payment_transition);
    CHECK(plan_err(declined_payment(), pay::Op::void_, 0).code == Code::invalid_payment_transition);
  }
}

TEST_CASE("plan refund") {
  SUBCASE("captured: ok up to what is left") {
    pay::Payment p = captured_payment(1000);
    pay::Plan pl = plan_ok(p, pay::Op::refund, 400, "rk");
    CHECK_FALSE(pl.already_done);
    CHECK(pl.request.op == pay::Op::refund);
    CHECK(pl.request.amount_minor == 400);
    CHECK(pl.request.idempotency_key == "rk");
    CHECK(plan_ok(p, pay::Op::refund, 1000).request.amount_minor == 1000);
  }
  SUBCASE("over what is left: REFUND_EXCEEDS_CAPTURED with the numbers") {
    pay::Payment p = captured_payment(1000);
    Error e = plan_err(p, pay::Op::refund, 1001);
    CHECK(e.code == Code::refund_exceeds_captured);
    CHECK(contains(e.message, "1001"));
    CHECK(contains(e.message, "1000"));

    pay_apply_all(p, {pay::Refunded{700, "r1"}});
    CHECK(plan_ok(p, pay::Op::refund, 300).request.amount_minor == 300);
    Error left = plan_err(p, pay::Op::refund, 301);
    CHECK(left.code == Code::refund_exceeds_captured);
    CHECK(contains(left.message, "301"));
    CHECK(contains(left.message, "300"));   // left
    CHECK(contains(left.message, "700"));   // refunded
    CHECK(contains(left.message, "1000"));  // captured

    pay_apply_all(p, {pay::Refunded{300, "r2"}});
    REQUIRE(p.state == pay::State::refunded);
    CHECK(plan_err(p, pay::Op::refund, 1).code == Code::refund_exceeds_captured);
  }
  SUBCASE("a partial capture bounds the refunds") {
    pay::Payment p = authorized_payment(1000);
    run_op(p, pay::Op::capture, 600, "cap");
    CHECK(p.captured_minor == 600);
    CHECK(plan_ok(p, pay::Op::refund, 600).request.amount_minor == 600);
    CHECK(plan_err(p, pay::Op::refund, 601).code == Code::refund_exceeds_captured);
  }
  SUBCASE("zero or negative: VALIDATION_ERROR") {
    pay::Payment p = captured_payment(1000);
    CHECK(plan_err(p, pay::Op::refund, 0).code == Code::validation_error);
    CHECK(plan_err(p, pay::Op::refund, -1).code == Code::validation_error);
  }
  SUBCASE("not captured: INVALID_PAYMENT_TRANSITION") {
    CHECK(plan_err(authorized_payment(), pay::Op::refund, 100).code == Code::invalid_payment_transition);
    CHECK(plan_err(voided_payment(), pay::Op::refund, 100).code == Code::invalid_payment_transition);
    CHECK(plan_err(declined_payment(), pay::Op::refund, 100).code == Code::invalid_payment_transition);
  }
}

TEST_CASE("plan: an operation in flight refuses any other") {
  pay::Payment p = authorized_payment(1000);
  pay_apply_all(p, {pay::OperationRequested{pay::Op::capture, 1000, "bk", ""}});
  for (pay::Op op : {pay::Op::capture, pay::Op::void_, pay::Op::refund}) {
    CAPTURE(pay::to_string(op));
    Error e = plan_err(p, op, 100);
    CHECK(e.code == Code::invalid_payment_transition);
    CHECK(contains(e.message, "in progress"));
  }
}

// ------------------------------------------------------------------- settle

TEST_CASE("settle: success per operation") {
  SUBCASE("capture") {
    pay::Payment p = authorized_payment(1000);
    pay_apply_all(p, {pay::OperationRequested{pay::Op::capture, 800, "bk", ""}});
    auto out = pay::settle(p, pay::ProviderOutcome{true, "cap_9", ""});
    REQUIRE(out.size() == 1);
    REQUIRE(std::holds_alternative<pay::Captured>(out[0]));
    CHECK(std::get<pay::Captured>(out[0]).amount_minor == 800);
    CHECK(std::get<pay::Captured>(out[0]).reference == "cap_9");
  }
  SUBCASE("void") {
    pay::Payment p = authorized_payment(1000);
    pay_apply_all(p, {pay::OperationRequested{pay::Op::void_, 1000, "bk", ""}});
    auto out = pay::settle(p, pay::ProviderOutcome{true, "void_9", ""});
    REQUIRE(out.size() == 1);
    REQUIRE(std::holds_alternative<pay::Voided>(out[0]));
    CHECK(std::get<pay::Voided>(out[0]).reference == "void_9");
  }
  SUBCASE("refund") {
    pay::Payment p = captured_payment(1000);
    pay_apply_all(p, {pay::OperationRequested{pay::Op::refund, 250, "bk", ""}});
    auto out = pay::settle(p, pay::ProviderOutcome{true, "ref_9", ""});
    REQUIRE(out.size() == 1);
    REQUIRE(std::holds_alternative<pay::Refunded>(out[0]));
    CHECK(std::get<pay::Refunded>(out[0]).amount_minor == 250);
    CHECK(std::get<pay::Refunded>(out[0]).reference == "ref_9");
  }
}

TEST_CASE("settle: failure per operation leaves the state, clears the pending op") {
  struct Case {
    pay::Op op;
    pay::State before;
  };
  for (Case c : {Case{pay::Op::capture, pay::State::authorized}, Case{pay::Op::void_, pay::State::authorized},
                 Case{pay::Op::refund, pay::State::captured}}) {
    CAPTURE(pay::to_string(c.op));
    pay::Payment p = c.before == pay::State::captured ? captured_payment(1000) : authorized_payment(1000);
    pay_apply_all(p, {pay::OperationRequested{c.op, 100, "bk", ""}});
    auto out = pay::settle(p, pay::ProviderOutcome{false, "", "declined by issuer"});
    REQUIRE(out.size() == 1);
    REQUIRE(std::holds_alternative<pay::OperationFailed>(out[0]));
    CHECK(std::get<pay::OperationFailed>(out[0]).op == c.op);
    CHECK(std::get<pay::OperationFailed>(out[0]).reason == "declined by issuer");
    pay_apply_all(p, out);
    CHECK(p.state == c.before);
    CHECK_FALSE(p.pending.has_value());
  }
}

TEST_CASE("settle: nothing in flight, nothing to settle") {
  CHECK(pay::settle(authorized_payment(), pay::ProviderOutcome{true, "x", ""}).empty());
  CHECK(pay::settle(pay::Payment{}, pay::ProviderOutcome{false, "", "e"}).empty());
}

TEST_CASE("plan then settle: a full lifecycle") {
  pay::Payment p = authorized_payment(1000);
  run_op(p, pay::Op::capture, 1000, "cap_1");
  CHECK(p.state == pay::State::captured);
  run_op(p, pay::Op::refund, 400, "ref_1");
  CHECK(p.state == pay::State::partially_refunded);
  run_op(p, pay::Op::refund, 600, "ref_2");
  CHECK(p.state == pay::State::refunded);
  CHECK(p.refunded_minor == 1000);
  REQUIRE(p.history.size() == 4);
  CHECK(p.history[0].type == "authorized");
  CHECK(p.history[1].type == "captured");
  CHECK(p.history[2].type == "refunded");
  CHECK(p.history[3].type == "refunded");
}

// ---------------------------------------------------- keys and responses

TEST_CASE("payment fingerprint: each field counts") {
  const std::string fp = pay::fingerprint("m1", "txn_1", pay::Request{pay::Op::capture, 100});
  CHECK(fp.size() == 64);
  CHECK(pay::fingerprint("m1", "txn_1", pay::Request{pay::Op::capture, 100}) == fp);
  std::set<std::string> all{fp,
                            pay::fingerprint("m2", "txn_1", pay::Request{pay::Op::capture, 100}),
                            pay::fingerprint("m1", "txn_2", pay::Request{pay::Op::capture, 100}),
                            pay::fingerprint("m1", "txn_1", pay::Request{pay::Op::refund, 100}),
                            pay::fingerprint("m1", "txn_1", pay::Request{pay::Op::void_, 100}),
                            pay::fingerprint("m1", "txn_1", pay::Request{pay::Op::capture, 101})};
  CHECK(all.size() == 6);
}

TEST_CASE("backend_key: stable per client key, different across keys, ops and transactions") {
  const std::string k = pay::backend_key("txn_1", pay::Op::capture, "client-key-1");
  CHECK(k == pay::backend_key("txn_1", pay::Op::capture, "client-key-1"));
  CHECK(k.rfind("txn_1:capture:", 0) == 0);
  std::set<std::string> all{k,
                            pay::backend_key("txn_1", pay::Op::capture, "client-key-2"),
                            pay::backend_key("txn_1", pay::Op::capture, ""),
                            pay::backend_key("txn_1", pay::Op::refund, "client-key-1"),
                            pay::backend_key("txn_1", pay::Op::void_, "client-key-1"),
                            pay::backend_key("txn_2", pay::Op::capture, "client-key-1")};
  CHECK(all.size() == 6);
  // Fits the back-end's idempotency-key limit of the ids (128 visible ASCII).
  CHECK(k.size() <= 128);
}

TEST_CASE("success_json: {success: true, reference}") {
  Value v = parse_json(pay::success_json("cap_1"));
  CHECK(keys_in(v) == std::vector<std::string>{"success", "reference"});
  REQUIRE(member(v, "success").is_bool());
  CHECK(member(v, "success").as_bool());
  CHECK(str_of(v, "reference") == "cap_1");
  CHECK(str_of(parse_json(pay::success_json("a\"b")), "reference") == "a\"b");
}

TEST_CASE("current_reference: the latest capture or void, else the authorization") {
  pay::Payment p = authorized_payment();
  CHECK(pay::current_reference(p, pay::Op::capture) == "auth_1");
  CHECK(pay::current_reference(p, pay::Op::void_) == "auth_1");
  pay::Payment c = captured_payment(1000);
  CHECK(pay::current_reference(c, pay::Op::capture) == "cap_1");
  CHECK(pay::current_reference(c, pay::Op::void_) == "auth_1");
  pay::Payment v = voided_payment();
  CHECK(pay::current_reference(v, pay::Op::void_) == "void_1");
}

TEST_CASE("reconciliation_json: mismatches, missing_at_provider, unknown_locally") {
  std::vector<pay::ReconcileItem> items = {
      {"txn_same", std::string("captured"), std::string("captured")},
      {"txn_diff", std::string("captured"), std::string("refunded")},
      {"txn_ours", std::string("voided"), std::nullopt},
      {"txn_theirs", std::nullopt, std::string("authorized")},
      {"txn_none", std::nullopt, std::nullopt},
      {"txn_diff2", std::string("partially_refunded"), std::string("failed")},
  };
  Value v = parse_json(pay::reconciliation_json(items));
  CHECK(keys_in(v) == std::vector<std::string>{"mismatches", "missing_at_provider", "unknown_locally"});

  const Value& mm = member(v, "mismatches");
  REQUIRE(mm.is_array());
  REQUIRE(mm.items().size() == 2);
  CHECK(str_of(mm.items()[0], "transaction_id") == "txn_diff");
  CHECK(str_of(mm.items()[0], "our_state") == "captured");
  CHECK(str_of(mm.items()[0], "provider_state") == "refunded");
  CHECK(str_of(mm.items()[1], "transaction_id") == "txn_diff2");
  CHECK(str_of(mm.items()[1], "our_state") == "partially_refunded");
  CHECK(str_of(mm.items()[1], "provider_state") == "failed");

  const Value& missing = member(v, "missing_at_provider");
  REQUIRE(missing.is_array());
  REQUIRE(missing.items().size() == 1);
  CHECK(str_of(missing.items()[0], "transaction_id") == "txn_ours");
  CHECK(str_of(missing.items()[0], "our_state") == "voided");

  const Value& unknown = member(v, "unknown_locally");
  REQUIRE(unknown.is_array());
  REQUIRE(unknown.items().size() == 1);
  CHECK(str_of(unknown.items()[0], "transaction_id") == "txn_theirs");
  CHECK(str_of(unknown.items()[0], "provider_state") == "authorized");

  // Nothing mentions the transaction unknown to both sides, nor the agreeing one.
  const std::string text = pay::reconciliation_json(items);
  CHECK_FALSE(contains(text, "txn_none"));
  CHECK_FALSE(contains(text, "txn_same"));

  Value empty = parse_json(pay::reconciliation_json({}));
  CHECK(member(empty, "mismatches").items().empty());
  CHECK(member(empty, "missing_at_provider").items().empty());
  CHECK(member(empty, "unknown_locally").items().empty());
}

TEST_CASE("outcome_answer: the success body, or PAYMENT_ERROR naming the operation and the reason") {
  auto ok = pay::outcome_answer(pay::Op::capture, pay::ProviderOutcome{true, "cap_9", ""});
  REQUIRE(ok);
  CHECK(*ok == pay::success_json("cap_9"));
  auto no = pay::outcome_answer(pay::Op::refund, pay::ProviderOutcome{false, "", "insufficient funds"});
  REQUIRE_FALSE(no);
  CHECK(no.error().code == orch::Code::payment_error);
  CHECK(no.error().message == "payment back-end refused the refund: insufficient funds");
}
