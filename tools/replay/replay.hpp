// orchestrator-replay: the offline replay tool (see architecture.md).
//
// It opens a journal read-only (safe while the server writes), lists streams,
// prints events, rebuilds an entity's state at any point, checks invariants
// and dumps the side tables. Output goes to stdout, one record per line, in a
// stable format that tests and operators grep.
//
// Entity kinds plug in through a small registry (kinds.cpp): one table entry
// per kind with a decode check for one event, an optional invariant check of
// a whole stream, and an optional fold that prints the state.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/error.hpp"
#include "events/json.hpp"
#include "store/journal.hpp"

namespace orch::replay {

// Exit statuses.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // store error, not found, problems found
inline constexpr int exit_usage = 2;

// Runs the tool: argv as given to main. Everything is written to out/err.
int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

// ------------------------------------------------------------ formatting (format.cpp)

// "2023-11-14T22:13:20.000Z" (UTC, milliseconds). Years outside 0..9999 get a sign.
std::string iso8601(std::int64_t ms);

bool is_utf8(std::string_view s);

// `s` for a text line: bytes outside printable ASCII become \xNN; so do
// spaces unless keep_space (stream ids in `streams` lines stay one token).
std::string printable(std::string_view s, bool keep_space = true);

// `key: bytes` as a JSON string when `bytes` is valid UTF-8, otherwise
// `key_hex: "<hex>"` (JSON strings cannot carry arbitrary bytes).
void write_bytes(json::Writer& w, std::string_view key, std::string_view bytes);

// Parses an event payload with the tool's limits.
Result<json::Value> parse_payload(std::string_view payload);

// One event as a single JSON line (no newline):
// {"stream","seq","position","type","schema","recorded_at","recorded_at_ms","data"}.
// `data` is the payload verbatim; a payload that is not JSON gives
// "data":null plus "error" and the raw "payload". Returns false then.
bool event_json(const store::StoredEvent& e, std::string& line);

// ------------------------------------------------------------ kinds (kinds.cpp)

struct Kind {
  std::string_view name;
  // Decodes one event with the kind's codec and checks what its decoder
  // guarantees; the problem, or nullopt when the event is well-formed.
  std::optional<std::string> (*check_event)(const store::StoredEvent& e);
  // Folds a whole stream (seq 1..version, every event passed check_event)
  // and returns the broken invariants. nullptr: no invariants known.
  std::vector<std::string> (*check_stream)(store::Journal& journal, const store::StreamId& stream,
                                           const std::vector<store::StoredEvent>& events);
  // Folds the stream (up to `at` when given) and returns the state as JSON.
  // nullptr: no fold known for the kind.
  Result<std::string> (*state_json)(store::Journal& journal, const store::StreamId& stream,
                                    std::optional<std::uint64_t> at);
};

// The registered kind, or nullptr.
const Kind* find_kind(std::string_view name);
// For kinds without an entry: the payload must parse as JSON, nothing more.
const Kind& generic_kind();
// Names of the kinds with a fold, comma separated ("cart").
std::string kinds_with_fold();

}  // namespace orch::replay
