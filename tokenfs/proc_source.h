// ProcProcessSource: the registry's view of processes (ProcessSource) and the
// request handlers' process facts (ProcessFacts), read from /proc.
//
// Reads only files that never block on a process stuck in a FUSE request:
// /proc/<tid>/status (credentials, Tgid, PPid), /proc/<tid>/stat (start time,
// controlling terminal), /proc/<tid>/sessionid, the ns/user link, the owner
// of /proc/<tid> itself (dumpability) and the /proc and /proc/<pid>/task
// listings. Never cmdline, environ, maps or mem (they take the target's mmap
// lock and can block behind a process stuck in a FUSE request), and never
// anything under the daemon's own mount. It only reads: the status and stat
// texts are parsed by core (core/proc_status.h).
//
// A task is read through one open /proc/<tid> directory: if the task exits
// meanwhile, reads through it fail (ESRCH) instead of reaching a new task
// that took the id. Its incarnation pairs the start time with the inode
// number of a pidfd opened on it while the directory was held (pidfs, Linux
// 6.9+; without pidfs the inode is 0 and the start time alone identifies
// the incarnation).
//
// Thread-safety: safe from any thread; the one cache (user namespaces of
// callers) has its own mutex.
#ifndef TOKENFS_TOKENFS_PROC_SOURCE_H_
#define TOKENFS_TOKENFS_PROC_SOURCE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "core/authorization.h"
#include "core/luid.h"
#include "core/registry.h"
#include "tokenfs/process_facts.h"

namespace tokenfs {

class ProcProcessSource : public ProcessFacts {
 public:
  explicit ProcProcessSource(std::string proc_root = "/proc");

  Result<TaskInfo> ReadTask(int32_t tid) const override;
  Result<TaskIncarnation> Incarnation(int32_t tid) const override;
  std::vector<int32_t> ListProcesses() const override;
  std::vector<int32_t> ListThreads(int32_t pid) const override;
  uint64_t ExecMark(int32_t pid) const override;

  // The capability sets of task `tid` (a thread of `process`) right now
  // and whether its user namespace is the daemon's (only those fields are
  // filled). The namespace answer is remembered for the same thread,
  // process incarnation and sets.
  Result<LinuxCredentials> CurrentCapabilities(
      int32_t tid, const ProcessKey& process) const override;
  // Process `pid` as the inspection rule needs it now (core TargetState):
  // credentials, user namespace and its owner, and dumpability, read from
  // the owner the kernel gives the files under /proc/<pid> (root:root when
  // it is not dumpable, its euid:egid when it is). For a root:root process,
  // whose files look the same either way, a daemon thread asks the kernel's
  // ptrace rule itself (RootOwnedDumpable). nullopt when it is gone.
  std::optional<TargetState> CurrentState(int32_t pid) const override;
  // True when pidfd inode numbers identify tasks (pidfs).
  bool has_pidfs() const { return pidfs_; }
  // The process a pidfd of the daemon's refers to: its pid in the daemon's
  // pid namespace and its pidfs inode (0 without pidfs). kNotFound once it
  // has been reaped (its pid may then name another process).
  Result<PidfdProcess> ResolvePidfd(int pidfd) const override;
  // Borrows the descriptor (pidfd_getfd) and asks the socket.
  Result<SocketPeer> SocketPeerOf(int32_t pid, int fd) const override;

 private:
  DumpableVerdict RootOwnedDumpable(int directory,
                                    const LinuxCredentials& target) const;
  std::optional<uint32_t> ChildNamespaceOwner(int directory) const;

  struct NamespaceKey {
    int32_t tid;
    int32_t pid;
    uint64_t start_time;
    uint64_t instance;
    uint64_t cap_effective;
    uint64_t cap_permitted;
    friend bool operator<(const NamespaceKey& a, const NamespaceKey& b) {
      return std::tie(a.tid, a.pid, a.start_time, a.instance, a.cap_effective,
                      a.cap_permitted) < std::tie(b.tid, b.pid, b.start_time,
                                                  b.instance, b.cap_effective,
                                                  b.cap_permitted);
    }
  };
  static constexpr size_t kNamespaceCacheSize = 4096;

  std::string proc_root_;
  std::string own_user_namespace_;  // ns/user link text of the daemon
  bool pidfs_ = false;
  mutable std::mutex namespace_mutex_;
  // Whether a thread's user namespace is the initial one, by NamespaceKey;
  // emptied when full. Guarded by namespace_mutex_.
  mutable std::map<NamespaceKey, bool> namespace_cache_;
};

// Wall clock for token creation times.
class SystemClock : public Clock {
 public:
  uint64_t NowNanoseconds() const override;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_PROC_SOURCE_H_
