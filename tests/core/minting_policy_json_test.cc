#include "core/minting_policy_json.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "core/minting_policy.h"
#include "core/capability.h"
#include "core/privilege.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

// Expected settings follow docs/policy.md.

namespace tokenfs {
namespace {

using nlohmann::json;

uint64_t Privs(std::initializer_list<int> bits) {
  uint64_t mask = 0;
  for (int bit : bits) mask |= privilege::Bit(bit);
  return mask;
}

constexpr uint64_t kChangeNotify = 0x800000ull;

// ---- Policy files ----

TEST_CASE("valid policy files give the documented effective settings") {
  const MintingSettings defaults = MintingPolicy::Default().settings();
  struct Row {
    const char* text;
    std::function<void(MintingSettings&)> change;
  };
  const Row rows[] = {
      {"{}", [](MintingSettings&) {}},
      {"  {\"version\": 1}\n", [](MintingSettings&) {}},
      {R"({"integrity": "low"})",
       [](MintingSettings& s) { s.integrity_rid = 0x1000; }},
      {R"({"domain_sid": "S-1-5-21-100-200-300"})",
       [](MintingSettings& s) {
         s.domain_sid = Sid::Known(5, {21, 100, 200, 300});
       }},
      {R"({"domain_sid": null})", [](MintingSettings&) {}},
      {R"({"directory": {"source": "none"}})",
       [](MintingSettings& s) { s.directory_enabled = false; }},
      {R"({"directory": {"source": "winbind", "cache_seconds": 60, "deadline_ms": 50, "cache_entries": 16}})",
       [](MintingSettings& s) {
         s.directory_cache_seconds = 60;
         s.directory_deadline_ms = 50;
         s.directory_cache_entries = 16;
       }},
      {R"({"integrity": 8448})",
       [](MintingSettings& s) { s.integrity_rid = 0x2100; }},
      {R"({"baseline_privileges": {"present": ["SeChangeNotify", "SeTimeZonePrivilege"], "enabled": []}})",
       [](MintingSettings& s) {
         s.baseline_present =
             Privs({privilege::kChangeNotify, privilege::kTimeZone});
         s.baseline_enabled = 0;
       }},
      {R"({"baseline_privileges": {"present": ["sedebug", "20", "SeChangeNotify"]}})",
       [](MintingSettings& s) {
         s.baseline_present =
             Privs({privilege::kDebug, privilege::kChangeNotify});
       }},
      {R"({"mandatory_policy": ["no-write-up", "new-process-min"]})",
       [](MintingSettings& s) { s.mandatory_policy = 0x3; }},
      {R"({"mandatory_policy": []})",
       [](MintingSettings& s) { s.mandatory_policy = 0; }},
      {R"({"token_user_access": "QUERY"})",
       [](MintingSettings& s) { s.token_user_access = AccessMask(0x8); }},
      // GENERIC_READ maps to QUERY | READ_CONTROL for tokens.
      {R"({"token_user_access": "GENERIC_READ"})",
       [](MintingSettings& s) { s.token_user_access = AccessMask(0x20008); }},
      {R"({"token_user_access": 136})",
       [](MintingSettings& s) { s.token_user_access = AccessMask(0x88); }},
      {R"({"capabilities": ["tokeninfo:introspect", "at", "AT"]})",
       [](MintingSettings& s) {
         s.capabilities =
             std::vector<std::string>{"tokeninfo:introspect", "AT"};
       }},
      {R"({"capabilities": []})",
       [](MintingSettings& s) { s.capabilities = std::vector<std::string>{}; }},
      {R"({"capabilities": "full"})", [](MintingSettings&) {}},
      {R"({"logon_type": {"session": "interactive", "no_session": "batch"}})",
       [](MintingSettings& s) {
         s.session_logon_type = LogonType::kInteractive;
         s.no_session_logon_type = LogonType::kBatch;
       }},
      {R"({"elevation": {"admin_groups": ["admins", 10]}})",
       [](MintingSettings& s) {
         s.admin_group_names = {"admins"};
         s.admin_gids = {10};
       }},
      {R"({"elevation": {"admin_groups": [], "full_integrity": "system"}})",
       [](MintingSettings& s) {
         s.admin_group_names.clear();
         s.full_integrity_rid = 0x4000;
       }},
      {R"({"elevation": {"limited_removed_privileges": ["SeDebug"], "full_privileges": ["SeDebug", "SeBackup"]}})",
       [](MintingSettings& s) {
         s.limited_removed_privileges = Privs({privilege::kDebug});
         s.full_privileges = Privs({privilege::kDebug, privilege::kBackup});
       }},
      {R"({"no_new_privs": {"add_mandatory_policy": [], "allow_elevation": true}})",
       [](MintingSettings& s) {
         s.no_new_privs_mandatory_policy = 0;
         s.no_new_privs_allow_elevation = true;
       }},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto policy = MintingPolicy::Parse(row.text);
    REQUIRE(policy);
    MintingSettings expected = defaults;
    row.change(expected);
    CHECK(policy->settings() == expected);
  }
}

TEST_CASE("invalid policy files are refused with the path or line and column") {
  struct Row {
    const char* text;
    const char* message;
    int column;
  };
  const Row rows[] = {
      // 22 characters, so the missing '}' is noticed at column 23.
      {R"({"integrity": "medium")",
       "policy: JSON parse error at line 1, column 23: syntax error while "
       "parsing object - unexpected end of input; expected '}'",
       23},
      {"",
       "policy: JSON parse error at line 1, column 1: syntax error while "
       "parsing value - unexpected end of input; expected '[', '{', or a "
       "literal",
       1},
      // The literal "tru" ends at the newline, column 11 of line 2.
      {"{\n  \"x\": tru\n}",
       "policy: JSON parse error at line 2, column 11: syntax error while "
       "parsing value - invalid literal; last read: '\"x\": tru<U+000A>'",
       11},
      // Junk after the object: the 'x' at column 9.
      {R"({"a":1} x)",
       "policy: JSON parse error at line 1, column 9: syntax error while "
       "parsing value - invalid literal; last read: '1} x'; expected end of "
       "input",
       9},
      {"[1]", "policy: expected an object, found an array", 0},
      {R"({"integrity": "medium", "integrity": "low"})",
       "policy: repeated key 'integrity'", 0},
      {R"({"elevation": {"admin_groups": [], "admin_groups": []}})",
       "policy: elevation: repeated key 'admin_groups'", 0},
      {R"({"directory": {"source": "sssd"}})",
       "policy: directory.source: unknown source \"sssd\" (expected "
       "\"winbind\" or \"none\")",
       0},
      {R"({"directory": {"source": true}})",
       "policy: directory.source: expected \"winbind\" or \"none\", found "
       "a boolean",
       0},
      {R"({"directory": {"deadline_ms": 0}})",
       "policy: directory.deadline_ms: expected a whole number from 1 to "
       "10000, found 0",
       0},
      {R"({"directory": {"cache_seconds": -5}})",
       "policy: directory.cache_seconds: expected a whole number from 1 to "
       "86400, found -5",
       0},
      {R"({"directory": {"cache_entries": "many"}})",
       "policy: directory.cache_entries: expected a whole number from 16 to "
       "1048576, found a string",
       0},
      {R"({"directory": {"ttl": 5}})",
       "policy: directory: unknown key 'ttl' (source, cache_seconds, "
       "deadline_ms, cache_entries)",
       0},
      // Ten keys: too many to list, none within two edits.
      {R"({"colour": 1})", "policy: unknown key 'colour'", 0},
      {R"({"domain_sid": "S-1-5-32-544"})",
       "policy: domain_sid: wants S-1-5-21-a-b-c, not 'S-1-5-32-544'", 0},
      {R"({"domain_sid": 21})",
       "policy: domain_sid: expected a domain SID S-1-5-21-a-b-c or null, "
       "found a number",
       0},
      {R"({"elevation": {"admin_group": ["sudo"]}})",
       "policy: elevation: unknown key 'admin_group' (did you mean "
       "'admin_groups'?)",
       0},
      {R"({"no_new_privs": {"elevate": true}})",
       "policy: no_new_privs: unknown key 'elevate' (add_mandatory_policy, "
       "allow_elevation)",
       0},
      {R"({"elevation": {"admin_groups": ["sudo", "wheel", -3]}})",
       "policy: elevation.admin_groups[2]: expected a group name or a gid "
       "number",
       0},
      {R"({"elevation": {"admin_groups": [""]}})",
       "policy: elevation.admin_groups[0]: expected a group name or a gid "
       "number",
       0},
      {R"({"elevation": []})",
       "policy: elevation: expected an object, found an array", 0},
      {R"({"elevation": {"full_integrity": true}})",
       "policy: elevation.full_integrity: expected an integrity level name or "
       "RID, found a boolean",
       0},
      {R"({"baseline_privileges": {"present": ["SeFoo"]}})",
       "policy: baseline_privileges.present[0]: unknown privilege 'SeFoo'", 0},
      {R"({"baseline_privileges": {"present": [23]}})",
       "policy: baseline_privileges.present[0]: expected a privilege name, "
       "found a number",
       0},
      {R"({"baseline_privileges": {"present": ["SeChangeNotify"], "enabled": ["SeDebug"]}})",
       "policy: baseline_privileges.enabled: SeDebug is enabled but not in "
       "baseline_privileges.present",
       0},
      {R"({"integrity": "extreme"})",
       "policy: integrity: unknown integrity level 'extreme' (use untrusted, "
       "low, medium, medium-plus, high, system, an RID, or S-1-16-N)",
       0},
      {R"({"token_user_access": "QUERY|FLY"})",
       "policy: token_user_access: unknown access right 'FLY'", 0},
      {R"({"token_user_access": "ACCESS_SYSTEM_SECURITY"})",
       "policy: token_user_access: rights outside TOKEN_ALL_ACCESS "
       "(ACCESS_SYSTEM_SECURITY) cannot be granted on a token",
       0},
      {R"({"token_user_access": true})",
       "policy: token_user_access: expected token rights such as "
       "\"QUERY|DUPLICATE\" or a 32-bit number, found a boolean",
       0},
      {R"({"capabilities": ["tokeninfo:"]})",
       "policy: capabilities[0]: capability 'tokeninfo:': empty path segment "
       "at column 11",
       0},
      {R"({"capabilities": "some"})",
       "policy: capabilities: expected \"full\" or an array of capability "
       "names",
       0},
      {R"({"version": 2})",
       "policy: version: unsupported policy version (expected 1)", 0},
      {R"({"logon_type": {"terminal": "console"}})",
       "policy: logon_type.terminal: expected one of interactive, network, "
       "batch, service, network-cleartext, new-credentials",
       0},
      {R"({"no_new_privs": {"allow_elevation": "yes"}})",
       "policy: no_new_privs.allow_elevation: expected true or false, found a "
       "string",
       0},
      {R"({"mandatory_policy": ["no-read-up"]})",
       "policy: mandatory_policy[0]: expected \"no-write-up\" or "
       "\"new-process-min\"",
       0},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto policy = MintingPolicy::Parse(row.text);
    REQUIRE_FALSE(policy);
    CHECK(policy.error().code == ErrorCode::kInvalidArgument);
    CHECK(policy.error().message == row.message);
    CHECK(policy.error().column == row.column);
  }
}

TEST_CASE("a policy serializes to JSON that parses back to the same settings") {
  const char* const policies[] = {
      "{}",
      R"({"integrity": 8208, "mandatory_policy": [], "capabilities": ["AT", "read@settings"]})",
      R"({"token_user_access": "QUERY|DUPLICATE", "logon_type": {"terminal": "network-cleartext"}})",
      R"({"elevation": {"admin_groups": ["admins", 4, "staff"], "full_integrity": "medium-plus"}})",
      R"({"baseline_privileges": {"present": ["SeChangeNotify"], "enabled": ["SeChangeNotify"]}, "no_new_privs": {"allow_elevation": true}})",
      R"({"domain_sid": "S-1-5-21-11-22-33"})",
      R"({"domain_sid": null})",
      R"({"directory": {"source": "none", "cache_seconds": 86400, "cache_entries": 1048576}})",
  };
  for (const char* text : policies) {
    INFO(text);
    auto policy = MintingPolicy::Parse(text);
    REQUIRE(policy);
    auto again = MintingPolicy::Parse(policy->ToJson().dump());
    REQUIRE(again);
    CHECK(again->settings() == policy->settings());
  }
}

TEST_CASE("the built-in default serializes to the documented default policy") {
  // docs/policy.md, "The built-in default".
  const json expected = {
      {"version", 1},
      {"baseline_privileges",
       {{"present",
         {"SeShutdown", "SeChangeNotify", "SeUndock", "SeIncreaseWorkingSet",
          "SeTimeZone"}},
        {"enabled", {"SeChangeNotify"}}}},
      {"integrity", "medium"},
      {"mandatory_policy", {"no-write-up"}},
      {"token_user_access",
       "DUPLICATE | QUERY | ADJUST_PRIVILEGES | ADJUST_GROUPS | "
       "ADJUST_DEFAULT | READ_CONTROL"},
      {"capabilities", "full"},
      {"logon_type",
       {{"terminal", "interactive"},
        {"session", "batch"},
        {"no_session", "service"}}},
      {"elevation",
       {{"admin_groups", {"sudo", "wheel", "admin"}},
        {"limited_removed_privileges",
         {"SeCreateToken", "SeAssignPrimaryToken", "SeTcb", "SeSecurity",
          "SeTakeOwnership", "SeLoadDriver", "SeBackup", "SeRestore", "SeDebug",
          "SeImpersonate", "SeRelabel"}},
        {"full_privileges",
         {"SeIncreaseQuota", "SeSecurity", "SeLoadDriver", "SeSystemtime",
          "SeProfileSingleProcess", "SeIncreaseBasePriority", "SeBackup",
          "SeRestore", "SeShutdown", "SeChangeNotify", "SeRemoteShutdown",
          "SeImpersonate", "SeCreateSymbolicLink"}},
        {"full_integrity", "high"}}},
      {"no_new_privs",
       {{"add_mandatory_policy", {"new-process-min"}},
        {"allow_elevation", false}}},
      {"domain_sid", nullptr},
      {"directory",
       {{"source", "winbind"},
        {"cache_seconds", 300},
        {"deadline_ms", 200},
        {"cache_entries", 4096}}},
  };
  CHECK(MintingPolicy::Default().ToJson() == expected);
}

}  // namespace
}  // namespace tokenfs
