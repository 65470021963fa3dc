#include "events/json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <unordered_set>

namespace orch::json {

// ---------------------------------------------------------------- writing

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the current run of plain characters
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void Writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

Writer& Writer::begin_object() {
  before_value();
  out_.push_back('{');
  first_.push_back(true);
  return *this;
}

Writer& Writer::end_object() {
  out_.push_back('}');
  first_.pop_back();
  return *this;
}

Writer& Writer::begin_array() {
  before_value();
  out_.push_back('[');
  first_.push_back(true);
  return *this;
}

Writer& Writer::end_array() {
  out_.push_back(']');
  first_.pop_back();
  return *this;
}

Writer& Writer::key(std::string_view k) {
  before_value();
  append_quoted(out_, k);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

Writer& Writer::value(std::string_view s) {
  before_value();
  append_quoted(out_, s);
  return *this;
}

Writer& Writer::value(std::int64_t n) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::value(std::uint64_t n) {
  before_value();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

Writer& Writer::value(double d) {
  before_value();
  if (!std::isfinite(d)) {
    out_ += "null";
    return *this;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

Writer& Writer::value(const std::optional<std::string>& s) {
  return s ? value(std::string_view(*s)) : null();
}

Writer& Writer::raw(std::string_view json) {
  before_value();
  out_.append(json);
  return *this;
}

// ---------------------------------------------------------------- values

Value Value::make_bool(bool b) {
  Value v;
  v.type_ = Type::boolean;
  v.b_ = b;
  return v;
}
Value Value::make_int(std::int64_t n) {
  Value v;
  v.type_ = Type::integer;
  v.i_ = n;
  return v;
}
Value Value::make_uint(std::uint64_t n) {
  Value v;
  v.type_ = Type::uinteger;
  v.u_ = n;
  return v;
}
Value Value::make_real(double d) {
  Value v;
  v.type_ = Type::real;
  v.d_ = d;
  return v;
}
Value Value::make_string(std::string s) {
  Value v;
  v.type_ = Type::string;
  v.s_ = std::move(s);
  return v;
}
Value Value::make_array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::array;
  v.items_ = std::move(items);
  return v;
}
Value Value::make_object(std::vector<Member> members) {
  Value v;
  v.type_ = Type::object;
  v.members_ = std::move(members);
  return v;
}

std::optional<std::int64_t> Value::as_int64() const {
  if (type_ == Type::integer) return i_;
  if (type_ == Type::uinteger &&
      u_ <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(u_);
  return std::nullopt;
}

std::optional<std::uint64_t> Value::as_uint64() const {
  if (type_ == Type::uinteger) return u_;
  if (type_ == Type::integer && i_ >= 0) return static_cast<std::uint64_t>(i_);
  return std::nullopt;
}

double Value::as_double() const {
  switch (type_) {
    case Type::integer: return static_cast<double>(i_);
    case Type::uinteger: return static_cast<double>(u_);
    case Type::real: return d_;
    default: return 0;
  }
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::object) return nullptr;
  for (const auto& m : members_)
    if (m.first == key) return &m.second;
  return nullptr;
}

void Value::write(Writer& w) const {
  switch (type_) {
    case Type::null: w.null(); break;
    case Type::boolean: w.value(b_); break;
    case Type::integer: w.value(i_); break;
    case Type::uinteger: w.value(u_); break;
    case Type::real: w.value(d_); break;
    case Type::string: w.value(std::string_view(s_)); break;
    case Type::array:
      w.begin_array();
      for (const auto& v : items_) v.write(w);
      w.end_array();
      break;
    case Type::object:
      w.begin_object();
      for (const auto& [k, v] : members_) {
        w.key(k);
        v.write(w);
      }
      w.end_object();
      break;
  }
}

std::string Value::dump() const {
  Writer w;
  write(w);
  return w.take();
}

// ---------------------------------------------------------------- parsing

namespace {

struct Converter {
  std::size_t max_depth;
  std::optional<Error> error;

  Value convert(simdjson::dom::element el, std::size_t depth) {
    using simdjson::dom::element_type;
    if (error) return {};
    switch (el.type()) {
      case element_type::NULL_VALUE: return {};
      case element_type::BOOL: return Value::make_bool(bool(el.get_bool()));
      case element_type::INT64: return Value::make_int(int64_t(el.get_int64()));
      case element_type::UINT64: return Value::make_uint(uint64_t(el.get_uint64()));
      case element_type::DOUBLE: return Value::make_real(double(el.get_double()));
      case element_type::STRING: return Value::make_string(std::string(el.get_string().value()));
      case element_type::ARRAY: {
        if (depth >= max_depth) return too_deep();
        std::vector<Value> items;
        simdjson::dom::array arr = el.get_array().value();
        items.reserve(arr.size());
        for (auto child : arr) items.push_back(convert(child, depth + 1));
        return Value::make_array(std::move(items));
      }
      case element_type::OBJECT: {
        if (depth >= max_depth) return too_deep();
        std::vector<Member> members;
        simdjson::dom::object obj = el.get_object().value();
        members.reserve(obj.size());
        for (auto field : obj) {
          members.emplace_back(std::string(field.key), convert(field.value, depth + 1));
        }
        if (has_duplicates(members)) {
          error = Error(Code::malformed_json, "duplicate key in JSON object");
          return {};
        }
        return Value::make_object(std::move(members));
      }
    }
    return {};
  }

  Value too_deep() {
    error = Error(Code::malformed_json,
                  "JSON nesting deeper than " + std::to_string(max_depth) + " levels");
    return {};
  }

  static bool has_duplicates(const std::vector<Member>& members) {
    if (members.size() < 2) return false;
    if (members.size() <= 16) {
      for (std::size_t i = 0; i < members.size(); ++i)
        for (std::size_t j = i + 1; j < members.size(); ++j)
          if (members[i].first == members[j].first) return true;
      return false;
    }
    std::unordered_set<std::string_view> seen;
    seen.reserve(members.size());
    for (const auto& m : members)
      if (!seen.insert(m.first).second) return true;
    return false;
  }
};

}  // namespace

namespace {

// Whether `text` holds a well-formed JSON number literal (outside strings)
// whose value does not fit: an integer beyond 64 bits, or a real beyond
// double. simdjson reports those as NUMBER_ERROR, like malformed numbers.
bool has_out_of_range_number(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) continue;
    std::size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '-' ||
                               text[i] == '+' || text[i] == '.' || text[i] == 'e' || text[i] == 'E'))
      ++i;
    std::string token(text.substr(start, i - start));
    --i;
    // JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    std::size_t p = 0;
    if (p < token.size() && token[p] == '-') ++p;
    if (p >= token.size() || !std::isdigit(static_cast<unsigned char>(token[p]))) continue;
    if (token[p] == '0' && p + 1 < token.size() && std::isdigit(static_cast<unsigned char>(token[p + 1])))
      continue;
    while (p < token.size() && std::isdigit(static_cast<unsigned char>(token[p]))) ++p;
    bool integer = true;
    if (p < token.size() && token[p] == '.') {
      integer = false;
      std::size_t q = ++p;
      while (p < token.size() && std::isdigit(static_cast<unsigned char>(token[p]))) ++p;
      if (p == q) continue;
    }
    if (p < token.size() && (token[p] == 'e' || token[p] == 'E')) {
      integer = false;
      ++p;
      if (p < token.size() && (token[p] == '+' || token[p] == '-')) ++p;
      std::size_t q = p;
      while (p < token.size() && std::isdigit(static_cast<unsigned char>(token[p]))) ++p;
      if (p == q) continue;
    }
    if (p != token.size()) continue;
    if (integer) {
      bool negative = token[0] == '-';
      std::string_view digits = std::string_view(token).substr(negative ? 1 : 0);
      if (negative) {
        std::int64_t v;
        if (std::from_chars(token.data(), token.data() + token.size(), v).ec == std::errc::result_out_of_range)
          return true;
      } else {
        std::uint64_t v;
        if (std::from_chars(digits.data(), digits.data() + digits.size(), v).ec == std::errc::result_out_of_range)
          return true;
      }
    } else {
      double d = std::strtod(token.c_str(), nullptr);
      if (std::isinf(d)) return true;
    }
  }
  return false;
}

}  // namespace

Result<Value> parse(std::string_view text, ParseLimits limits) {
  // One parser per thread: parsers are not thread safe, and reusing one keeps
  // its buffers warm.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = parser.parse(text.data(), text.size(), true).get(root);
  if (err) {
    if (err == simdjson::NUMBER_OUT_OF_RANGE ||
        (err == simdjson::NUMBER_ERROR && has_out_of_range_number(text)))
      return Error(Code::amount_out_of_range, "a number in the JSON body is out of range");
    if (err == simdjson::EMPTY) return Error(Code::malformed_json, "request body is empty");
    if (err == simdjson::DEPTH_ERROR)
      return Error(Code::malformed_json, "JSON nesting is too deep");
    return Error(Code::malformed_json,
                 std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  Converter c{limits.max_depth, std::nullopt};
  Value v = c.convert(root, 0);
  if (c.error) return *c.error;
  return v;
}

// ---------------------------------------------------------------- reading

ObjectReader::ObjectReader(const Value* object, std::string path)
    : obj_(object), path_(std::move(path)) {
  if (!obj_ || !obj_->is_object())
    fail(Error(Code::invalid_body,
               (path_.empty() ? std::string("request body") : "field '" + path_ + "'") +
                   " must be a JSON object"));
}

std::string ObjectReader::path_of(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  std::string p = path_;
  p += '.';
  p += key;
  return p;
}

void ObjectReader::fail(Error e) {
  if (!error_) error_ = std::move(e);
}

const Value* ObjectReader::member(std::string_view key, bool required, const char* expected) {
  if (error_) return nullptr;
  const Value* v = obj_->find(key);
  if (!v || v->is_null()) {
    if (required)
      fail(Error(Code::invalid_body,
                 "missing required field '" + path_of(key) + "' (" + expected + ")"));
    return nullptr;
  }
  return v;
}

namespace {
Error wrong_type(const std::string& path, const char* expected) {
  return Error(Code::invalid_body, "field '" + path + "' must be " + expected);
}
}  // namespace

std::optional<std::string> ObjectReader::string(std::string_view key, bool required) {
  const Value* v = member(key, required, "a string");
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    fail(wrong_type(path_of(key), "a string"));
    return std::nullopt;
  }
  return v->as_string();
}

std::optional<std::int64_t> ObjectReader::int64(std::string_view key, bool required) {
  const Value* v = member(key, required, "an integer");
  if (!v) return std::nullopt;
  if (!v->is_integer()) {
    fail(wrong_type(path_of(key), "an integer"));
    return std::nullopt;
  }
  auto n = v->as_int64();
  if (!n) {
    fail(Error(Code::amount_out_of_range, "field '" + path_of(key) + "' is out of range"));
    return std::nullopt;
  }
  return n;
}

std::optional<std::uint64_t> ObjectReader::uint64(std::string_view key, bool required) {
  const Value* v = member(key, required, "a non-negative integer");
  if (!v) return std::nullopt;
  auto n = v->is_integer() ? v->as_uint64() : std::nullopt;
  if (!n) {
    fail(wrong_type(path_of(key), "a non-negative integer"));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> ObjectReader::boolean(std::string_view key, bool required) {
  const Value* v = member(key, required, "a boolean");
  if (!v) return std::nullopt;
  if (!v->is_bool()) {
    fail(wrong_type(path_of(key), "a boolean"));
    return std::nullopt;
  }
  return v->as_bool();
}

const Value* ObjectReader::object(std::string_view key, bool required) {
  const Value* v = member(key, required, "an object");
  if (!v) return nullptr;
  if (!v->is_object()) {
    fail(wrong_type(path_of(key), "an object"));
    return nullptr;
  }
  return v;
}

const Value* ObjectReader::array(std::string_view key, bool required) {
  const Value* v = member(key, required, "an array");
  if (!v) return nullptr;
  if (!v->is_array()) {
    fail(wrong_type(path_of(key), "an array"));
    return nullptr;
  }
  return v;
}

const Value* ObjectReader::any(std::string_view key) const {
  if (error_ || !obj_) return nullptr;
  return obj_->find(key);
}

}  // namespace orch::json
