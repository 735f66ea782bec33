// In-memory stand-ins for what the daemon learns from the operating system,
// for driving TokenFilesystem's handlers without /proc, the proc connector
// or FUSE: FakeProcessFacts (a process table: the registry's ProcessSource
// and the handlers' ProcessFacts, with a table of connected sockets),
// FakeEventSync (no events: Sync returns at once) and FakeMinter (a bare
// token per effective uid).
//
// Invariant: a task exists iff it is in `tasks`; every answer is read from
// that table at the call, so a test changes the system by editing it.
//
// Thread-safety: none; a test uses them from one thread.
//
// Ownership: a test owns them; they must outlive the Registry and
// TokenFilesystem that borrow them.
#ifndef TOKENFS_TESTS_TOKENFS_FAKE_OS_H_
#define TOKENFS_TESTS_TOKENFS_FAKE_OS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "core/capability.h"
#include "core/privilege.h"
#include "core/registry.h"
#include "core/well_known_sids.h"
#include "tokenfs/event_sync.h"
#include "tokenfs/process_facts.h"

namespace tokenfs::test {

class FakeProcessFacts : public ProcessFacts {
 public:
  struct Task {
    int32_t tgid;
    int32_t ppid;
    uint64_t start;
    LinuxCredentials credentials;
  };

  void AddProcess(int32_t pid, int32_t ppid, uint64_t start, uint32_t uid) {
    LinuxCredentials credentials;
    credentials.real_uid = credentials.effective_uid = uid;
    credentials.saved_uid = credentials.fs_uid = uid;
    credentials.real_gid = credentials.effective_gid = uid;
    credentials.saved_gid = credentials.fs_gid = uid;
    if (uid == 0) {
      credentials.cap_permitted = credentials.cap_effective =
          ~uint64_t{0} >> 23;
    }
    tasks[pid] = Task{pid, ppid, start, credentials};
  }
  void AddThread(int32_t tid, int32_t tgid, uint64_t start) {
    Task task = tasks.at(tgid);
    task.start = start;
    tasks[tid] = task;
  }

  Result<TaskInfo> ReadTask(int32_t tid) const override {
    auto it = tasks.find(tid);
    if (it == tasks.end()) return MakeError(ErrorCode::kNotFound, "gone");
    TaskInfo info;
    info.tid = tid;
    info.tgid = it->second.tgid;
    const Task& leader = tasks.at(it->second.tgid);
    info.ppid = leader.ppid;
    info.start_time = leader.start;
    info.thread_start_time = it->second.start;
    info.credentials = it->second.credentials;
    return info;
  }
  Result<TaskIncarnation> Incarnation(int32_t tid) const override {
    auto it = tasks.find(tid);
    if (it == tasks.end()) return MakeError(ErrorCode::kNotFound, "gone");
    return TaskIncarnation{it->second.start, 0};
  }
  std::vector<int32_t> ListProcesses() const override {
    std::vector<int32_t> pids;
    for (const auto& [tid, task] : tasks) {
      if (task.tgid == tid) pids.push_back(tid);
    }
    return pids;
  }
  std::vector<int32_t> ListThreads(int32_t pid) const override {
    std::vector<int32_t> tids;
    for (const auto& [tid, task] : tasks) {
      if (task.tgid == pid) tids.push_back(tid);
    }
    return tids;
  }

  Result<LinuxCredentials> CurrentCapabilities(
      int32_t tid, const ProcessKey&) const override {
    auto it = tasks.find(tid);
    if (it == tasks.end()) return MakeError(ErrorCode::kNotFound, "gone");
    return it->second.credentials;
  }
  std::optional<TargetState> CurrentState(int32_t pid) const override {
    auto it = tasks.find(pid);
    if (it == tasks.end()) return std::nullopt;
    return TargetState{it->second.credentials, true, std::nullopt};
  }
  // No descriptors exist here: every pidfd names a reaped process.
  Result<PidfdProcess> ResolvePidfd(int) const override {
    return MakeError(ErrorCode::kNotFound, "no such pidfd");
  }

  // The peers of connected Unix sockets, by (pid, fd): a test connects two
  // processes by adding an entry.
  Result<SocketPeer> SocketPeerOf(int32_t pid, int fd) const override {
    if (!tasks.count(pid)) {
      return MakeError(ErrorCode::kProcessGone, "caller process is gone");
    }
    auto it = sockets.find({pid, fd});
    if (it == sockets.end()) {
      return MakeError(ErrorCode::kNotFound, "not a connected Unix socket");
    }
    return it->second;
  }

  std::map<int32_t, Task> tasks;
  std::map<std::pair<int32_t, int>, SocketPeer> sockets;
};

// Events are applied as they happen (the fake table is the truth): Sync has
// nothing to wait for, and counts its calls.
class FakeEventSync : public EventSync {
 public:
  void Sync(std::initializer_list<int32_t>) override { ++syncs; }
  uint64_t events_applied() const override { return 0; }
  uint64_t overflows() const override { return 0; }
  int syncs = 0;
};

// Mints a bare token for the effective uid: LocalSystem for root, the Unix
// user otherwise, with every mytoken capability and SeChangeNotify enabled
// (and SeDebug with CAP_SYS_PTRACE).
class FakeMinter : public TokenMinter {
 public:
  explicit FakeMinter(LuidAllocator& ids) : ids_(ids) {}
  Result<MintedIdentity> Mint(const LinuxCredentials& credentials) override {
    Token token;
    token.user = credentials.effective_uid == 0
                     ? well_known::LocalSystem()
                     : well_known::UnixUser(credentials.effective_uid);
    token.token_id = ids_.Next();
    // No DACL (everything allowed), but an owner and a group: an access
    // check refuses a descriptor without them, as Windows does.
    token.security.owner = token.user;
    token.security.group = token.user;
    // The policy's default: every mytoken capability.
    token.capabilities = FullCapabilitySet();
    token.privileges.present = token.privileges.enabled =
        privilege::Bit(privilege::kChangeNotify);
    if (HoldsCapability(credentials, linux_capability::kSysPtrace)) {
      token.privileges.present |= privilege::Bit(privilege::kDebug);
      token.privileges.enabled |= privilege::Bit(privilege::kDebug);
    }
    return MintedIdentity{token, std::nullopt};
  }

 private:
  LuidAllocator& ids_;
};

}  // namespace tokenfs::test

#endif  // TOKENFS_TESTS_TOKENFS_FAKE_OS_H_
