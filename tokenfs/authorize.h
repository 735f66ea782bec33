// RequestAuthorizer: the one authorization decision of a request.
//
// Models how a resolved Caller gets a right on a resolved Target: through a
// peer grant (PeerGrants, core AuthorizePeer) when it holds one for exactly
// the rights a grant covers, otherwise through core Authorize (step 1: the
// Linux inspection rule for a process's token; then the capability gate and
// the access check on the token's own security descriptor). A refusal is
// EACCES with a reason naming the operation, the node and the rule; the
// privileges an allowed check used are marked on the caller's checking
// token.
//
// Invariant: the decision itself is made in core; this unit only gathers
// the request's facts and records its side effects (privileges used, the
// log reason).
//
// Thread-safety: safe to call from any thread (no state of its own).
//
// Ownership: borrows the resolver and the peer grants; they must outlive it.
#ifndef TOKENFS_TOKENFS_AUTHORIZE_H_
#define TOKENFS_TOKENFS_AUTHORIZE_H_

#include <string_view>
#include <tl/expected.hpp>

#include "core/access_mask.h"
#include "core/authorization.h"
#include "tokenfs/fs_error.h"
#include "tokenfs/peer_grants.h"
#include "tokenfs/resolve.h"
#include "tokenfs/tree.h"

namespace tokenfs {

class RequestAuthorizer {
 public:
  RequestAuthorizer(Resolver& resolver, PeerGrants& peer_grants);
  RequestAuthorizer(const RequestAuthorizer&) = delete;
  RequestAuthorizer& operator=(const RequestAuthorizer&) = delete;

  // Authorization of `desired` on `target` for `caller` (with `capability`
  // on the checking token when not empty); a refusal names `operation`.
  tl::expected<AuthorizationResult, FsError> Authorize(
      const Caller& caller, const Target& target, AccessMask desired,
      std::string_view capability, std::string_view operation);
  // What opening `entry` of `target` (the node `node`) for writing needs:
  // the entry's write right, or the Linux inspection right when the right
  // depends on the command written.
  tl::expected<void, FsError> AuthorizeWriteOpen(const Caller& caller,
                                                 const Target& target,
                                                 const TreeEntry& entry,
                                                 const NodeId& node);
  // The core request for that decision (the caller's peer grants aside):
  // a probe may evaluate it without logging or marking privileges.
  AuthorizationRequest MakeRequest(const Caller& caller, const Target& target,
                                   AccessMask desired,
                                   std::string_view capability) const;

 private:
  Resolver& resolver_;
  PeerGrants& peer_grants_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_AUTHORIZE_H_
