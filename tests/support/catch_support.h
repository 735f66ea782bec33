// Catch2 helpers shared by the core/ unit tests (header-only; the benchmark
// does not include it).
#ifndef TOKENFS_TESTS_SUPPORT_CATCH_SUPPORT_H_
#define TOKENFS_TESTS_SUPPORT_CATCH_SUPPORT_H_

#include <catch2/catch.hpp>
#include <string_view>

#include "core/sid.h"

namespace tokenfs::test {

// The SID `text` names; fails the test when it does not parse.
inline Sid ParseSidOrDie(std::string_view text) {
  auto sid = Sid::Parse(text);
  REQUIRE(sid.has_value());
  return *sid;
}

}  // namespace tokenfs::test

#endif  // TOKENFS_TESTS_SUPPORT_CATCH_SUPPORT_H_
