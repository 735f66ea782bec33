// TokenHistory: the bounded event log of one token object, and the JSON line
// each event is shown and stored as.
//
// Models what happened to a token: minted, inherited at fork, re-minted at
// exec (or at a change of credentials), adjusted (which file, the file's text
// before and after), derived into another token (its id, the operation),
// impersonated and reverted, installed, linked, revoked, and refused
// attempts against it. Each event carries when it happened (nanoseconds since
// the Unix epoch, from an injected Clock), the pid of the process that caused
// it (0: the daemon itself, e.g. a restart rule) and that process's user SID.
//
// Invariant: at most `limit` events are kept, oldest dropped first; sequence
// numbers count up from 1 for the life of the log and are never reused, so a
// reader that remembers the last number it saw finds exactly what is newer.
// A limit of 0 keeps nothing but still counts (last_seq), so change
// notification works without a log. A refusal by the same actor for the same
// operation as the newest event is folded into it (`repeat` + 1, same seq,
// newer time), so one process retrying cannot push everything else out;
// last_seq still grows, so a poller sees the log changed.
//
// JSON line (documented in tokenfs(5) TOKEN HISTORY), keys always in this order:
//   {"seq":N,"time":"2026-12-06T02:47:37.123456789Z","time_ns":N,
//    "event":"adjusted","actor_pid":N,"actor_user":"S-1-…",
//    "file":"privs","before":"…","after":"…","token":N,"operation":"…",
//    "repeat":N}
// `file`, `before`, `after`, `token` (another token's id), `operation` and
// `repeat` (> 1) appear only when they apply.
//
// Thread-safety: TokenHistory is internally locked; the functions are pure.
// Ownership: a TokenHistory belongs to its TokenObject (core/registry.h).
#ifndef TOKENFS_CORE_TOKEN_HISTORY_H_
#define TOKENFS_CORE_TOKEN_HISTORY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tokenfs {

enum class HistoryKind : uint8_t {
  kMinted,
  kInherited,     // fork: this token is the child's copy
  kReminted,      // exec or credential change replaced the process's token
  kAdjusted,      // a token file was written
  kDerived,       // duplicate/restrict/create made `token` from this one
  kImpersonated,  // a thread started impersonating this token
  kReverted,      // a thread stopped impersonating this token
  kInstalled,     // became a process's primary token
  kLinked,        // linked to `token` as an elevation pair
  kRevoked,
  kDenied,        // `operation` was refused
};

// "minted", "inherited", ... (the JSON `event` value).
std::string_view HistoryKindName(HistoryKind kind);
std::optional<HistoryKind> ParseHistoryKind(std::string_view name);

struct HistoryEvent {
  uint64_t seq = 0;      // set by TokenHistory::Append
  uint64_t time_ns = 0;  // set by the caller (its clock)
  HistoryKind kind = HistoryKind::kMinted;
  int32_t actor_pid = 0;
  std::string actor_user;  // SID text; "" when unknown
  std::string file;        // adjusted: the file written
  std::string before;      // adjusted: its text before (trailing newline cut)
  std::string after;       // adjusted: its text after
  uint64_t token = 0;      // derived/linked/reminted: the other token's id
  std::string operation;   // derived: duplicate/restrict/create; denied: what
  uint32_t repeat = 1;     // denied: how many times in a row
  friend bool operator==(const HistoryEvent&, const HistoryEvent&) = default;
};

// The event as one JSON line (no trailing newline).
std::string HistoryEventJson(const HistoryEvent& event);
// Reads a line HistoryEventJson wrote; kInvalidArgument otherwise.
Result<HistoryEvent> ParseHistoryEventJson(std::string_view line);
// Every event of `events` as JSON lines, each ending in '\n'.
std::string HistoryJsonLines(const std::vector<HistoryEvent>& events);

// Default bound of a token's log (tokenfs --history).
inline constexpr size_t kDefaultHistoryLimit = 64;

class TokenHistory {
 public:
  explicit TokenHistory(size_t limit) : limit_(limit) {}
  TokenHistory(const TokenHistory&) = delete;
  TokenHistory& operator=(const TokenHistory&) = delete;

  // Appends `event` (numbering it) and returns it as kept (a folded
  // refusal returns the newest event with its new repeat count); nullopt
  // when the limit is 0.
  std::optional<HistoryEvent> Append(HistoryEvent event);
  // Puts back events read from a store (their own seq numbers, ascending),
  // keeping the newest `limit`; later appends number after them.
  void Restore(std::vector<HistoryEvent> events);
  // The kept events, oldest first.
  std::vector<HistoryEvent> Events() const;
  // The number of the newest event ever appended (0: none). Lock-free.
  uint64_t last_seq() const { return last_seq_.load(std::memory_order_acquire); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  mutable std::mutex mutex_;
  // Oldest first. A vector, not a deque: an empty deque allocates a
  // 512-byte block, and most tokens keep one or two events (the bound is
  // small, so dropping the oldest by moving the rest is cheap).
  std::vector<HistoryEvent> events_;  // guarded by mutex_
  std::atomic<uint64_t> last_seq_{0};
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_TOKEN_HISTORY_H_
