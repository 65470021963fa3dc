// Who is calling: bearer tokens to (tenant, caller, scopes).
//
// Development mode (the default): a request without Authorization acts as
// tenant "dev", caller "dev", with every scope. A request that does send a
// bearer token is checked exactly like in production. Production: every
// protected route needs "Authorization: Bearer <token>" (scheme case
// insensitive). Tokens come from AUTH_BEARER_TOKEN and/or AUTH_TOKENS_FILE
// (entries match on the hex SHA-256 of the presented token); comparisons
// are constant-time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "events/error.hpp"
#include "http/config.hpp"

namespace orch::http {

inline constexpr const char* all_scopes[] = {"cart:write", "checkout:execute", "payments:write",
                                             "events:write", "ops:admin"};

struct Principal {
  std::string tenant_id;
  std::string caller_id;
  std::vector<std::string> scopes;
  bool has_scope(std::string_view s) const;
};

class Authenticator {
 public:
  // Loads AUTH_TOKENS_FILE; an unreadable or malformed file is an error that
  // names the file.
  static Result<Authenticator> create(const Config& config);

  // `authorization`: the Authorization header, nullopt when absent.
  Result<Principal> authenticate(const std::optional<std::string>& authorization) const;

 private:
  struct Entry {
    std::string token_sha256;  // lowercase hex
    Principal principal;
  };
  bool production_ = false;
  std::vector<Entry> entries_;
};

}  // namespace orch::http
