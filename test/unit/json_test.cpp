// src/events/json.hpp: writer, parser, ObjectReader.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "builders.hpp"
#include "events/json.hpp"

using orch::Code;
using orch::code_name;
using orch::json::ObjectReader;
using orch::json::parse;
using orch::json::ParseLimits;
using orch::json::Value;
using orch::json::Writer;
using testing::contains;
using testing::describe;

namespace {

std::string quoted(std::string_view s) {
  std::string out;
  orch::json::append_quoted(out, s);
  return out;
}

Value parsed(std::string_view text) {
  auto r = parse(text);
  INFO("parse(", std::string(text), "): ", describe(r));
  REQUIRE(r.ok());
  return *r;
}

Code parse_error(std::string_view text, ParseLimits limits = {}) {
  auto r = parse(text, limits);
  INFO("parse(", std::string(text), ") unexpectedly succeeded");
  REQUIRE_FALSE(r.ok());
  return r.error().code;
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += "{\"a\":";
  s += "1";
  s += std::string(depth, '}');
  return s;
}

}  // namespace

// ------------------------------------------------------------------ writer

TEST_CASE("json writer: string escaping") {
  SUBCASE("plain text is copied") { CHECK(quoted("hello world") == "\"hello world\""); }
  SUBCASE("empty string") { CHECK(quoted("") == "\"\""); }
  SUBCASE("quote and backslash") {
    CHECK(quoted("a\"b") == R"("a\"b")");
    CHECK(quoted("a\\b") == R"("a\\b")");
    CHECK(quoted("\"\\\"") == R"("\"\\\"")");
  }
  SUBCASE("named control characters") {
    CHECK(quoted("\n") == R"("\n")");
    CHECK(quoted("\r") == R"("\r")");
    CHECK(quoted("\t") == R"("\t")");
    CHECK(quoted("\b") == R"("\b")");
    CHECK(quoted("\f") == R"("\f")");
  }
  SUBCASE("other control characters as \\u00XX with lowercase hex") {
    CHECK(quoted(std::string_view("\0", 1)) == R"("\u0000")");
    CHECK(quoted("\x01") == R"("\u0001")");
    CHECK(quoted("\x1b") == R"("\u001b")");
    CHECK(quoted("\x1f") == R"("\u001f")");
    CHECK(quoted("a\x01z") == R"("a\u0001z")");
  }
  SUBCASE("0x20 and above are not escaped (except quote and backslash)") {
    CHECK(quoted(" ~/") == "\" ~/\"");
    CHECK(quoted("\x7f") == "\"\x7f\"");
  }
  SUBCASE("UTF-8 passes through byte for byte") {
    CHECK(quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb9") ==
          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb9\"");
  }
  SUBCASE("the escaped output parses back to the original") {
    std::string original = "q\"b\\n\nt\tc\x01\x1f";
    original.push_back('\0');
    original += "\xc3\xa9";
    Writer w;
    w.value(original);
    Value v = parsed(w.str());
    REQUIRE(v.is_string());
    CHECK(v.as_string() == original);
  }
}

TEST_CASE("json writer: keys are escaped too") {
  Writer w;
  w.begin_object().field("a\"b", 1).end_object();
  CHECK(w.str() == R"({"a\"b":1})");
}

TEST_CASE("json writer: scalars") {
  auto one = [](auto v) {
    Writer w;
    w.value(v);
    return w.take();
  };
  CHECK(one(0) == "0");
  CHECK(one(-42) == "-42");
  CHECK(one(std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
  CHECK(one(std::numeric_limits<std::int64_t>::max()) == "9223372036854775807");
  CHECK(one(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
  CHECK(one(true) == "true");
  CHECK(one(false) == "false");
  CHECK(one(1.5) == "1.5");
  CHECK(one(std::numeric_limits<double>::infinity()) == "null");
  CHECK(one(std::optional<std::string>{}) == "null");
  CHECK(one(std::optional<std::string>{"x"}) == "\"x\"");
  Writer w;
  w.null();
  CHECK(w.str() == "null");
}

TEST_CASE("json writer: nesting and commas") {
  SUBCASE("empty containers") {
    Writer w;
    w.begin_object().key("a").begin_array().end_array().key("b").begin_object().end_object().end_object();
    CHECK(w.str() == R"({"a":[],"b":{}})");
  }
  SUBCASE("commas between members and items, never after the last") {
    Writer w;
    w.begin_object();
    w.key("list").begin_array().value(1).value("two").begin_object().end_object().null().end_array();
    w.field("n", -1);
    w.key("obj").begin_object().field("x", true).field("y", false).end_object();
    w.end_object();
    CHECK(w.str() == R"({"list":[1,"two",{},null],"n":-1,"obj":{"x":true,"y":false}})");
  }
  SUBCASE("arrays of arrays") {
    Writer w;
    w.begin_array().begin_array().value(1).end_array().begin_array().end_array().value(2).end_array();
    CHECK(w.str() == "[[1],[],2]");
  }
  SUBCASE("raw inserts a value verbatim, with commas around it") {
    Writer w;
    w.begin_array().value(1).raw(R"({"k":[1,2]})").value(3).end_array();
    CHECK(w.str() == R"([1,{"k":[1,2]},3])");
    Writer w2;
    w2.begin_object().key("a").raw("[true]").field("b", 2).end_object();
    CHECK(w2.str() == R"({"a":[true],"b":2})");
  }
}

// ------------------------------------------------------------------ parser

TEST_CASE("json parse: every type") {
  SUBCASE("null") { CHECK(parsed("null").is_null()); }
  SUBCASE("booleans") {
    CHECK(parsed("true").is_bool());
    CHECK(parsed("true").as_bool());
    CHECK_FALSE(parsed("false").as_bool());
  }
  SUBCASE("integer") {
    Value v = parsed("-17");
    CHECK(v.type() == Value::Type::integer);
    CHECK(v.is_integer());
    CHECK(v.as_int64() == std::optional<std::int64_t>(-17));
    CHECK(v.as_uint64() == std::nullopt);
  }
  SUBCASE("real") {
    Value v = parsed("2.5");
    CHECK(v.type() == Value::Type::real);
    CHECK_FALSE(v.is_integer());
    CHECK(v.is_number());
    CHECK(v.as_double() == 2.5);
    CHECK(v.as_int64() == std::nullopt);
    CHECK(parsed("1e3").type() == Value::Type::real);
    CHECK(parsed("1.0").type() == Value::Type::real);
  }
  SUBCASE("string with escapes is decoded") {
    Value v = parsed(R"("a\"b\\c\n\u00e9\ud83c\udf39")");
    REQUIRE(v.is_string());
    CHECK(v.as_string() == "a\"b\\c\n\xc3\xa9\xf0\x9f\x8c\xb9");
  }
  SUBCASE("array keeps order") {
    Value v = parsed(R"([1, "x", null, [true]])");
    REQUIRE(v.is_array());
    REQUIRE(v.items().size() == 4);
    CHECK(v.items()[0].as_int64() == std::optional<std::int64_t>(1));
    CHECK(v.items()[1].as_string() == "x");
    CHECK(v.items()[2].is_null());
    REQUIRE(v.items()[3].is_array());
    CHECK(v.items()[3].items()[0].as_bool());
  }
  SUBCASE("object keeps document order and supports lookup") {
    Value v = parsed(R"({"z": 1, "a": {"b": "c"}, "m": []})");
    REQUIRE(v.is_object());
    REQUIRE(v.members().size() == 3);
    CHECK(v.members()[0].first == "z");
    CHECK(v.members()[1].first == "a");
    CHECK(v.members()[2].first == "m");
    REQUIRE(v.find("a") != nullptr);
    REQUIRE(v.find("a")->find("b") != nullptr);
    CHECK(v.find("a")->find("b")->as_string() == "c");
    CHECK(v.find("nope") == nullptr);
    CHECK(parsed("[1]").find("a") == nullptr);  // not an object
  }
  SUBCASE("dump is compact and in document order") {
    CHECK(parsed(R"( { "b" : [ 1 , -2 , 3.5 ] , "a" : { } , "s" : "x\"y" , "n" : null } )").dump() ==
          R"({"b":[1,-2,3.5],"a":{},"s":"x\"y","n":null})");
  }
}

TEST_CASE("json parse: int64, uint64 and double are told apart") {
  SUBCASE("int64 bounds are integers") {
    Value min = parsed("-9223372036854775808");
    CHECK(min.is_integer());
    CHECK(min.as_int64() == std::numeric_limits<std::int64_t>::min());
    Value max = parsed("9223372036854775807");
    CHECK(max.is_integer());
    CHECK(max.as_int64() == std::numeric_limits<std::int64_t>::max());
    CHECK(max.as_uint64() == static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  }
  SUBCASE("above int64 max is an unsigned integer, not a double") {
    Value v = parsed("9223372036854775808");
    CHECK(v.type() == Value::Type::uinteger);
    CHECK(v.is_integer());
    CHECK(v.as_int64() == std::nullopt);
    CHECK(v.as_uint64() == std::optional<std::uint64_t>(9223372036854775808ull));
    Value max = parsed("18446744073709551615");
    CHECK(max.as_uint64() == std::numeric_limits<std::uint64_t>::max());
  }
  SUBCASE("a negative integer is not a uint64") { CHECK(parsed("-1").as_uint64() == std::nullopt); }
  SUBCASE("dump keeps big integers exact") {
    CHECK(parsed("[18446744073709551615,-9223372036854775808]").dump() ==
          "[18446744073709551615,-9223372036854775808]");
  }
}

TEST_CASE("json parse: integers beyond 64 bits are AMOUNT_OUT_OF_RANGE") {
  CHECK(code_name(parse_error("18446744073709551616")) == "AMOUNT_OUT_OF_RANGE");
  CHECK(code_name(parse_error("-9223372036854775809")) == "AMOUNT_OUT_OF_RANGE");
  CHECK(code_name(parse_error(R"({"quantity": 99999999999999999999999})")) == "AMOUNT_OUT_OF_RANGE");
}

TEST_CASE("json parse: duplicate keys are refused") {
  CHECK(code_name(parse_error(R"({"a":1,"a":2})")) == "MALFORMED_JSON");
  CHECK(code_name(parse_error(R"({"x":{"a":1,"b":2,"a":3}})")) == "MALFORMED_JSON");
  CHECK(code_name(parse_error(R"([{"k":1},{"k":1,"k":1}])")) == "MALFORMED_JSON");
  SUBCASE("keys equal after unescaping are duplicates") {
    CHECK(code_name(parse_error(R"({"a":1,"\u0061":2})")) == "MALFORMED_JSON");
  }
  SUBCASE("in a large object too") {
    std::string big = "{";
    for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    CHECK(parse(big + "\"k39\":0}").error().code == Code::malformed_json);
    CHECK(parse(big + "\"k40\":0}").ok());
  }
  SUBCASE("the same key in sibling objects is fine") {
    CHECK(parse(R"([{"a":1},{"a":2}])").ok());
    CHECK(parse(R"({"a":{"a":{"a":1}}})").ok());
  }
}

TEST_CASE("json parse: nesting depth is limited") {
  SUBCASE("32 levels are accepted by default, 33 are not") {
    CHECK(parse(nested_arrays(32)).ok());
    CHECK(code_name(parse_error(nested_arrays(33))) == "MALFORMED_JSON");
    CHECK(parse(nested_objects(32)).ok());
    CHECK(code_name(parse_error(nested_objects(33))) == "MALFORMED_JSON");
  }
  SUBCASE("a custom limit") {
    CHECK(parse(nested_arrays(3), ParseLimits{3}).ok());
    CHECK(code_name(parse_error(nested_arrays(4), ParseLimits{3})) == "MALFORMED_JSON");
    CHECK(code_name(parse_error(R"({"a":[{"b":1}]})", ParseLimits{2})) == "MALFORMED_JSON");
  }
  SUBCASE("very deep input is refused, not a crash") {
    CHECK(code_name(parse_error(nested_arrays(5000))) == "MALFORMED_JSON");
    CHECK(code_name(parse_error(std::string(100000, '['))) == "MALFORMED_JSON");
  }
}

TEST_CASE("json parse: empty and malformed input is MALFORMED_JSON") {
  for (const char* text : {"", "   ", "\n", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "'x'",
                           "tru", "nul", "01", "1.", "-", "+1", "\"unterminated", "[1 2]", "{\"a\":1,}",
                           "NaN", "Infinity", "{} {}", "[] x", "\"\\x\"", "[1.]", "-01", "1e",
                           "[00]", "{\"q\":1.e5}"}) {
    CAPTURE(text);
    CHECK(code_name(parse_error(text)) == "MALFORMED_JSON");
  }
}

TEST_CASE("json parse: invalid UTF-8 and raw control characters are malformed") {
  CHECK(code_name(parse_error("\"\xff\"")) == "MALFORMED_JSON");
  CHECK(code_name(parse_error("\"a\nb\"")) == "MALFORMED_JSON");
}

TEST_CASE("json parse: the empty body has its own message") {
  auto r = parse("");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::malformed_json);
  CHECK(contains(r.error().message, "empty"));
}

// ------------------------------------------------------------------ reader

TEST_CASE("ObjectReader: typed fields") {
  Value doc = parsed(R"({"s":"text","i":-5,"u":7,"b":true,"o":{"x":1},"a":[1,2],"n":null})");
  ObjectReader r(&doc, "");
  CHECK(r.string("s") == std::optional<std::string>("text"));
  CHECK(r.int64("i") == std::optional<std::int64_t>(-5));
  CHECK(r.uint64("u") == std::optional<std::uint64_t>(7));
  CHECK(r.boolean("b") == std::optional<bool>(true));
  const Value* o = r.object("o");
  REQUIRE(o != nullptr);
  CHECK(o->find("x") != nullptr);
  const Value* a = r.array("a");
  REQUIRE(a != nullptr);
  CHECK(a->items().size() == 2);
  CHECK(r.any("n") != nullptr);
  CHECK(r.any("missing") == nullptr);
  CHECK(r.ok());
}

TEST_CASE("ObjectReader: optional fields") {
  Value doc = parsed(R"({"n":null})");
  ObjectReader r(&doc, "");
  CHECK(r.string("absent", false) == std::nullopt);
  CHECK(r.int64("n", false) == std::nullopt);  // null counts as absent
  CHECK(r.uint64("absent", false) == std::nullopt);
  CHECK(r.boolean("absent", false) == std::nullopt);
  CHECK(r.object("absent", false) == nullptr);
  CHECK(r.array("n", false) == nullptr);
  CHECK(r.ok());
}

TEST_CASE("ObjectReader: a missing required field is INVALID_BODY naming the dotted path") {
  Value doc = parsed(R"({"command":{"kind":"add_item"}})");
  ObjectReader root(&doc, "");
  const Value* cmd = root.object("command");
  REQUIRE(cmd != nullptr);
  ObjectReader r(cmd, "command");
  CHECK(r.int64("quantity") == std::nullopt);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::invalid_body);
  CHECK(contains(r.error().message, "'command.quantity'"));
  CHECK(r.path_of("x") == "command.x");
  CHECK(root.path_of("x") == "x");

  SUBCASE("at the root the bare name is used") {
    ObjectReader top(&doc, "");
    CHECK(top.string("cart_id") == std::nullopt);
    REQUIRE_FALSE(top.ok());
    CHECK(contains(top.error().message, "'cart_id'"));
  }
  SUBCASE("a required null counts as missing") {
    Value d = parsed(R"({"q":null})");
    ObjectReader n(&d, "cmd");
    CHECK(n.int64("q") == std::nullopt);
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().code == Code::invalid_body);
    CHECK(contains(n.error().message, "'cmd.q'"));
  }
}

TEST_CASE("ObjectReader: wrong types are INVALID_BODY naming the field") {
  Value doc = parsed(R"({"s":1,"i":"1","f":1.5,"b":"true","o":[],"a":{}})");
  struct Case {
    const char* name;
    bool (*read)(ObjectReader&);
    const char* field;
  };
  const Case cases[] = {
      {"string from number", [](ObjectReader& r) { return r.string("s").has_value(); }, "'c.s'"},
      {"int64 from string", [](ObjectReader& r) { return r.int64("i").has_value(); }, "'c.i'"},
      {"int64 from double", [](ObjectReader& r) { return r.int64("f").has_value(); }, "'c.f'"},
      {"uint64 from double", [](ObjectReader& r) { return r.uint64("f").has_value(); }, "'c.f'"},
      {"uint64 from string", [](ObjectReader& r) { return r.uint64("i").has_value(); }, "'c.i'"},
      {"boolean from string", [](ObjectReader& r) { return r.boolean("b").has_value(); }, "'c.b'"},
      {"object from array", [](ObjectReader& r) { return r.object("o") != nullptr; }, "'c.o'"},
      {"array from object", [](ObjectReader& r) { return r.array("a") != nullptr; }, "'c.a'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    ObjectReader r(&doc, "c");
    CHECK_FALSE(c.read(r));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::invalid_body);
    CHECK(contains(r.error().message, c.field));
  }
}

TEST_CASE("ObjectReader: a negative number is refused as uint64") {
  Value doc = parsed(R"({"expected_version":-1})");
  ObjectReader r(&doc, "command");
  CHECK(r.uint64("expected_version") == std::nullopt);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Code::invalid_body);
  CHECK(contains(r.error().message, "'command.expected_version'"));
}

TEST_CASE("ObjectReader: numbers at the 64-bit edges") {
  Value doc = parsed(R"({"big":9223372036854775808,"umax":18446744073709551615,"zero":0})");
  SUBCASE("uint64 reads values above int64 max") {
    ObjectReader r(&doc, "");
    CHECK(r.uint64("big") == std::optional<std::uint64_t>(9223372036854775808ull));
    CHECK(r.uint64("umax") == std::numeric_limits<std::uint64_t>::max());
    CHECK(r.uint64("zero") == std::optional<std::uint64_t>(0));
    CHECK(r.ok());
  }
  SUBCASE("int64 of a value above int64 max is AMOUNT_OUT_OF_RANGE") {
    ObjectReader r(&doc, "");
    CHECK(r.int64("big") == std::nullopt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::amount_out_of_range);
    CHECK(contains(r.error().message, "'big'"));
  }
}

TEST_CASE("ObjectReader: the first error is kept and later reads return nothing") {
  Value doc = parsed(R"({"a":"x","b":2,"c":"ok"})");
  ObjectReader r(&doc, "p");
  CHECK(r.int64("a") == std::nullopt);  // first problem: wrong type of p.a
  CHECK(r.string("missing") == std::nullopt);
  CHECK(r.int64("b") == std::nullopt);      // valid, but reading stopped
  CHECK(r.string("c") == std::nullopt);     // valid, but reading stopped
  CHECK(r.object("missing2") == nullptr);
  CHECK(r.any("c") == nullptr);
  REQUIRE_FALSE(r.ok());
  CHECK(contains(r.error().message, "'p.a'"));
  CHECK_FALSE(contains(r.error().message, "missing"));
  r.fail(orch::Error(Code::internal_error, "later"));
  CHECK(r.error().code == Code::invalid_body);
  CHECK(contains(r.error().message, "'p.a'"));
}

TEST_CASE("ObjectReader: a non-object is INVALID_BODY") {
  SUBCASE("root") {
    Value doc = parsed("[1]");
    ObjectReader r(&doc, "");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::invalid_body);
    CHECK(contains(r.error().message, "request body"));
    CHECK(r.string("a", false) == std::nullopt);
  }
  SUBCASE("nested, named by path") {
    Value doc = parsed("\"str\"");
    ObjectReader r(&doc, "command");
    REQUIRE_FALSE(r.ok());
    CHECK(contains(r.error().message, "'command'"));
  }
  SUBCASE("null pointer") {
    ObjectReader r(nullptr, "x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Code::invalid_body);
    CHECK(r.any("a") == nullptr);
  }
}

TEST_CASE("validation_failed lists every problem in the message and the details") {
  orch::Error e = orch::validation_failed({"item_id required", "quantity must be between 1 and 10000"});
  CHECK(e.code == Code::validation_error);
  CHECK(code_name(e.code) == "VALIDATION_ERROR");
  CHECK(e.details == std::vector<std::string>{"item_id required", "quantity must be between 1 and 10000"});
  CHECK(contains(e.message, "item_id required"));
  CHECK(contains(e.message, "quantity must be between 1 and 10000"));
  CHECK(e.message.find("item_id") < e.message.find("quantity"));
}
