// Authorization: may this caller perform this operation on this token?
//
// Every operation through the tree is decided here, in this order, and the
// first refusal wins:
//   1. Linux inspection right, for tokens attached to a process. It mirrors
//      the kernel's ptrace_may_access(PTRACE_MODE_READ_FSCREDS): a caller
//      may always inspect its own process; otherwise its fsuid must equal
//      the target's real, effective and saved uid, its fsgid the target's
//      real, effective and saved gid, the target's permitted capabilities
//      must be a subset of the caller's effective ones in the same user
//      namespace (or the target's namespace must be a child of the initial
//      one created by the caller's euid), and the target must be dumpable (a
//      setuid, setgid or file-capability program, or one that called
//      PR_SET_DUMPABLE 0, is not). Failing that, the caller needs
//      CAP_SYS_PTRACE in its effective set, held in the initial user
//      namespace (HoldsCapability). Token objects (/tokens/objects) skip
//      this step.
//   2. AccessCheck of the request's checking token (CheckingToken) against
//      the target token's own security descriptor for the token right the
//      operation needs (token generic mapping).
//   3. The capability gate (mytoken model): the checking token must hold the
//      capability the operation names (e.g. tokeninfo:introspect to read its
//      own token, manage_mytokens:list to read another token of the same
//      user, create_mytoken to derive tokens, AT to impersonate).
// The model's own rules (privileges held, groups mandatory, ...) come after
// authorization, in core/write_rules.h and core/token_operations.h, and use
// the same checking token.
//
// Thread-safety: pure functions; each probe is called at most once.
#ifndef TOKENFS_CORE_AUTHORIZATION_H_
#define TOKENFS_CORE_AUTHORIZATION_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/access_mask.h"
#include "core/minting_policy.h"
#include "core/result.h"
#include "core/token.h"

namespace tokenfs {

// Capabilities the tree's operations require (names from the mytoken
// catalog; man/tokenfs.5 CAPABILITIES maps each to what it permits). The
// read@ forms are what reads ask for: the read-write name covers its read@
// twin, so a token holding either may read, and only the read-write one may
// change.
namespace tree_capability {
inline constexpr std::string_view kIntrospect = "tokeninfo:introspect";
inline constexpr std::string_view kHistory = "tokeninfo:history";
inline constexpr std::string_view kNotify = "tokeninfo:notify";
inline constexpr std::string_view kSubtokens = "tokeninfo:subtokens";
inline constexpr std::string_view kReadSubtokens = "read@tokeninfo:subtokens";
inline constexpr std::string_view kTags = "tokeninfo:tags";
inline constexpr std::string_view kReadTags = "read@tokeninfo:tags";
inline constexpr std::string_view kListOwn = "manage_mytokens:list";
inline constexpr std::string_view kRevoke = "manage_mytokens:revoke";
inline constexpr std::string_view kManageTags = "manage_mytokens:tags";
inline constexpr std::string_view kReadManageTags = "read@manage_mytokens:tags";
inline constexpr std::string_view kCreate = "create_mytoken";
inline constexpr std::string_view kImpersonate = "AT";
inline constexpr std::string_view kReadHistory = "read@tokeninfo:history";
inline constexpr std::string_view kReadManageHistory =
    "read@manage_mytokens:history";
}  // namespace tree_capability

// The request's one checking token: the caller's effective token, except
// that a thread impersonating at Anonymous or Identification level is
// checked with its primary token. Such a token may only identify; it never
// grants anything (no right, no privilege, no capability), and the caller
// can still inspect and revert as itself, the way Windows opens tokens "as
// self".
const Token& CheckingToken(const Token& effective, const Token& primary);

// What Linux says about an inspection's target right now.
struct TargetState {
  // Current ids, capability sets and whether its user namespace is the
  // initial one.
  LinuxCredentials credentials;
  // Whether it is dumpable; nullopt when that cannot be told (counts as
  // not dumpable), and then `undecided` says why.
  std::optional<bool> dumpable;
  // For a target in a user namespace whose parent is the initial one: the
  // uid that created (owns) that namespace. nullopt otherwise.
  std::optional<uint32_t> namespace_owner;
  // Why `dumpable` is unknown ("" when it is known).
  std::string undecided;
};

// What a dumpability probe's answer means. Linux shows whether a process
// is dumpable only through ptrace_may_access: the daemon's probe is a thread
// whose fsuid and fsgid are the target's (root) and whose effective set is
// `probe_effective` (CAP_SYS_PTRACE left out), reading a file of the target
// that needs PTRACE_MODE_READ_FSCREDS. Readable means dumpable. A refusal
// means "not dumpable" only when the rest of the kernel's rule surely
// passed: the target is in the probe's user namespace and its permitted set
// lies within `probe_effective`. Otherwise the kernel would refuse a
// dumpable target too, and the answer is unknown, with the reason in
// `undecided` (e.g. a daemon started under a narrower capability bounding
// set than the target's).
struct DumpableVerdict {
  std::optional<bool> dumpable;
  std::string undecided;
};
DumpableVerdict ReadDumpableProbe(bool readable, uint64_t probe_effective,
                                  const LinuxCredentials& target);

// Step 1's facts: who asks, about which process. Probes are asked lazily,
// only when the cheaper facts do not decide, and at most once. An
// Inspection is used within the request that made it: its probes and
// description may refer to that request's state.
struct Inspection {
  uint32_t caller_fsuid = 0;
  uint32_t caller_fsgid = 0;
  // The caller is a thread of the target process itself.
  bool same_process = false;
  // The caller's current credentials (capability sets and user namespace);
  // nullopt when they cannot be read, which counts as no capability.
  std::function<std::optional<LinuxCredentials>()> caller_credentials;
  // The target's ids as recorded (a cheap first test).
  LinuxCredentials target;
  // The target as it is now; nullopt when it is gone.
  std::function<std::optional<TargetState>()> target_state;
  std::string_view description;  // "process 4242"
};

// Step 1 alone: nullopt when the caller may inspect the process, else the
// reason (one sentence naming the rule that failed).
std::optional<std::string> InspectionDenial(const Inspection& inspection);

struct AuthorizationRequest {
  // The caller's tokens (effective = impersonation token or primary).
  const Token* caller_effective = nullptr;
  const Token* caller_primary = nullptr;

  // Step 1, for a token attached to a process (nullopt for token objects).
  std::optional<Inspection> inspection;

  const Token* target = nullptr;
  std::string target_description;  // "process 4242", "token object 65541"

  AccessMask desired;
  // "" for none; otherwise a capability name the checking token must hold.
  std::string_view capability;
};

struct AuthorizationResult {
  bool allowed = false;
  // kAccessDenied for steps 1-3.
  ErrorCode code = ErrorCode::kAccessDenied;
  // One sentence for the daemon log and the CLI.
  std::string reason;
  AccessMask granted;
  // Privileges the access check used; the daemon marks them on the checking
  // token (`checked_with_primary` says which one).
  uint64_t privileges_used = 0;
  bool checked_with_primary = false;
};

AuthorizationResult Authorize(const AuthorizationRequest& request);

// A socket peer's grant (/tokens/peer/FD): the caller may QUERY and
// IMPERSONATE the token of the process at the other end of its connection,
// whoever that is, like the token Windows and Peios hand a server for its
// client. Nothing else: other rights go through Authorize. The grant still
// passes the capability gate on the checking token.
inline constexpr AccessMask kPeerGrantRights =
    access::kTokenQuery | access::kTokenImpersonate;
AuthorizationResult AuthorizePeer(const Token& checking, AccessMask desired,
                                  std::string_view capability,
                                  std::string_view target_description);

// The capability reading `target` requires of a caller whose tokens are
// `caller_effective`/`caller_primary`: tokeninfo:introspect for its own
// token, manage_mytokens:list for another token of the same user, none
// otherwise (the DACL decides).
std::string_view QueryCapabilityFor(const Token& caller_effective,
                                    const Token& caller_primary,
                                    const Token& target);

// The operations whose capability depends on whose token is the target.
enum class TreeAction {
  kRead,           // any token file (QueryCapabilityFor)
  kListSubtokens,  // the subtokens file
  kReadTags,       // reading the tags file
  kChangeTags,     // writing the tags file
  kReadHistory,    // the history file
};

// When a gate applies, and which: the rule QueryCapabilityFor set. A token
// is the caller's own when it is the caller's effective or primary token
// (tokeninfo:* capabilities, "this token"); another token of the caller's
// user is governed by manage_mytokens:* ("any of the user's tokens"); a
// token of another user has no gate (its DACL decides, and a gate on the
// caller's token would not protect that user). Returns, for own / same
// user:
//   kRead           tokeninfo:introspect       / manage_mytokens:list
//   kListSubtokens  read@tokeninfo:subtokens   / manage_mytokens:list
//   kReadTags       read@tokeninfo:tags        / read@manage_mytokens:tags
//   kChangeTags     tokeninfo:tags             / manage_mytokens:tags
//   kReadHistory    read@tokeninfo:history     / read@manage_mytokens:history
// and "" for another user's token.
std::string_view CapabilityFor(TreeAction action, const Token& caller_effective,
                               const Token& caller_primary,
                               const Token& target);

// Watching `target` (poll, select or epoll on one of its files, after an
// open that was authorized): nullopt when the checking token `checking` of
// a caller whose tokens are `caller_effective`/`caller_primary` may, else
// the reason, naming the capability. A caller may always watch its own
// tokens; any other token needs tokeninfo:notify.
std::optional<std::string> WatchDenial(const Token& caller_effective,
                                       const Token& caller_primary,
                                       const Token& checking,
                                       const Token& target);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_AUTHORIZATION_H_
