#include "core/render.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "core/ascii.h"
#include "core/claims.h"
#include "core/privilege.h"
#include "core/sddl.h"

namespace tokenfs {
namespace {

using nlohmann::json;

constexpr std::string_view kSeparator = "  ";

constexpr std::array<TokenFileInfo, 20> kFiles{{
    {TokenFile::kUser, "user", "the user SID"},
    {TokenFile::kOwner, "owner", "the default owner SID for new objects"},
    {TokenFile::kGroup, "group", "the primary group SID for new objects"},
    {TokenFile::kGroups, "groups", "one group a line: index, SID, attributes"},
    {TokenFile::kPrivs, "privs", "one present privilege a line with its state"},
    {TokenFile::kCaps, "caps", "one capability a line: name and SID"},
    {TokenFile::kClaims, "claims", "one user or device claim a line"},
    {TokenFile::kIntegrity, "integrity",
     "the integrity level and the mandatory policy"},
    {TokenFile::kLogon, "logon", "logon type, logon SID, logon session"},
    {TokenFile::kSource, "source", "the token source name and id"},
    {TokenFile::kOrigin, "origin", "the originating logon session"},
    {TokenFile::kStats, "stats", "ids, times and counts"},
    {TokenFile::kType, "type", "Primary or Impersonation"},
    {TokenFile::kLevel, "level", "the impersonation level"},
    {TokenFile::kElevation, "elevation", "the elevation type"},
    {TokenFile::kSession, "session", "the interactive session id"},
    {TokenFile::kRestricted, "restricted",
     "restriction flags and the restricting SIDs"},
    {TokenFile::kDefaultDacl, "default-dacl",
     "the default DACL for new objects, as SDDL"},
    {TokenFile::kSecurity, "security",
     "the token object's own security descriptor, as SDDL"},
    {TokenFile::kAll, "all", "every file above as [name] sections"},
}};

// Replaces control characters so that data (an account name from NSS, a
// claim string) can never break the line structure of a file.
std::string Sanitize(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return out;
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

// Joins fields with two spaces and terminates the line.
std::string Line(std::initializer_list<std::string_view> fields) {
  std::string out;
  bool first = true;
  for (std::string_view field : fields) {
    if (!first) out += kSeparator;
    out += field;
    first = false;
  }
  out += '\n';
  return out;
}

// "S-..." followed by "  <label>" when a label is known.
std::string SidAndLabel(const Sid& sid, const RenderOptions& options) {
  std::string out = sid.ToString();
  if (auto label = RenderSidLabel(sid, options)) {
    out += kSeparator;
    out += Sanitize(*label);
  }
  return out;
}

std::string Join(const std::vector<std::string_view>& parts, char separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

std::string IntegrityLevelField(uint32_t rid) {
  if (auto name = IntegrityLevelName(rid)) {
    std::string out(*name);
    for (char& c : out) {
      if (c == ' ') c = '-';
    }
    return out;
  }
  return std::to_string(rid);
}

// The name of a capability SID: the token's own name, else the lookup's.
std::optional<std::string> CapabilityName(const Capability& capability,
                                          const RenderOptions& options) {
  if (!capability.name.empty()) return capability.name;
  if (options.capability_names) {
    return options.capability_names->NameForSid(capability.sid);
  }
  return std::nullopt;
}

std::string SourceNameField(const TokenSource& source) {
  const std::string name = source.NameString();
  if (name.empty()) return "-";
  std::string out;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f || c == '\\') {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", byte);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

// The claims.h flag names, plus unknown bits in hex so none go unseen.
std::vector<std::string> ClaimFlagFields(uint32_t flags) {
  std::vector<std::string> names;
  for (std::string_view name : ClaimFlagNames(flags)) names.emplace_back(name);
  if (const uint32_t unknown = flags & ~claim_flags::kAll) {
    names.push_back(FormatHex(unknown));
  }
  return names;
}

// A claim name as a text field: as is when it has no space, control
// character, quote or backslash (and is not "-"), else quoted the way claim
// string values are.
std::string ClaimNameField(const std::string& name) {
  bool plain = !name.empty() && name != "-";
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '"' || c == '\\') plain = false;
  }
  if (plain) return name;
  return Sanitize(FormatClaimValue(ClaimValue(name)));
}

std::string ClaimLine(std::string_view scope, const Claim& claim) {
  const std::vector<std::string> flags = ClaimFlagFields(claim.flags);
  std::string flags_field;
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i) flags_field += ',';
    flags_field += flags[i];
  }
  if (flags_field.empty()) flags_field = "-";
  std::string values;
  for (size_t i = 0; i < claim.values.size(); ++i) {
    if (i) values += ", ";
    values += FormatClaimValue(claim.values[i]);
  }
  return Line({scope, ClaimNameField(claim.name), ClaimTypeName(claim.type),
               flags_field, Sanitize(values)});
}

std::string PrivilegeNameField(int bit) {
  if (const PrivilegeInfo* info = FindPrivilege(bit)) {
    return std::string(info->short_name);
  }
  return "<privilege-bit-" + std::to_string(bit) + ">";
}

std::string PrivilegeStateField(const PrivilegeSet& privileges, int bit) {
  std::string out = privileges.IsEnabled(bit) ? "enabled" : "disabled";
  if (privileges.enabled_by_default & privilege::Bit(bit)) out += ",default";
  if (privileges.used & privilege::Bit(bit)) out += ",used";
  return out;
}

int PopCount(uint64_t mask) {
  int count = 0;
  for (; mask; mask &= mask - 1) ++count;
  return count;
}

// The impersonation level class 21 reports.
ImpersonationLevel ReportedLevel(const Token& token) {
  return token.type == TokenType::kPrimary ? ImpersonationLevel::kAnonymous
                                           : token.impersonation_level;
}

std::string RenderIndexedSid(const Token& token, uint32_t index,
                             const RenderOptions& options) {
  const Sid* sid = token.SidAtIndex(index);
  if (!sid) return Line({"-"});
  return SidAndLabel(*sid, options) + '\n';
}

std::string RenderGroups(const Token& token, const RenderOptions& options) {
  std::string out;
  for (size_t i = 0; i < token.groups.size(); ++i) {
    const auto& group = token.groups[i];
    std::string line = std::to_string(i);
    line += kSeparator;
    line += group.sid.ToString();
    line += kSeparator;
    line += Join(GroupAttributeLabels(group.attributes), ',');
    if (auto label = RenderSidLabel(group.sid, options)) {
      line += kSeparator;
      line += Sanitize(*label);
    }
    out += line + '\n';
  }
  return out;
}

std::string RenderPrivs(const Token& token) {
  std::string out;
  for (int bit = 0; bit < 64; ++bit) {
    if (!token.privileges.IsPresent(bit)) continue;
    out += Line(
        {PrivilegeNameField(bit), PrivilegeStateField(token.privileges, bit)});
  }
  return out;
}

std::string RenderCaps(const Token& token, const RenderOptions& options) {
  std::string out;
  for (const auto& capability : token.capabilities) {
    const auto name = CapabilityName(capability, options);
    out += Line({name ? Sanitize(*name) : "-", capability.sid.ToString()});
  }
  return out;
}

std::string RenderClaims(const Token& token) {
  std::string out;
  for (const auto& claim : token.user_claims) out += ClaimLine("user", claim);
  for (const auto& claim : token.device_claims) {
    out += ClaimLine("device", claim);
  }
  return out;
}

std::string RenderIntegrity(const Token& token) {
  const std::vector<std::string> policy =
      MandatoryPolicyNames(token.mandatory_policy);
  std::string policy_field;
  for (size_t i = 0; i < policy.size(); ++i) {
    if (i) policy_field += ',';
    policy_field += policy[i];
  }
  if (policy_field.empty()) policy_field = "none";
  return Line({IntegrityLevelField(token.integrity_rid),
               token.IntegritySid().ToString()}) +
         Line({"policy", policy_field});
}

std::string RenderLogon(const Token& token, const RenderOptions& options) {
  return Line({"logon_type", LogonTypeName(token.logon_type)}) +
         Line({"logon_sid", SidAndLabel(QueryLogonSid(token), options)}) +
         Line({"authentication_id", FormatLuid(token.auth_id)});
}

std::string RenderStats(const Token& token) {
  const size_t restricted_count =
      token.restricted_sids ? token.restricted_sids->size() : 0;
  return Line({"token_id", FormatLuid(token.token_id)}) +
         Line({"authentication_id", FormatLuid(token.auth_id)}) +
         Line({"modified_id", FormatLuid(token.modified_id)}) +
         Line({"parent_token_id", FormatLuid(token.parent_token_id)}) +
         Line({"type", TokenTypeName(token.type)}) +
         Line({"impersonation_level",
               ImpersonationLevelName(ReportedLevel(token))}) +
         Line({"expiration", token.expiration_ns
                                 ? FormatTimestamp(token.expiration_ns)
                                 : "never"}) +
         Line({"created", FormatTimestamp(token.created_ns)}) +
         Line({"group_count", std::to_string(token.groups.size())}) +
         Line({"privilege_count",
               std::to_string(PopCount(token.privileges.present))}) +
         Line({"restricted_sid_count", std::to_string(restricted_count)}) +
         Line({"capability_count", std::to_string(token.capabilities.size())});
}

std::string RenderRestricted(const Token& token, const RenderOptions& options) {
  std::string out = Line({"restricted", YesNo(token.is_restricted())}) +
                    Line({"write_restricted", YesNo(token.write_restricted)}) +
                    Line({"user_deny_only", YesNo(token.user_deny_only)});
  if (token.restricted_sids) {
    for (const auto& entry : *token.restricted_sids) {
      out += Line({"sid", SidAndLabel(entry.sid, options)});
    }
  }
  return out;
}

std::string RenderSingleFile(const Token& token, TokenFile file,
                             const RenderOptions& options) {
  switch (file) {
    case TokenFile::kUser:
      return SidAndLabel(token.user, options) + '\n';
    case TokenFile::kOwner:
      return RenderIndexedSid(token, token.owner_index, options);
    case TokenFile::kGroup:
      return RenderIndexedSid(token, token.primary_group_index, options);
    case TokenFile::kGroups:
      return RenderGroups(token, options);
    case TokenFile::kPrivs:
      return RenderPrivs(token);
    case TokenFile::kCaps:
      return RenderCaps(token, options);
    case TokenFile::kClaims:
      return RenderClaims(token);
    case TokenFile::kIntegrity:
      return RenderIntegrity(token);
    case TokenFile::kLogon:
      return RenderLogon(token, options);
    case TokenFile::kSource:
      return Line({"name", SourceNameField(token.source)}) +
             Line({"source_id", FormatLuid(token.source.id)});
    case TokenFile::kOrigin:
      return Line({"origin", FormatLuid(token.origin)});
    case TokenFile::kStats:
      return RenderStats(token);
    case TokenFile::kType:
      return Line({"type", TokenTypeName(token.type)});
    case TokenFile::kLevel:
      return Line({"impersonation_level",
                   ImpersonationLevelName(ReportedLevel(token))});
    case TokenFile::kElevation:
      return Line({"elevation_type", ElevationTypeName(token.elevation_type)});
    case TokenFile::kSession:
      return Line({"session_id", std::to_string(token.interactive_session_id)});
    case TokenFile::kRestricted:
      return RenderRestricted(token, options);
    case TokenFile::kDefaultDacl:
      if (!token.default_dacl) return "none\n";
      return FormatSddlDacl(token.default_dacl, options.domain) + '\n';
    case TokenFile::kSecurity:
      return FormatSddl(token.security, options.domain) + '\n';
    case TokenFile::kAll:
      break;
  }
  return {};
}

// ---- JSON ----

json TypedValue(uint32_t value, std::string_view name) {
  return json{{"value", value}, {"name", name}};
}

json SidEntryJson(const SidAndAttributes& entry, size_t index,
                  const RenderOptions& options) {
  json out = SidJson(entry.sid, options);
  out["index"] = index;
  out["attributes_raw"] = entry.attributes;
  json labels = json::array();
  for (std::string_view label : GroupAttributeLabels(entry.attributes)) {
    labels.push_back(label);
  }
  out["attributes"] = std::move(labels);
  return out;
}

json SidListJson(std::span<const SidAndAttributes> entries,
                 const RenderOptions& options) {
  json out = json::array();
  for (size_t i = 0; i < entries.size(); ++i) {
    out.push_back(SidEntryJson(entries[i], i, options));
  }
  return out;
}

json PrivilegesJson(const PrivilegeSet& privileges) {
  json list = json::array();
  for (int bit = 0; bit < 64; ++bit) {
    if (!privileges.IsPresent(bit)) continue;
    const PrivilegeInfo* info = FindPrivilege(bit);
    json entry;
    entry["bit"] = bit;
    entry["name"] = info ? json(info->short_name) : json(nullptr);
    entry["full_name"] = info ? json(info->name) : json(nullptr);
    entry["description"] = info ? json(info->description) : json(nullptr);
    entry["enabled"] = privileges.IsEnabled(bit);
    entry["enabled_by_default"] =
        (privileges.enabled_by_default & privilege::Bit(bit)) != 0;
    entry["used"] = (privileges.used & privilege::Bit(bit)) != 0;
    list.push_back(std::move(entry));
  }
  return json{
      {"privileges", std::move(list)},
      {"raw",
       {{"present", FormatMask64(privileges.present)},
        {"enabled", FormatMask64(privileges.enabled)},
        {"enabled_by_default", FormatMask64(privileges.enabled_by_default)},
        {"used", FormatMask64(privileges.used)}}}};
}

json ClaimValueJson(const ClaimValue& value, const RenderOptions& options) {
  return std::visit(
      [&options](const auto& held) -> json {
        using T = std::decay_t<decltype(held)>;
        if constexpr (std::is_same_v<T, Sid>) {
          return SidJson(held, options);
        } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
          return FormatHexBytes(held);
        } else {
          return held;
        }
      },
      value);
}

json ClaimsJson(const std::vector<Claim>& claims,
                const RenderOptions& options) {
  json list = json::array();
  for (const auto& claim : claims) {
    json values = json::array();
    for (const auto& value : claim.values) {
      values.push_back(ClaimValueJson(value, options));
    }
    json flags = json::array();
    for (const auto& name : ClaimFlagFields(claim.flags)) flags.push_back(name);
    list.push_back(json{{"name", claim.name},
                        {"type", ClaimTypeName(claim.type)},
                        {"type_raw", static_cast<uint16_t>(claim.type)},
                        {"flags_raw", claim.flags},
                        {"flags", std::move(flags)},
                        {"values", std::move(values)}});
  }
  return json{{"claims", std::move(list)}};
}

json IndexedSidJson(const Token& token, uint32_t index,
                    const RenderOptions& options) {
  const Sid* sid = token.SidAtIndex(index);
  json out = sid ? SidJson(*sid, options) : json::object();
  out["index"] = index;
  return out;
}

json DecodedJson(const Token& token, QueryClass query_class,
                 const RenderOptions& options) {
  switch (query_class) {
    case QueryClass::kUser:
      return SidJson(token.user, options);
    case QueryClass::kGroups:
      return json{{"groups", SidListJson(token.groups, options)}};
    case QueryClass::kPrivileges:
      return PrivilegesJson(token.privileges);
    case QueryClass::kType:
      return TypedValue(static_cast<uint32_t>(token.type),
                        TokenTypeName(token.type));
    case QueryClass::kIntegrityLevel: {
      json out = SidJson(token.IntegritySid(), options);
      out["rid"] = token.integrity_rid;
      const auto name = IntegrityLevelName(token.integrity_rid);
      out["level"] = name ? json(*name) : json(nullptr);
      return out;
    }
    case QueryClass::kOwner:
      return IndexedSidJson(token, token.owner_index, options);
    case QueryClass::kPrimaryGroup:
      return IndexedSidJson(token, token.primary_group_index, options);
    case QueryClass::kSessionId:
      return json{{"value", token.interactive_session_id}};
    case QueryClass::kRestrictedSids: {
      json list = token.restricted_sids
                      ? SidListJson(*token.restricted_sids, options)
                      : json::array();
      return json{{"restricted", token.is_restricted()},
                  {"restricted_sids", std::move(list)}};
    }
    case QueryClass::kSource: {
      json bytes = json::array();
      for (char c : token.source.name) {
        bytes.push_back(static_cast<uint8_t>(c));
      }
      return json{{"name", token.source.NameString()},
                  {"name_bytes", std::move(bytes)},
                  {"source_id", FormatLuid(token.source.id)}};
    }
    case QueryClass::kStatistics:
      return json{
          {"token_id", FormatLuid(token.token_id)},
          {"authentication_id", FormatLuid(token.auth_id)},
          {"modified_id", FormatLuid(token.modified_id)},
          {"type", TypedValue(static_cast<uint32_t>(token.type),
                              TokenTypeName(token.type))},
          {"expiration_ns", token.expiration_ns},
          {"expiration", token.expiration_ns
                             ? json(FormatTimestamp(token.expiration_ns))
                             : json(nullptr)}};
    case QueryClass::kOrigin:
      return json{{"origin", FormatLuid(token.origin)}};
    case QueryClass::kElevationType:
      return TypedValue(static_cast<uint32_t>(token.elevation_type),
                        ElevationTypeName(token.elevation_type));
    case QueryClass::kDeviceGroups: {
      json list = token.device_groups
                      ? SidListJson(*token.device_groups, options)
                      : json::array();
      return json{{"present", token.device_groups.has_value()},
                  {"device_groups", std::move(list)}};
    }
    case QueryClass::kAppContainerSid:
      if (!token.confinement_sid) return json(nullptr);
      return SidJson(*token.confinement_sid, options);
    case QueryClass::kCapabilities: {
      json list = json::array();
      for (size_t i = 0; i < token.capabilities.size(); ++i) {
        const auto& capability = token.capabilities[i];
        json entry = SidEntryJson({capability.sid, group_attributes::kEnabled},
                                  i, options);
        const auto name = CapabilityName(capability, options);
        entry["name"] = name ? json(*name) : json(nullptr);
        list.push_back(std::move(entry));
      }
      return json{{"capabilities", std::move(list)}};
    }
    case QueryClass::kMandatoryPolicy:
      return json{{"value", token.mandatory_policy},
                  {"flags", MandatoryPolicyNames(token.mandatory_policy)}};
    case QueryClass::kLogonType:
      return TypedValue(static_cast<uint32_t>(token.logon_type),
                        LogonTypeName(token.logon_type));
    case QueryClass::kLogonSid:
      return SidJson(QueryLogonSid(token), options);
    case QueryClass::kDefaultDacl:
      return json{
          {"present", token.default_dacl.has_value()},
          {"sddl", token.default_dacl
                       ? json(FormatSddlDacl(token.default_dacl, options.domain))
                       : json(nullptr)},
          {"ace_count",
           token.default_dacl ? token.default_dacl->aces.size() : 0}};
    case QueryClass::kImpersonationLevel: {
      const ImpersonationLevel level = ReportedLevel(token);
      return TypedValue(static_cast<uint32_t>(level),
                        ImpersonationLevelName(level));
    }
    case QueryClass::kUserClaims:
      return ClaimsJson(token.user_claims, options);
    case QueryClass::kDeviceClaims:
      return ClaimsJson(token.device_claims, options);
    case QueryClass::kProjectedSupplementaryGids:
      return json{{"gids", token.projected_supplementary_gids}};
  }
  return json(nullptr);
}

}  // namespace

std::optional<std::string> RenderSidLabel(const Sid& sid,
                                          const RenderOptions& options) {
  if (auto label = SidLabel(sid, options.accounts)) return label;
  if (IsCapabilitySid(sid) && options.capability_names) {
    if (auto name = options.capability_names->NameForSid(sid)) {
      return "Capability\\" + *name;
    }
  }
  return std::nullopt;
}

std::string FormatStyledSid(const Sid& sid, const RenderOptions& options) {
  if (options.sid_style == SidStyle::kRaw) return sid.ToString();
  const auto label = RenderSidLabel(sid, options);
  if (!label) return sid.ToString();
  if (options.sid_style == SidStyle::kLabelOnly) return *label;
  return *label + " (" + sid.ToString() + ")";
}

nlohmann::json SidJson(const Sid& sid, const RenderOptions& options) {
  json out;
  out["sid"] = sid.ToString();
  if (auto label = RenderSidLabel(sid, options)) out["label"] = *label;
  out["display"] = FormatStyledSid(sid, options);
  return out;
}

std::string FormatLuid(Luid luid) { return FormatMask64(luid.value); }

std::string FormatMask64(uint64_t mask) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "0x%016llx",
                static_cast<unsigned long long>(mask));
  return buffer;
}

std::string FormatTimestamp(uint64_t nanoseconds) {
  constexpr uint64_t kPerSecond = 1000000000;
  constexpr uint64_t kSecondsPerDay = 86400;
  const uint64_t seconds = nanoseconds / kPerSecond;
  const uint64_t fraction = nanoseconds % kPerSecond;
  const uint64_t day_seconds = seconds % kSecondsPerDay;
  const std::chrono::sys_days day{
      std::chrono::days{static_cast<int>(seconds / kSecondsPerDay)}};
  const std::chrono::year_month_day date{day};
  char buffer[48];
  std::snprintf(
      buffer, sizeof buffer, "%04d-%02u-%02uT%02u:%02u:%02u.%09uZ",
      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
      static_cast<unsigned>(date.day()),
      static_cast<unsigned>(day_seconds / 3600),
      static_cast<unsigned>(day_seconds / 60 % 60),
      static_cast<unsigned>(day_seconds % 60), static_cast<unsigned>(fraction));
  return buffer;
}

std::vector<std::string> MandatoryPolicyNames(uint32_t policy) {
  std::vector<std::string> names;
  if (policy & mandatory_policy::kNoWriteUp) names.emplace_back("no-write-up");
  if (policy & mandatory_policy::kNewProcessMin) {
    names.emplace_back("new-process-min");
  }
  if (const uint32_t unknown = policy & ~mandatory_policy::kValidMask) {
    names.push_back(FormatHex(unknown));
  }
  return names;
}

std::span<const TokenFileInfo> TokenFileTable() { return kFiles; }

std::string_view TokenFileName(TokenFile file) {
  for (const auto& info : kFiles) {
    if (info.file == file) return info.name;
  }
  return "?";
}

Result<TokenFile> ParseTokenFileName(std::string_view name) {
  for (const auto& info : kFiles) {
    if (info.name == name) return info.file;
  }
  return MakeError(ErrorCode::kNotFound,
                   "no token file '" + std::string(name) + "'");
}

std::string RenderTokenFile(const Token& token, TokenFile file,
                            const RenderOptions& options) {
  if (file != TokenFile::kAll) return RenderSingleFile(token, file, options);
  std::string out;
  for (const auto& info : kFiles) {
    if (info.file == TokenFile::kAll) continue;
    if (!out.empty()) out += '\n';
    out += '[';
    out += info.name;
    out += "]\n";
    out += RenderSingleFile(token, info.file, options);
  }
  return out;
}

nlohmann::json QueryClassJson(const Token& token, QueryClass query_class,
                              const RenderOptions& options) {
  const QueryClassInfo& info = GetQueryClassInfo(query_class);
  json out;
  out["class"] = info.name;
  out["class_id"] = static_cast<uint32_t>(info.id);
  out["abi_name"] = info.abi_name;
  auto bytes = EncodeQueryPayload(token, query_class);
  if (bytes) {
    out["bytes_len"] = bytes->size();
    out["bytes_hex"] = FormatHexBytes(*bytes);
  } else {
    out["bytes_len"] = 0;
    out["bytes_hex"] = "";
    out["error"] = bytes.error().message;
  }
  out["decoded"] = DecodedJson(token, query_class, options);
  return out;
}

nlohmann::json AllClassesJson(const Token& token,
                              const RenderOptions& options) {
  json classes = json::object();
  for (const auto& info : QueryClassTable()) {
    classes[std::string(info.name)] = QueryClassJson(token, info.id, options);
  }
  json capabilities = json::array();
  for (const auto& capability : token.capabilities) {
    const auto name = CapabilityName(capability, options);
    capabilities.push_back(json{{"sid", capability.sid.ToString()},
                                {"name", name ? json(*name) : json(nullptr)}});
  }
  json extras;
  extras["restricted"] = token.is_restricted();
  extras["write_restricted"] = token.write_restricted;
  extras["user_deny_only"] = token.user_deny_only;
  extras["capabilities"] = std::move(capabilities);
  extras["security_sddl"] = FormatSddl(token.security, options.domain);
  extras["mandatory_policy"] = MandatoryPolicyNames(token.mandatory_policy);
  extras["parent_token_id"] = FormatLuid(token.parent_token_id);
  extras["created_ns"] = token.created_ns;
  extras["created"] = FormatTimestamp(token.created_ns);
  extras["projected_uid"] = token.projected_uid;
  extras["projected_gid"] = token.projected_gid;
  extras["audit_policy"] = token.audit_policy;
  extras["confinement_exempt"] = token.confinement_exempt;
  extras["isolation_boundary"] = token.isolation_boundary;
  extras["restricted_device_groups"] =
      token.restricted_device_groups
          ? SidListJson(*token.restricted_device_groups, options)
          : json(nullptr);
  return json{{"classes", std::move(classes)}, {"tokenfs", std::move(extras)}};
}

}  // namespace tokenfs
