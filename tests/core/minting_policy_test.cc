#include "core/minting_policy.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "core/capability.h"
#include "core/privilege.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

// Expected tokens follow the rules written in docs/policy.md (which come from
// design §3, peios-model notes §4.2-4.3 and §1.15-1.17); masks are summed by
// hand from the privilege bit numbers of the catalog.

namespace tokenfs {
namespace {

using nlohmann::json;
namespace cap = linux_capability;

constexpr uint64_t kNow = 1714979289000000010ull;

uint64_t Privs(std::initializer_list<int> bits) {
  uint64_t mask = 0;
  for (int bit : bits) mask |= privilege::Bit(bit);
  return mask;
}

uint64_t Caps(std::initializer_list<int> capabilities) {
  uint64_t mask = 0;
  for (int capability : capabilities) mask |= cap::Bit(capability);
  return mask;
}

// Bits 0..40: every capability of a current kernel.
constexpr uint64_t kFullCaps = test::kFullCapabilities;
// Root on the CI machines: everything but CAP_SYS_RESOURCE (bit 24).
constexpr uint64_t kCiRootCaps = 0x1fffeffffffull;
// SeChangeNotify, SeShutdown, SeUndock, SeIncreaseWorkingSet, SeTimeZone:
// bits 23, 19, 25, 33, 34.
constexpr uint64_t kUserBaseline = 0x602880000ull;
constexpr uint64_t kChangeNotify = 0x800000ull;
// Peios' administrator set (bits 5 8 10 12 13 14 17 18 19 23 24 29 35).
constexpr uint64_t kAdminSet = 0x00000008218E7520ull;

LinuxCredentials Root(uint64_t caps) { return test::RootCredentials(caps); }
LinuxCredentials Alice() { return test::AliceCredentials(); }

struct Minter {
  LuidAllocator ids{0x10000};
  test::FixedClock clock{kNow};
  test::FakeAccounts accounts{{{1000, "alice"}},
                              {{27, "sudo"}, {100, "users"}, {1000, "alice"}}};

  Result<MintedIdentity> Mint(
      const LinuxCredentials& credentials,
      const MintingPolicy& policy = MintingPolicy::Default(),
      bool with_accounts = true) {
    return policy.Mint(
        credentials,
        MintContext{ids, clock, with_accounts ? &accounts : nullptr});
  }
};

std::vector<SidAndAttributes> Groups(
    std::initializer_list<std::pair<Sid, uint32_t>> entries) {
  std::vector<SidAndAttributes> out;
  for (const auto& [sid, attributes] : entries)
    out.push_back({sid, attributes});
  return out;
}

Acl AllowAll(std::initializer_list<std::pair<Sid, uint32_t>> entries) {
  Acl acl;
  for (const auto& [sid, mask] : entries) {
    acl.aces.push_back(Ace{
        .type = AceType::kAccessAllowed, .mask = AccessMask(mask), .sid = sid});
  }
  return acl;
}

// ---- The mapping table ----

TEST_CASE("the capability table inverts Peios' privilege switchboard") {
  // notes §1.15: capability -> privilege pairs of the switchboard.
  const std::pair<int, int> switchboard[] = {
      {cap::kLinuxImmutable, privilege::kTcb},
      {cap::kNetBindService, privilege::kBindPrivilegedPort},
      {cap::kNetAdmin, privilege::kTcb},
      {cap::kNetRaw, privilege::kTcb},
      {cap::kIpcLock, privilege::kLockMemory},
      {cap::kSysModule, privilege::kLoadDriver},
      {cap::kSysRawio, privilege::kTcb},
      {cap::kSysChroot, privilege::kTcb},
      {cap::kSysPtrace, privilege::kDebug},
      {cap::kSysPacct, privilege::kTcb},
      {cap::kSysAdmin, privilege::kTcb},
      {cap::kSysBoot, privilege::kShutdown},
      {cap::kSysNice, privilege::kIncreaseBasePriority},
      {cap::kSysResource, privilege::kIncreaseQuota},
      {cap::kSysTime, privilege::kSystemtime},
      {cap::kSysTtyConfig, privilege::kTcb},
      {cap::kMknod, privilege::kTcb},
      {cap::kAuditWrite, privilege::kAudit},
      {cap::kAuditControl, privilege::kSecurity},
      {cap::kMacAdmin, privilege::kSecurity},
      {cap::kSyslog, privilege::kTcb},
      {cap::kWakeAlarm, privilege::kTcb},
      {cap::kBlockSuspend, privilege::kTcb},
      {cap::kAuditRead, privilege::kSecurity},
      {cap::kPerfmon, privilege::kProfileSingleProcess},
      {cap::kBpf, privilege::kTcb},
      {cap::kCheckpointRestore, privilege::kTcb},
  };
  for (const auto& [capability, bit] : switchboard) {
    INFO("capability " << capability << " privilege " << bit);
    CHECK((PrivilegesForCapabilities(cap::Bit(capability)) &
           privilege::Bit(bit)) != 0);
    CHECK((CapabilitiesForPrivilege(bit) & cap::Bit(capability)) != 0);
  }
}

TEST_CASE("the capability table maps the file and identity capabilities") {
  CHECK(CapabilitiesForPrivilege(privilege::kBackup) ==
        Caps({cap::kDacReadSearch}));
  CHECK(CapabilitiesForPrivilege(privilege::kRestore) ==
        Caps({cap::kDacOverride}));
  CHECK(CapabilitiesForPrivilege(privilege::kTakeOwnership) ==
        Caps({cap::kChown, cap::kFowner}));
  CHECK(CapabilitiesForPrivilege(privilege::kImpersonate) ==
        Caps({cap::kSetuid}));
  CHECK(CapabilitiesForPrivilege(privilege::kAssignPrimaryToken) ==
        Caps({cap::kSetuid, cap::kSetgid}));
  CHECK(CapabilitiesForPrivilege(privilege::kChangeNotify) == 0);
  CHECK(CapabilitiesForPrivilege(privilege::kCreateToken) == 0);
  CHECK(PrivilegesForCapabilities(Caps({cap::kSysAdmin})) ==
        Privs({privilege::kTcb, privilege::kCreatePagefile,
               privilege::kSystemEnvironment, privilege::kManageVolume}));
}

TEST_CASE(
    "privileges no capability maps to are the ones root gets by "
    "CAP_SYS_ADMIN") {
  // Bits 2 6 16 25 26 27 30 31 33 35 62.
  CHECK(UnmappedPrivileges() == 0x4000000ACE010044ull);
}

TEST_CASE("a capability is dropped when any privilege it maps to is absent") {
  CHECK(CapabilitiesToDrop(privilege::kCatalogMask) == 0);
  const uint64_t drop = CapabilitiesToDrop(
      privilege::kCatalogMask & ~privilege::Bit(privilege::kImpersonate));
  CHECK(drop == Caps({cap::kSetuid}));
  const uint64_t user_drop = CapabilitiesToDrop(kUserBaseline);
  CHECK((user_drop & Caps({cap::kSysAdmin, cap::kSysPtrace, cap::kSetuid,
                           cap::kSysBoot})) ==
        Caps({cap::kSysAdmin, cap::kSysPtrace, cap::kSetuid, cap::kSysBoot}));
  // Capabilities the table never mentions are left to the daemon.
  CHECK((user_drop & Caps({cap::kKill, cap::kSetpcap, cap::kLease})) == 0);
}

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
    const char* fragment;
    int column;
  };
  const Row rows[] = {
      // 22 characters, so the missing '}' is noticed at column 23.
      {R"({"integrity": "medium")", "syntax error at line 1, column 23", 23},
      {"", "syntax error at line 1, column 1", 1},
      // The literal "tru" ends at the newline, column 11 of line 2.
      {"{\n  \"x\": tru\n}", "syntax error at line 2, column 11", 11},
      // Junk after the object: the 'x' at column 9.
      {R"({"a":1} x)", "syntax error at line 1, column 9", 9},
      {"[1]", "policy: (top level): expected an object, found an array", 0},
      {R"({"integrity": "medium", "integrity": "low"})",
       "policy: integrity: duplicate key 'integrity'", 0},
      {R"({"elevation": {"admin_groups": [], "admin_groups": []}})",
       "policy: elevation.admin_groups: duplicate key 'admin_groups'", 0},
      {R"({"colour": 1})",
       "policy: colour: unknown key 'colour' (expected one of: version, "
       "baseline_privileges, integrity, mandatory_policy, token_user_access, "
       "capabilities, logon_type, elevation, no_new_privs)",
       0},
      {R"({"elevation": {"admin_group": ["sudo"]}})",
       "policy: elevation.admin_group: unknown key 'admin_group'", 0},
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
       "policy: integrity: unknown integrity level 'extreme'", 0},
      {R"({"token_user_access": "QUERY|FLY"})",
       "policy: token_user_access: unknown access right 'FLY'", 0},
      {R"({"token_user_access": "ACCESS_SYSTEM_SECURITY"})",
       "policy: token_user_access: rights outside TOKEN_ALL_ACCESS "
       "(ACCESS_SYSTEM_SECURITY) cannot be granted on a token",
       0},
      {R"({"token_user_access": true})",
       "policy: token_user_access: expected token rights", 0},
      {R"({"capabilities": ["tokeninfo:"]})", "policy: capabilities[0]: ", 0},
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
    CHECK_THAT(policy.error().message, Catch::Contains(row.fragment));
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
  };
  CHECK(MintingPolicy::Default().ToJson() == expected);
}

TEST_CASE("settings built in code are validated like a policy file") {
  MintingSettings settings = MintingPolicy::Default().settings();
  settings.baseline_enabled |= privilege::Bit(privilege::kDebug);
  auto policy = MintingPolicy::Create(settings);
  REQUIRE_FALSE(policy);
  CHECK_THAT(policy.error().message,
             Catch::Contains("SeDebug is enabled but not in"));

  settings = MintingPolicy::Default().settings();
  settings.baseline_present |= privilege::Bit(40);
  CHECK_FALSE(MintingPolicy::Create(settings));

  settings = MintingPolicy::Default().settings();
  settings.mandatory_policy = 0x4;
  CHECK_FALSE(MintingPolicy::Create(settings));
}

// ---- Minting ----

TEST_CASE(
    "full-capability root mints the boot SYSTEM shape with every privilege") {
  Minter minter;
  auto minted = minter.Mint(Root(kFullCaps));
  REQUIRE(minted);
  CHECK_FALSE(minted->linked_full);
  const Token& token = minted->token;
  CHECK(ValidateToken(token));
  CHECK(token.user == well_known::LocalSystem());
  CHECK(token.groups == Groups({{well_known::Administrators(), 0xf},
                                {well_known::Everyone(), 0x7},
                                {well_known::AuthenticatedUsers(), 0x7},
                                {well_known::Local(), 0x7},
                                {well_known::LogonSid(0), 0xc0000007}}));
  CHECK(token.owner_index == 0);
  CHECK(token.primary_group_index == 1);
  CHECK(token.privileges.present == privilege::kCatalogMask);
  CHECK(token.privileges.enabled == privilege::kCatalogMask);
  CHECK(token.privileges.enabled_by_default == privilege::kCatalogMask);
  CHECK(token.privileges.used == 0);
  CHECK(token.integrity_rid == kIntegritySystem);
  CHECK(token.mandatory_policy == 0x3);
  CHECK(token.default_dacl ==
        std::optional<Acl>(
            AllowAll({{well_known::LocalSystem(), 0x10000000},
                      {well_known::Administrators(), 0x10000000}})));
  CHECK(token.auth_id == Luid{0});
  CHECK(token.logon_type == LogonType::kService);
  CHECK(token.interactive_session_id == 0);
  CHECK(token.type == TokenType::kPrimary);
  CHECK(token.impersonation_level == ImpersonationLevel::kAnonymous);
  CHECK(token.elevation_type == ElevationType::kDefault);
  CHECK(token.source == TokenSource::Make("tokenfs", Luid{1}));
  CHECK(token.token_id == Luid{0x10000});
  CHECK(token.modified_id == token.token_id);
  CHECK(token.created_ns == kNow);
  CHECK(token.projected_uid == 0);
  CHECK(token.projected_gid == 0);
  CHECK(token.capabilities == FullCapabilitySet());
  // SYSTEM's own token: only SYSTEM, with every right.
  CHECK(token.security.owner == well_known::LocalSystem());
  CHECK(token.security.dacl ==
        std::optional<Acl>(AllowAll({{well_known::LocalSystem(), 0xf01ff}})));
}

TEST_CASE(
    "root without CAP_SYS_RESOURCE keeps every privilege but SeIncreaseQuota") {
  Minter minter;
  auto minted = minter.Mint(Root(kCiRootCaps));
  REQUIRE(minted);
  const PrivilegeSet& privileges = minted->token.privileges;
  CHECK(privileges.present ==
        (privilege::kCatalogMask & ~privilege::Bit(privilege::kIncreaseQuota)));
  for (int bit :
       {privilege::kTcb, privilege::kCreateToken,
        privilege::kAssignPrimaryToken, privilege::kDebug,
        privilege::kImpersonate, privilege::kChangeNotify, privilege::kSecurity,
        privilege::kTakeOwnership, privilege::kBackup, privilege::kRestore,
        privilege::kRelabel}) {
    INFO(PrivilegeShortName(bit));
    CHECK(privileges.IsPresent(bit));
    CHECK(privileges.IsEnabled(bit));
  }
}

TEST_CASE("root with reduced capabilities holds only the mapped privileges") {
  Minter minter;
  LinuxCredentials credentials =
      Root(Caps({cap::kNetBindService, cap::kSetuid}));
  credentials.cap_effective = Caps({cap::kNetBindService});
  credentials.audit_session_id = 5;
  credentials.has_terminal = true;
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  const Token& token = minted->token;
  CHECK(token.privileges.present ==
        (kUserBaseline |
         Privs({privilege::kBindPrivilegedPort, privilege::kAssignPrimaryToken,
                privilege::kImpersonate})));
  CHECK(token.privileges.enabled ==
        (kChangeNotify | Privs({privilege::kBindPrivilegedPort})));
  // Still Local System in its logon session, without Unix or Interactive
  // groups.
  CHECK(token.user == well_known::LocalSystem());
  CHECK(token.groups.size() == 5);
  CHECK(token.groups.back().sid == well_known::LogonSid(5));
  CHECK(token.auth_id == Luid{5});
  CHECK(token.logon_type == LogonType::kInteractive);
  CHECK(token.interactive_session_id == 5);
}

TEST_CASE(
    "an ordinary user gets Unix groups, well-known groups and a logon SID") {
  Minter minter;
  auto minted = minter.Mint(Alice());
  REQUIRE(minted);
  CHECK_FALSE(minted->linked_full);
  const Token& token = minted->token;
  CHECK(ValidateToken(token));
  CHECK(token.user == well_known::UnixUser(1000));
  // The primary gid first; 1000 is not repeated from the supplementary list.
  CHECK(token.groups == Groups({{well_known::UnixGroup(1000), 0x7},
                                {well_known::UnixGroup(100), 0x7},
                                {well_known::Everyone(), 0x7},
                                {well_known::AuthenticatedUsers(), 0x7},
                                {well_known::Users(), 0x7},
                                {well_known::Local(), 0x7},
                                {well_known::LogonSid(42), 0xc0000007}}));
  CHECK(token.owner_index == 0);
  CHECK(token.primary_group_index == 1);
  CHECK(token.PrimaryGroup() == well_known::UnixGroup(1000));
  CHECK(token.integrity_rid == kIntegrityMedium);
  CHECK(token.mandatory_policy == mandatory_policy::kNoWriteUp);
  CHECK(token.privileges.present == kUserBaseline);
  CHECK(token.privileges.enabled == kChangeNotify);
  CHECK(token.privileges.enabled_by_default == kChangeNotify);
  CHECK(token.auth_id == Luid{42});
  CHECK(token.logon_type == LogonType::kBatch);
  CHECK(token.interactive_session_id == 42);
  CHECK(token.default_dacl == std::optional<Acl>(AllowAll(
                                  {{well_known::UnixUser(1000), 0x10000000},
                                   {well_known::LocalSystem(), 0x10000000}})));
  CHECK(token.projected_uid == 1000);
  CHECK(token.projected_gid == 1000);
  CHECK(token.projected_supplementary_gids == std::vector<uint32_t>{100, 1000});
  CHECK(token.capabilities == FullCapabilitySet());
  // Owned by SYSTEM; the user may query, adjust, read the SD and duplicate:
  // 0x8 | 0x20 | 0x40 | 0x80 | 0x2 | 0x20000.
  CHECK(token.security.owner == well_known::LocalSystem());
  CHECK(token.security.group == well_known::LocalSystem());
  CHECK(token.security.dacl ==
        std::optional<Acl>(AllowAll({{well_known::UnixUser(1000), 0x200ea},
                                     {well_known::LocalSystem(), 0xf01ff}})));
}

TEST_CASE(
    "a user with a terminal is Interactive and in the Interactive group") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.has_terminal = true;
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  const Token& token = minted->token;
  CHECK(token.logon_type == LogonType::kInteractive);
  REQUIRE(token.groups.size() == 8);
  CHECK(token.groups[6] == SidAndAttributes{well_known::Interactive(), 0x7});
  CHECK(token.groups[7].sid == well_known::LogonSid(42));
}

TEST_CASE("a user outside any session gets a logon session of its own") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.audit_session_id = kAuditSessionUnset;
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  // The first allocated id (0x10000) becomes session 1-65536; the token id
  // is the next one.
  CHECK(minted->token.auth_id == Luid{0x100010000ull});
  CHECK(minted->token.groups.back().sid == Sid::Known(5, {5, 1, 0x10000}));
  CHECK(minted->token.token_id == Luid{0x10001});
  CHECK(minted->token.logon_type == LogonType::kService);
  CHECK(minted->token.interactive_session_id == 0);

  // Session 0 is SYSTEM's: a user claiming it is treated as outside any
  // session.
  credentials.audit_session_id = 0;
  auto second = minter.Mint(credentials);
  REQUIRE(second);
  CHECK(second->token.auth_id != Luid{0});
  CHECK(second->token.groups.back().sid != well_known::LogonSid(0));
}

TEST_CASE(
    "a user with CAP_NET_BIND_SERVICE ambient and effective may bind "
    "privileged ports") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  const uint64_t bind = Caps({cap::kNetBindService});
  credentials.cap_ambient = credentials.cap_inheritable = bind;
  credentials.cap_permitted = credentials.cap_effective = bind;
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  const PrivilegeSet& privileges = minted->token.privileges;
  CHECK(privileges.present == (kUserBaseline | privilege::Bit(63)));
  CHECK(privileges.enabled == (kChangeNotify | privilege::Bit(63)));
  CHECK(privileges.enabled_by_default == privileges.enabled);

  // Permitted but not effective: present, disabled, so it can be enabled.
  credentials.cap_effective = 0;
  auto lowered = minter.Mint(credentials);
  REQUIRE(lowered);
  CHECK(lowered->token.privileges.IsPresent(privilege::kBindPrivilegedPort));
  CHECK_FALSE(
      lowered->token.privileges.IsEnabled(privilege::kBindPrivilegedPort));
}

TEST_CASE(
    "capabilities held in another user namespace give no privilege (unshare "
    "-U -r)") {
  Minter minter;
  // What /proc shows for `unshare -U -r` run by alice: her kernel uid, and
  // every capability, held in her own user namespace.
  LinuxCredentials credentials = Alice();
  credentials.cap_permitted = credentials.cap_effective = kFullCaps;
  credentials.initial_user_namespace = false;
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  CHECK(minted->token.user == well_known::UnixUser(1000));
  CHECK(minted->token.privileges.present == kUserBaseline);
  CHECK(minted->token.privileges.enabled == kChangeNotify);
  CHECK_FALSE(minted->token.privileges.IsPresent(privilege::kTcb));
  CHECK_FALSE(minted->token.privileges.IsPresent(privilege::kDebug));
  // The same capabilities in the initial namespace are privileges.
  credentials.initial_user_namespace = true;
  auto initial = minter.Mint(credentials);
  REQUIRE(initial);
  CHECK(initial->token.privileges.IsEnabled(privilege::kDebug));
}

TEST_CASE(
    "root in another user namespace is minted as its kernel uid without "
    "privileges") {
  Minter minter;
  LinuxCredentials credentials = Root(kFullCaps);
  credentials.initial_user_namespace = false;
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  CHECK(minted->token.user == well_known::LocalSystem());
  CHECK_FALSE(minted->token.privileges.IsPresent(privilege::kTcb));
  CHECK_FALSE(minted->token.privileges.IsPresent(privilege::kCreateToken));
  CHECK_FALSE(minted->token.privileges.IsPresent(privilege::kDebug));
}

TEST_CASE("a capability counts only when held in the initial user namespace") {
  LinuxCredentials credentials = Alice();
  credentials.cap_permitted = credentials.cap_effective =
      Caps({cap::kSysPtrace});
  CHECK(HoldsCapability(credentials, cap::kSysPtrace));
  CHECK_FALSE(HoldsCapability(credentials, cap::kSysAdmin));
  credentials.initial_user_namespace = false;
  CHECK_FALSE(HoldsCapability(credentials, cap::kSysPtrace));
  // Effective without permitted does not count either.
  credentials = Alice();
  credentials.cap_effective = Caps({cap::kSysPtrace});
  CHECK_FALSE(HoldsCapability(credentials, cap::kSysPtrace));
}

TEST_CASE("an effective capability outside the permitted set enables nothing") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.cap_effective = Caps({cap::kSysPtrace});
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  CHECK_FALSE(minted->token.privileges.IsPresent(privilege::kDebug));
  CHECK(minted->token.privileges.enabled == kChangeNotify);
}

TEST_CASE(
    "a member of an administrator group gets a Limited token linked to a Full "
    "one") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.supplementary_gids = {27, 1000};
  credentials.cap_permitted = credentials.cap_effective =
      Caps({cap::kSysPtrace});
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  REQUIRE(minted->linked_full);
  const Token& limited = minted->token;
  const Token& full = *minted->linked_full;
  CHECK(ValidateToken(limited));
  CHECK(ValidateToken(full));

  const auto expected_groups = [](uint32_t admin_attributes) {
    return Groups({{well_known::UnixGroup(1000), 0x7},
                   {well_known::UnixGroup(27), 0x7},
                   {well_known::Everyone(), 0x7},
                   {well_known::AuthenticatedUsers(), 0x7},
                   {well_known::Users(), 0x7},
                   {well_known::Local(), 0x7},
                   {well_known::Administrators(), admin_attributes},
                   {well_known::LogonSid(42), 0xc0000007}});
  };
  CHECK(limited.groups == expected_groups(group_attributes::kUseForDenyOnly));
  CHECK(full.groups == expected_groups(0xf));

  CHECK(limited.elevation_type == ElevationType::kLimited);
  CHECK(full.elevation_type == ElevationType::kFull);
  CHECK(limited.integrity_rid == kIntegrityMedium);
  CHECK(full.integrity_rid == kIntegrityHigh);
  // SeDebug (from CAP_SYS_PTRACE) is removed from the Limited token only.
  CHECK(limited.privileges.present == kUserBaseline);
  CHECK(limited.privileges.enabled == kChangeNotify);
  CHECK(full.privileges.present ==
        (kUserBaseline | kAdminSet | privilege::Bit(privilege::kDebug)));
  CHECK(full.privileges.enabled ==
        (kChangeNotify | kAdminSet | privilege::Bit(privilege::kDebug)));
  CHECK(full.privileges.enabled_by_default == full.privileges.enabled);

  CHECK(limited.user == full.user);
  CHECK(limited.auth_id == full.auth_id);
  CHECK(limited.token_id == Luid{0x10000});
  CHECK(full.token_id == Luid{0x10001});
  CHECK(full.modified_id == full.token_id);
}

TEST_CASE("administrator groups are not recognized without account names") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.supplementary_gids = {27};
  auto minted = minter.Mint(credentials, MintingPolicy::Default(),
                            /*with_accounts=*/false);
  REQUIRE(minted);
  CHECK_FALSE(minted->linked_full);
  CHECK(minted->token.elevation_type == ElevationType::kDefault);
}

TEST_CASE("no_new_privs adds NEW_PROCESS_MIN and prevents elevation") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.no_new_privs = true;
  auto minted = minter.Mint(credentials);
  REQUIRE(minted);
  CHECK(minted->token.mandatory_policy == 0x3);

  credentials.supplementary_gids = {27};
  auto admin = minter.Mint(credentials);
  REQUIRE(admin);
  CHECK_FALSE(admin->linked_full);
  CHECK(admin->token.elevation_type == ElevationType::kDefault);
  // Still filtered: Administrators is deny-only.
  CHECK(admin->token.groups[admin->token.groups.size() - 2] ==
        SidAndAttributes{well_known::Administrators(),
                         group_attributes::kUseForDenyOnly});

  auto allowing =
      MintingPolicy::Parse(R"({"no_new_privs": {"allow_elevation": true}})");
  REQUIRE(allowing);
  auto elevated = minter.Mint(credentials, *allowing);
  REQUIRE(elevated);
  CHECK(elevated->linked_full);
}

TEST_CASE(
    "a custom policy changes integrity, privileges, capabilities and access") {
  auto policy = MintingPolicy::Parse(R"({
    "integrity": "low",
    "baseline_privileges": {"present": ["SeChangeNotify", "SeTimeZone"],
                            "enabled": ["SeTimeZone"]},
    "capabilities": ["tokeninfo"],
    "token_user_access": "QUERY",
    "logon_type": {"session": "network"},
    "elevation": {"admin_groups": [100], "full_integrity": "medium-plus",
                  "full_privileges": ["SeBackup"]}
  })");
  REQUIRE(policy);
  Minter minter;
  auto minted = minter.Mint(Alice(), *policy, /*with_accounts=*/false);
  REQUIRE(minted);
  const Token& token = minted->token;
  CHECK(token.integrity_rid == kIntegrityLow);
  // SeChangeNotify is always enabled, whatever the baseline says.
  CHECK(token.privileges.present ==
        Privs({privilege::kChangeNotify, privilege::kTimeZone}));
  CHECK(token.privileges.enabled ==
        Privs({privilege::kChangeNotify, privilege::kTimeZone}));
  REQUIRE(token.capabilities.size() == 1);
  CHECK(token.capabilities[0].name == "tokeninfo");
  CHECK(token.capabilities[0].sid == CapabilitySid("tokeninfo"));
  CHECK(token.logon_type == LogonType::kNetwork);
  REQUIRE(token.security.dacl);
  CHECK(token.security.dacl->aces[0].mask == AccessMask(0x8));
  // gid 100 is an administrator group by number.
  REQUIRE(minted->linked_full);
  CHECK(minted->linked_full->integrity_rid == kIntegrityMediumPlus);
  CHECK(minted->linked_full->privileges.present ==
        Privs({privilege::kChangeNotify, privilege::kTimeZone,
               privilege::kBackup}));
}

TEST_CASE(
    "every token keeps SeChangeNotify even if the policy lists it for "
    "removal") {
  auto policy = MintingPolicy::Parse(
      R"({"elevation": {"limited_removed_privileges": ["SeChangeNotify"]}})");
  REQUIRE(policy);
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.supplementary_gids = {27};
  auto minted = minter.Mint(credentials, *policy);
  REQUIRE(minted);
  CHECK(minted->token.privileges.IsEnabled(privilege::kChangeNotify));
}

TEST_CASE("more Linux groups than a token can hold are refused") {
  Minter minter;
  LinuxCredentials credentials = Alice();
  credentials.supplementary_gids.clear();
  for (uint32_t gid = 2000; gid < 3100; ++gid) {
    credentials.supplementary_gids.push_back(gid);
  }
  auto minted = minter.Mint(credentials);
  REQUIRE_FALSE(minted);
  CHECK(minted.error().code == ErrorCode::kResourceExhausted);
  CHECK_THAT(minted.error().message,
             Catch::Contains("exceed the token limit of 1024"));
}

}  // namespace
}  // namespace tokenfs
