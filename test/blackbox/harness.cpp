#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

namespace bb {

// ------------------------------------------------------------------ files

TempDir::TempDir() {
  char tmpl[] = "/tmp/orch-blackbox-XXXXXX";
  char* p = ::mkdtemp(tmpl);
  REQUIRE_MESSAGE(p != nullptr, "mkdtemp failed: " << std::strerror(errno));
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xF]);
  }
  return out;
}

namespace {

std::string env_or_fail(const char* name) {
  const char* v = std::getenv(name);
  REQUIRE_MESSAGE((v != nullptr && *v != '\0'), name << " is not set (run through meson test)");
  return v;
}

}  // namespace

std::string orchestrator_bin() { return env_or_fail("ORCH_BIN"); }
std::string replay_bin() { return env_or_fail("ORCH_REPLAY_BIN"); }

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// --------------------------------------------------------------- processes

namespace {

// The child's environment: exactly `env`, plus the variables that only
// steer the toolchain (sanitizers, loader) inherited from the test process.
// Nothing that could change the server's behaviour leaks in.
std::vector<std::string> env_for_child(const Env& env) {
  static const char* passthrough[] = {"PATH",          "LD_LIBRARY_PATH", "ASAN_OPTIONS",
                                      "UBSAN_OPTIONS", "LSAN_OPTIONS",    "MSAN_OPTIONS",
                                      "MALLOC_PERTURB_"};
  std::vector<std::string> out;
  for (const char* name : passthrough) {
    bool overridden = false;
    for (const auto& [k, v] : env) overridden = overridden || k == name;
    const char* v = std::getenv(name);
    if (v && !overridden) out.push_back(std::string(name) + "=" + v);
  }
  // UBSan prints and goes on by default: ask for stack traces, so that its
  // reports (found by sanitizer_report) say where.
  if (!std::getenv("UBSAN_OPTIONS")) out.push_back("UBSAN_OPTIONS=print_stacktrace=1");
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// fork + execve with stdout/stderr redirected to files. Everything the child
// touches is prepared before fork (async-signal-safety).
pid_t spawn(const std::string& bin, const std::vector<std::string>& args, const Env& env,
            const std::string& out_path, const std::string& err_path) {
  std::vector<std::string> argv_s;
  argv_s.push_back(bin);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> envp_s = env_for_child(env);
  std::vector<char*> argv, envp;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : envp_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  REQUIRE_MESSAGE(pid >= 0, "fork failed: " << std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test process
    if (::getppid() != parent) ::_exit(126);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(125);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // Signals blocked or ignored by the test process must not be inherited.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -999;
}

// Waits for `pid` at most `timeout`; nullopt when still running.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_status(status);
    if (r < 0 && errno != EINTR) return -998;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

}  // namespace

std::string sanitizer_report(const std::string& output) {
  static const char* markers[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                                  "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer"};
  for (const char* m : markers) {
    auto at = output.find(m);
    if (at != std::string::npos) {
      auto from = output.rfind('\n', at);
      from = from == std::string::npos ? 0 : from + 1;
      return output.substr(from, 3000);
    }
  }
  return "";
}

ProcessResult run_process(const std::string& bin, const std::vector<std::string>& args,
                          const Env& env, std::chrono::milliseconds timeout) {
  TempDir dir;
  auto out_path = dir.file("stdout"), err_path = dir.file("stderr");
  pid_t pid = spawn(bin, args, env, out_path, err_path);
  ProcessResult r;
  auto code = wait_for(pid, timeout);
  if (!code) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    r.timed_out = true;
  } else {
    r.exit_code = *code;
  }
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  auto report = sanitizer_report(r.err);
  CHECK_MESSAGE(report.empty(), bin << ": sanitizer report:\n" << report);
  return r;
}

ServerProcess::ServerProcess(ServerOptions options)
    : options_(std::move(options)), dir_(std::make_unique<TempDir>()) {
  data_dir_ = options_.data_dir.empty() ? dir_->file("data") : options_.data_dir;
  start();
}

ServerProcess::~ServerProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  check_logs();
}

void ServerProcess::check_logs() const {
  if (err_path_.empty()) return;
  auto report = sanitizer_report(read_file(err_path_));
  CHECK_MESSAGE(report.empty(), "orchestrator (" << err_path_ << "): sanitizer report:\n" << report);
}

void ServerProcess::start() {
  REQUIRE_MESSAGE(!running(), "server already running");
  ++generation_;
  out_path_ = dir_->file("stdout." + std::to_string(generation_) + ".log");
  err_path_ = dir_->file("stderr." + std::to_string(generation_) + ".log");
  std::vector<std::string> args;
  if (options_.bind_flag) {
    args.push_back("--bind");
    args.push_back("127.0.0.1:0");
  }
  if (options_.data_dir_flag) {
    args.push_back("--data-dir");
    args.push_back(data_dir_);
  }
  args.insert(args.end(), options_.args.begin(), options_.args.end());
  pid_ = spawn(orchestrator_bin(), args, options_.env, out_path_, err_path_);

  static const std::string banner = "orchestrator listening on http://127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    auto out = read_file(out_path_);
    auto at = out.find(banner);
    if (at != std::string::npos) {
      auto nl = out.find('\n', at);
      if (nl != std::string::npos) {
        auto digits = out.substr(at + banner.size(), nl - at - banner.size());
        port_ = std::atoi(digits.c_str());
        if (port_ > 0) return;
      }
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      check_logs();
      FAIL("orchestrator exited during start-up with status " << decode_status(status)
                                                               << "\nstdout:\n" << out << "\nstderr:\n"
                                                               << read_file(err_path_));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
      FAIL("no 'listening' banner within 20 s\nstdout:\n" << out << "\nstderr:\n"
                                                          << read_file(err_path_));
    }
    std::this_thread::sleep_for(10ms);
  }
}

bool ServerProcess::wait_ready(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_connection_timeout(1, 0);
    cli.set_read_timeout(2, 0);
    auto res = cli.Get("/health/ready");
    if (res && res->status == 200) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void ServerProcess::kill9() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  check_logs();
}

void ServerProcess::sigterm() {
  if (running()) ::kill(pid_, SIGTERM);
}

int ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (!running()) return -997;
  auto code = wait_for(pid_, timeout);
  if (!code) {
    kill9();
    return -1000;
  }
  pid_ = -1;
  check_logs();
  return *code;
}

int ServerProcess::terminate(std::chrono::milliseconds timeout) {
  sigterm();
  return wait_exit(timeout);
}

void ServerProcess::restart() {
  if (running()) kill9();
  start();
}

void ServerProcess::restart_with(Env env) {
  if (running()) kill9();
  options_.env = std::move(env);
  start();
}

std::string ServerProcess::stdout_text() const { return read_file(out_path_); }
std::string ServerProcess::stderr_text() const { return read_file(err_path_); }

// -------------------------------------------------------------------- JSON

J J::operator[](std::string_view key) const {
  if (!v_ || !v_->is_object()) return J();
  return J(v_->find(key));
}

J J::operator[](std::size_t index) const {
  if (!v_ || !v_->is_array() || index >= v_->items().size()) return J();
  return J(&v_->items()[index]);
}

std::optional<std::int64_t> J::i() const {
  if (!v_ || !v_->is_integer()) return std::nullopt;
  return v_->as_int64();
}

std::optional<std::uint64_t> J::u() const {
  if (!v_ || !v_->is_integer()) return std::nullopt;
  return v_->as_uint64();
}

std::optional<std::string> J::s() const {
  if (!v_ || !v_->is_string()) return std::nullopt;
  return v_->as_string();
}

std::optional<bool> J::b() const {
  if (!v_ || !v_->is_bool()) return std::nullopt;
  return v_->as_bool();
}

std::optional<std::size_t> J::size() const {
  if (v_ && v_->is_array()) return v_->items().size();
  if (v_ && v_->is_object()) return v_->members().size();
  return std::nullopt;
}

std::string q(std::string_view s) {
  std::string out;
  orch::json::append_quoted(out, s);
  return out;
}

// -------------------------------------------------------------------- HTTP

std::string Response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

void check_response_shape(const Response& r, const std::string& what,
                          bool tolerate_transport_errors) {
  INFO("request: " << what);
  INFO("status " << r.status << ", body: " << r.body.substr(0, 600));
  if (!r.transport_ok) {
    if (!tolerate_transport_errors) FAIL_CHECK("HTTP transport failure: " << r.transport_error);
    return;
  }
  CHECK_MESSAGE(!r.header("X-Request-Id").empty(), "every response carries X-Request-Id");
  if (r.status >= 200 && r.status < 300) return;
  // api.md 1: every non-2xx is {"error", "code", "request_id"}.
  CHECK_MESSAGE(r.header("Content-Type").find("application/json") != std::string::npos,
                "error Content-Type is " << r.header("Content-Type"));
  CHECK_MESSAGE(r.doc != nullptr, "error body is not JSON");
  if (!r.doc) return;
  J j = r.json();
  CHECK_MESSAGE(j.is_object(), "error body is not an object");
  auto error = j["error"].s();
  auto code = j["code"].s();
  auto rid = j["request_id"].s();
  CHECK_MESSAGE((error && !error->empty()), "error body lacks a string 'error'");
  CHECK_MESSAGE((code && !code->empty()), "error body lacks a string 'code'");
  if (code) {
    bool upper = std::all_of(code->begin(), code->end(),
                             [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
    CHECK_MESSAGE(upper, "code is not UPPER_SNAKE: " << *code);
  }
  CHECK_MESSAGE(rid.has_value(), "error body lacks a string 'request_id'");
  if (rid) CHECK_MESSAGE(*rid == r.header("X-Request-Id"), "body request_id differs from the header");
  if (error) {
    // Messages are written once, without doubled prefixes (api.md 1).
    CHECK_MESSAGE(error->find("failed: orchestrator runner failed") == std::string::npos, *error);
    CHECK_MESSAGE(error->find("verification failed: AP2 verification failed") == std::string::npos,
                  *error);
  }
}

Http::Http(int port, bool keep_alive) : port_(port), keep_alive_(keep_alive) { reset(); }

void Http::reset() {
  cli_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
  cli_->set_connection_timeout(5, 0);
  cli_->set_read_timeout(static_cast<time_t>(read_timeout_.count()), 0);
  cli_->set_write_timeout(30, 0);
  cli_->set_keep_alive(keep_alive_);
  cli_->set_tcp_nodelay(true);  // headers and body are separate writes: no Nagle delay
  last_use_ = std::chrono::steady_clock::now();
}

Response Http::get(const std::string& path, const httplib::Headers& headers) {
  return request("GET", path, "", "", headers);
}

Response Http::post_json(const std::string& path, const std::string& body,
                         const httplib::Headers& headers) {
  return request("POST", path, body, "application/json", headers);
}

Response Http::post(const std::string& path, const std::string& body, const std::string& content_type,
                    const httplib::Headers& headers) {
  return request("POST", path, body, content_type, headers);
}

Response Http::request(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& content_type, const httplib::Headers& headers) {
  // The server closes idle keep-alive connections after 5 s; do not reuse
  // one that may be half-closed.
  if (keep_alive_ && std::chrono::steady_clock::now() - last_use_ > 2s) reset();
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = headers;
  if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
  req.body = body;
  auto res = cli_->send(req);
  last_use_ = std::chrono::steady_clock::now();
  Response r;
  if (!res) {
    r.transport_error = httplib::to_string(res.error());
    reset();
  } else {
    r.transport_ok = true;
    r.status = res->status;
    r.headers = res->headers;
    r.body = res->body;
    if (r.header("Content-Type").find("json") != std::string::npos) {
      auto doc = orch::json::parse(r.body);
      if (doc) r.doc = std::make_shared<orch::json::Value>(std::move(*doc));
    }
  }
  std::string what = method + " " + path;
  if (!body.empty()) what += " " + body.substr(0, 300) + (body.size() > 300 ? "..." : "");
  check_response_shape(r, what, tolerate_transport_errors_);
  // A 2xx that says it is JSON must be JSON (the Prometheus text of /metrics
  // is checked by its own test).
  if (r.transport_ok && r.status >= 200 && r.status < 300 && path != "/metrics" &&
      r.header("Content-Type").find("json") != std::string::npos) {
    INFO("request: " << what << "\nbody: " << r.body.substr(0, 300));
    CHECK_MESSAGE(r.doc != nullptr, "2xx body with a JSON content type does not parse");
  }
  return r;
}

RawResponse raw_request(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  RawResponse out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return out;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string data;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                      std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    int pr = ::poll(&p, 1, static_cast<int>(left.count()));
    if (pr <= 0) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    // Done once a response with a Content-Length is complete (the server may
    // keep the connection open).
    auto end = data.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = data.substr(0, end);
      for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto cl = head.find("\r\ncontent-length:");
      if (cl != std::string::npos &&
          data.size() - end - 4 >= std::strtoull(head.c_str() + cl + 17, nullptr, 10))
        break;
    }
  }
  ::close(fd);
  auto end = data.find("\r\n\r\n");
  if (end == std::string::npos || data.rfind("HTTP/1.", 0) != 0) return out;
  out.ok = true;
  out.head = data.substr(0, end);
  out.body = data.substr(end + 4);
  out.status = std::atoi(data.substr(9, 3).c_str());
  return out;
}

// --------------------------------------------------------------- cart API

httplib::Headers Api::auth_headers(const httplib::Headers& extra) const {
  httplib::Headers h = extra;
  if (token_ && h.find("Authorization") == h.end()) h.emplace("Authorization", "Bearer " + *token_);
  return h;
}

Response Api::raw_body(const std::string& body, const httplib::Headers& extra) {
  return http_.post_json(commands_path, body, auth_headers(extra));
}

Response Api::command(const std::string& command_json, const std::optional<std::string>& cart_id) {
  std::string body = "{\"command\":" + command_json;
  if (cart_id) body += ",\"cart_id\":" + q(*cart_id);
  body += "}";
  return raw_body(body);
}

namespace {
std::string ev(std::optional<std::uint64_t> expected_version) {
  return expected_version ? ",\"expected_version\":" + std::to_string(*expected_version) : "";
}
}  // namespace

Response Api::create_cart(const std::string& merchant, const std::string& currency) {
  return command(R"({"kind":"create_cart","merchant_id":)" + q(merchant) + ",\"currency\":" + q(currency) +
                 "}");
}

Response Api::add_item(const std::string& cart, const std::string& item, std::int64_t qty,
                       std::optional<std::uint64_t> expected_version) {
  return command(R"({"kind":"add_item","item_id":)" + q(item) + ",\"quantity\":" + std::to_string(qty) +
                     ev(expected_version) + "}",
                 cart);
}

Response Api::update_item_qty(const std::string& cart, const std::string& line, std::int64_t qty,
                              std::optional<std::uint64_t> expected_version) {
  return command(R"({"kind":"update_item_qty","line_id":)" + q(line) +
                     ",\"quantity\":" + std::to_string(qty) + ev(expected_version) + "}",
                 cart);
}

Response Api::remove_item(const std::string& cart, const std::string& line,
                          std::optional<std::uint64_t> expected_version) {
  return command(R"({"kind":"remove_item","line_id":)" + q(line) + ev(expected_version) + "}", cart);
}

Response Api::apply_adjustment(const std::string& cart, const std::string& code,
                               std::optional<std::uint64_t> expected_version) {
  return command(R"({"kind":"apply_adjustment","code":)" + q(code) + ev(expected_version) + "}", cart);
}

Response Api::get_cart(const std::string& cart) {
  return command(R"({"kind":"get_cart","cart_id":)" + q(cart) + "}");
}

Response Api::start_checkout(const std::string& cart, std::uint64_t cart_version) {
  return command(R"({"kind":"start_checkout","cart_id":)" + q(cart) +
                 ",\"cart_version\":" + std::to_string(cart_version) + "}");
}

std::string Api::new_cart(const std::string& merchant, const std::string& currency) {
  auto r = create_cart(merchant, currency);
  REQUIRE_MESSAGE(r.status == 200, "create_cart: " << r.status << " " << r.body);
  auto id = r["cart_id"].s();
  REQUIRE(id.has_value());
  return *id;
}

void check_cart_invariants(const Response& r) {
  INFO("cart: " << r.body);
  REQUIRE(r.status == 200);
  J c = r.json();
  REQUIRE(c.is_object());
  std::int64_t sum = 0;
  auto lines = c["lines"].size();
  REQUIRE(lines.has_value());
  for (std::size_t i = 0; i < *lines; ++i) {
    J l = c["lines"][i];
    auto unit = l["unit_price_minor"].i(), qty = l["quantity"].i(), total = l["total_minor"].i();
    REQUIRE((unit && qty && total));
    CHECK(*total == *unit * *qty);
    CHECK(l["line_id"].s().value_or("").rfind("li_", 0) == 0);
    sum += *total;
  }
  auto subtotal = c["subtotal_minor"].i(), discount = c["discount_minor"].i(), tax = c["tax_minor"].i(),
       total = c["total_minor"].i();
  REQUIRE((subtotal && discount && tax && total));
  CHECK(*subtotal == sum);
  std::int64_t adj = 0;
  auto nadj = c["adjustments"].size();
  REQUIRE(nadj.has_value());
  for (std::size_t i = 0; i < *nadj; ++i) adj += c["adjustments"][i]["amount_minor"].i().value_or(-1);
  CHECK(*discount == adj);
  CHECK(*discount <= *subtotal);
  CHECK(*tax == (*subtotal - *discount) / 10);
  CHECK(*total == *subtotal - *discount + *tax);
}

// ------------------------------------------------------ checkout, payments

std::string CheckoutRequest::json() const {
  orch::json::Writer w;
  w.begin_object();
  w.field("tenant_id", tenant_id).field("merchant_id", merchant_id).field("cart_id", cart_id);
  w.field("cart_version", cart_version).field("currency", currency);
  if (email) w.key("customer").begin_object().field("email", *email).end_object();
  if (country) w.key("location").begin_object().field("country_code", *country).end_object();
  w.key("payment_intent").begin_object();
  w.field("amount_minor", amount_minor).field("token_or_reference", token).end_object();
  w.field("idempotency_key", idempotency_key);
  w.end_object();
  return w.take();
}

CheckoutRequest ReadyCart::request(const std::string& key) const {
  CheckoutRequest r;
  r.cart_id = cart_id;
  r.cart_version = version;
  r.amount_minor = total_minor;
  r.idempotency_key = key;
  return r;
}

Response Api::checkout_body(const std::string& body) {
  return http_.post_json(checkout_path, body, auth_headers({}));
}

Response Api::payment(const std::string& op, const std::string& transaction_id, std::int64_t amount_minor,
                      const std::string& key, const std::string& tenant, const std::string& merchant) {
  orch::json::Writer w;
  w.begin_object().field("tenant_id", tenant).field("merchant_id", merchant);
  w.field("transaction_id", transaction_id).field("amount_minor", amount_minor);
  w.field("idempotency_key", key).end_object();
  return http_.post_json("/api/v1/payments/" + op, w.take(), auth_headers({}));
}

Response Api::get_payment(const std::string& transaction_id) {
  return http_.get("/api/v1/payments/" + transaction_id, auth_headers({}));
}

Response Api::get_order(const std::string& order_id) {
  return http_.get("/api/v1/orders/" + order_id, auth_headers({}));
}

Response Api::reconcile(const std::vector<std::string>& transaction_ids) {
  orch::json::Writer w;
  w.begin_object().key("transaction_ids").begin_array();
  for (const auto& id : transaction_ids) w.value(id);
  w.end_array().end_object();
  return http_.post_json("/api/v1/ops/reconciliation", w.take(), auth_headers({}));
}

ReadyCart Api::ready_cart(const std::vector<std::pair<std::string, std::int64_t>>& items,
                          const std::string& merchant, const std::string& currency) {
  ReadyCart out;
  out.cart_id = new_cart(merchant, currency);
  std::uint64_t version = 1;
  for (const auto& [item, qty] : items) {
    auto r = add_item(out.cart_id, item, qty);
    REQUIRE_MESSAGE(r.status == 200, "add_item " << item << ": " << r.status << " " << r.body);
    version = r.version().value_or(0);
  }
  auto s = start_checkout(out.cart_id, version);
  REQUIRE_MESSAGE(s.status == 200, "start_checkout: " << s.status << " " << s.body);
  REQUIRE(s["status"].s() == "checkout_ready");
  out.version = s.version().value_or(0);
  out.total_minor = s["total_minor"].i().value_or(-1);
  out.body = s.body;
  return out;
}

// ------------------------------------------- payment ledger, replay tool

std::vector<LedgerLine> read_ledger(const std::string& data_dir) {
  std::vector<LedgerLine> out;
  std::istringstream in(read_file(data_dir + "/demo-payment-ledger.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto doc = orch::json::parse(line);
    REQUIRE_MESSAGE(doc.ok(), "ledger line is not JSON: " << line);
    J j(&*doc);
    LedgerLine l;
    auto op = j["op"].s(), key = j["key"].s(), txn = j["txn"].s(), outcome = j["outcome"].s();
    auto amount = j["amount_minor"].i();
    auto replay = j["replay"].b();
    REQUIRE_MESSAGE((op && key && txn && outcome && amount && replay), "ledger line lacks fields: " << line);
    l.op = *op;
    l.key = *key;
    l.txn = *txn;
    l.outcome = *outcome;
    l.amount_minor = *amount;
    l.replay = *replay;
    l.reference = j["reference"].s().value_or("");
    l.detail = j["detail"].s().value_or("");
    out.push_back(std::move(l));
  }
  return out;
}

std::size_t count_effects(const std::vector<LedgerLine>& ledger, const std::string& op, const std::string& txn) {
  std::size_t n = 0;
  for (const auto& l : ledger)
    if (l.effect() && (op.empty() || l.op == op) && (txn.empty() || l.txn == txn)) ++n;
  return n;
}

std::string ledger_duplicates(const std::vector<LedgerLine>& ledger) {
  std::map<std::pair<std::string, std::string>, int> seen;
  for (const auto& l : ledger)
    if (l.effect()) ++seen[{l.op, l.key}];
  std::string out;
  for (const auto& [k, n] : seen)
    if (n > 1) out += "(" + k.first + ", " + k.second + ") x" + std::to_string(n) + "\n";
  return out;
}

std::string ledger_text(const std::vector<LedgerLine>& ledger) {
  std::string out;
  for (const auto& l : ledger)
    out += l.op + " key=" + l.key + " txn=" + l.txn + " amount=" + std::to_string(l.amount_minor) +
           " outcome=" + l.outcome + (l.replay ? " (replay)" : "") + "\n";
  return out;
}

ProcessResult run_replay(const std::string& data_dir, const std::vector<std::string>& args) {
  std::vector<std::string> all{"--data-dir", data_dir};
  all.insert(all.end(), args.begin(), args.end());
  return run_process(replay_bin(), all, {});
}

std::vector<std::string> replay_table_values(const std::string& data_dir, const std::string& table) {
  auto r = run_replay(data_dir, {"tables", table});
  INFO("replay tables " << table << " stdout:\n" << r.out << "\nstderr:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto doc = orch::json::parse(line);
    REQUIRE_MESSAGE(doc.ok(), "replay tables line is not JSON: " << line);
    auto v = J(&*doc)["value"].s();
    REQUIRE_MESSAGE(v.has_value(), "replay tables line without a text value: " << line);
    out.push_back(*v);
  }
  return out;
}

std::string tokens_file_json(const std::vector<TenantToken>& tokens) {
  orch::json::Writer w;
  w.begin_array();
  for (const auto& t : tokens) {
    w.begin_object().field("token_sha256", sha256_hex(t.token)).field("tenant_id", t.tenant_id);
    w.field("caller_id", t.caller_id).key("scopes").begin_array();
    for (const auto& s : t.scopes) w.value(s);
    w.end_array().end_object();
  }
  w.end_array();
  return w.take();
}

ServerOptions with_env(Env env) {
  ServerOptions o;
  o.env = std::move(env);
  return o;
}

std::map<std::string, OutboxMessage> outbox_messages(const std::string& data_dir) {
  std::map<std::string, OutboxMessage> out;
  auto take = [&](const std::string& text, const std::string& where) {
    auto doc = orch::json::parse(text);
    REQUIRE_MESSAGE(doc.ok(), where << " entry is not JSON: " << text);
    J m(&*doc);
    OutboxMessage msg;
    msg.id = m["id"].s().value_or("");
    msg.topic = m["topic"].s().value_or("");
    msg.tenant_id = m["tenant_id"].s().value_or("");
    msg.correlation_id = m["correlation_id"].s().value_or("");
    // Rows keep the document as a string; deliveries.jsonl inlines it.
    msg.payload = m["payload"].is_string() ? *m["payload"].s() : m["payload"].dump();
    msg.where = where;
    REQUIRE_MESSAGE(!msg.id.empty(), where << " entry without an id: " << text);
    if (!out.count(msg.id) || where != "delivered") out[msg.id] = msg;
  };
  for (const auto& v : replay_table_values(data_dir, "outbox")) take(v, "outbox");
  for (const auto& v : replay_table_values(data_dir, "dead_letter")) take(v, "dead_letter");
  std::istringstream in(read_file(data_dir + "/deliveries.jsonl"));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) take(line, "delivered");
  return out;
}

bool error_mentions(const Response& r, std::string_view word) {
  return r["error"].s().value_or("").find(word) != std::string::npos;
}

std::string random_uuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    int v = static_cast<int>(rng() & 15);
    if (i == 12) v = 4;
    if (i == 16) v = 8 | (v & 3);
    s.push_back(hex[v]);
  }
  return s;
}

}  // namespace bb
