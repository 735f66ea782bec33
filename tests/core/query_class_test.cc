#include "core/query_class.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/claims.h"
#include "core/well_known_sids.h"
#include "tests/support/catch_support.h"
#include "tests/support/test_support.h"

// Expected payloads are written byte by byte from the Peios KACS v0.20 ABI's
// query class payloads (docs/formats.md, section "Query classes and ABI
// payloads") and the MS-DTYP binary SID and ACL layouts: SID = revision 1,
// count, 6-byte big-endian authority, little-endian u32 sub-authorities.

namespace tokenfs {
namespace {

using test::Bytes;
using test::Concat;
using test::kEveryoneSidBytes;  // S-1-1-0
using test::ParseSidOrDie;

// S-1-22-1-1000
const Bytes kUserSidBytes{0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
                          0x01, 0x00, 0x00, 0x00, 0xe8, 0x03, 0x00, 0x00};
// S-1-22-2-100
const Bytes kGroupSidBytes{0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
                           0x02, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00};
// S-1-5-5-0-42
const Bytes kLogonSidBytes{0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
                           0x05, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
                           0x00, 0x00, 0x2a, 0x00, 0x00, 0x00};

// A small primary token: user alice (1000), groups [Unix group 100 (owner),
// Everyone, logon SID 0-42].
Token MakeToken() {
  Token token;
  token.user = well_known::UnixUser(1000);
  token.groups = {
      {well_known::UnixGroup(100), 0x0000000f},
      {well_known::Everyone(), 0x00000007},
      {well_known::LogonSid(42), 0xc0000007},
  };
  token.auth_id = Luid{42};
  token.owner_index = 1;
  token.primary_group_index = 1;
  token.integrity_rid = kIntegrityMedium;
  token.mandatory_policy = mandatory_policy::kNoWriteUp;
  return token;
}

TEST_CASE("every query class name and alias parses to its class") {
  struct Row {
    const char* text;
    QueryClass expected;
  };
  // Each class's canonical name and its aliases, mixed case on purpose:
  // names are case-insensitive.
  const Row rows[] = {
      {"user", QueryClass::kUser},
      {"GROUPS", QueryClass::kGroups},
      {"Privs", QueryClass::kPrivileges},
      {"privileges", QueryClass::kPrivileges},
      {"integrity-level", QueryClass::kIntegrityLevel},
      {"IntegrityLevel", QueryClass::kIntegrityLevel},
      {"primary-group", QueryClass::kPrimaryGroup},
      {"session", QueryClass::kSessionId},
      {"interactivity-scope", QueryClass::kSessionId},
      {"scope", QueryClass::kSessionId},
      {"restricted-sids", QueryClass::kRestrictedSids},
      {"stats", QueryClass::kStatistics},
      {"elevation", QueryClass::kElevationType},
      {"appcontainer", QueryClass::kAppContainerSid},
      {"caps", QueryClass::kCapabilities},
      {"logon-sid", QueryClass::kLogonSid},
      {"default-dacl", QueryClass::kDefaultDacl},
      {"device-claims", QueryClass::kDeviceClaims},
      {"projected-gids", QueryClass::kProjectedSupplementaryGids},
      {"1", QueryClass::kUser},
      {"11", QueryClass::kStatistics},
      {"24", QueryClass::kProjectedSupplementaryGids},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto parsed = ParseQueryClass(row.text);
    REQUIRE(parsed);
    CHECK(*parsed == row.expected);
  }
}

TEST_CASE(
    "unknown query class names are refused with the list of valid names") {
  struct Row {
    const char* text;
    const char* fragment;
  };
  const Row rows[] = {
      {"", "unknown query class ''"},
      {"foo", "unknown query class 'foo'"},
      {"0", "unknown query class '0'"},
      {"25", "unknown query class '25'"},
      {"privs ", "unknown query class 'privs '"},
      {"KACS_TOKEN_CLASS_USER", "unknown query class 'KACS_TOKEN_CLASS_USER'"},
  };
  const std::string valid =
      "(valid classes: user, groups, privileges, type, integrity, owner, "
      "primarygroup, interactivity-scope, restrictedsids, source, statistics, "
      "origin, elevationtype, devicegroups, appcontainersid, capabilities, "
      "mandatorypolicy, logontype, logonsid, defaultdacl, impersonationlevel, "
      "userclaims, deviceclaims, projectedsupplementarygids)";
  for (const auto& row : rows) {
    INFO(row.text);
    auto parsed = ParseQueryClass(row.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(parsed.error().message, Catch::Contains(row.fragment));
    CHECK_THAT(parsed.error().message, Catch::Contains(valid));
  }
}

TEST_CASE("every class name in the table parses back to its own class") {
  REQUIRE(QueryClassTable().size() == 24);
  uint32_t expected_id = 1;
  for (const auto& info : QueryClassTable()) {
    CHECK(static_cast<uint32_t>(info.id) == expected_id);
    CHECK(info.aliases.front() == info.name);
    CHECK(QueryClassName(info.id) == info.name);
    for (std::string_view alias : info.aliases) {
      auto parsed = ParseQueryClass(alias);
      REQUIRE(parsed);
      CHECK(*parsed == info.id);
    }
    ++expected_id;
  }
}

TEST_CASE("query classes carry the ABI constant names") {
  CHECK(GetQueryClassInfo(QueryClass::kUser).abi_name ==
        "KACS_TOKEN_CLASS_USER");
  CHECK(GetQueryClassInfo(QueryClass::kSessionId).abi_name ==
        "KACS_TOKEN_CLASS_SESSION_ID");
  CHECK(GetQueryClassInfo(QueryClass::kAppContainerSid).abi_name ==
        "KACS_TOKEN_CLASS_APPCONTAINER_SID");
  CHECK(GetQueryClassInfo(QueryClass::kProjectedSupplementaryGids).abi_name ==
        "KACS_TOKEN_CLASS_PROJECTED_SUPPLEMENTARY_GIDS");
}

TEST_CASE(
    "class numbers outside 1 to 24 are refused like the kernel's EINVAL") {
  CHECK_FALSE(QueryClassFromId(0));
  CHECK_FALSE(QueryClassFromId(25));
  auto eleven = QueryClassFromId(11);
  REQUIRE(eleven);
  CHECK(*eleven == QueryClass::kStatistics);
}

TEST_CASE(
    "the user, integrity, owner and primary group classes return binary SIDs") {
  const Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kUser) == kUserSidBytes);
  // S-1-16-8192: authority 16, one sub-authority 0x2000.
  CHECK(QueryPayload(token, QueryClass::kIntegrityLevel) ==
        Bytes{0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x20, 0x00,
              0x00});
  // Owner index 1 = groups[0].
  CHECK(QueryPayload(token, QueryClass::kOwner) == kGroupSidBytes);
  CHECK(QueryPayload(token, QueryClass::kPrimaryGroup) == kGroupSidBytes);
}

TEST_CASE("the groups class is a counted list of length, SID and attributes") {
  const Token token = MakeToken();
  const Bytes expected = Concat({
      {0x03, 0x00, 0x00, 0x00},  // count
      {0x10, 0x00, 0x00, 0x00},  // 16-byte SID
      kGroupSidBytes,
      {0x0f, 0x00, 0x00, 0x00},
      {0x0c, 0x00, 0x00, 0x00},  // 12-byte SID
      kEveryoneSidBytes,
      {0x07, 0x00, 0x00, 0x00},
      {0x14, 0x00, 0x00, 0x00},  // 20-byte SID
      kLogonSidBytes,
      {0x07, 0x00, 0x00, 0xc0},
  });
  CHECK(QueryPayload(token, QueryClass::kGroups) == expected);
}

TEST_CASE("the privileges class is four little-endian 64-bit masks") {
  Token token = MakeToken();
  token.privileges.present =
      0x8000000000800000;  // SeBindPrivilegedPort, SeChangeNotify
  token.privileges.enabled = 0x0000000000800000;
  token.privileges.enabled_by_default = 0x0000000000800000;
  token.privileges.used = 0x0000000000800000;
  const Bytes expected{
      0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x80,  // present
      0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,  // enabled
      0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,  // enabled_by_default
      0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,  // used
  };
  CHECK(QueryPayload(token, QueryClass::kPrivileges) == expected);
}

TEST_CASE("the u32 classes return their value in four little-endian bytes") {
  Token token = MakeToken();
  token.interactive_session_id = 0x01020304;
  token.elevation_type = ElevationType::kLimited;
  token.mandatory_policy = 0x3;
  token.logon_type = LogonType::kBatch;
  CHECK(QueryPayload(token, QueryClass::kType) == Bytes{1, 0, 0, 0});
  CHECK(QueryPayload(token, QueryClass::kSessionId) == Bytes{4, 3, 2, 1});
  CHECK(QueryPayload(token, QueryClass::kElevationType) == Bytes{3, 0, 0, 0});
  CHECK(QueryPayload(token, QueryClass::kMandatoryPolicy) == Bytes{3, 0, 0, 0});
  CHECK(QueryPayload(token, QueryClass::kLogonType) == Bytes{4, 0, 0, 0});
}

TEST_CASE(
    "the impersonation level class reports Anonymous for primary tokens") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kImpersonationLevel) ==
        Bytes{0, 0, 0, 0});
  token.type = TokenType::kImpersonation;
  token.impersonation_level = ImpersonationLevel::kImpersonation;
  CHECK(QueryPayload(token, QueryClass::kImpersonationLevel) ==
        Bytes{2, 0, 0, 0});
  CHECK(QueryPayload(token, QueryClass::kType) == Bytes{2, 0, 0, 0});
}

TEST_CASE(
    "restricted SIDs are an empty list with count zero when unrestricted") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kRestrictedSids) == Bytes{0, 0, 0, 0});
  token.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::Everyone(), group_attributes::kRestrictingSid}};
  const Bytes expected = Concat({{0x01, 0x00, 0x00, 0x00},
                                 {0x0c, 0x00, 0x00, 0x00},
                                 kEveryoneSidBytes,
                                 {0x07, 0x00, 0x00, 0x00}});
  CHECK(QueryPayload(token, QueryClass::kRestrictedSids) == expected);
}

TEST_CASE("the source class is eight name bytes and the source id") {
  Token token = MakeToken();
  token.source = TokenSource::Make("tokenfs", Luid{0x0102030405060708});
  const Bytes expected{'t',  'o',  'k',  'e',  'n',  'f',  's',  0x00,
                       0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
  CHECK(QueryPayload(token, QueryClass::kSource) == expected);
}

TEST_CASE(
    "the statistics class is forty bytes with a zero pad after the type") {
  Token token = MakeToken();
  token.token_id = Luid{0x11};
  token.auth_id = Luid{0x22};
  token.modified_id = Luid{0x33};
  token.expiration_ns = 0x44;
  token.type = TokenType::kImpersonation;
  token.impersonation_level = ImpersonationLevel::kIdentification;
  const Bytes expected{
      0x11, 0, 0, 0, 0, 0, 0, 0,  // token_id
      0x22, 0, 0, 0, 0, 0, 0, 0,  // auth_id
      0x33, 0, 0, 0, 0, 0, 0, 0,  // modified_id
      0x02, 0, 0, 0,              // type Impersonation
      0x00, 0, 0, 0,              // pad
      0x44, 0, 0, 0, 0, 0, 0, 0,  // expiration
  };
  CHECK(QueryPayload(token, QueryClass::kStatistics) == expected);
}

TEST_CASE("the origin class is the origin LUID") {
  Token token = MakeToken();
  token.origin = Luid{0x3e7};
  CHECK(QueryPayload(token, QueryClass::kOrigin) ==
        Bytes{0xe7, 0x03, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("device groups are a list with count zero when the token has none") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kDeviceGroups) == Bytes{0, 0, 0, 0});
  token.device_groups = std::vector<SidAndAttributes>{};
  CHECK(QueryPayload(token, QueryClass::kDeviceGroups) == Bytes{0, 0, 0, 0});
}

TEST_CASE("the confinement SID class is empty when the token is not confined") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kAppContainerSid).empty());
  token.confinement_sid = well_known::Everyone();
  CHECK(QueryPayload(token, QueryClass::kAppContainerSid) == kEveryoneSidBytes);
}

TEST_CASE("the capabilities class lists capability SIDs as enabled entries") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kCapabilities) == Bytes{0, 0, 0, 0});
  // S-1-15-3-1 (internetClient), hand-built so no name derivation is involved.
  token.capabilities = {Capability{"", ParseSidOrDie("S-1-15-3-1")}};
  const Bytes expected{
      0x01, 0x00, 0x00, 0x00,                          // count
      0x10, 0x00, 0x00, 0x00,                          // 16-byte SID
      0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f,  // rev, 2, authority 15
      0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  // 3, 1
      0x04, 0x00, 0x00, 0x00,                          // SE_GROUP_ENABLED
  };
  CHECK(QueryPayload(token, QueryClass::kCapabilities) == expected);
}

TEST_CASE(
    "the logon SID class prefers the logon group and falls back to auth_id") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kLogonSid) == kLogonSidBytes);
  token.groups.pop_back();
  token.auth_id = Luid{0x0000000100000002};
  // S-1-5-5-1-2
  const Bytes expected{0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
                       0x05, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00,
                       0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
  CHECK(QueryPayload(token, QueryClass::kLogonSid) == expected);
}

TEST_CASE(
    "the default DACL class is the binary ACL, empty when there is none") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kDefaultDacl).empty());
  Acl acl;
  acl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                         .mask = access::kGenericAll,
                         .sid = well_known::LocalSystem()});
  token.default_dacl = acl;
  // D:(A;;GA;;;SY): ACL header (revision 2, size 28, one ACE), then the ACE
  // (type 0, flags 0, size 20, mask 0x10000000, S-1-5-18).
  const Bytes expected{0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
                       0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                       0x00, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00,
                       0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00};
  CHECK(QueryPayload(token, QueryClass::kDefaultDacl) == expected);
}

TEST_CASE(
    "claim classes are empty without claims and the claim array with them") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kUserClaims).empty());
  CHECK(QueryPayload(token, QueryClass::kDeviceClaims).empty());
  token.user_claims = {Claim{"level", ClaimType::kInt64, 0, {int64_t{5}}}};
  const Bytes payload = QueryPayload(token, QueryClass::kUserClaims);
  // The wrapper is [entry_len u32][entry]: one entry fills the rest exactly.
  REQUIRE(payload.size() > 4);
  const uint32_t entry_length = payload[0] | (payload[1] << 8) |
                                (payload[2] << 16) |
                                (static_cast<uint32_t>(payload[3]) << 24);
  CHECK(entry_length + 4 == payload.size());
  auto decoded = DecodeClaims(payload);
  REQUIRE(decoded);
  CHECK(*decoded == token.user_claims);
  CHECK(QueryPayload(token, QueryClass::kDeviceClaims).empty());
}

TEST_CASE("the projected gids class is a count followed by the gids") {
  Token token = MakeToken();
  CHECK(QueryPayload(token, QueryClass::kProjectedSupplementaryGids) ==
        Bytes{0, 0, 0, 0});
  token.projected_supplementary_gids = {100, 0x01020304};
  CHECK(QueryPayload(token, QueryClass::kProjectedSupplementaryGids) ==
        Bytes{2, 0, 0, 0, 100, 0, 0, 0, 4, 3, 2, 1});
}

TEST_CASE("an owner index beyond the groups is reported instead of encoded") {
  Token token = MakeToken();
  token.owner_index = 9;
  auto payload = EncodeQueryPayload(token, QueryClass::kOwner);
  REQUIRE_FALSE(payload);
  CHECK_THAT(payload.error().message, Catch::Contains("owner index 9"));
  CHECK(QueryPayload(token, QueryClass::kOwner).empty());
}

}  // namespace
}  // namespace tokenfs
