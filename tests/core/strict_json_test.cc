#include "core/strict_json.h"

#include <catch2/catch.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenfs {
namespace {

using Json = nlohmann::json;
using Kind = StrictJsonError::Kind;

// ---- Valid text: the value, as nlohmann dumps it.

TEST_CASE("strict JSON reads what nlohmann reads") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{}", "{}"},
      {"[]", "[]"},
      {"null", "null"},
      {" 17 ", "17"},
      {"-3", "-3"},
      {"18446744073709551615", "18446744073709551615"},
      {"1.5", "1.5"},
      {R"("a\u00e9")", "\"a\xc3\xa9\""},
      {R"({"b": [1, {"c": true}], "a": null})",
       R"({"a":null,"b":[1,{"c":true}]})"},
      // The same key in different objects is no repetition.
      {R"({"a": {"x": 1}, "b": {"x": 2}})", R"({"a":{"x":1},"b":{"x":2}})"},
  };
  for (const auto& [text, dump] : cases) {
    INFO(text);
    auto value = ReadStrictJson(text, 8);
    REQUIRE(value);
    CHECK(value->dump() == dump);
    // Round trip: the dump reads back to the same value.
    auto again = ReadStrictJson(value->dump(), 8);
    REQUIRE(again);
    CHECK(*again == *value);
  }
}

// ---- Invalid text: what is refused, and where.

struct Invalid {
  std::string text;
  Kind kind;
  std::string path;
  std::string key;
};

TEST_CASE("strict JSON refuses repeated keys, deep nesting and bad syntax") {
  const std::vector<Invalid> cases = {
      {R"({"a": 1, "a": 2})", Kind::kRepeatedKey, "", "a"},
      {R"({"x": {"a": 1, "a": 1}})", Kind::kRepeatedKey, "x", "a"},
      {R"({"g": [{}, {"s": 1, "s": 2}]})", Kind::kRepeatedKey, "g[1]", "s"},
      {R"({"a": [1, [2, [3]]]})", Kind::kTooDeep, "a[1]", ""},
      {"[[[[1]]]]", Kind::kTooDeep, "[0][0]", ""},
      {"", Kind::kSyntax, "", ""},
      {R"({"a": 1,})", Kind::kSyntax, "", ""},
      {"[1] 2", Kind::kSyntax, "", ""},
  };
  for (const Invalid& test : cases) {
    INFO(test.text);
    auto value = ReadStrictJson(test.text, 3);
    REQUIRE_FALSE(value);
    CHECK(value.error().kind == test.kind);
    CHECK(value.error().path == test.path);
    CHECK(value.error().key == test.key);
  }
}

TEST_CASE("a syntax error carries nlohmann's position and message") {
  auto value = ReadStrictJson("{\"a\": tru}", 8);
  REQUIRE_FALSE(value);
  CHECK(value.error().kind == Kind::kSyntax);
  CHECK(value.error().position == 10);
  CHECK(JsonErrorWithoutTag(value.error().what) ==
        "parse error at line 1, column 10: syntax error while parsing value "
        "- invalid literal; last read: '\"a\": tru}'");
}

TEST_CASE("a depth limit of one allows a flat container only") {
  CHECK(ReadStrictJson("[1, 2]", 1));
  CHECK(ReadStrictJson("3", 1));
  auto nested = ReadStrictJson("[[1]]", 1);
  REQUIRE_FALSE(nested);
  CHECK(nested.error().kind == Kind::kTooDeep);
}

TEST_CASE("child paths and error tags") {
  CHECK(JsonChildPath("", "a") == "a");
  CHECK(JsonChildPath("g[2]", "sid") == "g[2].sid");
  CHECK(JsonErrorWithoutTag("[json.exception.parse_error.101] parse error") ==
        "parse error");
  CHECK(JsonErrorWithoutTag("no tag") == "no tag");
}

TEST_CASE("every reader words a refused document the same way") {
  const struct {
    const char* text;
    size_t max_depth;
    const char* message;
  } rows[] = {
      {"{\"a\": tru}", 8,
       "JSON parse error at line 1, column 10: syntax error while parsing "
       "value - invalid literal; last read: '\"a\": tru}'"},
      // nlohmann would say line 3, column 0: it has read the newline.
      {"{\n  \"x\": tru\n}", 8,
       "JSON parse error at line 2, column 11: syntax error while parsing "
       "value - invalid literal; last read: '\"x\": tru<U+000A>'"},
      {"", 8,
       "JSON parse error at line 1, column 1: syntax error while parsing "
       "value - unexpected end of input; expected '[', '{', or a literal"},
      {R"({"a": 1, "a": 2})", 8, "repeated key 'a'"},
      {R"({"g": [{"s": 1, "s": 2}]})", 8, "g[0]: repeated key 's'"},
      {"[[[1]]]", 2, "JSON nests deeper than 2 levels"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto value = ReadStrictJson(row.text, row.max_depth);
    REQUIRE_FALSE(value);
    CHECK(JsonReadErrorMessage(value.error(), row.text, row.max_depth) ==
          row.message);
  }
}

TEST_CASE("line and column count from 1 and restart after a newline") {
  CHECK(JsonLineAndColumn("", 0) == std::pair{1, 1});
  CHECK(JsonLineAndColumn("abc", 3) == std::pair{1, 3});
  CHECK(JsonLineAndColumn("ab\ncd", 3) == std::pair{1, 3});
  CHECK(JsonLineAndColumn("ab\ncd", 4) == std::pair{2, 1});
  CHECK(JsonLineAndColumn("ab\ncd", 99) == std::pair{2, 3});  // the end
}

TEST_CASE("type, missing and unknown key messages") {
  const Json values[] = {nullptr, true, "s",           1,
                         -1,      1.5,  Json::array(), Json::object()};
  const char* const kinds[] = {"null",     "a boolean", "a string",
                               "a number", "a number",  "a fractional number",
                               "an array", "an object"};
  for (size_t i = 0; i < std::size(values); ++i) {
    CHECK(JsonKindName(values[i]) == kinds[i]);
  }
  CHECK(JsonWrongTypeMessage("a string", Json(5)) ==
        "expected a string, found a number");
  CHECK(JsonMissingKeyMessage("sid") == "missing key 'sid'");
  CHECK(JsonAtPath("", "problem") == "problem");
  CHECK(JsonAtPath("a.b", "problem") == "a.b: problem");
  CHECK(JsonElementPath("g", 2) == "g[2]");

  constexpr std::string_view kFew[] = {"name", "id"};
  constexpr std::string_view kMany[] = {"a1", "b2", "c3", "d4",
                                        "e5", "f6", "g7"};
  const struct {
    const char* text;
    std::span<const std::string_view> allowed;
    const char* message;
  } rows[] = {
      {R"({"name": 1, "id": 2})", kFew, ""},
      {R"({"nmae": 1})", kFew, "unknown key 'nmae' (did you mean 'name'?)"},
      {R"({"zzzzzz": 1})", kFew, "unknown key 'zzzzzz' (name, id)"},
      {R"({"zzzzzz": 1})", kMany, "unknown key 'zzzzzz'"},
      {R"({"a1": 1, "xyzw": 2})", kMany, "unknown key 'xyzw'"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    CHECK(JsonUnknownKeyMessage(Json::parse(row.text), row.allowed) ==
          row.message);
  }
}

}  // namespace
}  // namespace tokenfs
