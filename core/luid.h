// Luid: a locally unique 64-bit identifier (token ids, modified ids,
// authentication ids, source ids), and the allocator that hands them out.
//
// A distinct type so an id never mixes with a count or a mask. LuidAllocator
// hands out strictly increasing values starting at a chosen first value; ids
// 0..999 are left to the well-known logon sessions (SYSTEM 0x3e7, anonymous
// 0x3e6) as in Windows.
//
// Thread-safety: Luid is a value; LuidAllocator::Next is safe to call from
// several threads (one atomic).
#ifndef TOKENFS_CORE_LUID_H_
#define TOKENFS_CORE_LUID_H_

#include <atomic>
#include <compare>
#include <cstdint>

namespace tokenfs {

struct Luid {
  uint64_t value = 0;
  friend constexpr auto operator<=>(Luid, Luid) = default;
};

class LuidAllocator {
 public:
  explicit LuidAllocator(uint64_t first = 0x10000) : next_(first) {}
  LuidAllocator(const LuidAllocator&) = delete;
  LuidAllocator& operator=(const LuidAllocator&) = delete;

  Luid Next() { return Luid{next_.fetch_add(1, std::memory_order_relaxed)}; }

 private:
  std::atomic<uint64_t> next_;
};

// Clock for creation times. The daemon uses the real clock; tests a fake.
class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch.
  virtual uint64_t NowNanoseconds() const = 0;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_LUID_H_
