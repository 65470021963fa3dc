#include "actors/runtime.hpp"
#include "events/codec.hpp"
#include "http/checkout_json.hpp"
#include "http/router.hpp"
#include "http/routes.hpp"

namespace orch::http {

namespace {

// A body tenant_id other than the caller's (reference 6.1 step 4).
bool tenant_mismatch(Exchange& ex, const std::string& tenant_id) {
  if (tenant_id == ex.principal().tenant_id) return false;
  ex.fail(Error(Code::authz_error, "authorization failed: tenant mismatch between caller and request"));
  return true;
}

void answer(Exchange& ex, const Result<actors::Reply>& reply) {
  if (!reply) return ex.fail(reply.error());
  ex.reply_json(reply->status, reply->body);
}

void add_payment_operation(Router& router, actors::Runtime& runtime, const char* path, payment::Op op) {
  router.add("POST", path, [&runtime, op](Exchange& ex) {
    auto body = ex.json_body();
    if (!body) return;
    if (!ex.require_scope("payments:write")) return;
    auto req = parse_payment_request(*body, op);
    if (!req) return ex.fail(req.error());
    if (tenant_mismatch(ex, req->tenant_id)) return;
    answer(ex, runtime.payment_operation(req->tenant_id, req->merchant_id, req->transaction_id, req->op,
                                         req->idempotency_key, ex.request_id()));
  }, RouteOptions{true, ""});
}

}  // namespace

void add_checkout_routes(Router& router, actors::Runtime& runtime) {
  // Order of checks (api.md 4): auth -> body -> scope + tenant -> validation
  // -> idempotency -> cart -> policy -> saga (the last three in the actors).
  router.add("POST", "/api/v1/checkout/execute", [&runtime](Exchange& ex) {
    auto body = ex.json_body();
    if (!body) return;
    auto req = parse_checkout_request(*body);
    if (!req) return ex.fail(req.error());
    if (!ex.require_scope("checkout:execute") || tenant_mismatch(ex, req->tenant_id)) return;
    if (auto problems = checkout::validate(*req); !problems.empty())
      return ex.fail(validation_failed(std::move(problems)));
    answer(ex, runtime.checkout(std::move(*req), ex.request_id()));
  }, RouteOptions{true, ""});

  add_payment_operation(router, runtime, "/api/v1/payments/capture", payment::Op::capture);
  add_payment_operation(router, runtime, "/api/v1/payments/void", payment::Op::void_);
  add_payment_operation(router, runtime, "/api/v1/payments/refund", payment::Op::refund);

  router.add("GET", "/api/v1/payments/{transaction_id}", [&runtime](Exchange& ex) {
    auto p = runtime.get_payment(ex.principal().tenant_id, ex.param("transaction_id"));
    if (!p) return ex.fail(p.error());
    ex.reply_json(200, codec::payment_view_json(*p));
  }, RouteOptions{true, ""});

  router.add("GET", "/api/v1/orders/{order_id}", [&runtime](Exchange& ex) {
    auto o = runtime.get_order(ex.principal().tenant_id, ex.param("order_id"));
    if (!o) return ex.fail(o.error());
    ex.reply_json(200, codec::order_view_json(*o));
  }, RouteOptions{true, ""});

  router.add("POST", "/api/v1/ops/reconciliation", [&runtime](Exchange& ex) {
    auto body = ex.json_body();
    if (!body) return;
    auto ids = parse_reconciliation_request(*body);
    if (!ids) return ex.fail(ids.error());
    auto items = runtime.reconcile(ex.principal().tenant_id, *ids, ex.request_id());
    if (!items) return ex.fail(items.error());
    ex.reply_json(200, payment::reconciliation_json(*items));
  }, RouteOptions{true, "ops:admin"});
}

}  // namespace orch::http
