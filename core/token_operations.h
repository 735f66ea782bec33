// Token operations: every way a token changes or gives rise to another
// token, with the model's rules.
//
// Each operation is a pure function over `const Token&`: it validates the
// whole request first and only then builds and returns a new Token (tokens
// are immutable once published; the registry swaps the new one in). A
// refused request therefore changes nothing. Errors name the offending item
// and use the codes deliberately, because the daemon maps them to errno:
//   kInvalidArgument  (EINVAL) malformed input: bad index, repeat, bad enum;
//   kPrivilegeNotHeld (EPERM)  the model forbids it: a privilege is missing,
//                              a mandatory group, anything that would widen;
//   kFailedPrecondition        the token is in the wrong state (sticky roles);
//   kNotFound                  the thing asked for does not exist;
//   kInternal                  the result would break a token invariant
//                              (only possible when the input already did).
//
// Not done here: the access check on the token object itself (QUERY,
// ADJUST_*, DUPLICATE, WRITE_DAC, WRITE_OWNER, ACCESS_SYSTEM_SECURITY — the
// daemon runs core/access_check.h against token.security first), and which
// tokens are paired as linked tokens (the registry remembers that). Rules
// that depend on the *caller* take the caller's token explicitly; where the
// Peios spec says "the caller's real token" (SeTcb for session changes,
// SeImpersonate for impersonation) the daemon passes the caller's primary.
//
// Identifiers (Peios v0.20 wins where it differs from Windows, except where
// Windows-verified tests settle it: docs/architecture.md has the table):
//
//   operation                      token_id  modified_id     parent_token_id
//   Adjust*, Reset*, SetIntegrity  same      new, always (1) same
//   Duplicate, MakeImpersonation-  new       same (3)        same
//     Token
//   LinkedToken copy               new       = token_id      same
//   Restrict                       new       = token_id      source token_id
//   LinkTokens, SetSecurity,       same      same (2)        same
//     MarkPrivilegesUsed
//
//   (1) the Peios model: "All bump modified_id", so a request
//       that happens to change nothing still bumps it (Windows/ReactOS bump
//       only on change). Every successful call takes one fresh id.
//   (2) Setting the elevation role and marking privileges used do not bump
//       (the Peios token structure); the token object's own SD is not
//       token content, so changing it does not bump either.
//   (3) Windows (DuplicateTokenEx, Windows-verified): the copy keeps the
//       source's ModifiedId, since nothing in it was modified; Peios gives
//       modified_id = token_id.
//
// Duplicate and Restrict follow the Peios model's token creation: elevation is
// reset to Default, the token object gets a fresh default SD
// (DefaultTokenSecurity(user, creator)), created_at and the rest are copied;
// Duplicate copies `used`, Restrict resets it to 0.
//
// Thread-safety: pure functions of their arguments, except that each takes
// ids from the LuidAllocator, which is itself thread-safe.
#ifndef TOKENFS_CORE_TOKEN_OPERATIONS_H_
#define TOKENFS_CORE_TOKEN_OPERATIONS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/acl.h"
#include "core/luid.h"
#include "core/result.h"
#include "core/security_descriptor.h"
#include "core/sid.h"
#include "core/token.h"

namespace tokenfs {

// ---------------------------------------------------------------------------
// Privileges (the Peios model's AdjustPrivileges).

enum class PrivilegeState { kEnabled, kDisabled, kRemoved };

struct PrivilegeChange {
  int bit = 0;  // catalog bit (privilege::k*)
  PrivilegeState state = PrivilegeState::kDisabled;
};

struct PrivilegeAdjustment {
  Token token;
  // The whole enabled mask before the change.
  uint64_t previous_enabled = 0;
};

// Enables, disables or removes the named privileges.
// Fails with kInvalidArgument when `changes` is empty, names a bit outside
// the catalog, names a privilege twice, or holds an unknown state; with
// kPrivilegeNotHeld "privilege SeDebug is not present on the token" when
// asked to enable a privilege the token does not have. Disabling or removing
// an absent privilege is a no-op. Removal clears present, enabled and
// enabled-by-default and is permanent (nothing re-adds a privilege); `used`
// is left as it is.
Result<PrivilegeAdjustment> AdjustPrivileges(
    const Token& token, std::span<const PrivilegeChange> changes,
    LuidAllocator& ids);

// Sets enabled := enabled_by_default. Removed privileges stay removed.
PrivilegeAdjustment ResetPrivileges(const Token& token, LuidAllocator& ids);

// Returns `token` with used |= bits & present. The only change that does not
// bump modified_id; used only grows.
Token MarkPrivilegesUsed(const Token& token, uint64_t bits);

// ---------------------------------------------------------------------------
// Groups (the Peios model's AdjustGroups).

struct GroupChange {
  uint32_t index = 0;  // zero-based index into token.groups
  bool enable = false;
};

struct GroupAdjustment {
  Token token;
  // Enabled state of every group before the change, by index.
  std::vector<bool> previous_enabled;
};

// Enables or disables groups by index.
// Fails with kInvalidArgument when `changes` is empty, an index is out of
// range or repeated; with kPrivilegeNotHeld (naming index and SID) when the
// request would enable a deny-only group, disable a mandatory group, the
// logon SID or the user SID, or touch the integrity label group (attribute
// kIntegrity: its state is not a group membership). Disabling a deny-only
// group is a no-op: it is permanently disabled already.
Result<GroupAdjustment> AdjustGroups(const Token& token,
                                     std::span<const GroupChange> changes,
                                     LuidAllocator& ids);

// Sets every group's enabled bit to its enabled-by-default bit. Deny-only
// groups stay deny-only and disabled; integrity label groups are untouched.
GroupAdjustment ResetGroups(const Token& token, LuidAllocator& ids);

// ---------------------------------------------------------------------------
// Defaults for new objects (the Peios model's AdjustDefault).

struct DefaultChange {
  // nullopt: keep; a value: set it, where an inner nullopt clears the
  // default DACL (new objects then get no DACL from the token).
  std::optional<std::optional<Acl>> dacl;
  // 0 = the user, N = groups[N-1] (Token::owner_index convention).
  std::optional<uint32_t> owner_index;
  std::optional<uint32_t> primary_group_index;
};

// Fails with kInvalidArgument when the change names nothing, an index is out
// of range, or the DACL encodes to more than 65535 bytes; with
// kPrivilegeNotHeld when the new owner is a group without the owner
// attribute or a deny-only group (Windows STATUS_INVALID_OWNER). The primary
// group may be the user or any group.
Result<Token> AdjustDefault(const Token& token, const DefaultChange& change,
                            LuidAllocator& ids);

// ---------------------------------------------------------------------------
// Session and integrity.

// Sets interactive_session_id (metadata only). Needs SeTcb enabled on
// `caller` (the caller's primary token), else kPrivilegeNotHeld.
Result<Token> AdjustSession(const Token& target, uint32_t session_id,
                            const Token& caller, LuidAllocator& ids);

// Sets the integrity level to `integrity_rid`. Lowering (or keeping) is
// always allowed; raising needs SeTcb enabled on `caller`, else
// kPrivilegeNotHeld. Groups carrying the kIntegrity attribute (the integrity
// label listed as a group, as Windows lists it) get the new S-1-16-<rid>
// SID with their attributes unchanged, so the label never disagrees with
// integrity_rid. (Peios fixes integrity at creation; tokenfs allows lowering
// as Windows' TokenIntegrityLevel does.)
Result<Token> SetIntegrity(const Token& target, uint32_t integrity_rid,
                           const Token& caller, LuidAllocator& ids);

// ---------------------------------------------------------------------------
// The token object's own security descriptor.

// Which parts of an SD a write replaces (Windows SECURITY_INFORMATION bits).
namespace security_information {
inline constexpr uint32_t kOwner = 0x1;
inline constexpr uint32_t kGroup = 0x2;
inline constexpr uint32_t kDacl = 0x4;
inline constexpr uint32_t kSacl = 0x8;    // audit ACEs of the SACL
inline constexpr uint32_t kLabel = 0x10;  // mandatory label ACE of the SACL
inline constexpr uint32_t kValidMask = 0x1f;
}  // namespace security_information

// Returns `current` with the parts named by `information` taken from
// `update`. kSacl replaces the SACL's non-label ACEs and keeps the current
// label; kLabel replaces the label and keeps the audit ACEs; both replace
// the SACL whole. The DACL part carries its state (absent, NULL, present)
// and its protected/auto-inherited control bits.
// Model rules (the WRITE_OWNER / WRITE_DAC / ACCESS_SYSTEM_SECURITY access
// check is the daemon's, before this):
//   - a new owner must be the caller's user or a group of the caller with
//     the owner attribute that is not deny-only, unless SeRestore is enabled
//     on `caller` (Windows: SeRestore may set any owner; SeTakeOwnership only
//     yields WRITE_OWNER access, which the access check already used);
//   - a label above the caller's integrity needs SeRelabel enabled;
// both kPrivilegeNotHeld. kInvalidArgument when `information` is 0 or has
// unknown bits, a named owner/group is missing from `update`, or the label
// part is not exactly one mandatory label ACE for an S-1-16-<rid> SID.
Result<SecurityDescriptor> MergeSecurity(const SecurityDescriptor& current,
                                         const SecurityDescriptor& update,
                                         uint32_t information,
                                         const Token& caller);

// MergeSecurity applied to target.security; no modified_id bump.
Result<Token> SetSecurity(const Token& target, const SecurityDescriptor& update,
                          uint32_t information, const Token& caller);

// ---------------------------------------------------------------------------
// Derived tokens: restrict and duplicate.

// The daemon calls this before Duplicate/Restrict (and AT before
// impersonation): derived tokens need the caller to hold `capability`.
// kPrivilegeNotHeld "token lacks capability 'create_mytoken'", or
// kInvalidArgument for a malformed name.
Status RequireCapability(const Token& caller, std::string_view capability);

struct RestrictRequest {
  // Privileges to delete (any bits; absent ones are ignored).
  uint64_t drop_privileges = 0;
  // Windows DISABLE_MAX_PRIVILEGE: delete every privilege except
  // SeChangeNotify. Combined with drop_privileges by union.
  bool disable_max_privilege = false;
  // Zero-based group indices to make deny-only (permanent).
  std::vector<uint32_t> deny_indices;
  // Make the user SID deny-only (Windows lets SidsToDisable name the user).
  bool deny_only_user = false;
  // nullopt: keep the source's restricting SIDs (or none). A list: the
  // restricting SIDs, intersected with the source's when it is already
  // restricted. An empty list is refused (it would deny every access; Peios
  // also refuses an empty intersection).
  std::optional<std::vector<Sid>> restricting_sids;
  // Restricting SIDs apply to write access only. Sticky; forces
  // user_deny_only; needs restricting SIDs on the result.
  bool write_restricted = false;
  // nullopt: keep the source's capabilities. A list (even empty): the
  // capabilities of the new token, a subset of the source's under
  // DeriveCapabilities (core/capability.h); `tighten` narrows instead of
  // failing.
  std::optional<std::vector<std::string>> capabilities;
  bool tighten = false;
};

struct RestrictResult {
  Token token;
  // Requested capabilities not granted as asked (tighten only), and the
  // subset of them that were narrowed rather than removed.
  std::vector<std::string> dropped_capabilities;
  std::vector<std::string> narrowed_capabilities;
};

// Peios FilterToken. Groups named in deny_indices lose enabled and
// enabled-by-default and gain deny-only (Windows-verified); if the default
// owner was such a group the owner reverts to the user. user_deny_only is
// sticky: source || deny_only_user || write_restricted (Peios writes "false
// otherwise", which would widen a source that had it; tokenfs keeps it).
// New token: token_id new, modified_id = token_id, parent_token_id = source
// token_id, elevation Default, used 0, security = DefaultTokenSecurity(user,
// creator); the rest copied (created_at included, so no clock is needed).
// Fails with kInvalidArgument for an out-of-range or repeated deny index, an
// empty restricting list or intersection, write_restricted without
// restricting SIDs, or a malformed capability; kPrivilegeNotHeld for a
// capability the source lacks (without tighten).
Result<RestrictResult> Restrict(const Token& source,
                                const RestrictRequest& request,
                                const Sid& creator, LuidAllocator& ids);

struct DuplicateRequest {
  TokenType type = TokenType::kPrimary;
  // Used for impersonation targets; primary duplicates are always
  // Anonymous (a primary token's level), whatever is given here.
  ImpersonationLevel level = ImpersonationLevel::kAnonymous;
};

// Peios DuplicateToken. Level rules: impersonation -> impersonation may keep
// or lower the level; primary -> impersonation may pick any level;
// impersonation -> primary needs a source level of at least Impersonation
// (Windows' rule; Peios is silent, and a primary token from an
// Identification token would widen it). Violations are kPrivilegeNotHeld;
// unknown type or level values kInvalidArgument.
// New token: token_id new, modified_id kept (Windows), elevation Default,
// security = DefaultTokenSecurity(user, creator); everything else copied,
// capabilities and `used` included.
Result<Token> Duplicate(const Token& source, const DuplicateRequest& request,
                        const Sid& creator, LuidAllocator& ids);

// ---------------------------------------------------------------------------
// Elevation pairs (as in the Peios model).

struct LinkedPair {
  Token elevated;  // elevation_type Full
  Token filtered;  // elevation_type Limited
};

// Marks `elevated` Full and `filtered` Limited. Needs SeTcb enabled on
// `caller` (kPrivilegeNotHeld). Both must be primary tokens of the same user
// in logon session `session` (their auth_id) and be two different tokens
// (kInvalidArgument). Roles are sticky: a Limited token cannot become Full
// nor a Full one Limited (kFailedPrecondition); relinking a token in its
// existing role is allowed. Nothing else changes (no modified_id bump).
Result<LinkedPair> LinkTokens(const Token& elevated, const Token& filtered,
                              Luid session, const Token& caller);

struct LinkedTokenView {
  Token token;
  // False: `token` is the partner itself (caller has SeTcb). True: an
  // Identification-level copy, which the daemon hands out through a
  // TOKEN_QUERY-only handle.
  bool is_copy = false;
};

// The partner of a linked pair as the caller may see it. With SeTcb enabled
// on `caller`: the partner itself. Without: a deep copy with DuplicateToken
// identifiers (new token_id, modified_id = token_id, fresh default SD
// created by the caller's user), type Impersonation, level Identification,
// the partner's elevation type kept. kNotFound when `partner` has elevation
// Default (it is in no pair).
Result<LinkedTokenView> LinkedToken(const Token& partner, const Token& caller,
                                    LuidAllocator& ids);

// ---------------------------------------------------------------------------
// Impersonation (the Peios model's gates and lifecycle).

struct ImpersonationDecision {
  ImpersonationLevel level = ImpersonationLevel::kAnonymous;
  // True iff `level` is below what was requested.
  bool capped = false;
  // One sentence: why this level (which gate capped it, or "granted").
  std::string reason;
};

// The level at which `server_primary` (the server's primary token) may
// impersonate `client`, asked at `requested`:
//   - Anonymous bypasses both gates;
//   - an impersonation client token caps the request at its own level (a
//     primary client has no level of its own to cap with);
//   - a restricted server asking for a same-user unrestricted client is a
//     hard error, kPrivilegeNotHeld, at any level above Anonymous and
//     whatever its privileges (a sandbox must not reach its parent);
//   - identity gate: same user SID and same restricted-ness, or SeImpersonate
//     enabled on the server; failing caps to Identification;
//   - integrity ceiling: client integrity <= server integrity, else capped to
//     Identification; SeImpersonate does NOT bypass it (Peios divergence
//     from Windows).
// kInvalidArgument when `server_primary` is not a primary token or the
// level is not a known value.
Result<ImpersonationDecision> CheckImpersonation(const Token& server_primary,
                                                 const Token& client,
                                                 ImpersonationLevel requested);

// The token a thread impersonating `client` at `level` holds: a Duplicate
// of the client as an impersonation token at `level` (DuplicateToken
// identifiers, elevation Default, fresh SD by `creator`). At level Anonymous
// it is instead the canonical Anonymous token, which carries nothing of the
// client (the Peios model): user S-1-5-7, group Everyone (mandatory,
// enabled), no privileges or capabilities, integrity Untrusted, logon type
// Network, auth_id 0x3e6, created_ns 0. Fails with kPrivilegeNotHeld when
// `level` is above an impersonation client's own level; kInvalidArgument for
// an unknown level. Run CheckImpersonation first for the gates.
Result<Token> MakeImpersonationToken(const Token& client,
                                     ImpersonationLevel level,
                                     const Sid& creator, LuidAllocator& ids);

// ---------------------------------------------------------------------------
// Running a program under a token derived from one's own.

// True iff `derived` can do nothing `base` cannot: the same user and logon
// session; no privilege `base` lacks (present); every group it can use to
// gain access (enabled, or enabled by default) is a group of `base`; no
// higher integrity; restricted at least as `base` is (when `base` is
// restricted, so is `derived`, with restricting SIDs among `base`'s); and
// capabilities covered by `base`'s. This is Windows' CreateProcessAsUser
// exception: a restricted version of one's own token needs no
// SeAssignPrimaryToken, and tokenfs lets a process run a command under it
// although the impersonation gates would cap it (different restricted-ness).
bool IsNoLooserThan(const Token& derived, const Token& base);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_TOKEN_OPERATIONS_H_
