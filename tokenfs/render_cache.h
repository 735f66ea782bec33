// RenderCache: the text of token files, rendered once per token snapshot
// while it stays cached, in a fixed number of bytes.
//
// Tokens are immutable once published, so the content of a file such as
// privs or query/all is a pure function of the token snapshot (and the
// daemon's fixed render options): it is rendered at the first open of a
// snapshot and served from here while the entry stays. Entries are keyed by
// (SnapshotSerial, file code). The serial names one snapshot for the
// daemon's life, so a token that reuses the memory of a freed one never
// matches an old entry, and an entry holds no reference to its token, so a
// replaced token's memory is freed as soon as nothing else uses it. Entries
// of snapshots that are no longer current are simply never hit again and
// age out. A token that no TokenObject published (serial 0) is rendered at
// every call and not cached. Labels of Unix accounts are as fresh as the
// entry, which is fine: they are best effort.
//
// Memory: an entry counts as its text's capacity plus kEntryOverhead (an
// estimate of the allocations around the text). The kShards shards each get
// an equal share of the byte budget and evict their least recently used
// entries to stay within it; a text larger than a share is never cached.
// A text handed out lives on, outside the budget, while the open file that
// holds it does; so that opens of one snapshot still share one text then,
// texts that are too large, and evicted texts still in use, are remembered
// weakly (a weak_ptr to the text, never to the token) until their last
// holder lets go. A weak entry costs about 120 bytes; expired ones are
// pruned when a shard has max(kMinPruneAt, twice the texts in use at the
// last pruning) of them.
//
// Invariant: in each shard, `lru` and `index` hold the same entries, and
// `bytes` is the sum of their sizes and at most the shard's share; no key
// is in both `index` and `shared`.
//
// Thread-safety: Get and stats may be called from any thread (sharded
// mutexes; the render function runs without a lock held).
//
// Ownership: the cache shares each text with the callers it handed it to;
// it owns nothing else of a token.
#ifndef TOKENFS_TOKENFS_RENDER_CACHE_H_
#define TOKENFS_TOKENFS_RENDER_CACHE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/token.h"

namespace tokenfs {

class RenderCache {
 public:
  static constexpr size_t kShards = 16;
  static constexpr size_t kDefaultByteBudget = size_t{8} << 20;  // 8 MiB
  // Bytes an entry costs besides its text's capacity: the text's control
  // block and heap header, the LRU list node, the index node and bucket
  // (about 210 bytes with libstdc++ on 64-bit; rounded up).
  static constexpr size_t kEntryOverhead = 256;

  struct Stats {
    size_t entries = 0;
    size_t bytes = 0;     // accounted as described above
    size_t shared = 0;    // weak entries, expired ones not yet pruned included
    uint64_t hits = 0;    // served without rendering
    uint64_t misses = 0;  // renders, including those not cached
    uint64_t evictions = 0;
  };

  // A cache that accounts at most `byte_budget` bytes in all.
  explicit RenderCache(size_t byte_budget = kDefaultByteBudget);
  RenderCache(const RenderCache&) = delete;
  RenderCache& operator=(const RenderCache&) = delete;

  // The content of file `code` for `token`: cached, or made by `render` and
  // remembered.
  std::shared_ptr<const std::string> Get(
      const std::shared_ptr<const Token>& token, uint8_t code,
      const std::function<std::string()>& render);

  // Totals over the shards (each shard read under its lock).
  Stats stats() const;
  size_t bytes() const { return stats().bytes; }
  size_t byte_budget() const { return shard_budget_ * kShards; }

 private:
  static constexpr size_t kMinPruneAt = 64;

  struct Key {
    uint64_t serial = 0;
    uint8_t code = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const noexcept {
      return std::hash<uint64_t>()((key.serial << 8) ^ key.code);
    }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const std::string> text;
    size_t bytes = 0;
  };
  struct Shard {
    mutable std::mutex mutex;
    // Most recently used first; guarded by mutex.
    std::list<Entry> lru;
    // key -> its element of lru; guarded by mutex.
    std::unordered_map<Key, std::list<Entry>::iterator, KeyHash> index;
    size_t bytes = 0;  // guarded by mutex
    // Texts outside the budget that open files may still hold; guarded by
    // mutex. Expired entries go when the map reaches prune_at.
    std::unordered_map<Key, std::weak_ptr<const std::string>, KeyHash> shared;
    size_t prune_at = kMinPruneAt;  // guarded by mutex
    uint64_t hits = 0;              // guarded by mutex
    uint64_t misses = 0;            // guarded by mutex
    uint64_t evictions = 0;         // guarded by mutex
  };

  // Remembers `text` weakly under `key`; best effort (sharing saves memory
  // but is not needed for correctness). REQUIRES: shard.mutex held.
  static void Share(Shard& shard, const Key& key,
                    const std::shared_ptr<const std::string>& text);

  const size_t shard_budget_;
  std::array<Shard, kShards> shards_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_RENDER_CACHE_H_
