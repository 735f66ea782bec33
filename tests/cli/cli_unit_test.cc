// Unit tests of the token CLI's own pieces: the human layout engine, token
// references, SID styles, error classification and the Linux credential
// projection of `impersonate -- COMMAND`. Expected values come from
// man/token.1 and docs/policy.md (the privilege/capability table).
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <string>

#include "cli/line_output.h"
#include "cli/mount.h"
#include "cli/process_status.h"
#include "cli/projection.h"
#include "cli/text.h"
#include "cli/token_view.h"
#include "tests/support/own_capabilities.h"

namespace tokenfs::cli {
namespace {

TEST_CASE(
    "rows of every section share one key column two spaces wide of "
    "the longest key") {
  LineOutput output;
  output.Section("first");
  output.Row("a", "1");
  output.Row("longer_key", "2");
  output.Section("second");
  output.Row("mid_key", "3");
  CHECK(output.Render() ==
        "\n[first]\n"
        "  a           1\n"
        "  longer_key  2\n"
        "\n[second]\n"
        "  mid_key     3\n");
}

TEST_CASE(
    "a row with an empty value has no trailing spaces and a detail is "
    "indented six spaces") {
  LineOutput output;
  output.Section("s");
  output.Row("key_only", "");
  output.Row("k", "v");
  output.Detail("more");
  output.Plain("plain line");
  CHECK(output.Render() ==
        "\n[s]\n  key_only\n  k         v\n      more\nplain line\n");
}

TEST_CASE("the key column counts characters, not bytes") {
  LineOutput output;
  output.Row("j\xc3\xbcrgen", "1");  // "jürgen": 6 characters, 7 bytes
  output.Row("abcdef", "2");
  CHECK(output.Render() == "  j\xc3\xbcrgen  1\n  abcdef  2\n");
  CHECK(DisplayWidth("j\xc3\xbcrgen") == 6);
}

TEST_CASE("token references parse to targets") {
  struct Case {
    const char* text;
    TargetSpec::Kind kind;
    int32_t pid;
    int32_t tid;
    int fd;
    uint64_t id;
  };
  const Case cases[] = {
      {"self", TargetSpec::Kind::kSelf, 0, 0, -1, 0},
      {"real", TargetSpec::Kind::kReal, 0, 0, -1, 0},
      {"pid:42", TargetSpec::Kind::kProcess, 42, 0, -1, 0},
      {"pid:42/43", TargetSpec::Kind::kThread, 42, 43, -1, 0},
      {"id:65536", TargetSpec::Kind::kObject, 0, 0, -1, 65536},
      {"peer:3", TargetSpec::Kind::kPeer, 0, 0, 3, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto spec = ParseTargetReference(c.text);
    REQUIRE(spec);
    CHECK(spec->kind == c.kind);
    CHECK(spec->pid == c.pid);
    CHECK(spec->tid == c.tid);
    CHECK(spec->peer_fd == c.fd);
    CHECK(spec->object_id == c.id);
  }
}

TEST_CASE("malformed token references are usage errors naming the text") {
  for (const char* text :
       {"", "Self", "pid:", "pid:0", "pid:x", "pid:1/", "pid:1/0",
        "id:", "id:-1", "peer:", "tid:3", "pid:99999999999"}) {
    CAPTURE(text);
    auto spec = ParseTargetReference(text);
    REQUIRE_FALSE(spec);
    CHECK(spec.error().exit_status == exit_status::kUsage);
    CHECK(spec.error().message.find("'" + std::string(text) + "'") !=
          std::string::npos);
  }
}

TEST_CASE("SIDs print labeled, raw or label-only") {
  const Json labeled = {{"sid", "S-1-1-0"}, {"label", "Everyone"}};
  const Json unlabeled = {{"sid", "S-1-5-21-1-2-3-500"}};
  CHECK(SidText(labeled, SidStyle::kLabeled) == "Everyone (S-1-1-0)");
  CHECK(SidText(labeled, SidStyle::kRaw) == "S-1-1-0");
  CHECK(SidText(labeled, SidStyle::kLabelOnly) == "Everyone");
  CHECK(SidText(unlabeled, SidStyle::kLabeled) == "S-1-5-21-1-2-3-500");
  CHECK(SidText(unlabeled, SidStyle::kLabelOnly) == "S-1-5-21-1-2-3-500");
  CHECK(SidText(Json(), SidStyle::kLabeled) == "-");
}

TEST_CASE("restyling sets the display of every nested SID object") {
  const Json document = {
      {"user",
       {{"sid", "S-1-5-18"},
        {"label", "Local System"},
        {"display", "Local System (S-1-5-18)"}}},
      {"groups",
       Json::array(
           {{{"sid", "S-1-1-0"}, {"label", "Everyone"}, {"index", 0}}})}};
  const Json raw = Restyle(document, SidStyle::kRaw);
  CHECK(raw["user"]["display"] == "S-1-5-18");
  CHECK(raw["groups"][0]["display"] == "S-1-1-0");
  CHECK(raw["groups"][0]["index"] == 0);
}

TEST_CASE(
    "a denial names the target, the right and the capability that was "
    "needed") {
  const Mount mount("/nonexistent-tokenfs-root");
  const CliError error = mount.ErrorFor(EACCES, "/x/4242/query/all", "pid 4242",
                                        kReadOperation, "");
  CHECK(error.exit_status == exit_status::kDenied);
  // An open refused by the capability gate carries no reason: the message
  // names the capability that may be the one missing, not only the right.
  CHECK(error.message ==
        "access denied: pid 4242: reading its token needs QUERY and the "
        "capability tokeninfo:introspect (its own token) or "
        "manage_mytokens:list (another token of its user)");
  const CliError no_capability = mount.ErrorFor(
      EACCES, "/x/objects/7/tags", "token object 7",
      Operation{"reading its tags", "QUERY", "read@tokeninfo:tags"}, "");
  CHECK(no_capability.message ==
        "access denied: token object 7: reading its tags needs QUERY and the "
        "capability read@tokeninfo:tags");
  const CliError right_only = mount.ErrorFor(
      EACCES, "/x/4242/restrict", "pid 4242",
      Operation{"restricting it", "DUPLICATE"}, "");
  CHECK(right_only.message ==
        "access denied: pid 4242: restricting it needs DUPLICATE");
  const CliError model =
      mount.ErrorFor(EPERM, "/x/4242/privs", "pid 4242",
                     Operation{"adjusting its privileges", "ADJUST_PRIVILEGES"},
                     "privilege SeDebug is not present on the token");
  CHECK(model.exit_status == exit_status::kDenied);
  CHECK(model.message ==
        "not permitted: pid 4242: token model: privilege SeDebug is not "
        "present on the token");
  const CliError invalid =
      mount.ErrorFor(EINVAL, "/x/4242/groups", "pid 4242", kReadOperation,
                     "group index 99 is out of range");
  CHECK(invalid.exit_status == exit_status::kInvalidInput);
}

TEST_CASE("a missing mount is a clear failure, not 'not found'") {
  const Mount mount("/nonexistent-tokenfs-root/");
  CHECK(mount.root() == "/nonexistent-tokenfs-root");
  const CliError error =
      mount.ErrorFor(ENOENT, "/nonexistent-tokenfs-root/1/query/all", "pid 1",
                     kReadOperation, "");
  CHECK(error.exit_status == exit_status::kFailure);
  CHECK(error.message.rfind("no tokenfs mounted at /nonexistent-tokenfs-root",
                            0) == 0);
}

// A query/all document with only what the projection reads.
std::string AllDocument(const std::string& user, uint32_t uid, uint32_t gid,
                        const std::string& present, uint32_t rid,
                        bool restricted, const std::string& groups,
                        const std::string& projected_gids) {
  return R"({"classes": {
    "user": {"decoded": {"sid": ")" +
         user + R"("}},
    "privileges": {"decoded": {"privileges": [], "raw": {"present": ")" +
         present + R"("}}},
    "integrity": {"decoded": {"sid": "S-1-16-0", "rid": )" +
         std::to_string(rid) + R"(}},
    "groups": {"decoded": {"groups": [)" +
         groups + R"(]}},
    "projectedsupplementarygids": {"decoded": {"gids": [)" +
         projected_gids +
         R"(]}}},
   "tokenfs": {"projected_uid": )" +
         std::to_string(uid) + R"(, "projected_gid": )" + std::to_string(gid) +
         R"(, "restricted": )" + (restricted ? "true" : "false") +
         R"(, "write_restricted": false}})";
}

std::string Group(uint32_t gid, uint32_t attributes) {
  return R"({"sid": "S-1-22-2-)" + std::to_string(gid) +
         R"(", "attributes_raw": )" + std::to_string(attributes) + "}";
}

TEST_CASE(
    "the projection drops deny-only and disabled groups from the "
    "child's gids") {
  // 0x7 mandatory|default|enabled, 0x10 deny-only, 0x3 disabled.
  const std::string groups = Group(1000, 0x7) + "," + Group(27, 0x10) + "," +
                             Group(44, 0x7) + "," + Group(50, 0x3) +
                             R"(, {"sid": "S-1-1-0", "attributes_raw": 7})";
  auto token = TokenData::FromAll(
      AllDocument("S-1-22-1-1000", 1000, 1000, "0x0000000000800000", 0x2000,
                  false, groups, "27, 44, 60, 50"),
      "test");
  REQUIRE(token);
  auto plan = PlanCredentials(*token);
  REQUIRE(plan);
  CHECK(plan->uid == 1000);
  CHECK(plan->gid == 1000);
  // 44 (enabled group), 60 (projected, no group); not 27 (deny-only), not
  // 50 (disabled), not 1000 (the process gid).
  CHECK(plan->groups == std::vector<gid_t>{44, 60});
  CHECK_FALSE(plan->no_new_privs);
}

TEST_CASE("a denied primary group leaves the child the unmapped gid") {
  auto token = TokenData::FromAll(
      AllDocument("S-1-22-1-1000", 1000, 1000, "0x0000000000800000", 0x2000,
                  true, Group(1000, 0x10), ""),
      "test");
  REQUIRE(token);
  auto plan = PlanCredentials(*token);
  REQUIRE(plan);
  CHECK(plan->gid == 65534);
  CHECK(plan->groups.empty());
  CHECK(plan->no_new_privs);  // restricted
}

TEST_CASE("a capability leaves the child when its privilege is absent") {
  // Every catalog privilege (0xC000000FFFFFFFFC) but SeDebug (bit 20):
  // docs/policy.md maps SeDebug to CAP_SYS_PTRACE (19) alone, and every
  // other mapped capability still has all of its privileges.
  auto token =
      TokenData::FromAll(AllDocument("S-1-5-18", 0, 0, "0xc000000fffeffffc",
                                     0x4000, false, "", ""),
                         "test");
  REQUIRE(token);
  auto plan = PlanCredentials(*token);
  REQUIRE(plan);
  CHECK(plan->uid == 0);
  CHECK(plan->capabilities_to_drop == (uint64_t{1} << 19));
  CHECK_FALSE(plan->no_new_privs);
}

TEST_CASE("integrity below Medium sets no_new_privs") {
  auto token = TokenData::FromAll(
      AllDocument("S-1-22-1-1000", 1000, 1000, "0x0000000000800000", 0x1000,
                  false, "", ""),
      "test");
  REQUIRE(token);
  auto plan = PlanCredentials(*token);
  REQUIRE(plan);
  CHECK(plan->no_new_privs);
}

TEST_CASE("only Local System may project to uid 0") {
  auto token = TokenData::FromAll(
      AllDocument("S-1-22-1-1000", 0, 0, "0x0000000000800000", 0x2000, false,
                  "", ""),
      "test");
  REQUIRE(token);
  auto plan = PlanCredentials(*token);
  REQUIRE_FALSE(plan);
  CHECK(plan.error().exit_status == exit_status::kDenied);
  CHECK(plan.error().message.find("S-1-22-1-1000") != std::string::npos);
}

TEST_CASE("result texts split into key and value at the first two spaces") {
  const auto pairs = ParseKeyValueLines("id  7\npath  /t/objects/7\nflag\n");
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[0] == std::pair<std::string, std::string>{"id", "7"});
  CHECK(pairs[1].second == "/t/objects/7");
  CHECK(pairs[2] == std::pair<std::string, std::string>{"flag", ""});
}

TEST_CASE("token show --all reads the process's own status and securebits") {
  // The parsing is core's (tests/core/proc_status_test.cc); this is the
  // reading: the right file, and securebits only for the caller itself.
  const auto self = ReadProcessStatus(::getpid());
  REQUIRE(self);
  CHECK(self->credentials.real_uid == ::getuid());
  CHECK(self->credentials.effective_uid == ::geteuid());
  CHECK(self->credentials.effective_gid == ::getegid());
  const auto own = test::ReadOwnCapabilities();
  REQUIRE(own);
  CHECK(self->credentials.cap_effective == own->effective);
  CHECK(self->credentials.cap_permitted == own->permitted);
  REQUIRE(self->securebits);
  CHECK(*self->securebits ==
        static_cast<uint64_t>(::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0)));
  // Another process: no securebits.
  const auto parent = ReadProcessStatus(::getppid());
  REQUIRE(parent);
  CHECK_FALSE(parent->securebits);
  // No such process: the file and the reason.
  const auto missing = ReadProcessStatus(2147483647);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message ==
        "/proc/2147483647/status: No such file or directory");
}

}  // namespace
}  // namespace tokenfs::cli
