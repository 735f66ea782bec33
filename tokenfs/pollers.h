// Pollers: the open token files someone is waiting on with poll, select or
// epoll, and the one call that wakes them.
//
// Models the FUSE side of change notification. A POLL request with
// FUSE_POLL_SCHEDULE_NOTIFY hands the daemon a poll handle for one open
// file; the file keeps the newest one (Keep) until it is closed (Drop).
// Kick, called by the registry's change observer after any token change,
// sends every kept handle to the kernel (fuse_lowlevel_notify_poll) and
// frees it: the kernel asks again (a new POLL request), and the file's
// readiness is decided afresh then, so a change to a token nobody watches
// costs each waiter one POLL round trip and never a false wake-up of the
// process. With nobody waiting, Kick is one atomic load.
//
// Thread-safety: every method may be called from any thread; Kick may be
// called with the registry's or a token object's lock held (it takes only
// its own mutex and never calls back).
//
// Ownership: owns the kept handles (destroyed when sent, replaced or
// dropped).
#ifndef TOKENFS_TOKENFS_POLLERS_H_
#define TOKENFS_TOKENFS_POLLERS_H_

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace tokenfs {

class Pollers {
 public:
  Pollers() = default;
  ~Pollers();
  Pollers(const Pollers&) = delete;
  Pollers& operator=(const Pollers&) = delete;

  // Keeps `handle` (may be null: nothing to keep) for the open file `key`,
  // freeing the one it kept before.
  void Keep(uint64_t key, fuse_pollhandle* handle);
  // Frees what is kept for `key` (the file is closed).
  void Drop(uint64_t key);
  // Wakes every kept handle once (see above).
  void Kick();
  // How many files are waiting (for tests and the bench).
  size_t waiting() const { return waiting_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, fuse_pollhandle*> handles_;  // guarded
  std::atomic<size_t> waiting_{0};
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_POLLERS_H_
