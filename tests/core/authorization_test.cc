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

LinuxCredentials Process(uint32_t uid) {
  LinuxCredentials credentials;
  credentials.real_uid = credentials.effective_uid = uid;
  credentials.saved_uid = credentials.fs_uid = uid;
  return credentials;
}

struct Fixture {
  Token caller = UserToken(1000, 1);
  Token target = UserToken(1000, 2);
  bool ptrace = false;
  int ptrace_asked = 0;

  AuthorizationResult Run(
      AccessMask desired, std::string_view capability = {},
      std::optional<LinuxCredentials> process = Process(1000),
      uint32_t fsuid = 1000) {
    AuthorizationRequest request;
    request.caller_effective = &caller;
    request.caller_primary = &caller;
    request.caller_fsuid = fsuid;
    request.caller_has_ptrace_capability = [this] {
      ++ptrace_asked;
      return ptrace;
    };
    request.target = &target;
    request.target_process = process;
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
  CHECK(f.ptrace_asked == 0);  // same uid: no need to look at capabilities
}

TEST_CASE("another uid needs CAP_SYS_PTRACE to reach a process's token") {
  Fixture f;
  const AuthorizationResult denied =
      f.Run(access::kTokenQuery, {}, Process(1001), 1000);
  CHECK_FALSE(denied.allowed);
  CHECK(denied.code == ErrorCode::kAccessDenied);
  CHECK_THAT(denied.reason,
             Catch::Contains("uid 1000 may not inspect process 42 (uid 1001)"));
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
  CHECK_THAT(denied.reason, Catch::StartsWith("process 42 denies DUPLICATE: "));
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
  request.caller_fsuid = 1000;
  request.target = &f.target;
  request.target_process = Process(1000);
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
