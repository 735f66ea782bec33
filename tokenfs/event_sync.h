// EventSync: the request handlers' view of the process-event feed. Before a
// handler depends on registry state about some processes, it asks the feed
// to have applied every process event (fork, exec, credential change, exit)
// about them that the kernel had queued when the call was made.
//
// Invariant: when Sync returns, the registry reflects every such event about
// the named pids (or the feed gave up waiting and logged it); Sync never
// applies events about other processes on the caller's behalf. The counters
// only grow.
//
// Thread-safety: every method may be called from any thread.
//
// Ownership: the daemon owns the implementation (ProcessEventWatcher, fed by
// the proc connector) and passes it by reference; it must outlive every
// user. Tests use an in-memory fake.
#ifndef TOKENFS_TOKENFS_EVENT_SYNC_H_
#define TOKENFS_TOKENFS_EVENT_SYNC_H_

#include <cstdint>
#include <initializer_list>

namespace tokenfs {

class EventSync {
 public:
  virtual ~EventSync() = default;

  // Returns once every event the kernel queued before the call that
  // concerns one of `pids` (a task or process id; 0 entries are ignored) is
  // applied.
  virtual void Sync(std::initializer_list<int32_t> pids) = 0;

  // Events applied so far, and times events were lost (socket overflow).
  virtual uint64_t events_applied() const = 0;
  virtual uint64_t overflows() const = 0;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_EVENT_SYNC_H_
