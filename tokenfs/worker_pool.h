// WorkerPool: the daemon's FUSE request loop, with one reader at a time.
//
// libfuse's own pool (fuse_session_loop_mt) keeps every idle worker blocked
// in read(2) on /dev/fuse, and the kernel hands each request to the worker
// that has waited longest: a sequential caller's OPEN and RELEASE go to a
// different, cache-cold thread each time, often on the other CPU, and a
// warm read cycle cost about 1.3x what one thread needs (docs/benchmarks.md
// section 10.7). Here only one worker, the reader, waits on /dev/fuse; it
// answers what it read itself and reads again, so a quick request never
// changes threads. Before anything that may block (a commit's fsync, a
// directory or NSS lookup) the handler calls MayBlock(), which passes the
// reader's role to an idle worker (starting one, up to `max_threads`), so
// other callers are not held up; the blocked worker answers its request
// and then waits as an idle worker. A watchdog (the thread that called Run)
// passes the role on as well when the reader has been busy for longer than
// kWatchdog, for blocks nobody foresaw: then at worst one request waits.
//
// Invariant: at most one worker holds the reader's role, except for the
// moment after the watchdog passed it on while the old reader was already
// reading again (two readers of /dev/fuse are harmless; the old one gives
// the role up after its next request). No worker ends while it answers a
// request.
//
// Thread-safety: Run is called once, from the daemon's main thread, which
// must receive the stop signals (fuse_set_signal_handlers); workers run
// with every signal blocked. MayBlock may be called from any thread; it
// does something only on the current reader.
//
// Ownership: borrows the session for the duration of Run.
#ifndef TOKENFS_TOKENFS_WORKER_POOL_H_
#define TOKENFS_TOKENFS_WORKER_POOL_H_

#define FUSE_USE_VERSION 314

#include <fuse_lowlevel.h>

#include <chrono>

namespace tokenfs {

struct WorkerPoolOptions {
  unsigned max_threads = 16;
  // Idle workers kept; a worker that would make more ends.
  unsigned idle_threads = 16;
  std::chrono::milliseconds watchdog{100};
};

// Serves `session` until it exits (a signal, an unmount); returns 0, or the
// negative errno of a failed read of /dev/fuse.
int RunWorkerPool(fuse_session* session, const WorkerPoolOptions& options);

// Called by a request handler before an operation that may block: the
// reader's role passes to another worker. A no-op outside the pool's
// readers.
void MayBlock();

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_WORKER_POOL_H_
