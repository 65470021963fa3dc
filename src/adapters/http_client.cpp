#include "adapters/http_client.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

namespace orch::adapters::http {

// ------------------------------------------------------------- base URLs

namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
  return c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
         c == '+' || c == ',' || c == ';' || c == '=';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

Error bad_url(std::string_view variable, std::string_view why) {
  return Error(Code::validation_error, std::string(variable) + ": " + std::string(why));
}

}  // namespace

std::string BaseUrl::origin() const {
  return scheme + "://" + host + ":" + std::to_string(port);
}

Result<BaseUrl> parse_base_url(std::string_view variable, std::string_view url) {
  BaseUrl out;
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return bad_url(variable, "must be an absolute http:// or https:// URL");
  out.scheme = lower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https")
    return bad_url(variable, "unsupported scheme '" +
                                 std::string(url.substr(0, std::min<std::size_t>(sep, 16))) +
                                 "' (expected http:// or https://)");
  std::string_view rest = url.substr(sep + 3);
  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  std::string_view path = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos)
    return bad_url(variable, "credentials in the URL are not supported");

  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(variable, "unterminated IPv6 address");
    host = authority.substr(0, close + 1);
    for (char c : host.substr(1, host.size() - 2))
      if (!is_hex(c) && c != ':' && c != '.') return bad_url(variable, "invalid IPv6 address");
    if (host.size() <= 2) return bad_url(variable, "missing host");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url(variable, "invalid characters after the host");
      port = after.substr(1);
      if (port.empty()) return bad_url(variable, "empty port");
    }
  } else {
    auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad_url(variable, "empty port");
    }
    if (host.empty()) return bad_url(variable, "missing host");
    for (char c : host)
      if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_')
        return bad_url(variable, "invalid character in the host name");
  }
  out.host = lower(host);
  if (!port.empty()) {
    int p = 0;
    auto r = std::from_chars(port.data(), port.data() + port.size(), p);
    if (r.ec != std::errc() || r.ptr != port.data() + port.size() || p < 1 || p > 65535)
      return bad_url(variable, "invalid port (expected 1-65535)");
    out.port = p;
  } else {
    out.port = out.scheme == "https" ? 443 : 80;
  }

  for (std::size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '?' || c == '#')
      return bad_url(variable, "a query or fragment is not allowed in a base URL");
    if (c == '%') {
      if (i + 2 >= path.size() || !is_hex(path[i + 1]) || !is_hex(path[i + 2]))
        return bad_url(variable, "invalid percent-encoding in the path");
      i += 2;
      continue;
    }
    if (!is_unreserved(c) && !is_sub_delim(c) && c != ':' && c != '@' && c != '/')
      return bad_url(variable, "invalid character in the path");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path = std::string(path);
  return out;
}

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  bool only_dots = !s.empty() && s.find_first_not_of('.') == std::string_view::npos;
  std::string out;
  out.reserve(s.size() * 3);
  for (char c : s) {
    if (is_unreserved(c) && !only_dots) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(hex[b >> 4]);
      out.push_back(hex[b & 0x0f]);
    }
  }
  return out;
}

// ------------------------------------------------------------- the breaker

namespace {

using Clock = std::chrono::steady_clock;

// Closed -> (breaker_failures consecutive failed calls) -> open -> (after
// breaker_open, one probe call) -> half open -> closed | open.
class Breaker {
 public:
  enum class Admit { normal, probe, refused };

  Breaker(int threshold, std::chrono::milliseconds open_for)
      : threshold_(threshold), open_for_(open_for) {}

  Admit admit() {
    if (threshold_ <= 0) return Admit::normal;
    std::lock_guard<std::mutex> lock(mu_);
    switch (state_) {
      case State::closed:
        return Admit::normal;
      case State::open:
        if (Clock::now() - opened_at_ < open_for_) return Admit::refused;
        state_ = State::half_open;  // this call is the probe
        return Admit::probe;
      case State::half_open:
        return Admit::refused;  // a probe is in flight
    }
    return Admit::refused;
  }

  // The outcome of an admitted call. Calls admitted before the circuit opened
  // that end while it is open or half open do not change it: only the probe does.
  void record(Admit how, bool failed, const std::string& name, BackendCallStats& stats) {
    if (threshold_ <= 0 || how == Admit::refused) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (how == Admit::probe) {
      if (failed) {
        open(stats);
        spdlog::warn("back-end {}: probe failed, circuit open again for {} ms", name,
                     open_for_.count());
      } else {
        state_ = State::closed;
        consecutive_ = 0;
        spdlog::info("back-end {}: probe succeeded, circuit closed", name);
      }
      return;
    }
    if (state_ != State::closed) return;
    if (!failed) {
      consecutive_ = 0;
      return;
    }
    if (++consecutive_ >= threshold_) {
      open(stats);
      spdlog::warn("back-end {}: {} consecutive failed calls, circuit open for {} ms", name,
                   threshold_, open_for_.count());
    }
  }

 private:
  enum class State { closed, open, half_open };
  void open(BackendCallStats& stats) {
    state_ = State::open;
    opened_at_ = Clock::now();
    consecutive_ = 0;
    stats.breaker_opens.fetch_add(1, std::memory_order_relaxed);
  }

  const int threshold_;
  const std::chrono::milliseconds open_for_;
  std::mutex mu_;
  State state_ = State::closed;
  int consecutive_ = 0;
  Clock::time_point opened_at_{};
};

// Header values never carry control characters (no header injection).
std::string header_safe(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b != 0x7f) out.push_back(c);
  }
  return out;
}

// Transport errors worth another attempt: the back-end may answer next time.
bool transient(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::Read:
    case httplib::Error::Write:
    case httplib::Error::SSLConnection:
    case httplib::Error::Unknown:
    case httplib::Error::Canceled:
      return true;
    default:
      return false;  // certificates, configuration: the same next time
  }
}

std::string describe_error(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "connect timed out";
    case httplib::Error::Read:
      return "no answer (connection closed, reset or read timed out)";
    case httplib::Error::Write:
      return "cannot send the request (connection closed, reset or write timed out)";
    case httplib::Error::SSLConnection:
      return "TLS handshake failed";
    case httplib::Error::SSLLoadingCerts:
      return "cannot load the CA certificates";
    case httplib::Error::SSLServerVerification:
      return "TLS certificate verification failed";
    case httplib::Error::Canceled:
      return "request canceled";
    default:
      return "transport error (" + httplib::to_string(e) + ")";
  }
}

// Retry-After in seconds (the HTTP-date form is ignored), capped at 5 s.
std::optional<std::chrono::milliseconds> retry_after(const httplib::Response& res) {
  if (!res.has_header("Retry-After")) return std::nullopt;
  std::string v = res.get_header_value("Retry-After");
  auto b = v.find_first_not_of(" \t");
  auto e = v.find_last_not_of(" \t");
  if (b == std::string::npos) return std::nullopt;
  std::string_view s(v.data() + b, e - b + 1);
  long long secs = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), secs);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || secs < 0) return std::nullopt;
  return std::chrono::milliseconds(std::min<long long>(secs, 5) * 1000);
}

// Full jitter: uniform in [0, base * 2^k], the exponent and the result capped.
std::chrono::milliseconds backoff(std::chrono::milliseconds base, int k) {
  using std::chrono::milliseconds;
  if (base.count() <= 0) return milliseconds(0);
  constexpr std::int64_t cap_ms = 10'000;
  std::int64_t top = base.count();
  for (int i = 0; i < std::min(k, 20) && top < cap_ms; ++i) top *= 2;
  top = std::min(top, cap_ms);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return milliseconds(std::uniform_int_distribution<std::int64_t>(0, top)(rng));
}

const char* method_name(Method m) {
  return m == Method::get ? "GET" : "POST";
}

}  // namespace

// ------------------------------------------------------------- the endpoint

class Endpoint::Impl {
 public:
  Impl(std::string name, BaseUrl url, const HttpBackendSettings& s)
      : name_(std::move(name)),
        url_(std::move(url)),
        origin_(url_.origin()),
        settings_(s),
        breaker_(s.breaker_failures, s.breaker_open) {
    static const std::string system_ca = "/etc/ssl/certs/ca-certificates.crt";
    std::error_code ec;
    if (url_.scheme == "https" && std::filesystem::exists(system_ca, ec)) ca_file_ = system_ca;
  }

  Result<Answer> call(const CallContext& ctx, const Call& c) {
    stats_.calls.fetch_add(1, std::memory_order_relaxed);
    auto admit = breaker_.admit();
    if (admit == Breaker::Admit::refused)
      return Error(Code::backend_unavailable, name_ + ": circuit open");

    const std::string path = url_.path + c.path;
    httplib::Headers headers;
    if (auto id = header_safe(ctx.request_id); !id.empty()) headers.emplace("X-Request-Id", id);
    if (auto key = header_safe(ctx.idempotency_key); !key.empty())
      headers.emplace("Idempotency-Key", key);
    headers.emplace("Accept", "application/json");

    // A POST with an effect is repeated only under its idempotency key.
    const bool retryable =
        c.method == Method::get || c.side_effect_free || !ctx.idempotency_key.empty();
    const int attempts = retryable ? std::max(settings_.max_retries, 0) + 1 : 1;
    std::string what;
    std::chrono::milliseconds delay{0};
    int made = 0;
    for (int k = 0; k < attempts; ++k) {
      if (k > 0) {
        stats_.retries.fetch_add(1, std::memory_order_relaxed);
        if (delay.count() > 0) std::this_thread::sleep_for(delay);
      }
      ++made;
      Attempt a = attempt(c, path, headers);
      if (a.answer) {
        breaker_.record(admit, false, name_, stats_);
        return std::move(*a.answer);
      }
      what = std::move(a.what);
      if (!a.transient) break;
      delay = a.retry_after ? *a.retry_after : backoff(settings_.retry_backoff, k);
    }
    breaker_.record(admit, true, name_, stats_);
    if (made > 1) what += " (" + std::to_string(made) + " attempts)";
    return Error(Code::backend_unavailable, describe(c, what));
  }

  std::string describe(const Call& c, std::string_view what) const {
    std::string s = name_;
    s += ' ';
    s += method_name(c.method);
    s += ' ';
    s += url_.path;
    s += c.path;
    s += ": ";
    s += what;
    return s;
  }

  const std::string& name() const { return name_; }
  BackendCallStats& stats() { return stats_; }

 private:
  struct Attempt {
    std::optional<Answer> answer;  // a definitive answer
    std::string what;              // otherwise: what went wrong
    bool transient = false;        // worth another attempt
    std::optional<std::chrono::milliseconds> retry_after;
  };

  Attempt attempt(const Call& c, const std::string& path, const httplib::Headers& headers) {
    std::unique_ptr<httplib::Client> client = acquire();
    if (!client)
      return Attempt{std::nullopt, "cannot create an HTTP client for " + url_.scheme, false, {}};
    try {
      httplib::Result res = c.method == Method::get
                                ? client->Get(path, headers)
                                : client->Post(path, headers, c.body, "application/json");
      if (!res) {
        // The connection is in an unknown state: drop this client.
        auto err = res.error();
        return Attempt{std::nullopt, describe_error(err), transient(err), {}};
      }
      const int status = res->status;
      if (status == 429 || status >= 500) {
        std::optional<std::chrono::milliseconds> after;
        if (status == 429 || status == 503) after = retry_after(*res);
        release(std::move(client));
        return Attempt{std::nullopt, "HTTP " + std::to_string(status), true, after};
      }
      Answer answer{status, std::move(res->body)};
      release(std::move(client));
      return Attempt{std::move(answer), {}, false, {}};
    } catch (const std::exception& e) {
      return Attempt{std::nullopt, std::string("client failure: ") + e.what(), true, {}};
    }
  }

  std::unique_ptr<httplib::Client> acquire() {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    std::unique_ptr<httplib::Client> c;
    try {
      c = std::make_unique<httplib::Client>(origin_);
    } catch (const std::exception&) {
      return nullptr;
    }
    if (!c->is_valid()) return nullptr;
    c->set_connection_timeout(settings_.connect_timeout);
    c->set_read_timeout(settings_.timeout);
    c->set_write_timeout(settings_.timeout);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_follow_location(false);
    c->set_url_encode(false);  // paths are encoded already
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    if (url_.scheme == "https") {
      if (!ca_file_.empty()) c->set_ca_cert_path(ca_file_);
      c->enable_server_certificate_verification(true);
    }
#endif
    return c;
  }

  void release(std::unique_ptr<httplib::Client> c) {
    static constexpr std::size_t max_idle = 32;  // the blocking pool has 32 threads
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (idle_.size() < max_idle) idle_.push_back(std::move(c));
  }

  const std::string name_;
  const BaseUrl url_;
  const std::string origin_;
  const HttpBackendSettings settings_;
  std::string ca_file_;
  Breaker breaker_;
  BackendCallStats stats_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

Endpoint::Endpoint(std::string name, BaseUrl url, const HttpBackendSettings& settings)
    : impl_(std::make_unique<Impl>(std::move(name), std::move(url), settings)) {}
Endpoint::~Endpoint() = default;

Result<Answer> Endpoint::call(const CallContext& ctx, const Call& c) {
  return impl_->call(ctx, c);
}
std::string Endpoint::describe(const Call& c, std::string_view what) const {
  return impl_->describe(c, what);
}
const std::string& Endpoint::name() const {
  return impl_->name();
}
BackendCallStats& Endpoint::stats() {
  return impl_->stats();
}
const BackendCallStats& Endpoint::stats() const {
  return impl_->stats();
}

}  // namespace orch::adapters::http
