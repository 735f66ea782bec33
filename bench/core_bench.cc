// core_bench: Google Benchmark timings of the core operations the daemon runs
// on its hot paths (issue 2): the access check, SDDL parse and format, token
// spec decode and encode, and the rendering done at every open of a token
// file.
//
// Inputs are built programmatically and sized like real ones: a 30-group
// token checked against a 20-ACE DACL whose granting ACEs sit late in the
// list (behind deny ACEs for groups the token does not hold), a 12-ACE
// file-system style SDDL string, a token spec with 20 groups, claims and a
// default DACL, and the SYSTEM token the default minting policy gives root.
// Every fixture is checked once before timing (the access check must grant,
// SDDL must parse, the spec must decode): a benchmark of an error path would
// measure the wrong thing, so a broken fixture aborts the benchmark with
// SkipWithError instead.
//
// Run (docs/benchmarks.md):
//   cmake --build build --target core_bench &&
//   build/bench/core_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/access_check.h"
#include "core/access_mask.h"
#include "core/ace.h"
#include "core/acl.h"
#include "core/authorization.h"
#include "core/capability.h"
#include "core/claims.h"
#include "core/luid.h"
#include "core/minting_policy.h"
#include "core/privilege.h"
#include "core/query_class.h"
#include "core/registry.h"
#include "core/render.h"
#include "core/sddl.h"
#include "core/security_descriptor.h"
#include "core/sid.h"
#include "core/token.h"
#include "core/token_spec.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

using group_attributes::kMandatory;
using group_attributes::kUseForDenyOnly;
using test::kEnabledGroup;  // mandatory | enabled by default | enabled
using test::MakeAce;

// A domain-style SID S-1-5-21-1004336348-1177238915-682003330-<rid>, so the
// SIDs compared by the check have the realistic five sub-authorities.
Sid DomainSid(uint32_t rid) {
  return Sid::Known(kNtAuthority, {21, 1004336348, 1177238915, 682003330, rid});
}

// The user the check runs for, and its 30 groups: five well-known ones, 20
// domain groups (2000..2019) of which 3 are disabled and 2 deny-only, the
// logon SID, the integrity SID and, to fill the list, Interactive and Local.
Token MakeCheckedToken() {
  Token token;
  token.user = DomainSid(1001);
  token.groups = {
      {well_known::Everyone(), kEnabledGroup},
      {well_known::Local(), kEnabledGroup},
      {well_known::Interactive(), kEnabledGroup},
      {well_known::AuthenticatedUsers(), kEnabledGroup},
      {well_known::Users(), kEnabledGroup},
  };
  for (uint32_t i = 0; i < 20; ++i) {
    uint32_t attributes = kEnabledGroup;
    if (i == 4 || i == 9 || i == 14) attributes = kMandatory;  // disabled
    if (i == 6 || i == 11) attributes = kUseForDenyOnly;
    token.groups.push_back({DomainSid(2000 + i), attributes});
  }
  token.groups.push_back({well_known::ConsoleLogon(), kEnabledGroup});
  token.groups.push_back({well_known::BackupOperators(), kUseForDenyOnly});
  token.groups.push_back({well_known::Service(), kMandatory});
  token.groups.push_back({well_known::LogonSid(0x3e7a5),
                          kEnabledGroup | group_attributes::kLogonId});
  token.groups.push_back(
      {well_known::IntegrityLevel(kIntegrityMedium),
       group_attributes::kIntegrity | group_attributes::kIntegrityEnabled});
  token.integrity_rid = kIntegrityMedium;
  token.mandatory_policy = mandatory_policy::kNoWriteUp;
  token.privileges.present = privilege::Bit(privilege::kChangeNotify) |
                             privilege::Bit(privilege::kShutdown) |
                             privilege::Bit(privilege::kUndock) |
                             privilege::Bit(privilege::kIncreaseWorkingSet) |
                             privilege::Bit(privilege::kTimeZone);
  token.privileges.enabled = privilege::Bit(privilege::kChangeNotify);
  token.privileges.enabled_by_default = token.privileges.enabled;
  token.token_id = Luid{0x10001};
  token.auth_id = Luid{0x3e7a5};
  token.modified_id = token.token_id;
  token.security = DefaultTokenSecurity(token.user, token.user);
  return token;
}

// A file's SD with a 20-ACE DACL. The walk has to go all the way: deny ACEs
// for groups the token does not hold come first (they must be compared
// against every group and skipped), an inherit-only ACE, a deny ACE for a
// deny-only group the token holds (it matches and denies a bit nobody asks
// for), allow ACEs for foreign groups, and only ACEs 16, 18 and 19 grant the
// rights the benchmark asks for. A Medium NO_WRITE_UP label sits in the
// SACL, as on a real file.
SecurityDescriptor MakeCheckedDescriptor() {
  constexpr auto kAllow = AceType::kAccessAllowed;
  constexpr auto kDeny = AceType::kAccessDenied;
  Acl dacl;
  for (uint32_t i = 0; i < 4; ++i) {  // 0..3: denies for foreign groups
    dacl.aces.push_back(MakeAce(kDeny, 0x1f01ff, DomainSid(3000 + i)));
  }
  dacl.aces.push_back(MakeAce(kDeny, 0x000116, DomainSid(2004)));  // 4:
  // disabled group: skipped.
  dacl.aces.push_back(
      MakeAce(kAllow, 0x1f01ff, well_known::CreatorOwner(),
              ace_flags::kInheritOnly | ace_flags::kObjectInherit));  // 5
  dacl.aces.push_back(
      MakeAce(kDeny, access::kWriteOwner.bits(), DomainSid(2006)));  // 6:
  // deny-only group: matches, denies WRITE_OWNER (not requested).
  for (uint32_t i = 0; i < 9; ++i) {  // 7..15: allows for foreign groups
    dacl.aces.push_back(MakeAce(kAllow, 0x1f01ff, DomainSid(4000 + i)));
  }
  dacl.aces.push_back(
      MakeAce(kAllow, access::kSynchronize.bits(), DomainSid(2017)));  // 16
  dacl.aces.push_back(MakeAce(kAllow, 0x1f01ff, DomainSid(2011)));     // 17:
  // deny-only group: an allow never matches it.
  dacl.aces.push_back(MakeAce(kAllow, 0x120089, DomainSid(2019)));  // 18 read
  dacl.aces.push_back(
      MakeAce(kAllow, 0x000116 | access::kDelete.bits(),
              well_known::ConsoleLogon()));  // 19: write + delete
  SecurityDescriptor sd;
  sd.owner = DomainSid(500);
  sd.group = DomainSid(513);
  sd.SetDacl(std::move(dacl));
  Acl sacl;
  sacl.aces.push_back(MakeAce(AceType::kSystemMandatoryLabel,
                              mandatory_policy::kNoWriteUp,
                              well_known::IntegrityLevel(kIntegrityMedium)));
  sd.SetSacl(std::move(sacl));
  return sd;
}

void RunAccessCheck(benchmark::State& state, AccessMask desired) {
  const Token token = MakeCheckedToken();
  const SecurityDescriptor sd = MakeCheckedDescriptor();
  AccessRequest request;
  request.desired = desired;
  request.mapping = kFileGenericMapping;
  request.want_trace = state.range(0) != 0;
  const AccessCheckResult probe = AccessCheck(token, sd, request);
  if (!probe.granted_ok()) {
    state.SkipWithError(("fixture not granted: " + probe.reason).c_str());
    return;
  }
  for (auto _ : state) {
    AccessCheckResult result = AccessCheck(token, sd, request);
    benchmark::DoNotOptimize(result);
  }
  state.SetLabel(
      "deciding ACE " + std::to_string(probe.deciding_ace) +
      (request.want_trace
           ? ", trace " + std::to_string(probe.trace.size()) + " steps"
           : ""));
}

// FILE_GENERIC_READ | FILE_WRITE_DATA | DELETE: granted by ACEs 18 and 19.
void BM_AccessCheck(benchmark::State& state) {
  RunAccessCheck(state, AccessMask(0x120089 | 0x2) | access::kDelete);
}
BENCHMARK(BM_AccessCheck)->ArgName("trace")->Arg(0)->Arg(1);

// MAXIMUM_ALLOWED walks every ACE and collects what each grants.
void BM_AccessCheckMaximumAllowed(benchmark::State& state) {
  RunAccessCheck(state, access::kMaximumAllowed);
}
BENCHMARK(BM_AccessCheckMaximumAllowed)->ArgName("trace")->Arg(0)->Arg(1);

// A file-system style SD (Windows' C:\Users\<name> shape plus a deny, an
// OWNER RIGHTS ACE, a SACL label and an audit ACE): aliases, full domain
// SIDs, inheritance flags, names and hex masks.
constexpr const char* kFileSddl =
    "O:S-1-5-21-1004336348-1177238915-682003330-1001"
    "G:S-1-5-21-1004336348-1177238915-682003330-513"
    "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
    "(A;OICI;FA;;;S-1-5-21-1004336348-1177238915-682003330-1001)"
    "(D;OICI;WDWO;;;S-1-5-21-1004336348-1177238915-682003330-1005)"
    "(A;OICIIO;GA;;;CO)(A;OICI;0x1200a9;;;BU)(A;CI;LCSWRPWP;;;BU)"
    "(A;OICI;FR;;;AU)(A;OICIID;FX;;;WD)(A;;RC;;;OW)"
    "S:AI(ML;OICI;NW;;;ME)(AU;OICISAFA;FA;;;WD)";

void BM_SddlParse(benchmark::State& state) {
  if (auto probe = ParseSddl(kFileSddl); !probe) {
    state.SkipWithError(
        ("fixture does not parse: " + probe.error().message).c_str());
    return;
  }
  for (auto _ : state) {
    auto sd = ParseSddl(kFileSddl);
    benchmark::DoNotOptimize(sd);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(std::string(kFileSddl).size()));
}
BENCHMARK(BM_SddlParse);

void BM_SddlFormat(benchmark::State& state) {
  auto sd = ParseSddl(kFileSddl);
  if (!sd) {
    state.SkipWithError(
        ("fixture does not parse: " + sd.error().message).c_str());
    return;
  }
  for (auto _ : state) {
    std::string text = FormatSddl(*sd);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_SddlFormat);

SidAndAttributes Enabled(const Sid& sid) { return {sid, kEnabledGroup}; }

// What `token create` sends: 20 caller groups (one the owner), privileges,
// a default DACL, user claims of three types and a device claim, and a few
// supplementary gids.
TokenSpec MakeSpec() {
  TokenSpec spec;
  spec.type = TokenType::kPrimary;
  spec.integrity_rid = kIntegrityMedium;
  spec.mandatory_policy = mandatory_policy::kNoWriteUp;
  spec.privileges_present = privilege::Bit(privilege::kChangeNotify) |
                            privilege::Bit(privilege::kShutdown) |
                            privilege::Bit(privilege::kTimeZone) |
                            privilege::Bit(privilege::kIncreaseWorkingSet) |
                            privilege::Bit(privilege::kBackup);
  spec.privileges_enabled = privilege::Bit(privilege::kChangeNotify);
  spec.projected_uid = 1001;
  spec.projected_gid = 1001;
  spec.session_id = Luid{0x3e7a5};
  spec.source = TokenSource::Make("bench", Luid{7});
  spec.user = well_known::UnixUser(1001);
  spec.groups = {Enabled(well_known::Everyone()), Enabled(well_known::Users()),
                 Enabled(well_known::AuthenticatedUsers()),
                 Enabled(well_known::Interactive()),
                 Enabled(well_known::Local())};
  for (uint32_t i = 0; i < 15; ++i) {
    spec.groups.push_back(Enabled(well_known::UnixGroup(1000 + i)));
  }
  spec.groups[5].attributes |= group_attributes::kOwner;
  spec.owner_index = 6;  // groups[5]
  spec.primary_group_index = 6;
  Acl dacl;
  dacl.aces.push_back(
      MakeAce(AceType::kAccessAllowed, 0x10000000, spec.user));  // GA
  dacl.aces.push_back(
      MakeAce(AceType::kAccessAllowed, 0x10000000, well_known::LocalSystem()));
  dacl.aces.push_back(MakeAce(AceType::kAccessAllowed, 0xa0000000,
                              well_known::UnixGroup(1000)));  // GR|GX
  spec.default_dacl = std::move(dacl);
  Claim department;
  department.name = "department";
  department.type = ClaimType::kString;
  department.values = {std::string("engineering"), std::string("storage")};
  Claim clearance;
  clearance.name = "clearance";
  clearance.type = ClaimType::kInt64;
  clearance.values = {int64_t{3}};
  Claim manager;
  manager.name = "manager";
  manager.type = ClaimType::kSid;
  manager.values = {well_known::UnixUser(1002)};
  spec.user_claims = {department, clearance, manager};
  Claim managed;
  managed.name = "managed";
  managed.type = ClaimType::kBoolean;
  managed.values = {true};
  spec.device_claims = {managed};
  spec.supplementary_gids = {1000, 1001, 1002, 1003, 27, 100};
  return spec;
}

void BM_TokenSpecDecode(benchmark::State& state) {
  auto encoded = EncodeTokenSpec(MakeSpec());
  if (!encoded) {
    state.SkipWithError(
        ("fixture does not encode: " + encoded.error().message).c_str());
    return;
  }
  const std::span<const uint8_t> bytes(*encoded);
  for (auto _ : state) {
    auto spec = DecodeTokenSpec(bytes);
    benchmark::DoNotOptimize(spec);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(bytes.size()));
  state.SetLabel(std::to_string(bytes.size()) + "-byte spec");
}
BENCHMARK(BM_TokenSpecDecode);

void BM_TokenSpecEncode(benchmark::State& state) {
  const TokenSpec spec = MakeSpec();
  if (auto probe = EncodeTokenSpec(spec); !probe) {
    state.SkipWithError(
        ("fixture does not encode: " + probe.error().message).c_str());
    return;
  }
  for (auto _ : state) {
    auto bytes = EncodeTokenSpec(spec);
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_TokenSpecEncode);

// Answers the names the daemon would find in /etc/passwd and /etc/group
// without touching them (core_bench times core, not NSS).
class FixedAccounts : public AccountLookup {
 public:
  std::optional<std::string> UserName(uint32_t uid) const override {
    if (uid == 0) return "root";
    return std::nullopt;
  }
  std::optional<std::string> GroupName(uint32_t gid) const override {
    if (gid == 0) return "root";
    return std::nullopt;
  }
};

// root as a daemon started by systemd sees it: every capability, no
// terminal, no audit session.
LinuxCredentials RootCredentials() {
  LinuxCredentials credentials;
  credentials.cap_permitted = linux_capability::kAllMask;
  credentials.cap_effective = linux_capability::kAllMask;
  credentials.cap_bounding = linux_capability::kAllMask;
  return credentials;
}

// The SYSTEM token the default policy mints for root, as the daemon renders
// it (labelled SIDs, account and capability names).
struct SystemFixture {
  LuidAllocator ids;
  test::FixedClock clock{1'700'000'000'000'000'000ull};
  FixedAccounts accounts;
  CapabilityNames capability_names;
  RenderOptions options;
  std::optional<Token> token;
  std::string error;

  SystemFixture() {
    options.sid_style = SidStyle::kLabeled;
    options.accounts = &accounts;
    options.capability_names = &capability_names;
    auto minted = MintingPolicy::Default().Mint(
        RootCredentials(), MintContext{ids, clock, &accounts});
    if (minted) {
      token = std::move(minted->token);
    } else {
      error = "minting failed: " + minted.error().message;
    }
  }
};

// Times `render` (the SYSTEM token and its render options -> text) and labels
// the benchmark with the size of the text.
template <typename Render>
void RunRender(benchmark::State& state, Render render) {
  SystemFixture fixture;
  if (!fixture.token) {
    state.SkipWithError(fixture.error.c_str());
    return;
  }
  size_t size = 0;
  for (auto _ : state) {
    std::string text = render(*fixture.token, fixture.options);
    size = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetLabel(std::to_string(size) + " bytes");
}

void BM_RenderPrivs(benchmark::State& state) {
  RunRender(state, [](const Token& token, const RenderOptions& options) {
    return RenderTokenFile(token, TokenFile::kPrivs, options);
  });
}
BENCHMARK(BM_RenderPrivs);

// `cat /tokens/<pid>/all`: every text file in one document.
void BM_RenderAll(benchmark::State& state) {
  RunRender(state, [](const Token& token, const RenderOptions& options) {
    return RenderTokenFile(token, TokenFile::kAll, options);
  });
}
BENCHMARK(BM_RenderAll);

// `cat /tokens/<pid>/query/<class>`: the JSON the daemon serves, dumped as
// the daemon dumps it (indent 2).
void BM_QueryClassJson(benchmark::State& state) {
  const auto query_class = static_cast<QueryClass>(state.range(0));
  RunRender(state,
            [query_class](const Token& token, const RenderOptions& options) {
              return QueryClassJson(token, query_class, options).dump(2);
            });
}
BENCHMARK(BM_QueryClassJson)
    ->ArgName("class")
    ->Arg(static_cast<int>(QueryClass::kGroups))
    ->Arg(static_cast<int>(QueryClass::kPrivileges))
    ->Arg(static_cast<int>(QueryClass::kStatistics));

// `cat /tokens/<pid>/query/all`: every class in one document.
void BM_AllClassesJson(benchmark::State& state) {
  RunRender(state, [](const Token& token, const RenderOptions& options) {
    return AllClassesJson(token, options).dump(2);
  });
}
BENCHMARK(BM_AllClassesJson);

// The authorization the daemon runs at every open of a token file: SYSTEM
// reading its own token (QUERY through the token's own SD).
void BM_AuthorizeOpen(benchmark::State& state) {
  SystemFixture fixture;
  if (!fixture.token) {
    state.SkipWithError(fixture.error.c_str());
    return;
  }
  AuthorizationRequest request;
  request.caller_effective = &*fixture.token;
  request.caller_primary = &*fixture.token;
  Inspection inspection;
  inspection.same_process = true;  // reading its own token
  inspection.target = RootCredentials();
  inspection.description = "process 1";
  request.inspection = std::move(inspection);
  request.target = &*fixture.token;
  request.target_description = "process 1";
  request.desired = access::kTokenQuery;
  if (AuthorizationResult probe = Authorize(request); !probe.allowed) {
    state.SkipWithError(("fixture not allowed: " + probe.reason).c_str());
    return;
  }
  for (auto _ : state) {
    AuthorizationResult result = Authorize(request);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_AuthorizeOpen);

// The registry's share of a fork storm: the fork and exit events of a child
// of a known process that nothing looks at (issue 13). The process source
// is an in-memory table, so this is the registry's own cost; the daemon adds
// receiving the events. Arg 1 also looks the child up (its token object is
// made, read from the table and dropped at exit), the cost every child paid
// before forks were noted lazily.
class TableSource : public ProcessSource {
 public:
  Result<TaskInfo> ReadTask(int32_t tid) const override {
    TaskInfo info;
    info.tid = info.tgid = tid;
    info.ppid = tid == 100 ? 1 : 100;
    info.start_time = info.thread_start_time = static_cast<uint64_t>(tid);
    info.credentials = RootCredentials();
    return info;
  }
  Result<TaskIncarnation> Incarnation(int32_t tid) const override {
    if (tid == exited) return MakeError(ErrorCode::kNotFound, "gone");
    return TaskIncarnation{static_cast<uint64_t>(tid), 0};
  }
  std::vector<int32_t> ListProcesses() const override { return {}; }
  std::vector<int32_t> ListThreads(int32_t) const override { return {}; }
  int32_t exited = 0;  // the child whose exit is being reported
};

class PolicyMinter : public TokenMinter {
 public:
  PolicyMinter(LuidAllocator& ids, const Clock& clock, FixedAccounts& accounts)
      : ids_(ids), clock_(clock), accounts_(accounts) {}
  Result<MintedIdentity> Mint(const LinuxCredentials& credentials) override {
    return MintingPolicy::Default().Mint(
        credentials, MintContext{ids_, clock_, &accounts_});
  }

 private:
  LuidAllocator& ids_;
  const Clock& clock_;
  FixedAccounts& accounts_;
};

void BM_RegistryForkExit(benchmark::State& state) {
  SystemFixture fixture;
  TableSource source;
  PolicyMinter minter(fixture.ids, fixture.clock, fixture.accounts);
  Registry registry(source, minter, fixture.ids, Registry::Options{});
  registry.SetEventsLive(true);
  if (!registry.Process(100)) {
    state.SkipWithError("the parent could not be minted");
    return;
  }
  const bool look = state.range(0) != 0;
  int32_t pid = 1000;
  for (auto _ : state) {
    registry.OnFork(100, pid, pid);
    if (look) benchmark::DoNotOptimize(registry.Process(pid));
    source.exited = pid;
    registry.OnExit(pid, pid);
    pid = pid >= 4000000 ? 1000 : pid + 1;
  }
}
BENCHMARK(BM_RegistryForkExit)->ArgName("looked_up")->Arg(0)->Arg(1);

}  // namespace
}  // namespace tokenfs

BENCHMARK_MAIN();
