#include "tokenfs/page_cache_state.h"

#include <catch2/catch.hpp>
#include <cstdint>

namespace tokenfs {
namespace {

using OpenMode = PageCacheState::OpenMode;

constexpr uint64_t kInode = 0x8000000000000042;

TEST_CASE("page cache: the first open of a snapshot is cold, later ones warm",
          "[page_cache]") {
  PageCacheState state;
  CHECK(state.Open(kInode, 1, 7, 100) == OpenMode::kCold);
  // The cold open has not shown that its page drop happened yet: another
  // open of the same snapshot must not trust the pages either.
  CHECK(state.Open(kInode, 2, 7, 100) == OpenMode::kCold);
  state.Confirm(kInode, 1);
  CHECK(state.Open(kInode, 3, 7, 100) == OpenMode::kWarm);
  state.Close(kInode, 1);
  state.Close(kInode, 2);
  state.Close(kInode, 3);
  CHECK(state.Open(kInode, 4, 7, 100) == OpenMode::kWarm);
}

TEST_CASE("page cache: a new snapshot makes the next open cold",
          "[page_cache]") {
  PageCacheState state;
  REQUIRE(state.Open(kInode, 1, 7, 100) == OpenMode::kCold);
  state.Confirm(kInode, 1);
  state.Close(kInode, 1);
  CHECK(state.Open(kInode, 2, 8, 90) == OpenMode::kCold);
  state.Close(kInode, 2);
  // Its page drop was never confirmed (no request on it): still cold.
  CHECK(state.Open(kInode, 3, 8, 90) == OpenMode::kCold);
  state.Confirm(kInode, 3);
  state.Close(kInode, 3);
  CHECK(state.Open(kInode, 4, 8, 90) == OpenMode::kWarm);
}

TEST_CASE(
    "page cache: an open of another snapshot while one is open is "
    "direct",
    "[page_cache]") {
  PageCacheState state;
  REQUIRE(state.Open(kInode, 1, 7, 100) == OpenMode::kCold);
  state.Confirm(kInode, 1);
  // Handle 1 may still fill pages with snapshot 7.
  CHECK(state.Open(kInode, 2, 8, 90) == OpenMode::kDirect);
  CHECK(state.Open(kInode, 3, 6, 80) == OpenMode::kDirect);
  CHECK(state.handles() == 1);
  state.Close(kInode, 1);
  CHECK(state.Open(kInode, 4, 8, 90) == OpenMode::kCold);
}

TEST_CASE("page cache: a token no object published is never page-cached",
          "[page_cache]") {
  PageCacheState state;
  CHECK(state.Open(kInode, 1, 0, 10) == OpenMode::kDirect);
  CHECK(state.handles() == 0);
}

TEST_CASE(
    "page cache: attributes give the open handles' size, else the "
    "current one",
    "[page_cache]") {
  PageCacheState state;
  REQUIRE(state.Open(kInode, 1, 7, 100) == OpenMode::kCold);
  state.Confirm(kInode, 1);
  // The token changed to snapshot 8 while handle 1 reads snapshot 7.
  CHECK(state.Report(kInode, 8, 90) == 100);
  CHECK(state.Open(kInode, 2, 7, 100) == OpenMode::kWarm);
  state.Close(kInode, 1);
  state.Close(kInode, 2);
  CHECK(state.Report(kInode, 8, 90) == 90);
}

TEST_CASE(
    "page cache: a reported size of another snapshot makes the next "
    "open cold",
    "[page_cache]") {
  PageCacheState state;
  REQUIRE(state.Open(kInode, 1, 7, 100) == OpenMode::kCold);
  state.Confirm(kInode, 1);
  state.Close(kInode, 1);
  // The kernel may now hold snapshot 8's size with snapshot 7's pages; an
  // open that still shows 7 must not trust that size.
  CHECK(state.Report(kInode, 8, 90) == 90);
  CHECK(state.Open(kInode, 2, 7, 100) == OpenMode::kCold);
  state.Close(kInode, 2);
  // Reporting the cached snapshot's own size keeps it warm.
  REQUIRE(state.Open(kInode, 3, 7, 100) == OpenMode::kCold);
  state.Confirm(kInode, 3);
  state.Close(kInode, 3);
  CHECK(state.Report(kInode, 7, 100) == 100);
  CHECK(state.Open(kInode, 4, 7, 100) == OpenMode::kWarm);
}

TEST_CASE(
    "page cache: forgetting what the kernel showed makes the inode "
    "cold and unlisted",
    "[page_cache]") {
  PageCacheState state;
  REQUIRE(state.Open(kInode, 1, 7, 100) == OpenMode::kCold);
  state.Confirm(kInode, 1);
  state.Close(kInode, 1);
  auto showing = state.Showing();
  REQUIRE(showing.size() == 1);
  CHECK(showing[0].inode == kInode);
  CHECK(showing[0].serial == 7);
  // Forgetting an older snapshot than the one shown changes nothing.
  state.Forget(kInode, 6);
  CHECK(state.Showing().size() == 1);
  state.Forget(kInode, 7);
  CHECK(state.Showing().empty());
  CHECK(state.Open(kInode, 2, 7, 100) == OpenMode::kCold);
}

TEST_CASE("page cache: idle inodes are bounded, least recently used first",
          "[page_cache]") {
  PageCacheState state;
  const size_t total =
      PageCacheState::kShards * (PageCacheState::kMaxIdlePerShard + 10);
  for (uint64_t inode = 1; inode <= total; ++inode) {
    REQUIRE(state.Open(inode, inode, 5, 10) == OpenMode::kCold);
    state.Confirm(inode, inode);
    state.Close(inode, inode);
  }
  CHECK(state.inodes() ==
        PageCacheState::kShards * PageCacheState::kMaxIdlePerShard);
  CHECK(state.handles() == 0);
  // The most recent inode is remembered (warm), the first was evicted.
  CHECK(state.Open(total, 1, 5, 10) == OpenMode::kWarm);
  CHECK(state.Open(1, 2, 5, 10) == OpenMode::kCold);
}

TEST_CASE("page cache: inodes with open handles are never evicted",
          "[page_cache]") {
  PageCacheState state;
  REQUIRE(state.Open(kInode, 999999, 5, 10) == OpenMode::kCold);
  state.Confirm(kInode, 999999);
  const size_t total =
      PageCacheState::kShards * (PageCacheState::kMaxIdlePerShard + 10);
  for (uint64_t inode = 1; inode <= total; ++inode) {
    (void)state.Report(inode * PageCacheState::kShards + kInode, 3, 10);
  }
  // Still open at snapshot 5: another snapshot is direct.
  CHECK(state.Open(kInode, 2, 6, 10) == OpenMode::kDirect);
  CHECK(state.Open(kInode, 3, 5, 10) == OpenMode::kWarm);
}

}  // namespace
}  // namespace tokenfs
