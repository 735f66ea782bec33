#include "core/token_record.h"

#include <catch2/catch.hpp>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/capability.h"
#include "core/claims.h"
#include "core/minting_policy.h"
#include "core/sddl.h"
#include "core/well_known_sids.h"
#include "tests/support/catch_support.h"
#include "tests/support/test_support.h"

// Expected records are written by hand from the format documented in
// core/token_record.h: the ACL hex is test::kAllowSystemAclBytes (assembled
// by hand from MS-DTYP 2.4.5 and 2.4.4.2), the capability SID of "tokeninfo"
// is the one tests/core/capability_test.cc computed independently with
// Python, 0xC0000007 = 3221225479 and 0x8004 = 32772.

namespace tokenfs {
namespace {

using nlohmann::ordered_json;

constexpr auto& S = test::ParseSidOrDie;
constexpr uint64_t kMax64 = std::numeric_limits<uint64_t>::max();

Acl AclOf(const std::string& sddl_dacl) {
  auto dacl = ParseSddlDacl(sddl_dacl);
  INFO(sddl_dacl);
  REQUIRE(dacl);
  REQUIRE(dacl->has_value());
  return **dacl;
}

SecurityDescriptor SdOf(const std::string& sddl) {
  auto sd = ParseSddl(sddl);
  INFO(sddl);
  REQUIRE(sd);
  return *sd;
}

// Decodes `text`, failing the test on an error.
Token Decode(const std::string& text) {
  auto token = DecodeTokenRecord(text);
  INFO(text);
  if (!token) FAIL(token.error().message);
  return *token;
}

// The record of `token` decodes to `token`, and encoding that gives the same
// text (a record has one spelling).
void CheckRoundTrip(const Token& token) {
  REQUIRE(ValidateToken(token));
  const std::string text = EncodeTokenRecord(token);
  INFO(text);
  CHECK(text.find('\n') == std::string::npos);
  const Token decoded = Decode(text);
  CHECK(decoded == token);
  CHECK(EncodeTokenRecord(decoded) == text);
}

// ---------------------------------------------------------------------------
// Tokens.

MintedIdentity MintAlice() {
  LuidAllocator ids{0x10000};
  const test::FixedClock clock{1714979289000000010ull};
  const test::FakeAccounts accounts{
      {{1000, "alice"}}, {{27, "sudo"}, {100, "users"}, {1000, "alice"}}};
  LinuxCredentials alice;
  alice.real_uid = alice.effective_uid = alice.saved_uid = alice.fs_uid = 1000;
  alice.real_gid = alice.effective_gid = alice.saved_gid = alice.fs_gid = 1000;
  alice.supplementary_gids = {27, 100, 1000};
  alice.has_terminal = true;
  alice.audit_session_id = 3;
  auto minted =
      MintingPolicy::Default().Mint(alice, MintContext{ids, clock, &accounts});
  REQUIRE(minted);
  return std::move(*minted);
}

Token MintRoot() {
  LuidAllocator ids{0x20000};
  const test::FixedClock clock{1};
  LinuxCredentials root;
  root.cap_permitted = root.cap_effective = root.cap_bounding =
      linux_capability::kAllMask;
  auto minted =
      MintingPolicy::Default().Mint(root, MintContext{ids, clock, nullptr});
  REQUIRE(minted);
  return minted->token;
}

// The token of the expected record below: small, but with every kind of
// value (a restricted token with no restricting SID, a 64-bit value at its
// maximum, the source name's NUL, an ACL in hex).
Token GoldenToken() {
  Token token;
  token.user = S("S-1-22-1-1000");
  token.groups = {{S("S-1-22-2-1000"), test::kEnabledGroup},
                  {well_known::LogonSid(0x3e7),
                   group_attributes::kLogonId | test::kEnabledGroup}};
  token.restricted_sids = std::vector<SidAndAttributes>{};
  token.type = TokenType::kImpersonation;
  token.impersonation_level = ImpersonationLevel::kImpersonation;
  token.privileges.present = privilege::Bit(privilege::kBindPrivilegedPort) |
                             privilege::Bit(privilege::kChangeNotify);
  token.privileges.enabled = privilege::Bit(privilege::kChangeNotify);
  token.privileges.enabled_by_default =
      privilege::Bit(privilege::kChangeNotify);
  token.elevation_type = ElevationType::kLimited;
  token.primary_group_index = 1;
  auto acl = Acl::FromBinary(test::kAllowSystemAclBytes);
  REQUIRE(acl);
  token.default_dacl = *acl;
  token.token_id = Luid{0x10000};
  token.auth_id = Luid{0x3e7};
  token.modified_id = Luid{0x10001};
  token.parent_token_id = Luid{0xfffe};
  token.source = TokenSource::Make("tokenfs", Luid{1});
  token.created_ns = 1714979289000000010ull;
  token.expiration_ns = kMax64;
  token.origin = Luid{0x3e4};
  token.interactive_session_id = 1;
  token.logon_type = LogonType::kInteractive;
  token.projected_uid = 1000;
  token.projected_gid = 1001;
  token.projected_supplementary_gids = {1000, 27};
  token.capabilities = {Capability{"tokeninfo", CapabilitySid("tokeninfo")}};
  token.security.owner = token.user;
  token.security.SetDacl(*acl);
  return token;
}

const std::string kGoldenRecord =
    R"({"v":1,"user":"S-1-22-1-1000","user_deny_only":false,)"
    R"("groups":[{"sid":"S-1-22-2-1000","attributes":7},)"
    R"({"sid":"S-1-5-5-0-999","attributes":3221225479}],)"
    R"("restricted_sids":[],"write_restricted":false,"type":2,)"
    R"("impersonation_level":2,"integrity_rid":8192,"mandatory_policy":1,)"
    R"("privileges":{"present":"0x8000000000800000","enabled":"0x800000",)"
    R"("enabled_by_default":"0x800000","used":"0x0"},"elevation_type":3,)"
    R"("owner_index":0,"primary_group_index":1,)"
    R"("default_dacl":"02001c00010000000000140000000010010100000000000512000000",)"
    R"("token_id":"0x10000","auth_id":"0x3e7","modified_id":"0x10001",)"
    R"("parent_token_id":"0xfffe",)"
    R"("source":{"name":"746f6b656e667300","id":"0x1"},)"
    R"("created_ns":"1714979289000000010",)"
    R"("expiration_ns":"18446744073709551615","origin":"0x3e4",)"
    R"("interactive_session_id":1,"logon_type":2,"user_claims":"",)"
    R"("device_claims":"","device_groups":null,)"
    R"("restricted_device_groups":null,"confinement_sid":null,)"
    R"("isolation_boundary":false,"confinement_exempt":false,)"
    R"("audit_policy":0,"projected_uid":1000,"projected_gid":1001,)"
    R"("projected_supplementary_gids":[1000,27],)"
    R"("capabilities":[{"name":"tokeninfo","sid":"S-1-15-3-1024-2357454845-)"
    R"(810818666-733784065-248858355-2413091408-1438984108-1525821559-)"
    R"(702439586"}],)"
    R"("security":{"control":32772,"owner":"S-1-22-1-1000","group":null,)"
    R"("dacl":"02001c00010000000000140000000010010100000000000512000000",)"
    R"("sacl":null}})";

// Every field away from its default, every optional present, values at the
// edges of their ranges.
Token RichToken() {
  Token token;
  token.user = S("S-1-5-21-1004336348-1177238915-682003330-1001");
  token.user_deny_only = true;
  token.groups = {
      {well_known::Everyone(), test::kEnabledGroup},
      {well_known::Administrators(),
       group_attributes::kOwner | group_attributes::kUseForDenyOnly},
      {S("S-1-22-2-4294967295"), group_attributes::kResource |
                                     group_attributes::kIntegrity |
                                     group_attributes::kIntegrityEnabled},
      {well_known::LogonSid(0xffffffffffffffffull), group_attributes::kLogonId},
      // Authorities past 32 bits print in hex; no sub-authority at all.
      {S("S-1-0xFFFFFFFFFFFF-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15"), 0},
      {S("S-1-5"), 0xffffffffu & ~group_attributes::kLogonId},
  };
  token.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::Everyone(), 0x7}, {well_known::Restricted(), 0}};
  token.write_restricted = true;
  token.type = TokenType::kImpersonation;
  token.impersonation_level = ImpersonationLevel::kDelegation;
  token.integrity_rid = 0xffffffffu;
  token.mandatory_policy = mandatory_policy::kValidMask;
  token.privileges.present = privilege::kCatalogMask;
  token.privileges.enabled = privilege::kCatalogMask;
  token.privileges.enabled_by_default = privilege::Bit(privilege::kDebug);
  token.privileges.used = kMax64;
  token.elevation_type = ElevationType::kFull;
  token.owner_index = 2;
  token.primary_group_index = 6;
  // An object ACE (revision 4), a callback ACE with application data and an
  // ACE type tokenfs does not model, kept as raw bytes.
  Acl dacl = AclOf(
      "D:PAI(OA;CIIO;RPWP;bf967aba-0de6-11d0-a285-00aa003049e2;"
      "bf967a9c-0de6-11d0-a285-00aa003049e2;BA)(D;;GA;;;AN)");
  dacl.aces.push_back(Ace{.type = AceType::kAccessAllowedCallback,
                          .flags = ace_flags::kInherited,
                          .mask = AccessMask(0x1f01ff),
                          .sid = well_known::Everyone(),
                          .application_data = {'a', 'r', 't', 'x', 0, 0}});
  dacl.aces.push_back(Ace{.type = AceType::kAccessAllowedCompound,
                          .flags = 0xff,
                          .raw_body = {1, 2, 3, 4, 0, 0, 0xff, 0x7f}});
  token.default_dacl = dacl;
  token.token_id = Luid{kMax64};
  token.auth_id = Luid{kMax64 - 1};
  token.modified_id = Luid{0x8000000000000000ull};
  token.parent_token_id = Luid{0x0123456789abcdefull};
  token.source.name = {'\0', 'a', '\0', '\xff', 'b', '\x80', '\0', '\x01'};
  token.source.id = Luid{kMax64};
  token.created_ns = kMax64;
  token.expiration_ns = kMax64 - 1;
  token.origin = Luid{0x3e7};
  token.interactive_session_id = 0xffffffffu;
  token.logon_type = LogonType::kNewCredentials;
  token.user_claims = {
      Claim{"int",
            ClaimType::kInt64,
            claim_flags::kMandatory,
            {int64_t{-1}, std::numeric_limits<int64_t>::min(),
             std::numeric_limits<int64_t>::max()}},
      Claim{"uint", ClaimType::kUint64, 0, {uint64_t{0}, kMax64}},
      Claim{
          "dépt",
          ClaimType::kString,
          claim_flags::kCaseSensitive,
          {std::string("R&D \"quoted\""), std::string("日本"), std::string()}},
      Claim{"sid", ClaimType::kSid, 0, {well_known::LocalSystem()}},
      Claim{"flag", ClaimType::kBoolean, claim_flags::kDisabled, {true, false}},
      Claim{"blob",
            ClaimType::kOctetString,
            claim_flags::kAll,
            {std::vector<uint8_t>{0, 0xff, 0}, std::vector<uint8_t>{}}},
      Claim{"none", ClaimType::kString, 0, {}},
  };
  token.device_claims = {Claim{"device", ClaimType::kUint64, 0, {uint64_t{7}}}};
  token.device_groups = std::vector<SidAndAttributes>{
      {S("S-1-5-21-1-2-3-515"), test::kEnabledGroup}};
  token.restricted_device_groups = std::vector<SidAndAttributes>{};
  token.confinement_sid = S("S-1-15-2-1-2-3-4-5-6-7");
  token.isolation_boundary = true;
  token.confinement_exempt = true;
  token.audit_policy = audit_policy::kValidMask;
  token.projected_uid = 0xffffffffu;
  token.projected_gid = 0;
  token.projected_supplementary_gids = {0, 0xffffffffu, 0, 65534};
  token.capabilities = FullCapabilitySet();
  token.capabilities.push_back(
      Capability{"read@settings:email", CapabilitySid("read@settings:email")});
  token.capabilities.push_back(
      Capability{"", S("S-1-15-3-1024-1-2-3-4-5-6-7-8")});
  token.security = SdOf(
      "O:BAG:SYD:PAI(A;;GA;;;SY)(OD;;CR;00299570-246d-11d0-a768-00aa006e0529;;"
      "WD)S:PAI(ML;;NWNR;;;HI)(AU;SAFA;GA;;;WD)");
  return token;
}

TEST_CASE("token records carry every field exactly") {
  SECTION("a default-constructed token") { CheckRoundTrip(Token{}); }
  SECTION("the minted token of a user and its linked full token") {
    const MintedIdentity alice = MintAlice();
    REQUIRE(alice.linked_full);
    CheckRoundTrip(alice.token);
    CheckRoundTrip(*alice.linked_full);
  }
  SECTION("the minted token of root") { CheckRoundTrip(MintRoot()); }
  SECTION("a token with every field set") { CheckRoundTrip(RichToken()); }
  SECTION("restricted with no restricting SID differs from unrestricted") {
    Token restricted = MintRoot();
    restricted.restricted_sids = std::vector<SidAndAttributes>{};
    CheckRoundTrip(restricted);
    Token unrestricted = restricted;
    unrestricted.restricted_sids.reset();
    CheckRoundTrip(unrestricted);
    CHECK(Decode(EncodeTokenRecord(restricted)).is_restricted());
    CHECK_FALSE(Decode(EncodeTokenRecord(unrestricted)).is_restricted());
  }
  SECTION("empty and absent optional lists and ACLs stay apart") {
    Token token = RichToken();
    token.device_groups = std::vector<SidAndAttributes>{};
    token.restricted_device_groups.reset();
    token.default_dacl = Acl{};
    CheckRoundTrip(token);
    token.default_dacl.reset();
    token.confinement_sid.reset();
    token.isolation_boundary = false;
    CheckRoundTrip(token);
  }
  SECTION("security descriptors keep their control word and NULL DACLs") {
    Token token = RichToken();
    token.security = SdOf("D:PNO_ACCESS_CONTROLS:NO_ACCESS_CONTROL");
    REQUIRE(token.security.has_null_dacl());
    CheckRoundTrip(token);
    // Without SE_SELF_RELATIVE, which the binary form would add.
    token.security = SecurityDescriptor{};
    token.security.control = sd_control::kDaclPresent;
    CheckRoundTrip(token);
    token.security.control = 0;
    token.security.owner = well_known::LocalSystem();
    CheckRoundTrip(token);
    // An ACL that arrived marked revision 4 without needing it.
    token.security.SetDacl(Acl{.revision = Acl::kRevisionDs, .aces = {}});
    CheckRoundTrip(token);
  }
  SECTION("a labelled token after a change of security") {
    Token token = MintAlice().token;
    LabelTokenSecurity(token);
    REQUIRE(token.security.MandatoryLabel());
    CheckRoundTrip(token);
  }
}

TEST_CASE("a token record has the documented form") {
  const Token token = GoldenToken();
  CHECK(EncodeTokenRecord(token) == kGoldenRecord);
  CHECK(Decode(kGoldenRecord) == token);
}

// Valid records that are not the encoder's text still decode, to the token
// whose record is the canonical text.
TEST_CASE("token records need not be the encoder's text") {
  const ordered_json golden = ordered_json::parse(kGoldenRecord);
  // The same record with its keys back to front.
  ordered_json reversed = ordered_json::object();
  std::vector<std::string> keys;
  for (const auto& item : golden.items()) keys.push_back(item.key());
  for (auto key = keys.rbegin(); key != keys.rend(); ++key) {
    reversed[*key] = golden[*key];
  }
  const std::vector<std::string> texts = {
      golden.dump(2),
      reversed.dump(),
      " \n" + kGoldenRecord + "\t\r\n",
  };
  for (const std::string& text : texts) {
    CHECK(EncodeTokenRecord(Decode(text)) == kGoldenRecord);
  }
}

// ---------------------------------------------------------------------------
// Invalid token records. Each case edits the golden record at a JSON
// pointer: `value` replaces (or adds) the value there, nullopt removes it.

struct Edit {
  std::string pointer;
  std::optional<ordered_json> value;
  std::string message;
};

std::string Edited(const std::string& record, const Edit& edit) {
  ordered_json json = ordered_json::parse(record);
  const ordered_json::json_pointer pointer(edit.pointer);
  if (edit.value) {
    json[pointer] = *edit.value;
  } else {
    json[pointer.parent_pointer()].erase(pointer.back());
  }
  return json.dump();
}

const std::string kDaclHex =
    "02001c00010000000000140000000010010100000000000512000000";

TEST_CASE("invalid token records fail with a message naming the field") {
  const std::vector<Edit> cases = {
      // Version, checked first.
      {"/v", std::nullopt,
       "token record: field 'v' is missing (the format version)"},
      {"/v", 2,
       "token record: field 'v': version 2 is not supported (this build "
       "reads version 1)"},
      {"/v", 0,
       "token record: field 'v': version 0 is not supported (this build "
       "reads version 1)"},
      {"/v", "1",
       "token record: field 'v': expected the format version, an unsigned "
       "number"},
      // Missing and extra fields.
      {"/user", std::nullopt, "token record: field 'user' is missing"},
      {"/security/sacl", std::nullopt,
       "token record: field 'security.sacl' is missing"},
      {"/privileges/used", std::nullopt,
       "token record: field 'privileges.used' is missing"},
      {"/groups/0/attributes", std::nullopt,
       "token record: field 'groups[0].attributes' is missing"},
      {"/frob", 1, "token record: unknown field 'frob'"},
      {"/security/frob", nullptr,
       "token record: unknown field 'security.frob'"},
      {"/source/nmae", "", "token record: unknown field 'source.nmae'"},
      {"/capabilities/0/flags", 0,
       "token record: unknown field 'capabilities[0].flags'"},
      // 32- and 16-bit numbers.
      {"/integrity_rid", -1,
       "token record: field 'integrity_rid': expected an unsigned 32-bit "
       "number"},
      {"/integrity_rid", 4294967296ull,
       "token record: field 'integrity_rid': expected an unsigned 32-bit "
       "number"},
      {"/integrity_rid", 8192.0,
       "token record: field 'integrity_rid': expected an unsigned 32-bit "
       "number"},
      {"/integrity_rid", "8192",
       "token record: field 'integrity_rid': expected an unsigned 32-bit "
       "number"},
      {"/groups/1/attributes", true,
       "token record: field 'groups[1].attributes': expected an unsigned "
       "32-bit number"},
      {"/projected_supplementary_gids/1", -27,
       "token record: field 'projected_supplementary_gids[1]': expected an "
       "unsigned 32-bit number"},
      {"/security/control", 65536,
       "token record: field 'security.control': expected an unsigned 16-bit "
       "number"},
      // Enums.
      {"/type", 3,
       "token record: field 'type': 3 is not a token type (1 or 2)"},
      {"/type", 0,
       "token record: field 'type': 0 is not a token type (1 or 2)"},
      {"/impersonation_level", 4,
       "token record: field 'impersonation_level': 4 is not an impersonation "
       "level (0 to 3)"},
      {"/elevation_type", 0,
       "token record: field 'elevation_type': 0 is not an elevation type (1 "
       "to 3)"},
      {"/logon_type", 6,
       "token record: field 'logon_type': 6 is not a logon type (2, 3, 4, 5, "
       "8 or 9)"},
      {"/logon_type", "interactive",
       "token record: field 'logon_type': expected an unsigned 32-bit number"},
      // Booleans.
      {"/user_deny_only", 0,
       "token record: field 'user_deny_only': expected true or false"},
      {"/confinement_exempt", nullptr,
       "token record: field 'confinement_exempt': expected true or false"},
      // 64-bit numbers.
      {"/privileges/used", "0x00",
       "token record: field 'privileges.used': '0x00' is not a 64-bit number "
       "as \"0x...\" (lower-case hex, no leading zeros)"},
      {"/token_id", "0x10000000000000000",
       "token record: field 'token_id': '0x10000000000000000' is not a 64-bit "
       "number as \"0x...\" (lower-case hex, no leading zeros)"},
      {"/token_id", "0xABC",
       "token record: field 'token_id': '0xABC' is not a 64-bit number as "
       "\"0x...\" (lower-case hex, no leading zeros)"},
      {"/token_id", "65536",
       "token record: field 'token_id': '65536' is not a 64-bit number as "
       "\"0x...\" (lower-case hex, no leading zeros)"},
      {"/source/id", "0x",
       "token record: field 'source.id': '0x' is not a 64-bit number as "
       "\"0x...\" (lower-case hex, no leading zeros)"},
      {"/auth_id", 999,
       "token record: field 'auth_id': expected a 64-bit number as a string "
       "\"0x...\" (lower-case hex, no leading zeros)"},
      {"/created_ns", "18446744073709551616",
       "token record: field 'created_ns': '18446744073709551616' is not a "
       "64-bit number in decimal (no leading zeros)"},
      {"/expiration_ns", "00",
       "token record: field 'expiration_ns': '00' is not a 64-bit number in "
       "decimal (no leading zeros)"},
      {"/expiration_ns", "0x0",
       "token record: field 'expiration_ns': '0x0' is not a 64-bit number in "
       "decimal (no leading zeros)"},
      {"/created_ns", 1714979289000000010ull,
       "token record: field 'created_ns': expected a 64-bit number as a "
       "decimal string (no leading zeros)"},
      // SIDs.
      {"/user", "s-1-22-1-1000",
       "token record: field 'user': 's-1-22-1-1000' is not canonical "
       "(S-1-22-1-1000)"},
      {"/groups/0/sid", "S-1-0x16-2-1000",
       "token record: field 'groups[0].sid': 'S-1-0x16-2-1000' is not "
       "canonical (S-1-22-2-1000)"},
      {"/security/owner", "SY",
       "token record: field 'security.owner': 'SY' is not a SID: "},
      {"/user", 5, "token record: field 'user': expected a SID string"},
      {"/user", nullptr, "token record: field 'user': expected a SID string"},
      // Lists.
      {"/groups", nullptr, "token record: field 'groups': expected an array"},
      {"/restricted_sids", ordered_json::object(),
       "token record: field 'restricted_sids': expected an array"},
      {"/groups/1", "S-1-1-0",
       "token record: field 'groups[1]': expected an object"},
      {"/privileges", ordered_json::array(),
       "token record: field 'privileges': expected an object"},
      {"/security", nullptr,
       "token record: field 'security': expected an object"},
      // Bytes.
      {"/source/name", "746f6b656e6673",
       "token record: field 'source.name': expected 8 bytes (16 hex digits), "
       "found 7"},
      {"/source/name", "746F6B656E667300",
       "token record: field 'source.name': expected a lower-case hex string"},
      {"/default_dacl", "02001c0",
       "token record: field 'default_dacl': expected a lower-case hex string"},
      {"/default_dacl", "0200",
       "token record: field 'default_dacl': ACL truncated: 2 bytes, need at "
       "least 8"},
      {"/default_dacl", kDaclHex + "00",
       "token record: field 'default_dacl': not the canonical binary form of "
       "its ACL"},
      {"/security/sacl", "0300080000000000",
       "token record: field 'security.sacl': ACL revision 3 (expected 2 or 4)"},
      {"/default_dacl", "unencodable: ACL exceeds 65535 bytes",
       "token record: field 'default_dacl': the value could not be recorded "
       "exactly (ACL exceeds 65535 bytes)"},
      {"/user_claims", "0",
       "token record: field 'user_claims': expected a lower-case hex string"},
      {"/user_claims", "00", "token record: field 'user_claims': "},
      {"/device_claims", ordered_json::array(),
       "token record: field 'device_claims': expected a lower-case hex string"},
      // Security descriptor invariant.
      {"/security/control", 32768,
       "token record: field 'security.dacl': an ACL while control lacks "
       "SE_DACL_PRESENT (0x4)"},
      {"/security/sacl", kDaclHex,
       "token record: field 'security.sacl': an ACL while control lacks "
       "SE_SACL_PRESENT (0x10)"},
      // Capabilities: the name must be that of the SID.
      {"/capabilities/0/name", "lpacCom",
       "token record: field 'capabilities[0].sid': "
       "S-1-15-3-1024-2357454845-810818666-733784065-248858355-2413091408-"
       "1438984108-1525821559-702439586 is not the SID of capability "
       "'lpacCom' (S-1-15-3-1024-2405443489-874036122-4286035555-1823921565-"
       "1746547431-2453885448-3625952902-991631256)"},
      {"/capabilities/0/name", "token info",
       "token record: field 'capabilities[0].name': capability 'token info': "},
      {"/capabilities/0/name", 1,
       "token record: field 'capabilities[0].name': expected a string"},
      // The token's own invariants (ValidateToken's messages).
      {"/owner_index", 5, "token record: owner index 5 is beyond the 2 groups"},
      {"/owner_index", 1,
       "token record: owner index 1 names a group without the owner "
       "attribute"},
      {"/write_restricted", true,
       "token record: write-restricted token must have user deny-only"},
      {"/privileges/enabled", "0x1",
       "token record: privileges: enabled bits outside present"},
      {"/type", 1,
       "token record: impersonation level: a primary token has level "
       "Anonymous"},
      {"/isolation_boundary", true,
       "token record: isolation boundary requires a confinement SID"},
      {"/mandatory_policy", 4, "token record: mandatory policy: unknown bits"},
      {"/audit_policy", 16, "token record: audit policy: unknown bits"},
      {"/groups/0/attributes", 3221225479ull,
       "token record: groups: more than one logon SID"},
  };
  for (const Edit& edit : cases) {
    const std::string text = Edited(kGoldenRecord, edit);
    INFO(text);
    auto token = DecodeTokenRecord(text);
    REQUIRE_FALSE(token);
    CHECK(token.error().code == ErrorCode::kInvalidArgument);
    if (edit.message.back() == ' ') {
      // Ends with a message of another module: only its start is ours.
      CHECK_THAT(token.error().message, Catch::StartsWith(edit.message));
    } else {
      CHECK(token.error().message == edit.message);
    }
  }
}

struct InvalidText {
  std::string text;
  std::string message;
  int column = 0;
};

TEST_CASE("token records that are not one JSON object fail") {
  std::string repeated_nested = kGoldenRecord;
  repeated_nested.replace(repeated_nested.find(R"("attributes":7)"), 14,
                          R"("sid":"S-1-1-0","attributes":7)");
  const std::vector<InvalidText> cases = {
      {"",
       "token record: JSON parse error at line 1, column 1: syntax error "
       "while parsing value - unexpected end of input; expected '[', '{', or "
       "a literal",
       1},
      {R"({"v":1)",
       "token record: JSON parse error at line 1, column 7: syntax error "
       "while parsing object - unexpected end of input; expected '}'",
       7},
      {kGoldenRecord + "{}",
       "token record: JSON parse error at line 1, column " +
           std::to_string(kGoldenRecord.size() + 1) +
           ": syntax error while parsing value - unexpected '{'; expected end "
           "of input",
       static_cast<int>(kGoldenRecord.size() + 1)},
      {"[]", "token record: expected a JSON object"},
      {"null", "token record: expected a JSON object"},
      {R"("{}")", "token record: expected a JSON object"},
      {R"({"v":1,"v":1})", "token record: field 'v' is repeated"},
      {repeated_nested, "token record: field 'groups[0].sid' is repeated"},
      {std::string(8, '[') + std::string(8, ']'),
       "token record: expected a JSON object"},
      {std::string(9, '[') + std::string(9, ']'),
       "token record: JSON nests deeper than 8 levels"},
      {R"({"v":1})", "token record: field 'user' is missing"},
      {"{\"v\":1,\"user\":\"S-1-5-18\xff\"}",
       "token record: JSON parse error at line 1, column 24: syntax error "
       "while parsing value - invalid string: ill-formed UTF-8 byte; last "
       "read: '\"S-1-5-18\xff'",
       24},
  };
  for (const InvalidText& test : cases) {
    INFO(test.text);
    auto token = DecodeTokenRecord(test.text);
    REQUIRE_FALSE(token);
    CHECK(token.error().code == ErrorCode::kInvalidArgument);
    CHECK(token.error().message == test.message);
    CHECK(token.error().column == test.column);
  }
}

TEST_CASE("token records over the size limit fail before parsing") {
  const std::string text(token_record::kMaxRecordBytes + 1, ' ');
  auto token = DecodeTokenRecord(text);
  REQUIRE_FALSE(token);
  CHECK(token.error().code == ErrorCode::kResourceExhausted);
  CHECK(token.error().message ==
        "token record: 16777217 bytes, more than the 16777216 a record may "
        "have");
}

// The encoder never fails: what it cannot carry exactly it marks, and the
// record then fails to decode instead of restoring another token.
TEST_CASE("a token that cannot be recorded exactly gives a record that fails") {
  SECTION("an ACL over 65535 bytes") {
    Token token = GoldenToken();
    Acl sacl;
    // 3300 ACEs of 20 bytes: 66008 bytes with the header.
    for (int i = 0; i < 3300; ++i) {
      sacl.aces.push_back(test::MakeAce(AceType::kSystemAudit, 1,
                                        well_known::LocalSystem(),
                                        ace_flags::kFailedAccess));
    }
    token.security.SetSacl(sacl);
    const std::string text = EncodeTokenRecord(token);
    CHECK_THAT(text, Catch::Contains(
                         R"("sacl":"unencodable: ACL exceeds 65535 bytes")"));
    auto decoded = DecodeTokenRecord(text);
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().message ==
          "token record: field 'security.sacl': the value could not be "
          "recorded exactly (ACL exceeds 65535 bytes)");
  }
  SECTION("an ACL whose revision is below what its ACEs need") {
    Token token = GoldenToken();
    Acl dacl = AclOf("D:(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)");
    dacl.revision = Acl::kRevision;
    token.default_dacl = dacl;
    auto decoded = DecodeTokenRecord(EncodeTokenRecord(token));
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().message ==
          "token record: field 'default_dacl': the value could not be "
          "recorded exactly (the ACL (its revision is below what its ACEs "
          "need, or not 2 or 4) does not survive its binary form)");
  }
  SECTION("an invalid claim") {
    Token token = GoldenToken();
    token.device_claims = {Claim{"", ClaimType::kInt64, 0, {}}};
    auto decoded = DecodeTokenRecord(EncodeTokenRecord(token));
    REQUIRE_FALSE(decoded);
    CHECK_THAT(decoded.error().message,
               Catch::StartsWith("token record: field 'device_claims': the "
                                 "value could not be recorded exactly ("));
  }
  SECTION("a capability name that is not UTF-8") {
    Token token = GoldenToken();
    token.capabilities.Mutable()[0].name = "tokeninfo\xff";
    auto decoded = DecodeTokenRecord(EncodeTokenRecord(token));
    REQUIRE_FALSE(decoded);
    CHECK_THAT(decoded.error().message,
               Catch::StartsWith(
                   "token record: field 'capabilities[0].name': capability "));
  }
  SECTION("a token that fails ValidateToken") {
    Token token = GoldenToken();
    token.privileges.enabled_by_default = 1;
    auto decoded = DecodeTokenRecord(EncodeTokenRecord(token));
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().message ==
          "token record: privileges: enabled-by-default bits outside present");
  }
}

// ---------------------------------------------------------------------------
// Credentials.

LinuxCredentials GoldenCredentials() {
  LinuxCredentials credentials;
  credentials.real_uid = 1000;
  credentials.effective_uid = 1001;
  credentials.saved_uid = 1002;
  credentials.fs_uid = 1003;
  credentials.real_gid = 2000;
  credentials.effective_gid = 2001;
  credentials.saved_gid = 2002;
  credentials.fs_gid = 2003;
  credentials.supplementary_gids = {100, 27};
  credentials.cap_permitted = 0x1;
  credentials.cap_effective = 0x2;
  credentials.cap_inheritable = 0x4;
  credentials.cap_bounding = linux_capability::kAllMask;
  credentials.cap_ambient = 0x8;
  credentials.no_new_privs = true;
  credentials.has_terminal = true;
  credentials.audit_session_id = 42;
  credentials.initial_user_namespace = false;
  return credentials;
}

const std::string kGoldenCredentials =
    R"({"v":1,"real_uid":1000,"effective_uid":1001,"saved_uid":1002,)"
    R"("fs_uid":1003,"real_gid":2000,"effective_gid":2001,"saved_gid":2002,)"
    R"("fs_gid":2003,"supplementary_gids":[100,27],"cap_permitted":"0x1",)"
    R"("cap_effective":"0x2","cap_inheritable":"0x4",)"
    R"("cap_bounding":"0x1ffffffffff","cap_ambient":"0x8",)"
    R"("no_new_privs":true,"has_terminal":true,"audit_session_id":42,)"
    R"("initial_user_namespace":false})";

void CheckRoundTrip(const LinuxCredentials& credentials) {
  const std::string text = EncodeCredentialsRecord(credentials);
  INFO(text);
  auto decoded = DecodeCredentialsRecord(text);
  if (!decoded) FAIL(decoded.error().message);
  CHECK(*decoded == credentials);
  CHECK(EncodeCredentialsRecord(*decoded) == text);
}

TEST_CASE("credentials records carry every field exactly") {
  CheckRoundTrip(LinuxCredentials{});
  CheckRoundTrip(GoldenCredentials());
  LinuxCredentials extreme;
  extreme.real_uid = extreme.effective_uid = extreme.saved_uid =
      extreme.fs_uid = 0xffffffffu;
  extreme.real_gid = extreme.effective_gid = extreme.saved_gid =
      extreme.fs_gid = 0xfffffffeu;
  extreme.supplementary_gids = std::vector<uint32_t>(65536, 0xffffffffu);
  extreme.cap_permitted = extreme.cap_effective = extreme.cap_inheritable =
      extreme.cap_bounding = extreme.cap_ambient = kMax64;
  extreme.audit_session_id = kAuditSessionUnset;
  CheckRoundTrip(extreme);
}

TEST_CASE("a credentials record has the documented form") {
  CHECK(EncodeCredentialsRecord(GoldenCredentials()) == kGoldenCredentials);
  auto decoded = DecodeCredentialsRecord(kGoldenCredentials);
  REQUIRE(decoded);
  CHECK(*decoded == GoldenCredentials());
  // Another spelling of the same JSON decodes too.
  auto pretty =
      DecodeCredentialsRecord(ordered_json::parse(kGoldenCredentials).dump(4));
  REQUIRE(pretty);
  CHECK(*pretty == GoldenCredentials());
}

TEST_CASE("invalid credentials records fail with a message naming the field") {
  const std::vector<Edit> cases = {
      {"/v", 2,
       "credentials record: field 'v': version 2 is not supported (this "
       "build reads version 1)"},
      {"/v", std::nullopt,
       "credentials record: field 'v' is missing (the format version)"},
      {"/fs_gid", std::nullopt,
       "credentials record: field 'fs_gid' is missing"},
      {"/cap_permited", "0x0",
       "credentials record: unknown field 'cap_permited'"},
      {"/real_uid", -1,
       "credentials record: field 'real_uid': expected an unsigned 32-bit "
       "number"},
      {"/audit_session_id", 4294967296ull,
       "credentials record: field 'audit_session_id': expected an unsigned "
       "32-bit number"},
      {"/supplementary_gids", 100,
       "credentials record: field 'supplementary_gids': expected an array"},
      {"/supplementary_gids/0", "100",
       "credentials record: field 'supplementary_gids[0]': expected an "
       "unsigned 32-bit number"},
      {"/cap_bounding", "0x01ffffffffff",
       "credentials record: field 'cap_bounding': '0x01ffffffffff' is not a "
       "64-bit number as \"0x...\" (lower-case hex, no leading zeros)"},
      {"/cap_ambient", 8,
       "credentials record: field 'cap_ambient': expected a 64-bit number as "
       "a string \"0x...\" (lower-case hex, no leading zeros)"},
      {"/no_new_privs", "true",
       "credentials record: field 'no_new_privs': expected true or false"},
      {"/initial_user_namespace", 1,
       "credentials record: field 'initial_user_namespace': expected true or "
       "false"},
  };
  for (const Edit& edit : cases) {
    const std::string text = Edited(kGoldenCredentials, edit);
    INFO(text);
    auto credentials = DecodeCredentialsRecord(text);
    REQUIRE_FALSE(credentials);
    CHECK(credentials.error().code == ErrorCode::kInvalidArgument);
    CHECK(credentials.error().message == edit.message);
  }
  auto token_text = DecodeCredentialsRecord(kGoldenRecord);
  REQUIRE_FALSE(token_text);
  CHECK(token_text.error().message ==
        "credentials record: field 'real_uid' is missing");
  auto not_json = DecodeCredentialsRecord("{");
  REQUIRE_FALSE(not_json);
  CHECK_THAT(not_json.error().message,
             Catch::StartsWith("credentials record: JSON parse error at line "
                               "1, column 2: "));
}

}  // namespace
}  // namespace tokenfs
