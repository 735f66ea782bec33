// tokenfs: mounts the token tree (man tokenfs.8).
//
// Start-up errors print one line and exit non-zero before anything is
// mounted; per-request errors are replies, never exits.
// 3.12+ selects the fuse_loop_config API the loop is configured with; 34
// would bind fuse_session_loop_mt to the 3.2 ABI, which misreads that config
// (no idle threads: a thread created and destroyed per request).
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <malloc.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "core/minting_policy.h"
#include "core/number.h"
#include "core/registry.h"
#include "tokenfs/account_lookup.h"
#include "tokenfs/filesystem.h"
#include "tokenfs/kernel_cache.h"
#include "tokenfs/log.h"
#include "tokenfs/pollers.h"
#include "tokenfs/proc_events.h"
#include "tokenfs/proc_source.h"
#include "tokenfs/state_store.h"
#include "tokenfs/winbind_directory.h"
#include "tokenfs/worker_pool.h"

namespace tokenfs {
namespace {

constexpr const char* kVersion = "0.1.0";

// Largest READ request unless -o max_read says otherwise: above every token
// file but `query/all` of a large token, and small enough that the kernel
// pins 4 pages of the reader's buffer per direct-I/O READ instead of 32
// (docs/benchmarks.md, section "The last 0.35×: the access check's grant
// sentence and the READ size").
constexpr uint32_t kDefaultMaxRead = 16384;

// The value of the last max_read=N among the mount options, kDefaultMaxRead
// when there is none, or an error message.
std::variant<uint32_t, std::string> MaxRead(
    const std::vector<std::string>& mount_options) {
  uint32_t max_read = kDefaultMaxRead;
  constexpr std::string_view kKey = "max_read=";
  for (const std::string& option : mount_options) {
    if (option.rfind(kKey, 0) != 0) continue;
    const std::string value = option.substr(kKey.size());
    const auto parsed = ParseUnsigned(value, UINT32_MAX, NumberBase::kDecimal);
    if (!parsed || *parsed < 4096) {
      return "-o max_read=" + value +
             ": expected a number of bytes, at least 4096";
    }
    max_read = static_cast<uint32_t>(*parsed);
  }
  return max_read;
}

// Mints with the policy, the daemon's id allocator, clock, account names and
// directory (null: none), and logs every token minted without a directory
// that should have answered.
class PolicyMinter : public TokenMinter {
 public:
  PolicyMinter(const MintingPolicy& policy, LuidAllocator& ids,
               const Clock& clock, const AccountLookup& accounts,
               DirectorySource* directory)
      : policy_(policy),
        ids_(ids),
        clock_(clock),
        accounts_(accounts),
        directory_(directory) {}
  Result<MintedIdentity> Mint(const LinuxCredentials& credentials) override {
    auto minted = policy_.Mint(
        credentials, MintContext{ids_, clock_, &accounts_, directory_});
    if (minted && (minted->origin == IdentityOrigin::kLocalFallback ||
                   minted->origin == IdentityOrigin::kDirectoryCached)) {
      LogWarning("directory: uid " + std::to_string(credentials.effective_uid) +
                 ": " + minted->directory_failure +
                 (minted->origin == IdentityOrigin::kDirectoryCached
                      ? "; minted from the cached directory answer"
                      : "; minted with local S-1-22 SIDs (nothing cached)"));
    }
    return minted;
  }

 private:
  const MintingPolicy& policy_;
  LuidAllocator& ids_;
  const Clock& clock_;
  const AccountLookup& accounts_;
  DirectorySource* directory_;
};

// Returns the mount entry for `path` in /proc/self/mountinfo ("fuse.tokenfs
// tokenfs"), or "" when nothing is mounted there.
std::string MountedAt(const std::string& path) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    if (mount_point != path) continue;
    const size_t separator = line.find(" - ");
    return separator == std::string::npos ? "unknown"
                                          : line.substr(separator + 3);
  }
  return "";
}

// Detaches the stale mount at `path` when it is a tokenfs mount whose daemon
// is gone (a crash, kill -9): a restart then needs no manual step. Any
// other stale FUSE mount is left alone. "" when detached, else the reason.
std::string ClearStaleMount(const std::string& path) {
  const std::string mounted = MountedAt(path);
  const std::string kind = mounted.substr(0, mounted.find(' '));
  if (kind != "fuse.tokenfs") {
    return "mount point " + path +
           " is a stale FUSE mount of another file system (" + mounted +
           "); unmount it first: fusermount3 -u -z " + path;
  }
  // Lazy: processes with their working directory or open files under the
  // dead mount keep it busy, and a plain unmount would fail with EBUSY.
  if (::umount2(path.c_str(), MNT_DETACH) != 0) {
    return "mount point " + path + " is a stale tokenfs mount and detaching " +
           "it failed: " + std::strerror(errno);
  }
  return "";
}

// Checks (and if missing creates) the mount point; "" when usable, else the
// one-line reason. A stale tokenfs mount is detached (and noted in
// `cleared`).
std::string CheckMountPoint(std::string& path, bool& cleared) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto stale = [&path, &cleared]() -> std::string {
    std::string reason = ClearStaleMount(path);
    if (!reason.empty()) return reason;
    cleared = true;
    return CheckMountPoint(path, cleared);
  };
  struct stat attr {};
  if (::stat(path.c_str(), &attr) != 0) {
    if ((errno == ENOTCONN || errno == ECONNABORTED) && !cleared) {
      return stale();
    }
    if (errno == ENOENT) {
      if (::mkdir(path.c_str(), 0755) == 0) return "";
      return "cannot create mount point " + path + ": " + std::strerror(errno);
    }
    return "mount point " + path + ": " + std::strerror(errno);
  }
  if (!S_ISDIR(attr.st_mode))
    return "mount point " + path + " is not a directory";
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved)) path = resolved;
  const std::string mounted = MountedAt(path);
  if (!mounted.empty() && mounted.rfind("fuse", 0) == 0) {
    // stat() may be answered from cached attributes for a while after a
    // FUSE daemon died; statfs always asks the daemon.
    struct statfs filesystem {};
    if (::statfs(path.c_str(), &filesystem) != 0 &&
        (errno == ENOTCONN || errno == ECONNABORTED) && !cleared) {
      return stale();
    }
  }
  if (!mounted.empty()) {
    return "mount point " + path +
           " is busy: something is already mounted "
           "there (" +
           mounted + ")";
  }
  return "";
}

// Type=notify (tokenfs.service): tells systemd READY=1 once the tree
// answers. statfs always reaches the daemon, so it returns only after the
// session loop has done the FUSE handshake and served a request; a thread
// asks, since the loop runs on this one. Nothing happens without
// NOTIFY_SOCKET (sd_notify(3) then returns 0).
void NotifyReadyWhenServing(const std::string& mount_point) {
  if (::getenv("NOTIFY_SOCKET") == nullptr) return;
  std::thread([mount_point] {
    struct statfs filesystem {};
    if (::statfs(mount_point.c_str(), &filesystem) != 0) return;
    const std::string status = "READY=1\nSTATUS=serving " + mount_point;
    ::sd_notify(0, status.c_str());
  }).detach();
}

int Run(int argc, char** argv) {
  CLI::App app{
      "tokenfs: an NT-style access-token model for Linux, mounted as a file "
      "tree (see tokenfs(8), tokenfs(5))",
      "tokenfs"};
  std::string mount_point = "/tokens";
  bool foreground = false;
  bool debug = false;
  bool version = false;
  std::string policy_path;
  std::vector<std::string> mount_options;
  size_t quota = 1024;
  size_t quota_bytes = size_t{16} << 20;
  size_t history = kDefaultHistoryLimit;
  // The pool when no option says otherwise, chosen by measurement on 2 CPUs
  // (docs/benchmarks.md, "Worker pool"): one reader at a time (WorkerPool),
  // up to 16 workers, none ever ended. libfuse's shared pool, where every
  // idle worker waits on /dev/fuse, handed each request to another thread;
  // ending idle workers (fewer idle threads than threads) started a thread
  // per request under load (up to 14x).
  std::string loop_kind = "reader";
  unsigned threads = 16;
  // 0: as many as threads, i.e. no worker ever ends.
  unsigned idle_threads = 0;
  bool clone_fd = false;
  std::string state_directory = "/var/lib/tokenfs";
  bool discard_state = false;
  app.add_option("MOUNTPOINT", mount_point,
                 "where to mount the tree (default /tokens)");
  app.add_flag("-f,--foreground", foreground,
               "stay in the foreground and log to stderr");
  app.add_flag("-d,--debug", debug,
               "log every request and FUSE traffic (implies -f)");
  app.add_option("--policy", policy_path,
                 "JSON minting policy (default: built in; see tokenfs(8))");
  app.add_option("-o", mount_options,
                 "extra FUSE mount options (comma-separated; may repeat); "
                 "max_read=BYTES (>= 4096) caps one READ, default 16384")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--quota", quota,
                 "token objects one user may hold (default 1024)")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--quota-bytes", quota_bytes,
                 "bytes of token objects one user may hold (default 16 MiB)")
      ->check(CLI::Range(size_t{1} << 16, size_t{1} << 34));
  app.add_option("--history", history,
                 "events each token's history keeps (default 64; 0 keeps "
                 "none, change notification still works)")
      ->check(CLI::Range(size_t{0}, size_t{1} << 16));
  app.add_option("--loop", loop_kind,
                 "FUSE request loop: reader (default; one worker reads "
                 "/dev/fuse and answers what it read, handing over before "
                 "it blocks) or shared (libfuse's pool: every idle worker "
                 "reads)")
      ->check(CLI::IsMember({"reader", "shared"}));
  app.add_option("--threads", threads,
                 "maximum FUSE worker threads (default 16)")
      ->check(CLI::Range(1, 256));
  app.add_option("--idle-threads", idle_threads,
                 "idle worker threads the pool keeps instead of ending them "
                 "(default: as many as --threads)")
      ->check(CLI::Range(1, 256));
  app.add_flag("--clone-fd", clone_fd,
               "with --loop shared: give every worker thread its own "
               "/dev/fuse descriptor (FUSE_DEV_IOC_CLONE)");
  app.add_option("--state", state_directory,
                 "directory of the durable state store state.db (default "
                 "/var/lib/tokenfs; see STATE in tokenfs(8))");
  app.add_flag("--discard-state", discard_state,
               "start with an empty state store, forgetting every stored "
               "token (ids are still never reused)");
  app.add_flag("--version", version, "print the version and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& error) {
    std::cerr << "tokenfs: " << error.what() << "\n";
    return 1;
  }
  if (version) {
    std::cout << "tokenfs " << kVersion << "\n";
    return 0;
  }
  if (debug) foreground = true;
  if (clone_fd && loop_kind != "shared") {
    std::cerr << "tokenfs: --clone-fd: only with --loop shared (the reader "
                 "loop has one reader of /dev/fuse at a time)\n";
    return 1;
  }

  MintingPolicy policy = MintingPolicy::Default();
  if (!policy_path.empty()) {
    std::ifstream file(policy_path);
    if (!file) {
      std::cerr << "tokenfs: policy " << policy_path << ": "
                << std::strerror(errno) << "\n";
      return 1;
    }
    std::stringstream text;
    text << file.rdbuf();
    auto parsed = MintingPolicy::Parse(text.str());
    if (!parsed) {
      std::cerr << "tokenfs: " << policy_path << ": " << parsed.error().message
                << "\n";
      return 1;
    }
    policy = std::move(*parsed);
  }
  const auto max_read = MaxRead(mount_options);
  if (const auto* message = std::get_if<std::string>(&max_read)) {
    std::cerr << "tokenfs: " << *message << "\n";
    return 1;
  }
  // Detached, the daemon's only log is syslog(3), which drops every line
  // without a word when nothing listens at /dev/log: refuse to start then,
  // before the mount point is created or anything is mounted.
  if (!foreground) {
    if (Status probed = ProbeSystemLog("/dev/log"); !probed) {
      std::cerr << "tokenfs: error: no system log at /dev/log ("
                << probed.error().message
                << "); run with -f to log to stderr\n";
      return 1;
    }
  }
  // Opened (and checked) before anything is mounted; its writer thread
  // starts after fuse_daemonize, since threads do not survive a fork.
  auto opened = StateStore::Open(state_directory, discard_state);
  if (!opened) {
    std::cerr << "tokenfs: " << opened.error().message << "\n";
    return 1;
  }
  std::unique_ptr<StateStore> store = std::move(*opened);
  store->SetHistoryLimit(history);
  bool cleared_stale_mount = false;
  if (std::string reason = CheckMountPoint(mount_point, cleared_stale_mount);
      !reason.empty()) {
    std::cerr << "tokenfs: " << reason << "\n";
    return 1;
  }

  InitLog(foreground, debug);
  SystemClock clock;
  SystemAccountLookup accounts;
  // The directory of a joined host (winbind), on by default: lookups bounded
  // by the policy's deadline, answers cached. Its worker thread starts with
  // the first lookup, after fuse_daemonize.
  const MintingSettings& settings = policy.settings();
  std::unique_ptr<DeadlineDirectory> directory_client;
  std::unique_ptr<DirectoryCache> directory;
  std::optional<DirectoryDomain> joined_domain;
  if (settings.directory_enabled) {
    const std::chrono::milliseconds deadline(settings.directory_deadline_ms);
    directory_client = std::make_unique<DeadlineDirectory>(
        std::make_unique<WinbindDirectory>(), deadline);
    DirectoryCache::Options cache_options;
    cache_options.ttl_ns =
        uint64_t{settings.directory_cache_seconds} * 1000000000;
    cache_options.max_entries = settings.directory_cache_entries;
    directory = std::make_unique<DirectoryCache>(*directory_client, clock,
                                                 cache_options);
    accounts.SetDirectory(directory.get());
    auto domain = ProbeDomain(deadline);
    if (domain) {
      joined_domain = *domain;
      LogInfo("directory: joined to domain " + domain->name + " (" +
              domain->sid.ToString() +
              "); directory users get their domain identity");
    } else {
      LogInfo("directory: no domain (" + domain.error().message +
              "); identities are local until winbind answers");
    }
  }
  LuidAllocator ids(store->first_id(), *store);
  ProcProcessSource source;
  PolicyMinter minter(policy, ids, clock, accounts, directory.get());
  // Outlives the registry, whose change observer kicks it, and the
  // filesystem, whose open files wait in it.
  Pollers pollers;
  // Likewise: the change observer kicks its notifier, and the filesystem
  // asks it to drop an inode's cached attributes.
  KernelCache kernel_cache;
  Registry::Options registry_options;
  registry_options.object_quota_per_user = quota;
  registry_options.object_bytes_per_user = quota_bytes;
  registry_options.hooks.clock = &clock;
  registry_options.hooks.history_limit = history;
  registry_options.hooks.on_change = [&pollers, &kernel_cache] {
    pollers.Kick();
    kernel_cache.Kick();
  };
  Registry registry(source, minter, ids, registry_options, store.get());
  ProcessEventWatcher events(registry);
  TokenFilesystem::Options filesystem_options;
  filesystem_options.mount_point = mount_point;
  filesystem_options.max_read = std::get<uint32_t>(max_read);
  filesystem_options.journal = store.get();
  filesystem_options.pollers = &pollers;
  filesystem_options.kernel_cache = &kernel_cache;
  // The policy's domain_sid, else the joined domain's, else the one this
  // host generated.
  filesystem_options.domain_sid = policy.settings().domain_sid.value_or(
      joined_domain ? joined_domain->sid : store->machine_domain_sid());
  TokenFilesystem filesystem(registry, source, events, ids, clock, accounts,
                             filesystem_options);

  std::string options = "fsname=tokenfs,subtype=tokenfs";
  if (::geteuid() == 0) options += ",allow_other";
  for (const std::string& option : mount_options) {
    if (option.rfind("max_read=", 0) != 0) options += "," + option;
  }
  // libfuse insists that the mount option and init() agree.
  options += ",max_read=" + std::to_string(filesystem_options.max_read);
  std::vector<std::string> fuse_argv_storage = {"tokenfs", "-o", options};
  if (debug) fuse_argv_storage.push_back("-d");
  std::vector<char*> fuse_argv;
  for (std::string& argument : fuse_argv_storage) {
    fuse_argv.push_back(argument.data());
  }
  fuse_args args =
      FUSE_ARGS_INIT(static_cast<int>(fuse_argv.size()), fuse_argv.data());
  fuse_session* session =
      fuse_session_new(&args, &TokenFilesystem::Operations(),
                       sizeof(fuse_lowlevel_ops), &filesystem);
  // From here on, leaving Run tears the registry down: its teardown must
  // not reach the store (a restart restores what is recorded).
  struct SealOnExit {
    StateStore& store;
    ~SealOnExit() { store.Seal(); }
  } seal_on_exit{*store};
  if (!session) {
    std::cerr
        << "tokenfs: could not create the FUSE session (bad -o option?)\n";
    return 1;
  }
  if (fuse_set_signal_handlers(session) != 0) {
    std::cerr << "tokenfs: could not install signal handlers\n";
    fuse_session_destroy(session);
    return 1;
  }
  if (fuse_session_mount(session, mount_point.c_str()) != 0) {
    std::cerr << "tokenfs: could not mount on " << mount_point
              << " (is /dev/fuse usable? are you root?)\n";
    fuse_remove_signal_handlers(session);
    fuse_session_destroy(session);
    return 1;
  }
  // Threads die at fork, so daemonize before starting any.
  if (fuse_daemonize(foreground) != 0) {
    fuse_session_unmount(session);
    fuse_remove_signal_handlers(session);
    fuse_session_destroy(session);
    return 1;
  }
  // A failed commit: every later write would fail too, and the tokens in
  // memory are ahead of what a restart restores. Stop; the restart
  // recovers the last durable state, all any caller was told succeeded.
  static std::atomic<bool> store_failed{false};
  store->SetFailureHandler([](const std::string& error) {
    LogError("state store failed (" + error +
             "); stopping so that a restart recovers the last durable state");
    store_failed = true;
    ::kill(::getpid(), SIGTERM);
  });
  store->Start();
  if (cleared_stale_mount) {
    LogWarning("detached the stale tokenfs mount on " + mount_point +
               " left by a daemon that did not stop cleanly");
  }
  const std::string boot_id = CurrentBootId();
  const Registry::RestoreReport restored =
      registry.Restore(store->loaded(), boot_id);
  store->ReleaseLoaded();
  store->SetBootId(boot_id);
  if (Status flushed = store->Flush(); !flushed) {
    LogError(flushed.error().message);
    fuse_session_unmount(session);
    fuse_remove_signal_handlers(session);
    fuse_session_destroy(session);
    return 1;
  }
  if (store->discarded()) {
    LogWarning("state store " + store->path() +
               " discarded (--discard-state): every token starts afresh");
  }
  if (restored.other_boot) {
    LogInfo("state store " + store->path() +
            " is from another boot: its tokens were dropped");
  } else {
    LogInfo("state store " + store->path() + ": restored " +
            std::to_string(restored.processes) + " processes, " +
            std::to_string(restored.threads) + " impersonating threads, " +
            std::to_string(restored.objects) + " token objects; " +
            std::to_string(restored.gone) + " records of ended tasks dropped" +
            (restored.missed_execs
                 ? ", " + std::to_string(restored.missed_execs) +
                       " execs missed while down applied"
                 : "") +
            (restored.reminted ? ", " + std::to_string(restored.reminted) +
                                     " tokens minted afresh for changed "
                                     "credentials"
                               : "") +
            (restored.narrowed ? ", " + std::to_string(restored.narrowed) +
                                     " tokens narrowed to narrowed "
                                     "credentials"
                               : "") +
            (restored.dangling ? ", " + std::to_string(restored.dangling) +
                                     " records naming missing tokens dropped"
                               : ""));
  }
  kernel_cache.Start(session, [&filesystem] { return filesystem.StaleInodes(); });
  if (auto started = events.Start(); !started) {
    LogWarning("process events unavailable (" + started.error().message +
               "); validating every lookup against /proc instead");
  } else if (restored.processes != 0) {
    // Between the restore and the subscription nothing reported exits,
    // execs or setuid calls: re-read every restored process once.
    registry.Revalidate();
  }
  LogInfo(std::string("tokenfs ") + kVersion + " mounted on " + mount_point +
          " (pid " + std::to_string(::getpid()) + ", process events " +
          (events.running() ? "live" : "unavailable") + ")");

  NotifyReadyWhenServing(mount_point);
  int status = 0;
  if (threads == 1) {
    status = fuse_session_loop(session);
  } else if (loop_kind == "reader") {
    WorkerPoolOptions pool;
    pool.max_threads = threads;
    pool.idle_threads =
        idle_threads != 0 ? std::min(idle_threads, threads) : threads;
    status = RunWorkerPool(session, pool);
  } else {
    fuse_loop_config* loop = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(loop, threads);
    fuse_loop_cfg_set_idle_threads(
        loop, idle_threads != 0 ? std::min(idle_threads, threads) : threads);
    fuse_loop_cfg_set_clone_fd(loop, clone_fd ? 1 : 0);
    status = fuse_session_loop_mt(session, loop);
    fuse_loop_cfg_destroy(loop);
  }

  ::sd_notify(0, "STOPPING=1");
  // A notifier stuck in the kernel (a page lock held by a READ the stopped
  // loop will never answer) is left behind with the session, which it may
  // still use; the process is about to exit.
  const bool notifier_ended = kernel_cache.Stop();
  events.Stop();
  store->Seal();
  fuse_session_unmount(session);
  fuse_remove_signal_handlers(session);
  if (notifier_ended) {
    fuse_session_destroy(session);
  } else {
    LogWarning("the page cache notifier did not stop; leaving it behind");
  }
  LogInfo("unmounted " + mount_point);
  // The loop returns the signal number when a signal ended it: a requested
  // stop, not a failure.
  const bool stopped_by_signal =
      status == SIGINT || status == SIGTERM || status == SIGHUP;
  if (store_failed) return 1;
  return status == 0 || stopped_by_signal ? 0 : 1;
}

}  // namespace
}  // namespace tokenfs

int main(int argc, char** argv) {
  // Any user can make the daemon render large texts; glibc keeps what each
  // of its per-thread arenas freed, so with one arena per worker thread
  // the same user's load left up to 16 copies of that peak resident (an
  // open-file flood: 58 MiB with the default, 40 MiB with two arenas).
  // Small allocations stay per thread (tcache).
  mallopt(M_ARENA_MAX, 2);
  // Bursts (10,000 exits at once queue 10,000 store changes) need large
  // buffers for a moment. glibc raises its mmap threshold each time such a
  // buffer is freed, so the next burst's buffers come from the heap and
  // stay resident after it; a fixed threshold keeps them mapped and
  // returns them when freed.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  try {
    return tokenfs::Run(argc, argv);
  } catch (const std::exception& exception) {
    std::cerr << "tokenfs: " << exception.what() << "\n";
    return 1;
  }
}
