// Routing for every request: our own table of (method, path) -> handler, so
// that unknown paths get 404 ROUTE_NOT_FOUND and known paths with another
// method get 405 METHOD_NOT_ALLOWED with an Allow header, all as JSON.
//
// A route says whether it needs a caller (auth) and which scope. The
// Exchange passed to handlers carries the request id, the caller, the path
// parameters and helpers to read a JSON body and to answer.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/error.hpp"
#include "events/json.hpp"
#include "http/auth.hpp"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace orch::http {

class Metrics;

class Exchange {
 public:
  Exchange(const httplib::Request& req, httplib::Response& res, std::string request_id)
      : req_(req), res_(res), request_id_(std::move(request_id)) {}

  const httplib::Request& request() const { return req_; }
  const std::string& request_id() const { return request_id_; }
  // The authenticated caller (routes with auth only).
  const Principal& principal() const { return *principal_; }
  void set_principal(Principal p) { principal_ = std::move(p); }
  // Fails the exchange with 403 FORBIDDEN_SCOPE unless the caller has `scope`.
  bool require_scope(const std::string& scope);
  // "{id}" segments of the route pattern, by name.
  const std::string& param(const std::string& name) const { return params_.at(name); }
  std::map<std::string, std::string>& params() { return params_; }

  // The body as JSON: 415 unless the content type is application/json (or
  // application/*+json), 400 for malformed JSON. On error the response has
  // been written and nullopt is returned.
  std::optional<json::Value> json_body();

  void reply_json(int status, std::string body);
  void reply(int status, std::string body, const char* content_type);
  void fail(const Error& error);
  bool answered() const { return answered_; }

 private:
  const httplib::Request& req_;
  httplib::Response& res_;
  std::string request_id_;
  std::optional<Principal> principal_;
  std::map<std::string, std::string> params_;
  bool answered_ = false;
};

struct RouteOptions {
  bool auth = false;      // needs a caller
  std::string scope;      // needs this scope (implies auth)
};

using Handler = std::function<void(Exchange&)>;

class Router {
 public:
  Router(const Authenticator& auth, Metrics& metrics) : auth_(auth), metrics_(metrics) {}

  // `pattern`: "/api/v1/orders/{order_id}" — "{name}" matches one segment.
  void add(const std::string& method, const std::string& pattern, Handler handler,
           RouteOptions options = {});

  // Entry point for every request.
  void dispatch(const httplib::Request& req, httplib::Response& res) const;

  // The methods routed for `path` ("GET, POST"), empty when no route matches.
  std::string allowed_methods(const std::string& path) const;

  // Request id of a request: the client's x-request-id when it is 1..128
  // visible ASCII characters, else a fresh one.
  static std::string request_id_for(const httplib::Request& req);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{x}" for parameters
    Handler handler;
    RouteOptions options;
  };
  static std::vector<std::string> split(const std::string& path);
  static bool match(const Route& r, const std::vector<std::string>& segments,
                    std::map<std::string, std::string>* params);
  void run(const Route& route, Exchange& ex) const;

  const Authenticator& auth_;
  Metrics& metrics_;
  std::vector<Route> routes_;
};

}  // namespace orch::http
