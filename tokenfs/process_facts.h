// ProcessFacts: what the request handlers learn about processes from the
// operating system, beyond the registry's ProcessSource: a task's
// capability sets and user namespace now, the state the inspection rule
// needs (credentials, namespace owner, dumpability), which process a
// pidfd refers to, and who is at the other end of a process's socket.
//
// Invariant: every answer describes the system as it is at the call; no
// answer is derived from registry state (the registry is built on these
// facts, not the other way round). A task or process that is gone is
// kNotFound / nullopt, never another task that reused its id.
//
// Thread-safety: implementations must be safe to call from any thread
// (the handlers run on libfuse's worker threads).
//
// Ownership: the daemon owns the implementation (ProcProcessSource, reading
// /proc) and passes it by reference; it must outlive every user. Tests use an
// in-memory fake.
#ifndef TOKENFS_TOKENFS_PROCESS_FACTS_H_
#define TOKENFS_TOKENFS_PROCESS_FACTS_H_

#include <cstdint>
#include <optional>

#include "core/authorization.h"
#include "core/registry.h"

namespace tokenfs {

class ProcessFacts : public ProcessSource {
 public:
  // The process a pidfd of the daemon's refers to: its pid in the daemon's
  // pid namespace and its pidfs inode (0 without pidfs).
  struct PidfdProcess {
    int32_t pid = 0;
    uint64_t instance = 0;
  };

  // The capability sets of task `tid` (a thread of `process`) right now
  // and whether its user namespace is the daemon's (only those fields are
  // filled).
  virtual Result<LinuxCredentials> CurrentCapabilities(
      int32_t tid, const ProcessKey& process) const = 0;
  // Process `pid` as the inspection rule needs it now (core TargetState);
  // nullopt when it is gone.
  virtual std::optional<TargetState> CurrentState(int32_t pid) const = 0;
  // The process pidfd `pidfd` refers to; kNotFound once it has been reaped
  // (its pid may then name another process).
  virtual Result<PidfdProcess> ResolvePidfd(int pidfd) const = 0;

  // The process at the other end of a connected Unix socket, as it
  // connected (SO_PEERCRED): its pid, effective uid and gid then, and, when
  // the kernel pins it (SO_PEERPIDFD, Linux 6.5+), the process that pid
  // names now through the pin.
  struct SocketPeer {
    int32_t pid = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::optional<PidfdProcess> pinned;
  };
  // The peer of descriptor `fd` of process `pid`. kProcessGone when that
  // process has exited; kNotFound when it has no descriptor `fd`, the
  // descriptor is not a connected Unix socket, or the pinned peer has exited
  // (its pid may name another process); kAccessDenied when the daemon may
  // not look at the descriptor. Messages do not name the file asked about.
  virtual Result<SocketPeer> SocketPeerOf(int32_t pid, int fd) const = 0;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_PROCESS_FACTS_H_
