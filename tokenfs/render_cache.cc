#include "tokenfs/render_cache.h"

#include <algorithm>
#include <iterator>
#include <new>
#include <utility>

#include "core/registry.h"

namespace tokenfs {

RenderCache::RenderCache(size_t byte_budget)
    : shard_budget_(byte_budget / kShards) {}

void RenderCache::Share(Shard& shard, const Key& key,
                        const std::shared_ptr<const std::string>& text) {
  try {
    if (shard.shared.size() >= shard.prune_at) {
      std::erase_if(shard.shared,
                    [](const auto& item) { return item.second.expired(); });
      shard.prune_at = std::max(kMinPruneAt, 2 * shard.shared.size());
    }
    shard.shared[key] = text;
  } catch (const std::bad_alloc&) {
    // Not shared: a later open renders the text again.
  }
}

std::shared_ptr<const std::string> RenderCache::Get(
    const std::shared_ptr<const Token>& token, uint8_t code,
    const std::function<std::string()>& render) {
  const uint64_t serial = SnapshotSerial(token);
  Shard& shard = shards_[serial % kShards];
  const Key key{serial, code};
  // A text that open files still hold although it is not cached.
  const auto held = [&shard, &key]() -> std::shared_ptr<const std::string> {
    auto it = shard.shared.find(key);
    if (it == shard.shared.end()) return nullptr;
    return it->second.lock();
  };
  if (serial != 0) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.index.find(key);
    if (it != shard.index.end()) {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
      ++shard.hits;
      return it->second->text;
    }
    if (auto text = held()) {
      ++shard.hits;
      return text;
    }
  }
  auto text = std::make_shared<const std::string>(render());
  const size_t bytes = text->capacity() + kEntryOverhead;

  std::list<Entry> evicted;  // freed after the lock is released
  std::lock_guard<std::mutex> lock(shard.mutex);
  ++shard.misses;
  if (serial == 0) return text;
  // Another thread may have rendered the same text meanwhile: share its copy.
  if (auto it = shard.index.find(key); it != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return it->second->text;
  }
  if (auto other = held()) return other;
  if (bytes > shard_budget_) {
    Share(shard, key, text);
    return text;
  }
  shard.lru.push_front(Entry{key, text, bytes});
  try {
    shard.index.emplace(key, shard.lru.begin());
  } catch (...) {
    shard.lru.pop_front();
    throw;
  }
  shard.shared.erase(key);  // an expired weak entry, if any
  shard.bytes += bytes;
  // The new entry fits the share on its own, so it is never evicted here.
  while (shard.bytes > shard_budget_) {
    auto last = std::prev(shard.lru.end());
    shard.index.erase(last->key);
    shard.bytes -= last->bytes;
    ++shard.evictions;
    // Held by an open file besides this entry: later opens may share it.
    if (last->text.use_count() > 1) Share(shard, last->key, last->text);
    evicted.splice(evicted.end(), shard.lru, last);
  }
  return text;
}

RenderCache::Stats RenderCache::stats() const {
  Stats total;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    total.entries += shard.index.size();
    total.bytes += shard.bytes;
    total.shared += shard.shared.size();
    total.hits += shard.hits;
    total.misses += shard.misses;
    total.evictions += shard.evictions;
  }
  return total;
}

}  // namespace tokenfs
