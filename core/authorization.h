// Authorization: may this caller perform this operation on this token?
//
// Every operation through the tree is decided here, in this order (design
// §4), and the first refusal wins:
//   1. Linux inspection right, for tokens attached to a process: the
//      caller's fsuid equals the target's real, effective and saved uid, or
//      the caller holds CAP_SYS_PTRACE (the analogue of process query
//      access). Token objects (/tokens/objects) skip this step.
//   2. AccessCheck of the caller's effective token against the target
//      token's own security descriptor for the token right the operation
//      needs (token generic mapping). A caller impersonating at Anonymous or
//      Identification level is checked with its primary token instead, the
//      way Windows opens tokens "as self": such a token may not be used for
//      access checks, and without this the caller could not even revert.
//   3. The capability gate (mytoken model): the checking token must hold the
//      capability the operation names (e.g. tokeninfo:introspect to read its
//      own token, manage_mytokens:list to read another token of the same
//      user, create_mytoken to derive tokens, AT to impersonate).
// The model's own rules (privileges held, groups mandatory, ...) come after
// authorization, in core/token_operations.h.
//
// Thread-safety: pure function; the capability probe is called at most once.
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
// catalog).
namespace tree_capability {
inline constexpr std::string_view kIntrospect = "tokeninfo:introspect";
inline constexpr std::string_view kListOwn = "manage_mytokens:list";
inline constexpr std::string_view kRevoke = "manage_mytokens:revoke";
inline constexpr std::string_view kCreate = "create_mytoken";
inline constexpr std::string_view kImpersonate = "AT";
}  // namespace tree_capability

struct AuthorizationRequest {
  // The caller's tokens (effective = impersonation token or primary).
  const Token* caller_effective = nullptr;
  const Token* caller_primary = nullptr;
  // The caller's fsuid as the kernel reported it for this request.
  uint32_t caller_fsuid = 0;
  // Answers whether the caller holds CAP_SYS_PTRACE in its effective set;
  // asked only when the uids differ (the daemon reads /proc then).
  std::function<bool()> caller_has_ptrace_capability;

  // The target token, and the credentials of the process it is attached to
  // (nullopt for token objects).
  const Token* target = nullptr;
  std::optional<LinuxCredentials> target_process;
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

// Step 1 alone, for operations on a process that involve no token right
// (making one of its threads impersonate): nullopt when the caller may
// inspect the process, else the reason.
std::optional<std::string> InspectionDenial(
    uint32_t caller_fsuid, const std::function<bool()>& has_ptrace_capability,
    const LinuxCredentials& process, std::string_view description);

// The capability reading `target` requires of a caller whose tokens are
// `caller_effective`/`caller_primary`: tokeninfo:introspect for its own
// token, manage_mytokens:list for another token of the same user, none
// otherwise (the DACL decides).
std::string_view QueryCapabilityFor(const Token& caller_effective,
                                    const Token& caller_primary,
                                    const Token& target);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_AUTHORIZATION_H_
