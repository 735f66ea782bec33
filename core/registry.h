// Registry: which process, thread and token object holds which token, and
// for how long.
//
// tokenfs is the authority for tokens; Linux is the authority for
// credentials. The registry keeps, for every process it has seen, the
// process's primary token object, keyed by (pid, start time) so a reused pid
// never inherits a stranger's token; for threads that impersonate, their
// impersonation token object; and the token objects made by duplicate,
// restrict and create (listed under /tokens/objects/).
//
// How entries come and go:
//   - fork (OnFork): the child gets a copy of the parent's primary token (a
//     new token object with a new token id), never its impersonation; the
//     parent is minted first if the registry has not seen it, so the child
//     always inherits the parent's token as it was at fork time. The copy is
//     made lazily: the fork only notes the child as pending (the parent's
//     token snapshot, credentials and set-ID origin at fork; no /proc read,
//     no token object, nothing journaled), and the child's token object is
//     made from that note when something first needs it: a lookup, an exec,
//     a credential change, its own threads' exit, or a change to the token
//     it was forked from (see "Pending children" below). A child that exits
//     unseen, as most in a fork storm do, costs two map operations;
//   - exec (OnExec): impersonation is dropped; a process that asked to
//     adopt a token at exec (impersonate -- cmd) gets it; otherwise a
//     change of credentials is applied by FollowCredentials;
//   - uid/gid change without exec (OnCredentialsChanged): the credentials
//     of the thread that changed them are applied by FollowCredentials (a
//     pending adoption still takes over at exec);
//   - exit (OnExit): the entry and its references go;
//   - first sight of a process without an event (started before the daemon,
//     or events lost): inherit from a known parent, as FollowCredentials
//     applies the change from the parent's credentials to the child's.
//     Without live events every lookup re-reads the process (start time and
//     credentials, applying a change) and Sweep() drops entries of exited
//     processes.
//
// A change of credentials (core/credential_change.h) that gives a new
// identity (uids, gids, groups, gained capabilities) mints afresh: Linux
// decided who the process is. One that only narrows (no_new_privs, dropped
// capabilities, a new user namespace) keeps the held token, narrowed: no
// process can buy a fresh, wider token with a change it may make unprivileged.
//
// Token objects are shared, mutable slots: all readers take the current
// immutable Token snapshot; a change builds a new Token and swaps it in under
// the object's lock, so every thread and path sharing the object sees it.
//
// Pending children. A pending child is exactly what its parent's token was
// at fork, and a restart must not give it anything wider (core/state_journal
// .h): a restarted registry sees an unrecorded process as a child of its
// nearest recorded ancestor (MakeEntry), which is right only while that
// ancestor still holds the snapshot and credentials the child was forked
// with. So before the token object a pending child was forked from changes
// (TokenObject::Update, through TokenObjectHooks::before_update), before the
// parent's credentials or primary token are replaced (exec, a credential
// change, an install) and before the parent's entry goes (exit), the
// registry makes and records the pending children's token objects first.
// After lost events (Revalidate) pending notes are dropped: those children
// are then seen as on first sight.
//
// Durability: with a StateJournal (core/state_journal.h) every change to
// the maps and every token snapshot is recorded, in order, under the lock
// that orders it; Restore() rebuilds the registry from what a journal held
// at start-up (see there for the rules that keep a restart from widening a
// token).
//
// Locks: Registry::mutex_ guards the maps; TokenObject::mutex_ guards one
// object's token. Order: Registry::mutex_, then TokenObject::mutex_; a token
// object never calls into the registry. No lock is held while the
// ProcessSource reads /proc or while the minter runs.
//
// Thread-safety: every public method may be called from any thread.
#ifndef TOKENFS_CORE_REGISTRY_H_
#define TOKENFS_CORE_REGISTRY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/credential_change.h"
#include "core/luid.h"
#include "core/minting_policy.h"
#include "core/result.h"
#include "core/token.h"
#include "core/token_history.h"

namespace tokenfs {

// Which incarnation of a task id: its start time (clock ticks since boot,
// /proc/<pid>/stat field 22) and, where the kernel has pidfs (Linux 6.9+),
// the inode number of a pidfd on it, which is unique for the system's
// lifetime. Two tasks that took the same id within one clock tick differ
// only in `instance`; without pidfs `instance` is 0 and the start time alone
// tells them apart (so a pid reused within one tick is not detected there).
struct TaskIncarnation {
  uint64_t start_time = 0;
  uint64_t instance = 0;
  friend bool operator==(const TaskIncarnation&,
                         const TaskIncarnation&) = default;
};

// A process incarnation: its pid and the incarnation of its leader.
struct ProcessKey {
  int32_t pid = 0;
  uint64_t start_time = 0;
  uint64_t instance = 0;
  TaskIncarnation incarnation() const { return {start_time, instance}; }
  friend bool operator==(const ProcessKey&, const ProcessKey&) = default;
};

// What the OS says about one task (a process or one of its threads).
struct TaskInfo {
  int32_t tid = 0;
  int32_t tgid = 0;                // the process the task belongs to
  int32_t ppid = 0;                // parent of the process
  uint64_t start_time = 0;         // of the process (its thread group leader)
  uint64_t thread_start_time = 0;  // of this task
  uint64_t instance = 0;           // of the process (see TaskIncarnation)
  uint64_t thread_instance = 0;    // of this task
  // The process group and session of the process (inherited at fork and
  // kept when the parent ends); 0 when unknown.
  int32_t process_group = 0;
  int32_t session = 0;
  LinuxCredentials credentials;

  ProcessKey process_key() const { return {tgid, start_time, instance}; }
  TaskIncarnation thread_incarnation() const {
    return {thread_start_time, thread_instance};
  }
};

// OS access for the registry. The daemon reads /proc (status, stat and task
// lists only: files that never block on a process stuck in a FUSE request);
// tests use an in-memory fake.
class ProcessSource {
 public:
  virtual ~ProcessSource() = default;
  // The task `tid`; kNotFound when it does not exist (any more).
  virtual Result<TaskInfo> ReadTask(int32_t tid) const = 0;
  // The incarnation of task `tid` (cheaper than ReadTask); kNotFound when
  // gone.
  virtual Result<TaskIncarnation> Incarnation(int32_t tid) const = 0;
  // Every process id (thread group leaders) that exists now.
  virtual std::vector<int32_t> ListProcesses() const = 0;
  // The thread ids of process `pid`; empty when it is gone.
  virtual std::vector<int32_t> ListThreads(int32_t pid) const = 0;
  // A value that changes when process `pid` runs a new program (exec): the
  // daemon reads the kernel's randomized layout of the program image. 0
  // when unknown, including when the layout is not randomized (then
  // Restore takes an exec to have happened wherever one would matter).
  virtual uint64_t ExecMark(int32_t /*pid*/) const { return 0; }
};

class StateJournal;
struct StoredState;
class Clock;
class TokenObject;

// What every token object of a registry shares: the clock history events
// are stamped with (none: time 0), the bound of each object's history, and
// the observer told after any change a reader could notice (a new token
// snapshot, a link, a history event, a process's token replaced, an object
// revoked). `on_change` is called with no token object's lock held but
// possibly with the registry's: it must not call into the registry or a
// token object (tokenfs only wakes its pollers).
struct TokenObjectHooks {
  const Clock* clock = nullptr;
  size_t history_limit = kDefaultHistoryLimit;
  std::function<void()> on_change;
  // Called by TokenObject::Update, with no lock held, before the token
  // changes and once more after, when pending children were forked from
  // the object (TokenObject::pending_children): the registry makes their
  // own token objects from the snapshot they were forked with. Set by the
  // registry itself; it may call into the registry, never into the object.
  std::function<void(const TokenObject&)> before_update;
};

// Builds the token of a process the registry has not seen.
class TokenMinter {
 public:
  virtual ~TokenMinter() = default;
  virtual Result<MintedIdentity> Mint(const LinuxCredentials& credentials) = 0;
};

// A token with identity: what a /tokens directory names. The token inside is
// replaced, never modified. Every token an object holds has its own SD
// labelled at (or below) its integrity (LabelTokenSecurity).
class TokenObject {
 public:
  // With a journal, every snapshot the object publishes (here, Update,
  // MarkPrivilegesUsed, the Link calls) is recorded, and the destructor
  // records its end.
  // `hooks` (may be null: no clock, the default history bound, nobody
  // told) must outlive the object.
  explicit TokenObject(Token token, StateJournal* journal = nullptr,
                       const TokenObjectHooks* hooks = nullptr);
  ~TokenObject();
  TokenObject(const TokenObject&) = delete;
  TokenObject& operator=(const TokenObject&) = delete;

  // The token id, fixed for the object's life (adjustments keep it).
  Luid id() const { return id_; }

  // The current token.
  std::shared_ptr<const Token> Get() const;

  // Applies `change` atomically: it receives the current token and returns
  // its replacement, or an error, in which case nothing changes. The
  // replacement is labelled (LabelTokenSecurity) and must then pass
  // ValidateToken, else its error is returned and nothing changes. Returns
  // the new token. `change` must not call into this object or the registry.
  Result<std::shared_ptr<const Token>> Update(
      const std::function<Result<Token>(const Token&)>& change);

  // Sets the used bits of `privileges` that are present (monotonic; does not
  // bump the modified id).
  void MarkPrivilegesUsed(uint64_t privileges);

  // A number that grows with every change of the token a reader could see
  // (Update, the Link calls, MarkChanged), not with MarkPrivilegesUsed:
  // what a file's poller compares with what it saw at open. Lock-free.
  uint64_t changes() const { return changes_.load(std::memory_order_acquire); }
  // Counts a change that is not a new snapshot (the object was revoked)
  // and tells the observer.
  void MarkChanged();

  // Pending children (Registry) forked from this object and not yet given
  // token objects of their own. Kept by the registry under its lock;
  // read lock-free by Update.
  uint32_t pending_children() const {
    return pending_children_.load(std::memory_order_acquire);
  }
  void AddPendingChild() {
    pending_children_.fetch_add(1, std::memory_order_acq_rel);
  }
  void DropPendingChild() {
    pending_children_.fetch_sub(1, std::memory_order_acq_rel);
  }

  // History (core/token_history.h). Record stamps `event` with the hooks'
  // clock when its time is 0, appends it, journals it (StateJournal::
  // RecordHistory) and tells the observer.
  void Record(HistoryEvent event);
  std::vector<HistoryEvent> History() const { return history_.Events(); }
  uint64_t history_seq() const { return history_.last_seq(); }
  size_t history_limit() const { return history_.limit(); }
  // Puts back the events a store kept (Registry::Restore).
  void RestoreHistory(std::vector<HistoryEvent> events) {
    history_.Restore(std::move(events));
  }

  // Elevation link. The Limited half owns its Full partner (keeps it alive);
  // the Full half refers back weakly.
  void LinkOwning(std::shared_ptr<TokenObject> partner);
  void LinkWeak(const std::shared_ptr<TokenObject>& partner);
  // The partner while it lives; nullptr otherwise.
  std::shared_ptr<TokenObject> LinkedPartner() const;

 private:
  void RecordLocked();  // REQUIRES: mutex_ held
  Result<std::shared_ptr<const Token>> UpdateLocked(
      const std::function<Result<Token>(const Token&)>& change);
  void Notify() const;  // REQUIRES: mutex_ not held

  const Luid id_;
  StateJournal* const journal_;
  const TokenObjectHooks* const hooks_;
  std::atomic<uint64_t> changes_{0};
  std::atomic<uint32_t> pending_children_{0};
  TokenHistory history_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Token> token_;          // guarded by mutex_
  std::shared_ptr<TokenObject> owned_partner_;  // guarded by mutex_
  std::weak_ptr<TokenObject> weak_partner_;     // guarded by mutex_
};

using TokenObjectPtr = std::shared_ptr<TokenObject>;

// Names one token snapshot that a TokenObject published (at construction,
// Update or MarkPrivilegesUsed) for the life of the process: serials count
// up from 1 and are never reused, even when a freed snapshot's memory is, so
// a cache can key by the serial without holding on to the token. 0 for a
// token that no TokenObject published.
uint64_t SnapshotSerial(const std::shared_ptr<const Token>& token);

class Registry {
 public:
  struct Options {
    // Objects one Linux user may hold, and their total size in bytes
    // (ApproximateTokenBytes): a count alone would let one user hold 1024
    // tokens of the largest size a command can describe.
    size_t object_quota_per_user = 1024;
    size_t object_bytes_per_user = 16 << 20;
    // Without live events, Sweep() runs when this many entries were added
    // since the last one.
    size_t sweep_after_inserts = 256;
    // Shared by every token object the registry makes (clock, history
    // bound, change observer); see TokenObjectHooks.
    TokenObjectHooks hooks;
  };

  // A process as the registry records it.
  struct ProcessView {
    ProcessKey key;
    int32_t ppid = 0;
    LinuxCredentials credentials;  // recorded at mint/inherit/exec
    TokenObjectPtr primary;
  };
  // A thread: its process and its effective token.
  struct ThreadView {
    ProcessKey process;
    int32_t tid = 0;
    TokenObjectPtr primary;
    TokenObjectPtr impersonation;  // nullptr when not impersonating
    TokenObjectPtr effective() const {
      return impersonation ? impersonation : primary;
    }
  };

  struct Stats {
    size_t processes = 0;  // with token objects, and pending (below)
    size_t pending = 0;    // forked children not yet given a token object
    size_t threads = 0;  // thread entries (tid cache + impersonation)
    size_t impersonating = 0;
    size_t objects = 0;
    uint64_t minted = 0;
    uint64_t inherited = 0;
    uint64_t reminted = 0;
    uint64_t narrowed = 0;
    uint64_t sweeps = 0;
    bool events_live = false;
  };

  struct ObjectInfo {
    Luid id;
    // The process whose life keeps the object (its creator, or the holder
    // it was handed to) and the Linux user it counts against.
    ProcessKey creator;
    uint32_t creator_uid = 0;
    uint32_t creator_gid = 0;
    bool persist = false;
    size_t bytes = 0;  // ApproximateTokenBytes at creation
    // The token this object was derived from (its token id: a process's,
    // a thread's or another object's) and how: "duplicate", "restrict", or
    // "" when it was not derived (create, the Full half of a minted pair).
    // The objects form a tree by it (subtokens); revoking an object revokes
    // its subtree.
    Luid derived_from;
    std::string derivation;
    // Labels (core/tag.h): canonical, sorted, no repeats.
    std::vector<std::string> tags;
    friend bool operator==(const ObjectInfo&, const ObjectInfo&) = default;
  };
  // How a new object came to be (AddObject).
  struct Derivation {
    Luid from;  // the source token's id; 0: not derived
    std::string how;
  };

  // What Restore() did, for the start-up log.
  struct RestoreReport {
    bool other_boot = false;  // the records were from another boot: dropped
    size_t processes = 0;     // restored
    size_t threads = 0;
    size_t objects = 0;
    size_t gone = 0;          // records of processes and threads that ended
    size_t missed_execs = 0;  // exec rules applied to execs missed while down
    size_t reminted = 0;      // credentials changed while down: new identity
    size_t narrowed = 0;      // credentials narrowed while down
    size_t dangling = 0;      // records naming a token the store lacks
  };

  // `journal` (may be null) records every change; see core/state_journal.h.
  Registry(const ProcessSource& source, TokenMinter& minter, LuidAllocator& ids,
           Options options, StateJournal* journal = nullptr);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // --- Restart ---
  // Rebuilds the registry, which must be empty, from `state`, what the
  // journal held at start-up, for the boot `boot_id`. Rules (none of them
  // can make a token wider than it was when recorded):
  //   - records from another boot are discarded (forgotten in the journal);
  //   - a process record counts only while a process with its pid, start
  //     time and instance lives; others are forgotten;
  //   - credentials that changed while the daemon was down are applied as a
  //     live change would be (FollowCredentials), and an exec missed while
  //     down (ExecMark changed, or unknown where an adoption is pending or
  //     the main thread impersonates) as a live exec would be:
  //     impersonation ends, a pending adoption is taken;
  //   - impersonating threads come back while the same thread lives;
  //   - token objects come back with their ids while their holder lives,
  //     something refers to them or they are persistent;
  //   - a process the records do not know is seen as on first sight, which
  //     inherits from its nearest known ancestor (see MakeEntry), so a child
  //     forked while the daemon was down gets its parent's token.
  RestoreReport Restore(const StoredState& state, const std::string& boot_id);

  // A token object of this registry's journal (tokens made outside the
  // registry, before they are handed to Impersonate or AddObject).
  TokenObjectPtr NewObject(Token token);

  // --- Process events (from the kernel's proc connector) ---
  void OnFork(int32_t parent_tgid, int32_t child_tid, int32_t child_tgid);
  void OnExec(int32_t tgid);
  void OnCredentialsChanged(int32_t tid, int32_t tgid);
  void OnExit(int32_t tid, int32_t tgid);
  // True when every fork/exec/exit is reported through the events above;
  // false makes every lookup validate start times against the source.
  void SetEventsLive(bool live);
  bool events_live() const;
  // Drops entries of processes and threads that no longer exist (after lost
  // events, and periodically without live events).
  void Sweep();
  // Drops processes whose leader exited while other threads ran and which
  // have ended since (their last thread's exit event cannot tell reliably);
  // cheap when there are none. The event watcher calls it periodically.
  void ReapExited();
  // After lost events: re-reads every known process, drops the gone and
  // remints those whose credentials changed unseen, then sweeps.
  void Revalidate();

  // --- Lookups (create entries on first sight) ---
  // The process `pid`; kNotFound when no such process (or `pid` is a thread
  // that is not a process leader).
  Result<ProcessView> Process(int32_t pid);
  // Thread `tid` of process `pid`; kNotFound when it is not a thread of it.
  Result<ThreadView> Thread(int32_t pid, int32_t tid);
  // The thread `tid` whatever its process (FUSE callers are thread ids).
  Result<ThreadView> Task(int32_t tid);
  // The process the registry believes task `tid` belongs to, without asking
  // the OS; 0 when it does not know.
  int32_t CachedProcessOf(int32_t tid) const;

  // --- Changes ---
  // Makes thread `tid` of `pid` impersonate `token` (replacing any earlier
  // impersonation). With `adopt_at_exec` (a primary token, may be null), the
  // next exec of the process makes it the process's primary token: the way
  // `token impersonate -- command` runs a command under a token.
  Status Impersonate(int32_t pid, int32_t tid, TokenObjectPtr token,
                     TokenObjectPtr adopt_at_exec);
  // Ends the impersonation of thread `tid` (no-op when none).
  Status Revert(int32_t pid, int32_t tid);
  // Makes `token` the primary token of `pid`. Impersonating threads keep
  // their impersonation.
  Status InstallPrimary(int32_t pid, TokenObjectPtr token);

  // --- Token objects (/tokens/objects/<id>) ---
  // Adds a new object made by `creator` (a process of Linux user
  // `creator_uid`). kResourceExhausted when that user holds the quota
  // (count or bytes).
  Result<TokenObjectPtr> AddObject(Token token, const ProcessKey& creator,
                                   uint32_t creator_uid, bool persist,
                                   uint32_t creator_gid = 0,
                                   Derivation derivation = {});
  Result<TokenObjectPtr> FindObject(Luid id) const;
  Result<ObjectInfo> ObjectDetails(Luid id) const;
  // Registers an existing object (the Full half of a minted elevation
  // pair) so it can be reached under /tokens/objects; no quota applies.
  void AddExistingObject(TokenObjectPtr object, const ProcessKey& creator,
                         uint32_t creator_uid);
  // Keeps the object until it is revoked (or not).
  Status SetPersist(Luid id, bool persist);
  // Hands the object's lifetime to another process (`token` acts for the
  // process that ran it, so objects it derives live as long as that one).
  Status SetHolder(Luid id, const ProcessKey& holder);
  // The pid of a process, other than `except_pid`, whose primary token is
  // `object`; 0 when none. A token is primary for one process at a time.
  int32_t PrimaryUser(const TokenObjectPtr& object, int32_t except_pid) const;
  // Revokes an object and its whole subtree: every object derived from it,
  // directly or through other objects (ObjectInfo::derived_from), so no
  // object outlives the one that authorised it. Each ends as one object
  // would: it leaves /tokens/objects and the journal (a restart does not
  // bring it back); a process or thread that holds one as its primary or
  // impersonation token keeps its reference, as it kept any revoked
  // object's. Returns the revoked ids, `id` first, then by id.
  // With `why`, each revoked object's history records it: `why` itself
  // on `id`, and on the rest of the subtree the same event naming `id` as
  // its token and "with_ancestor" as its operation.
  Result<std::vector<Luid>> RemoveObject(Luid id,
                                         const HistoryEvent* why = nullptr);
  // The objects derived directly from token `parent`, by id.
  std::vector<ObjectInfo> ObjectChildren(Luid parent) const;
  // Applies `change` to the object's tags (it gets the current tags and
  // returns the new ones, or an error, and then nothing changes) and
  // records them. kNotFound for no such object.
  Result<std::vector<std::string>> UpdateTags(
      Luid id, const std::function<Result<std::vector<std::string>>(
                   const std::vector<std::string>&)>& change);
  // Drops objects that nothing uses any more (see the lifetime rule in
  // the header comment): not persistent, creator gone, no other reference
  // and no object derived from them.
  void ReleaseUnused();
  std::vector<Luid> ListObjects() const;

  // Finds a token object by token id among processes, threads and objects.
  TokenObjectPtr FindTokenById(Luid id) const;

  // The logon type of logon session `session` when some token tokenfs
  // holds belongs to it (its auth_id), or it is a well-known session (SYSTEM
  // 0 and 0x3e7: Service; anonymous 0x3e6: Network); nullopt otherwise.
  // Token creation must name an existing session.
  std::optional<LogonType> SessionLogonType(Luid session) const;

  Stats GetStats() const;

 private:
  struct ProcessEntry {
    ProcessKey key;
    int32_t ppid = 0;
    LinuxCredentials credentials;
    TokenObjectPtr primary;
    TokenObjectPtr adopt_at_exec;  // set by Impersonate; used at exec
    uint64_t exec_mark = 0;        // see ProcessRecord::exec_mark
    // Set when a change kept the real uid but gave the process a new
    // identity (a set-user-ID or set-group-ID program, a root process's
    // seteuid): the token and credentials it had before. Inherited at fork.
    // When the credentials come back within those ids (the program hands
    // the user back a shell: newgrp, sg, crontab's editor; seteuid back),
    // the process gets a narrowed copy of this token, not a fresh one, and
    // the origin is spent (KeepOrigin).
    TokenObjectPtr origin;
    LinuxCredentials origin_credentials;
  };
  struct ThreadEntry {
    int32_t tgid = 0;
    TaskIncarnation incarnation;   // start time 0: unknown (a fork event)
    TokenObjectPtr impersonation;  // nullptr: only caches tid -> tgid
    // The adoption this impersonation registered, so Revert can cancel it.
    TokenObjectPtr adopt_at_exec;
  };
  struct ObjectEntry {
    TokenObjectPtr object;
    ObjectInfo info;
  };
  // A process whose fork was reported and that nothing has looked at since:
  // what its fork gave it, to make its token object from when needed.
  struct PendingChild {
    int32_t ppid = 0;
    std::shared_ptr<const Token> token;  // the parent's snapshot at fork
    // The object the snapshot came from (its pending_children counts this
    // entry; its elevation partner is the copy's). For a child of a pending
    // parent, that parent's source.
    TokenObjectPtr source;
    uint64_t source_id = 0;     // its token id, for the history event
    LinuxCredentials credentials;  // the parent's at fork
    TokenObjectPtr origin;         // the parent's set-ID origin at fork
    LinuxCredentials origin_credentials;
    uint64_t forked_ns = 0;  // when the fork was applied (hooks' clock)
    uint32_t children = 0;   // pending children whose ppid is this pid
    bool threaded = false;   // a thread of it was reported
  };
  using PendingMap = std::unordered_map<int32_t, PendingChild>;

  // Builds the entry of a process first seen now: inherit from its parent
  // (FollowCredentials), else mint. Reads the source and runs the minter;
  // call without mutex_.
  // A parent the registry does not know is looked up first (up to
  // `depth` ancestors), so the entry inherits from its nearest known
  // ancestor as if every fork had been seen. A process that was
  // re-parented inherits from its process group's leader, else its
  // session's leader, when one of them lives and is older: the nearest
  // ancestor Linux still shows (see LineageLeader).
  Result<ProcessEntry> MakeEntry(const TaskInfo& task, int depth);
  // Deeper than any real process tree; bounds the walk up unknown parents.
  static constexpr int kMaxAncestors = 256;
  // How often ApplyCredentials starts its follow again when the entry
  // changed under it, before it stores its last result anyway.
  static constexpr int kMaxFollowAttempts = 64;
  // The leader MakeEntry inherits from instead of a re-parented process's
  // parent, or nullopt. Re-parented: its session is neither its own nor
  // its parent's (it did not get it from the parent it has now; then the
  // group's leader, else the session's), or its session is its parent's
  // but its group, not its own, is led by a descendant of its parent (a
  // reaper sharing the session, such as pid 1 in session 0; then the
  // group's leader only).
  std::optional<ProcessView> LineageLeader(const TaskInfo& task, int depth);
  // Whether `ancestor` is a proper ancestor of `pid` by the source's parent
  // links, walking at most kMaxAncestors - depth steps.
  bool IsAncestor(int32_t ancestor, int32_t pid, int depth) const;
  Result<TokenObjectPtr> MintObject(const LinuxCredentials& credentials);
  Result<ProcessView> LookupProcess(int32_t pid, bool force_validation,
                                    int depth = 0);
  // Updates `entry`'s origin after its credentials went from `before` to
  // `after` while it held `held`: spent, or set for a new identity of the
  // same real user. REQUIRES mutex_ held (or `entry` not yet shared).
  static void KeepOrigin(ProcessEntry& entry, const TokenObjectPtr& held,
                         const LinuxCredentials& before,
                         const LinuxCredentials& after, CredentialChange change,
                         bool origin_spent);
  // Counts a primary token replaced by `change`; REQUIRES mutex_ held.
  void CountChangeLocked(CredentialChange change);
  // Journal helpers; REQUIRE mutex_ held (the journal's order is the maps').
  void RecordProcessLocked(const ProcessEntry& entry);
  void ForgetProcessLocked(const ProcessKey& key);
  void RecordThreadLocked(int32_t tid, const ThreadEntry& entry);
  void ForgetThreadLocked(int32_t tid, const ThreadEntry& entry);
  void RecordObjectLocked(const ObjectInfo& info);
  // Erases processes_ entry `it` and its threads, recording both.
  void EraseProcessLocked(
      std::unordered_map<int32_t, ProcessEntry>::iterator it);
  // Records `task`'s credentials on the entry `key`, applying a change with
  // FollowCredentials. Call without mutex_.
  Result<ProcessView> ApplyCredentials(const ProcessKey& key,
                                       const TaskInfo& task);
  // Tells the hooks' observer that what some path shows changed.
  void NotifyChange() const;
  // Records on `object` an event the process `actor_pid` caused with its
  // token `actor` (null: its user is unknown).
  static void RecordEvent(const TokenObjectPtr& object, HistoryKind kind,
                          int32_t actor_pid, const Token* actor,
                          uint64_t other = 0, std::string operation = {},
                          uint64_t time_ns = 0);
  void RegisterPartner(const TokenObjectPtr& object, const ProcessKey& process,
                       uint32_t uid);
  // A fork copy of `token`, a snapshot of `parent`: same contents, new
  // token id, in `parent`'s elevation pair.
  TokenObjectPtr CopyForFork(const Token& token, const TokenObject& parent);
  // Gives pending process `pid` its token object and entry, recorded, as
  // its fork would have; no-op when it is not pending. Call without mutex_.
  void MaterializePending(int32_t pid);
  // Materializes every pending child forked from `source` (the object's
  // snapshot, or a pending parent's) or whose ppid is `ppid` (0: none), so
  // that a change to their origin cannot reach them. Call without mutex_.
  void MaterializeChildrenOf(const TokenObject* source, int32_t ppid);
  // MaterializeChildrenOf for the children of process `pid`'s primary
  // token; cheap when it has none. Call without mutex_.
  void MaterializeChildrenOfProcess(int32_t pid);
  // Removes pending entry `it`, dropping the counts that name it.
  // REQUIRES mutex_ held.
  void ErasePendingLocked(PendingMap::iterator it);
  static Options WithOwnHooks(Options options, Registry* registry);
  // The token of a process (`key`) whose credentials went from `before` to
  // `after` while it held `held` (ClassifyCredentialChange): `held` itself
  // when nothing changed (a fork copy of it when `copy`), a fresh mint for
  // a new identity, a narrowed copy otherwise. A new elevation partner is
  // registered under `key`. Call without mutex_.
  // With an `origin` (ProcessEntry::origin) whose credentials `after`
  // stays within, the result is a copy of the origin narrowed to `after`
  // instead, and `origin_spent` is set.
  struct Followed {
    TokenObjectPtr object;
    CredentialChange change = CredentialChange::kNone;
    bool origin_spent = false;
  };
  Result<Followed> FollowCredentials(
      const TokenObjectPtr& held, const LinuxCredentials& before,
      const LinuxCredentials& after, const ProcessKey& key, bool copy,
      const TokenObjectPtr& origin = nullptr,
      const LinuxCredentials& origin_credentials = {});
  // True iff `entry` still names a live process (validates against the
  // source unless events are live). Call without mutex_.
  bool StillAlive(const ProcessKey& key) const;
  void MaybeSweepLocked();
  bool ProcessAliveLocked(const ProcessKey& key) const;

  const ProcessSource& source_;
  TokenMinter& minter_;
  LuidAllocator& ids_;
  const Options options_;
  StateJournal* const journal_;

  mutable std::mutex mutex_;
  std::unordered_map<int32_t, ProcessEntry> processes_;  // guarded by mutex_
  std::unordered_map<int32_t, ThreadEntry> threads_;     // guarded by mutex_
  std::unordered_map<uint64_t, ObjectEntry> objects_;    // guarded by mutex_
  PendingMap pending_;                                   // guarded by mutex_
  // Nodes of erased pending entries, reused by the next forks so that a
  // fork storm allocates nothing per event; guarded by mutex_.
  std::vector<PendingMap::node_type> spare_pending_;
  static constexpr size_t kMaxSparePending = 256;
  bool events_live_ = false;                             // guarded by mutex_
  size_t inserts_since_sweep_ = 0;                       // guarded by mutex_
  // Processes whose leader exited while other threads ran.
  std::vector<ProcessKey> exiting_;  // guarded by mutex_
  Stats counters_;                   // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_REGISTRY_H_
