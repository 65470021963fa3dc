#include "adapters/outbox_sinks.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <vector>

#include "events/json.hpp"

namespace orch::adapters {

std::string webhook_signature(const std::string& secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[mac[i] >> 4]);
    out.push_back(hex[mac[i] & 0xF]);
  }
  return out;
}

namespace {

class FileSink final : public OutboxSink {
 public:
  FileSink(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~FileSink() override { ::close(fd_); }

  Status deliver(const outbox::Message& m) override {
    json::Writer w;
    w.begin_object().field("id", m.id).field("topic", m.topic).field("tenant_id", m.tenant_id);
    w.field("correlation_id", m.correlation_id).field("attempt", static_cast<std::uint64_t>(m.attempts + 1));
    w.key("payload").raw(m.payload.empty() ? std::string_view("null") : std::string_view(m.payload));
    w.end_object();
    std::string line = w.take();
    line.push_back('\n');
    std::lock_guard<std::mutex> lock(mu_);
    // One write() on an O_APPEND descriptor keeps lines whole; the sync makes
    // the delivery durable before the outbox row is removed.
    auto n = ::write(fd_, line.data(), line.size());
    if (n != static_cast<ssize_t>(line.size())) return Error(Code::store_error, "cannot append to " + path_);
    if (::fdatasync(fd_) != 0) return Error(Code::store_error, "cannot sync " + path_);
    return ok();
  }
  std::string describe() const override { return "file " + path_; }

 private:
  std::string path_;
  int fd_;
  std::mutex mu_;
};

class WebhookSink final : public OutboxSink {
 public:
  WebhookSink(WebhookSettings s, std::string origin, std::string path)
      : s_(std::move(s)), origin_(std::move(origin)), path_(std::move(path)) {}

  Status deliver(const outbox::Message& m) override {
    auto client = take();
    httplib::Headers headers = {{"X-Event-Id", m.id},
                                {"X-Event-Type", m.topic},
                                {"Idempotency-Key", m.id},
                                {"X-Correlation-Id", m.correlation_id}};
    if (!s_.secret.empty()) headers.emplace("X-Signature", webhook_signature(s_.secret, m.payload));
    auto res = client->Post(path_, headers, m.payload, "application/json");
    if (!res) return Error(Code::backend_unavailable, "webhook: " + httplib::to_string(res.error()));
    if (res->status < 200 || res->status >= 300)
      return Error(Code::backend_error, "webhook answered HTTP " + std::to_string(res->status));
    give_back(std::move(client));
    return ok();
  }
  std::string describe() const override { return "webhook " + origin_ + path_; }

 private:
  std::unique_ptr<httplib::Client> take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    auto c = std::make_unique<httplib::Client>(origin_);
    c->set_connection_timeout(s_.connect_timeout);
    c->set_read_timeout(s_.timeout);
    c->set_write_timeout(s_.timeout);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    if (origin_.rfind("https://", 0) == 0) {
      if (::access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
        c->set_ca_cert_path("/etc/ssl/certs/ca-certificates.crt");
      c->enable_server_certificate_verification(true);
    }
    return c;
  }
  void give_back(std::unique_ptr<httplib::Client> c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 16) idle_.push_back(std::move(c));
  }

  WebhookSettings s_;
  std::string origin_;  // scheme://host:port
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

}  // namespace

Result<std::shared_ptr<OutboxSink>> make_webhook_sink(const WebhookSettings& s) {
  const std::string& url = s.url;
  auto scheme_end = url.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    return Error(Code::internal_error, "OUTBOX_WEBHOOK_URL must start with http:// or https://");
  auto host_start = scheme_end + 3;
  auto path_start = url.find('/', host_start);
  std::string origin = url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (origin.size() <= host_start) return Error(Code::internal_error, "OUTBOX_WEBHOOK_URL has no host");
  return std::shared_ptr<OutboxSink>(std::make_shared<WebhookSink>(s, origin, path));
}

Result<std::shared_ptr<OutboxSink>> make_file_sink(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error(Code::store_error, "cannot open " + path + " for appending");
  return std::shared_ptr<OutboxSink>(std::make_shared<FileSink>(path, fd));
}

}  // namespace orch::adapters
