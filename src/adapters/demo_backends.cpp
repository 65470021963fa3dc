#include "adapters/demo_backends.hpp"

#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

namespace orch::adapters {

namespace demo {
// Generated from demo/flower_shop/*.csv by tools/embed.py (see meson.build).
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_files();
}  // namespace demo

namespace {

using Row = std::vector<std::string>;

// RFC 4180 CSV: quoted fields with "" escapes, CRLF or LF line ends.
std::vector<Row> parse_csv(std::string_view text) {
  std::vector<Row> rows;
  Row row;
  std::string field;
  bool quoted = false, field_started = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
      row.clear();
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Rows of a CSV file as maps from header name to value.
Result<std::vector<std::map<std::string, std::string>>> records(
    std::string_view name, std::string_view text, std::vector<std::string> required) {
  auto rows = parse_csv(text);
  if (rows.empty()) return Error(Code::internal_error, std::string(name) + ": empty file");
  const Row& header = rows.front();
  for (const auto& col : required) {
    bool found = false;
    for (const auto& h : header) found = found || h == col;
    if (!found)
      return Error(Code::internal_error, std::string(name) + ": missing column '" + col + "'");
  }
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != header.size())
      return Error(Code::internal_error, std::string(name) + ": line " + std::to_string(r + 1) +
                                             " has " + std::to_string(rows[r].size()) +
                                             " fields, expected " + std::to_string(header.size()));
    std::map<std::string, std::string> rec;
    for (std::size_t i = 0; i < header.size(); ++i) rec[header[i]] = rows[r][i];
    out.push_back(std::move(rec));
  }
  return out;
}

Error bad_value(std::string_view file, const std::string& col, const std::string& v) {
  return Error(Code::internal_error,
               std::string(file) + ": column '" + col + "' has invalid value '" + v + "'");
}

Result<DemoData> build(std::string_view products_csv, std::string_view inventory_csv,
                       std::string_view discounts_csv) {
  DemoData d;
  auto products = records("products.csv", products_csv, {"id", "title", "price"});
  if (!products) return products.error();
  for (auto& rec : *products) {
    auto price = to_int(rec["price"]);
    if (!price || *price < 0) return bad_value("products.csv", "price", rec["price"]);
    d.products[rec["id"]] = DemoData::Product{rec["id"], rec["title"], *price, 0};
  }
  auto inventory = records("inventory.csv", inventory_csv, {"product_id", "quantity"});
  if (!inventory) return inventory.error();
  for (auto& rec : *inventory) {
    auto qty = to_int(rec["quantity"]);
    if (!qty || *qty < 0) return bad_value("inventory.csv", "quantity", rec["quantity"]);
    auto it = d.products.find(rec["product_id"]);
    if (it != d.products.end()) it->second.stock = *qty;
  }
  auto discounts = records("discounts.csv", discounts_csv, {"code", "type", "value", "description"});
  if (!discounts) return discounts.error();
  for (auto& rec : *discounts) {
    auto kind = cart::discount_kind_from(rec["type"]);
    if (!kind) return bad_value("discounts.csv", "type", rec["type"]);
    auto value = to_int(rec["value"]);
    bool sane = value && *value >= 0 && (*kind != cart::DiscountKind::percentage || *value <= 100);
    if (!sane) return bad_value("discounts.csv", "value", rec["value"]);
    d.discounts[rec["code"]] = cart::Discount{rec["code"], *kind, *value, rec["description"]};
  }
  return d;
}

std::string_view embedded(std::string_view name) {
  for (const auto& [n, content] : demo::embedded_files())
    if (n == name) return content;
  return {};
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Code::internal_error, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ------------------------------------------------------------- back-ends

class DemoCatalog final : public Catalog {
 public:
  explicit DemoCatalog(std::shared_ptr<const DemoData> d) : data_(std::move(d)) {}
  Result<std::optional<cart::CatalogItem>> get_item(const CallContext&,
                                                    const std::string& item_id) override {
    auto it = data_->products.find(item_id);
    if (it == data_->products.end()) return std::optional<cart::CatalogItem>{};
    const auto& p = it->second;
    return std::optional<cart::CatalogItem>{cart::CatalogItem{p.id, p.title, p.price_minor, p.stock}};
  }

 private:
  std::shared_ptr<const DemoData> data_;
};

class DemoPricing final : public Pricing {
 public:
  explicit DemoPricing(std::shared_ptr<const DemoData> d) : data_(std::move(d)) {}
  // List prices: every line at its catalog price.
  Result<std::vector<cart::LinePrice>> resolve_prices(const CallContext&,
                                                      const cart::Cart& cart) override {
    std::vector<cart::LinePrice> out;
    out.reserve(cart.lines.size());
    for (const auto& l : cart.lines) {
      auto it = data_->products.find(l.item_id);
      out.push_back({l.line_id, it == data_->products.end() ? l.unit_price_minor
                                                            : it->second.price_minor});
    }
    return out;
  }
  Result<std::optional<cart::Discount>> resolve_discount(const CallContext&,
                                                         const std::string& code) override {
    auto it = data_->discounts.find(code);
    if (it == data_->discounts.end()) return std::optional<cart::Discount>{};
    return std::optional<cart::Discount>{it->second};
  }

 private:
  std::shared_ptr<const DemoData> data_;
};

class DemoTax final : public Tax {
 public:
  Result<std::int64_t> resolve_tax(const CallContext&, const cart::Cart& cart) override {
    return demo_tax(cart);
  }
};

class DemoGeo final : public Geo {
 public:
  Result<bool> check(const CallContext&, const cart::Cart&,
                     const std::optional<Location>& location) override {
    return !(location && location->country_code == "ZZ");
  }
};

}  // namespace

Result<DemoData> load_embedded_demo_data() {
  return build(embedded("products.csv"), embedded("inventory.csv"), embedded("discounts.csv"));
}

Result<DemoData> load_demo_data(const std::string& dir) {
  auto products = read_file(dir + "/products.csv");
  if (!products) return products.error();
  auto inventory = read_file(dir + "/inventory.csv");
  if (!inventory) return inventory.error();
  auto discounts = read_file(dir + "/discounts.csv");
  if (!discounts) return discounts.error();
  return build(*products, *inventory, *discounts);
}

std::int64_t demo_tax(const cart::Cart& cart) {
  std::int64_t base = cart.subtotal_minor - cart.discount_minor;
  return base > 0 ? base / 10 : 0;
}

Backends make_demo_backends(DemoData data) {
  auto shared = std::make_shared<const DemoData>(std::move(data));
  Backends b;
  b.catalog = std::make_shared<DemoCatalog>(shared);
  b.pricing = std::make_shared<DemoPricing>(shared);
  b.tax = std::make_shared<DemoTax>();
  b.geo = std::make_shared<DemoGeo>();
  b.in_process = true;
  return b;
}

}  // namespace orch::adapters
