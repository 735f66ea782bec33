#include "tokenfs/authorize.h"

#include <string>

namespace tokenfs {

RequestAuthorizer::RequestAuthorizer(Resolver& resolver,
                                     PeerGrants& peer_grants)
    : resolver_(resolver), peer_grants_(peer_grants) {}

AuthorizationRequest RequestAuthorizer::MakeRequest(
    const Caller& caller, const Target& target, AccessMask desired,
    std::string_view capability) const {
  AuthorizationRequest request;
  request.caller_effective = caller.effective.get();
  request.caller_primary = caller.primary.get();
  if (target.process_credentials) {
    request.inspection = resolver_.MakeInspection(caller, target.process,
                                                  *target.process_credentials,
                                                  target.description);
  }
  request.target = target.token.get();
  request.target_description = target.description;
  request.desired = desired;
  request.capability = capability;
  return request;
}

tl::expected<AuthorizationResult, FsError> RequestAuthorizer::Authorize(
    const Caller& caller, const Target& target, AccessMask desired,
    std::string_view capability, std::string_view operation) {
  // The peer of a connection the caller holds: its primary token, as it was
  // when the grant was made (core AuthorizePeer).
  if (target.process_credentials && !desired.empty() &&
      kPeerGrantRights.Contains(desired) &&
      peer_grants_.Has(caller, target.process, target.object)) {
    AuthorizationResult result = AuthorizePeer(caller.checking(), desired,
                                               capability, target.description);
    if (result.allowed) return result;
    return tl::unexpected(
        Fail(ErrorCode::kAccessDenied, std::string(operation) + " " +
                                           resolver_.Describe(target.node) +
                                           ": " + result.reason));
  }
  AuthorizationResult result =
      tokenfs::Authorize(MakeRequest(caller, target, desired, capability));
  if (result.privileges_used) {
    caller.checking_object()->MarkPrivilegesUsed(result.privileges_used);
  }
  if (!result.allowed) {
    // A refusal is part of the target's history (core TokenHistory folds
    // one actor's repeats).
    if (target.object) {
      HistoryEvent event;
      event.kind = HistoryKind::kDenied;
      event.actor_pid = caller.process.pid;
      event.actor_user = caller.checking().user.ToString();
      event.operation = std::string(operation);
      if (!capability.empty() && result.reason.find(capability) !=
                                     std::string::npos) {
        event.operation += " (" + std::string(capability) + ")";
      }
      target.object->Record(std::move(event));
    }
    return tl::unexpected(
        Fail(ErrorCode::kAccessDenied,
             std::string(operation) + " " + resolver_.Describe(target.node) +
                 " by pid " + std::to_string(caller.process.pid) + " (uid " +
                 std::to_string(caller.uid) + "): " + result.reason));
  }
  return result;
}

tl::expected<void, FsError> RequestAuthorizer::AuthorizeWriteOpen(
    const Caller& caller, const Target& target, const TreeEntry& entry,
    const NodeId& node) {
  if (!entry.write_right.empty()) {
    auto allowed = Authorize(caller, target, entry.write_right, {}, "write");
    if (!allowed) return tl::unexpected(allowed.error());
    return {};
  }
  // security, impersonate, install, persist: the right depends on what is
  // written and is checked then; opening a process's file needs the Linux
  // inspection right.
  if (target.process_credentials) {
    if (auto denial = resolver_.InspectionDenialFor(caller, target.process,
                                                    *target.process_credentials,
                                                    target.description)) {
      return tl::unexpected(
          Fail(ErrorCode::kAccessDenied,
               "write " + resolver_.Describe(node) + ": " + *denial));
    }
  }
  return {};
}

}  // namespace tokenfs
