#include "events/error.hpp"

namespace orch {

std::string_view code_name(Code c) {
  switch (c) {
    case Code::malformed_json: return "MALFORMED_JSON";
    case Code::unsupported_media_type: return "UNSUPPORTED_MEDIA_TYPE";
    case Code::invalid_body: return "INVALID_BODY";
    case Code::payload_too_large: return "PAYLOAD_TOO_LARGE";
    case Code::route_not_found: return "ROUTE_NOT_FOUND";
    case Code::method_not_allowed: return "METHOD_NOT_ALLOWED";
    case Code::bad_request: return "BAD_REQUEST";
    case Code::validation_error: return "VALIDATION_ERROR";
    case Code::validation_mismatch: return "VALIDATION_ERROR";
    case Code::unauthorized: return "UNAUTHORIZED";
    case Code::forbidden_scope: return "FORBIDDEN_SCOPE";
    case Code::authz_error: return "AUTHZ_ERROR";
    case Code::forbidden: return "FORBIDDEN";
    case Code::not_found: return "NOT_FOUND";
    case Code::missing_cart_id: return "MISSING_CART_ID";
    case Code::line_not_found: return "LINE_NOT_FOUND";
    case Code::item_not_found: return "ITEM_NOT_FOUND";
    case Code::out_of_stock: return "OUT_OF_STOCK";
    case Code::adjustment_rejected: return "ADJUSTMENT_REJECTED";
    case Code::cart_version_conflict: return "CART_VERSION_CONFLICT";
    case Code::cart_closed: return "CART_CLOSED";
    case Code::amount_out_of_range: return "AMOUNT_OUT_OF_RANGE";
    case Code::cart_not_ready: return "CART_NOT_READY";
    case Code::cart_empty: return "CART_EMPTY";
    case Code::cart_already_checked_out: return "CART_ALREADY_CHECKED_OUT";
    case Code::amount_mismatch: return "AMOUNT_MISMATCH";
    case Code::idempotency_key_reused: return "IDEMPOTENCY_KEY_REUSED";
    case Code::invalid_payment_transition: return "INVALID_PAYMENT_TRANSITION";
    case Code::refund_exceeds_captured: return "REFUND_EXCEEDS_CAPTURED";
    case Code::payment_error: return "PAYMENT_ERROR";
    case Code::backend_unavailable: return "BACKEND_UNAVAILABLE";
    case Code::backend_error: return "BACKEND_ERROR";
    case Code::journal_full: return "JOURNAL_FULL";
    case Code::store_error: return "STORE_ERROR";
    case Code::timeout: return "TIMEOUT";
    case Code::shutting_down: return "SHUTTING_DOWN";
    case Code::internal_error: return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

std::optional<Code> code_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Code::internal_error); ++i)
    if (code_name(static_cast<Code>(i)) == name) return static_cast<Code>(i);
  return std::nullopt;
}

Error validation_failed(std::vector<std::string> problems) {
  std::string msg = "validation failed: ";
  for (std::size_t i = 0; i < problems.size(); ++i) {
    if (i) msg += "; ";
    msg += problems[i];
  }
  return Error(Code::validation_error, std::move(msg), std::move(problems));
}

}  // namespace orch
