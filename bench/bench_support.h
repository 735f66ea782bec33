// Helpers both libc-only latency harnesses share (fuse_bench, adjust_bench):
// the clock, count parsing and percentiles, so that the two report the same
// statistic the same way.
//
// Thread-safety: pure functions (NowNs reads CLOCK_MONOTONIC).
#ifndef TOKENFS_BENCH_BENCH_SUPPORT_H_
#define TOKENFS_BENCH_BENCH_SUPPORT_H_

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace tokenfs::bench {

// Nanoseconds of CLOCK_MONOTONIC.
inline int64_t NowNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// A decimal count of at least `minimum`; false (and *value unchanged) for
// anything else.
inline bool ParseCount(std::string_view text, long minimum, long* value) {
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const long parsed = std::strtol(copy.c_str(), &end, 10);
  if (errno != 0 || end == copy.c_str() || *end != '\0' || parsed < minimum) {
    return false;
  }
  *value = parsed;
  return true;
}

// The `fraction` percentile (nearest rank) of `sorted` nanoseconds, in µs;
// 0 for no samples.
inline double Percentile(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(
      fraction * static_cast<double>(sorted.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1000.0;
}

}  // namespace tokenfs::bench

#endif  // TOKENFS_BENCH_BENCH_SUPPORT_H_
