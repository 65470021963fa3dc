// Checkout execute (api.md 4, 9; seed-reference 3.6, 6, 8, 16 #26 #27 #29
// #34 #50 #52, 17.1-3..7) against the demo flower shop: bouquet_roses 3500,
// pot_ceramic 1500, demo tax 10%. Roses x2: subtotal 7000, tax 700, total 7700.
//
// The demo payment back-end writes one line per call to
// DATA_DIR/demo-payment-ledger.jsonl; the tests read it to see which calls
// reached the back-end and whether any had a second effect.
#include <algorithm>
#include <latch>
#include <map>
#include <set>
#include <thread>

#include "harness.hpp"

using namespace bb;

namespace {

const std::string token_a = "checkout-token-of-tenant-a-0123";
const std::string token_b = "checkout-token-of-tenant-b-4567";
const std::vector<std::string> all_scopes = {"cart:write", "checkout:execute", "payments:write"};
// A request that hangs fails after this (instead of the default 30 s), which
// keeps the suite short; a checkout takes milliseconds.
const std::string short_timeout_ms = "10000";

std::string txn_of(const Response& r) { return r["transaction_id"].s().value_or(""); }

bool starts_with(const std::optional<std::string>& s, std::string_view prefix) {
  return s && s->rfind(prefix, 0) == 0 && s->size() > prefix.size();
}

// A 200 completed result for `cart`, with every field of the contract.
void check_completed(const Response& r, const ReadyCart& cart) {
  INFO("checkout: " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["payment_state"].s() == "captured");
  CHECK(starts_with(r["transaction_id"].s(), "txn_"));
  CHECK(starts_with(r["order_id"].s(), "ord_"));
  CHECK(r["payment_reference"].s().value_or("") != "");
  CHECK(r["correlation_id"].s().value_or("") != "");
  CHECK(r["audit_trail_id"].is_null());
  CHECK(r["failure_reason"].is_null());
  CHECK(r["receipt_status"].s() == "issued");
  CHECK(r["receipt_payload"].s().value_or("").find(txn_of(r)) != std::string::npos);
  CHECK(r["totals_breakdown"]["total_minor"].i() == cart.total_minor);
}

// A 200 result that is not completed: no order, no receipt.
void check_not_completed(const Response& r, const std::string& status, const std::string& payment_state) {
  INFO("checkout: " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == status);
  CHECK(r["payment_state"].s() == payment_state);
  CHECK(starts_with(r["transaction_id"].s(), "txn_"));
  CHECK(r["order_id"].is_null());
  CHECK(r["receipt_payload"].is_null());
  CHECK(r["receipt_status"].is_null());
}

// The cart is free again: ready for checkout, no transaction.
void check_released(Api& api, const ReadyCart& cart) {
  auto g = api.get_cart(cart.cart_id);
  INFO("cart: " << g.body);
  REQUIRE(g.status == 200);
  CHECK(g["status"].s() == "checkout_ready");
  CHECK(g["checkout"].is_null());
  CHECK(g.version() == cart.version);
}

void check_checked_out(Api& api, const ReadyCart& cart, const std::string& txn) {
  auto g = api.get_cart(cart.cart_id);
  INFO("cart: " << g.body);
  REQUIRE(g.status == 200);
  CHECK(g["status"].s() == "checked_out");
  CHECK(g["checkout"].s() == txn);
  CHECK(g.version() == cart.version);
}

// A refused checkout: the code, and nothing reached the payment back-end.
void check_refused(const Response& r, int status, const std::string& code) {
  INFO("checkout: " << r.status << " " << r.body);
  CHECK(r.status == status);
  CHECK(r.code() == code);
}

std::string ledger_path(const ServerProcess& s) { return s.data_dir() + "/demo-payment-ledger.jsonl"; }

}  // namespace

TEST_SUITE("checkout") {

TEST_CASE("happy path: roses x2 completes; cart, order and payment agree") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  CHECK(cart.version == 3);
  CHECK(cart.total_minor == 7700);
  auto before = api.get_cart(cart.cart_id);
  REQUIRE(before.status == 200);

  auto req = cart.request("happy-1");
  req.country = "US";
  req.email = "jane@example.com";
  auto r = api.checkout(req);
  check_completed(r, cart);
  const auto txn = txn_of(r);
  const auto order_id = r["order_id"].s().value_or("");
  J t = r["totals_breakdown"];
  CHECK(t["subtotal_minor"].i() == 7000);
  CHECK(t["tax_minor"].i() == 700);
  CHECK(t["discount_minor"].i() == 0);
  CHECK(t["total_minor"].i() == 7700);
  for (const char* k : {"subtotal_minor", "tax_minor", "discount_minor", "total_minor"}) {
    INFO(k);
    CHECK(t[k].i() == before[k].i());
  }

  check_checked_out(api, cart, txn);
  // A checked-out cart is closed for changes (api.md 3).
  auto closed = api.add_item(cart.cart_id, "pot_ceramic", 1);
  CHECK(closed.status == 409);
  CHECK(closed.code() == "CART_CLOSED");

  auto o = api.get_order(order_id);
  INFO("order: " << o.body);
  REQUIRE(o.status == 200);
  CHECK(o["order_id"].s() == order_id);
  CHECK(o["transaction_id"].s() == txn);
  CHECK(o["cart_id"].s() == cart.cart_id);
  CHECK(o["status"].s() == "created");
  REQUIRE(o["items"].size() == std::size_t{1});
  CHECK(o["items"][0]["item_id"].s() == "bouquet_roses");
  CHECK(o["items"][0]["quantity"].i() == 2);
  CHECK(o["items"][0]["unit_price_minor"].i() == 3500);
  CHECK(o["items"][0]["total_minor"].i() == 7000);
  CHECK(o["totals"]["subtotal_minor"].i() == 7000);
  CHECK(o["totals"]["tax_minor"].i() == 700);
  CHECK(o["totals"]["total_minor"].i() == 7700);
  CHECK(o["receipt_payload"].s() == r["receipt_payload"].s());

  auto p = api.get_payment(txn);
  INFO("payment: " << p.body);
  REQUIRE(p.status == 200);
  CHECK(p["state"].s() == "captured");
  CHECK(p["authorized_minor"].i() == 7700);
  CHECK(p["captured_minor"].i() == 7700);
  CHECK(p["refunded_minor"].i() == 0);
  CHECK(p["pending_operation"].is_null());
  REQUIRE(p["history"].size() >= std::size_t{2});
  std::vector<std::string> types;
  for (std::size_t i = 0; i < p["history"].size().value_or(0); ++i)
    types.push_back(p["history"][i]["type"].s().value_or(""));
  CHECK(std::count(types.begin(), types.end(), "authorized") == 1);
  CHECK(std::count(types.begin(), types.end(), "captured") == 1);

  // The back-end saw one authorization and one capture, with the saga's keys.
  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(ledger.size() == 2);
  CHECK(count_effects(ledger, "authorize", txn) == 1);
  CHECK(count_effects(ledger, "capture", txn) == 1);
  for (const auto& l : ledger) {
    CHECK(l.key == txn + ":" + l.op);
    CHECK(l.amount_minor == 7700);
  }
}

TEST_CASE("the same request again: the identical body, no back-end called, also after a restart (#29, #34)") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto req = cart.request("same-again");
  auto first = api.checkout(req);
  check_completed(first, cart);
  const auto ledger_before = read_file(ledger_path(server));
  const auto effects_before = count_effects(read_ledger(server.data_dir()), "");

  auto again = api.checkout(req);
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
  // The same request in another key order and spacing is the same request.
  std::string reordered = "{ \"idempotency_key\" : \"same-again\", \"payment_intent\": {\"token_or_reference\": "
                          "\"success_token\", \"amount_minor\": 7700},\n \"currency\":\"USD\", \"cart_version\": " +
                          std::to_string(cart.version) + ", \"cart_id\": " + q(cart.cart_id) +
                          ", \"merchant_id\": \"flower_shop\", \"tenant_id\": \"dev\" }";
  auto third = api.checkout_body(reordered);
  CHECK(third.status == 200);
  CHECK(third.body == first.body);

  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(count_effects(ledger, "") == effects_before);
  // api.md 4: a finished key answers from the store, no back-end called.
  CHECK(read_file(ledger_path(server)) == ledger_before);

  CHECK(server.terminate() == 0);
  server.restart();
  REQUIRE(server.wait_ready());
  Api after(server.port());
  auto replayed = after.checkout(req);
  CHECK(replayed.status == 200);
  CHECK(replayed.body == first.body);
  CHECK(after.get_payment(txn_of(first))["state"].s() == "captured");
  CHECK(read_file(ledger_path(server)) == ledger_before);
}

TEST_CASE("#26 the same key in two tenants gives two transactions") {
  TempDir dir;
  write_file(dir.file("tokens.json"), tokens_file_json({{token_a, "ta", "alice", all_scopes},
                                                        {token_b, "tb", "bob", all_scopes}}));
  ServerProcess server(with_env({{"AUTH_TOKENS_FILE", dir.file("tokens.json")}}));
  Api a(server.port(), token_a), b(server.port(), token_b);
  auto ca = a.ready_cart({{"bouquet_roses", 1}});
  auto cb = b.ready_cart({{"pot_ceramic", 2}});
  auto ra_req = ca.request("shared_idem_key");
  ra_req.tenant_id = "ta";
  auto rb_req = cb.request("shared_idem_key");
  rb_req.tenant_id = "tb";
  auto ra = a.checkout(ra_req);
  auto rb = b.checkout(rb_req);
  check_completed(ra, ca);
  check_completed(rb, cb);
  CHECK(txn_of(ra) != txn_of(rb));
  CHECK(ra["totals_breakdown"]["total_minor"].i() == 3850);
  CHECK(rb["totals_breakdown"]["total_minor"].i() == 3300);
  check_checked_out(a, ca, txn_of(ra));
  check_checked_out(b, cb, txn_of(rb));
  // Each tenant's replay is its own.
  CHECK(a.checkout(ra_req).body == ra.body);
  CHECK(b.checkout(rb_req).body == rb.body);
  // Each tenant sees only its own payment and order.
  CHECK(a.get_payment(txn_of(ra)).status == 200);
  CHECK(b.get_payment(txn_of(ra)).status == 404);
  CHECK(a.get_payment(txn_of(rb)).status == 404);
  CHECK(b.get_order(ra["order_id"].s().value_or("x")).status == 404);
  // Tenant b cannot check out tenant a's cart, even with a's key.
  auto cross = ca.request("another-key");
  cross.tenant_id = "tb";
  auto rc = b.checkout(cross);
  CHECK(rc.status == 404);
  CHECK(rc.code() == "NOT_FOUND");
  auto ledger = read_ledger(server.data_dir());
  CHECK(count_effects(ledger, "capture") == 2);
  CHECK(ledger_duplicates(ledger) == "");
}

TEST_CASE("#27 a stale cart_version is 409 CART_VERSION_CONFLICT and does not bind the key") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto stale = cart.request("version-key");
  stale.cart_version = cart.version - 1;
  auto r = api.checkout(stale);
  check_refused(r, 409, "CART_VERSION_CONFLICT");
  CHECK(error_mentions(r, std::to_string(cart.version)));
  CHECK(api.checkout(stale).code() == "CART_VERSION_CONFLICT");  // not stuck, not "in progress"
  auto future = cart.request("version-key");
  future.cart_version = cart.version + 5;
  check_refused(api.checkout(future), 409, "CART_VERSION_CONFLICT");
  CHECK(read_ledger(server.data_dir()).empty());
  check_released(api, cart);
  // api.md 9: the corrected request may reuse the key.
  auto ok = api.checkout(cart.request("version-key"));
  check_completed(ok, cart);
}

TEST_CASE("the same key with a different request is 409 IDEMPOTENCY_KEY_REUSED") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto other = api.ready_cart({{"pot_ceramic", 1}});
  auto first = api.checkout(cart.request("reused-key"));
  check_completed(first, cart);
  const auto ledger_before = read_file(ledger_path(server));

  auto other_amount = cart.request("reused-key");
  other_amount.amount_minor = 7701;
  check_refused(api.checkout(other_amount), 409, "IDEMPOTENCY_KEY_REUSED");
  auto other_cart = other.request("reused-key");
  check_refused(api.checkout(other_cart), 409, "IDEMPOTENCY_KEY_REUSED");
  auto other_token = cart.request("reused-key");
  other_token.token = "another_token";
  check_refused(api.checkout(other_token), 409, "IDEMPOTENCY_KEY_REUSED");
  auto with_location = cart.request("reused-key");
  with_location.country = "US";
  check_refused(api.checkout(with_location), 409, "IDEMPOTENCY_KEY_REUSED");

  CHECK(read_file(ledger_path(server)) == ledger_before);
  check_released(api, other);  // the other cart was not touched
  // The original still replays.
  CHECK(api.checkout(cart.request("reused-key")).body == first.body);
  // The same key in another merchant is another key (scope: tenant, merchant, key).
  auto elsewhere = other.request("reused-key");
  elsewhere.merchant_id = "other_shop";
  check_refused(api.checkout(elsewhere), 422, "VALIDATION_ERROR");  // merchant does not match the cart
}

TEST_CASE("cart checks: 404, CART_NOT_READY, CART_EMPTY, AMOUNT_MISMATCH, currency and merchant; none binds the key") {
  ServerProcess server;
  Api api(server.port());

  SUBCASE("unknown cart is 404 NOT_FOUND") {
    CheckoutRequest r;
    r.cart_id = random_uuid();
    r.cart_version = 3;
    r.amount_minor = 7700;
    r.idempotency_key = "k-unknown";
    auto res = api.checkout(r);
    check_refused(res, 404, "NOT_FOUND");
    CHECK(api.checkout(r).code() == "NOT_FOUND");
  }
  SUBCASE("a draft cart is 409 CART_NOT_READY; after start_checkout the same key works") {
    auto id = api.new_cart();
    auto added = api.add_item(id, "bouquet_roses", 2);
    REQUIRE(added.status == 200);
    CheckoutRequest r;
    r.cart_id = id;
    r.cart_version = 2;
    r.amount_minor = 7700;
    r.idempotency_key = "k-draft";
    auto res = api.checkout(r);
    check_refused(res, 409, "CART_NOT_READY");
    CHECK(error_mentions(res, "start_checkout"));
    // A ready cart that was changed afterwards is a draft again.
    auto ready = api.start_checkout(id, 2);
    REQUIRE(ready.status == 200);
    auto changed = api.add_item(id, "pot_ceramic", 1);
    REQUIRE(changed.status == 200);
    CHECK(changed["status"].s() == "draft");
    r.cart_version = changed.version().value_or(0);
    r.amount_minor = changed["total_minor"].i().value_or(0);
    check_refused(api.checkout(r), 409, "CART_NOT_READY");
    auto again = api.start_checkout(id, *changed.version());
    REQUIRE(again.status == 200);
    r.cart_version = again.version().value_or(0);
    ReadyCart rc{id, r.cart_version, r.amount_minor, again.body};
    check_completed(api.checkout(r), rc);
  }
  SUBCASE("an empty cart is 422 CART_EMPTY") {
    auto id = api.new_cart();
    auto ready = api.start_checkout(id, 1);
    REQUIRE(ready.status == 200);
    REQUIRE(ready["status"].s() == "checkout_ready");
    CheckoutRequest r;
    r.cart_id = id;
    r.cart_version = ready.version().value_or(0);
    r.amount_minor = 0;
    r.idempotency_key = "k-empty";
    check_refused(api.checkout(r), 422, "CART_EMPTY");
    check_refused(api.checkout(r), 422, "CART_EMPTY");
  }
  SUBCASE("an amount other than the cart total is 422 AMOUNT_MISMATCH; the corrected request reuses the key") {
    auto cart = api.ready_cart({{"bouquet_roses", 2}});
    for (std::int64_t amount : {std::int64_t{7699}, std::int64_t{7701}, std::int64_t{0}, std::int64_t{7000}}) {
      CAPTURE(amount);
      auto r = cart.request("k-amount");
      r.amount_minor = amount;
      auto res = api.checkout(r);
      check_refused(res, 422, "AMOUNT_MISMATCH");
      CHECK(error_mentions(res, "7700"));
    }
    check_released(api, cart);
    check_completed(api.checkout(cart.request("k-amount")), cart);
  }
  SUBCASE("currency or merchant other than the cart's is 422 VALIDATION_ERROR") {
    auto cart = api.ready_cart({{"bouquet_roses", 2}});
    auto r = cart.request("k-currency");
    r.currency = "EUR";
    auto res = api.checkout(r);
    check_refused(res, 422, "VALIDATION_ERROR");
    CHECK(error_mentions(res, "currency"));
    auto m = cart.request("k-currency");
    m.merchant_id = "another_shop";
    auto mres = api.checkout(m);
    check_refused(mres, 422, "VALIDATION_ERROR");
    CHECK(error_mentions(mres, "merchant"));
    check_released(api, cart);
    check_completed(api.checkout(cart.request("k-currency")), cart);
  }
  CHECK(count_effects(read_ledger(server.data_dir()), "capture") <= 1);
  CHECK(ledger_duplicates(read_ledger(server.data_dir())) == "");
}

TEST_CASE("a body tenant other than the caller's is 403 AUTHZ_ERROR, not 404 (#50, #52)") {
  ServerProcess server;
  Api api(server.port());
  CheckoutRequest ghost;
  ghost.tenant_id = "t";
  ghost.cart_id = "00000000-0000-0000-0000-000000000001";
  ghost.cart_version = 1;
  ghost.amount_minor = 100;
  ghost.idempotency_key = "k-tenant";
  auto r = api.checkout(ghost);
  check_refused(r, 403, "AUTHZ_ERROR");
  CHECK(error_mentions(r, "tenant"));

  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto other = cart.request("k-tenant");
  other.tenant_id = "t";
  check_refused(api.checkout(other), 403, "AUTHZ_ERROR");
  CHECK(read_ledger(server.data_dir()).empty());
  check_released(api, cart);
  check_completed(api.checkout(cart.request("k-tenant")), cart);
}

TEST_CASE("validation: every problem in one 400 VALIDATION_ERROR; wrong shapes are 422 INVALID_BODY") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});

  auto bad = cart.request("");
  bad.token = "";
  bad.amount_minor = -5;
  auto r = api.checkout(bad);
  INFO(r.body);
  CHECK(r.status == 400);
  CHECK(r.code() == "VALIDATION_ERROR");
  for (const char* field : {"token_or_reference", "amount", "idempotency_key"}) {
    INFO(field);
    CHECK(error_mentions(r, field));
  }
  REQUIRE(r["details"].is_array());
  CHECK(r["details"].size() == std::size_t{3});

  auto bad2 = cart.request("k-valid");
  bad2.currency = "usd";
  bad2.cart_version = 0;
  bad2.merchant_id = "";
  auto r2 = api.checkout(bad2);
  CHECK(r2.status == 400);
  CHECK(r2.code() == "VALIDATION_ERROR");
  for (const char* field : {"merchant_id", "currency", "cart_version"}) {
    INFO(field);
    CHECK(error_mentions(r2, field));
  }

  // A missing idempotency_key is a body of the wrong shape (api.md 1).
  std::string missing_key = R"({"tenant_id":"dev","merchant_id":"flower_shop","cart_id":)" + q(cart.cart_id) +
                            R"(,"cart_version":3,"currency":"USD","payment_intent":{"amount_minor":7700,)"
                            R"("token_or_reference":"success_token"}})";
  auto r3 = api.checkout_body(missing_key);
  CHECK(r3.status == 422);
  CHECK(r3.code() == "INVALID_BODY");
  CHECK(error_mentions(r3, "idempotency_key"));
  // A cart_id that is not a UUID (reference 6.1 step 2).
  auto not_uuid = cart.request("k-valid");
  not_uuid.cart_id = "not-a-uuid";
  auto r4 = api.checkout(not_uuid);
  CHECK(r4.status == 400);
  CHECK(r4.code() == "BAD_REQUEST");

  CHECK(read_ledger(server.data_dir()).empty());
  check_released(api, cart);
  check_completed(api.checkout(cart.request("k-valid")), cart);
}

TEST_CASE("a checked-out cart with a new key is 409 CART_ALREADY_CHECKED_OUT naming the transaction; never charged twice (17.1-5)") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto first = api.checkout(cart.request("first-key"));
  check_completed(first, cart);
  const auto txn = txn_of(first);

  for (const char* key : {"second-key", "third-key"}) {
    auto r = api.checkout(cart.request(key));
    check_refused(r, 409, "CART_ALREADY_CHECKED_OUT");
    CHECK(error_mentions(r, txn));
  }
  auto stale = cart.request("fourth-key");
  stale.cart_version = 1;
  CHECK(api.checkout(stale).status == 409);

  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(count_effects(ledger, "authorize") == 1);
  CHECK(count_effects(ledger, "capture") == 1);
  CHECK(count_effects(ledger, "capture", txn) == 1);
  check_checked_out(api, cart, txn);
  CHECK(api.get_payment(txn)["captured_minor"].i() == 7700);
}

TEST_CASE("declined tokens: 200 auth_failed; the cart is released and can be checked out again") {
  ServerProcess server(with_env({{"REQUEST_TIMEOUT_MS", short_timeout_ms}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  std::set<std::string> txns;
  for (const char* token : {"fail_token", "fraud_token"}) {
    CAPTURE(token);
    auto req = cart.request(std::string("declined-") + token);
    req.token = token;
    auto r = api.checkout(req);
    check_not_completed(r, "auth_failed", "failed");
    CHECK(r["totals_breakdown"]["total_minor"].i() == 7700);
    txns.insert(txn_of(r));
    check_released(api, cart);
    // Not stuck: the retry is the same terminal answer.
    auto again = api.checkout(req);
    CHECK(again.status == 200);
    CHECK(again.body == r.body);
    auto p = api.get_payment(txn_of(r));
    CHECK(p.status == 200);
    CHECK(p["state"].s() == "failed");
    CHECK(p["captured_minor"].i() == 0);
  }
  CHECK(txns.size() == 2);
  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(count_effects(ledger, "authorize") == 2);
  CHECK(count_effects(ledger, "capture") == 0);
  for (const auto& l : ledger) CHECK(l.outcome == "declined");

  auto ok = api.checkout(cart.request("after-decline"));
  check_completed(ok, cart);
  CHECK(txns.count(txn_of(ok)) == 0);
  check_checked_out(api, cart, txn_of(ok));
}

TEST_CASE("policy: POLICY_MAX_TOTAL_MINOR rejects with the limit in audit_trail_id and calls no back-end") {
  ServerProcess server(with_env({{"POLICY_MAX_TOTAL_MINOR", "5000"}}));
  Api api(server.port());
  auto big = api.ready_cart({{"bouquet_roses", 2}});
  auto req = big.request("policy-max");
  auto r = api.checkout(req);
  check_not_completed(r, "rejected", "failed");
  auto audit = r["audit_trail_id"].s().value_or("");
  CHECK(audit.find("5000") != std::string::npos);
  CHECK(audit.find("7700") != std::string::npos);
  CHECK(r["payment_reference"].is_null());
  CHECK(read_ledger(server.data_dir()).empty());
  check_released(api, big);
  auto again = api.checkout(req);
  CHECK(again.status == 200);
  CHECK(again.body == r.body);

  auto small = api.ready_cart({{"pot_ceramic", 1}});  // 1650
  check_completed(api.checkout(small.request("policy-small")), small);
  CHECK(read_ledger(server.data_dir()).size() == 2);
}

TEST_CASE("policy and geo: a blocked country and geo ZZ are rejected; the same key replays the rejection") {
  ServerProcess server(with_env({{"POLICY_BLOCKED_COUNTRIES", "FR, DE"}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});

  for (std::string cc : {"DE", "de", "ZZ"}) {
    CAPTURE(cc);
    auto req = cart.request("geo-" + cc);
    req.country = cc;
    auto r = api.checkout(req);
    check_not_completed(r, "rejected", "failed");
    CHECK(r["audit_trail_id"].s().value_or("").find(cc) != std::string::npos);
    auto again = api.checkout(req);
    CHECK(again.status == 200);
    CHECK(again.body == r.body);
    check_released(api, cart);
  }
  CHECK(read_ledger(server.data_dir()).empty());

  auto us = cart.request("geo-US");
  us.country = "US";
  check_completed(api.checkout(us), cart);
}

TEST_CASE("capture fails: 200 failed, authorization voided, never completed without the money (17.1-6)") {
  ServerProcess server(with_env({{"DEMO_FAULTS", "payment.capture#*=fail"}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto req = cart.request("capture-fails");
  auto r = api.checkout(req);
  check_not_completed(r, "failed", "voided");
  CHECK(r["failure_reason"].s().value_or("") != "");
  const auto txn = txn_of(r);

  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(count_effects(ledger, "authorize", txn) == 1);
  CHECK(count_effects(ledger, "capture") == 0);
  CHECK(count_effects(ledger, "void", txn) == 1);
  for (const auto& l : ledger)
    if (l.op == "void") CHECK(l.outcome == "voided");
  CHECK(ledger_duplicates(ledger) == "");

  auto p = api.get_payment(txn);
  INFO("payment: " << p.body);
  CHECK(p["state"].s() == "voided");
  CHECK(p["captured_minor"].i() == 0);
  CHECK(p["pending_operation"].is_null());
  check_released(api, cart);

  auto again = api.checkout(req);
  CHECK(again.status == 200);
  CHECK(again.body == r.body);
  CHECK(read_ledger(server.data_dir()).size() == ledger.size());
  // Released for real: a new key starts a new checkout (which fails the same way).
  auto next = api.checkout(cart.request("capture-fails-2"));
  check_not_completed(next, "failed", "voided");
  CHECK(txn_of(next) != txn);
}

TEST_CASE("receipt fails: 200 completed and captured, receipt pending (17.1-7)") {
  ServerProcess server(with_env({{"DEMO_FAULTS", "receipt.generate#*=fail"}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto req = cart.request("receipt-fails");
  auto r = api.checkout(req);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["payment_state"].s() == "captured");
  CHECK(r["receipt_payload"].is_null());
  CHECK(r["receipt_status"].s() == "pending");
  CHECK(starts_with(r["order_id"].s(), "ord_"));
  check_checked_out(api, cart, txn_of(r));
  auto o = api.get_order(r["order_id"].s().value_or("x"));
  CHECK(o.status == 200);
  CHECK(o["receipt_payload"].is_null());
  CHECK(api.get_payment(txn_of(r))["state"].s() == "captured");
  auto again = api.checkout(req);
  CHECK(again.status == 200);
  CHECK(again.body == r.body);
  auto ledger = read_ledger(server.data_dir());
  CHECK(count_effects(ledger, "capture") == 1);
  CHECK(count_effects(ledger, "void") == 0);
}

TEST_CASE("authorize without an answer (lost or failed): 200 failed, the authorization voided, never dangling") {
  for (std::string action : {"lose", "fail"}) {
    CAPTURE(action);
    ServerProcess server(with_env({{"DEMO_FAULTS", "payment.authorize#1=" + action}}));
    Api api(server.port());
    auto cart = api.ready_cart({{"bouquet_roses", 2}});
    auto req = cart.request("auth-" + action);
    auto r = api.checkout(req);
    check_not_completed(r, "failed", "voided");
    const auto txn = txn_of(r);
    auto ledger = read_ledger(server.data_dir());
    INFO("ledger:\n" << ledger_text(ledger));
    CHECK(count_effects(ledger, "authorize", txn) == (action == "lose" ? 1u : 0u));
    CHECK(count_effects(ledger, "capture") == 0);
    CHECK(count_effects(ledger, "void", txn) == 1);
    auto p = api.get_payment(txn);
    INFO("payment: " << p.body);
    CHECK(p["state"].s() == "voided");
    CHECK(p["pending_operation"].is_null());
    check_released(api, cart);
    auto again = api.checkout(req);
    CHECK(again.status == 200);
    CHECK(again.body == r.body);
    // The second authorization has no fault.
    auto ok = api.checkout(cart.request("auth-" + action + "-2"));
    check_completed(ok, cart);
    CHECK(ledger_duplicates(read_ledger(server.data_dir())) == "");
  }
}

TEST_CASE("a completed checkout leaves outbox rows order.created, payment.captured, receipt.requested") {
  ServerProcess server(with_env({{"REQUEST_TIMEOUT_MS", short_timeout_ms}}));
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto r = api.checkout(cart.request("outbox-1"));
  check_completed(r, cart);
  const auto txn = txn_of(r);
  const auto order_id = r["order_id"].s().value_or("");
  // A declined checkout writes none.
  auto declined_cart = api.ready_cart({{"pot_ceramic", 1}});
  auto d = declined_cart.request("outbox-declined");
  d.token = "fail_token";
  check_not_completed(api.checkout(d), "auth_failed", "failed");

  // Read with orchestrator-replay while the server runs; a row the outbox
  // supervisor has delivered meanwhile is found in deliveries.jsonl.
  auto messages = outbox_messages(server.data_dir());
  std::multiset<std::string> topics;
  for (const auto& [id, m] : messages) {
    INFO("message " << id << " (" << m.where << "): " << m.payload);
    auto payload = orch::json::parse(m.payload);
    REQUIRE_MESSAGE(payload.ok(), "outbox payload is not a JSON document");
    J p(&*payload);
    CHECK(id.rfind("msg_", 0) == 0);
    CHECK(p["id"].s() == id);
    CHECK(p["tenant_id"].s() == "dev");
    CHECK(p["topic"].s() == m.topic);
    CHECK(m.tenant_id == "dev");
    CHECK(m.correlation_id == r["correlation_id"].s());
    CHECK(p["data"]["transaction_id"].s() == txn);
    if (m.topic == "order.created") CHECK(p["data"]["order_id"].s() == order_id);
    topics.insert(m.topic);
  }
  CHECK(messages.size() == 3);
  CHECK(topics == std::multiset<std::string>{"order.created", "payment.captured", "receipt.requested"});
}

// ------------------------------------------------------------ concurrency

TEST_CASE("32 identical checkouts at once: one transaction, one charge, 32 identical bodies") {
  ServerProcess server;
  Api api(server.port());
  // The race is short: several rounds, each a fresh cart and key.
  const int rounds = 32, n = 32;
  std::set<std::string> all_txns;
  for (int round = 0; round < rounds; ++round) {
    CAPTURE(round);
    auto cart = api.ready_cart({{"bouquet_roses", 2}});
    const std::string body = cart.request("same-32-" + std::to_string(round)).json();
    std::vector<int> status(n, 0);
    std::vector<std::string> bodies(n);
    std::latch go(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        Api mine(server.port());
        go.arrive_and_wait();
        auto r = mine.checkout_body(body);
        status[i] = r.status;
        bodies[i] = r.body;
      });
    for (auto& t : threads) t.join();
    // api.md 4: a request whose twin is still running waits for its answer.
    int reference = 0;
    while (reference + 1 < n && status[reference] != 200) ++reference;
    for (int i = 0; i < n; ++i) {
      INFO("thread " << i << ": " << bodies[i]);
      CHECK(status[i] == 200);
      if (status[i] == 200) CHECK(bodies[i] == bodies[reference]);
    }
    auto doc = orch::json::parse(bodies[reference]);
    REQUIRE(doc.ok());
    J first(&*doc);
    CHECK(first["status"].s() == "completed");
    const auto txn = first["transaction_id"].s().value_or("");
    all_txns.insert(txn);
    check_checked_out(api, cart, txn);
    auto ledger = read_ledger(server.data_dir());
    INFO("ledger:\n" << ledger_text(ledger));
    CHECK(count_effects(ledger, "authorize", txn) == 1);
    CHECK(count_effects(ledger, "capture", txn) == 1);
    CHECK(ledger_duplicates(ledger) == "");
  }
  CHECK(all_txns.size() == static_cast<std::size_t>(rounds));
  auto ledger = read_ledger(server.data_dir());
  CHECK(count_effects(ledger, "authorize") == static_cast<std::size_t>(rounds));
  CHECK(count_effects(ledger, "capture") == static_cast<std::size_t>(rounds));
  auto streams = run_replay(server.data_dir(), {"streams", "--kind", "checkout"});
  CHECK(std::count(streams.out.begin(), streams.out.end(), '\n') == rounds);
}

TEST_CASE("16 carts checked out in parallel by 16 threads: 16 distinct completed transactions") {
  ServerProcess server;
  Api api(server.port());
  const int n = 16;
  std::vector<ReadyCart> carts;
  for (int i = 0; i < n; ++i) carts.push_back(api.ready_cart({{"bouquet_roses", 1 + i % 3}, {"pot_ceramic", 1}}));
  std::vector<Response> results(n);
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      Api mine(server.port());
      go.arrive_and_wait();
      results[i] = mine.checkout(carts[i].request("parallel-" + std::to_string(i)));
    });
  for (auto& t : threads) t.join();
  std::set<std::string> txns;
  for (int i = 0; i < n; ++i) {
    CAPTURE(i);
    check_completed(results[i], carts[i]);
    txns.insert(txn_of(results[i]));
    check_checked_out(api, carts[i], txn_of(results[i]));
  }
  CHECK(txns.size() == static_cast<std::size_t>(n));
  auto ledger = read_ledger(server.data_dir());
  CHECK(count_effects(ledger, "authorize") == static_cast<std::size_t>(n));
  CHECK(count_effects(ledger, "capture") == static_cast<std::size_t>(n));
  CHECK(ledger_duplicates(ledger) == "");
}

TEST_CASE("concurrent captures and refunds: refunded never exceeds captured") {
  ServerProcess server;
  Api api(server.port());
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  auto r = api.checkout(cart.request("refund-race"));
  check_completed(r, cart);
  const auto txn = txn_of(r);
  const int refunds = 20, captures = 4, n = refunds + captures;
  std::vector<Response> results(n);
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      Api mine(server.port());
      go.arrive_and_wait();
      if (i < refunds)
        results[i] = mine.payment("refund", txn, 1000, "race-refund-" + std::to_string(i));
      else
        results[i] = mine.payment("capture", txn, 7700, "race-capture-" + std::to_string(i));
    });
  for (auto& t : threads) t.join();
  int ok = 0, exceeded = 0;
  for (int i = 0; i < refunds; ++i) {
    INFO("refund " << i << ": " << results[i].status << " " << results[i].body);
    if (results[i].status == 200) {
      ++ok;
      CHECK(results[i]["success"].b() == true);
    } else {
      ++exceeded;
      CHECK(results[i].status == 422);
      CHECK(results[i].code() == "REFUND_EXCEEDS_CAPTURED");
    }
  }
  CHECK(ok == 7);
  CHECK(exceeded == 13);
  for (int i = refunds; i < n; ++i) {
    INFO("capture " << i << ": " << results[i].body);
    CHECK(results[i].status == 200);
    CHECK(results[i]["success"].b() == true);
  }
  auto p = api.get_payment(txn);
  INFO("payment: " << p.body);
  CHECK(p["captured_minor"].i() == 7700);
  CHECK(p["refunded_minor"].i() == 7000);
  CHECK(p["state"].s() == "partially_refunded");
  CHECK(p["pending_operation"].is_null());
  auto ledger = read_ledger(server.data_dir());
  INFO("ledger:\n" << ledger_text(ledger));
  CHECK(count_effects(ledger, "refund", txn) == 7);
  CHECK(count_effects(ledger, "capture", txn) == 1);
  CHECK(ledger_duplicates(ledger) == "");
  std::int64_t refunded = 0;
  for (const auto& l : ledger)
    if (l.op == "refund" && l.effect() && l.outcome == "refunded") refunded += l.amount_minor;
  CHECK(refunded == 7000);
}

}  // TEST_SUITE
