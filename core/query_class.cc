#include "core/query_class.h"

#include <array>
#include <cctype>
#include <cstdlib>
#include <string>

#include "core/ascii.h"
#include "core/byte_io.h"
#include "core/claims.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

// Names the Peios `token query` tool accepts (its alias column), the
// first of each row being the canonical one.
constexpr std::array<std::string_view, 1> kUserNames{"user"};
constexpr std::array<std::string_view, 1> kGroupsNames{"groups"};
constexpr std::array<std::string_view, 2> kPrivilegesNames{"privileges",
                                                           "privs"};
constexpr std::array<std::string_view, 1> kTypeNames{"type"};
constexpr std::array<std::string_view, 3> kIntegrityNames{
    "integrity", "integritylevel", "integrity-level"};
constexpr std::array<std::string_view, 1> kOwnerNames{"owner"};
constexpr std::array<std::string_view, 2> kPrimaryGroupNames{"primarygroup",
                                                             "primary-group"};
constexpr std::array<std::string_view, 6> kSessionNames{
    "interactivity-scope", "interactivityscope", "scope", "session",
    "session-id",          "sessionid"};
constexpr std::array<std::string_view, 2> kRestrictedSidsNames{
    "restrictedsids", "restricted-sids"};
constexpr std::array<std::string_view, 1> kSourceNames{"source"};
constexpr std::array<std::string_view, 2> kStatisticsNames{"statistics",
                                                           "stats"};
constexpr std::array<std::string_view, 1> kOriginNames{"origin"};
constexpr std::array<std::string_view, 3> kElevationNames{
    "elevationtype", "elevation-type", "elevation"};
constexpr std::array<std::string_view, 2> kDeviceGroupsNames{"devicegroups",
                                                             "device-groups"};
constexpr std::array<std::string_view, 3> kAppContainerNames{
    "appcontainersid", "appcontainer-sid", "appcontainer"};
constexpr std::array<std::string_view, 2> kCapabilitiesNames{"capabilities",
                                                             "caps"};
constexpr std::array<std::string_view, 2> kMandatoryPolicyNames{
    "mandatorypolicy", "mandatory-policy"};
constexpr std::array<std::string_view, 2> kLogonTypeNames{"logontype",
                                                          "logon-type"};
constexpr std::array<std::string_view, 2> kLogonSidNames{"logonsid",
                                                         "logon-sid"};
constexpr std::array<std::string_view, 2> kDefaultDaclNames{"defaultdacl",
                                                            "default-dacl"};
constexpr std::array<std::string_view, 2> kImpersonationLevelNames{
    "impersonationlevel", "impersonation-level"};
constexpr std::array<std::string_view, 2> kUserClaimsNames{"userclaims",
                                                           "user-claims"};
constexpr std::array<std::string_view, 2> kDeviceClaimsNames{"deviceclaims",
                                                             "device-claims"};
constexpr std::array<std::string_view, 3> kProjectedGidsNames{
    "projectedsupplementarygids", "projected-supplementary-gids",
    "projected-gids"};

constexpr std::array<QueryClassInfo, kQueryClassCount> kTable{{
    {QueryClass::kUser, "user", kUserNames, "KACS_TOKEN_CLASS_USER"},
    {QueryClass::kGroups, "groups", kGroupsNames, "KACS_TOKEN_CLASS_GROUPS"},
    {QueryClass::kPrivileges, "privileges", kPrivilegesNames,
     "KACS_TOKEN_CLASS_PRIVILEGES"},
    {QueryClass::kType, "type", kTypeNames, "KACS_TOKEN_CLASS_TYPE"},
    {QueryClass::kIntegrityLevel, "integrity", kIntegrityNames,
     "KACS_TOKEN_CLASS_INTEGRITY_LEVEL"},
    {QueryClass::kOwner, "owner", kOwnerNames, "KACS_TOKEN_CLASS_OWNER"},
    {QueryClass::kPrimaryGroup, "primarygroup", kPrimaryGroupNames,
     "KACS_TOKEN_CLASS_PRIMARY_GROUP"},
    {QueryClass::kSessionId, "interactivity-scope", kSessionNames,
     "KACS_TOKEN_CLASS_SESSION_ID"},
    {QueryClass::kRestrictedSids, "restrictedsids", kRestrictedSidsNames,
     "KACS_TOKEN_CLASS_RESTRICTED_SIDS"},
    {QueryClass::kSource, "source", kSourceNames, "KACS_TOKEN_CLASS_SOURCE"},
    {QueryClass::kStatistics, "statistics", kStatisticsNames,
     "KACS_TOKEN_CLASS_STATISTICS"},
    {QueryClass::kOrigin, "origin", kOriginNames, "KACS_TOKEN_CLASS_ORIGIN"},
    {QueryClass::kElevationType, "elevationtype", kElevationNames,
     "KACS_TOKEN_CLASS_ELEVATION_TYPE"},
    {QueryClass::kDeviceGroups, "devicegroups", kDeviceGroupsNames,
     "KACS_TOKEN_CLASS_DEVICE_GROUPS"},
    {QueryClass::kAppContainerSid, "appcontainersid", kAppContainerNames,
     "KACS_TOKEN_CLASS_APPCONTAINER_SID"},
    {QueryClass::kCapabilities, "capabilities", kCapabilitiesNames,
     "KACS_TOKEN_CLASS_CAPABILITIES"},
    {QueryClass::kMandatoryPolicy, "mandatorypolicy", kMandatoryPolicyNames,
     "KACS_TOKEN_CLASS_MANDATORY_POLICY"},
    {QueryClass::kLogonType, "logontype", kLogonTypeNames,
     "KACS_TOKEN_CLASS_LOGON_TYPE"},
    {QueryClass::kLogonSid, "logonsid", kLogonSidNames,
     "KACS_TOKEN_CLASS_LOGON_SID"},
    {QueryClass::kDefaultDacl, "defaultdacl", kDefaultDaclNames,
     "KACS_TOKEN_CLASS_DEFAULT_DACL"},
    {QueryClass::kImpersonationLevel, "impersonationlevel",
     kImpersonationLevelNames, "KACS_TOKEN_CLASS_IMPERSONATION_LEVEL"},
    {QueryClass::kUserClaims, "userclaims", kUserClaimsNames,
     "KACS_TOKEN_CLASS_USER_CLAIMS"},
    {QueryClass::kDeviceClaims, "deviceclaims", kDeviceClaimsNames,
     "KACS_TOKEN_CLASS_DEVICE_CLAIMS"},
    {QueryClass::kProjectedSupplementaryGids, "projectedsupplementarygids",
     kProjectedGidsNames, "KACS_TOKEN_CLASS_PROJECTED_SUPPLEMENTARY_GIDS"},
}};

// Capability SIDs are always in force, so Windows reports them enabled.
constexpr uint32_t kCapabilityAttributes = group_attributes::kEnabled;

void AppendSid(std::vector<uint8_t>& out, const Sid& sid) {
  sid.AppendBinary(out);
}

std::vector<uint8_t> SidPayload(const Sid& sid) {
  std::vector<uint8_t> out;
  AppendSid(out, sid);
  return out;
}

std::vector<uint8_t> U32Payload(uint32_t value) {
  std::vector<uint8_t> out;
  AppendU32(out, value);
  return out;
}

std::vector<uint8_t> SidListPayload(
    const std::optional<std::vector<SidAndAttributes>>& entries) {
  std::vector<uint8_t> out;
  if (entries) {
    AppendSidList(out, *entries);
  } else {
    AppendU32(out, 0);
  }
  return out;
}

Result<std::vector<uint8_t>> IndexedSidPayload(const Token& token,
                                               uint32_t index,
                                               std::string_view what) {
  const Sid* sid = token.SidAtIndex(index);
  if (!sid) {
    return InvalidArgument(std::string(what) + " index " +
                           std::to_string(index) + " is beyond the " +
                           std::to_string(token.groups.size()) + " groups");
  }
  return SidPayload(*sid);
}

Result<std::vector<uint8_t>> ClaimsPayload(const std::vector<Claim>& claims,
                                           std::string_view what) {
  if (claims.empty()) return std::vector<uint8_t>{};
  auto bytes = EncodeClaims(claims);
  if (!bytes) {
    return InvalidArgument(std::string(what) + ": " + bytes.error().message);
  }
  return std::move(*bytes);
}

}  // namespace

std::span<const QueryClassInfo> QueryClassTable() { return kTable; }

const QueryClassInfo& GetQueryClassInfo(QueryClass query_class) {
  const auto id = static_cast<uint32_t>(query_class);
  if (id < 1 || id > kQueryClassCount) std::abort();
  return kTable[id - 1];
}

std::string_view QueryClassName(QueryClass query_class) {
  return GetQueryClassInfo(query_class).name;
}

Result<QueryClass> QueryClassFromId(uint32_t id) {
  if (id < 1 || id > kQueryClassCount) {
    return InvalidArgument("unknown query class number " + std::to_string(id) +
                           " (valid numbers are 1 to 24)");
  }
  return static_cast<QueryClass>(id);
}

Result<QueryClass> ParseQueryClass(std::string_view text) {
  for (const auto& info : kTable) {
    for (std::string_view alias : info.aliases) {
      if (EqualsIgnoreCase(text, alias)) return info.id;
    }
  }
  // An ABI number in plain decimal, at most two digits so nothing overflows.
  if (!text.empty() && text.size() <= 2 &&
      std::isdigit(static_cast<unsigned char>(text[0])) &&
      std::isdigit(static_cast<unsigned char>(text.back()))) {
    uint32_t id = 0;
    for (char c : text) id = id * 10 + static_cast<uint32_t>(c - '0');
    if (id >= 1 && id <= kQueryClassCount) return static_cast<QueryClass>(id);
  }
  std::string names;
  for (const auto& info : kTable) {
    if (!names.empty()) names += ", ";
    names += info.name;
  }
  return InvalidArgument("unknown query class '" + std::string(text) +
                         "' (valid classes: " + names + ")");
}

void AppendSidList(std::vector<uint8_t>& out,
                   std::span<const SidAndAttributes> entries) {
  AppendU32(out, static_cast<uint32_t>(entries.size()));
  for (const auto& entry : entries) {
    AppendU32(out, static_cast<uint32_t>(entry.sid.BinarySize()));
    AppendSid(out, entry.sid);
    AppendU32(out, entry.attributes);
  }
}

Sid QueryLogonSid(const Token& token) {
  if (auto sid = token.LogonSid()) return *sid;
  return well_known::LogonSid(token.auth_id.value);
}

Result<std::vector<uint8_t>> EncodeQueryPayload(const Token& token,
                                                QueryClass query_class) {
  switch (query_class) {
    case QueryClass::kUser:
      return SidPayload(token.user);
    case QueryClass::kGroups: {
      std::vector<uint8_t> out;
      AppendSidList(out, token.groups);
      return out;
    }
    case QueryClass::kPrivileges: {
      std::vector<uint8_t> out;
      AppendU64(out, token.privileges.present);
      AppendU64(out, token.privileges.enabled);
      AppendU64(out, token.privileges.enabled_by_default);
      AppendU64(out, token.privileges.used);
      return out;
    }
    case QueryClass::kType:
      return U32Payload(static_cast<uint32_t>(token.type));
    case QueryClass::kIntegrityLevel:
      return SidPayload(token.IntegritySid());
    case QueryClass::kOwner:
      return IndexedSidPayload(token, token.owner_index, "owner");
    case QueryClass::kPrimaryGroup:
      return IndexedSidPayload(token, token.primary_group_index,
                               "primary group");
    case QueryClass::kSessionId:
      return U32Payload(token.interactive_session_id);
    case QueryClass::kRestrictedSids:
      return SidListPayload(token.restricted_sids);
    case QueryClass::kSource: {
      std::vector<uint8_t> out;
      for (char c : token.source.name) out.push_back(static_cast<uint8_t>(c));
      AppendU64(out, token.source.id.value);
      return out;
    }
    case QueryClass::kStatistics: {
      std::vector<uint8_t> out;
      AppendU64(out, token.token_id.value);
      AppendU64(out, token.auth_id.value);
      AppendU64(out, token.modified_id.value);
      AppendU32(out, static_cast<uint32_t>(token.type));
      AppendU32(out, 0);  // padding
      AppendU64(out, token.expiration_ns);
      return out;
    }
    case QueryClass::kOrigin: {
      std::vector<uint8_t> out;
      AppendU64(out, token.origin.value);
      return out;
    }
    case QueryClass::kElevationType:
      return U32Payload(static_cast<uint32_t>(token.elevation_type));
    case QueryClass::kDeviceGroups:
      return SidListPayload(token.device_groups);
    case QueryClass::kAppContainerSid:
      if (!token.confinement_sid) return std::vector<uint8_t>{};
      return SidPayload(*token.confinement_sid);
    case QueryClass::kCapabilities: {
      std::vector<SidAndAttributes> entries;
      entries.reserve(token.capabilities.size());
      for (const auto& capability : token.capabilities) {
        entries.push_back({capability.sid, kCapabilityAttributes});
      }
      std::vector<uint8_t> out;
      AppendSidList(out, entries);
      return out;
    }
    case QueryClass::kMandatoryPolicy:
      return U32Payload(token.mandatory_policy);
    case QueryClass::kLogonType:
      return U32Payload(static_cast<uint32_t>(token.logon_type));
    case QueryClass::kLogonSid:
      return SidPayload(QueryLogonSid(token));
    case QueryClass::kDefaultDacl: {
      if (!token.default_dacl) return std::vector<uint8_t>{};
      auto bytes = token.default_dacl->ToBinary();
      if (!bytes) {
        return InvalidArgument("default DACL: " + bytes.error().message);
      }
      return std::move(*bytes);
    }
    case QueryClass::kImpersonationLevel:
      return U32Payload(
          token.type == TokenType::kPrimary
              ? static_cast<uint32_t>(ImpersonationLevel::kAnonymous)
              : static_cast<uint32_t>(token.impersonation_level));
    case QueryClass::kUserClaims:
      return ClaimsPayload(token.user_claims, "user claims");
    case QueryClass::kDeviceClaims:
      return ClaimsPayload(token.device_claims, "device claims");
    case QueryClass::kProjectedSupplementaryGids: {
      std::vector<uint8_t> out;
      AppendU32(out, static_cast<uint32_t>(
                         token.projected_supplementary_gids.size()));
      for (uint32_t gid : token.projected_supplementary_gids) {
        AppendU32(out, gid);
      }
      return out;
    }
  }
  return InvalidArgument("unknown query class number " +
                         std::to_string(static_cast<uint32_t>(query_class)));
}

std::vector<uint8_t> QueryPayload(const Token& token, QueryClass query_class) {
  auto bytes = EncodeQueryPayload(token, query_class);
  if (!bytes) return {};
  return std::move(*bytes);
}

}  // namespace tokenfs
