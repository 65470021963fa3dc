#include "http/auth.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "events/hash.hpp"
#include "events/json.hpp"

namespace orch::http {

bool Principal::has_scope(std::string_view s) const {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

namespace {

Error tokens_file_error(const std::string& path, const std::string& why) {
  return Error(Code::internal_error, "AUTH_TOKENS_FILE " + path + ": " + why);
}

bool equal_constant_time(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Result<Authenticator> Authenticator::create(const Config& config) {
  Authenticator a;
  a.production_ = config.production;
  if (!config.auth.bearer_token.empty())
    a.entries_.push_back({sha256_hex(config.auth.bearer_token),
                          Principal{config.auth.tenant_id, config.auth.caller_id, config.auth.scopes}});
  if (!config.auth.tokens_file.empty()) {
    const auto& path = config.auth.tokens_file;
    std::ifstream in(path);
    if (!in) return tokens_file_error(path, "cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    auto doc = json::parse(ss.str());
    if (!doc) return tokens_file_error(path, doc.error().message);
    if (!doc->is_array()) return tokens_file_error(path, "must be a JSON array");
    std::size_t index = 0;
    for (const auto& item : doc->items()) {
      json::ObjectReader r(&item, "[" + std::to_string(index++) + "]");
      Entry e;
      e.token_sha256 = r.string("token_sha256").value_or("");
      e.principal.tenant_id = r.string("tenant_id").value_or("");
      e.principal.caller_id = r.string("caller_id", false).value_or(e.principal.tenant_id);
      if (const auto* scopes = r.array("scopes")) {
        for (const auto& s : scopes->items())
          if (s.is_string()) e.principal.scopes.push_back(s.as_string());
      }
      if (!r.ok()) return tokens_file_error(path, r.error().message);
      std::transform(e.token_sha256.begin(), e.token_sha256.end(), e.token_sha256.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (e.token_sha256.size() != 64)
        return tokens_file_error(path, "token_sha256 must be 64 hex digits");
      if (e.principal.tenant_id.empty()) return tokens_file_error(path, "tenant_id must not be empty");
      a.entries_.push_back(std::move(e));
    }
  }
  return a;
}

Result<Principal> Authenticator::authenticate(const std::optional<std::string>& header) const {
  if (!header) {
    if (!production_)
      return Principal{"dev", "dev", std::vector<std::string>(std::begin(all_scopes), std::end(all_scopes))};
    return Error(Code::unauthorized, "missing bearer token");
  }
  std::string_view h = *header;
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.size() < 7 || !std::equal(h.begin(), h.begin() + 6, "bearer",
                                  [](char a, char b) { return std::tolower(a) == b; }) ||
      h[6] != ' ')
    return Error(Code::unauthorized, "Authorization must be 'Bearer <token>'");
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (h.empty()) return Error(Code::unauthorized, "empty bearer token");
  // Compare digests, so the comparison time depends on neither the token nor
  // its length; and visit every entry.
  std::string digest = sha256_hex(h);
  const Entry* match = nullptr;
  for (const auto& e : entries_)
    if (equal_constant_time(digest, e.token_sha256) && !match) match = &e;
  if (!match) return Error(Code::unauthorized, "invalid bearer token");
  return match->principal;
}

}  // namespace orch::http
