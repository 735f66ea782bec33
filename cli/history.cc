// `token history` and `token watch`: a token's event log, whole or as it
// grows. Both read the target's `history` file (JSON lines, core
// token_history.h); watch waits for news with poll(2) on it (POLLPRI|POLLIN,
// tokenfs(5) NOTIFICATION) and prints the events newer than what was there
// when it started.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "core/token_history.h"

namespace tokenfs::cli {
namespace {

constexpr Operation kHistoryOperation{
    "reading its history", "QUERY",
    "read@tokeninfo:history (its own token) or read@manage_mytokens:history "
    "(another token of its user)"};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The lines of `a` that `b` lacks, joined with "; ".
std::string Missing(const std::vector<std::string>& a,
                    const std::vector<std::string>& b) {
  std::string out;
  for (const std::string& line : a) {
    bool found = false;
    for (const std::string& other : b) found = found || other == line;
    if (found) continue;
    if (!out.empty()) out += "; ";
    out += line;
  }
  return out.empty() ? "(nothing)" : out;
}

// One human line: time, event, what changed (old -> new), by whom.
std::string HumanLine(const HistoryEvent& event) {
  const std::string stamp = HistoryEventJson(event);
  // The JSON's RFC 3339 time, cut to microseconds.
  std::string time = stamp.substr(stamp.find("\"time\":\"") + 8, 26) + "Z";
  std::string line = time + " " + std::string(HistoryKindName(event.kind));
  if (event.kind == HistoryKind::kAdjusted) {
    const auto before = Lines(event.before);
    const auto after = Lines(event.after);
    line += " " + event.file + ": " + Missing(before, after) + " -> " +
            Missing(after, before);
  }
  if (!event.operation.empty()) line += " " + event.operation;
  if (event.token != 0) line += " token " + std::to_string(event.token);
  if (event.repeat > 1) line += " (x" + std::to_string(event.repeat) + ")";
  line += " by pid " + std::to_string(event.actor_pid);
  if (!event.actor_user.empty()) line += " (" + event.actor_user + ")";
  return line;
}

struct Parsed {
  std::vector<HistoryEvent> events;
  std::vector<std::string> lines;  // the JSON line of each event
};

CliResult<Parsed> ParseHistory(const std::string& text) {
  Parsed parsed;
  for (std::string& line : Lines(text)) {
    auto event = ParseHistoryEventJson(line);
    if (!event) {
      return Fail(exit_status::kFailure,
                  "history: unreadable line: " + event.error().message);
    }
    parsed.events.push_back(std::move(*event));
    parsed.lines.push_back(std::move(line));
  }
  return parsed;
}

void Print(const Context& context, const HistoryEvent& event,
           const std::string& json_line) {
  const std::string line = context.options.json ? json_line : HumanLine(event);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

CliResult<int> RunHistory(Context& context) {
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  auto text = context.mount.Read(*target, "history", kHistoryOperation);
  if (!text) return tl::unexpected(text.error());
  auto parsed = ParseHistory(*text);
  if (!parsed) return tl::unexpected(parsed.error());
  for (size_t i = 0; i < parsed->events.size(); ++i) {
    Print(context, parsed->events[i], parsed->lines[i]);
  }
  return 0;
}

struct WatchFlags {
  std::optional<uint64_t> count;
  std::optional<double> timeout;
  void Register(CLI::App& app) {
    app.add_option("--count", count, "stop after N changes")
        ->type_name("N")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
    app.add_option("--timeout", timeout,
                   "stop after SECS seconds (exit 0)")
        ->type_name("SECS")
        ->check(CLI::Range(0.0, 1e9));
  }
};

// Where a watch is: the newest event printed (by time, then number).
struct Mark {
  uint64_t time_ns = 0;
  uint64_t seq = 0;
  bool Before(const HistoryEvent& event) const {
    return event.time_ns > time_ns ||
           (event.time_ns == time_ns && event.seq > seq);
  }
};

int OpenHistory(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
}

bool ReadAll(int fd, std::string& out) {
  out.clear();
  if (::lseek(fd, 0, SEEK_SET) != 0) return false;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return false;
    if (got == 0) return true;
    out.append(buffer, static_cast<size_t>(got));
  }
}

CliResult<int> RunWatch(Context& context, const WatchFlags& flags) {
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  const std::string path = target->dir + "/history";
  int fd = OpenHistory(path);
  if (fd < 0) {
    return tl::unexpected(context.mount.ErrorFor(errno, path, target->label,
                                                 kHistoryOperation, ""));
  }
  std::string text;
  if (!ReadAll(fd, text)) {
    const int error = errno;
    ::close(fd);
    return tl::unexpected(context.mount.ErrorFor(error, path, target->label,
                                                 kHistoryOperation, ""));
  }
  Mark mark;
  if (auto parsed = ParseHistory(text)) {
    for (const HistoryEvent& event : parsed->events) {
      if (mark.Before(event)) mark = {event.time_ns, event.seq};
    }
  }
  using Clock = std::chrono::steady_clock;
  const auto deadline =
      flags.timeout ? std::optional(Clock::now() +
                                    std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(
                                            *flags.timeout)))
                    : std::nullopt;
  uint64_t printed = 0;
  const auto print_new = [&](const std::string& content) -> CliStatus {
    auto parsed = ParseHistory(content);
    if (!parsed) return tl::unexpected(parsed.error());
    for (size_t i = 0; i < parsed->events.size(); ++i) {
      const HistoryEvent& event = parsed->events[i];
      if (!mark.Before(event)) continue;
      if (flags.count && printed >= *flags.count) break;
      Print(context, event, parsed->lines[i]);
      mark = {event.time_ns, event.seq};
      ++printed;
    }
    return {};
  };
  int status = 0;
  for (;;) {
    if (flags.count && printed >= *flags.count) break;
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - Clock::now());
      if (left.count() <= 0) break;
      wait_ms = static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX));
    }
    pollfd waiter{fd, POLLPRI | POLLIN, 0};
    const int ready = ::poll(&waiter, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      status = -errno;
      break;
    }
    if (ready == 0) continue;  // the deadline is checked above
    if (waiter.revents & (POLLERR | POLLNVAL)) {
      ::close(fd);
      return Fail(exit_status::kDenied,
                  "access denied: " + target->label +
                      ": watching another token needs tokeninfo:notify");
    }
    // News: the token changed, was replaced (exec) or ended. A new open
    // shows what the path names now; when it names nothing any more, the
    // open file read again from the start still shows its token's last
    // events (revoke, exit).
    const int fresh = OpenHistory(path);
    if (fresh >= 0) {
      ::close(fd);
      fd = fresh;
      if (!ReadAll(fd, text)) continue;
      if (auto done = print_new(text); !done) {
        ::close(fd);
        return tl::unexpected(done.error());
      }
      continue;
    }
    if (ReadAll(fd, text)) (void)print_new(text);
    if (!(flags.count && printed >= *flags.count)) {
      Notice(target->label + " is gone");
    }
    break;
  }
  ::close(fd);
  if (status < 0) {
    return tl::unexpected(context.mount.ErrorFor(-status, path, target->label,
                                                 kHistoryOperation, ""));
  }
  return 0;
}

}  // namespace

Runner AddHistory(CLI::App&) { return RunHistory; }
Runner AddWatch(CLI::App& app) { return Bind(app, RunWatch); }

}  // namespace tokenfs::cli
