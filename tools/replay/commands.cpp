// Command line parsing and the commands of orchestrator-replay.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <ostream>
#include <system_error>

#include "replay.hpp"

namespace orch::replay {

namespace {

constexpr const char* prog = "orchestrator-replay";
constexpr std::size_t page_size = 512;
constexpr std::size_t max_unreadable = 1000;  // give up on a journal this broken

struct UsageError {
  std::string message;
};

struct Env {
  store::Journal& journal;
  std::ostream& out;
  std::ostream& err;
};

// Options and positional arguments of one command.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string, std::less<>> options;

  const std::string* option(std::string_view name) const {
    auto it = options.find(name);
    return it == options.end() ? nullptr : &it->second;
  }
};

// ------------------------------------------------------------------ parsing helpers

std::uint64_t parse_u64(const std::string& text, std::string_view option) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc() || r.ptr != end)
    throw UsageError{std::string(option) + " needs a non-negative integer, got '" + text + "'"};
  return v;
}

void check_part(const std::string& part, std::string_view what) {
  if (part.empty() || part.size() > store::max_stream_part)
    throw UsageError{std::string(what) + " must be 1.." + std::to_string(store::max_stream_part) +
                     " bytes"};
}

// "tenant/kind/id"; the id may itself contain '/'.
store::StreamId parse_stream(const std::string& text) {
  const auto a = text.find('/');
  const auto b = a == std::string::npos ? std::string::npos : text.find('/', a + 1);
  if (b == std::string::npos)
    throw UsageError{"STREAM must be tenant/kind/id, got '" + printable(text) + "'"};
  store::StreamId s{text.substr(0, a), text.substr(a + 1, b - a - 1), text.substr(b + 1)};
  if (s.tenant.empty() || s.kind.empty() || s.id.empty() ||
      s.tenant.size() > store::max_stream_part || s.kind.size() > store::max_stream_part ||
      s.id.size() > store::max_stream_part)
    throw UsageError{"STREAM must be tenant/kind/id with each part 1.." +
                     std::to_string(store::max_stream_part) + " bytes, got '" + printable(text) +
                     "'"};
  return s;
}

std::string stream_name(const store::StreamId& s) {
  return printable(store::to_string(s));
}

int store_error(Env& env, const std::string& message) {
  env.err << prog << ": " << printable(message) << '\n';
  return exit_failure;
}

// ------------------------------------------------------------------ reading

using Page = store::Read<std::vector<store::StoredEvent>>;
using OnEvent = std::function<bool(const store::StoredEvent&)>;          // false: stop
using OnError = std::function<void(std::uint64_t, const std::string&)>;  // key, message

// Pages through the events whose key (seq or position) is in [from, to]. A
// page that cannot be read is retried one record at a time, so that one
// corrupt record costs one on_error and the rest is still delivered.
void scan_events(const std::function<Page(std::uint64_t, std::size_t)>& read,
                 std::uint64_t store::StoredEvent::*key, std::uint64_t from, std::uint64_t to,
                 const OnEvent& on_event, const OnError& on_error) {
  std::uint64_t next = std::max<std::uint64_t>(from, 1);
  std::size_t errors = 0;
  std::string last_error;
  while (next <= to) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(page_size, to - next + 1));
    Page page = read(next, want);
    if (!page) page = read(next, 1);
    if (!page) {
      // Several keys can run into the same broken record (a gap before it).
      if (page.error.message != last_error) {
        last_error = page.error.message;
        on_error(next, last_error);
        if (++errors >= max_unreadable) {
          on_error(next, "too many unreadable records; giving up");
          return;
        }
      }
      ++next;
      continue;
    }
    if (page->empty()) return;
    for (const auto& e : *page) {
      const std::uint64_t k = e.*key;
      if (k < next || k > to) return;  // past the range (or a store not moving forward)
      if (!on_event(e)) return;
      if (k == to) return;
      next = k + 1;
    }
  }
}

void scan_stream(store::Journal& j, const store::StreamId& s, std::uint64_t from, std::uint64_t to,
                 const OnEvent& on_event, const OnError& on_error) {
  scan_events([&](std::uint64_t f, std::size_t max) { return j.read_stream(s, f, max); },
              &store::StoredEvent::seq, from, to, on_event, on_error);
}

void scan_all(store::Journal& j, std::uint64_t from, std::uint64_t to, const OnEvent& on_event,
              const OnError& on_error) {
  scan_events([&](std::uint64_t f, std::size_t max) { return j.read_all(f, max); },
              &store::StoredEvent::position, from, to, on_event, on_error);
}

// Rows of a side table in key order, in pages; false when the store failed.
bool scan_table(Env& env, store::Table t,
                const std::function<void(const std::string&, const std::string&)>& on_row) {
  std::string from;
  while (true) {
    auto rows = env.journal.scan(t, "", from, page_size);
    if (!rows) {
      store_error(env, rows.error.message);
      return false;
    }
    for (const auto& [k, v] : *rows) on_row(k, v);
    if (rows->size() < page_size) return true;
    from = rows->back().first;
    from.push_back('\0');  // the smallest key after the last one
  }
}

// ------------------------------------------------------------------ commands

int cmd_streams(Env& env, const Args& a) {
  const std::string* tenant = a.option("--tenant");
  const std::string* kind = a.option("--kind");
  if (tenant) check_part(*tenant, "--tenant");
  if (kind) check_part(*kind, "--kind");
  auto list = tenant ? env.journal.list_streams(*tenant, kind ? *kind : "", SIZE_MAX)
                     : env.journal.list_all_streams(SIZE_MAX);
  if (!list) return store_error(env, list.error.message);
  for (const auto& info : *list) {
    if (kind && info.stream.kind != *kind) continue;
    env.out << printable(store::to_string(info.stream), false) << " version=" << info.version
            << " last_position=" << info.last_position
            << " updated_at=" << iso8601(info.updated_at_ms) << '\n';
  }
  return exit_ok;
}

// The version of a stream that must exist; nullopt after printing the error.
std::optional<std::uint64_t> existing_version(Env& env, const store::StreamId& s) {
  auto v = env.journal.stream_version(s);
  if (!v) {
    store_error(env, v.error.message);
    return std::nullopt;
  }
  if (*v == 0) {
    env.err << prog << ": stream not found: " << stream_name(s) << '\n';
    return std::nullopt;
  }
  return *v;
}

int cmd_events(Env& env, const Args& a) {
  const store::StreamId s = parse_stream(a.positional.at(0));
  const std::uint64_t from = a.option("--from") ? parse_u64(*a.option("--from"), "--from") : 1;
  const auto version = existing_version(env, s);
  if (!version) return exit_failure;
  std::size_t bad = 0;
  std::string line;
  scan_stream(
      env.journal, s, from, *version,
      [&](const store::StoredEvent& e) {
        if (!event_json(e, line)) ++bad;
        env.out << line << '\n';
        return true;
      },
      [&](std::uint64_t seq, const std::string& message) {
        ++bad;
        json::Writer w;
        w.begin_object();
        write_bytes(w, "stream", store::to_string(s));
        w.field("seq", seq);
        write_bytes(w, "error", message);
        w.end_object();
        env.out << w.str() << '\n';
      });
  if (bad == 0) return exit_ok;
  env.err << prog << ": " << bad << " unreadable event(s) in " << stream_name(s) << '\n';
  return exit_failure;
}

int cmd_state(Env& env, const Args& a) {
  const store::StreamId s = parse_stream(a.positional.at(0));
  std::optional<std::uint64_t> at;
  if (const std::string* v = a.option("--at")) {
    at = parse_u64(*v, "--at");
    if (*at == 0) throw UsageError{"--at must be >= 1 (the first event has seq 1)"};
  }
  const Kind* kind = find_kind(s.kind);
  if (!kind || !kind->state_json) {
    env.err << prog << ": state: no fold for kind '" << printable(s.kind)
            << "' (known: " << kinds_with_fold() << ")\n";
    return exit_failure;
  }
  const auto version = existing_version(env, s);
  if (!version) return exit_failure;
  if (at && *at > *version) {
    env.err << prog << ": state: --at " << *at << " is beyond the last event of " << stream_name(s)
            << " (version " << *version << ")\n";
    return exit_failure;
  }
  auto state = kind->state_json(env.journal, s, at);
  if (!state) return store_error(env, "state: " + state.error().message);
  env.out << *state << '\n';
  return exit_ok;
}

int cmd_log(Env& env, const Args& a) {
  const std::uint64_t from = a.option("--from") ? parse_u64(*a.option("--from"), "--from") : 1;
  const std::uint64_t limit =
      a.option("--limit") ? parse_u64(*a.option("--limit"), "--limit") : UINT64_MAX;
  // Up to the last event committed now: a running server does not keep us going.
  auto last = env.journal.last_position();
  if (!last) return store_error(env, last.error.message);
  if (limit == 0) return exit_ok;
  std::uint64_t printed = 0;
  std::size_t bad = 0;
  std::string line;
  scan_all(
      env.journal, from, *last,
      [&](const store::StoredEvent& e) {
        if (!event_json(e, line)) ++bad;
        env.out << line << '\n';
        return ++printed < limit;
      },
      [&](std::uint64_t position, const std::string& message) {
        ++bad;
        json::Writer w;
        w.begin_object();
        w.field("position", position);
        write_bytes(w, "error", message);
        w.end_object();
        env.out << w.str() << '\n';
      });
  if (bad == 0) return exit_ok;
  env.err << prog << ": " << bad << " unreadable event(s)\n";
  return exit_failure;
}

struct Checker {
  Env& env;
  std::uint64_t streams = 0;
  std::uint64_t events = 0;
  std::uint64_t problems = 0;

  void problem(const std::string& where, const std::string& what) {
    ++problems;
    env.out << "problem: " << printable(where) << ": " << printable(what) << '\n';
  }

  void check_stream(const store::StreamInfo& info) {
    ++streams;
    const store::StreamId& s = info.stream;
    const std::string name = store::to_string(s);
    const Kind* registered = find_kind(s.kind);
    const Kind& kind = registered ? *registered : generic_kind();
    if (info.version == 0) {
      problem(name, "stream record has version 0");
      return;
    }
    bool clean = true;  // every event read and well-formed: fold it
    std::uint64_t expected = 1;
    std::uint64_t prev_position = 0;
    std::vector<store::StoredEvent> kept;
    std::optional<store::StoredEvent> last;  // without its payload
    // One past the version, to see events that should not exist.
    const std::uint64_t to = info.version == UINT64_MAX ? info.version : info.version + 1;
    scan_stream(
        env.journal, s, 1, to,
        [&](const store::StoredEvent& e) {
          const std::string where = name + " seq " + std::to_string(e.seq);
          if (e.seq > info.version) {
            auto now = env.journal.stream_version(s);
            if (!now || *now < e.seq)  // not appended since we listed the streams
              problem(where, "event beyond the stream's version " + std::to_string(info.version));
            return false;
          }
          ++events;
          if (e.seq != expected) {
            problem(name, "events " + std::to_string(expected) + ".." + std::to_string(e.seq - 1) +
                              " missing");
            clean = false;
          }
          expected = e.seq + 1;
          if (e.position <= prev_position) {
            problem(where, "position " + std::to_string(e.position) + " not after position " +
                               std::to_string(prev_position) + " of the previous event");
            clean = false;
          }
          prev_position = e.position;
          if (auto p = kind.check_event(e)) {
            problem(where, *p);
            clean = false;
          }
          if (kind.check_stream) kept.push_back(e);
          last =
              store::StoredEvent{e.stream, e.seq, e.position, {{}, 0, e.data.recorded_at_ms, {}}};
          return true;
        },
        [&](std::uint64_t seq, const std::string& message) {
          problem(name + " seq " + std::to_string(seq), message);
          clean = false;
          expected = std::max(expected, seq + 1);
        });
    if (expected <= info.version) {
      problem(name, "events " + std::to_string(expected) + ".." + std::to_string(info.version) +
                        " missing (stream version " + std::to_string(info.version) + ")");
      clean = false;
    }
    if (last && last->seq == info.version) {
      if (last->position != info.last_position)
        problem(name, "stream record says last_position " + std::to_string(info.last_position) +
                          ", the last event is at position " + std::to_string(last->position));
      if (last->data.recorded_at_ms != info.updated_at_ms)
        problem(name, "stream record says updated_at_ms " + std::to_string(info.updated_at_ms) +
                          ", the last event was recorded at " +
                          std::to_string(last->data.recorded_at_ms));
    }
    if (clean && kind.check_stream) {
      for (const auto& p : kind.check_stream(env.journal, s, kept)) problem(name, p);
    }
  }

  // Global positions run 1..last_position without gaps.
  void check_positions(std::uint64_t last_position) {
    std::uint64_t expected = 1;
    scan_all(
        env.journal, 1, last_position,
        [&](const store::StoredEvent& e) {
          if (e.position != expected)
            problem("positions", "positions " + std::to_string(expected) + ".." +
                                     std::to_string(e.position - 1) + " missing");
          expected = e.position + 1;
          return true;
        },
        [&](std::uint64_t position, const std::string& message) {
          problem("position " + std::to_string(position), message);
          expected = std::max(expected, position + 1);
        });
    if (expected <= last_position)
      problem("positions", "positions " + std::to_string(expected) + ".." +
                               std::to_string(last_position) + " missing (last_position " +
                               std::to_string(last_position) + ")");
  }
};

int cmd_check(Env& env, const Args&) {
  Checker c{env};
  // Taken first: every event up to it exists when the streams are listed.
  auto last = env.journal.last_position();
  if (!last) c.problem("last_position", last.error.message);
  auto list = env.journal.list_all_streams(SIZE_MAX);
  if (!list) {
    c.problem("streams", list.error.message);
  } else {
    for (const auto& info : *list) c.check_stream(info);
  }
  if (last) c.check_positions(*last);
  env.out << "streams=" << c.streams << " events=" << c.events << " problems=" << c.problems
          << '\n';
  return c.problems == 0 ? exit_ok : exit_failure;
}

std::optional<store::Table> table_from(std::string_view name) {
  for (int i = 0; i < store::table_count; ++i) {
    const auto t = static_cast<store::Table>(i);
    if (store::table_name(t) == name) return t;
  }
  return std::nullopt;
}

std::string table_names() {
  std::string out;
  for (int i = 0; i < store::table_count; ++i) {
    if (i) out += ' ';
    out += store::table_name(static_cast<store::Table>(i));
  }
  return out;
}

int cmd_tables(Env& env, const Args& a) {
  if (a.positional.empty()) {
    for (int i = 0; i < store::table_count; ++i) {
      const auto t = static_cast<store::Table>(i);
      std::uint64_t rows = 0;
      if (!scan_table(env, t, [&](const std::string&, const std::string&) { ++rows; }))
        return exit_failure;
      env.out << store::table_name(t) << " rows=" << rows << '\n';
    }
    return exit_ok;
  }
  const auto t = table_from(a.positional[0]);
  if (!t)
    throw UsageError{"unknown table '" + printable(a.positional[0]) +
                     "' (tables: " + table_names() + ")"};
  const bool ok = scan_table(env, *t, [&](const std::string& k, const std::string& v) {
    json::Writer w;
    w.begin_object();
    write_bytes(w, "key", k);
    write_bytes(w, "value", v);
    w.end_object();
    env.out << w.str() << '\n';
  });
  return ok ? exit_ok : exit_failure;
}

// ------------------------------------------------------------------ command table

enum class Value : std::uint8_t { number, name };  // what an option takes
enum class Positional : std::uint8_t { none, stream, optional_table };

struct Option {
  std::string_view name;
  Value value;
};

struct Command {
  std::string_view name;
  std::string_view synopsis;
  std::string_view help;
  Positional positional;
  std::vector<Option> options;  // each takes a value
  int (*run)(Env&, const Args&);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"streams",
       "streams [--tenant T] [--kind K]",
       "one line per stream: tenant/kind/id version=N last_position=P updated_at=TIME",
       Positional::none,
       {{"--tenant", Value::name}, {"--kind", Value::name}},
       cmd_streams},
      {"events",
       "events STREAM [--from SEQ]",
       "the events of STREAM (tenant/kind/id) from seq SEQ on, one JSON object per line",
       Positional::stream,
       {{"--from", Value::number}},
       cmd_events},
      {"state",
       "state STREAM [--at SEQ]",
       "the entity's state as JSON, folded up to event SEQ (default: all)",
       Positional::stream,
       {{"--at", Value::number}},
       cmd_state},
      {"log",
       "log [--from POSITION] [--limit N]",
       "every event of every stream in commit order, same JSON lines as `events`",
       Positional::none,
       {{"--from", Value::number}, {"--limit", Value::number}},
       cmd_log},
      {"check",
       "check",
       "decode every event, check sequences, positions and entity invariants;\n"
       "one `problem: ...` line per problem, then streams=N events=M problems=K",
       Positional::none,
       {},
       cmd_check},
      {"tables",
       "tables [TABLE]",
       "row counts per side table (`TABLE rows=N`), or TABLE's rows as JSON lines\n"
       "{\"key\":...,\"value\":...} (key_hex/value_hex when not UTF-8)",
       Positional::optional_table,
       {},
       cmd_tables},
  };
  return table;
}

void usage(std::ostream& os) {
  os << "usage: " << prog << " [--data-dir DIR] COMMAND [ARGS]\n"
     << "\n"
     << "Reads the orchestrator's event journal read-only; safe while the server runs.\n"
     << "\n"
     << "Options:\n"
     << "  --data-dir DIR  the journal directory (default: $DATA_DIR, else ./data)\n"
     << "  -h, --help      show this help\n"
     << "\n"
     << "Commands:\n";
  for (const Command& c : commands()) {
    os << "  " << c.synopsis << "\n";
    std::string_view h = c.help;
    while (!h.empty()) {
      const auto nl = h.find('\n');
      os << "      " << h.substr(0, nl) << "\n";
      h = nl == std::string_view::npos ? std::string_view{} : h.substr(nl + 1);
    }
  }
  os << "\n"
     << "STREAM is tenant/kind/id (the id may contain '/'). Kinds with a fold: "
     << kinds_with_fold() << ".\n"
     << "Tables: " << table_names() << ".\n"
     << "Times are UTC, ISO 8601 with milliseconds.\n"
     << "Exit status: 0 ok, 1 store error, not found or problems found, 2 bad usage.\n";
}

const Command* find_command(std::string_view name) {
  for (const Command& c : commands())
    if (c.name == name) return &c;
  return nullptr;
}

struct Invocation {
  bool help = false;
  std::optional<std::string> data_dir;
  const Command* command = nullptr;
  Args args;
};

Invocation parse(int argc, const char* const* argv) {
  Invocation inv;
  std::vector<std::pair<std::string, std::optional<std::string>>> opts;  // before validation
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      inv.args.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      inv.help = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string::npos && arg.starts_with("--")) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    if (!value) throw UsageError{name + " needs a value"};
    if (name == "--data-dir") {
      if (value->empty()) throw UsageError{"--data-dir needs a value"};
      inv.data_dir = *value;
    } else {
      opts.emplace_back(std::move(name), std::move(value));
    }
  }
  if (inv.help) return inv;
  if (inv.args.positional.empty()) throw UsageError{"no command given"};
  const std::string name = inv.args.positional.front();
  inv.args.positional.erase(inv.args.positional.begin());
  inv.command = find_command(name);
  if (!inv.command) throw UsageError{"unknown command '" + printable(name) + "'"};
  const Command& c = *inv.command;
  // Everything is checked here, before the journal is opened.
  for (auto& [opt, value] : opts) {
    const auto spec = std::find_if(c.options.begin(), c.options.end(),
                                   [&](const Option& o) { return o.name == opt; });
    if (spec == c.options.end())
      throw UsageError{std::string(c.name) + ": unknown option '" + printable(opt) + "'"};
    if (spec->value == Value::number)
      parse_u64(*value, opt);
    else
      check_part(*value, opt);
    if (!inv.args.options.emplace(opt, std::move(*value)).second)
      throw UsageError{std::string(c.name) + ": " + opt + " given twice"};
  }
  const auto& pos = inv.args.positional;
  const bool arity_ok = c.positional == Positional::none     ? pos.empty()
                        : c.positional == Positional::stream ? pos.size() == 1
                                                             : pos.size() <= 1;
  if (!arity_ok)
    throw UsageError{"usage: " + std::string(prog) + " [--data-dir DIR] " +
                     std::string(c.synopsis)};
  if (c.positional == Positional::stream) parse_stream(pos[0]);
  if (c.positional == Positional::optional_table && !pos.empty() && !table_from(pos[0]))
    throw UsageError{"unknown table '" + printable(pos[0]) + "' (tables: " + table_names() + ")"};
  if (const std::string* at = inv.args.option("--at"); at && parse_u64(*at, "--at") == 0)
    throw UsageError{"--at must be >= 1 (the first event has seq 1)"};
  return inv;
}

}  // namespace

int run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Invocation inv;
  try {
    inv = parse(argc, argv);
  } catch (const UsageError& e) {
    err << prog << ": " << e.message << "\n(see " << prog << " --help)\n";
    return exit_usage;
  }
  if (inv.help) {
    usage(out);
    return exit_ok;
  }
  std::string dir = "./data";
  if (inv.data_dir) {
    dir = *inv.data_dir;
  } else if (const char* env_dir = std::getenv("DATA_DIR"); env_dir && *env_dir) {
    dir = env_dir;
  }
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    err << prog << ": data directory " << printable(dir) << ": " << ec.message() << '\n';
    return exit_failure;
  }
  if (!std::filesystem::exists(st)) {
    err << prog << ": data directory " << printable(dir) << " does not exist\n";
    return exit_failure;
  }
  if (!std::filesystem::is_directory(st)) {
    err << prog << ": data directory " << printable(dir) << " is not a directory\n";
    return exit_failure;
  }
  store::Options options;
  options.dir = dir;
  options.read_only = true;
  auto journal = store::open_lmdb_journal(options);
  if (!journal) {
    err << prog << ": " << printable(journal.error.message) << '\n';
    return exit_failure;
  }
  Env env{**journal, out, err};
  try {
    return inv.command->run(env, inv.args);
  } catch (const UsageError& e) {
    err << prog << ": " << e.message << "\n(see " << prog << " --help)\n";
    return exit_usage;
  } catch (const std::exception& e) {  // e.g. out of memory on a huge record
    err << prog << ": " << inv.command->name << " failed: " << e.what() << '\n';
    return exit_failure;
  }
}

}  // namespace orch::replay
