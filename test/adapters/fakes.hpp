// Loopback fakes of the merchant's back-ends for the HTTP adapter tests.
//
// FakeServer: an httplib::Server on 127.0.0.1 (any free port) that records
// every request (method, raw target, headers, body) and answers with the
// handler the test gives. DropServer: a raw TCP server that closes the first
// `drops` connections without a word and answers the later ones with a fixed
// 200 response.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http_backends.hpp"
#include "events/json.hpp"

namespace fakes {

struct Seen {
  std::string method;
  std::string target;  // as sent, still percent-encoded
  std::string path;    // decoded by the server
  httplib::Headers headers;
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const { return headers.find(name) != headers.end(); }
  orch::json::Value json() const;
};

class FakeServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit FakeServer(Handler handler);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  int port() const { return port_; }
  // http://127.0.0.1:<port><suffix>
  std::string url(const std::string& suffix = "") const;
  int count() const;
  std::vector<Seen> seen() const;
  Seen last() const;

 private:
  struct Server : httplib::Server {
    bool raise_backlog(int n);
  };
  Handler handler_;
  Server server_;
  int port_ = -1;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
};

class DropServer {
 public:
  DropServer(int drops, std::string answer_body);
  ~DropServer();
  DropServer(const DropServer&) = delete;
  DropServer& operator=(const DropServer&) = delete;

  std::string url() const;
  int accepted() const { return accepted_.load(); }

 private:
  void loop();
  void answer(int fd);
  int fd_ = -1;
  int port_ = -1;
  int drops_;
  std::string body_;
  std::atomic<int> accepted_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A JSON answer.
void reply(httplib::Response& res, int status, const std::string& json_body);

// Short timeouts: every test stays fast.
orch::adapters::HttpBackendSettings fast_settings();

// Every back-end pointed at `url`.
orch::adapters::HttpBackendSettings all_at(const std::string& url,
                                           orch::adapters::HttpBackendSettings s = fast_settings());

// with_http_backends over empty base back-ends; REQUIREs success.
orch::adapters::Backends make(const orch::adapters::HttpBackendSettings& s);

}  // namespace fakes
