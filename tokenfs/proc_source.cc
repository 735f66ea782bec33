#include "tokenfs/proc_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/ascii.h"
#include "core/number.h"
#include "core/proc_status.h"

namespace tokenfs {
namespace {

// getsockopt SO_PEERPIDFD (Linux 6.5), which Debian 12's headers predate.
constexpr int kSoPeerPidfd = 77;

// pidfs's magic number (statfs f_type) and pidfd_open's PIDFD_THREAD flag
// (O_EXCL), which Debian 12's headers predate.
constexpr long kPidfsMagic = 0x50494446;
constexpr unsigned kPidfdThread = O_EXCL;

// An open file descriptor, closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_;
};

Error GoneOr(int error, const std::string& path) {
  return Error{error == ENOENT || error == ESRCH ? ErrorCode::kNotFound
                                                 : ErrorCode::kInternal,
               path + ": " + std::strerror(error)};
}

// The /proc/<tid> directory of a task. Reads through it fail once the task
// is gone, even if its id was reused.
Result<Fd> OpenTaskDirectory(const std::string& proc_root, int32_t tid) {
  const std::string path = proc_root + "/" + std::to_string(tid);
  Fd directory(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory.valid()) return tl::unexpected(GoneOr(errno, path));
  return directory;
}

// The pidfs inode of task `tid`, 0 when pidfds do not identify tasks here.
// Valid for the task in a directory held open across this call only if a
// read through that directory succeeds afterwards.
uint64_t PidfdInstance(int32_t tid, bool pidfs) {
  if (!pidfs) return 0;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, tid, kPidfdThread));
  if (pidfd < 0 && errno == EINVAL) {
    pidfd = static_cast<int>(::syscall(SYS_pidfd_open, tid, 0));
  }
  if (pidfd < 0) return 0;
  Fd owned(pidfd);
  struct stat status {};
  if (::fstat(pidfd, &status) != 0) return 0;
  return static_cast<uint64_t>(status.st_ino);
}

// The ns/user link text of the task whose /proc directory is `directory`.
std::string UserNamespaceAt(int directory) {
  char target[64];
  const ssize_t length =
      ::readlinkat(directory, "ns/user", target, sizeof target - 1);
  if (length <= 0) return {};
  return std::string(target, static_cast<size_t>(length));
}

// Reads the small file `name` of the /proc directory `directory` whole
// (`path` names it in errors). kNotFound when it, or its task, is gone.
Result<std::string> ReadSmallFileAt(int directory, const std::string& name,
                                    const std::string& path) {
  const int fd = ::openat(directory, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(GoneOr(errno, path));
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return MakeError(
          error == ESRCH ? ErrorCode::kNotFound : ErrorCode::kInternal,
          path + ": " + std::strerror(error));
    }
    if (count == 0) break;
    text.append(buffer, static_cast<size_t>(count));
    if (text.size() > 1 << 20) break;
  }
  ::close(fd);
  return text;
}

// A number /proc writes: digits of `base` only (no sign, no prefix, no
// space), any value of 64 bits; `value` is unchanged when `text` is not one.
bool ParseU64(std::string_view text, uint64_t& value,
              NumberBase base = NumberBase::kDecimal) {
  auto parsed = ParseUnsigned(text, UINT64_MAX, base);
  if (!parsed) return false;
  value = *parsed;
  return true;
}

// The status part of `info` (Tgid, PPid and the credentials status shows),
// from the text of /proc/<tid>/status (core ParseProcStatus).
Status FillFromStatus(std::string_view text, TaskInfo& info) {
  auto status = ParseProcStatus(text);
  if (!status) return tl::unexpected(status.error());
  info.tgid = status->tgid;
  info.ppid = status->ppid;
  info.credentials = std::move(status->credentials);
  return Ok();
}

// True when the task whose /proc directory is `dir` has ended: its stat
// says zombie or dead and no other thread of its group runs (a leader that
// exited while its threads run on is a zombie too, but its process lives).
bool TaskEnded(int dir, const ProcStat& stat) {
  if (!stat.exited()) return false;
  const int task_dir =
      ::openat(dir, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (task_dir < 0) return true;
  DIR* tasks = ::fdopendir(task_dir);
  if (!tasks) {
    ::close(task_dir);
    return true;
  }
  size_t count = 0;
  while (const dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(tasks);
  return count <= 1;
}

std::vector<int32_t> NumericEntries(const std::string& directory) {
  std::vector<int32_t> ids;
  DIR* dir = ::opendir(directory.c_str());
  if (!dir) return ids;
  while (const dirent* entry = ::readdir(dir)) {
    uint64_t value = 0;
    if (ParseU64(entry->d_name, value) && value > 0 && value <= INT32_MAX) {
      ids.push_back(static_cast<int32_t>(value));
    }
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

ProcProcessSource::ProcProcessSource(std::string proc_root)
    : proc_root_(std::move(proc_root)) {
  if (auto self = OpenTaskDirectory(proc_root_, ::getpid())) {
    own_user_namespace_ = UserNamespaceAt(self->get());
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd >= 0) {
    Fd owned(pidfd);
    struct statfs filesystem {};
    pidfs_ =
        ::fstatfs(pidfd, &filesystem) == 0 && filesystem.f_type == kPidfsMagic;
  }
}

Result<TaskInfo> ProcProcessSource::ReadTask(int32_t tid) const {
  const std::string base = proc_root_ + "/" + std::to_string(tid);
  auto directory = OpenTaskDirectory(proc_root_, tid);
  if (!directory) return tl::unexpected(directory.error());
  const int dir = directory->get();
  // Taken while the directory is held; the reads below succeed only if the
  // task it names is still the one the directory names.
  const uint64_t instance = PidfdInstance(tid, pidfs_);
  auto status = ReadSmallFileAt(dir, "status", base + "/status");
  if (!status) return tl::unexpected(status.error());
  TaskInfo info;
  info.tid = tid;
  info.thread_instance = instance;
  if (auto parsed = FillFromStatus(*status, info); !parsed) {
    return MakeError(ErrorCode::kNotFound,
                     base + "/status: " + parsed.error().message);
  }
  auto thread_stat_text = ReadSmallFileAt(dir, "stat", base + "/stat");
  if (!thread_stat_text) return tl::unexpected(thread_stat_text.error());
  auto thread_stat = ParseProcStat(*thread_stat_text);
  if (!thread_stat) {
    return MakeError(ErrorCode::kNotFound,
                     base + "/stat: " + thread_stat.error().message);
  }
  if (TaskEnded(dir, *thread_stat)) {
    return MakeError(ErrorCode::kNotFound, base + " has exited");
  }
  info.thread_start_time = thread_stat->start_time;
  info.start_time = thread_stat->start_time;
  info.process_group = thread_stat->process_group;
  info.session = thread_stat->session;
  info.instance = instance;
  info.credentials.has_terminal = thread_stat->tty != 0;
  info.credentials.initial_user_namespace =
      !own_user_namespace_.empty() &&
      UserNamespaceAt(dir) == own_user_namespace_;
  if (info.tgid != tid) {
    auto leader = Incarnation(info.tgid);
    if (!leader) return tl::unexpected(leader.error());
    info.start_time = leader->start_time;
    info.instance = leader->instance;
  }
  if (auto session = ReadSmallFileAt(dir, "sessionid", base + "/sessionid")) {
    uint64_t value = 0;
    if (ParseU64(TrimAsciiSpace(*session), value) && value <= UINT32_MAX) {
      info.credentials.audit_session_id = static_cast<uint32_t>(value);
    }
  }
  return info;
}

Result<TaskIncarnation> ProcProcessSource::Incarnation(int32_t tid) const {
  const std::string path = proc_root_ + "/" + std::to_string(tid) + "/stat";
  auto directory = OpenTaskDirectory(proc_root_, tid);
  if (!directory) return tl::unexpected(directory.error());
  const uint64_t instance = PidfdInstance(tid, pidfs_);
  auto text = ReadSmallFileAt(directory->get(), "stat", path);
  if (!text) return tl::unexpected(text.error());
  auto stat = ParseProcStat(*text);
  if (!stat) return MakeError(ErrorCode::kNotFound, stat.error().message);
  if (TaskEnded(directory->get(), *stat)) {
    return MakeError(ErrorCode::kNotFound,
                     "task " + std::to_string(tid) + " has exited");
  }
  return TaskIncarnation{stat->start_time, instance};
}

uint64_t ProcProcessSource::ExecMark(int32_t pid) const {
  const std::string path = proc_root_ + "/" + std::to_string(pid) + "/stat";
  auto directory = OpenTaskDirectory(proc_root_, pid);
  if (!directory) return 0;
  auto text = ReadSmallFileAt(directory->get(), "stat", path);
  if (!text) return 0;
  auto stat = ParseProcStat(*text);
  if (!stat || (stat->start_code == 0 && stat->start_stack == 0)) return 0;
  // Without randomization (randomize_va_space 0, or the process's
  // ADDR_NO_RANDOMIZE personality, setarch -R) an exec of the same program
  // lays it out the same: the mark would not change.
  const std::string randomize_path =
      proc_root_ + "/sys/kernel/randomize_va_space";
  auto randomize = ReadSmallFileAt(AT_FDCWD, randomize_path, randomize_path);
  if (!randomize || TrimAsciiSpace(*randomize) == "0") return 0;
  auto personality =
      ReadSmallFileAt(directory->get(), "personality",
                      proc_root_ + "/" + std::to_string(pid) + "/personality");
  uint64_t persona = 0;
  if (!personality ||
      !ParseU64(TrimAsciiSpace(*personality), persona, NumberBase::kHex) ||
      (persona & 0x0040000 /* ADDR_NO_RANDOMIZE */)) {
    return 0;
  }
  // A mix of the three layout values; any exec re-randomizes them.
  uint64_t mark = stat->start_code;
  for (uint64_t value : {stat->end_code, stat->start_stack}) {
    mark = (mark ^ value) * 0x100000001b3ull;
  }
  return mark | 1;  // never 0, which means unknown
}

Result<LinuxCredentials> ProcProcessSource::CurrentCapabilities(
    int32_t tid, const ProcessKey& process) const {
  // capget(2) reads another thread's sets without /proc; the user
  // namespace link says where they are held.
  struct Header {
    uint32_t version;
    int pid;
  } header{0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, tid};
  struct Data {
    uint32_t effective;
    uint32_t permitted;
    uint32_t inheritable;
  } data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) {
    return tl::unexpected(
        GoneOr(errno, "capget of task " + std::to_string(tid)));
  }
  LinuxCredentials credentials;
  credentials.cap_effective =
      data[0].effective | (uint64_t{data[1].effective} << 32);
  credentials.cap_permitted =
      data[0].permitted | (uint64_t{data[1].permitted} << 32);
  // Entering another user namespace changes a thread's sets (to the full
  // set, held there), so the namespace seen with the same sets in the same
  // process incarnation is still the one it is in; only a thread that
  // already held every capability could enter one unnoticed, and it only
  // gives up what it held.
  const NamespaceKey key{tid,
                         process.pid,
                         process.start_time,
                         process.instance,
                         credentials.cap_effective,
                         credentials.cap_permitted};
  {
    std::lock_guard<std::mutex> lock(namespace_mutex_);
    auto it = namespace_cache_.find(key);
    if (it != namespace_cache_.end()) {
      credentials.initial_user_namespace = it->second;
      return credentials;
    }
  }
  char target[64];
  const std::string link = proc_root_ + "/" + std::to_string(tid) + "/ns/user";
  const ssize_t length = ::readlink(link.c_str(), target, sizeof target - 1);
  credentials.initial_user_namespace =
      length > 0 && !own_user_namespace_.empty() &&
      std::string_view(target, static_cast<size_t>(length)) ==
          own_user_namespace_;
  if (length > 0) {
    std::lock_guard<std::mutex> lock(namespace_mutex_);
    if (namespace_cache_.size() >= kNamespaceCacheSize) {
      namespace_cache_.clear();
    }
    namespace_cache_[key] = credentials.initial_user_namespace;
  }
  return credentials;
}

Result<ProcProcessSource::PidfdProcess> ProcProcessSource::ResolvePidfd(
    int pidfd) const {
  const std::string path = proc_root_ + "/self/fdinfo/" + std::to_string(pidfd);
  auto text = ReadSmallFileAt(AT_FDCWD, path, path);
  if (!text) return tl::unexpected(text.error());
  auto pid = ParsePidfdPid(*text);
  if (!pid) {
    return MakeError(ErrorCode::kInternal, path + ": " + pid.error().message);
  }
  if (*pid == 0) {
    return MakeError(ErrorCode::kNotFound, "the process has exited");
  }
  PidfdProcess process;
  process.pid = *pid;
  if (pidfs_) {
    struct stat status {};
    if (::fstat(pidfd, &status) == 0) {
      process.instance = static_cast<uint64_t>(status.st_ino);
    }
  }
  return process;
}

Result<ProcProcessSource::SocketPeer> ProcProcessSource::SocketPeerOf(
    int32_t pid, int fd) const {
  // Borrow the process's descriptor to ask the kernel who is at the other
  // end (Linux has no connect-time token to capture).
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    return MakeError(ErrorCode::kProcessGone, "caller process is gone");
  }
  const int socket = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0));
  const int getfd_error = errno;
  ::close(pidfd);
  if (socket < 0) {
    return MakeError(
        getfd_error == EBADF ? ErrorCode::kNotFound : ErrorCode::kAccessDenied,
        "cannot look at the caller's fd " + std::to_string(fd) + ": " +
            std::strerror(getfd_error));
  }
  int domain = 0;
  socklen_t domain_length = sizeof domain;
  ucred peer{};
  socklen_t peer_length = sizeof peer;
  const bool unix_socket = ::getsockopt(socket, SOL_SOCKET, SO_DOMAIN, &domain,
                                        &domain_length) == 0 &&
                           domain == AF_UNIX;
  const bool have_peer =
      unix_socket &&
      ::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) == 0 &&
      peer.pid > 0;
  // The peer as it connected, pinned (SO_PEERPIDFD, Linux 6.5+): its pid
  // can never name another process through this descriptor.
  int peer_pidfd = -1;
  socklen_t pidfd_length = sizeof peer_pidfd;
  const bool pinned =
      have_peer && ::getsockopt(socket, SOL_SOCKET, kSoPeerPidfd, &peer_pidfd,
                                &pidfd_length) == 0;
  const int pin_error = errno;
  ::close(socket);
  if (!have_peer) {
    return MakeError(ErrorCode::kNotFound,
                     "fd " + std::to_string(fd) +
                         " of the caller is not a connected Unix socket");
  }
  const std::string gone = "the peer (pid " + std::to_string(peer.pid) +
                           ") has exited; its pid may name another process";
  if (!pinned && pin_error != ENOPROTOOPT) {
    return MakeError(ErrorCode::kNotFound, gone);
  }
  SocketPeer result;
  result.pid = peer.pid;
  result.uid = peer.uid;
  result.gid = peer.gid;
  if (pinned) {
    auto resolved = ResolvePidfd(peer_pidfd);
    ::close(peer_pidfd);
    if (!resolved) return MakeError(ErrorCode::kNotFound, gone);
    result.pinned = *resolved;
  }
  return result;
}

std::optional<TargetState> ProcProcessSource::CurrentState(int32_t pid) const {
  auto directory = OpenTaskDirectory(proc_root_, pid);
  if (!directory) return std::nullopt;
  const int dir = directory->get();
  auto text = ReadSmallFileAt(dir, "status", "status");
  if (!text) return std::nullopt;
  auto status = ParseProcStatus(*text);
  if (!status) return std::nullopt;
  TargetState state;
  state.credentials = std::move(status->credentials);
  const std::string user_namespace = UserNamespaceAt(dir);
  state.credentials.initial_user_namespace =
      !own_user_namespace_.empty() && user_namespace == own_user_namespace_;
  if (!state.credentials.initial_user_namespace) {
    state.namespace_owner = ChildNamespaceOwner(dir);
  }
  // The kernel gives the files of a process that is not dumpable to root
  // (its /proc/<pid> directory itself is exempt, so look at a file in it).
  struct stat owner {};
  if (::fstatat(dir, "stat", &owner, 0) != 0) return std::nullopt;
  const LinuxCredentials& credentials = state.credentials;
  const bool owned_as_process = owner.st_uid == credentials.effective_uid &&
                                owner.st_gid == credentials.effective_gid;
  if (!owned_as_process) {
    state.dumpable = false;
  } else if (credentials.effective_uid != 0 || credentials.effective_gid != 0) {
    state.dumpable = true;
  } else {
    // root:root shows alike either way: ask the kernel's own rule instead.
    DumpableVerdict verdict = RootOwnedDumpable(dir, credentials);
    state.dumpable = verdict.dumpable;
    state.undecided = std::move(verdict.undecided);
  }
  return state;
}

std::optional<uint32_t> ProcProcessSource::ChildNamespaceOwner(
    int directory) const {
  // ioctl_ns(2): NS_GET_PARENT and NS_GET_OWNER_UID.
  constexpr unsigned long kNsGetParent = 0xb702;
  constexpr unsigned long kNsGetOwnerUid = 0xb704;
  Fd ns(::openat(directory, "ns/user", O_RDONLY | O_CLOEXEC));
  if (!ns.valid()) return std::nullopt;
  Fd parent(::ioctl(ns.get(), kNsGetParent));
  if (!parent.valid()) return std::nullopt;
  struct stat parent_status {};
  if (::fstat(parent.get(), &parent_status) != 0 ||
      "user:[" + std::to_string(parent_status.st_ino) + "]" !=
          own_user_namespace_) {
    return std::nullopt;
  }
  uid_t owner = 0;
  if (::ioctl(ns.get(), kNsGetOwnerUid, &owner) != 0) return std::nullopt;
  return static_cast<uint32_t>(owner);
}

DumpableVerdict ProcProcessSource::RootOwnedDumpable(
    int directory, const LinuxCredentials& target) const {
  // This thread (fsuid 0, fsgid 0, like the callers this case concerns)
  // reads the target's ns/user link, which the kernel allows only under
  // ptrace_may_access(PTRACE_MODE_READ_FSCREDS), with CAP_SYS_PTRACE left
  // out of its effective set and every other permitted capability raised:
  // then a dumpable target is readable, and the kernel's capability subset
  // test fails only for a target holding what this daemon cannot hold
  // (core's ReadDumpableProbe tells those apart). Capability sets are per
  // thread, and the set is restored before returning.
  DumpableVerdict unknown;
  unknown.undecided = "tokenfs could not run its probe";
  if (::geteuid() != 0) return unknown;
  struct Header {
    uint32_t version;
    int pid;
  } header{0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
  struct Data {
    uint32_t effective;
    uint32_t permitted;
    uint32_t inheritable;
  } saved[2] = {};
  if (::syscall(SYS_capget, &header, saved) != 0) return unknown;
  constexpr uint32_t kPtraceBit = uint32_t{1} << linux_capability::kSysPtrace;
  Data probe[2] = {saved[0], saved[1]};
  probe[0].effective = saved[0].permitted & ~kPtraceBit;
  probe[1].effective = saved[1].permitted;
  if (::syscall(SYS_capset, &header, probe) != 0) return unknown;
  char link[64];
  const ssize_t length =
      ::readlinkat(directory, "ns/user", link, sizeof link - 1);
  const int error = errno;
  if (::syscall(SYS_capset, &header, saved) != 0) return unknown;
  if (length <= 0 && error != EACCES && error != EPERM) return unknown;
  const uint64_t probe_effective =
      uint64_t{probe[0].effective} | uint64_t{probe[1].effective} << 32;
  return ReadDumpableProbe(length > 0, probe_effective, target);
}

std::vector<int32_t> ProcProcessSource::ListProcesses() const {
  return NumericEntries(proc_root_);
}

std::vector<int32_t> ProcProcessSource::ListThreads(int32_t pid) const {
  return NumericEntries(proc_root_ + "/" + std::to_string(pid) + "/task");
}

uint64_t SystemClock::NowNanoseconds() const {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace tokenfs
