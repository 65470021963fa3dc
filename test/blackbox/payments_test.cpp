// Payment lifecycle after checkout (api.md 5, 9; seed-reference 3.9, 3.14, 7,
// 16 #28 #30 #31 #35, 17.2-18..20): capture, void, refund with a state
// machine, amounts, idempotency per (tenant, key), tenancy; reconciliation.
// A checkout of roses x2 captures 7700.
#include <algorithm>
#include <set>

#include "harness.hpp"

using namespace bb;

namespace {

const std::string token_a = "payments-token-of-tenant-a-0123";
const std::string token_b = "payments-token-of-tenant-b-4567";
const std::vector<std::string> all_scopes = {"cart:write", "checkout:execute", "payments:write"};

// Checks out roses x2 (7700) and returns the transaction id.
std::string paid_transaction(Api& api, const std::string& key, const std::string& tenant = "dev") {
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto req = cart.request(key);
  req.tenant_id = tenant;
  auto r = api.checkout(req);
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  REQUIRE(r["status"].s() == "completed");
  REQUIRE(r["payment_state"].s() == "captured");
  return r["transaction_id"].s().value_or("");
}

void check_success(const Response& r) {
  INFO(r.status << " " << r.body);
  CHECK(r.status == 200);
  CHECK(r["success"].b() == true);
  CHECK(r["reference"].s().value_or("") != "");
}

void check_error(const Response& r, int status, const std::string& code) {
  INFO(r.status << " " << r.body);
  CHECK(r.status == status);
  CHECK(r.code() == code);
}

void check_payment(Api& api, const std::string& txn, const std::string& state, std::int64_t captured,
                   std::int64_t refunded) {
  auto p = api.get_payment(txn);
  INFO("payment: " << p.body);
  REQUIRE(p.status == 200);
  CHECK(p["transaction_id"].s() == txn);
  CHECK(p["state"].s() == state);
  CHECK(p["authorized_minor"].i() == 7700);
  CHECK(p["captured_minor"].i() == captured);
  CHECK(p["refunded_minor"].i() == refunded);
  CHECK(p["pending_operation"].is_null());
  CHECK(p["history"].is_array());
}

std::size_t history_count(const Response& p, const std::string& type) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < p["history"].size().value_or(0); ++i)
    if (p["history"][i]["type"].s() == type) ++n;
  return n;
}

}  // namespace

TEST_SUITE("payments") {

TEST_CASE("#28 #30 capture after checkout succeeds; twice with the same key, the same answer and no back-end effect") {
  ServerProcess server;
  Api api(server.port());
  auto txn = paid_transaction(api, "pay-capture");
  const auto effects = count_effects(read_ledger(server.data_dir()), "");

  auto c1 = api.payment("capture", txn, 7700, "cap_idem_key");
  check_success(c1);
  auto c2 = api.payment("capture", txn, 7700, "cap_idem_key");
  check_success(c2);
  CHECK(c2.body == c1.body);
  // Another key: still the idempotent success of an already captured transaction.
  check_success(api.payment("capture", txn, 7700, "cap_other_key"));

  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(count_effects(ledger, "") == effects);
  CHECK(count_effects(ledger, "capture", txn) == 1);
  check_payment(api, txn, "captured", 7700, 0);
  auto p = api.get_payment(txn);
  CHECK(history_count(p, "captured") == 1);
}

TEST_CASE("#35 refund of the full total: refunded, and still refunded after a restart") {
  ServerProcess server;
  Api api(server.port());
  auto txn = paid_transaction(api, "pay-refund-full");
  auto r = api.payment("refund", txn, 7700, "refund-full");
  check_success(r);
  check_payment(api, txn, "refunded", 7700, 7700);
  auto before = api.get_payment(txn);
  CHECK(history_count(before, "refunded") == 1);
  auto ledger = read_ledger(server.data_dir());
  CHECK(count_effects(ledger, "refund", txn) == 1);
  // The same refund again is the stored answer.
  CHECK(api.payment("refund", txn, 7700, "refund-full").body == r.body);
  CHECK(count_effects(read_ledger(server.data_dir()), "refund", txn) == 1);

  CHECK(server.terminate() == 0);
  server.restart();
  REQUIRE(server.wait_ready());
  Api after(server.port());
  auto p = after.get_payment(txn);
  CHECK(p.status == 200);
  CHECK(p.body == before.body);
  check_payment(after, txn, "refunded", 7700, 7700);
  // The key survives the restart too, and nothing is refunded twice.
  CHECK(after.payment("refund", txn, 7700, "refund-full").body == r.body);
  check_error(after.payment("refund", txn, 1, "refund-more"), 422, "REFUND_EXCEEDS_CAPTURED");
  CHECK(count_effects(read_ledger(server.data_dir()), "refund", txn) == 1);
}

TEST_CASE("partial refunds: partially_refunded, then refunded; beyond is 422 REFUND_EXCEEDS_CAPTURED") {
  ServerProcess server;
  Api api(server.port());
  auto txn = paid_transaction(api, "pay-partial");

  check_error(api.payment("refund", txn, 7701, "too-much"), 422, "REFUND_EXCEEDS_CAPTURED");
  check_payment(api, txn, "captured", 7700, 0);

  check_success(api.payment("refund", txn, 3000, "part-1"));
  check_payment(api, txn, "partially_refunded", 7700, 3000);
  check_success(api.payment("refund", txn, 2000, "part-2"));
  check_payment(api, txn, "partially_refunded", 7700, 5000);
  auto over = api.payment("refund", txn, 2701, "part-3");
  check_error(over, 422, "REFUND_EXCEEDS_CAPTURED");
  CHECK(error_mentions(over, "2700"));
  // The refused refund did not bind its key: the corrected amount may use it.
  check_success(api.payment("refund", txn, 2700, "part-3"));
  check_payment(api, txn, "refunded", 7700, 7700);
  check_error(api.payment("refund", txn, 1, "part-4"), 422, "REFUND_EXCEEDS_CAPTURED");

  auto p = api.get_payment(txn);
  CHECK(history_count(p, "refunded") == 3);
  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(count_effects(ledger, "refund", txn) == 3);
  std::int64_t sum = 0;
  for (const auto& l : ledger)
    if (l.op == "refund" && l.effect()) sum += l.amount_minor;
  CHECK(sum == 7700);
  CHECK(ledger_duplicates(ledger) == "");
}

TEST_CASE("illegal moves are 409 INVALID_PAYMENT_TRANSITION; bad amounts are 400") {
  ServerProcess server;
  Api api(server.port());
  auto txn = paid_transaction(api, "pay-illegal");
  auto v = api.payment("void", txn, 7700, "void-captured");
  check_error(v, 409, "INVALID_PAYMENT_TRANSITION");
  CHECK(error_mentions(v, "captured"));
  check_payment(api, txn, "captured", 7700, 0);

  check_error(api.payment("refund", txn, 0, "refund-zero"), 400, "VALIDATION_ERROR");
  check_error(api.payment("refund", txn, -100, "refund-negative"), 400, "VALIDATION_ERROR");

  // A fully refunded transaction cannot be voided either.
  check_success(api.payment("refund", txn, 7700, "refund-all"));
  check_error(api.payment("void", txn, 7700, "void-refunded"), 409, "INVALID_PAYMENT_TRANSITION");
  check_payment(api, txn, "refunded", 7700, 7700);
  auto ledger = read_ledger(server.data_dir());
  CHECK(count_effects(ledger, "void") == 0);
  CHECK(count_effects(ledger, "capture") == 1);
}

TEST_CASE("a declined transaction can be neither captured, voided nor refunded") {
  // A hanging request fails after 10 s instead of 30 s; a checkout takes milliseconds.
  ServerProcess server(with_env({{"REQUEST_TIMEOUT_MS", "10000"}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"pot_ceramic", 1}});
  auto req = cart.request("pay-declined");
  req.token = "fail_token";
  auto declined = api.checkout(req);
  INFO("checkout: " << declined.status << " " << declined.body);
  REQUIRE(declined["status"].s() == "auth_failed");
  auto dtxn = declined["transaction_id"].s().value_or("");
  check_error(api.payment("capture", dtxn, 1650, "cap-declined"), 409, "INVALID_PAYMENT_TRANSITION");
  check_error(api.payment("void", dtxn, 1650, "void-declined"), 409, "INVALID_PAYMENT_TRANSITION");
  check_error(api.payment("refund", dtxn, 1650, "refund-declined"), 409, "INVALID_PAYMENT_TRANSITION");
  auto p = api.get_payment(dtxn);
  CHECK(p["state"].s() == "failed");
  auto ledger = read_ledger(server.data_dir());
  CHECK(count_effects(ledger, "authorize") == 1);
  CHECK(count_effects(ledger, "capture") + count_effects(ledger, "void") + count_effects(ledger, "refund") == 0);
}

TEST_CASE("a voided transaction (failed checkout): capture and refund are 409, void is an idempotent success") {
  ServerProcess server(with_env({{"DEMO_FAULTS", "payment.capture#*=fail"}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto r = api.checkout(cart.request("pay-voided"));
  REQUIRE(r["status"].s() == "failed");
  REQUIRE(r["payment_state"].s() == "voided");
  auto txn = r["transaction_id"].s().value_or("");
  check_error(api.payment("capture", txn, 7700, "cap-voided"), 409, "INVALID_PAYMENT_TRANSITION");
  check_error(api.payment("refund", txn, 7700, "refund-voided"), 409, "INVALID_PAYMENT_TRANSITION");
  check_success(api.payment("void", txn, 7700, "void-voided"));
  check_payment(api, txn, "voided", 0, 0);
  CHECK(count_effects(read_ledger(server.data_dir()), "void", txn) == 1);
}

TEST_CASE("unknown transactions are 404; a body tenant other than the caller's is 403 AUTHZ_ERROR") {
  ServerProcess server;
  Api api(server.port());
  for (const char* op : {"capture", "void", "refund"}) {
    CAPTURE(op);
    check_error(api.payment(op, "txn_does_not_exist", 100, std::string("k-unknown-") + op), 404, "NOT_FOUND");
  }
  auto g = api.get_payment("txn_does_not_exist");
  check_error(g, 404, "NOT_FOUND");
  check_error(api.get_order("ord_does_not_exist"), 404, "NOT_FOUND");

  auto txn = paid_transaction(api, "pay-tenant");
  for (const char* op : {"capture", "void", "refund"}) {
    CAPTURE(op);
    auto r = api.payment(op, txn, 100, std::string("k-tenant-") + op, "another_tenant");
    check_error(r, 403, "AUTHZ_ERROR");
  }
  check_payment(api, txn, "captured", 7700, 0);
  // The refused requests did not bind the keys.
  check_success(api.payment("refund", txn, 100, "k-tenant-refund"));
  check_payment(api, txn, "partially_refunded", 7700, 100);
}

TEST_CASE("another tenant's transaction is 404, exactly like an unknown one") {
  TempDir dir;
  write_file(dir.file("tokens.json"), tokens_file_json({{token_a, "ta", "alice", all_scopes},
                                                        {token_b, "tb", "bob", all_scopes}}));
  ServerProcess server(with_env({{"AUTH_TOKENS_FILE", dir.file("tokens.json")}}));
  Api a(server.port(), token_a), b(server.port(), token_b);
  auto txn = paid_transaction(a, "pay-cross", "ta");
  auto ghost = b.payment("refund", "txn_does_not_exist", 100, "b-ghost", "tb");
  for (const char* op : {"capture", "void", "refund"}) {
    CAPTURE(op);
    auto r = b.payment(op, txn, 100, std::string("b-") + op, "tb");
    check_error(r, 404, "NOT_FOUND");
    CHECK(r["error"].s() == ghost["error"].s());
  }
  check_error(b.get_payment(txn), 404, "NOT_FOUND");
  // Tenant b cannot name tenant a in the body either.
  check_error(b.payment("refund", txn, 100, "b-as-a", "ta"), 403, "AUTHZ_ERROR");
  // Tenant a's payment is untouched and a's own keys are separate from b's.
  check_payment(a, txn, "captured", 7700, 0);
  check_success(a.payment("refund", txn, 100, "b-refund", "ta"));
  check_payment(a, txn, "partially_refunded", 7700, 100);
  CHECK(count_effects(read_ledger(server.data_dir()), "refund") == 1);
}

TEST_CASE("the same key with another request is 409 IDEMPOTENCY_KEY_REUSED") {
  ServerProcess server;
  Api api(server.port());
  auto txn = paid_transaction(api, "pay-reuse");
  auto first = api.payment("refund", txn, 1000, "refund-key");
  check_success(first);
  check_error(api.payment("refund", txn, 2000, "refund-key"), 409, "IDEMPOTENCY_KEY_REUSED");
  check_error(api.payment("capture", txn, 1000, "refund-key"), 409, "IDEMPOTENCY_KEY_REUSED");
  auto other_txn = paid_transaction(api, "pay-reuse-2");
  check_error(api.payment("refund", other_txn, 1000, "refund-key"), 409, "IDEMPOTENCY_KEY_REUSED");
  // The original request still gets its stored answer, and nothing more was refunded.
  CHECK(api.payment("refund", txn, 1000, "refund-key").body == first.body);
  check_payment(api, txn, "partially_refunded", 7700, 1000);
  check_payment(api, other_txn, "captured", 7700, 0);
  CHECK(count_effects(read_ledger(server.data_dir()), "refund") == 1);
}

TEST_CASE("#31 reconciliation: a completed transaction and an unknown id are not mismatches") {
  ServerProcess server;
  Api api(server.port());
  auto txn = paid_transaction(api, "pay-reconcile");
  auto r = api.reconcile({txn});
  INFO(r.body);
  REQUIRE(r.status == 200);
  for (const char* list : {"mismatches", "missing_at_provider", "unknown_locally"}) {
    INFO(list);
    CHECK(r[list].is_array());
    CHECK(r[list].size() == std::size_t{0});
  }
  // Unknown on both sides: no entry anywhere.
  auto u = api.reconcile({"txn_unknown_everywhere", txn});
  INFO(u.body);
  REQUIRE(u.status == 200);
  CHECK(u["mismatches"].size() == std::size_t{0});
  CHECK(u["missing_at_provider"].size() == std::size_t{0});
  CHECK(u["unknown_locally"].size() == std::size_t{0});
  // Still in sync after a partial refund (states are snake_case on both sides).
  check_success(api.payment("refund", txn, 700, "recon-refund"));
  auto after = api.reconcile({txn});
  CHECK(after["mismatches"].size() == std::size_t{0});
  CHECK(after["missing_at_provider"].size() == std::size_t{0});
  auto empty = api.reconcile({});
  CHECK(empty.status == 200);
  CHECK(empty["mismatches"].size() == std::size_t{0});
}

}  // TEST_SUITE
