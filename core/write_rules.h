// Write rules: what each write to the /tokens tree needs and what it does.
//
// Every decision a write makes (which token right, which privilege, held by
// which token) is here, so the daemon only resolves the request, calls one of
// these functions and replies. Each rule takes the request's one checking
// token (CheckingToken in core/authorization.h): the caller's effective
// token, or its primary token while it impersonates at Anonymous or
// Identification level. An identification-only token therefore never grants
// a right, a privilege or a capability.
//
// The token right a write needs is checked by Authorize (core/authorization.h)
// against the target's own security descriptor before these rules run; the
// rules below add the model's own conditions and compute the new state.
// Errors: kPrivilegeNotHeld (EPERM) when a privilege or a model condition is
// missing, kAccessDenied (EACCES) for a capability or an identity rule,
// kInvalidArgument for a malformed command.
//
// Thread-safety: pure functions (the LuidAllocator is atomic).
#ifndef TOKENFS_CORE_WRITE_RULES_H_
#define TOKENFS_CORE_WRITE_RULES_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "core/access_mask.h"
#include "core/commands.h"
#include "core/luid.h"
#include "core/render.h"
#include "core/result.h"
#include "core/token.h"
#include "core/token_operations.h"

namespace tokenfs {

// ---------------------------------------------------------------------------
// Token files: privs, groups, owner, group, default-dacl, integrity, session,
// security.

// The token right a write to `file` needs: ADJUST_PRIVILEGES for privs,
// ADJUST_GROUPS for groups, ADJUST_DEFAULT for owner, group, default-dacl and
// integrity, ADJUST_SESSIONID for session; empty for security (its right
// depends on the parts written: SecurityWriteRight) and for read-only files.
AccessMask TokenFileWriteRight(TokenFile file);
// True iff `file` accepts writes.
bool TokenFileWritable(TokenFile file);

// The rights replacing the parts `information` names needs: WRITE_OWNER for
// owner, group and label, WRITE_DAC for the DACL, ACCESS_SYSTEM_SECURITY for
// the SACL's audit ACEs.
AccessMask SecurityWriteRight(uint32_t information);

struct OwnerWrite {
  SidSelector selector;
  bool owner = true;  // false: the primary group
};
struct DefaultDaclWrite {
  std::optional<Acl> dacl;
};
struct IntegrityWrite {
  uint32_t rid = 0;
};
struct SessionWrite {
  uint32_t session_id = 0;
};

// One parsed write to a token file, and the token right it needs.
struct TokenFileWrite {
  TokenFile file = TokenFile::kPrivs;
  AccessMask right;
  std::variant<PrivilegesCommand, GroupsCommand, OwnerWrite, DefaultDaclWrite,
               IntegrityWrite, SessionWrite, SecurityCommand>
      command;
};

// Parses `text` written to `file` (kInvalidArgument with the parser's
// message; kAccessDenied "read-only" for a file that takes no writes).
// SDDL aliases of the machine domain resolve against `domain` (may be null).
Result<TokenFileWrite> ParseTokenFileWrite(TokenFile file,
                                           std::string_view text,
                                           const Sid* domain = nullptr);

// `current` after `write`, by a caller whose checking token is `checking`.
// The model's rules apply: only present privileges can be enabled, mandatory
// groups cannot be disabled, raising integrity and changing the session need
// SeTcb, an owner must be the checker's or need SeRestore, a label above the
// checker's integrity needs SeRelabel (core/token_operations.h).
Result<Token> ApplyTokenFileWrite(const Token& current,
                                  const TokenFileWrite& write,
                                  const Token& checking, LuidAllocator& ids);

// ---------------------------------------------------------------------------
// Writes through an open file

// Who opened a file, or who writes through it: the Linux uid and gid of the
// request and the user and integrity level of its effective token.
struct WriterIdentity {
  uint32_t uid = 0;
  uint32_t gid = 0;
  Sid user;
  uint32_t integrity_rid = 0;
};

// A command written through an open file is applied only for the identity
// that opened it (the open was what was authorized): a descriptor handed to,
// or inherited by, another identity writes nothing (kPrivilegeNotHeld, the
// message naming the opener).
Status DecideWriteThroughOpener(const WriterIdentity& opener,
                                const WriterIdentity& writer);

// ---------------------------------------------------------------------------
// /tokens/create

// Creating a token from a spec needs SeCreateToken enabled
// (kPrivilegeNotHeld) and the create_mytoken capability (kAccessDenied) on
// the checking token. Returns the privileges used.
Result<uint64_t> DecideCreate(const Token& checking);

// ---------------------------------------------------------------------------
// <pid>/install

// Installing any primary token needs SeAssignPrimaryToken enabled on the
// checking token (checked before the token written is even looked up).
Status MayInstallPrimary(const Token& checking);

// Installing `candidate` as the primary token of a process whose primary is
// now `current`: `candidate` must be a primary token (kInvalidArgument), and
// a token of another user or logon session also needs SeTcb
// (kPrivilegeNotHeld). Returns the privileges used.
Result<uint64_t> DecideInstall(const Token& checking, const Token& candidate,
                               const Token& current);

// A token is the primary token of at most one process: installing one that
// process `primary_of` already uses is refused (kBusy; a duplicate may be
// installed instead). `primary_of` is 0 when no other process uses it.
Status DecideUnsharedPrimary(int32_t primary_of);

// ---------------------------------------------------------------------------
// duplicate, restrict (derived token objects)

// The right deriving a token needs on its source (with the capability
// tree_capability::kCreate).
inline constexpr AccessMask kDeriveRight = access::kTokenDuplicate;

// A duplicate asked with access=RIGHTS is refused (kAccessDenied) unless the
// checking token would hold those rights on it (like the desired access of a
// new handle).
Status DecideDuplicateAccess(const Token& checking, const Token& duplicate,
                             AccessMask access);

// A restricted token made from a token of its creator's own user can do
// nothing its creator cannot, so its user may also use it: QUERY, DUPLICATE,
// IMPERSONATE and ASSIGN_PRIMARY are added for that user to its DACL (never
// WRITE_DAC). Tokens of other users are left as they are.
void GrantOwnRestrictedUse(Token& restricted, const Sid& creator);

// ---------------------------------------------------------------------------
// /tokens/link

// Linking needs DUPLICATE on both halves (LinkTokens then requires SeTcb on
// the checking token).
inline constexpr AccessMask kLinkRight = access::kTokenDuplicate;

// ---------------------------------------------------------------------------
// objects/<id>/persist, rmdir (revoke), holder=

// Managing a token object: the checking token's user is SYSTEM, or the
// caller's Linux uid is the object's creator's and the checking token holds
// manage_mytokens:revoke (kAccessDenied otherwise).
Status DecideManageObject(const Token& checking, uint32_t caller_uid,
                          uint32_t creator_uid);

// ---------------------------------------------------------------------------
// <pid>/<tid>/impersonate

// The right impersonating a token needs on it (with the capability
// tree_capability::kImpersonate).
inline constexpr AccessMask kImpersonateRight = access::kTokenImpersonate;

// Running a program under `client` (impersonate ... exec) needs the
// impersonation gates to grant at least Impersonation level, unless
// `client` can do nothing `server_primary` cannot (a restricted version of
// the process's own token: the Windows CreateProcessAsUser exception).
// kPrivilegeNotHeld otherwise.
Status DecideAdoptAtExec(const ImpersonationDecision& decision,
                         const Token& client, const Token& server_primary);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_WRITE_RULES_H_
