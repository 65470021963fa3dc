// Cart commands over HTTP (api.md 3; seed-reference 3.5, 5, 18) against the
// demo flower shop: bouquet_roses 3500 (stock 1000), pot_ceramic 1500 (2000),
// bouquet_sunflowers 2500 (500), gardenias 2000 (stock 0); discount codes
// 10OFF and WELCOME20 (percentage), FIXED500 (fixed 500); demo tax = floor(10%
// of (subtotal - discount)).
#include <latch>
#include <set>
#include <thread>

#include "harness.hpp"

using namespace bb;

namespace {

struct Dev {
  ServerProcess server;
  Api api{server.port()};
};

std::string line_id(const Response& r, std::size_t i) { return r["lines"][i]["line_id"].s().value_or(""); }

void check_totals(const Response& r, std::int64_t subtotal, std::int64_t discount, std::int64_t tax,
                  std::int64_t total) {
  INFO("cart: " << r.body);
  CHECK(r["subtotal_minor"].i() == subtotal);
  CHECK(r["discount_minor"].i() == discount);
  CHECK(r["tax_minor"].i() == tax);
  CHECK(r["total_minor"].i() == total);
  check_cart_invariants(r);
}

bool mentions(const Response& r, std::string_view word) {
  return r["error"].s().value_or("").find(word) != std::string::npos;
}

}  // namespace

TEST_SUITE("cart") {

TEST_CASE("create_cart returns a fresh draft cart with every projection field") {
  Dev d;
  auto r = d.api.create_cart("flower_shop", "USD");
  REQUIRE(r.status == 200);
  auto id = r["cart_id"].s();
  REQUIRE(id.has_value());
  CHECK(id->size() == 36);
  for (char c : *id) CHECK(((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-'));
  CHECK(r.version() == 1);
  CHECK(r["status"].s() == "draft");
  CHECK(r["currency"].s() == "USD");
  CHECK(r["merchant_id"].s() == "flower_shop");
  CHECK(r["tenant_id"].s() == "dev");
  CHECK(r["checkout"].is_null());
  CHECK(r["lines"].is_array());
  CHECK(r["lines"].size() == std::size_t{0});
  CHECK(r["adjustments"].size() == std::size_t{0});
  CHECK(r["geo_ok"].b() == true);
  check_totals(r, 0, 0, 0, 0);

  auto r2 = d.api.create_cart("flower_shop", "EUR");
  REQUIRE(r2.status == 200);
  CHECK(r2["cart_id"].s() != id);
  CHECK(r2["currency"].s() == "EUR");
  CHECK(r2.version() == 1);
}

TEST_CASE("add_item prices the line from the catalog and always adds a new line") {
  Dev d;
  auto cart = d.api.new_cart();
  auto r = d.api.add_item(cart, "bouquet_roses", 2);
  REQUIRE(r.status == 200);
  CHECK(r["cart_id"].s() == cart);
  CHECK(r.version() == 2);
  REQUIRE(r["lines"].size() == std::size_t{1});
  J l = r["lines"][0];
  CHECK(l["item_id"].s() == "bouquet_roses");
  CHECK(l["title"].s() == "Bouquet of Red Roses");
  CHECK(l["quantity"].i() == 2);
  CHECK(l["unit_price_minor"].i() == 3500);
  CHECK(l["total_minor"].i() == 7000);
  CHECK(l["line_id"].s().value_or("").rfind("li_", 0) == 0);
  CHECK(r["status"].s() == "draft");
  check_totals(r, 7000, 0, 700, 7700);

  auto r2 = d.api.add_item(cart, "pot_ceramic", 1);
  REQUIRE(r2.status == 200);
  CHECK(r2.version() == 3);
  REQUIRE(r2["lines"].size() == std::size_t{2});
  CHECK(r2["lines"][1]["title"].s() == "Ceramic Pot");
  CHECK(r2["lines"][1]["total_minor"].i() == 1500);
  check_totals(r2, 8500, 0, 850, 9350);

  // The same item again: a second line, never merged (api.md 9).
  auto r3 = d.api.add_item(cart, "bouquet_roses", 1);
  REQUIRE(r3.status == 200);
  CHECK(r3.version() == 4);
  REQUIRE(r3["lines"].size() == std::size_t{3});
  CHECK(r3["lines"][2]["item_id"].s() == "bouquet_roses");
  CHECK(r3["lines"][2]["quantity"].i() == 1);
  CHECK(line_id(r3, 2) != line_id(r3, 0));
  CHECK(line_id(r3, 0) == line_id(r, 0));
  check_totals(r3, 12000, 0, 1200, 13200);
}

TEST_CASE("update_item_qty sets the quantity and recomputes totals") {
  Dev d;
  auto cart = d.api.new_cart();
  auto r = d.api.add_item(cart, "bouquet_roses", 2);
  REQUIRE(r.status == 200);
  auto line = line_id(r, 0);
  auto u = d.api.update_item_qty(cart, line, 5);
  REQUIRE(u.status == 200);
  CHECK(u.version() == 3);
  REQUIRE(u["lines"].size() == std::size_t{1});
  CHECK(u["lines"][0]["line_id"].s() == line);
  CHECK(u["lines"][0]["quantity"].i() == 5);
  CHECK(u["lines"][0]["total_minor"].i() == 17500);
  check_totals(u, 17500, 0, 1750, 19250);

  auto down = d.api.update_item_qty(cart, line, 1);
  REQUIRE(down.status == 200);
  CHECK(down.version() == 4);
  check_totals(down, 3500, 0, 350, 3850);
}

TEST_CASE("update_item_qty to 0 removes the line") {
  Dev d;
  auto cart = d.api.new_cart();
  auto a = d.api.add_item(cart, "bouquet_roses", 2);
  auto b = d.api.add_item(cart, "pot_ceramic", 3);
  REQUIRE(b.status == 200);
  auto u = d.api.update_item_qty(cart, line_id(a, 0), 0);
  REQUIRE(u.status == 200);
  CHECK(u.version() == 4);
  REQUIRE(u["lines"].size() == std::size_t{1});
  CHECK(u["lines"][0]["item_id"].s() == "pot_ceramic");
  check_totals(u, 4500, 0, 450, 4950);
  // The removed line is gone for good.
  auto again = d.api.update_item_qty(cart, line_id(a, 0), 1);
  CHECK(again.status == 404);
  CHECK(again.code() == "LINE_NOT_FOUND");
}

TEST_CASE("remove_item removes exactly that line") {
  Dev d;
  auto cart = d.api.new_cart();
  auto a = d.api.add_item(cart, "bouquet_roses", 1);
  auto b = d.api.add_item(cart, "bouquet_tulips", 2);
  REQUIRE(b.status == 200);
  auto r = d.api.remove_item(cart, line_id(a, 0));
  REQUIRE(r.status == 200);
  CHECK(r.version() == 4);
  REQUIRE(r["lines"].size() == std::size_t{1});
  CHECK(r["lines"][0]["line_id"].s() == line_id(b, 1));
  CHECK(r["lines"][0]["title"].s() == "Spring Tulips");
  check_totals(r, 6000, 0, 600, 6600);

  auto again = d.api.remove_item(cart, line_id(a, 0));
  CHECK(again.status == 404);
  CHECK(again.code() == "LINE_NOT_FOUND");
  auto last = d.api.remove_item(cart, line_id(b, 1));
  REQUIRE(last.status == 200);
  CHECK(last.version() == 5);
  CHECK(last["lines"].size() == std::size_t{0});
  check_totals(last, 0, 0, 0, 0);
}

TEST_CASE("apply_adjustment 10OFF discounts the cart and tax follows the discounted subtotal") {
  Dev d;
  auto cart = d.api.new_cart();
  REQUIRE(d.api.add_item(cart, "bouquet_roses", 2).status == 200);
  auto r = d.api.apply_adjustment(cart, "10OFF");
  REQUIRE(r.status == 200);
  CHECK(r.version() == 3);
  REQUIRE(r["adjustments"].size() == std::size_t{1});
  CHECK(r["adjustments"][0]["code"].s() == "10OFF");
  CHECK(r["adjustments"][0]["amount_minor"].i() == 700);
  check_totals(r, 7000, 700, 630, 6930);

  SUBCASE("the same code twice is a no-op") {
    auto again = d.api.apply_adjustment(cart, "10OFF");
    REQUIRE(again.status == 200);
    CHECK(again.version() == 3);
    CHECK(again["adjustments"].size() == std::size_t{1});
    CHECK(again.body == r.body);
    CHECK(d.api.get_cart(cart).body == r.body);
  }
  SUBCASE("the discount follows later changes of the cart") {
    auto more = d.api.add_item(cart, "pot_ceramic", 1);
    REQUIRE(more.status == 200);
    CHECK(more.version() == 4);
    CHECK(more["adjustments"][0]["amount_minor"].i() == 850);
    check_totals(more, 8500, 850, 765, 8415);
  }
}

TEST_CASE("apply_adjustment FIXED500 takes 500 off, never more than the subtotal") {
  Dev d;
  auto cart = d.api.new_cart();
  REQUIRE(d.api.add_item(cart, "bouquet_roses", 2).status == 200);
  auto r = d.api.apply_adjustment(cart, "FIXED500");
  REQUIRE(r.status == 200);
  CHECK(r.version() == 3);
  CHECK(r["adjustments"][0]["code"].s() == "FIXED500");
  CHECK(r["adjustments"][0]["amount_minor"].i() == 500);
  check_totals(r, 7000, 500, 650, 7150);

  auto empty = d.api.new_cart();
  auto e = d.api.apply_adjustment(empty, "FIXED500");
  REQUIRE(e.status == 200);
  check_totals(e, 0, 0, 0, 0);
  auto e2 = d.api.add_item(empty, "pot_ceramic", 1);
  REQUIRE(e2.status == 200);
  check_totals(e2, 1500, 500, 100, 1100);
}

TEST_CASE("an unknown discount code is 422 ADJUSTMENT_REJECTED and changes nothing") {
  Dev d;
  auto cart = d.api.new_cart();
  auto before = d.api.add_item(cart, "bouquet_roses", 2);
  REQUIRE(before.status == 200);
  auto r = d.api.apply_adjustment(cart, "NOPE99");
  CHECK(r.status == 422);
  CHECK(r.code() == "ADJUSTMENT_REJECTED");
  CHECK(mentions(r, "NOPE99"));
  CHECK(d.api.get_cart(cart).body == before.body);
}

TEST_CASE("get_cart returns the latest projection and is read-only") {
  Dev d;
  auto cart = d.api.new_cart();
  auto last = d.api.add_item(cart, "orchid_white", 1);
  REQUIRE(last.status == 200);
  auto g1 = d.api.get_cart(cart);
  auto g2 = d.api.get_cart(cart);
  REQUIRE(g1.status == 200);
  CHECK(g1.version() == 2);
  CHECK(g1.body == last.body);
  CHECK(g2.body == g1.body);
  check_totals(g1, 4500, 0, 450, 4950);
}

TEST_CASE("start_checkout makes the cart checkout_ready and is idempotent at the same version") {
  Dev d;
  auto cart = d.api.new_cart();
  REQUIRE(d.api.add_item(cart, "bouquet_roses", 2).status == 200);
  auto s1 = d.api.start_checkout(cart, 2);
  REQUIRE(s1.status == 200);
  CHECK(s1.version() == 3);
  CHECK(s1["status"].s() == "checkout_ready");
  CHECK(s1["checkout"].is_null());
  check_totals(s1, 7000, 0, 700, 7700);

  // Reference bug 17.1-2: the second call saved version+1 and then failed with 500.
  auto s2 = d.api.start_checkout(cart, 2);
  CHECK(s2.status == 200);
  CHECK(s2.version() == 3);
  CHECK(s2.body == s1.body);
  // At the version it now has, too.
  auto s3 = d.api.start_checkout(cart, 3);
  CHECK(s3.status == 200);
  CHECK(s3.body == s1.body);
  auto g = d.api.get_cart(cart);
  CHECK(g.version() == 3);
  CHECK(g["status"].s() == "checkout_ready");

  // An empty cart can be made ready too (the reference's tests rely on it).
  auto empty = d.api.new_cart();
  auto e = d.api.start_checkout(empty, 1);
  CHECK(e.status == 200);
  CHECK(e.version() == 2);
  CHECK(e["status"].s() == "checkout_ready");
}

TEST_CASE("start_checkout with a stale version is 409 CART_VERSION_CONFLICT") {
  Dev d;
  auto cart = d.api.new_cart();
  REQUIRE(d.api.add_item(cart, "bouquet_roses", 1).status == 200);
  REQUIRE(d.api.add_item(cart, "bouquet_roses", 1).status == 200);  // version 3
  auto r = d.api.start_checkout(cart, 1);
  CHECK(r.status == 409);
  CHECK(r.code() == "CART_VERSION_CONFLICT");
  auto future = d.api.start_checkout(cart, 9);
  CHECK(future.status == 409);
  CHECK(future.code() == "CART_VERSION_CONFLICT");
  auto g = d.api.get_cart(cart);
  CHECK(g.version() == 3);
  CHECK(g["status"].s() == "draft");
  auto zero = d.api.start_checkout(cart, 0);
  CHECK(zero.status == 400);
  CHECK(zero.code() == "VALIDATION_ERROR");
  CHECK(mentions(zero, "cart_version"));
}

TEST_CASE("mutating a checkout_ready cart puts it back to draft") {
  Dev d;
  auto cart = d.api.new_cart();
  auto a = d.api.add_item(cart, "bouquet_roses", 2);
  REQUIRE(a.status == 200);
  REQUIRE(d.api.start_checkout(cart, 2).status == 200);  // v3

  SUBCASE("add_item") {
    auto r = d.api.add_item(cart, "pot_ceramic", 1);
    REQUIRE(r.status == 200);
    CHECK(r.version() == 4);
    CHECK(r["status"].s() == "draft");
    auto s = d.api.start_checkout(cart, 4);
    REQUIRE(s.status == 200);
    CHECK(s.version() == 5);
    CHECK(s["status"].s() == "checkout_ready");
  }
  SUBCASE("update_item_qty") {
    auto r = d.api.update_item_qty(cart, line_id(a, 0), 3);
    REQUIRE(r.status == 200);
    CHECK(r.version() == 4);
    CHECK(r["status"].s() == "draft");
  }
  SUBCASE("remove_item") {
    auto r = d.api.remove_item(cart, line_id(a, 0));
    REQUIRE(r.status == 200);
    CHECK(r.version() == 4);
    CHECK(r["status"].s() == "draft");
  }
  SUBCASE("apply_adjustment") {
    auto r = d.api.apply_adjustment(cart, "WELCOME20");
    REQUIRE(r.status == 200);
    CHECK(r.version() == 4);
    CHECK(r["status"].s() == "draft");
    check_totals(r, 7000, 1400, 560, 6160);
  }
}

TEST_CASE("any number of mutations in a row each bump the version by one") {
  // Reference bug 17.1-1: the second mutation failed with 500.
  Dev d;
  auto cart = d.api.new_cart();
  auto r2 = d.api.add_item(cart, "bouquet_roses", 1);
  REQUIRE(r2.status == 200);
  CHECK(r2.version() == 2);
  auto r3 = d.api.add_item(cart, "pot_ceramic", 2);
  REQUIRE(r3.status == 200);
  CHECK(r3.version() == 3);
  auto r4 = d.api.update_item_qty(cart, line_id(r2, 0), 4);
  REQUIRE(r4.status == 200);
  CHECK(r4.version() == 4);
  auto r5 = d.api.remove_item(cart, line_id(r3, 1));
  REQUIRE(r5.status == 200);
  CHECK(r5.version() == 5);
  auto r6 = d.api.add_item(cart, "bouquet_sunflowers", 3);
  REQUIRE(r6.status == 200);
  CHECK(r6.version() == 6);
  REQUIRE(r6["lines"].size() == std::size_t{2});
  CHECK(r6["lines"][0]["quantity"].i() == 4);
  CHECK(r6["lines"][1]["item_id"].s() == "bouquet_sunflowers");
  check_totals(r6, 14000 + 7500, 0, 2150, 23650);
  CHECK(d.api.get_cart(cart).body == r6.body);
}

TEST_CASE("expected_version: a match applies, a mismatch is 409 CART_VERSION_CONFLICT") {
  Dev d;
  auto cart = d.api.new_cart();
  auto a = d.api.add_item(cart, "bouquet_roses", 1, 1);
  REQUIRE(a.status == 200);
  CHECK(a.version() == 2);
  auto line = line_id(a, 0);

  auto stale_add = d.api.add_item(cart, "bouquet_roses", 1, 1);
  CHECK(stale_add.status == 409);
  CHECK(stale_add.code() == "CART_VERSION_CONFLICT");
  CHECK(mentions(stale_add, "1"));
  CHECK(mentions(stale_add, "2"));
  auto stale_update = d.api.update_item_qty(cart, line, 3, 7);
  CHECK(stale_update.status == 409);
  CHECK(stale_update.code() == "CART_VERSION_CONFLICT");
  auto stale_remove = d.api.remove_item(cart, line, 1);
  CHECK(stale_remove.status == 409);
  CHECK(stale_remove.code() == "CART_VERSION_CONFLICT");
  auto stale_adj = d.api.apply_adjustment(cart, "10OFF", 3);
  CHECK(stale_adj.status == 409);
  CHECK(stale_adj.code() == "CART_VERSION_CONFLICT");
  CHECK(d.api.get_cart(cart).body == a.body);

  auto ok = d.api.update_item_qty(cart, line, 3, 2);
  REQUIRE(ok.status == 200);
  CHECK(ok.version() == 3);
  auto ok2 = d.api.apply_adjustment(cart, "10OFF", 3);
  REQUIRE(ok2.status == 200);
  CHECK(ok2.version() == 4);
  auto ok3 = d.api.remove_item(cart, line, 4);
  REQUIRE(ok3.status == 200);
  CHECK(ok3.version() == 5);
}

TEST_CASE("an unknown line is 404 LINE_NOT_FOUND") {
  Dev d;
  auto cart = d.api.new_cart();
  auto a = d.api.add_item(cart, "bouquet_roses", 1);
  REQUIRE(a.status == 200);
  auto u = d.api.update_item_qty(cart, "li_does-not-exist", 2);
  CHECK(u.status == 404);
  CHECK(u.code() == "LINE_NOT_FOUND");
  auto r = d.api.remove_item(cart, "li_does-not-exist");
  CHECK(r.status == 404);
  CHECK(r.code() == "LINE_NOT_FOUND");
  CHECK(d.api.get_cart(cart).body == a.body);
}

TEST_CASE("an unknown item is 404 ITEM_NOT_FOUND and changes nothing") {
  Dev d;
  auto cart = d.api.new_cart();
  auto r = d.api.add_item(cart, "pink_wumpus", 1);
  CHECK(r.status == 404);
  CHECK(r.code() == "ITEM_NOT_FOUND");
  CHECK(mentions(r, "pink_wumpus"));
  auto g = d.api.get_cart(cart);
  CHECK(g.version() == 1);
  CHECK(g["lines"].size() == std::size_t{0});
}

TEST_CASE("out of stock is 409 OUT_OF_STOCK, counted over all lines of the item") {
  Dev d;
  auto cart = d.api.new_cart();
  auto g = d.api.add_item(cart, "gardenias", 1);
  CHECK(g.status == 409);
  CHECK(g.code() == "OUT_OF_STOCK");
  CHECK(mentions(g, "gardenias"));

  // bouquet_sunflowers: 500 in stock.
  auto a = d.api.add_item(cart, "bouquet_sunflowers", 300);
  REQUIRE(a.status == 200);
  auto over = d.api.add_item(cart, "bouquet_sunflowers", 201);
  CHECK(over.status == 409);
  CHECK(over.code() == "OUT_OF_STOCK");
  auto exact = d.api.add_item(cart, "bouquet_sunflowers", 200);
  REQUIRE(exact.status == 200);
  CHECK(exact.version() == 3);
  auto one_more = d.api.add_item(cart, "bouquet_sunflowers", 1);
  CHECK(one_more.status == 409);
  CHECK(one_more.code() == "OUT_OF_STOCK");
  // Raising one line over what the other leaves.
  auto up = d.api.update_item_qty(cart, line_id(a, 0), 301);
  CHECK(up.status == 409);
  CHECK(up.code() == "OUT_OF_STOCK");
  auto down = d.api.update_item_qty(cart, line_id(a, 0), 299);
  REQUIRE(down.status == 200);
  CHECK(down.version() == 4);
  auto g2 = d.api.get_cart(cart);
  CHECK(g2.body == down.body);
  check_totals(g2, 499 * 2500, 0, 499 * 250, 499 * 2750);
}

TEST_CASE("an unknown cart is 404 NOT_FOUND for every command") {
  Dev d;
  auto ghost = random_uuid();
  std::vector<Response> rs = {
      d.api.add_item(ghost, "bouquet_roses", 1), d.api.update_item_qty(ghost, "li_x", 1),
      d.api.remove_item(ghost, "li_x"),          d.api.apply_adjustment(ghost, "10OFF"),
      d.api.get_cart(ghost),                     d.api.start_checkout(ghost, 1),
  };
  for (const auto& r : rs) {
    INFO(r.body);
    CHECK(r.status == 404);
    CHECK(r.code() == "NOT_FOUND");
  }
}

TEST_CASE("a command that needs a cart without cart_id is 400 MISSING_CART_ID") {
  Dev d;
  for (std::string cmd : {R"({"kind":"add_item","item_id":"bouquet_roses","quantity":1})",
                          R"({"kind":"update_item_qty","line_id":"li_x","quantity":1})",
                          R"({"kind":"remove_item","line_id":"li_x"})",
                          R"({"kind":"apply_adjustment","code":"10OFF"})"}) {
    auto r = d.api.command(cmd);
    INFO(cmd << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.code() == "MISSING_CART_ID");
    auto n = d.api.raw_body("{\"command\":" + cmd + ",\"cart_id\":null}");
    CHECK(n.status == 400);
    CHECK(n.code() == "MISSING_CART_ID");
  }
}

TEST_CASE("a cart_id that is not a UUID is 400 BAD_REQUEST") {
  Dev d;
  auto cart = d.api.new_cart();
  std::vector<std::string> bads = {"not-a-uuid", "", "12345", std::string(cart).replace(0, 1, "g"),
                                   cart + "0", std::string(129, 'a')};
  for (const auto& bad : bads) {
    INFO("cart_id '" << bad << "'");
    auto a = d.api.add_item(bad, "bouquet_roses", 1);
    CHECK(a.status == 400);
    CHECK(a.code() == "BAD_REQUEST");
    auto g = d.api.get_cart(bad);
    CHECK(g.status == 400);
    CHECK(g.code() == "BAD_REQUEST");
    auto s = d.api.start_checkout(bad, 1);
    CHECK(s.status == 400);
    CHECK(s.code() == "BAD_REQUEST");
  }
  // Parsed even where unused (create_cart), as the reference does.
  auto c = d.api.command(R"({"kind":"create_cart","merchant_id":"m","currency":"USD"})", "zzz");
  CHECK(c.status == 400);
  CHECK(c.code() == "BAD_REQUEST");
  CHECK(d.api.get_cart(cart).version() == 1);
}

TEST_CASE("quantity outside 1..10000 is 400 VALIDATION_ERROR naming the field") {
  Dev d;
  auto cart = d.api.new_cart();
  for (std::int64_t qty : {0LL, -1LL, 10001LL, 4294967296LL, 9223372036854775807LL}) {
    INFO("quantity " << qty);
    auto r = d.api.add_item(cart, "bouquet_roses", qty);
    CHECK(r.status == 400);
    CHECK(r.code() == "VALIDATION_ERROR");
    CHECK(mentions(r, "quantity"));
  }
  // 10000 passes validation; the shop simply has fewer roses.
  auto max = d.api.add_item(cart, "bouquet_roses", 10000);
  CHECK(max.status == 409);
  CHECK(max.code() == "OUT_OF_STOCK");

  auto a = d.api.add_item(cart, "bouquet_roses", 1);
  REQUIRE(a.status == 200);
  for (std::int64_t qty : {-1LL, 10001LL}) {
    auto u = d.api.update_item_qty(cart, line_id(a, 0), qty);
    CHECK(u.status == 400);
    CHECK(u.code() == "VALIDATION_ERROR");
    CHECK(mentions(u, "quantity"));
  }
  CHECK(d.api.get_cart(cart).body == a.body);
}

TEST_CASE("a quantity beyond 64 bits or not an integer is refused, never wrapped") {
  Dev d;
  auto cart = d.api.new_cart();
  auto huge = d.api.command(
      R"({"kind":"add_item","item_id":"bouquet_roses","quantity":99999999999999999999})", cart);
  CHECK(huge.status >= 400);
  CHECK(huge.status < 500);
  auto real = d.api.command(R"({"kind":"add_item","item_id":"bouquet_roses","quantity":2.5})", cart);
  CHECK(real.status == 422);
  CHECK(real.code() == "INVALID_BODY");
  auto g = d.api.get_cart(cart);
  CHECK(g.version() == 1);
  CHECK(g["lines"].size() == std::size_t{0});
}

TEST_CASE("currency must be three uppercase ASCII letters") {
  Dev d;
  for (std::string cur : {"usd", "US", "USDD", "U5D", "", "Usd", "ÜSD"}) {
    auto r = d.api.create_cart("flower_shop", cur);
    INFO("currency '" << cur << "' -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.code() == "VALIDATION_ERROR");
    CHECK(mentions(r, "currency"));
  }
  // Every problem is listed.
  auto both = d.api.create_cart("", "usd");
  CHECK(both.status == 400);
  CHECK(both.code() == "VALIDATION_ERROR");
  CHECK(mentions(both, "merchant_id"));
  CHECK(mentions(both, "currency"));
}

TEST_CASE("ids longer than 128 bytes or not visible ASCII are 400 VALIDATION_ERROR") {
  Dev d;
  std::string id128(128, 'm'), id129(129, 'm');
  auto ok = d.api.create_cart(id128, "USD");
  REQUIRE(ok.status == 200);
  CHECK(ok["merchant_id"].s() == id128);
  auto cart = *ok["cart_id"].s();

  for (std::string bad : {id129, std::string("flower shop"), std::string("tab\there")}) {
    auto r = d.api.create_cart(bad, "USD");
    INFO("merchant_id '" << bad << "'");
    CHECK(r.status == 400);
    CHECK(r.code() == "VALIDATION_ERROR");
    CHECK(mentions(r, "merchant_id"));
  }
  auto item = d.api.add_item(cart, id129, 1);
  CHECK(item.status == 400);
  CHECK(item.code() == "VALIDATION_ERROR");
  CHECK(mentions(item, "item_id"));
  auto line = d.api.update_item_qty(cart, id129, 1);
  CHECK(line.status == 400);
  CHECK(line.code() == "VALIDATION_ERROR");
  CHECK(mentions(line, "line_id"));
  auto rm = d.api.remove_item(cart, id129);
  CHECK(rm.status == 400);
  CHECK(rm.code() == "VALIDATION_ERROR");
  auto code = d.api.apply_adjustment(cart, id129);
  CHECK(code.status == 400);
  CHECK(code.code() == "VALIDATION_ERROR");
  CHECK(mentions(code, "code"));
  auto empty_item = d.api.add_item(cart, "", 1);
  CHECK(empty_item.status == 400);
  CHECK(empty_item.code() == "VALIDATION_ERROR");
  CHECK(d.api.get_cart(cart).version() == 1);
}

TEST_CASE("UUID forms (uppercase, braced, urn:uuid:, simple) address the same cart") {
  Dev d;
  auto cart = d.api.new_cart();
  std::string upper = cart;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string simple;
  for (char c : cart)
    if (c != '-') simple.push_back(c);

  auto a = d.api.add_item(upper, "bouquet_roses", 1);
  REQUIRE(a.status == 200);
  CHECK(a["cart_id"].s() == cart);
  CHECK(a.version() == 2);
  auto b = d.api.add_item("{" + cart + "}", "pot_ceramic", 1);
  REQUIRE(b.status == 200);
  CHECK(b.version() == 3);
  auto c = d.api.add_item("urn:uuid:" + cart, "bouquet_tulips", 1);
  REQUIRE(c.status == 200);
  CHECK(c.version() == 4);
  CHECK(c["cart_id"].s() == cart);
  for (const auto& form : {cart, upper, "{" + cart + "}", "urn:uuid:" + cart, simple}) {
    auto g = d.api.get_cart(form);
    INFO("form " << form);
    REQUIRE(g.status == 200);
    CHECK(g.body == c.body);
  }
  auto s = d.api.start_checkout("{" + upper + "}", 4);
  REQUIRE(s.status == 200);
  CHECK(s["cart_id"].s() == cart);
  CHECK(s.version() == 5);
}

TEST_CASE("a cart holds at most 1000 lines") {
  Dev d;
  auto cart = d.api.new_cart();
  const int n = 8, per_thread = 125;
  std::vector<int> failures(n, 0);
  std::latch go(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      Api api(d.server.port());
      go.arrive_and_wait();
      for (int k = 0; k < per_thread; ++k)
        if (api.add_item(cart, "pot_ceramic", 1).status != 200) ++failures[i];
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) CHECK(failures[i] == 0);
  auto full = d.api.get_cart(cart);
  REQUIRE(full.status == 200);
  CHECK(full.version() == 1001);
  CHECK(full["lines"].size() == std::size_t{1000});
  check_totals(full, 1500000, 0, 150000, 1650000);

  auto more = d.api.add_item(cart, "bouquet_roses", 1);
  CHECK(more.status == 400);
  CHECK(more.code() == "VALIDATION_ERROR");
  CHECK(d.api.get_cart(cart).body == full.body);
  // Other commands still work on the full cart.
  auto upd = d.api.update_item_qty(cart, line_id(full, 999), 2);
  CHECK(upd.status == 200);
  CHECK(upd.version() == 1002);
}

TEST_CASE("arithmetic overflow is 422 AMOUNT_OUT_OF_RANGE, never a wrapped number") {
  TempDir shop;
  write_file(shop.file("products.csv"),
             "id,title,price,image_url\n"
             "gold_bar,Gold Bar,4000000000000000000,https://example.com/gold.jpg\n"
             "tax_bomb,Tax Bomb,8500000000000000000,https://example.com/bomb.jpg\n"
             "penny,Penny,1,https://example.com/penny.jpg\n");
  write_file(shop.file("inventory.csv"), "product_id,quantity\ngold_bar,100000\ntax_bomb,100\npenny,100000\n");
  write_file(shop.file("discounts.csv"),
             "code,type,value,description\n10OFF,percentage,10,10% Off\n"
             "HUGE,fixed_amount,9000000000000000000,Everything\n");
  ServerProcess server(ServerOptions{{{"DEMO_DATA_DIR", shop.path()}}, {}, true, true, ""});
  Api api(server.port());

  auto cart = api.new_cart();
  auto two = api.add_item(cart, "gold_bar", 2);
  REQUIRE(two.status == 200);
  check_totals(two, 8000000000000000000, 0, 800000000000000000, 8800000000000000000);

  auto sum = api.add_item(cart, "gold_bar", 1);  // subtotal 1.2e19
  CHECK(sum.status == 422);
  CHECK(sum.code() == "AMOUNT_OUT_OF_RANGE");
  auto line = api.add_item(cart, "gold_bar", 10000);  // line total 4e22
  CHECK(line.status == 422);
  CHECK(line.code() == "AMOUNT_OUT_OF_RANGE");
  auto upd = api.update_item_qty(cart, line_id(two, 0), 3);
  CHECK(upd.status == 422);
  CHECK(upd.code() == "AMOUNT_OUT_OF_RANGE");
  CHECK(api.get_cart(cart).body == two.body);

  // Percentages of huge amounts are exact.
  auto pct = api.apply_adjustment(cart, "10OFF");
  REQUIRE(pct.status == 200);
  check_totals(pct, 8000000000000000000, 800000000000000000, 720000000000000000, 7920000000000000000);

  // The subtotal fits, the total with tax does not.
  auto bomb_cart = api.new_cart();
  auto bomb = api.add_item(bomb_cart, "tax_bomb", 1);
  CHECK(bomb.status == 422);
  CHECK(bomb.code() == "AMOUNT_OUT_OF_RANGE");
  auto g = api.get_cart(bomb_cart);
  CHECK(g.version() == 1);
  CHECK(g["lines"].size() == std::size_t{0});
  check_totals(g, 0, 0, 0, 0);

  // A fixed discount never takes more than the subtotal.
  auto huge_cart = api.new_cart();
  REQUIRE(api.apply_adjustment(huge_cart, "HUGE").status == 200);
  auto h = api.add_item(huge_cart, "tax_bomb", 1);
  REQUIRE(h.status == 200);
  check_totals(h, 8500000000000000000, 8500000000000000000, 0, 0);
  auto p = api.add_item(huge_cart, "penny", 7);
  REQUIRE(p.status == 200);
  check_totals(p, 8500000000000000007, 8500000000000000007, 0, 0);
}

}  // TEST_SUITE
