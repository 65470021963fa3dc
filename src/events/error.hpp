// Errors as values: every fallible domain operation returns Result<T>.
//
// An Error carries a stable machine code (the `code` of the JSON error body),
// a human message written once (no doubled prefixes), and optional details
// (every problem found, for VALIDATION_ERROR). The HTTP layer maps codes to
// status codes in exactly one place (src/http/errors.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace orch {

enum class Code {
  // Request shape and transport (HTTP layer).
  malformed_json,
  unsupported_media_type,
  invalid_body,
  payload_too_large,
  route_not_found,
  method_not_allowed,
  bad_request,
  validation_error,
  // VALIDATION_ERROR about a well-formed request that does not match the
  // entity it names (checkout currency or merchant other than the cart's):
  // the same code for clients, but 422.
  validation_mismatch,
  // Auth.
  unauthorized,
  forbidden_scope,
  authz_error,
  forbidden,
  // Carts.
  not_found,
  missing_cart_id,
  line_not_found,
  item_not_found,
  out_of_stock,
  adjustment_rejected,
  cart_version_conflict,
  cart_closed,
  amount_out_of_range,
  // Checkout.
  cart_not_ready,
  cart_empty,
  cart_already_checked_out,
  amount_mismatch,
  idempotency_key_reused,
  // Payments.
  invalid_payment_transition,
  refund_exceeds_captured,
  payment_error,
  // Infrastructure.
  backend_unavailable,
  backend_error,
  journal_full,
  store_error,
  timeout,
  shutting_down,
  internal_error,
};

// "CART_VERSION_CONFLICT" etc.
std::string_view code_name(Code c);
std::optional<Code> code_from_name(std::string_view name);

struct Error {
  Code code = Code::internal_error;
  std::string message;
  std::vector<std::string> details;  // every problem, for validation errors

  Error() = default;
  Error(Code c, std::string msg, std::vector<std::string> d = {})
      : code(c), message(std::move(msg)), details(std::move(d)) {}
};

// A value or an Error. Small on purpose: `if (r) use(*r); else r.error()`.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}        // NOLINT: implicit by design

  explicit operator bool() const { return v_.index() == 0; }
  bool ok() const { return v_.index() == 0; }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// VALIDATION_ERROR listing every problem, in the message and as details.
Error validation_failed(std::vector<std::string> problems);

// Result<void>.
struct Ok {};
using Status = Result<Ok>;
inline Status ok() { return Ok{}; }

}  // namespace orch
