#include "core/write_rules.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/authorization.h"
#include "core/capability.h"
#include "core/privilege.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

// Every write rule is tried by the four kinds of caller a request can have:
// a process using its primary token, and a thread of an unprivileged user
// impersonating SYSTEM at Anonymous, Identification and Impersonation level.
// Anonymous and Identification may never grant anything, so those callers
// are refused exactly like the user herself; at Impersonation level the
// impersonated SYSTEM token decides.

namespace tokenfs {
namespace {

using privilege::Bit;

constexpr uint32_t kMediumRid = 0x2000;
constexpr uint32_t kSystemRid = 0x4000;

Token Alice(uint64_t id = 0x100) {
  Token token;
  token.user = well_known::UnixUser(1000);
  token.groups = {{well_known::UnixGroup(1000), test::kEnabledGroup},
                  {well_known::Everyone(), test::kEnabledGroup}};
  token.token_id = Luid{id};
  token.auth_id = Luid{0x5000};
  token.integrity_rid = kMediumRid;
  token.privileges.present = token.privileges.enabled =
      Bit(privilege::kChangeNotify);
  token.capabilities = FullCapabilitySet();
  token.security = DefaultTokenSecurity(token.user, well_known::LocalSystem());
  return token;
}

Token System(uint64_t id = 0x200) {
  Token token = Alice(id);
  token.user = well_known::LocalSystem();
  token.groups = {{well_known::Administrators(), test::kEnabledGroup}};
  token.auth_id = Luid{0x3e7};
  token.integrity_rid = kSystemRid;
  token.privileges.present = token.privileges.enabled =
      Bit(privilege::kCreateToken) | Bit(privilege::kAssignPrimaryToken) |
      Bit(privilege::kTcb) | Bit(privilege::kRelabel) |
      Bit(privilege::kRestore) | Bit(privilege::kChangeNotify);
  token.security = DefaultTokenSecurity(token.user, token.user);
  return token;
}

Token ImpersonationOf(const Token& client, ImpersonationLevel level) {
  Token token = client;
  token.token_id = Luid{client.token_id.value + 1};
  token.type = TokenType::kImpersonation;
  token.impersonation_level = level;
  return token;
}

// One kind of caller: its tokens, and whether a privileged rule should let
// it through (only when SYSTEM's token is what it is checked with).
struct Caller {
  std::string name;
  Token primary;
  Token effective;
  bool privileged;
  const Token& checking() const { return CheckingToken(effective, primary); }
};

std::vector<Caller> Callers() {
  const Token alice = Alice();
  const Token system = System();
  return {
      {"alice's primary", alice, alice, false},
      {"SYSTEM's primary", system, system, true},
      {"alice impersonating SYSTEM at Anonymous", alice,
       ImpersonationOf(system, ImpersonationLevel::kAnonymous), false},
      {"alice impersonating SYSTEM at Identification", alice,
       ImpersonationOf(system, ImpersonationLevel::kIdentification), false},
      {"alice impersonating SYSTEM at Impersonation", alice,
       ImpersonationOf(system, ImpersonationLevel::kImpersonation), true},
  };
}

TEST_CASE("create needs SeCreateToken on the checking token") {
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    auto decision = DecideCreate(caller.checking());
    CHECK(decision.has_value() == caller.privileged);
    if (decision) {
      CHECK(*decision == Bit(privilege::kCreateToken));
    } else {
      CHECK(decision.error().code == ErrorCode::kPrivilegeNotHeld);
      CHECK_THAT(decision.error().message, Catch::Contains("SeCreateToken"));
    }
  }
}

TEST_CASE("create also needs the create_mytoken capability") {
  Token system = System();
  system.capabilities = {*MakeCapability("tokeninfo")};
  auto decision = DecideCreate(system);
  REQUIRE_FALSE(decision);
  CHECK(decision.error().code == ErrorCode::kAccessDenied);
  CHECK_THAT(decision.error().message, Catch::Contains("create_mytoken"));
}

TEST_CASE("install needs SeAssignPrimaryToken on the checking token") {
  const Token candidate = Alice(0x300);
  const Token current = Alice(0x301);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    CHECK(MayInstallPrimary(caller.checking()).has_value() ==
          caller.privileged);
    auto used = DecideInstall(caller.checking(), candidate, current);
    CHECK(used.has_value() == caller.privileged);
    if (used) {
      CHECK(*used == Bit(privilege::kAssignPrimaryToken));
    } else {
      CHECK(used.error().code == ErrorCode::kPrivilegeNotHeld);
    }
  }
}

TEST_CASE("installing another identity also needs SeTcb") {
  const Token candidate = System(0x300);
  const Token current = Alice(0x301);
  Token assigner = System();
  auto used = DecideInstall(assigner, candidate, current);
  REQUIRE(used);
  CHECK(*used == (Bit(privilege::kAssignPrimaryToken) | Bit(privilege::kTcb)));
  assigner.privileges.enabled &= ~Bit(privilege::kTcb);
  auto refused = DecideInstall(assigner, candidate, current);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kPrivilegeNotHeld);
  CHECK_THAT(refused.error().message, Catch::Contains("SeTcb"));
  // Another logon session of the same user counts as another identity.
  Token other_session = Alice(0x302);
  other_session.auth_id = Luid{0x6000};
  CHECK_FALSE(DecideInstall(assigner, other_session, current));
  CHECK(DecideInstall(assigner, Alice(0x303), current));
}

TEST_CASE("install takes primary tokens only") {
  const Token impersonation =
      ImpersonationOf(Alice(0x300), ImpersonationLevel::kImpersonation);
  auto refused = DecideInstall(System(), impersonation, Alice(0x301));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("link needs SeTcb on the checking token") {
  Token elevated = Alice(0x400);
  Token filtered = Alice(0x401);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    auto pair =
        LinkTokens(elevated, filtered, elevated.auth_id, caller.checking());
    CHECK(pair.has_value() == caller.privileged);
    if (!pair) CHECK(pair.error().code == ErrorCode::kPrivilegeNotHeld);
  }
}

TEST_CASE("raising integrity needs SeTcb on the checking token") {
  LuidAllocator ids(0x9000);
  const Token target = Alice(0x500);
  auto write = ParseTokenFileWrite(TokenFile::kIntegrity, "System");
  REQUIRE(write);
  CHECK(write->right == access::kTokenAdjustDefault);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    auto raised = ApplyTokenFileWrite(target, *write, caller.checking(), ids);
    CHECK(raised.has_value() == caller.privileged);
    if (raised) {
      CHECK(raised->integrity_rid == kSystemRid);
    } else {
      CHECK(raised.error().code == ErrorCode::kPrivilegeNotHeld);
    }
  }
  // Lowering is anyone's.
  auto lower = ParseTokenFileWrite(TokenFile::kIntegrity, "Low");
  REQUIRE(lower);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    CHECK(ApplyTokenFileWrite(target, *lower, caller.checking(), ids));
  }
}

TEST_CASE("changing the session needs SeTcb on the checking token") {
  LuidAllocator ids(0x9000);
  const Token target = Alice(0x500);
  auto write = ParseTokenFileWrite(TokenFile::kSession, "5");
  REQUIRE(write);
  CHECK(write->right == access::kTokenAdjustSessionId);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    auto changed = ApplyTokenFileWrite(target, *write, caller.checking(), ids);
    CHECK(changed.has_value() == caller.privileged);
    if (changed) CHECK(changed->interactive_session_id == 5);
  }
}

TEST_CASE("a label above the checker's integrity needs SeRelabel") {
  LuidAllocator ids(0x9000);
  const Token target = Alice(0x500);
  auto write = ParseTokenFileWrite(TokenFile::kSecurity, "S:(ML;;NW;;;HI)");
  REQUIRE(write);
  CHECK(write->right == access::kWriteOwner);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    auto labelled = ApplyTokenFileWrite(target, *write, caller.checking(), ids);
    CHECK(labelled.has_value() == caller.privileged);
    if (!labelled) CHECK(labelled.error().code == ErrorCode::kPrivilegeNotHeld);
  }
}

TEST_CASE("privilege adjustments follow the target, whoever checks") {
  LuidAllocator ids(0x9000);
  const Token target = Alice(0x500);
  auto enable = ParsePrivilegesCommand("SeDebug=enabled");
  REQUIRE(enable);
  auto write = ParseTokenFileWrite(TokenFile::kPrivs, "SeDebug=enabled");
  REQUIRE(write);
  CHECK(write->right == access::kTokenAdjustPrivileges);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    // Absent from the target: no caller can enable it.
    auto refused = ApplyTokenFileWrite(target, *write, caller.checking(), ids);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kPrivilegeNotHeld);
  }
  auto disable =
      ParseTokenFileWrite(TokenFile::kPrivs, "SeChangeNotify=disabled");
  REQUIRE(disable);
  auto done = ApplyTokenFileWrite(target, *disable, Alice(), ids);
  REQUIRE(done);
  CHECK_FALSE(done->privileges.IsEnabled(privilege::kChangeNotify));
}

TEST_CASE("token file writes: the right each needs, and read-only files") {
  struct Row {
    TokenFile file;
    std::string text;
    AccessMask right;
  };
  const std::vector<Row> rows = {
      {TokenFile::kPrivs, "SeChangeNotify=disabled",
       access::kTokenAdjustPrivileges},
      {TokenFile::kGroups, "reset", access::kTokenAdjustGroups},
      {TokenFile::kOwner, "0", access::kTokenAdjustDefault},
      {TokenFile::kGroup, "0", access::kTokenAdjustDefault},
      {TokenFile::kIntegrity, "Low", access::kTokenAdjustDefault},
      {TokenFile::kSession, "3", access::kTokenAdjustSessionId},
      {TokenFile::kSecurity, "D:(A;;GA;;;SY)", access::kWriteDac},
      {TokenFile::kSecurity, "O:SY", access::kWriteOwner},
  };
  for (const Row& row : rows) {
    INFO(row.text);
    auto write = ParseTokenFileWrite(row.file, row.text);
    REQUIRE(write);
    CHECK(write->right == row.right);
  }
  for (TokenFile file : {TokenFile::kUser, TokenFile::kStats, TokenFile::kCaps,
                         TokenFile::kRestricted, TokenFile::kAll}) {
    auto write = ParseTokenFileWrite(file, "anything");
    REQUIRE_FALSE(write);
    CHECK(write.error().code == ErrorCode::kAccessDenied);
    CHECK_FALSE(TokenFileWritable(file));
  }
  auto bad = ParseTokenFileWrite(TokenFile::kIntegrity, "Sky-high");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("managing an object: SYSTEM, or its creator with the capability") {
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    // Another user's object (creator uid 2000; the caller's Linux uid 1000).
    CHECK(DecideManageObject(caller.checking(), 1000, 2000).has_value() ==
          caller.privileged);
    // Its own: always.
    CHECK(DecideManageObject(caller.checking(), 1000, 1000));
  }
  Token alice = Alice();
  alice.capabilities = {*MakeCapability("tokeninfo")};
  auto refused = DecideManageObject(alice, 1000, 1000);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message,
             Catch::Contains("manage_mytokens:revoke"));
}

TEST_CASE("a token is the primary token of one process only") {
  CHECK(DecideUnsharedPrimary(0));
  auto refused = DecideUnsharedPrimary(4242);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kBusy);
  CHECK_THAT(refused.error().message, Catch::Contains("process 4242"));
}

TEST_CASE("a write through an open file needs the opener's identity") {
  const WriterIdentity opener{1000, 1000, well_known::UnixUser(1000),
                              kMediumRid};
  CHECK(DecideWriteThroughOpener(opener, opener));
  std::vector<WriterIdentity> others(4, opener);
  others[0].uid = 2000;                        // another Linux user
  others[1].gid = 2000;                        // another group
  others[2].user = well_known::LocalSystem();  // impersonating SYSTEM
  others[3].integrity_rid = kSystemRid;        // another integrity
  for (const WriterIdentity& writer : others) {
    auto refused = DecideWriteThroughOpener(opener, writer);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kPrivilegeNotHeld);
    CHECK_THAT(refused.error().message, Catch::Contains("uid 1000"));
  }
}

TEST_CASE("a duplicate's requested access is checked with the checking token") {
  // A duplicate of SYSTEM's token keeps SYSTEM's SD: SYSTEM only.
  const Token duplicate = System(0x600);
  for (const Caller& caller : Callers()) {
    INFO(caller.name);
    auto granted = DecideDuplicateAccess(caller.checking(), duplicate,
                                         access::kTokenQuery);
    CHECK(granted.has_value() == caller.privileged);
    if (!granted) CHECK(granted.error().code == ErrorCode::kAccessDenied);
    // Asking for nothing asks nothing.
    CHECK(DecideDuplicateAccess(caller.checking(), duplicate, AccessMask()));
  }
}

TEST_CASE("a restricted token of one's own user may be used by that user") {
  Token restricted = Alice(0x700);
  restricted.security = DefaultTokenSecurity(well_known::LocalSystem(),
                                             well_known::LocalSystem());
  GrantOwnRestrictedUse(restricted, restricted.user);
  REQUIRE(restricted.security.dacl);
  const Ace& first = restricted.security.dacl->aces.front();
  CHECK(first.sid == restricted.user);
  CHECK(first.mask.Contains(access::kTokenImpersonate |
                            access::kTokenAssignPrimary));
  CHECK_FALSE(first.mask.Contains(access::kWriteDac));
  // Another creator's restricted token is left alone.
  Token other = Alice(0x701);
  other.security = DefaultTokenSecurity(well_known::LocalSystem(),
                                        well_known::LocalSystem());
  const SecurityDescriptor before = other.security;
  GrantOwnRestrictedUse(other, well_known::LocalSystem());
  CHECK(other.security.dacl->aces.size() == before.dacl->aces.size());
}

TEST_CASE("running a program under a token needs Impersonation level") {
  const Token server = Alice(0x800);
  const Token client = System(0x801);
  ImpersonationDecision decision;
  decision.reason = "capped";
  for (ImpersonationLevel level :
       {ImpersonationLevel::kAnonymous, ImpersonationLevel::kIdentification}) {
    decision.level = level;
    auto refused = DecideAdoptAtExec(decision, client, server);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::kPrivilegeNotHeld);
  }
  decision.level = ImpersonationLevel::kImpersonation;
  CHECK(DecideAdoptAtExec(decision, client, server));
  // A narrower version of the process's own token needs no gate.
  decision.level = ImpersonationLevel::kIdentification;
  Token narrower = server;
  narrower.privileges.present = narrower.privileges.enabled = 0;
  CHECK(DecideAdoptAtExec(decision, narrower, server));
}

TEST_CASE("SYSTEM impersonating a user at Identification keeps its power") {
  // Identification grants nothing, but takes nothing either: the primary
  // decides.
  const Token system = System();
  const Token identification =
      ImpersonationOf(Alice(), ImpersonationLevel::kIdentification);
  const Token& checking = CheckingToken(identification, system);
  CHECK(DecideCreate(checking));
  CHECK(MayInstallPrimary(checking));
  const Token impersonation =
      ImpersonationOf(Alice(), ImpersonationLevel::kImpersonation);
  CHECK_FALSE(DecideCreate(CheckingToken(impersonation, system)));
}

}  // namespace
}  // namespace tokenfs
