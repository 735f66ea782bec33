#include "core/token.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

namespace ga = group_attributes;
using test::kEnabledGroup;  // mandatory | enabled by default | enabled

Token ValidToken() {
  Token token;
  token.user = well_known::UnixUser(1000);
  token.groups = {
      {well_known::UnixGroup(1000), kEnabledGroup | ga::kOwner},
      {well_known::Everyone(), kEnabledGroup},
      {well_known::LogonSid(42), kEnabledGroup | ga::kLogonId},
  };
  token.owner_index = 1;
  token.primary_group_index = 1;
  token.privileges.present = privilege::Bit(privilege::kChangeNotify);
  token.privileges.enabled = token.privileges.present;
  token.privileges.enabled_by_default = token.privileges.present;
  return token;
}

void CheckInvalid(const Token& token, const std::string& fragment) {
  Status status = ValidateToken(token);
  REQUIRE_FALSE(status);
  CHECK(status.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(status.error().message, Catch::Contains(fragment));
}

// Token rights as the Peios KACS token access rights define them.
constexpr uint32_t kSelfRights = 0xE8;  // QUERY | ADJUST_{PRIVILEGES,GROUPS,
                                        // DEFAULT}
constexpr uint32_t kAllAccess = 0xF01FF;
constexpr uint32_t kReadControl = 0x20000;

struct ExpectedAce {
  std::string sid;
  uint32_t mask;
};

void CheckDacl(const SecurityDescriptor& sd,
               const std::vector<ExpectedAce>& expected) {
  CHECK(sd.dacl_present());
  REQUIRE(sd.dacl);
  REQUIRE(sd.dacl->aces.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("ACE " << i);
    const Ace& ace = sd.dacl->aces[i];
    CHECK(ace.type == AceType::kAccessAllowed);
    CHECK(ace.flags == 0);
    CHECK(ace.sid.ToString() == expected[i].sid);
    CHECK(ace.mask.bits() == expected[i].mask);
  }
}

}  // namespace

// ---- ValidateToken: one test per invariant.

TEST_CASE("a well-formed token validates") {
  CHECK(ValidateToken(ValidToken()));
  Token impersonation = ValidToken();
  impersonation.type = TokenType::kImpersonation;
  impersonation.impersonation_level = ImpersonationLevel::kDelegation;
  CHECK(ValidateToken(impersonation));
}

TEST_CASE("validation refuses more than 1024 groups") {
  Token token = ValidToken();
  token.groups.resize(1025, {well_known::Users(), 0});
  CheckInvalid(token, "groups: 1025 entries (at most 1024)");
  token.groups.resize(1024);
  CHECK(ValidateToken(token));
}

TEST_CASE("validation refuses two logon SIDs") {
  Token token = ValidToken();
  token.groups.push_back({well_known::LogonSid(43), ga::kLogonId});
  CheckInvalid(token, "more than one logon SID");
}

TEST_CASE("validation refuses an owner index beyond the groups") {
  Token token = ValidToken();
  token.owner_index = 4;
  CheckInvalid(token, "owner index 4 is beyond the 3 groups");
}

TEST_CASE("validation refuses an owner group without the owner attribute") {
  Token token = ValidToken();
  token.owner_index = 2;
  CheckInvalid(token, "owner index 2 names a group without the owner");
}

TEST_CASE("validation refuses a primary group index beyond the groups") {
  Token token = ValidToken();
  token.primary_group_index = 4;
  CheckInvalid(token, "primary group index 4 is beyond the 3 groups");
}

TEST_CASE("validation refuses enabled or default privileges not present") {
  Token token = ValidToken();
  token.privileges.enabled |= privilege::Bit(privilege::kDebug);
  CheckInvalid(token, "privileges: enabled bits outside present");
  token = ValidToken();
  token.privileges.enabled_by_default |= privilege::Bit(privilege::kDebug);
  CheckInvalid(token, "privileges: enabled-by-default bits outside present");
}

TEST_CASE("validation refuses a primary token with a level above Anonymous") {
  Token token = ValidToken();
  token.impersonation_level = ImpersonationLevel::kImpersonation;
  CheckInvalid(token, "a primary token has level Anonymous");
}

TEST_CASE("validation refuses write-restricted without user deny-only") {
  Token token = ValidToken();
  token.write_restricted = true;
  CheckInvalid(token, "write-restricted token must have user deny-only");
  token.user_deny_only = true;
  CHECK(ValidateToken(token));
}

TEST_CASE("validation refuses an isolation boundary without confinement") {
  Token token = ValidToken();
  token.isolation_boundary = true;
  CheckInvalid(token, "isolation boundary requires a confinement SID");
  token.confinement_sid = well_known::AllAppPackages();
  CHECK(ValidateToken(token));
}

TEST_CASE("validation refuses unknown policy bits") {
  Token token = ValidToken();
  token.mandatory_policy = 0x4;
  CheckInvalid(token, "mandatory policy: unknown bits");
  token = ValidToken();
  token.audit_policy = 0x10;
  CheckInvalid(token, "audit policy: unknown bits");
}

// An ACL of `count` audit ACEs for Everyone: 8 + 20 * count bytes.
Acl AuditAcl(size_t count) {
  Acl acl;
  for (size_t i = 0; i < count; ++i) {
    acl.aces.push_back(Ace{.type = AceType::kSystemAudit,
                           .flags = 0x40,  // successful access
                           .mask = AccessMask(0x10000000),
                           .sid = well_known::Everyone()});
  }
  return acl;
}

TEST_CASE("validation refuses an ACL without a binary form") {
  // 3276 ACEs: 65528 bytes, which fit; 3277: 65548, which do not.
  Token token = ValidToken();
  token.default_dacl = AuditAcl(3276);
  CHECK(ValidateToken(token));
  token.default_dacl = AuditAcl(3277);
  CheckInvalid(token, "default DACL: ACL exceeds 65535 bytes");
  token = ValidToken();
  token.security.SetDacl(AuditAcl(3277));
  CheckInvalid(token, "security DACL: ACL exceeds 65535 bytes");
}

TEST_CASE("validation keeps room in the token's SACL for the integrity label") {
  Token token = ValidToken();
  // 65528 bytes and no label: the label's 20 bytes would not fit.
  token.security.SetSacl(AuditAcl(3276));
  CheckInvalid(token,
               "security SACL: 65528 bytes leave no room for the integrity "
               "label (an ACL holds at most 65535 bytes)");
  token.security.SetSacl(AuditAcl(3275));
  CHECK(ValidateToken(token));
  LabelTokenSecurity(token);
  REQUIRE(token.security.sacl);
  CHECK(token.security.sacl->ToBinary()->size() == 65528);
  // With its label already there, the SACL may use the whole limit.
  CHECK(ValidateToken(token));
}

// ---- DefaultTokenSecurity (the Peios KACS token access rights).

TEST_CASE("the default token SD grants the user 0xE8, creator and SYSTEM all") {
  const Sid user = well_known::UnixUser(1000);
  const Sid creator = well_known::UnixUser(0);
  const SecurityDescriptor sd = DefaultTokenSecurity(user, creator);
  CHECK(sd.owner == creator);
  CheckDacl(sd, {{"S-1-22-1-1000", kSelfRights},
                 {"S-1-22-1-0", kAllAccess},
                 {"S-1-5-18", kAllAccess}});
}

TEST_CASE("a self-created token's SD has OWNER RIGHTS READ_CONTROL instead") {
  const Sid user = well_known::UnixUser(1000);
  const SecurityDescriptor sd = DefaultTokenSecurity(user, user);
  CHECK(sd.owner == user);
  // The creator ACE is omitted and OWNER RIGHTS keeps only READ_CONTROL, so
  // the owner's implicit WRITE_DAC cannot widen the self-access limit.
  CheckDacl(sd, {{"S-1-22-1-1000", kSelfRights},
                 {"S-1-3-4", kReadControl},
                 {"S-1-5-18", kAllAccess}});
}

TEST_CASE("a SYSTEM-created token's SD lists SYSTEM once") {
  const SecurityDescriptor sd = DefaultTokenSecurity(well_known::UnixUser(1000),
                                                     well_known::LocalSystem());
  CHECK(sd.owner == well_known::LocalSystem());
  CheckDacl(sd, {{"S-1-22-1-1000", kSelfRights}, {"S-1-5-18", kAllAccess}});
}

// ---- Helpers.

TEST_CASE("SIDs are indexed as the user then the groups") {
  const Token token = ValidToken();
  REQUIRE(token.SidAtIndex(0));
  CHECK(*token.SidAtIndex(0) == token.user);
  REQUIRE(token.SidAtIndex(1));
  CHECK(*token.SidAtIndex(1) == well_known::UnixGroup(1000));
  REQUIRE(token.SidAtIndex(3));
  CHECK(token.SidAtIndex(3)->ToString() == "S-1-5-5-0-42");
  CHECK(token.SidAtIndex(4) == nullptr);
  CHECK(token.Owner() == well_known::UnixGroup(1000));
  CHECK(token.PrimaryGroup() == well_known::UnixGroup(1000));
}

TEST_CASE("the integrity SID, logon SID and restriction are derived") {
  Token token = ValidToken();
  CHECK(token.IntegritySid().ToString() == "S-1-16-8192");
  REQUIRE(token.LogonSid());
  CHECK(token.LogonSid()->ToString() == "S-1-5-5-0-42");
  // Only both logon-id bits make a logon SID.
  token.groups.Mutable()[2].attributes = 0x40000000;
  CHECK_FALSE(token.LogonSid());

  CHECK_FALSE(token.is_restricted());
  token.restricted_sids = std::vector<SidAndAttributes>{};
  CHECK(token.is_restricted());  // an empty list still restricts
}

TEST_CASE("a token source keeps eight raw bytes and prints without NULs") {
  const TokenSource source = TokenSource::Make("PeiosKrn", Luid{5});
  CHECK(source.NameString() == "PeiosKrn");
  CHECK(source.id == Luid{5});
  const TokenSource longer = TokenSource::Make("tokenfs-daemon", Luid{});
  CHECK(longer.NameString() == "tokenfs-");
  const TokenSource shorter = TokenSource::Make("abc", Luid{});
  CHECK(shorter.NameString() == "abc");
  CHECK(shorter.name[3] == '\0');
}

TEST_CASE("token enums print their display names") {
  CHECK(TokenTypeName(TokenType::kPrimary) == "Primary");
  CHECK(TokenTypeName(TokenType::kImpersonation) == "Impersonation");
  CHECK(TokenTypeName(static_cast<TokenType>(9)) == "Unknown");
  CHECK(ImpersonationLevelName(ImpersonationLevel::kAnonymous) == "Anonymous");
  CHECK(ImpersonationLevelName(ImpersonationLevel::kIdentification) ==
        "Identification");
  CHECK(ImpersonationLevelName(ImpersonationLevel::kImpersonation) ==
        "Impersonation");
  CHECK(ImpersonationLevelName(ImpersonationLevel::kDelegation) ==
        "Delegation");
  CHECK(ElevationTypeName(ElevationType::kDefault) == "Default");
  CHECK(ElevationTypeName(ElevationType::kFull) == "Full");
  CHECK(ElevationTypeName(ElevationType::kLimited) == "Limited");
  CHECK(LogonTypeName(LogonType::kInteractive) == "Interactive");
  CHECK(LogonTypeName(LogonType::kNetwork) == "Network");
  CHECK(LogonTypeName(LogonType::kService) == "Service");
  CHECK(LogonTypeName(LogonType::kNewCredentials) == "NewCredentials");
}

// ---- Token type and level parsers: the three tables.

TEST_CASE("token types parse from their names in any case") {
  struct Case {
    std::string_view input;
    TokenType type;
  };
  const Case cases[] = {{"primary", TokenType::kPrimary},
                        {"PRIMARY", TokenType::kPrimary},
                        {"impersonation", TokenType::kImpersonation},
                        {"Imp", TokenType::kImpersonation}};
  for (const Case& c : cases) {
    INFO(c.input);
    Result<TokenType> type = ParseTokenType(c.input);
    REQUIRE(type);
    CHECK(*type == c.type);
  }
}

TEST_CASE("unknown token types are refused naming them") {
  for (std::string_view input : {"", "prim", "1", "primary "}) {
    INFO("'" << input << "'");
    Result<TokenType> type = ParseTokenType(input);
    REQUIRE_FALSE(type);
    CHECK(type.error().code == ErrorCode::kInvalidArgument);
    CHECK(type.error().message == "unknown token type '" + std::string(input) +
                                      "' (primary or impersonation)");
    CHECK(type.error().column == 1);
  }
}

TEST_CASE("impersonation levels parse from names, short names and numbers") {
  struct Case {
    std::string_view input;
    ImpersonationLevel level;
  };
  const Case cases[] = {
      {"anonymous", ImpersonationLevel::kAnonymous},
      {"anon", ImpersonationLevel::kAnonymous},
      {"0", ImpersonationLevel::kAnonymous},
      {"Identification", ImpersonationLevel::kIdentification},
      {"id", ImpersonationLevel::kIdentification},
      {"1", ImpersonationLevel::kIdentification},
      {"IMPERSONATION", ImpersonationLevel::kImpersonation},
      {"imp", ImpersonationLevel::kImpersonation},
      {"2", ImpersonationLevel::kImpersonation},
      {"delegation", ImpersonationLevel::kDelegation},
      {"del", ImpersonationLevel::kDelegation},
      {"3", ImpersonationLevel::kDelegation},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    Result<ImpersonationLevel> level = ParseImpersonationLevel(c.input);
    REQUIRE(level);
    CHECK(*level == c.level);
  }
}

TEST_CASE("unknown impersonation levels are refused naming them") {
  for (std::string_view input : {"", "4", "delegate", "-1"}) {
    INFO("'" << input << "'");
    Result<ImpersonationLevel> level = ParseImpersonationLevel(input);
    REQUIRE_FALSE(level);
    CHECK(level.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(level.error().message,
               Catch::Contains("unknown impersonation level '" +
                               std::string(input) + "'"));
    CHECK(level.error().column == 1);
  }
}

TEST_CASE("token type and level names parse back to themselves") {
  for (TokenType type : {TokenType::kPrimary, TokenType::kImpersonation}) {
    Result<TokenType> parsed = ParseTokenType(TokenTypeName(type));
    REQUIRE(parsed);
    CHECK(*parsed == type);
  }
  for (ImpersonationLevel level :
       {ImpersonationLevel::kAnonymous, ImpersonationLevel::kIdentification,
        ImpersonationLevel::kImpersonation, ImpersonationLevel::kDelegation}) {
    Result<ImpersonationLevel> parsed =
        ParseImpersonationLevel(ImpersonationLevelName(level));
    REQUIRE(parsed);
    CHECK(*parsed == level);
  }
}

// ---- Group attribute labels.

TEST_CASE("group attribute labels come in their fixed order") {
  using Labels = std::vector<std::string_view>;
  CHECK(GroupAttributeLabels(0xE000007F) ==
        Labels{"mandatory", "default", "enabled", "owner", "deny-only",
               "integrity", "integrity-enabled", "resource", "logon-id"});
  CHECK(GroupAttributeLabels(0) == Labels{"disabled"});
  CHECK(GroupAttributeLabels(ga::kUseForDenyOnly) ==
        Labels{"disabled", "deny-only"});
  CHECK(GroupAttributeLabels(ga::kMandatory | ga::kEnabledByDefault |
                             ga::kEnabled | ga::kLogonId) ==
        Labels{"mandatory", "default", "enabled", "logon-id"});
  // One of the two logon-id bits alone is not a logon SID.
  CHECK(GroupAttributeLabels(0x40000000) == Labels{"disabled"});
  CHECK(GroupAttributeLabels(ga::kIntegrity | ga::kIntegrityEnabled) ==
        Labels{"disabled", "integrity", "integrity-enabled"});
}

}  // namespace tokenfs
