#include "support.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sstream>

namespace it {

std::string Seen::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::shared_ptr<orch::json::Value> Seen::json() const {
  auto doc = orch::json::parse(body);
  if (!doc) return nullptr;
  return std::make_shared<orch::json::Value>(std::move(*doc));
}

FakeHttp::FakeHttp() : FakeHttp([](const httplib::Request&, httplib::Response& res) { reply(res, 200, "{}"); }) {}

FakeHttp::FakeHttp(Handler handler) : handler_(std::move(handler)) {
  server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server_.set_tcp_nodelay(true);
  server_.set_keep_alive_timeout(1);
  auto route = [this](const httplib::Request& req, httplib::Response& res) { dispatch(req, res); };
  server_.Get(".*", route);
  server_.Post(".*", route);
  server_.Put(".*", route);
  server_.Delete(".*", route);
  port_ = server_.bind_to_any_port("127.0.0.1");
  REQUIRE(port_ > 0);
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // stop() before the accept loop runs would be lost (and join() would hang).
  while (!server_.is_running()) std::this_thread::sleep_for(1ms);
}

FakeHttp::~FakeHttp() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

void FakeHttp::set_handler(Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  handler_ = std::move(handler);
}

void FakeHttp::dispatch(const httplib::Request& req, httplib::Response& res) {
  Handler h;
  std::size_t index = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Seen s;
    s.method = req.method;
    s.target = req.target;
    s.path = req.path;
    s.headers = req.headers;
    s.body = req.body;
    s.at = Clock::now();
    index = seen_.size();
    seen_.push_back(std::move(s));
    h = handler_;
  }
  h(req, res);
  std::lock_guard<std::mutex> lock(mu_);
  seen_[index].status = res.status > 0 ? res.status : 200;
  seen_[index].done_at = Clock::now();
}

std::string FakeHttp::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::vector<Seen> FakeHttp::seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

std::size_t FakeHttp::count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.size();
}

std::vector<Seen> FakeHttp::finished() const {
  std::vector<Seen> out;
  for (auto& s : seen())
    if (s.done()) out.push_back(std::move(s));
  return out;
}

void reply(httplib::Response& res, int status, const std::string& json_body) {
  res.status = status;
  res.set_content(json_body, "application/json");
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(every);
  }
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[mac[i] >> 4]);
    out.push_back(hex[mac[i] & 0xF]);
  }
  return out;
}

std::shared_ptr<orch::json::Value> parse(const std::string& text) {
  auto doc = orch::json::parse(text);
  REQUIRE_MESSAGE(doc.ok(), "not JSON: " << text);
  return std::make_shared<orch::json::Value>(std::move(*doc));
}

std::vector<std::shared_ptr<orch::json::Value>> read_deliveries(const std::string& data_dir) {
  std::vector<std::shared_ptr<orch::json::Value>> out;
  std::istringstream in(bb::read_file(data_dir + "/deliveries.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    out.push_back(parse(line));
  }
  return out;
}

Checkout complete_checkout(bb::Api& api, const std::string& key) {
  auto cart = api.ready_cart({{"bouquet_roses", 2}});
  Checkout c;
  c.response = api.checkout(cart.request(key));
  INFO("checkout: " << c.response.body);
  REQUIRE(c.response.status == 200);
  REQUIRE(c.response["status"].s() == "completed");
  c.transaction_id = c.response["transaction_id"].s().value_or("");
  c.order_id = c.response["order_id"].s().value_or("");
  c.correlation_id = c.response["correlation_id"].s().value_or("");
  c.total_minor = cart.total_minor;
  REQUIRE(!c.transaction_id.empty());
  REQUIRE(!c.order_id.empty());
  REQUIRE(!c.correlation_id.empty());
  return c;
}

bb::Response outbox_stats(bb::Http& http) {
  auto r = http.get("/api/v1/ops/outbox");
  INFO("GET ops/outbox: " << r.body);
  REQUIRE(r.status == 200);
  REQUIRE(r.json().is_object());
  return r;
}

bb::Response dead_letters(bb::Http& http) {
  auto r = http.get("/api/v1/ops/dead-letter");
  INFO("GET ops/dead-letter: " << r.body);
  REQUIRE(r.status == 200);
  REQUIRE(r.json().is_array());
  return r;
}

bb::Env env_with(bb::Env base, const bb::Env& extra) {
  for (const auto& kv : extra) base.push_back(kv);
  return base;
}

}  // namespace it
