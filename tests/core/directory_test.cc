#include "core/directory.h"

#include <catch2/catch.hpp>
#include <string>

#include "core/minting_policy.h"
#include "core/well_known_sids.h"
#include "tests/support/fake_directory.h"
#include "tests/support/test_support.h"

// The directory cache and minting with a directory, against an in-memory
// directory. Expected tokens follow docs/policy.md §1.6 ("Directory
// users"); the real directory (a Samba AD DC) is exercised by
// tests/directory.

namespace tokenfs {
namespace {

constexpr uint64_t kSecond = 1000000000;
constexpr uint64_t kStart = 1765000000 * kSecond;

class SteppingClock : public Clock {
 public:
  uint64_t now = kStart;
  uint64_t NowNanoseconds() const override { return now; }
};

Sid S(const char* text) { return *Sid::Parse(text); }

const char* const kDomain = "S-1-5-21-1-2-3";
Sid Domain(uint32_t rid) {
  return S((std::string(kDomain) + "-" + std::to_string(rid)).c_str());
}

// alice: uid 3000015, in inner (1105) and through it the domain-local
// group dl2 (1109); Domain Users (513) is her primary group; the directory
// also lists BUILTIN\Users.
DirectoryUser Alice() {
  return DirectoryUser{
      Domain(1103),
      {Domain(513), Domain(1105), Domain(1109), well_known::Users()},
      {{Domain(1103), "TOKENFS\\alice"},
       {Domain(513), "TOKENFS\\Domain Users"},
       {Domain(1105), "TOKENFS\\inner"}}};
}

struct Fixture {
  test::FakeDirectory directory;
  SteppingClock clock;
  DirectoryCache cache{directory, clock,
                       DirectoryCache::Options{60 * kSecond, 16}};

  Fixture() {
    directory.users[3000015] = Alice();
    directory.groups[100] = Domain(513);
    directory.groups[3000016] = Domain(1105);
  }
};

TEST_CASE("a directory user is asked once per TTL") {
  Fixture f;
  const std::vector<uint32_t> gids = {100, 3000016, 5000};
  DirectoryAnswer first = f.cache.Resolve(3000015, gids);
  CHECK(first.origin == IdentityOrigin::kDirectory);
  REQUIRE(first.user);
  CHECK(*first.user == Alice());
  CHECK(first.fetched_ns == kStart);
  CHECK(first.group_sids == std::vector<std::optional<Sid>>{
                                Domain(513), Domain(1105), std::nullopt});
  CHECK(first.failure.empty());
  CHECK(f.directory.user_calls == 1);
  CHECK(f.directory.group_calls == 1);

  f.clock.now += 59 * kSecond;
  DirectoryAnswer cached = f.cache.Resolve(3000015, gids);
  CHECK(cached.origin == IdentityOrigin::kDirectory);
  CHECK(cached.fetched_ns == kStart);
  CHECK(f.directory.user_calls == 1);
  CHECK(f.directory.group_calls == 1);

  f.clock.now += 1 * kSecond;  // 60 s: expired
  DirectoryAnswer again = f.cache.Resolve(3000015, gids);
  CHECK(again.fetched_ns == kStart + 60 * kSecond);
  CHECK(f.directory.user_calls == 2);
  CHECK(f.directory.group_calls == 2);
}

TEST_CASE("a directory that stops answering leaves the cached answer") {
  Fixture f;
  const std::vector<uint32_t> gids = {100};
  f.cache.Resolve(3000015, gids);
  f.directory.down = true;
  f.clock.now += 600 * kSecond;
  DirectoryAnswer answer = f.cache.Resolve(3000015, gids);
  CHECK(answer.origin == IdentityOrigin::kDirectoryCached);
  REQUIRE(answer.user);
  CHECK(answer.user->user == Domain(1103));
  CHECK(answer.fetched_ns == kStart);
  CHECK(answer.group_sids == std::vector<std::optional<Sid>>{Domain(513)});
  CHECK(answer.failure ==
        "winbind: wbcUidToSid: WBC_ERR_WINBIND_NOT_AVAILABLE");
}

TEST_CASE("a directory down with nothing cached falls back to local") {
  Fixture f;
  f.cache.Resolve(1000, std::vector<uint32_t>{1000});  // answered: local
  f.directory.down = true;
  DirectoryAnswer answer = f.cache.Resolve(3000015, std::vector<uint32_t>{100});
  CHECK(answer.origin == IdentityOrigin::kLocalFallback);
  CHECK_FALSE(answer.user);
  CHECK(answer.group_sids == std::vector<std::optional<Sid>>{std::nullopt});
  CHECK_FALSE(answer.failure.empty());
}

TEST_CASE("a directory that never answered means a host without one") {
  Fixture f;
  f.directory.down = true;
  DirectoryAnswer answer = f.cache.Resolve(3000015, std::vector<uint32_t>{100});
  CHECK(answer.origin == IdentityOrigin::kLocal);
  CHECK_FALSE(answer.user);
  CHECK(answer.failure.empty());
  CHECK_FALSE(f.cache.joined());
  CHECK(f.directory.group_calls == 0);
}

TEST_CASE("a directory that never answered is asked at most once a second") {
  Fixture f;
  f.directory.down = true;
  f.cache.Resolve(1000, {});
  f.cache.Resolve(1001, {});
  f.clock.now += kSecond - 1;
  f.cache.Resolve(1002, {});
  CHECK(f.directory.user_calls == 1);
  f.clock.now += 1;
  f.directory.down = false;  // winbind starts
  DirectoryAnswer answer = f.cache.Resolve(3000015, {});
  CHECK(f.directory.user_calls == 2);
  CHECK(answer.origin == IdentityOrigin::kDirectory);
}

TEST_CASE("a local uid stays local, a mapped gid gets its SID") {
  Fixture f;
  DirectoryAnswer answer =
      f.cache.Resolve(1000, std::vector<uint32_t>{1000, 100});
  CHECK(answer.origin == IdentityOrigin::kLocal);
  CHECK_FALSE(answer.user);
  CHECK(answer.group_sids ==
        std::vector<std::optional<Sid>>{std::nullopt, Domain(513)});
  CHECK(f.cache.joined());
}

TEST_CASE("Unix User/Group SIDs from the directory count as unmapped") {
  Fixture f;
  f.directory.groups[1000] = S("S-1-22-2-1000");
  DirectoryAnswer answer = f.cache.Resolve(1000, std::vector<uint32_t>{1000});
  CHECK(answer.group_sids == std::vector<std::optional<Sid>>{std::nullopt});
  CHECK_FALSE(IsDirectorySid(S("S-1-22-1-5")));
  CHECK_FALSE(IsDirectorySid(S("S-1-0-0")));
  CHECK(IsDirectorySid(Domain(513)));
  CHECK(IsDirectorySid(well_known::Users()));
}

TEST_CASE("the cache holds at most max_entries uids") {
  Fixture f;
  for (uint32_t uid = 1; uid <= 16; ++uid) f.cache.Resolve(uid, {});
  CHECK(f.directory.user_calls == 16);
  f.cache.Resolve(1, {});
  CHECK(f.directory.user_calls == 16);  // still cached
  f.cache.Resolve(17, {});              // full: starts over
  f.cache.Resolve(1, {});
  CHECK(f.directory.user_calls == 18);
}

TEST_CASE("names come from cached answers only") {
  Fixture f;
  CHECK_FALSE(f.cache.SidName(Domain(1103)));
  f.cache.Resolve(3000015, {});
  CHECK(f.cache.SidName(Domain(1103)) == "TOKENFS\\alice");
  CHECK(f.cache.SidName(Domain(1105)) == "TOKENFS\\inner");
  CHECK_FALSE(f.cache.SidName(Domain(1109)));  // the directory named none
}

// ---- Minting with a directory ----

constexpr uint32_t kDefault = group_attributes::kMandatory |
                              group_attributes::kEnabledByDefault |
                              group_attributes::kEnabled;
constexpr uint32_t kOwner = kDefault | group_attributes::kOwner;

LinuxCredentials DomainAlice() {
  LinuxCredentials credentials = test::AliceCredentials();
  credentials.real_uid = credentials.effective_uid = credentials.saved_uid =
      credentials.fs_uid = 3000015;
  credentials.real_gid = credentials.effective_gid = credentials.saved_gid =
      credentials.fs_gid = 100;
  credentials.supplementary_gids = {100, 3000016, 5000};
  return credentials;
}

struct MintFixture : Fixture {
  LuidAllocator ids{0x10000};
  Result<MintedIdentity> Mint(const LinuxCredentials& credentials) {
    return MintingPolicy::Default().Mint(
        credentials, MintContext{ids, clock, nullptr, &cache});
  }
};

std::vector<Sid> SidsOf(const Token& token) {
  std::vector<Sid> out;
  for (const auto& group : token.groups) out.push_back(group.sid);
  return out;
}

TEST_CASE("a directory user gets the directory's user and token groups") {
  MintFixture f;
  auto minted = f.Mint(DomainAlice());
  REQUIRE(minted);
  const Token& token = minted->token;
  CHECK(minted->origin == IdentityOrigin::kDirectory);
  CHECK(token.user == Domain(1103));
  // Directory groups in its order (primary group first), the gid the
  // directory does not map (5000), then the policy's well-known groups,
  // BUILTIN\Users not repeated; the audit session 42 gives the logon SID.
  CHECK(SidsOf(token) ==
        std::vector<Sid>{Domain(513), Domain(1105), Domain(1109),
                         well_known::Users(), well_known::UnixGroup(5000),
                         well_known::Everyone(),
                         well_known::AuthenticatedUsers(), well_known::Local(),
                         well_known::LogonSid(42)});
  CHECK(token.PrimaryGroup() == Domain(513));
  for (size_t i = 0; i + 1 < token.groups.size(); ++i) {
    CHECK(token.groups[i].attributes == kDefault);
  }
  CHECK(token.source.NameString() == "winbind");
  CHECK(token.source.id == Luid{kStart / kSecond});
  CHECK(DescribeMintSource(token.source) ==
        "directory (winbind), fetched 2025-12-06T05:46:40.000000000Z");
  CHECK(token.projected_uid == 3000015);
  REQUIRE(token.default_dacl);
  CHECK(token.default_dacl->aces[0].sid == Domain(1103));
}

TEST_CASE("a mapped gid the directory did not list for the user is left out") {
  MintFixture f;
  f.directory.groups[7000] = Domain(2000);  // e.g. a stale NSS group list
  LinuxCredentials credentials = DomainAlice();
  credentials.supplementary_gids.push_back(7000);
  auto minted = f.Mint(credentials);
  REQUIRE(minted);
  for (const Sid& sid : SidsOf(minted->token)) CHECK(sid != Domain(2000));
}

TEST_CASE("a directory member of BUILTIN\\Administrators gets a pair") {
  MintFixture f;
  DirectoryUser admin = Alice();
  admin.groups.push_back(well_known::Administrators());
  f.directory.users[3000015] = admin;
  auto minted = f.Mint(DomainAlice());
  REQUIRE(minted);
  REQUIRE(minted->linked_full);
  auto attributes = [](const Token& token) {
    for (const auto& group : token.groups) {
      if (group.sid == well_known::Administrators()) return group.attributes;
    }
    return uint32_t{0xffffffff};
  };
  CHECK(attributes(minted->token) == group_attributes::kUseForDenyOnly);
  CHECK(attributes(*minted->linked_full) == kOwner);
  CHECK(minted->token.elevation_type == ElevationType::kLimited);
  size_t count = 0;
  for (const Sid& sid : SidsOf(minted->token)) {
    count += sid == well_known::Administrators();
  }
  CHECK(count == 1);
}

TEST_CASE("a directory down with nothing cached mints the local identity") {
  MintFixture f;
  f.Mint(test::AliceCredentials());  // the directory has answered once
  f.directory.down = true;
  auto minted = f.Mint(DomainAlice());
  REQUIRE(minted);
  CHECK(minted->origin == IdentityOrigin::kLocalFallback);
  CHECK_FALSE(minted->directory_failure.empty());
  CHECK(minted->token.user == well_known::UnixUser(3000015));
  CHECK(SidsOf(minted->token) ==
        std::vector<Sid>{well_known::UnixGroup(100),
                         well_known::UnixGroup(3000016),
                         well_known::UnixGroup(5000), well_known::Everyone(),
                         well_known::AuthenticatedUsers(), well_known::Users(),
                         well_known::Local(), well_known::LogonSid(42)});
  CHECK(DescribeMintSource(minted->token.source) ==
        "local (the directory did not answer)");
}

TEST_CASE("without a directory a local user's token is unchanged") {
  MintFixture f;
  LuidAllocator plain_ids{0x10000};
  test::FixedClock clock{kStart};
  auto plain = MintingPolicy::Default().Mint(test::AliceCredentials(),
                                             MintContext{plain_ids, clock});
  f.directory.down = true;  // never answered: a host without a directory
  auto minted = f.Mint(test::AliceCredentials());
  REQUIRE(plain);
  REQUIRE(minted);
  CHECK(minted->token == plain->token);
  CHECK(minted->origin == IdentityOrigin::kLocal);
  CHECK(DescribeMintSource(minted->token.source) == "local");
}

TEST_CASE("a local user's gid the directory maps gets its SID") {
  MintFixture f;
  auto minted = f.Mint(test::AliceCredentials());  // gids 1000, 100
  REQUIRE(minted);
  CHECK(minted->token.user == well_known::UnixUser(1000));
  CHECK(minted->token.groups[0].sid == well_known::UnixGroup(1000));
  CHECK(minted->token.groups[1].sid == Domain(513));
}

TEST_CASE("root never asks the directory") {
  MintFixture f;
  auto minted = f.Mint(test::RootCredentials(test::kFullCapabilities));
  REQUIRE(minted);
  CHECK(minted->token.user == well_known::LocalSystem());
  CHECK(f.directory.user_calls == 0);
}

TEST_CASE("sources Mint never writes describe nothing") {
  CHECK_FALSE(DescribeMintSource(TokenSource::Make("tktest", Luid{0x42})));
  CHECK_FALSE(DescribeMintSource(TokenSource::Make("tokenfs", Luid{3})));
}

}  // namespace
}  // namespace tokenfs
