// tokenfs/worker_pool on a real FUSE mount: a tiny low-level file system
// served by RunWorkerPool, whose OPEN of "block" waits until the test lets
// it go, while the test times an OPEN of "quick" from another thread.
//   1. the blocked handler calls MayBlock() first: "quick" is answered at
//      once (another worker took the reader's role);
//   2. it does not: the watchdog passes the role on, and "quick" is
//      answered after about the watchdog period, not after the block;
//   3. with one thread at most, "quick" waits for the block (the bound);
//   4. quick requests in a row stay on one worker thread (the point of the
//      pool), and unmounting ends RunWorkerPool with 0.
// Needs root and /dev/fuse; exits 77 (skipped) without them.
#define FUSE_USE_VERSION 314

#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "tokenfs/worker_pool.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr fuse_ino_t kBlock = 2;
constexpr fuse_ino_t kQuick = 3;

struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool released = false;
  bool call_may_block = false;
};
Gate gate;
std::mutex threads_mutex;
std::set<long> quick_threads;  // tids that answered OPEN of "quick"

void FillAttr(fuse_ino_t inode, struct stat* attr) {
  *attr = {};
  attr->st_ino = inode;
  attr->st_nlink = 1;
  attr->st_mode = inode == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0444;
}

void Lookup(fuse_req_t request, fuse_ino_t parent, const char* name) {
  fuse_entry_param entry{};
  const std::string text = name;
  if (parent != FUSE_ROOT_ID || (text != "block" && text != "quick")) {
    fuse_reply_err(request, ENOENT);
    return;
  }
  entry.ino = text == "block" ? kBlock : kQuick;
  entry.attr_timeout = 60;
  entry.entry_timeout = 60;
  FillAttr(entry.ino, &entry.attr);
  fuse_reply_entry(request, &entry);
}

void Getattr(fuse_req_t request, fuse_ino_t inode, fuse_file_info*) {
  struct stat attr {};
  FillAttr(inode, &attr);
  fuse_reply_attr(request, &attr, 60);
}

void Open(fuse_req_t request, fuse_ino_t inode, fuse_file_info* info) {
  if (inode == kBlock) {
    std::unique_lock<std::mutex> lock(gate.mutex);
    if (gate.call_may_block) {
      lock.unlock();
      tokenfs::MayBlock();
      lock.lock();
    }
    gate.entered = true;
    gate.changed.notify_all();
    gate.changed.wait(lock, [] { return gate.released; });
  } else {
    const std::lock_guard<std::mutex> lock(threads_mutex);
    quick_threads.insert(::syscall(SYS_gettid));
  }
  fuse_reply_open(request, info);
}

void Release(fuse_req_t request, fuse_ino_t, fuse_file_info*) {
  fuse_reply_err(request, 0);
}

int failures = 0;
void Check(bool condition, const std::string& what) {
  std::printf("%s - %s\n", condition ? "ok" : "FAIL", what.c_str());
  if (!condition) ++failures;
}

// Opens and closes `path`; the time it took.
milliseconds TimeOpen(const std::string& path) {
  const auto start = Clock::now();
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) ::close(fd);
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

struct Served {
  fuse_session* session = nullptr;
  std::thread loop;
  int result = -1;
  std::string mount_point;
};

bool Start(Served& served, const std::string& mount_point,
           const tokenfs::WorkerPoolOptions& options) {
  static const fuse_lowlevel_ops operations = [] {
    fuse_lowlevel_ops ops{};
    ops.lookup = Lookup;
    ops.getattr = Getattr;
    ops.open = Open;
    ops.release = Release;
    return ops;
  }();
  char program[] = "worker_pool_mount";
  char* argv[] = {program, nullptr};
  fuse_args args = FUSE_ARGS_INIT(1, argv);
  served.session =
      fuse_session_new(&args, &operations, sizeof operations, nullptr);
  if (!served.session ||
      fuse_session_mount(served.session, mount_point.c_str()) != 0) {
    return false;
  }
  served.mount_point = mount_point;
  served.loop = std::thread([&served, options] {
    served.result = tokenfs::RunWorkerPool(served.session, options);
  });
  return true;
}

// Unmounts from outside, as fusermount3 -u or umount(8) would: the pool
// sees ENODEV and ends.
void Stop(Served& served) {
  ::umount2(served.mount_point.c_str(), MNT_DETACH);
  served.loop.join();
  fuse_session_unmount(served.session);
  fuse_session_destroy(served.session);
}

// One blocked OPEN of "block" (on its own thread) and the time an OPEN of
// "quick" takes meanwhile; the block is held for `hold`.
milliseconds QuickWhileBlocked(const std::string& mount_point, bool may_block,
                               milliseconds hold) {
  {
    const std::lock_guard<std::mutex> lock(gate.mutex);
    gate.entered = false;
    gate.released = false;
    gate.call_may_block = may_block;
  }
  std::thread blocked([&] { (void)TimeOpen(mount_point + "/block"); });
  {
    std::unique_lock<std::mutex> lock(gate.mutex);
    gate.changed.wait(lock, [] { return gate.entered; });
  }
  std::thread releaser([hold] {
    std::this_thread::sleep_for(hold);
    const std::lock_guard<std::mutex> lock(gate.mutex);
    gate.released = true;
    gate.changed.notify_all();
  });
  const milliseconds quick = TimeOpen(mount_point + "/quick");
  releaser.join();
  blocked.join();
  return quick;
}

}  // namespace

int main() {
  if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0) {
    std::puts("SKIP: needs root and /dev/fuse");
    return 77;
  }
  char scratch[] = "/tmp/tkpool.XXXXXX";
  if (!::mkdtemp(scratch)) return 1;
  const std::string mount_point = std::string(scratch) + "/mnt";
  ::mkdir(mount_point.c_str(), 0755);

  const milliseconds hold{1500};
  tokenfs::WorkerPoolOptions options;
  options.max_threads = 4;
  options.idle_threads = 4;
  options.watchdog = milliseconds{100};
  {
    Served served;
    if (!Start(served, mount_point, options)) {
      std::puts("FAIL - could not mount");
      return 1;
    }
    // Warm the lookups so the timed opens are OPEN requests only.
    (void)TimeOpen(mount_point + "/quick");

    const milliseconds handed = QuickWhileBlocked(mount_point, true, hold);
    Check(handed < milliseconds{80},
          "a handler that calls MayBlock() holds up nobody (quick open took " +
              std::to_string(handed.count()) + " ms)");

    const milliseconds watched = QuickWhileBlocked(mount_point, false, hold);
    Check(watched >= milliseconds{50} && watched < milliseconds{1000},
          "an unforeseen block holds others up for about the watchdog "
          "period, not its length (quick open took " +
              std::to_string(watched.count()) + " ms, block " +
              std::to_string(hold.count()) + " ms)");

    {
      const std::lock_guard<std::mutex> lock(threads_mutex);
      quick_threads.clear();
    }
    for (int i = 0; i < 200; ++i) (void)TimeOpen(mount_point + "/quick");
    {
      const std::lock_guard<std::mutex> lock(threads_mutex);
      Check(quick_threads.size() == 1,
            "200 quick opens in a row are answered by one worker (" +
                std::to_string(quick_threads.size()) + " threads)");
    }
    Stop(served);
    Check(served.result == 0, "unmounting ends the pool with 0 (got " +
                                  std::to_string(served.result) + ")");
  }
  {
    options.max_threads = 1;
    options.idle_threads = 1;
    Served served;
    if (!Start(served, mount_point, options)) {
      std::puts("FAIL - could not mount again");
      return 1;
    }
    (void)TimeOpen(mount_point + "/quick");
    const milliseconds serial = QuickWhileBlocked(mount_point, true, hold);
    Check(serial >= hold - milliseconds{100},
          "with one worker at most, a quick open waits for the block (" +
              std::to_string(serial.count()) + " ms)");
    Stop(served);
  }
  std::filesystem::remove_all(scratch);
  std::printf("%s\n", failures == 0 ? "all checks passed"
                                    : "some checks failed");
  return failures == 0 ? 0 : 1;
}
