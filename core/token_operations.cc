#include "core/token_operations.h"

#include <algorithm>
#include <set>
#include <utility>

#include "core/ascii.h"
#include "core/capability.h"
#include "core/privilege.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

tl::unexpected<Error> NotHeld(std::string message) {
  return MakeError(ErrorCode::kPrivilegeNotHeld, std::move(message));
}

bool HasEnabled(const Token& token, int bit) {
  return token.privileges.IsPresent(bit) && token.privileges.IsEnabled(bit);
}

std::string GroupName(const Token& token, uint32_t index) {
  return "group " + std::to_string(index) + " (" +
         token.groups[index].sid.ToString() + ")";
}

bool IsLogonGroup(const SidAndAttributes& group) {
  return (group.attributes & group_attributes::kLogonId) ==
         group_attributes::kLogonId;
}

std::string IntegrityName(uint32_t rid) {
  if (std::optional<std::string_view> name = IntegrityLevelName(rid)) {
    return std::string(*name);
  }
  return "S-1-16-" + std::to_string(rid);
}

std::string_view LevelName(ImpersonationLevel level) {
  return ImpersonationLevelName(level);
}

bool IsKnownLevel(ImpersonationLevel level) {
  switch (level) {
    case ImpersonationLevel::kAnonymous:
    case ImpersonationLevel::kIdentification:
    case ImpersonationLevel::kImpersonation:
    case ImpersonationLevel::kDelegation:
      return true;
  }
  return false;
}

bool IsKnownType(TokenType type) {
  switch (type) {
    case TokenType::kPrimary:
    case TokenType::kImpersonation:
      return true;
  }
  return false;
}

// Every operation ends here: a result that breaks an invariant can only come
// from an input that already did, and is never published.
Result<Token> Checked(Token token) {
  if (Status valid = ValidateToken(token); !valid) {
    return MakeError(
        ErrorCode::kInternal,
        "token operation produced an invalid token: " + valid.error().message);
  }
  return token;
}

// The identifiers and SD every new token object (duplicate, restrict,
// impersonation and linked copies) starts with.
void MakeNewObject(Token& token, const Sid& creator, LuidAllocator& ids) {
  token.token_id = ids.Next();
  token.modified_id = token.token_id;
  token.security = DefaultTokenSecurity(token.user, creator);
}

// True iff `sid` is a valid owner among the caller's identities.
bool IsOwnerCandidate(const Token& caller, const Sid& sid) {
  if (sid == caller.user) return true;
  return std::any_of(
      caller.groups.begin(), caller.groups.end(),
      [&](const SidAndAttributes& group) {
        return group.sid == sid &&
               (group.attributes & group_attributes::kOwner) &&
               !(group.attributes & group_attributes::kUseForDenyOnly);
      });
}

bool IsLabelAce(const Ace& ace) {
  return ace.type == AceType::kSystemMandatoryLabel;
}

Result<Token> DuplicateAs(const Token& source, TokenType type,
                          ImpersonationLevel level, const Sid& creator,
                          LuidAllocator& ids) {
  Token copy = source;
  copy.type = type;
  copy.impersonation_level =
      type == TokenType::kPrimary ? ImpersonationLevel::kAnonymous : level;
  copy.elevation_type = ElevationType::kDefault;
  MakeNewObject(copy, creator, ids);
  // Windows (NtDuplicateToken, verified by Wine's tests) gives the copy a
  // new TokenId but keeps the source's ModifiedId: nothing was adjusted.
  copy.modified_id = source.modified_id;
  return Checked(std::move(copy));
}

Token AnonymousToken(const Sid& creator, LuidAllocator& ids) {
  Token token;
  token.user = well_known::Anonymous();
  token.groups.push_back(SidAndAttributes{
      well_known::Everyone(), group_attributes::kMandatory |
                                  group_attributes::kEnabledByDefault |
                                  group_attributes::kEnabled});
  token.type = TokenType::kImpersonation;
  token.impersonation_level = ImpersonationLevel::kAnonymous;
  token.integrity_rid = kIntegrityUntrusted;
  token.logon_type = LogonType::kNetwork;
  token.auth_id = Luid{0x3e6};
  token.source = TokenSource::Make("tokenfs", Luid{0});
  MakeNewObject(token, creator, ids);
  return token;
}

}  // namespace

// ---------------------------------------------------------------------------
// Privileges.

Result<PrivilegeAdjustment> AdjustPrivileges(
    const Token& token, std::span<const PrivilegeChange> changes,
    LuidAllocator& ids) {
  if (changes.empty()) return InvalidArgument("no privilege changes given");
  uint64_t seen = 0;
  for (const PrivilegeChange& change : changes) {
    if (!FindPrivilege(change.bit)) {
      return InvalidArgument("privilege bit " + std::to_string(change.bit) +
                             " is not in the catalog");
    }
    const std::string name = PrivilegeShortName(change.bit);
    if (seen & privilege::Bit(change.bit)) {
      return InvalidArgument("privilege " + name +
                             " appears twice in one request");
    }
    seen |= privilege::Bit(change.bit);
    switch (change.state) {
      case PrivilegeState::kEnabled:
        if (!token.privileges.IsPresent(change.bit)) {
          return NotHeld("privilege " + name + " is not present on the token");
        }
        break;
      case PrivilegeState::kDisabled:
      case PrivilegeState::kRemoved:
        break;
      default:
        return InvalidArgument("privilege " + name + ": unknown state " +
                               std::to_string(static_cast<int>(change.state)));
    }
  }

  PrivilegeAdjustment result{token, token.privileges.enabled};
  PrivilegeSet& privileges = result.token.privileges;
  for (const PrivilegeChange& change : changes) {
    const uint64_t bit = privilege::Bit(change.bit);
    switch (change.state) {
      case PrivilegeState::kEnabled:
        privileges.enabled |= bit;
        break;
      case PrivilegeState::kDisabled:
        privileges.enabled &= ~bit;
        break;
      case PrivilegeState::kRemoved:
        privileges.present &= ~bit;
        privileges.enabled &= ~bit;
        privileges.enabled_by_default &= ~bit;
        break;
    }
  }
  result.token.modified_id = ids.Next();
  Result<Token> checked = Checked(std::move(result.token));
  if (!checked) return tl::unexpected(checked.error());
  result.token = std::move(*checked);
  return result;
}

PrivilegeAdjustment ResetPrivileges(const Token& token, LuidAllocator& ids) {
  PrivilegeAdjustment result{token, token.privileges.enabled};
  PrivilegeSet& privileges = result.token.privileges;
  privileges.enabled = privileges.enabled_by_default & privileges.present;
  result.token.modified_id = ids.Next();
  return result;
}

Token MarkPrivilegesUsed(const Token& token, uint64_t bits) {
  Token marked = token;
  marked.privileges.used |= bits & token.privileges.present;
  return marked;
}

// ---------------------------------------------------------------------------
// Groups.

Result<GroupAdjustment> AdjustGroups(const Token& token,
                                     std::span<const GroupChange> changes,
                                     LuidAllocator& ids) {
  if (changes.empty()) return InvalidArgument("no group changes given");
  std::set<uint32_t> seen;
  for (const GroupChange& change : changes) {
    if (change.index >= token.groups.size()) {
      return InvalidArgument("group index " + std::to_string(change.index) +
                             " is out of range (the token has " +
                             std::to_string(token.groups.size()) + " groups)");
    }
    if (!seen.insert(change.index).second) {
      return InvalidArgument("group index " + std::to_string(change.index) +
                             " appears twice in one request");
    }
    const SidAndAttributes& group = token.groups[change.index];
    const std::string name = GroupName(token, change.index);
    if (group.attributes & group_attributes::kIntegrity) {
      return NotHeld(name +
                     " is the integrity label and cannot be enabled or "
                     "disabled");
    }
    const bool deny_only = group.attributes & group_attributes::kUseForDenyOnly;
    if (change.enable) {
      if (deny_only) {
        return NotHeld(name + " is deny-only and cannot be enabled");
      }
      continue;
    }
    if (deny_only) continue;  // already permanently disabled
    if (IsLogonGroup(group)) {
      return NotHeld(name + " is the logon SID and cannot be disabled");
    }
    if (group.sid == token.user) {
      return NotHeld(name + " is the user SID and cannot be disabled");
    }
    if (group.attributes & group_attributes::kMandatory) {
      return NotHeld(name + " is mandatory and cannot be disabled");
    }
  }

  GroupAdjustment result{token, {}};
  result.previous_enabled.reserve(token.groups.size());
  for (const SidAndAttributes& group : token.groups) {
    result.previous_enabled.push_back(group.attributes &
                                      group_attributes::kEnabled);
  }
  for (const GroupChange& change : changes) {
    SidAndAttributes& group = result.token.groups.Mutable()[change.index];
    if (group.attributes & group_attributes::kUseForDenyOnly) continue;
    if (change.enable) {
      group.attributes |= group_attributes::kEnabled;
    } else {
      group.attributes &= ~group_attributes::kEnabled;
    }
  }
  result.token.modified_id = ids.Next();
  Result<Token> checked = Checked(std::move(result.token));
  if (!checked) return tl::unexpected(checked.error());
  result.token = std::move(*checked);
  return result;
}

GroupAdjustment ResetGroups(const Token& token, LuidAllocator& ids) {
  GroupAdjustment result{token, {}};
  result.previous_enabled.reserve(token.groups.size());
  for (SidAndAttributes& group : result.token.groups.Mutable()) {
    result.previous_enabled.push_back(group.attributes &
                                      group_attributes::kEnabled);
    if (group.attributes & group_attributes::kIntegrity) continue;
    const bool enable =
        (group.attributes & group_attributes::kEnabledByDefault) &&
        !(group.attributes & group_attributes::kUseForDenyOnly);
    if (enable) {
      group.attributes |= group_attributes::kEnabled;
    } else {
      group.attributes &= ~group_attributes::kEnabled;
    }
  }
  result.token.modified_id = ids.Next();
  return result;
}

// ---------------------------------------------------------------------------
// Defaults.

Result<Token> AdjustDefault(const Token& token, const DefaultChange& change,
                            LuidAllocator& ids) {
  if (!change.dacl && !change.owner_index && !change.primary_group_index) {
    return InvalidArgument("the default change names nothing to change");
  }
  const auto group_count = static_cast<uint32_t>(token.groups.size());
  if (change.owner_index) {
    const uint32_t index = *change.owner_index;
    if (index > group_count) {
      return InvalidArgument("owner index " + std::to_string(index) +
                             " is out of range (0 is the user, 1.." +
                             std::to_string(group_count) + " the groups)");
    }
    if (index > 0) {
      const SidAndAttributes& group = token.groups[index - 1];
      const std::string name = "owner index " + std::to_string(index) + " (" +
                               group.sid.ToString() + ")";
      if (!(group.attributes & group_attributes::kOwner)) {
        return NotHeld(name +
                       " names a group without the owner attribute; the "
                       "owner must be the user or such a group");
      }
      if (group.attributes & group_attributes::kUseForDenyOnly) {
        return NotHeld(name + " names a deny-only group");
      }
    }
  }
  if (change.primary_group_index && *change.primary_group_index > group_count) {
    return InvalidArgument("primary group index " +
                           std::to_string(*change.primary_group_index) +
                           " is out of range (0 is the user, 1.." +
                           std::to_string(group_count) + " the groups)");
  }
  if (change.dacl && *change.dacl) {
    if (Result<std::vector<uint8_t>> binary = (*change.dacl)->ToBinary();
        !binary) {
      return InvalidArgument("default DACL: " + binary.error().message);
    }
  }

  Token adjusted = token;
  if (change.dacl) adjusted.default_dacl = *change.dacl;
  if (change.owner_index) adjusted.owner_index = *change.owner_index;
  if (change.primary_group_index) {
    adjusted.primary_group_index = *change.primary_group_index;
  }
  adjusted.modified_id = ids.Next();
  return Checked(std::move(adjusted));
}

// ---------------------------------------------------------------------------
// Session and integrity.

Result<Token> AdjustSession(const Token& target, uint32_t session_id,
                            const Token& caller, LuidAllocator& ids) {
  if (!HasEnabled(caller, privilege::kTcb)) {
    return NotHeld(
        "changing the interactive session needs SeTcb enabled on the "
        "caller's token");
  }
  Token adjusted = target;
  adjusted.interactive_session_id = session_id;
  adjusted.modified_id = ids.Next();
  return Checked(std::move(adjusted));
}

Result<Token> SetIntegrity(const Token& target, uint32_t integrity_rid,
                           const Token& caller, LuidAllocator& ids) {
  if (integrity_rid > target.integrity_rid &&
      !HasEnabled(caller, privilege::kTcb)) {
    return NotHeld("raising integrity from " +
                   IntegrityName(target.integrity_rid) + " to " +
                   IntegrityName(integrity_rid) +
                   " needs SeTcb enabled on the caller's token");
  }
  Token adjusted = target;
  adjusted.integrity_rid = integrity_rid;
  const Sid label = well_known::IntegrityLevel(integrity_rid);
  for (SidAndAttributes& group : adjusted.groups.Mutable()) {
    if (group.attributes & group_attributes::kIntegrity) group.sid = label;
  }
  adjusted.modified_id = ids.Next();
  return Checked(std::move(adjusted));
}

// ---------------------------------------------------------------------------
// The token object's SD.

Result<SecurityDescriptor> MergeSecurity(const SecurityDescriptor& current,
                                         const SecurityDescriptor& update,
                                         uint32_t information,
                                         const Token& caller) {
  namespace si = security_information;
  if (information == 0) {
    return InvalidArgument("no security information parts named");
  }
  if (information & ~si::kValidMask) {
    return InvalidArgument("unknown security information bits " +
                           FormatHex(information & ~si::kValidMask));
  }

  if (information & si::kOwner) {
    if (!update.owner) return InvalidArgument("the new owner is missing");
    if (!IsOwnerCandidate(caller, *update.owner) &&
        !HasEnabled(caller, privilege::kRestore)) {
      return NotHeld("owner " + update.owner->ToString() +
                     " is neither the caller's user nor an owner group of "
                     "the caller (SeRestore would allow it)");
    }
  }
  if ((information & si::kGroup) && !update.group) {
    return InvalidArgument("the new group is missing");
  }
  std::vector<Ace> new_label;
  if (information & si::kLabel) {
    if (update.sacl) {
      for (const Ace& ace : update.sacl->aces) {
        if (IsLabelAce(ace)) new_label.push_back(ace);
      }
    }
    if (new_label.size() != 1) {
      return InvalidArgument(
          "the label part must hold exactly one mandatory "
          "label ACE, not " +
          std::to_string(new_label.size()));
    }
    const Ace& label = new_label.front();
    if (!IsIntegritySid(label.sid)) {
      return InvalidArgument("the mandatory label ACE names " +
                             label.sid.ToString() +
                             ", not an integrity SID S-1-16-<rid>");
    }
    if (label.sid.rid() > caller.integrity_rid &&
        !HasEnabled(caller, privilege::kRelabel)) {
      return NotHeld("labelling at " + IntegrityName(label.sid.rid()) +
                     ", above the caller's " +
                     IntegrityName(caller.integrity_rid) +
                     ", needs SeRelabel enabled");
    }
  }

  SecurityDescriptor merged = current;
  if (information & si::kOwner) merged.owner = update.owner;
  if (information & si::kGroup) merged.group = update.group;
  if (information & si::kDacl) {
    constexpr uint16_t kDaclBits =
        sd_control::kDaclPresent | sd_control::kDaclDefaulted |
        sd_control::kDaclAutoInheritReq | sd_control::kDaclAutoInherited |
        sd_control::kDaclProtected;
    merged.control = static_cast<uint16_t>((merged.control & ~kDaclBits) |
                                           (update.control & kDaclBits));
    merged.dacl = update.dacl;
    if (!merged.dacl_present()) merged.dacl.reset();
  }
  if (information & (si::kSacl | si::kLabel)) {
    Acl sacl;
    // Audit ACEs from the update when kSacl is named, else kept.
    const SecurityDescriptor& audit_source =
        (information & si::kSacl) ? update : current;
    if (audit_source.sacl) {
      sacl.revision = audit_source.sacl->revision;
      for (const Ace& ace : audit_source.sacl->aces) {
        if (!IsLabelAce(ace)) sacl.aces.push_back(ace);
      }
    }
    if (information & si::kLabel) {
      sacl.aces.insert(sacl.aces.begin(), new_label.begin(), new_label.end());
    } else if (current.sacl) {
      std::vector<Ace> kept;
      for (const Ace& ace : current.sacl->aces) {
        if (IsLabelAce(ace)) kept.push_back(ace);
      }
      sacl.aces.insert(sacl.aces.begin(), kept.begin(), kept.end());
    }
    if (information & si::kSacl) {
      constexpr uint16_t kSaclFlags = sd_control::kSaclAutoInheritReq |
                                      sd_control::kSaclAutoInherited |
                                      sd_control::kSaclProtected;
      merged.control = static_cast<uint16_t>((merged.control & ~kSaclFlags) |
                                             (update.control & kSaclFlags));
    }
    if (sacl.aces.empty() && !((information & si::kSacl) && update.sacl)) {
      merged.control &= static_cast<uint16_t>(~sd_control::kSaclPresent);
      merged.sacl.reset();
    } else {
      merged.SetSacl(std::move(sacl));
    }
  }
  return merged;
}

Result<Token> SetSecurity(const Token& target, const SecurityDescriptor& update,
                          uint32_t information, const Token& caller) {
  Result<SecurityDescriptor> merged =
      MergeSecurity(target.security, update, information, caller);
  if (!merged) return tl::unexpected(merged.error());
  Token changed = target;
  changed.security = std::move(*merged);
  // A descriptor too large to keep (with the integrity label the token
  // object adds) is the caller's input at fault.
  if (Status valid = ValidateToken(changed); !valid) {
    return tl::unexpected(valid.error());
  }
  return changed;
}

// ---------------------------------------------------------------------------
// Derived tokens.

Status RequireCapability(const Token& caller, std::string_view capability) {
  Result<std::string> name = ParseCapabilityName(capability);
  if (!name) return tl::unexpected(name.error());
  if (!HasCapability(caller.capabilities, *name)) {
    return NotHeld("token lacks capability '" + *name + "'");
  }
  return Ok();
}

Result<RestrictResult> Restrict(const Token& source,
                                const RestrictRequest& request,
                                const Sid& creator, LuidAllocator& ids) {
  // Validate everything first.
  std::set<uint32_t> deny;
  for (uint32_t index : request.deny_indices) {
    if (index >= source.groups.size()) {
      return InvalidArgument("deny-only index " + std::to_string(index) +
                             " is out of range (the token has " +
                             std::to_string(source.groups.size()) + " groups)");
    }
    if (!deny.insert(index).second) {
      return InvalidArgument("deny-only index " + std::to_string(index) +
                             " appears twice in one request");
    }
  }

  std::optional<std::vector<SidAndAttributes>> restricted =
      source.restricted_sids;
  if (request.restricting_sids) {
    if (request.restricting_sids->empty()) {
      return InvalidArgument(
          "the restricting SID list is empty, which would deny every access; "
          "omit it to keep the source's restricting SIDs");
    }
    std::vector<SidAndAttributes> requested;
    for (const Sid& sid : *request.restricting_sids) {
      const bool repeat = std::any_of(
          requested.begin(), requested.end(),
          [&](const SidAndAttributes& entry) { return entry.sid == sid; });
      if (!repeat) {
        requested.push_back(
            SidAndAttributes{sid, group_attributes::kRestrictingSid});
      }
    }
    if (source.restricted_sids) {
      std::vector<SidAndAttributes> intersection;
      for (const SidAndAttributes& entry : *source.restricted_sids) {
        const bool wanted = std::any_of(requested.begin(), requested.end(),
                                        [&](const SidAndAttributes& asked) {
                                          return asked.sid == entry.sid;
                                        });
        if (wanted) intersection.push_back(entry);
      }
      if (intersection.empty()) {
        return InvalidArgument(
            "the restricting SIDs share none with the source token's "
            "restricting SIDs");
      }
      restricted = std::move(intersection);
    } else {
      restricted = std::move(requested);
    }
  }
  const bool write_restricted =
      source.write_restricted || request.write_restricted;
  if (write_restricted && !restricted) {
    return InvalidArgument("a write-restricted token needs restricting SIDs");
  }

  CapabilityDerivation capabilities{source.capabilities, {}, {}};
  if (request.capabilities) {
    Result<CapabilityDerivation> derived = DeriveCapabilities(
        source.capabilities, *request.capabilities, request.tighten);
    if (!derived) return tl::unexpected(derived.error());
    capabilities = std::move(*derived);
  }

  // Build the new token.
  Token token = source;
  uint64_t drop = request.drop_privileges;
  if (request.disable_max_privilege) {
    drop |= ~privilege::Bit(privilege::kChangeNotify);
  }
  token.privileges.present &= ~drop;
  token.privileges.enabled &= ~drop;
  token.privileges.enabled_by_default &= ~drop;
  token.privileges.used = 0;

  for (uint32_t index : deny) {
    uint32_t& attributes = token.groups.Mutable()[index].attributes;
    attributes &=
        ~(group_attributes::kEnabled | group_attributes::kEnabledByDefault);
    attributes |= group_attributes::kUseForDenyOnly;
    if (token.owner_index == index + 1) token.owner_index = 0;
  }
  token.user_deny_only =
      source.user_deny_only || request.deny_only_user || write_restricted;
  token.restricted_sids = std::move(restricted);
  token.write_restricted = write_restricted;
  token.capabilities = std::move(capabilities.granted);
  token.elevation_type = ElevationType::kDefault;
  token.parent_token_id = source.token_id;
  MakeNewObject(token, creator, ids);

  Result<Token> checked = Checked(std::move(token));
  if (!checked) return tl::unexpected(checked.error());
  return RestrictResult{std::move(*checked), std::move(capabilities.dropped),
                        std::move(capabilities.narrowed)};
}

Result<Token> Duplicate(const Token& source, const DuplicateRequest& request,
                        const Sid& creator, LuidAllocator& ids) {
  if (!IsKnownType(request.type)) {
    return InvalidArgument("unknown token type " +
                           std::to_string(static_cast<uint32_t>(request.type)));
  }
  if (request.type == TokenType::kImpersonation &&
      !IsKnownLevel(request.level)) {
    return InvalidArgument(
        "unknown impersonation level " +
        std::to_string(static_cast<uint32_t>(request.level)));
  }
  if (source.type == TokenType::kImpersonation) {
    if (request.type == TokenType::kImpersonation &&
        request.level > source.impersonation_level) {
      return NotHeld("duplicating cannot raise the impersonation level from " +
                     std::string(LevelName(source.impersonation_level)) +
                     " to " + std::string(LevelName(request.level)));
    }
    if (request.type == TokenType::kPrimary &&
        source.impersonation_level < ImpersonationLevel::kImpersonation) {
      return NotHeld(
          "a primary token can only be made from an impersonation token at "
          "level Impersonation or above, not " +
          std::string(LevelName(source.impersonation_level)));
    }
  }
  return DuplicateAs(source, request.type, request.level, creator, ids);
}

// ---------------------------------------------------------------------------
// Elevation pairs.

Result<LinkedPair> LinkTokens(const Token& elevated, const Token& filtered,
                              Luid session, const Token& caller) {
  if (!HasEnabled(caller, privilege::kTcb)) {
    return NotHeld(
        "linking tokens as an elevation pair needs SeTcb enabled on the "
        "caller's token");
  }
  if (elevated.token_id == filtered.token_id) {
    return InvalidArgument("a token cannot be linked with itself");
  }
  if (elevated.type != TokenType::kPrimary) {
    return InvalidArgument("the elevated token is not a primary token");
  }
  if (filtered.type != TokenType::kPrimary) {
    return InvalidArgument("the filtered token is not a primary token");
  }
  if (elevated.user != filtered.user) {
    return InvalidArgument(
        "the elevated token's user " + elevated.user.ToString() +
        " differs from the filtered token's user " + filtered.user.ToString());
  }
  const auto session_text = [](Luid id) { return std::to_string(id.value); };
  if (elevated.auth_id != session) {
    return InvalidArgument("the elevated token belongs to logon session " +
                           session_text(elevated.auth_id) + ", not " +
                           session_text(session));
  }
  if (filtered.auth_id != session) {
    return InvalidArgument("the filtered token belongs to logon session " +
                           session_text(filtered.auth_id) + ", not " +
                           session_text(session));
  }
  if (elevated.elevation_type == ElevationType::kLimited) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the elevated token is already a Limited token; "
                     "elevation roles are sticky");
  }
  if (filtered.elevation_type == ElevationType::kFull) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the filtered token is already a Full token; elevation "
                     "roles are sticky");
  }
  LinkedPair pair{elevated, filtered};
  pair.elevated.elevation_type = ElevationType::kFull;
  pair.filtered.elevation_type = ElevationType::kLimited;
  return pair;
}

Result<LinkedTokenView> LinkedToken(const Token& partner, const Token& caller,
                                    LuidAllocator& ids) {
  if (partner.elevation_type == ElevationType::kDefault) {
    return MakeError(ErrorCode::kNotFound, "the token is in no elevation pair");
  }
  if (HasEnabled(caller, privilege::kTcb)) {
    return LinkedTokenView{partner, false};
  }
  Token copy = partner;
  copy.type = TokenType::kImpersonation;
  copy.impersonation_level = ImpersonationLevel::kIdentification;
  MakeNewObject(copy, caller.user, ids);
  Result<Token> checked = Checked(std::move(copy));
  if (!checked) return tl::unexpected(checked.error());
  return LinkedTokenView{std::move(*checked), true};
}

// ---------------------------------------------------------------------------
// Impersonation.

Result<ImpersonationDecision> CheckImpersonation(const Token& server_primary,
                                                 const Token& client,
                                                 ImpersonationLevel requested) {
  if (server_primary.type != TokenType::kPrimary) {
    return InvalidArgument(
        "impersonation gates are evaluated against the server's primary "
        "token, and this is an impersonation token");
  }
  if (!IsKnownLevel(requested)) {
    return InvalidArgument("unknown impersonation level " +
                           std::to_string(static_cast<uint32_t>(requested)));
  }
  if (requested == ImpersonationLevel::kAnonymous) {
    return ImpersonationDecision{ImpersonationLevel::kAnonymous, false,
                                 "anonymous impersonation bypasses both gates"};
  }
  const bool same_user = server_primary.user == client.user;
  if (same_user && server_primary.is_restricted() && !client.is_restricted()) {
    return NotHeld(
        "a restricted server may not impersonate an unrestricted token of "
        "its own user " +
        client.user.ToString());
  }

  ImpersonationLevel level = requested;
  std::vector<std::string> reasons;
  if (client.type == TokenType::kImpersonation &&
      client.impersonation_level < level) {
    level = client.impersonation_level;
    reasons.push_back("the client token's own level is " +
                      std::string(LevelName(level)));
  }
  const bool identity_ok =
      (same_user && server_primary.is_restricted() == client.is_restricted()) ||
      HasEnabled(server_primary, privilege::kImpersonate);
  const bool integrity_ok =
      client.integrity_rid <= server_primary.integrity_rid;
  if (level > ImpersonationLevel::kIdentification) {
    if (!identity_ok) {
      level = ImpersonationLevel::kIdentification;
      reasons.push_back(
          same_user ? "identity gate: the server and client differ in "
                      "restriction and the server lacks SeImpersonate"
                    : "identity gate: the client " + client.user.ToString() +
                          " is another user and the server lacks "
                          "SeImpersonate enabled");
    }
    if (!integrity_ok) {
      level = ImpersonationLevel::kIdentification;
      reasons.push_back("integrity ceiling: the client's integrity " +
                        IntegrityName(client.integrity_rid) +
                        " is above the server's " +
                        IntegrityName(server_primary.integrity_rid));
    }
  }
  ImpersonationDecision decision{level, level < requested, ""};
  if (reasons.empty()) {
    decision.reason = "granted at " + std::string(LevelName(level));
  } else {
    decision.reason = "capped to " + std::string(LevelName(level)) + ": ";
    for (size_t i = 0; i < reasons.size(); ++i) {
      if (i > 0) decision.reason += "; ";
      decision.reason += reasons[i];
    }
  }
  return decision;
}

Result<Token> MakeImpersonationToken(const Token& client,
                                     ImpersonationLevel level,
                                     const Sid& creator, LuidAllocator& ids) {
  if (!IsKnownLevel(level)) {
    return InvalidArgument("unknown impersonation level " +
                           std::to_string(static_cast<uint32_t>(level)));
  }
  if (client.type == TokenType::kImpersonation &&
      level > client.impersonation_level) {
    return NotHeld("impersonating at " + std::string(LevelName(level)) +
                   " exceeds the client token's own level " +
                   std::string(LevelName(client.impersonation_level)));
  }
  if (level == ImpersonationLevel::kAnonymous) {
    return Checked(AnonymousToken(creator, ids));
  }
  return DuplicateAs(client, TokenType::kImpersonation, level, creator, ids);
}

bool IsNoLooserThan(const Token& derived, const Token& base) {
  if (!(derived.user == base.user) || !(derived.auth_id == base.auth_id)) {
    return false;
  }
  if (base.user_deny_only && !derived.user_deny_only) return false;
  if (derived.privileges.present & ~base.privileges.present) return false;
  if (derived.integrity_rid > base.integrity_rid) return false;
  for (const SidAndAttributes& group : derived.groups) {
    const bool usable =
        !(group.attributes & group_attributes::kUseForDenyOnly) &&
        (group.attributes &
         (group_attributes::kEnabled | group_attributes::kEnabledByDefault));
    if (!usable) continue;
    const bool held = std::any_of(
        base.groups.begin(), base.groups.end(),
        [&group](const SidAndAttributes& candidate) {
          return candidate.sid == group.sid &&
                 !(candidate.attributes & group_attributes::kUseForDenyOnly);
        });
    if (!held) return false;
  }
  if (base.restricted_sids) {
    if (!derived.restricted_sids) return false;
    for (const SidAndAttributes& sid : *derived.restricted_sids) {
      const bool held = std::any_of(base.restricted_sids->begin(),
                                    base.restricted_sids->end(),
                                    [&sid](const SidAndAttributes& candidate) {
                                      return candidate.sid == sid.sid;
                                    });
      if (!held) return false;
    }
    if (base.write_restricted && !derived.write_restricted) return false;
  }
  for (const Capability& capability : derived.capabilities) {
    if (capability.name.empty()) {
      if (std::none_of(base.capabilities.begin(), base.capabilities.end(),
                       [&capability](const Capability& candidate) {
                         return candidate.sid == capability.sid;
                       })) {
        return false;
      }
    } else if (!HasCapability(base.capabilities, capability.name)) {
      return false;
    }
  }
  return true;
}

}  // namespace tokenfs
