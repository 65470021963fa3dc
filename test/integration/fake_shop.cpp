#include "fake_shop.hpp"

namespace it {

namespace {

using orch::json::Value;
using orch::json::Writer;

std::string str(const Value* v) { return v && v->is_string() ? v->as_string() : std::string(); }
std::int64_t num(const Value* v) { return v && v->is_integer() ? v->as_int64().value_or(0) : 0; }

}  // namespace

FakeShop::FakeShop() : http_([this](const httplib::Request& req, httplib::Response& res) { handle(req, res); }) {}

bb::Env FakeShop::env(const bb::Env& extra) const {
  bb::Env e = {{"CATALOG_BASE_URL", base()},      {"PRICING_BASE_URL", base()},
               {"TAX_BASE_URL", base()},          {"GEO_BASE_URL", base()},
               {"PAYMENT_BASE_URL", base()},      {"RECEIPT_BASE_URL", base()},
               {"PROVIDER_MAX_RETRIES", "2"},     {"PROVIDER_RETRY_BACKOFF_MS", "10"},
               {"PROVIDER_TIMEOUT_MS", "3000"},   {"PROVIDER_CONNECT_TIMEOUT_MS", "1000"}};
  for (const auto& [k, v] : extra) {
    bool replaced = false;
    for (auto& kv : e)
      if (kv.first == k) {
        kv.second = v;
        replaced = true;
      }
    if (!replaced) e.emplace_back(k, v);
  }
  return e;
}

void FakeShop::add_item(const std::string& id, const std::string& title, std::int64_t price_minor) {
  std::lock_guard<std::mutex> lock(mu_);
  items_[id] = Item{title, price_minor};
}

void FakeShop::set_price(const std::string& id, std::int64_t unit_price_minor) {
  std::lock_guard<std::mutex> lock(mu_);
  prices_[id] = unit_price_minor;
}

void FakeShop::set_state(const std::string& txn, const std::string& state) {
  std::lock_guard<std::mutex> lock(mu_);
  states_[txn] = state;
}

std::vector<FakeShop::Effect> FakeShop::effects(const std::string& op) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Effect> out;
  for (const auto& k : order_)
    if (op.empty() || k.first == op) out.push_back(effects_.at(k));
  return out;
}

std::map<std::string, std::string> FakeShop::receipts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return receipts_;
}

std::vector<Seen> FakeShop::requests(const std::string& path, const std::string& method) const {
  std::vector<Seen> out;
  const std::string full = "/shop" + path;
  const bool prefix = !path.empty() && path.back() == '/';
  for (auto& s : http_.seen()) {
    bool match = prefix ? s.path.rfind(full, 0) == 0 : s.path == full;
    if (match && (method.empty() || s.method == method)) out.push_back(std::move(s));
  }
  return out;
}

void FakeShop::handle(const httplib::Request& req, httplib::Response& res) {
  const std::string prefix = "/shop";
  if (req.path.rfind(prefix + "/", 0) != 0) return reply(res, 404, R"({"error":"not under /shop"})");
  const std::string path = req.path.substr(prefix.size());
  auto body = orch::json::parse(req.body);
  const Value* doc = body ? &*body : nullptr;

  if (req.method == "GET" && path.rfind("/items/", 0) == 0) {
    const std::string id = path.substr(7);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(id);
    if (it == items_.end()) return reply(res, 404, R"({"error":"not found"})");
    Writer w;
    w.begin_object().field("id", id).field("title", it->second.title);
    w.field("price_minor", it->second.price_minor).end_object();
    return reply(res, 200, w.take());
  }
  if (req.method == "GET" && path.rfind("/discounts/", 0) == 0) {
    const std::string code = path.substr(11);
    if (code == "FAKE10")
      return reply(res, 200, R"({"code":"FAKE10","type":"percentage","value":10,"description":"ten percent"})");
    if (code == "FIXED300")
      return reply(res, 200, R"({"code":"FIXED300","type":"fixed_amount","value":300,"description":"300 off"})");
    return reply(res, 404, R"({"error":"unknown code"})");
  }
  if (req.method == "GET" && path.rfind("/state/", 0) == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states_.find(path.substr(7));
    if (it == states_.end()) return reply(res, 404, R"({"error":"unknown transaction"})");
    return reply(res, 200, "{\"state\":" + bb::q(it->second) + "}");
  }
  if (req.method != "POST") return reply(res, 404, R"({"error":"no such route"})");

  if (path == "/prices/resolve") {
    if (pricing_down.load()) return reply(res, 500, R"({"error":"fake pricing is down"})");
    if (int status = pricing_status.load(); status != 0) return reply(res, status, "{}");
    if (pricing_throttles.load() > 0 && pricing_throttles.fetch_sub(1) > 0) {
      res.set_header("Retry-After", "1");
      return reply(res, 429, R"({"error":"slow down"})");
    }
    if (pricing_failures.load() > 0 && pricing_failures.fetch_sub(1) > 0)
      return reply(res, 500, R"({"error":"fake pricing hiccup"})");
    if (!doc || !doc->find("lines")) return reply(res, 400, R"({"error":"no lines"})");
    Writer w;
    w.begin_object().key("prices").begin_array();
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& l : doc->find("lines")->items()) {
      std::int64_t unit = num(l.find("unit_price_minor"));
      if (auto p = prices_.find(str(l.find("item_id"))); p != prices_.end()) unit = p->second;
      w.begin_object().field("line_id", str(l.find("line_id"))).field("unit_price_minor", unit);
      w.field("total_minor", unit * num(l.find("quantity"))).end_object();
    }
    w.end_array().end_object();
    return reply(res, 200, w.take());
  }
  if (path == "/tax/resolve") return reply(res, 200, "{\"total_tax_minor\":" + std::to_string(tax_minor.load()) + "}");
  if (path == "/geo/check") return reply(res, 200, R"({"allowed":true})");
  if (path == "/authorize" || path == "/capture" || path == "/void" || path == "/refund")
    return payment_op(path.substr(1), req, res);
  if (path == "/receipts/generate") {
    if (receipt_failures.load() > 0 && receipt_failures.fetch_sub(1) > 0)
      return reply(res, 500, R"({"error":"fake receipt hiccup"})");
    const Value* result = doc ? doc->find("result") : nullptr;
    const Value* cart = doc ? doc->find("cart") : nullptr;
    std::string txn = str(result ? result->find("transaction_id") : nullptr);
    std::lock_guard<std::mutex> lock(mu_);
    std::string content = "FAKE RECEIPT #" + std::to_string(++counter_) + " txn=" + txn +
                          " total=" + std::to_string(num(cart ? cart->find("total_minor") : nullptr));
    receipts_[txn] = content;
    Writer w;
    w.begin_object().field("content", content).end_object();
    return reply(res, 200, w.take());
  }
  reply(res, 404, R"({"error":"no such route"})");
}

void FakeShop::payment_op(const std::string& op, const httplib::Request& req, httplib::Response& res) {
  auto body = orch::json::parse(req.body);
  const Value* doc = body ? &*body : nullptr;
  std::string key = req.get_header_value("Idempotency-Key");
  if (key.empty()) key = "(none)#" + std::to_string(http_.count());  // no key: every call is new
  std::string txn = str(doc ? doc->find("transaction_id") : nullptr);
  std::int64_t amount = 0;
  std::string token;
  if (doc && op == "authorize") {
    const Value* intent = doc->find("payment_intent");
    amount = num(intent ? intent->find("amount_minor") : nullptr);
    token = str(intent ? intent->find("token_or_reference") : nullptr);
  } else if (doc) {
    amount = num(doc->find("amount_minor"));
  }

  if (op == "capture" && capture_failures.load() > 0 && capture_failures.fetch_sub(1) > 0)
    return reply(res, 500, R"({"error":"fake capture hiccup"})");
  if (op == "capture" && capture_refuse.load())
    return reply(res, 200, R"({"success":false,"error":"capture refused by the fake"})");
  if (op == "authorize" && token == "fail_token")
    return reply(res, 200, R"({"authorized":false,"error":"declined by the fake"})");

  std::string reference;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto k = std::make_pair(op, key);
    auto it = effects_.find(k);
    if (it == effects_.end()) {
      Effect e{op, key, txn, "fake-" + op + "-" + std::to_string(++counter_), amount, 0};
      it = effects_.emplace(k, e).first;
      order_.push_back(k);
    }
    ++it->second.requests;
    reference = it->second.reference;
  }
  if (op == "capture" && capture_lost.load()) {
    set_state(txn, "Captured");
    return reply(res, 500, R"({"error":"fake capture: done, but the answer is lost"})");
  }
  if (op == "authorize") {
    if (int d = authorize_delay_ms.load(); d > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    return reply(res, 200, "{\"authorized\":true,\"reference\":" + bb::q(reference) + "}");
  }
  reply(res, 200, "{\"success\":true,\"reference\":" + bb::q(reference) + "}");
}

}  // namespace it
