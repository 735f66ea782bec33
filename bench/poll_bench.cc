// poll_bench: change -> poll wake-up latency of a tokenfs file
// (docs/benchmarks.md, section "Change notification").
//
// Each iteration: the poller opens MOUNT/<pid>/privs of its own process,
// tells a writer process it is about to wait, and blocks in poll(2) for
// POLLIN|POLLPRI; the writer waits --settle µs (so the poller is asleep in
// the kernel and the wake-up goes through fuse_lowlevel_notify_poll, not the
// check at POLL time), takes a timestamp and writes one adjustment to the
// same token (toggling a privilege). Latency = poll's return - the
// timestamp before the write; the write's own duration is reported beside
// it. Both processes are the benchmark's (root can adjust its own token).
//
// Output: a table, then RESULT lines:
//   RESULT label what count mean min p50 p90 p99 max   (µs)
//
// Needs only libc and the C++ standard library.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench/bench_support.h"

using tokenfs::bench::NowNs;
using tokenfs::bench::ParseCount;
using tokenfs::bench::Percentile;

namespace {

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "poll_bench: %s\n", message.c_str());
  std::exit(1);
}

struct Shared {
  volatile int64_t write_start = 0;
  volatile int64_t write_end = 0;
};

void Report(const char* label, const char* what, std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (int64_t x : v) sum += static_cast<double>(x);
  const double mean = v.empty() ? 0 : sum / static_cast<double>(v.size()) / 1e3;
  const double min = v.empty() ? 0 : static_cast<double>(v.front()) / 1e3;
  const double max = v.empty() ? 0 : static_cast<double>(v.back()) / 1e3;
  std::printf("%-22s n=%zu mean %.1f min %.1f p50 %.1f p90 %.1f p99 %.1f "
              "max %.1f µs\n",
              what, v.size(), mean, min, Percentile(v, 0.5),
              Percentile(v, 0.9), Percentile(v, 0.99), max);
  std::printf("RESULT\t%s\t%s\t%zu\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\n",
              label, what, v.size(), mean, min, Percentile(v, 0.5),
              Percentile(v, 0.9), Percentile(v, 0.99), max);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mount;
  long iterations = 1000;
  long settle_us = 2000;
  std::string privilege = "SeTimeZone";
  std::string label = "tokenfs";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Fail(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--iterations") {
      if (!ParseCount(next(), 1, &iterations)) Fail("bad --iterations");
    } else if (arg == "--settle-us") {
      if (!ParseCount(next(), 0, &settle_us)) Fail("bad --settle-us");
    } else if (arg == "--privilege") {
      privilege = next();
    } else if (arg == "--label") {
      label = next();
    } else if (arg == "-h" || arg == "--help") {
      std::printf(
          "usage: poll_bench [--iterations N] [--settle-us US] "
          "[--privilege NAME] [--label L] MOUNT\n");
      return 0;
    } else {
      mount = arg;
    }
  }
  if (mount.empty()) Fail("no MOUNT given");
  const std::string path =
      mount + "/" + std::to_string(::getpid()) + "/privs";
  auto* shared = static_cast<Shared*>(::mmap(nullptr, sizeof(Shared),
                                             PROT_READ | PROT_WRITE,
                                             MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  if (shared == MAP_FAILED) Fail("mmap failed");
  int go[2], done[2];
  if (::pipe(go) != 0 || ::pipe(done) != 0) Fail("pipe failed");
  const pid_t writer = ::fork();
  if (writer < 0) Fail("fork failed");
  if (writer == 0) {
    // The writer: adjusts the parent's token when told to.
    const std::string commands[2] = {privilege + "=enabled\n",
                                     privilege + "=disabled\n"};
    ::close(go[1]);  // so the parent's close ends the loop
    ::close(done[0]);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) Fail("open " + path + ": " + std::strerror(errno));
    char byte;
    for (long i = 0; ::read(go[0], &byte, 1) == 1; ++i) {
      if (settle_us) ::usleep(static_cast<useconds_t>(settle_us));
      const std::string& command = commands[i % 2];
      shared->write_start = NowNs();
      if (::write(fd, command.data(), command.size()) !=
          static_cast<ssize_t>(command.size())) {
        Fail("write " + command + " to " + path + ": " + std::strerror(errno));
      }
      shared->write_end = NowNs();
      if (::write(done[1], "d", 1) != 1) break;
    }
    std::_Exit(0);
  }
  ::close(go[0]);
  ::close(done[1]);
  std::vector<int64_t> wake, write_time;
  for (long i = 0; i < iterations + 20; ++i) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) Fail("open " + path + ": " + std::strerror(errno));
    pollfd waiter{fd, POLLIN | POLLPRI, 0};
    if (::poll(&waiter, 1, 0) != 0) Fail("a fresh file already has news");
    if (::write(go[1], "g", 1) != 1) Fail("pipe write failed");
    const int ready = ::poll(&waiter, 1, 5000);
    const int64_t woke = NowNs();
    if (ready != 1 || !(waiter.revents & POLLPRI)) {
      Fail("poll did not report news within 5 s");
    }
    char byte;
    if (::read(done[0], &byte, 1) != 1) Fail("writer died");
    if (i >= 20) {  // warm-up
      wake.push_back(woke - shared->write_start);
      write_time.push_back(shared->write_end - shared->write_start);
    }
    ::close(fd);
  }
  ::close(go[1]);
  ::waitpid(writer, nullptr, 0);
  Report(label.c_str(), "change->wake", wake);
  Report(label.c_str(), "write(2)", write_time);
  return 0;
}
