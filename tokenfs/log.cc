#include "tokenfs/log.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>

namespace tokenfs {

std::string EscapeLogText(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (byte >= 0x20 && byte <= 0x7e) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

CallerLogBudget::CallerLogBudget(Limits limits) : limits_(limits) {
  limits_.lines_per_second = std::max<uint32_t>(limits_.lines_per_second, 1);
}

bool CallerLogBudget::Charge(Count& count) {
  if (count.written >= limits_.lines_per_second) {
    ++count.suppressed;
    return false;
  }
  ++count.written;
  return true;
}

CallerLogBudget::Decision CallerLogBudget::Take(uint32_t key, int64_t now) {
  Decision decision;
  if (!started_ || now != second_) {
    for (const auto& [suppressed_key, count] : table_) {
      if (count.suppressed) {
        decision.reports.push_back({suppressed_key, count.suppressed});
      }
    }
    // Reported in key order, so the report does not depend on hashing.
    std::sort(decision.reports.begin(), decision.reports.end(),
              [](const Suppressed& a, const Suppressed& b) {
                return *a.key < *b.key;
              });
    if (shared_.suppressed) {
      decision.reports.push_back({std::nullopt, shared_.suppressed});
    }
    table_.clear();
    shared_ = Count{};
    started_ = true;
    second_ = now;
  }
  auto found = table_.find(key);
  if (found == table_.end()) {
    if (table_.size() >= limits_.max_keys) {
      decision.write = Charge(shared_);
      return decision;
    }
    found = table_.emplace(key, Count{}).first;
  }
  decision.write = Charge(found->second);
  return decision;
}

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

// The single point where a line leaves the daemon: the message is escaped
// here and nowhere else.
void Emit(LogLevel level, std::string_view message) {
  const std::string escaped = EscapeLogText(message);
  if (use_syslog) {
    syslog(SyslogPriority(level), "%.*s", static_cast<int>(escaped.size()),
           escaped.data());
    return;
  }
  std::string line = "tokenfs: ";
  line += LevelName(level);
  line += ": ";
  line += escaped;
  line += '\n';
  // One write per line so concurrent lines do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Both budgets are guarded by budget_mutex.
std::mutex budget_mutex;
CallerLogBudget caller_budget;
// Log's info and warning lines, all under one key.
CallerLogBudget unattributed_budget(CallerLogBudget::Limits{
    kUnattributedLinesPerSecond, 1});

// Charges one line and, outside the lock, reports what was suppressed.
bool Admit(CallerLogBudget& budget, uint32_t key, bool per_caller) {
  CallerLogBudget::Decision decision;
  {
    std::lock_guard<std::mutex> lock(budget_mutex);
    decision = budget.Take(key, NowSeconds());
  }
  for (const CallerLogBudget::Suppressed& report : decision.reports) {
    std::string line;
    if (!per_caller) {
      line = std::to_string(report.lines) +
             " log lines suppressed (more than " +
             std::to_string(kUnattributedLinesPerSecond) + " a second)";
    } else if (report.key) {
      line = "uid " + std::to_string(*report.key) + ": " +
             std::to_string(report.lines) +
             " log lines suppressed (more than " +
             std::to_string(kCallerLinesPerSecond) + " a second)";
    } else {
      line = "uids beyond the first " + std::to_string(kMaxCallersPerSecond) +
             " of a second: " + std::to_string(report.lines) +
             " log lines suppressed (more than " +
             std::to_string(kCallerLinesPerSecond) + " a second between them)";
    }
    Emit(LogLevel::kWarning, line);
  }
  return decision.write;
}

}  // namespace

void InitLog(bool foreground, bool debug) {
  debug_enabled = debug;
  use_syslog = !foreground;
  if (!foreground) openlog("tokenfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

bool DebugLogging() { return debug_enabled; }

Status ProbeSystemLog(const char* path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (std::strlen(path) >= sizeof address.sun_path) {
    return MakeError(ErrorCode::kInvalidArgument, "path too long");
  }
  std::strcpy(address.sun_path, path);
  int first_errno = 0;
  for (const int type : {SOCK_DGRAM, SOCK_STREAM}) {
    const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return MakeError(ErrorCode::kInternal,
                       std::string("socket: ") + std::strerror(errno));
    }
    const int connected = ::connect(
        fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int connect_errno = errno;
    ::close(fd);
    if (connected == 0) return Ok();
    if (type == SOCK_DGRAM) first_errno = connect_errno;
    // Only a socket of the other type is worth a second try.
    if (connect_errno != EPROTOTYPE) break;
  }
  return MakeError(ErrorCode::kNotFound,
                   std::string("connect: ") + std::strerror(first_errno));
}

void Log(LogLevel level, std::string_view message) {
  if (level == LogLevel::kInfo || level == LogLevel::kWarning) {
    if (!Admit(unattributed_budget, 0, false)) return;
  }
  Emit(level, message);
}

void LogForCaller(LogLevel level, uint32_t caller_uid,
                  std::string_view message) {
  if (level == LogLevel::kDebug) {
    if (DebugLogging()) Emit(level, message);
    return;
  }
  if (!Admit(caller_budget, caller_uid, true)) return;
  Emit(level, message);
}

}  // namespace tokenfs
