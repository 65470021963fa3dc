#include "http/errors.hpp"

#include "events/json.hpp"

namespace orch::http {

int status_of(Code code) {
  switch (code) {
    case Code::malformed_json: return 400;
    case Code::unsupported_media_type: return 415;
    case Code::invalid_body: return 422;
    case Code::payload_too_large: return 413;
    case Code::route_not_found: return 404;
    case Code::method_not_allowed: return 405;
    case Code::bad_request: return 400;
    case Code::validation_error: return 400;
    case Code::validation_mismatch: return 422;
    case Code::unauthorized: return 401;
    case Code::forbidden_scope: return 403;
    case Code::authz_error: return 403;
    case Code::forbidden: return 403;
    case Code::not_found: return 404;
    case Code::missing_cart_id: return 400;
    case Code::line_not_found: return 404;
    case Code::item_not_found: return 404;
    case Code::out_of_stock: return 409;
    case Code::adjustment_rejected: return 422;
    case Code::cart_version_conflict: return 409;
    case Code::cart_closed: return 409;
    case Code::amount_out_of_range: return 422;
    case Code::cart_not_ready: return 409;
    case Code::cart_empty: return 422;
    case Code::cart_already_checked_out: return 409;
    case Code::amount_mismatch: return 422;
    case Code::idempotency_key_reused: return 409;
    case Code::invalid_payment_transition: return 409;
    case Code::refund_exceeds_captured: return 422;
    case Code::payment_error: return 422;
    case Code::backend_unavailable: return 503;
    case Code::backend_error: return 502;
    case Code::journal_full: return 507;
    case Code::store_error: return 500;
    case Code::timeout: return 504;
    case Code::shutting_down: return 503;
    case Code::internal_error: return 500;
  }
  return 500;
}

std::string error_body(const Error& error, const std::string& request_id) {
  json::Writer w;
  w.begin_object();
  w.field("error", error.message).field("code", code_name(error.code));
  w.field("request_id", request_id);
  if (!error.details.empty()) {
    w.key("details").begin_array();
    for (const auto& d : error.details) w.value(d);
    w.end_array();
  }
  w.end_object();
  return w.take();
}

}  // namespace orch::http
