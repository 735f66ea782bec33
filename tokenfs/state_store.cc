#include "tokenfs/state_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>

#include "core/number.h"
#include "core/token_record.h"
#include "core/well_known_sids.h"
#include "tokenfs/worker_pool.h"

namespace tokenfs {
namespace {

// 'Tkfs': marks the database as a tokenfs state store.
constexpr int kApplicationId = 0x546b6673;
// 2: processes.origin and processes.origin_credentials; 3:
// objects.derived_from, objects.derivation and objects.tags (one tag per
// line), and the history table. Older stores are upgraded in place when
// opened.
constexpr int kSchemaVersion = 3;

// The ALTERs that bring objects from schema 2 to 3.
constexpr const char* kObjectsV3 =
    "ALTER TABLE objects ADD COLUMN derived_from INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE objects ADD COLUMN derivation TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE objects ADD COLUMN tags TEXT NOT NULL DEFAULT '';";

// Each token's history events (core/token_history.h JSON lines), at most
// `keep` (the daemon's --history) per token: the insert trigger drops older
// ones, and a token's events go with its row (the delete trigger; INSERT OR
// REPLACE on tokens fires no delete trigger without recursive_triggers).
constexpr const char* kHistorySchema = R"sql(
CREATE TABLE history(token INTEGER NOT NULL, seq INTEGER NOT NULL,
                     keep INTEGER NOT NULL, event TEXT NOT NULL,
                     PRIMARY KEY(token, seq));
CREATE TRIGGER history_bound AFTER INSERT ON history BEGIN
  DELETE FROM history WHERE token = NEW.token AND seq <= NEW.seq - NEW.keep;
END;
CREATE TRIGGER history_with_token AFTER DELETE ON tokens BEGIN
  DELETE FROM history WHERE token = OLD.id;
END;
)sql";

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tokens(id INTEGER PRIMARY KEY, partner INTEGER NOT NULL,
                    owns_partner INTEGER NOT NULL, record TEXT NOT NULL);
CREATE TABLE processes(pid INTEGER PRIMARY KEY, start_time INTEGER NOT NULL,
                       instance INTEGER NOT NULL, ppid INTEGER NOT NULL,
                       credentials TEXT NOT NULL, primary_token INTEGER NOT NULL,
                       adopt_at_exec INTEGER NOT NULL,
                       exec_mark INTEGER NOT NULL,
                       origin INTEGER NOT NULL DEFAULT 0,
                       origin_credentials TEXT NOT NULL DEFAULT '');
CREATE TABLE threads(tid INTEGER PRIMARY KEY, tgid INTEGER NOT NULL,
                     start_time INTEGER NOT NULL, instance INTEGER NOT NULL,
                     impersonation INTEGER NOT NULL,
                     adopt_at_exec INTEGER NOT NULL);
CREATE TABLE objects(id INTEGER PRIMARY KEY, holder_pid INTEGER NOT NULL,
                     holder_start_time INTEGER NOT NULL,
                     holder_instance INTEGER NOT NULL, uid INTEGER NOT NULL,
                     gid INTEGER NOT NULL, persist INTEGER NOT NULL,
                     bytes INTEGER NOT NULL,
                     derived_from INTEGER NOT NULL DEFAULT 0,
                     derivation TEXT NOT NULL DEFAULT '',
                     tags TEXT NOT NULL DEFAULT '');
)sql";

// SQLite integers are signed 64-bit; ids, start times and marks are
// unsigned and stored bit for bit.
int64_t Stored(uint64_t value) { return static_cast<int64_t>(value); }
uint64_t Loaded(int64_t value) { return static_cast<uint64_t>(value); }

// Tags as stored: one per line (a tag never holds a newline).
std::string JoinLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

std::string SqliteError(sqlite3* db) {
  return db ? sqlite3_errmsg(db) : "out of memory";
}

// A prepared statement, finalized when it goes.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr) != SQLITE_OK) {
      statement_ = nullptr;
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return statement_ != nullptr; }
  sqlite3_stmt* get() const { return statement_; }
  Statement& Bind(int index, int64_t value) {
    sqlite3_bind_int64(statement_, index, value);
    return *this;
  }
  Statement& Bind(int index, const std::string& value) {
    sqlite3_bind_text(statement_, index, value.data(),
                      static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Runs to completion; true on success. Resets for the next use.
  bool Run() {
    const int status = sqlite3_step(statement_);
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    return status == SQLITE_DONE;
  }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// S-1-5-21-a-b-c with random a, b and c, as Windows makes a machine SID.
Sid NewMachineDomainSid() {
  std::random_device random;
  std::uniform_int_distribution<uint32_t> any;
  return Sid::Known(kNtAuthority,
                    {21, any(random), any(random), any(random)});
}

bool Execute(sqlite3* db, const char* sql, std::string& error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) {
    return true;
  }
  error = message ? message : SqliteError(db);
  sqlite3_free(message);
  return false;
}

// The single integer a pragma returns, or -1.
int64_t PragmaValue(sqlite3* db, const char* sql) {
  Statement statement(db, sql);
  if (!statement.ok() || sqlite3_step(statement.get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int64(statement.get(), 0);
}

std::string Text(sqlite3_stmt* statement, int column) {
  const unsigned char* text = sqlite3_column_text(statement, column);
  return text
             ? std::string(
                   reinterpret_cast<const char*>(text),
                   static_cast<size_t>(sqlite3_column_bytes(statement, column)))
             : std::string();
}

// DIR/generation: "tokenfs-state COMMITS ID_LIMIT\n", rewritten in place
// after every commit. It lives outside SQLite's files so that losing or
// damaging them (a removed write-ahead log, a truncated or replaced
// database) is noticed instead of read as an older, wider state.
constexpr size_t kGenerationSize = 64;

struct Generation {
  uint64_t commits = 0;
  uint64_t id_limit = 0;
};

std::string FormatGeneration(const Generation& generation) {
  std::string text = "tokenfs-state " + std::to_string(generation.commits) +
                     " " + std::to_string(generation.id_limit);
  text.resize(kGenerationSize - 1, ' ');
  return text + "\n";
}

std::optional<Generation> ParseGeneration(const std::string& text) {
  std::istringstream in(text);
  std::string magic, commits, id_limit, rest;
  if (!(in >> magic >> commits >> id_limit) || (in >> rest) ||
      magic != "tokenfs-state") {
    return std::nullopt;
  }
  auto parsed_commits =
      ParseUnsigned(commits, UINT64_MAX, NumberBase::kDecimal);
  auto parsed_limit = ParseUnsigned(id_limit, UINT64_MAX, NumberBase::kDecimal);
  if (!parsed_commits || !parsed_limit) return std::nullopt;
  return Generation{*parsed_commits, *parsed_limit};
}

// Refuses a store file that is a symbolic link (or anything but a regular
// file): the lock on DIR must cover the database it names, not one that a
// link shares with another directory.
Status CheckRegularOrAbsent(const std::string& path) {
  struct stat status {};
  if (::lstat(path.c_str(), &status) != 0) {
    if (errno == ENOENT) return Ok();
    return InvalidArgument(path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(status.st_mode)) {
    return InvalidArgument(
        path + " is not a regular file (" +
        (S_ISLNK(status.st_mode) ? "a symbolic link" : "not a plain file") +
        ")");
  }
  return Ok();
}

void RemoveDatabaseFiles(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    ::unlink((path + suffix).c_str());
  }
}

}  // namespace

std::string CurrentBootId() {
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string boot_id;
  std::getline(file, boot_id);
  return boot_id;
}

Result<std::unique_ptr<StateStore>> StateStore::Open(
    const std::string& directory, bool discard) {
  std::unique_ptr<StateStore> store(new StateStore());
  store->path_ = directory + "/state.db";
  const std::string& path = store->path_;
  const auto fail = [&path](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "state store " + path + ": " + why);
  };
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(std::string("cannot create its directory: ") +
                std::strerror(errno));
  }
  // One daemon per store: a second would restore the first one's tokens
  // onto its own mount and the two would overwrite each other's records.
  // The lock is on the directory itself, which no file in it can replace.
  store->lock_fd_ =
      ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (store->lock_fd_ < 0) {
    return fail("cannot open " + directory + ": " + std::strerror(errno));
  }
  if (::flock(store->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return fail(errno == EWOULDBLOCK
                    ? "in use by another tokenfs daemon (choose another "
                      "directory with --state)"
                    : "cannot lock " + directory + ": " + std::strerror(errno));
  }
  const std::string generation_path = directory + "/generation";
  for (const std::string& file :
       {path, path + "-wal", path + "-shm", generation_path}) {
    if (Status regular = CheckRegularOrAbsent(file); !regular) {
      // Starting afresh replaces the link, never what it points to.
      if (!discard || ::unlink(file.c_str()) != 0) {
        return fail(regular.error().message);
      }
    }
  }
  std::optional<Generation> recorded;
  {
    std::ifstream in(generation_path);
    const std::string text((std::istreambuf_iterator<char>(in)),
                           std::istreambuf_iterator<char>());
    if (!text.empty()) {
      recorded = ParseGeneration(text);
      if (!recorded && !discard) {
        return fail(generation_path +
                    " is damaged (--discard-state starts with an empty "
                    "store)");
      }
    }
  }
  struct stat database {};
  const bool had_database =
      ::stat(path.c_str(), &database) == 0 && database.st_size > 0;
  // Before SQLite touches it: an unreadable file must be reported as such,
  // not replaced.
  if (::access(path.c_str(), F_OK) == 0 &&
      ::access(path.c_str(), R_OK | W_OK) != 0) {
    if (!discard) {
      return fail(std::string("cannot read and write it: ") +
                  std::strerror(errno) +
                  " (--discard-state starts with an empty store)");
    }
  }
  Status loaded = store->Load();
  if (loaded && !recorded && store->commits_ > 0 && !discard) {
    // Removed or emptied: nothing then says whether the database is whole.
    return fail("it holds " + std::to_string(store->commits_) +
                " commits but " + generation_path +
                " is missing or empty, so nothing shows that none were lost "
                "(--discard-state starts with an empty store)");
  }
  if (loaded && recorded && store->commits_ < recorded->commits && !discard) {
    // SQLite reads a database whose write-ahead log is gone, damaged or
    // older as a valid older state: refuse it, it may be wider.
    return fail((had_database
                     ? "it holds " + std::to_string(store->commits_) +
                           " commits but " + generation_path + " records " +
                           std::to_string(recorded->commits) +
                           ": committed changes are missing (a removed or "
                           "damaged write-ahead log, or an older copy of "
                           "the database)"
                     : "it is missing or empty, but " + generation_path +
                           " records " + std::to_string(recorded->commits) +
                           " commits") +
                " (--discard-state starts with an empty store)");
  }
  if (!loaded) {
    if (!discard) {
      return fail(loaded.error().message +
                  " (--discard-state starts with an empty store)");
    }
    // Unreadable: start afresh, with ids above any this host has handed
    // out before (the clock in seconds, shifted past a day's worth of ids).
    sqlite3_close(store->db_);
    store->db_ = nullptr;
    RemoveDatabaseFiles(path);
    Status fresh = store->Load();
    if (!fresh) return fail(fresh.error().message);
    store->first_id_ = std::max<uint64_t>(
        kFirstId, static_cast<uint64_t>(std::time(nullptr)) << 24);
    store->discarded_ = true;
  } else if (discard) {
    store->loaded_ = StoredState{};
    store->discarded_ = true;
  }
  if (discard) {
    std::string error;
    if (!Execute(store->db_,
                 "BEGIN; DELETE FROM tokens; DELETE FROM processes;"
                 "DELETE FROM threads; DELETE FROM objects;"
                 "DELETE FROM meta WHERE key = 'boot_id'; COMMIT;",
                 error)) {
      return fail(error);
    }
  }
  if (!store->domain_sid_) {
    // The host's machine domain, made once: written at once in its own
    // transaction (not a counted commit), so every later start finds it.
    const Sid generated = NewMachineDomainSid();
    Statement insert(store->db_,
                     "INSERT OR REPLACE INTO meta(key, value) VALUES("
                     "'domain_sid', ?1)");
    if (!insert.ok() || !insert.Bind(1, generated.ToString()).Run()) {
      return fail("cannot record the machine domain SID: " +
                  SqliteError(store->db_));
    }
    store->domain_sid_ = generated;
  }
  if (recorded) {
    store->commits_ = std::max(store->commits_, recorded->commits);
    store->first_id_ = std::max(store->first_id_, recorded->id_limit);
  }
  store->id_limit_ = store->first_id_;
  store->generation_fd_ = ::open(
      generation_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (store->generation_fd_ < 0) {
    return fail("cannot open " + generation_path + ": " + std::strerror(errno));
  }
  if (std::string error = store->WriteGeneration(/*sync=*/true);
      !error.empty()) {
    return fail(error);
  }
  return store;
}

std::string StateStore::WriteGeneration(bool sync) {
  const std::string text = FormatGeneration(Generation{commits_, id_limit_});
  if (::pwrite(generation_fd_, text.data(), text.size(), 0) !=
      static_cast<ssize_t>(text.size())) {
    return std::string("cannot write the generation file: ") +
           std::strerror(errno);
  }
  if (sync && ::fdatasync(generation_fd_) != 0) {
    return std::string("cannot sync the generation file: ") +
           std::strerror(errno);
  }
  return "";
}

void StateStore::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (writer_.joinable() || sealed_) return;
  writer_ = std::thread([this] { WriterLoop(); });
}

Status StateStore::Load() {
  if (sqlite3_open_v2(
          path_.c_str(), &db_,
          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
          nullptr) != SQLITE_OK) {
    return InvalidArgument("cannot open it: " + SqliteError(db_));
  }
  sqlite3_busy_timeout(db_, 5000);
  std::string error;
  // Nothing reads the database after Open, so SQLite's page cache only
  // holds pages being rewritten: 512 KiB instead of the default 2 MiB.
  if (!Execute(db_,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
               "PRAGMA cache_size=-512;",
               error)) {
    return InvalidArgument("not a usable SQLite database (" + error + ")");
  }
  const int64_t application = PragmaValue(db_, "PRAGMA application_id");
  int64_t version = PragmaValue(db_, "PRAGMA user_version");
  const int64_t tables = PragmaValue(
      db_, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
  if (application < 0 || version < 0 || tables < 0) {
    return InvalidArgument("not a usable SQLite database (" + SqliteError(db_) +
                           ")");
  }
  if (tables == 0 && application == 0 && version == 0) {
    const std::string create =
        std::string("BEGIN;") + kSchema + kHistorySchema +
        "PRAGMA application_id = " + std::to_string(kApplicationId) +
        "; PRAGMA user_version = " + std::to_string(kSchemaVersion) +
        "; COMMIT;";
    if (!Execute(db_, create.c_str(), error)) {
      return InvalidArgument("cannot create the schema: " + error);
    }
    return Ok();
  }
  if (application != kApplicationId) {
    return InvalidArgument("not a tokenfs state store (application_id " +
                           std::to_string(application) + ")");
  }
  if (version > kSchemaVersion) {
    return InvalidArgument("written by a newer tokenfs (schema " +
                           std::to_string(version) + ", this one reads " +
                           std::to_string(kSchemaVersion) + ")");
  }
  if (version == 1) {
    if (!Execute(db_,
                 "BEGIN;"
                 "ALTER TABLE processes ADD COLUMN origin INTEGER NOT NULL "
                 "DEFAULT 0;"
                 "ALTER TABLE processes ADD COLUMN origin_credentials TEXT "
                 "NOT NULL DEFAULT '';"
                 "PRAGMA user_version = 2; COMMIT;",
                 error)) {
      return InvalidArgument("cannot upgrade schema 1: " + error);
    }
    version = 2;
  }
  if (version == 2) {
    const std::string upgrade = std::string("BEGIN;") + kObjectsV3 +
                                kHistorySchema +
                                "PRAGMA user_version = 3; COMMIT;";
    if (!Execute(db_, upgrade.c_str(), error)) {
      return InvalidArgument("cannot upgrade schema 2: " + error);
    }
  } else if (version != kSchemaVersion) {
    return InvalidArgument("unknown schema version " + std::to_string(version));
  }
  {
    Statement check(db_, "PRAGMA quick_check");
    if (!check.ok() || sqlite3_step(check.get()) != SQLITE_ROW) {
      return InvalidArgument("corrupt (" + SqliteError(db_) + ")");
    }
    const std::string verdict = Text(check.get(), 0);
    if (verdict != "ok") return InvalidArgument("corrupt (" + verdict + ")");
  }

  // History written behind a token's drop (Seal, crash) names no token.
  if (!Execute(db_,
               "DELETE FROM history WHERE token NOT IN (SELECT id FROM tokens)",
               error)) {
    return InvalidArgument("corrupt (" + error + ")");
  }
  StoredState state;
  const auto query = [this](const char* sql, auto&& row) -> Status {
    Statement statement(db_, sql);
    if (!statement.ok()) {
      return InvalidArgument("corrupt (" + SqliteError(db_) + ")");
    }
    int status = SQLITE_ROW;
    while ((status = sqlite3_step(statement.get())) == SQLITE_ROW) {
      if (Status done = row(statement.get()); !done) return done;
    }
    if (status != SQLITE_DONE) {
      return InvalidArgument("corrupt (" + SqliteError(db_) + ")");
    }
    return Ok();
  };
  uint64_t limit = kFirstId;
  Status status =
      query("SELECT key, value FROM meta", [&](sqlite3_stmt* row) -> Status {
        const std::string key = Text(row, 0);
        const std::string value = Text(row, 1);
        if (key == "boot_id") {
          state.boot_id = value;
        } else if (key == "domain_sid") {
          auto sid = ParseDomainSid(value);
          if (!sid) {
            return InvalidArgument("corrupt (meta domain_sid '" + value +
                                   "')");
          }
          domain_sid_ = *sid;
        } else if (key == "commits" || key == "id_limit") {
          // Both are written as decimal numbers; anything else is damage.
          const auto parsed =
              ParseUnsigned(value, UINT64_MAX, NumberBase::kDecimal);
          if (!parsed) {
            return InvalidArgument("corrupt (meta " + key + " '" + value +
                                   "')");
          }
          if (key == "commits") {
            commits_ = *parsed;
          } else {
            limit = std::max(limit, *parsed);
          }
        }
        return Ok();
      });
  if (status) {
    status = query(
        "SELECT id, partner, owns_partner, record FROM tokens",
        [&](sqlite3_stmt* row) -> Status {
          const uint64_t id = Loaded(sqlite3_column_int64(row, 0));
          auto token = DecodeTokenRecord(Text(row, 3));
          if (!token) {
            return InvalidArgument("corrupt (token " + std::to_string(id) +
                                   ": " + token.error().message + ")");
          }
          if (token->token_id.value != id) {
            return InvalidArgument("corrupt (token row " + std::to_string(id) +
                                   " holds token " +
                                   std::to_string(token->token_id.value) + ")");
          }
          state.tokens.push_back(StoredToken{
              std::move(*token), Luid{Loaded(sqlite3_column_int64(row, 1))},
              sqlite3_column_int64(row, 2) != 0});
          return Ok();
        });
  }
  if (status) {
    status = query(
        "SELECT token, event FROM history ORDER BY token, seq",
        [&](sqlite3_stmt* row) -> Status {
          const uint64_t id = Loaded(sqlite3_column_int64(row, 0));
          auto event = ParseHistoryEventJson(Text(row, 1));
          if (!event) {
            return InvalidArgument("corrupt (history of token " +
                                   std::to_string(id) + ": " +
                                   event.error().message + ")");
          }
          state.history.emplace_back(Luid{id}, std::move(*event));
          return Ok();
        });
  }
  if (status) {
    status = query(
        "SELECT pid, start_time, instance, ppid, credentials, primary_token, "
        "adopt_at_exec, exec_mark, origin, origin_credentials FROM processes",
        [&](sqlite3_stmt* row) -> Status {
          ProcessRecord record;
          record.key.pid = static_cast<int32_t>(sqlite3_column_int64(row, 0));
          record.key.start_time = Loaded(sqlite3_column_int64(row, 1));
          record.key.instance = Loaded(sqlite3_column_int64(row, 2));
          record.ppid = static_cast<int32_t>(sqlite3_column_int64(row, 3));
          auto credentials = DecodeCredentialsRecord(Text(row, 4));
          if (!credentials) {
            return InvalidArgument("corrupt (process " +
                                   std::to_string(record.key.pid) + ": " +
                                   credentials.error().message + ")");
          }
          record.credentials = std::move(*credentials);
          record.primary = Luid{Loaded(sqlite3_column_int64(row, 5))};
          record.adopt_at_exec = Luid{Loaded(sqlite3_column_int64(row, 6))};
          record.exec_mark = Loaded(sqlite3_column_int64(row, 7));
          record.origin = Luid{Loaded(sqlite3_column_int64(row, 8))};
          if (record.origin.value != 0) {
            auto origin = DecodeCredentialsRecord(Text(row, 9));
            if (!origin) {
              return InvalidArgument(
                  "corrupt (process " + std::to_string(record.key.pid) +
                  " origin: " + origin.error().message + ")");
            }
            record.origin_credentials = std::move(*origin);
          }
          state.processes.push_back(std::move(record));
          return Ok();
        });
  }
  if (status) {
    status = query(
        "SELECT tid, tgid, start_time, instance, impersonation, adopt_at_exec "
        "FROM threads",
        [&](sqlite3_stmt* row) -> Status {
          ThreadRecord record;
          record.tid = static_cast<int32_t>(sqlite3_column_int64(row, 0));
          record.tgid = static_cast<int32_t>(sqlite3_column_int64(row, 1));
          record.incarnation.start_time = Loaded(sqlite3_column_int64(row, 2));
          record.incarnation.instance = Loaded(sqlite3_column_int64(row, 3));
          record.impersonation = Luid{Loaded(sqlite3_column_int64(row, 4))};
          record.adopt_at_exec = Luid{Loaded(sqlite3_column_int64(row, 5))};
          state.threads.push_back(record);
          return Ok();
        });
  }
  if (status) {
    status = query(
        "SELECT id, holder_pid, holder_start_time, holder_instance, uid, gid, "
        "persist, bytes, derived_from, derivation, tags FROM objects",
        [&](sqlite3_stmt* row) -> Status {
          ObjectRecord record;
          record.id = Luid{Loaded(sqlite3_column_int64(row, 0))};
          record.creator.pid =
              static_cast<int32_t>(sqlite3_column_int64(row, 1));
          record.creator.start_time = Loaded(sqlite3_column_int64(row, 2));
          record.creator.instance = Loaded(sqlite3_column_int64(row, 3));
          record.creator_uid =
              static_cast<uint32_t>(sqlite3_column_int64(row, 4));
          record.creator_gid =
              static_cast<uint32_t>(sqlite3_column_int64(row, 5));
          record.persist = sqlite3_column_int64(row, 6) != 0;
          record.bytes = static_cast<size_t>(sqlite3_column_int64(row, 7));
          record.derived_from = Luid{Loaded(sqlite3_column_int64(row, 8))};
          record.derivation = Text(row, 9);
          std::istringstream tags(Text(row, 10));
          for (std::string tag; std::getline(tags, tag);) {
            if (!tag.empty()) record.tags.push_back(tag);
          }
          state.objects.push_back(record);
          return Ok();
        });
  }
  if (!status) return status;
  // Every id the stored tokens carry is below the limit already; the
  // maximum guards against a store whose limit row was lost.
  for (const StoredToken& token : state.tokens) {
    limit = std::max(limit, token.token.token_id.value + 1);
  }
  loaded_ = std::move(state);
  first_id_ = limit;
  return Ok();
}

StateStore::~StateStore() {
  Seal();
  if (db_) sqlite3_close(db_);
  if (generation_fd_ >= 0) ::close(generation_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void StateStore::SetBootId(const std::string& boot_id) {
  Enqueue(MetaPut{"boot_id", boot_id});
}

void StateStore::SetFailureHandler(
    std::function<void(const std::string&)> handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  on_failure_ = std::move(handler);
}

void StateStore::Enqueue(Change change) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (sealed_ || !failure_.empty()) return;
  queue_.push_back(std::move(change));
  ++enqueued_;
  if (queue_.size() == 1) queued_.notify_one();
}

void StateStore::RecordToken(std::shared_ptr<const Token> token, Luid partner,
                             bool owns_partner) {
  Enqueue(TokenPut{std::move(token), partner, owns_partner});
}
void StateStore::ForgetToken(Luid id) { Enqueue(TokenDrop{id}); }
void StateStore::RecordProcess(const ProcessRecord& process) {
  Enqueue(process);
}
void StateStore::ForgetProcess(const ProcessKey& key) {
  Enqueue(ProcessDrop{key});
}
void StateStore::RecordThread(const ThreadRecord& thread) { Enqueue(thread); }
void StateStore::ForgetThread(int32_t tid, const TaskIncarnation& incarnation) {
  Enqueue(ThreadDrop{tid, incarnation});
}
void StateStore::RecordObject(const ObjectRecord& object) { Enqueue(object); }
void StateStore::ForgetObject(Luid id) { Enqueue(ObjectDrop{id}); }
void StateStore::RecordHistory(Luid id, const HistoryEvent& event) {
  // Encoded by the writer thread, off the request's path.
  HistoryPut put{id, event};
  std::lock_guard<std::mutex> lock(mutex_);
  if (sealed_ || !failure_.empty()) return;
  history_queue_.push_back(std::move(put));
  if (history_queue_.size() == 1) {
    history_due_ = std::chrono::steady_clock::now() + kHistoryDelay;
    queued_.notify_one();
  }
}

Status StateStore::Flush() {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t target = enqueued_;
  if (durable_ < target) {
    // A commit (an fsync) is ahead: let another FUSE worker read meanwhile.
    lock.unlock();
    MayBlock();
    lock.lock();
  }
  committed_.wait(lock, [&] {
    return durable_ >= target || !failure_.empty() || !writer_.joinable();
  });
  if (!failure_.empty()) {
    return MakeError(ErrorCode::kInternal,
                     "the state store failed: " + failure_);
  }
  if (durable_ < target) {
    return MakeError(ErrorCode::kInternal, "the state store is closed");
  }
  return Ok();
}

Status StateStore::ReserveThrough(uint64_t limit) {
  Enqueue(MetaPut{"id_limit", std::to_string(limit)});
  return Flush();
}

void StateStore::Seal() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (sealed_) return;
    sealed_ = true;
    stopping_ = true;
    queued_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  committed_.notify_all();
}

StateStore::Statistics StateStore::statistics() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return statistics_;
}

namespace {

// Empties `changes`, and gives its buffer back when a burst made it large.
template <typename Change>
void ReleaseBacklog(std::vector<Change>& changes) {
  constexpr size_t kKeptCapacity = 256;
  if (changes.capacity() > kKeptCapacity) {
    std::vector<Change>().swap(changes);
  } else {
    changes.clear();
  }
}

}  // namespace

void StateStore::WriterLoop() {
  std::vector<Change> batch;
  for (;;) {
    uint64_t through = 0;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // History rows are written behind: with the next commit once they
      // are due, or alone when they are due and nothing else comes.
      const auto due = [this] {
        return !history_queue_.empty() &&
               (stopping_ || std::chrono::steady_clock::now() >= history_due_);
      };
      for (;;) {
        if (stopping_ || !queue_.empty() || due()) break;
        if (history_queue_.empty()) {
          queued_.wait(lock);
        } else {
          queued_.wait_until(lock, history_due_);
        }
      }
      if (queue_.empty() && history_queue_.empty()) break;  // stopping
      batch.swap(queue_);
      through = enqueued_;
      if (due()) {
        // After the batch's own records, so the tokens they name exist.
        // Only what the insert trigger would keep is written: of each
        // token, the events within the bound of its newest, each seq once
        // (a folded refusal is queued again under its seq). A burst of
        // adjustments to one token then writes at most the bound's rows.
        std::map<uint64_t, uint64_t> newest;  // token -> its largest seq
        std::set<std::pair<uint64_t, uint64_t>> written;
        std::vector<bool> keep(history_queue_.size());
        for (size_t i = history_queue_.size(); i-- > 0;) {
          const auto& put = std::get<HistoryPut>(history_queue_[i]);
          const uint64_t seq = put.event.seq;
          const uint64_t top =
              newest.emplace(put.id.value, seq).first->second;
          keep[i] = seq + history_limit_ > top &&
                    written.emplace(put.id.value, seq).second;
        }
        for (size_t i = 0; i < history_queue_.size(); ++i) {
          if (keep[i]) batch.push_back(std::move(history_queue_[i]));
        }
        ReleaseBacklog(history_queue_);
      }
    }
    std::string error = Commit(batch);
    std::function<void(const std::string&)> on_failure;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (error.empty()) {
        durable_ = through;
        ++statistics_.commits;
        statistics_.changes += batch.size();
      } else {
        failure_ = error;
        queue_.clear();
        on_failure = on_failure_;
      }
      committed_.notify_all();
    }
    // batch and queue_ trade buffers every round: neither keeps a burst's
    // capacity (10,000 exits at once queue 10,000 changes).
    ReleaseBacklog(batch);
    if (!error.empty()) {
      if (on_failure) on_failure(error);
      break;
    }
  }
}

std::string StateStore::Commit(const std::vector<Change>& batch) {
  // Prepared once by the writer thread, the only user of db_ after Open,
  // and finalized when it ends (before ~StateStore closes db_).
  static constexpr const char* kSql[] = {
      "INSERT OR REPLACE INTO tokens(id, partner, owns_partner, record) "
      "VALUES(?1, ?2, ?3, ?4)",
      "DELETE FROM tokens WHERE id = ?1",
      "INSERT OR REPLACE INTO processes(pid, start_time, instance, ppid, "
      "credentials, primary_token, adopt_at_exec, exec_mark, origin, "
      "origin_credentials) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
      "DELETE FROM processes WHERE pid = ?1 AND start_time = ?2 AND "
      "instance = ?3",
      "INSERT OR REPLACE INTO threads(tid, tgid, start_time, instance, "
      "impersonation, adopt_at_exec) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
      "DELETE FROM threads WHERE tid = ?1 AND start_time = ?2 AND "
      "instance = ?3",
      "INSERT OR REPLACE INTO objects(id, holder_pid, holder_start_time, "
      "holder_instance, uid, gid, persist, bytes, derived_from, derivation, "
      "tags) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
      "DELETE FROM objects WHERE id = ?1",
      "INSERT OR REPLACE INTO history(token, seq, keep, event) "
      "VALUES(?1, ?2, ?3, ?4)",
      "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
  };
  static_assert(std::size(kSql) == std::variant_size_v<Change>);
  thread_local std::vector<std::unique_ptr<Statement>> statements;
  if (statements.empty()) {
    for (const char* sql : kSql) {
      statements.push_back(std::make_unique<Statement>(db_, sql));
      if (!statements.back()->ok()) {
        std::string error = SqliteError(db_);
        statements.clear();
        return "cannot prepare a statement: " + error;
      }
    }
  }
  std::string error;
  if (!Execute(db_, "BEGIN IMMEDIATE", error)) return error;
  // Within one batch only the last put of a token counts: encode that one.
  std::map<uint64_t, size_t> last_put;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (const auto* put = std::get_if<TokenPut>(&batch[i])) {
      last_put[put->token->token_id.value] = i;
    }
  }
  bool ok = true;
  uint64_t id_limit = id_limit_;
  for (size_t i = 0; i < batch.size() && ok; ++i) {
    Statement& statement = *statements[batch[i].index()];
    std::visit(
        [&](const auto& change) {
          using T = std::decay_t<decltype(change)>;
          if constexpr (std::is_same_v<T, TokenPut>) {
            const uint64_t id = change.token->token_id.value;
            if (last_put[id] != i) return;
            ok = statement.Bind(1, Stored(id))
                     .Bind(2, Stored(change.partner.value))
                     .Bind(3, change.owns ? 1 : 0)
                     .Bind(4, EncodeTokenRecord(*change.token))
                     .Run();
          } else if constexpr (std::is_same_v<T, TokenDrop> ||
                               std::is_same_v<T, ObjectDrop>) {
            ok = statement.Bind(1, Stored(change.id.value)).Run();
          } else if constexpr (std::is_same_v<T, ProcessRecord>) {
            ok = statement.Bind(1, change.key.pid)
                     .Bind(2, Stored(change.key.start_time))
                     .Bind(3, Stored(change.key.instance))
                     .Bind(4, change.ppid)
                     .Bind(5, EncodeCredentialsRecord(change.credentials))
                     .Bind(6, Stored(change.primary.value))
                     .Bind(7, Stored(change.adopt_at_exec.value))
                     .Bind(8, Stored(change.exec_mark))
                     .Bind(9, Stored(change.origin.value))
                     .Bind(10, change.origin.value != 0
                                   ? EncodeCredentialsRecord(
                                         change.origin_credentials)
                                   : std::string())
                     .Run();
          } else if constexpr (std::is_same_v<T, ProcessDrop>) {
            ok = statement.Bind(1, change.key.pid)
                     .Bind(2, Stored(change.key.start_time))
                     .Bind(3, Stored(change.key.instance))
                     .Run();
          } else if constexpr (std::is_same_v<T, ThreadRecord>) {
            ok = statement.Bind(1, change.tid)
                     .Bind(2, change.tgid)
                     .Bind(3, Stored(change.incarnation.start_time))
                     .Bind(4, Stored(change.incarnation.instance))
                     .Bind(5, Stored(change.impersonation.value))
                     .Bind(6, Stored(change.adopt_at_exec.value))
                     .Run();
          } else if constexpr (std::is_same_v<T, ThreadDrop>) {
            ok = statement.Bind(1, change.tid)
                     .Bind(2, Stored(change.incarnation.start_time))
                     .Bind(3, Stored(change.incarnation.instance))
                     .Run();
          } else if constexpr (std::is_same_v<T, ObjectRecord>) {
            ok = statement.Bind(1, Stored(change.id.value))
                     .Bind(2, change.creator.pid)
                     .Bind(3, Stored(change.creator.start_time))
                     .Bind(4, Stored(change.creator.instance))
                     .Bind(5, change.creator_uid)
                     .Bind(6, change.creator_gid)
                     .Bind(7, change.persist ? 1 : 0)
                     .Bind(8, Stored(change.bytes))
                     .Bind(9, Stored(change.derived_from.value))
                     .Bind(10, change.derivation)
                     .Bind(11, JoinLines(change.tags))
                     .Run();
          } else if constexpr (std::is_same_v<T, HistoryPut>) {
            ok = statement.Bind(1, Stored(change.id.value))
                     .Bind(2, Stored(change.event.seq))
                     .Bind(3, Stored(history_limit_))
                     .Bind(4, HistoryEventJson(change.event))
                     .Run();
          } else if constexpr (std::is_same_v<T, MetaPut>) {
            ok = statement.Bind(1, change.key).Bind(2, change.value).Run();
            if (change.key == "id_limit") {
              // ReserveThrough wrote the value from a number.
              if (auto limit = ParseUnsigned(change.value, UINT64_MAX,
                                             NumberBase::kDecimal)) {
                id_limit = std::max(id_limit, *limit);
              }
            }
          }
        },
        batch[i]);
  }
  if (ok) {
    ok = statements[std::variant_size_v<Change> - 1]
             ->Bind(1, std::string("commits"))
             .Bind(2, std::to_string(commits_ + 1))
             .Run();
  }
  if (!ok) {
    error = SqliteError(db_);
    std::string ignored;
    Execute(db_, "ROLLBACK", ignored);
    return error;
  }
  if (!Execute(db_, "COMMIT", error)) {
    std::string ignored;
    Execute(db_, "ROLLBACK", ignored);
    return error;
  }
  ++commits_;
  // A new id limit must be durable here too: a lost database must not let
  // ids below it be handed out again.
  const bool new_ids = id_limit != id_limit_;
  id_limit_ = id_limit;
  return WriteGeneration(/*sync=*/new_ids);
}

}  // namespace tokenfs
