// PageCacheState: what the kernel's page cache may hold for each token file
// inode, and so how each open of a token or query file is served.
//
// Models the open-time rule that keeps page-cached token files fresh. The
// kernel keeps one page cache and one file size per inode, shared by every
// opener, while the daemon hands each open its own content snapshot (the
// token as it was at the open). An open showing snapshot `serial` is served
//   - with direct I/O (the page cache is not used) when a page-cached handle
//     showing another snapshot is open on the inode: its reads could still
//     fill pages with its older text;
//   - warm (FOPEN_KEEP_CACHE: the read may need no request at all) when the
//     pages are known to hold `serial` and nothing since reported another
//     snapshot's size;
//   - cold otherwise: the kernel drops the inode's pages when the open
//     completes (no FOPEN_KEEP_CACHE) and the caller invalidates the cached
//     attributes, so the first read asks the size of its own handle.
// A cold open proves its pages clean only once a request arrives on its
// handle (Confirm: the kernel dropped the pages before open(2) returned);
// until then other opens of the same snapshot are cold too, so no open can
// read pages filled before the drop. Attribute replies (Report) give the
// size of the snapshot the open page-cached handles show, so a reader never
// sees its text cut or padded by another version's size; a reply with
// another snapshot's size makes the next open cold.
//
// Invariant: per inode, every registered handle shows `open_serial`;
// `pages_serial` is 0 or the only snapshot whose text can be in the pages;
// entries without handles are at most kMaxIdlePerShard per shard (least
// recently used evicted: an evicted inode is simply cold next time).
//
// Thread-safety: every method may be called from any thread (kShards
// sharded mutexes; no call takes two, nor calls out under one).
//
// Ownership: plain numbers only; the handles are the caller's.
#ifndef TOKENFS_TOKENFS_PAGE_CACHE_STATE_H_
#define TOKENFS_TOKENFS_PAGE_CACHE_STATE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace tokenfs {

class PageCacheState {
 public:
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxIdlePerShard = 256;

  // How an open is served (see above).
  enum class OpenMode { kDirect, kCold, kWarm };

  // What the kernel may show of an inode (content or size), for the
  // notifier that drops it early when the token changes.
  struct Shown {
    uint64_t inode = 0;
    uint64_t serial = 0;
  };

  PageCacheState() = default;
  PageCacheState(const PageCacheState&) = delete;
  PageCacheState& operator=(const PageCacheState&) = delete;

  // Decides how handle `handle` opening `inode` with snapshot `serial`
  // (`size` bytes) is served, and unless kDirect registers it until Close.
  // A serial of 0 (a token no object published) is always kDirect.
  OpenMode Open(uint64_t inode, uint64_t handle, uint64_t serial, size_t size);
  // A request arrived on `handle` (a READ, a GETATTR with it): its open
  // completed, so a cold open's page drop is done and the pages hold only
  // its snapshot. No-op for unknown or already confirmed handles.
  void Confirm(uint64_t inode, uint64_t handle);
  // Unregisters `handle` (closed, or its open reply failed).
  void Close(uint64_t inode, uint64_t handle);
  // The size to report in attributes of `inode` whose current snapshot is
  // `serial` of `size` bytes: the size of the snapshot the open
  // page-cached handles show, else `size`. A reported snapshot other than
  // the cached one makes the next open cold.
  size_t Report(uint64_t inode, uint64_t serial, size_t size);
  // Every inode whose content or size the kernel may hold, with the
  // snapshot it shows.
  std::vector<Shown> Showing() const;
  // The kernel was told to drop what it held of `inode` while it showed
  // `serial` (the token changed): it is cold next time.
  void Forget(uint64_t inode, uint64_t serial);

  // For tests: registered handles and inodes remembered.
  size_t handles() const;
  size_t inodes() const;

 private:
  struct Entry {
    uint64_t pages_serial = 0;  // 0: unknown, maybe mixed
    uint64_t shown_serial = 0;  // last snapshot told to the kernel
    uint64_t open_serial = 0;   // of every handle below
    size_t open_size = 0;
    // handle -> still waiting for its first request (Confirm).
    std::unordered_map<uint64_t, bool> handles;
    // Its element of Shard::idle iff `in_idle` (iff no handles).
    std::list<uint64_t>::iterator idle;
    bool in_idle = false;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<uint64_t, Entry> entries;  // guarded by mutex
    // Inodes without handles, most recently used first; guarded by mutex.
    std::list<uint64_t> idle;
  };

  Shard& ShardOf(uint64_t inode) { return shards_[inode % kShards]; }
  // REQUIRES: shard.mutex held. The entry of `inode`, made if absent, no
  // longer in the idle list.
  static Entry& Take(Shard& shard, uint64_t inode);
  // REQUIRES: shard.mutex held. Puts `entry` back in the idle list if it
  // has no handles, evicting the least recently used beyond the bound.
  static void Release(Shard& shard, uint64_t inode, Entry& entry);

  std::array<Shard, kShards> shards_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_PAGE_CACHE_STATE_H_
