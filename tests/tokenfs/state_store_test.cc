// The durable state store against a real SQLite file in a temporary
// directory: what is flushed comes back on reopening, ids are reserved, and
// every kind of bad store is refused with one line unless discarded.
#include "tokenfs/state_store.h"

#include "core/well_known_sids.h"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "core/minting_policy.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

// A fresh directory under $TMPDIR, removed at the end.
struct TempDir {
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tkstate.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string db() const { return path + "/state.db"; }
  std::string path;
};

Token MintedToken(uint32_t uid, LuidAllocator& ids) {
  static test::FixedClock clock(1700000000000000000ull);
  LinuxCredentials credentials;
  credentials.real_uid = credentials.effective_uid = uid;
  credentials.saved_uid = credentials.fs_uid = uid;
  credentials.real_gid = credentials.effective_gid = uid;
  credentials.saved_gid = credentials.fs_gid = uid;
  auto minted = MintingPolicy::Default().Mint(credentials,
                                              MintContext{ids, clock, nullptr});
  REQUIRE(minted);
  return minted->token;
}

std::unique_ptr<StateStore> OpenStarted(const TempDir& dir,
                                        bool discard = false) {
  auto store = StateStore::Open(dir.path, discard);
  if (!store) FAIL(store.error().message);
  (*store)->Start();
  return std::move(*store);
}

std::string OpenError(const TempDir& dir) {
  auto store = StateStore::Open(dir.path, false);
  REQUIRE_FALSE(store);
  return store.error().message;
}

void Sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int status = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(message == "");
  REQUIRE(status == SQLITE_OK);
}

TEST_CASE("what was flushed comes back when the store is reopened") {
  TempDir dir;
  LuidAllocator ids(0x30000);
  Token token = MintedToken(1000, ids);
  token.privileges.enabled = 0;
  token.integrity_rid = 0x1000;
  ProcessRecord process;
  process.key = ProcessKey{4242, 777, 99};
  process.ppid = 1;
  process.credentials.effective_uid = 1000;
  process.credentials.supplementary_gids = {27, 100};
  process.primary = token.token_id;
  process.exec_mark = ~uint64_t{0};  // above 2^63: stored bit for bit
  ThreadRecord thread{4243, 4242, {778, 100}, token.token_id, Luid{}};
  ObjectRecord object{token.token_id, process.key, 1000, 1000, true, 512};
  object.derived_from = Luid{0x1234};
  object.derivation = "restrict";
  object.tags = {"build", "env=prod"};
  {
    auto store = OpenStarted(dir);
    store->SetBootId("boot-a");
    store->RecordToken(std::make_shared<const Token>(token), Luid{7}, true);
    store->RecordProcess(process);
    store->RecordThread(thread);
    store->RecordObject(object);
    REQUIRE(store->Flush());
  }
  auto store = OpenStarted(dir);
  const StoredState& state = store->loaded();
  CHECK(state.boot_id == "boot-a");
  REQUIRE(state.tokens.size() == 1);
  CHECK(state.tokens[0].token == token);
  CHECK(state.tokens[0].partner == Luid{7});
  CHECK(state.tokens[0].owns_partner);
  REQUIRE(state.processes.size() == 1);
  CHECK(state.processes[0] == process);
  REQUIRE(state.threads.size() == 1);
  CHECK(state.threads[0] == thread);
  REQUIRE(state.objects.size() == 1);
  CHECK(state.objects[0].id == object.id);
  CHECK(state.objects[0].creator == object.creator);
  CHECK(state.objects[0].persist);
  CHECK(state.objects[0].bytes == 512);
  CHECK(state.objects[0] == object);  // derivation and tags included
  // Ids continue above every stored token.
  CHECK(store->first_id() > token.token_id.value);
}

TEST_CASE("the machine domain SID is made once and kept across reopening") {
  TempDir dir;
  std::string first;
  {
    auto store = OpenStarted(dir);
    const Sid& sid = store->machine_domain_sid();
    CHECK(IsDomainSid(sid));
    first = sid.ToString();
    store->Seal();
  }
  {
    auto store = OpenStarted(dir);
    CHECK(store->machine_domain_sid().ToString() == first);
    store->Seal();
  }
  // --discard-state keeps the host's identity.
  {
    auto store = OpenStarted(dir, /*discard=*/true);
    CHECK(store->machine_domain_sid().ToString() == first);
    store->Seal();
  }
  // Another host (a new store) gets another domain.
  TempDir other;
  auto elsewhere = OpenStarted(other);
  CHECK(elsewhere->machine_domain_sid().ToString() != first);
  elsewhere->Seal();
}

TEST_CASE("a damaged machine domain SID makes the store refuse to open") {
  TempDir dir;
  OpenStarted(dir)->Seal();
  Sql(dir.db(),
      "UPDATE meta SET value = 'S-1-5-32-544' WHERE key = 'domain_sid'");
  CHECK_THAT(OpenError(dir),
             Catch::Contains("corrupt (meta domain_sid 'S-1-5-32-544')"));
}

TEST_CASE("forgotten records are gone after reopening") {
  TempDir dir;
  LuidAllocator ids(0x30000);
  Token token = MintedToken(1000, ids);
  ProcessRecord process;
  process.key = ProcessKey{10, 20, 30};
  process.primary = token.token_id;
  {
    auto store = OpenStarted(dir);
    store->RecordToken(std::make_shared<const Token>(token), Luid{}, false);
    store->RecordProcess(process);
    store->RecordThread(ThreadRecord{11, 10, {21, 0}, token.token_id, Luid{}});
    // A forget of another incarnation of the same pid leaves the record.
    store->ForgetProcess(ProcessKey{10, 19, 30});
    store->ForgetThread(11, TaskIncarnation{21, 0});
    REQUIRE(store->Flush());
  }
  {
    auto store = OpenStarted(dir);
    CHECK(store->loaded().processes.size() == 1);
    CHECK(store->loaded().threads.empty());
    store->ForgetProcess(process.key);
    store->ForgetToken(token.token_id);
    REQUIRE(store->Flush());
  }
  auto store = OpenStarted(dir);
  CHECK(store->loaded().empty());
}

TEST_CASE("a token's history comes back, bounded, and goes with the token") {
  TempDir dir;
  LuidAllocator ids(0x30000);
  Token token = MintedToken(1000, ids);
  const auto event = [](uint64_t seq, uint32_t repeat = 1) {
    HistoryEvent e;
    e.seq = seq;
    e.kind = repeat > 1 ? HistoryKind::kDenied : HistoryKind::kAdjusted;
    e.actor_pid = 42;
    e.actor_user = "S-1-22-1-1000";
    e.file = repeat > 1 ? "" : "privs";
    e.operation = repeat > 1 ? "write" : "";
    e.repeat = repeat;
    return e;
  };
  {
    auto opened = StateStore::Open(dir.path, false);
    REQUIRE(opened);
    auto& store = *opened;
    store->SetHistoryLimit(3);
    store->Start();
    store->RecordToken(std::make_shared<const Token>(token), Luid{}, false);
    for (uint64_t seq = 1; seq <= 5; ++seq) {
      store->RecordHistory(token.token_id, event(seq));
    }
    // A folded refusal keeps its number: the store replaces its copy.
    store->RecordHistory(token.token_id, event(6));
    store->RecordHistory(token.token_id, event(6, 4));
    // Written behind: a flush does not wait for it, a clean stop does.
    REQUIRE(store->Flush());
    store->Seal();
  }
  {
    auto store = OpenStarted(dir);
    const auto& history = store->loaded().history;
    REQUIRE(history.size() == 3);
    CHECK(history[0].second.seq == 4);
    CHECK(history[2].second == event(6, 4));
    store->ForgetToken(token.token_id);
    REQUIRE(store->Flush());
  }
  auto store = OpenStarted(dir);
  CHECK(store->loaded().history.empty());
}

TEST_CASE("a burst of history writes only the rows the bound keeps") {
  TempDir dir;
  LuidAllocator ids(0x30000);
  Token token = MintedToken(1000, ids);
  HistoryEvent event;
  event.kind = HistoryKind::kAdjusted;
  event.actor_pid = 42;
  event.file = "privs";
  {
    auto opened = StateStore::Open(dir.path, false);
    REQUIRE(opened);
    auto& store = *opened;
    store->SetHistoryLimit(8);
    store->Start();
    store->RecordToken(std::make_shared<const Token>(token), Luid{}, false);
    REQUIRE(store->Flush());
    const uint64_t before = store->statistics().changes;
    for (uint64_t seq = 1; seq <= 1000; ++seq) {
      event.seq = seq;
      store->RecordHistory(token.token_id, event);
    }
    store->Seal();
    // The 992 older events would only have been deleted by the trigger.
    CHECK(store->statistics().changes - before == 8);
  }
  auto store = OpenStarted(dir);
  const auto& history = store->loaded().history;
  REQUIRE(history.size() == 8);
  CHECK(history.front().second.seq == 993);
  CHECK(history.back().second.seq == 1000);
}

TEST_CASE("reserved ids are never handed out again") {
  TempDir dir;
  uint64_t last = 0;
  {
    auto store = OpenStarted(dir);
    LuidAllocator ids(store->first_id(), *store, 16);
    for (int i = 0; i < 40; ++i) last = ids.Next().value;
  }
  auto store = OpenStarted(dir);
  CHECK(store->first_id() > last);
  LuidAllocator ids(store->first_id(), *store, 16);
  CHECK(ids.Next().value > last);
}

TEST_CASE("concurrent writers share commits") {
  TempDir dir;
  auto store = OpenStarted(dir);
  constexpr int kThreads = 4;
  constexpr int kWrites = 100;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&store, t] {
      for (int i = 0; i < kWrites; ++i) {
        ObjectRecord object{
            Luid{uint64_t(t * 1000 + i + 1)}, {}, 0, 0, false, 1};
        store->RecordObject(object);
        REQUIRE(store->Flush());
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  const StateStore::Statistics statistics = store->statistics();
  CHECK(statistics.changes == kThreads * kWrites);
  CHECK(statistics.commits <= kThreads * kWrites);
}

TEST_CASE("records after Seal are ignored") {
  TempDir dir;
  {
    auto store = OpenStarted(dir);
    store->RecordObject(ObjectRecord{Luid{5}, {}, 0, 0, true, 1});
    store->Seal();
    store->ForgetObject(Luid{5});  // a teardown's forget
  }
  auto store = OpenStarted(dir);
  CHECK(store->loaded().objects.size() == 1);
}

TEST_CASE(
    "bad stores are refused with one line; --discard-state starts empty") {
  TempDir dir;
  {
    auto store = OpenStarted(dir);
    LuidAllocator ids(store->first_id(), *store, 16);
    for (int i = 0; i < 20; ++i) ids.Next();
    Token token = MintedToken(0, ids);
    store->RecordToken(std::make_shared<const Token>(token), Luid{}, false);
    REQUIRE(store->Flush());
  }
  const std::string prefix = "state store " + dir.db() + ": ";

  SECTION("a second daemon on the same store") {
    auto first = OpenStarted(dir);
    CHECK(OpenError(dir) ==
          prefix +
              "in use by another tokenfs daemon (choose another directory "
              "with --state)");
  }
  SECTION("a newer schema") {
    Sql(dir.db(), "PRAGMA user_version = 4");
    CHECK(OpenError(dir) == prefix +
                                "written by a newer tokenfs (schema 4, this "
                                "one reads 3) (--discard-state starts with an "
                                "empty store)");
  }
  SECTION("a schema 1 store is upgraded in place") {
    Sql(dir.db(),
        "DROP TRIGGER history_bound; DROP TRIGGER history_with_token;"
        "DROP TABLE history;"
        "ALTER TABLE processes DROP COLUMN origin;"
        "ALTER TABLE processes DROP COLUMN origin_credentials;"
        "ALTER TABLE objects DROP COLUMN derived_from;"
        "ALTER TABLE objects DROP COLUMN derivation;"
        "ALTER TABLE objects DROP COLUMN tags;"
        "PRAGMA user_version = 1");
    {
      auto store = OpenStarted(dir);
      CHECK(store->loaded().tokens.size() == 1);
      ProcessRecord process;
      process.key = ProcessKey{42, 7, 0};
      process.primary = store->loaded().tokens[0].token.token_id;
      process.origin = process.primary;
      process.origin_credentials.real_uid = 1000;
      store->RecordProcess(process);
      REQUIRE(store->Flush());
    }
    auto store = OpenStarted(dir);
    REQUIRE(store->loaded().processes.size() == 1);
    CHECK(store->loaded().processes[0].origin.value != 0);
    CHECK(store->loaded().processes[0].origin_credentials.real_uid == 1000);
  }
  SECTION("a schema 2 store is upgraded in place, objects keep their rows") {
    Sql(dir.db(),
        "INSERT INTO objects(id, holder_pid, holder_start_time, "
        "holder_instance, uid, gid, persist, bytes) "
        "VALUES(9, 0, 0, 0, 1000, 1000, 1, 1);"
        "ALTER TABLE objects DROP COLUMN derived_from;"
        "ALTER TABLE objects DROP COLUMN derivation;"
        "ALTER TABLE objects DROP COLUMN tags;"
        "PRAGMA user_version = 2");
    {
      auto store = OpenStarted(dir);
      REQUIRE(store->loaded().objects.size() == 1);
      CHECK(store->loaded().objects[0].tags.empty());
      ObjectRecord object = store->loaded().objects[0];
      object.tags = {"kept"};
      store->RecordObject(object);
      REQUIRE(store->Flush());
    }
    auto store = OpenStarted(dir);
    REQUIRE(store->loaded().objects.size() == 1);
    CHECK(store->loaded().objects[0].tags ==
          std::vector<std::string>{"kept"});
  }
  SECTION("another application's database") {
    Sql(dir.db(), "PRAGMA application_id = 0");
    CHECK(OpenError(dir) == prefix +
                                "not a tokenfs state store (application_id 0) "
                                "(--discard-state starts with an empty store)");
  }
  SECTION("a row that does not decode") {
    Sql(dir.db(), "UPDATE tokens SET record = '{\"v\": 99}'");
    const std::string error = OpenError(dir);
    CHECK(error.rfind(prefix + "corrupt (token ", 0) == 0);
    CHECK(error.find('\n') == std::string::npos);
  }
  SECTION("a file that is not SQLite at all") {
    std::filesystem::remove(dir.db() + "-wal");
    std::filesystem::remove(dir.db() + "-shm");
    std::ofstream(dir.db(), std::ios::trunc) << std::string(8192, 'x');
    const std::string error = OpenError(dir);
    CHECK(error.rfind(prefix + "not a usable SQLite database", 0) == 0);
    auto discarded = StateStore::Open(dir.path, true);
    REQUIRE(discarded);
    CHECK((*discarded)->loaded().empty());
    CHECK((*discarded)->discarded());
    // Nothing says which ids were used: start above any a clock allows.
    CHECK((*discarded)->first_id() >= uint64_t(1700000000) << 24);
  }
  SECTION("a store whose write-ahead log is gone") {
    {
      // A commit that is only in the log, as a crash leaves it: copy the
      // database file alone (a clean close would fold the log into it).
      auto store = OpenStarted(dir);
      store->RecordObject(ObjectRecord{Luid{9}, {}, 0, 0, true, 1});
      REQUIRE(store->Flush());
      REQUIRE(std::filesystem::file_size(dir.db() + "-wal") > 0);
      std::filesystem::copy_file(dir.db(), dir.path + "/without-log.db");
    }
    std::filesystem::copy_file(
        dir.path + "/without-log.db", dir.db(),
        std::filesystem::copy_options::overwrite_existing);
    std::filesystem::remove(dir.db() + "-wal");
    std::filesystem::remove(dir.db() + "-shm");
    const std::string error = OpenError(dir);
    CHECK(error.rfind(prefix + "it holds ", 0) == 0);
    CHECK(error.find("commits but " + dir.path + "/generation records") !=
          std::string::npos);
    CHECK(error.find("committed changes are missing") != std::string::npos);
    // --discard-state starts empty, with ids above the recorded limit.
    auto discarded = StateStore::Open(dir.path, true);
    REQUIRE(discarded);
    CHECK((*discarded)->loaded().empty());
  }
  SECTION("a store file that is a symbolic link") {
    TempDir other;
    std::filesystem::rename(dir.db(), other.db());
    std::filesystem::create_symlink(other.db(), dir.db());
    CHECK(OpenError(dir) ==
          prefix + dir.db() + " is not a regular file (a symbolic link)");
  }
  SECTION("a removed or emptied generation file") {
    std::ofstream(dir.path + "/generation", std::ios::trunc);
    const std::string error = OpenError(dir);
    CHECK(error.rfind(prefix + "it holds ", 0) == 0);
    CHECK(error.find("/generation is missing or empty") != std::string::npos);
    std::filesystem::remove(dir.path + "/generation");
    CHECK(OpenError(dir) == error);
  }
  SECTION("--discard-state replaces a linked store file, not its target") {
    TempDir other;
    std::filesystem::rename(dir.db(), other.db());
    std::filesystem::create_symlink(other.db(), dir.db());
    auto discarded = StateStore::Open(dir.path, true);
    REQUIRE(discarded);
    CHECK_FALSE(std::filesystem::is_symlink(dir.db()));
    CHECK(std::filesystem::file_size(other.db()) > 0);  // left alone
  }
  SECTION("a meta number that is not a decimal number") {
    for (const char* key : {"commits", "id_limit"}) {
      for (const char* junk : {"", "12x", " 12", "+12", "-1", "0x10",
                               "18446744073709551616"}) {
        INFO(key << " = '" << junk << "'");
        Sql(dir.db(), std::string("UPDATE meta SET value = '") + junk +
                          "' WHERE key = '" + key + "'");
        CHECK(OpenError(dir) == prefix + "corrupt (meta " + key + " '" +
                                    junk +
                                    "') (--discard-state starts with an "
                                    "empty store)");
      }
      Sql(dir.db(), std::string("UPDATE meta SET value = '1' WHERE key = '") +
                        key + "'");
    }
  }
  SECTION("a generation file whose numbers are not decimal numbers") {
    for (const char* text :
         {"tokenfs-state 1x 2\n", "tokenfs-state -1 2\n",
          "tokenfs-state 1 +2\n", "tokenfs-state 1 0x2\n",
          "tokenfs-state 1 18446744073709551616\n", "tokenfs-state 1\n",
          "tokenfs-state 1 2 3\n"}) {
      INFO(text);
      std::ofstream(dir.path + "/generation", std::ios::trunc) << text;
      CHECK(OpenError(dir) == prefix + dir.path +
                                  "/generation is damaged (--discard-state "
                                  "starts with an empty store)");
    }
  }
  SECTION("a damaged generation file") {
    std::ofstream(dir.path + "/generation", std::ios::trunc) << "garbage\n";
    CHECK(OpenError(dir) == prefix + dir.path +
                                "/generation is damaged (--discard-state "
                                "starts with an empty store)");
  }
  SECTION("a removed database with its generation file left") {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(dir.db() + suffix);
    }
    const std::string error = OpenError(dir);
    CHECK(error.rfind(prefix + "it is missing or empty, but " + dir.path +
                          "/generation records ",
                      0) == 0);
    // Ids still never come back once it is discarded.
    const uint64_t recorded = [&dir] {
      std::ifstream in(dir.path + "/generation");
      std::string magic;
      uint64_t commits = 0, limit = 0;
      in >> magic >> commits >> limit;
      return limit;
    }();
    auto discarded = StateStore::Open(dir.path, true);
    REQUIRE(discarded);
    CHECK((*discarded)->first_id() >= recorded);
    CHECK(recorded > StateStore::kFirstId);
  }
  SECTION("--discard-state on a readable store keeps the id limit") {
    const uint64_t limit = OpenStarted(dir)->first_id();
    auto discarded = StateStore::Open(dir.path, true);
    REQUIRE(discarded);
    CHECK((*discarded)->loaded().empty());
    CHECK((*discarded)->first_id() == limit);
  }
}

}  // namespace
}  // namespace tokenfs
