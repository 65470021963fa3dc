// The machinery shared by the HTTP back-end clients (http_backends.cpp):
// base-URL parsing, percent-encoding, and Endpoint — one back-end with its
// connection pool, retry policy and circuit breaker. See http_backends.hpp for
// the policy itself.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/backends.hpp"
#include "adapters/http_backends.hpp"
#include "events/error.hpp"

namespace orch::adapters::http {

struct BaseUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // a name, an IPv4 address or a bracketed IPv6 address
  int port = 0;        // explicit or the scheme's default
  std::string path;    // "" or "/a/b" (no trailing '/')

  std::string origin() const;  // scheme://host:port
};

// `variable` names the setting in errors ("CATALOG_BASE_URL: ..."). The URL
// itself is never echoed (it could carry credentials).
Result<BaseUrl> parse_base_url(std::string_view variable, std::string_view url);

// RFC 3986: unreserved characters are kept, every other byte becomes %XX. A
// segment made only of dots ("." or "..") is encoded completely, so that no
// server treats it as a relative path step.
std::string percent_encode(std::string_view s);

enum class Method { get, post };

struct Call {
  Method method = Method::get;
  std::string path;  // appended to the base path; already encoded
  std::string body;  // POST: JSON
  // A POST without an effect at the back-end: retried like a GET even
  // without an idempotency key.
  bool side_effect_free = false;
};

struct Answer {
  int status = 0;
  std::string body;
};

class Endpoint {
 public:
  // `name`: "catalog", "payment", ...
  Endpoint(std::string name, BaseUrl url, const HttpBackendSettings& settings);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // One logical call (all its attempts). Returns the back-end's definitive
  // answer (any status but 429 and 5xx), or BACKEND_UNAVAILABLE when it could
  // not answer after the retries or the circuit is open. Counts `calls` and
  // `retries`; the caller counts `failures` (it alone knows whether the answer
  // was usable). Thread safe.
  Result<Answer> call(const CallContext& ctx, const Call& c);

  // "<name> <METHOD> <full path>: <what>"
  std::string describe(const Call& c, std::string_view what) const;
  const std::string& name() const;
  BackendCallStats& stats();
  const BackendCallStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orch::adapters::http
