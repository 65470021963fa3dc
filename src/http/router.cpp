#include "http/router.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "actors/ids.hpp"
#include "http/errors.hpp"
#include "http/metrics.hpp"

namespace orch::http {

namespace {

bool is_json_content_type(std::string ct) {
  std::transform(ct.begin(), ct.end(), ct.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto semi = ct.find(';');
  if (semi != std::string::npos) ct.resize(semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  if (ct == "application/json") return true;
  // application/*+json
  return ct.rfind("application/", 0) == 0 && ct.size() > 17 &&
         ct.compare(ct.size() - 5, 5, "+json") == 0;
}

}  // namespace

std::optional<json::Value> Exchange::json_body() {
  if (!req_.has_header("Content-Type") || !is_json_content_type(req_.get_header_value("Content-Type"))) {
    fail(Error(Code::unsupported_media_type, "Content-Type must be application/json"));
    return std::nullopt;
  }
  auto doc = json::parse(req_.body);
  if (!doc) {
    fail(doc.error());
    return std::nullopt;
  }
  return std::move(*doc);
}

bool Exchange::require_scope(const std::string& scope) {
  if (principal_ && principal_->has_scope(scope)) return true;
  fail(Error(Code::forbidden_scope, "missing required scope: " + scope));
  return false;
}

void Exchange::reply_json(int status, std::string body) { reply(status, std::move(body), "application/json"); }

void Exchange::reply(int status, std::string body, const char* content_type) {
  res_.status = status;
  res_.set_content(std::move(body), content_type);
  answered_ = true;
}

void Exchange::fail(const Error& error) {
  if (error.code == Code::internal_error || error.code == Code::store_error)
    spdlog::error("[{}] {} {}: {}", request_id_, req_.method, req_.path, error.message);
  reply_json(status_of(error.code), error_body(error, request_id_));
}

std::vector<std::string> Router::split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;  // paths start with '/'
  if (path.empty() || path[0] != '/') return {"\x01invalid"};
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  // "/x/" and "/x" are the same route.
  if (out.size() > 1 && out.back().empty()) out.pop_back();
  return out;
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler,
                 RouteOptions options) {
  if (!options.scope.empty()) options.auth = true;
  routes_.push_back(Route{method, split(pattern), std::move(handler), std::move(options)});
}

bool Router::match(const Route& r, const std::vector<std::string>& segments,
                   std::map<std::string, std::string>* params) {
  if (r.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& p = r.segments[i];
    bool is_param = p.size() > 2 && p.front() == '{' && p.back() == '}';
    if (is_param) {
      if (segments[i].empty()) return false;
      if (params) (*params)[p.substr(1, p.size() - 2)] = segments[i];
    } else if (p != segments[i]) {
      return false;
    }
  }
  return true;
}

std::string Router::request_id_for(const httplib::Request& req) {
  if (req.has_header("X-Request-Id")) {
    auto v = req.get_header_value("X-Request-Id");
    bool ok = !v.empty() && v.size() <= 128 &&
              std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x21 && c <= 0x7E; });
    if (ok) return v;
  }
  return actors::new_uuid();
}

void Router::run(const Route& route, Exchange& ex) const {
  if (route.options.auth) {
    std::optional<std::string> header;
    if (ex.request().has_header("Authorization")) header = ex.request().get_header_value("Authorization");
    auto principal = auth_.authenticate(header);
    if (!principal) return ex.fail(principal.error());
    if (!route.options.scope.empty() && !principal->has_scope(route.options.scope))
      return ex.fail(Error(Code::forbidden_scope, "missing required scope: " + route.options.scope));
    ex.set_principal(std::move(*principal));
  }
  route.handler(ex);
}

std::string Router::allowed_methods(const std::string& path) const {
  auto segments = split(path);
  std::set<std::string> allowed;
  for (const auto& r : routes_)
    if (match(r, segments, nullptr)) allowed.insert(r.method);
  std::string out;
  for (const auto& m : allowed) out += (out.empty() ? "" : ", ") + m;
  return out;
}

void Router::dispatch(const httplib::Request& req, httplib::Response& res) const {
  auto started = std::chrono::steady_clock::now();
  metrics_.request_started();
  Exchange ex(req, res, request_id_for(req));
  res.set_header("X-Request-Id", ex.request_id());

  auto segments = split(req.path);
  const std::string& method = req.method == "HEAD" ? std::string("GET") : req.method;
  const Route* found = nullptr;
  std::set<std::string> allowed;
  for (const auto& r : routes_) {
    if (!match(r, segments, nullptr)) continue;
    allowed.insert(r.method);
    if (r.method == method && !found) found = &r;
  }
  try {
    if (found) {
      match(*found, segments, &ex.params());
      run(*found, ex);
      if (!ex.answered()) ex.fail(Error(Code::internal_error, "handler did not answer"));
    } else if (!allowed.empty()) {
      std::string allow;
      for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
      res.set_header("Allow", allow);
      ex.fail(Error(Code::method_not_allowed, "method " + req.method + " not allowed on " + req.path));
    } else {
      ex.fail(Error(Code::route_not_found, "no route for " + req.method + " " + req.path));
    }
  } catch (const std::exception& e) {
    spdlog::error("[{}] {} {}: unhandled exception: {}", ex.request_id(), req.method, req.path, e.what());
    ex.fail(Error(Code::internal_error, "internal error"));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.request_finished(res.status, seconds);
  spdlog::debug("[{}] {} {} -> {} ({:.3f} ms)", ex.request_id(), req.method, req.path, res.status,
                seconds * 1e3);
}

}  // namespace orch::http
