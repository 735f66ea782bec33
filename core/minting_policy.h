// Minting policy: how tokenfs turns a process's Linux credentials into the
// token it holds the first time it sees the process.
//
// Linux is the authority for credentials and tokenfs for tokens. The policy
// is a pure function of LinuxCredentials and the settings below (plus the
// injected id allocator, clock and account names), so the daemon reads
// /proc and the policy file and core stays free of I/O:
//   - euid 0 becomes Local System (S-1-5-18) in the shape of Peios' boot
//     SYSTEM token; every other euid N becomes S-1-22-1-N ("Unix User\name")
//     with its gids as S-1-22-2-G plus the well-known groups;
//   - privileges follow the capability sets through PrivilegeCapabilityTable
//     (permitted -> present, effective -> enabled), on top of a baseline;
//   - members of the administrator groups get an elevation pair: the Limited
//     token they run with and a linked Full token.
// docs/policy.md documents the rules and the JSON schema with the built-in
// default; the two must stay in step with this file.
//
// MintingPolicy is immutable once built and valid by construction: Parse and
// Create validate everything, so Mint only fails for credentials that cannot
// be represented (too many groups).
//
// Thread-safety: the table and the functions are pure; a MintingPolicy may be
// shared between threads (Mint is const; the LuidAllocator is atomic).
#ifndef TOKENFS_CORE_MINTING_POLICY_H_
#define TOKENFS_CORE_MINTING_POLICY_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/access_mask.h"
#include "core/luid.h"
#include "core/result.h"
#include "core/token.h"
#include "core/well_known_sids.h"

namespace tokenfs {

// Linux capability numbers (include/uapi/linux/capability.h).
namespace linux_capability {
inline constexpr int kChown = 0;
inline constexpr int kDacOverride = 1;
inline constexpr int kDacReadSearch = 2;
inline constexpr int kFowner = 3;
inline constexpr int kFsetid = 4;
inline constexpr int kKill = 5;
inline constexpr int kSetgid = 6;
inline constexpr int kSetuid = 7;
inline constexpr int kSetpcap = 8;
inline constexpr int kLinuxImmutable = 9;
inline constexpr int kNetBindService = 10;
inline constexpr int kNetBroadcast = 11;
inline constexpr int kNetAdmin = 12;
inline constexpr int kNetRaw = 13;
inline constexpr int kIpcLock = 14;
inline constexpr int kIpcOwner = 15;
inline constexpr int kSysModule = 16;
inline constexpr int kSysRawio = 17;
inline constexpr int kSysChroot = 18;
inline constexpr int kSysPtrace = 19;
inline constexpr int kSysPacct = 20;
inline constexpr int kSysAdmin = 21;
inline constexpr int kSysBoot = 22;
inline constexpr int kSysNice = 23;
inline constexpr int kSysResource = 24;
inline constexpr int kSysTime = 25;
inline constexpr int kSysTtyConfig = 26;
inline constexpr int kMknod = 27;
inline constexpr int kLease = 28;
inline constexpr int kAuditWrite = 29;
inline constexpr int kAuditControl = 30;
inline constexpr int kSetfcap = 31;
inline constexpr int kMacOverride = 32;
inline constexpr int kMacAdmin = 33;
inline constexpr int kSyslog = 34;
inline constexpr int kWakeAlarm = 35;
inline constexpr int kBlockSuspend = 36;
inline constexpr int kAuditRead = 37;
inline constexpr int kPerfmon = 38;
inline constexpr int kBpf = 39;
inline constexpr int kCheckpointRestore = 40;
inline constexpr int kLast = 40;
// Every capability 0..40.
inline constexpr uint64_t kAllMask = (uint64_t{1} << (kLast + 1)) - 1;

constexpr uint64_t Bit(int capability) { return uint64_t{1} << capability; }
}  // namespace linux_capability

// /proc/<pid>/sessionid when the process is in no audit (login) session.
inline constexpr uint32_t kAuditSessionUnset = 4294967295u;

// The credentials of one process, as /proc/<pid>/status and sessionid show
// them. Capability sets are the CapPrm/CapEff/... masks; they count only when
// `initial_user_namespace` is true: a capability held in any other user
// namespace (after `unshare -U`, in a rootless container) grants nothing
// outside it, so it never becomes a privilege or satisfies a capability
// check here (see HeldCapabilities). Ids are kernel ids, as seen from the
// initial user namespace.
struct LinuxCredentials {
  uint32_t real_uid = 0;
  uint32_t effective_uid = 0;
  uint32_t saved_uid = 0;
  uint32_t fs_uid = 0;
  uint32_t real_gid = 0;
  uint32_t effective_gid = 0;
  uint32_t saved_gid = 0;
  uint32_t fs_gid = 0;
  std::vector<uint32_t> supplementary_gids;
  uint64_t cap_permitted = 0;
  uint64_t cap_effective = 0;
  uint64_t cap_inheritable = 0;
  uint64_t cap_bounding = 0;
  uint64_t cap_ambient = 0;
  bool no_new_privs = false;
  bool has_terminal = false;  // a controlling terminal (tty_nr != 0)
  uint32_t audit_session_id = kAuditSessionUnset;
  // The process's user namespace is the one tokenfs runs in (the initial
  // one on any ordinary host). False when it differs or cannot be read.
  bool initial_user_namespace = true;
  friend bool operator==(const LinuxCredentials&,
                         const LinuxCredentials&) = default;
};

// The capabilities of `credentials` that count: its permitted and effective
// sets when it is in the initial user namespace, none otherwise.
struct HeldCapabilities {
  uint64_t permitted = 0;
  uint64_t effective = 0;
};
HeldCapabilities CapabilitiesThatCount(const LinuxCredentials& credentials);

// True iff `credentials` holds `capability` in its effective set in the
// initial user namespace (the kernel's capable() for the whole system).
bool HoldsCapability(const LinuxCredentials& credentials, int capability);

// One row of the privilege <-> capability mapping: the privilege is present
// when any of its capabilities is permitted, enabled when any is effective.
// The rows for Peios' switchboard (12-linux-credential-model/
// 2-dac-neutralization.md) invert it exactly; the rest are tokenfs's choices,
// listed with reasons in docs/policy.md.
struct PrivilegeCapabilityMapping {
  int privilege_bit;
  std::span<const int> capabilities;
};

// Every catalog privilege that some capability maps to, in bit order.
// Privileges absent from the table (SeCreateToken, SeMachineAccount,
// SeChangeNotify, ...) have no capability.
std::span<const PrivilegeCapabilityMapping> PrivilegeCapabilityTable();

// The capabilities mapped to `privilege_bit`, as a capability mask (0 when
// none).
uint64_t CapabilitiesForPrivilege(int privilege_bit);

// The privileges whose mapped capabilities intersect `capabilities`.
uint64_t PrivilegesForCapabilities(uint64_t capabilities);

// Catalog privileges no capability maps to, SeChangeNotify excepted (every
// token has it): the ones root gets for holding CAP_SYS_ADMIN.
uint64_t UnmappedPrivileges();

// For projecting a token back onto a child process: the capabilities to
// drop from its bounding set when the token holds only `present_privileges`.
// A capability is dropped when ANY privilege it maps to is absent (when in
// doubt, deny): CAP_SETUID goes unless both SeImpersonate and
// SeAssignPrimaryToken are present. Capabilities the table never mentions
// are not in the result; the daemon decides about them.
uint64_t CapabilitiesToDrop(uint64_t present_privileges);

// Settings of a policy; see docs/policy.md for each key.
struct MintingSettings {
  // Privileges every token holds, and which of them start enabled
  // (enabled ⊆ present). SeChangeNotify is added to both regardless.
  uint64_t baseline_present = 0;
  uint64_t baseline_enabled = 0;
  // What the token's user may do to their own token object.
  AccessMask token_user_access;
  // Integrity and mandatory policy of tokens of ordinary users (and of the
  // Limited token of an elevation pair).
  uint32_t integrity_rid = kIntegrityMedium;
  uint32_t mandatory_policy = 0;
  // tokenfs (mytoken) capabilities of every minted token; nullopt = the full
  // set (FullCapabilitySet()).
  std::optional<std::vector<std::string>> capabilities;
  // Logon type by situation: with a controlling terminal; in an audit
  // session without one; in no session.
  LogonType terminal_logon_type = LogonType::kInteractive;
  LogonType session_logon_type = LogonType::kBatch;
  LogonType no_session_logon_type = LogonType::kService;
  // Elevation: a non-root process any of whose gids is named here (by group
  // name through AccountLookup, or by number) gets a Limited + Full pair.
  std::vector<std::string> admin_group_names;
  std::vector<uint32_t> admin_gids;
  uint64_t limited_removed_privileges = 0;
  uint64_t full_privileges = 0;
  uint32_t full_integrity_rid = kIntegrityHigh;
  // no_new_privs: mandatory policy bits added, and whether the process may
  // still get an elevation pair (sudo cannot elevate it).
  uint32_t no_new_privs_mandatory_policy = 0;
  bool no_new_privs_allow_elevation = false;

  friend bool operator==(const MintingSettings&,
                         const MintingSettings&) = default;
};

// What Mint needs from its caller. The allocator hands out token ids (and
// the logon session ids of processes outside any session); the clock stamps
// creation; accounts (may be null) resolve group names for elevation.
struct MintContext {
  LuidAllocator& ids;
  const Clock& clock;
  const AccountLookup* accounts = nullptr;
};

// The token a process gets, and for an administrator the linked Full token
// (the registry links the two).
struct MintedIdentity {
  Token token;
  std::optional<Token> linked_full;
};

// Source name and id of every minted token.
inline constexpr std::string_view kMintSourceName = "tokenfs";
inline constexpr Luid kMintSourceId{1};

class MintingPolicy {
 public:
  // The built-in default (docs/policy.md).
  static MintingPolicy Default();

  // Parses a policy file: a JSON object whose keys (all optional) override
  // the default. Fails with kInvalidArgument:
  //   - syntax: "policy: syntax error at line L, column C: <what>", with
  //     Error::column = C;
  //   - structure: "policy: <path>: <problem>", e.g. "policy:
  //     elevation.admin_groups[2]: expected a group name or a gid number";
  //     unknown and duplicate keys are errors.
  static Result<MintingPolicy> Parse(std::string_view json_text);

  // Validates `settings` (enabled ⊆ present, access within TOKEN_ALL_ACCESS,
  // valid capability names, known mandatory policy bits). Errors name the
  // setting as Parse would.
  static Result<MintingPolicy> Create(MintingSettings settings);

  const MintingSettings& settings() const { return settings_; }

  // Every key with its effective value; Parse(ToJson().dump()) gives back an
  // equal policy.
  nlohmann::json ToJson() const;

  // Builds the token(s) for `credentials` (rules in docs/policy.md). Fails
  // with kResourceExhausted when the groups would exceed Token::kMaxGroups;
  // never returns a token that fails ValidateToken.
  Result<MintedIdentity> Mint(const LinuxCredentials& credentials,
                              const MintContext& context) const;

 private:
  explicit MintingPolicy(MintingSettings settings)
      : settings_(std::move(settings)) {}

  MintingSettings settings_;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_MINTING_POLICY_H_
