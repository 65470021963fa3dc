// src/events/checkout.hpp: request validation, fingerprint, cart checks, policy.
#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "builders.hpp"

using namespace testing;
using namespace testing::fx;

namespace {

// The problems of `r`, which must be exactly one, mentioning `needle`.
void check_single_problem(const co::Request& r, const std::string& needle) {
  auto p = co::validate(r);
  INFO("expected one problem about ", needle);
  REQUIRE(p.size() == 1);
  CHECK(contains(p[0], needle));
}

Error cart_err(const Cart& c, const co::Request& r) {
  auto s = co::check_cart(c, r);
  REQUIRE_FALSE(s.ok());
  return s.error();
}

Cart locked(Cart c, std::string txn = "txn_running") {
  apply(c, ev(CheckoutStarted{std::move(txn)}));
  return c;
}

Cart checked_out(Cart c, std::string txn = "txn_done") {
  apply(c, ev(CheckoutStarted{txn}));
  apply(c, ev(CheckedOut{txn}));
  return c;
}

}  // namespace

// ---------------------------------------------------------------- validate

TEST_CASE("checkout validate: a complete request is valid") {
  co::Request r = request_for(ready_cart());
  CHECK(co::validate(r).empty());
  SUBCASE("optional parts may be absent") {
    r.customer.reset();
    r.location.reset();
    r.ap2_consent_proof.reset();
    r.payment_handler_id.reset();
    CHECK(co::validate(r).empty());
  }
  SUBCASE("amount 0 is allowed") {
    r.amount_minor = 0;
    CHECK(co::validate(r).empty());
  }
  SUBCASE("limits are inclusive") {
    r.tenant_id = std::string(128, 't');
    r.merchant_id = std::string(128, 'm');
    r.idempotency_key = std::string(128, 'k');
    r.token = std::string(4096, 'x');
    r.payment_handler_id = std::string(4096, 'h');
    r.ap2_consent_proof = std::string(4096, 'p');
    r.customer = co::Customer{std::string(4096, 'e'), std::string(4096, 'n')};
    r.location = co::Location{std::string(4096, 'c'), std::string(4096, 'r'), std::string(4096, 'z')};
    CHECK(co::validate(r).empty());
  }
}

TEST_CASE("checkout validate: every problem of an empty request, in the reference's order") {
  co::Request r;  // everything empty, cart_version 0
  r.amount_minor = -1;
  r.payment_handler_id = std::string();
  auto p = co::validate(r);
  REQUIRE(p.size() == 8);
  CHECK(p[0] == "tenant_id required");
  CHECK(p[1] == "merchant_id required");
  CHECK(contains(p[2], "currency"));
  CHECK(p[3] == "cart_version must be > 0");
  CHECK(p[4] == "idempotency_key required");
  CHECK(p[5] == "payment amount must be >= 0");
  CHECK(p[6] == "payment token_or_reference required");
  CHECK(p[7] == "payment_handler_id cannot be empty");
}

TEST_CASE("checkout validate: each rule alone") {
  const co::Request good = request_for(ready_cart());

  SUBCASE("tenant_id") {
    co::Request r = good;
    r.tenant_id = "";
    check_single_problem(r, "tenant_id");
    r.tenant_id = std::string(129, 't');
    check_single_problem(r, "tenant_id");
    r.tenant_id = "t 1";
    check_single_problem(r, "tenant_id");
  }
  SUBCASE("merchant_id") {
    co::Request r = good;
    r.merchant_id = "";
    check_single_problem(r, "merchant_id");
    r.merchant_id = std::string(129, 'm');
    check_single_problem(r, "merchant_id");
    r.merchant_id = "m\x01";
    check_single_problem(r, "merchant_id");
  }
  SUBCASE("currency: three uppercase ASCII letters") {
    for (const char* bad : {"", "usd", "US", "USDD", "U1D", "Usd", "\xc3\x89UR"}) {
      CAPTURE(bad);
      co::Request r = good;
      r.currency = bad;
      check_single_problem(r, "currency");
    }
  }
  SUBCASE("cart_version") {
    co::Request r = good;
    r.cart_version = 0;
    check_single_problem(r, "cart_version");
  }
  SUBCASE("idempotency_key") {
    co::Request r = good;
    r.idempotency_key = "";
    check_single_problem(r, "idempotency_key");
    r.idempotency_key = std::string(129, 'k');
    check_single_problem(r, "idempotency_key");
    r.idempotency_key = "key with spaces";
    check_single_problem(r, "idempotency_key");
  }
  SUBCASE("negative amount") {
    co::Request r = good;
    r.amount_minor = -1;
    check_single_problem(r, "amount");
    r.amount_minor = std::numeric_limits<std::int64_t>::min();
    check_single_problem(r, "amount");
  }
  SUBCASE("token: required, at most 4 KiB") {
    co::Request r = good;
    r.token = "";
    check_single_problem(r, "token_or_reference required");
    r.token = std::string(4097, 'x');
    check_single_problem(r, "token_or_reference must be at most 4096 bytes");
  }
  SUBCASE("payment_handler_id: not empty when present, at most 4 KiB") {
    co::Request r = good;
    r.payment_handler_id = std::string();
    check_single_problem(r, "payment_handler_id cannot be empty");
    r.payment_handler_id = std::string(4097, 'h');
    check_single_problem(r, "payment_handler_id must be at most 4096 bytes");
  }
  SUBCASE("other strings over 4 KiB") {
    const std::string big(4097, 'x');
    {
      co::Request r = good;
      r.ap2_consent_proof = big;
      check_single_problem(r, "ap2_consent_proof");
    }
    {
      co::Request r = good;
      r.customer->email = big;
      check_single_problem(r, "customer.email");
    }
    {
      co::Request r = good;
      r.customer->full_name = big;
      check_single_problem(r, "customer.full_name");
    }
    {
      co::Request r = good;
      r.location->country_code = big;
      check_single_problem(r, "location.country_code");
    }
    {
      co::Request r = good;
      r.location->region = big;
      check_single_problem(r, "location.region");
    }
    {
      co::Request r = good;
      r.location->postal_code = big;
      check_single_problem(r, "location.postal_code");
    }
  }
}

TEST_CASE("checkout validate: long-string problems keep the order of the fields") {
  co::Request r = request_for(ready_cart());
  const std::string big(4097, 'x');
  r.token = big;
  r.payment_handler_id = big;
  r.ap2_consent_proof = big;
  r.customer = co::Customer{big, big};
  r.location = co::Location{big, big, big};
  auto p = co::validate(r);
  REQUIRE(p.size() == 8);
  CHECK(contains(p[0], "token_or_reference"));
  CHECK(contains(p[1], "payment_handler_id"));
  CHECK(contains(p[2], "ap2_consent_proof"));
  CHECK(contains(p[3], "customer.email"));
  CHECK(contains(p[4], "customer.full_name"));
  CHECK(contains(p[5], "location.country_code"));
  CHECK(contains(p[6], "location.region"));
  CHECK(contains(p[7], "location.postal_code"));
}

// ------------------------------------------------------------- fingerprint

TEST_CASE("checkout fingerprint: 64 lowercase hex digits, stable") {
  const co::Request r = request_for(ready_cart());
  const std::string fp = co::fingerprint(r);
  REQUIRE(fp.size() == 64);
  for (char c : fp) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')));
  co::Request copy = r;
  CHECK(co::fingerprint(copy) == fp);
  CHECK(co::fingerprint(r) == fp);
}

TEST_CASE("checkout fingerprint: any change of any field changes it") {
  const co::Request base = request_for(ready_cart());
  const std::string fp = co::fingerprint(base);

  using Change = std::function<void(co::Request&)>;
  const std::vector<std::pair<const char*, Change>> changes = {
      {"tenant_id", [](co::Request& r) { r.tenant_id = "t2"; }},
      {"merchant_id", [](co::Request& r) { r.merchant_id = "m2"; }},
      {"cart_id", [](co::Request& r) { r.cart_id = "cart-2"; }},
      {"cart_version", [](co::Request& r) { r.cart_version += 1; }},
      {"currency", [](co::Request& r) { r.currency = "EUR"; }},
      {"customer absent", [](co::Request& r) { r.customer.reset(); }},
      {"customer empty", [](co::Request& r) { r.customer = co::Customer{}; }},
      {"customer.email", [](co::Request& r) { r.customer->email = "x@y.z"; }},
      {"customer.email absent", [](co::Request& r) { r.customer->email.reset(); }},
      {"customer.email empty", [](co::Request& r) { r.customer->email = ""; }},
      {"customer.full_name", [](co::Request& r) { r.customer->full_name = "John Doe"; }},
      {"customer.full_name absent", [](co::Request& r) { r.customer->full_name.reset(); }},
      {"location absent", [](co::Request& r) { r.location.reset(); }},
      {"location empty", [](co::Request& r) { r.location = co::Location{}; }},
      {"location.country_code", [](co::Request& r) { r.location->country_code = "DE"; }},
      {"location.country_code case", [](co::Request& r) { r.location->country_code = "us"; }},
      {"location.country_code absent", [](co::Request& r) { r.location->country_code.reset(); }},
      {"location.region", [](co::Request& r) { r.location->region = "NY"; }},
      {"location.region absent", [](co::Request& r) { r.location->region.reset(); }},
      {"location.postal_code", [](co::Request& r) { r.location->postal_code = "10001"; }},
      {"location.postal_code absent", [](co::Request& r) { r.location->postal_code.reset(); }},
      {"amount_minor", [](co::Request& r) { r.amount_minor += 1; }},
      {"token", [](co::Request& r) { r.token = "tok_124"; }},
      {"ap2_consent_proof", [](co::Request& r) { r.ap2_consent_proof = "{}"; }},
      {"ap2_consent_proof empty", [](co::Request& r) { r.ap2_consent_proof = ""; }},
      {"payment_handler_id", [](co::Request& r) { r.payment_handler_id = "h1"; }},
      {"payment_handler_id empty", [](co::Request& r) { r.payment_handler_id = ""; }},
      {"idempotency_key", [](co::Request& r) { r.idempotency_key = "idem_2"; }},
  };
  std::set<std::string> seen{fp};
  for (const auto& [name, change] : changes) {
    CAPTURE(name);
    co::Request r = base;
    change(r);
    const std::string other = co::fingerprint(r);
    CHECK(other.size() == 64);
    CHECK(other != fp);
    seen.insert(other);
  }
  // Every variant is also different from every other one.
  CHECK(seen.size() == changes.size() + 1);
}

TEST_CASE("checkout fingerprint: no ambiguity between neighbouring fields") {
  co::Request a = request_for(ready_cart());
  co::Request b = a;
  a.tenant_id = "t1";
  a.merchant_id = "m1x";
  b.tenant_id = "t1m";
  b.merchant_id = "1x";
  CHECK(co::fingerprint(a) != co::fingerprint(b));

  co::Request c = request_for(ready_cart());
  co::Request d = c;
  c.customer = co::Customer{std::string("a"), std::nullopt};
  d.customer = co::Customer{std::nullopt, std::string("a")};
  CHECK(co::fingerprint(c) != co::fingerprint(d));

  // A value that looks like JSON syntax cannot forge another field.
  co::Request e = request_for(ready_cart());
  co::Request f = e;
  e.token = "tok\",\"ap2_consent_proof\":\"p";
  e.ap2_consent_proof.reset();
  f.token = "tok";
  f.ap2_consent_proof = "p";
  CHECK(co::fingerprint(e) != co::fingerprint(f));
}

// -------------------------------------------------------------- check_cart

TEST_CASE("check_cart: a ready cart with a matching request passes") {
  Cart c = ready_cart();
  REQUIRE(c.version == 5);
  REQUIRE(c.total_minor == 2370);
  CHECK(co::check_cart(c, request_for(c)).ok());
}

TEST_CASE("check_cart: missing cart is NOT_FOUND") {
  Cart none;
  co::Request r = request_for(ready_cart());
  CHECK(cart_err(none, r).code == Code::not_found);
}

TEST_CASE("check_cart: a cart held by a running checkout is CART_ALREADY_CHECKED_OUT naming it") {
  Cart c = locked(ready_cart(), "txn_running");
  Error e = cart_err(c, request_for(ready_cart()));
  CHECK(e.code == Code::cart_already_checked_out);
  CHECK(contains(e.message, "txn_running"));
}

TEST_CASE("check_cart: a checked-out cart is CART_ALREADY_CHECKED_OUT naming the transaction") {
  Cart c = checked_out(ready_cart(), "txn_done");
  Error e = cart_err(c, request_for(ready_cart()));
  CHECK(e.code == Code::cart_already_checked_out);
  CHECK(contains(e.message, "txn_done"));
  SUBCASE("before the version check") {
    co::Request r = request_for(ready_cart());
    r.cart_version = 99;
    CHECK(cart_err(c, r).code == Code::cart_already_checked_out);
  }
}

TEST_CASE("check_cart: a released cart can be checked out again") {
  Cart c = ready_cart();
  apply(c, ev(CheckoutStarted{"txn_failed"}));
  apply(c, ev(CheckoutReleased{"txn_failed"}));
  CHECK(co::check_cart(c, request_for(ready_cart())).ok());
}

TEST_CASE("check_cart: version mismatch is CART_VERSION_CONFLICT with both versions") {
  Cart c = ready_cart();
  co::Request r = request_for(c);
  r.cart_version = 4;
  Error e = cart_err(c, r);
  CHECK(e.code == Code::cart_version_conflict);
  CHECK(contains(e.message, "4"));
  CHECK(contains(e.message, "5"));
  SUBCASE("before readiness, emptiness and amounts") {
    Cart draft = new_cart();  // version 1, draft, empty
    co::Request q = request_for(c);
    q.cart_version = 7;
    q.amount_minor = 1;
    CHECK(cart_err(draft, q).code == Code::cart_version_conflict);
  }
}

TEST_CASE("check_cart: a draft cart is CART_NOT_READY") {
  Cart c = new_cart();
  add_line(c, "l1", "rose", 1000, 1);  // version 2, draft
  co::Request r = request_for(c);
  Error e = cart_err(c, r);
  CHECK(e.code == Code::cart_not_ready);
  SUBCASE("a mutation after start_checkout makes it not ready again") {
    Cart m = ready_cart();
    add_line(m, "l3", "vase", 700, 1);
    CHECK(cart_err(m, request_for(m)).code == Code::cart_not_ready);
  }
}

TEST_CASE("check_cart: a ready cart without lines is CART_EMPTY") {
  Cart c = new_cart();
  apply(c, ev(CheckoutReady{}));
  co::Request r = request_for(c);
  REQUIRE(c.status == CartStatus::checkout_ready);
  CHECK(cart_err(c, r).code == Code::cart_empty);
}

TEST_CASE("check_cart: currency and merchant mismatches are one VALIDATION_ERROR listing both") {
  Cart c = ready_cart();
  SUBCASE("currency") {
    co::Request r = request_for(c);
    r.currency = "EUR";
    Error e = cart_err(c, r);
    CHECK(e.code == Code::validation_mismatch);  // VALIDATION_ERROR, 422
    REQUIRE(e.details.size() == 1);
    CHECK(contains(e.details[0], "EUR"));
    CHECK(contains(e.details[0], "USD"));
  }
  SUBCASE("merchant") {
    co::Request r = request_for(c);
    r.merchant_id = "m2";
    Error e = cart_err(c, r);
    CHECK(e.code == Code::validation_mismatch);  // VALIDATION_ERROR, 422
    REQUIRE(e.details.size() == 1);
    CHECK(contains(e.details[0], "m2"));
    CHECK(contains(e.details[0], "m1"));
  }
  SUBCASE("both, before the amount") {
    co::Request r = request_for(c);
    r.currency = "EUR";
    r.merchant_id = "m2";
    r.amount_minor = 1;
    Error e = cart_err(c, r);
    CHECK(e.code == Code::validation_mismatch);  // VALIDATION_ERROR, 422
    REQUIRE(e.details.size() == 2);
    CHECK(contains(e.details[0], "currency"));
    CHECK(contains(e.details[1], "merchant_id"));
    CHECK(contains(e.message, "currency"));
    CHECK(contains(e.message, "merchant_id"));
  }
}

TEST_CASE("check_cart: amount different from the cart total is AMOUNT_MISMATCH") {
  Cart c = ready_cart();
  for (std::int64_t amount : {std::int64_t{2369}, std::int64_t{2371}, std::int64_t{0}}) {
    CAPTURE(amount);
    co::Request r = request_for(c);
    r.amount_minor = amount;
    Error e = cart_err(c, r);
    CHECK(e.code == Code::amount_mismatch);
    CHECK(contains(e.message, std::to_string(amount)));
    CHECK(contains(e.message, "2370"));
  }
}

TEST_CASE("geo_rejection names the request's country, or says it is unknown") {
  CHECK(co::geo_rejection(co::Location{std::string("ZZ"), {}, {}}) == "geo: country ZZ is not allowed");
  CHECK(co::geo_rejection(co::Location{}) == "geo: country unknown is not allowed");
  CHECK(co::geo_rejection(std::nullopt) == "geo: country unknown is not allowed");
}

// ------------------------------------------------------- policy_violations

TEST_CASE("policy: no policy refuses nothing") {
  co::Policy p;
  CHECK(co::policy_violations(p, 1'000'000'000, co::Location{std::string("US"), {}, {}}).empty());
  CHECK(co::policy_violations(p, 0, std::nullopt).empty());
}

TEST_CASE("policy: max total, equal allowed, above refused") {
  co::Policy p;
  p.max_total_minor = 5000;
  CHECK(co::policy_violations(p, 4999, std::nullopt).empty());
  CHECK(co::policy_violations(p, 5000, std::nullopt).empty());
  auto v = co::policy_violations(p, 5001, std::nullopt);
  REQUIRE(v.size() == 1);
  CHECK(v[0] == "total 5001 exceeds max allowed 5000");
}

TEST_CASE("policy: blocked countries compared case-insensitively") {
  co::Policy p;
  p.blocked_countries = {"KP", "ir"};
  for (const char* cc : {"KP", "kp", "Kp", "IR", "ir", "iR"}) {
    CAPTURE(cc);
    auto v = co::policy_violations(p, 100, co::Location{std::string(cc), {}, {}});
    REQUIRE(v.size() == 1);
    CHECK(v[0] == std::string("country ") + cc + " is not allowed");
  }
  CHECK(co::policy_violations(p, 100, co::Location{std::string("US"), {}, {}}).empty());
  CHECK(co::policy_violations(p, 100, co::Location{std::string("K"), {}, {}}).empty());
  CHECK(co::policy_violations(p, 100, co::Location{std::string("KPX"), {}, {}}).empty());
  SUBCASE("no location or no country code: nothing to refuse") {
    CHECK(co::policy_violations(p, 100, std::nullopt).empty());
    CHECK(co::policy_violations(p, 100, co::Location{std::nullopt, std::string("KP"), std::string("KP")})
              .empty());
  }
}

TEST_CASE("policy: both reasons together, total first") {
  co::Policy p;
  p.max_total_minor = 100;
  p.blocked_countries = {"DE"};
  auto v = co::policy_violations(p, 101, co::Location{std::string("de"), {}, {}});
  REQUIRE(v.size() == 2);
  CHECK(v[0] == "total 101 exceeds max allowed 100");
  CHECK(v[1] == "country de is not allowed");
}
