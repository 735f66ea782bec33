#include "tokenfs/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

namespace tokenfs {
namespace {

std::atomic<bool> use_syslog{false};
std::atomic<bool> debug_enabled{false};

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return LOG_DEBUG;
    case LogLevel::kInfo:
      return LOG_INFO;
    case LogLevel::kWarning:
      return LOG_WARNING;
    case LogLevel::kError:
      return LOG_ERR;
  }
  return LOG_INFO;
}

// Any user can provoke denials and malformed-write warnings; at most this
// many such lines a second reach the log, and the rest are counted.
constexpr int kLinesPerSecond = 200;
std::mutex budget_mutex;
int64_t budget_second = 0;  // guarded by budget_mutex
int budget_used = 0;        // guarded by budget_mutex
uint64_t suppressed = 0;    // guarded by budget_mutex

// True iff the line may be written; sets `*dropped` to the lines suppressed
// since the last one written (to report them).
bool TakeBudget(uint64_t* dropped) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  std::lock_guard<std::mutex> lock(budget_mutex);
  if (now != budget_second) {
    budget_second = now;
    budget_used = 0;
  }
  if (budget_used >= kLinesPerSecond) {
    ++suppressed;
    return false;
  }
  ++budget_used;
  *dropped = suppressed;
  suppressed = 0;
  return true;
}

void Emit(LogLevel level, std::string_view message);

}  // namespace

void InitLog(bool foreground, bool debug) {
  debug_enabled = debug;
  use_syslog = !foreground;
  if (!foreground) openlog("tokenfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool DebugLogging() { return debug_enabled; }

void Log(LogLevel level, std::string_view message) {
  if (level == LogLevel::kInfo || level == LogLevel::kWarning) {
    uint64_t dropped = 0;
    if (!TakeBudget(&dropped)) return;
    if (dropped) {
      Emit(LogLevel::kWarning,
           std::to_string(dropped) + " log lines suppressed (more than " +
               std::to_string(kLinesPerSecond) + " a second)");
    }
  }
  Emit(level, message);
}

namespace {
void Emit(LogLevel level, std::string_view message) {
  if (use_syslog) {
    syslog(SyslogPriority(level), "%.*s", static_cast<int>(message.size()),
           message.data());
    return;
  }
  std::string line = "tokenfs: ";
  line += LevelName(level);
  line += ": ";
  line += message;
  line += '\n';
  // One write per line so concurrent lines do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}
}  // namespace

}  // namespace tokenfs
