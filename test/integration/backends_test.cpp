// The merchant's back-ends over HTTP (api.md 8, 9; seed-reference 12, 16
// #9-#17, 17.2 items 21-25): the server configured with the six *_BASE_URL
// pointing at a FakeShop (a real HTTP server in this test, under a base
// path), so every cart command and checkout crosses the wire.
#include <set>

#include "fake_shop.hpp"

using namespace bb;
using namespace it;

namespace {

const Env production_env = {
    {"ENV", "production"}, {"PUBLIC_BASE_URL", "http://127.0.0.1"}, {"AUTH_BEARER_TOKEN", "integration-prod-token"}};

std::string add_item_body(const std::string& cart, const std::string& item, std::int64_t qty) {
  return R"({"cart_id":)" + q(cart) + R"(,"command":{"kind":"add_item","item_id":)" + q(item) +
         ",\"quantity\":" + std::to_string(qty) + "}}";
}

// A shop selling "rose" (catalog 1200, priced 1150 by pricing) and "tulip" (800).
void stock(FakeShop& shop) {
  shop.add_item("rose", "Fake Rose", 1200);
  shop.set_price("rose", 1150);
  shop.add_item("tulip", "Fake Tulip", 800);
}

// create, add `qty` roses, start_checkout; each must succeed.
ReadyCart ready(Api& api, std::int64_t qty = 2) {
  ReadyCart out;
  out.cart_id = api.new_cart();
  auto a = api.add_item(out.cart_id, "rose", qty);
  INFO("add_item: " << a.body);
  REQUIRE(a.status == 200);
  auto s = api.start_checkout(out.cart_id, a.version().value_or(0));
  INFO("start_checkout: " << s.body);
  REQUIRE(s.status == 200);
  out.version = s.version().value_or(0);
  out.total_minor = s["total_minor"].i().value_or(-1);
  return out;
}

// The one request at `path` (REQUIREd to be exactly one).
Seen only(const FakeShop& shop, const std::string& path) {
  auto r = shop.requests(path);
  INFO("requests at /shop" << path << ": " << r.size());
  REQUIRE(r.size() == 1);
  return r.front();
}

J body_of(const Seen& s, std::shared_ptr<orch::json::Value>& keep) {
  keep = s.json();
  INFO("body of " << s.method << " " << s.target << ": " << s.body);
  REQUIRE(keep != nullptr);
  return J(keep.get());
}

}  // namespace

TEST_SUITE("backends") {

TEST_CASE("a cart and a checkout through the six HTTP back-ends, under a base path") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  Http& http = api.http();

  auto cart = api.new_cart();
  CHECK(shop.http().count() == 0);  // create_cart asks no back-end
  auto add = http.post_json(commands_path, add_item_body(cart, "rose", 2), {{"X-Request-Id", "itest-add-1"}});
  INFO("add_item: " << add.body);
  REQUIRE(add.status == 200);
  REQUIRE(add["lines"].size() == std::size_t{1});
  CHECK(add["lines"][0]["item_id"].s() == "rose");
  CHECK(add["lines"][0]["title"].s() == "Fake Rose");
  CHECK(add["lines"][0]["unit_price_minor"].i() == 1150);  // pricing's answer, not the catalog's
  CHECK(add["lines"][0]["total_minor"].i() == 2300);
  CHECK(add["subtotal_minor"].i() == 2300);
  CHECK(add["tax_minor"].i() == 321);  // the tax back-end's total_tax_minor
  CHECK(add["total_minor"].i() == 2621);

  {
    auto item = only(shop, "/items/rose");
    CHECK(item.method == "GET");
    CHECK(item.header("X-Request-Id") == "itest-add-1");
    auto prices = only(shop, "/prices/resolve");
    CHECK(prices.method == "POST");
    CHECK(prices.header("X-Request-Id") == "itest-add-1");
    CHECK(prices.header("Content-Type").find("application/json") != std::string::npos);
    std::shared_ptr<orch::json::Value> keep;
    J p = body_of(prices, keep);
    CHECK(p["cart_id"].s() == cart);
    CHECK(p["currency"].s() == "USD");
    CHECK(p["lines"][0]["item_id"].s() == "rose");
    CHECK(p["lines"][0]["quantity"].i() == 2);
    CHECK(p["status"].s() == "Draft");
    auto tax = only(shop, "/tax/resolve");
    CHECK(tax.header("X-Request-Id") == "itest-add-1");
    std::shared_ptr<orch::json::Value> keep2;
    J t = body_of(tax, keep2);
    CHECK(t["lines"][0]["unit_price_minor"].i() == 1150);  // repriced before the tax
    CHECK(t["subtotal_minor"].i() == 2300);
  }

  // A discount code is resolved by the pricing back-end.
  auto disc = api.apply_adjustment(cart, "FAKE10");
  INFO("apply_adjustment: " << disc.body);
  REQUIRE(disc.status == 200);
  CHECK(disc["discount_minor"].i() == 230);
  CHECK(disc["tax_minor"].i() == 321);
  CHECK(disc["total_minor"].i() == 2300 - 230 + 321);
  CHECK(shop.requests("/discounts/FAKE10", "GET").size() == 1);
  auto unknown = api.apply_adjustment(cart, "NOPE");
  CHECK(unknown.status >= 400);
  CHECK(unknown.status < 500);
  CHECK(shop.requests("/discounts/NOPE", "GET").size() == 1);

  auto start = api.start_checkout(cart, disc.version().value_or(0));
  REQUIRE(start.status == 200);
  const std::int64_t total = start["total_minor"].i().value_or(-1);
  CHECK(total == 2391);

  CheckoutRequest req;
  req.cart_id = cart;
  req.cart_version = start.version().value_or(0);
  req.amount_minor = total;
  req.idempotency_key = "fake-checkout-1";
  req.country = "US";
  auto r = http.post_json(checkout_path, req.json(), {{"X-Request-Id", "itest-checkout-1"}});
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["payment_state"].s() == "captured");
  CHECK(r["totals_breakdown"]["tax_minor"].i() == 321);
  CHECK(r["totals_breakdown"]["total_minor"].i() == total);
  const auto txn = r["transaction_id"].s().value_or("");

  auto auths = shop.effects("authorize");
  REQUIRE(auths.size() == 1);
  CHECK(auths[0].txn == txn);
  CHECK(auths[0].amount_minor == total);
  CHECK(r["payment_reference"].s() == auths[0].reference);
  auto receipts = shop.receipts();
  REQUIRE(receipts.count(txn) == 1);
  CHECK(r["receipt_payload"].s() == receipts[txn]);
  CHECK(r["receipt_status"].s() == "issued");

  auto geo = only(shop, "/geo/check");
  CHECK(geo.header("X-Request-Id") == "itest-checkout-1");
  {
    std::shared_ptr<orch::json::Value> keep;
    J g = body_of(geo, keep);
    CHECK(g["cart"]["cart_id"].s() == cart);
    CHECK(g["request"]["location"]["country_code"].s() == "US");
    CHECK(g["request"]["payment_intent"]["token_or_reference"].is_null());  // no token to geo
  }
  auto authorize = only(shop, "/authorize");
  auto capture = only(shop, "/capture");
  auto receipt = only(shop, "/receipts/generate");
  for (const auto* s : {&authorize, &capture, &receipt}) {
    INFO(s->method << " " << s->target);
    CHECK(s->method == "POST");
    CHECK(s->header("X-Request-Id") == "itest-checkout-1");
    CHECK_FALSE(s->header("Idempotency-Key").empty());
  }
  CHECK(authorize.header("Idempotency-Key") != capture.header("Idempotency-Key"));
  CHECK(capture.header("Idempotency-Key") != receipt.header("Idempotency-Key"));
  {
    std::shared_ptr<orch::json::Value> keep;
    J a = body_of(authorize, keep);
    CHECK(a["transaction_id"].s() == txn);
    CHECK(a["cart_id"].s() == cart);
    CHECK(a["currency"].s() == "USD");
    CHECK(a["payment_intent"]["amount_minor"].i() == total);
    CHECK(a["payment_intent"]["token_or_reference"].s() == "success_token");
    CHECK(a["idempotency_key"].s() == authorize.header("Idempotency-Key"));
    std::shared_ptr<orch::json::Value> keep2;
    J c = body_of(capture, keep2);
    CHECK(c["transaction_id"].s() == txn);
    CHECK(c["amount_minor"].i() == total);
    CHECK(c["tenant_id"].s() == "dev");
    CHECK(c["merchant_id"].s() == "flower_shop");
    CHECK(c["idempotency_key"].s() == capture.header("Idempotency-Key"));
    std::shared_ptr<orch::json::Value> keep3;
    J rc = body_of(receipt, keep3);
    CHECK(rc["result"]["transaction_id"].s() == txn);
    CHECK(rc["result"]["payment_reference"].s() == auths[0].reference);
    CHECK(rc["cart"]["total_minor"].i() == total);
  }
  CHECK(shop.effects("capture").size() == 1);
  CHECK(shop.effects("void").empty());
  CHECK(shop.effects("refund").empty());
  for (const auto& s : shop.http().seen()) {
    INFO(s.method << " " << s.target);
    CHECK_FALSE(s.header("X-Request-Id").empty());
    CHECK(s.path.rfind("/shop/", 0) == 0);
  }

  auto order = api.get_order(r["order_id"].s().value_or(""));
  CHECK(order.status == 200);
  CHECK(order["receipt_payload"].s() == receipts[txn]);
}

TEST_CASE("catalog 404 is ITEM_NOT_FOUND, asked once; item ids reach the catalog percent-encoded") {
  FakeShop shop;
  stock(shop);
  const std::string odd = "rose/red?x#1%+&=..";
  shop.add_item(odd, "Odd Rose", 999);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = api.new_cart();

  auto missing = api.add_item(cart, "ghost", 1);
  INFO("add_item ghost: " << missing.body);
  CHECK(missing.status == 404);
  CHECK(missing.code() == "ITEM_NOT_FOUND");
  CHECK(missing["error"].s().value_or("").find("ghost") != std::string::npos);
  CHECK(shop.requests("/items/ghost").size() == 1);  // 404 is definitive: no retry
  CHECK(shop.http().count() == 1);                  // and nothing else was asked
  CHECK(api.get_cart(cart).version() == 1);

  auto ok = api.add_item(cart, odd, 1);
  INFO("add_item odd: " << ok.body);
  REQUIRE(ok.status == 200);
  CHECK(ok["lines"][0]["item_id"].s() == odd);
  CHECK(ok["lines"][0]["title"].s() == "Odd Rose");
  auto items = shop.requests("/items/", "GET");
  REQUIRE(items.size() == 2);
  CHECK(items[1].target == "/shop/items/rose%2Fred%3Fx%231%25%2B%26%3D..");
  CHECK(items[1].path == "/shop/items/" + odd);

  auto dots = api.add_item(cart, "..", 1);
  CHECK(dots.status == 404);
  CHECK(dots.code() == "ITEM_NOT_FOUND");
  auto dot_requests = shop.requests("/items/", "GET");
  REQUIRE(dot_requests.size() == 3);
  CHECK(dot_requests[2].target == "/shop/items/%2E%2E");  // never a relative path step
}

TEST_CASE("pricing: a 500 is retried; a back-end that stays down is 503 BACKEND_UNAVAILABLE, then the circuit opens") {
  FakeShop shop;
  stock(shop);
  // PROVIDER_BREAKER_OPEN_MS 1000 rather than 500 so that the fail-fast call
  // surely falls inside the open period on a slow (sanitizer) build.
  ServerProcess server(with_env(shop.env({{"PROVIDER_BREAKER_FAILURES", "2"}, {"PROVIDER_BREAKER_OPEN_MS", "1000"}})));
  Api api(server.port());
  auto cart = api.new_cart();

  shop.pricing_failures = 1;
  auto flaky = api.add_item(cart, "rose", 1);
  INFO("add_item (pricing 500 once): " << flaky.body);
  CHECK(flaky.status == 200);
  CHECK(flaky["lines"][0]["unit_price_minor"].i() == 1150);
  CHECK(shop.requests("/prices/resolve").size() == 2);
  CHECK(flaky.version() == 2);

  shop.pricing_down = true;
  for (int call = 1; call <= 2; ++call) {
    CAPTURE(call);
    auto down = api.add_item(cart, "tulip", 1);
    INFO("add_item (pricing down): " << down.body);
    CHECK(down.status == 503);
    CHECK(down.code() == "BACKEND_UNAVAILABLE");
    CHECK(down["error"].s().value_or("").find("fake pricing is down") == std::string::npos);  // no bodies
    CHECK(shop.requests("/prices/resolve").size() == 2 + 3u * static_cast<unsigned>(call));  // 1 + 2 retries
  }
  // Two failed calls: the circuit is open, calls fail at once.
  const auto before = shop.requests("/prices/resolve").size();
  auto fast = api.add_item(cart, "tulip", 1);
  INFO("add_item (circuit open): " << fast.body);
  CHECK(fast.status == 503);
  CHECK(fast.code() == "BACKEND_UNAVAILABLE");
  CHECK(shop.requests("/prices/resolve").size() == before);
  CHECK(api.get_cart(cart).version() == 2);  // no failed command changed the cart

  // After the open period one probe goes through; it succeeds and closes the circuit.
  shop.pricing_down = false;
  std::this_thread::sleep_for(1200ms);
  auto probe = api.add_item(cart, "tulip", 1);
  INFO("add_item (probe): " << probe.body);
  CHECK(probe.status == 200);
  CHECK(shop.requests("/prices/resolve").size() == before + 1);
  auto after = api.add_item(cart, "tulip", 2);
  CHECK(after.status == 200);
  CHECK(after.version() == 4);
  CHECK(shop.requests("/prices/resolve").size() == before + 2);
}

TEST_CASE("pricing: a 4xx or an unusable 2xx is definitive: one request, 502 BACKEND_ERROR") {
  FakeShop shop;
  stock(shop);
  // Answers are not failures of the back-end: they must not open the circuit.
  ServerProcess server(with_env(shop.env({{"PROVIDER_BREAKER_FAILURES", "2"}})));
  Api api(server.port());
  auto cart = api.new_cart();
  for (int status : {400, 422, 200}) {  // 200 with {}: no "prices"
    CAPTURE(status);
    shop.pricing_status = status;
    const auto before = shop.requests("/prices/resolve").size();
    auto r = api.add_item(cart, "rose", 1);
    INFO("add_item: " << r.body);
    CHECK(r.status == 502);
    CHECK(r.code() == "BACKEND_ERROR");
    CHECK(shop.requests("/prices/resolve").size() == before + 1);  // never retried
  }
  shop.pricing_status = 0;
  CHECK(api.add_item(cart, "rose", 1).status == 200);  // the circuit stayed closed
  CHECK(api.get_cart(cart).version() == 2);
}

TEST_CASE("pricing: a 429 is retried after its Retry-After") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = api.new_cart();
  shop.pricing_throttles = 1;
  auto r = api.add_item(cart, "rose", 1);
  INFO("add_item: " << r.body);
  CHECK(r.status == 200);
  auto calls = shop.requests("/prices/resolve");
  REQUIRE(calls.size() == 2);
  CHECK(calls[1].at - calls[0].at >= 900ms);  // Retry-After: 1, not the 10 ms backoff
}

TEST_CASE("a back-end that does not listen: 503 BACKEND_UNAVAILABLE naming it, the cart unchanged") {
  FakeShop shop;
  stock(shop);
  const int closed = free_port();  // nothing listens there
  ServerProcess server(with_env(shop.env({{"TAX_BASE_URL", "http://127.0.0.1:" + std::to_string(closed) + "/tax-service"}})));
  Api api(server.port());
  auto cart = api.new_cart();
  auto r = api.add_item(cart, "rose", 1);
  INFO("add_item: " << r.body);
  CHECK(r.status == 503);
  CHECK(r.code() == "BACKEND_UNAVAILABLE");
  CHECK(r["error"].s().value_or("").find("tax") != std::string::npos);
  CHECK(api.get_cart(cart).version() == 1);
  CHECK(shop.requests("/items/rose").size() == 1);
  CHECK(shop.requests("/prices/resolve").size() == 1);
}

TEST_CASE("reconciliation asks GET /state/{txn} once: 404 is definitive (missing at provider), states are snake_case") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = ready(api);
  auto r = api.checkout(cart.request("reconcile-1"));
  REQUIRE(r["status"].s() == "completed");
  const auto txn = r["transaction_id"].s().value_or("");

  auto missing = api.reconcile({txn});
  INFO("reconciliation: " << missing.body);
  REQUIRE(missing.status == 200);
  CHECK(missing["mismatches"].size() == std::size_t{0});
  REQUIRE(missing["missing_at_provider"].size() == std::size_t{1});
  CHECK(missing["missing_at_provider"][0]["transaction_id"].s() == txn);
  CHECK(missing["missing_at_provider"][0]["our_state"].s() == "captured");
  CHECK(shop.requests("/state/" + txn, "GET").size() == 1);  // 404: not retried

  shop.set_state(txn, "Captured");
  auto same = api.reconcile({txn});
  INFO("reconciliation: " << same.body);
  CHECK(same["mismatches"].size() == std::size_t{0});
  CHECK(same["missing_at_provider"].size() == std::size_t{0});

  shop.set_state(txn, "RefundPending");
  auto differ = api.reconcile({txn});
  INFO("reconciliation: " << differ.body);
  REQUIRE(differ["mismatches"].size() == std::size_t{1});
  CHECK(differ["mismatches"][0]["our_state"].s() == "captured");
  CHECK(differ["mismatches"][0]["provider_state"].s() == "refund_pending");
  CHECK(shop.requests("/state/" + txn, "GET").size() == 3);
}

TEST_CASE("a declined authorization is auth_failed at once: nothing captured, nothing to void") {
  FakeShop shop;
  stock(shop);
  // A short request timeout: a checkout that never answers fails fast here.
  ServerProcess server(with_env(shop.env({{"REQUEST_TIMEOUT_MS", "5000"}})));
  Api api(server.port());
  auto cart = ready(api);
  auto req = cart.request("declined-1");
  req.token = "fail_token";
  auto r = api.checkout(req);
  INFO("checkout: " << r.status << " " << r.body);
  CHECK(r.status == 200);
  CHECK(r["status"].s() == "auth_failed");
  CHECK(r["order_id"].is_null());
  CHECK(shop.requests("/authorize").size() == 1);  // a decline is an answer: not retried
  CHECK(shop.requests("/capture").empty());
  CHECK(shop.effects("void").empty());
  CHECK(shop.requests("/receipts/generate").empty());
  // The same request again: the stored answer.
  auto again = api.checkout(req);
  INFO("again: " << again.status << " " << again.body);
  CHECK(again.status == 200);
  CHECK(again["status"].s() == "auth_failed");
  CHECK(shop.requests("/authorize").size() == 1);
}

TEST_CASE("capture answers 500 once: retried under its key, the checkout completes with one capture") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = ready(api);
  shop.capture_failures = 1;
  auto r = api.checkout(cart.request("capture-500-once"));
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["payment_state"].s() == "captured");
  const auto txn = r["transaction_id"].s().value_or("");

  auto captures = shop.requests("/capture");
  CHECK(captures.size() == 2);
  std::set<std::string> keys;
  for (const auto& c : captures) keys.insert(c.header("Idempotency-Key"));
  CHECK(keys.size() == 1);  // the retry repeats the key
  auto effects = shop.effects("capture");
  REQUIRE(effects.size() == 1);
  CHECK(effects[0].txn == txn);
  CHECK(effects[0].amount_minor == cart.total_minor);
  CHECK(effects[0].requests == 1);  // the failed request had no effect
  CHECK(shop.effects("void").empty());
  CHECK(shop.effects("authorize").size() == 1);
  auto p = api.get_payment(txn);
  CHECK(p["state"].s() == "captured");
}

TEST_CASE("capture done but never answered: the back-end's state confirms it, the checkout completes, no void") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = ready(api);
  shop.capture_lost = true;
  auto req = cart.request("capture-lost");
  auto r = api.checkout(req);
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["payment_state"].s() == "captured");
  CHECK(r["order_id"].s().value_or("").rfind("ord_", 0) == 0);
  const auto txn = r["transaction_id"].s().value_or("");

  // Every capture request carried one key, so the money moved once; the
  // state was asked once, and nothing was voided.
  auto effects = shop.effects("capture");
  REQUIRE(effects.size() == 1);
  CHECK(effects[0].txn == txn);
  CHECK(effects[0].requests >= 2);
  std::set<std::string> keys;
  for (const auto& c : shop.requests("/capture")) keys.insert(c.header("Idempotency-Key"));
  CHECK(keys.size() == 1);
  CHECK(shop.requests("/state/" + txn, "GET").size() == 1);
  CHECK(shop.requests("/void").empty());
  CHECK(api.get_payment(txn)["state"].s() == "captured");
  CHECK(api.get_order(r["order_id"].s().value_or("x")).status == 200);

  // The same request again: the stored answer, nothing more at the back-end.
  const auto seen = shop.http().count();
  auto again = api.checkout(req);
  CHECK(again.body == r.body);
  CHECK(shop.http().count() == seen);
}

TEST_CASE("capture never answered and not captured at the back-end: the authorization is voided") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = ready(api);
  shop.capture_failures = 1000;  // every capture: 500 without effect; /state knows nothing (404)
  auto r = api.checkout(cart.request("capture-never"));
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "failed");
  CHECK(r["payment_state"].s() == "voided");
  const auto txn = r["transaction_id"].s().value_or("");
  CHECK(shop.effects("capture").empty());
  CHECK(shop.requests("/state/" + txn, "GET").size() == 1);
  REQUIRE(shop.effects("void").size() == 1);
  CHECK(shop.effects("void")[0].txn == txn);
}

TEST_CASE("capture refused: the checkout fails with payment_state voided, and the back-end saw the void") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = ready(api);
  shop.capture_refuse = true;
  auto r = api.checkout(cart.request("capture-refused"));
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "failed");
  CHECK(r["payment_state"].s() == "voided");
  CHECK(r["order_id"].is_null());
  const auto txn = r["transaction_id"].s().value_or("");

  CHECK(shop.effects("capture").empty());
  CHECK(shop.requests("/capture").size() == 1);  // a refusal is an answer: not retried
  auto voids = shop.effects("void");
  REQUIRE(voids.size() == 1);
  CHECK(voids[0].txn == txn);
  CHECK(voids[0].amount_minor == cart.total_minor);
  CHECK(voids[0].key != shop.effects("authorize").at(0).key);
  CHECK(shop.requests("/receipts/generate").empty());
  auto p = api.get_payment(txn);
  CHECK(p["state"].s() == "voided");
  // The same request again: the same failed answer, nothing more at the back-end.
  const auto seen = shop.http().count();
  auto again = api.checkout(cart.request("capture-refused"));
  CHECK(again.body == r.body);
  CHECK(shop.http().count() == seen);
}

TEST_CASE("authorize timeout: the checkout fails voided, and no authorization is left without a void") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env({{"PROVIDER_TIMEOUT_MS", "300"}})));
  Api api(server.port());
  auto cart = ready(api);
  shop.authorize_delay_ms = 900;  // the back-end authorizes, then answers too late
  auto r = api.checkout(cart.request("authorize-timeout"));
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "failed");
  CHECK(r["payment_state"].s() == "voided");
  CHECK(r["order_id"].is_null());
  CHECK(r["failure_reason"].is_string());
  const auto txn = r["transaction_id"].s().value_or("");

  // Let the late authorize answers finish.
  CHECK(eventually([&] { return shop.http().finished().size() == shop.http().count(); }, 10s));
  auto attempts = shop.requests("/authorize");
  REQUIRE_FALSE(attempts.empty());
  CHECK(attempts.size() <= 3u);  // PROVIDER_MAX_RETRIES=2
  std::set<std::string> keys;
  for (const auto& a : attempts) keys.insert(a.header("Idempotency-Key"));
  CHECK(keys.size() == 1);  // retried only under its key
  auto auths = shop.effects("authorize");
  auto voids = shop.effects("void");
  INFO("authorizations: " << auths.size() << ", voids: " << voids.size());
  REQUIRE(auths.size() == 1);
  CHECK(auths[0].txn == txn);
  for (const auto& a : auths) {
    bool voided = false;
    for (const auto& v : voids) voided = voided || v.txn == a.txn;
    CHECK_MESSAGE(voided, "authorization " << a.reference << " of " << a.txn << " was never voided");
  }
  CHECK(shop.effects("capture").empty());
  CHECK(api.get_payment(txn)["state"].s() == "voided");
}

TEST_CASE("a receipt back-end that fails during checkout: the outbox asks it again, same key, and attaches the receipt") {
  FakeShop shop;
  stock(shop);
  ServerProcess server(with_env(shop.env()));
  Api api(server.port());
  auto cart = ready(api);
  shop.receipt_failures = 3;  // the checkout's call and its 2 retries
  auto r = api.checkout(cart.request("receipt-later"));
  INFO("checkout: " << r.body);
  REQUIRE(r.status == 200);
  CHECK(r["status"].s() == "completed");
  CHECK(r["payment_state"].s() == "captured");
  CHECK(r["receipt_status"].s() == "pending");
  CHECK(r["receipt_payload"].is_null());
  const auto txn = r["transaction_id"].s().value_or("");
  const auto order_id = r["order_id"].s().value_or("");

  Response order;
  CHECK(eventually([&] {
    order = api.get_order(order_id);
    return order["receipt_payload"].is_string();
  }));
  auto receipts = shop.receipts();
  REQUIRE(receipts.count(txn) == 1);
  CHECK(order["receipt_payload"].s() == receipts[txn]);
  auto calls = shop.requests("/receipts/generate");
  CHECK(calls.size() == 4);
  std::set<std::string> keys;
  for (const auto& c : calls) keys.insert(c.header("Idempotency-Key"));
  CHECK(keys.size() == 1);  // one receipt, one key, however often asked
  CHECK_FALSE(keys.begin()->empty());
  std::shared_ptr<orch::json::Value> delivered;
  CHECK(eventually([&] {
    for (const auto& l : read_deliveries(server.data_dir()))
      if (J(l.get())["topic"].s() == "receipt.requested") delivered = l;
    return delivered != nullptr;
  }));
  if (delivered) {
    J d = J(delivered.get())["payload"]["data"];
    CHECK(d["receipt_status"].s() == "issued");
    CHECK(d["receipt_payload"].s() == receipts[txn]);
  }
  CHECK(shop.effects("capture").size() == 1);
}

TEST_CASE("production refuses to start without each of the six back-end URLs, and starts with all six") {
  FakeShop shop;
  stock(shop);
  const char* names[] = {"CATALOG_BASE_URL", "PRICING_BASE_URL", "TAX_BASE_URL",
                         "GEO_BASE_URL",     "PAYMENT_BASE_URL", "RECEIPT_BASE_URL"};
  for (const std::string missing : names) {
    CAPTURE(missing);
    Env env = production_env;
    for (const auto& kv : shop.env())
      if (kv.first != missing) env.push_back(kv);
    TempDir dir;
    auto r = run_process(orchestrator_bin(), {"--bind", "127.0.0.1:0", "--data-dir", dir.file("data")}, env, 15s);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.exit_code != 0);
    CHECK((r.err + r.out).find(missing) != std::string::npos);
    CHECK(r.out.find("listening") == std::string::npos);
  }
  // A blank URL counts as unset.
  {
    Env env = shop.env({{"GEO_BASE_URL", "   "}});
    for (const auto& kv : production_env) env.push_back(kv);
    TempDir dir;
    auto r = run_process(orchestrator_bin(), {"--bind", "127.0.0.1:0", "--data-dir", dir.file("data")}, env, 15s);
    INFO("stderr:\n" << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("GEO_BASE_URL") != std::string::npos);
  }

  Env env = production_env;
  for (const auto& kv : shop.env()) env.push_back(kv);
  ServerProcess server(with_env(env));
  CHECK(server.wait_ready(10s));
  Api anonymous(server.port());
  CHECK(anonymous.create_cart().status == 401);
  Api api(server.port(), std::string("integration-prod-token"));
  auto cart = api.new_cart();
  auto add = api.add_item(cart, "rose", 1);
  INFO("add_item: " << add.body);
  CHECK(add.status == 200);
  CHECK(add["tax_minor"].i() == 321);
  CHECK(shop.requests("/items/rose").size() == 1);
}

}  // TEST_SUITE
