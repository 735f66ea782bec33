#include "core/minting_policy.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "core/capability.h"
#include "core/minting_policy_json.h"
#include "core/privilege.h"
#include "core/render.h"

namespace tokenfs {
namespace {

namespace cap = linux_capability;

uint64_t PrivilegeMask(std::initializer_list<int> bits) {
  uint64_t mask = 0;
  for (int bit : bits) mask |= privilege::Bit(bit);
  return mask;
}

constexpr uint64_t kChangeNotify = privilege::Bit(privilege::kChangeNotify);

auto PathError(const std::string& path, const std::string& problem) {
  return InvalidArgument(PolicySettingMessage(path, problem));
}

std::string Index(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// ---- Minting ----

constexpr uint32_t kGroupDefault = group_attributes::kMandatory |
                                   group_attributes::kEnabledByDefault |
                                   group_attributes::kEnabled;
constexpr uint32_t kGroupOwner = kGroupDefault | group_attributes::kOwner;
constexpr uint32_t kGroupLogon = kGroupDefault | group_attributes::kLogonId;

Ace AllowAce(AccessMask mask, const Sid& sid) {
  return Ace{.type = AceType::kAccessAllowed, .mask = mask, .sid = sid};
}

// Appends `gid` to `gids` unless already there (Linux may report the
// primary gid among the supplementary ones).
void AddUnique(std::vector<uint32_t>& gids, uint32_t gid) {
  if (std::find(gids.begin(), gids.end(), gid) == gids.end()) {
    gids.push_back(gid);
  }
}

}  // namespace

std::optional<std::string> DescribeMintSource(const TokenSource& source) {
  const std::string name = source.NameString();
  if (name == kDirectorySourceName) {
    return "directory (winbind), fetched " +
           FormatTimestamp(source.id.value * 1000000000);
  }
  if (name == kMintSourceName && source.id == kMintSourceId) return "local";
  if (name == kMintSourceName && source.id == kMintFallbackSourceId) {
    return "local (the directory did not answer)";
  }
  return std::nullopt;
}

MintingPolicy MintingPolicy::Default() {
  MintingSettings settings;
  // Windows gives standard users exactly these; only SeChangeNotify starts
  // enabled.
  settings.baseline_present = PrivilegeMask(
      {privilege::kChangeNotify, privilege::kShutdown, privilege::kUndock,
       privilege::kIncreaseWorkingSet, privilege::kTimeZone});
  settings.baseline_enabled = kChangeNotify;
  settings.token_user_access =
      access::kTokenQuery | access::kReadControl |
      access::kTokenAdjustPrivileges | access::kTokenAdjustGroups |
      access::kTokenAdjustDefault | access::kTokenDuplicate;
  settings.integrity_rid = kIntegrityMedium;
  settings.mandatory_policy = mandatory_policy::kNoWriteUp;
  settings.admin_group_names = {"sudo", "wheel", "admin"};
  // Windows' nine "elevated" privileges plus the two that rule tokens and
  // the security log.
  settings.limited_removed_privileges = PrivilegeMask(
      {privilege::kCreateToken, privilege::kTcb, privilege::kTakeOwnership,
       privilege::kBackup, privilege::kRestore, privilege::kDebug,
       privilege::kImpersonate, privilege::kRelabel, privilege::kLoadDriver,
       privilege::kAssignPrimaryToken, privilege::kSecurity});
  // Peios' administrator policy set (13 privileges).
  settings.full_privileges = 0x00000008218E7520ull;
  settings.full_integrity_rid = kIntegrityHigh;
  settings.no_new_privs_mandatory_policy = mandatory_policy::kNewProcessMin;
  settings.no_new_privs_allow_elevation = false;
  return MintingPolicy(std::move(settings));
}

Result<MintingPolicy> MintingPolicy::Create(MintingSettings settings) {
  auto in_catalog = [](uint64_t mask) {
    return (mask & ~privilege::kCatalogMask) == 0;
  };
  if (!in_catalog(settings.baseline_present) ||
      !in_catalog(settings.baseline_enabled) ||
      !in_catalog(settings.limited_removed_privileges) ||
      !in_catalog(settings.full_privileges)) {
    return PathError("privileges", "bits outside the privilege catalog");
  }
  if (const uint64_t extra =
          settings.baseline_enabled & ~settings.baseline_present) {
    int bit = 0;
    while (!(extra & privilege::Bit(bit))) ++bit;
    return PathError("baseline_privileges.enabled",
                     PrivilegeShortName(bit) +
                         " is enabled but not in baseline_privileges.present");
  }
  const AccessMask mapped =
      MapGeneric(settings.token_user_access, kTokenGenericMapping);
  if (!access::kTokenAllAccess.Contains(mapped)) {
    return PathError("token_user_access",
                     "rights outside TOKEN_ALL_ACCESS (" +
                         FormatTokenRights(mapped & ~access::kTokenAllAccess) +
                         ") cannot be granted on a token");
  }
  settings.token_user_access = mapped;
  if ((settings.mandatory_policy | settings.no_new_privs_mandatory_policy) &
      ~mandatory_policy::kValidMask) {
    return PathError("mandatory_policy", "unknown policy bits");
  }
  if (settings.capabilities) {
    std::vector<std::string> canonical;
    for (size_t i = 0; i < settings.capabilities->size(); ++i) {
      auto name = ParseCapabilityName((*settings.capabilities)[i]);
      if (!name) {
        return PathError(Index("capabilities", i), name.error().message);
      }
      if (std::find(canonical.begin(), canonical.end(), *name) ==
          canonical.end()) {
        canonical.push_back(std::move(*name));
      }
    }
    settings.capabilities = std::move(canonical);
  }
  for (size_t i = 0; i < settings.admin_group_names.size(); ++i) {
    if (settings.admin_group_names[i].empty()) {
      return PathError(Index("elevation.admin_groups", i),
                       "expected a group name or a gid number");
    }
  }
  return MintingPolicy(std::move(settings));
}

Result<MintingPolicy> MintingPolicy::Parse(std::string_view json_text) {
  auto settings = ReadMintingSettings(json_text, Default().settings());
  if (!settings) return tl::unexpected(settings.error());
  return Create(std::move(*settings));
}

nlohmann::json MintingPolicy::ToJson() const {
  return MintingSettingsToJson(settings_);
}

Result<MintedIdentity> MintingPolicy::Mint(const LinuxCredentials& credentials,
                                           const MintContext& context) const {
  const MintingSettings& s = settings_;
  const bool root = credentials.effective_uid == 0;

  // Groups first: the only input that can be too large.
  std::vector<uint32_t> gids;
  AddUnique(gids, credentials.effective_gid);
  for (uint32_t gid : credentials.supplementary_gids) AddUnique(gids, gid);

  // The directory's word on the uid and gids (a joined host); without one,
  // or for root, every id is local.
  DirectoryAnswer directory;
  if (!root && context.directory) {
    directory = context.directory->Resolve(credentials.effective_uid, gids);
  }
  directory.group_sids.resize(gids.size());

  // The SIDs of the groups that come before the well-known ones: a directory
  // user's token groups (primary group first), then the gids the directory
  // does not map as S-1-22-2-G (a mapped gid the directory did not list for
  // the user is left out: the directory decides domain membership). A local
  // user's gids, each its directory SID when the directory maps it.
  std::vector<Sid> identity_groups;
  auto add_group = [&identity_groups](const Sid& sid) {
    if (std::find(identity_groups.begin(), identity_groups.end(), sid) ==
        identity_groups.end()) {
      identity_groups.push_back(sid);
    }
  };
  if (directory.user) {
    for (const Sid& sid : directory.user->groups) {
      if (sid != directory.user->user) add_group(sid);
    }
  }
  for (size_t i = 0; i < gids.size(); ++i) {
    if (directory.group_sids[i]) {
      if (!directory.user) add_group(*directory.group_sids[i]);
    } else {
      add_group(well_known::UnixGroup(gids[i]));
    }
  }
  // The well-known groups the policy adds follow; one the directory already
  // gave (BUILTIN\Users, say) keeps its place and is not repeated.
  auto directory_gave = [&identity_groups](const Sid& sid) {
    return std::find(identity_groups.begin(), identity_groups.end(), sid) !=
           identity_groups.end();
  };

  bool admin = false;
  if (!root) {
    // A directory member of BUILTIN\Administrators (Domain Admins, say) is
    // an administrator as on Windows.
    admin = directory_gave(well_known::Administrators());
    for (uint32_t gid : gids) {
      if (std::find(s.admin_gids.begin(), s.admin_gids.end(), gid) !=
          s.admin_gids.end()) {
        admin = true;
      } else if (context.accounts && !s.admin_group_names.empty()) {
        if (auto name = context.accounts->GroupName(gid)) {
          admin = admin || std::find(s.admin_group_names.begin(),
                                     s.admin_group_names.end(),
                                     *name) != s.admin_group_names.end();
        }
      }
    }
  }
  // Identity groups, Everyone, Authenticated Users, Users, Local,
  // Interactive, Administrators, logon SID.
  const size_t group_count = root ? 5
                                  : identity_groups.size() + 5 +
                                        (credentials.has_terminal ? 1 : 0) +
                                        (admin ? 1 : 0);
  if (group_count > Token::kMaxGroups) {
    return MakeError(
        ErrorCode::kResourceExhausted,
        std::to_string(identity_groups.size()) +
            (directory.user ? " directory and Linux groups" : " Linux groups") +
            " exceed the token limit of " + std::to_string(Token::kMaxGroups) +
            " groups");
  }

  // The logon session: the audit session, SYSTEM's session 0 for root
  // outside any session, else a fresh session of its own. Session 0 is never
  // given to a non-root process (it would share SYSTEM's logon SID).
  const uint32_t session = credentials.audit_session_id;
  const bool in_session =
      session != kAuditSessionUnset && (root || session != 0);
  Luid auth_id;
  if (in_session) {
    auth_id = Luid{session};
  } else if (!root) {
    auth_id = Luid{(uint64_t{1} << 32) | context.ids.Next().value};
  }
  const LogonType logon_type = credentials.has_terminal ? s.terminal_logon_type
                               : in_session             ? s.session_logon_type
                                            : s.no_session_logon_type;

  // Privileges.
  const HeldCapabilities held = CapabilitiesThatCount(credentials);
  const uint64_t permitted = held.permitted;
  const uint64_t effective = held.effective;
  uint64_t present =
      s.baseline_present | kChangeNotify | PrivilegesForCapabilities(permitted);
  uint64_t enabled =
      s.baseline_enabled | kChangeNotify | PrivilegesForCapabilities(effective);
  if (root && (permitted & cap::Bit(cap::kSysAdmin))) {
    present |= UnmappedPrivileges();
    if (effective & cap::Bit(cap::kSysAdmin)) enabled |= UnmappedPrivileges();
  }
  enabled &= present;

  Token token;
  token.type = TokenType::kPrimary;
  token.impersonation_level = ImpersonationLevel::kAnonymous;
  token.auth_id = auth_id;
  token.logon_type = logon_type;
  token.interactive_session_id = in_session ? session : 0;
  switch (directory.origin) {
    case IdentityOrigin::kDirectory:
    case IdentityOrigin::kDirectoryCached:
      token.source = TokenSource::Make(kDirectorySourceName,
                                       Luid{directory.fetched_ns / 1000000000});
      break;
    case IdentityOrigin::kLocalFallback:
      token.source = TokenSource::Make(kMintSourceName, kMintFallbackSourceId);
      break;
    case IdentityOrigin::kLocal:
      token.source = TokenSource::Make(kMintSourceName, kMintSourceId);
      break;
  }
  token.created_ns = context.clock.NowNanoseconds();
  token.projected_uid = credentials.effective_uid;
  token.projected_gid = credentials.effective_gid;
  token.projected_supplementary_gids = credentials.supplementary_gids;
  token.owner_index = 0;
  token.primary_group_index = 1;
  token.mandatory_policy =
      (root ? mandatory_policy::kNoWriteUp | mandatory_policy::kNewProcessMin
            : s.mandatory_policy) |
      (credentials.no_new_privs ? s.no_new_privs_mandatory_policy : 0);
  if (s.capabilities) {
    for (const auto& name : *s.capabilities) {
      auto capability = MakeCapability(name);
      if (capability) token.capabilities.push_back(std::move(*capability));
    }
  } else {
    token.capabilities = FullCapabilitySet();
  }

  const Sid system = well_known::LocalSystem();
  const Sid logon_sid = well_known::LogonSid(auth_id.value);
  if (root) {
    token.user = system;
    token.groups = {
        {well_known::Administrators(), kGroupOwner},
        {well_known::Everyone(), kGroupDefault},
        {well_known::AuthenticatedUsers(), kGroupDefault},
        {well_known::Local(), kGroupDefault},
        {logon_sid, kGroupLogon},
    };
    token.integrity_rid = kIntegritySystem;
    Acl dacl;
    dacl.aces = {AllowAce(access::kGenericAll, system),
                 AllowAce(access::kGenericAll, well_known::Administrators())};
    token.default_dacl = InternAcl(std::move(dacl));
  } else {
    token.user = directory.user
                     ? directory.user->user
                     : well_known::UnixUser(credentials.effective_uid);
    for (const Sid& sid : identity_groups) {
      if (sid == well_known::Administrators()) continue;  // placed below
      token.groups.push_back({sid, kGroupDefault});
    }
    for (const Sid& sid :
         {well_known::Everyone(), well_known::AuthenticatedUsers(),
          well_known::Users(), well_known::Local()}) {
      if (!directory_gave(sid)) token.groups.push_back({sid, kGroupDefault});
    }
    if (credentials.has_terminal) {
      token.groups.push_back({well_known::Interactive(), kGroupDefault});
    }
    if (admin) {
      token.groups.push_back(
          {well_known::Administrators(), group_attributes::kUseForDenyOnly});
    }
    token.groups.push_back({logon_sid, kGroupLogon});
    token.integrity_rid = s.integrity_rid;
    Acl dacl;
    dacl.aces = {AllowAce(access::kGenericAll, token.user),
                 AllowAce(access::kGenericAll, system)};
    token.default_dacl = InternAcl(std::move(dacl));
  }

  // The token object's own SD: tokenfs (SYSTEM) minted it and owns it; the
  // user gets the policy's rights, SYSTEM everything.
  token.security.owner = system;
  token.security.group = system;
  Acl security_dacl;
  if (token.user != system) {
    security_dacl.aces.push_back(AllowAce(s.token_user_access, token.user));
  }
  security_dacl.aces.push_back(AllowAce(access::kTokenAllAccess, system));
  token.security.SetDacl(InternAcl(std::move(security_dacl)));

  token.privileges.present = present;
  token.privileges.enabled = enabled;
  MintedIdentity identity;
  if (admin) {
    // SeChangeNotify stays whatever the list says: every token has it.
    token.privileges.present &=
        ~(s.limited_removed_privileges & ~kChangeNotify);
    token.privileges.enabled &= token.privileges.present;
  }
  token.privileges.enabled_by_default = token.privileges.enabled;

  const bool pair =
      admin && (!credentials.no_new_privs || s.no_new_privs_allow_elevation);
  if (pair) {
    Token full = token;
    for (auto& group : full.groups.Mutable()) {
      if (group.sid == well_known::Administrators()) {
        group.attributes = kGroupOwner;
      }
    }
    full.integrity_rid = s.full_integrity_rid;
    full.privileges.present = present | s.full_privileges;
    full.privileges.enabled = enabled | s.full_privileges;
    full.privileges.enabled_by_default = full.privileges.enabled;
    full.elevation_type = ElevationType::kFull;
    token.elevation_type = ElevationType::kLimited;
    identity.linked_full = std::move(full);
  }
  token.token_id = context.ids.Next();
  token.modified_id = token.token_id;
  if (identity.linked_full) {
    identity.linked_full->token_id = context.ids.Next();
    identity.linked_full->modified_id = identity.linked_full->token_id;
  }
  identity.token = std::move(token);
  identity.origin = directory.origin;
  identity.directory_failure = std::move(directory.failure);

  if (auto status = ValidateToken(identity.token); !status) {
    return MakeError(ErrorCode::kInternal,
                     "minted token is invalid: " + status.error().message);
  }
  if (identity.linked_full) {
    if (auto status = ValidateToken(*identity.linked_full); !status) {
      return MakeError(ErrorCode::kInternal, "minted full token is invalid: " +
                                                 status.error().message);
    }
  }
  return identity;
}

}  // namespace tokenfs
