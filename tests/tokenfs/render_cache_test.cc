#include "tokenfs/render_cache.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/registry.h"

// Every heap block this test program allocates through operator new is
// counted (usable bytes, as malloc reports them), so the tests can measure
// what the cache really holds on to. One block can be watched: freeing it
// is recorded.
namespace {
std::atomic<long long> live_bytes{0};
std::atomic<const void*> watched_block{nullptr};
std::atomic<bool> watched_block_freed{false};
}  // namespace

void* operator new(std::size_t size) {
  void* block = std::malloc(size == 0 ? 1 : size);
  if (block == nullptr) throw std::bad_alloc();
  live_bytes += static_cast<long long>(malloc_usable_size(block));
  return block;
}
void operator delete(void* block) noexcept {
  if (block == nullptr) return;
  if (block == watched_block.load()) watched_block_freed = true;
  live_bytes -= static_cast<long long>(malloc_usable_size(block));
  std::free(block);
}
void operator delete(void* block, std::size_t) noexcept {
  operator delete(block);
}

namespace tokenfs {
namespace {

// File codes: the cache only tells them apart.
constexpr uint8_t kPrivs = 3;
constexpr uint8_t kAll = 4;

// A user token with `groups` groups.
Token MakeToken(uint32_t groups = 4) {
  Token token;
  token.user = Sid::Known(22, {1, 1000});
  token.privileges.present = privilege::Bit(privilege::kShutdown);
  for (uint32_t i = 0; i < groups; ++i) {
    token.groups.push_back(
        SidAndAttributes{Sid::Known(5, {21, 1, 2, 3, 1000 + i}), 7});
  }
  return token;
}

// A new snapshot of `object` that differs from the last one.
std::shared_ptr<const Token> Change(TokenObject& object, uint32_t value) {
  auto updated = object.Update([value](const Token& current) -> Result<Token> {
    Token copy = current;
    copy.interactive_session_id = value;
    return copy;
  });
  REQUIRE(updated);
  return *updated;
}

// A render function that counts its calls and names the session it saw.
struct CountingRender {
  int calls = 0;
  std::function<std::string()> For(const Token& token) {
    return [this, &token] {
      ++calls;
      return "session " + std::to_string(token.interactive_session_id) +
             std::string(100, '.');
    };
  }
};

TEST_CASE("published snapshots have distinct serials and other tokens 0") {
  TokenObject object(MakeToken());
  const auto first = object.Get();
  const auto second = Change(object, 1);
  object.MarkPrivilegesUsed(~uint64_t{0});
  REQUIRE(object.Update(
      [](const Token& current) -> Result<Token> { return current; }));
  const auto third = object.Get();
  CHECK(SnapshotSerial(first) != 0);
  CHECK(SnapshotSerial(second) > SnapshotSerial(first));
  // MarkPrivilegesUsed and Update each published one more.
  CHECK(SnapshotSerial(third) > SnapshotSerial(second) + 1);
  CHECK(SnapshotSerial(object.Get()) == SnapshotSerial(third));
  CHECK(SnapshotSerial(std::make_shared<const Token>(MakeToken())) == 0);
  CHECK(SnapshotSerial(nullptr) == 0);
}

TEST_CASE("the same snapshot is rendered once and shares one text") {
  RenderCache cache;
  TokenObject object(MakeToken());
  const auto token = object.Get();
  CountingRender render;
  const auto first = cache.Get(token, kPrivs, render.For(*token));
  const auto again = cache.Get(token, kPrivs, render.For(*token));
  CHECK(render.calls == 1);
  CHECK(first == again);  // the same string object, not a copy
  CHECK(*again == "session 0" + std::string(100, '.'));

  // Another file of the same snapshot is its own entry.
  cache.Get(token, kAll, render.For(*token));
  CHECK(render.calls == 2);
  const RenderCache::Stats stats = cache.stats();
  CHECK(stats.entries == 2);
  CHECK(stats.hits == 1);
  CHECK(stats.misses == 2);
}

TEST_CASE("a changed token is rendered again") {
  RenderCache cache;
  TokenObject object(MakeToken());
  CountingRender render;
  auto token = object.Get();
  CHECK(*cache.Get(token, kPrivs, render.For(*token)) ==
        "session 0" + std::string(100, '.'));
  token = Change(object, 1);
  CHECK(*cache.Get(token, kPrivs, render.For(*token)) ==
        "session 1" + std::string(100, '.'));
  CHECK(render.calls == 2);

  // Marking a privilege used publishes a new snapshot (same modified id).
  object.MarkPrivilegesUsed(~uint64_t{0});
  token.reset();
  const auto marked = object.Get();
  cache.Get(marked, kPrivs, render.For(*marked));
  CHECK(render.calls == 3);
}

TEST_CASE("a snapshot at a freed snapshot's address does not match it") {
  // Each Update frees the snapshot before the last one, so the allocator
  // tends to hand its memory to the next snapshot.
  RenderCache cache;
  TokenObject object(MakeToken());
  std::set<const Token*> seen;
  int reused = 0;
  for (uint32_t i = 1; i <= 50; ++i) {
    const auto token = Change(object, i);
    reused += !seen.insert(token.get()).second;
    CountingRender render;
    const auto text = cache.Get(token, kPrivs, render.For(*token));
    REQUIRE(render.calls == 1);
    REQUIRE(*text == "session " + std::to_string(i) + std::string(100, '.'));
  }
  INFO("addresses reused: " << reused);
  CHECK(cache.stats().hits == 0);
}

TEST_CASE("a token no TokenObject published is rendered every time") {
  RenderCache cache;
  const auto token = std::make_shared<const Token>(MakeToken());
  CountingRender render;
  cache.Get(token, kPrivs, render.For(*token));
  cache.Get(token, kPrivs, render.For(*token));
  CHECK(render.calls == 2);
  CHECK(cache.stats().entries == 0);
  CHECK(cache.bytes() == 0);
}

TEST_CASE("the byte budget defaults to 8 MiB") {
  RenderCache cache;
  CHECK(cache.byte_budget() == 8u << 20);
}

TEST_CASE("the byte budget holds under 10,000 versions of large texts") {
  constexpr size_t kBudget = 1 << 20;  // 64 KiB per shard
  const long long before = live_bytes;
  long long held = 0;
  size_t largest = 0;
  RenderCache::Stats stats;
  bool last_cached = false;
  {
    RenderCache cache(kBudget);
    TokenObject object(MakeToken());
    std::shared_ptr<const Token> token;
    for (uint32_t i = 0; i < 10000; ++i) {
      token = Change(object, i);
      // 8-16 KiB, the size of query/all of a small token.
      const size_t size = 8192 + (i * 7919) % 8192;
      cache.Get(token, kAll, [size] { return std::string(size, 'x'); });
      largest = std::max(largest, cache.bytes());
    }
    stats = cache.stats();
    int renders = 0;
    cache.Get(token, kAll, [&] {
      ++renders;
      return std::string();
    });
    last_cached = renders == 0;
    token.reset();
    held = live_bytes - before;  // the cache, the object and its token
  }
  const long long freed = held - (live_bytes - before);
  CHECK(largest <= kBudget);
  CHECK(stats.bytes <= kBudget);
  CHECK(stats.entries > 40);  // the budget is used, not just respected
  CHECK(stats.misses == 10000);
  CHECK(stats.evictions == stats.misses - stats.entries);
  CHECK(last_cached);
  // What the cache really held (everything freed with it and the object)
  // is within the budget, and its accounting does not undercount it.
  INFO("real bytes " << freed << ", accounted " << stats.bytes);
  CHECK(freed <= static_cast<long long>(kBudget) + 4096);
  CHECK(freed - 4096 <= static_cast<long long>(stats.bytes));
}

TEST_CASE("a text larger than a shard's share is shared only while held") {
  RenderCache cache(RenderCache::kShards * 1024);  // 1 KiB per shard
  TokenObject object(MakeToken());
  const auto token = object.Get();
  int renders = 0;
  const auto render = [&] {
    ++renders;
    return std::string(4096, 'x');
  };
  auto first = cache.Get(token, kAll, render);
  const auto second = cache.Get(token, kAll, render);
  CHECK(renders == 1);
  CHECK(first == second);  // an open file holds it: later opens share it
  CHECK(cache.bytes() == 0);
  CHECK(cache.stats().entries == 0);

  first.reset();
  CHECK(cache.Get(token, kAll, render) == second);
  CHECK(renders == 1);
}

TEST_CASE("a text too large to cache is rendered again once let go") {
  RenderCache cache(RenderCache::kShards * 1024);
  TokenObject object(MakeToken());
  const auto token = object.Get();
  int renders = 0;
  const auto render = [&] {
    ++renders;
    return std::string(4096, 'x');
  };
  cache.Get(token, kAll, render);
  cache.Get(token, kAll, render);
  CHECK(renders == 2);  // nobody held the first text
}

TEST_CASE("an evicted text still held is shared, not rendered again") {
  // One entry of 600 + 256 bytes fits a 1 KiB share, two do not.
  RenderCache cache(RenderCache::kShards * 1024);
  TokenObject object(MakeToken());
  std::vector<std::shared_ptr<const Token>> tokens;
  // Snapshots whose serials fall in one shard.
  for (uint32_t i = 0; tokens.size() < 3; ++i) {
    auto token = Change(object, i);
    if (tokens.empty() ||
        SnapshotSerial(token) % RenderCache::kShards ==
            SnapshotSerial(tokens[0]) % RenderCache::kShards) {
      tokens.push_back(token);
    }
  }
  int renders = 0;
  const auto render = [&] {
    ++renders;
    return std::string(600, 'x');
  };
  const auto held = cache.Get(tokens[0], kAll, render);
  cache.Get(tokens[1], kAll, render);  // evicts the first entry, held
  cache.Get(tokens[2], kAll, render);  // evicts the second, not held
  CHECK(cache.stats().evictions == 2);
  CHECK(cache.stats().shared == 1);
  CHECK(renders == 3);
  CHECK(cache.Get(tokens[0], kAll, render) == held);
  CHECK(renders == 3);
  cache.Get(tokens[1], kAll, render);
  CHECK(renders == 4);
}

TEST_CASE("expired weak entries are pruned") {
  RenderCache cache(RenderCache::kShards * 1024);
  TokenObject object(MakeToken());
  std::vector<std::shared_ptr<const std::string>> held;
  for (uint32_t i = 0; i < 5000; ++i) {
    const auto token = Change(object, i);
    auto text = cache.Get(token, kAll, [] { return std::string(2048, 'x'); });
    if (i % 100 == 0) held.push_back(std::move(text));  // 50 held
  }
  const RenderCache::Stats stats = cache.stats();
  INFO("weak entries " << stats.shared);
  // Each shard keeps at most max(64, twice its texts in use).
  CHECK(stats.shared <= RenderCache::kShards * 64 + 2 * held.size());
  CHECK(stats.shared >= held.size());
}

TEST_CASE("the cache keeps no token alive, strongly or weakly") {
  RenderCache cache;
  // Equal ACLs are interned per thread (InternAcl): let the token's label
  // SACL be remembered before counting, so what is left counts the cache.
  { TokenObject warm(MakeToken(1000)); }
  const long long start = live_bytes;
  // A large token (1,000 groups) and a small text: whatever the entry kept
  // of the token would show in the bytes left below.
  auto object = std::make_shared<TokenObject>(MakeToken(1000));
  auto token = object->Get();
  const long long token_bytes = live_bytes - start;
  const long owners = token.use_count();
  const long long before_get = live_bytes;
  cache.Get(token, kPrivs, [] { return std::string(200, 'p'); });
  const long long entry = live_bytes - before_get;
  const long owners_after = token.use_count();

  watched_block = token.get();
  token.reset();
  object.reset();  // the last owner: the token is destroyed and freed
  const bool freed = watched_block_freed;
  watched_block = nullptr;
  const long long left = live_bytes - start;

  CHECK(owners_after == owners);      // no strong reference
  CHECK(freed);                       // the Token's own block went at once
  CHECK(cache.stats().entries == 1);  // while its entry is still cached
  INFO("token and object " << token_bytes << " bytes, entry " << entry
                           << ", left after the token went " << left);
  // All that remains is the entry (text, nodes, table), none of the token:
  // not its block and not a control block.
  CHECK(left == entry);
}

TEST_CASE("concurrent readers get the text of the snapshot they asked for") {
  RenderCache cache(RenderCache::kShards * 4096);  // a few entries a shard
  TokenObject object(MakeToken());
  std::vector<std::shared_ptr<const Token>> tokens;
  for (uint32_t i = 0; i < 64; ++i) tokens.push_back(Change(object, i));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 5000; ++n) {
        const auto& token = tokens[(n * 7 + t * 13) % tokens.size()];
        const uint8_t code = n % 3;
        const std::string expected =
            std::to_string(token->interactive_session_id) + "/" +
            std::to_string(code) + std::string(300, '-');
        const auto text = cache.Get(token, code, [&] { return expected; });
        if (*text != expected) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  CHECK(cache.bytes() <= cache.byte_budget());
}

}  // namespace
}  // namespace tokenfs
