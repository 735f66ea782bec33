#include <catch2/catch.hpp>

#include "tokenfs/filesystem.h"

namespace tokenfs {
namespace {

constexpr size_t kLimit = OpenContentBudget::kBytesPerUid;

TEST_CASE("a uid's open content is limited, another uid's is its own") {
  OpenContentBudget budget;
  CHECK(budget.Charge(1000, kLimit - 10));
  CHECK(budget.Charge(1000, 10));
  CHECK_FALSE(budget.Charge(1000, 1));
  CHECK(budget.held(1000) == kLimit);
  // One user's open files never stop another's.
  CHECK(budget.Charge(1001, kLimit));
  budget.Release(1000, 10);
  CHECK(budget.Charge(1000, 5));
  CHECK(budget.held(1000) == kLimit - 5);
}

TEST_CASE("a refused charge reserves nothing") {
  OpenContentBudget budget;
  CHECK_FALSE(budget.Charge(1000, kLimit + 1));
  CHECK(budget.held(1000) == 0);
  CHECK(budget.Charge(1000, kLimit));
}

TEST_CASE("a hold gives its bytes back when it ends") {
  OpenContentBudget budget;
  REQUIRE(budget.Charge(1000, 4096));
  {
    OpenContentBudget::Hold hold(&budget, 1000, 4096);
    CHECK(budget.held(1000) == 4096);
  }
  CHECK(budget.held(1000) == 0);
  // Releasing more than is held never wraps around.
  budget.Release(1000, 1);
  CHECK(budget.held(1000) == 0);
  CHECK(budget.Charge(1000, kLimit));
}

}  // namespace
}  // namespace tokenfs
