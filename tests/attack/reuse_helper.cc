// reuse_helper: the steer-a-pid cycle of the attack suite's pid-reuse
// attempts (finding 8), in C++ so that one cycle fits in one clock tick.
//
// tokenfs tells processes apart by (pid, start time), and /proc gives start
// times in clock ticks (10 ms). A process that takes over a dead process's
// pid within the dead one's start tick is indistinguishable by that key, so
// each cycle runs right after a tick begins:
//   1. fork A (it just waits), adjust A's token through MOUNT/A/privs
//      (SeChangeNotify=disabled), keeping that descriptor open;
//   2. kill and reap A, then fork B on A's pid (ns_last_pid = A - 1; retry
//      when another task took the pid first);
//   3. read MOUNT/B/privs: a fresh token has SeChangeNotify enabled; then
//      write SeShutdown=disabled through A's descriptor and read again: the
//      write must not reach B.
// Runs inside a pid namespace of its own (ns_last_pid is per namespace), as
// root, next to a tokenfs daemon in that namespace.
//
// Usage: reuse_helper MOUNT MAX_CYCLES WANT_SAME_TICK SECONDS
// Prints one line per cycle where B got A's pid:
//   cycle same_tick=0|1 old_token=0|1 stale_write=0|1 readable=0|1
// and "done cycles=N" at the end. Exits 0, or 2 on a setup failure.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "reuse_helper: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

int64_t BootNanoseconds() {
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

// Returns just after a clock tick began.
void AlignToTick(int64_t tick) {
  for (;;) {
    const int64_t into = BootNanoseconds() % tick;
    if (into < tick / 40) return;
    if (tick - into > 2000000) {
      const int64_t wait = tick - into - 1500000;
      timespec pause{0, static_cast<long>(wait)};
      nanosleep(&pause, nullptr);
    }
  }
}

std::string ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return {};
  std::string text;
  char buffer[4096];
  ssize_t got;
  while ((got = read(fd, buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(got));
  }
  close(fd);
  return text;
}

// Field 22 of /proc/PID/stat (after the parenthesised command name).
long long StartTicks(pid_t pid) {
  const std::string text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return -1;
  const char* cursor = text.c_str() + close_paren + 2;
  for (int field = 3; field < 22; ++field) {
    cursor = std::strchr(cursor, ' ');
    if (!cursor) return -1;
    ++cursor;
  }
  return std::atoll(cursor);
}

pid_t ForkIdle() {
  const pid_t child = fork();
  if (child < 0) Die("fork");
  if (child == 0) {
    for (;;) pause();
  }
  return child;
}

void Reap(pid_t pid) {
  kill(pid, SIGKILL);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// Forks an idle child on `pid`, or returns -1.
pid_t Steer(pid_t pid) {
  const std::string last = std::to_string(pid - 1);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
    if (fd < 0) Die("open ns_last_pid");
    if (write(fd, last.data(), last.size()) < 0) Die("write ns_last_pid");
    close(fd);
    const pid_t child = ForkIdle();
    if (child == pid) return child;
    Reap(child);
  }
  return -1;
}

bool Shows(const std::string& privs, const char* line) {
  return privs.find(line) != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr,
                 "usage: reuse_helper MOUNT MAX_CYCLES WANT_SAME_TICK "
                 "SECONDS\n");
    return 2;
  }
  const std::string mount = argv[1];
  const int max_cycles = std::atoi(argv[2]);
  const int want_same = std::atoi(argv[3]);
  const int64_t deadline =
      BootNanoseconds() + static_cast<int64_t>(std::atoi(argv[4])) * 1000000000;
  const long hz = sysconf(_SC_CLK_TCK);
  const int64_t tick = 1000000000 / (hz > 0 ? hz : 100);
  signal(SIGCHLD, SIG_DFL);
  int cycles = 0;
  int same_ticks = 0;
  static const char kAdjust[] = "SeChangeNotify=disabled";
  static const char kStale[] = "SeShutdown=disabled";
  while (cycles < max_cycles && same_ticks < want_same &&
         BootNanoseconds() < deadline) {
    ++cycles;
    AlignToTick(tick);
    const pid_t a = ForkIdle();
    const long long tick_a = StartTicks(a);
    const std::string a_privs = mount + "/" + std::to_string(a) + "/privs";
    const int fd = open(a_privs.c_str(), O_WRONLY);
    if (fd < 0) Die("open A's privs");
    if (write(fd, kAdjust, sizeof kAdjust - 1) < 0) Die("adjust A");
    Reap(a);
    const pid_t b = Steer(a);
    if (b < 0) {
      close(fd);
      continue;
    }
    const bool same = StartTicks(b) == tick_a;
    same_ticks += same;
    const std::string b_privs = mount + "/" + std::to_string(b) + "/privs";
    const std::string first = ReadFile(b_privs);
    const bool old = Shows(first, "SeChangeNotify  disabled");
    ssize_t ignored = write(fd, kStale, sizeof kStale - 1);
    (void)ignored;
    close(fd);
    const std::string second = ReadFile(b_privs);
    const bool stale = Shows(second, "SeShutdown  disabled");
    std::printf("cycle same_tick=%d old_token=%d stale_write=%d readable=%d\n",
                same, old, stale, !first.empty());
    std::fflush(stdout);
    Reap(b);
  }
  std::printf("done cycles=%d\n", cycles);
  return 0;
}
