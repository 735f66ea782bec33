#include "core/registry.h"

#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <utility>

#include "core/state_journal.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

// An in-memory process table standing in for /proc.
class FakeProcessSource : public ProcessSource {
 public:
  struct Task {
    int32_t tgid;
    int32_t ppid;
    uint64_t start;
    LinuxCredentials credentials;
    uint64_t instance = 0;  // the pidfd inode a real source reports
    int32_t process_group = 0;
    int32_t session = 0;
  };

  void AddProcess(int32_t pid, int32_t ppid, uint64_t start, uint32_t uid) {
    LinuxCredentials credentials;
    credentials.real_uid = credentials.effective_uid = uid;
    credentials.saved_uid = credentials.fs_uid = uid;
    credentials.real_gid = credentials.effective_gid = uid;
    credentials.saved_gid = credentials.fs_gid = uid;
    tasks[pid] = Task{pid, ppid, start, credentials};
  }
  void AddThread(int32_t tid, int32_t tgid, uint64_t start) {
    Task task = tasks.at(tgid);
    task.start = start;
    tasks[tid] = task;
  }
  // Sets the uid of every thread of `pid` (glibc's setuid does that).
  void SetUid(int32_t pid, uint32_t uid) {
    for (auto& [tid, task] : tasks) {
      if (task.tgid != pid) continue;
      auto& credentials = task.credentials;
      credentials.real_uid = credentials.effective_uid = uid;
      credentials.saved_uid = credentials.fs_uid = uid;
    }
  }
  void Remove(int32_t tid) { tasks.erase(tid); }
  void SetGroups(int32_t pid, int32_t process_group, int32_t session) {
    tasks.at(pid).process_group = process_group;
    tasks.at(pid).session = session;
  }
  // What `setpriv --no-new-privs` and `unshare -U -r` do to a process.
  void SetNoNewPrivs(int32_t pid) {
    tasks.at(pid).credentials.no_new_privs = true;
  }
  void EnterUserNamespace(int32_t pid) {
    auto& credentials = tasks.at(pid).credentials;
    credentials.initial_user_namespace = false;
    credentials.cap_permitted = credentials.cap_effective = ~uint64_t{0} >> 23;
  }

  Result<TaskInfo> ReadTask(int32_t tid) const override {
    ++reads;
    auto it = tasks.find(tid);
    if (it == tasks.end()) return MakeError(ErrorCode::kNotFound, "gone");
    TaskInfo info;
    info.tid = tid;
    info.tgid = it->second.tgid;
    const Task& leader = tasks.at(it->second.tgid);
    info.ppid = leader.ppid;
    info.start_time = leader.start;
    info.thread_start_time = it->second.start;
    info.instance = leader.instance;
    info.thread_instance = it->second.instance;
    info.credentials = it->second.credentials;  // per thread, as in Linux
    info.process_group = leader.process_group;
    info.session = leader.session;
    return info;
  }
  Result<TaskIncarnation> Incarnation(int32_t tid) const override {
    ++reads;
    auto it = tasks.find(tid);
    if (it == tasks.end()) return MakeError(ErrorCode::kNotFound, "gone");
    return TaskIncarnation{it->second.start, it->second.instance};
  }
  std::vector<int32_t> ListProcesses() const override {
    std::vector<int32_t> pids;
    for (const auto& [tid, task] : tasks) {
      if (task.tgid == tid) pids.push_back(tid);
    }
    return pids;
  }
  std::vector<int32_t> ListThreads(int32_t pid) const override {
    std::vector<int32_t> tids;
    for (const auto& [tid, task] : tasks) {
      if (task.tgid == pid) tids.push_back(tid);
    }
    return tids;
  }

  uint64_t ExecMark(int32_t pid) const override {
    auto it = exec_marks.find(pid);
    return it == exec_marks.end() ? 0 : it->second;
  }

  std::map<int32_t, Task> tasks;
  std::map<int32_t, uint64_t> exec_marks;
  mutable int reads = 0;
};

// Mints a bare token for the effective uid and counts the mints.
class FakeMinter : public TokenMinter {
 public:
  explicit FakeMinter(LuidAllocator& ids) : ids_(ids) {}
  Result<MintedIdentity> Mint(const LinuxCredentials& credentials) override {
    ++mints;
    if (auto hook = std::exchange(during_next_mint, nullptr)) hook();
    Token token;
    token.user = credentials.effective_uid == 0
                     ? well_known::LocalSystem()
                     : well_known::UnixUser(credentials.effective_uid);
    token.token_id = ids_.Next();
    token.privileges.present = token.privileges.enabled =
        privilege::Bit(privilege::kChangeNotify);
    // CAP_SYS_PTRACE counts as SeDebug; no_new_privs adds NEW_PROCESS_MIN.
    if (HoldsCapability(credentials, linux_capability::kSysPtrace)) {
      token.privileges.present |= privilege::Bit(privilege::kDebug);
      token.privileges.enabled |= privilege::Bit(privilege::kDebug);
    }
    if (credentials.no_new_privs) {
      token.mandatory_policy |= mandatory_policy::kNewProcessMin;
    }
    MintedIdentity identity{token, std::nullopt};
    if (split_admins && credentials.effective_uid == 1000) {
      Token full = token;
      full.token_id = ids_.Next();
      full.elevation_type = ElevationType::kFull;
      identity.token.elevation_type = ElevationType::kLimited;
      identity.linked_full = full;
    }
    return identity;
  }
  int mints = 0;
  bool split_admins = false;
  // Runs once, inside the next Mint: another request arriving while a
  // follow of credentials is under way outside the registry's lock.
  std::function<void()> during_next_mint;

 private:
  LuidAllocator& ids_;
};

struct Fixture {
  Fixture() : minter(ids), registry(source, minter, ids, Registry::Options{}) {
    source.AddProcess(1, 0, 10, 0);
    source.AddProcess(100, 1, 20, 1000);
  }
  // Disables a privilege on the process's primary token (stands in for an
  // adjustment through the tree).
  void DisableChangeNotify(int32_t pid) {
    auto view = registry.Process(pid);
    REQUIRE(view);
    auto updated =
        view->primary->Update([](const Token& token) -> Result<Token> {
          Token copy = token;
          copy.privileges.enabled &= ~privilege::Bit(privilege::kChangeNotify);
          return copy;
        });
    REQUIRE(updated);
  }
  bool ChangeNotifyEnabled(int32_t pid) {
    auto view = registry.Process(pid);
    REQUIRE(view);
    return view->primary->Get()->privileges.IsEnabled(privilege::kChangeNotify);
  }

  LuidAllocator ids;
  FakeProcessSource source;
  FakeMinter minter;
  Registry registry;
};

TEST_CASE("a process seen for the first time gets a minted token, kept after") {
  Fixture f;
  auto first = f.registry.Process(100);
  REQUIRE(first);
  CHECK(first->primary->Get()->user == well_known::UnixUser(1000));
  auto second = f.registry.Process(100);
  REQUIRE(second);
  CHECK(second->primary == first->primary);
}

TEST_CASE("an unknown pid is not found") {
  Fixture f;
  auto view = f.registry.Process(4242);
  REQUIRE_FALSE(view);
  CHECK(view.error().code == ErrorCode::kNotFound);
}

TEST_CASE("a thread id is not a process") {
  Fixture f;
  f.source.AddThread(101, 100, 25);
  auto view = f.registry.Process(101);
  REQUIRE_FALSE(view);
  CHECK(view.error().message.find("thread of process 100") !=
        std::string::npos);
}

TEST_CASE("a forked child inherits a copy of its parent's token at fork time") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  f.source.AddProcess(200, 100, 30, 1000);
  f.registry.OnFork(100, 200, 200);
  CHECK_FALSE(f.ChangeNotifyEnabled(200));
  auto child = f.registry.Process(200);
  auto parent = f.registry.Process(100);
  REQUIRE(child);
  REQUIRE(parent);
  CHECK(child->primary != parent->primary);
  CHECK(child->primary->id() != parent->primary->id());
}

TEST_CASE(
    "an install stands when the setuid it follows is reported after it") {
  // root forks a child, which drops to a user (setpriv) and execs; root
  // installs a restricted token into it. Under load the kernel's reports of
  // the uid change and the exec reach the daemon after the install: they
  // must not re-mint the user a fresh token over the installed one.
  Fixture f;
  f.registry.SetEventsLive(true);
  f.source.AddProcess(50, 1, 15, 0);  // root
  f.source.AddProcess(200, 50, 30, 0);
  f.registry.OnFork(50, 200, 200);    // recorded with root's credentials
  f.source.SetUid(200, 1000);         // setresuid, not yet reported
  Token installed = *f.registry.Process(100)->primary->Get();
  installed.token_id = f.ids.Next();
  installed.privileges.enabled = 0;
  TokenObjectPtr object = f.registry.NewObject(installed);
  REQUIRE(f.registry.InstallPrimary(200, object));
  f.registry.OnCredentialsChanged(200, 200);
  f.registry.OnExec(200);
  CHECK(f.registry.Process(200)->primary == object);
  CHECK_FALSE(f.ChangeNotifyEnabled(200));
}

TEST_CASE(
    "an install made while an exec is being followed is not overwritten") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.source.AddProcess(50, 1, 15, 0);  // root
  f.source.AddProcess(200, 50, 30, 0);
  f.registry.OnFork(50, 200, 200);
  f.source.SetUid(200, 1000);  // setpriv, then exec
  Token installed = *f.registry.Process(100)->primary->Get();
  installed.token_id = f.ids.Next();
  installed.privileges.enabled = 0;
  TokenObjectPtr object = f.registry.NewObject(installed);
  // The exec's report mints the user a token (a new identity); meanwhile
  // root installs the restricted one.
  f.minter.during_next_mint = [&] {
    REQUIRE(f.registry.InstallPrimary(200, object));
  };
  f.registry.OnExec(200);
  CHECK(f.registry.Process(200)->primary == object);
  // And the same with the uid change's report.
  f.source.AddProcess(201, 50, 31, 0);
  f.registry.OnFork(50, 201, 201);
  f.source.SetUid(201, 1000);
  Token second = installed;
  second.token_id = f.ids.Next();
  TokenObjectPtr other = f.registry.NewObject(second);
  f.minter.during_next_mint = [&] {
    REQUIRE(f.registry.InstallPrimary(201, other));
  };
  f.registry.OnCredentialsChanged(201, 201);
  CHECK(f.registry.Process(201)->primary == other);
}

TEST_CASE("a sibling forked before an adjustment keeps the earlier token") {
  Fixture f;
  f.registry.SetEventsLive(true);
  // The parent was never looked up before the fork: the fork mints it first.
  f.source.AddProcess(201, 100, 30, 1000);
  f.registry.OnFork(100, 201, 201);
  f.DisableChangeNotify(100);
  f.source.AddProcess(202, 100, 40, 1000);
  f.registry.OnFork(100, 202, 202);
  CHECK(f.ChangeNotifyEnabled(201));
  CHECK_FALSE(f.ChangeNotifyEnabled(202));
}

TEST_CASE(
    "a child first seen without events inherits from a parent with the "
    "same credentials") {
  Fixture f;
  f.DisableChangeNotify(100);
  const int mints = f.minter.mints;
  f.source.AddProcess(300, 100, 50, 1000);
  CHECK_FALSE(f.ChangeNotifyEnabled(300));
  CHECK(f.minter.mints == mints);
}

TEST_CASE("a child with different credentials than its parent is minted") {
  Fixture f;
  f.DisableChangeNotify(100);
  f.source.AddProcess(301, 100, 50, 0);
  auto child = f.registry.Process(301);
  REQUIRE(child);
  CHECK(child->primary->Get()->user == well_known::LocalSystem());
  CHECK(f.ChangeNotifyEnabled(301));
}

TEST_CASE("a reused pid never shows the earlier process's token") {
  Fixture f;
  f.DisableChangeNotify(100);
  auto before = f.registry.Process(100);
  REQUIRE(before);
  // Process 100 exits unseen and another one takes its pid.
  f.source.Remove(100);
  f.source.AddProcess(100, 1, 99, 1000);
  auto after = f.registry.Process(100);
  REQUIRE(after);
  CHECK(after->key.start_time == 99);
  CHECK(after->primary != before->primary);
  CHECK(f.ChangeNotifyEnabled(100));
}

TEST_CASE(
    "a pid reused within one clock tick never shows the earlier process's "
    "token") {
  Fixture f;
  f.source.tasks.at(100).instance = 7001;
  f.DisableChangeNotify(100);
  auto before = f.registry.Process(100);
  REQUIRE(before);
  // Same pid, same start time: only the pidfd inode tells them apart.
  f.source.Remove(100);
  f.source.AddProcess(100, 1, 20, 1000);
  f.source.tasks.at(100).instance = 7002;
  auto after = f.registry.Process(100);
  REQUIRE(after);
  CHECK(after->key.instance == 7002);
  CHECK(after->primary != before->primary);
  CHECK(f.ChangeNotifyEnabled(100));
}

TEST_CASE(
    "a thread id reused within one clock tick does not keep the earlier "
    "thread's impersonation") {
  Fixture f;
  f.source.AddThread(101, 100, 30);
  f.source.tasks.at(101).instance = 8001;
  auto other = f.registry.Process(1);
  REQUIRE(other);
  REQUIRE(f.registry.Impersonate(100, 101, other->primary, nullptr));
  auto thread = f.registry.Thread(100, 101);
  REQUIRE(thread);
  REQUIRE(thread->impersonation == other->primary);
  f.source.Remove(101);
  f.source.AddThread(101, 100, 30);
  f.source.tasks.at(101).instance = 8002;
  thread = f.registry.Thread(100, 101);
  REQUIRE(thread);
  CHECK(thread->impersonation == nullptr);
}

TEST_CASE(
    "an exec with unchanged credentials keeps the token and drops "
    "impersonation") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  auto view = f.registry.Process(100);
  REQUIRE(view);
  auto other = f.registry.Process(1);
  REQUIRE(other);
  REQUIRE(f.registry.Impersonate(100, 100, other->primary, nullptr));
  auto thread = f.registry.Thread(100, 100);
  REQUIRE(thread);
  CHECK(thread->impersonation == other->primary);
  f.registry.OnExec(100);
  thread = f.registry.Thread(100, 100);
  REQUIRE(thread);
  CHECK(thread->impersonation == nullptr);
  CHECK(thread->primary == view->primary);
}

TEST_CASE("an exec that changes credentials mints a fresh token") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  f.source.SetUid(100, 0);
  f.registry.OnExec(100);
  auto view = f.registry.Process(100);
  REQUIRE(view);
  CHECK(view->primary->Get()->user == well_known::LocalSystem());
  CHECK(f.registry.GetStats().reminted == 1);
}

TEST_CASE(
    "an exec adopts the impersonation token when asked to, even across "
    "a uid change") {
  Fixture f;
  f.registry.SetEventsLive(true);
  auto system = f.registry.Process(1);
  REQUIRE(system);
  f.source.SetUid(1, 0);
  auto user = f.registry.Process(100)->primary;
  REQUIRE(f.registry.Impersonate(1, 1, user, user));
  f.source.SetUid(1, 1000);
  f.registry.OnCredentialsChanged(1, 1);
  f.registry.OnExec(1);
  auto view = f.registry.Process(1);
  REQUIRE(view);
  CHECK(view->primary->Get()->user == well_known::UnixUser(1000));
  CHECK(view->credentials.effective_uid == 1000);
}

TEST_CASE(
    "an exec after an unprivileged narrowing keeps the adjusted token, "
    "narrowed") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  const Luid before = f.registry.Process(100)->primary->id();
  const int mints = f.minter.mints;
  SECTION("no_new_privs") { f.source.SetNoNewPrivs(100); }
  SECTION("a new user namespace") { f.source.EnterUserNamespace(100); }
  f.registry.OnExec(100);
  auto view = f.registry.Process(100);
  REQUIRE(view);
  CHECK_FALSE(f.ChangeNotifyEnabled(100));  // the adjustment stays
  CHECK(view->primary->id() != before);     // a narrowed copy
  CHECK(view->credentials == f.source.tasks.at(100).credentials);
  CHECK(f.registry.GetStats().narrowed == 1);
  CHECK(f.registry.GetStats().reminted == 0);
  // Two bounds (what the old and the new credentials mint), neither of
  // which becomes the process's token.
  CHECK(f.minter.mints == mints + 2);
}

TEST_CASE("no_new_privs set before an exec adds NEW_PROCESS_MIN") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  f.source.SetNoNewPrivs(100);
  f.registry.OnExec(100);
  const auto token = f.registry.Process(100)->primary->Get();
  CHECK((token->mandatory_policy & mandatory_policy::kNewProcessMin) != 0);
}

TEST_CASE("a capability dropped without exec removes its privilege only") {
  Fixture f;
  f.registry.SetEventsLive(true);
  auto& credentials = f.source.tasks.at(1).credentials;
  credentials.cap_permitted = credentials.cap_effective =
      linux_capability::Bit(linux_capability::kSysPtrace);
  auto root = f.registry.Process(1);
  REQUIRE(root);
  REQUIRE(root->primary->Get()->privileges.IsPresent(privilege::kDebug));
  f.DisableChangeNotify(1);
  credentials.cap_permitted = credentials.cap_effective = 0;
  f.registry.OnCredentialsChanged(1, 1);
  const auto token = f.registry.Process(1)->primary->Get();
  CHECK_FALSE(token->privileges.IsPresent(privilege::kDebug));
  CHECK_FALSE(f.ChangeNotifyEnabled(1));
  CHECK(f.registry.GetStats().narrowed == 1);
}

TEST_CASE(
    "a child first seen after setting no_new_privs inherits its parent's "
    "token") {
  Fixture f;
  f.DisableChangeNotify(100);
  f.source.AddProcess(310, 100, 50, 1000);
  f.source.SetNoNewPrivs(310);
  f.source.AddProcess(311, 100, 51, 1000);
  f.source.EnterUserNamespace(311);
  CHECK_FALSE(f.ChangeNotifyEnabled(310));
  CHECK_FALSE(f.ChangeNotifyEnabled(311));
  CHECK(f.registry.GetStats().narrowed == 2);
}

TEST_CASE(
    "a thread's exec, which ends the old leader, keeps the process's token") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.source.AddThread(105, 100, 25);
  f.DisableChangeNotify(100);
  const Luid id = f.registry.Process(100)->primary->id();
  // Thread 105 execs: the kernel reports the leader's exit, then the exec
  // of the process, which kept its pid, start time and pidfd inode.
  f.source.Remove(105);
  f.registry.OnExit(100, 100);
  f.registry.OnExec(100);
  auto view = f.registry.Process(100);
  REQUIRE(view);
  CHECK(view->primary->id() == id);
  CHECK_FALSE(f.ChangeNotifyEnabled(100));
  // It really ends later: gone once reaped.
  f.source.Remove(100);
  f.registry.OnExit(100, 100);
  f.registry.ReapExited();
  CHECK_FALSE(f.registry.Process(100));
}

TEST_CASE(
    "a uid change with an adoption pending follows the credentials, which a "
    "revert keeps") {
  Fixture f;
  f.registry.SetEventsLive(true);
  auto system = f.registry.Process(1);
  REQUIRE(system);
  REQUIRE(system->primary->Get()->user == well_known::LocalSystem());
  auto user = f.registry.Process(100)->primary;
  // Root asks to adopt the user's token at its next exec, drops to uid
  // 1000 itself, then changes its mind.
  REQUIRE(f.registry.Impersonate(1, 1, user, user));
  f.source.SetUid(1, 1000);
  f.registry.OnCredentialsChanged(1, 1);
  REQUIRE(f.registry.Revert(1, 1));
  f.registry.OnExec(1);
  auto view = f.registry.Process(1);
  REQUIRE(view);
  // Not Local System: the process runs as uid 1000.
  CHECK(view->primary->Get()->user == well_known::UnixUser(1000));
  CHECK(view->primary != user);
}

// What exec of a set-user-ID root program (newgrp, sg, su) does: the real
// uid stays, the effective and saved become 0.
void SetuidRoot(FakeProcessSource& source, int32_t pid) {
  auto& credentials = source.tasks.at(pid).credentials;
  credentials.effective_uid = credentials.saved_uid = credentials.fs_uid = 0;
}

TEST_CASE(
    "a set-user-ID helper that hands the user back a shell gives back her "
    "token, narrowed") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);  // stands in for a restriction
  SetuidRoot(f.source, 100);
  f.registry.OnExec(100);
  CHECK(f.registry.Process(100)->primary->Get()->user ==
        well_known::LocalSystem());
  // The helper forks the shell it will hand over; both drop back.
  f.source.AddProcess(200, 100, 30, 1000);
  f.source.tasks.at(200).credentials = f.source.tasks.at(100).credentials;
  f.registry.OnFork(100, 200, 200);
  for (int32_t pid : {100, 200}) {
    f.source.SetUid(pid, 1000);
    f.registry.OnCredentialsChanged(pid, pid);
    auto view = f.registry.Process(pid);
    REQUIRE(view);
    CHECK(view->primary->Get()->user == well_known::UnixUser(1000));
    CHECK_FALSE(f.ChangeNotifyEnabled(pid));
  }
  // The origin is spent: root again (a new set-ID exec) mints afresh.
  SetuidRoot(f.source, 200);
  f.registry.OnExec(200);
  CHECK(f.registry.Process(200)->primary->Get()->user ==
        well_known::LocalSystem());
}

TEST_CASE("a set-user-ID helper that becomes another user mints afresh") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  SetuidRoot(f.source, 100);
  f.registry.OnExec(100);
  f.source.SetUid(100, 1001);  // su to another user, authenticated
  f.registry.OnCredentialsChanged(100, 100);
  CHECK(f.registry.Process(100)->primary->Get()->user ==
        well_known::UnixUser(1001));
  CHECK(f.ChangeNotifyEnabled(100));
}

// A stand-in for a restricted copy: a token of uid 1000 with
// SeChangeNotify disabled, held by another process of hers (pid 300).
TokenObjectPtr NarrowCopy(Fixture& f) {
  f.source.AddProcess(300, 1, 25, 1000);
  f.DisableChangeNotify(300);
  return f.registry.Process(300)->primary;
}

TEST_CASE(
    "a child written to before its fork is reported keeps its pending "
    "adoption") {
  Fixture f;
  f.registry.SetEventsLive(true);
  const TokenObjectPtr narrow = NarrowCopy(f);
  // `token impersonate --id X -- cmd`: the parent forks and at once asks
  // for the child's adoption at exec; the fork event comes after.
  f.source.AddProcess(200, 100, 30, 1000);
  REQUIRE(f.registry.Process(200));
  REQUIRE(f.registry.Impersonate(200, 200, narrow, narrow));
  f.registry.OnFork(100, 200, 200);
  f.registry.OnExec(200);
  auto view = f.registry.Process(200);
  REQUIRE(view);
  CHECK(view->primary == narrow);
  CHECK_FALSE(f.ChangeNotifyEnabled(200));
}

TEST_CASE(
    "a thread that impersonates before its clone is reported keeps its "
    "impersonation") {
  Fixture f;
  f.registry.SetEventsLive(true);
  const TokenObjectPtr narrow = NarrowCopy(f);
  f.source.AddThread(101, 100, 25);
  REQUIRE(f.registry.Impersonate(100, 101, narrow, nullptr));
  f.registry.OnFork(100, 101, 100);
  auto view = f.registry.Thread(100, 101);
  REQUIRE(view);
  CHECK(view->impersonation == narrow);
}

TEST_CASE(
    "an adoption taken at a set-user-ID exec comes back when the helper's "
    "shell drops to the user") {
  Fixture f;
  f.registry.SetEventsLive(true);
  const TokenObjectPtr narrow = NarrowCopy(f);
  // `token impersonate --id X -- sg her-group -c cmd`, or the adoption's
  // exec reported only once sg ran.
  REQUIRE(f.registry.Impersonate(100, 100, narrow, narrow));
  SetuidRoot(f.source, 100);
  SECTION("as Linux reports it: the new ids, then the exec") {
    f.registry.OnCredentialsChanged(100, 100);
    f.registry.OnExec(100);
  }
  SECTION("the exec alone") { f.registry.OnExec(100); }
  f.source.AddProcess(200, 100, 30, 1000);
  f.source.tasks.at(200).credentials = f.source.tasks.at(100).credentials;
  f.registry.OnFork(100, 200, 200);
  f.source.SetUid(200, 1000);
  f.registry.OnCredentialsChanged(200, 200);
  auto view = f.registry.Process(200);
  REQUIRE(view);
  CHECK(view->primary->Get()->user == well_known::UnixUser(1000));
  CHECK_FALSE(f.ChangeNotifyEnabled(200));
}

TEST_CASE(
    "a process whose root ancestor became its user still gets its own token "
    "back from a set-user-ID helper") {
  Fixture f;
  f.registry.SetEventsLive(true);
  // Root (pid 50) takes uid 1000 as its effective uid only, keeping its
  // real uid (it may switch back): its root token is kept aside. Then it
  // becomes uid 1000 for good (a login program); that origin stays,
  // useless to uid 1000.
  f.source.AddProcess(50, 1, 12, 0);
  REQUIRE(f.registry.Process(50));
  f.source.tasks.at(50).credentials.effective_uid = 1000;
  f.source.tasks.at(50).credentials.fs_uid = 1000;
  f.registry.OnCredentialsChanged(50, 50);
  f.source.SetUid(50, 1000);
  f.registry.OnCredentialsChanged(50, 50);
  REQUIRE(f.registry.Process(50)->primary->Get()->user ==
          well_known::UnixUser(1000));
  // Now restricted, it runs sg, whose shell drops back to uid 1000.
  f.DisableChangeNotify(50);
  SetuidRoot(f.source, 50);
  f.registry.OnCredentialsChanged(50, 50);
  f.registry.OnExec(50);
  f.source.AddProcess(200, 50, 30, 1000);
  f.source.tasks.at(200).credentials = f.source.tasks.at(50).credentials;
  f.registry.OnFork(50, 200, 200);
  f.source.SetUid(200, 1000);
  f.registry.OnCredentialsChanged(200, 200);
  auto view = f.registry.Process(200);
  REQUIRE(view);
  CHECK(view->primary->Get()->user == well_known::UnixUser(1000));
  CHECK_FALSE(f.ChangeNotifyEnabled(200));
}

TEST_CASE(
    "a set-user-ID helper's child seen before the helper's exec is reported "
    "gives back the token when it drops") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  // sg ran and forked; no event has been read yet when the child is seen.
  SetuidRoot(f.source, 100);
  f.source.AddProcess(200, 100, 30, 1000);
  f.source.tasks.at(200).credentials = f.source.tasks.at(100).credentials;
  REQUIRE(f.registry.Process(200)->primary->Get()->user ==
          well_known::LocalSystem());
  f.source.SetUid(200, 1000);
  f.registry.OnCredentialsChanged(200, 200);
  CHECK(f.registry.Process(200)->primary->Get()->user ==
        well_known::UnixUser(1000));
  CHECK_FALSE(f.ChangeNotifyEnabled(200));
}

TEST_CASE(
    "a thread's uid change is read from that thread, the main one may have "
    "exited") {
  Fixture f;
  f.registry.SetEventsLive(true);
  auto& root = f.source.tasks.at(1).credentials;
  root = LinuxCredentials{};  // pid 1 as root
  f.source.AddThread(7, 1, 15);
  REQUIRE(f.registry.Process(1)->primary->Get()->user ==
          well_known::LocalSystem());
  // The main thread called pthread_exit; the other one drops to uid 1000
  // with a raw setresuid. The main thread's status still says root.
  auto& worker = f.source.tasks.at(7).credentials;
  worker.real_uid = worker.effective_uid = worker.saved_uid = worker.fs_uid =
      1000;
  f.registry.OnCredentialsChanged(7, 1);
  CHECK(f.registry.Process(1)->primary->Get()->user ==
        well_known::UnixUser(1000));
}

TEST_CASE("a uid change without exec mints afresh") {
  Fixture f;
  f.registry.SetEventsLive(true);
  REQUIRE(f.registry.Process(1));
  f.source.SetUid(1, 1000);
  f.registry.OnCredentialsChanged(1, 1);
  auto view = f.registry.Process(1);
  REQUIRE(view);
  CHECK(view->primary->Get()->user == well_known::UnixUser(1000));
}

TEST_CASE("process exit releases the entry unless other threads still run") {
  Fixture f;
  f.registry.SetEventsLive(true);
  auto before = f.registry.Process(100);
  REQUIRE(before);
  const size_t processes = f.registry.GetStats().processes;  // 100 and 1
  f.source.AddThread(105, 100, 26);
  f.registry.OnExit(100, 100);  // leader exits, thread 105 runs on
  CHECK(f.registry.GetStats().processes == processes);
  auto during = f.registry.Process(100);
  REQUIRE(during);
  CHECK(during->primary == before->primary);
  f.source.Remove(105);
  f.registry.OnExit(105, 100);
  f.source.Remove(100);
  f.registry.OnExit(100, 100);
  CHECK(f.registry.GetStats().processes == processes - 1);
}

TEST_CASE("thread lookup refuses a thread of another process") {
  Fixture f;
  f.source.AddThread(110, 100, 27);
  CHECK(f.registry.Thread(100, 110));
  auto wrong = f.registry.Thread(1, 110);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == ErrorCode::kNotFound);
}

TEST_CASE("a task id resolves to its process and effective token") {
  Fixture f;
  f.source.AddThread(111, 100, 28);
  auto task = f.registry.Task(111);
  REQUIRE(task);
  CHECK(task->process.pid == 100);
  auto system = f.registry.Process(1);
  REQUIRE(f.registry.Impersonate(100, 111, system->primary, nullptr));
  task = f.registry.Task(111);
  REQUIRE(task);
  CHECK(task->effective() == system->primary);
  REQUIRE(f.registry.Revert(100, 111));
  task = f.registry.Task(111);
  REQUIRE(task);
  CHECK(task->effective() == task->primary);
}

TEST_CASE("sweep drops entries of processes that are gone") {
  Fixture f;
  REQUIRE(f.registry.Process(100));
  REQUIRE(f.registry.Process(1));
  f.source.Remove(100);
  f.registry.Sweep();
  CHECK(f.registry.GetStats().processes == 1);
}

TEST_CASE("objects beyond the per-user quota are refused") {
  LuidAllocator ids;
  FakeProcessSource source;
  FakeMinter minter(ids);
  Registry::Options options;
  options.object_quota_per_user = 2;
  Registry registry(source, minter, ids, options);
  source.AddProcess(100, 1, 20, 1000);
  auto creator = registry.Process(100);
  REQUIRE(creator);
  auto make = [&] {
    Token token;
    token.token_id = ids.Next();
    return registry.AddObject(token, creator->key, 1000, false);
  };
  REQUIRE(make());
  REQUIRE(make());
  auto third = make();
  REQUIRE_FALSE(third);
  CHECK(third.error().code == ErrorCode::kResourceExhausted);
  // Another user has a quota of their own.
  Token token;
  token.token_id = ids.Next();
  CHECK(registry.AddObject(token, creator->key, 1001, false));
}

TEST_CASE("objects beyond the per-user byte quota are refused") {
  LuidAllocator ids;
  FakeProcessSource source;
  FakeMinter minter(ids);
  Registry::Options options;
  options.object_bytes_per_user = 64 * 1024;
  Registry registry(source, minter, ids, options);
  source.AddProcess(100, 1, 20, 1000);
  auto creator = registry.Process(100);
  REQUIRE(creator);
  // A token restricted to 200 SIDs: each costs a SID and its attributes.
  Token large;
  large.restricted_sids.emplace();
  for (uint32_t rid = 0; rid < 200; ++rid) {
    large.restricted_sids->push_back({well_known::UnixUser(5000 + rid), 0});
  }
  const size_t each = ApproximateTokenBytes(large);
  REQUIRE(each > 200 * sizeof(SidAndAttributes));
  size_t made = 0;
  for (; made < 1000; ++made) {
    large.token_id = ids.Next();
    auto object = registry.AddObject(large, creator->key, 1000, false);
    if (!object) {
      CHECK(object.error().code == ErrorCode::kResourceExhausted);
      CHECK_THAT(object.error().message, Catch::Contains("byte"));
      break;
    }
  }
  CHECK(made == options.object_bytes_per_user / each);
  // Small objects of another user still fit.
  Token small;
  small.token_id = ids.Next();
  CHECK(registry.AddObject(small, creator->key, 1001, false));
  // Revoking frees the bytes.
  REQUIRE(registry.RemoveObject(registry.ListObjects().front()));
  large.token_id = ids.Next();
  CHECK(registry.AddObject(large, creator->key, 1000, false));
}

TEST_CASE(
    "objects live while their creator lives, while used, or when "
    "persistent") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.source.AddProcess(400, 100, 60, 1000);
  f.registry.OnFork(100, 400, 400);
  auto creator = f.registry.Process(400);
  REQUIRE(creator);
  auto add = [&](bool persist) {
    Token token;
    token.token_id = f.ids.Next();
    auto object = f.registry.AddObject(token, creator->key, 1000, persist);
    REQUIRE(object);
    return (*object)->id();
  };
  const Luid plain = add(false);
  const Luid kept = add(true);
  const Luid used = add(false);
  auto holder = f.registry.FindObject(used);
  REQUIRE(holder);
  f.registry.ReleaseUnused();
  CHECK(f.registry.ListObjects().size() == 3);

  f.source.Remove(400);
  f.registry.OnExit(400, 400);
  CHECK_FALSE(f.registry.FindObject(plain));
  CHECK(f.registry.FindObject(kept));
  CHECK(f.registry.FindObject(used));
  holder->reset();
  f.registry.ReleaseUnused();
  CHECK_FALSE(f.registry.FindObject(used));
  REQUIRE(f.registry.RemoveObject(kept));
  CHECK(f.registry.ListObjects().empty());
}

TEST_CASE(
    "an administrator's minted token is linked to its Full partner, "
    "and fork copies stay linked") {
  Fixture f;
  f.minter.split_admins = true;
  f.registry.SetEventsLive(true);
  auto view = f.registry.Process(100);
  REQUIRE(view);
  auto full = view->primary->LinkedPartner();
  REQUIRE(full);
  CHECK(full->Get()->elevation_type == ElevationType::kFull);
  CHECK(full->LinkedPartner() == view->primary);
  f.source.AddProcess(500, 100, 70, 1000);
  f.registry.OnFork(100, 500, 500);
  auto child = f.registry.Process(500);
  REQUIRE(child);
  CHECK(child->primary->LinkedPartner() == full);
}

TEST_CASE("token object updates are all-or-nothing and keep the token id") {
  Token token;
  token.token_id = Luid{77};
  TokenObject object(token);
  auto failed = object.Update(
      [](const Token&) -> Result<Token> { return InvalidArgument("refused"); });
  REQUIRE_FALSE(failed);
  auto updated = object.Update([](const Token& current) -> Result<Token> {
    Token copy = current;
    copy.token_id = Luid{5};  // an operation may not re-identify the object
    copy.interactive_session_id = 3;
    return copy;
  });
  REQUIRE(updated);
  CHECK((*updated)->token_id == Luid{77});
  CHECK(object.Get()->interactive_session_id == 3);
}

TEST_CASE(
    "a token object refuses a token it could not record, whatever the "
    "operation checked") {
  Token token;
  token.token_id = Luid{78};
  TokenObject object(token);
  // 3276 audit ACEs fit an ACL (65528 bytes) until the integrity label is
  // added: 65548.
  Acl sacl;
  sacl.aces.assign(3276, Ace{.type = AceType::kSystemAudit,
                             .flags = 0x40,
                             .mask = AccessMask(0x10000000),
                             .sid = well_known::Everyone()});
  auto refused = object.Update([&sacl](const Token& current) -> Result<Token> {
    Token copy = current;
    copy.security.SetSacl(sacl);
    return copy;
  });
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(refused.error().message, Catch::Contains("security SACL"));
  const auto& kept = object.Get()->security.sacl;
  CHECK_FALSE((kept && kept->aces.size() > 1));
}

TEST_CASE("marking privileges used only sets present ones") {
  Token token;
  token.privileges.present = privilege::Bit(privilege::kDebug);
  TokenObject object(token);
  object.MarkPrivilegesUsed(privilege::Bit(privilege::kDebug) |
                            privilege::Bit(privilege::kTcb));
  CHECK(object.Get()->privileges.used == privilege::Bit(privilege::kDebug));
}

}  // namespace
}  // namespace tokenfs

// ---------------------------------------------------------------------------
// Journal and restart

namespace tokenfs {
namespace {

// Keeps the journal's records in memory, as a store would after a commit.
class MemoryJournal : public StateJournal {
 public:
  void RecordToken(std::shared_ptr<const Token> token, Luid partner,
                   bool owns) override {
    std::lock_guard<std::mutex> lock(mutex);
    tokens[token->token_id.value] = StoredToken{*token, partner, owns};
  }
  void ForgetToken(Luid id) override {
    std::lock_guard<std::mutex> lock(mutex);
    tokens.erase(id.value);
  }
  void RecordProcess(const ProcessRecord& record) override {
    std::lock_guard<std::mutex> lock(mutex);
    processes[record.key.pid] = record;
  }
  void ForgetProcess(const ProcessKey& key) override {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = processes.find(key.pid);
    if (it != processes.end() && it->second.key == key) processes.erase(it);
  }
  void RecordThread(const ThreadRecord& record) override {
    std::lock_guard<std::mutex> lock(mutex);
    threads[record.tid] = record;
  }
  void ForgetThread(int32_t tid, const TaskIncarnation& incarnation) override {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = threads.find(tid);
    if (it != threads.end() && it->second.incarnation == incarnation) {
      threads.erase(it);
    }
  }
  void RecordObject(const ObjectRecord& record) override {
    std::lock_guard<std::mutex> lock(mutex);
    objects[record.id.value] = record;
  }
  void ForgetObject(Luid id) override {
    std::lock_guard<std::mutex> lock(mutex);
    objects.erase(id.value);
  }
  Status Flush() override { return Ok(); }

  void Reset(const StoredState& state) {
    std::lock_guard<std::mutex> lock(mutex);
    tokens.clear();
    processes.clear();
    threads.clear();
    objects.clear();
    for (const StoredToken& token : state.tokens) {
      tokens[token.token.token_id.value] = token;
    }
    for (const auto& record : state.processes)
      processes[record.key.pid] = record;
    for (const auto& record : state.threads) threads[record.tid] = record;
    for (const auto& record : state.objects) objects[record.id.value] = record;
  }

  StoredState State(const std::string& boot) {
    std::lock_guard<std::mutex> lock(mutex);
    StoredState state;
    state.boot_id = boot;
    for (const auto& [id, token] : tokens) state.tokens.push_back(token);
    for (const auto& [pid, record] : processes) {
      state.processes.push_back(record);
    }
    for (const auto& [tid, record] : threads) state.threads.push_back(record);
    for (const auto& [id, record] : objects) state.objects.push_back(record);
    return state;
  }

  std::mutex mutex;
  std::map<uint64_t, StoredToken> tokens;
  std::map<int32_t, ProcessRecord> processes;
  std::map<int32_t, ThreadRecord> threads;
  std::map<uint64_t, ObjectRecord> objects;
};

// A daemon's life: a registry journaling into `journal`, which survives
// Restart() (a new registry restored from the journal, as after kill -9).
struct Lifetime {
  Lifetime() { Restart(); }
  void Restart(const std::string& boot = "boot-1") {
    // What a crash leaves: the records as they are now (the old registry's
    // teardown below would forget them; a killed daemon does not).
    const StoredState state = journal.State("boot-1");
    registry.reset();
    minter.reset();
    journal.Reset(state);
    minter = std::make_unique<FakeMinter>(ids);
    registry = std::make_unique<Registry>(source, *minter, ids,
                                          Registry::Options{}, &journal);
    registry->SetEventsLive(true);
    report = registry->Restore(state, boot);
  }
  void Disable(int32_t pid, uint32_t privilege_index) {
    auto view = registry->Process(pid);
    REQUIRE(view);
    REQUIRE(view->primary->Update([&](const Token& token) -> Result<Token> {
      Token copy = token;
      copy.privileges.enabled &= ~privilege::Bit(privilege_index);
      return copy;
    }));
  }
  bool Enabled(int32_t pid) {
    auto view = registry->Process(pid);
    REQUIRE(view);
    return view->primary->Get()->privileges.IsEnabled(privilege::kChangeNotify);
  }

  LuidAllocator ids;
  FakeProcessSource source;
  MemoryJournal journal;
  std::unique_ptr<FakeMinter> minter;
  std::unique_ptr<Registry> registry;
  Registry::RestoreReport report;
};

Lifetime& WithProcesses(Lifetime& life) {
  life.source.AddProcess(1, 0, 10, 0);
  life.source.AddProcess(100, 1, 20, 1000);
  return life;
}

TEST_CASE("an adjusted token comes back after a restart with its id") {
  Lifetime life;
  WithProcesses(life);
  life.Disable(100, privilege::kChangeNotify);
  const Luid id = life.registry->Process(100)->primary->id();
  life.Restart();
  CHECK(life.report.processes == 2);
  CHECK_FALSE(life.Enabled(100));
  CHECK(life.registry->Process(100)->primary->id() == id);
  CHECK(life.minter->mints == 0);
}

TEST_CASE("a record of a process that ended or whose pid was reused goes") {
  Lifetime life;
  WithProcesses(life);
  life.source.AddProcess(200, 1, 30, 1000);
  life.Disable(100, privilege::kChangeNotify);
  life.Disable(200, privilege::kChangeNotify);
  life.source.Remove(100);
  life.source.AddProcess(200, 1, 31, 1000);  // same pid, new start time
  life.Restart();
  CHECK(life.report.gone == 2);
  CHECK(life.journal.processes.count(100) == 0);
  CHECK(life.Enabled(200));  // a stranger: minted, not the old token
}

TEST_CASE("credentials changed while down are minted afresh") {
  Lifetime life;
  WithProcesses(life);
  life.Disable(100, privilege::kChangeNotify);
  life.source.SetUid(100, 1001);
  life.Restart();
  CHECK(life.report.reminted == 1);
  CHECK(life.registry->Process(100)->primary->Get()->user ==
        well_known::UnixUser(1001));
}

TEST_CASE("credentials narrowed while down keep the adjusted token") {
  Lifetime life;
  WithProcesses(life);
  life.source.AddProcess(200, 1, 30, 1000);
  life.Disable(100, privilege::kChangeNotify);
  life.Disable(200, privilege::kChangeNotify);
  life.source.SetNoNewPrivs(100);
  life.source.EnterUserNamespace(200);
  life.Restart();
  CHECK(life.report.narrowed == 2);
  CHECK(life.report.reminted == 0);
  CHECK_FALSE(life.Enabled(100));
  CHECK_FALSE(life.Enabled(200));
  // And the narrowed state is what a second restart finds.
  life.Restart();
  CHECK(life.report.narrowed == 0);
  CHECK_FALSE(life.Enabled(100));
}

TEST_CASE("a set-user-ID helper's origin survives a restart") {
  Lifetime life;
  WithProcesses(life);
  life.Disable(100, privilege::kChangeNotify);
  SetuidRoot(life.source, 100);
  life.registry->OnExec(100);
  life.Restart();
  REQUIRE(life.registry->Process(100)->primary->Get()->user ==
          well_known::LocalSystem());
  life.source.SetUid(100, 1000);  // handed back while the daemon was down
  life.Restart();
  CHECK(life.registry->Process(100)->primary->Get()->user ==
        well_known::UnixUser(1000));
  CHECK_FALSE(life.Enabled(100));
}

TEST_CASE("a child forked while down inherits from its nearest ancestor") {
  Lifetime life;
  WithProcesses(life);
  life.Disable(100, privilege::kChangeNotify);
  life.Restart();
  // Forked while the daemon was down: 300 from 100, 400 from 300.
  life.source.AddProcess(300, 100, 50, 1000);
  life.source.AddProcess(400, 300, 60, 1000);
  CHECK_FALSE(life.Enabled(400));
  CHECK_FALSE(life.Enabled(300));
  CHECK(life.minter->mints == 0);
}

TEST_CASE(
    "an orphan forked while down inherits from its process group's leader") {
  Lifetime life;
  WithProcesses(life);
  life.source.SetGroups(1, 1, 1);
  life.source.SetGroups(100, 100, 100);  // a login shell
  life.source.AddProcess(300, 100, 30, 1000);
  life.source.SetGroups(300, 300, 100);  // a job it started, adjusted
  life.Disable(300, privilege::kChangeNotify);
  life.Restart();
  // While the daemon was down the job forked twice and the middle process
  // ended: the grandchild's parent is now pid 1.
  life.source.AddProcess(400, 1, 60, 1000);
  life.source.SetGroups(400, 300, 100);
  CHECK_FALSE(life.Enabled(400));
  // Without its job's leader, the session's leader is the nearest.
  life.source.Remove(300);
  life.registry->OnExit(300, 300);
  life.source.AddProcess(401, 1, 61, 1000);
  life.source.SetGroups(401, 300, 100);
  life.Disable(100, privilege::kChangeNotify);
  CHECK_FALSE(life.Enabled(401));
}

TEST_CASE(
    "an orphan in pid 1's own session inherits from its process group's "
    "leader") {
  // pid 1 never called setsid: it and what it forks without one share
  // session 0, so a re-parented process's session is its reaper's.
  Lifetime life;
  WithProcesses(life);
  life.source.SetGroups(1, 0, 0);
  life.source.SetGroups(100, 100, 0);  // a job: a group of its own
  life.Disable(100, privilege::kChangeNotify);
  life.Restart();
  // The job forked twice while the daemon was down, the middle process
  // ended: the grandchild's parent is now pid 1, its group still the job's.
  life.source.AddProcess(400, 1, 60, 1000);
  life.source.SetGroups(400, 100, 0);
  CHECK_FALSE(life.Enabled(400));
  CHECK(life.minter->mints == 0);
}

TEST_CASE(
    "a subreaper in the orphan's session is passed over for the group's "
    "leader") {
  Lifetime life;
  WithProcesses(life);
  life.source.SetGroups(1, 1, 1);
  life.source.SetGroups(100, 100, 100);  // a login shell: a subreaper
  life.source.AddProcess(300, 100, 30, 1000);
  life.source.SetGroups(300, 300, 100);  // a job it started, adjusted
  life.Disable(300, privilege::kChangeNotify);
  life.Restart();
  life.source.AddProcess(400, 100, 60, 1000);  // re-parented to the shell
  life.source.SetGroups(400, 300, 100);
  CHECK_FALSE(life.Enabled(400));
  CHECK(life.Enabled(100));
}

TEST_CASE(
    "joining the group of a process that is not one's parent's descendant "
    "buys nothing") {
  Lifetime life;
  WithProcesses(life);
  life.source.SetGroups(1, 1, 1);
  life.source.SetGroups(100, 100, 100);  // a session's leader
  life.source.AddProcess(200, 100, 25, 1000);
  life.source.SetGroups(200, 200, 100);  // an unadjusted job
  life.source.AddProcess(300, 100, 30, 1000);
  life.source.SetGroups(300, 300, 100);  // a restricted job
  life.Disable(300, privilege::kChangeNotify);
  life.Restart();
  // While the daemon was down the restricted job forked a child that moved
  // itself into the unadjusted job's group (setpgid within the session).
  life.source.AddProcess(400, 300, 60, 1000);
  life.source.SetGroups(400, 200, 100);
  CHECK_FALSE(life.Enabled(400));
  CHECK(life.Enabled(200));
}

TEST_CASE(
    "joining the group of a descendant that ran a set-ID program gives back "
    "what that descendant inherited") {
  Lifetime life;
  WithProcesses(life);
  life.source.SetGroups(1, 1, 1);
  life.source.SetGroups(100, 100, 100);
  life.source.AddProcess(300, 100, 30, 1000);
  life.source.SetGroups(300, 300, 100);  // a restricted job
  life.Disable(300, privilege::kChangeNotify);
  life.Restart();
  // While the daemon was down the job started a set-uid root program in a
  // group of its own, and then a child that joined that group.
  life.source.AddProcess(500, 300, 50, 1000);
  life.source.SetGroups(500, 500, 100);
  auto& setuid = life.source.tasks.at(500).credentials;
  setuid.effective_uid = setuid.saved_uid = setuid.fs_uid = 0;
  CHECK(life.registry->Process(500)->primary->Get()->user ==
        well_known::LocalSystem());  // a set-ID program: a fresh token
  life.source.AddProcess(400, 300, 60, 1000);
  life.source.SetGroups(400, 500, 100);
  CHECK_FALSE(life.Enabled(400));
  CHECK(life.registry->Process(400)->primary->Get()->user ==
        well_known::UnixUser(1000));
}

TEST_CASE(
    "a process pid 1 started in a session of its own is minted, not "
    "inherited") {
  Lifetime life;
  WithProcesses(life);
  life.source.SetGroups(1, 1, 1);
  life.source.SetGroups(100, 100, 100);
  life.Disable(100, privilege::kChangeNotify);
  life.Restart();
  life.source.AddProcess(500, 1, 70, 1000);  // a service: setsid
  life.source.SetGroups(500, 500, 500);
  CHECK(life.Enabled(500));
  // One whose group leader is younger than itself is no descendant of it.
  life.source.AddProcess(600, 1, 80, 1000);
  life.source.SetGroups(600, 700, 100);
  life.source.AddProcess(700, 100, 90, 1000);
  life.source.SetGroups(700, 700, 100);
  life.source.Remove(100);
  life.registry->OnExit(100, 100);
  CHECK(life.Enabled(600));
}

TEST_CASE(
    "impersonation survives a restart; an exec missed while down ends it") {
  Lifetime life;
  WithProcesses(life);
  life.source.AddThread(105, 100, 25);
  life.source.exec_marks[100] = 7;
  Token impersonation = *life.registry->Process(100)->primary->Get();
  impersonation.token_id = life.ids.Next();
  impersonation.type = TokenType::kImpersonation;
  impersonation.impersonation_level = ImpersonationLevel::kImpersonation;
  Token adopted = *life.registry->Process(100)->primary->Get();
  adopted.token_id = life.ids.Next();
  adopted.privileges.enabled = 0;
  REQUIRE(life.registry->Impersonate(
      100, 105, life.registry->NewObject(impersonation), nullptr));
  REQUIRE(life.registry->Impersonate(100, 100,
                                     life.registry->NewObject(impersonation),
                                     life.registry->NewObject(adopted)));
  life.Restart();
  CHECK(life.report.threads == 2);
  CHECK(life.registry->Thread(100, 105)->impersonation);
  CHECK(life.registry->Thread(100, 100)->impersonation);

  life.source.exec_marks[100] = 8;  // the process ran a new program
  life.source.Remove(105);          // which ended its other threads
  life.Restart();
  CHECK(life.report.missed_execs == 1);
  CHECK(life.report.threads == 0);
  CHECK_FALSE(life.registry->Thread(100, 100)->impersonation);
  CHECK(life.registry->Process(100)->primary->id() == adopted.token_id);
  CHECK_FALSE(life.Enabled(100));
}

TEST_CASE(
    "without an exec mark, a restart takes an exec to have happened where "
    "one matters") {
  Lifetime life;
  WithProcesses(life);
  life.source.AddProcess(200, 1, 30, 1000);
  // No exec marks: the layout is not randomized (setarch -R).
  Token impersonation = *life.registry->Process(100)->primary->Get();
  impersonation.token_id = life.ids.Next();
  impersonation.type = TokenType::kImpersonation;
  impersonation.impersonation_level = ImpersonationLevel::kImpersonation;
  Token adopted = *life.registry->Process(100)->primary->Get();
  adopted.token_id = life.ids.Next();
  adopted.privileges.enabled = 0;
  REQUIRE(life.registry->Impersonate(100, 100,
                                     life.registry->NewObject(impersonation),
                                     life.registry->NewObject(adopted)));
  REQUIRE(life.registry->Impersonate(
      200, 200, life.registry->NewObject(impersonation), nullptr));
  life.Restart();
  CHECK(life.report.missed_execs == 2);
  CHECK(life.registry->Process(100)->primary->id() == adopted.token_id);
  CHECK_FALSE(life.Enabled(100));
  CHECK_FALSE(life.registry->Thread(100, 100)->impersonation);
  CHECK_FALSE(life.registry->Thread(200, 200)->impersonation);
}

TEST_CASE("objects come back while persistent, held or referred to") {
  Lifetime life;
  WithProcesses(life);
  life.source.AddProcess(200, 1, 30, 1000);
  const ProcessKey holder = life.registry->Process(200)->key;
  Token token = *life.registry->Process(100)->primary->Get();
  token.token_id = life.ids.Next();
  auto kept = life.registry->AddObject(token, holder, 1000, true);
  token.token_id = life.ids.Next();
  auto held = life.registry->AddObject(token, holder, 1000, false);
  REQUIRE(kept);
  REQUIRE(held);
  const Luid kept_id = (*kept)->id();
  const Luid held_id = (*held)->id();
  kept->reset();
  held->reset();
  life.Restart();
  CHECK(life.registry->FindObject(kept_id));
  CHECK(life.registry->FindObject(held_id));
  life.source.Remove(200);  // the holder ends while the daemon is down
  life.Restart();
  CHECK(life.registry->FindObject(kept_id));
  CHECK_FALSE(life.registry->FindObject(held_id));
  CHECK(life.journal.objects.count(held_id.value) == 0);
  CHECK(life.journal.tokens.count(held_id.value) == 0);
}

// A chain root (from process 100's token) -> child -> grandchild, plus a
// sibling of the root, all held by process 200 of uid 1000.
struct Family {
  explicit Family(Lifetime& life) {
    WithProcesses(life);
    life.source.AddProcess(200, 1, 30, 1000);
    const ProcessKey holder = life.registry->Process(200)->key;
    const Token base = *life.registry->Process(100)->primary->Get();
    process_token = base.token_id;
    auto add = [&](Luid from, std::string how) {
      Token token = base;
      token.token_id = life.ids.Next();
      auto object = life.registry->AddObject(token, holder, 1000, false, 1000,
                                             {from, std::move(how)});
      REQUIRE(object);
      return (*object)->id();
    };
    root = add(process_token, "duplicate");
    child = add(root, "restrict");
    grandchild = add(child, "duplicate");
    sibling = add(process_token, "restrict");
  }
  Luid process_token, root, child, grandchild, sibling;
};

TEST_CASE("derived objects form a tree by the token they came from") {
  Lifetime life;
  Family family(life);
  auto children = life.registry->ObjectChildren(family.process_token);
  REQUIRE(children.size() == 2);
  CHECK(children[0].id == family.root);
  CHECK(children[0].derivation == "duplicate");
  CHECK(children[1].id == family.sibling);
  CHECK(children[1].derivation == "restrict");
  children = life.registry->ObjectChildren(family.root);
  REQUIRE(children.size() == 1);
  CHECK(children[0].id == family.child);
  CHECK(life.registry->ObjectChildren(family.grandchild).empty());
  CHECK(life.registry->ObjectChildren(Luid{0}).empty());
}

TEST_CASE("revoking an object revokes its subtree, durably") {
  Lifetime life;
  Family family(life);
  auto revoked = life.registry->RemoveObject(family.root);
  REQUIRE(revoked);
  CHECK(*revoked ==
        std::vector<Luid>{family.root, family.child, family.grandchild});
  CHECK_FALSE(life.registry->FindObject(family.child));
  CHECK_FALSE(life.registry->FindObject(family.grandchild));
  CHECK(life.registry->FindObject(family.sibling));
  CHECK(life.journal.objects.count(family.grandchild.value) == 0);
  life.Restart();
  CHECK_FALSE(life.registry->FindObject(family.root));
  CHECK_FALSE(life.registry->FindObject(family.grandchild));
  CHECK(life.registry->FindObject(family.sibling));
  CHECK_FALSE(life.registry->RemoveObject(family.root));
}

TEST_CASE("a subtree's revoke is in each revoked object's history") {
  Lifetime life;
  Family family(life);
  auto grandchild = life.registry->FindObject(family.grandchild);
  REQUIRE(grandchild);
  HistoryEvent why;
  why.kind = HistoryKind::kRevoked;
  why.actor_pid = 100;
  why.actor_user = "S-1-5-18";
  REQUIRE(life.registry->RemoveObject(family.root, &why));
  const std::vector<HistoryEvent> events = (*grandchild)->History();
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().kind == HistoryKind::kRevoked);
  CHECK(events.back().actor_pid == 100);
  CHECK(events.back().token == family.root.value);
  CHECK(events.back().operation == "with_ancestor");
}

TEST_CASE("a holder of a revoked child keeps its token, as of any revoked "
          "object") {
  Lifetime life;
  Family family(life);
  auto grandchild = life.registry->FindObject(family.grandchild);
  REQUIRE(grandchild);
  REQUIRE(life.registry->InstallPrimary(200, *grandchild));
  REQUIRE(life.registry->RemoveObject(family.root));
  CHECK_FALSE(life.registry->FindObject(family.grandchild));
  CHECK(life.registry->Process(200)->primary->id() == family.grandchild);
}

TEST_CASE("an object with a derived object is not released as unused") {
  Lifetime life;
  Family family(life);
  life.source.Remove(200);
  life.registry->OnExit(200, 200);
  // Nothing holds them any more: the leaves go, then their parents.
  life.registry->ReleaseUnused();
  CHECK(life.registry->ListObjects().empty());

  Family again(life);
  REQUIRE(life.registry->SetPersist(again.grandchild, true));
  life.source.Remove(200);
  life.registry->OnExit(200, 200);
  life.registry->ReleaseUnused();
  // The persistent grandchild keeps its ancestors, so revoking the root
  // still reaches it.
  CHECK(life.registry->ListObjects() ==
        std::vector<Luid>{again.root, again.child, again.grandchild});
  auto revoked = life.registry->RemoveObject(again.root);
  REQUIRE(revoked);
  CHECK(revoked->size() == 3);
}

TEST_CASE("tags change all or nothing and come back after a restart") {
  Lifetime life;
  Family family(life);
  auto tags = life.registry->UpdateTags(
      family.child, [](const std::vector<std::string>&)
                        -> Result<std::vector<std::string>> {
        return std::vector<std::string>{"build", "ci"};
      });
  REQUIRE(tags);
  auto refused = life.registry->UpdateTags(
      family.child, [](const std::vector<std::string>&)
                        -> Result<std::vector<std::string>> {
        return MakeError(ErrorCode::kResourceExhausted, "full");
      });
  CHECK_FALSE(refused);
  CHECK(life.registry->ObjectDetails(family.child)->tags ==
        std::vector<std::string>{"build", "ci"});
  CHECK_FALSE(life.registry->UpdateTags(
      Luid{1}, [](const std::vector<std::string>& held)
                   -> Result<std::vector<std::string>> { return held; }));
  life.Restart();
  CHECK(life.registry->ObjectDetails(family.child)->tags ==
        std::vector<std::string>{"build", "ci"});
}

TEST_CASE("an elevation pair comes back linked") {
  Lifetime life;
  life.minter->split_admins = true;
  WithProcesses(life);
  auto limited = life.registry->Process(100)->primary;
  REQUIRE(limited->LinkedPartner());
  const Luid full = limited->LinkedPartner()->id();
  limited.reset();
  life.Restart();
  auto partner = life.registry->Process(100)->primary->LinkedPartner();
  REQUIRE(partner);
  CHECK(partner->id() == full);
  REQUIRE(partner->LinkedPartner());
  CHECK(partner->LinkedPartner()->id() ==
        life.registry->Process(100)->primary->id());
}

TEST_CASE("records from another boot are discarded") {
  Lifetime life;
  WithProcesses(life);
  life.Disable(100, privilege::kChangeNotify);
  life.Restart("boot-2");
  CHECK(life.report.other_boot);
  CHECK(life.report.processes == 0);
  CHECK(life.Enabled(100));
}

TEST_CASE("dead processes' records and tokens leave the journal") {
  Lifetime life;
  WithProcesses(life);
  const Luid token = life.registry->Process(100)->primary->id();
  REQUIRE(life.journal.tokens.count(token.value) == 1);
  life.source.Remove(100);
  life.registry->OnExit(100, 100);
  CHECK(life.journal.processes.count(100) == 0);
  CHECK(life.journal.tokens.count(token.value) == 0);
}

TEST_CASE("a leader that exited first is reaped once its last thread ends") {
  Lifetime life;
  WithProcesses(life);
  REQUIRE(life.registry->Process(100));
  life.source.AddThread(105, 100, 26);
  life.registry->OnExit(100, 100);
  life.registry->ReapExited();
  CHECK(life.journal.processes.count(100) == 1);
  life.source.Remove(105);
  life.source.Remove(100);
  life.registry->OnExit(105, 100);  // its event cannot tell it was the last
  life.registry->ReapExited();
  CHECK(life.journal.processes.count(100) == 0);
  CHECK_FALSE(life.registry->Process(100));
}

class CountingReservations : public LuidReservations {
 public:
  Status ReserveThrough(uint64_t limit) override {
    limits.push_back(limit);
    return Ok();
  }
  std::vector<uint64_t> limits;
};

TEST_CASE("ids are reserved durably before they are handed out") {
  CountingReservations reservations;
  LuidAllocator ids(0x20000, reservations, 16);
  CHECK(ids.Next().value == 0x20000);
  REQUIRE(reservations.limits == std::vector<uint64_t>{0x20010});
  for (int i = 1; i < 16; ++i) ids.Next();
  CHECK(reservations.limits.size() == 1);
  CHECK(ids.Next().value == 0x20010);
  CHECK(reservations.limits.back() == 0x20020);
}


// --- History and change notification ---

struct FixedClock : Clock {
  uint64_t NowNanoseconds() const override { return 1'000'000'007; }
};

struct HookedFixture {
  HookedFixture()
      : minter(ids),
        registry(source, minter, ids, OptionsWithHooks(this)) {
    source.AddProcess(1, 0, 10, 0);
    source.AddProcess(100, 1, 20, 1000);
  }
  static Registry::Options OptionsWithHooks(HookedFixture* self) {
    Registry::Options options;
    options.hooks.clock = &self->clock;
    options.hooks.history_limit = 8;
    options.hooks.on_change = [self] { ++self->changes; };
    return options;
  }
  FixedClock clock;
  int changes = 0;
  LuidAllocator ids;
  FakeProcessSource source;
  FakeMinter minter;
  Registry registry;
};

TEST_CASE("a token's history starts with its mint, stamped by the clock") {
  HookedFixture f;
  auto view = f.registry.Process(100);
  REQUIRE(view);
  const auto events = view->primary->History();
  REQUIRE(events.size() == 1);
  CHECK(events[0].kind == HistoryKind::kMinted);
  CHECK(events[0].actor_pid == 100);
  CHECK(events[0].actor_user == well_known::UnixUser(1000).ToString());
  CHECK(events[0].time_ns == 1'000'000'007);
}

TEST_CASE("a fork copy records it was inherited, naming the parent") {
  HookedFixture f;
  f.registry.SetEventsLive(true);
  auto parent = f.registry.Process(100);
  REQUIRE(parent);
  f.source.AddProcess(200, 100, 30, 1000);
  f.registry.OnFork(100, 200, 200);
  auto child = f.registry.Process(200);
  REQUIRE(child);
  const auto events = child->primary->History();
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().kind == HistoryKind::kInherited);
  CHECK(events.back().actor_pid == 100);
  CHECK(events.back().token == parent->primary->id().value);
}

TEST_CASE("an exec re-mint is recorded on the new token and told") {
  HookedFixture f;
  f.registry.SetEventsLive(true);
  auto before = f.registry.Process(100);
  REQUIRE(before);
  const int told = f.changes;
  f.source.SetUid(100, 0);
  f.registry.OnExec(100);
  auto after = f.registry.Process(100);
  REQUIRE(after);
  REQUIRE(after->primary != before->primary);
  const auto events = after->primary->History();
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().kind == HistoryKind::kReminted);
  CHECK(events.back().operation == "exec");
  CHECK(events.back().token == before->primary->id().value);
  CHECK(f.changes > told);
}

TEST_CASE("an adjustment counts as a change; a used privilege does not") {
  HookedFixture f;
  auto view = f.registry.Process(100);
  REQUIRE(view);
  const uint64_t changes = view->primary->changes();
  const int told = f.changes;
  view->primary->MarkPrivilegesUsed(
      privilege::Bit(privilege::kChangeNotify));
  CHECK(view->primary->changes() == changes);
  CHECK(f.changes == told);
  REQUIRE(view->primary->Update([](const Token& token) -> Result<Token> {
    Token copy = token;
    copy.privileges.enabled &= ~privilege::Bit(privilege::kChangeNotify);
    return copy;
  }));
  CHECK(view->primary->changes() == changes + 1);
  CHECK(f.changes == told + 1);
  // A refused update changes nothing and tells nobody.
  CHECK_FALSE(view->primary->Update([](const Token&) -> Result<Token> {
    return InvalidArgument("no");
  }));
  CHECK(view->primary->changes() == changes + 1);
  CHECK(f.changes == told + 1);
}

TEST_CASE("revoking an object counts as a change of it") {
  HookedFixture f;
  auto view = f.registry.Process(100);
  REQUIRE(view);
  Token copy = *view->primary->Get();
  copy.token_id = f.ids.Next();
  auto object = f.registry.AddObject(copy, view->key, 1000, true);
  REQUIRE(object);
  const uint64_t changes = (*object)->changes();
  REQUIRE(f.registry.RemoveObject((*object)->id()));
  CHECK((*object)->changes() == changes + 1);
}

}  // namespace
}  // namespace tokenfs

// ---------------------------------------------------------------------------
// Pending children: a fork is only noted; the child's token object is made
// when first needed, and before anything it was forked from changes.

namespace tokenfs {
namespace {

TEST_CASE("a child that exits unseen costs no /proc read, object or record") {
  Lifetime life;
  WithProcesses(life);
  REQUIRE(life.registry->Process(100));
  const int reads = life.source.reads;
  const size_t tokens = life.journal.tokens.size();
  const size_t processes = life.journal.processes.size();
  const uint64_t inherited = life.registry->GetStats().inherited;
  for (int32_t pid = 300; pid < 400; ++pid) {
    life.source.AddProcess(pid, 100, 30, 1000);
    life.registry->OnFork(100, pid, pid);
    life.source.Remove(pid);
    life.registry->OnExit(pid, pid);
  }
  CHECK(life.source.reads == reads);
  CHECK(life.journal.tokens.size() == tokens);
  CHECK(life.journal.processes.size() == processes);
  const Registry::Stats stats = life.registry->GetStats();
  CHECK(stats.pending == 0);
  CHECK(stats.inherited == inherited + 100);
}

TEST_CASE("a pending child counts as a process and is looked up as one") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  f.source.AddProcess(200, 100, 30, 1000);
  f.registry.OnFork(100, 200, 200);
  CHECK(f.registry.GetStats().pending == 1);
  CHECK(f.registry.GetStats().processes == 3);
  CHECK(f.registry.CachedProcessOf(200) == 200);
  auto task = f.registry.Task(200);
  REQUIRE(task);
  CHECK(task->primary != f.registry.Process(100)->primary);
  CHECK_FALSE(task->primary->Get()->privileges.IsEnabled(
      privilege::kChangeNotify));
  CHECK(f.registry.GetStats().pending == 0);
  CHECK(f.registry.GetStats().processes == 3);
}

TEST_CASE(
    "a pending child keeps its fork-time token when the parent's changes, "
    "also across a restart") {
  Lifetime life;
  WithProcesses(life);
  // Forked while the parent's privilege was disabled; the parent enables
  // it again afterwards. A restart must not give the child the parent's
  // current (wider) token.
  life.Disable(100, privilege::kChangeNotify);
  life.source.AddProcess(200, 100, 30, 1000);
  life.registry->OnFork(100, 200, 200);
  CHECK(life.journal.processes.count(200) == 0);  // only noted
  auto parent = life.registry->Process(100);
  REQUIRE(parent->primary->Update([](const Token& token) -> Result<Token> {
    Token copy = token;
    copy.privileges.enabled |= privilege::Bit(privilege::kChangeNotify);
    return copy;
  }));
  // Made and recorded before the parent's change.
  CHECK(life.journal.processes.count(200) == 1);
  CHECK(life.registry->GetStats().pending == 0);
  CHECK_FALSE(life.Enabled(200));
  CHECK(life.Enabled(100));
  life.Restart();
  CHECK_FALSE(life.Enabled(200));
  CHECK(life.Enabled(100));
}

TEST_CASE(
    "a pending child is made before its parent's credentials, token or "
    "entry change") {
  Lifetime life;
  WithProcesses(life);
  life.Disable(100, privilege::kChangeNotify);
  life.source.AddProcess(200, 100, 30, 1000);
  SECTION("a new identity (setuid without exec)") {
    life.registry->OnFork(100, 200, 200);
    life.source.SetUid(100, 1001);
    life.registry->OnCredentialsChanged(100, 100);
    CHECK(life.registry->Process(100)->primary->Get()->user ==
          well_known::UnixUser(1001));
  }
  SECTION("an exec with a new identity") {
    life.registry->OnFork(100, 200, 200);
    life.source.SetUid(100, 1001);
    life.registry->OnExec(100);
  }
  SECTION("an install") {
    life.registry->OnFork(100, 200, 200);
    Token installed = *life.registry->Process(1)->primary->Get();
    installed.token_id = life.ids.Next();
    REQUIRE(life.registry->InstallPrimary(100,
                                          life.registry->NewObject(installed)));
    CHECK(life.registry->Process(100)->primary->Get()->user ==
          well_known::LocalSystem());
  }
  SECTION("the parent's exit (the child is re-parented)") {
    life.registry->OnFork(100, 200, 200);
    life.source.Remove(100);
    life.source.tasks.at(200).ppid = 1;
    life.registry->OnExit(100, 100);
  }
  CHECK(life.journal.processes.count(200) == 1);
  CHECK(life.registry->GetStats().pending == 0);
  CHECK_FALSE(life.Enabled(200));
  CHECK(life.registry->Process(200)->primary->Get()->user ==
        well_known::UnixUser(1000));
  life.Restart();
  CHECK_FALSE(life.Enabled(200));
}

TEST_CASE("a pending child's own pending child follows it") {
  Lifetime life;
  WithProcesses(life);
  life.Disable(100, privilege::kChangeNotify);
  life.source.AddProcess(200, 100, 30, 1000);
  life.source.AddProcess(300, 200, 40, 1000);
  life.registry->OnFork(100, 200, 200);
  life.registry->OnFork(200, 300, 300);  // the grandchild of a pending child
  CHECK(life.registry->GetStats().pending == 2);
  SECTION("the grandparent changes: both are made") {
    REQUIRE(life.registry->Process(100)->primary->Update(
        [](const Token& token) -> Result<Token> {
          Token copy = token;
          copy.privileges.enabled |= privilege::Bit(privilege::kChangeNotify);
          return copy;
        }));
    CHECK(life.journal.processes.count(200) == 1);
    CHECK(life.journal.processes.count(300) == 1);
  }
  SECTION("the middle one is looked up, then changes") {
    REQUIRE(life.registry->Process(200));
    CHECK(life.registry->GetStats().pending == 1);
    REQUIRE(life.registry->Process(200)->primary->Update(
        [](const Token& token) -> Result<Token> {
          Token copy = token;
          copy.privileges.enabled |= privilege::Bit(privilege::kChangeNotify);
          return copy;
        }));
    CHECK(life.journal.processes.count(300) == 1);
    CHECK(life.Enabled(200));
  }
  SECTION("the middle one exits first: the grandchild is made") {
    life.source.Remove(200);
    life.source.tasks.at(300).ppid = 1;
    life.registry->OnExit(200, 200);
    CHECK(life.journal.processes.count(300) == 1);
  }
  CHECK(life.registry->GetStats().pending == 0);
  CHECK_FALSE(life.Enabled(300));
  life.Restart();
  CHECK_FALSE(life.Enabled(300));
}

TEST_CASE("a pending child whose leader exits while a thread runs lives on") {
  Fixture f;
  f.registry.SetEventsLive(true);
  f.DisableChangeNotify(100);
  f.source.AddProcess(200, 100, 30, 1000);
  f.registry.OnFork(100, 200, 200);
  f.source.AddThread(201, 200, 31);
  f.registry.OnFork(200, 201, 200);
  f.registry.OnExit(200, 200);  // pthread_exit from main; 201 runs on
  auto view = f.registry.Process(200);
  REQUIRE(view);
  CHECK_FALSE(view->primary->Get()->privileges.IsEnabled(
      privilege::kChangeNotify));
}

TEST_CASE("lost events drop pending notes; the child is seen on first sight") {
  Fixture f;
  f.registry.SetEventsLive(true);
  REQUIRE(f.registry.Process(100));
  f.source.AddProcess(200, 100, 30, 1000);
  f.registry.OnFork(100, 200, 200);
  f.registry.Revalidate();
  CHECK(f.registry.GetStats().pending == 0);
  auto child = f.registry.Process(200);
  REQUIRE(child);
  CHECK(child->primary != f.registry.Process(100)->primary);
}

}  // namespace
}  // namespace tokenfs
