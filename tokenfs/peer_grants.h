// PeerGrants: what /tokens/peer/<fd> hands a server for its client.
//
// Models the grant a caller gets by resolving peer/<fd> for one of its
// connected Unix sockets: it may then QUERY and IMPERSONATE the primary
// token of the process at the other end (core AuthorizePeer), while both
// processes live and the peer keeps that primary token (an exec that
// re-mints it ends the grant). A peer whose identity changed since it
// connected (other ids, or not dumpable) is granted only if the caller could
// inspect it anyway.
//
// Invariant: a grant names the caller's and the peer's process incarnations
// (ProcessKey), never bare pids, so a reused pid never inherits a grant; a
// caller keeps at most kMaxPeersPerCaller peers (the oldest goes first), and
// grants of callers that are gone are forgotten as the table grows.
//
// Thread-safety: internally locked (a mutex that may be held while calling
// into the registry, never across a /proc read).
//
// Ownership: borrows the registry, the process facts, the event feed and
// the resolver; they must outlive it. A grant holds the peer's primary token
// weakly.
#ifndef TOKENFS_TOKENFS_PEER_GRANTS_H_
#define TOKENFS_TOKENFS_PEER_GRANTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <tl/expected.hpp>
#include <unordered_map>
#include <vector>

#include "core/registry.h"
#include "tokenfs/event_sync.h"
#include "tokenfs/fs_error.h"
#include "tokenfs/process_facts.h"
#include "tokenfs/resolve.h"

namespace tokenfs {

class PeerGrants {
 public:
  // Peers one caller process keeps grants for; the oldest goes first.
  static constexpr size_t kMaxPeersPerCaller = 256;

  PeerGrants(Registry& registry, ProcessFacts& facts, EventSync& events,
             Resolver& resolver);
  PeerGrants(const PeerGrants&) = delete;
  PeerGrants& operator=(const PeerGrants&) = delete;

  // /tokens/peer/<fd>: the peer of the caller's socket `fd`, as a link
  // relative to the peer directory ("../PID"); records the grant.
  tl::expected<std::string, FsError> Resolve(const Caller& caller, uint64_t fd);
  // True iff `caller` holds a grant on process `peer` and `token` is the
  // primary token the peer held when the grant was made.
  bool Has(const Caller& caller, const ProcessKey& peer,
           const TokenObjectPtr& token);

 private:
  struct PinnedPeer {
    ProcessKey process;
    std::weak_ptr<TokenObject> primary;
  };
  struct Grant {
    ProcessKey caller;
    std::vector<PinnedPeer> peers;  // at most kMaxPeersPerCaller
  };

  // Records that `caller` may use `peer` (holding `primary`), then forgets
  // the grants of callers that are gone.
  void Record(const ProcessKey& caller, const ProcessKey& peer,
              const TokenObjectPtr& primary);

  Registry& registry_;
  ProcessFacts& facts_;
  EventSync& events_;
  Resolver& resolver_;
  std::mutex mutex_;
  std::unordered_map<int32_t, Grant> grants_;  // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_PEER_GRANTS_H_
