#include "core/minting_policy_json.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "core/capability.h"
#include "core/privilege.h"
#include "core/strict_json.h"

namespace tokenfs {
namespace {

using nlohmann::json;

auto PathError(const std::string& path, const std::string& problem) {
  return InvalidArgument(PolicySettingMessage(path, problem));
}

// Checks that `object` has only keys from `allowed`.
Status CheckKeys(const json& object, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  const std::string unknown = JsonUnknownKeyMessage(
      object,
      std::span<const std::string_view>(allowed.begin(), allowed.size()));
  if (!unknown.empty()) return PathError(path, unknown);
  return Ok();
}

Result<const json*> ObjectAt(const json& value, const std::string& path) {
  if (!value.is_object()) {
    return PathError(path, JsonWrongTypeMessage("an object", value));
  }
  return &value;
}

Result<const json*> ArrayAt(const json& value, const std::string& path) {
  if (!value.is_array()) {
    return PathError(path, JsonWrongTypeMessage("an array", value));
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
      return PathError(JsonElementPath(path, i),
                       JsonWrongTypeMessage("a privilege name", item));
    }
    auto bit = ParsePrivilegeName(item.get<std::string>());
    if (!bit) return PathError(JsonElementPath(path, i), bit.error().message);
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
    return PathError(
        path, JsonWrongTypeMessage("an integrity level name or RID", value));
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
      return PathError(JsonElementPath(path, i),
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

// Reads a whole number in [low, high] at `path`.
Result<uint32_t> BoundedNumber(const json& value, const std::string& path,
                               uint32_t low, uint32_t high) {
  const std::string wanted = "a whole number from " + std::to_string(low) +
                             " to " + std::to_string(high);
  if (!value.is_number_integer()) {
    return PathError(path, JsonWrongTypeMessage(wanted, value));
  }
  const bool negative = value.is_number_integer() &&
                        !value.is_number_unsigned() && value.get<int64_t>() < 0;
  if (negative || value.get<uint64_t>() < low || value.get<uint64_t>() > high) {
    return PathError(path, "expected " + wanted + ", found " + value.dump());
  }
  return static_cast<uint32_t>(value.get<uint64_t>());
}

// The "directory" object (docs/policy.md §1.6).
Status ReadDirectory(const json& directory, MintingSettings& settings) {
  auto object = ObjectAt(directory, "directory");
  if (!object) return tl::unexpected(object.error());
  if (auto status = CheckKeys(
          directory, "directory",
          {"source", "cache_seconds", "deadline_ms", "cache_entries"});
      !status) {
    return status;
  }
  if (directory.contains("source")) {
    const json& source = directory["source"];
    if (source == "winbind") {
      settings.directory_enabled = true;
    } else if (source == "none") {
      settings.directory_enabled = false;
    } else {
      return PathError(
          "directory.source",
          source.is_string()
              ? "unknown source " + source.dump() +
                    " (expected \"winbind\" or \"none\")"
              : JsonWrongTypeMessage("\"winbind\" or \"none\"", source));
    }
  }
  struct Bounded {
    const char* key;
    uint32_t low, high;
    uint32_t MintingSettings::*field;
  };
  for (const Bounded& bounded :
       {Bounded{"cache_seconds", 1, 86400,
                &MintingSettings::directory_cache_seconds},
        Bounded{"deadline_ms", 1, 10000,
                &MintingSettings::directory_deadline_ms},
        Bounded{"cache_entries", 16, 1u << 20,
                &MintingSettings::directory_cache_entries}}) {
    if (!directory.contains(bounded.key)) continue;
    auto number = BoundedNumber(directory[bounded.key],
                                std::string("directory.") + bounded.key,
                                bounded.low, bounded.high);
    if (!number) return tl::unexpected(number.error());
    settings.*bounded.field = *number;
  }
  return Ok();
}

// Reads every key of `document` over the defaults in `settings`.
Status ReadSettings(const json& document, MintingSettings& settings) {
  auto root = ObjectAt(document, "");
  if (!root) return tl::unexpected(root.error());
  if (auto status = CheckKeys(
          document, "",
          {"version", "baseline_privileges", "integrity", "mandatory_policy",
           "token_user_access", "capabilities", "logon_type", "elevation",
           "no_new_privs", "domain_sid", "directory"});
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
                       JsonWrongTypeMessage("token rights such as "
                                            "\"QUERY|DUPLICATE\" or a 32-bit "
                                            "number",
                                            value));
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
          return PathError(JsonElementPath("capabilities", i),
                           JsonWrongTypeMessage("a capability name", value[i]));
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
      auto type =
          ParseLogonTypeSetting(logon[name], JsonChildPath("logon_type", name));
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
          return PathError(JsonElementPath("elevation.admin_groups", i),
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
  if (document.contains("domain_sid")) {
    const json& value = document["domain_sid"];
    if (value.is_null()) {
      settings.domain_sid.reset();
    } else if (value.is_string()) {
      auto sid = ParseDomainSid(value.get<std::string>());
      if (!sid) return PathError("domain_sid", sid.error().message);
      settings.domain_sid = *sid;
    } else {
      return PathError("domain_sid",
                       JsonWrongTypeMessage("a domain SID S-1-5-21-a-b-c or "
                                            "null",
                                            value));
    }
  }
  if (document.contains("directory")) {
    if (auto status = ReadDirectory(document["directory"], settings); !status) {
      return status;
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
        return PathError(
            "no_new_privs.allow_elevation",
            JsonWrongTypeMessage("true or false", nnp["allow_elevation"]));
      }
      settings.no_new_privs_allow_elevation =
          nnp["allow_elevation"].get<bool>();
    }
  }
  return Ok();
}

}  // namespace

std::string PolicySettingMessage(const std::string& path,
                                 const std::string& problem) {
  return "policy: " + JsonAtPath(path, problem);
}

Result<MintingSettings> ReadMintingSettings(std::string_view json_text,
                                            MintingSettings defaults) {
  // A policy file is the administrator's: its nesting is not bounded.
  auto root = ReadStrictJson(json_text, SIZE_MAX);
  if (!root) {
    const StrictJsonError& error = root.error();
    // The column of a syntax error is its column in its line.
    return InvalidArgument(
        "policy: " + JsonReadErrorMessage(error, json_text, SIZE_MAX),
        error.kind == StrictJsonError::Kind::kSyntax
            ? JsonLineAndColumn(json_text, error.position).second
            : 0);
  }
  MintingSettings settings = std::move(defaults);
  if (auto status = ReadSettings(*root, settings); !status) {
    return tl::unexpected(status.error());
  }
  return settings;
}

json MintingSettingsToJson(const MintingSettings& s) {
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
      {"domain_sid",
       s.domain_sid ? json(s.domain_sid->ToString()) : json(nullptr)},
      {"directory",
       {{"source", s.directory_enabled ? "winbind" : "none"},
        {"cache_seconds", s.directory_cache_seconds},
        {"deadline_ms", s.directory_deadline_ms},
        {"cache_entries", s.directory_cache_entries}}},
  };
}

}  // namespace tokenfs
