// adjust_bench: the latency of one token adjustment, i.e. of the write(2)
// that changes a token (docs/benchmarks.md, section "Adjustment latency").
// It writes to
// <mount>/self/<file> (default privs) and alternates two commands that each
// change the token, by default `<privilege>=disabled` and
// `<privilege>=enabled` of one privilege present on the caller's token, so
// every timed write publishes a new token version and the loop can run
// forever without side effects (the original state is restored at the end of
// every mode; the token is the benchmark's own and ends with it).
//
// Modes (--modes, default all):
//   write        write(2) alone on a descriptor opened once (O_WRONLY)
//   cycle        the shell's `echo CMD > file`: open(O_WRONLY|O_CREAT|
//                O_TRUNC) + write + close, timed whole and per phase
//   concurrent   for each count C of --concurrency, C forked writer
//                processes, each adjusting its own token (a child gets a
//                copy of its parent's token), each timing --iterations
//                writes on its own descriptor after its warm-up; all start
//                together. Reports per-write latency over all writers and
//                the total adjustments per second of wall time (the figure
//                group commit should raise).
// With --read PATH it also times open + read-until-EOF + close cycles of
// PATH (what fuse_bench does): alone, and while C writers run (an extra
// concurrent pass, so the writer figures above stay free of the reader).
//
// Output: a table on stdout, then one tab-separated line per row:
//   RESULT label mode writers count seconds per_s mean min p50 p90 p99 p999
//   max
// (times in µs; per_s = operations per second of the timed wall time). With
// --tsv FILE the same lines, without the RESULT column, go to FILE.
//
// Needs only libc and the C++ standard library, like fuse_bench.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "bench/bench_support.h"

using tokenfs::bench::NowNs;
using tokenfs::bench::ParseCount;
using tokenfs::bench::Percentile;

namespace {

constexpr const char* kUsage =
    "usage: adjust_bench [options] MOUNT\n"
    "  times the write(2) that adjusts the caller's token through\n"
    "  MOUNT/self/FILE, alternating two commands that each change it\n"
    "options:\n"
    "  --file NAME          token file written (default privs)\n"
    "  --privilege NAME     privilege toggled (default SeTimeZone, or the\n"
    "                       first present one but SeChangeNotify)\n"
    "  --commands A B       write A and B in turn instead (each must change\n"
    "                       the token; the pair must restore it)\n"
    "  --iterations N       timed writes per mode, and per writer (2000)\n"
    "  --warmup N           untimed writes first, per mode and writer (200)\n"
    "  --concurrency LIST   writer processes for the concurrent mode, e.g.\n"
    "                       4 or 1,2,4 (default 4)\n"
    "  --modes LIST         write,cycle,concurrent (default all three)\n"
    "  --read PATH          also time read cycles of PATH, alone and while\n"
    "                       the writers of the largest concurrency run\n"
    "  --cpu N              pin the benchmark (and its writers) to CPU N\n"
    "  --label NAME         first column of the result lines (tokenfs)\n"
    "  --tsv FILE           also write the result lines to FILE\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "adjust_bench: %s\n", message.c_str());
  std::exit(1);
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string ReadWhole(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail("open " + path + ": " + std::strerror(errno));
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) Fail("read " + path + ": " + std::strerror(errno));
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);
  return text;
}

// A failed adjustment: repeats it on an O_RDWR descriptor, whose read-back
// carries the daemon's reason (tokenfs(5), Transactions), and exits.
[[noreturn]] void FailWrite(const std::string& path, const std::string& command,
                            int error) {
  std::string reason;
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    if (::write(fd, command.data(), command.size()) < 0) {
      char buffer[4096];
      const ssize_t got = ::pread(fd, buffer, sizeof buffer - 1, 0);
      if (got > 0) reason.assign(buffer, static_cast<size_t>(got));
      while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    }
    ::close(fd);
  }
  std::string shown = command;
  if (!shown.empty() && shown.back() == '\n') shown.pop_back();
  Fail("write '" + shown + "' to " + path + ": " + std::strerror(error) +
       (reason.empty() ? "" : " (" + reason + ")"));
}

// One write of the whole command; fails the program on an error or a short
// write, since a failing write would time the error path.
void WriteCommand(int fd, const std::string& path, const std::string& command) {
  for (;;) {
    const ssize_t wrote = ::write(fd, command.data(), command.size());
    if (wrote == static_cast<ssize_t>(command.size())) return;
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) FailWrite(path, command, errno);
    Fail("short write to " + path + ": " + std::to_string(wrote) + " of " +
         std::to_string(command.size()) + " bytes");
  }
}

int OpenForWriting(const std::string& path, int extra_flags) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | extra_flags, 0666);
  if (fd < 0) Fail("open " + path + ": " + std::strerror(errno));
  return fd;
}

struct Stats {
  size_t count = 0;
  double seconds = 0;  // timed wall time
  double per_s = 0;
  double mean = 0, min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

// Nearest-rank percentile of an ascending vector, in µs.
Stats Summarize(std::vector<int64_t> samples, int64_t wall_ns) {
  std::sort(samples.begin(), samples.end());
  Stats stats;
  stats.count = samples.size();
  stats.seconds = static_cast<double>(wall_ns) / 1e9;
  if (samples.empty()) return stats;
  stats.per_s = stats.seconds > 0
                    ? static_cast<double>(samples.size()) / stats.seconds
                    : 0;
  double sum = 0;
  for (int64_t value : samples) sum += static_cast<double>(value);
  stats.mean = sum / static_cast<double>(samples.size()) / 1000.0;
  stats.min = static_cast<double>(samples.front()) / 1000.0;
  stats.max = static_cast<double>(samples.back()) / 1000.0;
  stats.p50 = Percentile(samples, 0.5);
  stats.p90 = Percentile(samples, 0.9);
  stats.p99 = Percentile(samples, 0.99);
  stats.p999 = Percentile(samples, 0.999);
  return stats;
}

struct Row {
  std::string mode;
  long writers = 1;
  Stats stats;
};

struct Options {
  std::string mount;
  std::string file = "privs";
  std::string privilege;
  std::string command_a, command_b;
  long iterations = 2000;
  long warmup = 200;
  std::vector<long> concurrency{4};
  bool mode_write = true, mode_cycle = true, mode_concurrent = true;
  std::string read_path;
  int cpu = -1;
  std::string label = "tokenfs";
  std::string tsv;
};

// The two commands, in order: commands[0] moves the token away from its
// state at the start of a mode, commands[1] brings it back.
struct Commands {
  std::string path;
  std::string first, second;
  const std::string& operator[](long i) const {
    return i % 2 == 0 ? first : second;
  }
};

Commands ChooseCommands(const Options& options) {
  Commands commands;
  commands.path = options.mount + "/self/" + options.file;
  if (!options.command_a.empty()) {
    commands.first = options.command_a + "\n";
    commands.second = options.command_b + "\n";
    return commands;
  }
  if (options.file != "privs") {
    Fail("--file " + options.file + " needs --commands A B");
  }
  // privs lines: "<name>  <enabled|disabled>[,default][,used]".
  const std::string text = ReadWhole(commands.path);
  struct Privilege {
    std::string name;
    bool enabled;
  };
  std::vector<Privilege> present;
  for (const std::string& line : Split(text, '\n')) {
    const size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    const size_t state = line.find_first_not_of(' ', space);
    if (state == std::string::npos) continue;
    present.push_back(
        {line.substr(0, space), line.compare(state, 7, "enabled") == 0});
  }
  const auto find = [&](std::string_view name) -> const Privilege* {
    for (const Privilege& privilege : present) {
      if (privilege.name.size() == name.size() &&
          ::strncasecmp(privilege.name.c_str(), name.data(), name.size()) ==
              0) {
        return &privilege;
      }
    }
    return nullptr;
  };
  const Privilege* chosen = nullptr;
  if (!options.privilege.empty()) {
    chosen = find(options.privilege);
    if (!chosen) {
      Fail("privilege " + options.privilege + " is not present on the token (" +
           commands.path + ")");
    }
  } else {
    chosen = find("SeTimeZone");
    for (const Privilege& privilege : present) {
      if (chosen) break;
      if (privilege.name != "SeChangeNotify") chosen = &privilege;
    }
    if (!chosen) Fail(commands.path + " lists no privilege to toggle");
  }
  // Enabling and disabling a present privilege is allowed to the token's
  // owner (ADJUST_PRIVILEGES); start by flipping the current state.
  const std::string away = chosen->enabled ? "disabled" : "enabled";
  const std::string back = chosen->enabled ? "enabled" : "disabled";
  commands.first = chosen->name + "=" + away + "\n";
  commands.second = chosen->name + "=" + back + "\n";
  return commands;
}

// Mode write: one descriptor, `warmup` then `iterations` timed writes; an
// odd total is evened out untimed so the token ends as it started.
Stats TimeWrites(const Commands& commands, long warmup, long iterations) {
  const int fd = OpenForWriting(commands.path, 0);
  long index = 0;
  for (long i = 0; i < warmup; ++i, ++index) {
    WriteCommand(fd, commands.path, commands[index]);
  }
  std::vector<int64_t> samples;
  samples.reserve(static_cast<size_t>(iterations));
  const int64_t begin = NowNs();
  for (long i = 0; i < iterations; ++i, ++index) {
    const int64_t start = NowNs();
    WriteCommand(fd, commands.path, commands[index]);
    samples.push_back(NowNs() - start);
  }
  const int64_t end = NowNs();
  if (index % 2 != 0) WriteCommand(fd, commands.path, commands[index]);
  ::close(fd);
  return Summarize(std::move(samples), end - begin);
}

// Mode cycle: open + write + close per command, as `echo CMD > file` does
// (the shell opens with O_WRONLY|O_CREAT|O_TRUNC; tokenfs ignores O_TRUNC).
std::vector<Row> TimeCycles(const Commands& commands, long warmup,
                            long iterations) {
  std::vector<int64_t> total, open_ns, write_ns, close_ns;
  for (auto* vector : {&total, &open_ns, &write_ns, &close_ns}) {
    vector->reserve(static_cast<size_t>(iterations));
  }
  const auto cycle = [&](long index, bool sample) {
    const int64_t start = NowNs();
    const int fd = OpenForWriting(commands.path, O_CREAT | O_TRUNC);
    const int64_t opened = NowNs();
    WriteCommand(fd, commands.path, commands[index]);
    const int64_t wrote = NowNs();
    if (::close(fd) != 0) {
      Fail("close " + commands.path + ": " + std::strerror(errno));
    }
    const int64_t closed = NowNs();
    if (!sample) return;
    total.push_back(closed - start);
    open_ns.push_back(opened - start);
    write_ns.push_back(wrote - opened);
    close_ns.push_back(closed - wrote);
  };
  long index = 0;
  for (long i = 0; i < warmup; ++i, ++index) cycle(index, false);
  const int64_t begin = NowNs();
  for (long i = 0; i < iterations; ++i, ++index) cycle(index, true);
  const int64_t end = NowNs();
  if (index % 2 != 0) cycle(index, false);
  const int64_t wall = end - begin;
  return {{"open+write+close", 1, Summarize(std::move(total), wall)},
          {"  open", 1, Summarize(std::move(open_ns), wall)},
          {"  write", 1, Summarize(std::move(write_ns), wall)},
          {"  close", 1, Summarize(std::move(close_ns), wall)}};
}

// One open + read-until-EOF + close of `path`; its time in ns.
int64_t ReadCycle(const std::string& path, std::vector<char>& buffer) {
  const int64_t start = NowNs();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail("open " + path + ": " + std::strerror(errno));
  size_t bytes = 0;
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) Fail("read " + path + ": " + std::strerror(errno));
    if (got == 0) break;
    bytes += static_cast<size_t>(got);
  }
  ::close(fd);
  const int64_t end = NowNs();
  if (bytes == 0) Fail(path + " read as empty");
  return end - start;
}

Stats TimeReads(const std::string& path, long warmup, long iterations) {
  std::vector<char> buffer(131072);  // as cat and fuse_bench use
  for (long i = 0; i < warmup; ++i) ReadCycle(path, buffer);
  std::vector<int64_t> samples;
  samples.reserve(static_cast<size_t>(iterations));
  const int64_t begin = NowNs();
  for (long i = 0; i < iterations; ++i) {
    samples.push_back(ReadCycle(path, buffer));
  }
  return Summarize(std::move(samples), NowNs() - begin);
}

// Mode concurrent: `writers` forked processes, each on its own token. When
// `read_path` is set, the parent times read cycles of it until every writer
// has finished (`reads` gets them).
Stats TimeConcurrent(const Commands& commands, long writers, long warmup,
                     long iterations, const std::string& read_path,
                     Stats* reads) {
  const size_t per_writer = static_cast<size_t>(iterations);
  const size_t slots = 2 * static_cast<size_t>(writers) +
                       per_writer * static_cast<size_t>(writers);
  // Shared with the writers: each writer's start and end time, then its
  // samples.
  const size_t size = slots * sizeof(int64_t);
  void* mapping = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) Fail(std::string("mmap: ") + std::strerror(errno));
  int64_t* begin = static_cast<int64_t*>(mapping);
  int64_t* end = begin + writers;
  int64_t* samples = end + writers;

  // ready: each writer writes a byte after its warm-up, then closes its
  // end (so a writer that dies early ends the parent's wait with EOF); go:
  // the parent closes its end to start them all; finished: reads EOF once
  // every writer has exited, however it ended.
  int ready[2], go[2], finished[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0 ||
      ::pipe2(finished, O_CLOEXEC) != 0) {
    Fail(std::string("pipe: ") + std::strerror(errno));
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  std::vector<pid_t> children;
  for (long w = 0; w < writers; ++w) {
    const pid_t child = ::fork();
    if (child < 0) Fail(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::close(ready[0]);
      ::close(go[1]);
      ::close(finished[0]);
      // self/ is this process's own token, a copy of the parent's.
      const int fd = OpenForWriting(commands.path, 0);
      long index = 0;
      for (long i = 0; i < warmup; ++i, ++index) {
        WriteCommand(fd, commands.path, commands[index]);
      }
      char byte = 'r';
      if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
      ::close(ready[1]);
      // Blocks until the parent closes its end: every writer starts at once.
      while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
      }
      int64_t* mine = samples + static_cast<size_t>(w) * per_writer;
      begin[w] = NowNs();
      for (long i = 0; i < iterations; ++i, ++index) {
        const int64_t start = NowNs();
        WriteCommand(fd, commands.path, commands[index]);
        mine[i] = NowNs() - start;
      }
      end[w] = NowNs();
      ::close(fd);
      ::_exit(0);
    }
    children.push_back(child);
  }
  ::close(ready[1]);
  ::close(go[0]);
  ::close(finished[1]);
  long ready_count = 0;
  char byte;
  while (ready_count < writers) {
    const ssize_t got = ::read(ready[0], &byte, 1);
    if (got == 1) {
      ++ready_count;
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // a writer died before it was ready: reported below
    }
  }
  ::close(ready[0]);
  ::close(go[1]);  // go
  std::vector<int64_t> read_samples;
  if (!read_path.empty() && ready_count == writers) {
    std::vector<char> buffer(131072);
    pollfd writers_done{finished[0], POLLIN, 0};
    while (::poll(&writers_done, 1, 0) == 0) {
      read_samples.push_back(ReadCycle(read_path, buffer));
    }
  }
  ::close(finished[0]);
  bool failed = ready_count != writers;
  for (pid_t child : children) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = true;
  }
  if (failed) Fail("a writer process failed (see above)");
  const int64_t first = *std::min_element(begin, begin + writers);
  const int64_t last = *std::max_element(end, end + writers);
  std::vector<int64_t> all(samples,
                           samples + per_writer * static_cast<size_t>(writers));
  ::munmap(mapping, size);
  if (reads) *reads = Summarize(std::move(read_samples), last - first);
  return Summarize(std::move(all), last - first);
}

void PrintRows(const std::vector<Row>& rows) {
  std::printf("%-20s %7s %8s %9s %9s %9s %9s %9s %9s %9s %9s\n", "mode",
              "writers", "count", "per_s", "mean", "min", "p50", "p90", "p99",
              "p99.9", "max");
  for (const Row& row : rows) {
    const Stats& s = row.stats;
    std::printf(
        "%-20s %7ld %8zu %9.0f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n",
        row.mode.c_str(), row.writers, s.count, s.per_s, s.mean, s.min, s.p50,
        s.p90, s.p99, s.p999, s.max);
  }
  std::printf(
      "(times in µs; per_s = operations per second of timed wall time)\n");
}

std::string ResultLine(const std::string& label, const Row& row) {
  std::string mode = row.mode;
  mode.erase(0, mode.find_first_not_of(' '));
  if (row.mode.starts_with("  ")) mode = "cycle-" + mode;
  char line[512];
  const Stats& s = row.stats;
  std::snprintf(line, sizeof line,
                "%s\t%s\t%ld\t%zu\t%.3f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t"
                "%.2f\t%.2f\n",
                label.c_str(), mode.c_str(), row.writers, s.count, s.seconds,
                s.per_s, s.mean, s.min, s.p50, s.p90, s.p99, s.p999, s.max);
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    auto value = [&](const char* what) -> std::string_view {
      if (i + 1 >= argc) Fail(std::string(argument) + " needs " + what);
      return argv[++i];
    };
    long number = 0;
    if (argument == "--help" || argument == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (argument == "--file") {
      options.file = value("a file name");
    } else if (argument == "--privilege") {
      options.privilege = value("a privilege name");
    } else if (argument == "--commands") {
      options.command_a = value("two commands");
      options.command_b = value("two commands");
    } else if (argument == "--iterations" || argument == "-n") {
      if (!ParseCount(value("a count"), 1, &options.iterations)) {
        Fail("--iterations needs a count >= 1");
      }
    } else if (argument == "--warmup" || argument == "-w") {
      if (!ParseCount(value("a count"), 0, &options.warmup)) {
        Fail("--warmup needs a count >= 0");
      }
    } else if (argument == "--concurrency" || argument == "-c") {
      options.concurrency.clear();
      for (const std::string& part : Split(value("a list"), ',')) {
        if (!ParseCount(part, 1, &number) || number > 1024) {
          Fail("--concurrency needs counts from 1 to 1024");
        }
        options.concurrency.push_back(number);
      }
    } else if (argument == "--modes") {
      options.mode_write = options.mode_cycle = options.mode_concurrent = false;
      for (const std::string& part : Split(value("a list"), ',')) {
        if (part == "write") {
          options.mode_write = true;
        } else if (part == "cycle") {
          options.mode_cycle = true;
        } else if (part == "concurrent") {
          options.mode_concurrent = true;
        } else {
          Fail("unknown mode '" + part + "' (write, cycle, concurrent)");
        }
      }
    } else if (argument == "--read") {
      options.read_path = value("a path");
    } else if (argument == "--cpu") {
      if (!ParseCount(value("a CPU number"), 0, &number)) {
        Fail("--cpu needs a CPU number");
      }
      options.cpu = static_cast<int>(number);
    } else if (argument == "--label") {
      options.label = value("a name");
    } else if (argument == "--tsv") {
      options.tsv = value("a file");
    } else if (argument.starts_with("-")) {
      Fail("unknown option " + std::string(argument) + "\n" + kUsage);
    } else if (options.mount.empty()) {
      options.mount = argument;
    } else {
      Fail("more than one MOUNT\n" + std::string(kUsage));
    }
  }
  if (options.mount.empty()) Fail(std::string("no MOUNT\n") + kUsage);
  while (options.mount.size() > 1 && options.mount.back() == '/') {
    options.mount.pop_back();
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

  const Commands commands = ChooseCommands(options);
  std::string shown_a = commands.first, shown_b = commands.second;
  shown_a.pop_back();
  shown_b.pop_back();
  std::printf(
      "adjust_bench: %s, alternating '%s' and '%s'; %ld timed writes "
      "(+%ld warm-up) per mode and writer\n",
      commands.path.c_str(), shown_a.c_str(), shown_b.c_str(),
      options.iterations, options.warmup);
  std::fflush(stdout);

  std::vector<Row> rows;
  if (options.mode_write) {
    rows.push_back(
        {"write", 1, TimeWrites(commands, options.warmup, options.iterations)});
  }
  if (options.mode_cycle) {
    for (Row& row : TimeCycles(commands, options.warmup, options.iterations)) {
      rows.push_back(std::move(row));
    }
  }
  if (options.mode_concurrent) {
    for (long writers : options.concurrency) {
      rows.push_back({"concurrent", writers,
                      TimeConcurrent(commands, writers, options.warmup,
                                     options.iterations, "", nullptr)});
    }
  }
  if (!options.read_path.empty()) {
    rows.push_back(
        {"read", 0,
         TimeReads(options.read_path, options.warmup, options.iterations)});
    const long writers = options.mode_concurrent
                             ? *std::max_element(options.concurrency.begin(),
                                                 options.concurrency.end())
                             : 1;
    Stats reads;
    const Stats loaded =
        TimeConcurrent(commands, writers, options.warmup, options.iterations,
                       options.read_path, &reads);
    rows.push_back({"read-under-writes", writers, reads});
    rows.push_back({"concurrent+reader", writers, loaded});
  }

  PrintRows(rows);
  std::string lines;
  for (const Row& row : rows) lines += ResultLine(options.label, row);
  for (const std::string& line : Split(lines, '\n')) {
    if (!line.empty()) std::printf("RESULT\t%s\n", line.c_str());
  }
  if (!options.tsv.empty()) {
    FILE* file = std::fopen(options.tsv.c_str(), "w");
    if (!file) Fail(options.tsv + ": " + std::strerror(errno));
    std::fputs(lines.c_str(), file);
    std::fclose(file);
  }
  return 0;
}
