#include "tokenfs/pollers.h"

#include <utility>
#include <vector>

namespace tokenfs {

Pollers::~Pollers() {
  for (auto& [key, handle] : handles_) fuse_pollhandle_destroy(handle);
}

void Pollers::Keep(uint64_t key, fuse_pollhandle* handle) {
  if (!handle) return;
  fuse_pollhandle* old = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto [it, inserted] = handles_.try_emplace(key, handle);
    if (!inserted) {
      old = it->second;
      it->second = handle;
    }
    waiting_.store(handles_.size(), std::memory_order_release);
  }
  if (old) fuse_pollhandle_destroy(old);
}

void Pollers::Drop(uint64_t key) {
  if (waiting_.load(std::memory_order_acquire) == 0) return;
  fuse_pollhandle* old = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = handles_.find(key);
    if (it == handles_.end()) return;
    old = it->second;
    handles_.erase(it);
    waiting_.store(handles_.size(), std::memory_order_release);
  }
  fuse_pollhandle_destroy(old);
}

void Pollers::Kick() {
  if (waiting_.load(std::memory_order_acquire) == 0) return;
  std::unordered_map<uint64_t, fuse_pollhandle*> taken;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    taken.swap(handles_);
    waiting_.store(0, std::memory_order_release);
  }
  for (auto& [key, handle] : taken) {
    // A failure (the connection is gone) leaves nothing to do.
    (void)fuse_lowlevel_notify_poll(handle);
    fuse_pollhandle_destroy(handle);
  }
}

}  // namespace tokenfs
