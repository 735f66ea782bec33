#include "core/credential_change.h"

#include <algorithm>
#include <vector>

#include "core/well_known_sids.h"

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
  // A wider permitted set: file capabilities, or root's exec after it
  // dropped some. Raising an effective capability from the permitted set
  // gains nothing.
  const uint64_t permitted = CapabilitiesThatCount(before).permitted;
  if (CapabilitiesThatCount(after).permitted & ~permitted) {
    return CredentialChange::kNewIdentity;
  }
  if (SameIds(before, after)) return CredentialChange::kNarrowed;
  // The same user, now holding only ids it held before (a set-group-ID
  // program of one of its own groups, a saved id dropped, a filesystem id
  // switched among its own): nothing new was granted.
  const auto uids = [](const LinuxCredentials& c) {
    return std::vector<uint32_t>{c.real_uid, c.effective_uid, c.saved_uid,
                                 c.fs_uid};
  };
  const auto gids = [](const LinuxCredentials& c) {
    std::vector<uint32_t> all{c.real_gid, c.effective_gid, c.saved_gid,
                              c.fs_gid};
    all.insert(all.end(), c.supplementary_gids.begin(),
               c.supplementary_gids.end());
    return all;
  };
  const auto within = [](const std::vector<uint32_t>& now,
                         const std::vector<uint32_t>& held) {
    return std::all_of(now.begin(), now.end(), [&held](uint32_t id) {
      return std::find(held.begin(), held.end(), id) != held.end();
    });
  };
  if (before.effective_uid == after.effective_uid &&
      within(uids(after), uids(before)) && within(gids(after), gids(before))) {
    return CredentialChange::kNarrowed;
  }
  return CredentialChange::kNewIdentity;
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
    SidAndAttributes& group = token.groups.Mutable()[index];
    const auto there =
        std::find_if(bound.groups.begin(), bound.groups.end(),
                     [&group](const SidAndAttributes& candidate) {
                       return candidate.sid == group.sid;
                     });
    // A Unix group the process no longer holds (dropped by setgroups), or
    // one the new credentials hold for deny only.
    const bool lost =
        there == bound.groups.end() && group.sid.HasPrefix(kUnixAuthority, {2});
    const bool deny_only_there =
        there != bound.groups.end() &&
        (there->attributes & group_attributes::kUseForDenyOnly);
    if (!lost && !deny_only_there) continue;
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
