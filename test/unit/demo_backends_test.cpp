// src/adapters/demo_backends.hpp: the embedded demo merchant.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "adapters/demo_backends.hpp"
#include "builders.hpp"

using namespace testing;
namespace adapters = orch::adapters;
namespace fs = std::filesystem;

namespace {

adapters::DemoData embedded() {
  auto d = adapters::load_embedded_demo_data();
  INFO(describe(d));
  REQUIRE(d.ok());
  return *d;
}

const char* const kProducts =
    "id,title,price,image_url\n"
    "rose,Rose,3500,https://example.com/r.jpg\n"
    "pot,Pot,1500,https://example.com/p.jpg\n";
const char* const kInventory =
    "product_id,quantity\n"
    "rose,10\n"
    "pot,0\n";
const char* const kDiscounts =
    "code,type,value,description\n"
    "HALF,percentage,50,Half off\n"
    "F1,fixed_amount,100,One off\n";

// A temporary directory with the three demo files; removed at the end.
class DataDir {
 public:
  DataDir(std::string products = kProducts, std::string inventory = kInventory,
          std::string discounts = kDiscounts) {
    std::string tmpl = (fs::temp_directory_path() / "orch_unit_demo_XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
    write("products.csv", products);
    write("inventory.csv", inventory);
    write("discounts.csv", discounts);
  }
  ~DataDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  void write(const std::string& name, const std::string& content) {
    std::ofstream out(fs::path(path_) / name, std::ios::binary);
    out << content;
  }
  void remove(const std::string& name) { fs::remove(fs::path(path_) / name); }
  std::string path() const { return path_; }

 private:
  std::string path_;
};

adapters::DemoData load_ok(const DataDir& dir) {
  auto d = adapters::load_demo_data(dir.path());
  INFO(describe(d));
  REQUIRE(d.ok());
  return *d;
}

adapters::Backends backends_of(adapters::DemoData data) {
  auto b = adapters::make_demo_backends(std::move(data));
  INFO(describe(b));
  REQUIRE(b.ok());
  return *b;
}

Error load_err(const DataDir& dir) {
  auto d = adapters::load_demo_data(dir.path());
  REQUIRE_FALSE(d.ok());
  return d.error();
}

Cart cart_with(std::int64_t subtotal_line, std::int64_t percent_off) {
  Cart c = new_cart();
  add_line(c, "l1", "x", subtotal_line, 1);
  if (percent_off > 0) add_adjustment(c, "P", DiscountKind::percentage, percent_off);
  return c;
}

}  // namespace

// ---------------------------------------------------------------- embedded data

TEST_CASE("embedded demo data: the six flower-shop products with prices and stock") {
  adapters::DemoData d = embedded();
  REQUIRE(d.products.size() == 6);
  struct Expect {
    const char* id;
    const char* title;
    std::int64_t price;
    std::int64_t stock;
  };
  for (const Expect& e : {Expect{"bouquet_roses", "Bouquet of Red Roses", 3500, 1000},
                          Expect{"pot_ceramic", "Ceramic Pot", 1500, 2000},
                          Expect{"bouquet_sunflowers", "Sunflower Bundle", 2500, 500},
                          Expect{"bouquet_tulips", "Spring Tulips", 3000, 1500},
                          Expect{"orchid_white", "White Orchid", 4500, 800},
                          Expect{"gardenias", "Gardenias", 2000, 0}}) {
    CAPTURE(e.id);
    auto it = d.products.find(e.id);
    REQUIRE(it != d.products.end());
    CHECK(it->second.id == e.id);
    CHECK(it->second.title == e.title);
    CHECK(it->second.price_minor == e.price);
    CHECK(it->second.stock == e.stock);
  }
}

TEST_CASE("embedded demo data: the three discount codes") {
  adapters::DemoData d = embedded();
  REQUIRE(d.discounts.size() == 3);
  const auto& ten = d.discounts.at("10OFF");
  CHECK(ten.code == "10OFF");
  CHECK(ten.kind == DiscountKind::percentage);
  CHECK(ten.value == 10);
  CHECK(ten.description == "10% Off");
  const auto& w = d.discounts.at("WELCOME20");
  CHECK(w.kind == DiscountKind::percentage);
  CHECK(w.value == 20);
  const auto& f = d.discounts.at("FIXED500");
  CHECK(f.kind == DiscountKind::fixed_amount);
  CHECK(f.value == 500);
  CHECK(f.description == "$5.00 Off");
}

TEST_CASE("the embedded copy matches demo/flower_shop on disk") {
  auto disk = adapters::load_demo_data(ORCH_DEMO_DIR);
  INFO(describe(disk));
  REQUIRE(disk.ok());
  adapters::DemoData emb = embedded();
  REQUIRE(disk->products.size() == emb.products.size());
  for (const auto& [id, p] : emb.products) {
    CAPTURE(id);
    REQUIRE(disk->products.count(id) == 1);
    CHECK(disk->products.at(id).price_minor == p.price_minor);
    CHECK(disk->products.at(id).stock == p.stock);
    CHECK(disk->products.at(id).title == p.title);
  }
  CHECK(disk->discounts.size() == emb.discounts.size());
}

// ---------------------------------------------------------------- back-ends

TEST_CASE("demo catalog: known items with stock, unknown items are 'no' not an error") {
  adapters::Backends b = backends_of(embedded());
  CHECK(b.in_process);
  REQUIRE(b.catalog);
  REQUIRE(b.pricing);
  REQUIRE(b.tax);
  REQUIRE(b.geo);
  adapters::CallContext call{"req-1", "t1", ""};
  auto roses = b.catalog->get_item(call, "bouquet_roses");
  REQUIRE(roses.ok());
  REQUIRE(roses->has_value());
  CHECK((*roses)->item_id == "bouquet_roses");
  CHECK((*roses)->title == "Bouquet of Red Roses");
  CHECK((*roses)->price_minor == 3500);
  CHECK((*roses)->available == 1000);
  auto gardenias = b.catalog->get_item(call, "gardenias");
  REQUIRE(gardenias.ok());
  REQUIRE(gardenias->has_value());
  CHECK((*gardenias)->available == 0);
  auto ghost = b.catalog->get_item(call, "ghost_lily");
  REQUIRE(ghost.ok());
  CHECK_FALSE(ghost->has_value());
}

TEST_CASE("demo pricing: discount codes and list prices") {
  adapters::Backends b = backends_of(embedded());
  adapters::CallContext call{"req-1", "t1", ""};
  SUBCASE("known and unknown codes") {
    auto d = b.pricing->resolve_discount(call, "WELCOME20");
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    CHECK((*d)->kind == DiscountKind::percentage);
    CHECK((*d)->value == 20);
    auto none = b.pricing->resolve_discount(call, "NOPE");
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
  }
  SUBCASE("every line at its catalog price; unknown items keep theirs") {
    Cart c = new_cart();
    add_line(c, "l1", "bouquet_roses", 1, 2);
    add_line(c, "l2", "mystery", 777, 1);
    auto prices = b.pricing->resolve_prices(call, c);
    REQUIRE(prices.ok());
    REQUIRE(prices->size() == 2);
    CHECK((*prices)[0].line_id == "l1");
    CHECK((*prices)[0].unit_price_minor == 3500);
    CHECK((*prices)[1].line_id == "l2");
    CHECK((*prices)[1].unit_price_minor == 777);
  }
}

TEST_CASE("demo tax: floor(10 % of subtotal - discount)") {
  CHECK(adapters::demo_tax(cart_with(7000, 0)) == 700);
  CHECK(adapters::demo_tax(cart_with(7000, 10)) == 630);
  CHECK(adapters::demo_tax(cart_with(999, 0)) == 99);
  CHECK(adapters::demo_tax(cart_with(9, 0)) == 0);
  CHECK(adapters::demo_tax(cart_with(1234, 50)) == 61);  // floor(617 / 10)
  CHECK(adapters::demo_tax(cart_with(5000, 100)) == 0);
  CHECK(adapters::demo_tax(new_cart()) == 0);
  SUBCASE("a fixed discount larger than the subtotal gives no tax") {
    Cart c = new_cart();
    add_line(c, "l1", "x", 300, 1);
    add_adjustment(c, "F", DiscountKind::fixed_amount, 500);
    CHECK(adapters::demo_tax(c) == 0);
  }
  SUBCASE("the tax back-end answers the same") {
    adapters::Backends b = backends_of(embedded());
    auto t = b.tax->resolve_tax(adapters::CallContext{}, cart_with(7000, 10));
    REQUIRE(t.ok());
    CHECK(*t == 630);
  }
}

TEST_CASE("demo geo refuses only ZZ") {
  adapters::Backends b = backends_of(embedded());
  Cart c = new_cart();
  adapters::CallContext call;
  auto at = [&](const char* country) {
    auto r = b.geo->check(call, c, adapters::Location{country, "R", "12345"});
    REQUIRE(r.ok());
    return *r;
  };
  CHECK_FALSE(at("ZZ"));
  CHECK(at("US"));
  CHECK(at("DE"));
  CHECK(at(""));
  auto none = b.geo->check(call, c, std::nullopt);
  REQUIRE(none.ok());
  CHECK(*none);
}

// ---------------------------------------------------------------- CSV files

TEST_CASE("demo data from a directory") {
  DataDir dir;
  adapters::DemoData d = load_ok(dir);
  REQUIRE(d.products.size() == 2);
  CHECK(d.products.at("rose").price_minor == 3500);
  CHECK(d.products.at("rose").stock == 10);
  CHECK(d.products.at("pot").stock == 0);
  REQUIRE(d.discounts.size() == 2);
  CHECK(d.discounts.at("HALF").value == 50);
  CHECK(d.discounts.at("F1").kind == DiscountKind::fixed_amount);
}

TEST_CASE("CSV: quoted fields, escaped quotes, CRLF, blank lines, no final newline") {
  DataDir dir("id,title,price,image_url\r\n"
              "rose,\"Roses, \"\"red\"\"\",3500,\"\"\r\n"
              "\r\n"
              "\"pot\",\"Pot\nwith a newline\",1500,x",
              "product_id,quantity\r\nrose,10\r\n\r\n\"pot\",\"7\"\r\n",
              "code,type,value,description\n\"Q,1\",percentage,5,\"a, b\"\n");
  adapters::DemoData d = load_ok(dir);
  REQUIRE(d.products.size() == 2);
  CHECK(d.products.at("rose").title == "Roses, \"red\"");
  CHECK(d.products.at("pot").title == "Pot\nwith a newline");
  CHECK(d.products.at("pot").price_minor == 1500);
  CHECK(d.products.at("pot").stock == 7);
  REQUIRE(d.discounts.count("Q,1") == 1);
  CHECK(d.discounts.at("Q,1").description == "a, b");
}

TEST_CASE("CSV: columns are found by header name, in any order") {
  DataDir dir("price,id,title\n3500,rose,Rose\n", "quantity,product_id\n4,rose\n",
              "description,value,type,code\nd,10,percentage,C\n");
  adapters::DemoData d = load_ok(dir);
  CHECK(d.products.at("rose").price_minor == 3500);
  CHECK(d.products.at("rose").stock == 4);
  CHECK(d.discounts.at("C").value == 10);
}

TEST_CASE("CSV: a product without inventory has no stock") {
  DataDir dir(kProducts, "product_id,quantity\nrose,3\n");
  adapters::DemoData d = load_ok(dir);
  CHECK(d.products.at("pot").stock == 0);
}

TEST_CASE("CSV: a row with the wrong number of fields is an error naming the file") {
  SUBCASE("too few") {
    DataDir dir("id,title,price,image_url\nrose,Rose,3500\n");
    Error e = load_err(dir);
    CHECK(contains(e.message, "products.csv"));
  }
  SUBCASE("too many (an unquoted comma)") {
    DataDir dir(kProducts, kInventory, "code,type,value,description\nX,percentage,5,a, b\n");
    Error e = load_err(dir);
    CHECK(contains(e.message, "discounts.csv"));
  }
  SUBCASE("in inventory") {
    DataDir dir(kProducts, "product_id,quantity\nrose\n");
    Error e = load_err(dir);
    CHECK(contains(e.message, "inventory.csv"));
  }
}

TEST_CASE("CSV: bad numbers are errors naming the file and column") {
  struct Case {
    const char* file;
    const char* column;
    std::string products, inventory, discounts;
  };
  const std::string p_head = "id,title,price,image_url\n";
  const std::string i_head = "product_id,quantity\n";
  const std::string d_head = "code,type,value,description\n";
  const Case cases[] = {
      {"products.csv", "price", p_head + "rose,Rose,12a,x\n", kInventory, kDiscounts},
      {"products.csv", "price", p_head + "rose,Rose,-1,x\n", kInventory, kDiscounts},
      {"products.csv", "price", p_head + "rose,Rose,,x\n", kInventory, kDiscounts},
      {"products.csv", "price", p_head + "rose,Rose,1.5,x\n", kInventory, kDiscounts},
      {"products.csv", "price", p_head + "rose,Rose, 35,x\n", kInventory, kDiscounts},
      {"products.csv", "price", p_head + "rose,Rose,99999999999999999999,x\n", kInventory, kDiscounts},
      {"inventory.csv", "quantity", kProducts, i_head + "rose,ten\n", kDiscounts},
      {"inventory.csv", "quantity", kProducts, i_head + "rose,-3\n", kDiscounts},
      {"discounts.csv", "value", kProducts, kInventory, d_head + "X,percentage,abc,d\n"},
      {"discounts.csv", "value", kProducts, kInventory, d_head + "X,percentage,101,d\n"},
      {"discounts.csv", "value", kProducts, kInventory, d_head + "X,fixed_amount,-5,d\n"},
      {"discounts.csv", "type", kProducts, kInventory, d_head + "X,bogus,5,d\n"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.products);
    CAPTURE(c.inventory);
    CAPTURE(c.discounts);
    DataDir dir(c.products, c.inventory, c.discounts);
    Error e = load_err(dir);
    CHECK(contains(e.message, c.file));
    CHECK(contains(e.message, c.column));
  }
}

TEST_CASE("CSV: a missing column, an empty file or a missing file is an error naming the file") {
  SUBCASE("missing column") {
    DataDir dir("id,title\nrose,Rose\n");
    Error e = load_err(dir);
    CHECK(contains(e.message, "products.csv"));
    CHECK(contains(e.message, "price"));
  }
  SUBCASE("empty file") {
    DataDir dir(kProducts, "");
    Error e = load_err(dir);
    CHECK(contains(e.message, "inventory.csv"));
  }
  SUBCASE("missing file") {
    DataDir dir;
    dir.remove("discounts.csv");
    Error e = load_err(dir);
    CHECK(contains(e.message, "discounts.csv"));
  }
  SUBCASE("missing directory") {
    auto d = adapters::load_demo_data("/nonexistent/orch-demo-dir");
    REQUIRE_FALSE(d.ok());
    CHECK(contains(d.error().message, "products.csv"));
  }
}
