#include "tokenfs/worker_pool.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

#include "tokenfs/log.h"

namespace tokenfs {
namespace {

int64_t NowNanoseconds() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

class Pool;

struct Worker {
  Pool* pool = nullptr;
  pthread_t thread{};
  bool ended = false;  // returned on its own and detached (guarded)
};

// This thread's pool, whether it holds the reader's role, and the
// generation it took the role under.
thread_local Pool* current_pool = nullptr;
thread_local bool holding = false;
thread_local uint64_t held_generation = 0;

class Pool {
 public:
  Pool(fuse_session* session, const WorkerPoolOptions& options)
      : session_(session), options_(options) {
    ::sem_init(&finished_, 0, 0);
  }
  ~Pool() { ::sem_destroy(&finished_); }

  int Run();
  void MayBlockOnReader();

 private:
  static void* Entry(void* argument);
  void Work(Worker* self);
  // Both with mutex_ held.
  int StartWorkerLocked();
  void PassRoleLocked();
  void Watch();

  fuse_session* const session_;
  const WorkerPoolOptions options_;

  std::mutex mutex_;
  std::condition_variable role_free_;
  bool reader_present_ = false;
  bool exiting_ = false;
  int error_ = 0;
  unsigned idle_ = 0;
  unsigned live_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  // Bumped whenever the role passes on; a reader that sees it changed after
  // a request gives the role up.
  std::atomic<uint64_t> generation_{1};
  // When the reader began the request it answers (monotonic ns), 0 while it
  // waits in read(2); and the value the watchdog last acted on.
  std::atomic<int64_t> busy_since_{0};
  int64_t passed_since_ = 0;
  sem_t finished_;
};

void* Pool::Entry(void* argument) {
  auto* worker = static_cast<Worker*>(argument);
  worker->pool->Work(worker);
  return nullptr;
}

int Pool::StartWorkerLocked() {
  auto worker = std::make_unique<Worker>();
  worker->pool = this;
  // Workers block every signal: the stop signals go to the main thread,
  // which ends the loop.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  const int error =
      ::pthread_create(&worker->thread, nullptr, &Pool::Entry, worker.get());
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (error != 0) return error;
  workers_.push_back(std::move(worker));
  ++live_;
  return 0;
}

void Pool::PassRoleLocked() {
  reader_present_ = false;
  generation_.fetch_add(1);
  if (idle_ > 0) {
    role_free_.notify_one();
  } else if (live_ < options_.max_threads) {
    if (const int error = StartWorkerLocked(); error != 0) {
      LogWarning("could not start a FUSE worker (error " +
                 std::to_string(error) + "); requests wait for a busy one");
    }
  }
}

void Pool::Work(Worker* self) {
  current_pool = this;
  ::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, nullptr);
  fuse_buf buffer{};
  // Freed on every way out, cancellation's unwinding included.
  struct FreeBuffer {
    fuse_buf& buffer;
    ~FreeBuffer() { std::free(buffer.mem); }
  } free_buffer{buffer};
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    while (reader_present_ && !exiting_) {
      if (idle_ >= options_.idle_threads) {
        self->ended = true;
        --live_;
        ::pthread_detach(::pthread_self());
        return;
      }
      ++idle_;
      role_free_.wait(lock);
      --idle_;
    }
    if (exiting_) return;
    reader_present_ = true;
    const uint64_t mine = generation_.load();
    lock.unlock();
    holding = true;
    held_generation = mine;
    int result = 0;
    for (;;) {
      if (::fuse_session_exited(session_)) break;
      ::pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, nullptr);
      result = ::fuse_session_receive_buf(session_, &buffer);
      ::pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, nullptr);
      if (result == -EINTR || result == -EAGAIN) continue;
      if (result <= 0) break;
      busy_since_.store(NowNanoseconds(), std::memory_order_relaxed);
      ::fuse_session_process_buf(session_, &buffer);
      busy_since_.store(0, std::memory_order_relaxed);
      if (generation_.load() != mine) break;  // the role passed on
    }
    holding = false;
    lock.lock();
    if (result <= 0 || ::fuse_session_exited(session_)) {
      // Unmounted, stopped, or /dev/fuse failed: the loop is over.
      if (result < 0 && error_ == 0) error_ = result;
      ::fuse_session_exit(session_);
      exiting_ = true;
      role_free_.notify_all();
      ::sem_post(&finished_);
      return;
    }
  }
}

void Pool::MayBlockOnReader() {
  holding = false;
  const std::lock_guard<std::mutex> lock(mutex_);
  if (exiting_ || generation_.load() != held_generation) return;
  PassRoleLocked();
}

void Pool::Watch() {
  const int64_t since = busy_since_.load(std::memory_order_relaxed);
  if (since == 0 ||
      NowNanoseconds() - since <
          std::chrono::nanoseconds(options_.watchdog).count()) {
    return;
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  if (exiting_ || !reader_present_ || since == passed_since_ ||
      busy_since_.load(std::memory_order_relaxed) != since) {
    return;
  }
  passed_since_ = since;
  LogDebug("a request has kept the FUSE reader busy for over " +
           std::to_string(options_.watchdog.count()) +
           " ms; another worker reads meanwhile");
  PassRoleLocked();
}

int Pool::Run() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (const int error = StartWorkerLocked(); error != 0) return -error;
  }
  for (;;) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (exiting_) break;
    }
    if (::fuse_session_exited(session_)) break;
    timespec deadline{};
    ::clock_gettime(CLOCK_REALTIME, &deadline);
    const auto step = std::chrono::nanoseconds(options_.watchdog).count();
    deadline.tv_nsec += step % 1000000000;
    deadline.tv_sec += step / 1000000000 + deadline.tv_nsec / 1000000000;
    deadline.tv_nsec %= 1000000000;
    if (::sem_timedwait(&finished_, &deadline) != 0 && errno == ETIMEDOUT) {
      Watch();
    }
  }
  std::vector<pthread_t> running;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    exiting_ = true;
    role_free_.notify_all();
    for (const auto& worker : workers_) {
      if (!worker->ended) running.push_back(worker->thread);
    }
  }
  // A worker waiting in read(2) is cancelled there (the only place its
  // cancellation is enabled); one answering a request finishes it first.
  for (pthread_t thread : running) ::pthread_cancel(thread);
  for (pthread_t thread : running) ::pthread_join(thread, nullptr);
  return error_;
}

}  // namespace

int RunWorkerPool(fuse_session* session, const WorkerPoolOptions& options) {
  WorkerPoolOptions checked = options;
  if (checked.max_threads == 0) checked.max_threads = 1;
  if (checked.idle_threads == 0) checked.idle_threads = 1;
  Pool pool(session, checked);
  return pool.Run();
}

void MayBlock() {
  if (current_pool != nullptr && holding) current_pool->MayBlockOnReader();
}

}  // namespace tokenfs
