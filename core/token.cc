#include "core/token.h"

#include <algorithm>
#include <cstdlib>

#include "core/ascii.h"
#include "core/well_known_sids.h"

namespace tokenfs {

std::string TokenSource::NameString() const {
  size_t length = name.size();
  while (length > 0 && name[length - 1] == '\0') --length;
  return std::string(name.data(), length);
}

TokenSource TokenSource::Make(std::string_view text, Luid id) {
  TokenSource source;
  for (size_t i = 0; i < source.name.size() && i < text.size(); ++i) {
    source.name[i] = text[i];
  }
  source.id = id;
  return source;
}

const Sid* Token::SidAtIndex(uint32_t index) const {
  if (index == 0) return &user;
  if (index <= groups.size()) return &groups[index - 1].sid;
  return nullptr;
}

const Sid& Token::Owner() const {
  const Sid* sid = SidAtIndex(owner_index);
  if (!sid) std::abort();
  return *sid;
}

const Sid& Token::PrimaryGroup() const {
  const Sid* sid = SidAtIndex(primary_group_index);
  if (!sid) std::abort();
  return *sid;
}

Sid Token::IntegritySid() const {
  return well_known::IntegrityLevel(integrity_rid);
}

std::optional<Sid> Token::LogonSid() const {
  for (const auto& group : groups) {
    if ((group.attributes & group_attributes::kLogonId) ==
        group_attributes::kLogonId) {
      return group.sid;
    }
  }
  return std::nullopt;
}

namespace {

// An integrity label ACE: header, mask and an S-1-16-rid SID (8 + 4 bytes).
constexpr size_t kLabelAceSize = 4 + 4 + 12;

// `acl` (absent is fine) has a binary form with `room` bytes to spare.
Status AclFits(const std::optional<Acl>& acl, const char* field, size_t room) {
  if (!acl) return Ok();
  auto binary = acl->ToBinary();
  if (!binary) {
    return InvalidArgument(std::string(field) + ": " + binary.error().message);
  }
  if (binary->size() + room > Acl::kMaxSize) {
    return InvalidArgument(std::string(field) + ": " +
                           std::to_string(binary->size()) +
                           " bytes leave no room for the integrity label (an "
                           "ACL holds at most 65535 bytes)");
  }
  return Ok();
}

bool HasLabel(const std::optional<Acl>& sacl) {
  if (!sacl) return false;
  return std::any_of(sacl->aces.begin(), sacl->aces.end(), [](const Ace& ace) {
    return ace.type == AceType::kSystemMandatoryLabel && !ace.inherit_only();
  });
}

}  // namespace

Status ValidateToken(const Token& token) {
  if (token.groups.size() > Token::kMaxGroups) {
    return InvalidArgument("groups: " + std::to_string(token.groups.size()) +
                           " entries (at most 1024)");
  }
  int logon_groups = 0;
  for (const auto& group : token.groups) {
    if ((group.attributes & group_attributes::kLogonId) ==
        group_attributes::kLogonId) {
      ++logon_groups;
    }
  }
  if (logon_groups > 1) {
    return InvalidArgument("groups: more than one logon SID");
  }
  if (token.owner_index > token.groups.size()) {
    return InvalidArgument("owner index " + std::to_string(token.owner_index) +
                           " is beyond the " +
                           std::to_string(token.groups.size()) + " groups");
  }
  if (token.owner_index > 0 &&
      !(token.groups[token.owner_index - 1].attributes &
        group_attributes::kOwner)) {
    return InvalidArgument("owner index " + std::to_string(token.owner_index) +
                           " names a group without the owner attribute");
  }
  if (token.primary_group_index > token.groups.size()) {
    return InvalidArgument(
        "primary group index " + std::to_string(token.primary_group_index) +
        " is beyond the " + std::to_string(token.groups.size()) + " groups");
  }
  const PrivilegeSet& privileges = token.privileges;
  if (privileges.enabled & ~privileges.present) {
    return InvalidArgument("privileges: enabled bits outside present");
  }
  if (privileges.enabled_by_default & ~privileges.present) {
    return InvalidArgument(
        "privileges: enabled-by-default bits outside present");
  }
  if (token.type == TokenType::kPrimary &&
      token.impersonation_level != ImpersonationLevel::kAnonymous) {
    return InvalidArgument(
        "impersonation level: a primary token has level Anonymous");
  }
  if (token.write_restricted && !token.user_deny_only) {
    return InvalidArgument("write-restricted token must have user deny-only");
  }
  if (token.isolation_boundary && !token.confinement_sid) {
    return InvalidArgument("isolation boundary requires a confinement SID");
  }
  if (token.mandatory_policy & ~mandatory_policy::kValidMask) {
    return InvalidArgument("mandatory policy: unknown bits");
  }
  if (token.audit_policy & ~audit_policy::kValidMask) {
    return InvalidArgument("audit policy: unknown bits");
  }
  // Every ACL has a binary form (the state store records them so), the
  // token's own SACL also once LabelTokenSecurity has added its label.
  if (Status fits = AclFits(token.default_dacl, "default DACL", 0); !fits) {
    return fits;
  }
  if (Status fits = AclFits(token.security.dacl, "security DACL", 0); !fits) {
    return fits;
  }
  if (Status fits = AclFits(token.security.sacl, "security SACL",
                            HasLabel(token.security.sacl) ? 0 : kLabelAceSize);
      !fits) {
    return fits;
  }
  return Ok();
}

SecurityDescriptor DefaultTokenSecurity(const Sid& token_user,
                                        const Sid& creator) {
  SecurityDescriptor sd;
  sd.owner = creator;
  sd.group = creator;
  Acl dacl;
  // At most three ACEs, no growth slack (a spare ACE costs about 170
  // bytes); tokens made for one user by one creator share the interned ACL.
  dacl.aces.reserve(3);
  dacl.aces.push_back(
      Ace{.type = AceType::kAccessAllowed,
          .mask = access::kTokenQuery | access::kTokenAdjustPrivileges |
                  access::kTokenAdjustGroups | access::kTokenAdjustDefault,
          .sid = token_user});
  const Sid system = well_known::LocalSystem();
  if (creator == token_user) {
    dacl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                            .mask = access::kReadControl,
                            .sid = well_known::OwnerRights()});
  } else if (creator != system) {
    dacl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                            .mask = access::kTokenAllAccess,
                            .sid = creator});
  }
  dacl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                          .mask = access::kTokenAllAccess,
                          .sid = system});
  sd.SetDacl(InternAcl(std::move(dacl)));
  return sd;
}

void LabelTokenSecurity(Token& token) {
  SecurityDescriptor& sd = token.security;
  if (sd.sacl) {
    const auto& aces = sd.sacl->aces;
    for (size_t index = 0; index < aces.size(); ++index) {
      const Ace& ace = aces[index];
      if (ace.type != AceType::kSystemMandatoryLabel || ace.inherit_only()) {
        continue;
      }
      if (IsIntegritySid(ace.sid) && ace.sid.rid() > token.integrity_rid) {
        sd.sacl->aces.Mutable()[index].sid =
            well_known::IntegrityLevel(token.integrity_rid);
      }
      return;
    }
  }
  Acl sacl = sd.sacl ? *sd.sacl : Acl{};
  sacl.aces.push_back(
      Ace{.type = AceType::kSystemMandatoryLabel,
          .mask = access::kMandatoryNoWriteUp,
          .sid = well_known::IntegrityLevel(token.integrity_rid)});
  sd.SetSacl(InternAcl(std::move(sacl)));
}

std::string_view TokenTypeName(TokenType type) {
  switch (type) {
    case TokenType::kPrimary:
      return "Primary";
    case TokenType::kImpersonation:
      return "Impersonation";
  }
  return "Unknown";
}

std::string_view ImpersonationLevelName(ImpersonationLevel level) {
  switch (level) {
    case ImpersonationLevel::kAnonymous:
      return "Anonymous";
    case ImpersonationLevel::kIdentification:
      return "Identification";
    case ImpersonationLevel::kImpersonation:
      return "Impersonation";
    case ImpersonationLevel::kDelegation:
      return "Delegation";
  }
  return "Unknown";
}

std::string_view ElevationTypeName(ElevationType type) {
  switch (type) {
    case ElevationType::kDefault:
      return "Default";
    case ElevationType::kFull:
      return "Full";
    case ElevationType::kLimited:
      return "Limited";
  }
  return "Unknown";
}

std::string_view LogonTypeName(LogonType type) {
  switch (type) {
    case LogonType::kInteractive:
      return "Interactive";
    case LogonType::kNetwork:
      return "Network";
    case LogonType::kBatch:
      return "Batch";
    case LogonType::kService:
      return "Service";
    case LogonType::kNetworkCleartext:
      return "NetworkCleartext";
    case LogonType::kNewCredentials:
      return "NewCredentials";
  }
  return "Unknown";
}

Result<TokenType> ParseTokenType(std::string_view text) {
  if (EqualsIgnoreCase(text, "primary")) return TokenType::kPrimary;
  if (EqualsIgnoreCase(text, "impersonation") ||
      EqualsIgnoreCase(text, "imp")) {
    return TokenType::kImpersonation;
  }
  // The whole word is the offending item, so the column is its start.
  return InvalidArgument("unknown token type '" + std::string(text) +
                             "' (primary or impersonation)",
                         1);
}

Result<ImpersonationLevel> ParseImpersonationLevel(std::string_view text) {
  struct Name {
    const char* text;
    ImpersonationLevel level;
  };
  static constexpr Name kNames[] = {
      {"anonymous", ImpersonationLevel::kAnonymous},
      {"anon", ImpersonationLevel::kAnonymous},
      {"0", ImpersonationLevel::kAnonymous},
      {"identification", ImpersonationLevel::kIdentification},
      {"id", ImpersonationLevel::kIdentification},
      {"1", ImpersonationLevel::kIdentification},
      {"impersonation", ImpersonationLevel::kImpersonation},
      {"imp", ImpersonationLevel::kImpersonation},
      {"2", ImpersonationLevel::kImpersonation},
      {"delegation", ImpersonationLevel::kDelegation},
      {"del", ImpersonationLevel::kDelegation},
      {"3", ImpersonationLevel::kDelegation},
  };
  for (const auto& name : kNames) {
    if (EqualsIgnoreCase(text, name.text)) return name.level;
  }
  return InvalidArgument(
      "unknown impersonation level '" + std::string(text) +
          "' (anonymous, identification, impersonation or delegation)",
      1);
}

std::vector<std::string_view> GroupAttributeLabels(uint32_t attributes) {
  std::vector<std::string_view> labels;
  if (attributes & group_attributes::kMandatory) labels.push_back("mandatory");
  if (attributes & group_attributes::kEnabledByDefault) {
    labels.push_back("default");
  }
  labels.push_back((attributes & group_attributes::kEnabled) ? "enabled"
                                                             : "disabled");
  if (attributes & group_attributes::kOwner) labels.push_back("owner");
  if (attributes & group_attributes::kUseForDenyOnly) {
    labels.push_back("deny-only");
  }
  if (attributes & group_attributes::kIntegrity) labels.push_back("integrity");
  if (attributes & group_attributes::kIntegrityEnabled) {
    labels.push_back("integrity-enabled");
  }
  if (attributes & group_attributes::kResource) labels.push_back("resource");
  if ((attributes & group_attributes::kLogonId) == group_attributes::kLogonId) {
    labels.push_back("logon-id");
  }
  return labels;
}

size_t ApproximateTokenBytes(const Token& token) {
  auto sids = [](const std::vector<SidAndAttributes>& list) {
    return list.size() * sizeof(SidAndAttributes);
  };
  auto optional_sids =
      [&](const std::optional<std::vector<SidAndAttributes>>& list) {
        return list ? sids(*list) : 0;
      };
  auto acl = [](const std::optional<Acl>& list) {
    return list ? list->aces.size() * sizeof(Ace) : 0;
  };
  auto claims = [](const std::vector<Claim>& list) {
    size_t bytes = 0;
    for (const Claim& claim : list) {
      bytes += sizeof(Claim) + claim.name.size() +
               claim.values.size() * sizeof(ClaimValue);
      for (const ClaimValue& value : claim.values) {
        if (const auto* text = std::get_if<std::string>(&value)) {
          bytes += text->size();
        } else if (const auto* octets =
                       std::get_if<std::vector<uint8_t>>(&value)) {
          bytes += octets->size();
        }
      }
    }
    return bytes;
  };
  size_t bytes = sizeof(Token) + sids(token.groups) +
                 optional_sids(token.restricted_sids) +
                 optional_sids(token.device_groups) +
                 optional_sids(token.restricted_device_groups) +
                 acl(token.default_dacl) + acl(token.security.dacl) +
                 acl(token.security.sacl) + claims(token.user_claims) +
                 claims(token.device_claims);
  for (const Capability& capability : token.capabilities) {
    bytes += sizeof(Capability) + capability.name.size();
  }
  return bytes;
}

}  // namespace tokenfs
