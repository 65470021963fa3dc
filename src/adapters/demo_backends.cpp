#include "adapters/demo_backends.hpp"

#include "events/json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <mutex>
#include <unordered_map>
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

using Faults = std::shared_ptr<FaultPlan>;

Fault fault_for(const Faults& faults, const char* op) {
  return faults ? faults->on_call(op) : Fault{};
}

Error injected(const char* op) {
  return Error(Code::backend_unavailable, std::string(op) + ": injected fault (DEMO_FAULTS)");
}

// fail and lose both look like a back-end that did not answer.
bool failed(const Fault& f) { return f.kind == Fault::fail || f.kind == Fault::lose; }

class DemoCatalog final : public Catalog {
 public:
  DemoCatalog(std::shared_ptr<const DemoData> d, Faults f) : data_(std::move(d)), faults_(std::move(f)) {}
  Result<std::optional<cart::CatalogItem>> get_item(const CallContext&,
                                                    const std::string& item_id) override {
    if (failed(fault_for(faults_, "catalog.get_item"))) return injected("catalog.get_item");
    auto it = data_->products.find(item_id);
    if (it == data_->products.end()) return std::optional<cart::CatalogItem>{};
    const auto& p = it->second;
    return std::optional<cart::CatalogItem>{cart::CatalogItem{p.id, p.title, p.price_minor, p.stock}};
  }

 private:
  std::shared_ptr<const DemoData> data_;
  Faults faults_;
};

class DemoPricing final : public Pricing {
 public:
  DemoPricing(std::shared_ptr<const DemoData> d, Faults f) : data_(std::move(d)), faults_(std::move(f)) {}
  // List prices: every line at its catalog price.
  Result<std::vector<cart::LinePrice>> resolve_prices(const CallContext&,
                                                      const cart::Cart& cart) override {
    if (failed(fault_for(faults_, "pricing.resolve_prices"))) return injected("pricing.resolve_prices");
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
    if (failed(fault_for(faults_, "pricing.resolve_discount"))) return injected("pricing.resolve_discount");
    auto it = data_->discounts.find(code);
    if (it == data_->discounts.end()) return std::optional<cart::Discount>{};
    return std::optional<cart::Discount>{it->second};
  }

 private:
  std::shared_ptr<const DemoData> data_;
  Faults faults_;
};

class DemoTax final : public Tax {
 public:
  explicit DemoTax(Faults f) : faults_(std::move(f)) {}
  Result<std::int64_t> resolve_tax(const CallContext&, const cart::Cart& cart) override {
    if (failed(fault_for(faults_, "tax.resolve_tax"))) return injected("tax.resolve_tax");
    return demo_tax(cart);
  }

 private:
  Faults faults_;
};

class DemoGeo final : public Geo {
 public:
  explicit DemoGeo(Faults f) : faults_(std::move(f)) {}
  Result<bool> check(const CallContext&, const cart::Cart&,
                     const std::optional<Location>& location) override {
    if (failed(fault_for(faults_, "geo.check"))) return injected("geo.check");
    return !(location && location->country_code == "ZZ");
  }

 private:
  Faults faults_;
};

// A payment service in miniature; see demo_backends.hpp for its rules.
class DemoPayment final : public Payment {
 public:
  explicit DemoPayment(Faults f) : faults_(std::move(f)) {}
  ~DemoPayment() override {
    if (fd_ >= 0) ::close(fd_);
  }

  // Replays the ledger, then keeps appending to it.
  Status open_ledger(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      auto doc = json::parse(line);
      if (!doc) return Error(Code::store_error, path + ": line " + std::to_string(n) + ": " + doc.error().message);
      json::ObjectReader r(&*doc, "");
      Entry e{r.string("op").value_or(""), r.string("key").value_or(""), r.string("txn").value_or(""),
              r.int64("amount_minor").value_or(0), r.string("outcome").value_or(""),
              r.string("reference").value_or(""), r.string("detail").value_or("")};
      bool replay = r.boolean("replay").value_or(false);
      if (!r.ok()) return Error(Code::store_error, path + ": line " + std::to_string(n) + ": " + r.error().message);
      if (!replay && e.outcome != "error") remember(e);
    }
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return Error(Code::store_error, "cannot open " + path + " for appending");
    return ok();
  }

  Result<AuthorizeResult> authorize(const CallContext& ctx, const AuthorizeRequest& r) override {
    return run(ctx, "authorize", r.transaction_id, r.amount_minor, [&](Entry& e) {
      const std::string token = r.request ? r.request->token : std::string();
      if (token.empty() || token == "fail_token" || token == "fraud_token") {
        e.outcome = "declined";
        e.reference = "declined_" + r.transaction_id;
        e.detail = token == "fraud_token" ? "suspected fraud" : "card declined";
      } else {
        e.outcome = "authorized";
        e.reference = "auth_" + r.transaction_id;
      }
    }, [](const Entry& e) {
      return AuthorizeResult{e.outcome == "authorized", e.reference, e.detail};
    });
  }

  Result<OperationResult> capture(const CallContext& ctx, const OperationRequest& r) override {
    return operation(ctx, "capture", r, [&](Txn* t, Entry& e) {
      if (!t) return refuse(e, "unknown transaction");
      if (t->state == "captured") return succeed(e, "captured_" + r.transaction_id);
      if (t->state != "authorized") return refuse(e, "cannot capture a " + t->state + " transaction");
      if (r.amount_minor <= 0 || r.amount_minor > t->authorized)
        return refuse(e, "capture amount exceeds the authorization");
      succeed(e, "captured_" + r.transaction_id);
    });
  }

  Result<OperationResult> void_authorization(const CallContext& ctx, const OperationRequest& r) override {
    return operation(ctx, "void", r, [&](Txn* t, Entry& e) {
      if (!t || t->state == "voided" || t->state == "declined") return succeed(e, "voided_" + r.transaction_id);
      if (t->state != "authorized") return refuse(e, "cannot void a " + t->state + " transaction");
      succeed(e, "voided_" + r.transaction_id);
    });
  }

  Result<OperationResult> refund(const CallContext& ctx, const OperationRequest& r) override {
    return operation(ctx, "refund", r, [&](Txn* t, Entry& e) {
      if (!t || (t->state != "captured" && t->state != "partially_refunded"))
        return refuse(e, "nothing captured to refund");
      if (r.amount_minor <= 0 || r.amount_minor > t->captured - t->refunded)
        return refuse(e, "refund exceeds the captured amount");
      succeed(e, "refunded_" + r.transaction_id);
    });
  }

  Result<std::optional<std::string>> state(const CallContext&, const std::string& txn) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = txns_.find(txn);
    if (it == txns_.end()) return std::optional<std::string>{};
    std::string st = it->second.state == "declined" ? "failed" : it->second.state;
    return std::optional<std::string>{st};
  }

 private:
  struct Entry {
    std::string op, key, txn;
    std::int64_t amount_minor = 0;
    std::string outcome;  // authorized | declined | captured | voided | refunded | refused | error
    std::string reference, detail;
  };
  struct Txn {
    std::string state;  // authorized | declined | captured | partially_refunded | refunded | voided
    std::int64_t authorized = 0, captured = 0, refunded = 0;
  };

  static void succeed(Entry& e, std::string reference) {
    e.outcome = e.op == "capture" ? "captured" : e.op == "void" ? "voided" : "refunded";
    e.reference = std::move(reference);
  }
  static void refuse(Entry& e, std::string why) {
    e.outcome = "refused";
    e.detail = std::move(why);
  }

  // The effect of an entry on the transactions (also used to replay the ledger).
  void remember(const Entry& e) {
    by_key_[e.op + '\n' + e.key] = e;
    Txn& t = txns_[e.txn];
    if (e.outcome == "authorized") {
      t.state = "authorized";
      t.authorized = e.amount_minor;
    } else if (e.outcome == "declined") {
      t.state = "declined";
    } else if (e.outcome == "captured") {
      t.state = "captured";
      t.captured = e.amount_minor ? e.amount_minor : t.authorized;
    } else if (e.outcome == "voided") {
      t.state = "voided";
    } else if (e.outcome == "refunded") {
      t.refunded += e.amount_minor;
      t.state = t.refunded >= t.captured ? "refunded" : "partially_refunded";
    }
    if (t.state.empty()) txns_.erase(e.txn);
  }

  void append(const Entry& e, bool replay) {
    if (fd_ < 0) return;
    json::Writer w;
    w.begin_object().field("at_ms", static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count()));
    w.field("op", e.op).field("key", e.key).field("txn", e.txn).field("amount_minor", e.amount_minor);
    w.field("outcome", e.outcome).field("reference", e.reference).field("detail", e.detail);
    w.field("replay", replay).end_object();
    std::string line = w.take();
    line.push_back('\n');
    // One write() per line on an O_APPEND descriptor: lines never interleave,
    // and they survive a crash of this process (not of the machine).
    [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
  }

  // Runs one call: idempotency by key, fault injection, the ledger.
  template <class Decide, class Answer>
  auto run(const CallContext& ctx, const char* op, const std::string& txn, std::int64_t amount,
           Decide&& decide, Answer&& answer) -> Result<decltype(answer(std::declval<Entry&>()))> {
    std::string fault_op = std::string("payment.") + op;
    Fault fault = fault_for(faults_, fault_op.c_str());
    std::lock_guard<std::mutex> lock(mu_);
    if (!ctx.idempotency_key.empty()) {
      auto it = by_key_.find(std::string(op) + '\n' + ctx.idempotency_key);
      if (it != by_key_.end()) {
        append(it->second, true);
        return answer(it->second);
      }
    }
    Entry e{op, ctx.idempotency_key, txn, amount, "", "", ""};
    if (fault.kind == Fault::fail) {
      e.outcome = "error";
      e.detail = "injected fault";
      append(e, false);
      return injected(fault_op.c_str());
    }
    if (fault.kind == Fault::decline) {
      e.outcome = std::string(op) == "authorize" ? "declined" : "refused";
      e.reference = e.outcome + "_" + txn;
      e.detail = "declined by fault injection";
    } else {
      decide(e);
    }
    remember(e);
    append(e, false);
    if (fault.kind == Fault::lose) return injected(fault_op.c_str());
    return answer(e);
  }

  template <class Decide>
  Result<OperationResult> operation(const CallContext& ctx, const char* op, const OperationRequest& r,
                                    Decide&& decide) {
    return run(ctx, op, r.transaction_id, r.amount_minor, [&](Entry& e) {
      auto it = txns_.find(r.transaction_id);
      decide(it == txns_.end() ? nullptr : &it->second, e);
    }, [](const Entry& e) {
      return OperationResult{e.outcome != "refused", e.reference, e.detail};
    });
  }

  Faults faults_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> by_key_;  // op + '\n' + key
  std::unordered_map<std::string, Txn> txns_;
  int fd_ = -1;
};

class DemoReceipt final : public Receipt {
 public:
  explicit DemoReceipt(Faults f) : faults_(std::move(f)) {}
  Result<std::string> generate(const CallContext&, const ReceiptRequest& r) override {
    if (failed(fault_for(faults_, "receipt.generate"))) return injected("receipt.generate");
    return "Receipt txn=" + r.transaction_id + " cart=" + r.cart_id +
           " total=" + std::to_string(r.totals.total_minor);
  }

 private:
  Faults faults_;
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

Result<Backends> make_demo_backends(DemoData data, DemoOptions options) {
  auto shared = std::make_shared<const DemoData>(std::move(data));
  const auto& faults = options.faults;
  Backends b;
  b.catalog = std::make_shared<DemoCatalog>(shared, faults);
  b.pricing = std::make_shared<DemoPricing>(shared, faults);
  b.tax = std::make_shared<DemoTax>(faults);
  b.geo = std::make_shared<DemoGeo>(faults);
  auto payment = std::make_shared<DemoPayment>(faults);
  if (!options.payment_ledger_path.empty()) {
    if (auto s = payment->open_ledger(options.payment_ledger_path); !s) return s.error();
  }
  b.payment = std::move(payment);
  b.receipt = std::make_shared<DemoReceipt>(faults);
  // Injected delays sleep inside the call: such calls must not run on the
  // actor scheduler, so they go through the blocking pool like HTTP calls.
  b.in_process = !faults || faults->empty();
  return b;
}

}  // namespace orch::adapters
