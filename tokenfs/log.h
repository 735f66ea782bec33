// Log: the daemon's log lines (start-up, denials, errors, debug traces).
//
// In the foreground lines go to stderr; otherwise to syslog (facility
// daemon, ident "tokenfs"). Every denial and every error is logged with its
// reason, because errno alone cannot say why ("privilege SeDebug is not
// present on the token").
//
// Thread-safety: Write may be called from any thread; each line is emitted
// with one write(2) (stderr) or one syslog(3) call.
#ifndef TOKENFS_TOKENFS_LOG_H_
#define TOKENFS_TOKENFS_LOG_H_

#include <string_view>

namespace tokenfs {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

// Chooses the sink; call once before the first Write.
void InitLog(bool foreground, bool debug);
bool DebugLogging();

void Log(LogLevel level, std::string_view message);

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

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_LOG_H_
