#include "core/ascii.h"

#include <catch2/catch.hpp>

namespace tokenfs {
namespace {

TEST_CASE("names compare equal ignoring ASCII case only") {
  CHECK(EqualsIgnoreCase("SeDebugPrivilege", "sedebugprivilege"));
  CHECK(EqualsIgnoreCase("", ""));
  CHECK_FALSE(EqualsIgnoreCase("SeDebug", "SeDebu"));
  CHECK_FALSE(EqualsIgnoreCase("a", "b"));
  // Bytes outside ASCII are compared as they are (no locale folding).
  CHECK_FALSE(EqualsIgnoreCase("\xc3\xa9", "\xc3\x89"));
}

TEST_CASE("case conversion and trimming touch ASCII only") {
  CHECK(AsciiLower("GENERIC_Read") == "generic_read");
  CHECK(AsciiUpper("nw-\xc3\xa9") == "NW-\xc3\xa9");
  CHECK(TrimAsciiSpace(" \t\n x y \r\n") == "x y");
  CHECK(TrimAsciiSpace("   ").empty());
}

TEST_CASE("strings are quoted for display like C literals") {
  CHECK(QuoteForDisplay("R&D") == "\"R&D\"");
  CHECK(QuoteForDisplay("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\n\\x01\"");
  CHECK(QuoteForDisplay("\t\r\x7f") == "\"\\t\\r\\x7f\"");
}

TEST_CASE("edit distance counts single-byte insertions, deletions, changes") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("query", "query") == 0);
  CHECK(EditDistance("qeury", "query") == 2);
  CHECK(EditDistance("privs", "priv") == 1);
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("kitten", "sitting") == 3);
}

}  // namespace
}  // namespace tokenfs
