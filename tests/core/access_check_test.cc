#include "core/access_check.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "core/ace.h"
#include "core/acl.h"
#include "core/privilege.h"
#include "core/sddl.h"
#include "core/security_descriptor.h"
#include "core/token.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

// Expected masks come from the rules, worked by hand:
//   token mapping (the Peios KACS token access rights, core/access_mask.h):
//     read 0x20008, write 0x600e0, execute 0x4, all 0xf01ff;
//   file mapping (MS FILE_GENERIC_*): read 0x120089, write 0x120116,
//     execute 0x1200a0, all 0x1f01ff;
//   plain mapping: read/write/execute 0x20000, all 0xfffff.
// Integrity worked values for the file mapping, as Windows'
// GetAllowedMandatoryAccess computes them (Forshaw): against no-write-up a
// lower-integrity caller keeps read and execute (0x1200a9); against
// no-write-up and no-read-up it keeps execute and SYNCHRONIZE (0x100020).

namespace tokenfs {
namespace {

using group_attributes::kEnabled;
using group_attributes::kMandatory;
using group_attributes::kUseForDenyOnly;
using test::kEnabledGroup;  // mandatory | enabled by default | enabled

constexpr uint32_t kTokenAll = 0xf01ff;
constexpr uint32_t kQuery = 0x8;
constexpr uint32_t kDuplicate = 0x2;
constexpr uint32_t kImpersonate = 0x4;
constexpr uint32_t kAdjustPrivileges = 0x20;
constexpr uint32_t kAdjustDefault = 0x80;
constexpr uint32_t kReadControl = 0x20000;
constexpr uint32_t kWriteDac = 0x40000;
constexpr uint32_t kWriteOwner = 0x80000;
constexpr uint32_t kSynchronize = 0x100000;
constexpr uint32_t kSystemSecurity = 0x1000000;
constexpr uint32_t kMaximumAllowed = 0x2000000;
constexpr uint32_t kGenericAll = 0x10000000;
constexpr uint32_t kGenericExecute = 0x20000000;
constexpr uint32_t kGenericWrite = 0x40000000;
constexpr uint32_t kGenericRead = 0x80000000;
constexpr uint32_t kFileReadData = 0x1;
constexpr uint32_t kFileWriteData = 0x2;
constexpr uint32_t kFileGenericRead = 0x120089;
constexpr uint32_t kFileAll = 0x1f01ff;

const Sid kAlice = Sid::Known(kNtAuthority, {21, 1, 2, 3, 1001});
const Sid kBob = Sid::Known(kNtAuthority, {21, 1, 2, 3, 1002});
const Sid kStaff = Sid::Known(kNtAuthority, {21, 1, 2, 3, 2001});
const Sid kProject = Sid::Known(kNtAuthority, {21, 1, 2, 3, 2002});
const Sid kWriteRestrictedSid = Sid::Known(kNtAuthority, {33});

// A Medium, primary, unrestricted token for alice: Everyone, Users,
// Authenticated Users and Staff enabled; the logon SID; the integrity SID
// with its usual attributes (integrity | integrity-enabled, not enabled).
class TokenBuilder {
 public:
  TokenBuilder() {
    token_.user = kAlice;
    token_.groups = {
        {well_known::Everyone(), kEnabledGroup},
        {well_known::Users(), kEnabledGroup},
        {well_known::AuthenticatedUsers(), kEnabledGroup},
        {kStaff, kEnabledGroup},
        {well_known::LogonSid(0x2a),
         kEnabledGroup | group_attributes::kLogonId},
        {well_known::IntegrityLevel(kIntegrityMedium),
         group_attributes::kIntegrity | group_attributes::kIntegrityEnabled},
    };
    token_.integrity_rid = kIntegrityMedium;
    token_.mandatory_policy = mandatory_policy::kNoWriteUp;
  }
  TokenBuilder& Group(const Sid& sid, uint32_t attributes) {
    token_.groups.push_back({sid, attributes});
    return *this;
  }
  TokenBuilder& Integrity(uint32_t rid) {
    token_.integrity_rid = rid;
    return *this;
  }
  TokenBuilder& Policy(uint32_t policy) {
    token_.mandatory_policy = policy;
    return *this;
  }
  TokenBuilder& Privilege(int bit, bool enabled = true) {
    token_.privileges.present |= privilege::Bit(bit);
    if (enabled) token_.privileges.enabled |= privilege::Bit(bit);
    return *this;
  }
  TokenBuilder& Impersonation(ImpersonationLevel level) {
    token_.type = TokenType::kImpersonation;
    token_.impersonation_level = level;
    return *this;
  }
  TokenBuilder& UserDenyOnly() {
    token_.user_deny_only = true;
    return *this;
  }
  TokenBuilder& Restricted(
      std::initializer_list<Sid> sids,
      uint32_t attributes = group_attributes::kRestrictingSid) {
    token_.restricted_sids.emplace();
    for (const Sid& sid : sids)
      token_.restricted_sids->push_back({sid, attributes});
    return *this;
  }
  TokenBuilder& WriteRestricted(std::initializer_list<Sid> sids) {
    // Peios KACS token structure: a write-restricted token's user SID is
    // deny-only.
    Restricted(sids);
    token_.write_restricted = true;
    token_.user_deny_only = true;
    return *this;
  }
  Token Build() const { return token_; }

 private:
  Token token_;
};

// An SD owned by Administrators (so owner rights stay out of the way unless
// a test asks for them), with a present DACL built ACE by ACE.
class SdBuilder {
 public:
  SdBuilder() {
    sd_.owner = well_known::Administrators();
    sd_.group = well_known::Administrators();
    sd_.SetDacl(Acl{});
  }
  SdBuilder& Owner(const Sid& sid) {
    sd_.owner = sid;
    return *this;
  }
  SdBuilder& NoOwner() {
    sd_.owner.reset();
    return *this;
  }
  SdBuilder& NoGroup() {
    sd_.group.reset();
    return *this;
  }
  SdBuilder& Add(AceType type, uint32_t mask, const Sid& sid,
                 uint8_t flags = 0) {
    sd_.dacl->aces.push_back(test::MakeAce(type, mask, sid, flags));
    return *this;
  }
  SdBuilder& Allow(uint32_t mask, const Sid& sid, uint8_t flags = 0) {
    return Add(AceType::kAccessAllowed, mask, sid, flags);
  }
  SdBuilder& Deny(uint32_t mask, const Sid& sid, uint8_t flags = 0) {
    return Add(AceType::kAccessDenied, mask, sid, flags);
  }
  SdBuilder& NullDacl() {
    sd_.SetNullDacl();
    return *this;
  }
  SdBuilder& NoDacl() {
    sd_.ClearDacl();
    return *this;
  }
  SdBuilder& Label(uint32_t rid, uint32_t policy, uint8_t flags = 0) {
    return LabelSid(well_known::IntegrityLevel(rid), policy, flags);
  }
  SdBuilder& LabelSid(const Sid& sid, uint32_t policy, uint8_t flags = 0) {
    if (!sd_.sacl) sd_.SetSacl(Acl{});
    sd_.sacl->aces.push_back(
        test::MakeAce(AceType::kSystemMandatoryLabel, policy, sid, flags));
    return *this;
  }
  SecurityDescriptor Build() const { return sd_; }

 private:
  SecurityDescriptor sd_;
};

struct Options {
  GenericMapping mapping = kTokenGenericMapping;
  uint32_t intent = privilege_intent::kNone;
  std::optional<Sid> principal_self;
  bool trace = true;
  bool grant_reason = true;
};

AccessCheckResult Check(const TokenBuilder& token, const SdBuilder& sd,
                        uint32_t desired, Options options = {}) {
  AccessRequest request;
  request.desired = AccessMask(desired);
  request.mapping = options.mapping;
  request.intent = options.intent;
  request.principal_self = options.principal_self;
  request.want_trace = options.trace;
  request.want_grant_reason = options.grant_reason;
  const Token built = token.Build();
  AccessCheckResult result = AccessCheck(built, sd.Build(), request);
  // The check works on a copy and must leave the token alone.
  REQUIRE(built == token.Build());
  return result;
}

Options File() {
  Options options;
  options.mapping = kFileGenericMapping;
  return options;
}

#define EXPECT_GRANTED(result, mask)                  \
  do {                                                \
    INFO("reason: " << (result).reason);              \
    CHECK((result).status == AccessStatus::kGranted); \
    CHECK((result).granted.bits() == uint32_t{mask}); \
  } while (false)

#define EXPECT_DENIED(result, expected_status)   \
  do {                                           \
    INFO("reason: " << (result).reason);         \
    CHECK((result).status == (expected_status)); \
    CHECK((result).granted.bits() == 0u);        \
  } while (false)

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------- gates

TEST_CASE(
    "an identification-level impersonation token cannot be used for "
    "an access check") {
  auto result =
      Check(TokenBuilder().Impersonation(ImpersonationLevel::kIdentification),
            SdBuilder().Allow(kTokenAll, well_known::Everyone()), kQuery);
  EXPECT_DENIED(result, AccessStatus::kBadImpersonationLevel);
  CHECK(Contains(result.reason, "Identification"));
}

TEST_CASE(
    "an anonymous-level impersonation token cannot be used for an "
    "access check") {
  auto result =
      Check(TokenBuilder().Impersonation(ImpersonationLevel::kAnonymous),
            SdBuilder().Allow(kTokenAll, well_known::Everyone()), kQuery);
  EXPECT_DENIED(result, AccessStatus::kBadImpersonationLevel);
}

TEST_CASE("impersonation- and delegation-level tokens pass the gate") {
  for (auto level :
       {ImpersonationLevel::kImpersonation, ImpersonationLevel::kDelegation}) {
    auto result =
        Check(TokenBuilder().Impersonation(level),
              SdBuilder().Allow(kQuery, well_known::Everyone()), kQuery);
    EXPECT_GRANTED(result, kQuery);
  }
}

TEST_CASE(
    "a primary token passes the gate although its level field is "
    "Anonymous") {
  auto result =
      Check(TokenBuilder(), SdBuilder().Allow(kQuery, well_known::Everyone()),
            kQuery);
  EXPECT_GRANTED(result, kQuery);
  CHECK(result.deciding_ace == 0);
}

// ------------------------------------------------------ generic mapping

TEST_CASE(
    "GENERIC_READ in the request maps to QUERY | READ_CONTROL for "
    "tokens") {
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Allow(kQuery | kReadControl, well_known::Everyone()),
            kGenericRead);
  EXPECT_GRANTED(result, kQuery | kReadControl);
  CHECK(result.desired_mapped.bits() == 0x20008u);
}

TEST_CASE("GENERIC_EXECUTE maps to IMPERSONATE for tokens") {
  auto result = Check(TokenBuilder(),
                      SdBuilder().Allow(kImpersonate, well_known::Everyone()),
                      kGenericExecute);
  EXPECT_GRANTED(result, kImpersonate);
}

TEST_CASE("GENERIC_WRITE needs every mapped token write right") {
  // 0x600e0 = ADJUST_PRIVILEGES | ADJUST_GROUPS | ADJUST_DEFAULT |
  // READ_CONTROL | WRITE_DAC; the ACE leaves out WRITE_DAC.
  auto result =
      Check(TokenBuilder(), SdBuilder().Allow(0x200e0, well_known::Everyone()),
            kGenericWrite);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason == "no ACE granted WRITE_DAC");
}

TEST_CASE("a GENERIC_ALL ACE grants every token right") {
  auto result = Check(TokenBuilder(),
                      SdBuilder().Allow(kGenericAll, well_known::Everyone()),
                      kAdjustDefault | kDuplicate | kWriteOwner);
  EXPECT_GRANTED(result, kAdjustDefault | kDuplicate | kWriteOwner);
}

TEST_CASE("file mapping: GENERIC_READ maps to FILE_GENERIC_READ") {
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Allow(kFileGenericRead, well_known::Everyone()),
            kGenericRead, File());
  EXPECT_GRANTED(result, kFileGenericRead);
}

TEST_CASE(
    "file mapping: a GENERIC_WRITE ACE grants FILE_WRITE_DATA but not "
    "FILE_READ_DATA") {
  auto sd = SdBuilder().Allow(kGenericWrite, well_known::Everyone());
  EXPECT_GRANTED(Check(TokenBuilder(), sd, kFileWriteData, File()),
                 kFileWriteData);
  auto denied = Check(TokenBuilder(), sd, kFileReadData, File());
  EXPECT_DENIED(denied, AccessStatus::kAccessDenied);
  CHECK(denied.reason == "no ACE granted 0x1");
}

TEST_CASE(
    "plain mapping: GENERIC_ALL maps to every standard-required and "
    "object-specific bit") {
  Options plain;
  plain.mapping = kPlainGenericMapping;
  auto result = Check(TokenBuilder(),
                      SdBuilder().Allow(kGenericAll, well_known::Everyone()),
                      kGenericAll, plain);
  EXPECT_GRANTED(result, 0xfffff);
  auto read = Check(TokenBuilder(),
                    SdBuilder().Allow(kReadControl, well_known::Everyone()),
                    kGenericRead, plain);
  EXPECT_GRANTED(read, kReadControl);
}

TEST_CASE("asking for nothing is denied") {
  auto result = Check(TokenBuilder(),
                      SdBuilder().Allow(kTokenAll, well_known::Everyone()), 0);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(Contains(result.reason, "nothing was requested"));
}

TEST_CASE("a generic request that maps to nothing is denied") {
  Options empty;
  empty.mapping = GenericMapping{};
  auto result =
      Check(TokenBuilder(), SdBuilder().NullDacl(), kGenericRead, empty);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

// -------------------------------------------------- mandatory integrity

TEST_CASE("a Low token cannot write up to an unlabelled object") {
  auto result = Check(TokenBuilder().Integrity(kIntegrityLow),
                      SdBuilder().Allow(kTokenAll, well_known::Everyone()),
                      kAdjustDefault);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason ==
        "integrity: Low token cannot write up to a Medium object "
        "(ADJUST_DEFAULT denied)");
}

TEST_CASE("a Low token may read an unlabelled object") {
  auto result =
      Check(TokenBuilder().Integrity(kIntegrityLow),
            SdBuilder().Allow(kTokenAll, well_known::Everyone()), kQuery);
  EXPECT_GRANTED(result, kQuery);
}

TEST_CASE("NO_WRITE_UP leaves a Low token 0x1200a9 of a Medium file") {
  auto result = Check(TokenBuilder().Integrity(kIntegrityLow),
                      SdBuilder()
                          .Allow(kFileAll, well_known::Everyone())
                          .Label(kIntegrityMedium, 0x1),
                      kMaximumAllowed, File());
  EXPECT_GRANTED(result, 0x1200a9);
}

TEST_CASE(
    "NO_WRITE_UP | NO_READ_UP leaves a Low token 0x100020 of a Medium "
    "file") {
  auto result = Check(TokenBuilder().Integrity(kIntegrityLow),
                      SdBuilder()
                          .Allow(kFileAll, well_known::Everyone())
                          .Label(kIntegrityMedium, 0x3),
                      kMaximumAllowed, File());
  EXPECT_GRANTED(result, 0x100020);
  auto read = Check(TokenBuilder().Integrity(kIntegrityLow),
                    SdBuilder()
                        .Allow(kFileAll, well_known::Everyone())
                        .Label(kIntegrityMedium, 0x3),
                    kFileReadData, File());
  EXPECT_DENIED(read, AccessStatus::kAccessDenied);
  CHECK(Contains(read.reason, "cannot read up to a Medium object"));
}

TEST_CASE(
    "NO_WRITE_UP | NO_EXECUTE_UP leaves a Low token the read set of a "
    "Medium file") {
  // Forbidden write ∪ execute = 0x11f0136; permitted read = 0x120089 keeps
  // READ_CONTROL and SYNCHRONIZE; 0x1200a9 & ~(0x11f0136 & ~0x120089) =
  // 0x120089.
  auto result = Check(TokenBuilder().Integrity(kIntegrityLow),
                      SdBuilder()
                          .Allow(kFileAll, well_known::Everyone())
                          .Label(kIntegrityMedium, 0x5),
                      kMaximumAllowed, File());
  EXPECT_GRANTED(result, 0x120089);
}

TEST_CASE(
    "MAXIMUM_ALLOWED for a Low token on an unlabelled token object "
    "keeps only read and execute rights") {
  // NW on the token mapping allows QUERY | IMPERSONATE | READ_CONTROL |
  // SYNCHRONIZE; GENERIC_ALL grants 0xf01ff; the intersection is 0x2000c.
  auto result = Check(TokenBuilder().Integrity(kIntegrityLow),
                      SdBuilder().Allow(kGenericAll, well_known::Everyone()),
                      kMaximumAllowed);
  EXPECT_GRANTED(result, 0x2000c);
}

TEST_CASE("a token whose policy lacks NO_WRITE_UP is not held by integrity") {
  auto result = Check(TokenBuilder().Integrity(kIntegrityLow).Policy(0),
                      SdBuilder()
                          .Allow(kTokenAll, well_known::Everyone())
                          .Label(kIntegrityHigh, 0x7),
                      kAdjustDefault | kQuery);
  EXPECT_GRANTED(result, kAdjustDefault | kQuery);
}

TEST_CASE("a token at the object's level dominates it") {
  auto result = Check(TokenBuilder().Integrity(kIntegrityHigh),
                      SdBuilder()
                          .Allow(kTokenAll, well_known::Everyone())
                          .Label(kIntegrityHigh, 0x7),
                      kAdjustDefault | kQuery | kImpersonate);
  EXPECT_GRANTED(result, kAdjustDefault | kQuery | kImpersonate);
}

TEST_CASE("a Medium token cannot write up to a High object but may read it") {
  auto sd = SdBuilder()
                .Allow(kTokenAll, well_known::Everyone())
                .Label(kIntegrityHigh, 0x1);
  EXPECT_DENIED(Check(TokenBuilder(), sd, kAdjustPrivileges),
                AccessStatus::kAccessDenied);
  EXPECT_GRANTED(Check(TokenBuilder(), sd, kQuery), kQuery);
}

TEST_CASE("an untrusted token cannot write up to a Low object") {
  auto result = Check(TokenBuilder().Integrity(kIntegrityUntrusted),
                      SdBuilder()
                          .Allow(kTokenAll, well_known::Everyone())
                          .Label(kIntegrityLow, 0x1),
                      kWriteDac);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

TEST_CASE("an inherit-only label does not label the object itself") {
  // First label is inherit-only High; the one that applies is Low.
  auto result =
      Check(TokenBuilder().Integrity(kIntegrityLow),
            SdBuilder()
                .Allow(kTokenAll, well_known::Everyone())
                .Label(kIntegrityHigh, 0x7,
                       ace_flags::kInheritOnly | ace_flags::kObjectInherit)
                .Label(kIntegrityLow, 0x1),
            kAdjustDefault);
  EXPECT_GRANTED(result, kAdjustDefault);
}

TEST_CASE(
    "a mandatory label naming a non-integrity SID makes the security "
    "descriptor invalid") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Allow(kTokenAll, well_known::Everyone())
                          .LabelSid(well_known::Administrators(), 0x1),
                      kQuery);
  EXPECT_DENIED(result, AccessStatus::kInvalidSecurityDescriptor);
}

TEST_CASE(
    "a Low owner cannot WRITE_DAC a Medium object but keeps "
    "READ_CONTROL") {
  auto sd = SdBuilder().Owner(kAlice);
  auto token = TokenBuilder().Integrity(kIntegrityLow);
  EXPECT_DENIED(Check(token, sd, kWriteDac), AccessStatus::kAccessDenied);
  EXPECT_GRANTED(Check(token, sd, kReadControl), kReadControl);
  EXPECT_GRANTED(Check(token, sd, kMaximumAllowed), kReadControl);
}

TEST_CASE(
    "SeRelabel lets a Low token receive WRITE_OWNER on a Medium "
    "object") {
  auto sd = SdBuilder().Allow(kWriteOwner, well_known::Everyone());
  auto with = Check(
      TokenBuilder().Integrity(kIntegrityLow).Privilege(privilege::kRelabel),
      sd, kWriteOwner);
  EXPECT_GRANTED(with, kWriteOwner);
  CHECK(with.privileges_used == privilege::Bit(privilege::kRelabel));
  auto without =
      Check(TokenBuilder().Integrity(kIntegrityLow), sd, kWriteOwner);
  EXPECT_DENIED(without, AccessStatus::kAccessDenied);
  auto disabled = Check(TokenBuilder()
                            .Integrity(kIntegrityLow)
                            .Privilege(privilege::kRelabel, false),
                        sd, kWriteOwner);
  EXPECT_DENIED(disabled, AccessStatus::kAccessDenied);
}

TEST_CASE("SeTakeOwnership does not cross an integrity denial") {
  auto result = Check(TokenBuilder()
                          .Integrity(kIntegrityLow)
                          .Privilege(privilege::kTakeOwnership),
                      SdBuilder(), kWriteOwner);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.privileges_used == 0);
}

TEST_CASE(
    "SeTakeOwnership adds nothing to MAXIMUM_ALLOWED across an "
    "integrity denial") {
  auto result =
      Check(TokenBuilder()
                .Integrity(kIntegrityLow)
                .Privilege(privilege::kTakeOwnership),
            SdBuilder().Allow(kQuery, well_known::Everyone()), kMaximumAllowed);
  EXPECT_GRANTED(result, kQuery);
  CHECK(result.privileges_used == 0);
}

// --------------------------------------------------- granting privileges

TEST_CASE(
    "an enabled SeSecurity grants ACCESS_SYSTEM_SECURITY and is "
    "reported used") {
  auto result = Check(TokenBuilder().Privilege(privilege::kSecurity),
                      SdBuilder(), kSystemSecurity);
  EXPECT_GRANTED(result, kSystemSecurity);
  CHECK(result.privileges_used == privilege::Bit(privilege::kSecurity));
}

TEST_CASE("ACCESS_SYSTEM_SECURITY without SeSecurity is privilege-not-held") {
  auto absent = Check(TokenBuilder(),
                      SdBuilder().Allow(0x11f01ff, well_known::Everyone()),
                      kSystemSecurity | kQuery);
  EXPECT_DENIED(absent, AccessStatus::kPrivilegeNotHeld);
  CHECK(Contains(absent.reason, "does not hold"));
  auto disabled = Check(TokenBuilder().Privilege(privilege::kSecurity, false),
                        SdBuilder(), kSystemSecurity);
  EXPECT_DENIED(disabled, AccessStatus::kPrivilegeNotHeld);
  CHECK(Contains(disabled.reason, "has not enabled"));
}

TEST_CASE("ACCESS_SYSTEM_SECURITY combines with DACL-granted rights") {
  auto result = Check(TokenBuilder().Privilege(privilege::kSecurity),
                      SdBuilder().Allow(kQuery, well_known::Everyone()),
                      kSystemSecurity | kQuery);
  EXPECT_GRANTED(result, kSystemSecurity | kQuery);
  CHECK(result.privileges_used == privilege::Bit(privilege::kSecurity));
}

TEST_CASE(
    "SeSecurity is not used when ACCESS_SYSTEM_SECURITY is not "
    "requested") {
  auto result =
      Check(TokenBuilder().Privilege(privilege::kSecurity),
            SdBuilder().Allow(kQuery, well_known::Everyone()), kQuery);
  EXPECT_GRANTED(result, kQuery);
  CHECK(result.privileges_used == 0);
}

TEST_CASE(
    "an enabled SeTakeOwnership grants WRITE_OWNER despite a deny "
    "ACE") {
  auto sd = SdBuilder().Deny(kWriteOwner, well_known::Everyone());
  auto result = Check(TokenBuilder().Privilege(privilege::kTakeOwnership), sd,
                      kWriteOwner);
  EXPECT_GRANTED(result, kWriteOwner);
  CHECK(result.privileges_used == privilege::Bit(privilege::kTakeOwnership));
  auto disabled =
      Check(TokenBuilder().Privilege(privilege::kTakeOwnership, false), sd,
            kWriteOwner);
  EXPECT_DENIED(disabled, AccessStatus::kAccessDenied);
  CHECK(disabled.deciding_ace == 0);
  auto absent = Check(TokenBuilder(), sd, kWriteOwner);
  EXPECT_DENIED(absent, AccessStatus::kAccessDenied);
}

TEST_CASE(
    "a denied WRITE_OWNER does not end the walk when SeTakeOwnership "
    "may still grant it") {
  auto result = Check(TokenBuilder().Privilege(privilege::kTakeOwnership),
                      SdBuilder()
                          .Deny(kWriteOwner, well_known::Everyone())
                          .Allow(kQuery, well_known::Everyone()),
                      kWriteOwner | kQuery);
  EXPECT_GRANTED(result, kWriteOwner | kQuery);
}

TEST_CASE("SeTakeOwnership is not used when the DACL grants WRITE_OWNER") {
  auto result = Check(TokenBuilder().Privilege(privilege::kTakeOwnership),
                      SdBuilder().Allow(kWriteOwner, well_known::Everyone()),
                      kWriteOwner);
  EXPECT_GRANTED(result, kWriteOwner);
  CHECK(result.privileges_used == 0);
}

TEST_CASE("SeTakeOwnership alone does not grant other rights") {
  auto result = Check(TokenBuilder().Privilege(privilege::kTakeOwnership),
                      SdBuilder(), kWriteOwner | kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason == "no ACE granted QUERY");
}

TEST_CASE("SeRelabel grants WRITE_OWNER when the DACL does not") {
  auto result = Check(TokenBuilder().Privilege(privilege::kRelabel),
                      SdBuilder(), kWriteOwner);
  EXPECT_GRANTED(result, kWriteOwner);
  CHECK(result.privileges_used == privilege::Bit(privilege::kRelabel));
}

TEST_CASE("SeTakeOwnership is credited before SeRelabel") {
  auto result = Check(TokenBuilder()
                          .Privilege(privilege::kTakeOwnership)
                          .Privilege(privilege::kRelabel),
                      SdBuilder(), kWriteOwner);
  EXPECT_GRANTED(result, kWriteOwner);
  CHECK(result.privileges_used == privilege::Bit(privilege::kTakeOwnership));
}

TEST_CASE("SeBackup grants nothing without backup intent") {
  auto result = Check(TokenBuilder().Privilege(privilege::kBackup), SdBuilder(),
                      kFileReadData, File());
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.privileges_used == 0);
}

TEST_CASE("SeBackup with backup intent grants the mapped read set") {
  // Peios: MapGenericBits(GENERIC_READ) = FILE_GENERIC_READ 0x120089.
  Options backup = File();
  backup.intent = privilege_intent::kBackup;
  auto result = Check(TokenBuilder().Privilege(privilege::kBackup), SdBuilder(),
                      kMaximumAllowed, backup);
  EXPECT_GRANTED(result, 0x120089);
  CHECK(result.privileges_used == privilege::Bit(privilege::kBackup));
  auto write = Check(TokenBuilder().Privilege(privilege::kBackup), SdBuilder(),
                     kFileWriteData, backup);
  EXPECT_DENIED(write, AccessStatus::kAccessDenied);
}

TEST_CASE("SeBackup with intent but disabled grants nothing") {
  Options backup = File();
  backup.intent = privilege_intent::kBackup;
  auto result = Check(TokenBuilder().Privilege(privilege::kBackup, false),
                      SdBuilder(), kFileReadData, backup);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

TEST_CASE("SeBackup with backup intent overrides a deny ACE") {
  Options backup = File();
  backup.intent = privilege_intent::kBackup;
  auto result = Check(TokenBuilder().Privilege(privilege::kBackup),
                      SdBuilder().Deny(kFileAll, well_known::Everyone()),
                      kFileReadData, backup);
  EXPECT_GRANTED(result, kFileReadData);
  CHECK(result.privileges_used == privilege::Bit(privilege::kBackup));
}

TEST_CASE("SeRestore with restore intent grants the restore set") {
  // FILE_GENERIC_WRITE 0x120116 | WRITE_DAC | WRITE_OWNER | DELETE |
  // ACCESS_SYSTEM_SECURITY = 0x11f0116, the rights SeRestore grants on a
  // file (Samba's SEC_RIGHTS_PRIV_RESTORE).
  Options restore = File();
  restore.intent = privilege_intent::kRestore;
  auto result = Check(TokenBuilder().Privilege(privilege::kRestore),
                      SdBuilder(), kMaximumAllowed, restore);
  EXPECT_GRANTED(result, 0x11f0116);
  CHECK(result.privileges_used == privilege::Bit(privilege::kRestore));
  auto backup_intent_only = File();
  backup_intent_only.intent = privilege_intent::kBackup;
  auto wrong_intent = Check(TokenBuilder().Privilege(privilege::kRestore),
                            SdBuilder(), kFileWriteData, backup_intent_only);
  EXPECT_DENIED(wrong_intent, AccessStatus::kAccessDenied);
}

TEST_CASE("declared intent grants nothing without the privilege") {
  Options both = File();
  both.intent = privilege_intent::kBackup | privilege_intent::kRestore;
  EXPECT_DENIED(Check(TokenBuilder(), SdBuilder(), kFileReadData, both),
                AccessStatus::kAccessDenied);
  EXPECT_DENIED(Check(TokenBuilder().Privilege(privilege::kRestore, false),
                      SdBuilder(), kFileWriteData, both),
                AccessStatus::kAccessDenied);
}

TEST_CASE("backup and restore together grant both sets") {
  Options both = File();
  both.intent = privilege_intent::kBackup | privilege_intent::kRestore;
  auto result = Check(TokenBuilder()
                          .Privilege(privilege::kBackup)
                          .Privilege(privilege::kRestore),
                      SdBuilder(), kFileReadData | kFileWriteData, both);
  EXPECT_GRANTED(result, kFileReadData | kFileWriteData);
  CHECK(result.privileges_used == (privilege::Bit(privilege::kBackup) |
                                   privilege::Bit(privilege::kRestore)));
}

TEST_CASE("backup rights are not constrained by integrity") {
  Options backup = File();
  backup.intent = privilege_intent::kBackup;
  auto result = Check(
      TokenBuilder().Integrity(kIntegrityLow).Privilege(privilege::kBackup),
      SdBuilder().Label(kIntegrityHigh, 0x3), kFileReadData, backup);
  EXPECT_GRANTED(result, kFileReadData);
}

// ------------------------------------------------------- owner rights

TEST_CASE("the owner gets READ_CONTROL | WRITE_DAC from an empty DACL") {
  auto sd = SdBuilder().Owner(kAlice);
  EXPECT_GRANTED(Check(TokenBuilder(), sd, kWriteDac), kWriteDac);
  EXPECT_GRANTED(Check(TokenBuilder(), sd, kMaximumAllowed),
                 kReadControl | kWriteDac);
  auto other = Check(TokenBuilder(), sd, kDuplicate);
  EXPECT_DENIED(other, AccessStatus::kAccessDenied);
}

TEST_CASE("a deny ACE cannot take the owner's implied rights") {
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Owner(kAlice).Deny(kWriteDac | kReadControl, kAlice),
            kWriteDac | kReadControl);
  EXPECT_GRANTED(result, kWriteDac | kReadControl);
}

TEST_CASE("an OWNER RIGHTS ACE suppresses the implied rights") {
  auto sd =
      SdBuilder().Owner(kAlice).Allow(kReadControl, well_known::OwnerRights());
  auto write = Check(TokenBuilder(), sd, kWriteDac);
  EXPECT_DENIED(write, AccessStatus::kAccessDenied);
  CHECK(write.reason == "no ACE granted WRITE_DAC");
  EXPECT_GRANTED(Check(TokenBuilder(), sd, kMaximumAllowed), kReadControl);
}

TEST_CASE(
    "an OWNER RIGHTS ACE can grant the owner more than the implied "
    "rights") {
  auto result = Check(
      TokenBuilder(),
      SdBuilder().Owner(kAlice).Allow(kGenericAll, well_known::OwnerRights()),
      kMaximumAllowed);
  EXPECT_GRANTED(result, kTokenAll);
}

TEST_CASE("an OWNER RIGHTS deny ACE denies the owner") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Owner(kAlice)
                          .Deny(kQuery, well_known::OwnerRights())
                          .Allow(kTokenAll, well_known::Everyone()),
                      kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.deciding_ace == 0);
}

TEST_CASE("an inherit-only OWNER RIGHTS ACE neither suppresses nor grants") {
  auto sd = SdBuilder().Owner(kAlice).Allow(
      kTokenAll, well_known::OwnerRights(),
      ace_flags::kInheritOnly | ace_flags::kContainerInherit);
  EXPECT_GRANTED(Check(TokenBuilder(), sd, kMaximumAllowed),
                 kReadControl | kWriteDac);
}

TEST_CASE(
    "an OWNER RIGHTS ACE does not match a caller who is not the "
    "owner") {
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Owner(kBob).Allow(kTokenAll, well_known::OwnerRights()),
            kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

TEST_CASE(
    "an enabled group that owns the object brings the implied "
    "rights") {
  auto result =
      Check(TokenBuilder(), SdBuilder().Owner(kStaff), kMaximumAllowed);
  EXPECT_GRANTED(result, kReadControl | kWriteDac);
}

TEST_CASE("a deny-only group does not make its holder the owner") {
  auto result = Check(TokenBuilder().Group(kProject, kUseForDenyOnly),
                      SdBuilder().Owner(kProject), kReadControl);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

TEST_CASE("a deny-only user is not the owner") {
  auto result = Check(TokenBuilder().UserDenyOnly(), SdBuilder().Owner(kAlice),
                      kReadControl);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

TEST_CASE(
    "a security descriptor without an owner or a group is invalid for a "
    "check, whatever its DACL says") {
  // Wine's advapi32 tests (verified on Windows): AccessCheck on an SD with
  // no owner and no group fails with ERROR_INVALID_SECURITY_DESCR.
  for (const SdBuilder& sd :
       {SdBuilder().NoOwner().Allow(kQuery, kAlice),
        SdBuilder().NoGroup().Allow(kQuery, kAlice),
        SdBuilder().NoOwner().NoGroup().Allow(kQuery, kAlice),
        SdBuilder().NoOwner().Deny(kQuery, kAlice)}) {
    auto result = Check(TokenBuilder(), sd, kQuery);
    EXPECT_DENIED(result, AccessStatus::kInvalidSecurityDescriptor);
    CHECK(result.deciding_ace == -1);
  }
  CHECK(Check(TokenBuilder(), SdBuilder().NoOwner(), kMaximumAllowed).reason ==
        "the security descriptor has no owner: an access check needs an "
        "owner");
  CHECK(Check(TokenBuilder(), SdBuilder().NoGroup(), kQuery).reason ==
        "the security descriptor has no group: an access check needs a group");
  CHECK(Check(TokenBuilder(), SdBuilder().NoOwner().NoGroup(), kQuery).reason ==
        "the security descriptor has no owner and no group: an access check "
        "needs an owner or a group");
}

TEST_CASE("the impersonation gate comes before the descriptor's validity") {
  auto result =
      Check(TokenBuilder().Impersonation(ImpersonationLevel::kIdentification),
            SdBuilder().NoOwner(), kQuery);
  EXPECT_DENIED(result, AccessStatus::kBadImpersonationLevel);
}

TEST_CASE(
    "a mapping that leaves generic bits fails the check as generic not "
    "mapped") {
  Options options;
  options.mapping = GenericMapping{AccessMask(kGenericRead | kQuery),
                                   AccessMask(0x20), AccessMask(0x4),
                                   AccessMask(kTokenAll)};
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Allow(kGenericAll | kTokenAll, well_known::Everyone()),
            kGenericRead, options);
  EXPECT_DENIED(result, AccessStatus::kGenericNotMapped);
  CHECK(result.reason ==
        "the generic mapping maps 0x80000000 to 0x80000008, which still "
        "holds the generic right 0x80000000");
  CHECK(AccessStatusName(result.status) == "generic-not-mapped");
  // The same mapping is fine for a request that does not use GENERIC_READ,
  // and so are the generic rights it maps properly.
  EXPECT_GRANTED(Check(TokenBuilder(),
                       SdBuilder().Allow(kTokenAll, well_known::Everyone()),
                       kGenericWrite | kQuery, options),
                 0x28);
  // Generic not mapped is reported before an invalid descriptor (Wine's
  // server order).
  EXPECT_DENIED(
      Check(TokenBuilder(), SdBuilder().NoOwner(), kGenericRead, options),
      AccessStatus::kGenericNotMapped);
}

TEST_CASE("every named mapping resolves every generic right") {
  for (const GenericMapping* mapping :
       {&kTokenGenericMapping, &kFileGenericMapping, &kPlainGenericMapping}) {
    CHECK(GenericLeftAfterMapping(AccessMask(0xf0000000), *mapping).empty());
  }
}

// ------------------------------------------------------------ DACL walk

TEST_CASE("a deny-only group matches a deny ACE") {
  auto result = Check(TokenBuilder().Group(kProject, kUseForDenyOnly),
                      SdBuilder()
                          .Deny(kQuery, kProject)
                          .Allow(kTokenAll, well_known::Everyone()),
                      kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.deciding_ace == 0);
  CHECK(result.reason ==
        "ACE 0 (deny QUERY to " + kProject.ToString() + ") denied QUERY");
}

TEST_CASE("a deny-only group does not match an allow ACE") {
  auto result = Check(TokenBuilder().Group(kProject, kUseForDenyOnly),
                      SdBuilder().Allow(kQuery, kProject), kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason == "no ACE granted QUERY");
}

TEST_CASE(
    "a deny-only group that is also marked enabled still only "
    "denies") {
  auto result =
      Check(TokenBuilder().Group(kProject, kUseForDenyOnly | kEnabled),
            SdBuilder().Allow(kQuery, kProject), kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

TEST_CASE("a disabled group matches neither allow nor deny ACEs") {
  auto token = TokenBuilder().Group(kProject, kMandatory);
  EXPECT_DENIED(Check(token, SdBuilder().Allow(kQuery, kProject), kQuery),
                AccessStatus::kAccessDenied);
  EXPECT_GRANTED(Check(token,
                       SdBuilder()
                           .Deny(kQuery, kProject)
                           .Allow(kQuery, well_known::Everyone()),
                       kQuery),
                 kQuery);
}

TEST_CASE("a deny-only user matches deny ACEs but not allow ACEs") {
  auto token = TokenBuilder().UserDenyOnly();
  EXPECT_DENIED(Check(token, SdBuilder().Allow(kQuery, kAlice), kQuery),
                AccessStatus::kAccessDenied);
  EXPECT_DENIED(Check(token,
                      SdBuilder()
                          .Deny(kQuery, kAlice)
                          .Allow(kQuery, well_known::Everyone()),
                      kQuery),
                AccessStatus::kAccessDenied);
}

TEST_CASE("the logon SID matches like any enabled group") {
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Allow(kQuery, well_known::LogonSid(0x2a)), kQuery);
  EXPECT_GRANTED(result, kQuery);
}

TEST_CASE("the integrity SID matches only per its attributes") {
  // Attributes integrity | integrity-enabled, without SE_GROUP_ENABLED.
  auto sd =
      SdBuilder().Allow(kQuery, well_known::IntegrityLevel(kIntegrityMedium));
  EXPECT_DENIED(Check(TokenBuilder(), sd, kQuery), AccessStatus::kAccessDenied);
}

TEST_CASE("inherit-only ACEs are skipped") {
  const uint8_t inherit_only =
      ace_flags::kInheritOnly | ace_flags::kObjectInherit;
  EXPECT_DENIED(
      Check(TokenBuilder(),
            SdBuilder().Allow(kQuery, well_known::Everyone(), inherit_only),
            kQuery),
      AccessStatus::kAccessDenied);
  EXPECT_GRANTED(Check(TokenBuilder(),
                       SdBuilder()
                           .Deny(kQuery, well_known::Everyone(), inherit_only)
                           .Allow(kQuery, well_known::Everyone()),
                       kQuery),
                 kQuery);
}

TEST_CASE("a deny ACE after the allow does not revoke the right") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Allow(kQuery, well_known::Everyone())
                          .Deny(kQuery, well_known::Everyone()),
                      kQuery);
  EXPECT_GRANTED(result, kQuery);
  CHECK(result.deciding_ace == 0);
}

TEST_CASE("a deny ACE before the allow denies and names itself") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Allow(kReadControl, well_known::Everyone())
                          .Deny(kWriteDac, well_known::Everyone())
                          .Allow(kTokenAll, well_known::Everyone()),
                      kReadControl | kWriteDac);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.deciding_ace == 1);
  CHECK(result.reason == "ACE 1 (deny WRITE_DAC to Everyone) denied WRITE_DAC");
}

TEST_CASE("a deny ACE for a right not requested does not matter") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Deny(kWriteDac, well_known::Everyone())
                          .Allow(kQuery, well_known::Everyone()),
                      kQuery);
  EXPECT_GRANTED(result, kQuery);
}

TEST_CASE("rights from several ACEs add up and the last one decides") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Allow(kQuery, well_known::Everyone())
                          .Allow(kAdjustDefault, well_known::Users())
                          .Deny(kAdjustDefault, well_known::Everyone()),
                      kQuery | kAdjustDefault);
  EXPECT_GRANTED(result, kQuery | kAdjustDefault);
  CHECK(result.deciding_ace == 1);
  CHECK(Contains(result.reason, "ACE 1 (allow ADJUST_DEFAULT to Users)"));
}

TEST_CASE(
    "without a grant reason a grant says only 'granted'; denials "
    "are still explained") {
  Options quiet;
  quiet.trace = false;
  quiet.grant_reason = false;
  const SdBuilder sd = SdBuilder()
                           .Allow(kQuery, well_known::Everyone())
                           .Deny(kWriteDac, well_known::Everyone());
  auto granted = Check(TokenBuilder(), sd, kQuery, quiet);
  EXPECT_GRANTED(granted, kQuery);
  CHECK(granted.reason == "granted");
  CHECK(granted.deciding_ace == 0);
  auto maximum = Check(TokenBuilder(), sd, kMaximumAllowed, quiet);
  EXPECT_GRANTED(maximum, kQuery);
  CHECK(maximum.reason == "granted");
  auto denied = Check(TokenBuilder(), sd, kWriteDac, quiet);
  EXPECT_DENIED(denied, AccessStatus::kAccessDenied);
  CHECK(denied.reason == "ACE 1 (deny WRITE_DAC to Everyone) denied WRITE_DAC");
  // A trace ends with the reason, so asking for one explains the grant.
  Options traced = quiet;
  traced.trace = true;
  auto explained = Check(TokenBuilder(), sd, kQuery, traced);
  CHECK(Contains(explained.reason, "granted QUERY by ACE 0"));
}

TEST_CASE("ACEs for SIDs the token lacks do not match") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Deny(kQuery, kBob)
                          .Allow(kQuery, well_known::Administrators()),
                      kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.deciding_ace == -1);
}

TEST_CASE("PRINCIPAL SELF stands for the principal_self SID") {
  auto sd = SdBuilder().Allow(kQuery, well_known::PrincipalSelf());
  Options self;
  self.principal_self = kAlice;
  EXPECT_GRANTED(Check(TokenBuilder(), sd, kQuery, self), kQuery);
  Options other;
  other.principal_self = kBob;
  EXPECT_DENIED(Check(TokenBuilder(), sd, kQuery, other),
                AccessStatus::kAccessDenied);
  EXPECT_DENIED(Check(TokenBuilder(), sd, kQuery), AccessStatus::kAccessDenied);
}

TEST_CASE("a PRINCIPAL SELF deny ACE matches a deny-only principal") {
  Options self;
  self.principal_self = kProject;
  auto result = Check(TokenBuilder().Group(kProject, kUseForDenyOnly),
                      SdBuilder()
                          .Deny(kQuery, well_known::PrincipalSelf())
                          .Allow(kQuery, well_known::Everyone()),
                      kQuery, self);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  EXPECT_DENIED(Check(TokenBuilder().Group(kProject, kUseForDenyOnly),
                      SdBuilder().Allow(kQuery, well_known::PrincipalSelf()),
                      kQuery, self),
                AccessStatus::kAccessDenied);
}

TEST_CASE("object ACEs without an object type act like plain ACEs") {
  EXPECT_GRANTED(Check(TokenBuilder(),
                       SdBuilder().Add(AceType::kAccessAllowedObject, kQuery,
                                       well_known::Everyone()),
                       kQuery),
                 kQuery);
  EXPECT_DENIED(Check(TokenBuilder(),
                      SdBuilder()
                          .Add(AceType::kAccessDeniedObject, kQuery,
                               well_known::Everyone())
                          .Allow(kQuery, well_known::Everyone()),
                      kQuery),
                AccessStatus::kAccessDenied);
}

TEST_CASE("audit, alarm and label ACEs in the DACL are skipped") {
  auto result = Check(
      TokenBuilder(),
      SdBuilder()
          .Add(AceType::kSystemAudit, kQuery, well_known::Everyone())
          .Add(AceType::kSystemAlarm, kQuery, well_known::Everyone())
          .Add(AceType::kSystemMandatoryLabel, kQuery, well_known::Everyone()),
      kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason == "no ACE granted QUERY");
}

TEST_CASE("callback ACEs without a condition: allow never grants, deny denies") {
  EXPECT_DENIED(Check(TokenBuilder(),
                      SdBuilder().Add(AceType::kAccessAllowedCallback, kQuery,
                                      well_known::Everyone()),
                      kQuery),
                AccessStatus::kAccessDenied);
  EXPECT_DENIED(Check(TokenBuilder(),
                      SdBuilder()
                          .Add(AceType::kAccessDeniedCallback, kQuery,
                               well_known::Everyone())
                          .Allow(kQuery, well_known::Everyone()),
                      kQuery),
                AccessStatus::kAccessDenied);
}

// ------------------------------------------------------ conditional ACEs

Claim StringClaim(std::string name, std::string value) {
  Claim claim;
  claim.name = std::move(name);
  claim.type = ClaimType::kString;
  claim.values = {std::move(value)};
  return claim;
}

// Runs a check of `desired` (token mapping) for alice, who has the user
// claim Title = "PM" and, when `device` is set, the device claim
// Managed = "yes" and the device group Administrators.
AccessCheckResult CheckSddl(const std::string& sddl, uint32_t desired,
                            bool device = true) {
  Token token = TokenBuilder().Build();
  token.user_claims = {StringClaim("Title", "PM")};
  if (device) {
    token.device_claims = {StringClaim("Managed", "yes")};
    token.device_groups =
        std::vector<SidAndAttributes>{{well_known::Administrators(),
                                       kEnabledGroup}};
  }
  auto sd = ParseSddl(sddl);
  REQUIRE(sd.has_value());
  AccessRequest request;
  request.desired = AccessMask(desired);
  return AccessCheck(token, *sd, request);
}

TEST_CASE("a conditional allow ACE grants only when its condition is TRUE") {
  // TRUE
  EXPECT_GRANTED(CheckSddl("O:BAG:BAD:(XA;;0x8;;;WD;(@User.Title == \"PM\"))",
                           kQuery),
                 kQuery);
  // FALSE
  EXPECT_DENIED(CheckSddl("O:BAG:BAD:(XA;;0x8;;;WD;(@User.Title == \"Dev\"))",
                          kQuery),
                AccessStatus::kAccessDenied);
  // UNKNOWN (the attribute is absent)
  EXPECT_DENIED(CheckSddl("O:BAG:BAD:(XA;;0x8;;;WD;(@User.Level >= 3))", kQuery),
                AccessStatus::kAccessDenied);
  // The condition is not looked at when the SID does not match.
  EXPECT_DENIED(
      CheckSddl("O:BAG:BAD:(XA;;0x8;;;BA;(@User.Title == \"PM\"))", kQuery),
      AccessStatus::kAccessDenied);
}

TEST_CASE("a conditional deny ACE denies when TRUE or UNKNOWN, not FALSE") {
  const std::string allow = "(A;;0x8;;;WD)";
  // TRUE
  EXPECT_DENIED(CheckSddl("O:BAG:BAD:(XD;;0x8;;;WD;(@User.Title == \"PM\"))" +
                              allow,
                          kQuery),
                AccessStatus::kAccessDenied);
  // UNKNOWN
  auto unknown = CheckSddl(
      "O:BAG:BAD:(XD;;0x8;;;WD;(@User.Level >= 3))" + allow, kQuery);
  EXPECT_DENIED(unknown, AccessStatus::kAccessDenied);
  CHECK(unknown.deciding_ace == 0);
  CHECK(unknown.reason ==
        "ACE 0 (deny QUERY to Everyone; conditional) denied QUERY: condition "
        "(@USER.Level >= 3) is UNKNOWN (@USER.Level is absent, expected >= "
        "3: UNKNOWN)");
  // FALSE
  EXPECT_GRANTED(
      CheckSddl("O:BAG:BAD:(XD;;0x8;;;WD;(@User.Title == \"Dev\"))" + allow,
                kQuery),
      kQuery);
}

TEST_CASE("conditions see device claims, device groups and resource "
          "attributes") {
  EXPECT_GRANTED(
      CheckSddl("O:BAG:BAD:(XA;;0x8;;;WD;(@Device.Managed == \"yes\" && "
                "Device_Member_of {SID(BA)}))",
                kQuery),
      kQuery);
  // Without a device identity Device_Member_of is UNKNOWN: no grant.
  EXPECT_DENIED(CheckSddl("O:BAG:BAD:(XA;;0x8;;;WD;(Device_Member_of "
                          "{SID(BA)}))",
                          kQuery, /*device=*/false),
                AccessStatus::kAccessDenied);
  // Resource attributes come from RA ACEs in the SACL.
  const std::string sacl = "S:(RA;;;;;WD;(\"Dept\",TS,0,\"PM\",\"QA\"))";
  EXPECT_GRANTED(CheckSddl("O:BAG:BAD:(XA;;0x8;;;WD;(@Resource.Dept Contains "
                           "@User.Title))" +
                               sacl,
                           kQuery),
                 kQuery);
  EXPECT_DENIED(CheckSddl("O:BAG:BAD:(XA;;0x8;;;WD;(@Resource.Dept == "
                          "@User.Title))" +
                              sacl,
                          kQuery),
                AccessStatus::kAccessDenied);
}

TEST_CASE("conditions compare every literal type against resource "
          "attributes, composites included") {
  struct Row {
    const char* condition;
    const char* attribute;
    bool granted;
  };
  const Row rows[] = {
      {"(@Resource.n == -3)", "(\"n\",TI,0,-3)", true},
      {"(@Resource.n == 0x10)", "(\"n\",TU,0,16)", true},
      {"(@Resource.n < 010)", "(\"n\",TU,0,7)", true},
      {"(@Resource.n > 8)", "(\"n\",TU,0,7)", false},
      {"(@Resource.s == \"pm\")", "(\"s\",TS,0,\"PM\")", true},
      {"(@Resource.s == \"pm\")", "(\"s\",TS,0x2,\"PM\")", false},
      {"(@Resource.d == SID(BA))", "(\"d\",TD,0,SID(BA))", true},
      {"(@Resource.d == SID(BU))", "(\"d\",TD,0,SID(BA))", false},
      {"(@Resource.o == #0a0b)", "(\"o\",TX,0,0a0b)", true},
      {"(@Resource.o == #0a0c)", "(\"o\",TX,0,0a0b)", false},
      {"(@Resource.b == 1)", "(\"b\",TB,0,1)", true},
      {"(@Resource.c == {\"PM\", \"QA\"})", "(\"c\",TS,0,\"PM\",\"QA\")", true},
      {"(@Resource.c == {\"PM\"})", "(\"c\",TS,0,\"PM\",\"QA\")", false},
      {"(@Resource.c Any_of {\"QA\", \"XX\"})", "(\"c\",TS,0,\"PM\",\"QA\")",
       true},
      {"(@Resource.c Contains {\"QA\", \"XX\"})", "(\"c\",TS,0,\"PM\",\"QA\")",
       false},
      {"(Exists @Resource.c)", "(\"c\",TS,0,\"PM\")", true},
      {"(Exists @Resource.missing)", "(\"c\",TS,0,\"PM\")", false},
      {"(@Resource.missing == 1)", "(\"c\",TS,0,\"PM\")", false},
  };
  for (const Row& row : rows) {
    const std::string sddl = std::string("O:BAG:BAD:(XA;;0x8;;;WD;") +
                             row.condition + ")S:(RA;;;;;WD;" + row.attribute +
                             ")";
    INFO(sddl);
    auto result = CheckSddl(sddl, kQuery);
    CHECK(result.granted_ok() == row.granted);
  }
}

TEST_CASE("a missing attribute makes a deny ACE deny and an allow ACE not "
          "grant") {
  const std::string allow = "(A;;0x8;;;WD)";
  for (const char* condition :
       {"(@User.missing == 1)", "(@Device.missing Contains \"x\")",
        "(!(@Resource.missing >= 2))", "(@User.missing Any_of {1, 2})"}) {
    INFO(condition);
    EXPECT_DENIED(CheckSddl(std::string("O:BAG:BAD:(XD;;0x8;;;WD;") +
                                condition + ")" + allow,
                            kQuery),
                  AccessStatus::kAccessDenied);
    EXPECT_DENIED(CheckSddl(std::string("O:BAG:BAD:(XA;;0x8;;;WD;") +
                                condition + ")",
                            kQuery),
                  AccessStatus::kAccessDenied);
  }
  // Not_Exists of a missing attribute is TRUE: the deny ACE denies.
  EXPECT_DENIED(
      CheckSddl("O:BAG:BAD:(XD;;0x8;;;WD;(!(Exists @User.missing)))" + allow,
                kQuery),
      AccessStatus::kAccessDenied);
  // Exists of a missing attribute is FALSE: the deny ACE does not apply.
  EXPECT_GRANTED(
      CheckSddl("O:BAG:BAD:(XD;;0x8;;;WD;(Exists @User.missing))" + allow,
                kQuery),
      kQuery);
}

TEST_CASE("claims given with the request replace the token's") {
  Token token = TokenBuilder().Build();
  token.user_claims = {StringClaim("Title", "PM")};
  token.device_claims = {StringClaim("Site", "home")};
  auto sd = ParseSddl(
      "O:BAG:BAD:(XA;;0x8;;;WD;(@Device.Site == \"lab\" && "
      "@User.Title == \"PM\"))");
  REQUIRE(sd);
  AccessRequest request;
  request.desired = AccessMask(kQuery);
  CHECK_FALSE(AccessCheck(token, *sd, request).granted_ok());
  const std::vector<Claim> lab = {StringClaim("Site", "lab")};
  request.device_claims = &lab;
  CHECK(AccessCheck(token, *sd, request).granted_ok());
  const std::vector<Claim> none;
  request.user_claims = &none;
  CHECK_FALSE(AccessCheck(token, *sd, request).granted_ok());
  // The token itself is untouched.
  CHECK(token.device_claims == std::vector<Claim>{StringClaim("Site", "home")});
}

TEST_CASE("the trace says which condition decided and why") {
  auto result = CheckSddl(
      "O:BAG:BAD:(XA;;0x8;;;WD;(@User.Title == \"Dev\"))(XA;;0x8;;;WD;"
      "(Member_of {SID(BU)}))",
      kQuery);
  EXPECT_GRANTED(result, kQuery);
  std::vector<std::string> dacl;
  for (const AccessTraceStep& step : result.trace) {
    if (step.step == "dacl") dacl.push_back(step.detail);
  }
  REQUIRE(dacl.size() == 3);
  CHECK(dacl[0] ==
        "ACE 0 (allow QUERY to Everyone; conditional): condition "
        "(@USER.Title == \"Dev\") is FALSE (@USER.Title is \"PM\", expected "
        "== \"Dev\": FALSE): skipped");
  CHECK(Contains(dacl[1], "condition (Member_of {SID(BU)}) is TRUE"));
  CHECK(Contains(dacl[1], "applies"));
  CHECK(Contains(dacl[2], "grants QUERY"));
}

// Conditional access checks after Samba's test_run_conditional_ace.c: a
// user holding Everyone and AA (S-1-5-32-579), device claims and device
// groups as given, a request of 0x10 under a plain mapping.
struct ConditionalCheckCase {
  const char* sddl;
  std::vector<Claim> user_claims;
  std::vector<Claim> device_claims;
  std::vector<Sid> device_groups;
  bool granted;
};

Claim Strings(std::string name, std::vector<std::string> values,
              uint32_t flags = 0) {
  Claim claim;
  claim.name = std::move(name);
  claim.type = ClaimType::kString;
  claim.flags = flags;
  for (auto& value : values) claim.values.push_back(std::move(value));
  return claim;
}

Claim Sids(std::string name, std::vector<Sid> values) {
  Claim claim;
  claim.name = std::move(name);
  claim.type = ClaimType::kSid;
  for (auto& value : values) claim.values.push_back(std::move(value));
  return claim;
}

TEST_CASE("conditional access checks: the Samba run-conditional-ace cases") {
  const Sid wd = well_known::Everyone();
  const Sid aa = *ParseSidOrAlias("AA");
  const Sid ba = well_known::Administrators();
  const Sid bg = *ParseSidOrAlias("BG");
  const std::vector<Claim> none;
  const std::vector<Claim> orange_blue = {
      Strings("colour", {"orange", "blue"})};
  const std::vector<Claim> blue = {Strings("colour", {"blue"})};
  const std::vector<ConditionalCheckCase> cases = {
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {\"orange\", \"blue\"}))", none,
       orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {\"orange\", \"blue\"}))", none,
       {Strings("colour", {"blue", "orange"})}, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {\"orange\", \"blue\", "
       "\"orange\"}))",
       none, orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {SID(WD), SID(AA), SID(WD)}))",
       none, {Sids("colour", {aa, wd})}, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {2, SID(WD), SID(AA), "
       "SID(WD)}))",
       none, {Sids("colour", {aa, wd})}, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {SID(WD), SID(AA), 2}))", none,
       {Sids("colour", {aa, wd})}, {}, false},
      {"D:(XD;;0x1f;;;AA;(@Device.colour == {2, SID(WD), SID(AA), "
       "SID(WD)}))(D;;;;;WD)",
       none, {Sids("colour", {aa, wd})}, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {\"OraNgE\", \"BLuE\"}))",
       none, orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == {\"OraNgE\", \"BLuE\"}))",
       none,
       {Strings("colour", {"orange", "blue"}, claim_flags::kCaseSensitive)},
       {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.Colour == {\"orange\", \"blue\"}))",
       none, orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour != {\"orange\", \"blue\", "
       "\"green\"}))",
       none, orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Contains {\"orange\", "
       "\"blue\"}))",
       none, orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Contains {\"orange\", \"blue\", "
       "\"red\"}))",
       none, orange_blue, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Any_of {\"orange\", \"blue\", "
       "\"red\"}))",
       none, orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Any_of {\"a\", \"b\", "
       "\"blue\"}))",
       none, orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Any_of\"blue\"))", none,
       orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Contains \"blue\"))", none,
       orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Contains \"pink\"))", none,
       orange_blue, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Any_of \"pink\"))", none,
       orange_blue, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Not_Any_of\"blue\"))", none,
       orange_blue, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Not_Any_of{\"blue\"}))", none,
       orange_blue, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Not_Contains \"blue\"))", none,
       orange_blue, {}, false},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Not_Contains \"pink\"))", none,
       orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Not_Any_of \"pink\"))", none,
       orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(!(@Device.colour Not_Any_of \"pink\")))", none,
       orange_blue, {}, false},
      {"D:(XA;;0x1f;;;AA;(! (@Device.colour Not_Contains \"blue\")))", none,
       orange_blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(!(!(Not_Member_of{SID(BA)}))))", none, none,
       {ba, bg}, true},
      {"D:(XA;;0x1f;;;AA;(!(!(Not_Member_of{SID(AA)}))))", none, none,
       {ba, bg}, false},
      {"D:(XA;;0x1f;;;AA;(!(!(!( !(!(!(  !(!(!( "
       "Not_Member_of{SID(AA)})))))))))))",
       none, none, {ba, bg}, true},
      {"D:(XA;;0x1f;;;AA;(Device_Member_of{SID(BA)} && Member_of{SID(WD)}))",
       none, none, {ba, bg}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Contains @Resource.colour))"
       "S:(RA;;;;;WD;(\"colour\",TS,0,\"blue\"))",
       none, blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour == @Resource.colour))"
       "S:(RA;;;;;WD;(\"colour\",TS,0,\"blue\"))",
       none, blue, {}, true},
      {"D:(XA;;0x1f;;;AA;(@User.colour == @Device.colour))", blue, blue, {},
       true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Contains @Resource.colour))"
       "S:(RA;;;;;WD;(\"colour\",TS,0,\"blue\", \"red\"))",
       none, {Strings("colour", {"blue", "red"})}, {}, true},
      {"D:(XA;;0x1f;;;AA;(@Device.colour Any_of @Resource.colour))"
       "S:(RA;;;;;WD;(\"colour\",TS,0,\"grue\", \"blue\", \"red\"))",
       none, blue, {}, true},
      {"D:(XD;;FX;;;S-1-1-0;(@User.Project Any_of @Resource.Project))", none,
       blue, {}, false},
      {"D:(XD;;FX;;;S-1-1-0;(@User.Project Any_of @Resource.Project))",
       {Strings("Project", {"3"})}, none, {}, false},
      {"D:(XD;;FX;;;S-1-1-0;(@User.Project Any_of @Resource.Project))"
       "S:(RA;;;;;WD;(\"Project\",TX,0,1234))",
       none, none, {}, false},
  };
  int passed = 0;
  for (const ConditionalCheckCase& c : cases) {
    INFO(c.sddl);
    Token token = TokenBuilder().Group(aa, kEnabledGroup).Build();
    token.user_claims = c.user_claims;
    token.device_claims = c.device_claims;
    if (!c.device_groups.empty()) {
      token.device_groups.emplace();
      for (const Sid& sid : c.device_groups) {
        token.device_groups->push_back({sid, kEnabledGroup});
      }
    }
    auto sd = ParseSddl(c.sddl);
    REQUIRE(sd.has_value());
    sd->owner = well_known::Administrators();
    sd->group = well_known::Administrators();
    AccessRequest request;
    request.desired = AccessMask(0x10);
    request.mapping = GenericMapping{AccessMask(0x20000), AccessMask(0x20000),
                                     AccessMask(0x20000), AccessMask(0xfffff)};
    const bool granted = AccessCheck(token, *sd, request).granted_ok();
    CHECK(granted == c.granted);
    if (granted == c.granted) ++passed;
  }
  std::printf("conditional access checks (Samba cases): %d/%zu pass\n",
              passed, cases.size());
}

TEST_CASE("an ACE's MAXIMUM_ALLOWED bit grants nothing") {
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Allow(kMaximumAllowed | kQuery, well_known::Everyone()),
            kMaximumAllowed);
  EXPECT_GRANTED(result, kQuery);
}

// ------------------------------------------------------ restricted tokens

TEST_CASE("a restricted token is granted what both passes grant") {
  auto result =
      Check(TokenBuilder().Restricted({well_known::Everyone()}),
            SdBuilder().Allow(kQuery, well_known::Everyone()), kQuery);
  EXPECT_GRANTED(result, kQuery);
}

TEST_CASE(
    "a restricted token is denied what only its normal SIDs are "
    "granted") {
  auto result = Check(TokenBuilder().Restricted({well_known::Everyone()}),
                      SdBuilder().Allow(kQuery, kAlice), kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason ==
        "restricted pass: no ACE granted QUERY to a restricting SID");
}

TEST_CASE("a restricting SID alone does not grant in the normal pass") {
  auto result =
      Check(TokenBuilder().Restricted({well_known::Restricted()}),
            SdBuilder().Allow(kQuery, well_known::Restricted()), kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  EXPECT_GRANTED(Check(TokenBuilder().Restricted({well_known::Restricted()}),
                       SdBuilder()
                           .Allow(kQuery, well_known::Restricted())
                           .Allow(kQuery, kAlice),
                       kQuery),
                 kQuery);
}

TEST_CASE("restricting SIDs match whatever their attributes") {
  auto result = Check(
      TokenBuilder().Restricted({well_known::Restricted()}, 0),
      SdBuilder().Allow(kQuery, well_known::Restricted()).Allow(kQuery, kAlice),
      kQuery);
  EXPECT_GRANTED(result, kQuery);
}

TEST_CASE("a deny ACE seen only by the restricted pass denies") {
  auto result = Check(TokenBuilder().Restricted(
                          {well_known::Restricted(), well_known::Everyone()}),
                      SdBuilder()
                          .Deny(kQuery, well_known::Restricted())
                          .Allow(kQuery, well_known::Everyone()),
                      kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.deciding_ace == 0);
  CHECK(Contains(result.reason, "restricted pass: ACE 0"));
}

TEST_CASE(
    "MAXIMUM_ALLOWED for a restricted token is the intersection of the "
    "passes") {
  auto result = Check(TokenBuilder().Restricted({well_known::Restricted()}),
                      SdBuilder()
                          .Allow(kQuery | kAdjustDefault, kAlice)
                          .Allow(kQuery | kDuplicate, well_known::Restricted()),
                      kMaximumAllowed);
  EXPECT_GRANTED(result, kQuery);
}

TEST_CASE(
    "owner rights in the restricted pass need the owner among the "
    "restricting SIDs") {
  auto sd = SdBuilder().Owner(kAlice);
  EXPECT_GRANTED(Check(TokenBuilder().Restricted({kAlice}), sd, kWriteDac),
                 kWriteDac);
  EXPECT_DENIED(
      Check(TokenBuilder().Restricted({well_known::Everyone()}), sd, kWriteDac),
      AccessStatus::kAccessDenied);
}

TEST_CASE("an empty restricting list grants nothing from the DACL") {
  auto token = TokenBuilder();
  token.Restricted({});
  EXPECT_DENIED(
      Check(token, SdBuilder().Allow(kQuery, well_known::Everyone()), kQuery),
      AccessStatus::kAccessDenied);
}

TEST_CASE("privilege-granted rights survive the restricted pass") {
  auto result = Check(TokenBuilder()
                          .Restricted({well_known::Everyone()})
                          .Privilege(privilege::kTakeOwnership),
                      SdBuilder(), kWriteOwner);
  EXPECT_GRANTED(result, kWriteOwner);
}

TEST_CASE(
    "privilege-granted rights survive a restricted pass that does "
    "not grant them") {
  // The restricted pass runs for QUERY and grants no WRITE_OWNER; the
  // privilege's WRITE_OWNER is kept.
  auto result = Check(TokenBuilder()
                          .Restricted({well_known::Everyone()})
                          .Privilege(privilege::kTakeOwnership),
                      SdBuilder().Allow(kQuery, well_known::Everyone()),
                      kWriteOwner | kQuery);
  EXPECT_GRANTED(result, kWriteOwner | kQuery);
  CHECK(result.privileges_used == privilege::Bit(privilege::kTakeOwnership));
}

TEST_CASE("a write-restricted token reads without its restricting SIDs") {
  auto result = Check(TokenBuilder().WriteRestricted({kWriteRestrictedSid}),
                      SdBuilder().Allow(kTokenAll, well_known::Everyone()),
                      kQuery | kReadControl | kDuplicate);
  EXPECT_GRANTED(result, kQuery | kReadControl | kDuplicate);
}

TEST_CASE(
    "a write-restricted token writes only what its restricting SIDs "
    "are granted") {
  auto token = TokenBuilder().WriteRestricted({kWriteRestrictedSid});
  EXPECT_DENIED(
      Check(token, SdBuilder().Allow(kTokenAll, well_known::Everyone()),
            kAdjustDefault),
      AccessStatus::kAccessDenied);
  EXPECT_GRANTED(Check(token,
                       SdBuilder()
                           .Allow(kTokenAll, well_known::Everyone())
                           .Allow(kAdjustDefault, kWriteRestrictedSid),
                       kAdjustDefault),
                 kAdjustDefault);
}

TEST_CASE(
    "MAXIMUM_ALLOWED for a write-restricted token drops unshared "
    "write rights") {
  // Write rights for tokens: (0x600e0 & ~(0x20008 | 0x4)) | DELETE |
  // WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY = 0x10d00e0;
  // 0xf01ff & ~0x10d00e0 = 0x2011f.
  CHECK(WriteRestrictedRights(kTokenGenericMapping).bits() == 0x10d00e0u);
  auto result = Check(TokenBuilder().WriteRestricted({kWriteRestrictedSid}),
                      SdBuilder().Allow(kTokenAll, well_known::Everyone()),
                      kMaximumAllowed);
  EXPECT_GRANTED(result, 0x2011f);
}

// --------------------------------------------------------- MAXIMUM_ALLOWED

TEST_CASE("MAXIMUM_ALLOWED returns every granted right") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Allow(kQuery, well_known::Everyone())
                          .Allow(kImpersonate, kStaff),
                      kMaximumAllowed);
  EXPECT_GRANTED(result, kQuery | kImpersonate);
  CHECK(result.desired_mapped.bits() == kMaximumAllowed);
}

TEST_CASE(
    "MAXIMUM_ALLOWED with explicit rights succeeds when they are "
    "granted") {
  auto result =
      Check(TokenBuilder(),
            SdBuilder().Allow(kQuery | kAdjustDefault, well_known::Everyone()),
            kMaximumAllowed | kQuery);
  EXPECT_GRANTED(result, kQuery | kAdjustDefault);
}

TEST_CASE(
    "MAXIMUM_ALLOWED with an explicit right that is not granted is "
    "denied") {
  auto result =
      Check(TokenBuilder(), SdBuilder().Allow(kQuery, well_known::Everyone()),
            kMaximumAllowed | kDuplicate);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason == "no ACE granted DUPLICATE");
}

TEST_CASE("MAXIMUM_ALLOWED leaves out rights an earlier ACE denied") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Deny(kAdjustDefault, well_known::Everyone())
                          .Allow(kGenericAll, well_known::Everyone()),
                      kMaximumAllowed);
  EXPECT_GRANTED(result, kTokenAll & ~kAdjustDefault);
}

TEST_CASE("MAXIMUM_ALLOWED keeps rights granted before a later deny") {
  auto result = Check(TokenBuilder(),
                      SdBuilder()
                          .Allow(kQuery, well_known::Everyone())
                          .Deny(kQuery | kDuplicate, well_known::Everyone())
                          .Allow(kDuplicate, well_known::Everyone()),
                      kMaximumAllowed);
  EXPECT_GRANTED(result, kQuery);
}

TEST_CASE("MAXIMUM_ALLOWED on a NULL DACL is the mapping's GENERIC_ALL") {
  EXPECT_GRANTED(Check(TokenBuilder(), SdBuilder().NullDacl(), kMaximumAllowed),
                 kTokenAll);
  EXPECT_GRANTED(
      Check(TokenBuilder(), SdBuilder().NullDacl(), kMaximumAllowed, File()),
      kFileAll);
}

TEST_CASE("MAXIMUM_ALLOWED on an absent DACL is the mapping's GENERIC_ALL") {
  EXPECT_GRANTED(Check(TokenBuilder(), SdBuilder().NoDacl(), kMaximumAllowed),
                 kTokenAll);
}

TEST_CASE(
    "MAXIMUM_ALLOWED on an empty DACL grants only owner and privilege "
    "rights") {
  auto none = Check(TokenBuilder(), SdBuilder(), kMaximumAllowed);
  EXPECT_DENIED(none, AccessStatus::kAccessDenied);
  CHECK(none.reason == "MAXIMUM_ALLOWED: no right is granted");
  auto owner = Check(TokenBuilder().Privilege(privilege::kTakeOwnership),
                     SdBuilder().Owner(kAlice), kMaximumAllowed);
  EXPECT_GRANTED(owner, kReadControl | kWriteDac | kWriteOwner);
  CHECK(owner.privileges_used == privilege::Bit(privilege::kTakeOwnership));
}

TEST_CASE("MAXIMUM_ALLOWED includes ACCESS_SYSTEM_SECURITY from SeSecurity") {
  auto result =
      Check(TokenBuilder().Privilege(privilege::kSecurity),
            SdBuilder().Allow(kQuery, well_known::Everyone()), kMaximumAllowed);
  EXPECT_GRANTED(result, kQuery | kSystemSecurity);
}

// ----------------------------------------------------- NULL / absent / empty

TEST_CASE("a NULL or absent DACL grants any right of the object class") {
  EXPECT_GRANTED(Check(TokenBuilder(), SdBuilder().NullDacl(),
                       kAdjustDefault | kWriteOwner),
                 kAdjustDefault | kWriteOwner);
  EXPECT_GRANTED(Check(TokenBuilder(), SdBuilder().NoDacl(), kGenericAll),
                 kTokenAll);
}

TEST_CASE("a NULL DACL does not grant rights outside GENERIC_ALL") {
  // SYNCHRONIZE is not in the token mapping's GENERIC_ALL (0xf01ff).
  auto result = Check(TokenBuilder(), SdBuilder().NullDacl(), kSynchronize);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(Contains(result.reason, "outside GENERIC_ALL"));
}

TEST_CASE("a NULL DACL does not override integrity") {
  auto result = Check(TokenBuilder().Integrity(kIntegrityLow),
                      SdBuilder().NullDacl(), kAdjustDefault);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
}

TEST_CASE("an empty DACL grants nothing to a non-owner") {
  auto result = Check(TokenBuilder(), SdBuilder(), kQuery);
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason == "no ACE granted QUERY");
  CHECK(result.deciding_ace == -1);
}

// ------------------------------------------------- the default token SD

TEST_CASE(
    "under the default token SD the token's user may query and adjust "
    "but not take WRITE_DAC or duplicate") {
  // Peios KACS token access rights: user gets QUERY | ADJUST_*; when the
  // creator is the user, an OWNER RIGHTS ACE keeps only READ_CONTROL.
  const SecurityDescriptor sd = DefaultTokenSecurity(kAlice, kAlice);
  AccessRequest request;
  request.desired = AccessMask(kMaximumAllowed);
  auto result = AccessCheck(TokenBuilder().Build(), sd, request);
  // QUERY | ADJUST_PRIVILEGES | ADJUST_GROUPS | ADJUST_DEFAULT |
  // READ_CONTROL.
  EXPECT_GRANTED(result, 0x200e8);
  request.desired = AccessMask(kWriteDac);
  EXPECT_DENIED(AccessCheck(TokenBuilder().Build(), sd, request),
                AccessStatus::kAccessDenied);
  request.desired = AccessMask(kDuplicate);
  EXPECT_DENIED(AccessCheck(TokenBuilder().Build(), sd, request),
                AccessStatus::kAccessDenied);
}

TEST_CASE(
    "under the default token SD another creator gets every token "
    "right") {
  const SecurityDescriptor sd = DefaultTokenSecurity(kBob, kAlice);
  AccessRequest request;
  request.desired = AccessMask(kMaximumAllowed);
  EXPECT_GRANTED(AccessCheck(TokenBuilder().Build(), sd, request), kTokenAll);
}

// --------------------------------------------------------------- reporting

TEST_CASE("the trace lists each step and can be turned off") {
  auto sd = SdBuilder()
                .Owner(kAlice)
                .Allow(kQuery, well_known::Everyone())
                .Label(kIntegrityMedium, 0x1);
  auto traced = Check(TokenBuilder(), sd, kQuery | kWriteDac);
  EXPECT_GRANTED(traced, kQuery | kWriteDac);
  std::vector<std::string> steps;
  for (const auto& step : traced.trace) steps.push_back(step.step);
  CHECK(steps.front() == "gate");
  CHECK(steps.back() == "result");
  CHECK(std::count(steps.begin(), steps.end(), "integrity") == 1);
  CHECK(std::count(steps.begin(), steps.end(), "owner") == 1);
  CHECK(std::count(steps.begin(), steps.end(), "dacl") >= 1);

  Options quiet;
  quiet.trace = false;
  auto untraced = Check(TokenBuilder(), sd, kQuery | kWriteDac, quiet);
  EXPECT_GRANTED(untraced, kQuery | kWriteDac);
  CHECK(untraced.trace.empty());
  CHECK(untraced.reason == traced.reason);
}

TEST_CASE("masks in explanations are hex for other mappings") {
  auto result = Check(TokenBuilder(),
                      SdBuilder().Deny(kFileWriteData, well_known::Everyone()),
                      kFileWriteData, File());
  EXPECT_DENIED(result, AccessStatus::kAccessDenied);
  CHECK(result.reason == "ACE 0 (deny 0x2 to Everyone) denied 0x2");
}

TEST_CASE("status names are stable") {
  CHECK(AccessStatusName(AccessStatus::kGranted) == "granted");
  CHECK(AccessStatusName(AccessStatus::kAccessDenied) == "access-denied");
  CHECK(AccessStatusName(AccessStatus::kPrivilegeNotHeld) ==
        "privilege-not-held");
  CHECK(AccessStatusName(AccessStatus::kBadImpersonationLevel) ==
        "bad-impersonation-level");
  CHECK(AccessStatusName(AccessStatus::kInvalidSecurityDescriptor) ==
        "invalid-security-descriptor");
}

TEST_CASE("the mandatory allowed rights follow the NW/NR/NX policy") {
  // Hand-computed from the category rule (see the header comment): file
  // read = 0x120089, execute = 0x100020, write = 0x11f0116.
  CHECK(MandatoryAllowedRights(0x1, kFileGenericMapping).bits() == 0x1200a9u);
  CHECK(MandatoryAllowedRights(0x3, kFileGenericMapping).bits() == 0x100020u);
  CHECK(MandatoryAllowedRights(0x5, kFileGenericMapping).bits() == 0x120089u);
  // NR alone: GENERIC_ALL | read | execute = 0x1f01ff minus the bits only
  // read holds (0x89) = 0x1f0176.
  CHECK(MandatoryAllowedRights(0x2, kFileGenericMapping).bits() == 0x1f0176u);
  // No policy bit: nothing is taken away.
  CHECK(MandatoryAllowedRights(0x0, kFileGenericMapping).bits() == 0x1f01ffu);
}

}  // namespace
}  // namespace tokenfs
