#include "core/capability.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

std::vector<Capability> Held(std::initializer_list<std::string_view> names) {
  std::vector<Capability> held;
  for (std::string_view name : names) {
    Result<Capability> capability = MakeCapability(name);
    REQUIRE(capability);
    held.push_back(*capability);
  }
  return held;
}

std::vector<std::string> Names(const std::vector<Capability>& capabilities) {
  std::vector<std::string> names;
  for (const Capability& capability : capabilities) {
    names.push_back(capability.name);
  }
  return names;
}

std::string SidText(std::string_view name) {
  return CapabilitySid(name).ToString();
}

}  // namespace

// ---- Grammar: the three parser tables.

TEST_CASE("capability names parse to their canonical spelling") {
  struct Case {
    std::string_view input;
    std::string_view canonical;
  };
  const std::string longest(128, 'x');
  const Case cases[] = {
      {"AT", "AT"},
      {"at", "AT"},  // catalog spelling wins
      {"tokeninfo", "tokeninfo"},
      {"tokeninfo:introspect", "tokeninfo:introspect"},
      {"TokenInfo:History", "tokeninfo:history"},
      {"settings:grants:ssh", "settings:grants:ssh"},
      {"read@settings", "read@settings"},
      {"READ@Settings:Grants", "read@settings:grants"},
      {"read@manage_mytokens:notify", "read@manage_mytokens:notify"},
      {"custom_thing-2:Sub", "custom_thing-2:Sub"},  // not in the catalog
      {"Read@custom", "read@custom"},
      {"a", "a"},
      {longest, longest},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    Result<std::string> parsed = ParseCapabilityName(c.input);
    REQUIRE(parsed);
    CHECK(*parsed == c.canonical);
  }
}

TEST_CASE("capability names that break the grammar are refused with a column") {
  struct Case {
    std::string input;
    std::string_view fragment;
    int column;
  };
  const Case cases[] = {
      {"", "capability name is empty", 1},
      {std::string(129, 'x'), "is longer than 128 characters", 129},
      {"tokeninfo:", "capability 'tokeninfo:': empty path segment", 11},
      {":tokeninfo", "empty path segment at column 1", 1},
      {"settings::grants", "empty path segment at column 10", 10},
      {"read@", "capability 'read@': empty path segment", 6},
      {"write@settings", "unknown prefix 'write@' (only 'read@' is defined)",
       1},
      {"@settings", "unknown prefix '@'", 1},
      {"token info", "invalid character ' ' at column 6", 6},
      {"tokeninfo/history", "invalid character '/' at column 10", 10},
      {"settings:read@email", "invalid character '@' at column 14", 14},
      {"read@read@settings", "invalid character '@' at column 10", 10},
      {"a\tb", "invalid character '\\x09' at column 2", 2},
      {"caf\xc3\xa9", "invalid character '\\xc3' at column 4", 4},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    Result<std::string> parsed = ParseCapabilityName(c.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(parsed.error().message,
               Catch::Contains(std::string(c.fragment)));
    CHECK(parsed.error().column == c.column);
  }
}

TEST_CASE("a canonical capability name parses back to itself") {
  const std::string_view inputs[] = {"at", "TokenInfo:History", "READ@Settings",
                                     "custom_thing-2:Sub", "Read@custom"};
  for (std::string_view input : inputs) {
    INFO(input);
    Result<std::string> first = ParseCapabilityName(input);
    REQUIRE(first);
    Result<std::string> second = ParseCapabilityName(*first);
    REQUIRE(second);
    CHECK(*second == *first);
  }
  for (const CapabilityInfo& info : CapabilityCatalog()) {
    Result<std::string> parsed = ParseCapabilityName(info.name);
    REQUIRE(parsed);
    CHECK(*parsed == info.name);
  }
}

// ---- Catalog.

TEST_CASE("the capability catalog lists seed 002's capabilities in order") {
  // Order and names from the seed's two tables.
  const std::vector<std::string_view> expected = {
      "AT",
      "tokeninfo",
      "tokeninfo:introspect",
      "tokeninfo:history",
      "tokeninfo:subtokens",
      "tokeninfo:notify",
      "tokeninfo:tags",
      "manage_mytokens",
      "manage_mytokens:list",
      "manage_mytokens:revoke",
      "manage_mytokens:history",
      "manage_mytokens:notify",
      "manage_mytokens:tags",
      "create_mytoken",
      "settings",
      "settings:grants",
      "settings:grants:ssh",
      "settings:email",
      "settings:tags",
      "read@settings",
      "read@settings:grants",
      "read@settings:grants:ssh",
      "read@settings:email",
      "read@settings:tags",
      "read@manage_mytokens:notify",
  };
  std::vector<std::string_view> actual;
  for (const CapabilityInfo& info : CapabilityCatalog()) {
    actual.push_back(info.name);
    CHECK_FALSE(info.description.empty());
    const std::set<std::string_view> classes = {"normal", "powerful",
                                                "very powerful"};
    CHECK(classes.count(info.danger) == 1);
  }
  CHECK(actual == expected);
}

TEST_CASE("the seed's powerful capabilities are classed as at least powerful") {
  for (std::string_view name : {"settings", "settings:grants"}) {
    const CapabilityInfo* info = FindCapabilityInfo(name);
    REQUIRE(info);
    CHECK(info->danger != "normal");
  }
}

TEST_CASE("catalog lookup ignores case and misses unknown names") {
  const CapabilityInfo* info = FindCapabilityInfo("READ@SETTINGS:EMAIL");
  REQUIRE(info);
  CHECK(info->name == "read@settings:email");
  CHECK(FindCapabilityInfo("tokeninfo:nonsense") == nullptr);
  CHECK(FindCapabilityInfo("read@tokeninfo") == nullptr);
}

// ---- Derived SIDs.

// Windows-derived pairs: Microsoft's SandboxSecurityTools
// LaunchAppContainer/README.md gives the lpacCom and registryRead SIDs, and
// Chromium's chrome/browser/resources/sandbox_internals/
// sandbox_internals_win.ts maps these SIDs to those names (and
// lpacCryptoServices); both come from DeriveCapabilitySidsFromName.
TEST_CASE("capability SIDs match the SIDs Windows derives from names") {
  CHECK(SidText("lpacCom") ==
        "S-1-15-3-1024-2405443489-874036122-4286035555-1823921565-1746547431-"
        "2453885448-3625952902-991631256");
  CHECK(SidText("registryRead") ==
        "S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-"
        "3232135806-4053264122-3456934681");
  CHECK(SidText("lpacCryptoServices") ==
        "S-1-15-3-1024-3203351429-2120443784-2872670797-1918958302-"
        "2829055647-4275794519-765664414-2751773334");
}

// Computed independently with Python: hashlib.sha256 over
// "TOKENINFO".encode("utf-16-le"), unpacked as struct '<8I'.
TEST_CASE("a tokenfs capability's SID is derived the same way") {
  CHECK(SidText("tokeninfo") ==
        "S-1-15-3-1024-2357454845-810818666-733784065-248858355-2413091408-"
        "1438984108-1525821559-702439586");
  CHECK(IsCapabilitySid(CapabilitySid("tokeninfo")));
}

TEST_CASE("capability SIDs ignore the case of the name") {
  CHECK(CapabilitySid("REGISTRYREAD") == CapabilitySid("registryRead"));
  CHECK(CapabilitySid("read@Settings") == CapabilitySid("READ@SETTINGS"));
  CHECK(CapabilitySid("settings") != CapabilitySid("read@settings"));
}

TEST_CASE("making a capability pairs the canonical name with its SID") {
  Result<Capability> capability = MakeCapability("Read@Settings");
  REQUIRE(capability);
  CHECK(capability->name == "read@settings");
  CHECK(capability->sid == CapabilitySid("read@settings"));

  Result<Capability> bad = MakeCapability("read@");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
}

// ---- Path and read@ rules.

TEST_CASE("a parent capability includes every descendant") {
  CHECK(CapabilityCovers("tokeninfo", "tokeninfo"));
  CHECK(CapabilityCovers("tokeninfo", "tokeninfo:introspect"));
  CHECK(CapabilityCovers("settings", "settings:grants:ssh"));
  CHECK(CapabilityCovers("settings:grants", "settings:grants:ssh"));
}

TEST_CASE("a child capability does not include its parent or siblings") {
  CHECK_FALSE(CapabilityCovers("tokeninfo:introspect", "tokeninfo"));
  CHECK_FALSE(CapabilityCovers("tokeninfo:introspect", "tokeninfo:history"));
  CHECK_FALSE(CapabilityCovers("settings:grants:ssh", "settings:grants"));
  CHECK_FALSE(CapabilityCovers("AT", "tokeninfo"));
}

TEST_CASE("paths match by whole segments, not by string prefix") {
  CHECK_FALSE(CapabilityCovers("token", "tokeninfo"));
  CHECK_FALSE(CapabilityCovers("settings:grant", "settings:grants"));
}

TEST_CASE("a read-write capability includes the read@ form below it") {
  CHECK(CapabilityCovers("settings", "read@settings"));
  CHECK(CapabilityCovers("settings", "read@settings:email"));
  CHECK(CapabilityCovers("manage_mytokens", "read@manage_mytokens:notify"));
}

TEST_CASE("a read@ capability never includes the read-write form") {
  CHECK_FALSE(CapabilityCovers("read@settings", "settings"));
  CHECK_FALSE(CapabilityCovers("read@settings", "settings:email"));
  CHECK(CapabilityCovers("read@settings", "read@settings:grants:ssh"));
  CHECK_FALSE(CapabilityCovers("read@settings:email", "read@settings"));
}

TEST_CASE("capability coverage ignores the case of names") {
  CHECK(CapabilityCovers("TOKENINFO", "tokeninfo:Introspect"));
  CHECK(CapabilityCovers("READ@settings", "read@SETTINGS:email"));
}

TEST_CASE("has answers whether any held capability covers the wanted one") {
  const std::vector<Capability> held = Held({"AT", "read@settings"});
  CHECK(HasCapability(held, "AT"));
  CHECK(HasCapability(held, "read@settings:tags"));
  CHECK_FALSE(HasCapability(held, "settings:tags"));
  CHECK_FALSE(HasCapability(held, "tokeninfo"));
  CHECK_FALSE(HasCapability({}, "AT"));
}

TEST_CASE("a held capability known only by SID covers exactly itself") {
  const std::vector<Capability> held = {
      Capability{"", CapabilitySid("tokeninfo")}};
  CHECK(HasCapability(held, "tokeninfo"));
  CHECK(HasCapability(held, "TOKENINFO"));
  CHECK_FALSE(HasCapability(held, "tokeninfo:introspect"));
}

// ---- Derivation (subset of the parent).

TEST_CASE("deriving grants requests the parent covers, as asked") {
  const std::vector<Capability> parent = Held({"tokeninfo", "settings"});
  const std::vector<std::string> requested = {"tokeninfo:introspect",
                                              "read@settings"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/false);
  REQUIRE(derived);
  CHECK(Names(derived->granted) ==
        std::vector<std::string>{"tokeninfo:introspect", "read@settings"});
  CHECK(derived->granted[0].sid == CapabilitySid("tokeninfo:introspect"));
  CHECK(derived->dropped.empty());
  CHECK(derived->narrowed.empty());
}

TEST_CASE("deriving refuses a capability the parent does not hold") {
  const std::vector<Capability> parent = Held({"tokeninfo:introspect", "AT"});
  const std::vector<std::string> requested = {"AT", "tokeninfo",
                                              "create_mytoken"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/false);
  REQUIRE_FALSE(derived);
  CHECK(derived.error().code == ErrorCode::kPrivilegeNotHeld);
  CHECK(derived.error().message ==
        "capability 'tokeninfo' is not held by the parent token");
}

TEST_CASE("deriving refuses read-write when the parent holds only read@") {
  const std::vector<Capability> parent = Held({"read@settings"});
  const std::vector<std::string> requested = {"settings:email"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/false);
  REQUIRE_FALSE(derived);
  CHECK(derived.error().code == ErrorCode::kPrivilegeNotHeld);
  CHECK_THAT(derived.error().message, Catch::Contains("'settings:email'"));
}

TEST_CASE("deriving validates every name before judging any") {
  const std::vector<Capability> parent = Held({"AT"});
  // The first request is not held, but the malformed second one is reported.
  const std::vector<std::string> requested = {"settings", "bad name"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE_FALSE(derived);
  CHECK(derived.error().code == ErrorCode::kInvalidArgument);
  CHECK_THAT(derived.error().message, Catch::Contains("'bad name'"));
}

TEST_CASE("tightening narrows a request to the parent's capabilities beneath") {
  const std::vector<Capability> parent =
      Held({"tokeninfo:introspect", "tokeninfo:history", "AT"});
  const std::vector<std::string> requested = {"tokeninfo"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE(derived);
  CHECK(Names(derived->granted) ==
        std::vector<std::string>{"tokeninfo:introspect", "tokeninfo:history"});
  CHECK(derived->dropped == std::vector<std::string>{"tokeninfo"});
  CHECK(derived->narrowed == std::vector<std::string>{"tokeninfo"});
}

TEST_CASE("tightening narrows a read-write request to its read@ form") {
  const std::vector<Capability> parent = Held({"read@settings"});
  const std::vector<std::string> requested = {"settings:grants"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE(derived);
  CHECK(Names(derived->granted) ==
        std::vector<std::string>{"read@settings:grants"});
  CHECK(derived->narrowed == std::vector<std::string>{"settings:grants"});
}

TEST_CASE("tightening keeps read-write parts beneath a read@ narrowing") {
  // The parent reads all settings but may write only the ssh grant.
  const std::vector<Capability> parent =
      Held({"read@settings", "settings:grants:ssh", "read@settings:email"});
  const std::vector<std::string> requested = {"settings"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE(derived);
  // read@settings:email is already inside read@settings, so it is not
  // repeated.
  CHECK(Names(derived->granted) ==
        std::vector<std::string>{"read@settings", "settings:grants:ssh"});
}

TEST_CASE("tightening drops a request with nothing beneath it") {
  const std::vector<Capability> parent = Held({"AT", "tokeninfo:history"});
  const std::vector<std::string> requested = {"AT", "settings",
                                              "tokeninfo:introspect"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE(derived);
  CHECK(Names(derived->granted) == std::vector<std::string>{"AT"});
  CHECK(derived->dropped ==
        std::vector<std::string>{"settings", "tokeninfo:introspect"});
  CHECK(derived->narrowed.empty());
}

TEST_CASE("tightening may leave a derived token with no capabilities") {
  const std::vector<Capability> parent = Held({"AT"});
  const std::vector<std::string> requested = {"settings"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE(derived);
  CHECK(derived->granted.empty());
  CHECK(derived->dropped == std::vector<std::string>{"settings"});
}

TEST_CASE("tightening never narrows through a capability known only by SID") {
  const std::vector<Capability> parent = {
      Capability{"", CapabilitySid("tokeninfo:introspect")}};
  const std::vector<std::string> requested = {"tokeninfo"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE(derived);
  CHECK(derived->granted.empty());
}

TEST_CASE("an explicitly empty capability list grants nothing") {
  const std::vector<Capability> parent = FullCapabilitySet();
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, {}, /*tighten=*/false);
  REQUIRE(derived);
  CHECK(derived->granted.empty());
  CHECK(derived->dropped.empty());
}

TEST_CASE("repeated requests and overlapping narrowings are granted once") {
  const std::vector<Capability> parent = Held({"tokeninfo:introspect"});
  const std::vector<std::string> requested = {
      "tokeninfo:introspect", "TOKENINFO:INTROSPECT", "tokeninfo"};
  Result<CapabilityDerivation> derived =
      DeriveCapabilities(parent, requested, /*tighten=*/true);
  REQUIRE(derived);
  CHECK(Names(derived->granted) ==
        std::vector<std::string>{"tokeninfo:introspect"});
  CHECK(derived->dropped == std::vector<std::string>{"tokeninfo"});
}

TEST_CASE("the full capability set covers the whole catalog") {
  const std::vector<Capability> full = FullCapabilitySet();
  CHECK(Names(full) == std::vector<std::string>{"AT", "tokeninfo",
                                                "manage_mytokens",
                                                "create_mytoken", "settings"});
  for (const CapabilityInfo& info : CapabilityCatalog()) {
    INFO(info.name);
    CHECK(HasCapability(full, info.name));
  }
}

// ---- SID -> name.

TEST_CASE("capability names map every catalog SID back to its name") {
  const CapabilityNames names;
  for (const CapabilityInfo& info : CapabilityCatalog()) {
    INFO(info.name);
    std::optional<std::string> name =
        names.NameForSid(CapabilitySid(info.name));
    REQUIRE(name);
    CHECK(*name == info.name);
  }
  CHECK_FALSE(names.NameForSid(CapabilitySid("lpacCom")));
  CHECK_FALSE(names.NameForSid(well_known::Everyone()));
}

TEST_CASE("capability names remember new names and keep the first spelling") {
  CapabilityNames names;
  names.Remember("lpacCom");
  names.Remember("LPACCOM");   // same SID: the first spelling stays
  names.Remember("at");        // catalog name: stays "AT"
  names.Remember("bad name");  // invalid: ignored
  CHECK(names.NameForSid(CapabilitySid("lpacCom")) == "lpacCom");
  CHECK(names.NameForSid(CapabilitySid("AT")) == "AT");
  CHECK_FALSE(names.NameForSid(CapabilitySid("bad name")));
}

TEST_CASE("capability names fill in only the names that are missing") {
  const CapabilityNames names;
  std::vector<Capability> capabilities = {
      Capability{"", CapabilitySid("settings:email")},
      Capability{"", CapabilitySid("unknown_one")},
      Capability{"kept", CapabilitySid("AT")},
  };
  names.FillNames(capabilities);
  CHECK(capabilities[0].name == "settings:email");
  CHECK(capabilities[1].name.empty());
  CHECK(capabilities[2].name == "kept");
}

}  // namespace tokenfs
