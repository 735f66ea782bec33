#include "core/credential_change.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/privilege.h"
#include "core/token_operations.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

namespace cap = linux_capability;

constexpr uint64_t kFullCaps = test::kFullCapabilities;

LinuxCredentials Root() { return test::RootCredentials(); }
LinuxCredentials Alice() { return test::AliceCredentials(); }

LinuxCredentials Admin() {
  LinuxCredentials credentials = Alice();
  credentials.supplementary_gids = {27, 1000};
  return credentials;
}

// ---------------------------------------------------------------------------
// Classification: before, what the process did, the kind of change.

struct ClassifyCase {
  const char* what;
  LinuxCredentials before;
  std::function<void(LinuxCredentials&)> change;
  CredentialChange expected;
};

TEST_CASE("credential changes are told apart by what they gain") {
  using C = CredentialChange;
  const std::vector<ClassifyCase> cases = {
      {"nothing", Alice(), [](LinuxCredentials&) {}, C::kNone},
      {"a controlling terminal only", Alice(),
       [](LinuxCredentials& c) { c.has_terminal = true; }, C::kNone},
      {"no_new_privs set", Alice(),
       [](LinuxCredentials& c) { c.no_new_privs = true; }, C::kNarrowed},
      {"no_new_privs cleared (impossible: kept)",
       [] {
         LinuxCredentials c = Alice();
         c.no_new_privs = true;
         return c;
       }(),
       [](LinuxCredentials& c) { c.no_new_privs = false; }, C::kNarrowed},
      {"a user namespace entered (unshare -U -r)", Alice(),
       [](LinuxCredentials& c) {
         c.initial_user_namespace = false;
         c.cap_permitted = c.cap_effective = kFullCaps;
       },
       C::kNarrowed},
      {"root enters a user namespace", Root(),
       [](LinuxCredentials& c) { c.initial_user_namespace = false; },
       C::kNarrowed},
      {"a capability dropped from the permitted set", Root(),
       [](LinuxCredentials& c) {
         c.cap_permitted &= ~cap::Bit(cap::kSysPtrace);
         c.cap_effective &= ~cap::Bit(cap::kSysPtrace);
       },
       C::kNarrowed},
      {"an effective capability lowered", Root(),
       [](LinuxCredentials& c) {
         c.cap_effective &= ~cap::Bit(cap::kSysAdmin);
       },
       C::kNarrowed},
      {"an effective capability raised from the permitted set",
       [] {
         LinuxCredentials c = Root();
         c.cap_effective = 0;
         return c;
       }(),
       [](LinuxCredentials& c) { c.cap_effective = kFullCaps; }, C::kNarrowed},
      {"a file capability gained at exec", Alice(),
       [](LinuxCredentials& c) {
         c.cap_permitted = c.cap_effective = cap::Bit(cap::kSysPtrace);
       },
       C::kNewIdentity},
      {"root's capabilities regained at exec",
       [] {
         LinuxCredentials c = Root();
         c.cap_permitted = c.cap_effective = 0;
         return c;
       }(),
       [](LinuxCredentials& c) {
         c.cap_permitted = c.cap_effective = kFullCaps;
       },
       C::kNewIdentity},
      {"back in the initial user namespace with capabilities",
       [] {
         LinuxCredentials c = Root();
         c.initial_user_namespace = false;
         return c;
       }(),
       [](LinuxCredentials& c) { c.initial_user_namespace = true; },
       C::kNewIdentity},
      {"a set-user-ID exec", Alice(),
       [](LinuxCredentials& c) { c.effective_uid = c.saved_uid = 0; },
       C::kNewIdentity},
      {"a set-group-ID exec", Alice(),
       [](LinuxCredentials& c) { c.effective_gid = c.saved_gid = 42; },
       C::kNewIdentity},
      {"a filesystem uid switched", Alice(),
       [](LinuxCredentials& c) { c.fs_uid = 1001; }, C::kNewIdentity},
      {"a supplementary group dropped", Alice(),
       [](LinuxCredentials& c) { c.supplementary_gids = {1000}; },
       C::kNarrowed},
      {"a supplementary group added", Alice(),
       [](LinuxCredentials& c) {
         c.supplementary_gids = {100, 1000, 27};
       },
       C::kNewIdentity},
      {"a set-group-ID exec of one of its own groups", Alice(),
       [](LinuxCredentials& c) { c.effective_gid = c.saved_gid = 100; },
       C::kNarrowed},
      {"a saved uid dropped",
       [] {
         LinuxCredentials c = Alice();
         c.saved_uid = 2000;
         return c;
       }(),
       [](LinuxCredentials& c) { c.saved_uid = 1000; }, C::kNarrowed},
      {"the effective uid switched to the saved one",
       [] {
         LinuxCredentials c = Alice();
         c.saved_uid = 2000;
         return c;
       }(),
       [](LinuxCredentials& c) { c.effective_uid = c.fs_uid = 2000; },
       C::kNewIdentity},
      {"root drops to a user", Root(),
       [](LinuxCredentials& c) {
         c.real_uid = c.effective_uid = c.saved_uid = c.fs_uid = 1000;
         c.cap_permitted = c.cap_effective = 0;
       },
       C::kNewIdentity},
  };
  for (const ClassifyCase& test : cases) {
    INFO(test.what);
    LinuxCredentials after = test.before;
    test.change(after);
    CHECK(ClassifyCredentialChange(test.before, after) == test.expected);
    CHECK(SameCredentials(test.before, after) ==
          (test.expected == CredentialChange::kNone));
  }
}

// ---------------------------------------------------------------------------
// Narrowing, with the real minting policy.

struct Minter {
  LuidAllocator ids{0x10000};
  test::FixedClock clock{1714979289000000010ull};
  test::FakeAccounts accounts{{{1000, "alice"}},
                              {{27, "sudo"}, {100, "users"}, {1000, "alice"}}};
  MintedIdentity Mint(const LinuxCredentials& credentials,
                      const MintingPolicy& policy = MintingPolicy::Default()) {
    auto minted = policy.Mint(credentials, MintContext{ids, clock, &accounts});
    REQUIRE(minted);
    return std::move(*minted);
  }
};

const SidAndAttributes* Group(const Token& token, const Sid& sid) {
  for (const SidAndAttributes& group : token.groups) {
    if (group.sid == sid) return &group;
  }
  return nullptr;
}

TEST_CASE(
    "a restricted, lowered token that sets no_new_privs keeps every "
    "restriction") {
  Minter minter;
  Token held = minter.Mint(Alice()).token;
  held.restricted_sids = std::vector<SidAndAttributes>{
      {well_known::UnixUser(1000), group_attributes::kRestrictingSid}};
  held.privileges.present &= ~privilege::Bit(privilege::kShutdown);
  held.privileges.enabled &= ~privilege::Bit(privilege::kShutdown);
  held.integrity_rid = kIntegrityLow;
  LinuxCredentials after = Alice();
  after.no_new_privs = true;

  const Token narrowed =
      NarrowToCredentials(held, minter.Mint(Alice()), minter.Mint(after));
  CHECK(narrowed.restricted_sids == held.restricted_sids);
  CHECK_FALSE(narrowed.privileges.IsPresent(privilege::kShutdown));
  CHECK(narrowed.integrity_rid == kIntegrityLow);
  CHECK(narrowed.mandatory_policy ==
        (mandatory_policy::kNoWriteUp | mandatory_policy::kNewProcessMin));
  CHECK(narrowed.user == held.user);
  CHECK(narrowed.token_id == held.token_id);  // the caller gives a new one
  CHECK(IsNoLooserThan(narrowed, held));
}

TEST_CASE("a user namespace leaves a held user token as it was") {
  Minter minter;
  Token held = minter.Mint(Alice()).token;
  held.privileges.enabled = 0;
  LinuxCredentials after = Alice();
  after.initial_user_namespace = false;
  after.cap_permitted = after.cap_effective = kFullCaps;

  const Token narrowed =
      NarrowToCredentials(held, minter.Mint(Alice()), minter.Mint(after));
  CHECK(narrowed == held);
}

TEST_CASE(
    "root that drops a capability loses its privilege and keeps its "
    "adjustments") {
  Minter minter;
  Token held = minter.Mint(Root()).token;
  REQUIRE(held.privileges.IsPresent(privilege::kDebug));
  REQUIRE(held.privileges.IsPresent(privilege::kBackup));
  held.privileges.present &= ~privilege::Bit(privilege::kBackup);
  held.privileges.enabled &= ~privilege::Bit(privilege::kBackup);
  held.integrity_rid = kIntegrityHigh;
  LinuxCredentials after = Root();
  after.cap_permitted &= ~cap::Bit(cap::kSysPtrace);
  after.cap_effective &= ~cap::Bit(cap::kSysPtrace);

  const Token narrowed =
      NarrowToCredentials(held, minter.Mint(Root()), minter.Mint(after));
  CHECK_FALSE(narrowed.privileges.IsPresent(privilege::kDebug));
  CHECK_FALSE(narrowed.privileges.IsPresent(privilege::kBackup));
  CHECK(narrowed.privileges.IsPresent(privilege::kTcb));
  CHECK(narrowed.integrity_rid == kIntegrityHigh);
  CHECK(narrowed.user == well_known::LocalSystem());
  CHECK(IsNoLooserThan(narrowed, held));
}

TEST_CASE("root in a new user namespace keeps only the baseline privileges") {
  Minter minter;
  const Token held = minter.Mint(Root()).token;
  LinuxCredentials after = Root();
  after.initial_user_namespace = false;
  const MintedIdentity fresh = minter.Mint(after);

  const Token narrowed = NarrowToCredentials(held, minter.Mint(Root()), fresh);
  CHECK(narrowed.privileges.present == fresh.token.privileges.present);
  CHECK_FALSE(narrowed.privileges.IsPresent(privilege::kTcb));
  CHECK((narrowed.privileges.enabled & ~narrowed.privileges.present) == 0);
  CHECK(IsNoLooserThan(narrowed, held));
}

TEST_CASE(
    "an elevated administrator that sets no_new_privs falls to an unlinked "
    "filtered token") {
  Minter minter;
  const MintedIdentity pair = minter.Mint(Admin());
  REQUIRE(pair.linked_full);
  const Token& full = *pair.linked_full;
  LinuxCredentials after = Admin();
  after.no_new_privs = true;
  const MintedIdentity fresh = minter.Mint(after);
  REQUIRE_FALSE(fresh.linked_full);

  const Token narrowed = NarrowToCredentials(full, minter.Mint(Admin()), fresh);
  CHECK(narrowed.elevation_type == ElevationType::kDefault);
  CHECK(narrowed.integrity_rid == kIntegrityMedium);
  CHECK(narrowed.privileges.present == fresh.token.privileges.present);
  const SidAndAttributes* admins =
      Group(narrowed, well_known::Administrators());
  REQUIRE(admins);
  CHECK(admins->attributes == group_attributes::kUseForDenyOnly);
  CHECK(narrowed.owner_index == 0);  // it owned objects as Administrators
  CHECK(IsNoLooserThan(narrowed, full));

  // The Limited half it ran with loses its link the same way.
  const Token limited =
      NarrowToCredentials(pair.token, minter.Mint(Admin()), fresh);
  CHECK(limited.elevation_type == ElevationType::kDefault);
  CHECK(limited.privileges == pair.token.privileges);
}

TEST_CASE(
    "when elevation survives no_new_privs, a Full token is bounded by the "
    "Full half") {
  auto allowing =
      MintingPolicy::Parse(R"({"no_new_privs": {"allow_elevation": true}})");
  REQUIRE(allowing);
  Minter minter;
  const MintedIdentity pair = minter.Mint(Admin(), *allowing);
  REQUIRE(pair.linked_full);
  LinuxCredentials after = Admin();
  after.no_new_privs = true;
  const MintedIdentity fresh = minter.Mint(after, *allowing);
  REQUIRE(fresh.linked_full);

  const Token narrowed = NarrowToCredentials(
      *pair.linked_full, minter.Mint(Admin(), *allowing), fresh);
  CHECK(narrowed.elevation_type == ElevationType::kFull);
  CHECK(narrowed.integrity_rid == kIntegrityHigh);
  CHECK(narrowed.privileges == pair.linked_full->privileges);
  CHECK(Group(narrowed, well_known::Administrators())->attributes == 0xf);
  CHECK((narrowed.mandatory_policy & mandatory_policy::kNewProcessMin) != 0);
}

TEST_CASE(
    "privileges enabled by a capability the process lost are disabled, "
    "those the holder enabled stay") {
  Minter minter;
  // setpriv keeps its capabilities across setresuid (PR_SET_KEEPCAPS) until
  // it execs the user's program, which loses them.
  LinuxCredentials keeping = Alice();
  keeping.cap_permitted = keeping.cap_effective =
      cap::Bit(cap::kSysBoot) | cap::Bit(cap::kSysTime);
  const MintedIdentity before = minter.Mint(keeping);
  REQUIRE(before.token.privileges.IsEnabled(privilege::kShutdown));
  const MintedIdentity after = minter.Mint(Alice());
  REQUIRE_FALSE(after.token.privileges.IsEnabled(privilege::kShutdown));

  const Token narrowed = NarrowToCredentials(before.token, before, after);
  CHECK(narrowed.privileges.present == after.token.privileges.present);
  CHECK(narrowed.privileges.enabled == after.token.privileges.enabled);
  CHECK(narrowed.privileges.enabled_by_default ==
        after.token.privileges.enabled_by_default);

  // Alice enabled SeShutdown herself, then set no_new_privs: it stays.
  Token held = after.token;
  held.privileges.enabled |= privilege::Bit(privilege::kShutdown);
  LinuxCredentials nnp = Alice();
  nnp.no_new_privs = true;
  const Token kept = NarrowToCredentials(held, after, minter.Mint(nnp));
  CHECK(kept.privileges.IsEnabled(privilege::kShutdown));
}

TEST_CASE("a Unix group the process dropped becomes deny-only") {
  Minter minter;
  const Token held = minter.Mint(Alice()).token;
  LinuxCredentials after = Alice();
  after.supplementary_gids = {1000};  // setgroups dropped users (100)
  const Token narrowed =
      NarrowToCredentials(held, minter.Mint(Alice()), minter.Mint(after));
  const SidAndAttributes* users = Group(narrowed, well_known::UnixGroup(100));
  REQUIRE(users);
  CHECK(users->attributes == group_attributes::kUseForDenyOnly);
  CHECK(Group(narrowed, well_known::UnixGroup(1000))->attributes ==
        Group(held, well_known::UnixGroup(1000))->attributes);
  // Groups that are not Unix groups stay as they are.
  CHECK(Group(narrowed, well_known::Everyone())->attributes ==
        Group(held, well_known::Everyone())->attributes);
  CHECK(IsNoLooserThan(narrowed, held));
}

TEST_CASE("a lowered integrity relabels the token's own descriptor") {
  auto low = MintingPolicy::Parse(R"({"integrity": "low"})");
  REQUIRE(low);
  Minter minter;
  Token held = minter.Mint(Alice()).token;
  LabelTokenSecurity(held);
  REQUIRE(held.integrity_rid == kIntegrityMedium);
  LinuxCredentials after = Alice();
  after.no_new_privs = true;
  const Token narrowed =
      NarrowToCredentials(held, minter.Mint(Alice()), minter.Mint(after, *low));
  CHECK(narrowed.integrity_rid == kIntegrityLow);
  REQUIRE(narrowed.security.sacl);
  bool labelled = false;
  for (const Ace& ace : narrowed.security.sacl->aces) {
    if (ace.type == AceType::kSystemMandatoryLabel) {
      labelled = ace.sid == well_known::IntegrityLevel(kIntegrityLow);
    }
  }
  CHECK(labelled);
}

}  // namespace
}  // namespace tokenfs
