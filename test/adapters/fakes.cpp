#include "fakes.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace fakes {

orch::json::Value Seen::json() const {
  auto v = orch::json::parse(body);
  INFO("body: " << body);
  REQUIRE(v.ok());
  return *v;
}

bool FakeServer::Server::raise_backlog(int n) {
  return ::listen(svr_sock_, n) == 0;
}

FakeServer::FakeServer(Handler handler) : handler_(std::move(handler)) {
  server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server_.set_tcp_nodelay(true);
  server_.set_keep_alive_timeout(1);
  auto record = [this](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back(Seen{req.method, req.target, req.path, req.headers, req.body});
    }
    handler_(req, res);
  };
  server_.Get(".*", record);
  server_.Post(".*", record);
  port_ = server_.bind_to_any_port("127.0.0.1");
  REQUIRE(port_ > 0);
  server_.raise_backlog(128);
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // stop() before the accept loop runs would be lost (and join() would hang).
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeServer::~FakeServer() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeServer::url(const std::string& suffix) const {
  return "http://127.0.0.1:" + std::to_string(port_) + suffix;
}

int FakeServer::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(seen_.size());
}

std::vector<Seen> FakeServer::seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

Seen FakeServer::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  REQUIRE(!seen_.empty());
  return seen_.back();
}

DropServer::DropServer(int drops, std::string answer_body)
    : drops_(drops), body_(std::move(answer_body)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd_ >= 0);
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd_, 64) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { loop(); });
}

DropServer::~DropServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

std::string DropServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void DropServer::loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    int n = ++accepted_;
    if (n > drops_) answer(c);
    ::close(c);  // the first `drops` connections: closed without a word
  }
}

// Reads one request (headers and Content-Length body), answers, closes.
void DropServer::answer(int fd) {
  std::string in;
  char buf[4096];
  std::size_t need = std::string::npos;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) return;
    auto n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return;
    in.append(buf, static_cast<std::size_t>(n));
    auto end = in.find("\r\n\r\n");
    if (end == std::string::npos) continue;
    if (need == std::string::npos) {
      std::size_t length = 0;
      auto at = in.find("Content-Length: ");
      if (at != std::string::npos && at < end) length = std::stoul(in.substr(at + 16));
      need = end + 4 + length;
    }
    if (in.size() >= need) break;
  }
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
      std::to_string(body_.size()) + "\r\n\r\n" + body_;
  [[maybe_unused]] auto w = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
}

void reply(httplib::Response& res, int status, const std::string& json_body) {
  res.status = status;
  res.set_content(json_body, "application/json");
}

orch::adapters::HttpBackendSettings fast_settings() {
  orch::adapters::HttpBackendSettings s;
  s.connect_timeout = std::chrono::milliseconds(200);
  s.timeout = std::chrono::milliseconds(300);
  s.max_retries = 3;
  s.retry_backoff = std::chrono::milliseconds(5);
  s.breaker_failures = 1000;  // out of the way unless a test wants it
  s.breaker_open = std::chrono::milliseconds(300);
  return s;
}

orch::adapters::HttpBackendSettings all_at(const std::string& url,
                                           orch::adapters::HttpBackendSettings s) {
  s.catalog_url = s.pricing_url = s.tax_url = s.geo_url = s.payment_url = s.receipt_url = url;
  return s;
}

orch::adapters::Backends make(const orch::adapters::HttpBackendSettings& s) {
  auto b = orch::adapters::with_http_backends(orch::adapters::Backends{}, s);
  INFO((b ? std::string() : b.error().message));
  REQUIRE(b.ok());
  return *b;
}

}  // namespace fakes
