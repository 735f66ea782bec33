// CredentialChange: what a change of a process's Linux credentials does to
// the token it holds.
//
// tokenfs mints a process's token from its credentials, and the process may
// then be given a narrower one (a restricted copy adopted at exec, removed
// privileges, a lowered integrity). When the credentials change afterwards
// (at exec, a setuid call, or while the daemon was down), two kinds of change
// must be told apart:
//
//  - kNewIdentity: the effective uid changed, the process now holds a uid
//    or gid (real, effective, saved, filesystem or supplementary) it did
//    not hold, or its permitted capability set grew (in the initial user
//    namespace). Only a privileged process, a set-user-ID or set-group-ID
//    program, a program with file capabilities, or root's own exec can do
//    that: Linux decided who the process now is, and the token is minted
//    afresh.
//  - kNarrowed: anything else. The same user holds no id it did not hold
//    before (a set-group-ID program of one of its own groups, a saved id
//    dropped), no_new_privs was set, capabilities were dropped or raised
//    from the permitted set, a new user namespace was entered (capabilities
//    there count for nothing): none of these buys a fresh, wider token. The
//    held token stays, narrowed (NarrowToCredentials) to what the new
//    credentials would mint.
//
// kNone: the credentials would mint the same token (SameCredentials).
// Changes that cannot happen (no_new_privs cleared) count as kNarrowed:
// keeping the held token is never wider than it was.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_CREDENTIAL_CHANGE_H_
#define TOKENFS_CORE_CREDENTIAL_CHANGE_H_

#include "core/minting_policy.h"
#include "core/token.h"

namespace tokenfs {

enum class CredentialChange { kNone, kNarrowed, kNewIdentity };

// True iff two credential sets would mint the same token: uids, gids,
// supplementary groups, capability sets, no_new_privs and user namespace.
bool SameCredentials(const LinuxCredentials& a, const LinuxCredentials& b);

CredentialChange ClassifyCredentialChange(const LinuxCredentials& before,
                                          const LinuxCredentials& after);

// `held` narrowed to `after`, the identity the new credentials mint, where
// `before` is what the old credentials mint. The half of each that matches
// `held`'s elevation (the Full half for a Full token, when there is one)
// counts. The result has no privilege `after` lacks; a privilege `before`
// enabled and `after` does not (its capability is no longer effective) is
// disabled, while one the holder enabled itself stays enabled; every group
// `after` holds deny-only, and every Unix group (S-1-22-2-gid) `after`
// lacks, is deny-only (never removed: deny ACEs still apply to it); its
// integrity is no higher than
// `after`'s; and it carries `after`'s mandatory policy bits. Without an
// elevation pair in `after`, the result has no elevation
// (ElevationType::kDefault): the caller drops its link. Everything else
// (user, restricting SIDs, claims, capabilities, ids) is `held`'s; the
// caller gives the copy its own id. The result is never wider than `held`.
Token NarrowToCredentials(const Token& held, const MintedIdentity& before,
                          const MintedIdentity& after);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_CREDENTIAL_CHANGE_H_
