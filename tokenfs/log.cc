#include "tokenfs/log.h"

#include <syslog.h>
#include <unistd.h>

#include <atomic>
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

}  // namespace

void InitLog(bool foreground, bool debug) {
  debug_enabled = debug;
  use_syslog = !foreground;
  if (!foreground) openlog("tokenfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool DebugLogging() { return debug_enabled; }

void Log(LogLevel level, std::string_view message) {
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

}  // namespace tokenfs
