#include "core/sid_type.h"

#include <catch2/catch.hpp>
#include <string>

namespace tokenfs {
namespace {

std::string TypeOf(const char* text) {
  const auto sid = Sid::Parse(text);
  REQUIRE(sid.has_value());
  return std::string(SidTypeName(SidTypeOf(*sid)));
}

TEST_CASE("SIDs in a token get whoami /groups' types") {
  CHECK(TypeOf("S-1-1-0") == "well-known group");        // Everyone
  CHECK(TypeOf("S-1-2-0") == "well-known group");        // Local
  CHECK(TypeOf("S-1-5-11") == "well-known group");       // Authenticated Users
  CHECK(TypeOf("S-1-5-4") == "well-known group");        // Interactive
  CHECK(TypeOf("S-1-5-18") == "well-known group");       // Local System
  CHECK(TypeOf("S-1-5-32-544") == "alias");              // Administrators
  CHECK(TypeOf("S-1-5-32-551") == "alias");              // Backup Operators
  CHECK(TypeOf("S-1-16-8192") == "label");               // Medium
  CHECK(TypeOf("S-1-5-5-0-42") == "logon");
  CHECK(TypeOf("S-1-5-5-1-7") == "logon");
  CHECK(TypeOf("S-1-22-1-1000") == "user");
  CHECK(TypeOf("S-1-22-2-1000") == "group");
  CHECK(TypeOf("S-1-5-21-1-2-3-513") == "group");
}

}  // namespace
}  // namespace tokenfs
