#include "core/credential_change.h"

#include <algorithm>

namespace tokenfs {
namespace {

bool SameIds(const LinuxCredentials& a, const LinuxCredentials& b) {
  return a.real_uid == b.real_uid && a.effective_uid == b.effective_uid &&
         a.saved_uid == b.saved_uid && a.fs_uid == b.fs_uid &&
         a.real_gid == b.real_gid && a.effective_gid == b.effective_gid &&
         a.saved_gid == b.saved_gid && a.fs_gid == b.fs_gid &&
         a.supplementary_gids == b.supplementary_gids;
}

}  // namespace

bool SameCredentials(const LinuxCredentials& a, const LinuxCredentials& b) {
  return SameIds(a, b) && a.cap_permitted == b.cap_permitted &&
         a.cap_effective == b.cap_effective &&
         a.no_new_privs == b.no_new_privs &&
         a.initial_user_namespace == b.initial_user_namespace;
}

CredentialChange ClassifyCredentialChange(const LinuxCredentials& before,
                                          const LinuxCredentials& after) {
  if (SameCredentials(before, after)) return CredentialChange::kNone;
  if (!SameIds(before, after)) return CredentialChange::kNewIdentity;
  // Raising an effective capability the process already held in its
  // permitted set gains nothing; only a wider permitted set does.
  const uint64_t held = CapabilitiesThatCount(before).permitted;
  const uint64_t now = CapabilitiesThatCount(after).permitted;
  if (now & ~held) return CredentialChange::kNewIdentity;
  return CredentialChange::kNarrowed;
}

Token NarrowToCredentials(const Token& held, const MintedIdentity& before,
                          const MintedIdentity& after) {
  const auto half = [&held](const MintedIdentity& identity) -> const Token& {
    const bool full = held.elevation_type == ElevationType::kFull &&
                      identity.linked_full.has_value();
    return full ? *identity.linked_full : identity.token;
  };
  const Token& origin = half(before);
  const Token& bound = half(after);
  Token token = held;

  PrivilegeSet& privileges = token.privileges;
  const PrivilegeSet& was = origin.privileges;
  const PrivilegeSet& now = bound.privileges;
  privileges.present &= now.present;
  privileges.enabled &= privileges.present & ~(was.enabled & ~now.enabled);
  privileges.enabled_by_default &=
      privileges.present & ~(was.enabled_by_default & ~now.enabled_by_default);
  privileges.used &= privileges.present;

  for (size_t index = 0; index < token.groups.size(); ++index) {
    SidAndAttributes& group = token.groups[index];
    const bool deny_only_there = std::any_of(
        bound.groups.begin(), bound.groups.end(),
        [&group](const SidAndAttributes& candidate) {
          return candidate.sid == group.sid &&
                 (candidate.attributes & group_attributes::kUseForDenyOnly);
        });
    if (!deny_only_there) continue;
    // As the filtered half of an elevation pair holds it: for deny only,
    // so neither enabled, mandatory nor usable as an owner.
    group.attributes &=
        ~(group_attributes::kEnabled | group_attributes::kEnabledByDefault |
          group_attributes::kMandatory | group_attributes::kOwner);
    group.attributes |= group_attributes::kUseForDenyOnly;
    if (token.owner_index == index + 1) token.owner_index = 0;
  }

  if (bound.integrity_rid < token.integrity_rid) {
    token.integrity_rid = bound.integrity_rid;
    LabelTokenSecurity(token);
  }
  token.mandatory_policy |= bound.mandatory_policy;
  if (!after.linked_full) token.elevation_type = ElevationType::kDefault;
  return token;
}

}  // namespace tokenfs
