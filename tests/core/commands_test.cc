#include "core/commands.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/claims.h"
#include "core/privilege.h"
#include "core/sddl.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

// A privilege command in a canonical text form ("reset", or "bit:state"
// items), written from the grammar in core/commands.h.
std::string Canonical(const PrivilegesCommand& command) {
  if (command.reset) return "reset";
  std::string out;
  for (const PrivilegeChange& change : command.changes) {
    if (!out.empty()) out += ' ';
    out += std::to_string(change.bit) + ":";
    switch (change.state) {
      case PrivilegeState::kEnabled:
        out += "enabled";
        break;
      case PrivilegeState::kDisabled:
        out += "disabled";
        break;
      case PrivilegeState::kRemoved:
        out += "removed";
        break;
    }
  }
  return out;
}

std::string Canonical(const GroupsCommand& command) {
  if (command.reset) return "reset";
  std::string out;
  for (const GroupChange& change : command.changes) {
    if (!out.empty()) out += ' ';
    out += std::to_string(change.index) + ":" + (change.enable ? "on" : "off");
  }
  return out;
}

TEST_CASE("privilege commands parse names, bit numbers, states and layouts") {
  struct Row {
    const char* input;
    const char* canonical;
  };
  const Row rows[] = {
      {"SeDebug=enabled", "20:enabled"},
      {"sedebugprivilege=DISABLED", "20:disabled"},
      {"20=removed", "20:removed"},
      {"0x14=enable", "20:enabled"},
      {"SeDebug=enabled SeBackup=disabled", "20:enabled 17:disabled"},
      {"SeDebug=enabled\nSeBackup=disabled\n", "20:enabled 17:disabled"},
      {"  SeChangeNotify=disabled\t", "23:disabled"},
      {"reset", "reset"},
      {"RESET\n", "reset"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto command = ParsePrivilegesCommand(row.input);
    REQUIRE(command);
    CHECK(Canonical(*command) == row.canonical);
  }
}

TEST_CASE("privilege commands refuse bad items and name them") {
  struct Row {
    const char* input;
    const char* fragment;
  };
  const Row rows[] = {
      {"", "privs: empty command"},
      {"\n \n", "privs: empty command"},
      {"SeBogus=enabled",
       "item 1 'SeBogus=enabled': unknown privilege 'SeBogus'"},
      {"SeDebug=on", "item 1 'SeDebug=on': unknown state 'on'"},
      {"SeDebug", "item 1 'SeDebug': expected NAME=enabled|disabled|removed"},
      {"SeDebug=enabled 20=disabled",
       "item 2 '20=disabled': SeDebug is named twice"},
      {"reset SeDebug=enabled", "item 1 'reset': reset cannot be combined"},
      {"SeDebug=enabled reset", "item 2 'reset': reset cannot be combined"},
      {"1=enabled", "unknown privilege '1'"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto command = ParsePrivilegesCommand(row.input);
    REQUIRE_FALSE(command);
    CHECK(command.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(command.error().message, Catch::Contains(row.fragment));
  }
}

TEST_CASE("group commands parse indices and states") {
  auto command = ParseGroupsCommand("0=enabled 3=disabled\n12=enable");
  REQUIRE(command);
  CHECK(Canonical(*command) == "0:on 3:off 12:on");
  auto reset = ParseGroupsCommand("reset");
  REQUIRE(reset);
  CHECK(Canonical(*reset) == "reset");

  struct Row {
    const char* input;
    const char* fragment;
  };
  const Row rows[] = {
      {"x=enabled", "'x' is not a group index"},
      {"-1=enabled", "'-1' is not a group index"},
      {"4294967296=enabled", "'4294967296' is not a group index"},
      {"1=removed", "unknown state 'removed' (enabled or disabled)"},
      {"1=enabled 1=disabled", "group 1 is named twice"},
      {"1", "expected INDEX=enabled|disabled"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto parsed = ParseGroupsCommand(row.input);
    REQUIRE_FALSE(parsed);
    CHECK_THAT(parsed.error().message, Catch::Contains(row.fragment));
  }
}

TEST_CASE("owner and group selectors resolve an index or a SID of the token") {
  Token token;
  token.user = well_known::UnixUser(1000);
  token.groups = {{well_known::UnixGroup(1000), 0},
                  {well_known::Administrators(), 0}};
  auto by_index = ParseSidSelector("2");
  REQUIRE(by_index);
  CHECK(*ResolveSidSelector(*by_index, token) == 2u);
  auto by_alias = ParseSidSelector("BA");
  REQUIRE(by_alias);
  CHECK(*ResolveSidSelector(*by_alias, token) == 2u);
  auto by_user = ParseSidSelector("S-1-22-1-1000\n");
  REQUIRE(by_user);
  CHECK(*ResolveSidSelector(*by_user, token) == 0u);
  auto absent = ParseSidSelector("WD");
  REQUIRE(absent);
  auto resolved = ResolveSidSelector(*absent, token);
  REQUIRE_FALSE(resolved);
  CHECK_THAT(resolved.error().message,
             Catch::Contains("S-1-1-0 is neither the token's user nor one of "
                             "its groups"));
  auto two = ParseSidSelector("1 2");
  REQUIRE_FALSE(two);
  CHECK_THAT(two.error().message, Catch::Contains("expected one index or SID"));
  auto junk = ParseSidSelector("S-1-x");
  REQUIRE_FALSE(junk);
  CHECK_THAT(junk.error().message,
             Catch::Contains("neither an index nor a SID"));
}

TEST_CASE("default DACL, integrity and session commands") {
  auto dacl = ParseDefaultDaclCommand("D:(A;;GA;;;SY)(A;;GR;;;WD)\n");
  REQUIRE(dacl);
  REQUIRE(dacl->has_value());
  CHECK(FormatSddlDacl(*dacl) == "D:(A;;GA;;;SY)(A;;GR;;;WD)");
  auto none = ParseDefaultDaclCommand("none");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
  auto bad = ParseDefaultDaclCommand("D:(A;;GA;;;SY");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::StartsWith("default-dacl: "));
  CHECK(bad.error().column > 0);

  CHECK(*ParseIntegrityCommand("low\n") == kIntegrityLow);
  CHECK(*ParseIntegrityCommand("Medium Plus") == kIntegrityMediumPlus);
  CHECK(*ParseIntegrityCommand("S-1-16-4096") == kIntegrityLow);
  CHECK(*ParseIntegrityCommand("0x1000") == kIntegrityLow);
  auto level = ParseIntegrityCommand("superhigh");
  REQUIRE_FALSE(level);
  CHECK_THAT(level.error().message, Catch::StartsWith("integrity: "));

  CHECK(*ParseSessionCommand("7\n") == 7u);
  CHECK(*ParseSessionCommand("0x10") == 16u);
  auto session = ParseSessionCommand("4294967296");
  REQUIRE_FALSE(session);
  CHECK_THAT(session.error().message,
             Catch::Contains("not a session number (0..4294967295)"));
}

TEST_CASE("security commands say which parts change") {
  struct Row {
    const char* input;
    uint32_t information;
  };
  const Row rows[] = {
      {"O:SY", security_information::kOwner},
      {"G:BA", security_information::kGroup},
      {"D:(A;;GA;;;SY)", security_information::kDacl},
      {"O:SYD:(A;;GA;;;SY)",
       security_information::kOwner | security_information::kDacl},
      {"S:(ML;;NW;;;LW)", security_information::kLabel},
      {"S:(AU;SA;GA;;;WD)", security_information::kSacl},
      {"S:(AU;SA;GA;;;WD)(ML;;NW;;;LW)",
       security_information::kSacl | security_information::kLabel},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto command = ParseSecurityCommand(row.input);
    REQUIRE(command);
    CHECK(command->information == row.information);
  }
  auto empty = ParseSecurityCommand("  ");
  REQUIRE_FALSE(empty);
  CHECK_THAT(empty.error().message, Catch::Contains("security: empty command"));
}

TEST_CASE("token references parse, name their kind and round-trip") {
  struct Row {
    const char* input;
    const char* canonical;
  };
  const Row rows[] = {
      {"pid:42", "pid:42"},
      {"pid:42/43", "pid:42/43"},
      {"id:65536", "id:65536"},
      {"/tokens/42", "pid:42"},
      {"/tokens/42/43/", "pid:42/43"},
      {"/tokens/objects/7", "id:7"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto reference = ParseTokenReference(row.input, "/tokens");
    REQUIRE(reference);
    const std::string canonical = FormatTokenReference(*reference);
    CHECK(canonical == row.canonical);
    auto again = ParseTokenReference(canonical, "/tokens");
    REQUIRE(again);
    CHECK(FormatTokenReference(*again) == canonical);
  }
  const char* invalid[] = {"pid:",      "pid:0",   "pid:-1", "pid:x",  "id:0",
                           "/other/42", "/tokens", "42",     "pid:1/x"};
  for (const char* input : invalid) {
    INFO(input);
    auto reference = ParseTokenReference(input, "/tokens");
    REQUIRE_FALSE(reference);
    CHECK_THAT(reference.error().message,
               Catch::StartsWith(std::string("token reference '") + input));
  }
}

TEST_CASE("impersonate commands take a reference, a level, exec, or revert") {
  auto command =
      ParseImpersonateCommand("id:9 level=identification exec", "/tokens");
  REQUIRE(command);
  CHECK(command->target.kind == TokenReference::Kind::kObject);
  CHECK(command->level == ImpersonationLevel::kIdentification);
  CHECK(command->adopt_at_exec);
  auto plain = ParseImpersonateCommand("pid:5", "/tokens");
  REQUIRE(plain);
  CHECK(plain->level == ImpersonationLevel::kImpersonation);
  CHECK_FALSE(plain->adopt_at_exec);
  auto revert = ParseImpersonateCommand("revert\n", "/tokens");
  REQUIRE(revert);
  CHECK(revert->revert);
  struct Row {
    const char* input;
    const char* fragment;
  };
  const Row rows[] = {
      {"level=identification", "no token reference"},
      {"pid:5 pid:6", "a second token reference"},
      {"pid:5 revert", "revert cannot be combined"},
      {"pid:5 level=", "'level' needs a value"},
      {"pid:5 level=high", "unknown impersonation level 'high'"},
      {"pid:5 exec=yes", "'exec' takes no value"},
      {"pid:5 level=id level=id", "'level' given twice"},
      {"pid:5 exec exec", "item 3 'exec': 'exec' given twice"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto parsed = ParseImpersonateCommand(row.input, "/tokens");
    REQUIRE_FALSE(parsed);
    CHECK_THAT(parsed.error().message, Catch::Contains(row.fragment));
  }
}

TEST_CASE("access commands take an SD, rights, a mapping, intent and self") {
  auto command = ParseAccessCommand(
      "sd=\"D:(A;;GR;;;WD)\" desired=QUERY|READ_CONTROL mapping=file "
      "intent=backup,restore self=PS json");
  REQUIRE(command);
  REQUIRE(command->descriptor);
  CHECK(FormatSddl(*command->descriptor) == "D:(A;;GR;;;WD)");
  CHECK(command->desired == AccessMask(0x20008));
  CHECK(command->mapping_name == "file");
  CHECK(command->intent ==
        (privilege_intent::kBackup | privilege_intent::kRestore));
  REQUIRE(command->principal_self);
  CHECK(*command->principal_self == well_known::PrincipalSelf());
  CHECK(command->json);
  auto defaults = ParseAccessCommand("json");
  REQUIRE(defaults);
  CHECK_FALSE(defaults->descriptor);
  CHECK(defaults->desired == access::kMaximumAllowed);
  CHECK(defaults->mapping_name == "token");
  auto custom = ParseAccessCommand("mapping=0x20019,20006,0X20019,F003F");
  REQUIRE(custom);
  CHECK(custom->mapping == kKeyGenericMapping);
  CHECK(custom->mapping_name == "0x20019,0x20006,0x20019,0xf003f");
  auto letters = ParseAccessCommand("desired=GRGW");
  REQUIRE(letters);
  CHECK(letters->desired == (access::kGenericRead | access::kGenericWrite));
  struct Row {
    const char* input;
    const char* fragment;
  };
  const Row rows[] = {
      {"desired=BOGUS", "unknown access rights 'BOGUS'"},
      {"mapping=disk",
       "unknown generic mapping 'disk' (token, file, directory, key, process, "
       "thread, service, plain, or GR,GW,GX,GA in hex)"},
      {"mapping=1,2,3", "generic mapping '1,2,3' has 3 values"},
      {"intent=delete", "unknown intent 'delete'"},
      {"sd=D:(A;;GA", "item 1 'sd=D:(A;;GA'"},
      {"colour=blue", "unknown field 'colour'"},
      {"desired=QUERY desired=QUERY", "'desired' given twice"},
      {"sd=\"D:(A;;GA;;;WD)", "unterminated double quote"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto parsed = ParseAccessCommand(row.input);
    REQUIRE_FALSE(parsed);
    CHECK_THAT(parsed.error().message, Catch::Contains(row.fragment));
  }
}

TEST_CASE("quoted values take \\\" and \\\\ for a quote and a backslash") {
  auto items = SplitCommandItems(R"(a="x \"y\" \\z \w" b)");
  REQUIRE(items);
  REQUIRE(items->size() == 2);
  CHECK((*items)[0] == R"(a=x "y" \z \w)");
  CHECK((*items)[1] == "b");
  // Outside quotes a backslash is an ordinary character.
  auto bare = SplitCommandItems(R"(a\"b")");
  REQUIRE(bare);
  CHECK((*bare)[0] == R"(a\b")");
}

TEST_CASE("access commands take a domain, claims and conditional SDs") {
  const Sid domain = Sid::Known(5, {21, 1, 2, 3});
  auto daemon_domain =
      ParseAccessCommand("sd=O:DAG:DUD:(A;;GA;;;DA) self=LA", &domain);
  REQUIRE(daemon_domain);
  CHECK(daemon_domain->descriptor->owner ==
        Sid::Known(5, {21, 1, 2, 3, 512}));
  CHECK(daemon_domain->principal_self == Sid::Known(5, {21, 1, 2, 3, 500}));
  // domain= wins over the daemon's, wherever it stands.
  auto given = ParseAccessCommand("sd=O:DAG:DU self=LA domain=S-1-5-21-7-8-9",
                                  &domain);
  REQUIRE(given);
  CHECK(given->descriptor->owner == Sid::Known(5, {21, 7, 8, 9, 512}));
  CHECK(given->domain == Sid::Known(5, {21, 7, 8, 9}));
  auto none = ParseAccessCommand("sd=O:DAG:DU");
  REQUIRE_FALSE(none);
  CHECK_THAT(none.error().message, Catch::Contains("relative to a domain"));
  auto bad = ParseAccessCommand("domain=S-1-5-32-544", &domain);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message,
             Catch::Contains("wants S-1-5-21-a-b-c, not 'S-1-5-32-544'"));

  Claim claim{"Title", ClaimType::kString, 0, {std::string("PM")}};
  auto bytes = EncodeClaims({claim});
  REQUIRE(bytes);
  std::string hex;
  for (uint8_t byte : *bytes) {
    char pair[3];
    std::snprintf(pair, sizeof pair, "%02x", byte);
    hex += pair;
  }
  auto claims = ParseAccessCommand("device-claims=" + hex + " user-claims=none");
  REQUIRE(claims);
  REQUIRE(claims->device_claims);
  CHECK(*claims->device_claims == std::vector<Claim>{claim});
  REQUIRE(claims->user_claims);
  CHECK(claims->user_claims->empty());
  CHECK_FALSE(ParseAccessCommand("json")->device_claims);
  for (const char* text : {"device-claims=abc", "device-claims=zz",
                           "user-claims=01000000"}) {
    INFO(text);
    CHECK_FALSE(ParseAccessCommand(text));
  }

  auto conditional = ParseAccessCommand(
      R"x(sd="O:BAG:BAD:(XA;;FR;;;WD;(@User.Title == \"PM\"))" json)x");
  REQUIRE(conditional);
  CHECK(FormatSddl(*conditional->descriptor) ==
        R"(O:BAG:BAD:(XA;;FR;;;WD;(@USER.Title == "PM")))");
}

TEST_CASE("duplicate commands default to a primary copy and check levels") {
  auto plain = ParseDuplicateCommand("");
  REQUIRE(plain);
  CHECK(plain->request.type == TokenType::kPrimary);
  CHECK(plain->request.level == ImpersonationLevel::kAnonymous);
  auto impersonation = ParseDuplicateCommand("type=impersonation");
  REQUIRE(impersonation);
  CHECK(impersonation->request.level == ImpersonationLevel::kImpersonation);
  auto full = ParseDuplicateCommand(
      "type=imp level=delegation access=QUERY|IMPERSONATE persist "
      "holder=pid:7");
  REQUIRE(full);
  CHECK(full->request.level == ImpersonationLevel::kDelegation);
  CHECK(full->access == AccessMask(0xc));
  CHECK(full->persist);
  CHECK(full->holder == 7);
  auto primary_level = ParseDuplicateCommand("type=primary level=delegation");
  REQUIRE_FALSE(primary_level);
  CHECK_THAT(primary_level.error().message,
             Catch::Contains("a primary token's level is anonymous"));
  auto holder = ParseDuplicateCommand("holder=id:4");
  REQUIRE_FALSE(holder);
  CHECK_THAT(holder.error().message, Catch::Contains("holder must be pid:N"));
}

TEST_CASE("restrict commands collect every restriction") {
  auto command = ParseRestrictCommand(
      "drop-privs=SeDebug,23 deny=1,3 restrict=WD,S-1-5-32-544 "
      "write-restricted caps=tokeninfo,AT tighten persist");
  REQUIRE(command);
  const RestrictRequest& request = command->request;
  CHECK(request.drop_privileges == (privilege::Bit(privilege::kDebug) |
                                    privilege::Bit(privilege::kChangeNotify)));
  CHECK(request.deny_indices == std::vector<uint32_t>{1, 3});
  REQUIRE(request.restricting_sids);
  CHECK(*request.restricting_sids ==
        std::vector<Sid>{well_known::Everyone(), well_known::Administrators()});
  CHECK(request.write_restricted);
  REQUIRE(request.capabilities);
  CHECK(*request.capabilities == std::vector<std::string>{"tokeninfo", "AT"});
  CHECK(request.tighten);
  CHECK(command->persist);
  auto mask = ParseRestrictCommand("drop-privs=0x100000");
  REQUIRE(mask);
  CHECK(mask->request.drop_privileges == privilege::Bit(privilege::kDebug));
  auto no_caps = ParseRestrictCommand("caps=");
  REQUIRE(no_caps);
  REQUIRE(no_caps->request.capabilities);
  CHECK(no_caps->request.capabilities->empty());
  auto keep_caps = ParseRestrictCommand("");
  REQUIRE(keep_caps);
  CHECK_FALSE(keep_caps->request.capabilities);
  struct Row {
    const char* input;
    const char* fragment;
  };
  const Row rows[] = {
      {"drop-privs=SeBogus", "unknown privilege 'SeBogus'"},
      {"deny=one", "'one' is not a group index"},
      {"restrict=XX", "unknown SID alias 'XX'"},
      {"restrict=DA", "relative to a domain"},
      {"caps=tokeninfo,,AT", "empty capability name"},
      {"tighten=yes", "'tighten' takes no value"},
      {"drop=SeDebug", "unknown field 'drop'"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto parsed = ParseRestrictCommand(row.input);
    REQUIRE_FALSE(parsed);
    CHECK_THAT(parsed.error().message, Catch::Contains(row.fragment));
  }
}

TEST_CASE("link and install commands name their tokens") {
  auto link =
      ParseLinkCommand("elevated=id:5 filtered=pid:6 session=0x3e7", "/tokens");
  REQUIRE(link);
  CHECK(link->elevated.object_id == 5u);
  CHECK(link->filtered.pid == 6);
  CHECK(link->session == 0x3e7u);
  auto missing = ParseLinkCommand("elevated=id:5 session=1", "/tokens");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message,
             Catch::Contains("link: missing filtered="));
  auto unknown = ParseLinkCommand("elevated=id:5 linked", "/tokens");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message ==
        "item 2 'linked': unknown field 'linked' (elevated, filtered, "
        "session)");
  auto install = ParseInstallCommand("/tokens/objects/9\n", "/tokens");
  REQUIRE(install);
  CHECK(install->object_id == 9u);
  auto two = ParseInstallCommand("id:1 id:2", "/tokens");
  REQUIRE_FALSE(two);
  CHECK_THAT(two.error().message,
             Catch::Contains("expected one token reference"));
}

TEST_CASE("commands refuse NUL bytes and oversize input") {
  const std::string with_nul("SeDebug=enabled\0x", 17);
  auto nul = ParsePrivilegesCommand(with_nul);
  REQUIRE_FALSE(nul);
  CHECK_THAT(nul.error().message, Catch::Contains("NUL byte at offset 15"));
  const std::string huge(kMaxCommandSize + 1, 'a');
  auto big = ParsePrivilegesCommand(huge);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == ErrorCode::kResourceExhausted);
}

// ---- tags: add NAME / remove NAME (the tag grammar is core/tag.h's).

TEST_CASE("tag commands parse: add or remove, one tag, echo's newline") {
  struct Case {
    std::string input;
    bool add;
    std::string tag;
  };
  const Case cases[] = {
      {"add Build\n", true, "build"},
      {"remove\tbuild", false, "build"},
      {"  add   x.y  ", true, "x.y"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    auto parsed = ParseTagCommand(c.input);
    REQUIRE(parsed);
    CHECK(parsed->add == c.add);
    CHECK(parsed->tag == c.tag);
  }
}

TEST_CASE("bad tag commands are refused with the exact error") {
  struct Case {
    std::string input;
    std::string message;
    int column;
  };
  const Case cases[] = {
      {"", "empty command: expected add NAME or remove NAME", 1},
      {"\n", "empty command: expected add NAME or remove NAME", 1},
      {"set x", "unknown command 'set': expected add NAME or remove NAME", 1},
      {"ADD x", "unknown command 'ADD': expected add NAME or remove NAME", 1},
      {"add", "add needs a tag: expected add NAME", 4},
      {"add a b", "one tag per command; unexpected 'b'", 7},
      {"add a\n\n", "tag 'a\\x0a': invalid character '\\x0a' at column 2 "
                    "(letters, digits and . _ - : = / only)",
       6},
      {"remove -a", "tag '-a': invalid character '-' at column 1 (a tag "
                    "starts with a letter or digit)",
       8},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    auto parsed = ParseTagCommand(c.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message == c.message);
    CHECK(parsed.error().column == c.column);
  }
}

TEST_CASE("a parsed tag command written back parses to the same command") {
  for (std::string_view input : {"add Build", "remove ENV=prod\n"}) {
    INFO(input);
    auto first = ParseTagCommand(input);
    REQUIRE(first);
    auto again = ParseTagCommand(std::string(first->add ? "add " : "remove ") +
                                 first->tag);
    REQUIRE(again);
    CHECK(again->add == first->add);
    CHECK(again->tag == first->tag);
  }
}

}  // namespace
}  // namespace tokenfs
