#include "core/authorization.h"

#include <catch2/catch.hpp>

#include "core/capability.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

Token UserToken(uint32_t uid, uint64_t id) {
  Token token;
  token.user = well_known::UnixUser(uid);
  token.groups = {{well_known::Everyone(), test::kEnabledGroup}};
  token.token_id = Luid{id};
  token.capabilities = FullCapabilitySet();
  // The Peios default SD of a token made by SYSTEM: the user may query and
  // adjust, SYSTEM may do everything.
  token.security = DefaultTokenSecurity(token.user, well_known::LocalSystem());
  return token;
}

LinuxCredentials Process(uint32_t uid, uint32_t gid = 100) {
  LinuxCredentials credentials;
  credentials.real_uid = credentials.effective_uid = uid;
  credentials.saved_uid = credentials.fs_uid = uid;
  credentials.real_gid = credentials.effective_gid = gid;
  credentials.saved_gid = credentials.fs_gid = gid;
  return credentials;
}

struct Fixture {
  Token caller = UserToken(1000, 1);
  Token target = UserToken(1000, 2);
  bool ptrace = false;
  // CAP_SYS_PTRACE held in the caller's own user namespace only.
  bool ptrace_in_child_namespace = false;
  int ptrace_asked = 0;
  std::optional<bool> dumpable = true;
  std::string undecided;
  int dumpable_asked = 0;
  uint32_t fsgid = 100;
  bool same_process = false;
  // The target as /proc shows it now, when it differs from the record.
  std::optional<LinuxCredentials> target_now;
  std::optional<uint32_t> namespace_owner;
  uint64_t caller_effective = 0;  // the caller's own capabilities

  Inspection MakeInspection(const LinuxCredentials& process, uint32_t fsuid) {
    Inspection inspection;
    inspection.caller_fsuid = fsuid;
    inspection.caller_fsgid = fsgid;
    inspection.same_process = same_process;
    inspection.caller_credentials =
        [this]() -> std::optional<LinuxCredentials> {
      ++ptrace_asked;
      LinuxCredentials credentials = Process(1000, fsgid);
      credentials.cap_permitted = credentials.cap_effective = caller_effective;
      if (ptrace || ptrace_in_child_namespace) {
        credentials.cap_permitted = credentials.cap_effective |=
            linux_capability::Bit(linux_capability::kSysPtrace);
      }
      credentials.initial_user_namespace = !ptrace_in_child_namespace;
      return credentials;
    };
    inspection.target = process;
    inspection.target_state = [this, process]() -> std::optional<TargetState> {
      ++dumpable_asked;
      TargetState state;
      state.credentials = target_now.value_or(process);
      state.dumpable = dumpable;
      state.undecided = undecided;
      state.namespace_owner = namespace_owner;
      return state;
    };
    inspection.description = "process 42";
    return inspection;
  }

  AuthorizationResult Run(
      AccessMask desired, std::string_view capability = {},
      std::optional<LinuxCredentials> process = Process(1000),
      uint32_t fsuid = 1000) {
    AuthorizationRequest request;
    request.caller_effective = &caller;
    request.caller_primary = &caller;
    if (process) request.inspection = MakeInspection(*process, fsuid);
    request.target = &target;
    request.target_description = "process 42";
    request.desired = desired;
    request.capability = capability;
    return Authorize(request);
  }
};

TEST_CASE("a user may query a token of its own uid that its SD grants") {
  Fixture f;
  const AuthorizationResult result = f.Run(access::kTokenQuery);
  CHECK(result.allowed);
  CHECK(result.granted == access::kTokenQuery);
  // Same ids: the caller's capabilities are read once, for the subset rule
  // (its user namespace and effective set), and never a second time.
  CHECK(f.ptrace_asked == 1);
}

TEST_CASE("another uid needs CAP_SYS_PTRACE to reach a process's token") {
  Fixture f;
  const AuthorizationResult denied =
      f.Run(access::kTokenQuery, {}, Process(1001), 1000);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.code == ErrorCode::kAccessDenied);
  CHECK_THAT(denied.reason,
             Catch::Contains("uid 1000 may not inspect process 42 (uid 1001)"));
  // The reason names the step that refused.
  CHECK_THAT(denied.reason, Catch::StartsWith("Linux inspection: "));
  CHECK(f.ptrace_asked == 1);
  // With CAP_SYS_PTRACE the Linux step passes; the SD then decides (it
  // grants QUERY to the token's user only, and this caller is uid 1000's
  // token looking at uid 1000's token: allowed).
  f.ptrace = true;
  CHECK(f.Run(access::kTokenQuery, {}, Process(1001), 1000).allowed);
}

TEST_CASE("a process whose uids differ in any way is another identity") {
  Fixture f;
  LinuxCredentials setuid = Process(1000);
  setuid.saved_uid = 0;
  CHECK_FALSE(f.Run(access::kTokenQuery, {}, setuid).allowed);
}

TEST_CASE("a process whose gids differ in any way is off limits (setgid)") {
  Fixture f;
  // unix_chkpwd run by the user: its effective and saved gid are shadow's.
  LinuxCredentials setgid = Process(1000);
  setgid.effective_gid = setgid.saved_gid = 42;
  const AuthorizationResult denied = f.Run(access::kTokenQuery, {}, setgid);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::Contains("setgid"));
  setgid = Process(1000);
  setgid.real_gid = 42;
  CHECK_FALSE(f.Run(access::kTokenQuery, {}, setgid).allowed);
  // The caller's fsgid is what is compared.
  f.fsgid = 42;
  CHECK_FALSE(f.Run(access::kTokenQuery, {}, Process(1000)).allowed);
  CHECK(f.Run(access::kTokenQuery, {}, Process(1000, 42)).allowed);
  // CAP_SYS_PTRACE overrides, as it does for ptrace.
  f.fsgid = 100;
  f.ptrace = true;
  CHECK(f.Run(access::kTokenQuery, {}, setgid).allowed);
}

TEST_CASE("a refused dumpability probe means not dumpable only when the "
          "rest of the ptrace rule passed") {
  using linux_capability::Bit;
  LinuxCredentials root;  // all ids 0
  root.cap_permitted = Bit(linux_capability::kChown) |
                       Bit(linux_capability::kSysBoot);
  const uint64_t daemon_full =
      linux_capability::kAllMask & ~Bit(linux_capability::kSysPtrace);
  const uint64_t daemon_narrow = Bit(linux_capability::kSysAdmin) |
                                 Bit(linux_capability::kNetAdmin) |
                                 Bit(linux_capability::kChown);

  // Readable: dumpable, whatever else holds.
  CHECK(ReadDumpableProbe(true, daemon_narrow, root).dumpable == true);
  // Refused while the probe held all the target's capabilities: the
  // kernel refused for dumpability alone.
  const DumpableVerdict refused = ReadDumpableProbe(false, daemon_full, root);
  CHECK(refused.dumpable == false);
  CHECK(refused.undecided.empty());
  // Refused while the target holds CAP_SYS_BOOT the probe lacks: unknown,
  // and the reason names what the daemon lacks.
  const DumpableVerdict narrow = ReadDumpableProbe(false, daemon_narrow, root);
  CHECK_FALSE(narrow.dumpable.has_value());
  CHECK(narrow.undecided ==
        "it holds CAP_SYS_BOOT, which tokenfs itself lacks (its capability "
        "bounding set is narrower)");
  // A target in another user namespace: the kernel's subset test does not
  // apply there, so a refusal says nothing about dumpability.
  LinuxCredentials nested = root;
  nested.cap_permitted = 0;
  nested.initial_user_namespace = false;
  const DumpableVerdict other = ReadDumpableProbe(false, daemon_full, nested);
  CHECK_FALSE(other.dumpable.has_value());
  CHECK(other.undecided == "it is in another user namespace than tokenfs");
}

TEST_CASE("an undecided dumpability refuses and gives the probe's reason") {
  Fixture f;
  f.dumpable = std::nullopt;
  f.undecided = "it holds CAP_SYS_BOOT, which tokenfs itself lacks";
  const AuthorizationResult denied = f.Run(access::kTokenQuery);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason,
             Catch::Contains("whether it is dumpable cannot be told (it holds "
                             "CAP_SYS_BOOT, which tokenfs itself lacks)"));
}

TEST_CASE("a process that is not dumpable is off limits to its own user") {
  Fixture f;
  f.dumpable = false;
  const AuthorizationResult denied = f.Run(access::kTokenQuery);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::Contains("not dumpable"));
  CHECK(f.dumpable_asked == 1);
  // When dumpability cannot be told, the answer is no.
  f.dumpable = std::nullopt;
  CHECK_THAT(f.Run(access::kTokenQuery).reason,
             Catch::Contains("cannot be told"));
  // A caller may always inspect its own process.
  f.same_process = true;
  CHECK(f.Run(access::kTokenQuery).allowed);
  f.same_process = false;
  f.ptrace = true;
  CHECK(f.Run(access::kTokenQuery).allowed);
}

TEST_CASE(
    "a process whose capabilities exceed the caller's is off limits "
    "(ping with file capabilities)") {
  Fixture f;
  LinuxCredentials ping = Process(1000);
  ping.cap_permitted = ping.cap_effective =
      linux_capability::Bit(linux_capability::kNetRaw);
  f.target_now = ping;
  const AuthorizationResult denied = f.Run(access::kTokenQuery, {}, ping);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::Contains("capabilities exceed"));
  // A caller holding those capabilities (effective) may.
  f.caller_effective = linux_capability::Bit(linux_capability::kNetRaw);
  CHECK(f.Run(access::kTokenQuery, {}, ping).allowed);
}

TEST_CASE("the process as it is now decides, not the record") {
  Fixture f;
  // Recorded as the caller's, but it ran a setuid program since.
  LinuxCredentials now = Process(1000);
  now.effective_uid = now.saved_uid = 0;
  f.target_now = now;
  const AuthorizationResult denied = f.Run(access::kTokenQuery);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::Contains("uids"));
}

TEST_CASE(
    "a process in a child user namespace is the owner's to inspect, no one "
    "else's") {
  Fixture f;
  LinuxCredentials inside = Process(1000);
  inside.initial_user_namespace = false;
  f.target_now = inside;
  f.namespace_owner = 1000;
  CHECK(f.Run(access::kTokenQuery, {}, inside).allowed);
  f.namespace_owner = 1001;
  CHECK_FALSE(f.Run(access::kTokenQuery, {}, inside).allowed);
  f.namespace_owner = std::nullopt;  // not a child of the initial namespace
  const AuthorizationResult denied = f.Run(access::kTokenQuery, {}, inside);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::Contains("user namespace"));
}

TEST_CASE(
    "a caller in a child user namespace may not inspect its own user's "
    "processes outside it") {
  Fixture f;
  f.ptrace_in_child_namespace = true;  // unshare -U -r: every capability there
  const AuthorizationResult denied = f.Run(access::kTokenQuery);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::Contains("in the initial user namespace"));
}

TEST_CASE("dumpability is asked only when the ids match") {
  Fixture f;
  f.dumpable = false;
  CHECK_FALSE(f.Run(access::kTokenQuery, {}, Process(1001), 1000).allowed);
  CHECK(f.dumpable_asked == 0);
}

TEST_CASE(
    "CAP_SYS_PTRACE held in another user namespace does not reach another "
    "user's process") {
  Fixture f;
  f.ptrace_in_child_namespace = true;
  const AuthorizationResult denied =
      f.Run(access::kTokenQuery, {}, Process(0), 1000);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::Contains("in the initial user namespace"));
  // Unreadable caller credentials count as no capability.
  Inspection inspection = f.MakeInspection(Process(0), 1000);
  inspection.caller_credentials = [] {
    return std::optional<LinuxCredentials>();
  };
  CHECK(InspectionDenial(inspection).has_value());
}

TEST_CASE("Anonymous and Identification callers are checked with the primary") {
  Token primary = UserToken(1000, 1);
  Token impersonation = UserToken(0, 2);
  impersonation.type = TokenType::kImpersonation;
  for (ImpersonationLevel level :
       {ImpersonationLevel::kAnonymous, ImpersonationLevel::kIdentification}) {
    impersonation.impersonation_level = level;
    CHECK(&CheckingToken(impersonation, primary) == &primary);
  }
  for (ImpersonationLevel level :
       {ImpersonationLevel::kImpersonation, ImpersonationLevel::kDelegation}) {
    impersonation.impersonation_level = level;
    CHECK(&CheckingToken(impersonation, primary) == &impersonation);
  }
  CHECK(&CheckingToken(primary, primary) == &primary);
}

TEST_CASE("a socket peer grants QUERY and IMPERSONATE only") {
  Token checking = UserToken(1000, 1);
  CHECK(AuthorizePeer(checking, access::kTokenQuery, {}, "process 9").allowed);
  CHECK(AuthorizePeer(checking, kPeerGrantRights, tree_capability::kImpersonate,
                      "process 9")
            .allowed);
  CHECK_FALSE(AuthorizePeer(checking, access::kTokenDuplicate, {}, "process 9")
                  .allowed);
  CHECK_FALSE(
      AuthorizePeer(checking, access::kTokenAdjustPrivileges, {}, "process 9")
          .allowed);
  CHECK_FALSE(AuthorizePeer(checking, AccessMask(), {}, "process 9").allowed);
  checking.capabilities = {*MakeCapability("tokeninfo")};
  const AuthorizationResult gated =
      AuthorizePeer(checking, access::kTokenImpersonate,
                    tree_capability::kImpersonate, "process 9");
  CHECK_FALSE(gated.allowed);
  CHECK_THAT(gated.reason, Catch::Contains("lacks the capability 'AT'"));
  CHECK_THAT(gated.reason, Catch::StartsWith("capability gate: "));
}

TEST_CASE("token objects skip the Linux step") {
  Fixture f;
  f.target = UserToken(1000, 2);
  const AuthorizationResult result =
      f.Run(access::kTokenQuery, {}, std::nullopt, 1234);
  CHECK(result.allowed);
  CHECK(f.ptrace_asked == 0);
}

TEST_CASE("the token's own SD decides the right") {
  Fixture f;
  // The default SD gives the user QUERY and ADJUST_* but not DUPLICATE.
  CHECK(f.Run(access::kTokenAdjustPrivileges).allowed);
  const AuthorizationResult denied = f.Run(access::kTokenDuplicate);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason, Catch::StartsWith("access check: process 42 denies DUPLICATE: "));
  // Another user's token: the SD grants that user only.
  f.caller = UserToken(1001, 1);
  f.ptrace = true;
  CHECK_FALSE(f.Run(access::kTokenQuery, {}, Process(1000), 1001).allowed);
}

TEST_CASE("an Identification-level caller is checked with its primary token") {
  Fixture f;
  Token identification = UserToken(1001, 7);
  identification.type = TokenType::kImpersonation;
  identification.impersonation_level = ImpersonationLevel::kIdentification;
  AuthorizationRequest request;
  request.caller_effective = &identification;
  request.caller_primary = &f.caller;  // uid 1000, the target's user
  request.inspection = f.MakeInspection(Process(1000), 1000);
  request.target = &f.target;
  request.target_description = "process 42";
  request.desired = access::kTokenQuery;
  const AuthorizationResult result = Authorize(request);
  CHECK(result.allowed);
  CHECK(result.checked_with_primary);
  // At Impersonation level the impersonated identity is used (and here it
  // is another user's, which the SD refuses).
  identification.impersonation_level = ImpersonationLevel::kImpersonation;
  const AuthorizationResult impersonating = Authorize(request);
  CHECK_FALSE(impersonating.allowed);
  CHECK_FALSE(impersonating.checked_with_primary);
}

TEST_CASE("the capability gate refuses a token lacking the capability") {
  Fixture f;
  f.caller.capabilities = {*MakeCapability("tokeninfo")};
  CHECK(f.Run(access::kTokenQuery, tree_capability::kIntrospect).allowed);
  const AuthorizationResult denied =
      f.Run(access::kTokenQuery, tree_capability::kListOwn);
  CHECK_FALSE(denied.allowed);
  CHECK_THAT(denied.reason,
             Catch::Contains("lacks the capability 'manage_mytokens:list'"));
}

TEST_CASE("reading a token needs the capability that fits whose it is") {
  const Token caller = UserToken(1000, 1);
  const Token same_user = UserToken(1000, 2);
  const Token other_user = UserToken(1001, 3);
  CHECK(QueryCapabilityFor(caller, caller, caller) ==
        tree_capability::kIntrospect);
  CHECK(QueryCapabilityFor(caller, caller, same_user) ==
        tree_capability::kListOwn);
  CHECK(QueryCapabilityFor(caller, caller, other_user).empty());
  // The caller's primary counts as its own too (while impersonating).
  CHECK(QueryCapabilityFor(other_user, caller, caller) ==
        tree_capability::kIntrospect);
}

TEST_CASE("each tree action's gate: own token, same user, other user") {
  const Token caller = UserToken(1000, 1);
  const Token same_user = UserToken(1000, 2);
  const Token other_user = UserToken(1001, 3);
  struct Case {
    TreeAction action;
    std::string_view own;
    std::string_view same;
  };
  const Case cases[] = {
      {TreeAction::kRead, "tokeninfo:introspect", "manage_mytokens:list"},
      {TreeAction::kListSubtokens, "read@tokeninfo:subtokens",
       "manage_mytokens:list"},
      {TreeAction::kReadTags, "read@tokeninfo:tags",
       "read@manage_mytokens:tags"},
      {TreeAction::kChangeTags, "tokeninfo:tags", "manage_mytokens:tags"},
      {TreeAction::kReadHistory, "read@tokeninfo:history",
       "read@manage_mytokens:history"},
  };
  for (const Case& c : cases) {
    INFO(static_cast<int>(c.action));
    CHECK(CapabilityFor(c.action, caller, caller, caller) == c.own);
    CHECK(CapabilityFor(c.action, caller, caller, same_user) == c.same);
    CHECK(CapabilityFor(c.action, caller, caller, other_user).empty());
    // Impersonating another user's token: the primary is still its own.
    CHECK(CapabilityFor(c.action, other_user, caller, caller) == c.own);
  }
}

TEST_CASE("every tree capability is a catalog capability or its read@ twin") {
  for (std::string_view name :
       {tree_capability::kIntrospect, tree_capability::kHistory,
        tree_capability::kNotify, tree_capability::kSubtokens,
        tree_capability::kReadSubtokens, tree_capability::kTags,
        tree_capability::kReadTags, tree_capability::kListOwn,
        tree_capability::kRevoke, tree_capability::kManageTags,
        tree_capability::kReadManageTags, tree_capability::kCreate,
        tree_capability::kImpersonate, tree_capability::kReadHistory,
        tree_capability::kReadManageHistory}) {
    INFO(name);
    Result<std::string> parsed = ParseCapabilityName(name);
    REQUIRE(parsed);
    CHECK(*parsed == name);
    std::string_view body = name;
    if (body.starts_with(kReadOnlyCapabilityPrefix)) {
      body.remove_prefix(kReadOnlyCapabilityPrefix.size());
    }
    CHECK(FindCapabilityInfo(body) != nullptr);
  }
}

TEST_CASE("a capability gate refuses naming the capability; read@ reads only") {
  Fixture f;
  f.caller.capabilities = {*MakeCapability("read@tokeninfo:tags")};
  const AuthorizationResult change =
      f.Run(access::kTokenQuery, tree_capability::kTags);
  CHECK_FALSE(change.allowed);
  CHECK(change.code == ErrorCode::kAccessDenied);
  CHECK_THAT(change.reason,
             Catch::Contains("lacks the capability 'tokeninfo:tags'"));
  CHECK(f.Run(access::kTokenQuery, tree_capability::kReadTags).allowed);
  // The read-write form covers the read.
  f.caller.capabilities = {*MakeCapability("tokeninfo:tags")};
  CHECK(f.Run(access::kTokenQuery, tree_capability::kReadTags).allowed);
  CHECK(f.Run(access::kTokenQuery, tree_capability::kTags).allowed);
}

TEST_CASE("watching another token needs tokeninfo:notify; one's own never") {
  Token caller = UserToken(1000, 1);
  const Token other = UserToken(1000, 2);
  caller.capabilities = {*MakeCapability("tokeninfo:introspect")};
  CHECK_FALSE(WatchDenial(caller, caller, caller, caller));
  auto denied = WatchDenial(caller, caller, caller, other);
  REQUIRE(denied);
  CHECK(denied->find("tokeninfo:notify") != std::string::npos);
  caller.capabilities = {*MakeCapability("tokeninfo:notify")};
  CHECK_FALSE(WatchDenial(caller, caller, caller, other));
  // The parent capability covers it.
  caller.capabilities = {*MakeCapability("tokeninfo")};
  CHECK_FALSE(WatchDenial(caller, caller, caller, other));
}

TEST_CASE("privileges the access check used are reported") {
  Fixture f;
  f.caller = UserToken(1000, 1);
  f.caller.privileges.present = f.caller.privileges.enabled =
      privilege::Bit(privilege::kTakeOwnership);
  const AuthorizationResult result = f.Run(access::kWriteOwner);
  CHECK(result.allowed);
  CHECK(result.privileges_used == privilege::Bit(privilege::kTakeOwnership));
}

}  // namespace
}  // namespace tokenfs
