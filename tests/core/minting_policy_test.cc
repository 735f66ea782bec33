#include "core/minting_policy.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "core/capability.h"
#include "core/privilege.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

// Expected tokens follow the rules written in docs/policy.md; masks are
// summed by hand from the privilege bit numbers of the catalog.

namespace tokenfs {
namespace {

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
