// KernelCache: the daemon's two ways of telling the kernel to forget what
// it caches of a token file, and the thread that does the slow one.
//
// Models FUSE's inode invalidation (fuse_lowlevel_notify_inval_inode).
// Dropping an inode's cached attributes takes no page lock, so a request
// handler may do it synchronously (InvalidateAttributes: an open that must
// make its first read ask for the size). Dropping its pages can wait on a
// page locked by a READ in flight, which may need the very worker that
// would wait, so it is only ever done from the notifier thread: Kick (the
// registry's change observer) wakes it, and it drops whatever the `stale`
// function names, coalescing any number of kicks into one pass.
// Correctness never depends on the notifier (the open-time rule of
// PageCacheState does): it keeps `stat` sizes fresh and frees stale pages
// early.
//
// The notifier never delays shutdown: Stop waits at most kStopWait for a
// pass stuck in the kernel (a page lock held by a READ the stopped loop
// will never answer), then leaves the thread behind; it makes no further
// call once it returns, but while it may still be inside a call the
// session must stay alive (Stop's result says so).
//
// Thread-safety: every method may be called from any thread; Kick may be
// called with the registry's lock held (it takes only its own mutex).
//
// Ownership: borrows the session; the `stale` function must stay callable
// until Stop returns.
#ifndef TOKENFS_TOKENFS_KERNEL_CACHE_H_
#define TOKENFS_TOKENFS_KERNEL_CACHE_H_

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tokenfs {

// What a request handler may ask of the kernel's cache.
class KernelCacheInterface {
 public:
  virtual ~KernelCacheInterface() = default;
  // Drops the cached attributes of `inode` now; true iff the kernel did
  // (false: no session, or the kernel refused, e.g. ENOSYS).
  virtual bool InvalidateAttributes(uint64_t inode) = 0;
};

class KernelCache : public KernelCacheInterface {
 public:
  static constexpr std::chrono::milliseconds kStopWait{1000};

  KernelCache() = default;
  ~KernelCache() override;
  KernelCache(const KernelCache&) = delete;
  KernelCache& operator=(const KernelCache&) = delete;

  // Starts the notifier on `session`; `stale` names the inodes whose
  // cached content and size should go (called on the notifier thread).
  void Start(fuse_session* session,
             std::function<std::vector<uint64_t>()> stale);
  // Stops the notifier; true iff its thread ended (false: it is stuck in
  // the kernel and was left behind, and the session must not be
  // destroyed).
  bool Stop();
  // Something changed: the notifier runs one more pass.
  void Kick();

  bool InvalidateAttributes(uint64_t inode) override;

 private:
  void Run();

  fuse_session* session_ = nullptr;  // set before the thread starts
  std::function<std::vector<uint64_t>()> stale_;
  // Shared with the thread, so a thread left behind by Stop still finds
  // its state.
  struct Control {
    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable ended;
    bool kicked = false;    // guarded by mutex
    bool stopping = false;  // guarded by mutex
    bool done = false;      // guarded by mutex
  };
  std::shared_ptr<Control> control_ = std::make_shared<Control>();
  std::thread thread_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_KERNEL_CACHE_H_
