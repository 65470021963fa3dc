// The wire format of every back-end call (reference §12.3/12.4, tests 9-17).
#include <doctest/doctest.h>

#include <limits>

#include "fakes.hpp"

using namespace fakes;
namespace adapters = orch::adapters;
namespace json = orch::json;
using orch::Code;

namespace {

orch::cart::Cart sample_cart() {
  orch::cart::Cart c;
  c.tenant_id = "t1";
  c.cart_id = "cart-1";
  c.merchant_id = "m1";
  c.currency = "USD";
  c.version = 2;
  c.lines.push_back({"L1", "item_1", "Sample", 1, 1000, 1000});
  c.subtotal_minor = 1000;
  c.discount_minor = 100;
  c.tax_minor = 80;
  c.total_minor = 980;
  c.status = orch::cart::CartStatus::draft;
  return c;
}

std::string str(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  REQUIRE(m);
  REQUIRE(m->is_string());
  return m->as_string();
}
std::int64_t num(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  REQUIRE(m);
  REQUIRE(m->as_int64());
  return *m->as_int64();
}
bool is_null(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m && m->is_null();
}
const json::Value& obj(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  REQUIRE(m);
  REQUIRE(m->is_object());
  return *m;
}

void check_projection(const json::Value& p, std::string_view status) {
  CHECK(str(p, "cart_id") == "cart-1");
  CHECK(num(p, "version") == 2);
  CHECK(str(p, "currency") == "USD");
  const json::Value* lines = p.find("lines");
  REQUIRE(lines);
  REQUIRE(lines->items().size() == 1);
  const auto& l = lines->items()[0];
  CHECK(str(l, "line_id") == "L1");
  CHECK(str(l, "item_id") == "item_1");
  CHECK(str(l, "title") == "Sample");
  CHECK(num(l, "quantity") == 1);
  CHECK(num(l, "unit_price_minor") == 1000);
  CHECK(num(l, "total_minor") == 1000);
  CHECK(num(p, "subtotal_minor") == 1000);
  CHECK(num(p, "discount_minor") == 100);
  CHECK(num(p, "tax_minor") == 80);
  CHECK(num(p, "total_minor") == 980);
  CHECK(p.find("geo_ok")->as_bool());
  CHECK(str(p, "status") == status);
}

const adapters::CallContext read_ctx{"req-1", "t1", ""};
const adapters::CallContext keyed_ctx{"req-2", "t1", "txn_1:capture"};

}  // namespace

TEST_SUITE("wire") {
  TEST_CASE("catalog: GET /items/{id} maps id, title, price and stock (test 16)") {
    FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/items/item_1")
        reply(res, 200, R"({"id":"item_1","title":"Test Product","price_minor":1999})");
      else if (req.path == "/items/stocked")
        reply(res, 200, R"({"id":"stocked","title":"Stocked","price_minor":5,"available":7})");
      else
        reply(res, 404, R"({"error":"not found"})");
    });
    auto b = make(all_at(fake.url()));
    auto item = b.catalog->get_item(read_ctx, "item_1");
    REQUIRE(item.ok());
    REQUIRE(item->has_value());
    CHECK((*item)->item_id == "item_1");
    CHECK((*item)->title == "Test Product");
    CHECK((*item)->price_minor == 1999);
    CHECK((*item)->available == std::numeric_limits<std::int64_t>::max());
    auto seen = fake.last();
    CHECK(seen.method == "GET");
    CHECK(seen.target == "/items/item_1");
    CHECK(seen.header("X-Request-Id") == "req-1");
    CHECK_FALSE(seen.has_header("Idempotency-Key"));

    auto stocked = b.catalog->get_item(read_ctx, "stocked");
    REQUIRE(stocked.ok());
    REQUIRE(stocked->has_value());
    CHECK((*stocked)->available == 7);
  }

  TEST_CASE("catalog: 404 is 'not found', asked once (test 17)") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 404, R"({"error":"not found"})");
    });
    auto b = make(all_at(fake.url()));
    auto item = b.catalog->get_item(read_ctx, "missing");
    REQUIRE(item.ok());
    CHECK_FALSE(item->has_value());
    CHECK(fake.count() == 1);
  }

  TEST_CASE("path parameters are percent-encoded") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) { reply(res, 404, "{}"); });
    auto b = make(all_at(fake.url()));
    REQUIRE(b.catalog->get_item(read_ctx, "a b/c?d").ok());
    CHECK(fake.last().target == "/items/a%20b%2Fc%3Fd");
    REQUIRE(b.catalog->get_item(read_ctx, "x#y%z+\xc3\xbc~._-").ok());
    CHECK(fake.last().target == "/items/x%23y%25z%2B%C3%BC~._-");
    REQUIRE(b.catalog->get_item(read_ctx, "..").ok());
    CHECK(fake.last().target == "/items/%2E%2E");
    REQUIRE(b.payment->state(read_ctx, "txn/../1").ok());
    CHECK(fake.last().target == "/state/txn%2F..%2F1");
    REQUIRE(b.pricing->resolve_discount(read_ctx, "SAVE 10").ok());
    CHECK(fake.last().target == "/discounts/SAVE%2010");
  }

  TEST_CASE("a base URL with a path prefix (trailing '/' stripped)") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"id":"item_1","title":"Test Product","price_minor":1999})");
    });
    auto s = fast_settings();
    s.catalog_url = fake.url("/merchant/catalog/");
    auto b = make(s);
    REQUIRE(b.catalog->get_item(read_ctx, "item_1").ok());
    CHECK(fake.last().target == "/merchant/catalog/items/item_1");
  }

  TEST_CASE("pricing: POST /prices/resolve with the cart projection (test 9)") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200,
            R"({"prices":[{"line_id":"L1","unit_price_minor":1000,"total_minor":1000}]})");
    });
    auto b = make(all_at(fake.url()));
    auto prices = b.pricing->resolve_prices(read_ctx, sample_cart());
    REQUIRE(prices.ok());
    REQUIRE(prices->size() == 1);
    CHECK((*prices)[0].line_id == "L1");
    CHECK((*prices)[0].unit_price_minor == 1000);
    auto seen = fake.last();
    CHECK(seen.method == "POST");
    CHECK(seen.target == "/prices/resolve");
    CHECK(seen.header("Content-Type") == "application/json");
    CHECK(seen.header("X-Request-Id") == "req-1");
    check_projection(seen.json(), "Draft");
  }

  TEST_CASE("pricing: discount codes") {
    FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/discounts/SAVE10")
        reply(res, 200,
              R"({"code":"SAVE10","type":"percentage","value":10,"description":"10% off"})");
      else if (req.path == "/discounts/FIVE")
        reply(res, 200,
              R"({"code":"FIVE","type":"fixed_amount","value":500,"description":"5 off"})");
      else if (req.path == "/discounts/WEIRD")
        reply(res, 200, R"({"code":"WEIRD","type":"bogus","value":1,"description":""})");
      else
        reply(res, 404, "{}");
    });
    auto b = make(all_at(fake.url()));
    auto d = b.pricing->resolve_discount(read_ctx, "SAVE10");
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    CHECK((*d)->code == "SAVE10");
    CHECK((*d)->kind == orch::cart::DiscountKind::percentage);
    CHECK((*d)->value == 10);
    CHECK((*d)->description == "10% off");
    CHECK(fake.last().method == "GET");

    auto five = b.pricing->resolve_discount(read_ctx, "FIVE");
    REQUIRE(five.ok());
    REQUIRE(five->has_value());
    CHECK((*five)->kind == orch::cart::DiscountKind::fixed_amount);
    CHECK((*five)->value == 500);

    int before = fake.count();
    auto unknown = b.pricing->resolve_discount(read_ctx, "NOPE");
    REQUIRE(unknown.ok());
    CHECK_FALSE(unknown->has_value());
    CHECK(fake.count() == before + 1);

    auto weird = b.pricing->resolve_discount(read_ctx, "WEIRD");
    REQUIRE_FALSE(weird.ok());
    CHECK(weird.error().code == Code::backend_error);
  }

  TEST_CASE("tax: POST /tax/resolve -> total_tax_minor (test 10)") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"total_tax_minor":80})");
    });
    auto b = make(all_at(fake.url()));
    auto cart = sample_cart();
    cart.status = orch::cart::CartStatus::checkout_ready;
    auto tax = b.tax->resolve_tax(read_ctx, cart);
    REQUIRE(tax.ok());
    CHECK(*tax == 80);
    CHECK(fake.last().target == "/tax/resolve");
    check_projection(fake.last().json(), "CheckoutReady");
    cart.status = orch::cart::CartStatus::checked_out;
    REQUIRE(b.tax->resolve_tax(read_ctx, cart).ok());
    check_projection(fake.last().json(), "CheckoutReady");
  }

  TEST_CASE("geo: POST /geo/check with the cart and a request without PII (test 11)") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"allowed":true})");
    });
    auto b = make(all_at(fake.url()));
    orch::checkout::Location loc{"US", "CA", "94043"};
    auto allowed = b.geo->check(read_ctx, sample_cart(), loc);
    REQUIRE(allowed.ok());
    CHECK(*allowed);
    auto seen = fake.last();
    CHECK(seen.target == "/geo/check");
    auto body = seen.json();
    check_projection(obj(body, "cart"), "Draft");
    const auto& r = obj(body, "request");
    CHECK(str(r, "tenant_id") == "t1");
    CHECK(str(r, "merchant_id") == "m1");
    CHECK(str(r, "cart_id") == "cart-1");
    CHECK(num(r, "cart_version") == 2);
    CHECK(str(r, "currency") == "USD");
    CHECK(is_null(r, "customer"));
    CHECK(str(obj(r, "location"), "country_code") == "US");
    CHECK(str(obj(r, "location"), "postal_code") == "94043");
    const auto& intent = obj(r, "payment_intent");
    CHECK(num(intent, "amount_minor") == 980);
    CHECK(is_null(intent, "token_or_reference"));
    CHECK(is_null(intent, "ap2_consent_proof"));

    FakeServer refusing([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"allowed":false})");
    });
    auto s = fast_settings();
    s.geo_url = refusing.url();
    auto b2 = make(s);
    auto refused = b2.geo->check(read_ctx, sample_cart(), std::nullopt);
    REQUIRE(refused.ok());
    CHECK_FALSE(*refused);
    CHECK(is_null(obj(refusing.last().json(), "request"), "location"));
  }

  TEST_CASE("payment: authorize sends the checkout request and its key (test 12)") {
    FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
      auto v = json::parse(req.body);
      std::string token =
          v ? v->find("payment_intent")->find("token_or_reference")->as_string() : "";
      if (token == "fail_token")
        reply(res, 200, R"({"authorized":false,"reference":"d-1","reason":"insufficient funds"})");
      else if (token == "402_token")
        reply(res, 402, R"({"reason":"card declined"})");
      else
        reply(res, 200, R"({"authorized":true,"reference":"ref-123"})");
    });
    auto b = make(all_at(fake.url()));
    orch::checkout::Request q;
    q.tenant_id = "t1";
    q.merchant_id = "m1";
    q.cart_id = "cart-1";
    q.cart_version = 3;
    q.currency = "USD";
    q.customer = orch::checkout::Customer{std::string("a@b.c"), std::nullopt};
    q.amount_minor = 2200;
    q.token = "tok_123";
    q.payment_handler_id = "mock";
    q.idempotency_key = "client-key";
    adapters::AuthorizeRequest r{"txn_1", "t1", "m1", "cart-1", "USD", 2200, &q};
    adapters::CallContext ctx{"req-3", "t1", "txn_1:authorize"};

    auto a = b.payment->authorize(ctx, r);
    REQUIRE(a.ok());
    CHECK(a->authorized);
    CHECK(a->reference == "ref-123");
    auto seen = fake.last();
    CHECK(seen.method == "POST");
    CHECK(seen.target == "/authorize");
    CHECK(seen.header("Idempotency-Key") == "txn_1:authorize");
    CHECK(seen.header("X-Request-Id") == "req-3");
    CHECK(seen.header("Content-Type") == "application/json");
    auto body = seen.json();
    CHECK(str(body, "tenant_id") == "t1");
    CHECK(str(body, "merchant_id") == "m1");
    CHECK(str(body, "cart_id") == "cart-1");
    CHECK(num(body, "cart_version") == 3);
    CHECK(str(body, "currency") == "USD");
    CHECK(str(body, "transaction_id") == "txn_1");
    CHECK(str(body, "idempotency_key") == "txn_1:authorize");
    CHECK(str(obj(body, "customer"), "email") == "a@b.c");
    CHECK(is_null(obj(body, "customer"), "full_name"));
    CHECK(is_null(body, "location"));
    const auto& intent = obj(body, "payment_intent");
    CHECK(num(intent, "amount_minor") == 2200);
    CHECK(str(intent, "token_or_reference") == "tok_123");
    CHECK(is_null(intent, "ap2_consent_proof"));
    CHECK(str(intent, "payment_handler_id") == "mock");

    q.token = "fail_token";
    auto declined = b.payment->authorize(ctx, r);
    REQUIRE(declined.ok());
    CHECK_FALSE(declined->authorized);
    CHECK(declined->reference == "d-1");
    CHECK(declined->decline_reason == "insufficient funds");

    q.token = "402_token";
    int before = fake.count();
    auto declined402 = b.payment->authorize(ctx, r);
    REQUIRE(declined402.ok());
    CHECK_FALSE(declined402->authorized);
    CHECK(declined402->decline_reason == "card declined");
    CHECK(fake.count() == before + 1);
  }

  TEST_CASE("payment: capture, void and refund (test 13)") {
    FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/refund")
        reply(res, 409, R"({"error":"nothing captured to refund"})");
      else if (req.path == "/void")
        reply(res, 200, R"({"success":false,"error":"already captured"})");
      else
        reply(res, 200, R"({"success":true,"reference":"cap-456"})");
    });
    auto b = make(all_at(fake.url()));
    adapters::OperationRequest op{"t1", "m1", "txn_1", 2200};
    auto cap = b.payment->capture(keyed_ctx, op);
    REQUIRE(cap.ok());
    CHECK(cap->success);
    CHECK(cap->reference == "cap-456");
    auto seen = fake.last();
    CHECK(seen.target == "/capture");
    CHECK(seen.header("Idempotency-Key") == "txn_1:capture");
    CHECK(seen.header("Content-Type") == "application/json");
    auto body = seen.json();
    CHECK(str(body, "tenant_id") == "t1");
    CHECK(str(body, "merchant_id") == "m1");
    CHECK(str(body, "transaction_id") == "txn_1");
    CHECK(num(body, "amount_minor") == 2200);
    CHECK(str(body, "idempotency_key") == "txn_1:capture");

    auto v = b.payment->void_authorization(keyed_ctx, op);
    REQUIRE(v.ok());
    CHECK_FALSE(v->success);
    CHECK(v->error == "already captured");
    CHECK(fake.last().target == "/void");

    int before = fake.count();
    auto refund = b.payment->refund(keyed_ctx, op);
    REQUIRE(refund.ok());  // a definitive refusal, not an error
    CHECK_FALSE(refund->success);
    CHECK(refund->error == "nothing captured to refund");
    CHECK(fake.last().target == "/refund");
    CHECK(fake.count() == before + 1);
  }

  TEST_CASE("payment: state, and 404 is unknown after exactly one request (test 14)") {
    FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/state/txn_1")
        reply(res, 200, R"({"state":"captured"})");
      else if (req.path == "/state/txn_2")
        reply(res, 200, R"({"state":"RefundPending"})");
      else
        reply(res, 404, R"({"error":"unknown"})");
    });
    auto b = make(all_at(fake.url()));
    auto st = b.payment->state(read_ctx, "txn_1");
    REQUIRE(st.ok());
    REQUIRE(st->has_value());
    CHECK(**st == "captured");
    CHECK(fake.last().method == "GET");
    CHECK(fake.last().target == "/state/txn_1");

    auto pascal = b.payment->state(read_ctx, "txn_2");
    REQUIRE(pascal.ok());
    CHECK(**pascal == "refund_pending");

    int before = fake.count();
    auto unknown = b.payment->state(read_ctx, "unknown-tx");
    REQUIRE(unknown.ok());
    CHECK_FALSE(unknown->has_value());
    CHECK(fake.count() == before + 1);
  }

  TEST_CASE("receipt: POST /receipts/generate with cart and transaction result (test 15)") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"content":"Receipt #123\nTotal: 10.00 USD"})");
    });
    auto b = make(all_at(fake.url()));
    adapters::ReceiptRequest r;
    r.transaction_id = "txn_1";
    r.order_id = "ord_1";
    r.tenant_id = "t1";
    r.cart_id = "cart-1";
    r.lines.push_back({"L1", "item_1", "Sample", 1, 1000, 1000});
    r.currency = "USD";
    r.totals = {1000, 100, 80, 980};
    r.payment_reference = "ref-123";
    r.correlation_id = "corr-1";
    adapters::CallContext ctx{"req-4", "t1", "txn_1:receipt"};
    auto content = b.receipt->generate(ctx, r);
    REQUIRE(content.ok());
    CHECK(content->find("Receipt #123") != std::string::npos);
    auto seen = fake.last();
    CHECK(seen.target == "/receipts/generate");
    CHECK(seen.header("Idempotency-Key") == "txn_1:receipt");
    auto body = seen.json();
    const auto& cart = obj(body, "cart");
    CHECK(str(cart, "cart_id") == "cart-1");
    CHECK(str(cart, "status") == "CheckoutReady");
    CHECK(num(cart, "total_minor") == 980);
    CHECK(cart.find("lines")->items().size() == 1);
    const auto& result = obj(body, "result");
    CHECK(str(result, "transaction_id") == "txn_1");
    CHECK(str(result, "status") == "Completed");
    CHECK(str(result, "payment_state") == "Captured");
    CHECK(str(result, "payment_reference") == "ref-123");
    CHECK(str(result, "correlation_id") == "corr-1");
    CHECK(str(result, "order_id") == "ord_1");
    CHECK(is_null(result, "receipt_payload"));
    const auto& totals = obj(result, "totals_breakdown");
    CHECK(num(totals, "subtotal_minor") == 1000);
    CHECK(num(totals, "discount_minor") == 100);
    CHECK(num(totals, "tax_minor") == 80);
    CHECK(num(totals, "total_minor") == 980);
  }

  TEST_CASE("a 2xx whose body is unusable is BACKEND_ERROR, asked once") {
    FakeServer fake([](const httplib::Request& req, httplib::Response& res) {
      if (req.path == "/tax/resolve")
        reply(res, 200, "{not json");
      else if (req.path == "/geo/check")
        reply(res, 200, R"({"allowed":"yes"})");
      else
        reply(res, 200, R"({"id":"item_1","title":"Test Product"})");
    });
    auto b = make(all_at(fake.url()));
    auto item = b.catalog->get_item(read_ctx, "item_1");
    REQUIRE_FALSE(item.ok());
    CHECK(item.error().code == Code::backend_error);
    CHECK(item.error().message.find("catalog GET /items/item_1") == 0);
    CHECK(item.error().message.find("price_minor") != std::string::npos);
    auto tax = b.tax->resolve_tax(read_ctx, sample_cart());
    REQUIRE_FALSE(tax.ok());
    CHECK(tax.error().code == Code::backend_error);
    auto geo = b.geo->check(read_ctx, sample_cart(), std::nullopt);
    REQUIRE_FALSE(geo.ok());
    CHECK(geo.error().code == Code::backend_error);
    CHECK(fake.count() == 3);
  }

  TEST_CASE("other 4xx answers are definitive: BACKEND_ERROR after one request") {
    FakeServer fake([](const httplib::Request&, httplib::Response& res) {
      reply(res, 400, R"({"error":"bad"})");
    });
    auto b = make(all_at(fake.url()));
    auto item = b.catalog->get_item(read_ctx, "item_1");
    REQUIRE_FALSE(item.ok());
    CHECK(item.error().code == Code::backend_error);
    CHECK(item.error().message.find("400") != std::string::npos);
    CHECK(fake.count() == 1);
    auto prices = b.pricing->resolve_prices(read_ctx, sample_cart());
    REQUIRE_FALSE(prices.ok());
    CHECK(prices.error().code == Code::backend_error);
    CHECK(fake.count() == 2);
  }

}  // TEST_SUITE
