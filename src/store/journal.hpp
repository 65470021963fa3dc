// The event journal: append-only streams plus side tables, one durable store.
//
// A stream is identified by (tenant, kind, id). Each event in a stream has a
// per-stream sequence number (1, 2, 3, ...) and a global commit position that
// orders every event of the journal. The version of a stream is the sequence
// number of its last event (0 for a stream that does not exist).
//
// Writes are grouped into WriteSets. A WriteSet is all-or-nothing: its stream
// appends and table writes land in one transaction or not at all. commit()
// takes many WriteSets (group commit): all of them share one transaction and
// one sync to disk, but each one is checked and refused on its own, so one
// conflicting WriteSet never affects the others in the batch.
//
// Durability: when commit() returns `ok` for a WriteSet, that WriteSet is on
// disk (the transaction has been synced) and survives a process crash.
//
// Thread safety: every read method may be called from any thread at any time,
// also while another thread commits. commit() must only be called by one
// thread at a time (the journal writer actor owns it).
//
// The journal knows bytes, keys and transactions, not business rules: event
// payloads and table values are opaque strings to it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch::store {

// Longest tenant, kind or id accepted in a StreamId (bytes).
inline constexpr std::size_t max_stream_part = 128;

struct StreamId {
  std::string tenant;
  std::string kind;  // "cart", "checkout", "payment", ...
  std::string id;

  friend bool operator==(const StreamId&, const StreamId&) = default;
  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};

// "tenant/kind/id", for messages and the replay tool.
std::string to_string(const StreamId& s);

// One event as written by a caller. The journal adds sequence and position.
struct EventData {
  std::string type;           // versioned type name, e.g. "cart.item_added"
  std::uint32_t schema = 1;   // schema version of `payload` for this type
  std::int64_t recorded_at_ms = 0;  // wall clock, milliseconds since epoch
  std::string payload;        // JSON document, opaque to the journal
};

// One event as read back.
struct StoredEvent {
  StreamId stream;
  std::uint64_t seq = 0;       // 1-based position within the stream
  std::uint64_t position = 0;  // 1-based global commit position
  EventData data;
};

struct StreamInfo {
  StreamId stream;
  std::uint64_t version = 0;             // seq of the last event
  std::uint64_t last_position = 0;       // global position of the last event
  std::int64_t updated_at_ms = 0;        // recorded_at_ms of the last event
};

// Side tables living in the same environment as the events, so that rows
// commit in the same transaction as the events that cause them.
enum class Table : std::uint8_t {
  idempotency,   // idempotency records
  snapshots,     // folded entity state per stream (an optimisation only)
  outbox,        // outbox rows by message id
  outbox_due,    // index of outbox rows by due time
  dead_letter,   // dead-lettered outbox rows by message id
  inbox,         // seen incoming message ids
  index,         // secondary indexes owned by the domain (e.g. open sagas)
};
inline constexpr int table_count = 7;
std::string_view table_name(Table t);

struct StreamAppend {
  StreamId stream;
  // The version the caller saw. The append is refused (conflict) when the
  // stream's current version differs. Use 0 to create a new stream.
  std::uint64_t expected_version = 0;
  std::vector<EventData> events;  // may be empty (then only checks the version)
};

enum class PutMode : std::uint8_t {
  upsert,       // write, replacing any existing value
  insert_only,  // refuse the whole WriteSet (conflict) if the key exists
  erase,        // delete the key (no error when absent)
};

struct TablePut {
  Table table = Table::index;
  std::string key;    // at most 400 bytes
  std::string value;  // ignored for erase
  PutMode mode = PutMode::upsert;
};

struct WriteSet {
  std::vector<StreamAppend> appends;
  std::vector<TablePut> puts;
};

enum class WriteStatus : std::uint8_t {
  ok,
  conflict,      // an expected_version or insert_only check failed; nothing written
  invalid,       // a key or stream id is malformed (too long, empty part)
  journal_full,  // the map is full and may not grow further; nothing written
  io_error,      // the commit failed (disk error); nothing written
};
std::string_view to_string(WriteStatus s);

struct WriteResult {
  WriteStatus status = WriteStatus::ok;
  std::string message;  // human readable detail when status != ok
  // For ok: the new version of each stream in `appends` (same order) and the
  // global position of the first event written (0 when no event was written).
  std::vector<std::uint64_t> versions;
  std::uint64_t first_position = 0;
  // For conflict on an append: which append and the version actually found.
  std::size_t conflict_index = 0;
  std::uint64_t actual_version = 0;
};

// Error of a read or of opening the journal.
struct StoreError {
  std::string message;
};

template <class T>
struct Read {
  std::optional<T> value;  // engaged on success
  StoreError error;        // filled when !value

  explicit operator bool() const { return value.has_value(); }
  T& operator*() { return *value; }
  const T& operator*() const { return *value; }
  T* operator->() { return &*value; }
  const T* operator->() const { return &*value; }
};

struct Options {
  std::string dir;  // the directory must exist or be creatable
  // Initial map size. The map doubles when full, up to max_map_size_mb; then
  // writes fail with journal_full.
  std::size_t map_size_mb = 1024;
  std::size_t max_map_size_mb = 65536;
  bool read_only = false;  // for the replay tool; works while a server writes
};

class Journal {
 public:
  virtual ~Journal() = default;

  // See the header comment: one transaction, one sync, one result per set.
  virtual std::vector<WriteResult> commit(std::vector<WriteSet>& batch) = 0;

  // Events of one stream with seq >= from_seq, at most `max` of them.
  // An unknown stream reads as empty.
  virtual Read<std::vector<StoredEvent>> read_stream(const StreamId& stream,
                                                     std::uint64_t from_seq = 1,
                                                     std::size_t max = SIZE_MAX) = 0;
  // Current version of a stream (0 when it does not exist).
  virtual Read<std::uint64_t> stream_version(const StreamId& stream) = 0;
  // Events of all streams in commit order, position >= from_position.
  virtual Read<std::vector<StoredEvent>> read_all(std::uint64_t from_position,
                                                  std::size_t max) = 0;
  // Streams whose tenant (and kind, when not empty) match, in key order.
  virtual Read<std::vector<StreamInfo>> list_streams(std::string_view tenant,
                                                     std::string_view kind,
                                                     std::size_t max) = 0;
  // Every stream of every tenant, for the replay tool.
  virtual Read<std::vector<StreamInfo>> list_all_streams(std::size_t max) = 0;
  // Global position of the last committed event (0 for an empty journal).
  virtual Read<std::uint64_t> last_position() = 0;

  // Side tables.
  virtual Read<std::optional<std::string>> get(Table table, std::string_view key) = 0;
  // Rows with key >= from (and, when prefix is not empty, starting with
  // prefix), in key order, at most `max`.
  virtual Read<std::vector<std::pair<std::string, std::string>>> scan(
      Table table, std::string_view prefix, std::string_view from, std::size_t max) = 0;

  // Number of rows in a table.
  virtual Read<std::size_t> count(Table table) = 0;

  // Force everything to disk (used at shutdown; commits already sync).
  virtual void sync() = 0;
  // Map size currently in use, in bytes.
  virtual std::size_t map_size_bytes() = 0;
};

// Opens (and creates, unless read_only) the LMDB journal in options.dir.
// Fails with a message naming the file and the reason when the environment
// cannot be opened or its format is not one this build understands.
Read<std::unique_ptr<Journal>> open_lmdb_journal(const Options& options);

}  // namespace orch::store
