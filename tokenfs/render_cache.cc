#include "tokenfs/render_cache.h"

namespace tokenfs {

std::shared_ptr<const std::string> RenderCache::Get(
    const std::shared_ptr<const Token>& token, uint8_t code,
    const std::function<std::string()>& render) {
  const auto address = reinterpret_cast<uintptr_t>(token.get());
  // Tokens are at least 8-byte aligned: the low byte is free for the code.
  const uint64_t key = (static_cast<uint64_t>(address) << 8) | code;
  Shard& shard = shards_[(address >> 4) % kShards];
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.entries.find(key);
    if (it != shard.entries.end() && it->second.token.lock() == token) {
      return it->second.text;
    }
  }
  auto text = std::make_shared<const std::string>(render());
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (shard.entries.size() >= kMaxEntriesPerShard) {
    // Drop the entries of tokens that are gone; if all live, start over.
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      it = it->second.token.expired() ? shard.entries.erase(it) : ++it;
    }
    if (shard.entries.size() >= kMaxEntriesPerShard) shard.entries.clear();
  }
  shard.entries[key] = Entry{token, text};
  return text;
}

}  // namespace tokenfs
