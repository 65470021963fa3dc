// JSON for the whole service: a writer that produces compact, correctly
// escaped JSON, a small document tree parsed with simdjson, and a reader that
// extracts typed fields and names the offending field when the shape is wrong.
//
// Parsing is strict where hostile input could hurt: nesting depth is limited,
// duplicate keys are refused, and integers outside the 64-bit range are an
// AMOUNT_OUT_OF_RANGE error rather than a silently rounded double.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/error.hpp"

namespace orch::json {

// ---------------------------------------------------------------- writing

class Writer {
 public:
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(const std::string& s) { return value(std::string_view(s)); }
  Writer& value(std::int64_t n);
  Writer& value(std::uint64_t n);
  Writer& value(int n) { return value(static_cast<std::int64_t>(n)); }
  Writer& value(unsigned n) { return value(static_cast<std::uint64_t>(n)); }
  Writer& value(bool b);
  Writer& value(double d);
  Writer& null();
  // An optional string: the string, or null when absent.
  Writer& value(const std::optional<std::string>& s);
  // Inserts an already serialised JSON value verbatim.
  Writer& raw(std::string_view json);

  // key + value in one call.
  template <class T>
  Writer& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends s as a JSON string literal (with quotes) to out.
void append_quoted(std::string& out, std::string_view s);

// ---------------------------------------------------------------- documents

class Value;
using Member = std::pair<std::string, Value>;

class Value {
 public:
  enum class Type { null, boolean, integer, uinteger, real, string, array, object };

  Value() = default;
  static Value make_bool(bool b);
  static Value make_int(std::int64_t n);
  static Value make_uint(std::uint64_t n);
  static Value make_real(double d);
  static Value make_string(std::string s);
  static Value make_array(std::vector<Value> items);
  static Value make_object(std::vector<Member> members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_object() const { return type_ == Type::object; }
  bool is_array() const { return type_ == Type::array; }
  bool is_string() const { return type_ == Type::string; }
  bool is_bool() const { return type_ == Type::boolean; }
  // integer or uinteger
  bool is_integer() const { return type_ == Type::integer || type_ == Type::uinteger; }
  bool is_number() const { return is_integer() || type_ == Type::real; }

  bool as_bool() const { return b_; }
  const std::string& as_string() const { return s_; }
  // For integer values that fit; nullopt otherwise.
  std::optional<std::int64_t> as_int64() const;
  std::optional<std::uint64_t> as_uint64() const;
  double as_double() const;
  const std::vector<Value>& items() const { return items_; }
  const std::vector<Member>& members() const { return members_; }

  // Object member lookup; nullptr when absent or not an object.
  const Value* find(std::string_view key) const;

  // Compact serialisation, members in document order.
  void write(Writer& w) const;
  std::string dump() const;

 private:
  Type type_ = Type::null;
  bool b_ = false;
  std::int64_t i_ = 0;
  std::uint64_t u_ = 0;
  double d_ = 0;
  std::string s_;
  std::vector<Value> items_;
  std::vector<Member> members_;
};

struct ParseLimits {
  std::size_t max_depth = 32;
};

// MALFORMED_JSON for syntax errors, duplicate keys and excessive nesting;
// AMOUNT_OUT_OF_RANGE for integers beyond 64 bits.
Result<Value> parse(std::string_view text, ParseLimits limits = {});

// ---------------------------------------------------------------- reading

// Reads typed members of one object. The first shape problem (missing
// required member, wrong type) is kept as an INVALID_BODY error that names
// the field by its dotted path ("command.quantity"). After an error every
// accessor returns nullopt, so callers can read all fields and check ok()
// once at the end.
class ObjectReader {
 public:
  // `path` is the dotted path of this object ("" for the document root).
  ObjectReader(const Value* object, std::string path);

  std::optional<std::string> string(std::string_view key, bool required = true);
  std::optional<std::int64_t> int64(std::string_view key, bool required = true);
  std::optional<std::uint64_t> uint64(std::string_view key, bool required = true);
  std::optional<bool> boolean(std::string_view key, bool required = true);
  // Nested object (nullptr when absent/null and not required).
  const Value* object(std::string_view key, bool required = true);
  const Value* array(std::string_view key, bool required = true);
  // Any JSON value (nullptr when absent).
  const Value* any(std::string_view key) const;

  std::string path_of(std::string_view key) const;
  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }
  void fail(Error e);

 private:
  const Value* member(std::string_view key, bool required, const char* expected);
  const Value* obj_;
  std::string path_;
  std::optional<Error> error_;
};

}  // namespace orch::json
