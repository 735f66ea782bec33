#include "core/authorization.h"

#include "core/access_check.h"
#include "core/capability.h"

namespace tokenfs {

std::string_view QueryCapabilityFor(const Token& caller_effective,
                                    const Token& caller_primary,
                                    const Token& target) {
  if (target.token_id == caller_effective.token_id ||
      target.token_id == caller_primary.token_id) {
    return tree_capability::kIntrospect;
  }
  if (target.user == caller_effective.user) return tree_capability::kListOwn;
  return {};
}

std::optional<std::string> InspectionDenial(
    uint32_t caller_fsuid, const std::function<bool()>& has_ptrace_capability,
    const LinuxCredentials& process, std::string_view description) {
  const bool same_uid = caller_fsuid == process.real_uid &&
                        caller_fsuid == process.effective_uid &&
                        caller_fsuid == process.saved_uid;
  if (same_uid || (has_ptrace_capability && has_ptrace_capability())) {
    return std::nullopt;
  }
  return "uid " + std::to_string(caller_fsuid) + " may not inspect " +
         std::string(description) + " (uid " +
         std::to_string(process.effective_uid) +
         "): that needs the same uid or CAP_SYS_PTRACE";
}

AuthorizationResult Authorize(const AuthorizationRequest& request) {
  AuthorizationResult result;
  const Token& effective = *request.caller_effective;
  const Token& primary = *request.caller_primary;
  const Token& target = *request.target;

  // 1. Linux inspection right.
  if (request.target_process) {
    if (auto denial = InspectionDenial(
            request.caller_fsuid, request.caller_has_ptrace_capability,
            *request.target_process, request.target_description)) {
      result.reason = std::move(*denial);
      return result;
    }
  }

  // 2. Access check against the token's own security descriptor.
  const bool use_primary =
      effective.type == TokenType::kImpersonation &&
      effective.impersonation_level < ImpersonationLevel::kImpersonation;
  const Token& checker = use_primary ? primary : effective;
  result.checked_with_primary = use_primary;
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
    result.reason = request.target_description + " denies " +
                    FormatTokenRights(request.desired) + ": " + check.reason;
    return result;
  }
  result.granted = check.granted;

  // 3. Capability gate.
  if (!request.capability.empty() &&
      !HasCapability(checker.capabilities, request.capability)) {
    result.reason = "the caller's token lacks the capability '" +
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
