#include "core/well_known_sids.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/catch_support.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

using test::ParseSidOrDie;

TEST_CASE("well-known SID constructors give the documented SIDs") {
  // Values from the Peios KACS list of well-known SIDs and [MS-DTYP]
  // 2.4.2.4 (well-known SID structures).
  const std::vector<std::pair<Sid, const char*>> cases = {
      {well_known::Null(), "S-1-0-0"},
      {well_known::Everyone(), "S-1-1-0"},
      {well_known::Local(), "S-1-2-0"},
      {well_known::ConsoleLogon(), "S-1-2-1"},
      {well_known::CreatorOwner(), "S-1-3-0"},
      {well_known::CreatorGroup(), "S-1-3-1"},
      {well_known::OwnerRights(), "S-1-3-4"},
      {well_known::Network(), "S-1-5-2"},
      {well_known::Interactive(), "S-1-5-4"},
      {well_known::Service(), "S-1-5-6"},
      {well_known::Anonymous(), "S-1-5-7"},
      {well_known::PrincipalSelf(), "S-1-5-10"},
      {well_known::AuthenticatedUsers(), "S-1-5-11"},
      {well_known::Restricted(), "S-1-5-12"},
      {well_known::LocalSystem(), "S-1-5-18"},
      {well_known::LocalService(), "S-1-5-19"},
      {well_known::NetworkService(), "S-1-5-20"},
      {well_known::Administrators(), "S-1-5-32-544"},
      {well_known::Users(), "S-1-5-32-545"},
      {well_known::Guests(), "S-1-5-32-546"},
      {well_known::BackupOperators(), "S-1-5-32-551"},
      {well_known::AllAppPackages(), "S-1-15-2-1"},
      {well_known::IntegrityLevel(kIntegrityMedium), "S-1-16-8192"},
      {well_known::IntegrityLevel(kIntegritySystem), "S-1-16-16384"},
      // The logon session id's high 32 bits, then its low 32 bits.
      {well_known::LogonSid(0x0000000100000002ull), "S-1-5-5-1-2"},
      {well_known::LogonSid(0xffffffffffffffffull),
       "S-1-5-5-4294967295-4294967295"},
      {well_known::UnixUser(1000), "S-1-22-1-1000"},
      {well_known::UnixGroup(4294967295u), "S-1-22-2-4294967295"},
  };
  for (const auto& [sid, text] : cases) {
    CHECK(sid.ToString() == text);
  }
}

// The machine-independent aliases of the Microsoft "SID Strings" table
// (learn.microsoft.com/windows/win32/secauthz/sid-strings), as Samba's
// libcli/security/sddl.c sid_codes lists them.
const std::vector<std::pair<const char*, const char*>> kAliases = {
    {"AA", "S-1-5-32-579"},
    {"AC", "S-1-15-2-1"},
    {"AN", "S-1-5-7"},
    {"AO", "S-1-5-32-548"},
    {"AS", "S-1-18-1"},
    {"AU", "S-1-5-11"},
    {"BA", "S-1-5-32-544"},
    {"BG", "S-1-5-32-546"},
    {"BO", "S-1-5-32-551"},
    {"BU", "S-1-5-32-545"},
    {"CD", "S-1-5-32-574"},
    {"CG", "S-1-3-1"},
    {"CO", "S-1-3-0"},
    {"CY", "S-1-5-32-569"},
    {"ED", "S-1-5-9"},
    {"ER", "S-1-5-32-573"},
    {"ES", "S-1-5-32-576"},
    {"HA", "S-1-5-32-578"},
    {"HI", "S-1-16-12288"},
    {"IS", "S-1-5-32-568"},
    {"IU", "S-1-5-4"},
    {"LS", "S-1-5-19"},
    {"LU", "S-1-5-32-559"},
    {"LW", "S-1-16-4096"},
    {"ME", "S-1-16-8192"},
    {"MP", "S-1-16-8448"},
    {"MS", "S-1-5-32-577"},
    {"MU", "S-1-5-32-558"},
    {"NO", "S-1-5-32-556"},
    {"NS", "S-1-5-20"},
    {"NU", "S-1-5-2"},
    {"OW", "S-1-3-4"},
    {"PO", "S-1-5-32-550"},
    {"PS", "S-1-5-10"},
    {"PU", "S-1-5-32-547"},
    {"RA", "S-1-5-32-575"},
    {"RC", "S-1-5-12"},
    {"RD", "S-1-5-32-555"},
    {"RE", "S-1-5-32-552"},
    {"RM", "S-1-5-32-580"},
    {"RU", "S-1-5-32-554"},
    {"SI", "S-1-16-16384"},
    {"SO", "S-1-5-32-549"},
    {"SS", "S-1-18-2"},
    {"SU", "S-1-5-6"},
    {"SY", "S-1-5-18"},
    {"UD", "S-1-5-84-0-0-0-0-0"},
    {"WD", "S-1-1-0"},
    {"WR", "S-1-5-33"},
};

TEST_CASE("every machine-independent SDDL alias maps both ways") {
  for (const auto& [alias, text] : kAliases) {
    INFO("alias: " << alias);
    const Sid sid = ParseSidOrDie(text);
    auto from_alias = SidFromSddlAlias(alias);
    REQUIRE(from_alias.has_value());
    CHECK(*from_alias == sid);
    auto back = SddlAliasForSid(sid);
    REQUIRE(back.has_value());
    CHECK(*back == alias);
    CHECK_FALSE(IsDomainRelativeSddlAlias(alias));
  }
}

TEST_CASE("SDDL aliases are case-insensitive on input") {
  CHECK(SidFromSddlAlias("wd") == well_known::Everyone());
  CHECK(SidFromSddlAlias("Sy") == well_known::LocalSystem());
  auto sid = ParseSidOrAlias("ba");
  REQUIRE(sid.has_value());
  CHECK(*sid == well_known::Administrators());
}

TEST_CASE("SIDs without an alias have none") {
  // S-1-2-0 stays numeric in Windows' own output (Wine's
  // test_ConvertSecurityDescriptorToString expects "O:S-1-2-0"), and
  // S-1-5-32-560 does in Samba's Windows-recorded non_canonical.txt.
  for (const char* text : {"S-1-2-0", "S-1-5-32-560", "S-1-15-2-2", "S-1-16-0",
                           "S-1-16-20480", "S-1-5-21-1-2-3-500"}) {
    INFO("sid: " << text);
    CHECK_FALSE(SddlAliasForSid(ParseSidOrDie(text)).has_value());
  }
}

TEST_CASE("domain-relative aliases are refused because tokenfs has no domain") {
  // Machine-relative LA LG, domain-relative DA DU DG DC DD CA PA CN AP KA RS,
  // forest-relative RO SA EA EK (Samba sddl.c sid_codes).
  for (const char* alias :
       {"LA", "LG", "DA", "DU", "DG", "DC", "DD", "CA", "PA", "CN", "AP", "KA",
        "RS", "RO", "SA", "EA", "EK", "da"}) {
    INFO("alias: " << alias);
    CHECK(IsDomainRelativeSddlAlias(alias));
    CHECK_FALSE(SidFromSddlAlias(alias).has_value());
    auto sid = ParseSidOrAlias(alias);
    REQUIRE_FALSE(sid.has_value());
    CHECK_THAT(sid.error().message,
               Catch::Contains("is relative to a domain, and no domain SID "
                               "is set; write the S-1-... form"));
    CHECK(sid.error().column == 1);
  }
}

TEST_CASE("domain-relative aliases resolve and print against a domain SID") {
  const Sid domain = Sid::Known(kNtAuthority, {21, 1, 2, 3});
  CHECK(IsDomainSid(domain));
  CHECK_FALSE(IsDomainSid(Sid::Known(kNtAuthority, {21, 1, 2})));
  CHECK_FALSE(IsDomainSid(Sid::Known(kNtAuthority, {32, 544})));
  // [MS-DTYP] 2.4.2.4 RIDs.
  const std::vector<std::pair<const char*, uint32_t>> cases = {
      {"LA", 500}, {"LG", 501}, {"DA", 512}, {"DU", 513}, {"DG", 514},
      {"DC", 515}, {"DD", 516}, {"CA", 517}, {"SA", 518}, {"EA", 519},
      {"PA", 520}, {"CN", 522}, {"AP", 525}, {"KA", 526}, {"EK", 527},
      {"RO", 498}, {"RS", 553},
  };
  for (const auto& [alias, rid] : cases) {
    INFO("alias: " << alias);
    const Sid expected = Sid::Known(kNtAuthority, {21, 1, 2, 3, rid});
    auto sid = ParseSidOrAlias(alias, &domain);
    REQUIRE(sid.has_value());
    CHECK(*sid == expected);
    CHECK(SddlAliasForSid(expected, &domain) == std::string_view(alias));
    CHECK_FALSE(SddlAliasForSid(expected).has_value());
  }
  // Another domain's SIDs keep their S- form.
  const Sid other = Sid::Known(kNtAuthority, {21, 9, 9, 9, 500});
  CHECK_FALSE(SddlAliasForSid(other, &domain).has_value());
}

TEST_CASE("a machine domain SID is S-1-5-21 and three sub-authorities") {
  const std::pair<const char*, const char*> valid[] = {
      {"S-1-5-21-1-2-3", "S-1-5-21-1-2-3"},
      {"S-1-5-21-4294967295-0-7", "S-1-5-21-4294967295-0-7"},
      {"s-1-5-21-16-2-3", "S-1-5-21-16-2-3"},
  };
  for (const auto& [text, canonical] : valid) {
    INFO(text);
    auto sid = ParseDomainSid(text);
    REQUIRE(sid);
    CHECK(sid->ToString() == canonical);
  }
  for (const char* text :
       {"", "S-1-5-21-1-2", "S-1-5-21-1-2-3-4", "S-1-5-32-1-2-3",
        "S-1-1-21-1-2-3", "DA", "S-1-5-21-1-2-x"}) {
    INFO(text);
    auto sid = ParseDomainSid(text);
    REQUIRE_FALSE(sid);
    CHECK(sid.error().message ==
          "wants S-1-5-21-a-b-c, not '" + std::string(text) + "'");
  }
}

TEST_CASE("an unknown alias or malformed SID fails with its column") {
  auto unknown = ParseSidOrAlias("XX");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message == "unknown SID alias 'XX'");
  CHECK(unknown.error().column == 1);

  auto bad = ParseSidOrAlias("S-1-5-x");
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message,
             Catch::Contains("unexpected character 'x' in sub-authority"));
  CHECK(bad.error().column == 7);

  auto numeric = ParseSidOrAlias("S-1-5-32-544");
  REQUIRE(numeric.has_value());
  CHECK(*numeric == well_known::Administrators());
}

TEST_CASE("well-known SIDs carry their display labels") {
  // Names as the Peios KACS list of well-known SIDs gives them, in the
  // short forms core/well_known_sids.h documents ("Local System",
  // "Administrators").
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"S-1-1-0", "Everyone"},
      {"S-1-2-0", "Local"},
      {"S-1-2-1", "Console Logon"},
      {"S-1-3-0", "Creator Owner"},
      {"S-1-3-1", "Creator Group"},
      {"S-1-3-4", "Owner Rights"},
      {"S-1-5-2", "Network"},
      {"S-1-5-4", "Interactive"},
      {"S-1-5-6", "Service"},
      {"S-1-5-7", "Anonymous"},
      {"S-1-5-11", "Authenticated Users"},
      {"S-1-5-18", "Local System"},
      {"S-1-5-19", "Local Service"},
      {"S-1-5-20", "Network Service"},
      {"S-1-5-32-544", "Administrators"},
      {"S-1-5-32-545", "Users"},
      {"S-1-5-32-546", "Guests"},
      {"S-1-5-32-551", "Backup Operators"},
  };
  for (const auto& [text, label] : cases) {
    INFO("sid: " << text);
    CHECK(SidLabel(ParseSidOrDie(text)) == std::optional<std::string>(label));
  }
  CHECK_FALSE(SidLabel(ParseSidOrDie("S-1-5-21-1-2-3-1001")).has_value());
  CHECK_FALSE(SidLabel(ParseSidOrDie("S-1-5-32")).has_value());
}

TEST_CASE("integrity SIDs are labelled with their level") {
  // Level names from the Peios spec's integrity table (plus Windows'
  // Medium Plus, 0x2100, and Protected, 0x5000); "<Level> Mandatory Level" is
  // how whoami names the label group.
  CHECK(SidLabel(well_known::IntegrityLevel(0)) == "Untrusted Mandatory Level");
  CHECK(SidLabel(well_known::IntegrityLevel(4096)) == "Low Mandatory Level");
  CHECK(SidLabel(well_known::IntegrityLevel(8192)) == "Medium Mandatory Level");
  CHECK(SidLabel(well_known::IntegrityLevel(0x2100)) ==
        "Medium Plus Mandatory Level");
  CHECK(SidLabel(well_known::IntegrityLevel(12288)) == "High Mandatory Level");
  CHECK(SidLabel(well_known::IntegrityLevel(16384)) ==
        "System Mandatory Level");
  CHECK(SidLabel(well_known::IntegrityLevel(0x5000)) ==
        "Protected Mandatory Level");
  CHECK(SidLabel(well_known::IntegrityLevel(12345)) == "Mandatory Level 12345");
}

TEST_CASE("integrity levels parse from names, RIDs and SIDs") {
  const std::vector<std::pair<const char*, uint32_t>> cases = {
      {"untrusted", 0},        {"Low", 0x1000},
      {"MEDIUM", 0x2000},      {"medium-plus", 0x2100},
      {"medium plus", 0x2100}, {"high", 0x3000},
      {"system", 0x4000},      {"protected", 0x5000},
      {"8192", 0x2000},        {"0x3000", 0x3000},
      {"S-1-16-4096", 0x1000}, {"s-1-16-20480", 0x5000},
  };
  for (const auto& [text, rid] : cases) {
    INFO("text: " << text);
    auto level = ParseIntegrityLevel(text);
    REQUIRE(level.has_value());
    CHECK(*level == rid);
  }
  CHECK(IntegrityLevelName(0x2000) ==
        std::optional<std::string_view>("Medium"));
  CHECK_FALSE(IntegrityLevelName(0x2001).has_value());
}

TEST_CASE("integrity level parsing refuses what is not a level") {
  auto not_label = ParseIntegrityLevel("S-1-5-18");
  REQUIRE_FALSE(not_label.has_value());
  CHECK_THAT(not_label.error().message,
             Catch::Contains("is not an integrity SID (S-1-16-N)"));

  auto two_subs = ParseIntegrityLevel("S-1-16-1-2");
  REQUIRE_FALSE(two_subs.has_value());
  CHECK_THAT(two_subs.error().message,
             Catch::Contains("is not an integrity SID"));

  for (const char* text :
       {"bogus", "", "4294967296", "-1", "1-2", "0x", "0x100000000", "0xg"}) {
    INFO("text: " << text);
    auto level = ParseIntegrityLevel(text);
    REQUIRE_FALSE(level.has_value());
    CHECK_THAT(level.error().message,
               Catch::Contains("unknown integrity level"));
  }
}

TEST_CASE("logon SIDs are recognised and labelled with their session") {
  const Sid logon = ParseSidOrDie("S-1-5-5-0-999");
  CHECK(IsLogonSid(logon));
  CHECK(SidLabel(logon) == "Logon Session 0-999");
  CHECK(IsLogonSid(well_known::LogonSid(42)));
  CHECK_FALSE(IsLogonSid(ParseSidOrDie("S-1-5-5-1")));
  CHECK_FALSE(IsLogonSid(ParseSidOrDie("S-1-5-5-1-2-3")));
  CHECK_FALSE(IsLogonSid(ParseSidOrDie("S-1-5-6-1-2")));
  CHECK_FALSE(IsLogonSid(ParseSidOrDie("S-1-1-5-1-2")));
}

TEST_CASE("Unix account SIDs are named through the injected lookup") {
  test::FakeAccounts accounts({{0, "root"}, {1000, "alice"}}, {{100, "users"}});
  CHECK(SidLabel(well_known::UnixUser(1000), &accounts) == "Unix User\\alice");
  CHECK(SidLabel(well_known::UnixUser(0), &accounts) == "Unix User\\root");
  CHECK(SidLabel(well_known::UnixGroup(100), &accounts) == "Unix Group\\users");
  CHECK(accounts.user_calls == 2);
  CHECK(accounts.group_calls == 1);
  // An id the lookup does not know keeps its number.
  CHECK(SidLabel(well_known::UnixUser(4242), &accounts) == "Unix User\\4242");
  CHECK(SidLabel(well_known::UnixGroup(7), &accounts) == "Unix Group\\7");
  // No lookup at all: numbers, and no call is attempted.
  CHECK(SidLabel(well_known::UnixUser(1000)) == "Unix User\\1000");
  CHECK(SidLabel(well_known::UnixGroup(100)) == "Unix Group\\100");
  // S-1-22 SIDs that are neither users nor groups have no label.
  CHECK_FALSE(SidLabel(ParseSidOrDie("S-1-22-3-1"), &accounts).has_value());
  CHECK_FALSE(SidLabel(ParseSidOrDie("S-1-22-1"), &accounts).has_value());
  CHECK_FALSE(SidLabel(ParseSidOrDie("S-1-22-1-1-2"), &accounts).has_value());
}

TEST_CASE("capability and integrity SIDs are told apart by shape") {
  // Capability SIDs: S-1-15-3-<one or more> (Peios spec "Capability SIDs";
  // S-1-15-3-1 is internetClient).
  CHECK(IsCapabilitySid(ParseSidOrDie("S-1-15-3-1")));
  CHECK(IsCapabilitySid(ParseSidOrDie("S-1-15-3-1-2-3-4-5-6-7-8")));
  CHECK_FALSE(IsCapabilitySid(ParseSidOrDie("S-1-15-3")));
  CHECK_FALSE(IsCapabilitySid(ParseSidOrDie("S-1-15-2-1")));
  CHECK_FALSE(IsCapabilitySid(ParseSidOrDie("S-1-5-3-1")));
  // Integrity SIDs: exactly one sub-authority under authority 16.
  CHECK(IsIntegritySid(ParseSidOrDie("S-1-16-8192")));
  CHECK(IsIntegritySid(ParseSidOrDie("S-1-16-0")));
  CHECK_FALSE(IsIntegritySid(ParseSidOrDie("S-1-16")));
  CHECK_FALSE(IsIntegritySid(ParseSidOrDie("S-1-16-8192-1")));
  CHECK_FALSE(IsIntegritySid(ParseSidOrDie("S-1-5-8192")));
}

}  // namespace
}  // namespace tokenfs
