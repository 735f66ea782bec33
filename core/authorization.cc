#include "core/authorization.h"

#include "core/access_check.h"
#include "core/capability.h"
#include "core/linux_capability_names.h"

namespace tokenfs {

std::string_view QueryCapabilityFor(const Token& caller_effective,
                                    const Token& caller_primary,
                                    const Token& target) {
  return CapabilityFor(TreeAction::kRead, caller_effective, caller_primary,
                       target);
}

std::string_view CapabilityFor(TreeAction action, const Token& caller_effective,
                               const Token& caller_primary,
                               const Token& target) {
  const bool own = target.token_id == caller_effective.token_id ||
                   target.token_id == caller_primary.token_id;
  if (!own && !(target.user == caller_effective.user)) return {};
  switch (action) {
    case TreeAction::kRead:
      return own ? tree_capability::kIntrospect : tree_capability::kListOwn;
    case TreeAction::kListSubtokens:
      return own ? tree_capability::kReadSubtokens : tree_capability::kListOwn;
    case TreeAction::kReadTags:
      return own ? tree_capability::kReadTags
                 : tree_capability::kReadManageTags;
    case TreeAction::kChangeTags:
      return own ? tree_capability::kTags : tree_capability::kManageTags;
    case TreeAction::kReadHistory:
      return own ? tree_capability::kReadHistory
                 : tree_capability::kReadManageHistory;
  }
  return {};
}

std::optional<std::string> WatchDenial(const Token& caller_effective,
                                       const Token& caller_primary,
                                       const Token& checking,
                                       const Token& target) {
  if (target.token_id == caller_effective.token_id ||
      target.token_id == caller_primary.token_id) {
    return std::nullopt;
  }
  if (HasCapability(checking.capabilities, tree_capability::kNotify)) {
    return std::nullopt;
  }
  return "the caller's token lacks the capability '" +
         std::string(tree_capability::kNotify) +
         "' needed to watch another token";
}

const Token& CheckingToken(const Token& effective, const Token& primary) {
  const bool identify_only =
      effective.type == TokenType::kImpersonation &&
      effective.impersonation_level < ImpersonationLevel::kImpersonation;
  return identify_only ? primary : effective;
}

namespace {

// The ids part of the rule: "" when `target`'s ids are all the caller's.
std::string IdsMismatch(const LinuxCredentials& target, uint32_t uid,
                        uint32_t gid) {
  if (uid != target.real_uid || uid != target.effective_uid ||
      uid != target.saved_uid) {
    return "its uids (real " + std::to_string(target.real_uid) +
           ", effective " + std::to_string(target.effective_uid) + ", saved " +
           std::to_string(target.saved_uid) + ") are not all " +
           std::to_string(uid);
  }
  if (gid != target.real_gid || gid != target.effective_gid ||
      gid != target.saved_gid) {
    return "its gids (real " + std::to_string(target.real_gid) +
           ", effective " + std::to_string(target.effective_gid) + ", saved " +
           std::to_string(target.saved_gid) + ") are not all the caller's " +
           std::to_string(gid) + " (a setgid program)";
  }
  return {};
}

}  // namespace

DumpableVerdict ReadDumpableProbe(bool readable, uint64_t probe_effective,
                                  const LinuxCredentials& target) {
  DumpableVerdict verdict;
  if (readable) {
    verdict.dumpable = true;
  } else if (!target.initial_user_namespace) {
    verdict.undecided = "it is in another user namespace than tokenfs";
  } else if (const uint64_t beyond = target.cap_permitted & ~probe_effective;
             beyond != 0) {
    verdict.undecided = "it holds " + LinuxCapabilityList(beyond) +
                        ", which tokenfs itself lacks (its capability "
                        "bounding set is narrower)";
  } else {
    verdict.dumpable = false;
  }
  return verdict;
}

std::optional<std::string> InspectionDenial(const Inspection& inspection) {
  if (inspection.same_process) return std::nullopt;
  const uint32_t uid = inspection.caller_fsuid;
  const uint32_t gid = inspection.caller_fsgid;
  std::optional<LinuxCredentials> caller;
  bool caller_read = false;
  auto caller_now = [&]() -> const std::optional<LinuxCredentials>& {
    if (!caller_read && inspection.caller_credentials) {
      caller = inspection.caller_credentials();
    }
    caller_read = true;
    return caller;
  };

  // The rule is (same ids, capabilities within the caller's, dumpable) or
  // CAP_SYS_PTRACE. The caller's credentials are needed for both halves
  // (its user namespace and effective set), so the cheaper half goes first
  // and the target is read only when that does not decide.
  std::string why = IdsMismatch(inspection.target, uid, gid);
  uint32_t shown_uid = inspection.target.effective_uid;
  const std::optional<LinuxCredentials>& asking = caller_now();
  if (asking && HoldsCapability(*asking, linux_capability::kSysPtrace)) {
    return std::nullopt;
  }
  if (why.empty()) {
    const std::optional<TargetState> state = inspection.target_state
                                                 ? inspection.target_state()
                                                 : std::optional<TargetState>();
    if (!state) {
      why = "it cannot be read (it may have exited)";
    } else {
      const LinuxCredentials& now = state->credentials;
      shown_uid = now.effective_uid;
      why = IdsMismatch(now, uid, gid);
      if (why.empty()) {
        if (now.initial_user_namespace) {
          const std::optional<LinuxCredentials>& mine = caller_now();
          const bool subset = mine && mine->initial_user_namespace &&
                              (now.cap_permitted & ~mine->cap_effective) == 0;
          if (!subset) {
            why = "its capabilities exceed the caller's effective ones";
          }
        } else {
          const std::optional<LinuxCredentials>& mine = caller_now();
          const bool owner = mine && mine->initial_user_namespace &&
                             state->namespace_owner &&
                             *state->namespace_owner == mine->effective_uid;
          if (!owner) {
            why = "it is in a user namespace the caller does not own";
          }
        }
      }
      if (why.empty()) {
        if (state->dumpable.value_or(false)) return std::nullopt;
        why = state->dumpable ? "it is not dumpable (a setuid, setgid or "
                                "file-capability program, or "
                                "PR_SET_DUMPABLE 0)"
                              : "whether it is dumpable cannot be told" +
                                    (state->undecided.empty()
                                         ? std::string()
                                         : " (" + state->undecided + ")");
      }
    }
  }
  const std::optional<LinuxCredentials>& mine = caller_now();
  std::string reason = "uid " + std::to_string(uid) + " may not inspect " +
                       std::string(inspection.description) + " (uid " +
                       std::to_string(shown_uid) + "): " + why +
                       ", and the caller lacks CAP_SYS_PTRACE";
  if (mine && !mine->initial_user_namespace &&
      (mine->cap_effective >> linux_capability::kSysPtrace) & 1) {
    reason += " in the initial user namespace";
  }
  return reason;
}

AuthorizationResult AuthorizePeer(const Token& checking, AccessMask desired,
                                  std::string_view capability,
                                  std::string_view target_description) {
  AuthorizationResult result;
  if (desired.empty() || !kPeerGrantRights.Contains(desired)) {
    result.reason = std::string(target_description) +
                    ": a socket peer grants only QUERY and IMPERSONATE";
    return result;
  }
  if (!capability.empty() &&
      !HasCapability(checking.capabilities, capability)) {
    result.reason = "capability gate: the caller's token lacks the "
                    "capability '" +
                    std::string(capability) + "' needed for " +
                    std::string(target_description);
    return result;
  }
  result.allowed = true;
  result.granted = desired;
  result.reason = "granted as the caller's socket peer";
  return result;
}

AuthorizationResult Authorize(const AuthorizationRequest& request) {
  AuthorizationResult result;
  const Token& effective = *request.caller_effective;
  const Token& primary = *request.caller_primary;
  const Token& target = *request.target;

  // 1. Linux inspection right.
  if (request.inspection) {
    if (auto denial = InspectionDenial(*request.inspection)) {
      result.reason = "Linux inspection: " + std::move(*denial);
      return result;
    }
  }

  // 2. Access check against the token's own security descriptor.
  const Token& checker = CheckingToken(effective, primary);
  result.checked_with_primary = &checker != &effective;
  AccessRequest access_request;
  access_request.desired = request.desired;
  access_request.mapping = kTokenGenericMapping;
  // Only the reason is reported; the step-by-step trace costs ten times
  // the check itself on this hot path.
  access_request.want_trace = false;
  access_request.want_grant_reason = false;
  const AccessCheckResult check =
      AccessCheck(checker, target.security, access_request);
  result.privileges_used = check.privileges_used;
  if (!check.granted_ok()) {
    result.reason = "access check: " + request.target_description +
                    " denies " +
                    FormatTokenRights(request.desired) + ": " + check.reason;
    return result;
  }
  result.granted = check.granted;

  // 3. Capability gate.
  if (!request.capability.empty() &&
      !HasCapability(checker.capabilities, request.capability)) {
    result.reason = "capability gate: the caller's token lacks the "
                    "capability '" +
                    std::string(request.capability) + "' needed for " +
                    request.target_description;
    return result;
  }
  // No reason text on success: building it would cost more than the
  // check, on every open.
  result.allowed = true;
  return result;
}

}  // namespace tokenfs
