#include "tokenfs/kernel_cache.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

namespace tokenfs {
namespace {

// No inode is ever named below, so no notification reaches the (absent)
// session.
TEST_CASE("kernel cache: each kick runs a notifier pass, and stop ends it",
          "[kernel_cache]") {
  std::atomic<int> passes{0};
  KernelCache cache;
  cache.Start(nullptr, [&passes] {
    ++passes;
    return std::vector<uint64_t>{};
  });
  cache.Kick();
  for (int wait = 0; wait < 200 && passes == 0; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(passes >= 1);
  const auto started = std::chrono::steady_clock::now();
  CHECK(cache.Stop());
  CHECK(std::chrono::steady_clock::now() - started < KernelCache::kStopWait);
  CHECK(cache.Stop());  // a second stop has nothing to do
}

TEST_CASE("kernel cache: stop leaves a stuck pass behind instead of waiting",
          "[kernel_cache]") {
  std::atomic<bool> release{false};
  std::atomic<bool> entered{false};
  KernelCache cache;
  cache.Start(nullptr, [&] {
    entered = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return std::vector<uint64_t>{};
  });
  cache.Kick();
  for (int wait = 0; wait < 200 && !entered; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(entered);
  CHECK_FALSE(cache.Stop());
  // The thread left behind ends by itself once its pass returns.
  release = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

TEST_CASE("kernel cache: without a session nothing can be invalidated",
          "[kernel_cache]") {
  KernelCache cache;
  CHECK_FALSE(cache.InvalidateAttributes(42));
}

}  // namespace
}  // namespace tokenfs
