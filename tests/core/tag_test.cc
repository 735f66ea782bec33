#include "core/tag.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tokenfs {

// ---- Grammar: the three parser tables.

TEST_CASE("tags parse to their canonical (lower-case) spelling") {
  struct Case {
    std::string input;
    std::string canonical;
  };
  const std::string longest(64, 'x');
  const Case cases[] = {
      {"build", "build"},
      {"Build", "build"},
      {"ci-42", "ci-42"},
      {"team.payments", "team.payments"},
      {"env=prod", "env=prod"},
      {"owner:alice", "owner:alice"},
      {"path/to_thing", "path/to_thing"},
      {"7", "7"},
      {longest, longest},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    Result<std::string> parsed = ParseTag(c.input);
    REQUIRE(parsed);
    CHECK(*parsed == c.canonical);
  }
}

TEST_CASE("tags that break the grammar are refused with a column") {
  struct Case {
    std::string input;
    std::string message;
    int column;
  };
  const Case cases[] = {
      {"", "tag is empty", 1},
      {std::string(65, 'x'),
       "tag 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is longer than 64 "
       "characters",
       65},
      {"-x", "tag '-x': invalid character '-' at column 1 (a tag starts with "
             "a letter or digit)",
       1},
      {"a b", "tag 'a\\x20b': invalid character '\\x20' at column 2 (letters, "
              "digits and . _ - : = / only)",
       2},
      {"caf\xc3\xa9", "tag 'caf\\xc3\\xa9': invalid character '\\xc3' at "
                      "column 4 (letters, digits and . _ - : = / only)",
       4},
      {"a\nb", "tag 'a\\x0ab': invalid character '\\x0a' at column 2 "
               "(letters, digits and . _ - : = / only)",
       2},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    Result<std::string> parsed = ParseTag(c.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message == c.message);
    CHECK(parsed.error().column == c.column);
  }
}

TEST_CASE("a canonical tag parses back to itself") {
  for (std::string_view input : {"Build", "ENV=Prod", "a.B-c_d:e/f", "0"}) {
    INFO(input);
    Result<std::string> first = ParseTag(input);
    REQUIRE(first);
    Result<std::string> second = ParseTag(*first);
    REQUIRE(second);
    CHECK(*second == *first);
  }
}

TEST_CASE("applying tag commands keeps a sorted set, bounded") {
  std::vector<std::string> tags;
  auto b = ApplyTagCommand(tags, TagCommand{true, "b"});
  REQUIRE(b);
  auto ab = ApplyTagCommand(*b, TagCommand{true, "a"});
  REQUIRE(ab);
  CHECK(*ab == std::vector<std::string>{"a", "b"});
  auto again = ApplyTagCommand(*ab, TagCommand{true, "a"});
  REQUIRE(again);
  CHECK(*again == *ab);  // adding a held tag changes nothing
  auto gone = ApplyTagCommand(*ab, TagCommand{false, "zz"});
  REQUIRE(gone);
  CHECK(*gone == *ab);  // removing an absent tag changes nothing
  auto removed = ApplyTagCommand(*ab, TagCommand{false, "a"});
  REQUIRE(removed);
  CHECK(*removed == std::vector<std::string>{"b"});
  CHECK(RenderTags(*ab) == "a\nb\n");
  CHECK(RenderTags({}) == "");

  std::vector<std::string> full;
  for (size_t i = 0; i < kMaxTags; ++i) full.push_back("t" + std::to_string(i));
  auto over = ApplyTagCommand(full, TagCommand{true, "one-more"});
  REQUIRE_FALSE(over);
  CHECK(over.error().code == ErrorCode::kResourceExhausted);
  CHECK(over.error().message == "a token object holds at most 32 tags");
}

}  // namespace tokenfs
