// The HTTP server: cpp-httplib tuned for this service (TCP_NODELAY, a pool
// sized for the expected connections, long keep-alive, a deep listen
// backlog, a body limit), every request routed through our Router, and
// errors raised inside httplib itself (oversized body, bad request line)
// rendered as the uniform JSON error too.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "events/error.hpp"
#include "http/config.hpp"

namespace orch::actors {
class Runtime;
}

namespace orch::http {

class Server {
 public:
  Server(const Config& config, actors::Runtime& runtime);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the auth tokens and binds the listening socket; returns the port.
  Result<int> bind();
  // Serves until stop(); returns after in-flight requests have finished.
  void serve();
  // Readiness turns 503 at once; new work is still accepted until stop().
  void begin_draining();
  // Closes the listener; serve() returns once in-flight requests are done.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace orch::http
