#include "adapters/http_backends.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/http_client.hpp"
#include "events/json.hpp"

namespace orch::adapters {

namespace {

using http::Answer;
using http::Call;
using http::Endpoint;
using http::Method;

// Lets http_backend_stats() find the counters behind an interface pointer.
class StatsSource {
 public:
  virtual ~StatsSource() = default;
  virtual const BackendCallStats& call_stats() const = 0;
};

// ------------------------------------------------------------- JSON out

std::string_view wire_status(cart::CartStatus s) {
  return s == cart::CartStatus::draft ? "Draft" : "CheckoutReady";
}

struct Projection {
  const std::string& cart_id;
  std::uint64_t version;
  const std::string& currency;
  const std::vector<cart::Line>& lines;
  std::int64_t subtotal_minor, discount_minor, tax_minor, total_minor;
  bool geo_ok;
  std::string_view status;
};

void write_projection(json::Writer& w, const Projection& p) {
  w.begin_object();
  w.field("cart_id", p.cart_id).field("version", p.version).field("currency", p.currency);
  w.key("lines").begin_array();
  for (const auto& l : p.lines) {
    w.begin_object();
    w.field("line_id", l.line_id).field("item_id", l.item_id).field("title", l.title);
    w.field("quantity", l.quantity).field("unit_price_minor", l.unit_price_minor);
    w.field("total_minor", l.total_minor);
    w.end_object();
  }
  w.end_array();
  w.field("subtotal_minor", p.subtotal_minor).field("discount_minor", p.discount_minor);
  w.field("tax_minor", p.tax_minor).field("total_minor", p.total_minor);
  w.field("geo_ok", p.geo_ok).field("status", p.status);
  w.end_object();
}

void write_cart(json::Writer& w, const cart::Cart& c) {
  write_projection(
      w, Projection{c.cart_id, c.version, c.currency, c.lines, c.subtotal_minor, c.discount_minor,
                    c.tax_minor, c.total_minor, c.geo_ok, wire_status(c.status)});
}

void write_location(json::Writer& w, const std::optional<Location>& loc) {
  if (!loc) {
    w.null();
    return;
  }
  w.begin_object();
  w.field("country_code", loc->country_code)
      .field("region", loc->region)
      .field("postal_code", loc->postal_code);
  w.end_object();
}

void write_string_or_null(json::Writer& w, const std::string& s) {
  if (s.empty())
    w.null();
  else
    w.value(s);
}

// CheckoutRequest (reference §3.6 shape) with the PII left out: no token, no
// customer, no consent proof. For geo.
void write_anonymous_request(json::Writer& w, const CallContext& ctx, const cart::Cart& c,
                             const std::optional<Location>& loc) {
  w.begin_object();
  w.field("tenant_id", ctx.tenant_id.empty() ? c.tenant_id : ctx.tenant_id);
  w.field("merchant_id", c.merchant_id)
      .field("cart_id", c.cart_id)
      .field("cart_version", c.version);
  w.field("currency", c.currency);
  w.key("customer").null();
  w.key("location");
  write_location(w, loc);
  w.key("payment_intent").begin_object();
  w.field("amount_minor", c.total_minor);
  w.key("token_or_reference").null();
  w.key("ap2_consent_proof").null();
  w.key("payment_handler_id").null();
  w.end_object();
  w.key("idempotency_key");
  write_string_or_null(w, ctx.idempotency_key);
  w.end_object();
}

// The authorize body: CheckoutRequest + transaction_id. The ids, currency and
// amount come from the AuthorizeRequest (what the saga decided); customer,
// location, token, proof and handler from the client's request when at hand.
// The body's idempotency_key is the call's (stable per authorization, unique
// per transaction), the same as the Idempotency-Key header.
std::string authorize_body(const CallContext& ctx, const AuthorizeRequest& r) {
  const checkout::Request* q = r.request;
  json::Writer w;
  w.begin_object();
  w.field("tenant_id", r.tenant_id).field("merchant_id", r.merchant_id).field("cart_id", r.cart_id);
  w.field("cart_version", q ? q->cart_version : std::uint64_t{0}).field("currency", r.currency);
  w.key("customer");
  if (q && q->customer) {
    w.begin_object()
        .field("email", q->customer->email)
        .field("full_name", q->customer->full_name)
        .end_object();
  } else {
    w.null();
  }
  w.key("location");
  write_location(w, q ? q->location : std::nullopt);
  w.key("payment_intent").begin_object();
  w.field("amount_minor", r.amount_minor);
  w.key("token_or_reference");
  write_string_or_null(w, q ? q->token : std::string());
  w.field("ap2_consent_proof", q ? q->ap2_consent_proof : std::nullopt);
  w.field("payment_handler_id", q ? q->payment_handler_id : std::nullopt);
  w.end_object();
  w.key("idempotency_key");
  write_string_or_null(w, !ctx.idempotency_key.empty() ? ctx.idempotency_key
                                                       : (q ? q->idempotency_key : std::string()));
  w.field("transaction_id", r.transaction_id);
  w.end_object();
  return w.take();
}

std::string operation_body(const CallContext& ctx, const OperationRequest& r) {
  json::Writer w;
  w.begin_object();
  w.field("tenant_id", r.tenant_id).field("merchant_id", r.merchant_id);
  w.field("transaction_id", r.transaction_id).field("amount_minor", r.amount_minor);
  w.key("idempotency_key");
  write_string_or_null(w, ctx.idempotency_key);
  w.end_object();
  return w.take();
}

std::string receipt_body(const ReceiptRequest& r) {
  json::Writer w;
  w.begin_object().key("cart");
  // The checked-out cart: ReceiptRequest does not carry its version (0).
  write_projection(w, Projection{r.cart_id, 0, r.currency, r.lines, r.totals.subtotal_minor,
                                 r.totals.discount_minor, r.totals.tax_minor, r.totals.total_minor,
                                 true, "CheckoutReady"});
  w.key("result").begin_object();
  w.field("transaction_id", r.transaction_id).field("status", "Completed");
  w.key("totals_breakdown").begin_object();
  w.field("subtotal_minor", r.totals.subtotal_minor).field("tax_minor", r.totals.tax_minor);
  w.field("discount_minor", r.totals.discount_minor).field("total_minor", r.totals.total_minor);
  w.end_object();
  w.field("payment_reference", r.payment_reference);
  w.key("receipt_payload").null();
  w.field("correlation_id", r.correlation_id);
  w.key("audit_trail_id").null();
  w.field("payment_state", "Captured").field("order_id", r.order_id);
  w.end_object();
  w.end_object();
  return w.take();
}

// ------------------------------------------------------------- answers

bool is_2xx(int status) {
  return status >= 200 && status < 300;
}

Error unusable(const Endpoint& ep, const Call& c, std::string_view what) {
  return Error(Code::backend_error, ep.describe(c, what));
}

Error unexpected_status(const Endpoint& ep, const Call& c, int status) {
  return unusable(ep, c, "unexpected status " + std::to_string(status));
}

// The answer's JSON object, or BACKEND_ERROR naming what is wrong (never the body).
Result<json::Value> object_of(const Endpoint& ep, const Call& c, const Answer& a) {
  auto doc = json::parse(a.body);
  if (!doc) return unusable(ep, c, "invalid response: " + doc.error().message);
  if (!doc->is_object()) return unusable(ep, c, "invalid response: not a JSON object");
  return std::move(*doc);
}

Error invalid(const Endpoint& ep, const Call& c, const json::ObjectReader& r) {
  return unusable(ep, c, "invalid response: " + r.error().message);
}

// A short, printable reason given by the back-end in a refusal, if any.
std::string reason_of(const std::string& body, std::string fallback) {
  auto doc = json::parse(body);
  if (doc && doc->is_object()) {
    for (const char* k : {"error", "reason", "decline_reason", "message"}) {
      const json::Value* v = doc->find(k);
      if (!v || !v->is_string() || v->as_string().empty()) continue;
      std::string out;
      for (char ch : v->as_string()) {
        if (out.size() >= 200) break;
        if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f) out.push_back(ch);
      }
      if (!out.empty()) return out;
    }
  }
  return fallback;
}

// Runs one call and maps its answer; counts the calls that end in an Error.
template <class T, class Map>
Result<T> run(Endpoint& ep, const CallContext& ctx, const Call& c, Map&& map) {
  auto answer = ep.call(ctx, c);
  if (!answer) {
    ep.stats().failures.fetch_add(1, std::memory_order_relaxed);
    return answer.error();
  }
  Result<T> out = map(*answer);
  if (!out) ep.stats().failures.fetch_add(1, std::memory_order_relaxed);
  return out;
}

Call get(std::string path) {
  return Call{Method::get, std::move(path), {}, false};
}
Call post(std::string path, std::string body, bool side_effect_free) {
  return Call{Method::post, std::move(path), std::move(body), side_effect_free};
}

// ------------------------------------------------------------- back-ends

class HttpCatalog final : public Catalog, public StatsSource {
 public:
  HttpCatalog(http::BaseUrl url, const HttpBackendSettings& s)
      : ep_("catalog", std::move(url), s) {}
  const BackendCallStats& call_stats() const override { return ep_.stats(); }

  Result<std::optional<cart::CatalogItem>> get_item(const CallContext& ctx,
                                                    const std::string& item_id) override {
    using Out = std::optional<cart::CatalogItem>;
    const Call c = get("/items/" + http::percent_encode(item_id));
    return run<Out>(ep_, ctx, c, [&](const Answer& a) -> Result<Out> {
      if (a.status == 404) return Out{};
      if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
      auto doc = object_of(ep_, c, a);
      if (!doc) return doc.error();
      json::ObjectReader r(&*doc, "");
      auto id = r.string("id");
      auto title = r.string("title");
      auto price = r.int64("price_minor");
      auto available = r.int64("available", false);
      if (!r.ok()) return invalid(ep_, c, r);
      if (*price < 0) return unusable(ep_, c, "invalid response: negative price_minor");
      // The item the cart asked for (the catalog's "id" is checked to be a string).
      return Out{cart::CatalogItem{item_id, *title, *price,
                                   available ? std::max<std::int64_t>(*available, 0)
                                             : std::numeric_limits<std::int64_t>::max()}};
    });
  }

 private:
  Endpoint ep_;
};

class HttpPricing final : public Pricing, public StatsSource {
 public:
  HttpPricing(http::BaseUrl url, const HttpBackendSettings& s)
      : ep_("pricing", std::move(url), s) {}
  const BackendCallStats& call_stats() const override { return ep_.stats(); }

  Result<std::vector<cart::LinePrice>> resolve_prices(const CallContext& ctx,
                                                      const cart::Cart& cart) override {
    using Out = std::vector<cart::LinePrice>;
    json::Writer w;
    write_cart(w, cart);
    const Call c = post("/prices/resolve", w.take(), true);
    return run<Out>(ep_, ctx, c, [&](const Answer& a) -> Result<Out> {
      if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
      auto doc = object_of(ep_, c, a);
      if (!doc) return doc.error();
      json::ObjectReader r(&*doc, "");
      const json::Value* prices = r.array("prices");
      if (!r.ok()) return invalid(ep_, c, r);
      Out out;
      out.reserve(prices->items().size());
      for (std::size_t i = 0; i < prices->items().size(); ++i) {
        json::ObjectReader p(&prices->items()[i], "prices[" + std::to_string(i) + "]");
        auto line_id = p.string("line_id");
        auto unit = p.int64("unit_price_minor");
        p.int64("total_minor", false);  // checked, not used: we compute totals ourselves
        if (!p.ok()) return invalid(ep_, c, p);
        if (*unit < 0) return unusable(ep_, c, "invalid response: negative unit_price_minor");
        out.push_back(cart::LinePrice{*line_id, *unit});
      }
      return out;
    });
  }

  Result<std::optional<cart::Discount>> resolve_discount(const CallContext& ctx,
                                                         const std::string& code) override {
    using Out = std::optional<cart::Discount>;
    const Call c = get("/discounts/" + http::percent_encode(code));
    return run<Out>(ep_, ctx, c, [&](const Answer& a) -> Result<Out> {
      if (a.status == 404) return Out{};
      if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
      auto doc = object_of(ep_, c, a);
      if (!doc) return doc.error();
      json::ObjectReader r(&*doc, "");
      auto got_code = r.string("code", false);
      auto type = r.string("type");
      auto value = r.int64("value");
      auto description = r.string("description", false);
      if (!r.ok()) return invalid(ep_, c, r);
      auto kind = cart::discount_kind_from(*type);
      if (!kind)
        return unusable(ep_, c, "invalid response: 'type' must be percentage or fixed_amount");
      if (*value < 0 || (*kind == cart::DiscountKind::percentage && *value > 100))
        return unusable(ep_, c, "invalid response: 'value' out of range");
      return Out{cart::Discount{got_code.value_or(code), *kind, *value, description.value_or("")}};
    });
  }

 private:
  Endpoint ep_;
};

class HttpTax final : public Tax, public StatsSource {
 public:
  HttpTax(http::BaseUrl url, const HttpBackendSettings& s) : ep_("tax", std::move(url), s) {}
  const BackendCallStats& call_stats() const override { return ep_.stats(); }

  Result<std::int64_t> resolve_tax(const CallContext& ctx, const cart::Cart& cart) override {
    json::Writer w;
    write_cart(w, cart);
    const Call c = post("/tax/resolve", w.take(), true);
    return run<std::int64_t>(ep_, ctx, c, [&](const Answer& a) -> Result<std::int64_t> {
      if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
      auto doc = object_of(ep_, c, a);
      if (!doc) return doc.error();
      json::ObjectReader r(&*doc, "");
      auto tax = r.int64("total_tax_minor");
      if (!r.ok()) return invalid(ep_, c, r);
      if (*tax < 0) return unusable(ep_, c, "invalid response: negative total_tax_minor");
      return *tax;
    });
  }

 private:
  Endpoint ep_;
};

class HttpGeo final : public Geo, public StatsSource {
 public:
  HttpGeo(http::BaseUrl url, const HttpBackendSettings& s) : ep_("geo", std::move(url), s) {}
  const BackendCallStats& call_stats() const override { return ep_.stats(); }

  Result<bool> check(const CallContext& ctx, const cart::Cart& cart,
                     const std::optional<Location>& location) override {
    json::Writer w;
    w.begin_object().key("cart");
    write_cart(w, cart);
    w.key("request");
    write_anonymous_request(w, ctx, cart, location);
    w.end_object();
    const Call c = post("/geo/check", w.take(), true);
    return run<bool>(ep_, ctx, c, [&](const Answer& a) -> Result<bool> {
      if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
      auto doc = object_of(ep_, c, a);
      if (!doc) return doc.error();
      json::ObjectReader r(&*doc, "");
      auto allowed = r.boolean("allowed");
      if (!r.ok()) return invalid(ep_, c, r);
      return *allowed;
    });
  }

 private:
  Endpoint ep_;
};

// The "reference" of a refusal body, when it has one.
std::string reference_of(const std::string& body) {
  if (auto doc = json::parse(body); doc && doc->is_object())
    if (const auto* v = doc->find("reference"); v && v->is_string()) return v->as_string();
  return {};
}

class HttpPayment final : public Payment, public StatsSource {
 public:
  HttpPayment(http::BaseUrl url, const HttpBackendSettings& s)
      : ep_("payment", std::move(url), s) {}
  const BackendCallStats& call_stats() const override { return ep_.stats(); }

  Result<AuthorizeResult> authorize(const CallContext& ctx, const AuthorizeRequest& req) override {
    // Retried only under ctx.idempotency_key (never without one).
    const Call c = post("/authorize", authorize_body(ctx, req), false);
    return run<AuthorizeResult>(ep_, ctx, c, [&](const Answer& a) -> Result<AuthorizeResult> {
      auto v = verdict(c, a, a.status == 402 || a.status == 422, "authorized", "declined");
      if (!v) return v.error();
      return AuthorizeResult{v->yes, std::move(v->reference), std::move(v->reason)};
    });
  }

  Result<OperationResult> capture(const CallContext& ctx, const OperationRequest& r) override {
    return operation(ctx, "/capture", r);
  }
  Result<OperationResult> void_authorization(const CallContext& ctx,
                                             const OperationRequest& r) override {
    return operation(ctx, "/void", r);
  }
  Result<OperationResult> refund(const CallContext& ctx, const OperationRequest& r) override {
    return operation(ctx, "/refund", r);
  }

  Result<std::optional<std::string>> state(const CallContext& ctx,
                                           const std::string& transaction_id) override {
    using Out = std::optional<std::string>;
    const Call c = get("/state/" + http::percent_encode(transaction_id));
    return run<Out>(ep_, ctx, c, [&](const Answer& a) -> Result<Out> {
      if (a.status == 404) return Out{};  // definitive: unknown transaction
      if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
      auto doc = object_of(ep_, c, a);
      if (!doc) return doc.error();
      json::ObjectReader r(&*doc, "");
      auto st = r.string("state");
      if (!r.ok()) return invalid(ep_, c, r);
      // snake_case, as payment states read elsewhere ("Captured" -> "captured").
      std::string s;
      char prev = 0;
      for (char ch : *st) {
        bool upper = ch >= 'A' && ch <= 'Z';
        if (upper && ((prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9')))
          s.push_back('_');
        s.push_back(upper ? static_cast<char>(ch - 'A' + 'a') : ch);
        prev = ch;
      }
      if (s == "refundpending") s = "refund_pending";
      if (s.empty()) return unusable(ep_, c, "invalid response: empty 'state'");
      return Out{std::move(s)};
    });
  }

 private:
  Result<OperationResult> operation(const CallContext& ctx, const char* path,
                                    const OperationRequest& req) {
    // Retried only under ctx.idempotency_key (never without one).
    const Call c = post(path, operation_body(ctx, req), false);
    return run<OperationResult>(ep_, ctx, c, [&](const Answer& a) -> Result<OperationResult> {
      // 429 never gets here (retried); 404 stays an unexpected status.
      auto v = verdict(c, a, a.status >= 400 && a.status < 500 && a.status != 404, "success", "refused");
      if (!v) return v.error();
      return OperationResult{v->yes, std::move(v->reference), std::move(v->reason)};
    });
  }

  // A payment back-end's yes or no: a 2xx {"<flag>": bool, "reference": ...}
  // (the reference required for a yes), or a refusing HTTP status.
  struct Verdict {
    bool yes = false;
    std::string reference, reason;
  };
  Result<Verdict> verdict(const Call& c, const Answer& a, bool refusing_status, const char* flag,
                          const std::string& no) {
    if (refusing_status)
      return Verdict{false, reference_of(a.body),
                     reason_of(a.body, no + " by the payment back-end (HTTP " + std::to_string(a.status) + ")")};
    if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
    auto doc = object_of(ep_, c, a);
    if (!doc) return doc.error();
    json::ObjectReader r(&*doc, "");
    auto yes = r.boolean(flag);
    auto reference = r.string("reference", yes.value_or(false));
    if (!r.ok()) return invalid(ep_, c, r);
    if (*yes) return Verdict{true, *reference, ""};
    return Verdict{false, reference.value_or(""), reason_of(a.body, no + " by the payment back-end")};
  }

  Endpoint ep_;
};

class HttpReceipt final : public Receipt, public StatsSource {
 public:
  HttpReceipt(http::BaseUrl url, const HttpBackendSettings& s)
      : ep_("receipt", std::move(url), s) {}
  const BackendCallStats& call_stats() const override { return ep_.stats(); }

  Result<std::string> generate(const CallContext& ctx, const ReceiptRequest& req) override {
    const Call c = post("/receipts/generate", receipt_body(req), true);
    return run<std::string>(ep_, ctx, c, [&](const Answer& a) -> Result<std::string> {
      if (!is_2xx(a.status)) return unexpected_status(ep_, c, a.status);
      auto doc = object_of(ep_, c, a);
      if (!doc) return doc.error();
      json::ObjectReader r(&*doc, "");
      auto content = r.string("content");
      if (!r.ok()) return invalid(ep_, c, r);
      return std::move(*content);
    });
  }

 private:
  Endpoint ep_;
};

std::string trimmed(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

Result<Backends> with_http_backends(Backends base, const HttpBackendSettings& s) {
  if (s.connect_timeout.count() <= 0)
    return Error(Code::validation_error, "PROVIDER_CONNECT_TIMEOUT_MS: must be positive");
  if (s.timeout.count() <= 0)
    return Error(Code::validation_error, "PROVIDER_TIMEOUT_MS: must be positive");
  if (s.max_retries < 0)
    return Error(Code::validation_error, "PROVIDER_MAX_RETRIES: must not be negative");
  if (s.retry_backoff.count() < 0)
    return Error(Code::validation_error, "PROVIDER_RETRY_BACKOFF_MS: must not be negative");
  if (s.breaker_open.count() < 0)
    return Error(Code::validation_error, "PROVIDER_BREAKER_OPEN_MS: must not be negative");

  struct Slot {
    const char* variable;
    const std::string& url;
    std::optional<http::BaseUrl> parsed;
  };
  Slot slots[] = {{"CATALOG_BASE_URL", s.catalog_url, {}}, {"PRICING_BASE_URL", s.pricing_url, {}},
                  {"TAX_BASE_URL", s.tax_url, {}},         {"GEO_BASE_URL", s.geo_url, {}},
                  {"PAYMENT_BASE_URL", s.payment_url, {}}, {"RECEIPT_BASE_URL", s.receipt_url, {}}};
  for (auto& slot : slots) {
    std::string url = trimmed(slot.url);
    if (url.empty()) continue;
    auto parsed = http::parse_base_url(slot.variable, url);
    if (!parsed) return parsed.error();
    slot.parsed = std::move(*parsed);
  }
  auto& [catalog, pricing, tax, geo, payment, receipt] = slots;
  if (catalog.parsed) base.catalog = std::make_shared<HttpCatalog>(*catalog.parsed, s);
  if (pricing.parsed) base.pricing = std::make_shared<HttpPricing>(*pricing.parsed, s);
  if (tax.parsed) base.tax = std::make_shared<HttpTax>(*tax.parsed, s);
  if (geo.parsed) base.geo = std::make_shared<HttpGeo>(*geo.parsed, s);
  if (payment.parsed) base.payment = std::make_shared<HttpPayment>(*payment.parsed, s);
  if (receipt.parsed) base.receipt = std::make_shared<HttpReceipt>(*receipt.parsed, s);
  for (const auto& slot : slots)
    if (slot.parsed) base.in_process = false;  // HTTP calls block: not on the actor threads
  return base;
}

std::vector<std::pair<std::string, const BackendCallStats*>> http_backend_stats(const Backends& b) {
  std::vector<std::pair<std::string, const BackendCallStats*>> out;
  auto add = [&](const char* name, const auto* p) {
    if (const auto* s = dynamic_cast<const StatsSource*>(p))
      out.emplace_back(name, &s->call_stats());
  };
  add("catalog", b.catalog.get());
  add("pricing", b.pricing.get());
  add("tax", b.tax.get());
  add("geo", b.geo.get());
  add("payment", b.payment.get());
  add("receipt", b.receipt.get());
  return out;
}

}  // namespace orch::adapters
