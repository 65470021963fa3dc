// The LMDB implementation of the event journal (see journal.hpp).
//
// On-disk layout, format 1
// ========================
// One LMDB environment in Options::dir: DIR/data.mdb and DIR/lock.mdb. All
// integers are big-endian, so that byte order is numeric order for keys.
//
//   stream key   = [u8 len][tenant][u8 len][kind][u8 len][id]
//                  (each part 1..128 bytes; the length prefixes make the key
//                  self-delimiting, so the tenant "a" is no prefix of "ab")
//   event key    = stream key + [u64 seq]
//
// Named databases:
//   meta           "format"        -> [u32 format version] (1)
//                  "last_position" -> [u64 global position of the last event]
//   streams        stream key      -> stream record, 25 bytes:
//                                     [u8 record format = 1][u64 version]
//                                     [u64 last_position][i64 updated_at_ms]
//   stream_events  event key       -> event record:
//                                     [u8 record format = 1][u64 position]
//                                     [i64 recorded_at_ms][u32 schema]
//                                     [u16 type length][type][payload ...]
//   positions      [u64 position]  -> event key (of stream_events)
//   idempotency, snapshots, outbox, outbox_due, dead_letter, inbox, index
//                  caller key (1..400 bytes) -> caller value (opaque)
//
// Invariants: positions are 1, 2, 3, ... without gaps; meta "last_position"
// is the largest key of `positions`; a stream's version is its largest seq.
//
// Concurrency
// ===========
// The environment is opened with MDB_NOTLS: read transactions are not tied to
// a thread (CAF actors migrate). Read transactions are pooled in reset state
// (mdb_txn_reset/renew keeps their reader slot, so a read does not take the
// reader-table mutex nor malloc a transaction). mdb_env_set_mapsize must not
// run while this process has a read transaction open: every read transaction
// holds `map_mutex_` shared, the resize holds it exclusively.
//
// commit() runs one write transaction per batch, one child transaction per
// WriteSet (so a refused set rolls back alone), one mdb_txn_commit (one sync).
#include "store/journal.hpp"

#include <lmdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <system_error>
#include <utility>

namespace orch::store {

std::string to_string(const StreamId& s) {
  std::string out;
  out.reserve(s.tenant.size() + s.kind.size() + s.id.size() + 2);
  out += s.tenant;
  out += '/';
  out += s.kind;
  out += '/';
  out += s.id;
  return out;
}

std::string_view table_name(Table t) {
  switch (t) {
    case Table::idempotency:
      return "idempotency";
    case Table::snapshots:
      return "snapshots";
    case Table::outbox:
      return "outbox";
    case Table::outbox_due:
      return "outbox_due";
    case Table::dead_letter:
      return "dead_letter";
    case Table::inbox:
      return "inbox";
    case Table::index:
      return "index";
  }
  return "unknown";
}

std::string_view to_string(WriteStatus s) {
  switch (s) {
    case WriteStatus::ok:
      return "ok";
    case WriteStatus::conflict:
      return "conflict";
    case WriteStatus::invalid:
      return "invalid";
    case WriteStatus::journal_full:
      return "journal_full";
    case WriteStatus::io_error:
      return "io_error";
  }
  return "unknown";
}

namespace {

constexpr std::uint32_t kFormat = 1;
constexpr std::uint8_t kEventRecordFormat = 1;
constexpr std::uint8_t kStreamRecordFormat = 1;
constexpr std::size_t kEventHeader = 1 + 8 + 8 + 4 + 2;
constexpr std::size_t kStreamRecordSize = 1 + 8 + 8 + 8;
constexpr std::size_t kMaxStreamKey = 3 * (1 + max_stream_part);
constexpr std::size_t kMaxEventKey = kMaxStreamKey + 8;
constexpr std::size_t kMaxTableKey = 400;
constexpr std::size_t kMaxTypeSize = 0xffff;
constexpr std::size_t kMiB = std::size_t{1} << 20;
constexpr unsigned kMaxDbs = 16;
constexpr unsigned kMaxReaders = 256;

constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kLastPositionKey = "last_position";

// Database slots: the four fixed ones, then one per Table.
enum Db : int { kMeta = 0, kStreams, kStreamEvents, kPositions, kFirstTable };
constexpr int kDbCount = kFirstTable + table_count;

std::string_view db_name(int i) {
  switch (i) {
    case kMeta:
      return "meta";
    case kStreams:
      return "streams";
    case kStreamEvents:
      return "stream_events";
    case kPositions:
      return "positions";
    default:
      return table_name(static_cast<Table>(i - kFirstTable));
  }
}

// --- byte helpers --------------------------------------------------------------

inline void put_be64(char* p, std::uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline void put_be32(char* p, std::uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void put_be16(char* p, std::uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
}
inline std::uint64_t get_be64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}
inline std::uint32_t get_be32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}
inline std::uint16_t get_be16(const char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, 2);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  return v;
}

inline MDB_val mval(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}
inline MDB_val mval(const char* p, std::size_t n) {
  return MDB_val{n, const_cast<char*>(p)};
}
inline std::string_view sv(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

// --- keys ------------------------------------------------------------------------

inline bool valid_part(std::string_view p) {
  return !p.empty() && p.size() <= max_stream_part;
}
inline bool valid_stream(const StreamId& s) {
  return valid_part(s.tenant) && valid_part(s.kind) && valid_part(s.id);
}
inline bool valid_table(Table t) {
  return static_cast<int>(t) < table_count;
}
inline bool valid_table_key(std::string_view k) {
  return !k.empty() && k.size() <= kMaxTableKey;
}

inline char* put_part(char* out, std::string_view p) {
  *out++ = static_cast<char>(static_cast<unsigned char>(p.size()));
  std::memcpy(out, p.data(), p.size());
  return out + p.size();
}

// A stack buffer big enough for any event key.
struct KeyBuf {
  std::array<char, kMaxEventKey> b;
  std::size_t n = 0;
  MDB_val val() { return MDB_val{n, b.data()}; }
};

// Requires valid_stream(s).
inline void encode_stream_key(const StreamId& s, KeyBuf& k) {
  char* p = put_part(k.b.data(), s.tenant);
  p = put_part(p, s.kind);
  p = put_part(p, s.id);
  k.n = static_cast<std::size_t>(p - k.b.data());
}

// Parses a complete stream key (nothing may follow it).
bool parse_stream_key(std::string_view k, StreamId& out) {
  std::string* parts[3] = {&out.tenant, &out.kind, &out.id};
  for (std::string* part : parts) {
    if (k.empty()) return false;
    const auto len = static_cast<unsigned char>(k[0]);
    if (len == 0 || len > max_stream_part || k.size() < 1u + len) return false;
    part->assign(k.data() + 1, len);
    k.remove_prefix(1u + len);
  }
  return k.empty();
}

std::string key_for_message(std::string_view k) {
  StreamId s;
  if (parse_stream_key(k, s)) return to_string(s);
  return "<malformed key of " + std::to_string(k.size()) + " bytes>";
}

// --- records -----------------------------------------------------------------------

struct StreamRecord {
  std::uint64_t version = 0;
  std::uint64_t last_position = 0;
  std::int64_t updated_at_ms = 0;
};

inline void encode_stream_record(const StreamRecord& r, char* out) {
  out[0] = static_cast<char>(kStreamRecordFormat);
  put_be64(out + 1, r.version);
  put_be64(out + 9, r.last_position);
  put_be64(out + 17, static_cast<std::uint64_t>(r.updated_at_ms));
}

inline bool decode_stream_record(const MDB_val& v, StreamRecord& r) {
  if (v.mv_size != kStreamRecordSize) return false;
  const char* p = static_cast<const char*>(v.mv_data);
  if (static_cast<std::uint8_t>(p[0]) != kStreamRecordFormat) return false;
  r.version = get_be64(p + 1);
  r.last_position = get_be64(p + 9);
  r.updated_at_ms = static_cast<std::int64_t>(get_be64(p + 17));
  return true;
}

inline std::size_t event_record_size(const EventData& e) {
  return kEventHeader + e.type.size() + e.payload.size();
}

inline void encode_event(const EventData& e, std::uint64_t position, char* out) {
  out[0] = static_cast<char>(kEventRecordFormat);
  put_be64(out + 1, position);
  put_be64(out + 9, static_cast<std::uint64_t>(e.recorded_at_ms));
  put_be32(out + 17, e.schema);
  put_be16(out + 21, static_cast<std::uint16_t>(e.type.size()));
  std::memcpy(out + kEventHeader, e.type.data(), e.type.size());
  if (!e.payload.empty()) {
    std::memcpy(out + kEventHeader + e.type.size(), e.payload.data(), e.payload.size());
  }
}

// Fills position and data; returns a reason when the record is malformed.
inline const char* decode_event(const MDB_val& v, StoredEvent& e) {
  if (v.mv_size < kEventHeader) return "record shorter than its header";
  const char* p = static_cast<const char*>(v.mv_data);
  if (static_cast<std::uint8_t>(p[0]) != kEventRecordFormat) return "unknown record format";
  const std::size_t type_len = get_be16(p + 21);
  if (kEventHeader + type_len > v.mv_size) return "type length beyond the record";
  e.position = get_be64(p + 1);
  e.data.recorded_at_ms = static_cast<std::int64_t>(get_be64(p + 9));
  e.data.schema = get_be32(p + 17);
  e.data.type.assign(p + kEventHeader, type_len);
  e.data.payload.assign(p + kEventHeader + type_len, v.mv_size - kEventHeader - type_len);
  return nullptr;
}

template <class T>
Read<T> ok_read(T v) {
  Read<T> r;
  r.value.emplace(std::move(v));
  return r;
}
template <class T>
Read<T> fail_read(std::string m) {
  Read<T> r;
  r.error.message = std::move(m);
  return r;
}

// Closes a cursor when leaving scope (read-only cursors need an explicit close).
struct CursorGuard {
  MDB_cursor* c = nullptr;
  ~CursorGuard() {
    if (c) mdb_cursor_close(c);
  }
};

// Problem found while validating a WriteSet before any transaction.
std::string validate(const WriteSet& ws) {
  for (std::size_t j = 0; j < ws.appends.size(); ++j) {
    const StreamAppend& a = ws.appends[j];
    if (!valid_stream(a.stream)) {
      return "append " + std::to_string(j) + ": invalid stream id '" + to_string(a.stream) +
             "' (tenant, kind and id must be 1.." + std::to_string(max_stream_part) + " bytes)";
    }
    for (const EventData& e : a.events) {
      if (e.type.size() > kMaxTypeSize) {
        return "append " + std::to_string(j) + ": event type longer than " +
               std::to_string(kMaxTypeSize) + " bytes";
      }
    }
  }
  for (std::size_t k = 0; k < ws.puts.size(); ++k) {
    const TablePut& p = ws.puts[k];
    if (!valid_table(p.table)) return "put " + std::to_string(k) + ": unknown table";
    if (!valid_table_key(p.key)) {
      return "put " + std::to_string(k) + ": key of table " + std::string(table_name(p.table)) +
             " must be 1.." + std::to_string(kMaxTableKey) + " bytes, got " +
             std::to_string(p.key.size());
    }
  }
  return {};
}

class LmdbJournal final : public Journal {
 public:
  LmdbJournal(MDB_env* env, std::string dir, bool read_only, std::size_t max_map_bytes)
      : env_(env),
        dir_(std::move(dir)),
        file_(dir_ + "/data.mdb"),
        read_only_(read_only),
        max_map_bytes_(max_map_bytes) {
    pool_.reserve(64);
  }

  ~LmdbJournal() override {
    for (MDB_txn* t : pool_) mdb_txn_abort(t);
    pool_.clear();
    mdb_env_close(env_);
  }

  LmdbJournal(const LmdbJournal&) = delete;
  LmdbJournal& operator=(const LmdbJournal&) = delete;

  // Opens (creating when writable) every database and checks the format.
  std::string init() {
    MDB_txn* txn = nullptr;
    int rc = read_only_ ? begin_read_plain(&txn) : begin_write(&txn);
    if (rc != 0) return error("cannot begin the open transaction", rc);
    const unsigned flags = read_only_ ? 0u : static_cast<unsigned>(MDB_CREATE);
    for (int i = 0; i < kDbCount; ++i) {
      const std::string name(db_name(i));
      rc = mdb_dbi_open(txn, name.c_str(), flags, &dbi_[i]);
      if (rc == MDB_NOTFOUND && read_only_) {
        mdb_txn_abort(txn);
        if (i == kMeta) return "no journal in " + dir_;
        return file_ + ": journal is incomplete: database '" + name + "' is missing";
      }
      if (rc != 0) {
        mdb_txn_abort(txn);
        return error("cannot open database '" + name + "'", rc);
      }
    }
    MDB_val k = mval(kFormatKey);
    MDB_val v;
    rc = mdb_get(txn, dbi_[kMeta], &k, &v);
    if (rc == MDB_NOTFOUND) {
      if (read_only_) {
        mdb_txn_abort(txn);
        return "no journal in " + dir_;
      }
      char buf[4];
      put_be32(buf, kFormat);
      MDB_val nv = mval(buf, 4);
      rc = mdb_put(txn, dbi_[kMeta], &k, &nv, 0);
      if (rc != 0) {
        mdb_txn_abort(txn);
        return error("cannot write the journal format", rc);
      }
    } else if (rc != 0) {
      mdb_txn_abort(txn);
      return error("cannot read the journal format", rc);
    } else {
      if (v.mv_size != 4) {
        mdb_txn_abort(txn);
        return file_ + ": malformed journal format record (" + std::to_string(v.mv_size) +
               " bytes)";
      }
      const std::uint32_t format = get_be32(static_cast<const char*>(v.mv_data));
      if (format != kFormat) {
        mdb_txn_abort(txn);
        return file_ + ": journal format " + std::to_string(format) +
               " is not supported by this build (expected " + std::to_string(kFormat) + ")";
      }
    }
    // Committing (also the read-only transaction) keeps the DBI handles open.
    rc = mdb_txn_commit(txn);
    if (rc != 0) return error("cannot commit the open transaction", rc);
    return {};
  }

  // --- writes ----------------------------------------------------------------------

  std::vector<WriteResult> commit(std::vector<WriteSet>& batch) override {
    std::vector<WriteResult> results(batch.size());
    if (read_only_) {
      for (WriteResult& r : results) {
        r.status = WriteStatus::io_error;
        r.message = "the journal in " + dir_ + " is open read-only";
      }
      return results;
    }
    bool any = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::string problem = validate(batch[i]);
      if (!problem.empty()) {
        results[i].status = WriteStatus::invalid;
        results[i].message = std::move(problem);
      } else {
        any = true;
      }
    }
    if (!any) return results;

    for (;;) {
      std::string message;
      const Attempt a = attempt(batch, results, message);
      if (a == Attempt::committed) return results;
      if (a == Attempt::map_full) {
        std::string why;
        const Grow g = grow(why);
        if (g == Grow::grown) continue;  // retry the whole batch in a bigger map
        set_all(results, g == Grow::at_max ? WriteStatus::journal_full : WriteStatus::io_error,
                why);
        return results;
      }
      set_all(results, WriteStatus::io_error, message);
      return results;
    }
  }

  // --- reads -----------------------------------------------------------------------

  Read<std::vector<StoredEvent>> read_stream(const StreamId& stream, std::uint64_t from_seq,
                                             std::size_t max) override {
    using R = std::vector<StoredEvent>;
    if (!valid_stream(stream)) {
      return fail_read<R>("read_stream: invalid stream id '" + to_string(stream) + "'");
    }
    R out;
    if (max == 0) return ok_read(std::move(out));
    KeyBuf key;
    encode_stream_key(stream, key);
    const std::size_t prefix = key.n;
    put_be64(key.b.data() + prefix, from_seq == 0 ? 1 : from_seq);
    key.n = prefix + 8;

    ReadTxn rt(*this);
    if (rt.rc != 0) return fail_read<R>(error("read_stream " + to_string(stream), rt.rc));
    CursorGuard cur;
    int rc = mdb_cursor_open(rt.txn, dbi_[kStreamEvents], &cur.c);
    if (rc != 0) return fail_read<R>(error("read_stream " + to_string(stream), rc));
    MDB_val k = key.val();
    MDB_val v;
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && out.size() < max) {
      if (k.mv_size != prefix + 8 || std::memcmp(k.mv_data, key.b.data(), prefix) != 0) break;
      StoredEvent& e = out.emplace_back();
      e.seq = get_be64(static_cast<const char*>(k.mv_data) + prefix);
      if (const char* why = decode_event(v, e)) {
        return fail_read<R>(file_ + ": corrupt event record of stream " + to_string(stream) +
                            " seq " + std::to_string(e.seq) + ": " + why);
      }
      e.stream = stream;
      rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
      return fail_read<R>(error("read_stream " + to_string(stream), rc));
    }
    return ok_read(std::move(out));
  }

  Read<std::uint64_t> stream_version(const StreamId& stream) override {
    if (!valid_stream(stream)) {
      return fail_read<std::uint64_t>("stream_version: invalid stream id '" + to_string(stream) +
                                      "'");
    }
    KeyBuf key;
    encode_stream_key(stream, key);
    ReadTxn rt(*this);
    if (rt.rc != 0) {
      return fail_read<std::uint64_t>(error("stream_version " + to_string(stream), rt.rc));
    }
    MDB_val k = key.val();
    MDB_val v;
    const int rc = mdb_get(rt.txn, dbi_[kStreams], &k, &v);
    if (rc == MDB_NOTFOUND) return ok_read<std::uint64_t>(0);
    if (rc != 0) {
      return fail_read<std::uint64_t>(error("stream_version " + to_string(stream), rc));
    }
    StreamRecord rec;
    if (!decode_stream_record(v, rec)) {
      return fail_read<std::uint64_t>(file_ + ": corrupt stream record of " + to_string(stream));
    }
    return ok_read(rec.version);
  }

  Read<std::vector<StoredEvent>> read_all(std::uint64_t from_position, std::size_t max) override {
    using R = std::vector<StoredEvent>;
    R out;
    if (max == 0) return ok_read(std::move(out));
    char pk[8];
    put_be64(pk, from_position);
    ReadTxn rt(*this);
    if (rt.rc != 0) return fail_read<R>(error("read_all", rt.rc));
    CursorGuard cur;
    int rc = mdb_cursor_open(rt.txn, dbi_[kPositions], &cur.c);
    if (rc != 0) return fail_read<R>(error("read_all", rc));
    MDB_val k = mval(pk, 8);
    MDB_val v;
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
    std::string_view last_stream_key;  // points into the map; valid during the txn
    while (rc == 0 && out.size() < max) {
      if (k.mv_size != 8) return fail_read<R>(file_ + ": malformed key in positions");
      const std::uint64_t position = get_be64(static_cast<const char*>(k.mv_data));
      const std::string_view ek = sv(v);
      StoredEvent& e = out.emplace_back();
      if (ek.size() <= 8) {
        return fail_read<R>(file_ + ": corrupt positions entry for position " +
                            std::to_string(position));
      }
      const std::string_view stream_key = ek.substr(0, ek.size() - 8);
      if (out.size() > 1 && stream_key == last_stream_key) {
        e.stream = out[out.size() - 2].stream;
      } else if (!parse_stream_key(stream_key, e.stream)) {
        return fail_read<R>(file_ + ": corrupt positions entry for position " +
                            std::to_string(position) + ": malformed stream key");
      }
      last_stream_key = stream_key;
      e.seq = get_be64(ek.data() + ek.size() - 8);
      MDB_val evk = mval(ek);
      MDB_val evv;
      const int grc = mdb_get(rt.txn, dbi_[kStreamEvents], &evk, &evv);
      if (grc == MDB_NOTFOUND) {
        return fail_read<R>(file_ + ": position " + std::to_string(position) +
                            " points to a missing event (" + to_string(e.stream) + " seq " +
                            std::to_string(e.seq) + ")");
      }
      if (grc != 0) return fail_read<R>(error("read_all", grc));
      if (const char* why = decode_event(evv, e)) {
        return fail_read<R>(file_ + ": corrupt event record at position " +
                            std::to_string(position) + " (" + to_string(e.stream) + " seq " +
                            std::to_string(e.seq) + "): " + why);
      }
      if (e.position != position) {
        return fail_read<R>(file_ + ": event " + to_string(e.stream) + " seq " +
                            std::to_string(e.seq) + " records position " +
                            std::to_string(e.position) + " but is indexed at position " +
                            std::to_string(position));
      }
      rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return fail_read<R>(error("read_all", rc));
    return ok_read(std::move(out));
  }

  Read<std::vector<StreamInfo>> list_streams(std::string_view tenant, std::string_view kind,
                                             std::size_t max) override {
    using R = std::vector<StreamInfo>;
    if (!valid_part(tenant) || (!kind.empty() && !valid_part(kind))) {
      return fail_read<R>("list_streams: invalid tenant or kind");
    }
    KeyBuf prefix;
    char* p = put_part(prefix.b.data(), tenant);
    if (!kind.empty()) p = put_part(p, kind);
    prefix.n = static_cast<std::size_t>(p - prefix.b.data());
    return scan_streams(std::string_view(prefix.b.data(), prefix.n), max, "list_streams");
  }

  Read<std::vector<StreamInfo>> list_all_streams(std::size_t max) override {
    return scan_streams({}, max, "list_all_streams");
  }

  Read<std::uint64_t> last_position() override {
    ReadTxn rt(*this);
    if (rt.rc != 0) return fail_read<std::uint64_t>(error("last_position", rt.rc));
    std::uint64_t pos = 0;
    const int rc = read_last_position(rt.txn, pos);
    if (rc != 0) {
      if (rc == MDB_CORRUPTED) {
        return fail_read<std::uint64_t>(file_ + ": malformed last_position record");
      }
      return fail_read<std::uint64_t>(error("last_position", rc));
    }
    return ok_read(pos);
  }

  Read<std::optional<std::string>> get(Table table, std::string_view key) override {
    using R = std::optional<std::string>;
    if (!valid_table(table)) return fail_read<R>("get: unknown table");
    if (!valid_table_key(key)) {
      return fail_read<R>("get " + std::string(table_name(table)) + ": key must be 1.." +
                          std::to_string(kMaxTableKey) + " bytes");
    }
    ReadTxn rt(*this);
    if (rt.rc != 0) return fail_read<R>(error("get " + std::string(table_name(table)), rt.rc));
    MDB_val k = mval(key);
    MDB_val v;
    const int rc = mdb_get(rt.txn, dbi_[kFirstTable + static_cast<int>(table)], &k, &v);
    if (rc == MDB_NOTFOUND) return ok_read<R>(std::nullopt);
    if (rc != 0) return fail_read<R>(error("get " + std::string(table_name(table)), rc));
    return ok_read<R>(std::string(sv(v)));
  }

  Read<std::vector<std::pair<std::string, std::string>>> scan(Table table, std::string_view prefix,
                                                              std::string_view from,
                                                              std::size_t max) override {
    using R = std::vector<std::pair<std::string, std::string>>;
    if (!valid_table(table)) return fail_read<R>("scan: unknown table");
    R out;
    if (max == 0) return ok_read(std::move(out));
    // Start at the larger of prefix and from; keys cannot exceed kMaxTableKey,
    // so a longer start is cut there (and keys below the full start skipped).
    const std::string_view start = from > prefix ? from : prefix;
    const std::string_view seek = start.substr(0, std::min(start.size(), kMaxTableKey + 1));
    ReadTxn rt(*this);
    if (rt.rc != 0) return fail_read<R>(error("scan " + std::string(table_name(table)), rt.rc));
    CursorGuard cur;
    int rc = mdb_cursor_open(rt.txn, dbi_[kFirstTable + static_cast<int>(table)], &cur.c);
    if (rc != 0) return fail_read<R>(error("scan " + std::string(table_name(table)), rc));
    MDB_val k = mval(seek);
    MDB_val v;
    rc = mdb_cursor_get(cur.c, &k, &v, seek.empty() ? MDB_FIRST : MDB_SET_RANGE);
    while (rc == 0 && out.size() < max) {
      const std::string_view ks = sv(k);
      if (ks.substr(0, prefix.size()) != prefix) break;
      if (ks >= start) out.emplace_back(std::string(ks), std::string(sv(v)));
      rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) {
      return fail_read<R>(error("scan " + std::string(table_name(table)), rc));
    }
    return ok_read(std::move(out));
  }

  Read<std::size_t> count(Table table) override {
    if (!valid_table(table)) return fail_read<std::size_t>("count: unknown table");
    ReadTxn rt(*this);
    if (rt.rc != 0) return fail_read<std::size_t>(error("count " + std::string(table_name(table)), rt.rc));
    MDB_stat stat;
    const int rc = mdb_stat(rt.txn, dbi_[kFirstTable + static_cast<int>(table)], &stat);
    if (rc != 0) return fail_read<std::size_t>(error("count " + std::string(table_name(table)), rc));
    return ok_read<std::size_t>(stat.ms_entries);
  }

  void sync() override {
    if (!read_only_) mdb_env_sync(env_, 1);
  }

  std::size_t map_size_bytes() override {
    std::shared_lock lock(map_mutex_);
    MDB_envinfo info;
    mdb_env_info(env_, &info);
    return info.me_mapsize;
  }

 private:
  enum class Attempt { committed, map_full, failed };
  enum class SetOutcome { ok, refused, map_full };
  enum class Grow { grown, at_max, failed };

  // A pooled read transaction, holding map_mutex_ shared while alive.
  struct ReadTxn {
    LmdbJournal& j;
    std::shared_lock<std::shared_mutex> lock;
    MDB_txn* txn = nullptr;
    int rc = 0;
    explicit ReadTxn(LmdbJournal& journal) : j(journal) { rc = j.begin_read(lock, &txn); }
    ~ReadTxn() {
      if (txn) j.release_read(txn);
    }
    ReadTxn(const ReadTxn&) = delete;
    ReadTxn& operator=(const ReadTxn&) = delete;
  };

  std::string error(const std::string& what, int rc) const {
    return file_ + ": " + what + ": " + mdb_strerror(rc);
  }

  static void set_all(std::vector<WriteResult>& results, WriteStatus s, const std::string& msg) {
    for (WriteResult& r : results) {
      if (r.status == WriteStatus::invalid) continue;  // refused before any transaction
      r = WriteResult{};
      r.status = s;
      r.message = msg;
    }
  }

  // Called on MDB_MAP_RESIZED: another process grew the map; adopt its size.
  int adopt_map_size() {
    std::unique_lock lock(map_mutex_);
    return mdb_env_set_mapsize(env_, 0);
  }

  // Begins (or renews) a read transaction; on success `lock` holds map_mutex_.
  int begin_read(std::shared_lock<std::shared_mutex>& lock, MDB_txn** out) {
    for (int attempt = 0;; ++attempt) {
      lock = std::shared_lock(map_mutex_);
      MDB_txn* txn = nullptr;
      {
        std::lock_guard pool_lock(pool_mutex_);
        if (!pool_.empty()) {
          txn = pool_.back();
          pool_.pop_back();
        }
      }
      int rc;
      if (txn) {
        rc = mdb_txn_renew(txn);
        if (rc != 0) {
          mdb_txn_abort(txn);  // a reset txn may be aborted (frees its reader slot)
          txn = nullptr;
          if (rc != MDB_MAP_RESIZED) rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
        }
      } else {
        rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
      }
      if (rc == 0) {
        *out = txn;
        return 0;
      }
      lock.unlock();
      if (rc != MDB_MAP_RESIZED || attempt >= 16) return rc;
      if (const int arc = adopt_map_size(); arc != 0) return arc;
    }
  }

  void release_read(MDB_txn* txn) {
    mdb_txn_reset(txn);
    std::lock_guard pool_lock(pool_mutex_);
    pool_.push_back(txn);
  }

  // A read transaction outside the pool (only used by init()).
  int begin_read_plain(MDB_txn** txn) {
    for (int attempt = 0;; ++attempt) {
      const int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, txn);
      if (rc != MDB_MAP_RESIZED || attempt >= 16) return rc;
      if (const int arc = adopt_map_size(); arc != 0) return arc;
    }
  }

  int begin_write(MDB_txn** txn) {
    for (int attempt = 0;; ++attempt) {
      const int rc = mdb_txn_begin(env_, nullptr, 0, txn);
      if (rc != MDB_MAP_RESIZED || attempt >= 16) return rc;
      if (const int arc = adopt_map_size(); arc != 0) return arc;
    }
  }

  // MDB_CORRUPTED when the record is malformed.
  int read_last_position(MDB_txn* txn, std::uint64_t& pos) {
    MDB_val k = mval(kLastPositionKey);
    MDB_val v;
    const int rc = mdb_get(txn, dbi_[kMeta], &k, &v);
    if (rc == MDB_NOTFOUND) {
      pos = 0;
      return 0;
    }
    if (rc != 0) return rc;
    if (v.mv_size != 8) return MDB_CORRUPTED;
    pos = get_be64(static_cast<const char*>(v.mv_data));
    return 0;
  }

  Grow grow(std::string& why) {
    const std::size_t cur = map_size_bytes();
    if (cur >= max_map_bytes_) {
      why = "journal full: the map of " + file_ + " is " + std::to_string(cur / kMiB) +
            " MiB, the maximum (max_map_size_mb = " + std::to_string(max_map_bytes_ / kMiB) + ")";
      return Grow::at_max;
    }
    const std::size_t next = cur > max_map_bytes_ / 2 ? max_map_bytes_ : cur * 2;
    int rc;
    {
      std::unique_lock lock(map_mutex_);
      rc = mdb_env_set_mapsize(env_, next);
    }
    if (rc != 0) {
      why = error("cannot grow the map to " + std::to_string(next / kMiB) + " MiB", rc);
      return Grow::failed;
    }
    return Grow::grown;
  }

  // One try at the whole batch in one write transaction.
  Attempt attempt(const std::vector<WriteSet>& batch, std::vector<WriteResult>& results,
                  std::string& message) {
    for (WriteResult& r : results) {
      if (r.status != WriteStatus::invalid) r = WriteResult{};
    }
    MDB_txn* txn = nullptr;
    int rc = begin_write(&txn);
    if (rc == MDB_MAP_FULL) return Attempt::map_full;
    if (rc != 0) {
      message = error("cannot begin the write transaction", rc);
      return Attempt::failed;
    }
    std::uint64_t first_free = 0;
    rc = read_last_position(txn, first_free);
    if (rc != 0) {
      mdb_txn_abort(txn);
      message = rc == MDB_CORRUPTED ? file_ + ": malformed last_position record"
                                    : error("cannot read last_position", rc);
      return Attempt::failed;
    }
    const std::uint64_t start_position = first_free;
    std::uint64_t position = first_free;  // last position assigned so far

    for (std::size_t i = 0; i < batch.size(); ++i) {
      WriteResult& r = results[i];
      if (r.status == WriteStatus::invalid) continue;
      MDB_txn* child = nullptr;
      rc = mdb_txn_begin(env_, txn, 0, &child);
      if (rc != 0) {
        if (rc == MDB_MAP_FULL) {
          mdb_txn_abort(txn);
          return Attempt::map_full;
        }
        r.status = WriteStatus::io_error;
        r.message = error("cannot begin a nested transaction", rc);
        continue;
      }
      std::uint64_t set_position = position;
      const SetOutcome out = apply(child, batch[i], r, set_position);
      if (out == SetOutcome::map_full) {
        mdb_txn_abort(child);
        mdb_txn_abort(txn);
        return Attempt::map_full;
      }
      if (out == SetOutcome::refused) {
        mdb_txn_abort(child);
        r.versions.clear();
        r.first_position = 0;
        continue;
      }
      rc = mdb_txn_commit(child);
      if (rc == MDB_MAP_FULL) {
        mdb_txn_abort(txn);
        return Attempt::map_full;
      }
      if (rc != 0) {
        r = WriteResult{};
        r.status = WriteStatus::io_error;
        r.message = error("cannot commit a nested transaction", rc);
        continue;
      }
      position = set_position;
    }

    if (position != start_position) {
      char buf[8];
      put_be64(buf, position);
      MDB_val k = mval(kLastPositionKey);
      MDB_val v = mval(buf, 8);
      rc = mdb_put(txn, dbi_[kMeta], &k, &v, 0);
      if (rc != 0) {
        mdb_txn_abort(txn);
        if (rc == MDB_MAP_FULL) return Attempt::map_full;
        message = error("cannot write last_position", rc);
        return Attempt::failed;
      }
    }
    rc = mdb_txn_commit(txn);  // frees txn also on failure
    if (rc == MDB_MAP_FULL) return Attempt::map_full;
    if (rc != 0) {
      message = error("commit failed", rc);
      return Attempt::failed;
    }
    return Attempt::committed;
  }

  // Applies one WriteSet inside its child transaction. `position` is the last
  // global position assigned before the set and is advanced per event.
  SetOutcome apply(MDB_txn* t, const WriteSet& ws, WriteResult& r, std::uint64_t& position) {
    r.versions.reserve(ws.appends.size());
    auto fail = [&](int rc, const std::string& what) {
      if (rc == MDB_MAP_FULL) return SetOutcome::map_full;
      r.status = WriteStatus::io_error;
      r.message = error(what, rc);
      return SetOutcome::refused;
    };
    KeyBuf key;
    for (std::size_t j = 0; j < ws.appends.size(); ++j) {
      const StreamAppend& a = ws.appends[j];
      encode_stream_key(a.stream, key);
      const std::size_t prefix = key.n;
      MDB_val sk = key.val();
      MDB_val sv_;
      StreamRecord rec;
      int rc = mdb_get(t, dbi_[kStreams], &sk, &sv_);
      if (rc == 0) {
        if (!decode_stream_record(sv_, rec)) {
          r.status = WriteStatus::io_error;
          r.message = file_ + ": corrupt stream record of " + to_string(a.stream);
          return SetOutcome::refused;
        }
      } else if (rc != MDB_NOTFOUND) {
        return fail(rc, "cannot read stream " + to_string(a.stream));
      }
      if (rec.version != a.expected_version) {
        r.status = WriteStatus::conflict;
        r.conflict_index = j;
        r.actual_version = rec.version;
        r.message = "stream " + to_string(a.stream) + " is at version " +
                    std::to_string(rec.version) + ", expected " +
                    std::to_string(a.expected_version);
        return SetOutcome::refused;
      }
      if (a.events.empty()) {
        r.versions.push_back(rec.version);
        continue;
      }
      for (const EventData& e : a.events) {
        ++rec.version;
        ++position;
        if (r.first_position == 0) r.first_position = position;
        put_be64(key.b.data() + prefix, rec.version);
        MDB_val ek{prefix + 8, key.b.data()};
        MDB_val ev{event_record_size(e), nullptr};
        rc = mdb_put(t, dbi_[kStreamEvents], &ek, &ev, MDB_NOOVERWRITE | MDB_RESERVE);
        if (rc != 0) {
          return fail(rc, "cannot write event " + to_string(a.stream) + " seq " +
                              std::to_string(rec.version));
        }
        encode_event(e, position, static_cast<char*>(ev.mv_data));
        char pk[8];
        put_be64(pk, position);
        MDB_val pkv = mval(pk, 8);
        MDB_val pv{prefix + 8, key.b.data()};
        rc = mdb_put(t, dbi_[kPositions], &pkv, &pv, MDB_APPEND);
        if (rc != 0) {
          return fail(rc, "cannot index position " + std::to_string(position));
        }
        rec.updated_at_ms = e.recorded_at_ms;
      }
      rec.last_position = position;
      char rb[kStreamRecordSize];
      encode_stream_record(rec, rb);
      MDB_val sk2{prefix, key.b.data()};
      MDB_val rv = mval(rb, kStreamRecordSize);
      rc = mdb_put(t, dbi_[kStreams], &sk2, &rv, 0);
      if (rc != 0) return fail(rc, "cannot write stream " + to_string(a.stream));
      r.versions.push_back(rec.version);
    }
    for (std::size_t k = 0; k < ws.puts.size(); ++k) {
      const TablePut& p = ws.puts[k];
      const MDB_dbi dbi = dbi_[kFirstTable + static_cast<int>(p.table)];
      MDB_val kv = mval(p.key);
      int rc = 0;
      switch (p.mode) {
        case PutMode::upsert: {
          MDB_val vv = mval(p.value);
          rc = mdb_put(t, dbi, &kv, &vv, 0);
          break;
        }
        case PutMode::insert_only: {
          MDB_val vv = mval(p.value);
          rc = mdb_put(t, dbi, &kv, &vv, MDB_NOOVERWRITE);
          if (rc == MDB_KEYEXIST) {
            r.status = WriteStatus::conflict;
            r.conflict_index = ws.appends.size() + k;
            r.actual_version = 0;
            r.message = "key already exists in table " + std::string(table_name(p.table));
            return SetOutcome::refused;
          }
          break;
        }
        case PutMode::erase:
          rc = mdb_del(t, dbi, &kv, nullptr);
          if (rc == MDB_NOTFOUND) rc = 0;
          break;
      }
      if (rc != 0) {
        return fail(rc, "cannot write table " + std::string(table_name(p.table)));
      }
    }
    r.status = WriteStatus::ok;
    return SetOutcome::ok;
  }

  Read<std::vector<StreamInfo>> scan_streams(std::string_view prefix, std::size_t max,
                                             const char* what) {
    using R = std::vector<StreamInfo>;
    R out;
    if (max == 0) return ok_read(std::move(out));
    ReadTxn rt(*this);
    if (rt.rc != 0) return fail_read<R>(error(what, rt.rc));
    CursorGuard cur;
    int rc = mdb_cursor_open(rt.txn, dbi_[kStreams], &cur.c);
    if (rc != 0) return fail_read<R>(error(what, rc));
    MDB_val k = mval(prefix);
    MDB_val v;
    rc = mdb_cursor_get(cur.c, &k, &v, prefix.empty() ? MDB_FIRST : MDB_SET_RANGE);
    while (rc == 0 && out.size() < max) {
      const std::string_view ks = sv(k);
      if (ks.substr(0, prefix.size()) != prefix) break;
      StreamInfo& info = out.emplace_back();
      if (!parse_stream_key(ks, info.stream)) {
        return fail_read<R>(file_ + ": malformed key in streams: " + key_for_message(ks));
      }
      StreamRecord rec;
      if (!decode_stream_record(v, rec)) {
        return fail_read<R>(file_ + ": corrupt stream record of " + to_string(info.stream));
      }
      info.version = rec.version;
      info.last_position = rec.last_position;
      info.updated_at_ms = rec.updated_at_ms;
      rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND) return fail_read<R>(error(what, rc));
    return ok_read(std::move(out));
  }

  MDB_env* env_;
  const std::string dir_;
  const std::string file_;
  const bool read_only_;
  const std::size_t max_map_bytes_;
  MDB_dbi dbi_[kDbCount] = {};

  // Shared by every read transaction, exclusive for mdb_env_set_mapsize.
  std::shared_mutex map_mutex_;
  // Reset read transactions ready for mdb_txn_renew.
  std::mutex pool_mutex_;
  std::vector<MDB_txn*> pool_;
};

}  // namespace

Read<std::unique_ptr<Journal>> open_lmdb_journal(const Options& options) {
  using R = std::unique_ptr<Journal>;
  if (options.dir.empty()) return fail_read<R>("journal directory not set");
  const std::string& dir = options.dir;
  const std::string file = dir + "/data.mdb";
  if (options.read_only) {
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) return fail_read<R>("no journal in " + dir);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return fail_read<R>("cannot create journal directory " + dir + ": " + ec.message());
  }
  const std::size_t map_bytes = std::max<std::size_t>(options.map_size_mb, 1) * kMiB;
  const std::size_t max_map_bytes =
      std::max<std::size_t>(options.max_map_size_mb * kMiB, map_bytes);

  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return fail_read<R>(file + ": cannot create environment: " + mdb_strerror(rc));
  auto fail_env = [&](const std::string& what, int code) {
    mdb_env_close(env);
    return fail_read<R>(file + ": " + what + ": " + mdb_strerror(code));
  };
  if ((rc = mdb_env_set_maxdbs(env, kMaxDbs)) != 0) return fail_env("set_maxdbs", rc);
  if ((rc = mdb_env_set_maxreaders(env, kMaxReaders)) != 0) return fail_env("set_maxreaders", rc);
  // No mapsize before open: LMDB then adopts the size stored in the file (a
  // journal that grew keeps its size); a writer raises it below if smaller.
  unsigned flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  rc = mdb_env_open(env, dir.c_str(), flags, 0644);
  if (rc != 0) return fail_env("cannot open journal", rc);
  if (!options.read_only) {
    MDB_envinfo info;
    mdb_env_info(env, &info);
    if (info.me_mapsize < map_bytes) {
      rc = mdb_env_set_mapsize(env, map_bytes);
      if (rc != 0) return fail_env("cannot set the map size", rc);
    }
  }
  auto journal = std::make_unique<LmdbJournal>(env, dir, options.read_only, max_map_bytes);
  std::string problem = journal->init();
  if (!problem.empty()) return fail_read<R>(std::move(problem));  // ~LmdbJournal closes env
  return ok_read<R>(std::move(journal));
}

}  // namespace orch::store
