#include "core/luid.h"

#include <cstdlib>

namespace tokenfs {

void LuidAllocator::ReserveFor(uint64_t value) {
  std::lock_guard<std::mutex> lock(reserve_mutex_);
  uint64_t limit = limit_.load(std::memory_order_relaxed);
  if (value < limit) return;  // another thread reserved meanwhile
  uint64_t target = limit;
  while (target <= value) target += block_;
  if (!reservations_->ReserveThrough(target)) {
    // Handing out an id that a restart could reissue would let a stored
    // reference name a stranger's token; the store has logged why it
    // failed, and the daemon stops rather than go on.
    std::abort();
  }
  limit_.store(target, std::memory_order_release);
}

}  // namespace tokenfs
