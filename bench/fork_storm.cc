// fork_storm: the process-event load of issue 13, driven by run_perf.sh.
//
//   fork_storm --duration-ms MS [--read FILE] [--cpu N]
//       forks children that _exit(0) at once and reaps each before the next
//       fork, for MS milliseconds; prints "forks N ms T rate R" (R per
//       second). With --read, it first reads FILE to EOF (e.g.
//       <tokens>/self/privs), so that tokenfs holds a token for the storm's
//       parent and every fork and exit event concerns a known process.
//
//   fork_storm --listen
//       a bare proc-connector listener: subscribes to the kernel's process
//       events, prints "ready", and receives (and discards) every message
//       until SIGTERM or SIGINT; then prints "messages N". Its CPU time per
//       1,000 forks is the floor for any daemon that follows process events.
//
// Needs nothing beyond libc, the Linux UAPI headers and the C++ standard
// library. --listen needs CAP_NET_ADMIN (root) in the initial namespaces.
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "bench/bench_support.h"

using tokenfs::bench::NowNs;
using tokenfs::bench::ParseCount;

namespace {

constexpr const char* kUsage =
    "usage: fork_storm --duration-ms MS [--read FILE] [--cpu N]\n"
    "       fork_storm --listen\n"
    "  fork+_exit(0)+wait children for MS ms and print the rate, or run a\n"
    "  bare proc-connector listener until SIGTERM\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "fork_storm: %s\n", message.c_str());
  std::exit(1);
}

void ReadToEof(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail("open " + path + ": " + std::strerror(errno));
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) Fail("read " + path + ": " + std::strerror(errno));
    if (got == 0) break;
  }
  ::close(fd);
}

int Storm(long duration_ms) {
  const int64_t start = NowNs();
  const int64_t deadline = start + int64_t{duration_ms} * 1'000'000;
  long forks = 0;
  int64_t now = start;
  while (now < deadline) {
    const pid_t child = ::fork();
    if (child < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      Fail(std::string("fork: ") + std::strerror(errno));
    }
    if (child == 0) ::_exit(0);
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    ++forks;
    now = NowNs();
  }
  const double seconds = static_cast<double>(now - start) / 1e9;
  std::printf("forks %ld ms %.1f rate %.1f\n", forks, seconds * 1000,
              static_cast<double>(forks) / seconds);
  return 0;
}

volatile sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

int Listen() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  const int fd =
      ::socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR);
  if (fd < 0) Fail(std::string("socket: ") + std::strerror(errno));
  // The same receive buffer the daemon asks for, so neither drops events.
  const int size = 8 << 20;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = CN_IDX_PROC;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
    Fail(std::string("bind: ") + std::strerror(errno));
  }
  alignas(nlmsghdr) char request[NLMSG_SPACE(sizeof(cn_msg) + sizeof(int))] =
      {};
  auto* header = reinterpret_cast<nlmsghdr*>(request);
  header->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(int));
  header->nlmsg_type = NLMSG_DONE;
  auto* message = reinterpret_cast<cn_msg*>(request + NLMSG_HDRLEN);
  message->id.idx = CN_IDX_PROC;
  message->id.val = CN_VAL_PROC;
  message->len = sizeof(int);
  const int operation = PROC_CN_MCAST_LISTEN;
  std::memcpy(message->data, &operation, sizeof operation);
  if (::send(fd, header, header->nlmsg_len, 0) < 0) {
    Fail(std::string("subscribe: ") + std::strerror(errno));
  }
  std::printf("ready\n");
  std::fflush(stdout);
  long messages = 0;
  alignas(nlmsghdr) char buffer[8192];
  while (!g_stop) {
    // recv without SA_RESTART returns EINTR on the stop signal.
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) continue;  // overrun: events were dropped
      Fail(std::string("recv: ") + std::strerror(errno));
    }
    ++messages;
  }
  ::close(fd);
  std::printf("messages %ld\n", messages);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  long duration_ms = 0;
  bool listen = false;
  std::string read_first;
  long cpu = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) Fail(std::string(argument) + " needs " + what);
      return argv[++i];
    };
    if (argument == "--help" || argument == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (argument == "--duration-ms") {
      if (!ParseCount(value("a count"), 1, &duration_ms)) {
        Fail("--duration-ms needs a count >= 1");
      }
    } else if (argument == "--read") {
      read_first = value("a file");
    } else if (argument == "--cpu") {
      if (!ParseCount(value("a CPU number"), 0, &cpu)) {
        Fail("--cpu needs a CPU number");
      }
    } else if (argument == "--listen") {
      listen = true;
    } else {
      Fail("unknown argument " + std::string(argument) + "\n" + kUsage);
    }
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<int>(cpu), &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
      Fail("--cpu: " + std::string(std::strerror(errno)));
    }
  }
  if (listen) return Listen();
  if (duration_ms == 0) Fail(std::string("no --duration-ms\n") + kUsage);
  if (!read_first.empty()) ReadToEof(read_first);
  return Storm(duration_ms);
}
