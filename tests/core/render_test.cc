#include "core/render.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "core/well_known_sids.h"
#include "tests/support/catch_support.h"
#include "tests/support/test_support.h"

// Expected text and JSON below are written from the format definition in
// docs/formats.md (two-space fields, SID then label, fixed key order), the
// attribute label order of core/token.h, the privilege catalog, and the
// claim value format of core/claims.h; times are computed by hand.

namespace tokenfs {
namespace {

using nlohmann::json;

using test::ParseSidOrDie;

// User alice (1000), a user whose name holds a newline (666), group alice
// (1000).
test::FakeAccounts Accounts() {
  return test::FakeAccounts({{1000, "alice"}, {666, "ev\nil"}},
                            {{1000, "alice"}});
}

Acl SystemOnlyDacl() {
  Acl acl;
  acl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                         .mask = access::kGenericAll,
                         .sid = well_known::LocalSystem()});
  return acl;
}

// 2024-05-06T07:08:09Z = 1714979289 s: 2024-05-01 is 1714521600, plus five
// days (432000 s) and 7 h 8 min 9 s (25689 s).
constexpr uint64_t kCreatedNs = 1714979289000000010ull;

Token MakeAlice() {
  Token token;
  token.user = well_known::UnixUser(1000);
  token.groups = {
      {well_known::UnixGroup(1000), 0x7},
      {well_known::Everyone(), 0x7},
      {well_known::Administrators(), group_attributes::kUseForDenyOnly},
      {well_known::LogonSid(42), 0xc0000007},
  };
  token.owner_index = 0;
  token.primary_group_index = 1;
  token.privileges.present = privilege::Bit(privilege::kShutdown) |
                             privilege::Bit(privilege::kChangeNotify) |
                             privilege::Bit(40);
  token.privileges.enabled = privilege::Bit(privilege::kChangeNotify);
  token.privileges.enabled_by_default =
      privilege::Bit(privilege::kChangeNotify);
  token.privileges.used = privilege::Bit(privilege::kChangeNotify);
  token.integrity_rid = kIntegrityMedium;
  token.mandatory_policy = mandatory_policy::kNoWriteUp;
  token.capabilities = {
      Capability{"tokeninfo", ParseSidOrDie("S-1-15-3-1024-1-2-3-4-5-6-7-8")},
      Capability{"", ParseSidOrDie("S-1-15-3-1")},
  };
  token.user_claims = {Claim{"department",
                             ClaimType::kString,
                             claim_flags::kCaseSensitive,
                             {std::string("Sales"), std::string("R&D")}}};
  token.device_claims = {Claim{"managed", ClaimType::kBoolean, 0, {true}}};
  token.source = TokenSource::Make("tokenfs", Luid{1});
  token.token_id = Luid{0x1002a};
  token.auth_id = Luid{42};
  token.modified_id = Luid{0x1002b};
  token.origin = Luid{0x3e7};
  token.created_ns = kCreatedNs;
  token.interactive_session_id = 3;
  token.logon_type = LogonType::kInteractive;
  token.elevation_type = ElevationType::kLimited;
  token.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::Restricted(), group_attributes::kRestrictingSid},
      {well_known::UnixGroup(1000), group_attributes::kRestrictingSid},
  };
  token.default_dacl = SystemOnlyDacl();
  token.security.owner = well_known::LocalSystem();
  token.security.group = well_known::LocalSystem();
  token.security.SetDacl(SystemOnlyDacl());
  token.projected_uid = 1000;
  token.projected_gid = 1000;
  return token;
}

// A token with nothing in its lists.
Token MakeBare() {
  Token token;
  token.user = well_known::LocalSystem();
  token.security.owner = well_known::LocalSystem();
  token.security.group = well_known::LocalSystem();
  token.security.SetDacl(SystemOnlyDacl());
  return token;
}

RenderOptions WithAccounts(const AccountLookup* accounts) {
  RenderOptions options;
  options.accounts = accounts;
  return options;
}

// The expected content of every file of MakeAlice(), from docs/formats.md.
const std::map<TokenFile, std::string>& AliceFiles() {
  static const std::map<TokenFile, std::string> files{
      {TokenFile::kUser, "S-1-22-1-1000  Unix User\\alice\n"},
      {TokenFile::kOwner, "S-1-22-1-1000  Unix User\\alice\n"},
      {TokenFile::kGroup, "S-1-22-2-1000  Unix Group\\alice\n"},
      {TokenFile::kGroups,
       "0  S-1-22-2-1000  mandatory,default,enabled  Unix Group\\alice\n"
       "1  S-1-1-0  mandatory,default,enabled  Everyone\n"
       "2  S-1-5-32-544  disabled,deny-only  Administrators\n"
       "3  S-1-5-5-0-42  mandatory,default,enabled,logon-id  Logon Session "
       "0-42\n"},
      {TokenFile::kPrivs,
       "SeShutdown  disabled\n"
       "SeChangeNotify  enabled,default,used\n"
       "<privilege-bit-40>  disabled\n"},
      {TokenFile::kCaps,
       "tokeninfo  S-1-15-3-1024-1-2-3-4-5-6-7-8\n"
       "-  S-1-15-3-1\n"},
      {TokenFile::kClaims,
       "user  department  string  case-sensitive  \"Sales\", \"R&D\"\n"
       "device  managed  boolean  -  true\n"},
      {TokenFile::kIntegrity, "Medium  S-1-16-8192\npolicy  no-write-up\n"},
      {TokenFile::kLogon,
       "logon_type  Interactive\n"
       "logon_sid  S-1-5-5-0-42  Logon Session 0-42\n"
       "authentication_id  0x000000000000002a\n"},
      {TokenFile::kSource, "name  tokenfs\nsource_id  0x0000000000000001\n"},
      {TokenFile::kOrigin, "origin  0x00000000000003e7\n"},
      {TokenFile::kStats,
       "token_id  0x000000000001002a\n"
       "authentication_id  0x000000000000002a\n"
       "modified_id  0x000000000001002b\n"
       "parent_token_id  0x0000000000000000\n"
       "type  Primary\n"
       "impersonation_level  Anonymous\n"
       "expiration  never\n"
       "created  2024-05-06T07:08:09.000000010Z\n"
       "group_count  4\n"
       "privilege_count  3\n"
       "restricted_sid_count  2\n"
       "capability_count  2\n"},
      {TokenFile::kType, "type  Primary\n"},
      {TokenFile::kLevel, "impersonation_level  Anonymous\n"},
      {TokenFile::kElevation, "elevation_type  Limited\n"},
      {TokenFile::kSession, "session_id  3\n"},
      {TokenFile::kRestricted,
       "restricted  yes\n"
       "write_restricted  no\n"
       "user_deny_only  no\n"
       "sid  S-1-5-12  Restricted\n"
       "sid  S-1-22-2-1000  Unix Group\\alice\n"},
      {TokenFile::kDefaultDacl, "D:(A;;GA;;;SY)\n"},
      {TokenFile::kSecurity, "O:SYG:SYD:(A;;GA;;;SY)\n"},
  };
  return files;
}

TEST_CASE("each token file renders its documented lines") {
  const test::FakeAccounts accounts = Accounts();
  const Token token = MakeAlice();
  for (const auto& [file, expected] : AliceFiles()) {
    INFO(TokenFileName(file));
    CHECK(RenderTokenFile(token, file, WithAccounts(&accounts)) == expected);
  }
}

TEST_CASE("the all file joins every file as sections in the documented order") {
  const test::FakeAccounts accounts = Accounts();
  const char* const kOrder[] = {
      "user",    "owner",      "group",        "groups",  "privs",
      "caps",    "claims",     "integrity",    "logon",   "source",
      "origin",  "stats",      "type",         "level",   "elevation",
      "session", "restricted", "default-dacl", "security"};
  std::string expected;
  for (const char* name : kOrder) {
    auto file = ParseTokenFileName(name);
    REQUIRE(file);
    if (!expected.empty()) expected += "\n";
    expected += "[" + std::string(name) + "]\n" + AliceFiles().at(*file);
  }
  CHECK(RenderTokenFile(MakeAlice(), TokenFile::kAll,
                        WithAccounts(&accounts)) == expected);
}

TEST_CASE("text files show SIDs raw then the label whatever the SID style") {
  const test::FakeAccounts accounts = Accounts();
  RenderOptions options = WithAccounts(&accounts);
  options.sid_style = SidStyle::kRaw;
  CHECK(RenderTokenFile(MakeAlice(), TokenFile::kUser, options) ==
        "S-1-22-1-1000  Unix User\\alice\n");
  options.sid_style = SidStyle::kLabelOnly;
  CHECK(RenderTokenFile(MakeAlice(), TokenFile::kUser, options) ==
        "S-1-22-1-1000  Unix User\\alice\n");
}

TEST_CASE("a SID without a label ends the line after the SID") {
  Token token = MakeBare();
  token.user = ParseSidOrDie("S-1-5-21-1-2-3-500");
  CHECK(RenderTokenFile(token, TokenFile::kUser, {}) == "S-1-5-21-1-2-3-500\n");
}

TEST_CASE("Unix accounts without a lookup are labelled by number") {
  CHECK(RenderTokenFile(MakeAlice(), TokenFile::kUser, {}) ==
        "S-1-22-1-1000  Unix User\\1000\n");
}

TEST_CASE("control characters in account names cannot break a line") {
  const test::FakeAccounts accounts = Accounts();
  Token token = MakeBare();
  token.user = well_known::UnixUser(666);
  CHECK(RenderTokenFile(token, TokenFile::kUser, WithAccounts(&accounts)) ==
        "S-1-22-1-666  Unix User\\ev?il\n");
}

TEST_CASE("list files of a token with empty lists are empty") {
  const Token token = MakeBare();
  CHECK(RenderTokenFile(token, TokenFile::kGroups, {}).empty());
  CHECK(RenderTokenFile(token, TokenFile::kPrivs, {}).empty());
  CHECK(RenderTokenFile(token, TokenFile::kCaps, {}).empty());
  CHECK(RenderTokenFile(token, TokenFile::kClaims, {}).empty());
}

TEST_CASE("an unrestricted token shows three flags and no SID lines") {
  CHECK(RenderTokenFile(MakeBare(), TokenFile::kRestricted, {}) ==
        "restricted  no\nwrite_restricted  no\nuser_deny_only  no\n");
}

TEST_CASE("a write-restricted token with an empty restricting list says so") {
  Token token = MakeBare();
  token.restricted_sids = std::vector<SidAndAttributes>{};
  token.write_restricted = true;
  token.user_deny_only = true;
  CHECK(RenderTokenFile(token, TokenFile::kRestricted, {}) ==
        "restricted  yes\nwrite_restricted  yes\nuser_deny_only  yes\n");
}

TEST_CASE("a token without a default DACL shows none") {
  CHECK(RenderTokenFile(MakeBare(), TokenFile::kDefaultDacl, {}) == "none\n");
}

TEST_CASE("integrity levels print a name the integrity write accepts") {
  struct Row {
    uint32_t rid;
    uint32_t policy;
    const char* expected;
  };
  const Row rows[] = {
      {kIntegrityUntrusted, 0, "Untrusted  S-1-16-0\npolicy  none\n"},
      {kIntegrityMediumPlus, 1,
       "Medium-Plus  S-1-16-8448\npolicy  no-write-up\n"},
      {kIntegritySystem, 3,
       "System  S-1-16-16384\npolicy  no-write-up,new-process-min\n"},
      {8208, 2, "8208  S-1-16-8208\npolicy  new-process-min\n"},
      {kIntegrityHigh, 5, "High  S-1-16-12288\npolicy  no-write-up,0x4\n"},
  };
  for (const auto& row : rows) {
    Token token = MakeBare();
    token.integrity_rid = row.rid;
    token.mandatory_policy = row.policy;
    CHECK(RenderTokenFile(token, TokenFile::kIntegrity, {}) == row.expected);
  }
}

TEST_CASE("source names escape bytes that would split fields") {
  Token token = MakeBare();
  token.source = TokenSource::Make("", Luid{0});
  CHECK(RenderTokenFile(token, TokenFile::kSource, {}) ==
        "name  -\nsource_id  0x0000000000000000\n");
  token.source = TokenSource::Make("a b\\c", Luid{0x10});
  CHECK(RenderTokenFile(token, TokenFile::kSource, {}) ==
        "name  a\\x20b\\x5cc\nsource_id  0x0000000000000010\n");
}

TEST_CASE("claim names with spaces are quoted like string values") {
  Token token = MakeBare();
  token.user_claims = {Claim{"cost center",
                             ClaimType::kInt64,
                             0x40 | claim_flags::kMandatory,
                             {int64_t{-5}, int64_t{7}}}};
  CHECK(RenderTokenFile(token, TokenFile::kClaims, {}) ==
        "user  \"cost center\"  int64  mandatory,0x40  -5, 7\n");
}

TEST_CASE("an impersonation token shows its type and level") {
  Token token = MakeBare();
  token.type = TokenType::kImpersonation;
  token.impersonation_level = ImpersonationLevel::kDelegation;
  CHECK(RenderTokenFile(token, TokenFile::kType, {}) ==
        "type  Impersonation\n");
  CHECK(RenderTokenFile(token, TokenFile::kLevel, {}) ==
        "impersonation_level  Delegation\n");
}

TEST_CASE("token file names parse exactly and unknown names are not found") {
  for (const auto& info : TokenFileTable()) {
    auto parsed = ParseTokenFileName(info.name);
    REQUIRE(parsed);
    CHECK(*parsed == info.file);
    CHECK(TokenFileName(info.file) == info.name);
  }
  CHECK(TokenFileTable().size() == 20);
  for (const char* name : {"Privs", "query", "", "default_dacl", "all "}) {
    auto parsed = ParseTokenFileName(name);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kNotFound);
    CHECK(parsed.error().message ==
          "no token file '" + std::string(name) + "'");
  }
}

TEST_CASE("timestamps print as ISO-8601 UTC with nanoseconds") {
  CHECK(FormatTimestamp(0) == "1970-01-01T00:00:00.000000000Z");
  // 2000-01-01 is 946684800 s; plus 59 days is the leap day.
  CHECK(FormatTimestamp(951782400ull * 1000000000ull + 999999999ull) ==
        "2000-02-29T00:00:00.999999999Z");
  CHECK(FormatTimestamp(kCreatedNs) == "2024-05-06T07:08:09.000000010Z");
}

TEST_CASE("LUIDs and masks print as sixteen hex digits") {
  CHECK(FormatLuid(Luid{0x3e7}) == "0x00000000000003e7");
  CHECK(FormatMask64(0xC000000FFFFFFFFCull) == "0xc000000ffffffffc");
}

TEST_CASE("SID styles choose between label and raw forms") {
  RenderOptions options;
  const Sid everyone = well_known::Everyone();
  const Sid unknown = ParseSidOrDie("S-1-5-21-9-9-9-1001");
  CHECK(FormatStyledSid(everyone, options) == "Everyone (S-1-1-0)");
  CHECK(FormatStyledSid(unknown, options) == "S-1-5-21-9-9-9-1001");
  options.sid_style = SidStyle::kRaw;
  CHECK(FormatStyledSid(everyone, options) == "S-1-1-0");
  options.sid_style = SidStyle::kLabelOnly;
  CHECK(FormatStyledSid(everyone, options) == "Everyone");
  CHECK(FormatStyledSid(unknown, options) == "S-1-5-21-9-9-9-1001");
}

TEST_CASE("capability SIDs are labelled by name when the name is known") {
  CapabilityNames names;
  RenderOptions options;
  options.capability_names = &names;
  CHECK(RenderSidLabel(CapabilitySid("tokeninfo"), options) ==
        std::optional<std::string>("Capability\\tokeninfo"));
  CHECK_FALSE(RenderSidLabel(CapabilitySid("tokeninfo"), RenderOptions{}));
  Token token = MakeBare();
  token.capabilities = {Capability{"", CapabilitySid("tokeninfo")}};
  CHECK(RenderTokenFile(token, TokenFile::kCaps, options) ==
        "tokeninfo  " + CapabilitySid("tokeninfo").ToString() + "\n");
}

TEST_CASE(
    "a SID object carries the label only when known and a styled display") {
  RenderOptions options;
  CHECK(SidJson(well_known::LocalSystem(), options) ==
        json{{"sid", "S-1-5-18"},
             {"label", "Local System"},
             {"display", "Local System (S-1-5-18)"}});
  options.sid_style = SidStyle::kRaw;
  CHECK(
      SidJson(ParseSidOrDie("S-1-5-21-9-9-9-1001"), options) ==
      json{{"sid", "S-1-5-21-9-9-9-1001"}, {"display", "S-1-5-21-9-9-9-1001"}});
}

TEST_CASE("the privileges class JSON lists present privileges and raw masks") {
  // present = bits 19, 23, 40 = 0x0000010000880000; the other masks bit 23.
  const json expected = {
      {"class", "privileges"},
      {"class_id", 3},
      {"abi_name", "KACS_TOKEN_CLASS_PRIVILEGES"},
      {"bytes_len", 32},
      {"bytes_hex",
       "0000880000010000"
       "0000800000000000"
       "0000800000000000"
       "0000800000000000"},
      {"decoded",
       {{"privileges",
         json::array({{{"bit", 19},
                       {"name", "SeShutdown"},
                       {"full_name", "SeShutdownPrivilege"},
                       {"description", "Shut down the system"},
                       {"enabled", false},
                       {"enabled_by_default", false},
                       {"used", false}},
                      {{"bit", 23},
                       {"name", "SeChangeNotify"},
                       {"full_name", "SeChangeNotifyPrivilege"},
                       {"description", "Bypass traverse checking"},
                       {"enabled", true},
                       {"enabled_by_default", true},
                       {"used", true}},
                      {{"bit", 40},
                       {"name", nullptr},
                       {"full_name", nullptr},
                       {"description", nullptr},
                       {"enabled", false},
                       {"enabled_by_default", false},
                       {"used", false}}})},
        {"raw",
         {{"present", "0x0000010000880000"},
          {"enabled", "0x0000000000800000"},
          {"enabled_by_default", "0x0000000000800000"},
          {"used", "0x0000000000800000"}}}}},
  };
  CHECK(QueryClassJson(MakeAlice(), QueryClass::kPrivileges, {}) == expected);
}

TEST_CASE("the groups class JSON gives index, SID, label and attributes") {
  const test::FakeAccounts accounts = Accounts();
  const json doc =
      QueryClassJson(MakeAlice(), QueryClass::kGroups, WithAccounts(&accounts));
  REQUIRE(doc["decoded"]["groups"].size() == 4);
  CHECK(doc["decoded"]["groups"][2] ==
        json{{"index", 2},
             {"sid", "S-1-5-32-544"},
             {"label", "Administrators"},
             {"display", "Administrators (S-1-5-32-544)"},
             {"attributes_raw", 16},
             {"attributes", {"disabled", "deny-only"}}});
  CHECK(doc["decoded"]["groups"][0]["label"] == "Unix Group\\alice");
  // count 4, then 16 + 12 + 16 + 20 bytes of SIDs and 4 + 4 per entry.
  CHECK(doc["bytes_len"] ==
        4 + (4 + 16 + 4) + (4 + 12 + 4) + (4 + 16 + 4) + (4 + 20 + 4));
}

TEST_CASE("single-SID classes decode to a SID object in the requested style") {
  const test::FakeAccounts accounts = Accounts();
  RenderOptions options = WithAccounts(&accounts);
  options.sid_style = SidStyle::kRaw;
  const Token token = MakeAlice();
  CHECK(QueryClassJson(token, QueryClass::kUser, options)["decoded"] ==
        json{{"sid", "S-1-22-1-1000"},
             {"label", "Unix User\\alice"},
             {"display", "S-1-22-1-1000"}});
  CHECK(
      QueryClassJson(token, QueryClass::kIntegrityLevel, options)["decoded"] ==
      json{{"sid", "S-1-16-8192"},
           {"label", "Medium Mandatory Level"},
           {"display", "S-1-16-8192"},
           {"rid", 8192},
           {"level", "Medium"}});
  CHECK(QueryClassJson(token, QueryClass::kPrimaryGroup, options)["decoded"] ==
        json{{"sid", "S-1-22-2-1000"},
             {"label", "Unix Group\\alice"},
             {"display", "S-1-22-2-1000"},
             {"index", 1}});
  CHECK(QueryClassJson(token, QueryClass::kAppContainerSid, options)["decoded"]
            .is_null());
  CHECK(QueryClassJson(token, QueryClass::kAppContainerSid,
                       options)["bytes_len"] == 0);
}

TEST_CASE("the statistics class JSON names every field") {
  const json doc = QueryClassJson(MakeAlice(), QueryClass::kStatistics, {});
  CHECK(doc["decoded"] == json{{"token_id", "0x000000000001002a"},
                               {"authentication_id", "0x000000000000002a"},
                               {"modified_id", "0x000000000001002b"},
                               {"type", {{"value", 1}, {"name", "Primary"}}},
                               {"expiration_ns", 0},
                               {"expiration", nullptr}});
  CHECK(doc["bytes_len"] == 40);
}

TEST_CASE("enumerated classes decode to value and name") {
  const Token token = MakeAlice();
  CHECK(QueryClassJson(token, QueryClass::kElevationType, {})["decoded"] ==
        json{{"value", 3}, {"name", "Limited"}});
  CHECK(QueryClassJson(token, QueryClass::kLogonType, {})["decoded"] ==
        json{{"value", 2}, {"name", "Interactive"}});
  CHECK(QueryClassJson(token, QueryClass::kImpersonationLevel, {})["decoded"] ==
        json{{"value", 0}, {"name", "Anonymous"}});
  CHECK(QueryClassJson(token, QueryClass::kMandatoryPolicy, {})["decoded"] ==
        json{{"value", 1}, {"flags", {"no-write-up"}}});
  CHECK(QueryClassJson(token, QueryClass::kSessionId, {})["decoded"] ==
        json{{"value", 3}});
}

TEST_CASE("the source, origin, DACL and gid classes decode to named fields") {
  Token token = MakeAlice();
  token.projected_supplementary_gids = {27, 1000};
  CHECK(QueryClassJson(token, QueryClass::kSource, {})["decoded"] ==
        json{{"name", "tokenfs"},
             {"name_bytes", {116, 111, 107, 101, 110, 102, 115, 0}},
             {"source_id", "0x0000000000000001"}});
  CHECK(QueryClassJson(token, QueryClass::kOrigin, {})["decoded"] ==
        json{{"origin", "0x00000000000003e7"}});
  CHECK(QueryClassJson(token, QueryClass::kDefaultDacl, {})["decoded"] ==
        json{{"present", true}, {"sddl", "D:(A;;GA;;;SY)"}, {"ace_count", 1}});
  CHECK(QueryClassJson(MakeBare(), QueryClass::kDefaultDacl, {})["decoded"] ==
        json{{"present", false}, {"sddl", nullptr}, {"ace_count", 0}});
  CHECK(QueryClassJson(token, QueryClass::kProjectedSupplementaryGids,
                       {})["decoded"] == json{{"gids", {27, 1000}}});
}

TEST_CASE("the restricted and capability classes decode their lists") {
  const json restricted =
      QueryClassJson(MakeAlice(), QueryClass::kRestrictedSids, {})["decoded"];
  CHECK(restricted["restricted"] == true);
  REQUIRE(restricted["restricted_sids"].size() == 2);
  CHECK(restricted["restricted_sids"][0]["sid"] == "S-1-5-12");
  CHECK(restricted["restricted_sids"][0]["attributes"] ==
        json{"mandatory", "default", "enabled"});
  CHECK(
      QueryClassJson(MakeBare(), QueryClass::kRestrictedSids, {})["decoded"] ==
      json{{"restricted", false}, {"restricted_sids", json::array()}});

  const json caps =
      QueryClassJson(MakeAlice(), QueryClass::kCapabilities, {})["decoded"];
  REQUIRE(caps["capabilities"].size() == 2);
  CHECK(caps["capabilities"][0]["name"] == "tokeninfo");
  CHECK(caps["capabilities"][0]["attributes_raw"] == 4);
  CHECK(caps["capabilities"][1]["name"].is_null());
}

TEST_CASE("claim classes decode typed values") {
  const json user =
      QueryClassJson(MakeAlice(), QueryClass::kUserClaims, {})["decoded"];
  CHECK(user == json{{"claims",
                      {{{"name", "department"},
                        {"type", "string"},
                        {"type_raw", 3},
                        {"flags_raw", 2},
                        {"flags", {"case-sensitive"}},
                        {"values", {"Sales", "R&D"}}}}}});
  Token token = MakeBare();
  token.device_claims = {
      Claim{"blob",
            ClaimType::kOctetString,
            0,
            {std::vector<uint8_t>{0xde, 0xad}}},
      Claim{"owner", ClaimType::kSid, 0, {well_known::LocalSystem()}}};
  const json device =
      QueryClassJson(token, QueryClass::kDeviceClaims, {})["decoded"];
  CHECK(device["claims"][0]["values"] == json{"dead"});
  CHECK(device["claims"][1]["values"][0]["sid"] == "S-1-5-18");
}

TEST_CASE("the all-classes document holds every class and the tokenfs extras") {
  const test::FakeAccounts accounts = Accounts();
  const RenderOptions options = WithAccounts(&accounts);
  const Token token = MakeAlice();
  const json doc = AllClassesJson(token, options);
  REQUIRE(doc["classes"].size() == 24);
  for (const auto& info : QueryClassTable()) {
    INFO(info.name);
    CHECK(doc["classes"][std::string(info.name)] ==
          QueryClassJson(token, info.id, options));
  }
  const json& extras = doc["tokenfs"];
  CHECK(extras["restricted"] == true);
  CHECK(extras["write_restricted"] == false);
  CHECK(extras["user_deny_only"] == false);
  CHECK(extras["security_sddl"] == "O:SYG:SYD:(A;;GA;;;SY)");
  CHECK(extras["mandatory_policy"] == json{"no-write-up"});
  CHECK(extras["created"] == "2024-05-06T07:08:09.000000010Z");
  CHECK(extras["created_ns"] == kCreatedNs);
  CHECK(extras["parent_token_id"] == "0x0000000000000000");
  CHECK(extras["projected_uid"] == 1000);
  CHECK(extras["capabilities"] ==
        json{{{"sid", "S-1-15-3-1024-1-2-3-4-5-6-7-8"}, {"name", "tokeninfo"}},
             {{"sid", "S-1-15-3-1"}, {"name", nullptr}}});
  CHECK(extras["restricted_device_groups"].is_null());
}

TEST_CASE(
    "a class that cannot be encoded reports the error beside decoded data") {
  Token token = MakeAlice();
  token.owner_index = 7;
  const json doc = QueryClassJson(token, QueryClass::kOwner, {});
  CHECK(doc["bytes_len"] == 0);
  CHECK(doc["bytes_hex"] == "");
  CHECK(doc["error"].get<std::string>().find("owner index 7") !=
        std::string::npos);
  CHECK(RenderTokenFile(token, TokenFile::kOwner, {}) == "-\n");
}

}  // namespace
}  // namespace tokenfs
