// OpenContentBudget: the bytes of rendered content open files hold, per
// opener uid.
//
// Models what an open keeps until it is closed: one user opening files of
// ever-new token versions would otherwise hold any amount of daemon memory.
// Each uid but root may hold kBytesPerUid bytes (root is not charged by the
// caller).
//
// Invariant: held(uid) <= kBytesPerUid for every uid; a uid holding nothing
// has no entry.
//
// Thread-safety: internally locked.
//
// Ownership: owned by the filesystem; a Hold borrows it and must be
// destroyed before it.
#ifndef TOKENFS_TOKENFS_OPEN_CONTENT_BUDGET_H_
#define TOKENFS_TOKENFS_OPEN_CONTENT_BUDGET_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace tokenfs {

class OpenContentBudget {
 public:
  // Each uid but root may hold this many bytes in open files.
  static constexpr size_t kBytesPerUid = 16 << 20;

  // Reserves `bytes` for `uid`; false (nothing reserved) when that would
  // pass the limit.
  bool Charge(uint32_t uid, size_t bytes);
  void Release(uint32_t uid, size_t bytes);
  size_t held(uint32_t uid) const;

  // A reservation, released when destroyed.
  class Hold {
   public:
    Hold() = default;
    Hold(OpenContentBudget* budget, uint32_t uid, size_t bytes)
        : budget_(budget), uid_(uid), bytes_(bytes) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() {
      if (budget_) budget_->Release(uid_, bytes_);
    }

   private:
    OpenContentBudget* budget_ = nullptr;
    uint32_t uid_ = 0;
    size_t bytes_ = 0;
  };

 private:
  mutable std::mutex mutex_;
  std::unordered_map<uint32_t, size_t> held_;  // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_OPEN_CONTENT_BUDGET_H_
