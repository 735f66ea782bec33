#include "core/token_operations.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/capability.h"
#include "core/privilege.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

// Expected values come from the token rules of Peios KACS v0.20 (creation,
// adjustment, elevation, the impersonation gates and token lifecycle) and,
// where a test name says so, of Windows; each test's name states its rule.
// Ids come from a LuidAllocator whose next value is known.

namespace tokenfs {
namespace {

namespace ga = group_attributes;
using privilege::Bit;
using test::kEnabledGroup;  // mandatory | enabled by default | enabled

constexpr uint64_t kFirstId = 0x9000;

// Group indices of the fixture token.
constexpr uint32_t kPrimaryGroupIndex = 0;  // mandatory, owner
constexpr uint32_t kEveryoneIndex = 1;      // mandatory
constexpr uint32_t kAdminsIndex = 2;        // optional, owner
constexpr uint32_t kUsersIndex = 3;         // optional, disabled
constexpr uint32_t kInteractiveIndex = 4;   // optional, enabled
constexpr uint32_t kDenyOnlyIndex = 5;      // deny-only
constexpr uint32_t kIntegrityIndex = 6;     // integrity label
constexpr uint32_t kLogonIndex = 7;         // logon SID

Token UserToken() {
  Token token;
  token.user = well_known::UnixUser(1000);
  token.groups = {
      {well_known::UnixGroup(1000), kEnabledGroup | ga::kOwner},
      {well_known::Everyone(), kEnabledGroup},
      {well_known::Administrators(),
       ga::kEnabledByDefault | ga::kEnabled | ga::kOwner},
      {well_known::Users(), 0},
      {well_known::Interactive(), ga::kEnabledByDefault | ga::kEnabled},
      {well_known::BackupOperators(), ga::kUseForDenyOnly},
      {well_known::IntegrityLevel(kIntegrityMedium),
       ga::kIntegrity | ga::kIntegrityEnabled},
      {well_known::LogonSid(42), kEnabledGroup | ga::kLogonId},
  };
  token.type = TokenType::kPrimary;
  token.integrity_rid = kIntegrityMedium;
  token.privileges.present = Bit(privilege::kChangeNotify) |
                             Bit(privilege::kShutdown) |
                             Bit(privilege::kDebug) | Bit(privilege::kBackup);
  token.privileges.enabled_by_default =
      Bit(privilege::kChangeNotify) | Bit(privilege::kShutdown);
  token.privileges.enabled =
      Bit(privilege::kChangeNotify) | Bit(privilege::kDebug);
  token.privileges.used = Bit(privilege::kChangeNotify);
  token.owner_index = 0;
  token.primary_group_index = 1;
  token.token_id = Luid{0x500};
  token.modified_id = Luid{0x500};
  token.auth_id = Luid{42};
  token.source = TokenSource::Make("tokenfs", Luid{7});
  token.created_ns = 1234;
  token.capabilities = FullCapabilitySet();
  token.security = DefaultTokenSecurity(token.user, well_known::LocalSystem());
  return token;
}

// A caller's token with every privilege present; `enabled` chooses which
// are enabled.
Token Caller(uint64_t enabled, uint32_t integrity = kIntegritySystem) {
  Token token;
  token.user = well_known::LocalSystem();
  token.groups = {{well_known::Administrators(), kEnabledGroup | ga::kOwner}};
  token.integrity_rid = integrity;
  token.privileges.present = privilege::kCatalogMask;
  token.privileges.enabled = enabled;
  token.privileges.enabled_by_default = enabled;
  return token;
}

Token PlainCaller() { return Caller(Bit(privilege::kChangeNotify)); }
Token TcbCaller() { return Caller(Bit(privilege::kTcb)); }

template <typename T>
void CheckRefused(const Result<T>& result, ErrorCode code,
                  const std::string& fragment) {
  REQUIRE_FALSE(result);
  CHECK(result.error().code == code);
  CHECK_THAT(result.error().message, Catch::Contains(fragment));
}

// True iff a failed operation took no id (nothing was built).
bool AllocatorUntouched(LuidAllocator& ids) {
  return ids.Next() == Luid{kFirstId};
}

}  // namespace

TEST_CASE("the operations fixture token is well formed") {
  REQUIRE(ValidateToken(UserToken()));
}

// ===========================================================================
// AdjustPrivileges.

TEST_CASE("adjusting privileges enables a present privilege") {
  LuidAllocator ids(kFirstId);
  const Token token = UserToken();
  const PrivilegeChange changes[] = {
      {privilege::kShutdown, PrivilegeState::kEnabled}};
  Result<PrivilegeAdjustment> result = AdjustPrivileges(token, changes, ids);
  REQUIRE(result);
  CHECK(result->token.privileges.enabled ==
        (token.privileges.enabled | Bit(privilege::kShutdown)));
  CHECK(result->token.privileges.present == token.privileges.present);
  CHECK(result->previous_enabled == token.privileges.enabled);
}

TEST_CASE("adjusting privileges disables a privilege but keeps its default") {
  LuidAllocator ids(kFirstId);
  const Token token = UserToken();
  const PrivilegeChange changes[] = {
      {privilege::kChangeNotify, PrivilegeState::kDisabled}};
  Result<PrivilegeAdjustment> result = AdjustPrivileges(token, changes, ids);
  REQUIRE(result);
  CHECK_FALSE(result->token.privileges.IsEnabled(privilege::kChangeNotify));
  CHECK(result->token.privileges.IsPresent(privilege::kChangeNotify));
  CHECK(result->token.privileges.enabled_by_default ==
        token.privileges.enabled_by_default);
}

TEST_CASE("adjusting privileges refuses to enable an absent privilege") {
  LuidAllocator ids(kFirstId);
  const PrivilegeChange changes[] = {
      {privilege::kDebug, PrivilegeState::kEnabled},
      {privilege::kTcb, PrivilegeState::kEnabled}};
  CheckRefused(AdjustPrivileges(UserToken(), changes, ids),
               ErrorCode::kPrivilegeNotHeld,
               "privilege SeTcb is not present on the token");
  // Validation failed before anything was built: no id was taken.
  CHECK(AllocatorUntouched(ids));
}

TEST_CASE("disabling or removing an absent privilege is a no-op") {
  LuidAllocator ids(kFirstId);
  const Token token = UserToken();
  const PrivilegeChange changes[] = {
      {privilege::kTcb, PrivilegeState::kDisabled},
      {privilege::kSecurity, PrivilegeState::kRemoved}};
  Result<PrivilegeAdjustment> result = AdjustPrivileges(token, changes, ids);
  REQUIRE(result);
  CHECK(result->token.privileges == token.privileges);
}

TEST_CASE("removing a privilege is permanent") {
  LuidAllocator ids(kFirstId);
  const PrivilegeChange remove[] = {
      {privilege::kShutdown, PrivilegeState::kRemoved}};
  Result<PrivilegeAdjustment> removed =
      AdjustPrivileges(UserToken(), remove, ids);
  REQUIRE(removed);
  const PrivilegeSet& privileges = removed->token.privileges;
  CHECK_FALSE(privileges.IsPresent(privilege::kShutdown));
  CHECK_FALSE(privileges.IsEnabled(privilege::kShutdown));
  CHECK_FALSE(privileges.enabled_by_default & Bit(privilege::kShutdown));

  const PrivilegeChange enable[] = {
      {privilege::kShutdown, PrivilegeState::kEnabled}};
  CheckRefused(AdjustPrivileges(removed->token, enable, ids),
               ErrorCode::kPrivilegeNotHeld, "SeShutdown is not present");
  // Reset does not resurrect it either.
  CHECK_FALSE(ResetPrivileges(removed->token, ids)
                  .token.privileges.IsPresent(privilege::kShutdown));
}

TEST_CASE("adjusting privileges refuses the same privilege twice") {
  LuidAllocator ids(kFirstId);
  const PrivilegeChange changes[] = {
      {privilege::kDebug, PrivilegeState::kEnabled},
      {privilege::kDebug, PrivilegeState::kDisabled}};
  CheckRefused(AdjustPrivileges(UserToken(), changes, ids),
               ErrorCode::kInvalidArgument,
               "privilege SeDebug appears twice in one request");
}

TEST_CASE("adjusting privileges refuses bits outside the catalog") {
  LuidAllocator ids(kFirstId);
  for (int bit : {0, 1, 36, 61, 64, -1}) {
    INFO(bit);
    const PrivilegeChange changes[] = {{bit, PrivilegeState::kDisabled}};
    CheckRefused(
        AdjustPrivileges(UserToken(), changes, ids),
        ErrorCode::kInvalidArgument,
        "privilege bit " + std::to_string(bit) + " is not in the catalog");
  }
}

TEST_CASE("adjusting privileges refuses an empty request or unknown state") {
  LuidAllocator ids(kFirstId);
  CheckRefused(AdjustPrivileges(UserToken(), {}, ids),
               ErrorCode::kInvalidArgument, "no privilege changes");
  const PrivilegeChange changes[] = {
      {privilege::kDebug, static_cast<PrivilegeState>(9)}};
  CheckRefused(AdjustPrivileges(UserToken(), changes, ids),
               ErrorCode::kInvalidArgument, "SeDebug: unknown state 9");
}

TEST_CASE("resetting privileges restores the enabled-by-default state") {
  LuidAllocator ids(kFirstId);
  const Token token = UserToken();
  const PrivilegeAdjustment result = ResetPrivileges(token, ids);
  CHECK(result.token.privileges.enabled ==
        (Bit(privilege::kChangeNotify) | Bit(privilege::kShutdown)));
  CHECK(result.previous_enabled == token.privileges.enabled);
  CHECK(result.token.modified_id == Luid{kFirstId});
}

TEST_CASE("every privilege adjustment takes a new modified id") {
  LuidAllocator ids(kFirstId);
  const Token token = UserToken();
  // Peios KACS token adjustment: all adjustments bump modified_id, even one
  // that changes nothing.
  const PrivilegeChange changes[] = {
      {privilege::kTcb, PrivilegeState::kDisabled}};
  Result<PrivilegeAdjustment> result = AdjustPrivileges(token, changes, ids);
  REQUIRE(result);
  CHECK(result->token.modified_id == Luid{kFirstId});
  CHECK(result->token.token_id == token.token_id);
}

TEST_CASE("marking privileges used only adds present bits and keeps ids") {
  const Token token = UserToken();
  const Token marked =
      MarkPrivilegesUsed(token, Bit(privilege::kDebug) | Bit(privilege::kTcb));
  CHECK(marked.privileges.used ==
        (Bit(privilege::kChangeNotify) | Bit(privilege::kDebug)));
  CHECK(marked.modified_id == token.modified_id);
  // used only grows.
  CHECK(MarkPrivilegesUsed(marked, 0).privileges.used ==
        marked.privileges.used);
}

// ===========================================================================
// AdjustGroups.

TEST_CASE("adjusting groups enables an optional group") {
  LuidAllocator ids(kFirstId);
  const Token token = UserToken();
  const GroupChange changes[] = {{kUsersIndex, true}};
  Result<GroupAdjustment> result = AdjustGroups(token, changes, ids);
  REQUIRE(result);
  CHECK(result->token.groups[kUsersIndex].attributes == ga::kEnabled);
  CHECK(result->previous_enabled ==
        std::vector<bool>{true, true, true, false, true, false, false, true});
  CHECK(result->token.modified_id == Luid{kFirstId});
}

TEST_CASE("adjusting groups disables an optional group") {
  LuidAllocator ids(kFirstId);
  const GroupChange changes[] = {{kAdminsIndex, false},
                                 {kInteractiveIndex, false}};
  Result<GroupAdjustment> result = AdjustGroups(UserToken(), changes, ids);
  REQUIRE(result);
  CHECK(result->token.groups[kAdminsIndex].attributes ==
        (ga::kEnabledByDefault | ga::kOwner));
  CHECK(result->token.groups[kInteractiveIndex].attributes ==
        ga::kEnabledByDefault);
}

TEST_CASE("adjusting groups refuses to disable a mandatory group") {
  LuidAllocator ids(kFirstId);
  const GroupChange changes[] = {{kUsersIndex, true}, {kEveryoneIndex, false}};
  CheckRefused(AdjustGroups(UserToken(), changes, ids),
               ErrorCode::kPrivilegeNotHeld,
               "group 1 (S-1-1-0) is mandatory and cannot be disabled");
  CHECK(AllocatorUntouched(ids));
}

TEST_CASE("adjusting groups refuses to enable a deny-only group") {
  LuidAllocator ids(kFirstId);
  const GroupChange changes[] = {{kDenyOnlyIndex, true}};
  CheckRefused(AdjustGroups(UserToken(), changes, ids),
               ErrorCode::kPrivilegeNotHeld,
               "group 5 (S-1-5-32-551) is deny-only and cannot be enabled");
}

TEST_CASE("disabling a deny-only group is a no-op") {
  LuidAllocator ids(kFirstId);
  const GroupChange changes[] = {{kDenyOnlyIndex, false}};
  Result<GroupAdjustment> result = AdjustGroups(UserToken(), changes, ids);
  REQUIRE(result);
  CHECK(result->token.groups[kDenyOnlyIndex].attributes == ga::kUseForDenyOnly);
}

TEST_CASE("adjusting groups refuses to disable the logon SID") {
  LuidAllocator ids(kFirstId);
  Token token = UserToken();
  // Even a logon SID not marked mandatory stays.
  token.groups.Mutable()[kLogonIndex].attributes &= ~ga::kMandatory;
  const GroupChange changes[] = {{kLogonIndex, false}};
  CheckRefused(AdjustGroups(token, changes, ids), ErrorCode::kPrivilegeNotHeld,
               "group 7 (S-1-5-5-0-42) is the logon SID and cannot be "
               "disabled");
}

TEST_CASE("adjusting groups refuses to disable the user SID listed as group") {
  LuidAllocator ids(kFirstId);
  Token token = UserToken();
  token.groups.push_back({token.user, ga::kEnabledByDefault | ga::kEnabled});
  const GroupChange changes[] = {{8, false}};
  CheckRefused(AdjustGroups(token, changes, ids), ErrorCode::kPrivilegeNotHeld,
               "group 8 (S-1-22-1-1000) is the user SID");
}

TEST_CASE("adjusting groups refuses to touch the integrity label group") {
  LuidAllocator ids(kFirstId);
  for (bool enable : {true, false}) {
    const GroupChange changes[] = {{kIntegrityIndex, enable}};
    CheckRefused(AdjustGroups(UserToken(), changes, ids),
                 ErrorCode::kPrivilegeNotHeld,
                 "group 6 (S-1-16-8192) is the integrity label");
  }
}

TEST_CASE("adjusting groups refuses an index out of range") {
  LuidAllocator ids(kFirstId);
  const GroupChange changes[] = {{8, true}};
  CheckRefused(AdjustGroups(UserToken(), changes, ids),
               ErrorCode::kInvalidArgument,
               "group index 8 is out of range (the token has 8 groups)");
}

TEST_CASE("adjusting groups refuses the same index twice or no change") {
  LuidAllocator ids(kFirstId);
  const GroupChange changes[] = {{kUsersIndex, true}, {kUsersIndex, false}};
  CheckRefused(AdjustGroups(UserToken(), changes, ids),
               ErrorCode::kInvalidArgument,
               "group index 3 appears twice in one request");
  CheckRefused(AdjustGroups(UserToken(), {}, ids), ErrorCode::kInvalidArgument,
               "no group changes");
}

TEST_CASE("resetting groups restores defaults but never lifts deny-only") {
  LuidAllocator ids(kFirstId);
  Token token = UserToken();
  token.groups.Mutable()[kAdminsIndex].attributes &= ~ga::kEnabled;
  token.groups.Mutable()[kUsersIndex].attributes |= ga::kEnabled;
  // A deny-only group that still has its default bit (as a spec could
  // carry) must stay disabled.
  token.groups.Mutable()[kDenyOnlyIndex].attributes |= ga::kEnabledByDefault;
  const GroupAdjustment result = ResetGroups(token, ids);
  CHECK(result.token.groups[kAdminsIndex].attributes & ga::kEnabled);
  CHECK_FALSE(result.token.groups[kUsersIndex].attributes & ga::kEnabled);
  CHECK_FALSE(result.token.groups[kDenyOnlyIndex].attributes & ga::kEnabled);
  CHECK(result.token.groups[kDenyOnlyIndex].attributes & ga::kUseForDenyOnly);
  CHECK(result.token.groups[kIntegrityIndex].attributes ==
        (ga::kIntegrity | ga::kIntegrityEnabled));
  CHECK(result.previous_enabled[kUsersIndex]);
  CHECK(result.token.modified_id == Luid{kFirstId});
}

// ===========================================================================
// AdjustDefault.

TEST_CASE("the default owner may be the user or an owner group") {
  LuidAllocator ids(kFirstId);
  const Token token = UserToken();
  Result<Token> group_owner =
      AdjustDefault(token, DefaultChange{.owner_index = kAdminsIndex + 1}, ids);
  REQUIRE(group_owner);
  CHECK(group_owner->owner_index == kAdminsIndex + 1);
  CHECK(group_owner->Owner() == well_known::Administrators());
  CHECK(group_owner->modified_id == Luid{kFirstId});

  Result<Token> user_owner =
      AdjustDefault(*group_owner, DefaultChange{.owner_index = 0}, ids);
  REQUIRE(user_owner);
  CHECK(user_owner->Owner() == token.user);
}

TEST_CASE("the default owner cannot be a group without the owner attribute") {
  LuidAllocator ids(kFirstId);
  CheckRefused(
      AdjustDefault(UserToken(),
                    DefaultChange{.owner_index = kEveryoneIndex + 1}, ids),
      ErrorCode::kPrivilegeNotHeld,
      "owner index 2 (S-1-1-0) names a group without the owner attribute");
}

TEST_CASE("the default owner cannot be a deny-only group") {
  LuidAllocator ids(kFirstId);
  Token token = UserToken();
  token.groups.Mutable()[kAdminsIndex].attributes = ga::kOwner | ga::kUseForDenyOnly;
  CheckRefused(
      AdjustDefault(token, DefaultChange{.owner_index = kAdminsIndex + 1}, ids),
      ErrorCode::kPrivilegeNotHeld, "names a deny-only group");
}

TEST_CASE("default owner and primary group indices must be in range") {
  LuidAllocator ids(kFirstId);
  CheckRefused(AdjustDefault(UserToken(), DefaultChange{.owner_index = 9}, ids),
               ErrorCode::kInvalidArgument, "owner index 9 is out of range");
  CheckRefused(
      AdjustDefault(UserToken(), DefaultChange{.primary_group_index = 9}, ids),
      ErrorCode::kInvalidArgument, "primary group index 9 is out of range");
}

TEST_CASE("the primary group may be any group of the token") {
  LuidAllocator ids(kFirstId);
  Result<Token> result = AdjustDefault(
      UserToken(), DefaultChange{.primary_group_index = kUsersIndex + 1}, ids);
  REQUIRE(result);
  CHECK(result->PrimaryGroup() == well_known::Users());
}

TEST_CASE("the default DACL can be replaced or cleared") {
  LuidAllocator ids(kFirstId);
  Acl dacl;
  dacl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                          .mask = access::kGenericAll,
                          .sid = well_known::LocalSystem()});
  Result<Token> set =
      AdjustDefault(UserToken(), DefaultChange{.dacl = dacl}, ids);
  REQUIRE(set);
  REQUIRE(set->default_dacl);
  CHECK(*set->default_dacl == dacl);
  CHECK(set->owner_index == 0);  // untouched

  Result<Token> cleared =
      AdjustDefault(*set, DefaultChange{.dacl = std::optional<Acl>()}, ids);
  REQUIRE(cleared);
  CHECK_FALSE(cleared->default_dacl);
}

TEST_CASE("adjusting defaults refuses an empty change or an oversized DACL") {
  LuidAllocator ids(kFirstId);
  CheckRefused(AdjustDefault(UserToken(), DefaultChange{}, ids),
               ErrorCode::kInvalidArgument, "names nothing to change");
  // 3300 ACEs of 20 bytes each exceed the 65535-byte ACL limit.
  Acl huge;
  huge.aces.assign(3300, Ace{.type = AceType::kAccessAllowed,
                             .mask = access::kGenericRead,
                             .sid = well_known::Administrators()});
  CheckRefused(AdjustDefault(UserToken(), DefaultChange{.dacl = huge}, ids),
               ErrorCode::kInvalidArgument, "default DACL");
  CHECK(AllocatorUntouched(ids));
}

// ===========================================================================
// Session and integrity.

TEST_CASE("changing the session needs SeTcb enabled on the caller") {
  LuidAllocator ids(kFirstId);
  Result<Token> changed = AdjustSession(UserToken(), 3, TcbCaller(), ids);
  REQUIRE(changed);
  CHECK(changed->interactive_session_id == 3);
  CHECK(changed->modified_id == Luid{kFirstId});

  CheckRefused(AdjustSession(UserToken(), 3, PlainCaller(), ids),
               ErrorCode::kPrivilegeNotHeld, "needs SeTcb enabled");
  // Present but disabled is not enough.
  Token disabled = TcbCaller();
  disabled.privileges.enabled = 0;
  CheckRefused(AdjustSession(UserToken(), 3, disabled, ids),
               ErrorCode::kPrivilegeNotHeld, "SeTcb");
}

TEST_CASE("lowering integrity needs no privilege and the label group follows") {
  LuidAllocator ids(kFirstId);
  Result<Token> lowered =
      SetIntegrity(UserToken(), kIntegrityLow, PlainCaller(), ids);
  REQUIRE(lowered);
  CHECK(lowered->integrity_rid == kIntegrityLow);
  CHECK(lowered->groups[kIntegrityIndex].sid.ToString() == "S-1-16-4096");
  CHECK(lowered->groups[kIntegrityIndex].attributes ==
        (ga::kIntegrity | ga::kIntegrityEnabled));
  CHECK(lowered->modified_id == Luid{kFirstId});
}

TEST_CASE("raising integrity needs SeTcb enabled on the caller") {
  LuidAllocator ids(kFirstId);
  CheckRefused(SetIntegrity(UserToken(), kIntegrityHigh, PlainCaller(), ids),
               ErrorCode::kPrivilegeNotHeld,
               "raising integrity from Medium to High needs SeTcb enabled");
  Result<Token> raised =
      SetIntegrity(UserToken(), kIntegrityHigh, TcbCaller(), ids);
  REQUIRE(raised);
  CHECK(raised->integrity_rid == kIntegrityHigh);
  CHECK(raised->groups[kIntegrityIndex].sid.ToString() == "S-1-16-12288");
}

TEST_CASE("setting the same integrity level is allowed") {
  LuidAllocator ids(kFirstId);
  Result<Token> same =
      SetIntegrity(UserToken(), kIntegrityMedium, PlainCaller(), ids);
  REQUIRE(same);
  CHECK(same->integrity_rid == kIntegrityMedium);
}

// ===========================================================================
// The token object's own security descriptor.

namespace {

SecurityDescriptor OwnerUpdate(const Sid& owner) {
  SecurityDescriptor update;
  update.owner = owner;
  return update;
}

SecurityDescriptor LabelUpdate(uint32_t rid) {
  SecurityDescriptor update;
  Acl sacl;
  sacl.aces.push_back(Ace{.type = AceType::kSystemMandatoryLabel,
                          .mask = access::kMandatoryNoWriteUp,
                          .sid = well_known::IntegrityLevel(rid)});
  update.SetSacl(sacl);
  return update;
}

Ace AuditAce(const Sid& sid) {
  return Ace{.type = AceType::kSystemAudit,
             .flags = ace_flags::kFailedAccess,
             .mask = access::kGenericAll,
             .sid = sid};
}

}  // namespace

TEST_CASE("the token's owner may become the caller's user or owner group") {
  const Token target = UserToken();
  const Token caller = PlainCaller();
  Result<Token> self = SetSecurity(target, OwnerUpdate(caller.user),
                                   security_information::kOwner, caller);
  REQUIRE(self);
  CHECK(self->security.owner == caller.user);
  CHECK(self->security.dacl == target.security.dacl);  // other parts kept
  CHECK(self->modified_id == target.modified_id);      // no bump

  Result<Token> group =
      SetSecurity(target, OwnerUpdate(well_known::Administrators()),
                  security_information::kOwner, caller);
  REQUIRE(group);
  CHECK(group->security.owner == well_known::Administrators());
}

TEST_CASE(
    "the token's owner cannot become an arbitrary SID without SeRestore") {
  const Token target = UserToken();
  CheckRefused(SetSecurity(target, OwnerUpdate(well_known::Guests()),
                           security_information::kOwner, PlainCaller()),
               ErrorCode::kPrivilegeNotHeld,
               "owner S-1-5-32-546 is neither the caller's user");
  // SeTakeOwnership only yields WRITE_OWNER access; it does not choose the
  // owner.
  CheckRefused(SetSecurity(target, OwnerUpdate(well_known::Guests()),
                           security_information::kOwner,
                           Caller(Bit(privilege::kTakeOwnership))),
               ErrorCode::kPrivilegeNotHeld, "S-1-5-32-546");
  Result<Token> restored = SetSecurity(
      target, OwnerUpdate(well_known::Guests()), security_information::kOwner,
      Caller(Bit(privilege::kRestore)));
  REQUIRE(restored);
  CHECK(restored->security.owner == well_known::Guests());
}

TEST_CASE("the token's owner cannot become a deny-only group of the caller") {
  Token caller = PlainCaller();
  caller.groups.Mutable()[0].attributes = ga::kOwner | ga::kUseForDenyOnly;
  CheckRefused(
      SetSecurity(UserToken(), OwnerUpdate(well_known::Administrators()),
                  security_information::kOwner, caller),
      ErrorCode::kPrivilegeNotHeld, "S-1-5-32-544");
}

TEST_CASE("labelling the token above the caller's integrity needs SeRelabel") {
  const Token target = UserToken();
  const Token medium_caller =
      Caller(Bit(privilege::kChangeNotify), kIntegrityMedium);
  Result<Token> low = SetSecurity(target, LabelUpdate(kIntegrityLow),
                                  security_information::kLabel, medium_caller);
  REQUIRE(low);
  REQUIRE(low->security.MandatoryLabel());
  CHECK(low->security.MandatoryLabel()->sid.ToString() == "S-1-16-4096");
  CHECK(SetSecurity(target, LabelUpdate(kIntegrityMedium),
                    security_information::kLabel, medium_caller));

  CheckRefused(SetSecurity(target, LabelUpdate(kIntegrityHigh),
                           security_information::kLabel, medium_caller),
               ErrorCode::kPrivilegeNotHeld,
               "labelling at High, above the caller's Medium, needs SeRelabel");
  CHECK(SetSecurity(target, LabelUpdate(kIntegrityHigh),
                    security_information::kLabel,
                    Caller(Bit(privilege::kRelabel), kIntegrityMedium)));
}

TEST_CASE("a label update must be one mandatory label for an integrity SID") {
  const Token target = UserToken();
  SecurityDescriptor not_integrity = LabelUpdate(kIntegrityLow);
  not_integrity.sacl->aces.Mutable()[0].sid = well_known::Everyone();
  CheckRefused(SetSecurity(target, not_integrity, security_information::kLabel,
                           TcbCaller()),
               ErrorCode::kInvalidArgument, "not an integrity SID");

  SecurityDescriptor two = LabelUpdate(kIntegrityLow);
  two.sacl->aces.push_back(two.sacl->aces[0]);
  CheckRefused(
      SetSecurity(target, two, security_information::kLabel, TcbCaller()),
      ErrorCode::kInvalidArgument, "exactly one mandatory label ACE, not 2");

  CheckRefused(SetSecurity(target, SecurityDescriptor{},
                           security_information::kLabel, TcbCaller()),
               ErrorCode::kInvalidArgument, "not 0");
}

TEST_CASE("setting the DACL and group replaces only those parts") {
  const Token target = UserToken();
  SecurityDescriptor update;
  update.group = well_known::Users();
  update.SetNullDacl();
  update.control |= sd_control::kDaclProtected;
  update.owner = well_known::Guests();  // not named: ignored
  Result<Token> changed =
      SetSecurity(target, update,
                  security_information::kDacl | security_information::kGroup,
                  PlainCaller());
  REQUIRE(changed);
  CHECK(changed->security.has_null_dacl());
  CHECK(changed->security.control & sd_control::kDaclProtected);
  CHECK(changed->security.group == well_known::Users());
  CHECK(changed->security.owner == target.security.owner);
}

TEST_CASE("the SACL and label parts replace their own ACEs only") {
  Token target = UserToken();
  Acl sacl;
  sacl.aces.push_back(Ace{.type = AceType::kSystemMandatoryLabel,
                          .mask = access::kMandatoryNoWriteUp,
                          .sid = well_known::IntegrityLevel(kIntegrityLow)});
  sacl.aces.push_back(AuditAce(well_known::Everyone()));
  target.security.SetSacl(sacl);

  SecurityDescriptor audit_update;
  Acl audit;
  audit.aces.push_back(AuditAce(well_known::Guests()));
  audit_update.SetSacl(audit);
  Result<Token> audited = SetSecurity(target, audit_update,
                                      security_information::kSacl, TcbCaller());
  REQUIRE(audited);
  REQUIRE(audited->security.sacl);
  REQUIRE(audited->security.sacl->aces.size() == 2);
  CHECK(audited->security.sacl->aces[0].sid.ToString() == "S-1-16-4096");
  CHECK(audited->security.sacl->aces[1].sid == well_known::Guests());

  Result<Token> relabelled =
      SetSecurity(target, LabelUpdate(kIntegrityUntrusted),
                  security_information::kLabel, TcbCaller());
  REQUIRE(relabelled);
  REQUIRE(relabelled->security.sacl->aces.size() == 2);
  CHECK(relabelled->security.sacl->aces[0].sid.ToString() == "S-1-16-0");
  CHECK(relabelled->security.sacl->aces[1].sid == well_known::Everyone());
}

TEST_CASE("setting security refuses no parts, unknown parts, missing parts") {
  const Token target = UserToken();
  CheckRefused(SetSecurity(target, SecurityDescriptor{}, 0, TcbCaller()),
               ErrorCode::kInvalidArgument, "no security information");
  CheckRefused(SetSecurity(target, SecurityDescriptor{}, 0x40, TcbCaller()),
               ErrorCode::kInvalidArgument,
               "unknown security information bits 0x40");
  CheckRefused(SetSecurity(target, SecurityDescriptor{},
                           security_information::kOwner, TcbCaller()),
               ErrorCode::kInvalidArgument, "the new owner is missing");
  CheckRefused(SetSecurity(target, SecurityDescriptor{},
                           security_information::kGroup, TcbCaller()),
               ErrorCode::kInvalidArgument, "the new group is missing");
}

// ===========================================================================
// create_mytoken.

TEST_CASE("deriving tokens requires the caller to hold create_mytoken") {
  Token caller = UserToken();
  CHECK(RequireCapability(caller, "create_mytoken"));
  caller.capabilities = {*MakeCapability("tokeninfo")};
  CheckRefused(RequireCapability(caller, "create_mytoken"),
               ErrorCode::kPrivilegeNotHeld,
               "token lacks capability 'create_mytoken'");
  caller.capabilities = {*MakeCapability("manage_mytokens")};
  CHECK(RequireCapability(caller, "manage_mytokens:revoke"));
  CheckRefused(RequireCapability(caller, "bad name"),
               ErrorCode::kInvalidArgument, "'bad name'");
}

// ===========================================================================
// Restrict.

TEST_CASE("restricting deletes privileges and resets used") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.drop_privileges = Bit(privilege::kDebug) | Bit(privilege::kShutdown) |
                            Bit(privilege::kTcb);  // absent: ignored
  Result<RestrictResult> result =
      Restrict(UserToken(), request, well_known::LocalSystem(), ids);
  REQUIRE(result);
  const PrivilegeSet& privileges = result->token.privileges;
  CHECK(privileges.present ==
        (Bit(privilege::kChangeNotify) | Bit(privilege::kBackup)));
  CHECK(privileges.enabled == Bit(privilege::kChangeNotify));
  CHECK(privileges.enabled_by_default == Bit(privilege::kChangeNotify));
  CHECK(privileges.used == 0);
}

TEST_CASE("restricting with disable-max-privilege keeps only SeChangeNotify") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.disable_max_privilege = true;
  Result<RestrictResult> result =
      Restrict(UserToken(), request, well_known::LocalSystem(), ids);
  REQUIRE(result);
  CHECK(result->token.privileges.present == Bit(privilege::kChangeNotify));
  CHECK(result->token.privileges.enabled == Bit(privilege::kChangeNotify));
}

TEST_CASE("restricting makes the named groups deny-only and disabled") {
  LuidAllocator ids(kFirstId);
  const Token source = UserToken();
  RestrictRequest request;
  request.deny_indices = {kEveryoneIndex, kAdminsIndex};
  Result<RestrictResult> result =
      Restrict(source, request, well_known::LocalSystem(), ids);
  REQUIRE(result);
  // Windows-verified: ENABLED and ENABLED_BY_DEFAULT cleared, deny-only set,
  // other bits (mandatory, owner) kept.
  CHECK(result->token.groups[kEveryoneIndex].attributes ==
        (ga::kMandatory | ga::kUseForDenyOnly));
  CHECK(result->token.groups[kAdminsIndex].attributes ==
        (ga::kOwner | ga::kUseForDenyOnly));
  CHECK(result->token.groups[kInteractiveIndex] ==
        source.groups[kInteractiveIndex]);
  // Permanent: the restricted token cannot enable it again.
  const GroupChange enable[] = {{kAdminsIndex, true}};
  CheckRefused(AdjustGroups(result->token, enable, ids),
               ErrorCode::kPrivilegeNotHeld, "deny-only");
}

TEST_CASE("restricting the owner group reverts the default owner to the user") {
  LuidAllocator ids(kFirstId);
  Token source = UserToken();
  source.owner_index = kAdminsIndex + 1;
  RestrictRequest request;
  request.deny_indices = {kAdminsIndex};
  Result<RestrictResult> result =
      Restrict(source, request, well_known::LocalSystem(), ids);
  REQUIRE(result);
  CHECK(result->token.owner_index == 0);
}

TEST_CASE("restricting refuses deny indices out of range or repeated") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.deny_indices = {kUsersIndex, 8};
  CheckRefused(Restrict(UserToken(), request, well_known::LocalSystem(), ids),
               ErrorCode::kInvalidArgument,
               "deny-only index 8 is out of range (the token has 8 groups)");
  request.deny_indices = {kUsersIndex, kUsersIndex};
  CheckRefused(Restrict(UserToken(), request, well_known::LocalSystem(), ids),
               ErrorCode::kInvalidArgument,
               "deny-only index 3 appears twice in one request");
  CHECK(AllocatorUntouched(ids));
}

TEST_CASE("restricting adds restricting SIDs to an unrestricted token") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.restricting_sids =
      std::vector<Sid>{well_known::Restricted(), well_known::Everyone(),
                       well_known::Restricted()};
  Result<RestrictResult> result =
      Restrict(UserToken(), request, well_known::LocalSystem(), ids);
  REQUIRE(result);
  REQUIRE(result->token.is_restricted());
  // Stored with the attributes Windows gives restricting SIDs (0x7); the
  // repeat collapses.
  CHECK(*result->token.restricted_sids ==
        std::vector<SidAndAttributes>{
            {well_known::Restricted(), ga::kRestrictingSid},
            {well_known::Everyone(), ga::kRestrictingSid}});
}

TEST_CASE("restricting a restricted token intersects the restricting SIDs") {
  LuidAllocator ids(kFirstId);
  Token source = UserToken();
  source.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::Restricted(), ga::kRestrictingSid},
      {well_known::Everyone(), ga::kRestrictingSid}};
  RestrictRequest request;
  request.restricting_sids =
      std::vector<Sid>{well_known::Everyone(), well_known::Users()};
  Result<RestrictResult> result =
      Restrict(source, request, well_known::LocalSystem(), ids);
  REQUIRE(result);
  CHECK(*result->token.restricted_sids ==
        std::vector<SidAndAttributes>{
            {well_known::Everyone(), ga::kRestrictingSid}});

  request.restricting_sids = std::vector<Sid>{well_known::Users()};
  CheckRefused(Restrict(source, request, well_known::LocalSystem(), ids),
               ErrorCode::kInvalidArgument, "share none");

  // Omitted: the source's list is kept as it is.
  Result<RestrictResult> kept =
      Restrict(source, RestrictRequest{}, well_known::LocalSystem(), ids);
  REQUIRE(kept);
  CHECK(kept->token.restricted_sids == source.restricted_sids);
}

TEST_CASE("restricting refuses an empty restricting SID list") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.restricting_sids = std::vector<Sid>{};
  CheckRefused(Restrict(UserToken(), request, well_known::LocalSystem(), ids),
               ErrorCode::kInvalidArgument,
               "the restricting SID list is empty");
}

TEST_CASE("write-restricted is sticky and forces user deny-only") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.restricting_sids = std::vector<Sid>{well_known::Restricted()};
  request.write_restricted = true;
  Result<RestrictResult> first =
      Restrict(UserToken(), request, well_known::LocalSystem(), ids);
  REQUIRE(first);
  CHECK(first->token.write_restricted);
  CHECK(first->token.user_deny_only);

  Result<RestrictResult> second =
      Restrict(first->token, RestrictRequest{}, well_known::LocalSystem(), ids);
  REQUIRE(second);
  CHECK(second->token.write_restricted);
  CHECK(second->token.user_deny_only);
}

TEST_CASE("write-restricted needs restricting SIDs") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.write_restricted = true;
  CheckRefused(Restrict(UserToken(), request, well_known::LocalSystem(), ids),
               ErrorCode::kInvalidArgument,
               "a write-restricted token needs restricting SIDs");
}

TEST_CASE("user deny-only can be requested and is never lifted") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.deny_only_user = true;
  Result<RestrictResult> first =
      Restrict(UserToken(), request, well_known::LocalSystem(), ids);
  REQUIRE(first);
  CHECK(first->token.user_deny_only);
  Result<RestrictResult> second =
      Restrict(first->token, RestrictRequest{}, well_known::LocalSystem(), ids);
  REQUIRE(second);
  CHECK(second->token.user_deny_only);
}

TEST_CASE("a restricted token gets new ids, its parent, a fresh SD") {
  LuidAllocator ids(kFirstId);
  Token source = UserToken();
  source.elevation_type = ElevationType::kFull;
  const Sid creator = well_known::UnixUser(2000);
  Result<RestrictResult> result =
      Restrict(source, RestrictRequest{}, creator, ids);
  REQUIRE(result);
  const Token& token = result->token;
  CHECK(token.token_id == Luid{kFirstId});
  CHECK(token.modified_id == token.token_id);
  CHECK(token.parent_token_id == source.token_id);
  CHECK(token.elevation_type == ElevationType::kDefault);
  CHECK(token.security == DefaultTokenSecurity(source.user, creator));
  CHECK(token.security.owner == creator);
  // Copied per Peios FilterToken.
  CHECK(token.auth_id == source.auth_id);
  CHECK(token.created_ns == source.created_ns);
  CHECK(token.type == source.type);
  CHECK(token.integrity_rid == source.integrity_rid);
  CHECK(token.capabilities == source.capabilities);
}

TEST_CASE("restricting narrows capabilities to a subset of the source's") {
  LuidAllocator ids(kFirstId);
  Token source = UserToken();
  source.capabilities = {*MakeCapability("tokeninfo:introspect"),
                         *MakeCapability("create_mytoken")};
  RestrictRequest request;
  request.capabilities = std::vector<std::string>{"tokeninfo:introspect"};
  Result<RestrictResult> result =
      Restrict(source, request, well_known::LocalSystem(), ids);
  REQUIRE(result);
  CHECK(result->token.capabilities ==
        std::vector<Capability>{*MakeCapability("tokeninfo:introspect")});

  request.capabilities = std::vector<std::string>{"tokeninfo"};
  CheckRefused(Restrict(source, request, well_known::LocalSystem(), ids),
               ErrorCode::kPrivilegeNotHeld,
               "capability 'tokeninfo' is not held by the parent token");

  request.tighten = true;
  Result<RestrictResult> tightened =
      Restrict(source, request, well_known::LocalSystem(), ids);
  REQUIRE(tightened);
  CHECK(tightened->token.capabilities ==
        std::vector<Capability>{*MakeCapability("tokeninfo:introspect")});
  CHECK(tightened->dropped_capabilities ==
        std::vector<std::string>{"tokeninfo"});
  CHECK(tightened->narrowed_capabilities ==
        std::vector<std::string>{"tokeninfo"});

  request.capabilities = std::vector<std::string>{};
  Result<RestrictResult> none =
      Restrict(source, request, well_known::LocalSystem(), ids);
  REQUIRE(none);
  CHECK(none->token.capabilities.empty());
}

TEST_CASE("restricting validates capabilities before building anything") {
  LuidAllocator ids(kFirstId);
  RestrictRequest request;
  request.deny_indices = {kUsersIndex};
  request.capabilities = std::vector<std::string>{"AT", "no such:"};
  CheckRefused(Restrict(UserToken(), request, well_known::LocalSystem(), ids),
               ErrorCode::kInvalidArgument, "'no such:'");
  CHECK(AllocatorUntouched(ids));
}

// ===========================================================================
// Duplicate.

TEST_CASE("duplicating a primary token may pick any impersonation level") {
  LuidAllocator ids(kFirstId);
  Result<Token> copy =
      Duplicate(UserToken(),
                DuplicateRequest{TokenType::kImpersonation,
                                 ImpersonationLevel::kDelegation},
                well_known::LocalSystem(), ids);
  REQUIRE(copy);
  CHECK(copy->type == TokenType::kImpersonation);
  CHECK(copy->impersonation_level == ImpersonationLevel::kDelegation);
}

TEST_CASE("duplicating an impersonation token may keep or lower its level") {
  LuidAllocator ids(kFirstId);
  Token source = UserToken();
  source.type = TokenType::kImpersonation;
  source.impersonation_level = ImpersonationLevel::kImpersonation;
  for (ImpersonationLevel level :
       {ImpersonationLevel::kImpersonation, ImpersonationLevel::kIdentification,
        ImpersonationLevel::kAnonymous}) {
    Result<Token> copy =
        Duplicate(source, DuplicateRequest{TokenType::kImpersonation, level},
                  well_known::LocalSystem(), ids);
    REQUIRE(copy);
    CHECK(copy->impersonation_level == level);
  }
  CheckRefused(Duplicate(source,
                         DuplicateRequest{TokenType::kImpersonation,
                                          ImpersonationLevel::kDelegation},
                         well_known::LocalSystem(), ids),
               ErrorCode::kPrivilegeNotHeld,
               "cannot raise the impersonation level from Impersonation to "
               "Delegation");
}

TEST_CASE("a primary token needs an impersonation source at Impersonation") {
  LuidAllocator ids(kFirstId);
  Token source = UserToken();
  source.type = TokenType::kImpersonation;
  source.impersonation_level = ImpersonationLevel::kIdentification;
  CheckRefused(Duplicate(source, DuplicateRequest{TokenType::kPrimary},
                         well_known::LocalSystem(), ids),
               ErrorCode::kPrivilegeNotHeld,
               "at level Impersonation or above, not Identification");

  source.impersonation_level = ImpersonationLevel::kImpersonation;
  Result<Token> primary = Duplicate(
      source,
      DuplicateRequest{TokenType::kPrimary, ImpersonationLevel::kDelegation},
      well_known::LocalSystem(), ids);
  REQUIRE(primary);
  CHECK(primary->type == TokenType::kPrimary);
  // Primary duplicates always use Anonymous.
  CHECK(primary->impersonation_level == ImpersonationLevel::kAnonymous);
}

TEST_CASE("a duplicate gets a new token id and keeps the modified id") {
  // Windows-verified (DuplicateTokenEx): the copy's ModifiedId equals the
  // source's, though its TokenId is new.
  LuidAllocator ids(kFirstId);
  Token source = UserToken();
  source.elevation_type = ElevationType::kLimited;
  source.parent_token_id = Luid{0x77};
  source.modified_id = Luid{0x5a5};
  const Sid creator = well_known::UnixUser(2000);
  Result<Token> copy =
      Duplicate(source, DuplicateRequest{TokenType::kPrimary}, creator, ids);
  REQUIRE(copy);
  CHECK(copy->token_id == Luid{kFirstId});
  CHECK(copy->modified_id == Luid{0x5a5});
  auto again = Duplicate(source,
                         DuplicateRequest{TokenType::kImpersonation,
                                          ImpersonationLevel::kIdentification},
                         creator, ids);
  REQUIRE(again);
  CHECK(again->token_id != copy->token_id);
  CHECK(again->modified_id == Luid{0x5a5});
  CHECK(copy->parent_token_id == source.parent_token_id);
  CHECK(copy->elevation_type == ElevationType::kDefault);
  CHECK(copy->security == DefaultTokenSecurity(source.user, creator));
  CHECK(copy->privileges == source.privileges);  // used copied too
  CHECK(copy->groups == source.groups);
  CHECK(copy->capabilities == source.capabilities);
  CHECK(copy->created_ns == source.created_ns);
  CHECK(copy->auth_id == source.auth_id);
}

TEST_CASE("duplicating refuses unknown types and levels") {
  LuidAllocator ids(kFirstId);
  CheckRefused(
      Duplicate(UserToken(), DuplicateRequest{static_cast<TokenType>(5)},
                well_known::LocalSystem(), ids),
      ErrorCode::kInvalidArgument, "unknown token type 5");
  CheckRefused(Duplicate(UserToken(),
                         DuplicateRequest{TokenType::kImpersonation,
                                          static_cast<ImpersonationLevel>(4)},
                         well_known::LocalSystem(), ids),
               ErrorCode::kInvalidArgument, "unknown impersonation level 4");
}

// ===========================================================================
// Elevation pairs.

namespace {

Token Elevated() {
  Token token = UserToken();
  token.token_id = Luid{0x600};
  token.integrity_rid = kIntegrityHigh;
  return token;
}

}  // namespace

TEST_CASE("linking sets Full and Limited and changes nothing else") {
  const Token elevated = Elevated();
  const Token filtered = UserToken();
  Result<LinkedPair> pair =
      LinkTokens(elevated, filtered, Luid{42}, TcbCaller());
  REQUIRE(pair);
  CHECK(pair->elevated.elevation_type == ElevationType::kFull);
  CHECK(pair->filtered.elevation_type == ElevationType::kLimited);
  Token expected = elevated;
  expected.elevation_type = ElevationType::kFull;
  CHECK(pair->elevated == expected);
  CHECK(pair->filtered.modified_id == filtered.modified_id);
}

TEST_CASE("linking needs SeTcb enabled on the caller") {
  CheckRefused(LinkTokens(Elevated(), UserToken(), Luid{42}, PlainCaller()),
               ErrorCode::kPrivilegeNotHeld,
               "linking tokens as an elevation pair needs SeTcb");
}

TEST_CASE("linking needs two primary tokens of one user in the session") {
  Token impersonation = UserToken();
  impersonation.type = TokenType::kImpersonation;
  impersonation.impersonation_level = ImpersonationLevel::kImpersonation;
  CheckRefused(LinkTokens(Elevated(), impersonation, Luid{42}, TcbCaller()),
               ErrorCode::kInvalidArgument,
               "the filtered token is not a primary token");
  CheckRefused(LinkTokens(impersonation, Elevated(), Luid{42}, TcbCaller()),
               ErrorCode::kInvalidArgument,
               "the elevated token is not a primary token");

  Token other_user = UserToken();
  other_user.user = well_known::UnixUser(1001);
  CheckRefused(LinkTokens(Elevated(), other_user, Luid{42}, TcbCaller()),
               ErrorCode::kInvalidArgument,
               "differs from the filtered token's user S-1-22-1-1001");

  CheckRefused(LinkTokens(Elevated(), UserToken(), Luid{43}, TcbCaller()),
               ErrorCode::kInvalidArgument,
               "belongs to logon session 42, not 43");
  Token other_session = UserToken();
  other_session.auth_id = Luid{43};
  CheckRefused(LinkTokens(Elevated(), other_session, Luid{42}, TcbCaller()),
               ErrorCode::kInvalidArgument,
               "the filtered token belongs to logon session 43");

  CheckRefused(LinkTokens(UserToken(), UserToken(), Luid{42}, TcbCaller()),
               ErrorCode::kInvalidArgument, "linked with itself");
}

TEST_CASE("elevation roles are sticky") {
  Token limited = Elevated();
  limited.elevation_type = ElevationType::kLimited;
  CheckRefused(LinkTokens(limited, UserToken(), Luid{42}, TcbCaller()),
               ErrorCode::kFailedPrecondition,
               "already a Limited token; elevation roles are sticky");
  Token full = UserToken();
  full.elevation_type = ElevationType::kFull;
  CheckRefused(LinkTokens(Elevated(), full, Luid{42}, TcbCaller()),
               ErrorCode::kFailedPrecondition, "already a Full token");

  // Relinking in the same roles (replacing a partner) is allowed.
  Token old_full = Elevated();
  old_full.elevation_type = ElevationType::kFull;
  Token old_limited = UserToken();
  old_limited.elevation_type = ElevationType::kLimited;
  CHECK(LinkTokens(old_full, old_limited, Luid{42}, TcbCaller()));
}

TEST_CASE("with SeTcb the linked token is the partner itself") {
  LuidAllocator ids(kFirstId);
  Token partner = Elevated();
  partner.elevation_type = ElevationType::kFull;
  Result<LinkedTokenView> view = LinkedToken(partner, TcbCaller(), ids);
  REQUIRE(view);
  CHECK_FALSE(view->is_copy);
  CHECK(view->token == partner);
}

TEST_CASE("without SeTcb the linked token is an Identification copy") {
  LuidAllocator ids(kFirstId);
  Token partner = Elevated();
  partner.elevation_type = ElevationType::kFull;
  const Token caller = UserToken();  // the user asking for their elevated half
  Result<LinkedTokenView> view = LinkedToken(partner, caller, ids);
  REQUIRE(view);
  CHECK(view->is_copy);
  CHECK(view->token.type == TokenType::kImpersonation);
  CHECK(view->token.impersonation_level == ImpersonationLevel::kIdentification);
  CHECK(view->token.elevation_type == ElevationType::kFull);  // kept
  CHECK(view->token.token_id == Luid{kFirstId});
  CHECK(view->token.modified_id == view->token.token_id);
  CHECK(view->token.security ==
        DefaultTokenSecurity(partner.user, caller.user));
  CHECK(view->token.groups == partner.groups);
}

TEST_CASE("a token in no elevation pair has no linked token") {
  LuidAllocator ids(kFirstId);
  CheckRefused(LinkedToken(UserToken(), TcbCaller(), ids), ErrorCode::kNotFound,
               "in no elevation pair");
}

// ===========================================================================
// Impersonation gates.

namespace {

Token Server() {
  Token server = UserToken();
  server.token_id = Luid{0x700};
  return server;
}

Token OtherUserClient() {
  Token client = UserToken();
  client.user = well_known::UnixUser(1001);
  return client;
}

}  // namespace

TEST_CASE("impersonating the same user at the same restriction is granted") {
  Result<ImpersonationDecision> decision = CheckImpersonation(
      Server(), UserToken(), ImpersonationLevel::kDelegation);
  REQUIRE(decision);
  CHECK(decision->level == ImpersonationLevel::kDelegation);
  CHECK_FALSE(decision->capped);
  CHECK(decision->reason == "granted at Delegation");
}

TEST_CASE("impersonating another user without SeImpersonate caps it") {
  Result<ImpersonationDecision> decision = CheckImpersonation(
      Server(), OtherUserClient(), ImpersonationLevel::kImpersonation);
  REQUIRE(decision);
  CHECK(decision->level == ImpersonationLevel::kIdentification);
  CHECK(decision->capped);
  CHECK_THAT(decision->reason,
             Catch::Contains("identity gate: the client S-1-22-1-1001 is "
                             "another user"));
}

TEST_CASE("SeImpersonate enabled on the server passes the identity gate") {
  Token server = Server();
  server.privileges.present |= Bit(privilege::kImpersonate);
  Result<ImpersonationDecision> disabled = CheckImpersonation(
      server, OtherUserClient(), ImpersonationLevel::kImpersonation);
  REQUIRE(disabled);
  CHECK(disabled->level == ImpersonationLevel::kIdentification);

  server.privileges.enabled |= Bit(privilege::kImpersonate);
  Result<ImpersonationDecision> enabled = CheckImpersonation(
      server, OtherUserClient(), ImpersonationLevel::kImpersonation);
  REQUIRE(enabled);
  CHECK(enabled->level == ImpersonationLevel::kImpersonation);
  CHECK_FALSE(enabled->capped);
}

TEST_CASE("an unrestricted server impersonating a restricted self is capped") {
  Token client = UserToken();
  client.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::Restricted(), ga::kRestrictingSid}};
  Result<ImpersonationDecision> decision =
      CheckImpersonation(Server(), client, ImpersonationLevel::kImpersonation);
  REQUIRE(decision);
  CHECK(decision->level == ImpersonationLevel::kIdentification);
  CHECK_THAT(decision->reason, Catch::Contains("differ in restriction"));
}

TEST_CASE("a restricted server may not impersonate its unrestricted self") {
  Token server = Server();
  server.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::Restricted(), ga::kRestrictingSid}};
  server.privileges.present |= Bit(privilege::kImpersonate);
  server.privileges.enabled |= Bit(privilege::kImpersonate);
  for (ImpersonationLevel level : {ImpersonationLevel::kIdentification,
                                   ImpersonationLevel::kImpersonation}) {
    CheckRefused(CheckImpersonation(server, UserToken(), level),
                 ErrorCode::kPrivilegeNotHeld,
                 "a restricted server may not impersonate an unrestricted "
                 "token of its own user");
  }
}

TEST_CASE("the integrity ceiling caps even with SeImpersonate") {
  Token server = Server();
  server.privileges.present |= Bit(privilege::kImpersonate);
  server.privileges.enabled |= Bit(privilege::kImpersonate);
  Token client = UserToken();
  client.integrity_rid = kIntegrityHigh;
  Result<ImpersonationDecision> decision =
      CheckImpersonation(server, client, ImpersonationLevel::kImpersonation);
  REQUIRE(decision);
  CHECK(decision->level == ImpersonationLevel::kIdentification);
  CHECK(decision->capped);
  CHECK_THAT(decision->reason,
             Catch::Contains("integrity ceiling: the client's integrity High "
                             "is above the server's Medium"));

  client.integrity_rid = kIntegrityLow;
  Result<ImpersonationDecision> lower =
      CheckImpersonation(server, client, ImpersonationLevel::kImpersonation);
  REQUIRE(lower);
  CHECK(lower->level == ImpersonationLevel::kImpersonation);
}

TEST_CASE("failing both gates names both reasons") {
  Token client = OtherUserClient();
  client.integrity_rid = kIntegritySystem;
  Result<ImpersonationDecision> decision =
      CheckImpersonation(Server(), client, ImpersonationLevel::kImpersonation);
  REQUIRE(decision);
  CHECK_THAT(decision->reason, Catch::Contains("identity gate"));
  CHECK_THAT(decision->reason, Catch::Contains("integrity ceiling"));
}

TEST_CASE("anonymous impersonation bypasses both gates") {
  Token server = Server();
  server.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::Restricted(), ga::kRestrictingSid}};
  Token client = OtherUserClient();
  client.integrity_rid = kIntegritySystem;
  Result<ImpersonationDecision> decision =
      CheckImpersonation(server, client, ImpersonationLevel::kAnonymous);
  REQUIRE(decision);
  CHECK(decision->level == ImpersonationLevel::kAnonymous);
  CHECK_FALSE(decision->capped);
  // Even the restricted-server hard error does not apply.
  CHECK(
      CheckImpersonation(server, UserToken(), ImpersonationLevel::kAnonymous));
}

TEST_CASE("an impersonation client caps the request at its own level") {
  Token client = UserToken();
  client.type = TokenType::kImpersonation;
  client.impersonation_level = ImpersonationLevel::kIdentification;
  Result<ImpersonationDecision> decision =
      CheckImpersonation(Server(), client, ImpersonationLevel::kDelegation);
  REQUIRE(decision);
  CHECK(decision->level == ImpersonationLevel::kIdentification);
  CHECK(decision->capped);
  CHECK_THAT(decision->reason, Catch::Contains("own level is Identification"));
}

TEST_CASE("identification requests are never capped by the gates") {
  Token client = OtherUserClient();
  client.integrity_rid = kIntegritySystem;
  Result<ImpersonationDecision> decision =
      CheckImpersonation(Server(), client, ImpersonationLevel::kIdentification);
  REQUIRE(decision);
  CHECK(decision->level == ImpersonationLevel::kIdentification);
  CHECK_FALSE(decision->capped);
}

TEST_CASE("impersonation gates need the server's primary token") {
  Token server = Server();
  server.type = TokenType::kImpersonation;
  server.impersonation_level = ImpersonationLevel::kImpersonation;
  CheckRefused(CheckImpersonation(server, UserToken(),
                                  ImpersonationLevel::kImpersonation),
               ErrorCode::kInvalidArgument, "server's primary token");
  CheckRefused(CheckImpersonation(Server(), UserToken(),
                                  static_cast<ImpersonationLevel>(7)),
               ErrorCode::kInvalidArgument, "unknown impersonation level 7");
}

TEST_CASE("an impersonation token is a copy of the client at the level") {
  LuidAllocator ids(kFirstId);
  Token client = UserToken();
  client.elevation_type = ElevationType::kFull;
  Result<Token> token =
      MakeImpersonationToken(client, ImpersonationLevel::kImpersonation,
                             well_known::LocalSystem(), ids);
  REQUIRE(token);
  CHECK(token->type == TokenType::kImpersonation);
  CHECK(token->impersonation_level == ImpersonationLevel::kImpersonation);
  CHECK(token->user == client.user);
  CHECK(token->groups == client.groups);
  CHECK(token->token_id == Luid{kFirstId});
  CHECK(token->modified_id == client.modified_id);  // a duplicate's rule
  CHECK(token->elevation_type == ElevationType::kDefault);
}

TEST_CASE("anonymous impersonation yields the canonical anonymous token") {
  LuidAllocator ids(kFirstId);
  Result<Token> token =
      MakeImpersonationToken(UserToken(), ImpersonationLevel::kAnonymous,
                             well_known::LocalSystem(), ids);
  REQUIRE(token);
  CHECK(token->user.ToString() == "S-1-5-7");
  CHECK(token->groups ==
        std::vector<SidAndAttributes>{
            {well_known::Everyone(),
             ga::kMandatory | ga::kEnabledByDefault | ga::kEnabled}});
  CHECK(token->privileges == PrivilegeSet{});
  CHECK(token->capabilities.empty());
  CHECK(token->integrity_rid == kIntegrityUntrusted);
  CHECK(token->type == TokenType::kImpersonation);
  CHECK(token->impersonation_level == ImpersonationLevel::kAnonymous);
  CHECK(token->logon_type == LogonType::kNetwork);
  CHECK(token->auth_id == Luid{0x3e6});
  CHECK(token->created_ns == 0);
}

TEST_CASE("an impersonation token never exceeds the client's own level") {
  LuidAllocator ids(kFirstId);
  Token client = UserToken();
  client.type = TokenType::kImpersonation;
  client.impersonation_level = ImpersonationLevel::kIdentification;
  CheckRefused(
      MakeImpersonationToken(client, ImpersonationLevel::kImpersonation,
                             well_known::LocalSystem(), ids),
      ErrorCode::kPrivilegeNotHeld,
      "impersonating at Impersonation exceeds the client token's own level "
      "Identification");
}

// ---------------------------------------------------------------------------
// IsNoLooserThan: running a program under a narrower version of oneself.

TEST_CASE("a restricted version of a token is no looser than the token") {
  LuidAllocator ids(kFirstId);
  const Token base = UserToken();
  RestrictRequest request;
  request.drop_privileges = Bit(privilege::kDebug);
  request.deny_indices = {kAdminsIndex};
  request.restricting_sids = std::vector<Sid>{well_known::Everyone()};
  auto restricted = Restrict(base, request, base.user, ids);
  REQUIRE(restricted);
  CHECK(IsNoLooserThan(restricted->token, base));
  // ... but the base is looser than its restricted version.
  CHECK_FALSE(IsNoLooserThan(base, restricted->token));
  // A duplicate is as loose as its source: no looser.
  auto duplicate = Duplicate(base, DuplicateRequest{}, base.user, ids);
  REQUIRE(duplicate);
  CHECK(IsNoLooserThan(*duplicate, base));
}

TEST_CASE("a token is looser than another when it adds anything") {
  const Token base = UserToken();
  Token other_user = base;
  other_user.user = well_known::UnixUser(1001);
  CHECK_FALSE(IsNoLooserThan(other_user, base));
  Token other_session = base;
  other_session.auth_id = Luid{43};
  CHECK_FALSE(IsNoLooserThan(other_session, base));
  Token more_privileges = base;
  more_privileges.privileges.present |= Bit(privilege::kTcb);
  CHECK_FALSE(IsNoLooserThan(more_privileges, base));
  Token higher = base;
  higher.integrity_rid = kIntegrityHigh;
  CHECK_FALSE(IsNoLooserThan(higher, base));
  Token extra_group = base;
  extra_group.groups.push_back(
      {well_known::Administrators(), ga::kEnabled | ga::kEnabledByDefault});
  extra_group.groups.Mutable().back().sid = Sid::Known(kNtAuthority, {32, 549});
  CHECK_FALSE(IsNoLooserThan(extra_group, base));
  // Enabling a group the base holds only as deny-only widens it.
  Token enabled_deny_only = base;
  enabled_deny_only.groups.Mutable()[kDenyOnlyIndex].attributes = ga::kEnabled;
  CHECK_FALSE(IsNoLooserThan(enabled_deny_only, base));
  // Dropping a restriction of the base widens it.
  Token restricted_base = base;
  restricted_base.restricted_sids =
      std::vector<SidAndAttributes>{{well_known::Everyone(), 0x7}};
  CHECK_FALSE(IsNoLooserThan(base, restricted_base));
  Token more_restricting = restricted_base;
  more_restricting.restricted_sids->push_back(
      {well_known::AuthenticatedUsers(), 0x7});
  CHECK_FALSE(IsNoLooserThan(more_restricting, restricted_base));
  // A capability the base lacks widens it.
  Token narrow_base = base;
  narrow_base.capabilities = {*MakeCapability("tokeninfo")};
  CHECK_FALSE(IsNoLooserThan(base, narrow_base));
  // A group present but unusable (disabled by default and disabled) is no
  // gain.
  Token unusable = base;
  unusable.groups.push_back({Sid::Known(kNtAuthority, {32, 549}), 0});
  CHECK(IsNoLooserThan(unusable, base));
}

}  // namespace tokenfs
