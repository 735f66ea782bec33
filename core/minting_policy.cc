#include "core/minting_policy.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <utility>

#include "core/capability.h"
#include "core/privilege.h"
#include "core/strict_json.h"

namespace tokenfs {
namespace {

using nlohmann::json;
namespace cap = linux_capability;

// ---- The privilege <-> capability table ----
//
// Rows marked "switchboard" invert Peios' PRIVILEGE-mapped capabilities
// exactly; the others are tokenfs's choices (docs/policy.md gives reasons).
constexpr std::array<int, 2> kAssignPrimaryTokenCaps{cap::kSetuid,
                                                     cap::kSetgid};
constexpr std::array<int, 1> kLockMemoryCaps{cap::kIpcLock};  // switchboard
constexpr std::array<int, 1> kIncreaseQuotaCaps{
    cap::kSysResource};                // switchboard
constexpr std::array<int, 14> kTcbCaps{// switchboard
                                       cap::kLinuxImmutable,
                                       cap::kNetAdmin,
                                       cap::kNetRaw,
                                       cap::kSysRawio,
                                       cap::kSysChroot,
                                       cap::kSysPacct,
                                       cap::kSysAdmin,
                                       cap::kSysTtyConfig,
                                       cap::kMknod,
                                       cap::kSyslog,
                                       cap::kWakeAlarm,
                                       cap::kBlockSuspend,
                                       cap::kBpf,
                                       cap::kCheckpointRestore};
constexpr std::array<int, 3> kSecurityCaps{
    // switchboard
    cap::kAuditControl, cap::kMacAdmin, cap::kAuditRead};
constexpr std::array<int, 2> kTakeOwnershipCaps{cap::kChown, cap::kFowner};
constexpr std::array<int, 1> kLoadDriverCaps{cap::kSysModule};  // switchboard
constexpr std::array<int, 1> kSystemProfileCaps{cap::kPerfmon};
constexpr std::array<int, 1> kSystemtimeCaps{cap::kSysTime};  // switchboard
constexpr std::array<int, 1> kProfileSingleProcessCaps{
    cap::kPerfmon};  // switchboard
constexpr std::array<int, 1> kIncreaseBasePriorityCaps{
    cap::kSysNice};  // switchboard
constexpr std::array<int, 1> kCreatePagefileCaps{cap::kSysAdmin};
constexpr std::array<int, 1> kBackupCaps{cap::kDacReadSearch};
constexpr std::array<int, 1> kRestoreCaps{cap::kDacOverride};
constexpr std::array<int, 1> kShutdownCaps{cap::kSysBoot};  // switchboard
constexpr std::array<int, 1> kDebugCaps{cap::kSysPtrace};   // switchboard
constexpr std::array<int, 1> kAuditCaps{cap::kAuditWrite};  // switchboard
constexpr std::array<int, 1> kSystemEnvironmentCaps{cap::kSysAdmin};
constexpr std::array<int, 1> kRemoteShutdownCaps{cap::kSysBoot};
constexpr std::array<int, 1> kManageVolumeCaps{cap::kSysAdmin};
constexpr std::array<int, 1> kImpersonateCaps{cap::kSetuid};
constexpr std::array<int, 2> kRelabelCaps{cap::kMacAdmin, cap::kMacOverride};
constexpr std::array<int, 1> kTimeZoneCaps{cap::kSysTime};
constexpr std::array<int, 1> kBindPrivilegedPortCaps{
    cap::kNetBindService};  // switchboard

constexpr std::array<PrivilegeCapabilityMapping, 24> kMapping{{
    {privilege::kAssignPrimaryToken, kAssignPrimaryTokenCaps},
    {privilege::kLockMemory, kLockMemoryCaps},
    {privilege::kIncreaseQuota, kIncreaseQuotaCaps},
    {privilege::kTcb, kTcbCaps},
    {privilege::kSecurity, kSecurityCaps},
    {privilege::kTakeOwnership, kTakeOwnershipCaps},
    {privilege::kLoadDriver, kLoadDriverCaps},
    {privilege::kSystemProfile, kSystemProfileCaps},
    {privilege::kSystemtime, kSystemtimeCaps},
    {privilege::kProfileSingleProcess, kProfileSingleProcessCaps},
    {privilege::kIncreaseBasePriority, kIncreaseBasePriorityCaps},
    {privilege::kCreatePagefile, kCreatePagefileCaps},
    {privilege::kBackup, kBackupCaps},
    {privilege::kRestore, kRestoreCaps},
    {privilege::kShutdown, kShutdownCaps},
    {privilege::kDebug, kDebugCaps},
    {privilege::kAudit, kAuditCaps},
    {privilege::kSystemEnvironment, kSystemEnvironmentCaps},
    {privilege::kRemoteShutdown, kRemoteShutdownCaps},
    {privilege::kManageVolume, kManageVolumeCaps},
    {privilege::kImpersonate, kImpersonateCaps},
    {privilege::kRelabel, kRelabelCaps},
    {privilege::kTimeZone, kTimeZoneCaps},
    {privilege::kBindPrivilegedPort, kBindPrivilegedPortCaps},
}};

uint64_t CapabilityMask(std::span<const int> capabilities) {
  uint64_t mask = 0;
  for (int capability : capabilities) mask |= cap::Bit(capability);
  return mask;
}

uint64_t PrivilegeMask(std::initializer_list<int> bits) {
  uint64_t mask = 0;
  for (int bit : bits) mask |= privilege::Bit(bit);
  return mask;
}

constexpr uint64_t kChangeNotify = privilege::Bit(privilege::kChangeNotify);

// ---- Strict JSON reading (core/strict_json.h) ----

// 1-based line and column of the character at 1-based `position`.
std::pair<int, int> LineAndColumn(std::string_view text, size_t position) {
  const size_t index = std::min(position > 0 ? position - 1 : 0, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < index; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(index - line_start + 1)};
}

// nlohmann's message without its "[json.exception...] parse error at line
// L, column C: " prefix.
std::string SyntaxDetail(const std::string& what) {
  const size_t column = what.find("column ");
  if (column != std::string::npos) {
    const size_t colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  const size_t bracket = what.find("] ");
  if (bracket != std::string::npos) return what.substr(bracket + 2);
  return what;
}

tl::unexpected<Error> PathError(const std::string& path,
                                const std::string& problem) {
  return InvalidArgument("policy: " + (path.empty() ? "(top level)" : path) +
                         ": " + problem);
}

std::string Describe(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

std::string Key(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string Index(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

// Checks that `object` has only keys from `allowed`.
Status CheckKeys(const json& object, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string names;
      for (std::string_view name : allowed) {
        if (!names.empty()) names += ", ";
        names += name;
      }
      return PathError(
          Key(path, key),
          "unknown key '" + key + "' (expected one of: " + names + ")");
    }
  }
  return Ok();
}

Result<const json*> ObjectAt(const json& value, const std::string& path) {
  if (!value.is_object()) {
    return PathError(path, "expected an object, found " + Describe(value));
  }
  return &value;
}

Result<const json*> ArrayAt(const json& value, const std::string& path) {
  if (!value.is_array()) {
    return PathError(path, "expected an array, found " + Describe(value));
  }
  return &value;
}

Result<uint64_t> ParsePrivilegeList(const json& value,
                                    const std::string& path) {
  auto array = ArrayAt(value, path);
  if (!array) return tl::unexpected(array.error());
  uint64_t mask = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    if (!item.is_string()) {
      return PathError(Index(path, i),
                       "expected a privilege name, found " + Describe(item));
    }
    auto bit = ParsePrivilegeName(item.get<std::string>());
    if (!bit) return PathError(Index(path, i), bit.error().message);
    mask |= privilege::Bit(*bit);
  }
  return mask;
}

Result<uint32_t> ParseIntegritySetting(const json& value,
                                       const std::string& path) {
  if (value.is_number_unsigned()) {
    const auto rid = value.get<uint64_t>();
    if (rid > 0xffffffffu) return PathError(path, "integrity RID out of range");
    return static_cast<uint32_t>(rid);
  }
  if (!value.is_string()) {
    return PathError(path, "expected an integrity level name or RID, found " +
                               Describe(value));
  }
  auto rid = ParseIntegrityLevel(value.get<std::string>());
  if (!rid) return PathError(path, rid.error().message);
  return *rid;
}

Result<uint32_t> ParseMandatoryPolicyList(const json& value,
                                          const std::string& path) {
  auto array = ArrayAt(value, path);
  if (!array) return tl::unexpected(array.error());
  uint32_t policy = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    const std::string text = item.is_string() ? item.get<std::string>() : "";
    if (text == "no-write-up") {
      policy |= mandatory_policy::kNoWriteUp;
    } else if (text == "new-process-min") {
      policy |= mandatory_policy::kNewProcessMin;
    } else {
      return PathError(Index(path, i),
                       "expected \"no-write-up\" or \"new-process-min\"");
    }
  }
  return policy;
}

struct LogonTypeName {
  std::string_view name;
  LogonType type;
};
constexpr std::array<LogonTypeName, 6> kLogonTypeNames{{
    {"interactive", LogonType::kInteractive},
    {"network", LogonType::kNetwork},
    {"batch", LogonType::kBatch},
    {"service", LogonType::kService},
    {"network-cleartext", LogonType::kNetworkCleartext},
    {"new-credentials", LogonType::kNewCredentials},
}};

std::string_view LogonTypeKey(LogonType type) {
  for (const auto& entry : kLogonTypeNames) {
    if (entry.type == type) return entry.name;
  }
  return "interactive";
}

Result<LogonType> ParseLogonTypeSetting(const json& value,
                                        const std::string& path) {
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    for (const auto& entry : kLogonTypeNames) {
      if (text == entry.name) return entry.type;
    }
  }
  return PathError(path,
                   "expected one of interactive, network, batch, service, "
                   "network-cleartext, new-credentials");
}

std::string IntegrityKey(uint32_t rid) {
  auto name = IntegrityLevelName(rid);
  if (!name) return std::to_string(rid);
  std::string out(*name);
  for (char& c : out) {
    c = c == ' '
            ? '-'
            : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

json PrivilegeNames(uint64_t mask) {
  json out = json::array();
  for (const auto& info : PrivilegeCatalog()) {
    if (mask & privilege::Bit(info.bit)) out.push_back(info.short_name);
  }
  return out;
}

json MandatoryPolicyJson(uint32_t policy) {
  json out = json::array();
  if (policy & mandatory_policy::kNoWriteUp) out.push_back("no-write-up");
  if (policy & mandatory_policy::kNewProcessMin) {
    out.push_back("new-process-min");
  }
  return out;
}

// Reads every key of `document` over the defaults in `settings`.
Status ReadSettings(const json& document, MintingSettings& settings) {
  auto root = ObjectAt(document, "");
  if (!root) return tl::unexpected(root.error());
  if (auto status =
          CheckKeys(document, "",
                    {"version", "baseline_privileges", "integrity",
                     "mandatory_policy", "token_user_access", "capabilities",
                     "logon_type", "elevation", "no_new_privs"});
      !status) {
    return status;
  }
  if (document.contains("version")) {
    const json& version = document["version"];
    if (!version.is_number_integer() || version.get<int64_t>() != 1) {
      return PathError("version", "unsupported policy version (expected 1)");
    }
  }
  if (document.contains("baseline_privileges")) {
    const json& baseline = document["baseline_privileges"];
    auto object = ObjectAt(baseline, "baseline_privileges");
    if (!object) return tl::unexpected(object.error());
    if (auto status =
            CheckKeys(baseline, "baseline_privileges", {"present", "enabled"});
        !status) {
      return status;
    }
    if (baseline.contains("present")) {
      auto mask = ParsePrivilegeList(baseline["present"],
                                     "baseline_privileges.present");
      if (!mask) return tl::unexpected(mask.error());
      settings.baseline_present = *mask;
    }
    if (baseline.contains("enabled")) {
      auto mask = ParsePrivilegeList(baseline["enabled"],
                                     "baseline_privileges.enabled");
      if (!mask) return tl::unexpected(mask.error());
      settings.baseline_enabled = *mask;
    }
  }
  if (document.contains("integrity")) {
    auto rid = ParseIntegritySetting(document["integrity"], "integrity");
    if (!rid) return tl::unexpected(rid.error());
    settings.integrity_rid = *rid;
  }
  if (document.contains("mandatory_policy")) {
    auto policy = ParseMandatoryPolicyList(document["mandatory_policy"],
                                           "mandatory_policy");
    if (!policy) return tl::unexpected(policy.error());
    settings.mandatory_policy = *policy;
  }
  if (document.contains("token_user_access")) {
    const json& value = document["token_user_access"];
    if (value.is_number_unsigned() && value.get<uint64_t>() <= 0xffffffffu) {
      settings.token_user_access =
          AccessMask(static_cast<uint32_t>(value.get<uint64_t>()));
    } else if (value.is_string()) {
      auto mask = ParseTokenRights(value.get<std::string>());
      if (!mask) return PathError("token_user_access", mask.error().message);
      settings.token_user_access = *mask;
    } else {
      return PathError("token_user_access",
                       "expected token rights such as \"QUERY|DUPLICATE\" or "
                       "a 32-bit number, found " +
                           Describe(value));
    }
  }
  if (document.contains("capabilities")) {
    const json& value = document["capabilities"];
    if (value.is_string() && value.get<std::string>() == "full") {
      settings.capabilities.reset();
    } else if (value.is_array()) {
      std::vector<std::string> names;
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
          return PathError(
              Index("capabilities", i),
              "expected a capability name, found " + Describe(value[i]));
        }
        names.push_back(value[i].get<std::string>());
      }
      settings.capabilities = std::move(names);
    } else {
      return PathError("capabilities",
                       "expected \"full\" or an array of capability names");
    }
  }
  if (document.contains("logon_type")) {
    const json& logon = document["logon_type"];
    auto object = ObjectAt(logon, "logon_type");
    if (!object) return tl::unexpected(object.error());
    if (auto status = CheckKeys(logon, "logon_type",
                                {"terminal", "session", "no_session"});
        !status) {
      return status;
    }
    const std::pair<const char*, LogonType*> fields[] = {
        {"terminal", &settings.terminal_logon_type},
        {"session", &settings.session_logon_type},
        {"no_session", &settings.no_session_logon_type},
    };
    for (const auto& [name, target] : fields) {
      if (!logon.contains(name)) continue;
      auto type = ParseLogonTypeSetting(logon[name], Key("logon_type", name));
      if (!type) return tl::unexpected(type.error());
      *target = *type;
    }
  }
  if (document.contains("elevation")) {
    const json& elevation = document["elevation"];
    auto object = ObjectAt(elevation, "elevation");
    if (!object) return tl::unexpected(object.error());
    if (auto status = CheckKeys(elevation, "elevation",
                                {"admin_groups", "limited_removed_privileges",
                                 "full_privileges", "full_integrity"});
        !status) {
      return status;
    }
    if (elevation.contains("admin_groups")) {
      const json& groups = elevation["admin_groups"];
      auto array = ArrayAt(groups, "elevation.admin_groups");
      if (!array) return tl::unexpected(array.error());
      settings.admin_group_names.clear();
      settings.admin_gids.clear();
      for (size_t i = 0; i < groups.size(); ++i) {
        const json& item = groups[i];
        if (item.is_string() && !item.get<std::string>().empty()) {
          settings.admin_group_names.push_back(item.get<std::string>());
        } else if (item.is_number_unsigned() &&
                   item.get<uint64_t>() <= 0xffffffffu) {
          settings.admin_gids.push_back(
              static_cast<uint32_t>(item.get<uint64_t>()));
        } else {
          return PathError(Index("elevation.admin_groups", i),
                           "expected a group name or a gid number");
        }
      }
    }
    if (elevation.contains("limited_removed_privileges")) {
      auto mask = ParsePrivilegeList(elevation["limited_removed_privileges"],
                                     "elevation.limited_removed_privileges");
      if (!mask) return tl::unexpected(mask.error());
      settings.limited_removed_privileges = *mask;
    }
    if (elevation.contains("full_privileges")) {
      auto mask = ParsePrivilegeList(elevation["full_privileges"],
                                     "elevation.full_privileges");
      if (!mask) return tl::unexpected(mask.error());
      settings.full_privileges = *mask;
    }
    if (elevation.contains("full_integrity")) {
      auto rid = ParseIntegritySetting(elevation["full_integrity"],
                                       "elevation.full_integrity");
      if (!rid) return tl::unexpected(rid.error());
      settings.full_integrity_rid = *rid;
    }
  }
  if (document.contains("no_new_privs")) {
    const json& nnp = document["no_new_privs"];
    auto object = ObjectAt(nnp, "no_new_privs");
    if (!object) return tl::unexpected(object.error());
    if (auto status = CheckKeys(nnp, "no_new_privs",
                                {"add_mandatory_policy", "allow_elevation"});
        !status) {
      return status;
    }
    if (nnp.contains("add_mandatory_policy")) {
      auto policy = ParseMandatoryPolicyList(
          nnp["add_mandatory_policy"], "no_new_privs.add_mandatory_policy");
      if (!policy) return tl::unexpected(policy.error());
      settings.no_new_privs_mandatory_policy = *policy;
    }
    if (nnp.contains("allow_elevation")) {
      if (!nnp["allow_elevation"].is_boolean()) {
        return PathError("no_new_privs.allow_elevation",
                         "expected true or false, found " +
                             Describe(nnp["allow_elevation"]));
      }
      settings.no_new_privs_allow_elevation =
          nnp["allow_elevation"].get<bool>();
    }
  }
  return Ok();
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

std::span<const PrivilegeCapabilityMapping> PrivilegeCapabilityTable() {
  return kMapping;
}

uint64_t CapabilitiesForPrivilege(int privilege_bit) {
  for (const auto& row : kMapping) {
    if (row.privilege_bit == privilege_bit) {
      return CapabilityMask(row.capabilities);
    }
  }
  return 0;
}

uint64_t PrivilegesForCapabilities(uint64_t capabilities) {
  uint64_t privileges = 0;
  for (const auto& row : kMapping) {
    if (CapabilityMask(row.capabilities) & capabilities) {
      privileges |= privilege::Bit(row.privilege_bit);
    }
  }
  return privileges;
}

uint64_t UnmappedPrivileges() {
  uint64_t mask = privilege::kCatalogMask & ~kChangeNotify;
  for (const auto& row : kMapping) mask &= ~privilege::Bit(row.privilege_bit);
  return mask;
}

uint64_t CapabilitiesToDrop(uint64_t present_privileges) {
  uint64_t drop = 0;
  for (const auto& row : kMapping) {
    if (!(present_privileges & privilege::Bit(row.privilege_bit))) {
      drop |= CapabilityMask(row.capabilities);
    }
  }
  return drop;
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
  // A policy file is the administrator's: its nesting is not bounded.
  auto root = ReadStrictJson(json_text, SIZE_MAX);
  if (!root) {
    const StrictJsonError& error = root.error();
    if (error.kind == StrictJsonError::Kind::kRepeatedKey) {
      return InvalidArgument("policy: " + JsonChildPath(error.path, error.key) +
                             ": duplicate key '" + error.key + "'");
    }
    const auto [line, column] = LineAndColumn(json_text, error.position);
    return InvalidArgument(
        "policy: syntax error at line " + std::to_string(line) + ", column " +
            std::to_string(column) + ": " + SyntaxDetail(error.what),
        column);
  }
  MintingSettings settings = Default().settings();
  if (auto status = ReadSettings(*root, settings); !status) {
    return tl::unexpected(status.error());
  }
  return Create(std::move(settings));
}

nlohmann::json MintingPolicy::ToJson() const {
  const MintingSettings& s = settings_;
  json admin_groups = json::array();
  for (const auto& name : s.admin_group_names) admin_groups.push_back(name);
  for (uint32_t gid : s.admin_gids) admin_groups.push_back(gid);
  json capabilities = s.capabilities ? json(*s.capabilities) : json("full");
  return json{
      {"version", 1},
      {"baseline_privileges",
       {{"present", PrivilegeNames(s.baseline_present)},
        {"enabled", PrivilegeNames(s.baseline_enabled)}}},
      {"integrity", IntegrityKey(s.integrity_rid)},
      {"mandatory_policy", MandatoryPolicyJson(s.mandatory_policy)},
      {"token_user_access", FormatTokenRights(s.token_user_access)},
      {"capabilities", std::move(capabilities)},
      {"logon_type",
       {{"terminal", LogonTypeKey(s.terminal_logon_type)},
        {"session", LogonTypeKey(s.session_logon_type)},
        {"no_session", LogonTypeKey(s.no_session_logon_type)}}},
      {"elevation",
       {{"admin_groups", std::move(admin_groups)},
        {"limited_removed_privileges",
         PrivilegeNames(s.limited_removed_privileges)},
        {"full_privileges", PrivilegeNames(s.full_privileges)},
        {"full_integrity", IntegrityKey(s.full_integrity_rid)}}},
      {"no_new_privs",
       {{"add_mandatory_policy",
         MandatoryPolicyJson(s.no_new_privs_mandatory_policy)},
        {"allow_elevation", s.no_new_privs_allow_elevation}}},
  };
}

HeldCapabilities CapabilitiesThatCount(const LinuxCredentials& credentials) {
  if (!credentials.initial_user_namespace) return {};
  return {credentials.cap_permitted,
          credentials.cap_effective & credentials.cap_permitted};
}

bool HoldsCapability(const LinuxCredentials& credentials, int capability) {
  return (CapabilitiesThatCount(credentials).effective >> capability) & 1;
}

Result<MintedIdentity> MintingPolicy::Mint(const LinuxCredentials& credentials,
                                           const MintContext& context) const {
  const MintingSettings& s = settings_;
  const bool root = credentials.effective_uid == 0;

  // Groups first: the only input that can be too large.
  std::vector<uint32_t> gids;
  AddUnique(gids, credentials.effective_gid);
  for (uint32_t gid : credentials.supplementary_gids) AddUnique(gids, gid);

  bool admin = false;
  if (!root) {
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
  // Unix groups, Everyone, Authenticated Users, Users, Local, Interactive,
  // Administrators, logon SID.
  const size_t group_count = root ? 5
                                  : gids.size() + 5 +
                                        (credentials.has_terminal ? 1 : 0) +
                                        (admin ? 1 : 0);
  if (group_count > Token::kMaxGroups) {
    return MakeError(ErrorCode::kResourceExhausted,
                     std::to_string(gids.size()) +
                         " Linux groups exceed the token limit of " +
                         std::to_string(Token::kMaxGroups) + " groups");
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
  token.source = TokenSource::Make(kMintSourceName, kMintSourceId);
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
    token.default_dacl = std::move(dacl);
  } else {
    token.user = well_known::UnixUser(credentials.effective_uid);
    for (uint32_t gid : gids) {
      token.groups.push_back({well_known::UnixGroup(gid), kGroupDefault});
    }
    token.groups.push_back({well_known::Everyone(), kGroupDefault});
    token.groups.push_back({well_known::AuthenticatedUsers(), kGroupDefault});
    token.groups.push_back({well_known::Users(), kGroupDefault});
    token.groups.push_back({well_known::Local(), kGroupDefault});
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
    token.default_dacl = std::move(dacl);
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
  token.security.SetDacl(std::move(security_dacl));

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
    full.groups[full.groups.size() - 2].attributes = kGroupOwner;
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
