// ProcessEventWatcher (an EventSync): feeds the kernel's process events
// (proc connector: fork, exec, uid/gid change, exit) into the registry, so it
// is exact.
//
// A background thread applies events in the order the kernel queued them.
// It takes up to kBatch datagrams per recvmmsg call into buffers it keeps,
// and after applying any events waits kGatherMilliseconds for more before it
// looks again, so that under a steady stream (a fork storm) one wake-up
// serves every event of that period instead of one each; a Sync (a request
// that depends on queued events) ends that wait at once, so no answer waits
// for it. The first event after a quiet period is applied at once.
// Request handlers call Sync(pids) before they depend on registry state: it
// pulls whatever the kernel has queued so far and waits until the watcher
// thread has applied the events about those processes (a fork storm
// elsewhere does not delay them). Because the kernel queues a fork or exec
// event before the new program can run, a process's first request always finds
// its entry made from its parent's token as it was at fork time. Sync holds no
// lock while the events are applied (they read /proc); it waits on a condition
// variable, bounded by one second (then it logs and goes on).
//
// When the socket overflows (ENOBUFS) events were lost: the registry is told
// to revalidate everything. When the connector is unavailable (not root, or
// in a pid namespace other than the initial one) Start() fails and the
// registry works without live events (validating against /proc).
//
// Thread-safety: Sync may be called from any thread; Start/Stop from one.
#ifndef TOKENFS_TOKENFS_PROC_EVENTS_H_
#define TOKENFS_TOKENFS_PROC_EVENTS_H_

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "core/registry.h"
#include "tokenfs/event_sync.h"

namespace tokenfs {

class ProcessEventWatcher : public EventSync {
 public:
  explicit ProcessEventWatcher(Registry& registry) : registry_(registry) {}
  ~ProcessEventWatcher() override;
  ProcessEventWatcher(const ProcessEventWatcher&) = delete;
  ProcessEventWatcher& operator=(const ProcessEventWatcher&) = delete;

  // Subscribes to the proc connector and starts the thread. On failure the
  // registry stays in validating mode; the error says why.
  Status Start();
  void Stop();
  bool running() const { return socket_ >= 0; }

  // Returns once every event the kernel queued before the call that
  // concerns one of `pids` (a task or process id; 0 entries are ignored) is
  // applied. Events about other processes do not make the caller wait.
  void Sync(std::initializer_list<int32_t> pids) override;

  uint64_t events_applied() const override;
  uint64_t overflows() const override;

 private:
  struct Event {
    enum class Kind { kFork, kExec, kCredentials, kExit, kOverflow };
    Kind kind;
    int32_t a = 0;  // fork: parent tgid; others: tid
    int32_t b = 0;  // fork: child tid;   others: tgid
    int32_t c = 0;  // fork: child tgid
    uint64_t sequence = 0;
  };
  static bool Mentions(const Event& event, std::span<const int32_t> pids);

  void Run();
  // Moves queued socket messages into queue_. Call with mutex_ held.
  void DrainSocketLocked();
  // Parses one received datagram into queue_. Call with mutex_ held.
  void ParseDatagramLocked(char* buffer, size_t count);
  void Apply(const Event& event);

  // Datagrams taken per recvmmsg call; a proc connector datagram is one
  // event of under 100 bytes.
  static constexpr size_t kBatch = 64;
  // After applying events the thread waits up to kGatherMilliseconds (or
  // until a Sync wakes it) before it takes the next ones: at most one
  // wake-up per period for events nobody is waiting for. 25 ms: on the
  // 2-vCPU test VM 10 ms cost 13 ms of daemon CPU per 1,000 forks and 25 ms
  // 5.5-6 (docs/benchmarks.md, 10.7); a change only a process event reports
  // (an exec, a setuid) reaches watchers of a token at most this late.
  static constexpr int kGatherMilliseconds = 25;
  struct Datagram {
    alignas(nlmsghdr) char bytes[512];
  };

  Registry& registry_;
  // recvmmsg's buffers, used by DrainSocketLocked (mutex_ held).
  std::array<Datagram, kBatch> batch_{};
  std::array<iovec, kBatch> iovecs_{};
  std::array<mmsghdr, kBatch> headers_{};
  int socket_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;

  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  std::deque<Event> queue_;       // guarded by mutex_: not yet taken
  std::vector<Event> in_flight_;  // written under mutex_, by Run only
  uint64_t received_ = 0;         // guarded by mutex_: last sequence
  uint64_t applied_ = 0;          // guarded by mutex_: last applied
  uint64_t overflows_ = 0;        // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_PROC_EVENTS_H_
