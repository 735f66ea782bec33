#include "tokenfs/kernel_cache.h"

#include <utility>

namespace tokenfs {

KernelCache::~KernelCache() { (void)Stop(); }

void KernelCache::Start(fuse_session* session,
                        std::function<std::vector<uint64_t>()> stale) {
  session_ = session;
  stale_ = std::move(stale);
  thread_ = std::thread([this] { Run(); });
}

bool KernelCache::Stop() {
  if (!thread_.joinable()) return true;
  std::unique_lock<std::mutex> lock(control_->mutex);
  control_->stopping = true;
  control_->wake.notify_all();
  const bool ended = control_->ended.wait_for(
      lock, kStopWait, [this] { return control_->done; });
  lock.unlock();
  if (ended) {
    thread_.join();
  } else {
    thread_.detach();
  }
  return ended;
}

void KernelCache::Kick() {
  std::lock_guard<std::mutex> lock(control_->mutex);
  control_->kicked = true;
  control_->wake.notify_one();
}

bool KernelCache::InvalidateAttributes(uint64_t inode) {
  if (!session_) return false;
  return fuse_lowlevel_notify_inval_inode(session_, inode, -1, 0) == 0;
}

void KernelCache::Run() {
  // Holds the control block itself: Stop may leave this thread behind.
  const std::shared_ptr<Control> control = control_;
  fuse_session* const session = session_;
  const auto stopping = [&control] {
    std::lock_guard<std::mutex> lock(control->mutex);
    return control->stopping;
  };
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(control->mutex);
      control->wake.wait(
          lock, [&control] { return control->kicked || control->stopping; });
      if (control->stopping) break;
      control->kicked = false;
    }
    std::vector<uint64_t> inodes;
    try {
      inodes = stale_();
    } catch (...) {
      // Best effort: the next change tries again.
      continue;
    }
    for (uint64_t inode : inodes) {
      if (stopping()) break;
      // ENOENT (the kernel forgot the inode) leaves nothing to drop.
      (void)fuse_lowlevel_notify_inval_inode(session, inode, 0, 0);
    }
  }
  std::lock_guard<std::mutex> lock(control->mutex);
  control->done = true;
  control->ended.notify_all();
}

}  // namespace tokenfs
