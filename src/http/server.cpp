#include "http/server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "actors/runtime.hpp"
#include "http/auth.hpp"
#include "http/errors.hpp"
#include "http/metrics.hpp"
#include "http/router.hpp"
#include "http/routes.hpp"

namespace orch::http {

namespace {

// httplib's listen backlog is fixed at 5 inside Debian's shared library;
// re-issuing listen() on the bound socket raises it (toolchain.md 4b).
struct TunedServer : httplib::Server {
  bool raise_backlog(int n) { return ::listen(svr_sock_, n) == 0; }
};

Code code_for_library_status(int status) {
  switch (status) {
    case 413: return Code::payload_too_large;
    case 404: return Code::route_not_found;
    case 405: return Code::method_not_allowed;
    default: return status >= 500 ? Code::internal_error : Code::bad_request;
  }
}

std::string message_for_library_status(int status, std::size_t max_body) {
  switch (status) {
    case 413: return "request body exceeds " + std::to_string(max_body) + " bytes";
    case 414: return "request URI too long";
    case 404: return "no such route";
    default: return "malformed HTTP request";
  }
}

}  // namespace

struct Server::Impl {
  Config config;
  actors::Runtime& runtime;
  std::optional<Authenticator> auth;
  Metrics metrics;
  std::unique_ptr<Router> router;
  TunedServer svr;
  std::atomic<bool> draining{false};

  Impl(const Config& c, actors::Runtime& r) : config(c), runtime(r) {}

  void add_operational_routes() {
    router->add("GET", "/health/live", [](Exchange& ex) { ex.reply_json(200, R"({"status":"ok"})"); });
    router->add("GET", "/health/ready", [this](Exchange& ex) {
      if (!draining.load()) return ex.reply_json(200, R"({"status":"ok"})");
      Error e(Code::shutting_down, "server is shutting down");
      auto body = error_body(e, ex.request_id());
      body.insert(1, R"("status":"shutting_down",)");
      ex.reply_json(503, std::move(body));
    });
    router->add("GET", "/metrics", [this](Exchange& ex) {
      auto accept = ex.request().get_header_value("Accept");
      if (accept.find("application/json") != std::string::npos)
        return ex.reply_json(200, metrics.json());
      ex.reply(200, metrics.prometheus(&runtime.writer_stats(), &runtime.outbox_counters()),
               "text/plain; version=0.0.4");
    });
  }
};

Server::Server(const Config& config, actors::Runtime& runtime)
    : impl_(std::make_unique<Impl>(config, runtime)) {}

Server::~Server() = default;

Result<int> Server::bind() {
  auto& im = *impl_;
  auto auth = Authenticator::create(im.config);
  if (!auth) return auth.error();
  im.auth.emplace(std::move(*auth));
  im.router = std::make_unique<Router>(*im.auth, im.metrics);
  im.add_operational_routes();
  add_cart_routes(*im.router, im.runtime);
  add_checkout_routes(*im.router, im.runtime);
  add_ops_routes(*im.router, im.runtime);

  auto& svr = im.svr;
  const std::size_t threads = im.config.http_threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(100000);
  svr.set_keep_alive_timeout(5);
  svr.set_read_timeout(10, 0);
  svr.set_write_timeout(10, 0);
  svr.set_payload_max_length(im.config.max_body_bytes);

  auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    impl_->router->dispatch(req, res);
  };
  svr.Get(".*", dispatch);
  svr.Post(".*", dispatch);
  svr.Put(".*", dispatch);
  svr.Delete(".*", dispatch);
  svr.Patch(".*", dispatch);
  svr.Options(".*", dispatch);
  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours
    // An error raised by httplib before routing: count it and make it JSON.
    auto id = Router::request_id_for(req);
    impl_->metrics.request_started();
    impl_->metrics.request_finished(res.status, 0);
    res.set_header("X-Request-Id", id);
    Error e(code_for_library_status(res.status),
            message_for_library_status(res.status, impl_->config.max_body_bytes));
    // A valid method that httplib does not dispatch (TRACE, CONNECT): answer
    // like our router does for any method a route does not take.
    if (res.status == 400 && (req.method == "TRACE" || req.method == "CONNECT")) {
      auto allow = impl_->router->allowed_methods(req.path);
      if (allow.empty()) {
        res.status = 404;
        e = Error(Code::route_not_found, "no route for " + req.method + " " + req.path);
      } else {
        res.status = 405;
        res.set_header("Allow", allow);
        e = Error(Code::method_not_allowed, "method " + req.method + " not allowed on " + req.path);
      }
    }
    res.set_content(error_body(e, id), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  int port = im.config.bind_port;
  if (port == 0) {
    port = svr.bind_to_any_port(im.config.bind_host);
    if (port < 0) return Error(Code::internal_error, "cannot bind " + im.config.bind_host + ":0");
  } else if (!svr.bind_to_port(im.config.bind_host, port)) {
    return Error(Code::internal_error,
                 "cannot bind " + im.config.bind_host + ":" + std::to_string(port) +
                     " (address in use or not available)");
  }
  if (!svr.raise_backlog(1024)) spdlog::warn("could not raise the listen backlog");
  return port;
}

void Server::serve() { impl_->svr.listen_after_bind(); }

void Server::begin_draining() { impl_->draining.store(true); }

void Server::stop() { impl_->svr.stop(); }

}  // namespace orch::http
