// RenderCache: the text of token files, rendered once per token version.
//
// Tokens are immutable once published, so the content of a file such as
// privs or query/all is a pure function of the token snapshot (and the
// daemon's fixed render options): it is rendered at the first open after a
// change and served from here until the token changes again. Entries are
// keyed by the snapshot's address and remember the snapshot weakly, so a
// new token that happens to reuse the address of a freed one never matches
// the old entry. Labels of Unix accounts are therefore as fresh as the token
// version, which is fine: they are best effort.
//
// Thread-safety: Get may be called from any thread (sharded mutexes; the
// render function runs without a lock held).
#ifndef TOKENFS_TOKENFS_RENDER_CACHE_H_
#define TOKENFS_TOKENFS_RENDER_CACHE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/token.h"

namespace tokenfs {

class RenderCache {
 public:
  // The content of file `code` for `token`: cached, or made by `render` and
  // remembered.
  std::shared_ptr<const std::string> Get(
      const std::shared_ptr<const Token>& token, uint8_t code,
      const std::function<std::string()>& render);

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxEntriesPerShard = 1024;

  struct Entry {
    std::weak_ptr<const Token> token;
    std::shared_ptr<const std::string> text;
  };
  struct Shard {
    std::mutex mutex;
    // (token address, code) -> entry; guarded by mutex.
    std::unordered_map<uint64_t, Entry> entries;
  };

  std::array<Shard, kShards> shards_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_RENDER_CACHE_H_
