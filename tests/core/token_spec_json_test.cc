#include "core/token_spec_json.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/capability.h"
#include "core/well_known_sids.h"
#include "tests/support/catch_support.h"

// Expected values come from the documented JSON form (core/token_spec_json.h,
// man/token-spec.5), the SDDL aliases of MS-DTYP 2.5.1.1 (SY = S-1-5-18,
// WD = S-1-1-0, BA = S-1-5-32-544, AU = S-1-5-11) and the Peios privilege
// bit numbers (SeBackup 17, SeDebug 20, SeChangeNotify 23).

namespace tokenfs {
namespace {

// A short name for the many SID literals below.
constexpr auto& S = test::ParseSidOrDie;

TokenSpec Parse(const std::string& text) {
  auto spec = ParseTokenSpecJson(text);
  INFO(text);
  if (!spec) FAIL(spec.error().message);
  return *spec;
}

TEST_CASE("a JSON spec with only a user takes the documented defaults") {
  TokenSpec expected;
  expected.user = S("S-1-22-1-1000");
  CHECK(Parse(R"({"user": "S-1-22-1-1000"})") == expected);
  CHECK(expected.type == TokenType::kPrimary);
  CHECK(expected.integrity_rid == 0x2000);
  CHECK(expected.mandatory_policy == 0x1);
  CHECK(expected.session_id == Luid{0x3e6});
  CHECK(expected.projected_uid == 65534);
}

TEST_CASE("formatting prints every key in the documented order") {
  TokenSpec spec;
  spec.user = S("S-1-22-1-1000");
  const std::string expected = R"({
  "version": 2,
  "type": "primary",
  "impersonation_level": "anonymous",
  "user": "S-1-22-1-1000",
  "user_deny_only": false,
  "groups": [],
  "owner_index": 0,
  "primary_group_index": 0,
  "privileges": {
    "present": [],
    "enabled": []
  },
  "integrity": "medium",
  "mandatory_policy": [
    "no-write-up"
  ],
  "default_dacl": "D:NO_ACCESS_CONTROL",
  "session_id": "0x3e6",
  "source": {
    "name": "",
    "id": "0x0"
  },
  "origin": "0x0",
  "expiration": 0,
  "interactive_session_id": 0,
  "audit_policy": [],
  "projected_uid": 65534,
  "projected_gid": 65534,
  "projected_supplementary_gids": [],
  "restricted_sids": [],
  "write_restricted": false,
  "device_groups": [],
  "restricted_device_groups": [],
  "user_claims": [],
  "device_claims": [],
  "confinement_sid": null,
  "capabilities": [],
  "confinement_exempt": false,
  "isolation_boundary": false
}
)";
  CHECK(FormatTokenSpecJson(spec, nullptr) == expected);
}

TEST_CASE("JSON accepts aliases, names in any case and numbers as strings") {
  const TokenSpec spec = Parse(R"({
    "user": "sy",
    "type": 2,
    "impersonation_level": "Delegation",
    "groups": ["WD", {"sid": "BA", "attributes": ["Owner", "MANDATORY", "enabled-by-default", "enabled"]}],
    "owner_index": "BA",
    "primary_group_index": "S-1-5-32-544",
    "privileges": {"present": ["sedebugprivilege", 23, "0x11"], "enabled": ["SeChangeNotify"]},
    "integrity": "S-1-16-12288",
    "session_id": "42",
    "origin": 1000,
    "projected_uid": "0",
    "projected_gid": "0x0",
    "expiration": "0xffffffffffffffff",
    "source": {"name": "authd", "id": 7},
    "audit_policy": ["privilege-use-failure", "object-access-success"],
    "mandatory_policy": [],
    "projected_supplementary_gids": [27, "0x3e8"]
  })");
  CHECK(spec.user == well_known::LocalSystem());
  CHECK(spec.type == TokenType::kImpersonation);
  CHECK(spec.impersonation_level == ImpersonationLevel::kDelegation);
  REQUIRE(spec.groups.size() == 2);
  CHECK(spec.groups[0].sid == well_known::Everyone());
  CHECK(spec.groups[0].attributes == 0x7);  // the default for a bare SID
  CHECK(spec.groups[1].sid == well_known::Administrators());
  CHECK(spec.groups[1].attributes == 0xf);
  CHECK(spec.owner_index == 2);
  CHECK(spec.primary_group_index == 2);
  CHECK(spec.privileges_present == 0x920000);  // bits 17, 20, 23
  CHECK(spec.privileges_enabled == 0x800000);
  CHECK(spec.integrity_rid == 0x3000);
  CHECK(spec.session_id == Luid{42});
  CHECK(spec.origin == Luid{1000});
  CHECK(spec.projected_uid == 0);
  CHECK(spec.expiration_ns == UINT64_MAX);
  CHECK(spec.source == TokenSource::Make("authd", Luid{7}));
  CHECK(spec.audit_policy == 0x9);
  CHECK(spec.mandatory_policy == 0);
  CHECK(spec.supplementary_gids == std::vector<uint32_t>{27, 1000});
}

TEST_CASE("JSON default DACLs and confinement SIDs accept their empty forms") {
  CHECK_FALSE(Parse(R"({"user": "SY", "default_dacl": null})").default_dacl);
  CHECK_FALSE(Parse(R"({"user": "SY", "default_dacl": "D:NO_ACCESS_CONTROL"})")
                  .default_dacl);
  const auto empty =
      Parse(R"({"user": "SY", "default_dacl": "D:"})").default_dacl;
  REQUIRE(empty);
  CHECK(empty->aces.empty());
  const auto one =
      Parse(R"js({"user": "SY", "default_dacl": "(A;;GA;;;SY)"})js")
          .default_dacl;
  REQUIRE(one);
  REQUIRE(one->aces.size() == 1);
  CHECK(one->aces[0].mask == access::kGenericAll);
  CHECK(one->aces[0].sid == well_known::LocalSystem());
  CHECK_FALSE(
      Parse(R"({"user": "SY", "confinement_sid": null})").confinement_sid);
  // "disabled" names the absence of "enabled".
  CHECK(
      Parse(
          R"({"user": "SY", "groups": [{"sid": "WD", "attributes": ["disabled"]}]})")
          .groups[0]
          .attributes == 0);
  CHECK(Parse(R"({"user": "SY", "groups": [{"sid": "WD"}]})")
            .groups[0]
            .attributes == 0x7);
}

TEST_CASE("JSON claims take values in the form of their type") {
  const TokenSpec spec = Parse(R"({"user": "SY", "user_claims": [
    {"name": "i", "type": "int64", "values": [-5, "-9223372036854775808", 7]},
    {"name": "u", "type": "uint64", "flags": ["mandatory"], "values": ["0xff", 18446744073709551615]},
    {"name": "s", "type": "string", "flags": ["case-sensitive", "Use-For-Deny-Only"], "values": ["caf\u00e9", ""]},
    {"name": "g", "type": "sid", "values": ["BA", "S-1-5-11"]},
    {"name": "b", "type": "boolean", "values": [true, false]},
    {"name": "o", "type": "octets", "values": ["DEad00", ""]},
    {"name": "none", "type": "string"}
  ]})");
  const std::vector<Claim> expected = {
      Claim{"i",
            ClaimType::kInt64,
            0,
            {int64_t{-5}, int64_t{INT64_MIN}, int64_t{7}}},
      Claim{
          "u", ClaimType::kUint64, 0x20, {uint64_t{255}, uint64_t{UINT64_MAX}}},
      Claim{"s",
            ClaimType::kString,
            0x6,
            {std::string("caf\xc3\xa9"), std::string()}},
      Claim{"g",
            ClaimType::kSid,
            0,
            {well_known::Administrators(), well_known::AuthenticatedUsers()}},
      Claim{"b", ClaimType::kBoolean, 0, {true, false}},
      Claim{"o",
            ClaimType::kOctetString,
            0,
            {std::vector<uint8_t>{0xde, 0xad, 0x00}, std::vector<uint8_t>{}}},
      Claim{"none", ClaimType::kString, 0, {}},
  };
  CHECK(spec.user_claims == expected);
}

TEST_CASE("JSON capabilities are names or capability SIDs") {
  const TokenSpec spec = Parse(
      R"({"user": "SY", "capabilities": ["tokeninfo", "read@settings:email", "s-1-15-3-1"]})");
  CHECK(spec.capabilities ==
        std::vector<Sid>{CapabilitySid("tokeninfo"),
                         CapabilitySid("read@settings:email"),
                         S("S-1-15-3-1")});
}

TEST_CASE("JSON encoding lays out the binary spec of the ABI table") {
  // Header fields at their offsets in the binary header (man/token-spec.5);
  // user SID S-1-22-1-1000 at 192 (16 bytes); one group entry at 208: sid_len
  // 12, S-1-1-0, attributes 7.
  std::vector<uint8_t> expected(228, 0);
  auto put = [&expected](size_t at, uint64_t value, size_t size) {
    for (size_t i = 0; i < size; ++i)
      expected[at + i] = static_cast<uint8_t>(value >> (8 * i));
  };
  put(0, 2, 4);          // version
  put(4, 1, 1);          // primary
  put(8, 0x2000, 4);     // Medium
  put(12, 1, 4);         // NO_WRITE_UP
  put(16, 0x800000, 8);  // present: SeChangeNotify
  put(24, 0x800000, 8);  // enabled
  put(36, 65534, 4);     // projected uid
  put(40, 65534, 4);     // projected gid
  put(56, 0x2a, 8);      // session
  put(88, 192, 4);       // user SID
  put(92, 208, 4);       // groups offset
  put(96, 1, 4);         // groups count
  const std::vector<uint8_t> user = {1, 2, 0, 0, 0,    0, 0, 22,
                                     1, 0, 0, 0, 0xe8, 3, 0, 0};
  std::copy(user.begin(), user.end(), expected.begin() + 192);
  const std::vector<uint8_t> group = {12, 0, 0, 0, 1, 1, 0, 0, 0, 0,
                                      0,  1, 0, 0, 0, 0, 7, 0, 0, 0};
  std::copy(group.begin(), group.end(), expected.begin() + 208);
  auto bytes = TokenSpecJsonToBinary(R"({
    "user": "S-1-22-1-1000", "groups": ["S-1-1-0"], "session_id": "0x2a",
    "privileges": {"present": ["SeChangeNotify"], "enabled": ["SeChangeNotify"]}})");
  REQUIRE(bytes);
  CHECK(*bytes == expected);
}

TEST_CASE("formatting prints values canonically") {
  TokenSpec spec;
  spec.user = S("S-1-22-1-1000");
  spec.groups = {{S("S-1-5-32-544"), 0x2000007f}, {S("S-1-1-0"), 0}};
  spec.integrity_rid = 0x2100;
  spec.privileges_present =
      0x8000000000800000ull;  // SeChangeNotify, SeBindPrivilegedPort
  spec.privileges_enabled = 0x8000000000000000ull;
  spec.mandatory_policy = 3;
  spec.audit_policy = 0xf;
  spec.session_id = Luid{0x1234abcd};
  spec.source = TokenSource::Make("tokenfs", Luid{0xff});
  spec.capabilities = {CapabilitySid("tokeninfo"), S("S-1-15-3-1")};
  spec.user_claims = {Claim{
      "o", ClaimType::kOctetString, 0x3, {std::vector<uint8_t>{0xab, 0x01}}}};
  spec.confinement_sid = S("S-1-15-2-1");
  const CapabilityNames names;
  const auto json = TokenSpecToJson(spec, &names);
  using J = nlohmann::ordered_json;
  CHECK(json["groups"][0]["attributes"] ==
        J({"mandatory", "default", "enabled", "owner", "deny-only", "integrity",
           "integrity-enabled", "resource"}));
  CHECK(json["groups"][1]["attributes"] == J::array());
  CHECK(json["integrity"] == "medium-plus");
  CHECK(json["privileges"]["present"] ==
        J({"SeChangeNotify", "SeBindPrivilegedPort"}));
  CHECK(json["privileges"]["enabled"] == J({"SeBindPrivilegedPort"}));
  CHECK(json["mandatory_policy"] == J({"no-write-up", "new-process-min"}));
  CHECK(json["audit_policy"] ==
        J({"object-access-success", "object-access-failure",
           "privilege-use-success", "privilege-use-failure"}));
  CHECK(json["session_id"] == "0x1234abcd");
  CHECK(json["source"] == J({{"name", "tokenfs"}, {"id", "0xff"}}));
  CHECK(json["capabilities"] == J({"tokeninfo", "S-1-15-3-1"}));
  CHECK(json["user_claims"][0] ==
        J({{"name", "o"},
           {"type", "octets"},
           {"flags", {"non-inheritable", "case-sensitive"}},
           {"values", {"ab01"}}}));
  CHECK(json["confinement_sid"] == "S-1-15-2-1");
  // Without names, capabilities print as SIDs; unnamed integrity as a number.
  spec.integrity_rid = 0x2345;
  const auto raw = TokenSpecToJson(spec, nullptr);
  CHECK(raw["capabilities"][0] == CapabilitySid("tokeninfo").ToString());
  CHECK(raw["integrity"] == 0x2345);
}

struct InvalidJson {
  std::string text;
  const char* fragment;
  int column = 0;
  ErrorCode code = ErrorCode::kInvalidArgument;
};

TEST_CASE("JSON errors name the path of the offending value") {
  const std::vector<InvalidJson> cases = {
      // Syntax (columns count bytes read, as nlohmann reports them).
      {R"({"user" "S-1-1-0"})", "syntax error while parsing object separator",
       17},
      {"{\"user\": \"\xff\"}", "ill-formed UTF-8"},
      {R"({"user": "SY", "user": "S-1-5-18"})", "repeated key 'user'"},
      {R"({"user": "SY", "source": {"name": "a", "name": "b"}})",
       "source: repeated key 'name'"},
      {std::string(17, '[') + std::string(17, ']'),
       "JSON nests deeper than 16 levels"},
      // Shape.
      {"[]", "expected an object, found an array"},
      {R"({"user": "SY", "source": []})",
       "source: expected an object, found an array"},
      {R"({"user": "SY", "groups": [{"sid": "WD", "sid": "BA"}]})",
       "groups[0]: repeated key 'sid'"},
      // A newline the parser read still belongs to the line it ends.
      {"{\n  \"user\": tru\n}",
       "JSON parse error at line 2, column 14: syntax error while parsing "
       "value - invalid literal; last read: '\"user\": tru<U+000A>'",
       16},
      {"{}", "missing key 'user' (the user SID)"},
      {R"({"user": "SY", "grups": []})",
       "unknown key 'grups' (did you mean 'groups'?)"},
      {R"({"user": "SY", "source": {"nmae": "x"}})",
       "source: unknown key 'nmae' (did you mean 'name'?)"},
      {R"({"user": "SY", "source": {"zzzzzz": 1}})",
       "source: unknown key 'zzzzzz' (name, id)"},
      {R"({"user": "SY", "version": 3})",
       "version: only version 2 is supported"},
      {R"({"user": "SY", "type": 3})",
       "type: expected 1 (primary) or 2 (impersonation)"},
      {R"({"user": "SY", "type": "secondary"})",
       "type: unknown token type 'secondary'"},
      {R"({"user": "SY", "impersonation_level": 4})",
       "impersonation_level: expected 0 to 3"},
      {R"({"user": 5})", "user: expected a string, found a number"},
      {R"({"user": "S-1-x"})", "user: 'S-1-x': "},
      {R"({"user": "DA"})", "user: 'DA': "},
      // SID lists.
      {R"({"user": "SY", "groups": ["WD", "AU", {"sid": "BA", "attributes": ["mandatory", "enabeld"]}]})",
       "groups[2].attributes[1]: unknown group attribute 'enabeld'"},
      {R"({"user": "SY", "groups": [{"sid": "WD", "attributes": ["logon-id"]}]})",
       "groups[0].attributes[0]: 'logon-id' is not allowed (the logon SID is "
       "added by tokenfs)"},
      {R"({"user": "SY", "groups": [{"sid": "WD", "attributes": ["enabled", "disabled"]}]})",
       "groups[0].attributes: both 'enabled' and 'disabled'"},
      {R"({"user": "SY", "groups": [{"sid": "WD", "attributes": ["owner", "owner"]}]})",
       "groups[0].attributes[1]: 'owner' is repeated"},
      {R"({"user": "SY", "groups": ["WD", "S-1-1-0"]})",
       "groups[1]: S-1-1-0 repeats groups[0]"},
      {R"({"user": "SY", "groups": [{"attributes": []}]})",
       "groups[0]: missing key 'sid'"},
      {R"({"user": "SY", "groups": [5]})",
       "groups[0]: expected a SID string or an object, found a number"},
      {R"({"user": "SY", "groups": {"sid": "WD"}})",
       "groups: expected an array, found an object"},
      {R"({"user": "SY", "groups": [{"sid": "WD", "attrs": []}]})",
       "groups[0]: unknown key 'attrs'"},
      {R"({"user": "SY", "restricted_sids": [{"sid": "WD", "attributes": ["deny-only", "enabled"]}]})",
       "token spec: restricted_sids[0]: a deny-only entry cannot be enabled or "
       "enabled by default"},
      {R"({"user": "SY", "groups": ["S-1-5-5-0-7"]})",
       "token spec: groups[0]: S-1-5-5-0-7 is a logon SID"},
      {R"({"user": "SY", "owner_index": "BA"})",
       "owner_index: S-1-5-32-544 is neither the user nor a group"},
      {R"({"user": "SY", "groups": ["BA"], "owner_index": 1})",
       "token spec: owner_sid_index 1 names groups[0], which lacks the owner "
       "attribute"},
      // Privileges.
      {R"({"user": "SY", "privileges": {"present": ["SeFly"]}})",
       "privileges.present[0]: unknown privilege 'SeFly'"},
      {R"({"user": "SY", "privileges": {"present": [1]}})",
       "privileges.present[0]: privilege bit 1 is not in the privilege "
       "catalog"},
      {R"({"user": "SY", "privileges": {"present": [true]}})",
       "privileges.present[0]: expected a privilege name or bit number, found "
       "a boolean"},
      {R"({"user": "SY", "privileges": {"present": ["SeDebug", "sedebugprivilege"]}})",
       "privileges.present[1]: SeDebug is repeated"},
      {R"({"user": "SY", "privileges": {"present": ["SeChangeNotify"], "enabled": ["SeChangeNotify", "SeDebug"]}})",
       "privileges.enabled[1]: SeDebug is not in privileges.present"},
      {R"({"user": "SY", "privileges": {"enabled": [], "default": []}})",
       "privileges: unknown key 'default' (present, enabled)"},
      // Scalars.
      {R"({"user": "SY", "integrity": "mediumish"})",
       "integrity: unknown integrity level 'mediumish'"},
      {R"({"user": "SY", "integrity": -1})",
       "integrity: expected an integer from 0 to 4294967295"},
      {R"({"user": "SY", "mandatory_policy": ["no-read-up"]})",
       "mandatory_policy[0]: unknown mandatory policy 'no-read-up' "
       "(no-write-up, new-process-min)"},
      {R"({"user": "SY", "mandatory_policy": "no-write-up"})",
       "mandatory_policy: expected an array, found a string"},
      {R"({"user": "SY", "audit_policy": ["object-access-success", "object-access-success"]})",
       "audit_policy[1]: 'object-access-success' is repeated"},
      {R"js({"user": "SY", "default_dacl": "D:(A;;GA;;;XX)"})js",
       "default_dacl: unknown SID alias 'XX'"},
      {R"({"user": "SY", "default_dacl": 5})",
       "default_dacl: expected an SDDL string or null, found a number"},
      {R"({"user": "SY", "session_id": -1})",
       "session_id: expected an integer from 0 to 18446744073709551615"},
      {R"({"user": "SY", "session_id": "0xZZ"})",
       "session_id: '0xZZ' is not an integer from 0 to 18446744073709551615 "
       "(decimal or 0x-hex)"},
      {R"({"user": "SY", "origin": "18446744073709551616"})",
       "origin: '18446744073709551616' is not an integer"},
      {R"({"user": "SY", "projected_uid": 4294967296})",
       "projected_uid: expected an integer from 0 to 4294967295"},
      {R"({"user": "SY", "projected_gid": 1.5})",
       "projected_gid: expected an integer from 0 to 4294967295"},
      {R"({"user": "SY", "projected_supplementary_gids": [1, "x"]})",
       "projected_supplementary_gids[1]: 'x' is not an integer from 0 to "
       "4294967295"},
      {R"({"user": "SY", "source": {"name": "abcdefghi"}})",
       "source.name: 'abcdefghi' is longer than 8 bytes"},
      {R"({"user": "SY", "source": {"name": "a\tb"}})",
       "source.name: must be printable ASCII"},
      {R"({"user": "SY", "write_restricted": 1})",
       "write_restricted: expected true or false, found a number"},
      {R"({"user": "SY", "confinement_sid": "S-1-5-18"})",
       "token spec: confinement_sid S-1-5-18 is not an app-container SID"},
      // Cross-field rules reported by ValidateTokenSpec.
      {R"({"user": "SY", "write_restricted": true})",
       "token spec: write_restricted requires user_deny_only"},
      {R"({"user": "SY", "isolation_boundary": true})",
       "token spec: isolation_boundary requires a confinement SID"},
      {R"({"user": "SY", "impersonation_level": "delegation"})",
       "token spec: impersonation_level must be 0 (anonymous) for a primary "
       "token"},
      {R"({"user": "S-1-22-1-1000", "projected_uid": 0})",
       "token spec: projected_uid 0 is reserved for S-1-5-18"},
      // Claims.
      {R"({"user": "SY", "user_claims": [{"name": "x"}]})",
       "user_claims[0]: missing key 'type'"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "text"}]})",
       "user_claims[0].type: unknown claim type 'text'"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "string", "values": ["a", 1]}]})",
       "user_claims[0].values[1]: expected a string, found a number"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "octets", "values": ["abc"]}]})",
       "user_claims[0].values[0]: hex string has an odd number of digits"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "octets", "values": ["zz"]}]})",
       "user_claims[0].values[0]: 'zz' at position 1 is not a hex byte"},
      {R"({"user": "SY", "device_claims": [{"name": "Dept", "type": "int64"}, {"name": "dept", "type": "int64"}]})",
       "device_claims[1].name: 'dept' repeats device_claims[0]"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "int64", "flags": ["loud"]}]})",
       "user_claims[0].flags[0]: unknown claim flag 'loud'"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "int64", "values": [9223372036854775808]}]})",
       "user_claims[0].values[0]: expected an integer from "
       "-9223372036854775808 to 9223372036854775807"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "boolean", "values": [1]}]})",
       "user_claims[0].values[0]: expected true or false, found a number"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "string", "values": ["a\u0000b"]}]})",
       "user_claims[0]: claim 'x': value 0 contains a NUL character"},
      {R"({"user": "SY", "user_claims": [{"name": "", "type": "string"}]})",
       "user_claims[0]: claim name is empty"},
      {R"({"user": "SY", "user_claims": [{"name": "x", "type": "string", "value": []}]})",
       "user_claims[0]: unknown key 'value' (did you mean 'values'?)"},
      // Capabilities.
      {R"({"user": "SY", "capabilities": ["S-1-5-18"]})",
       "capabilities[0]: S-1-5-18 is not a capability SID (S-1-15-3-...)"},
      {R"({"user": "SY", "capabilities": ["S-1-"]})",
       "capabilities[0]: 'S-1-': "},
      {R"({"user": "SY", "capabilities": ["bad name"]})",
       "capabilities[0]: capability 'bad name': invalid character ' '"},
      {R"({"user": "SY", "capabilities": ["tokeninfo", "tokeninfo"]})",
       "capabilities[1]: 'tokeninfo' repeats capabilities[0]"},
      // Size.
      {std::string(token_spec_json::kMaxTextBytes + 1, ' '),
       "token spec JSON is 1048577 bytes (at most 1048576)", 0,
       ErrorCode::kResourceExhausted},
  };
  for (const auto& test : cases) {
    INFO(test.text.substr(0, 200));
    auto spec = ParseTokenSpecJson(test.text);
    REQUIRE_FALSE(spec);
    CHECK(spec.error().code == test.code);
    CHECK_THAT(spec.error().message, Catch::Contains(test.fragment));
    if (test.column) CHECK(spec.error().column == test.column);
  }
}

TEST_CASE("a JSON syntax error reports where it is") {
  auto spec = ParseTokenSpecJson("{\"user\": tru}");
  REQUIRE_FALSE(spec);
  CHECK_THAT(spec.error().message, Catch::Contains("syntax error"));
  CHECK(spec.error().column > 0);
}

TokenSpec RichSpec() {
  TokenSpec spec;
  spec.type = TokenType::kImpersonation;
  spec.impersonation_level = ImpersonationLevel::kIdentification;
  spec.integrity_rid = 0x1234;
  spec.mandatory_policy = 2;
  spec.privileges_present = privilege::kCatalogMask;
  spec.privileges_enabled = 0x800000;
  spec.projected_uid = 1000;
  spec.projected_gid = 100;
  spec.audit_policy = 0xa;
  spec.expiration_ns = 1700000000000000000ull;
  spec.session_id = Luid{0xffffffff00000001ull};
  spec.owner_index = 1;
  spec.primary_group_index = 2;
  spec.source = TokenSource::Make("authd", Luid{0x99});
  spec.user = S("S-1-5-21-1-2-3-1001");
  spec.groups = {{S("S-1-5-32-544"), 0xf},
                 {S("S-1-5-21-1-2-3-513"), 0x7},
                 {S("S-1-16-8192"), 0x60},
                 {S("S-1-5-32-551"), 0x10}};
  spec.default_dacl = Acl{};
  spec.default_dacl->aces.push_back(Ace{.type = AceType::kAccessAllowed,
                                        .flags = 0x3,
                                        .mask = AccessMask(0x1f01ff),
                                        .sid = S("S-1-5-21-1-2-3-1001")});
  spec.default_dacl->aces.push_back(Ace{.type = AceType::kAccessDenied,
                                        .mask = access::kWriteDac,
                                        .sid = well_known::Everyone()});
  spec.user_claims = {
      Claim{"dept", ClaimType::kString, 0x2, {std::string("R&D \"core\"")}},
      Claim{"level", ClaimType::kInt64, 0, {int64_t{-3}}}};
  spec.device_claims = {Claim{"managed", ClaimType::kBoolean, 0, {true}},
                        Claim{"serial",
                              ClaimType::kOctetString,
                              0x10,
                              {std::vector<uint8_t>{0, 255}}}};
  spec.device_groups = {{S("S-1-5-21-9-9-9-515"), 0x7}};
  spec.restricted_sids = {{well_known::Everyone(), 0x7},
                          {S("S-1-5-21-1-2-3-1001"), 0x0}};
  spec.restricted_device_groups = {{S("S-1-2-0"), 0x4}};
  spec.confinement_sid = S("S-1-15-2-7-8");
  spec.capabilities = {CapabilitySid("tokeninfo:introspect"), S("S-1-15-3-8")};
  spec.confinement_exempt = true;
  spec.user_deny_only = true;
  spec.write_restricted = true;
  spec.isolation_boundary = true;
  spec.supplementary_gids = {100, 27, 1000};
  spec.origin = Luid{0x3e7};
  spec.interactive_session_id = 2;
  return spec;
}

TEST_CASE("token specs survive formatting and parsing as JSON") {
  const CapabilityNames names;
  TokenSpec minimal;
  minimal.user = well_known::Anonymous();
  for (const TokenSpec& spec : {RichSpec(), minimal}) {
    for (const CapabilityNames* table :
         {&names, static_cast<const CapabilityNames*>(nullptr)}) {
      const std::string text = FormatTokenSpecJson(spec, table);
      INFO(text);
      auto parsed = ParseTokenSpecJson(text);
      REQUIRE(parsed);
      CHECK(*parsed == spec);
      CHECK(FormatTokenSpecJson(*parsed, table) == text);
    }
  }
}

TEST_CASE("a canonical binary spec decoded to JSON encodes to the same bytes") {
  const CapabilityNames names;
  auto binary = EncodeTokenSpec(RichSpec());
  REQUIRE(binary);
  auto text = TokenSpecBinaryToJson(*binary, &names);
  REQUIRE(text);
  CHECK_THAT(*text, Catch::Contains("\"tokeninfo:introspect\""));
  auto again = TokenSpecJsonToBinary(*text);
  REQUIRE(again);
  CHECK(*again == *binary);
  // Decoding garbage reports the binary error.
  auto bad = TokenSpecBinaryToJson(std::vector<uint8_t>(10, 0), &names);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("token spec: only 10 bytes"));
}

}  // namespace
}  // namespace tokenfs
