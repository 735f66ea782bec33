// Log: the daemon's log lines (start-up, denials, errors, debug traces).
//
// In the foreground lines go to stderr; otherwise to syslog (facility
// daemon, ident "tokenfs"). Denials and errors are logged with their
// reason, because errno alone cannot say why ("privilege SeDebug is not
// present on the token").
//
// Every message is escaped where it is emitted (EscapeLogText), so no caller
// can forget: a message carries bytes a user wrote, and a raw newline would
// forge a whole line, a raw ESC would drive the reader's terminal. A line is
// therefore always exactly one line of printable ASCII after its prefix.
//
// Budgets: lines a request provokes go through LogForCaller and are limited
// per caller uid (CallerLogBudget, kCallerLinesPerSecond), so one user's
// flood never hides another user's lines; what a budget suppresses is
// counted and reported in a warning along with the first line let through
// after that second. Info and warning lines of Log (not tied to a caller)
// have one budget of their own (kUnattributedLinesPerSecond) that caller
// lines never draw on, so a user's flood cannot starve them either. Errors
// of Log and debug lines (only with -d) are never suppressed.
//
// Thread-safety: InitLog is called once, before any other thread logs; the
// rest may be called from any thread. Each line is emitted with one
// write(2) (stderr) or one syslog(3) call. CallerLogBudget itself is not
// thread-safe; the log holds its instances under a mutex.
#ifndef TOKENFS_TOKENFS_LOG_H_
#define TOKENFS_TOKENFS_LOG_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"

namespace tokenfs {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Lines a second each caller uid may have written (LogForCaller).
inline constexpr uint32_t kCallerLinesPerSecond = 50;
// Distinct caller uids given a budget of their own in one second.
inline constexpr size_t kMaxCallersPerSecond = 4096;
// Info and warning lines a second of Log, shared by all its callers.
inline constexpr uint32_t kUnattributedLinesPerSecond = 200;

// `text` with every byte outside printable ASCII (0x20..0x7e) written as
// \xNN (two lower-case hex digits) and every backslash as \\, so the result
// is printable ASCII and the original bytes can be read back from it.
std::string EscapeLogText(std::string_view text);

// Chooses the sink; call once before the first line.
void InitLog(bool foreground, bool debug);
bool DebugLogging();

// Succeeds iff a socket can connect to the system log socket at `path` the
// way syslog(3) connects (a datagram socket, or a stream socket when the one
// there is of that type); else the error's message names the failed call
// and errno, e.g. "connect: No such file or directory".
Status ProbeSystemLog(const char* path = "/dev/log");

// A line not tied to a caller: start-up, the FUSE connection, process
// events, internal errors. Info and warning lines share one budget of
// kUnattributedLinesPerSecond; errors and debug lines are never suppressed.
void Log(LogLevel level, std::string_view message);

// A line a request by `caller_uid` provoked (a denial, a malformed write).
// Lines of any level but debug count against that uid's budget; debug
// lines are written only with -d, and then without a budget.
void LogForCaller(LogLevel level, uint32_t caller_uid,
                  std::string_view message);

inline void LogInfo(std::string_view message) { Log(LogLevel::kInfo, message); }
inline void LogWarning(std::string_view message) {
  Log(LogLevel::kWarning, message);
}
inline void LogError(std::string_view message) {
  Log(LogLevel::kError, message);
}
inline void LogDebug(std::string_view message) {
  if (DebugLogging()) Log(LogLevel::kDebug, message);
}

// CallerLogBudget: lines a second per key (a caller uid), over a bounded
// table.
//
// Time is whole seconds, passed in by the caller (`now`), so the budget is a
// pure function of the calls made. Within one second each key may have
// `lines_per_second` lines written; further lines of that key are suppressed
// and counted. A key first seen in a second when `max_keys` keys already
// have a budget in that second gets none of its own: all such keys share
// one extra budget of `lines_per_second` (so beyond the bound lines are
// still written, at most `lines_per_second` a second between all of them,
// and a holder of more than `max_keys` uids can crowd out the keys that
// come after them in that second). When the second changes, every count
// starts over and the table is emptied.
//
// What was suppressed in a second is handed back, per key (and for the
// shared budget as one count without a key), by the first call of a later
// second; that call always gets to write, so each count is reported before
// the next line written after its second, and so no later than that key's
// own next line.
//
// Invariant: the table holds at most `max_keys` keys, each with
// 1 <= written <= lines_per_second; suppressed > 0 only once written ==
// lines_per_second.
//
// Thread-safety: none; callers serialize. Ownership: plain values.
class CallerLogBudget {
 public:
  struct Limits {
    uint32_t lines_per_second = kCallerLinesPerSecond;  // 0 counts as 1
    size_t max_keys = kMaxCallersPerSecond;
  };
  // Lines suppressed in an earlier second: of `key`, or of the keys that
  // shared the extra budget when `key` is empty.
  struct Suppressed {
    std::optional<uint32_t> key;
    uint64_t lines = 0;
    bool operator==(const Suppressed&) const = default;
  };
  struct Decision {
    bool write = false;
    // To report before this line (empty unless this call began a second).
    std::vector<Suppressed> reports;
  };

  CallerLogBudget() : CallerLogBudget(Limits{}) {}
  explicit CallerLogBudget(Limits limits);

  // Charges one line of `key` at second `now`.
  Decision Take(uint32_t key, int64_t now);

  // Keys with a budget of their own in the current second.
  size_t tracked() const { return table_.size(); }

 private:
  struct Count {
    uint32_t written = 0;
    uint64_t suppressed = 0;
  };
  bool Charge(Count& count);

  Limits limits_;
  bool started_ = false;
  int64_t second_ = 0;
  std::unordered_map<uint32_t, Count> table_;
  Count shared_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_LOG_H_
