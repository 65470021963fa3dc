// Tests of the LMDB journal (src/store/lmdb_journal.cpp). Each test works in
// its own fresh directory under /tmp and removes it afterwards.
#include <doctest/doctest.h>
#include <lmdb.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/journal.hpp"

namespace fs = std::filesystem;
using namespace orch::store;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/journal_test_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

Options options(const std::string& dir, std::size_t map_mb = 64, std::size_t max_mb = 1024) {
  Options o;
  o.dir = dir;
  o.map_size_mb = map_mb;
  o.max_map_size_mb = max_mb;
  return o;
}

std::unique_ptr<Journal> open_ok(const Options& o) {
  auto r = open_lmdb_journal(o);
  INFO(r.error.message);
  REQUIRE(r);
  return std::move(*r);
}

EventData event(std::string type, std::string payload, std::int64_t at = 1000,
                std::uint32_t schema = 1) {
  EventData e;
  e.type = std::move(type);
  e.schema = schema;
  e.recorded_at_ms = at;
  e.payload = std::move(payload);
  return e;
}

StreamId sid(std::string tenant, std::string kind, std::string id) {
  return StreamId{std::move(tenant), std::move(kind), std::move(id)};
}

WriteSet append(const StreamId& s, std::uint64_t expected, std::vector<EventData> events) {
  WriteSet ws;
  ws.appends.push_back(StreamAppend{s, expected, std::move(events)});
  return ws;
}

// Commits one WriteSet and returns its result.
WriteResult commit1(Journal& j, WriteSet ws) {
  std::vector<WriteSet> batch;
  batch.push_back(std::move(ws));
  auto r = j.commit(batch);
  REQUIRE(r.size() == 1);
  return r[0];
}

std::vector<StoredEvent> read_ok(Journal& j, const StreamId& s, std::uint64_t from = 1,
                                 std::size_t max = SIZE_MAX) {
  auto r = j.read_stream(s, from, max);
  INFO(r.error.message);
  REQUIRE(r);
  return *r;
}

std::uint64_t version_ok(Journal& j, const StreamId& s) {
  auto r = j.stream_version(s);
  INFO(r.error.message);
  REQUIRE(r);
  return *r;
}

std::uint64_t last_position_ok(Journal& j) {
  auto r = j.last_position();
  INFO(r.error.message);
  REQUIRE(r);
  return *r;
}

TablePut put(Table t, std::string key, std::string value, PutMode mode = PutMode::upsert) {
  TablePut p;
  p.table = t;
  p.key = std::move(key);
  p.value = std::move(value);
  p.mode = mode;
  return p;
}

// Writes raw bytes with LMDB into a database of a closed journal.
void raw_put(const std::string& dir, const char* db, std::string_view key, std::string_view val,
             bool first_key = false) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 16) == 0);
  REQUIRE(mdb_env_open(env, dir.c_str(), 0, 0644) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, db, 0, &dbi) == 0);
  std::string key_copy(key);
  if (first_key) {  // overwrite the value of the first key instead
    MDB_cursor* c = nullptr;
    REQUIRE(mdb_cursor_open(txn, dbi, &c) == 0);
    MDB_val fk, fv;
    REQUIRE(mdb_cursor_get(c, &fk, &fv, MDB_FIRST) == 0);
    key_copy.assign(static_cast<const char*>(fk.mv_data), fk.mv_size);
    mdb_cursor_close(c);
  }
  MDB_val k{key_copy.size(), key_copy.data()};
  MDB_val v{val.size(), const_cast<char*>(val.data())};
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("append and read back a stream") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId s = sid("t1", "cart", "c-1");
  CHECK(version_ok(*j, s) == 0);
  CHECK(read_ok(*j, s).empty());
  CHECK(last_position_ok(*j) == 0);

  auto r = commit1(*j, append(s, 0,
                              {event("cart.created", "{\"a\":1}", 100, 2),
                               event("cart.item_added", "{\"sku\":\"x\"}", 200)}));
  REQUIRE(r.status == WriteStatus::ok);
  CHECK(r.versions == std::vector<std::uint64_t>{2});
  CHECK(r.first_position == 1);

  r = commit1(*j, append(s, 2, {event("cart.item_removed", "", 300)}));
  REQUIRE(r.status == WriteStatus::ok);
  CHECK(r.versions == std::vector<std::uint64_t>{3});
  CHECK(r.first_position == 3);

  auto evs = read_ok(*j, s);
  REQUIRE(evs.size() == 3);
  CHECK(evs[0].stream == s);
  CHECK(evs[0].seq == 1);
  CHECK(evs[0].position == 1);
  CHECK(evs[0].data.type == "cart.created");
  CHECK(evs[0].data.schema == 2);
  CHECK(evs[0].data.recorded_at_ms == 100);
  CHECK(evs[0].data.payload == "{\"a\":1}");
  CHECK(evs[1].seq == 2);
  CHECK(evs[1].data.payload == "{\"sku\":\"x\"}");
  CHECK(evs[2].seq == 3);
  CHECK(evs[2].position == 3);
  CHECK(evs[2].data.type == "cart.item_removed");
  CHECK(evs[2].data.payload.empty());

  auto part = read_ok(*j, s, 2, 1);
  REQUIRE(part.size() == 1);
  CHECK(part[0].seq == 2);
  CHECK(read_ok(*j, s, 4).empty());
  CHECK(read_ok(*j, s, 1, 0).empty());
  CHECK(version_ok(*j, s) == 3);
  CHECK(last_position_ok(*j) == 3);

  auto streams = j->list_all_streams(10);
  REQUIRE(streams);
  REQUIRE(streams->size() == 1);
  CHECK((*streams)[0].stream == s);
  CHECK((*streams)[0].version == 3);
  CHECK((*streams)[0].last_position == 3);
  CHECK((*streams)[0].updated_at_ms == 300);
  CHECK(to_string(s) == "t1/cart/c-1");
}

TEST_CASE("expected-version conflict writes nothing and reports the actual version") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId s = sid("t", "cart", "1");
  REQUIRE(commit1(*j, append(s, 0, {event("a", "1"), event("b", "2")})).status == WriteStatus::ok);

  auto r = commit1(*j, append(s, 1, {event("c", "3")}));
  CHECK(r.status == WriteStatus::conflict);
  CHECK(r.conflict_index == 0);
  CHECK(r.actual_version == 2);
  CHECK(r.versions.empty());
  CHECK(r.first_position == 0);
  CHECK(!r.message.empty());

  r = commit1(*j, append(s, 0, {event("c", "3")}));  // "create" an existing stream
  CHECK(r.status == WriteStatus::conflict);
  CHECK(r.actual_version == 2);

  r = commit1(*j, append(sid("t", "cart", "new"), 5, {event("c", "3")}));
  CHECK(r.status == WriteStatus::conflict);
  CHECK(r.actual_version == 0);

  CHECK(version_ok(*j, s) == 2);
  CHECK(read_ok(*j, s).size() == 2);
  CHECK(last_position_ok(*j) == 2);

  // An empty append only checks the version.
  r = commit1(*j, append(s, 2, {}));
  CHECK(r.status == WriteStatus::ok);
  CHECK(r.versions == std::vector<std::uint64_t>{2});
  CHECK(r.first_position == 0);
  CHECK(commit1(*j, append(s, 3, {})).status == WriteStatus::conflict);
}

TEST_CASE("a WriteSet with several appends is atomic") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId a = sid("t", "cart", "a");
  const StreamId b = sid("t", "checkout", "b");
  REQUIRE(commit1(*j, append(b, 0, {event("x", "1")})).status == WriteStatus::ok);

  WriteSet ws = append(a, 0, {event("e1", "1"), event("e2", "2"), event("e3", "3")});
  ws.appends.push_back(StreamAppend{b, 0, {event("y", "2")}});  // b is at version 1
  auto r = commit1(*j, ws);
  CHECK(r.status == WriteStatus::conflict);
  CHECK(r.conflict_index == 1);
  CHECK(r.actual_version == 1);
  CHECK(read_ok(*j, a).empty());
  CHECK(version_ok(*j, a) == 0);
  CHECK(version_ok(*j, b) == 1);
  CHECK(last_position_ok(*j) == 1);

  ws.appends[1].expected_version = 1;
  r = commit1(*j, ws);
  REQUIRE(r.status == WriteStatus::ok);
  CHECK(r.versions == std::vector<std::uint64_t>{3, 2});
  CHECK(r.first_position == 2);
  CHECK(read_ok(*j, a).size() == 3);
  CHECK(read_ok(*j, b).size() == 2);
  CHECK(read_ok(*j, b)[1].position == 5);
}

TEST_CASE("a batch refuses only its conflicting WriteSet") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId a = sid("t", "cart", "a");
  const StreamId b = sid("t", "cart", "b");
  const StreamId c = sid("t", "cart", "c");
  REQUIRE(commit1(*j, append(b, 0, {event("x", "0")})).status == WriteStatus::ok);

  std::vector<WriteSet> batch;
  batch.push_back(append(a, 0, {event("a1", "1"), event("a2", "2")}));
  batch.push_back(append(b, 0, {event("b2", "x")}));  // conflict: b is at 1
  batch.push_back(append(c, 0, {event("c1", "1"), event("c2", "2"), event("c3", "3")}));
  auto r = j->commit(batch);
  REQUIRE(r.size() == 3);
  CHECK(r[0].status == WriteStatus::ok);
  CHECK(r[0].first_position == 2);
  CHECK(r[0].versions == std::vector<std::uint64_t>{2});
  CHECK(r[1].status == WriteStatus::conflict);
  CHECK(r[1].actual_version == 1);
  CHECK(r[2].status == WriteStatus::ok);
  CHECK(r[2].first_position == 4);  // consecutive: the refused set used no position
  CHECK(r[2].versions == std::vector<std::uint64_t>{3});
  CHECK(last_position_ok(*j) == 6);
  CHECK(version_ok(*j, b) == 1);

  auto all = j->read_all(1, 100);
  REQUIRE(all);
  REQUIRE(all->size() == 6);
  for (std::size_t i = 0; i < all->size(); ++i) CHECK((*all)[i].position == i + 1);
}

TEST_CASE("later WriteSets of a batch see the earlier ones") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId s = sid("t", "cart", "1");
  std::vector<WriteSet> batch;
  batch.push_back(append(s, 0, {event("a", "1"), event("b", "2")}));
  batch.push_back(append(s, 2, {event("c", "3")}));
  batch.push_back(append(s, 2, {event("stale", "x")}));  // conflict: now at 3
  batch.push_back(append(s, 3, {event("d", "4")}));
  auto r = j->commit(batch);
  REQUIRE(r.size() == 4);
  CHECK(r[0].status == WriteStatus::ok);
  CHECK(r[0].versions == std::vector<std::uint64_t>{2});
  CHECK(r[1].status == WriteStatus::ok);
  CHECK(r[1].versions == std::vector<std::uint64_t>{3});
  CHECK(r[1].first_position == 3);
  CHECK(r[2].status == WriteStatus::conflict);
  CHECK(r[2].actual_version == 3);
  CHECK(r[3].status == WriteStatus::ok);
  CHECK(r[3].first_position == 4);
  auto evs = read_ok(*j, s);
  REQUIRE(evs.size() == 4);
  CHECK(evs[2].data.type == "c");
  CHECK(evs[3].data.type == "d");
  CHECK(evs[3].position == 4);
}

TEST_CASE("read_all returns every stream in commit order") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId s[3] = {sid("t", "cart", "z"), sid("t", "cart", "a"), sid("u", "pay", "m")};
  std::uint64_t versions[3] = {0, 0, 0};
  for (int round = 0; round < 10; ++round) {
    const int k = (round * 7) % 3;
    auto r = commit1(*j, append(s[k], versions[k], {event("e", std::to_string(round))}));
    REQUIRE(r.status == WriteStatus::ok);
    CHECK(r.first_position == static_cast<std::uint64_t>(round) + 1);
    versions[k] = r.versions[0];
  }
  auto all = j->read_all(1, SIZE_MAX);
  REQUIRE(all);
  REQUIRE(all->size() == 10);
  for (int round = 0; round < 10; ++round) {
    const StoredEvent& e = (*all)[static_cast<std::size_t>(round)];
    CHECK(e.position == static_cast<std::uint64_t>(round) + 1);
    CHECK(e.data.payload == std::to_string(round));
    CHECK(e.stream == s[(round * 7) % 3]);
  }
  auto tail = j->read_all(8, 2);
  REQUIRE(tail);
  REQUIRE(tail->size() == 2);
  CHECK((*tail)[0].position == 8);
  CHECK((*tail)[1].position == 9);
  auto none = j->read_all(11, 5);
  REQUIRE(none);
  CHECK(none->empty());
  auto zero = j->read_all(0, 1);
  REQUIRE(zero);
  REQUIRE(zero->size() == 1);
  CHECK((*zero)[0].position == 1);
}

TEST_CASE("list_streams by tenant and kind keeps tenants apart") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId ids[] = {sid("a", "cart", "1"),  sid("a", "cart", "2"), sid("a", "checkout", "1"),
                          sid("ab", "cart", "1"), sid("b", "cart", "1"), sid("a", "carts", "9")};
  std::vector<WriteSet> batch;
  for (const StreamId& s : ids) batch.push_back(append(s, 0, {event("e", "p")}));
  for (const auto& r : j->commit(batch)) REQUIRE(r.status == WriteStatus::ok);

  auto a = j->list_streams("a", "", 100);
  REQUIRE(a);
  REQUIRE(a->size() == 4);
  for (const StreamInfo& i : *a) {
    CHECK(i.stream.tenant == "a");
    CHECK(i.version == 1);
  }
  auto carts = j->list_streams("a", "cart", 100);
  REQUIRE(carts);
  REQUIRE(carts->size() == 2);
  CHECK((*carts)[0].stream == ids[0]);
  CHECK((*carts)[1].stream == ids[1]);
  auto limited = j->list_streams("a", "", 3);
  REQUIRE(limited);
  CHECK(limited->size() == 3);
  auto ab = j->list_streams("ab", "", 100);
  REQUIRE(ab);
  REQUIRE(ab->size() == 1);
  CHECK((*ab)[0].stream == ids[3]);
  auto none = j->list_streams("c", "", 100);
  REQUIRE(none);
  CHECK(none->empty());
  auto all = j->list_all_streams(100);
  REQUIRE(all);
  CHECK(all->size() == 6);
  CHECK(!j->list_streams("", "", 10));
}

TEST_CASE("tables: upsert, get, erase, insert_only conflict, scan") {
  TempDir d;
  auto j = open_ok(options(d.path));
  WriteSet ws;
  ws.puts.push_back(put(Table::outbox, "m-1", "one"));
  ws.puts.push_back(put(Table::outbox, "m-2", "two"));
  ws.puts.push_back(put(Table::outbox, "m-3", "three"));
  ws.puts.push_back(put(Table::outbox, "n-1", "other"));
  ws.puts.push_back(put(Table::inbox, "m-1", "inbox row"));
  ws.puts.push_back(put(Table::idempotency, "k", "", PutMode::insert_only));
  REQUIRE(commit1(*j, ws).status == WriteStatus::ok);

  auto g = j->get(Table::outbox, "m-2");
  REQUIRE(g);
  REQUIRE(g->has_value());
  CHECK(**g == "two");
  g = j->get(Table::outbox, "m-9");
  REQUIRE(g);
  CHECK(!g->has_value());
  g = j->get(Table::inbox, "m-1");
  REQUIRE(g);
  CHECK(g->value() == "inbox row");
  g = j->get(Table::idempotency, "k");
  REQUIRE(g);
  CHECK(g->value().empty());

  // Upsert replaces; erase removes (and erasing a missing key is fine).
  WriteSet ws2;
  ws2.puts.push_back(put(Table::outbox, "m-2", "TWO"));
  ws2.puts.push_back(put(Table::outbox, "m-3", "", PutMode::erase));
  ws2.puts.push_back(put(Table::outbox, "zzz", "", PutMode::erase));
  REQUIRE(commit1(*j, ws2).status == WriteStatus::ok);
  CHECK(j->get(Table::outbox, "m-2")->value() == "TWO");
  CHECK(!j->get(Table::outbox, "m-3")->has_value());

  // insert_only on an existing key refuses the whole set.
  WriteSet ws3 = append(sid("t", "cart", "1"), 0, {event("e", "p")});
  ws3.puts.push_back(put(Table::outbox, "m-4", "four"));
  ws3.puts.push_back(put(Table::idempotency, "k", "again", PutMode::insert_only));
  auto r = commit1(*j, ws3);
  CHECK(r.status == WriteStatus::conflict);
  CHECK(r.conflict_index == 2);  // appends.size() + index of the put
  CHECK(!j->get(Table::outbox, "m-4")->has_value());
  CHECK(j->get(Table::idempotency, "k")->value().empty());

  auto sc = j->scan(Table::outbox, "m-", "", 100);
  REQUIRE(sc);
  REQUIRE(sc->size() == 2);
  CHECK((*sc)[0] == std::pair<std::string, std::string>{"m-1", "one"});
  CHECK((*sc)[1] == std::pair<std::string, std::string>{"m-2", "TWO"});
  sc = j->scan(Table::outbox, "m-", "m-2", 100);
  REQUIRE(sc);
  REQUIRE(sc->size() == 1);
  CHECK((*sc)[0].first == "m-2");
  sc = j->scan(Table::outbox, "", "", 100);
  REQUIRE(sc);
  CHECK(sc->size() == 3);
  sc = j->scan(Table::outbox, "", "m-15", 100);
  REQUIRE(sc);
  REQUIRE(sc->size() == 2);
  CHECK((*sc)[0].first == "m-2");
  sc = j->scan(Table::outbox, "", "", 1);
  REQUIRE(sc);
  CHECK(sc->size() == 1);
  sc = j->scan(Table::outbox, "x", "", 10);
  REQUIRE(sc);
  CHECK(sc->empty());
  sc = j->scan(Table::snapshots, "", "", 10);
  REQUIRE(sc);
  CHECK(sc->empty());
  CHECK(table_name(Table::dead_letter) == "dead_letter");
}

TEST_CASE("events and table rows of a WriteSet commit together or not at all") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const StreamId s = sid("t", "checkout", "1");
  WriteSet ws = append(s, 0, {event("checkout.started", "{}")});
  ws.puts.push_back(put(Table::outbox, "msg-1", "send"));
  ws.puts.push_back(put(Table::idempotency, "req-1", "resp", PutMode::insert_only));
  REQUIRE(commit1(*j, ws).status == WriteStatus::ok);
  CHECK(version_ok(*j, s) == 1);
  CHECK(j->get(Table::outbox, "msg-1")->value() == "send");

  // Same request again: the idempotency insert conflicts, nothing is written.
  WriteSet again = append(s, 1, {event("checkout.started", "{}")});
  again.puts.push_back(put(Table::outbox, "msg-2", "send"));
  again.puts.push_back(put(Table::idempotency, "req-1", "resp", PutMode::insert_only));
  auto r = commit1(*j, again);
  CHECK(r.status == WriteStatus::conflict);
  CHECK(r.conflict_index == 2);
  CHECK(version_ok(*j, s) == 1);
  CHECK(!j->get(Table::outbox, "msg-2")->has_value());
  CHECK(last_position_ok(*j) == 1);

  // A version conflict keeps the rows out too.
  WriteSet stale = append(s, 0, {event("x", "{}")});
  stale.puts.push_back(put(Table::outbox, "msg-3", "send"));
  CHECK(commit1(*j, stale).status == WriteStatus::conflict);
  CHECK(!j->get(Table::outbox, "msg-3")->has_value());
}

TEST_CASE("reopening keeps everything") {
  TempDir d;
  const StreamId s1 = sid("t", "cart", "1");
  const StreamId s2 = sid("u", "pay", "2");
  std::vector<StoredEvent> before_all;
  std::vector<StreamInfo> before_streams;
  {
    auto j = open_ok(options(d.path));
    std::vector<WriteSet> batch;
    batch.push_back(append(s1, 0, {event("a", "1", 10), event("b", "2", 20)}));
    batch.push_back(append(s2, 0, {event("c", "3", 30)}));
    batch.back().puts.push_back(put(Table::snapshots, "snap", "state"));
    for (const auto& r : j->commit(batch)) REQUIRE(r.status == WriteStatus::ok);
    REQUIRE(commit1(*j, append(s1, 2, {event("d", "4", 40)})).status == WriteStatus::ok);
    j->sync();
    before_all = *j->read_all(1, 100);
    before_streams = *j->list_all_streams(100);
  }
  CHECK(fs::exists(d.path + "/data.mdb"));
  CHECK(fs::exists(d.path + "/lock.mdb"));
  auto j = open_ok(options(d.path));
  auto after_all = j->read_all(1, 100);
  REQUIRE(after_all);
  REQUIRE(after_all->size() == before_all.size());
  for (std::size_t i = 0; i < before_all.size(); ++i) {
    const StoredEvent& a = before_all[i];
    const StoredEvent& b = (*after_all)[i];
    CHECK(a.stream == b.stream);
    CHECK(a.seq == b.seq);
    CHECK(a.position == b.position);
    CHECK(a.data.type == b.data.type);
    CHECK(a.data.payload == b.data.payload);
    CHECK(a.data.recorded_at_ms == b.data.recorded_at_ms);
  }
  auto after_streams = j->list_all_streams(100);
  REQUIRE(after_streams);
  REQUIRE(after_streams->size() == before_streams.size());
  for (std::size_t i = 0; i < before_streams.size(); ++i) {
    CHECK((*after_streams)[i].stream == before_streams[i].stream);
    CHECK((*after_streams)[i].version == before_streams[i].version);
    CHECK((*after_streams)[i].last_position == before_streams[i].last_position);
    CHECK((*after_streams)[i].updated_at_ms == before_streams[i].updated_at_ms);
  }
  CHECK(version_ok(*j, s1) == 3);
  CHECK(last_position_ok(*j) == 4);
  CHECK(j->get(Table::snapshots, "snap")->value() == "state");
  // And it keeps appending at the right positions.
  auto r = commit1(*j, append(s2, 1, {event("e", "5")}));
  REQUIRE(r.status == WriteStatus::ok);
  CHECK(r.first_position == 5);

  // A read-only open of the same (now closed) journal sees the same.
  j.reset();
  Options ro = options(d.path);
  ro.read_only = true;
  auto rj = open_ok(ro);
  CHECK(last_position_ok(*rj) == 5);
  CHECK(read_ok(*rj, s1).size() == 3);
  std::vector<WriteSet> batch;
  batch.push_back(append(s1, 3, {event("x", "y")}));
  CHECK(rj->commit(batch)[0].status == WriteStatus::io_error);
}

namespace {

const StreamId kShared = sid("t", "cart", "shared");
constexpr std::uint64_t kSharedBatches = 200;
constexpr std::uint64_t kSharedPerBatch = 20;

std::string shared_payload(std::uint64_t seq) {
  std::string p = "payload-" + std::to_string(seq) + "-";
  p.resize(1000, static_cast<char>('a' + seq % 26));
  return p;
}

// Runs in the forked child: must not use doctest; returns the exit code.
int reader_process(const std::string& dir, int ready_fd) {
  char c;
  if (::read(ready_fd, &c, 1) != 1) return 2;
  Options o;
  o.dir = dir;
  o.read_only = true;
  auto opened = open_lmdb_journal(o);
  if (!opened) {
    std::fprintf(stderr, "child: open failed: %s\n", opened.error.message.c_str());
    return 3;
  }
  Journal& j = **opened;
  const std::uint64_t final_version = kSharedBatches * kSharedPerBatch;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::uint64_t last = 0;
  std::uint64_t reads = 0;
  std::uint64_t distinct = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto v = j.stream_version(kShared);
    if (!v) {
      std::fprintf(stderr, "child: %s\n", v.error.message.c_str());
      return 4;
    }
    if (*v < last) return 5;
    auto evs = j.read_stream(kShared);
    if (!evs) {
      std::fprintf(stderr, "child: %s\n", evs.error.message.c_str());
      return 6;
    }
    if (evs->size() < *v || evs->size() % kSharedPerBatch != 0) return 7;
    for (std::size_t i = 0; i < evs->size(); ++i) {
      const StoredEvent& e = (*evs)[i];
      if (e.seq != i + 1 || e.data.type != "shared.event" ||
          e.data.payload != shared_payload(e.seq) || e.position == 0) {
        std::fprintf(stderr, "child: bad event at seq %zu\n", i + 1);
        return 8;
      }
    }
    if (evs->size() != last) ++distinct;
    last = evs->size();
    ++reads;
    if (last == final_version) break;
  }
  std::fprintf(stderr, "child: %llu reads, %llu distinct versions, map %zu bytes\n",
               static_cast<unsigned long long>(reads), static_cast<unsigned long long>(distinct),
               j.map_size_bytes());
  return last == final_version ? 0 : 9;
}

}  // namespace

TEST_CASE("a second process reads while one writes") {
  TempDir d;
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t pid = ::fork();  // before anything is opened in this process
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[1]);
    ::_exit(reader_process(d.path, ready[0]));
  }
  ::close(ready[0]);
  {
    // A small map, so that the reader also has to follow map growth.
    auto j = open_ok(options(d.path, 1, 64));
    REQUIRE(::write(ready[1], "x", 1) == 1);
    ::close(ready[1]);
    std::uint64_t version = 0;
    for (std::uint64_t b = 0; b < kSharedBatches; ++b) {
      std::vector<EventData> evs;
      for (std::uint64_t k = 1; k <= kSharedPerBatch; ++k) {
        evs.push_back(event("shared.event", shared_payload(version + k)));
      }
      auto r = commit1(*j, append(kShared, version, std::move(evs)));
      REQUIRE(r.status == WriteStatus::ok);
      version = r.versions[0];
    }
    CHECK(j->map_size_bytes() > (std::size_t{1} << 20));
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("reads on other threads while commit() grows the map") {
  TempDir d;
  auto j = open_ok(options(d.path, 1, 256));
  const StreamId s = sid("t", "cart", "threads");
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::uint64_t last = 0;
      while (!done.load()) {
        if (t == 0) {
          auto evs = j->read_stream(s);
          if (!evs || evs->size() < last) ++failures;
          if (evs) last = evs->size();
        } else if (t == 1) {
          auto p = j->last_position();
          if (!p || *p < last) ++failures;
          if (p) last = *p;
          auto all = j->read_all(last > 10 ? last - 10 : 1, 10);
          if (!all) ++failures;
        } else {
          auto ls = j->list_streams("t", "cart", 10);
          if (!ls) ++failures;
          auto g = j->get(Table::index, "k");
          if (!g) ++failures;
        }
      }
    });
  }
  std::uint64_t version = 0;
  const std::string payload(8000, 'p');
  for (int b = 0; b < 150; ++b) {
    std::vector<WriteSet> batch;
    batch.push_back(append(s, version, {event("e", payload), event("e", payload)}));
    batch.back().puts.push_back(put(Table::index, "k", std::to_string(b)));
    auto r = j->commit(batch);
    REQUIRE(r[0].status == WriteStatus::ok);
    version = r[0].versions[0];
  }
  done = true;
  for (auto& t : readers) t.join();
  CHECK(failures.load() == 0);
  CHECK(read_ok(*j, s).size() == 300);
  CHECK(j->map_size_bytes() >= (std::size_t{4} << 20));
}

TEST_CASE("read-only open of a missing journal fails clearly") {
  TempDir d;
  Options o = options(d.path + "/nothing-here");
  o.read_only = true;
  auto r = open_lmdb_journal(o);
  REQUIRE(!r);
  CHECK(r.error.message == "no journal in " + d.path + "/nothing-here");
  o.dir = d.path;  // exists, but has no data.mdb
  r = open_lmdb_journal(o);
  REQUIRE(!r);
  CHECK(r.error.message == "no journal in " + d.path);
  CHECK(!fs::exists(d.path + "/nothing-here"));
}

TEST_CASE("a corrupt data.mdb fails to open with a message naming the file") {
  TempDir d;
  {
    std::ofstream f(d.path + "/data.mdb", std::ios::binary);
    std::string garbage;
    std::uint32_t x = 12345;
    for (int i = 0; i < 16384; ++i) {
      x = x * 1103515245u + 12345u;
      garbage.push_back(static_cast<char>(x >> 16));
    }
    f << garbage;
  }
  auto r = open_lmdb_journal(options(d.path));
  REQUIRE(!r);
  INFO(r.error.message);
  CHECK(contains(r.error.message, d.path + "/data.mdb"));
  CHECK(contains(r.error.message, "MDB_INVALID"));
  Options ro = options(d.path);
  ro.read_only = true;
  r = open_lmdb_journal(ro);
  REQUIRE(!r);
  CHECK(contains(r.error.message, d.path + "/data.mdb"));
}

TEST_CASE("an unknown journal format is refused") {
  TempDir d;
  { auto j = open_ok(options(d.path)); }
  raw_put(d.path, "meta", "format", std::string("\0\0\0\2", 4));
  auto r = open_lmdb_journal(options(d.path));
  REQUIRE(!r);
  CHECK(r.error.message == d.path +
                               "/data.mdb: journal format 2 is not supported by this build "
                               "(expected 1)");
}

TEST_CASE("a malformed event record is a read error naming the stream and position") {
  TempDir d;
  const StreamId s = sid("t", "cart", "1");
  {
    auto j = open_ok(options(d.path));
    REQUIRE(commit1(*j, append(s, 0, {event("a", "1")})).status == WriteStatus::ok);
  }
  raw_put(d.path, "stream_events", "", std::string("\1xx", 3), /*first_key=*/true);
  auto j = open_ok(options(d.path));
  auto r = j->read_stream(s);
  REQUIRE(!r);
  CHECK(contains(r.error.message, "t/cart/1"));
  CHECK(contains(r.error.message, "data.mdb"));
  auto all = j->read_all(1, 10);
  REQUIRE(!all);
  CHECK(contains(all.error.message, "position 1"));
  CHECK(contains(all.error.message, "t/cart/1"));
  // The journal stays usable.
  CHECK(version_ok(*j, s) == 1);
}

TEST_CASE("the map grows up to max_map_size_mb") {
  TempDir d;
  const std::size_t streams = 50;
  const std::size_t batches = 20;
  auto payload = [](std::size_t b, std::size_t s) {
    std::string p = std::to_string(b) + ":" + std::to_string(s) + ":";
    p.resize(10000, static_cast<char>('A' + (b + s) % 26));
    return p;
  };
  {
    auto j = open_ok(options(d.path, 1, 64));
    CHECK(j->map_size_bytes() == (std::size_t{1} << 20));
    for (std::size_t b = 0; b < batches; ++b) {
      std::vector<WriteSet> batch;
      for (std::size_t s = 0; s < streams; ++s) {
        batch.push_back(
            append(sid("t", "big", std::to_string(s)), b, {event("big", payload(b, s))}));
      }
      auto r = j->commit(batch);
      for (std::size_t s = 0; s < streams; ++s) {
        INFO(r[s].message);
        REQUIRE(r[s].status == WriteStatus::ok);
        CHECK(r[s].first_position == b * streams + s + 1);
      }
    }
    CHECK(j->map_size_bytes() >= (std::size_t{8} << 20));
    CHECK(j->map_size_bytes() <= (std::size_t{64} << 20));
  }
  auto j = open_ok(options(d.path, 1, 64));
  CHECK(j->map_size_bytes() >= (std::size_t{8} << 20));  // a grown map keeps its size
  for (std::size_t s = 0; s < streams; ++s) {
    auto evs = read_ok(*j, sid("t", "big", std::to_string(s)));
    REQUIRE(evs.size() == batches);
    for (std::size_t b = 0; b < batches; ++b) CHECK(evs[b].data.payload == payload(b, s));
  }
  auto all = j->read_all(1, SIZE_MAX);
  REQUIRE(all);
  CHECK(all->size() == streams * batches);
  CHECK(last_position_ok(*j) == streams * batches);
}

TEST_CASE("a full map gives journal_full and leaves the journal usable") {
  TempDir d;
  const StreamId s = sid("t", "cart", "full");
  const std::string payload(16000, 'f');
  std::uint64_t version = 0;
  {
    auto j = open_ok(options(d.path, 1, 1));
    WriteResult last;
    for (int i = 0; i < 200; ++i) {
      last = commit1(*j, append(s, version, {event("e", payload)}));
      if (last.status != WriteStatus::ok) break;
      version = last.versions[0];
    }
    REQUIRE(last.status == WriteStatus::journal_full);
    CHECK(contains(last.message, "full"));
    CHECK(version > 0);
    CHECK(j->map_size_bytes() == (std::size_t{1} << 20));
    // Every set of a batch gets journal_full.
    std::vector<WriteSet> batch;
    batch.push_back(append(s, version, {event("e", payload)}));
    batch.push_back(append(sid("t", "cart", "other"), 0, {event("e", payload)}));
    for (const auto& r : j->commit(batch)) CHECK(r.status == WriteStatus::journal_full);
    // Reads still work and show every committed event.
    CHECK(version_ok(*j, s) == version);
    auto evs = read_ok(*j, s);
    CHECK(evs.size() == version);
    CHECK(last_position_ok(*j) == version);
    // A small write still fits (or is cleanly refused).
    auto small = commit1(*j, append(sid("t", "cart", "small"), 0, {event("e", "x")}));
    CHECK((small.status == WriteStatus::ok || small.status == WriteStatus::journal_full));
  }
  auto j = open_ok(options(d.path, 1, 1));
  CHECK(version_ok(*j, s) == version);
  auto evs = read_ok(*j, s);
  REQUIRE(evs.size() == version);
  CHECK(evs.back().data.payload == payload);
}

TEST_CASE("invalid stream ids and table keys are refused") {
  TempDir d;
  auto j = open_ok(options(d.path));
  const std::string long_part(129, 'x');
  const std::string max_part(128, 'x');
  const StreamId bad[] = {sid("", "cart", "1"),     sid("t", "", "1"),
                          sid("t", "cart", ""),     sid(long_part, "cart", "1"),
                          sid("t", long_part, "1"), sid("t", "cart", long_part)};
  for (const StreamId& s : bad) {
    auto r = commit1(*j, append(s, 0, {event("e", "p")}));
    CHECK(r.status == WriteStatus::invalid);
    CHECK(!r.message.empty());
    CHECK(!j->read_stream(s));
    CHECK(!j->stream_version(s));
  }
  const StreamId edge = sid(max_part, max_part, max_part);
  auto ok = commit1(*j, append(edge, 0, {event("e", "p")}));
  CHECK(ok.status == WriteStatus::ok);
  CHECK(read_ok(*j, edge).size() == 1);

  // An invalid set in a batch does not stop the others.
  std::vector<WriteSet> batch;
  batch.push_back(append(sid("t", "cart", "1"), 0, {event("e", "p")}));
  batch.push_back(append(sid("t", "cart", ""), 0, {event("e", "p")}));
  WriteSet bad_key;
  bad_key.puts.push_back(put(Table::index, "", "v"));
  batch.push_back(bad_key);
  WriteSet long_key;
  long_key.puts.push_back(put(Table::index, std::string(401, 'k'), "v"));
  batch.push_back(long_key);
  WriteSet max_key;
  max_key.puts.push_back(put(Table::index, std::string(400, 'k'), "v"));
  batch.push_back(max_key);
  auto r = j->commit(batch);
  REQUIRE(r.size() == 5);
  CHECK(r[0].status == WriteStatus::ok);
  CHECK(r[0].first_position == 2);
  CHECK(r[1].status == WriteStatus::invalid);
  CHECK(r[2].status == WriteStatus::invalid);
  CHECK(r[3].status == WriteStatus::invalid);
  CHECK(r[4].status == WriteStatus::ok);
  CHECK(last_position_ok(*j) == 2);
  CHECK(!j->get(Table::index, ""));
  CHECK(to_string(WriteStatus::journal_full) == "journal_full");
}
