// Luid: a locally unique 64-bit identifier (token ids, modified ids,
// authentication ids, source ids), and the allocator that hands them out.
//
// A distinct type so an id never mixes with a count or a mask. LuidAllocator
// hands out strictly increasing values starting at a chosen first value; ids
// 0..999 are left to the well-known logon sessions (SYSTEM 0x3e7, anonymous
// 0x3e6) as in Windows.
//
// Ids must never repeat, across daemon restarts included (a stored
// reference such as id:67679 would otherwise name a stranger's token). With
// a LuidReservations store the allocator never hands out an id that is not
// below a limit the store has made durable: it reserves blocks ahead
// (ReserveThrough) and a restarted daemon starts at the last durable limit,
// so ids handed out before a crash, recorded or not, are never reissued.
//
// Thread-safety: Luid is a value; LuidAllocator::Next is safe to call from
// several threads (one atomic; a mutex only when a block runs out).
#ifndef TOKENFS_CORE_LUID_H_
#define TOKENFS_CORE_LUID_H_

#include <atomic>
#include <compare>
#include <cstdint>
#include <mutex>

#include "core/result.h"

namespace tokenfs {

struct Luid {
  uint64_t value = 0;
  friend constexpr auto operator<=>(Luid, Luid) = default;
};

// Makes a reservation of ids durable.
class LuidReservations {
 public:
  virtual ~LuidReservations() = default;
  // Records durably that ids below `limit` may have been handed out, and
  // returns once that is durable. A failure is fatal to the caller: the
  // allocator cannot hand out an id it could reissue after a restart.
  virtual Status ReserveThrough(uint64_t limit) = 0;
};

class LuidAllocator {
 public:
  // Without reservations: ids from `first` on, for this process's life.
  explicit LuidAllocator(uint64_t first = 0x10000) : next_(first) {}
  // With reservations: ids from `first` on; before handing out an id at or
  // above the reserved limit (initially `first`), reserves `block` more.
  LuidAllocator(uint64_t first, LuidReservations& reservations,
                uint64_t block = uint64_t{1} << 20)
      : next_(first),
        limit_(first),
        reservations_(&reservations),
        block_(block) {}
  LuidAllocator(const LuidAllocator&) = delete;
  LuidAllocator& operator=(const LuidAllocator&) = delete;

  // The next id. REQUIRES: with reservations, the store must not fail
  // (ReserveThrough's failure aborts the process: see there).
  Luid Next() {
    const uint64_t value = next_.fetch_add(1, std::memory_order_relaxed);
    if (reservations_ && value >= limit_.load(std::memory_order_acquire)) {
      ReserveFor(value);
    }
    return Luid{value};
  }

  // The value the next call of Next would return (at least).
  uint64_t peek() const { return next_.load(std::memory_order_relaxed); }

 private:
  void ReserveFor(uint64_t value);

  std::atomic<uint64_t> next_;
  std::atomic<uint64_t> limit_{0};
  LuidReservations* const reservations_ = nullptr;
  const uint64_t block_ = 0;
  std::mutex reserve_mutex_;
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
