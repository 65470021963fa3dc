// Tests of orchestrator-replay: real journals written with the store API in
// a fresh temp dir, then the real binary (REPLAY_BIN) run as a child process.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <lmdb.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "actors/streams.hpp"
#include "events/codec.hpp"
#include "events/json.hpp"
#include "store/journal.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace orch;

namespace {

// 2023-11-14T22:13:20.000Z
constexpr std::int64_t t0 = 1700000000000;

struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/replay_test_XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

struct Run {
  int status = -1;  // exit code; 128 + signal when killed
  std::string out;
  std::string err;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream is(out);
    for (std::string l; std::getline(is, l);) v.push_back(l);
    return v;
  }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs the replay binary with `args`; DATA_DIR is removed from its
// environment unless `data_dir_env` is given.
Run replay(const std::vector<std::string>& args, const char* data_dir_env = nullptr) {
  const char* bin = std::getenv("REPLAY_BIN");
  REQUIRE_MESSAGE(bin != nullptr, "REPLAY_BIN is not set (run through meson test)");
  TempDir io;
  const std::string out_path = io.path + "/stdout";
  const std::string err_path = io.path + "/stderr";

  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "DATA_DIR=", 9) != 0) env_store.emplace_back(*e);
  if (data_dir_env) env_store.push_back(std::string("DATA_DIR=") + data_dir_env);
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> argv_store{bin};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_store) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, bin, &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE_MESSAGE(rc == 0, "posix_spawn failed: " << std::strerror(rc));
  int wstatus = 0;
  REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
  Run r;
  r.status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

std::unique_ptr<store::Journal> open_journal(const std::string& dir) {
  store::Options o;
  o.dir = dir;
  o.map_size_mb = 16;
  o.max_map_size_mb = 256;
  auto r = store::open_lmdb_journal(o);
  INFO(r.error.message);
  REQUIRE(r);
  return std::move(*r);
}

void commit_ok(store::Journal& j, store::WriteSet ws) {
  std::vector<store::WriteSet> batch;
  batch.push_back(std::move(ws));
  auto res = j.commit(batch);
  REQUIRE(res.size() == 1);
  INFO(res[0].message);
  REQUIRE(res[0].status == store::WriteStatus::ok);
}

void append_raw(store::Journal& j, const store::StreamId& s, std::uint64_t expected,
                std::vector<store::EventData> events) {
  store::WriteSet ws;
  ws.appends.push_back(store::StreamAppend{s, expected, std::move(events)});
  commit_ok(j, std::move(ws));
}

void append_cart(store::Journal& j, const store::StreamId& s, std::uint64_t expected,
                 const std::vector<cart::EventBody>& events, std::int64_t at_ms) {
  append_raw(j, s, expected, streams::encode_cart_events(events, at_ms));
}

cart::EventBody created(const store::StreamId& s) {
  return cart::Created{s.id, s.tenant, "m-1", "EUR"};
}

// A cart stream of five events:
// created, item_added, item_added, adjustment_applied, tax_resolved.
void write_cart(store::Journal& j, const store::StreamId& s, std::int64_t at = t0) {
  append_cart(j, s, 0, {created(s)}, at);
  append_cart(j, s, 1, {cart::ItemAdded{"l1", "sku-rose", "Rose", 250, 2}}, at + 1000);
  append_cart(j, s, 2, {cart::ItemAdded{"l2", "sku-tulip", "Tulip", 100, 3}}, at + 2000);
  append_cart(j, s, 3,
              {cart::AdjustmentApplied{"TEN", cart::DiscountKind::percentage, 10, "10% off"},
               cart::TaxResolved{57}},
              at + 3000);
}

json::Value parse_line(const std::string& line) {
  auto v = json::parse(line);
  INFO(line);
  REQUIRE(v);
  REQUIRE(v->is_object());
  return std::move(*v);
}

std::string str(const json::Value& obj, std::string_view key) {
  const auto* v = obj.find(key);
  REQUIRE_MESSAGE(v != nullptr, key);
  REQUIRE(v->is_string());
  return v->as_string();
}

std::int64_t num(const json::Value& obj, std::string_view key) {
  const auto* v = obj.find(key);
  REQUIRE_MESSAGE(v != nullptr, key);
  REQUIRE(v->as_int64());
  return *v->as_int64();
}

bool contains(const std::string& hay, std::string_view needle) {
  return hay.find(needle) != std::string::npos;
}

std::string fold_json(store::Journal& j, const store::StreamId& s,
                      std::optional<std::uint64_t> upto = std::nullopt) {
  auto c = streams::load_cart(j, s, upto);
  REQUIRE(c);
  return codec::cart_snapshot_json(c->cart);
}

}  // namespace

TEST_CASE("streams: one line per stream, filters by tenant and kind") {
  TempDir dir;
  auto j = open_journal(dir.path);
  write_cart(*j, streams::cart_stream("t1", "c1"));
  append_cart(*j, streams::cart_stream("t1", "c2"), 0, {created(streams::cart_stream("t1", "c2"))},
              t0 + 500);
  append_cart(*j, streams::cart_stream("t2", "c9"), 0, {created(streams::cart_stream("t2", "c9"))},
              t0);
  append_raw(*j, store::StreamId{"t1", "checkout", "k1"}, 0,
             {store::EventData{"checkout.started", 1, t0, R"({"cart_id":"c1"})"}});

  auto all = replay({"--data-dir", dir.path, "streams"});
  CHECK(all.status == 0);
  CHECK(all.err.empty());
  // Stream key order: tenant, then kind, then id.
  const std::vector<std::string> expected = {
      "t1/cart/c1 version=5 last_position=5 updated_at=2023-11-14T22:13:23.000Z",
      "t1/cart/c2 version=1 last_position=6 updated_at=2023-11-14T22:13:20.500Z",
      "t1/checkout/k1 version=1 last_position=8 updated_at=2023-11-14T22:13:20.000Z",
      "t2/cart/c9 version=1 last_position=7 updated_at=2023-11-14T22:13:20.000Z",
  };
  CHECK(all.lines() == expected);

  auto t1 = replay({"--data-dir", dir.path, "streams", "--tenant", "t1"});
  CHECK(t1.status == 0);
  CHECK(t1.lines() == std::vector<std::string>{expected[0], expected[1], expected[2]});

  auto carts = replay({"--data-dir", dir.path, "streams", "--kind", "cart"});
  CHECK(carts.status == 0);
  CHECK(carts.lines() == std::vector<std::string>{expected[0], expected[1], expected[3]});

  auto t1_checkout =
      replay({"--data-dir=" + dir.path, "streams", "--tenant=t1", "--kind", "checkout"});
  CHECK(t1_checkout.status == 0);
  CHECK(t1_checkout.lines() == std::vector<std::string>{expected[2]});

  auto none = replay({"--data-dir", dir.path, "streams", "--tenant", "nobody"});
  CHECK(none.status == 0);
  CHECK(none.out.empty());
}

TEST_CASE("events: one JSON line per event, in seq order, payload verbatim") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const auto s = streams::cart_stream("t1", "c1");
  write_cart(*j, s);

  auto r = replay({"--data-dir", dir.path, "events", "t1/cart/c1"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  const auto lines = r.lines();
  REQUIRE(lines.size() == 5);
  const std::vector<std::string> types = {"cart.created", "cart.item_added", "cart.item_added",
                                          "cart.adjustment_applied", "cart.tax_resolved"};
  auto stored = j->read_stream(s);
  REQUIRE(stored);
  REQUIRE(stored->size() == 5);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    const auto v = parse_line(lines[i]);
    CHECK(str(v, "stream") == "t1/cart/c1");
    CHECK(num(v, "seq") == static_cast<std::int64_t>(i + 1));
    CHECK(num(v, "position") == static_cast<std::int64_t>(i + 1));
    CHECK(str(v, "type") == types[i]);
    CHECK(num(v, "schema") == 1);
    CHECK(num(v, "recorded_at_ms") == (*stored)[i].data.recorded_at_ms);
    const auto* data = v.find("data");
    REQUIRE(data != nullptr);
    CHECK(data->is_object());
    // The payload as stored, byte for byte.
    CHECK(contains(lines[i], "\"data\":" + (*stored)[i].data.payload + "}"));
  }
  CHECK(str(parse_line(lines[0]), "recorded_at") == "2023-11-14T22:13:20.000Z");
  CHECK(str(parse_line(lines[4]), "recorded_at") == "2023-11-14T22:13:23.000Z");

  auto from = replay({"--data-dir", dir.path, "events", "t1/cart/c1", "--from", "4"});
  CHECK(from.status == 0);
  REQUIRE(from.lines().size() == 2);
  CHECK(num(parse_line(from.lines()[0]), "seq") == 4);
  CHECK(from.lines()[0] == lines[3]);

  auto past = replay({"--data-dir", dir.path, "events", "t1/cart/c1", "--from", "6"});
  CHECK(past.status == 0);
  CHECK(past.out.empty());

  auto missing = replay({"--data-dir", dir.path, "events", "t1/cart/nope"});
  CHECK(missing.status == 1);
  CHECK(missing.out.empty());
  CHECK(contains(missing.err, "stream not found"));
}

TEST_CASE("events: an id containing '/' is split after the kind") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const store::StreamId s{"t1", "cart", "a/b/c"};
  write_cart(*j, s);
  auto r = replay({"--data-dir", dir.path, "events", "t1/cart/a/b/c"});
  CHECK(r.status == 0);
  REQUIRE(r.lines().size() == 5);
  CHECK(str(parse_line(r.lines()[0]), "stream") == "t1/cart/a/b/c");
  auto st = replay({"--data-dir", dir.path, "state", "t1/cart/a/b/c"});
  CHECK(st.status == 0);
  CHECK(st.out == fold_json(*j, s) + "\n");
}

TEST_CASE("state: equals the fold, --at gives the state after that event") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const auto s = streams::cart_stream("t1", "c1");
  write_cart(*j, s);

  auto r = replay({"--data-dir", dir.path, "state", "t1/cart/c1"});
  CHECK(r.status == 0);
  CHECK(r.err.empty());
  CHECK(r.out == fold_json(*j, s) + "\n");
  const auto v = parse_line(r.lines().at(0));
  CHECK(num(v, "subtotal_minor") == 800);
  CHECK(num(v, "discount_minor") == 80);
  CHECK(num(v, "tax_minor") == 57);
  CHECK(num(v, "total_minor") == 777);

  auto at2 = replay({"--data-dir", dir.path, "state", "t1/cart/c1", "--at", "2"});
  CHECK(at2.status == 0);
  CHECK(at2.out == fold_json(*j, s, 2) + "\n");
  const auto v2 = parse_line(at2.lines().at(0));
  CHECK(num(v2, "version") == 2);
  REQUIRE(v2.find("lines") != nullptr);
  REQUIRE(v2.find("lines")->items().size() == 1);
  CHECK(str(v2.find("lines")->items()[0], "line_id") == "l1");
  CHECK(num(v2, "total_minor") == 500);

  auto at1 = replay({"--data-dir", dir.path, "state", "t1/cart/c1", "--at", "1"});
  CHECK(at1.status == 0);
  CHECK(num(parse_line(at1.lines().at(0)), "version") == 1);
  CHECK(parse_line(at1.lines().at(0)).find("lines")->items().empty());

  // With a snapshot the default state still equals the fold.
  auto loaded = streams::load_cart(*j, s);
  REQUIRE(loaded);
  store::WriteSet ws;
  ws.puts.push_back(streams::cart_snapshot(s, loaded->cart, loaded->stream_version));
  commit_ok(*j, std::move(ws));
  auto snap = replay({"--data-dir", dir.path, "state", "t1/cart/c1"});
  CHECK(snap.status == 0);
  CHECK(snap.out == r.out);

  auto beyond = replay({"--data-dir", dir.path, "state", "t1/cart/c1", "--at", "6"});
  CHECK(beyond.status == 1);
  CHECK(beyond.out.empty());
  CHECK(contains(beyond.err, "version 5"));
}

TEST_CASE("state: unknown stream and unknown kind") {
  TempDir dir;
  auto j = open_journal(dir.path);
  write_cart(*j, streams::cart_stream("t1", "c1"));
  append_raw(*j, store::StreamId{"t1", "widget", "w1"}, 0,
             {store::EventData{"widget.made", 1, t0, "{}"}});

  auto missing = replay({"--data-dir", dir.path, "state", "t1/cart/nope"});
  CHECK(missing.status == 1);
  CHECK(missing.out.empty());
  CHECK(contains(missing.err, "stream not found"));

  auto kind = replay({"--data-dir", dir.path, "state", "t1/widget/w1"});
  CHECK(kind.status == 1);
  CHECK(kind.out.empty());
  CHECK(contains(kind.err, "state: no fold for kind 'widget' (known: cart, checkout, payment, order)"));
}

TEST_CASE("log: every event in commit order across streams, --from and --limit") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const auto a = streams::cart_stream("t1", "a");
  const auto b = streams::cart_stream("t2", "b");
  append_cart(*j, a, 0, {created(a)}, t0);
  append_cart(*j, b, 0, {created(b)}, t0 + 1);
  append_cart(*j, b, 1, {cart::ItemAdded{"l1", "sku", "Rose", 100, 1}}, t0 + 2);
  append_cart(*j, a, 1, {cart::ItemAdded{"l1", "sku", "Rose", 100, 2}}, t0 + 3);
  // Two streams in one WriteSet.
  store::WriteSet ws;
  ws.appends.push_back(
      store::StreamAppend{a, 2, streams::encode_cart_events({cart::ItemRemoved{"l1"}}, t0 + 4)});
  ws.appends.push_back(
      store::StreamAppend{b, 2, streams::encode_cart_events({cart::ItemRemoved{"l1"}}, t0 + 4)});
  commit_ok(*j, std::move(ws));

  auto r = replay({"--data-dir", dir.path, "log"});
  CHECK(r.status == 0);
  const auto lines = r.lines();
  REQUIRE(lines.size() == 6);
  const std::vector<std::pair<std::string, std::int64_t>> order = {
      {"t1/cart/a", 1}, {"t2/cart/b", 1}, {"t2/cart/b", 2},
      {"t1/cart/a", 2}, {"t1/cart/a", 3}, {"t2/cart/b", 3}};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto v = parse_line(lines[i]);
    CHECK(num(v, "position") == static_cast<std::int64_t>(i + 1));
    CHECK(str(v, "stream") == order[i].first);
    CHECK(num(v, "seq") == order[i].second);
  }
  // Same lines as `events`.
  auto ev = replay({"--data-dir", dir.path, "events", "t2/cart/b"});
  CHECK(ev.lines() == std::vector<std::string>{lines[1], lines[2], lines[5]});

  auto page = replay({"--data-dir", dir.path, "log", "--from", "3", "--limit", "2"});
  CHECK(page.status == 0);
  CHECK(page.lines() == std::vector<std::string>{lines[2], lines[3]});
  auto zero = replay({"--data-dir", dir.path, "log", "--limit", "0"});
  CHECK(zero.status == 0);
  CHECK(zero.out.empty());
}

TEST_CASE("check: a good journal has no problems") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const auto s = streams::cart_stream("t1", "c1");
  write_cart(*j, s);
  write_cart(*j, streams::cart_stream("t2", "c2"));
  append_raw(*j, store::StreamId{"t1", "widget", "w1"}, 0,
             {store::EventData{"widget.made", 1, t0, R"({"total":1})"}});
  // A snapshot that agrees with the fold.
  auto loaded = streams::load_cart(*j, s, 3);
  REQUIRE(loaded);
  store::WriteSet ws;
  ws.puts.push_back(streams::cart_snapshot(s, loaded->cart, 3));
  commit_ok(*j, std::move(ws));

  auto r = replay({"--data-dir", dir.path, "check"});
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  CHECK(r.lines() == std::vector<std::string>{"streams=3 events=11 problems=0"});
}

TEST_CASE("check: corrupt events are reported, never a crash") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const auto good = streams::cart_stream("t1", "good");
  write_cart(*j, good);
  const auto bad = streams::cart_stream("t1", "bad");
  append_cart(*j, bad, 0, {created(bad)}, t0);

  SUBCASE("payload that is not JSON") {
    append_raw(*j, bad, 1, {store::EventData{"cart.item_added", 1, t0, "{not json"}});
    auto r = replay({"--data-dir", dir.path, "check"});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    const auto lines = r.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].starts_with("problem: t1/cart/bad seq 2: "));
    CHECK(lines[1] == "streams=2 events=7 problems=1");

    // events: every line valid JSON, the bad one carries the error.
    auto ev = replay({"--data-dir", dir.path, "events", "t1/cart/bad"});
    CHECK(ev.status == 1);
    REQUIRE(ev.lines().size() == 2);
    const auto v = parse_line(ev.lines()[1]);
    CHECK(v.find("data")->is_null());
    CHECK(str(v, "payload") == "{not json");
    CHECK(contains(str(v, "error"), "not valid JSON"));
    CHECK(contains(ev.err, "1 unreadable event"));

    auto log = replay({"--data-dir", dir.path, "log"});
    CHECK(log.status == 1);
    CHECK(log.lines().size() == 7);
    for (const auto& l : log.lines()) parse_line(l);

    auto st = replay({"--data-dir", dir.path, "state", "t1/cart/bad"});
    CHECK(st.status == 1);
    CHECK(st.out.empty());
    CHECK(contains(st.err, "t1/cart/bad"));
    // The good prefix still folds.
    auto st1 = replay({"--data-dir", dir.path, "state", "t1/cart/bad", "--at", "1"});
    CHECK(st1.status == 0);
  }
  SUBCASE("unknown event type") {
    append_raw(*j, bad, 1, {store::EventData{"cart.exploded", 1, t0, "{}"}});
    auto r = replay({"--data-dir", dir.path, "check"});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/cart/bad seq 2: "));
    CHECK(contains(r.out, "cart.exploded"));
    CHECK(contains(r.out, "problems=1\n"));
  }
  SUBCASE("unknown schema version") {
    append_raw(*j, bad, 1, {store::EventData{"cart.item_removed", 7, t0, R"({"line_id":"l1"})"}});
    auto r = replay({"--data-dir", dir.path, "check"});
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/cart/bad seq 2: "));
  }
  SUBCASE("payload of the wrong shape") {
    append_raw(*j, bad, 1, {store::EventData{"cart.item_added", 1, t0, R"({"line_id":5})"}});
    auto r = replay({"--data-dir", dir.path, "check"});
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/cart/bad seq 2: "));
  }
  SUBCASE("values decide() never emits") {
    append_cart(*j, bad, 1,
                {cart::AdjustmentApplied{"X", cart::DiscountKind::fixed_amount, INT64_MIN, "x"}},
                t0);
    auto r = replay({"--data-dir", dir.path, "check"});
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/cart/bad seq 2: cart.adjustment_applied: "));
    auto st = replay({"--data-dir", dir.path, "state", "t1/cart/bad"});
    CHECK(st.status == 1);
  }
  SUBCASE("a first event that is not cart.created") {
    const auto odd = streams::cart_stream("t1", "odd");
    append_cart(*j, odd, 0, {cart::CheckoutReady{}}, t0);
    auto r = replay({"--data-dir", dir.path, "check"});
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/cart/odd: seq 1: the first event is cart.checkout_ready"));
  }
  SUBCASE("a snapshot that disagrees with the fold") {
    cart::Cart wrong;
    wrong.cart_id = "good";
    wrong.version = 9;
    store::WriteSet ws;
    ws.puts.push_back(streams::cart_snapshot(good, wrong, 5));
    commit_ok(*j, std::move(ws));
    auto r = replay({"--data-dir", dir.path, "check"});
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/cart/good: snapshot at version 5 differs from the fold"));
  }
  SUBCASE("a payload of an unknown kind that is not JSON") {
    append_raw(*j, store::StreamId{"t1", "widget", "w1"}, 0,
               {store::EventData{"widget.made", 1, t0, "]["}});
    auto r = replay({"--data-dir", dir.path, "check"});
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/widget/w1 seq 1: payload is not valid JSON"));
  }
  SUBCASE("an order event that does not decode") {
    append_raw(*j, store::StreamId{"t1", "order", "o1"}, 0,
               {store::EventData{"order.created", 1, t0, R"({"total":1})"}});
    auto r = replay({"--data-dir", dir.path, "check"});
    CHECK(r.status == 1);
    CHECK(contains(r.out, "problem: t1/order/o1 seq 1: cannot decode event 'order.created'"));
  }
}

// Overwrites the stored record of one event with bytes the store cannot
// decode (or deletes it), through LMDB itself (store format 1, see
// lmdb_journal.cpp). The journal must be closed.
void damage_event_record(const std::string& dir, const store::StreamId& s, std::uint64_t seq,
                         bool erase = false) {
  std::string key;
  for (const std::string* part : {&s.tenant, &s.kind, &s.id}) {
    key.push_back(static_cast<char>(part->size()));
    key += *part;
  }
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>((seq >> (8 * i)) & 0xFF));
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, "stream_events", 0, &dbi) == 0);
  MDB_val k{key.size(), key.data()};
  MDB_val old;
  REQUIRE(mdb_get(txn, dbi, &k, &old) == 0);  // the key layout is right
  char junk[] = "\x09garbage";
  MDB_val v{sizeof junk - 1, junk};
  REQUIRE((erase ? mdb_del(txn, dbi, &k, nullptr) : mdb_put(txn, dbi, &k, &v, 0)) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

TEST_CASE("a record the store cannot decode: one error line, the rest still read") {
  TempDir dir;
  const auto s = streams::cart_stream("t1", "c1");
  {
    auto j = open_journal(dir.path);
    write_cart(*j, s);  // 5 events, positions 1..5
    write_cart(*j, streams::cart_stream("t1", "c2"));
  }
  damage_event_record(dir.path, s, 3);

  auto ev = replay({"--data-dir", dir.path, "events", "t1/cart/c1"});
  INFO(ev.out << ev.err);
  CHECK(ev.status == 1);
  const auto lines = ev.lines();
  REQUIRE(lines.size() == 5);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto v = parse_line(lines[i]);
    CHECK(num(v, "seq") == static_cast<std::int64_t>(i + 1));
    CHECK((v.find("error") != nullptr) == (i == 2));
  }
  CHECK(contains(str(parse_line(lines[2]), "error"), "data.mdb"));

  auto log = replay({"--data-dir", dir.path, "log"});
  CHECK(log.status == 1);
  REQUIRE(log.lines().size() == 10);
  CHECK(parse_line(log.lines()[2]).find("error") != nullptr);
  CHECK(num(parse_line(log.lines()[3]), "position") == 4);

  auto chk = replay({"--data-dir", dir.path, "check"});
  INFO(chk.out);
  CHECK(chk.status == 1);
  CHECK(contains(chk.out, "problem: t1/cart/c1 seq 3: "));
  CHECK(contains(chk.out, "problem: position 3: "));
  CHECK(contains(chk.out, "streams=2 events=9 problems=2\n"));

  auto st = replay({"--data-dir", dir.path, "state", "t1/cart/c1"});
  CHECK(st.status == 1);
  CHECK(st.out.empty());
  CHECK(contains(st.err, "data.mdb"));
  CHECK(replay({"--data-dir", dir.path, "state", "t1/cart/c1", "--at", "2"}).status == 0);
  CHECK(replay({"--data-dir", dir.path, "state", "t1/cart/c2"}).status == 0);
}

TEST_CASE("check: a missing event is a gap in the stream and in the positions") {
  TempDir dir;
  const auto s = streams::cart_stream("t1", "c1");
  {
    auto j = open_journal(dir.path);
    write_cart(*j, s);
  }
  damage_event_record(dir.path, s, 2, /*erase=*/true);
  auto chk = replay({"--data-dir", dir.path, "check"});
  INFO(chk.out);
  CHECK(chk.status == 1);
  CHECK(contains(chk.out, "problem: t1/cart/c1: events 2..2 missing\n"));
  CHECK(contains(chk.out, "problem: position 2: "));
  CHECK(contains(chk.out, "streams=1 events=4 problems=2\n"));
  auto ev = replay({"--data-dir", dir.path, "events", "t1/cart/c1"});
  CHECK(ev.status == 0);
  CHECK(ev.lines().size() == 4);
}

TEST_CASE("read-only while another process holds the journal open for writing") {
  TempDir dir;
  auto j = open_journal(dir.path);  // the writer stays open throughout
  const auto s = streams::cart_stream("t1", "c1");
  append_cart(*j, s, 0, {created(s)}, t0);

  auto r1 = replay({"--data-dir", dir.path, "streams"});
  CHECK(r1.status == 0);
  CHECK(r1.lines() ==
        std::vector<std::string>{
            "t1/cart/c1 version=1 last_position=1 updated_at=2023-11-14T22:13:20.000Z"});

  // The writer keeps writing; the next run sees it.
  append_cart(*j, s, 1, {cart::ItemAdded{"l1", "sku", "Rose", 100, 1}}, t0 + 1000);
  auto r2 = replay({"--data-dir", dir.path, "events", "t1/cart/c1"});
  CHECK(r2.status == 0);
  CHECK(r2.lines().size() == 2);
  auto r3 = replay({"--data-dir", dir.path, "check"});
  CHECK(r3.status == 0);
  CHECK(r3.lines() == std::vector<std::string>{"streams=1 events=2 problems=0"});

  // And the writer can still write after the tool ran.
  append_cart(*j, s, 2, {cart::ItemRemoved{"l1"}}, t0 + 2000);
  CHECK(*j->stream_version(s) == 3);
}

TEST_CASE("consistent results while a writer keeps committing") {
  TempDir dir;
  auto j = open_journal(dir.path);
  std::atomic<bool> stop{false};
  std::atomic<int> carts{0};
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    try {  // a failed REQUIRE throws: keep it on this thread
      for (int n = 0; !stop.load(); ++n) {
        const auto s = streams::cart_stream("t" + std::to_string(n % 3), "c" + std::to_string(n));
        write_cart(*j, s, t0 + n);
        auto loaded = streams::load_cart(*j, s, 4);
        REQUIRE(loaded);
        store::WriteSet ws;
        ws.puts.push_back(streams::cart_snapshot(s, loaded->cart, 4));
        commit_ok(*j, std::move(ws));
        ++carts;
      }
    } catch (...) {
      writer_failed = true;
    }
  });
  // Stops and joins the writer also when a REQUIRE below throws.
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{stop, writer};
  while (carts.load() < 5 && !writer_failed.load()) std::this_thread::yield();
  REQUIRE(!writer_failed.load());
  for (int round = 0; round < 4; ++round) {
    auto chk = replay({"--data-dir", dir.path, "check"});
    INFO(chk.out << chk.err);
    CHECK(chk.status == 0);
    CHECK(contains(chk.out, " problems=0\n"));
    auto log = replay({"--data-dir", dir.path, "log"});
    CHECK(log.status == 0);
    std::int64_t expected = 1;
    for (const auto& l : log.lines()) CHECK(num(parse_line(l), "position") == expected++);
    CHECK(replay({"--data-dir", dir.path, "streams"}).status == 0);
  }
  CHECK(!writer_failed.load());
}

TEST_CASE("tables: counts and rows") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const auto s = streams::cart_stream("t1", "c1");
  write_cart(*j, s);
  auto loaded = streams::load_cart(*j, s);
  REQUIRE(loaded);
  store::WriteSet ws;
  ws.puts.push_back(streams::cart_snapshot(s, loaded->cart, loaded->stream_version));
  ws.puts.push_back(store::TablePut{store::Table::outbox, "m1", R"({"to":"x"})"});
  ws.puts.push_back(store::TablePut{store::Table::outbox, "m2", "line\nbreak"});
  ws.puts.push_back(
      store::TablePut{store::Table::outbox_due, std::string("\x00\x01\xff\x80m1", 6), "m1"});
  commit_ok(*j, std::move(ws));

  auto counts = replay({"--data-dir", dir.path, "tables"});
  CHECK(counts.status == 0);
  CHECK(counts.lines() == std::vector<std::string>{"idempotency rows=0", "snapshots rows=1",
                                                   "outbox rows=2", "outbox_due rows=1",
                                                   "dead_letter rows=0", "inbox rows=0",
                                                   "index rows=0"});

  auto snaps = replay({"--data-dir", dir.path, "tables", "snapshots"});
  CHECK(snaps.status == 0);
  REQUIRE(snaps.lines().size() == 1);
  const auto row = parse_line(snaps.lines()[0]);
  CHECK(str(row, "key") == streams::entity_key(s));  // with its \0 separators
  CHECK(contains(snaps.lines()[0], R"("key":"t1\u0000cart\u0000c1")"));
  CHECK(str(row, "value") == "5\n" + codec::cart_snapshot_json(loaded->cart));

  auto outbox = replay({"--data-dir", dir.path, "tables", "outbox"});
  CHECK(outbox.status == 0);
  REQUIRE(outbox.lines().size() == 2);
  CHECK(outbox.lines()[0] == R"({"key":"m1","value":"{\"to\":\"x\"}"})");
  CHECK(outbox.lines()[1] == R"({"key":"m2","value":"line\nbreak"})");

  auto due = replay({"--data-dir", dir.path, "tables", "outbox_due"});
  CHECK(due.status == 0);
  CHECK(due.lines() == std::vector<std::string>{R"({"key_hex":"0001ff806d31","value":"m1"})"});

  auto empty = replay({"--data-dir", dir.path, "tables", "inbox"});
  CHECK(empty.status == 0);
  CHECK(empty.out.empty());
}

TEST_CASE("many events: paging returns every one exactly once") {
  TempDir dir;
  auto j = open_journal(dir.path);
  const auto s = streams::cart_stream("t1", "big");
  append_cart(*j, s, 0, {created(s)}, t0);
  std::uint64_t v = 1;
  for (int batch = 0; batch < 12; ++batch) {
    std::vector<cart::EventBody> evs(100);
    for (int k = 0; k < 100; ++k)
      evs[static_cast<std::size_t>(k)].emplace<cart::TaxResolved>().tax_minor = batch * 100 + k;
    append_cart(*j, s, v, evs, t0 + batch);
    v += evs.size();
  }
  auto ev = replay({"--data-dir", dir.path, "events", "t1/cart/big"});
  CHECK(ev.status == 0);
  const auto lines = ev.lines();
  REQUIRE(lines.size() == 1201);
  for (std::size_t i = 0; i < lines.size(); i += 97)
    CHECK(num(parse_line(lines[i]), "seq") == static_cast<std::int64_t>(i + 1));
  CHECK(num(parse_line(lines.back()), "seq") == 1201);
  auto log = replay({"--data-dir", dir.path, "log", "--from", "600"});
  CHECK(log.lines().size() == 602);
  auto chk = replay({"--data-dir", dir.path, "check"});
  CHECK(chk.status == 0);
  CHECK(chk.lines() == std::vector<std::string>{"streams=1 events=1201 problems=0"});
}

TEST_CASE("data dir: missing, empty, from DATA_DIR") {
  TempDir dir;
  const std::string missing = dir.path + "/does-not-exist";
  auto r = replay({"--data-dir", missing, "streams"});
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(contains(r.err, missing));

  // A directory without a journal: nothing is created in it.
  auto empty = replay({"--data-dir", dir.path, "streams"});
  CHECK(empty.status == 1);
  CHECK(contains(empty.err, dir.path));
  CHECK(fs::is_empty(dir.path));

  {
    auto j = open_journal(dir.path);
    write_cart(*j, streams::cart_stream("t1", "c1"));
  }
  auto env = replay({"streams"}, dir.path.c_str());
  CHECK(env.status == 0);
  CHECK(env.lines().size() == 1);
  // --data-dir wins over DATA_DIR.
  auto both = replay({"--data-dir", missing, "streams"}, dir.path.c_str());
  CHECK(both.status == 1);
  CHECK(contains(both.err, missing));
}

TEST_CASE("usage: --help lists every command, bad usage exits 2") {
  auto help = replay({"--help"});
  CHECK(help.status == 0);
  for (const char* word : {"streams", "events", "state", "log", "check", "tables", "--data-dir",
                           "--tenant", "--kind", "--from", "--at", "--limit", "DATA_DIR"})
    CHECK_MESSAGE(contains(help.out, word), word);
  CHECK(replay({"check", "--help"}).status == 0);

  TempDir dir;
  {
    auto j = open_journal(dir.path);
    write_cart(*j, streams::cart_stream("t1", "c1"));
  }
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"streams", "extra"},
      {"streams", "--bogus", "x"},
      {"streams", "--tenant"},
      {"events"},
      {"events", "t1/cart"},
      {"events", "t1//c1"},
      {"events", "t1/cart/c1", "--from", "abc"},
      {"events", "t1/cart/c1", "--from", "-1"},
      {"events", "t1/cart/c1", "--at", "2"},
      {"state", "t1/cart/c1", "--at", "0"},
      {"state", "t1/cart/c1", "--at", "2", "--at", "3"},
      {"log", "--limit", "many"},
      {"tables", "nosuch"},
      {"tables", "outbox", "inbox"},
      {"--data-dir"},
  };
  for (const auto& args : bad) {
    std::vector<std::string> full = {"--data-dir", dir.path};
    full.insert(full.end(), args.begin(), args.end());
    auto r = replay(full);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    INFO("args: " << joined << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(!r.err.empty());
  }
  // Usage is checked before the journal is opened.
  CHECK(replay({"--data-dir", dir.path + "/nope", "events", "bad"}).status == 2);
}
