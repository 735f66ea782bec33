#include "core/strict_json.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tokenfs {
namespace {

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

}  // namespace
}  // namespace tokenfs
