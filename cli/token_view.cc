#include "cli/token_view.h"

#include <algorithm>
#include <utility>

#include "cli/process_status.h"
#include "cli/text.h"
#include "core/ascii.h"
#include "core/linux_capability_names.h"
#include "core/minting_policy.h"
#include "core/number.h"
#include "core/privilege.h"
#include "core/privilege_capability_table.h"
#include "core/sid.h"
#include "core/sid_type.h"

namespace tokenfs::cli {
namespace {

const Json& Null() {
  static const Json* const kNull = new Json();
  return *kNull;
}

const Json& Array(const Json& object, std::string_view key) {
  const Json& value = Member(object, key);
  static const Json* const kEmpty = new Json(Json::array());
  return value.is_array() ? value : *kEmpty;
}

bool Flag(const Json& object, std::string_view key) {
  const Json& value = Member(object, key);
  return value.is_boolean() && value.get<bool>();
}

// "-" for an empty text, so a row never loses its value column.
std::string OrDash(std::string text) { return text.empty() ? "-" : text; }

// The "name" of a typed value ({"value", "name"}), else its number.
std::string TypedText(const Json& typed) {
  std::string name = Text(Member(typed, "name"));
  if (!name.empty()) return name;
  return OrDash(Text(Member(typed, "value")));
}

std::string Count(const Json& array) {
  return std::to_string(array.is_array() ? array.size() : 0);
}

// Keys of a SID list: the index right-aligned to the widest index, two
// spaces, the SID.
std::vector<std::string> IndexedSidKeys(const Json& entries, SidStyle style) {
  size_t width = 1;
  for (const Json& entry : entries) {
    width = std::max(width, Text(Member(entry, "index")).size());
  }
  std::vector<std::string> keys;
  for (const Json& entry : entries) {
    std::string index = Text(Member(entry, "index"));
    if (index.size() < width) index.insert(0, width - index.size(), ' ');
    keys.push_back(index + "  " + SidText(entry, style));
  }
  return keys;
}

void AddSidListSection(const std::string& title, const Json& entries,
                       View& view) {
  view.lines.Section(title + " (" + Count(entries) + ")");
  const std::vector<std::string> keys = IndexedSidKeys(entries, view.style);
  for (size_t i = 0; i < keys.size(); ++i) {
    view.lines.Row(keys[i], AttributeText(entries[i]));
  }
}

std::string PolicyText(const Json& policy) {
  std::vector<std::string> flags;
  for (const Json& flag : Array(policy, "flags")) flags.push_back(Text(flag));
  return flags.empty() ? "none" : Join(flags, ", ");
}

std::string RestrictedText(const Json& tokenfs) {
  if (Flag(tokenfs, "write_restricted")) return "write-restricted";
  return Flag(tokenfs, "restricted") ? "yes" : "no";
}

std::string ClaimValueText(const Json& claim, SidStyle style) {
  const std::string type = Text(Member(claim, "type"));
  std::vector<std::string> values;
  for (const Json& value : Array(claim, "values")) {
    if (value.is_object()) {
      values.push_back(SidText(value, style));
    } else if (value.is_boolean()) {
      values.push_back(value.get<bool>() ? "true" : "false");
    } else if (value.is_string() && type == "string") {
      values.push_back(QuoteForDisplay(value.get<std::string>()));
    } else {
      values.push_back(Text(value));
    }
  }
  std::vector<std::string> flags;
  for (const Json& flag : Array(claim, "flags")) flags.push_back(Text(flag));
  std::string text = OrDash(type);
  if (!flags.empty()) text += " (" + Join(flags, ", ") + ")";
  text += ": " + Join(values, ", ");
  return text;
}

std::string GidsText(const Json& gids) {
  std::vector<std::string> parts;
  for (const Json& gid : gids) parts.push_back(Text(gid));
  return parts.empty() ? "none" : Join(parts, ", ");
}

Json StatisticsJson(const TokenData& token) {
  const Json& statistics = token.Decoded("statistics");
  const Json& tokenfs = token.Tokenfs();
  Json json = Json::object();
  json["token_id"] = Member(statistics, "token_id");
  json["authentication_id"] = Member(statistics, "authentication_id");
  json["modified_id"] = Member(statistics, "modified_id");
  json["parent_token_id"] = Member(tokenfs, "parent_token_id");
  json["type"] = token.Decoded("type");
  json["impersonation_level"] = token.Decoded("impersonationlevel");
  json["expiration"] = Member(statistics, "expiration");
  json["expiration_ns"] = Member(statistics, "expiration_ns");
  json["created"] = Member(tokenfs, "created");
  json["created_ns"] = Member(tokenfs, "created_ns");
  json["group_count"] = Array(token.Decoded("groups"), "groups").size();
  json["privilege_count"] =
      Array(token.Decoded("privileges"), "privileges").size();
  json["restricted_sid_count"] =
      Array(token.Decoded("restrictedsids"), "restricted_sids").size();
  json["capability_count"] =
      Array(token.Decoded("capabilities"), "capabilities").size();
  return json;
}

Json RestrictedJson(const TokenData& token) {
  const Json& tokenfs = token.Tokenfs();
  Json json = Json::object();
  json["restricted"] = Flag(tokenfs, "restricted");
  json["write_restricted"] = Flag(tokenfs, "write_restricted");
  json["user_deny_only"] = Flag(tokenfs, "user_deny_only");
  json["sids"] = Array(token.Decoded("restrictedsids"), "restricted_sids");
  return json;
}

std::string DefaultDaclText(const Json& dacl) {
  const std::string sddl = Text(Member(dacl, "sddl"));
  return sddl.empty() ? "none" : sddl;
}

}  // namespace

const Json& Member(const Json& object, std::string_view key) {
  if (!object.is_object()) return Null();
  const auto found = object.find(key);
  return found == object.end() ? Null() : *found;
}

std::string Text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  return "";
}

std::string SidText(const Json& sid_object, SidStyle style) {
  const std::string sid = Text(Member(sid_object, "sid"));
  if (sid.empty()) return "-";
  const std::string label = Text(Member(sid_object, "label"));
  if (label.empty()) return sid;
  switch (style) {
    case SidStyle::kLabeled:
      return label + " (" + sid + ")";
    case SidStyle::kRaw:
      return sid;
    case SidStyle::kLabelOnly:
      return label;
  }
  return sid;
}

Json Restyle(const Json& document, SidStyle style) {
  if (document.is_array()) {
    Json copy = Json::array();
    for (const Json& item : document) copy.push_back(Restyle(item, style));
    return copy;
  }
  if (!document.is_object()) return document;
  Json copy = Json::object();
  for (auto it = document.begin(); it != document.end(); ++it) {
    copy[it.key()] = Restyle(it.value(), style);
  }
  if (Member(document, "sid").is_string()) {
    copy["display"] = SidText(document, style);
  }
  return copy;
}

std::string FormatJson(const Json& document) {
  return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

CliResult<Json> ParseDaemonJson(std::string_view text,
                                const std::string& what) {
  Json document = Json::parse(text, nullptr, false);
  if (document.is_discarded()) {
    return Fail(exit_status::kFailure,
                "tokenfs returned unreadable JSON for " + what);
  }
  return document;
}

CliResult<TokenData> TokenData::FromAll(std::string_view text,
                                        const std::string& label) {
  auto document = ParseDaemonJson(text, label);
  if (!document) return tl::unexpected(document.error());
  TokenData data;
  const Json& classes = Member(*document, "classes");
  if (classes.is_object()) data.classes_ = classes;
  data.tokenfs_ = Member(*document, "tokenfs");
  return data;
}

CliResult<TokenData> TokenData::Load(const Mount& mount,
                                     const ResolvedTarget& target,
                                     std::span<const std::string_view> classes,
                                     bool need_all) {
  if (need_all) {
    auto text = mount.Read(target, "query/all", kReadOperation);
    if (!text) return tl::unexpected(text.error());
    return FromAll(*text, target.label);
  }
  TokenData data;
  for (const std::string_view name : classes) {
    auto text =
        mount.Read(target, "query/" + std::string(name), kReadOperation);
    if (!text) return tl::unexpected(text.error());
    auto document = ParseDaemonJson(*text, target.label);
    if (!document) return tl::unexpected(document.error());
    data.classes_[std::string(name)] = std::move(*document);
  }
  return data;
}

const Json& TokenData::Decoded(std::string_view name) const {
  return Member(Member(classes_, name), "decoded");
}

std::string AttributeText(const Json& entry) {
  std::vector<std::string> labels;
  for (const Json& label : Array(entry, "attributes")) {
    labels.push_back(Text(label));
  }
  return Join(labels, ", ");
}

std::string PrivilegeStateText(const Json& privilege) {
  std::string text = Flag(privilege, "enabled") ? "enabled" : "disabled";
  if (Flag(privilege, "enabled_by_default")) text += ", default";
  if (Flag(privilege, "used")) text += ", used";
  return text;
}

std::string PrivilegeName(const Json& privilege) {
  std::string name = Text(Member(privilege, "name"));
  if (!name.empty()) return name;
  return "<privilege bit " + Text(Member(privilege, "bit")) + ">";
}

void AddPrincipalPart(const TokenData& token, View& view) {
  const Json& tokenfs = token.Tokenfs();
  const Json& appcontainer = token.Decoded("appcontainersid");
  view.lines.Section("token");
  view.lines.Row("user", SidText(token.Decoded("user"), view.style));
  view.lines.Row("owner", SidText(token.Decoded("owner"), view.style));
  view.lines.Row("primary_group",
                 SidText(token.Decoded("primarygroup"), view.style));
  view.lines.Row("type", TypedText(token.Decoded("type")));
  view.lines.Row("impersonation_level",
                 TypedText(token.Decoded("impersonationlevel")));
  view.lines.Row("elevation_type", TypedText(token.Decoded("elevationtype")));
  view.lines.Row("integrity", SidText(token.Decoded("integrity"), view.style));
  view.lines.Row(
      "interactivity_scope",
      OrDash(Text(Member(token.Decoded("interactivity-scope"), "value"))));
  view.lines.Row(
      "authentication_id",
      OrDash(Text(Member(token.Decoded("statistics"), "authentication_id"))));
  view.lines.Row("restricted", RestrictedText(tokenfs));
  view.lines.Row("user_deny_only",
                 Flag(tokenfs, "user_deny_only") ? "yes" : "no");
  view.lines.Row("appcontainer", appcontainer.is_object()
                                     ? SidText(appcontainer, view.style)
                                     : "none");
  view.json["user"] = token.Decoded("user");
  view.json["owner"] = token.Decoded("owner");
  view.json["primary_group"] = token.Decoded("primarygroup");
  view.json["type"] = token.Decoded("type");
  view.json["impersonation_level"] = token.Decoded("impersonationlevel");
  view.json["elevation_type"] = token.Decoded("elevationtype");
  view.json["integrity"] = token.Decoded("integrity");
  view.json["interactivity_scope"] =
      Member(token.Decoded("interactivity-scope"), "value");
  view.json["authentication_id"] =
      Member(token.Decoded("statistics"), "authentication_id");
  view.json["restricted"] = RestrictedJson(token);
  view.json["appcontainer"] = appcontainer;
}

void AddIntegrityPart(const TokenData& token, View& view) {
  const Json& policy = token.Decoded("mandatorypolicy");
  view.lines.Section("integrity");
  view.lines.Row("level", SidText(token.Decoded("integrity"), view.style));
  view.lines.Row("mandatory_policy", PolicyText(policy));
  view.json["integrity"] = token.Decoded("integrity");
  view.json["mandatory_policy"] = policy;
}

void AddGroupsPart(const TokenData& token, View& view) {
  const Json& groups = Array(token.Decoded("groups"), "groups");
  AddSidListSection("groups", groups, view);
  view.json["groups"] = groups;
}

void AddGroupsTypedPart(const TokenData& token, View& view) {
  const Json& groups = Array(token.Decoded("groups"), "groups");
  view.lines.Section("groups (" + Count(groups) + ")");
  const std::vector<std::string> keys = IndexedSidKeys(groups, view.style);
  std::vector<std::string> types;
  size_t width = 0;
  for (const Json& group : groups) {
    const auto sid = Sid::Parse(Text(Member(group, "sid")));
    types.emplace_back(sid ? SidTypeName(SidTypeOf(*sid)) : "-");
    width = std::max(width, types.back().size());
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    view.lines.Row(keys[i], types[i] + std::string(width - types[i].size(), ' ') +
                                "  " + AttributeText(groups[i]));
  }
  view.json["groups"] = groups;
}

void AddPrivilegesPart(const TokenData& token, View& view) {
  const Json& decoded = token.Decoded("privileges");
  const Json& privileges = Array(decoded, "privileges");
  view.lines.Section("privileges (" + Count(privileges) + ")");
  for (const Json& privilege : privileges) {
    view.lines.Row(PrivilegeName(privilege), PrivilegeStateText(privilege));
  }
  view.json["privileges"] = privileges;
  view.json["privileges_raw"] = Member(decoded, "raw");
}

void AddPrivilegesVerbosePart(const TokenData& token, View& view) {
  // Each row as AddPrivilegesPart prints it, then what the privilege allows
  // and the Linux capabilities that give it to a minted token
  // (docs/policy.md, section 1.3).
  const Json& decoded = token.Decoded("privileges");
  const Json& privileges = Array(decoded, "privileges");
  view.lines.Section("privileges (" + Count(privileges) + ")");
  Json described = Json::array();
  for (const Json& privilege : privileges) {
    view.lines.Row(PrivilegeName(privilege), PrivilegeStateText(privilege));
    const Json& bit_value = Member(privilege, "bit");
    const int bit = bit_value.is_number_integer() ? bit_value.get<int>() : -1;
    const PrivilegeInfo* info = FindPrivilege(bit);
    const uint64_t mask = bit >= 0 ? CapabilitiesForPrivilege(bit) : 0;
    Json names = Json::array();
    for (int capability = 0; capability < 64; ++capability) {
      if ((mask >> capability & 1) != 0) {
        names.push_back(LinuxCapabilityList(uint64_t{1} << capability));
      }
    }
    std::string detail = info ? std::string(info->description) : "";
    detail += std::string(detail.empty() ? "" : "; ") + "Linux: " +
              (mask != 0 ? LinuxCapabilityList(mask) : "no capability");
    view.lines.Detail(detail);
    Json entry = privilege;
    entry["description"] = info ? Json(info->description) : Json(nullptr);
    entry["linux_capabilities"] = std::move(names);
    described.push_back(std::move(entry));
  }
  view.json["privileges"] = std::move(described);
  view.json["privileges_raw"] = Member(decoded, "raw");
}

void AddRestrictedPart(const TokenData& token, View& view) {
  const Json& sids = Array(token.Decoded("restrictedsids"), "restricted_sids");
  AddSidListSection("restricted sids", sids, view);
  view.json["restricted"] = RestrictedJson(token);
}

void AddDeviceGroupsPart(const TokenData& token, View& view) {
  const Json& groups = Array(token.Decoded("devicegroups"), "device_groups");
  AddSidListSection("device groups", groups, view);
  view.json["device_groups"] = groups;
}

void AddCapabilitiesPart(const TokenData& token, View& view) {
  const Json& capabilities =
      Array(token.Decoded("capabilities"), "capabilities");
  view.lines.Section("capabilities (" + Count(capabilities) + ")");
  for (const Json& capability : capabilities) {
    view.lines.Row(OrDash(Text(Member(capability, "name"))),
                   OrDash(Text(Member(capability, "sid"))));
  }
  view.json["capabilities"] = capabilities;
}

void AddClaimsPart(const TokenData& token, View& view) {
  const Json& user = Array(token.Decoded("userclaims"), "claims");
  const Json& device = Array(token.Decoded("deviceclaims"), "claims");
  view.lines.Section("user claims (" + Count(user) + ")");
  for (const Json& claim : user) {
    view.lines.Row(OrDash(Text(Member(claim, "name"))),
                   ClaimValueText(claim, view.style));
  }
  view.lines.Section("device claims (" + Count(device) + ")");
  for (const Json& claim : device) {
    view.lines.Row(OrDash(Text(Member(claim, "name"))),
                   ClaimValueText(claim, view.style));
  }
  view.json["user_claims"] = user;
  view.json["device_claims"] = device;
}

void AddLogonPart(const TokenData& token, View& view) {
  const Json& authentication_id =
      Member(token.Decoded("statistics"), "authentication_id");
  const Json& origin = Member(token.Decoded("origin"), "origin");
  view.lines.Section("logon");
  view.lines.Row("logon_type", TypedText(token.Decoded("logontype")));
  view.lines.Row("logon_sid", SidText(token.Decoded("logonsid"), view.style));
  view.lines.Row("authentication_id", OrDash(Text(authentication_id)));
  view.lines.Row("origin", OrDash(Text(origin)));
  Json logon = Json::object();
  logon["logon_type"] = token.Decoded("logontype");
  logon["logon_sid"] = token.Decoded("logonsid");
  logon["authentication_id"] = authentication_id;
  logon["origin"] = origin;
  view.json["logon"] = std::move(logon);
}

void AddSourcePart(const TokenData& token, View& view) {
  const Json& source = token.Decoded("source");
  view.lines.Section("source");
  view.lines.Row("name", OrDash(Text(Member(source, "name"))));
  view.lines.Row("source_id", OrDash(Text(Member(source, "source_id"))));
  view.json["source"] = source;
  // A minted token's source says where its identity came from.
  const auto id = ParseUnsigned(Text(Member(source, "source_id")), UINT64_MAX,
                                NumberBase::kDecimalOrHex);
  if (!id) return;
  const auto identity = DescribeMintSource(
      TokenSource::Make(Text(Member(source, "name")), Luid{*id}));
  if (!identity) return;
  view.lines.Row("identity", *identity);
  view.json["source"]["identity"] = *identity;
}

void AddStatisticsPart(const TokenData& token, View& view) {
  const Json statistics = StatisticsJson(token);
  view.lines.Section("statistics");
  for (const char* key :
       {"token_id", "authentication_id", "modified_id", "parent_token_id"}) {
    view.lines.Row(key, OrDash(Text(Member(statistics, key))));
  }
  view.lines.Row("type", TypedText(Member(statistics, "type")));
  view.lines.Row("impersonation_level",
                 TypedText(Member(statistics, "impersonation_level")));
  const std::string expiration = Text(Member(statistics, "expiration"));
  view.lines.Row("expiration", expiration.empty() ? "never" : expiration);
  view.lines.Row("created", OrDash(Text(Member(statistics, "created"))));
  for (const char* key : {"group_count", "privilege_count",
                          "restricted_sid_count", "capability_count"}) {
    view.lines.Row(key, Text(Member(statistics, key)));
  }
  view.json["statistics"] = statistics;
}

void AddDefaultDaclPart(const TokenData& token, View& view) {
  const Json& dacl = token.Decoded("defaultdacl");
  view.lines.Section("default dacl");
  view.lines.Row("sddl", DefaultDaclText(dacl));
  view.json["default_dacl"] = dacl;
}

namespace {

// A capability set as setpriv -d words it: "none", "all" (every capability
// this build knows, 0..kLastLinuxCapability) or the names.
std::string CapabilitySetText(uint64_t mask) {
  const uint64_t all = (uint64_t{2} << kLastLinuxCapability) - 1;
  if (mask == 0) return "none";
  if ((mask & all) == all && (mask & ~all) == 0) return "all";
  return LinuxCapabilityList(mask);
}

Json CapabilitySetJson(uint64_t mask) {
  Json names = Json::array();
  for (int capability = 0; capability < 64; ++capability) {
    if ((mask >> capability & 1) != 0) {
      names.push_back(LinuxCapabilityList(uint64_t{1} << capability));
    }
  }
  return names;
}

}  // namespace

void AddLinuxPart(const TokenData& token, View& view, int pid) {
  const Json& tokenfs = token.Tokenfs();
  const Json& gids = Array(token.Decoded("projectedsupplementarygids"), "gids");
  view.lines.Section("linux");
  view.lines.Row("projected_uid",
                 OrDash(Text(Member(tokenfs, "projected_uid"))));
  view.lines.Row("projected_gid",
                 OrDash(Text(Member(tokenfs, "projected_gid"))));
  view.lines.Row("supplementary_gids", GidsText(gids));
  Json linux_ids = Json::object();
  linux_ids["projected_uid"] = Member(tokenfs, "projected_uid");
  linux_ids["projected_gid"] = Member(tokenfs, "projected_gid");
  linux_ids["supplementary_gids"] = gids;

  // Which Linux capabilities back each privilege of the token
  // (docs/policy.md, section 1.3).
  view.lines.Section("privilege capabilities");
  Json backing = Json::object();
  for (const Json& privilege :
       Array(token.Decoded("privileges"), "privileges")) {
    const Json& bit_value = Member(privilege, "bit");
    const int bit = bit_value.is_number_integer() ? bit_value.get<int>() : -1;
    const uint64_t mask = bit >= 0 ? CapabilitiesForPrivilege(bit) : 0;
    const std::string name = PrivilegeName(privilege);
    view.lines.Row(name, mask != 0 ? LinuxCapabilityList(mask) : "-");
    backing[name] = CapabilitySetJson(mask);
  }
  linux_ids["privilege_capabilities"] = std::move(backing);

  // The process's own Linux credentials, as setpriv -d shows them; a token
  // object has no process.
  Json process = nullptr;
  if (pid > 0) {
    view.lines.Section("linux process");
    view.lines.Row("pid", std::to_string(pid));
    if (const auto status = ReadProcessStatus(pid)) {
      const LinuxCredentials& credentials = status->credentials;
      view.lines.Row("cap_effective",
                     CapabilitySetText(credentials.cap_effective));
      view.lines.Row("cap_permitted",
                     CapabilitySetText(credentials.cap_permitted));
      view.lines.Row("cap_inheritable",
                     CapabilitySetText(credentials.cap_inheritable));
      view.lines.Row("cap_bounding",
                     CapabilitySetText(credentials.cap_bounding));
      view.lines.Row("cap_ambient", CapabilitySetText(credentials.cap_ambient));
      view.lines.Row("no_new_privs", credentials.no_new_privs ? "yes" : "no");
      view.lines.Row("securebits",
                     status->securebits
                         ? "0x" + FormatUnsigned(*status->securebits,
                                                 NumberBase::kHex)
                         : "- (only the process itself can read them)");
      process = Json::object();
      process["pid"] = pid;
      process["cap_effective"] = CapabilitySetJson(credentials.cap_effective);
      process["cap_permitted"] = CapabilitySetJson(credentials.cap_permitted);
      process["cap_inheritable"] =
          CapabilitySetJson(credentials.cap_inheritable);
      process["cap_bounding"] = CapabilitySetJson(credentials.cap_bounding);
      process["cap_ambient"] = CapabilitySetJson(credentials.cap_ambient);
      process["no_new_privs"] = credentials.no_new_privs;
      process["securebits"] =
          status->securebits ? Json(*status->securebits) : Json(nullptr);
    } else {
      view.lines.Row("status", "- (" + status.error().message + ")");
    }
  }
  linux_ids["process"] = std::move(process);
  view.json["linux"] = std::move(linux_ids);
}

void AddSecurityPart(const TokenData& token, View& view) {
  const Json& sddl = Member(token.Tokenfs(), "security_sddl");
  view.lines.Section("security");
  view.lines.Row("sddl", OrDash(Text(sddl)));
  view.json["security"] = sddl;
}

void AddSummaryLine(const TokenData& token, View& view) {
  const Json& tokenfs = token.Tokenfs();
  const Json& privileges = Array(token.Decoded("privileges"), "privileges");
  const Json& groups = Array(token.Decoded("groups"), "groups");
  size_t privileges_enabled = 0;
  for (const Json& privilege : privileges) {
    if (Flag(privilege, "enabled")) ++privileges_enabled;
  }
  size_t groups_enabled = 0;
  for (const Json& group : groups) {
    for (const Json& label : Array(group, "attributes")) {
      if (Text(label) == "enabled") ++groups_enabled;
    }
  }
  const Json& type = token.Decoded("type");
  const Json& level = token.Decoded("impersonationlevel");
  const Json& integrity = token.Decoded("integrity");
  const Json& elevation = token.Decoded("elevationtype");
  std::string line = SidText(token.Decoded("user"), view.style);
  line += "  " + TypedText(type);
  if (Text(Member(type, "name")) == "Impersonation") {
    line += " (" + TypedText(level) + ")";
  }
  std::string level_name = Text(Member(integrity, "level"));
  if (level_name.empty()) level_name = OrDash(Text(Member(integrity, "rid")));
  line += "  integrity " + level_name;
  line += "  privileges " + std::to_string(privileges_enabled) + "/" +
          std::to_string(privileges.size()) + " enabled";
  line += "  groups " + std::to_string(groups_enabled) + "/" +
          std::to_string(groups.size()) + " enabled";
  const std::string restricted = RestrictedText(tokenfs);
  if (restricted == "yes") line += "  restricted";
  if (restricted == "write-restricted") line += "  write-restricted";
  const std::string elevation_name = TypedText(elevation);
  if (elevation_name != "Default" && elevation_name != "-") {
    line += "  elevation " + elevation_name;
  }
  view.lines.Plain(line);
  view.json["user"] = token.Decoded("user");
  view.json["type"] = type;
  view.json["impersonation_level"] = level;
  view.json["integrity"] = integrity;
  view.json["elevation_type"] = elevation;
  Json summary = Json::object();
  summary["privileges_present"] = privileges.size();
  summary["privileges_enabled"] = privileges_enabled;
  summary["groups"] = groups.size();
  summary["groups_enabled"] = groups_enabled;
  summary["restricted"] = Flag(tokenfs, "restricted");
  summary["write_restricted"] = Flag(tokenfs, "write_restricted");
  view.json["summary"] = std::move(summary);
}

void AddUserValue(const TokenData& token, View& view) {
  view.lines.Plain(SidText(token.Decoded("user"), view.style));
  view.json["user"] = token.Decoded("user");
}

void AddOwnerValue(const TokenData& token, View& view) {
  view.lines.Plain(SidText(token.Decoded("owner"), view.style));
  view.json["owner"] = token.Decoded("owner");
}

void AddPrimaryGroupValue(const TokenData& token, View& view) {
  view.lines.Plain(SidText(token.Decoded("primarygroup"), view.style));
  view.json["primary_group"] = token.Decoded("primarygroup");
}

void AddOriginValue(const TokenData& token, View& view) {
  const Json& origin = Member(token.Decoded("origin"), "origin");
  view.lines.Plain(OrDash(Text(origin)));
  view.json["origin"] = origin;
}

void AddDefaultDaclValue(const TokenData& token, View& view) {
  const Json& dacl = token.Decoded("defaultdacl");
  view.lines.Plain(DefaultDaclText(dacl));
  view.json["default_dacl"] = dacl;
}

std::vector<TokenField> TokenFields(const TokenData& token, SidStyle style) {
  std::vector<TokenField> fields;
  auto add = [&fields](std::string name, std::string value) {
    fields.push_back(TokenField{name, name, std::move(value), false});
  };
  const Json& tokenfs = token.Tokenfs();
  const Json& appcontainer = token.Decoded("appcontainersid");
  add("user", SidText(token.Decoded("user"), style));
  add("owner", SidText(token.Decoded("owner"), style));
  add("primary_group", SidText(token.Decoded("primarygroup"), style));
  add("type", TypedText(token.Decoded("type")));
  add("impersonation_level", TypedText(token.Decoded("impersonationlevel")));
  add("elevation_type", TypedText(token.Decoded("elevationtype")));
  add("interactivity_scope",
      OrDash(Text(Member(token.Decoded("interactivity-scope"), "value"))));
  add("appcontainer",
      appcontainer.is_object() ? SidText(appcontainer, style) : "none");
  add("integrity", SidText(token.Decoded("integrity"), style));
  add("mandatory_policy", PolicyText(token.Decoded("mandatorypolicy")));
  add("restricted", RestrictedText(tokenfs));
  add("user_deny_only", Flag(tokenfs, "user_deny_only") ? "yes" : "no");
  auto add_sids = [&fields, style](std::string_view kind, const Json& entries,
                                   bool with_index) {
    for (const Json& entry : entries) {
      const std::string sid = Text(Member(entry, "sid"));
      std::string value = AttributeText(entry);
      if (with_index) value += " (index " + Text(Member(entry, "index")) + ")";
      fields.push_back(TokenField{
          std::string(kind) + " " + sid,
          std::string(kind) + " " + SidText(entry, style), value, false});
    }
  };
  add_sids("group", Array(token.Decoded("groups"), "groups"), true);
  for (const Json& privilege :
       Array(token.Decoded("privileges"), "privileges")) {
    fields.push_back(TokenField{"privilege " + Text(Member(privilege, "bit")),
                                "privilege " + PrivilegeName(privilege),
                                PrivilegeStateText(privilege), false});
  }
  add_sids("restricted_sid",
           Array(token.Decoded("restrictedsids"), "restricted_sids"), false);
  add_sids("device_group",
           Array(token.Decoded("devicegroups"), "device_groups"), false);
  for (const Json& capability :
       Array(token.Decoded("capabilities"), "capabilities")) {
    const std::string sid = Text(Member(capability, "sid"));
    std::string name = Text(Member(capability, "name"));
    fields.push_back(TokenField{"capability " + sid,
                                "capability " + (name.empty() ? sid : name),
                                "held", false});
  }
  for (const auto& [kind, name] : {std::pair{"user_claim", "userclaims"},
                                   std::pair{"device_claim", "deviceclaims"}}) {
    for (const Json& claim : Array(token.Decoded(name), "claims")) {
      const std::string claim_name = Text(Member(claim, "name"));
      fields.push_back(TokenField{std::string(kind) + " " + claim_name,
                                  std::string(kind) + " " + claim_name,
                                  ClaimValueText(claim, style), false});
    }
  }
  add("logon_type", TypedText(token.Decoded("logontype")));
  add("logon_sid", SidText(token.Decoded("logonsid"), style));
  add("authentication_id",
      OrDash(Text(Member(token.Decoded("statistics"), "authentication_id"))));
  add("origin", OrDash(Text(Member(token.Decoded("origin"), "origin"))));
  const Json& source = token.Decoded("source");
  add("source", OrDash(Text(Member(source, "name"))) + " " +
                    OrDash(Text(Member(source, "source_id"))));
  const std::string expiration =
      Text(Member(token.Decoded("statistics"), "expiration"));
  add("expiration", expiration.empty() ? "never" : expiration);
  add("default_dacl", DefaultDaclText(token.Decoded("defaultdacl")));
  add("projected_uid", OrDash(Text(Member(tokenfs, "projected_uid"))));
  add("projected_gid", OrDash(Text(Member(tokenfs, "projected_gid"))));
  add("supplementary_gids",
      GidsText(Array(token.Decoded("projectedsupplementarygids"), "gids")));
  add("security", OrDash(Text(Member(tokenfs, "security_sddl"))));
  const size_t first_id = fields.size();
  add("parent_token_id", OrDash(Text(Member(tokenfs, "parent_token_id"))));
  add("token_id",
      OrDash(Text(Member(token.Decoded("statistics"), "token_id"))));
  add("modified_id",
      OrDash(Text(Member(token.Decoded("statistics"), "modified_id"))));
  add("created", OrDash(Text(Member(tokenfs, "created"))));
  for (size_t i = first_id; i < fields.size(); ++i) fields[i].is_id = true;
  return fields;
}

}  // namespace tokenfs::cli
