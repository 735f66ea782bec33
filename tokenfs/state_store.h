// StateStore: the daemon's durable state, a SQLite database in WAL mode
// (DIR/state.db, DIR from --state, /var/lib/tokenfs by default).
//
// It is the registry's StateJournal and the id allocator's LuidReservations
// (core/state_journal.h, core/luid.h). Tables: tokens (one row per live
// token object: its full token record and elevation partner), processes
// (keyed by pid, with start time and instance, and the origin token a
// set-ID program will give back; schema 2, version 1 stores are upgraded
// in place), threads (impersonating
// ones), objects (/tokens/objects entries), and meta (boot id, the id
// reservation limit, the machine domain SID). PRAGMA application_id marks the file as ours and
// PRAGMA user_version is the schema version.
//
// Writes: Record*/Forget* append to an in-memory queue and return; one
// writer thread takes everything queued, applies it in one transaction and
// commits with synchronous=FULL (the WAL is fsynced), so concurrent writers
// share one fsync (group commit). Flush() waits until what was queued before
// it has committed. If a commit fails, the store stops accepting changes,
// every Flush fails, and the failure handler runs (the daemon logs and
// exits: a restart recovers the last durable state, which is all any caller
// was told succeeded). Nothing reads the database after Open.
//
// Open refuses, with a one-line message, a file that is not a tokenfs store,
// a newer schema, one that fails SQLite's quick_check or whose rows do not
// decode, one it cannot read or write, a store file that is a symbolic
// link, and a database that holds fewer commits than DIR/generation
// records (its write-ahead log was removed or damaged, or it was replaced
// by an older copy or truncated: SQLite would read any of these as a
// valid, older and possibly wider state). With `discard` it starts empty
// instead (keeping the id limit when it can read it, otherwise starting ids
// above the generation file's limit and a floor derived from the clock, so
// that no earlier id comes back).
//
// DIR/generation ("tokenfs-state COMMITS ID_LIMIT") is rewritten in place
// after every commit, and synced when the id limit moved; the database
// counts its commits in meta. A crash between the two leaves the file
// behind the database, never ahead of it.
//
// Thread-safety: every method may be called from any thread, with any
// caller locks held (Record*/Forget* never block on I/O). Seal() before
// destroying what records into the store: after it, records are ignored (a
// daemon's teardown must not forget what a restart should restore).
#ifndef TOKENFS_TOKENFS_STATE_STORE_H_
#define TOKENFS_TOKENFS_STATE_STORE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/luid.h"
#include "core/result.h"
#include "core/sid.h"
#include "core/state_journal.h"

struct sqlite3;

namespace tokenfs {

class StateStore : public StateJournal, public LuidReservations {
 public:
  // The first id any allocator of a brand-new store hands out.
  static constexpr uint64_t kFirstId = 0x10000;

  struct Statistics {
    uint64_t commits = 0;
    uint64_t changes = 0;  // records and forgets committed
  };

  // Opens (creating DIR and the database when missing), locks DIR against
  // a second daemon, and loads. The error message is one line naming the
  // file.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& directory,
                                                  bool discard);
  ~StateStore() override;
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // What the store held when it was opened (empty after a discard), and the
  // first id the allocator may hand out.
  const StoredState& loaded() const { return loaded_; }
  uint64_t first_id() const { return first_id_; }
  const std::string& path() const { return path_; }
  // True when Open discarded an unreadable store.
  bool discarded() const { return discarded_; }
  // The machine domain SID (S-1-5-21-a-b-c): made with random
  // sub-authorities the first time a store is opened, and kept in meta from
  // then on (also across --discard-state, which keeps the host's identity).
  const Sid& machine_domain_sid() const { return *domain_sid_; }

  // Starts the writer thread (after the daemon has forked into the
  // background: threads do not survive a fork). Until then Record*/Forget*
  // queue and Flush waits.
  void Start();
  // Records the boot the state belongs to (queued; durable with the next
  // Flush).
  void SetBootId(const std::string& boot_id);
  // Runs on the writer thread when a commit fails, with the message.
  void SetFailureHandler(std::function<void(const std::string&)> handler);
  // Frees loaded() (after the registry restored from it).
  void ReleaseLoaded() { loaded_ = StoredState{}; }

  // StateJournal.
  void RecordToken(std::shared_ptr<const Token> token, Luid partner,
                   bool owns_partner) override;
  void ForgetToken(Luid id) override;
  void RecordProcess(const ProcessRecord& process) override;
  void ForgetProcess(const ProcessKey& key) override;
  void RecordThread(const ThreadRecord& thread) override;
  void ForgetThread(int32_t tid, const TaskIncarnation& incarnation) override;
  void RecordObject(const ObjectRecord& object) override;
  void ForgetObject(Luid id) override;
  // Keeps the event (its JSON line); the store holds at most the history
  // bound (SetHistoryLimit) per token. Written behind: Flush does not wait
  // for it; it is committed within about a second, and at Seal, so a clean
  // stop keeps every event and a crash may lose the last second's.
  void RecordHistory(Luid id, const HistoryEvent& event) override;
  // The bound of each token's stored history (tokenfs --history); set
  // before Start.
  void SetHistoryLimit(size_t limit) { history_limit_ = limit; }
  Status Flush() override;

  // LuidReservations: records the limit and flushes.
  Status ReserveThrough(uint64_t limit) override;

  // Commits what is queued, stops the writer and ignores later records.
  void Seal();

  Statistics statistics() const;

 private:
  struct TokenPut {
    std::shared_ptr<const Token> token;
    Luid partner;
    bool owns = false;
  };
  struct TokenDrop {
    Luid id;
  };
  struct ProcessDrop {
    ProcessKey key;
  };
  struct ThreadDrop {
    int32_t tid;
    TaskIncarnation incarnation;
  };
  struct ObjectDrop {
    Luid id;
  };
  struct HistoryPut {
    Luid id;
    HistoryEvent event;  // stored as its JSON line
  };
  struct MetaPut {
    std::string key;
    std::string value;
  };
  // MetaPut stays last: Commit writes the commit count with its statement.
  using Change =
      std::variant<TokenPut, TokenDrop, ProcessRecord, ProcessDrop,
                   ThreadRecord, ThreadDrop, ObjectRecord, ObjectDrop,
                   HistoryPut, MetaPut>;

  StateStore() = default;
  Status Load();
  // Rewrites DIR/generation (commits_, id_limit_), fdatasync'ed when
  // `sync`; "" or the error.
  std::string WriteGeneration(bool sync);
  void Enqueue(Change change);
  void WriterLoop();
  // Applies `batch` in one transaction; "" or the error.
  std::string Commit(const std::vector<Change>& batch);

  std::string path_;
  size_t history_limit_ = kDefaultHistoryLimit;
  sqlite3* db_ = nullptr;
  StoredState loaded_;
  uint64_t first_id_ = kFirstId;
  bool discarded_ = false;
  std::optional<Sid> domain_sid_;  // set by Open
  int lock_fd_ = -1;        // flock(2)ed DIR itself: one daemon per store
  int generation_fd_ = -1;  // DIR/generation
  // Commits made to the database so far and the durable id limit: set by
  // Open, then the writer thread's alone.
  uint64_t commits_ = 0;
  uint64_t id_limit_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable queued_;     // writer waits for changes
  std::condition_variable committed_;  // Flush waits for commits
  std::vector<Change> queue_;          // guarded by mutex_
  // HistoryPut records, written behind (not waited for by Flush): they
  // join a commit once kHistoryDelay has passed since the oldest, or at
  // Seal, so history never enlarges the commit a write waits for.
  std::vector<Change> history_queue_;                  // guarded by mutex_
  std::chrono::steady_clock::time_point history_due_;  // guarded by mutex_
  static constexpr std::chrono::milliseconds kHistoryDelay{1000};
  uint64_t enqueued_ = 0;              // guarded by mutex_
  uint64_t durable_ = 0;               // guarded by mutex_
  bool stopping_ = false;              // guarded by mutex_
  bool sealed_ = false;                // guarded by mutex_
  std::string failure_;                // guarded by mutex_; "" while healthy
  Statistics statistics_;              // guarded by mutex_
  std::function<void(const std::string&)> on_failure_;  // guarded by mutex_
  std::thread writer_;
};

// The kernel's id of this boot (/proc/sys/kernel/random/boot_id); "" when
// unreadable.
std::string CurrentBootId();

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_STATE_STORE_H_
