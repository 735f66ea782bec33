#include "tokenfs/page_cache_state.h"

namespace tokenfs {

PageCacheState::Entry& PageCacheState::Take(Shard& shard, uint64_t inode) {
  Entry& entry = shard.entries[inode];
  if (entry.in_idle) {
    shard.idle.erase(entry.idle);
    entry.in_idle = false;
  }
  return entry;
}

void PageCacheState::Release(Shard& shard, uint64_t inode, Entry& entry) {
  if (!entry.handles.empty()) return;
  shard.idle.push_front(inode);
  entry.idle = shard.idle.begin();
  entry.in_idle = true;
  while (shard.idle.size() > kMaxIdlePerShard) {
    shard.entries.erase(shard.idle.back());
    shard.idle.pop_back();
  }
}

PageCacheState::OpenMode PageCacheState::Open(uint64_t inode, uint64_t handle,
                                              uint64_t serial, size_t size) {
  if (serial == 0) return OpenMode::kDirect;
  Shard& shard = ShardOf(inode);
  std::lock_guard<std::mutex> lock(shard.mutex);
  Entry& entry = Take(shard, inode);
  if (!entry.handles.empty() && entry.open_serial != serial) {
    Release(shard, inode, entry);
    return OpenMode::kDirect;
  }
  const bool warm = entry.pages_serial == serial;
  // A cold open's page drop happens when the kernel completes the open,
  // after this reply: until a request proves it done, the pages are
  // unknown.
  if (!warm) entry.pages_serial = 0;
  entry.open_serial = serial;
  entry.open_size = size;
  entry.shown_serial = serial;
  entry.handles[handle] = !warm;
  return warm ? OpenMode::kWarm : OpenMode::kCold;
}

void PageCacheState::Confirm(uint64_t inode, uint64_t handle) {
  Shard& shard = ShardOf(inode);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto found = shard.entries.find(inode);
  if (found == shard.entries.end()) return;
  Entry& entry = found->second;
  auto registered = entry.handles.find(handle);
  if (registered == entry.handles.end() || !registered->second) return;
  registered->second = false;
  // Since this handle's open dropped the pages, only handles showing
  // open_serial were page-cached (any other open was served direct).
  entry.pages_serial = entry.open_serial;
  entry.shown_serial = entry.open_serial;
}

void PageCacheState::Close(uint64_t inode, uint64_t handle) {
  Shard& shard = ShardOf(inode);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto found = shard.entries.find(inode);
  if (found == shard.entries.end()) return;
  Entry& entry = found->second;
  if (entry.handles.erase(handle) == 0) return;
  Release(shard, inode, entry);
}

size_t PageCacheState::Report(uint64_t inode, uint64_t serial, size_t size) {
  Shard& shard = ShardOf(inode);
  std::lock_guard<std::mutex> lock(shard.mutex);
  Entry& entry = Take(shard, inode);
  if (!entry.handles.empty()) {
    size = entry.open_size;
    serial = entry.open_serial;
  } else if (serial != entry.pages_serial) {
    entry.pages_serial = 0;
  }
  entry.shown_serial = serial;
  Release(shard, inode, entry);
  return size;
}

std::vector<PageCacheState::Shown> PageCacheState::Showing() const {
  std::vector<Shown> showing;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    for (const auto& [inode, entry] : shard.entries) {
      if (entry.shown_serial != 0) {
        showing.push_back(Shown{inode, entry.shown_serial});
      }
    }
  }
  return showing;
}

void PageCacheState::Forget(uint64_t inode, uint64_t serial) {
  Shard& shard = ShardOf(inode);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto found = shard.entries.find(inode);
  if (found == shard.entries.end()) return;
  Entry& entry = found->second;
  if (entry.shown_serial != serial) return;
  entry.shown_serial = 0;
  entry.pages_serial = 0;
}

size_t PageCacheState::handles() const {
  size_t count = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    for (const auto& [inode, entry] : shard.entries) {
      count += entry.handles.size();
    }
  }
  return count;
}

size_t PageCacheState::inodes() const {
  size_t count = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    count += shard.entries.size();
  }
  return count;
}

}  // namespace tokenfs
