#include "tokenfs/proc_events.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "tokenfs/log.h"

namespace tokenfs {
namespace {

// NLMSG_DATA without its old-style cast.
void* MessageData(nlmsghdr* header) {
  return reinterpret_cast<char*>(header) + NLMSG_HDRLEN;
}

// The proc connector reports host pids and only serves the initial pid and
// user namespaces; elsewhere the kernel ignores the subscription silently
// while other subscribers' events (and their acknowledgements, which are
// multicast too) still arrive, so we must not trust them.
//
// The kernel gives its initial namespaces fixed inode numbers
// (PROC_PID_INIT_INO and PROC_USER_INIT_INO in include/linux/proc_ns.h), so
// the namespaces this process is in are compared with those. The NSpid line
// of /proc/self/status cannot tell: it lists pids from the namespace of the
// /proc mount down, so in a pid namespace with its own /proc (unshare --pid
// --mount-proc) it shows one pid, as in the initial namespace. A namespace
// that cannot be read counts as not initial.
constexpr ino_t kInitialPidNamespaceInode = 0xEFFFFFFCu;
constexpr ino_t kInitialUserNamespaceInode = 0xEFFFFFFDu;

bool IsNamespace(const char* path, ino_t initial) {
  struct stat info {};
  return ::stat(path, &info) == 0 && info.st_ino == initial;
}

bool InInitialNamespaces() {
  return IsNamespace("/proc/self/ns/pid", kInitialPidNamespaceInode) &&
         IsNamespace("/proc/self/ns/user", kInitialUserNamespaceInode);
}

Status Subscribe(int socket, bool listen) {
  alignas(nlmsghdr) char buffer[NLMSG_SPACE(sizeof(cn_msg) + sizeof(int))] = {};
  auto* header = reinterpret_cast<nlmsghdr*>(buffer);
  header->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(int));
  header->nlmsg_type = NLMSG_DONE;
  auto* message = static_cast<cn_msg*>(MessageData(header));
  message->id.idx = CN_IDX_PROC;
  message->id.val = CN_VAL_PROC;
  message->ack = 0;
  message->len = sizeof(int);
  const int operation = listen ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE;
  std::memcpy(message->data, &operation, sizeof operation);
  if (::send(socket, header, header->nlmsg_len, 0) < 0) {
    return MakeError(
        ErrorCode::kInternal,
        std::string("proc connector subscribe: ") + std::strerror(errno));
  }
  return Ok();
}

}  // namespace

ProcessEventWatcher::~ProcessEventWatcher() { Stop(); }

Status ProcessEventWatcher::Start() {
  if (!InInitialNamespaces()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the daemon is not in the initial pid and user "
                     "namespace, where the proc connector reports");
  }
  socket_ = ::socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     NETLINK_CONNECTOR);
  if (socket_ < 0) {
    return MakeError(
        ErrorCode::kInternal,
        std::string("proc connector socket: ") + std::strerror(errno));
  }
  // A large buffer absorbs fork storms; SO_RCVBUFFORCE needs CAP_NET_ADMIN.
  const int size = 8 << 20;
  if (::setsockopt(socket_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) <
      0) {
    ::setsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = CN_IDX_PROC;
  address.nl_pid = 0;
  if (::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) <
      0) {
    const std::string reason = std::strerror(errno);
    ::close(socket_);
    socket_ = -1;
    return MakeError(ErrorCode::kAccessDenied,
                     "proc connector bind: " + reason);
  }
  if (auto subscribed = Subscribe(socket_, true); !subscribed) {
    ::close(socket_);
    socket_ = -1;
    return subscribed;
  }
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // The kernel acknowledges the subscription with a PROC_EVENT_NONE message
  // (ack = our ack + 1, err 0). Events queued before it are kept; without
  // it, no events will come.
  bool acknowledged = false;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (!acknowledged && std::chrono::steady_clock::now() < deadline) {
    pollfd poll_fd{socket_, POLLIN, 0};
    if (::poll(&poll_fd, 1, 100) <= 0) continue;
    alignas(nlmsghdr) char buffer[4096];
    const ssize_t count = ::recv(socket_, buffer, sizeof buffer, MSG_PEEK);
    if (count < static_cast<ssize_t>(NLMSG_HDRLEN + sizeof(cn_msg) +
                                     sizeof(proc_event))) {
      ::recv(socket_, buffer, sizeof buffer, 0);
      continue;
    }
    auto* header = reinterpret_cast<nlmsghdr*>(buffer);
    const auto* message = static_cast<const cn_msg*>(MessageData(header));
    proc_event event;
    std::memcpy(&event, message->data, sizeof event);
    // (Kernels rewrite the sequence number, so it cannot be matched; the
    // acknowledgement is the PROC_EVENT_NONE message with ack 1.)
    if (event.what == proc_event::PROC_EVENT_NONE && message->ack == 1 &&
        event.event_data.ack.err == 0) {
      ::recv(socket_, buffer, sizeof buffer, 0);
      acknowledged = true;
    } else {
      // An event that came before the acknowledgement: keep it, and look
      // at the next datagram.
      const ssize_t taken = ::recv(socket_, buffer, sizeof buffer, 0);
      if (taken > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        ParseDatagramLocked(buffer, static_cast<size_t>(taken));
      }
    }
  }
  if (!acknowledged) {
    ::close(socket_);
    socket_ = -1;
    ::close(wake_fd_);
    wake_fd_ = -1;
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.clear();
    received_ = applied_ = 0;
    in_flight_.clear();
    return MakeError(ErrorCode::kAccessDenied,
                     "the proc connector did not acknowledge the "
                     "subscription");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    DrainSocketLocked();
  }
  registry_.SetEventsLive(true);
  thread_ = std::thread([this] { Run(); });
  return Ok();
}

void ProcessEventWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || socket_ < 0) return;
    stopping_ = true;
  }
  const uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
  (void)ignored;
  if (thread_.joinable()) thread_.join();
  registry_.SetEventsLive(false);
  if (!Subscribe(socket_, false)) {
    // Closing the socket below ends the subscription anyway.
  }
  ::close(socket_);
  ::close(wake_fd_);
  socket_ = -1;
  wake_fd_ = -1;
}

void ProcessEventWatcher::DrainSocketLocked() {
  // Up to kBatch datagrams (one event each) per system call, into buffers
  // kept with the watcher: a fork storm costs no allocation and a fraction
  // of the calls.
  for (;;) {
    for (size_t index = 0; index < kBatch; ++index) {
      iovecs_[index] = iovec{batch_[index].bytes, sizeof batch_[index].bytes};
      headers_[index] = mmsghdr{};
      headers_[index].msg_hdr.msg_iov = &iovecs_[index];
      headers_[index].msg_hdr.msg_iovlen = 1;
    }
    const int count =
        ::recvmmsg(socket_, headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (count < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        Event overflow{Event::Kind::kOverflow};
        overflow.sequence = ++received_;
        queue_.push_back(overflow);
        ++overflows_;
        continue;
      }
      return;  // EAGAIN: nothing more queued
    }
    if (count == 0) return;
    for (int index = 0; index < count; ++index) {
      ParseDatagramLocked(batch_[index].bytes, headers_[index].msg_len);
    }
    if (static_cast<size_t>(count) < kBatch) return;
  }
}

void ProcessEventWatcher::ParseDatagramLocked(char* buffer, size_t count) {
  size_t remaining = count;
  for (auto* header = reinterpret_cast<nlmsghdr*>(buffer);
       remaining >= sizeof(nlmsghdr) && header->nlmsg_len >= sizeof(nlmsghdr) &&
       header->nlmsg_len <= remaining;) {
    const size_t aligned = NLMSG_ALIGN(header->nlmsg_len);
    nlmsghdr* current = header;
    remaining = aligned >= remaining ? 0 : remaining - aligned;
    header =
        reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(header) + aligned);
    if (current->nlmsg_len < NLMSG_HDRLEN + sizeof(cn_msg)) continue;
    if (current->nlmsg_type == NLMSG_NOOP ||
        current->nlmsg_type == NLMSG_ERROR) {
      continue;
    }
    const auto* message = static_cast<const cn_msg*>(MessageData(current));
    if (message->id.idx != CN_IDX_PROC || message->id.val != CN_VAL_PROC) {
      continue;
    }
    proc_event event;
    std::memset(&event, 0, sizeof event);
    std::memcpy(&event, message->data,
                std::min<size_t>(sizeof event, message->len));
    Event parsed{Event::Kind::kFork};
    switch (event.what) {
      case proc_event::PROC_EVENT_FORK:
        parsed = Event{Event::Kind::kFork, event.event_data.fork.parent_tgid,
                       event.event_data.fork.child_pid,
                       event.event_data.fork.child_tgid};
        break;
      case proc_event::PROC_EVENT_EXEC:
        parsed = Event{Event::Kind::kExec, event.event_data.exec.process_pid,
                       event.event_data.exec.process_tgid};
        break;
      case proc_event::PROC_EVENT_UID:
      case proc_event::PROC_EVENT_GID:
        parsed =
            Event{Event::Kind::kCredentials, event.event_data.id.process_pid,
                  event.event_data.id.process_tgid};
        break;
      case proc_event::PROC_EVENT_EXIT:
        parsed = Event{Event::Kind::kExit, event.event_data.exit.process_pid,
                       event.event_data.exit.process_tgid};
        break;
      default:
        continue;
    }
    parsed.sequence = ++received_;
    queue_.push_back(parsed);
  }
}

void ProcessEventWatcher::Apply(const Event& event) {
  switch (event.kind) {
    case Event::Kind::kFork:
      registry_.OnFork(event.a, event.b, event.c);
      break;
    case Event::Kind::kExec:
      registry_.OnExec(event.b);
      break;
    case Event::Kind::kCredentials:
      registry_.OnCredentialsChanged(event.a, event.b);
      break;
    case Event::Kind::kExit:
      registry_.OnExit(event.a, event.b);
      break;
    case Event::Kind::kOverflow:
      LogWarning(
          "process events were lost (socket overflow); revalidating "
          "every known process against /proc");
      registry_.Revalidate();
      break;
  }
}

void ProcessEventWatcher::Run() {
  // Housekeeping between events: processes whose leader exited first are
  // reaped within this period, and every entry is checked against /proc
  // every kSweepPeriod in case an exit event never came.
  constexpr auto kReapPeriod = std::chrono::milliseconds(200);
  constexpr auto kSweepPeriod = std::chrono::seconds(30);
  auto next_reap = std::chrono::steady_clock::now() + kReapPeriod;
  auto next_sweep = std::chrono::steady_clock::now() + kSweepPeriod;
  bool busy = false;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_reap) {
      registry_.ReapExited();
      next_reap = now + kReapPeriod;
    }
    if (now >= next_sweep) {
      registry_.Sweep();
      next_sweep = now + kSweepPeriod;
    }
    if (busy) {
      // Events came last time: let more gather for a moment so that one
      // wake-up takes many (a request that needs them wakes the thread at
      // once, through wake_fd_).
      pollfd wake{wake_fd_, POLLIN, 0};
      (void)::poll(&wake, 1, kGatherMilliseconds);
    }
    pollfd fds[2] = {{socket_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = ::poll(
        fds, 2,
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                             next_reap - now)
                             .count()) +
            1);
    if (ready < 0 && errno != EINTR) {
      LogError(std::string("process event poll: ") + std::strerror(errno));
      return;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t value = 0;
      ssize_t ignored = ::read(wake_fd_, &value, sizeof value);
      (void)ignored;
    }
    uint64_t last = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      DrainSocketLocked();
      in_flight_.assign(queue_.begin(), queue_.end());
      queue_.clear();
      busy = !in_flight_.empty();
      if (in_flight_.empty()) continue;
      last = in_flight_.back().sequence;
    }
    // Applying reads /proc and mints: no lock held. in_flight_ is only read
    // meanwhile (by Sync, under the lock), never written.
    for (const Event& event : in_flight_) Apply(event);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      applied_ = last;
      in_flight_.clear();
    }
    applied_cv_.notify_all();
  }
}

bool ProcessEventWatcher::Mentions(const Event& event,
                                   std::span<const int32_t> pids) {
  if (event.kind == Event::Kind::kOverflow) return true;
  for (int32_t pid : pids) {
    if (pid <= 0) continue;
    // A fork concerns the child and also the parent, whose token it copies:
    // a change to the parent must wait until earlier forks took their copy.
    // Everything else concerns its task and process.
    if (event.a == pid || event.b == pid ||
        (event.kind == Event::Kind::kFork && event.c == pid)) {
      return true;
    }
  }
  return false;
}

void ProcessEventWatcher::Sync(std::initializer_list<int32_t> pids) {
  if (socket_ < 0) return;
  const std::span<const int32_t> wanted(pids.begin(), pids.size());
  std::unique_lock<std::mutex> lock(mutex_);
  DrainSocketLocked();
  uint64_t needed = 0;
  for (const Event& event : in_flight_) {
    if (Mentions(event, wanted)) needed = std::max(needed, event.sequence);
  }
  for (const Event& event : queue_) {
    if (Mentions(event, wanted)) needed = std::max(needed, event.sequence);
  }
  if (needed <= applied_) return;
  const uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
  (void)ignored;
  if (!applied_cv_.wait_for(lock, std::chrono::seconds(1),
                            [&] { return applied_ >= needed || stopping_; })) {
    LogWarning(
        "process events not applied within 1 s; answering from the "
        "registry as it is");
  }
}

uint64_t ProcessEventWatcher::events_applied() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return applied_;
}

uint64_t ProcessEventWatcher::overflows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return overflows_;
}

}  // namespace tokenfs
