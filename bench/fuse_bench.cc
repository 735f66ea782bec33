// fuse_bench: the latency harness of issue 3. It times, per target file,
// cycles of open + read-until-EOF + close (what `cat` does, without the
// fork and exec), and reports the median, p90 and p99 in microseconds.
//
// Targets run in alternating rounds: the iterations of every target are split
// into --rounds slices and the slices interleave (A B C A B C ...), so host
// noise on a shared VM lands on all targets alike instead of on whichever
// ran during the noisy second. Each target first runs --warmup untimed
// cycles (dentry and attribute caches, daemon threads, page tables).
//
// Cold cycles (--cold): before every cycle of a target named by --toggle,
// an untimed write of the next of two texts to a file changes what the target
// reads (for tokenfs: a privilege of the token toggled through its `privs`),
// so the cycle is the first read after a change. Targets without --toggle
// run as usual (for hello_ll every open drops its page cache anyway).
//
// Concurrent readers (--readers N): per round and target, N threads run read
// cycles for --duration-ms / --rounds; reports cycles per second and the
// median and p99 latency over every thread's cycles.
//
// Besides the read cycle it has two helper modes for the scripts:
//   --list          cycles of opendir + readdir-until-end + closedir
//                   (`ls -f` without the process), or with --list-stat also
//                   an lstat of every entry (`ls -l` without formatting);
//   --spawn N       forks N children that sleep until the spawner gets
//                   SIGTERM/SIGINT (then it kills and reaps them and exits);
//                   their pids go to --pid-file, and "ready" to stdout.
//                   Children die with the spawner (PR_SET_PDEATHSIG), so a
//                   killed script leaves nothing behind.
//
// Output: a table on stdout; with --tsv FILE also one tab-separated line per
// target (name, cycles, bytes, median, p90, p99, min, mean, open/read/close
// medians; times in µs; then cycles per second with --readers, else 0) for
// scripts.
//
// Needs nothing beyond libc and the C++ standard library: it must build on
// any host the daemon is compared on.
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bench/bench_support.h"

using tokenfs::bench::NowNs;
using tokenfs::bench::ParseCount;
using tokenfs::bench::Percentile;

namespace {

constexpr const char* kUsage =
    "usage: fuse_bench [options] NAME=PATH...\n"
    "  times open + read-until-EOF + close of each PATH (or, with --list,\n"
    "  opendir + readdir + closedir of each directory)\n"
    "options:\n"
    "  --iterations N   timed cycles per target (default 20000)\n"
    "  --warmup N       untimed cycles per target first (default 2000)\n"
    "  --rounds R       interleaved rounds the cycles are split into "
    "(default 20)\n"
    "  --buffer BYTES   read() size (default 131072, as cat uses)\n"
    "  --baseline NAME  target the ratios divide by (default: the first)\n"
    "  --list           directory cycles instead of file cycles\n"
    "  --list-stat      with --list: also lstat every entry (ls -l)\n"
    "  --cpu N          pin the harness to CPU N\n"
    "  --toggle NAME:FILE:TEXT_A:TEXT_B\n"
    "                   with --cold: before each cycle of target NAME, write\n"
    "                   TEXT_A, then TEXT_B, ... to FILE (untimed)\n"
    "  --cold           run every cycle right after its target's toggle\n"
    "  --changes-only   only the toggle writes, --iterations per target\n"
    "                   (to count what they cost the daemon)\n"
    "  --readers N      N concurrent reader threads per target; the rounds\n"
    "                   share --duration-ms (default 5000)\n"
    "  --tsv FILE       also write one tab-separated line per target\n"
    "  --spawn N --pid-file FILE\n"
    "                   fork N sleeping children, write their pids, print\n"
    "                   'ready', and on SIGTERM/SIGINT kill them and exit\n";

struct Target {
  std::string name;
  std::string path;
  std::vector<int64_t> total_ns;
  std::vector<int64_t> open_ns;
  std::vector<int64_t> read_ns;
  std::vector<int64_t> close_ns;
  size_t bytes = 0;       // what one cycle read (entries, with --list)
  size_t read_calls = 0;  // read()s per cycle, the EOF one included
  // --toggle: the file written before each cold cycle and its two texts.
  std::string toggle_file;
  std::string toggle_text[2];
  long toggles = 0;
  // --readers: cycles run and wall time spent, over every round.
  int64_t readers_ns = 0;
};

struct Options {
  long iterations = 20000;
  long warmup = 2000;
  long rounds = 20;
  size_t buffer = 131072;
  std::string baseline;
  bool list = false;
  bool list_stat = false;
  int cpu = -1;
  std::string tsv;
  long spawn = 0;
  std::string pid_file;
  bool cold = false;
  bool changes_only = false;
  long readers = 0;
  long duration_ms = 5000;
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "fuse_bench: %s\n", message.c_str());
  std::exit(1);
}

// One open + read-until-EOF + close. Records the phase times when `sample`
// is given; fails the program (naming the path and errno) on any error,
// since a failing cycle would time the error path.
void ReadCycle(Target& target, std::vector<char>& buffer, bool sample) {
  const int64_t start = NowNs();
  const int fd = ::open(target.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail("open " + target.path + ": " + std::strerror(errno));
  const int64_t opened = NowNs();
  size_t bytes = 0;
  size_t calls = 0;
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    ++calls;
    if (got < 0) {
      if (errno == EINTR) continue;
      Fail("read " + target.path + ": " + std::strerror(errno));
    }
    if (got == 0) break;
    bytes += static_cast<size_t>(got);
  }
  const int64_t read_done = NowNs();
  if (::close(fd) != 0) {
    Fail("close " + target.path + ": " + std::strerror(errno));
  }
  const int64_t closed = NowNs();
  if (bytes == 0) Fail(target.path + " read as empty");
  target.bytes = bytes;
  target.read_calls = calls;
  if (!sample) return;
  target.total_ns.push_back(closed - start);
  target.open_ns.push_back(opened - start);
  target.read_ns.push_back(read_done - opened);
  target.close_ns.push_back(closed - read_done);
}

// Writes the next toggle text of `target` (untimed; see the file comment).
void Toggle(Target& target) {
  const std::string& text = target.toggle_text[target.toggles++ % 2];
  const int fd = ::open(target.toggle_file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) Fail("open " + target.toggle_file + ": " + std::strerror(errno));
  if (::write(fd, text.data(), text.size()) !=
      static_cast<ssize_t>(text.size())) {
    Fail("write '" + text + "' to " + target.toggle_file + ": " +
         std::strerror(errno));
  }
  if (::close(fd) != 0) {
    Fail("close " + target.toggle_file + ": " + std::strerror(errno));
  }
}

// --readers: `readers` threads run read cycles of `target` for `slice_ns`;
// their samples are appended to the target's.
void ReadersSlice(Target& target, long readers, size_t buffer_size,
                  int64_t slice_ns) {
  std::vector<Target> copies(static_cast<size_t>(readers), target);
  for (Target& copy : copies) {
    copy.total_ns.clear();
    copy.open_ns.clear();
    copy.read_ns.clear();
    copy.close_ns.clear();
  }
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  int64_t deadline = 0;
  for (Target& copy : copies) {
    threads.emplace_back([&copy, &go, &deadline, buffer_size] {
      std::vector<char> buffer(buffer_size);
      while (!go.load(std::memory_order_acquire)) {
      }
      while (NowNs() < deadline) ReadCycle(copy, buffer, true);
    });
  }
  const int64_t start = NowNs();
  deadline = start + slice_ns;
  go.store(true, std::memory_order_release);
  for (std::thread& thread : threads) thread.join();
  target.readers_ns += NowNs() - start;
  for (const Target& copy : copies) {
    target.bytes = copy.bytes;
    target.read_calls = copy.read_calls;
    for (auto [from, to] :
         {std::pair{&copy.total_ns, &target.total_ns},
          std::pair{&copy.open_ns, &target.open_ns},
          std::pair{&copy.read_ns, &target.read_ns},
          std::pair{&copy.close_ns, &target.close_ns}}) {
      to->insert(to->end(), from->begin(), from->end());
    }
  }
}

// One opendir + readdir-until-end (+ lstat of each entry) + closedir.
void ListCycle(Target& target, bool stat_entries, bool sample) {
  const int64_t start = NowNs();
  DIR* directory = ::opendir(target.path.c_str());
  if (!directory) Fail("opendir " + target.path + ": " + std::strerror(errno));
  const int64_t opened = NowNs();
  const int directory_fd = ::dirfd(directory);
  size_t entries = 0;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(directory);
    if (!entry) {
      if (errno != 0) {
        Fail("readdir " + target.path + ": " + std::strerror(errno));
      }
      break;
    }
    ++entries;
    if (stat_entries) {
      struct stat attributes {};
      // A process may exit between readdir and lstat: ENOENT is normal.
      if (::fstatat(directory_fd, entry->d_name, &attributes,
                    AT_SYMLINK_NOFOLLOW) != 0 &&
          errno != ENOENT && errno != ESRCH) {
        Fail("lstat " + target.path + "/" + entry->d_name + ": " +
             std::strerror(errno));
      }
    }
  }
  const int64_t read_done = NowNs();
  ::closedir(directory);
  const int64_t closed = NowNs();
  target.bytes = entries;
  target.read_calls = 0;
  if (!sample) return;
  target.total_ns.push_back(closed - start);
  target.open_ns.push_back(opened - start);
  target.read_ns.push_back(read_done - opened);
  target.close_ns.push_back(closed - read_done);
}

// Nearest-rank percentile of an ascending vector, in µs.
double MedianUs(std::vector<int64_t> values) {
  std::sort(values.begin(), values.end());
  return Percentile(values, 0.5);
}

struct Summary {
  double median = 0, p90 = 0, p99 = 0, min = 0, mean = 0;
  double open = 0, read = 0, close = 0;
};

Summary Summarize(const Target& target) {
  std::vector<int64_t> sorted = target.total_ns;
  std::sort(sorted.begin(), sorted.end());
  Summary summary;
  summary.median = Percentile(sorted, 0.5);
  summary.p90 = Percentile(sorted, 0.9);
  summary.p99 = Percentile(sorted, 0.99);
  summary.min =
      sorted.empty() ? 0 : static_cast<double>(sorted.front()) / 1000.0;
  double sum = 0;
  for (int64_t value : sorted) sum += static_cast<double>(value);
  summary.mean =
      sorted.empty() ? 0 : sum / static_cast<double>(sorted.size()) / 1000.0;
  summary.open = MedianUs(target.open_ns);
  summary.read = MedianUs(target.read_ns);
  summary.close = MedianUs(target.close_ns);
  return summary;
}

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

// --spawn: see the file comment.
int Spawn(long count, const std::string& pid_file) {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  // Block the stop signals until the parent is ready to wait for them, so
  // one arriving during the fork loop is not lost.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  ::sigprocmask(SIG_BLOCK, &stop_signals, &previous);
  const pid_t parent = ::getpid();
  std::vector<pid_t> children;
  children.reserve(static_cast<size_t>(count));
  for (long i = 0; i < count && !g_stop; ++i) {
    const pid_t child = ::fork();
    if (child < 0) {
      std::fprintf(stderr, "fuse_bench: fork %ld of %ld: %s\n", i + 1, count,
                   std::strerror(errno));
      break;
    }
    if (child == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(0);  // the spawner died already
      struct sigaction default_action {};
      default_action.sa_handler = SIG_DFL;
      ::sigaction(SIGTERM, &default_action, nullptr);
      ::sigaction(SIGINT, &default_action, nullptr);
      ::sigprocmask(SIG_SETMASK, &previous, nullptr);
      for (;;) ::pause();
    }
    children.push_back(child);
  }
  FILE* file = std::fopen(pid_file.c_str(), "w");
  if (!file) {
    std::fprintf(stderr, "fuse_bench: %s: %s\n", pid_file.c_str(),
                 std::strerror(errno));
  } else {
    for (pid_t child : children) std::fprintf(file, "%d\n", child);
    std::fclose(file);
  }
  const bool complete = static_cast<long>(children.size()) == count && file;
  if (complete) {
    std::printf("ready %zu\n", children.size());
    std::fflush(stdout);
    while (!g_stop) ::sigsuspend(&previous);
  }
  for (pid_t child : children) ::kill(child, SIGKILL);
  for (pid_t child : children) ::waitpid(child, nullptr, 0);
  return complete ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::vector<Target> targets;
  std::vector<std::string> toggles;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) Fail(std::string(argument) + " needs " + what);
      return argv[++i];
    };
    long number = 0;
    if (argument == "--help" || argument == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (argument == "--iterations") {
      if (!ParseCount(value("a count"), 1, &options.iterations)) {
        Fail("--iterations needs a count >= 1");
      }
    } else if (argument == "--warmup") {
      if (!ParseCount(value("a count"), 0, &options.warmup)) {
        Fail("--warmup needs a count >= 0");
      }
    } else if (argument == "--rounds") {
      if (!ParseCount(value("a count"), 1, &options.rounds)) {
        Fail("--rounds needs a count >= 1");
      }
    } else if (argument == "--buffer") {
      if (!ParseCount(value("a size"), 1, &number)) {
        Fail("--buffer needs a size >= 1");
      }
      options.buffer = static_cast<size_t>(number);
    } else if (argument == "--baseline") {
      options.baseline = value("a target name");
    } else if (argument == "--list") {
      options.list = true;
    } else if (argument == "--list-stat") {
      options.list = true;
      options.list_stat = true;
    } else if (argument == "--cpu") {
      if (!ParseCount(value("a CPU number"), 0, &number)) {
        Fail("--cpu needs a CPU number");
      }
      options.cpu = static_cast<int>(number);
    } else if (argument == "--tsv") {
      options.tsv = value("a file");
    } else if (argument == "--spawn") {
      if (!ParseCount(value("a count"), 1, &options.spawn)) {
        Fail("--spawn needs a count >= 1");
      }
    } else if (argument == "--pid-file") {
      options.pid_file = value("a file");
    } else if (argument == "--cold") {
      options.cold = true;
    } else if (argument == "--changes-only") {
      options.changes_only = true;
    } else if (argument == "--readers") {
      if (!ParseCount(value("a count"), 1, &options.readers)) {
        Fail("--readers needs a count >= 1");
      }
    } else if (argument == "--duration-ms") {
      if (!ParseCount(value("a count"), 1, &options.duration_ms)) {
        Fail("--duration-ms needs a count >= 1");
      }
    } else if (argument == "--toggle") {
      toggles.emplace_back(value("NAME:FILE:TEXT_A:TEXT_B"));
    } else if (argument.starts_with("-")) {
      Fail("unknown option " + std::string(argument) + "\n" + kUsage);
    } else {
      const size_t equals = argument.find('=');
      if (equals == std::string_view::npos || equals == 0 ||
          equals + 1 == argument.size()) {
        Fail("target '" + std::string(argument) + "' is not NAME=PATH");
      }
      Target target;
      target.name = std::string(argument.substr(0, equals));
      target.path = std::string(argument.substr(equals + 1));
      targets.push_back(std::move(target));
    }
  }
  if (options.spawn > 0) {
    if (options.pid_file.empty()) Fail("--spawn needs --pid-file");
    return Spawn(options.spawn, options.pid_file);
  }
  if (targets.empty()) Fail(std::string("no targets\n") + kUsage);
  for (const std::string& toggle : toggles) {
    std::vector<std::string> parts;
    size_t from = 0;
    for (size_t colon; (colon = toggle.find(':', from)) != std::string::npos;
         from = colon + 1) {
      parts.push_back(toggle.substr(from, colon - from));
    }
    parts.push_back(toggle.substr(from));
    if (parts.size() != 4 || parts[0].empty() || parts[1].empty()) {
      Fail("--toggle '" + toggle + "' is not NAME:FILE:TEXT_A:TEXT_B");
    }
    auto found = std::find_if(
        targets.begin(), targets.end(),
        [&](const Target& target) { return target.name == parts[0]; });
    if (found == targets.end()) Fail("--toggle names no target " + parts[0]);
    found->toggle_file = parts[1];
    found->toggle_text[0] = parts[2];
    found->toggle_text[1] = parts[3];
  }
  if (options.readers > 0 && (options.cold || options.list)) {
    Fail("--readers goes with neither --cold nor --list");
  }
  if (options.cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(options.cpu, &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
      Fail("--cpu " + std::to_string(options.cpu) + ": " +
           std::strerror(errno));
    }
  }
  size_t baseline = 0;
  if (!options.baseline.empty()) {
    auto found = std::find_if(
        targets.begin(), targets.end(),
        [&](const Target& target) { return target.name == options.baseline; });
    if (found == targets.end()) {
      Fail("--baseline " + options.baseline + " names no target");
    }
    baseline = static_cast<size_t>(found - targets.begin());
  }

  std::vector<char> buffer(options.buffer);
  if (options.changes_only) {
    for (Target& target : targets) {
      if (target.toggle_file.empty()) continue;
      for (long i = 0; i < options.iterations; ++i) Toggle(target);
      std::printf("%s: %ld changes\n", target.name.c_str(), target.toggles);
    }
    return 0;
  }
  auto cycle = [&](Target& target, bool sample) {
    if (options.cold && !target.toggle_file.empty()) Toggle(target);
    if (options.list) {
      ListCycle(target, options.list_stat, sample);
    } else {
      ReadCycle(target, buffer, sample);
    }
  };
  for (Target& target : targets) {
    target.total_ns.reserve(static_cast<size_t>(options.iterations));
    target.open_ns.reserve(static_cast<size_t>(options.iterations));
    target.read_ns.reserve(static_cast<size_t>(options.iterations));
    target.close_ns.reserve(static_cast<size_t>(options.iterations));
    for (long i = 0; i < options.warmup; ++i) cycle(target, false);
  }
  for (long round = 0; round < options.rounds && options.readers > 0;
       ++round) {
    const int64_t slice_ns =
        int64_t{options.duration_ms} * 1'000'000 / options.rounds;
    for (Target& target : targets) {
      ReadersSlice(target, options.readers, options.buffer, slice_ns);
    }
  }
  for (long round = 0; round < options.rounds && options.readers == 0;
       ++round) {
    // Slice `round` of each target: [begin, end) of its iterations.
    const long begin = options.iterations * round / options.rounds;
    const long end = options.iterations * (round + 1) / options.rounds;
    for (Target& target : targets) {
      for (long i = begin; i < end; ++i) cycle(target, true);
    }
  }

  std::vector<Summary> summaries;
  for (const Target& target : targets) summaries.push_back(Summarize(target));
  const char* unit = options.list ? "entries" : "bytes";
  std::printf("%-12s %7s %7s %5s %9s %9s %9s %9s %9s | %8s %8s %8s\n", "target",
              "cycles", unit, "reads", "median", "p90", "p99", "min", "mean",
              "open", options.list ? "readdir" : "read", "close");
  for (size_t i = 0; i < targets.size(); ++i) {
    const Summary& s = summaries[i];
    const std::string reads =
        options.list ? "-" : std::to_string(targets[i].read_calls);
    std::printf(
        "%-12s %7zu %7zu %5s %9.2f %9.2f %9.2f %9.2f %9.2f | %8.2f %8.2f "
        "%8.2f\n",
        targets[i].name.c_str(), targets[i].total_ns.size(), targets[i].bytes,
        reads.c_str(), s.median, s.p90, s.p99, s.min, s.mean, s.open, s.read,
        s.close);
  }
  std::printf("(times in µs; open/%s/close are per-phase medians%s)\n",
              options.list ? "readdir" : "read",
              options.list ? "" : "; read includes the EOF read()");
  auto rate = [&](const Target& target) {
    return target.readers_ns == 0
               ? 0.0
               : static_cast<double>(target.total_ns.size()) * 1e9 /
                     static_cast<double>(target.readers_ns);
  };
  if (options.readers > 0) {
    for (const Target& target : targets) {
      std::printf("%s: %ld readers, %.0f cycles/s over %.2f s\n",
                  target.name.c_str(), options.readers, rate(target),
                  static_cast<double>(target.readers_ns) / 1e9);
    }
  }
  const Summary& base = summaries[baseline];
  for (size_t i = 0; i < targets.size(); ++i) {
    if (i == baseline) continue;
    std::printf("ratio %s/%s: median %.2f, p90 %.2f, p99 %.2f\n",
                targets[i].name.c_str(), targets[baseline].name.c_str(),
                summaries[i].median / base.median, summaries[i].p90 / base.p90,
                summaries[i].p99 / base.p99);
  }
  if (!options.tsv.empty()) {
    FILE* file = std::fopen(options.tsv.c_str(), "w");
    if (!file) Fail(options.tsv + ": " + std::strerror(errno));
    for (size_t i = 0; i < targets.size(); ++i) {
      const Summary& s = summaries[i];
      std::fprintf(
          file,
          "%s\t%zu\t%zu\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\n",
          targets[i].name.c_str(), targets[i].total_ns.size(), targets[i].bytes,
          s.median, s.p90, s.p99, s.min, s.mean, s.open, s.read, s.close,
          rate(targets[i]));
    }
    std::fclose(file);
  }
  return 0;
}
