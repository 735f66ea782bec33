#include "tokenfs/peer_grants.h"

#include <algorithm>
#include <optional>

namespace tokenfs {

PeerGrants::PeerGrants(Registry& registry, ProcessFacts& facts,
                       EventSync& events, Resolver& resolver)
    : registry_(registry),
      facts_(facts),
      events_(events),
      resolver_(resolver) {}

tl::expected<std::string, FsError> PeerGrants::Resolve(const Caller& caller,
                                                       uint64_t fd) {
  const std::string where =
      resolver_.mount_point() + "/peer/" + std::to_string(fd);
  auto socket_peer =
      facts_.SocketPeerOf(caller.process.pid, static_cast<int>(fd));
  if (!socket_peer) return tl::unexpected(Refuse(socket_peer.error(), where));
  const ProcessFacts::SocketPeer& peer = *socket_peer;
  const std::string gone = where + ": the peer (pid " +
                           std::to_string(peer.pid) +
                           ") has exited; its pid may name another process";
  // Without a pin the peer is pinned by its pid and incarnation as they are
  // now, and the credential checks below must hold.
  const std::optional<ProcessFacts::PidfdProcess>& pin = peer.pinned;
  const int32_t peer_pid = pin ? pin->pid : peer.pid;
  events_.Sync({peer_pid});
  auto process = registry_.Process(peer_pid);
  if (!process || (pin && pin->instance != process->key.instance)) {
    return tl::unexpected(Fail(ErrorCode::kNotFound, gone));
  }
  // The grant covers the peer as it connected: a peer whose identity
  // changed since (an exec of a setuid, setgid or file-capability program)
  // is refused, unless the caller could inspect it anyway.
  const LinuxCredentials& now = process->credentials;
  std::string changed;
  if (now.effective_uid != peer.uid || now.effective_gid != peer.gid) {
    changed = "its credentials changed since it connected (uid " +
              std::to_string(peer.uid) + " gid " + std::to_string(peer.gid) +
              ", now uid " + std::to_string(now.effective_uid) + " gid " +
              std::to_string(now.effective_gid) + ")";
  } else if (now.effective_uid != 0 && [&] {
               auto state = facts_.CurrentState(peer_pid);
               return !state || state->dumpable != true;
             }()) {
    changed =
        "it is not dumpable (it gained privileges at exec, or asked not to "
        "be inspected)";
  }
  if (!changed.empty() &&
      resolver_.InspectionDenialFor(caller, process->key, now,
                                    "process " + std::to_string(peer_pid))) {
    return tl::unexpected(
        Fail(ErrorCode::kAccessDenied, where + ": the peer (pid " +
                                           std::to_string(peer_pid) +
                                           ") is not granted: " + changed));
  }
  Record(caller.process, process->key, process->primary);
  return "../" + std::to_string(peer_pid);
}

void PeerGrants::Record(const ProcessKey& caller, const ProcessKey& peer,
                        const TokenObjectPtr& primary) {
  std::vector<ProcessKey> callers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Grant& grant = grants_[caller.pid];
    if (!(grant.caller == caller)) {
      grant = Grant{caller, {}};
    }
    auto same = std::find_if(grant.peers.begin(), grant.peers.end(),
                             [&](const PinnedPeer& pinned_peer) {
                               return pinned_peer.process == peer;
                             });
    if (same != grant.peers.end()) grant.peers.erase(same);
    if (grant.peers.size() >= kMaxPeersPerCaller) {
      grant.peers.erase(grant.peers.begin());
    }
    grant.peers.push_back(PinnedPeer{peer, primary});
    if (grants_.size() > 64) {
      for (const auto& [pid, entry] : grants_) callers.push_back(entry.caller);
    }
  }
  // Forget grants of callers that are gone (checked without the lock: it
  // reads /proc).
  std::vector<ProcessKey> dead;
  for (const ProcessKey& key : callers) {
    auto incarnation = facts_.Incarnation(key.pid);
    if (!incarnation || !(*incarnation == key.incarnation())) {
      dead.push_back(key);
    }
  }
  if (!dead.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const ProcessKey& key : dead) {
      auto it = grants_.find(key.pid);
      if (it != grants_.end() && it->second.caller == key) {
        grants_.erase(it);
      }
    }
  }
}

bool PeerGrants::Has(const Caller& caller, const ProcessKey& peer,
                     const TokenObjectPtr& token) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = grants_.find(caller.process.pid);
  if (it == grants_.end() || !(it->second.caller == caller.process)) {
    return false;
  }
  return std::any_of(it->second.peers.begin(), it->second.peers.end(),
                     [&](const PinnedPeer& pinned) {
                       return pinned.process == peer &&
                              pinned.primary.lock() == token;
                     });
}

}  // namespace tokenfs
