// HTTP clients of the merchant's back-ends, speaking the original service's
// wire format (reference §12.3/12.4), with the fixes of reference §17.2
// items 21-24 (api.md §8):
//
//   catalog  GET  {base}/items/{item_id}         -> {"id","title","price_minor"[,"available"]}
//                                                    404: unknown item (nullopt). "available" is
//                                                    the stock; absent or null = unlimited.
//   pricing  POST {base}/prices/resolve          CartProjection -> {"prices":[{"line_id",
//                                                    "unit_price_minor","total_minor"}]}
//            GET  {base}/discounts/{code}        -> {"code","type":"percentage"|"fixed_amount",
//                                                    "value","description"}; 404: unknown code.
//                                                    (Our extension: the reference had no codes.)
//   tax      POST {base}/tax/resolve             CartProjection -> {"total_tax_minor"}
//   geo      POST {base}/geo/check               {"cart": CartProjection, "request":
//   CheckoutRequest}
//                                                    -> {"allowed"}. The request carries no token,
//                                                    no customer and no consent proof (null).
//   payment  POST {base}/authorize               CheckoutRequest + "transaction_id"
//                                                    -> {"authorized","reference"}; a 402/422
//                                                    answer is a decline too.
//            POST {base}/capture|void|refund     {"tenant_id","merchant_id","transaction_id",
//                                                    "amount_minor","idempotency_key"}
//                                                    -> {"success","reference"}; success false or a
//                                                    4xx other than 404/429 is a definitive
//                                                    refusal.
//            GET  {base}/state/{transaction_id}  -> {"state"}; 404: unknown (nullopt), not retried.
//   receipt  POST {base}/receipts/generate       {"cart": CartProjection, "result":
//   TransactionResult}
//                                                    -> {"content"}
//
// CartProjection: {"cart_id","version","currency","lines":[{"line_id","item_id","title","quantity",
// "unit_price_minor","total_minor"}],"subtotal_minor","discount_minor","tax_minor","total_minor",
// "geo_ok","status"} with status "Draft" or "CheckoutReady" (also for checked-out carts);
// "discount_minor" is our addition.
//
// Every request sends X-Request-Id (CallContext::request_id, when not empty)
// and, when the call has one, Idempotency-Key (also the body's
// "idempotency_key" of the payment calls); POSTs send Content-Type:
// application/json. Path parameters are percent-encoded (everything but RFC
// 3986 unreserved characters). Redirects are not followed (a 3xx is
// BACKEND_ERROR).
//
// Reliability, per back-end:
//  * connect, read and write timeouts per attempt;
//  * retries (up to max_retries; a wait drawn uniformly from [0, retry_backoff
//    * 2^k] capped at 10 s, or the Retry-After seconds of a 429/503 capped at
//    5 s) only after a transport error, a 429 or a 5xx. GETs are retried; so
//    are the POSTs of pricing, tax, geo and receipt, which have no side effect
//    at the back-end; a payment POST is retried only when it carries an
//    Idempotency-Key. 404 and other 4xx are definitive and never retried. A
//    failed TLS certificate check is not retried either (BACKEND_UNAVAILABLE
//    at once). Timeouts apply to each connect, read and write, so a back-end
//    that keeps trickling bytes can hold an attempt longer.
//  * a circuit breaker: after breaker_failures consecutive failed calls
//    (transport error, 429 or 5xx after the retries) calls fail at once
//    (BACKEND_UNAVAILABLE "<backend>: circuit open") for breaker_open; then one
//    probe call goes through: success closes the circuit, failure re-opens it.
//    breaker_failures <= 0 disables the breaker.
//  * a pool of keep-alive connections (TCP_NODELAY), so that any number of
//    threads may call concurrently.
// Errors: BACKEND_UNAVAILABLE when the back-end could not answer (transport,
// 429, 5xx, circuit open); BACKEND_ERROR for an answer we cannot use (2xx with
// a bad body, a definitive 4xx; payment refusals are answers, not Errors).
// Messages read "<backend> <METHOD> <path>: <what>" and never contain tokens,
// customer data or response bodies.
//
// https:// URLs verify the server's certificate against the system CA store.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "adapters/backends.hpp"
#include "events/error.hpp"

namespace orch::adapters {

struct HttpBackendSettings {
  std::string catalog_url, pricing_url, tax_url, geo_url, payment_url,
      receipt_url;                                  // empty: keep the base back-end
  std::chrono::milliseconds connect_timeout{2000};  // PROVIDER_CONNECT_TIMEOUT_MS
  std::chrono::milliseconds timeout{
      10000};           // PROVIDER_TIMEOUT_MS (read and write timeout per attempt)
  int max_retries = 3;  // PROVIDER_MAX_RETRIES (attempts = max_retries + 1)
  std::chrono::milliseconds retry_backoff{100};  // base of the exponential backoff
  int breaker_failures = 5;                      // consecutive failures that open the circuit
  std::chrono::milliseconds breaker_open{5000};  // how long it stays open before a probe
};

// Checks the settings and the URLs (http:// or https://, a host, an optional
// port and base path; surrounding blanks are trimmed and a blank URL counts as
// unset; else an Error naming the variable, e.g. "PAYMENT_BASE_URL: ..."), then
// returns `base` with every back-end whose URL is set replaced by an HTTP
// client. Sets Backends::in_process = false when any HTTP client is used.
Result<Backends> with_http_backends(Backends base, const HttpBackendSettings& settings);

// Counters of one HTTP back-end, for metrics.
struct BackendCallStats {
  std::atomic<std::uint64_t> calls{
      0};  // logical calls (including those refused by an open circuit)
  std::atomic<std::uint64_t> retries{0};        // extra attempts
  std::atomic<std::uint64_t> failures{0};       // calls that ended in an Error
  std::atomic<std::uint64_t> breaker_opens{0};  // times the circuit opened
};

// ("catalog", stats), ("pricing", stats), ... for the back-ends of `b` that are
// HTTP clients, in that order. The pointers live as long as the back-ends.
std::vector<std::pair<std::string, const BackendCallStats*>> http_backend_stats(const Backends& b);

}  // namespace orch::adapters
