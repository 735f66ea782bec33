#include "core/token_spec_json.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <set>
#include <string>

#include "core/ascii.h"
#include "core/number.h"
#include "core/privilege.h"
#include "core/sddl.h"
#include "core/strict_json.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Small helpers.

tl::unexpected<Error> Fail(const std::string& path, const std::string& text) {
  return InvalidArgument(JsonAtPath(path, text));
}

tl::unexpected<Error> WrongKind(const std::string& path, const char* wanted,
                                const Json& value) {
  return Fail(path, JsonWrongTypeMessage(wanted, value));
}

tl::unexpected<Error> MissingKey(const std::string& path,
                                 std::string_view key) {
  return Fail(path, JsonMissingKeyMessage(key));
}

// Fails on a key of `object` outside `allowed`.
Status CheckKeys(const Json& object, const std::string& path,
                 std::span<const std::string_view> allowed) {
  const std::string unknown = JsonUnknownKeyMessage(object, allowed);
  if (!unknown.empty()) return Fail(path, unknown);
  return Ok();
}

// Parses decimal or 0x-hex digits into `value`; false on anything else or
// overflow past `max`.
bool ParseUnsignedText(std::string_view text, uint64_t max, uint64_t& value,
                       NumberBase base = NumberBase::kDecimalOrHex) {
  auto number = ParseUnsigned(text, max, base);
  if (!number) return false;
  value = *number;
  return true;
}

Result<uint64_t> ReadUnsigned(const Json& value, const std::string& path,
                              uint64_t max) {
  const std::string range = "an integer from 0 to " + std::to_string(max);
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    if (number > max) return Fail(path, "expected " + range);
    return number;
  }
  if (value.is_number_integer() || value.is_number_float()) {
    return Fail(path, "expected " + range);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    uint64_t number = 0;
    if (!ParseUnsignedText(text, max, number)) {
      return Fail(path,
                  "'" + text + "' is not " + range + " (decimal or 0x-hex)");
    }
    return number;
  }
  return WrongKind(path, "a number", value);
}

Result<uint32_t> ReadU32(const Json& value, const std::string& path) {
  auto number = ReadUnsigned(value, path, UINT32_MAX);
  if (!number) return tl::unexpected(number.error());
  return static_cast<uint32_t>(*number);
}

Result<int64_t> ReadSigned(const Json& value, const std::string& path) {
  const std::string range = "an integer from " + std::to_string(INT64_MIN) +
                            " to " + std::to_string(INT64_MAX);
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    if (number > uint64_t{INT64_MAX}) return Fail(path, "expected " + range);
    return static_cast<int64_t>(number);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) return Fail(path, "expected " + range);
  if (value.is_string()) {
    std::string_view text = value.get_ref<const std::string&>();
    const bool negative = !text.empty() && text[0] == '-';
    if (negative) text.remove_prefix(1);
    uint64_t magnitude = 0;
    const uint64_t limit =
        negative ? uint64_t{INT64_MAX} + 1 : uint64_t{INT64_MAX};
    if (!ParseUnsignedText(text, limit, magnitude)) {
      return Fail(path, "'" + value.get<std::string>() + "' is not " + range);
    }
    if (negative) return static_cast<int64_t>(0 - magnitude);
    return static_cast<int64_t>(magnitude);
  }
  return WrongKind(path, "a number", value);
}

Result<bool> ReadBool(const Json& value, const std::string& path) {
  if (!value.is_boolean()) return WrongKind(path, "true or false", value);
  return value.get<bool>();
}

Result<std::string> ReadString(const Json& value, const std::string& path) {
  if (!value.is_string()) return WrongKind(path, "a string", value);
  return value.get<std::string>();
}

Result<Sid> ReadSid(const Json& value, const std::string& path) {
  auto text = ReadString(value, path);
  if (!text) return tl::unexpected(text.error());
  auto sid = ParseSidOrAlias(*text);
  if (!sid) {
    return Fail(path, "'" + *text + "': " + sid.error().message);
  }
  return *sid;
}

Status CheckKeys(const Json& object, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  return CheckKeys(
      object, path,
      std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

Status RequireArray(const Json& value, const std::string& path) {
  if (!value.is_array()) return WrongKind(path, "an array", value);
  return Ok();
}

// ---------------------------------------------------------------------------
// Name tables.

struct NamedBit {
  std::string_view name;
  uint32_t bit;
};

constexpr NamedBit kGroupAttributeNames[] = {
    {"mandatory", group_attributes::kMandatory},
    {"default", group_attributes::kEnabledByDefault},
    {"enabled", group_attributes::kEnabled},
    {"owner", group_attributes::kOwner},
    {"deny-only", group_attributes::kUseForDenyOnly},
    {"integrity", group_attributes::kIntegrity},
    {"integrity-enabled", group_attributes::kIntegrityEnabled},
    {"resource", group_attributes::kResource},
};

constexpr NamedBit kMandatoryPolicyNames[] = {
    {"no-write-up", mandatory_policy::kNoWriteUp},
    {"new-process-min", mandatory_policy::kNewProcessMin},
};

constexpr NamedBit kAuditPolicyNames[] = {
    {"object-access-success", audit_policy::kObjectAccessSuccess},
    {"object-access-failure", audit_policy::kObjectAccessFailure},
    {"privilege-use-success", audit_policy::kPrivilegeUseSuccess},
    {"privilege-use-failure", audit_policy::kPrivilegeUseFailure},
};

template <size_t N>
OrderedJson BitNames(uint32_t bits, const NamedBit (&table)[N]) {
  OrderedJson names = OrderedJson::array();
  for (const auto& entry : table) {
    if (bits & entry.bit) names.push_back(entry.name);
  }
  return names;
}

// Reads an array of flag names from `table` into a mask; `what` names the
// kind in errors ("mandatory policy").
template <size_t N>
Result<uint32_t> ReadBitNames(const Json& value, const std::string& path,
                              const NamedBit (&table)[N], const char* what) {
  auto status = RequireArray(value, path);
  if (!status) return tl::unexpected(status.error());
  uint32_t bits = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = JsonElementPath(path, i);
    auto name = ReadString(value[i], where);
    if (!name) return tl::unexpected(name.error());
    uint32_t bit = 0;
    for (const auto& entry : table) {
      if (EqualsIgnoreCase(*name, entry.name)) bit = entry.bit;
    }
    if (bit == 0) {
      std::string known;
      for (const auto& entry : table) {
        known += known.empty() ? "" : ", ";
        known += entry.name;
      }
      return Fail(where, "unknown " + std::string(what) + " '" + *name + "' (" +
                             known + ")");
    }
    if (bits & bit) return Fail(where, "'" + *name + "' is repeated");
    bits |= bit;
  }
  return bits;
}

Result<uint32_t> ReadGroupAttributes(const Json& value,
                                     const std::string& path) {
  auto status = RequireArray(value, path);
  if (!status) return tl::unexpected(status.error());
  uint32_t bits = 0;
  bool disabled = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = JsonElementPath(path, i);
    auto name = ReadString(value[i], where);
    if (!name) return tl::unexpected(name.error());
    if (EqualsIgnoreCase(*name, "logon-id")) {
      return Fail(where,
                  "'logon-id' is not allowed (the logon SID is added by "
                  "tokenfs)");
    }
    if (EqualsIgnoreCase(*name, "disabled")) {
      if (disabled) return Fail(where, "'disabled' is repeated");
      disabled = true;
      continue;
    }
    uint32_t bit = 0;
    for (const auto& entry : kGroupAttributeNames) {
      if (EqualsIgnoreCase(*name, entry.name)) bit = entry.bit;
    }
    if (EqualsIgnoreCase(*name, "enabled-by-default")) {
      bit = group_attributes::kEnabledByDefault;
    }
    if (EqualsIgnoreCase(*name, "use-for-deny-only")) {
      bit = group_attributes::kUseForDenyOnly;
    }
    if (bit == 0) {
      return Fail(where, "unknown group attribute '" + *name +
                             "' (mandatory, default, enabled, disabled, "
                             "owner, deny-only, integrity, "
                             "integrity-enabled, resource)");
    }
    if (bits & bit) return Fail(where, "'" + *name + "' is repeated");
    bits |= bit;
  }
  if (disabled && (bits & group_attributes::kEnabled)) {
    return Fail(path, "both 'enabled' and 'disabled'");
  }
  return bits;
}

constexpr uint32_t kDefaultEntryAttributes =
    group_attributes::kMandatory | group_attributes::kEnabledByDefault |
    group_attributes::kEnabled;

Result<std::vector<SidAndAttributes>> ReadSidList(const Json& value,
                                                  const std::string& path) {
  auto status = RequireArray(value, path);
  if (!status) return tl::unexpected(status.error());
  std::vector<SidAndAttributes> list;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = JsonElementPath(path, i);
    const Json& entry = value[i];
    SidAndAttributes item{Sid(), kDefaultEntryAttributes};
    if (entry.is_string()) {
      auto sid = ReadSid(entry, where);
      if (!sid) return tl::unexpected(sid.error());
      item.sid = *sid;
    } else if (entry.is_object()) {
      status = CheckKeys(entry, where, {"sid", "attributes"});
      if (!status) return tl::unexpected(status.error());
      if (!entry.contains("sid")) return MissingKey(where, "sid");
      auto sid = ReadSid(entry["sid"], JsonChildPath(where, "sid"));
      if (!sid) return tl::unexpected(sid.error());
      item.sid = *sid;
      if (entry.contains("attributes")) {
        auto attributes = ReadGroupAttributes(
            entry["attributes"], JsonChildPath(where, "attributes"));
        if (!attributes) return tl::unexpected(attributes.error());
        item.attributes = *attributes;
      }
    } else {
      return WrongKind(where, "a SID string or an object", entry);
    }
    for (size_t j = 0; j < list.size(); ++j) {
      if (list[j].sid == item.sid) {
        return Fail(where, item.sid.ToString() + " repeats " +
                               JsonElementPath(path, j));
      }
    }
    list.push_back(item);
  }
  return list;
}

// Reads privileges by name or bit; `bits` receives them in input order.
Result<uint64_t> ReadPrivilegeMask(const Json& value, const std::string& path,
                                   std::vector<int>& bits) {
  auto status = RequireArray(value, path);
  if (!status) return tl::unexpected(status.error());
  uint64_t mask = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = JsonElementPath(path, i);
    const Json& entry = value[i];
    int bit = -1;
    if (entry.is_string()) {
      auto parsed = ParsePrivilegeName(entry.get_ref<const std::string&>());
      if (!parsed) return Fail(where, parsed.error().message);
      bit = *parsed;
    } else if (entry.is_number_unsigned() && entry.get<uint64_t>() < 64 &&
               FindPrivilege(static_cast<int>(entry.get<uint64_t>()))) {
      bit = static_cast<int>(entry.get<uint64_t>());
    } else if (entry.is_number()) {
      return Fail(where, "privilege bit " + entry.dump() +
                             " is not in the privilege catalog");
    } else {
      return WrongKind(where, "a privilege name or bit number", entry);
    }
    if (mask & privilege::Bit(bit)) {
      return Fail(where, PrivilegeShortName(bit) + " is repeated");
    }
    mask |= privilege::Bit(bit);
    bits.push_back(bit);
  }
  return mask;
}

Result<std::vector<uint8_t>> ReadHex(const Json& value,
                                     const std::string& path) {
  auto text = ReadString(value, path);
  if (!text) return tl::unexpected(text.error());
  if (text->size() % 2 != 0) {
    return Fail(path, "hex string has an odd number of digits");
  }
  std::vector<uint8_t> bytes;
  bytes.reserve(text->size() / 2);
  for (size_t i = 0; i < text->size(); i += 2) {
    uint64_t byte = 0;
    if (!ParseUnsignedText(std::string_view(*text).substr(i, 2), 0xff, byte,
                           NumberBase::kHex)) {
      return Fail(path, "'" + text->substr(i, 2) + "' at position " +
                            std::to_string(i + 1) + " is not a hex byte");
    }
    bytes.push_back(static_cast<uint8_t>(byte));
  }
  return bytes;
}

Result<ClaimValue> ReadClaimValue(const Json& value, ClaimType type,
                                  const std::string& path) {
  switch (type) {
    case ClaimType::kInt64: {
      auto number = ReadSigned(value, path);
      if (!number) return tl::unexpected(number.error());
      return ClaimValue(*number);
    }
    case ClaimType::kUint64: {
      auto number = ReadUnsigned(value, path, UINT64_MAX);
      if (!number) return tl::unexpected(number.error());
      return ClaimValue(*number);
    }
    case ClaimType::kString: {
      auto text = ReadString(value, path);
      if (!text) return tl::unexpected(text.error());
      return ClaimValue(std::move(*text));
    }
    case ClaimType::kSid: {
      auto sid = ReadSid(value, path);
      if (!sid) return tl::unexpected(sid.error());
      return ClaimValue(*sid);
    }
    case ClaimType::kBoolean: {
      auto flag = ReadBool(value, path);
      if (!flag) return tl::unexpected(flag.error());
      return ClaimValue(*flag);
    }
    case ClaimType::kOctetString: {
      auto bytes = ReadHex(value, path);
      if (!bytes) return tl::unexpected(bytes.error());
      return ClaimValue(std::move(*bytes));
    }
  }
  return Fail(path, "unknown claim type");
}

Result<std::vector<Claim>> ReadClaims(const Json& value,
                                      const std::string& path) {
  auto status = RequireArray(value, path);
  if (!status) return tl::unexpected(status.error());
  std::vector<Claim> claims;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = JsonElementPath(path, i);
    const Json& entry = value[i];
    if (!entry.is_object()) return WrongKind(where, "an object", entry);
    status = CheckKeys(entry, where, {"name", "type", "flags", "values"});
    if (!status) return tl::unexpected(status.error());
    for (const char* required : {"name", "type"}) {
      if (!entry.contains(required)) {
        return MissingKey(where, required);
      }
    }
    Claim claim;
    auto name = ReadString(entry["name"], JsonChildPath(where, "name"));
    if (!name) return tl::unexpected(name.error());
    claim.name = std::move(*name);
    for (size_t j = 0; j < claims.size(); ++j) {
      if (EqualsIgnoreCase(claims[j].name, claim.name)) {
        return Fail(JsonChildPath(where, "name"),
                    "'" + claim.name + "' repeats " + JsonElementPath(path, j));
      }
    }
    auto type_name = ReadString(entry["type"], JsonChildPath(where, "type"));
    if (!type_name) return tl::unexpected(type_name.error());
    auto type = ParseClaimTypeName(*type_name);
    if (!type) return Fail(JsonChildPath(where, "type"), type.error().message);
    claim.type = *type;
    if (entry.contains("flags")) {
      const std::string flags_path = JsonChildPath(where, "flags");
      const Json& flags = entry["flags"];
      status = RequireArray(flags, flags_path);
      if (!status) return tl::unexpected(status.error());
      for (size_t k = 0; k < flags.size(); ++k) {
        auto flag_name = ReadString(flags[k], JsonElementPath(flags_path, k));
        if (!flag_name) return tl::unexpected(flag_name.error());
        auto flag = ParseClaimFlagName(*flag_name);
        if (!flag)
          return Fail(JsonElementPath(flags_path, k), flag.error().message);
        if (claim.flags & *flag) {
          return Fail(JsonElementPath(flags_path, k),
                      "'" + *flag_name + "' is repeated");
        }
        claim.flags |= *flag;
      }
    }
    if (entry.contains("values")) {
      const std::string values_path = JsonChildPath(where, "values");
      const Json& values = entry["values"];
      status = RequireArray(values, values_path);
      if (!status) return tl::unexpected(status.error());
      for (size_t k = 0; k < values.size(); ++k) {
        auto item = ReadClaimValue(values[k], claim.type,
                                   JsonElementPath(values_path, k));
        if (!item) return tl::unexpected(item.error());
        claim.values.push_back(std::move(*item));
      }
    }
    status = ValidateClaim(claim);
    if (!status) return Fail(where, status.error().message);
    claims.push_back(std::move(claim));
  }
  return claims;
}

Result<std::vector<Sid>> ReadCapabilities(const Json& value,
                                          const std::string& path) {
  auto status = RequireArray(value, path);
  if (!status) return tl::unexpected(status.error());
  std::vector<Sid> sids;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = JsonElementPath(path, i);
    auto text = ReadString(value[i], where);
    if (!text) return tl::unexpected(text.error());
    Sid sid;
    if (text->size() >= 4 && EqualsIgnoreCase(text->substr(0, 4), "S-1-")) {
      auto parsed = Sid::Parse(*text);
      if (!parsed)
        return Fail(where, "'" + *text + "': " + parsed.error().message);
      if (!IsCapabilitySid(*parsed)) {
        return Fail(where, parsed->ToString() +
                               " is not a capability SID (S-1-15-3-...)");
      }
      sid = *parsed;
    } else {
      auto name = ParseCapabilityName(*text);
      if (!name) return Fail(where, name.error().message);
      sid = CapabilitySid(*name);
    }
    for (size_t j = 0; j < sids.size(); ++j) {
      if (sids[j] == sid) {
        return Fail(where,
                    "'" + *text + "' repeats " + JsonElementPath(path, j));
      }
    }
    sids.push_back(sid);
  }
  return sids;
}

Result<TokenSource> ReadSource(const Json& value, const std::string& path) {
  if (!value.is_object()) return WrongKind(path, "an object", value);
  auto status = CheckKeys(value, path, {"name", "id"});
  if (!status) return tl::unexpected(status.error());
  std::string name;
  if (value.contains("name")) {
    auto text = ReadString(value["name"], JsonChildPath(path, "name"));
    if (!text) return tl::unexpected(text.error());
    if (text->size() > 8) {
      return Fail(JsonChildPath(path, "name"),
                  "'" + *text + "' is longer than 8 bytes");
    }
    for (char c : *text) {
      if (c < 0x20 || c > 0x7e) {
        return Fail(JsonChildPath(path, "name"), "must be printable ASCII");
      }
    }
    name = std::move(*text);
  }
  uint64_t id = 0;
  if (value.contains("id")) {
    auto number =
        ReadUnsigned(value["id"], JsonChildPath(path, "id"), UINT64_MAX);
    if (!number) return tl::unexpected(number.error());
    id = *number;
  }
  return TokenSource::Make(name, Luid{id});
}

// An owner or primary-group index: a number, or a SID naming the user or a
// caller group.
Result<uint32_t> ReadIndex(const Json& value, const std::string& path,
                           const TokenSpec& spec) {
  if (!value.is_string()) return ReadU32(value, path);
  auto sid = ReadSid(value, path);
  if (!sid) return tl::unexpected(sid.error());
  if (*sid == spec.user) return 0;
  for (size_t i = 0; i < spec.groups.size(); ++i) {
    if (spec.groups[i].sid == *sid) return static_cast<uint32_t>(i + 1);
  }
  return Fail(path, sid->ToString() + " is neither the user nor a group");
}

constexpr std::string_view kTopLevelKeys[] = {
    "version",
    "type",
    "impersonation_level",
    "user",
    "user_deny_only",
    "groups",
    "owner_index",
    "primary_group_index",
    "privileges",
    "integrity",
    "mandatory_policy",
    "default_dacl",
    "session_id",
    "source",
    "origin",
    "expiration",
    "interactive_session_id",
    "audit_policy",
    "projected_uid",
    "projected_gid",
    "projected_supplementary_gids",
    "restricted_sids",
    "write_restricted",
    "device_groups",
    "restricted_device_groups",
    "user_claims",
    "device_claims",
    "confinement_sid",
    "capabilities",
    "confinement_exempt",
    "isolation_boundary",
};

Result<TokenSpec> FromJson(const Json& root) {
  if (!root.is_object()) {
    return WrongKind("", "an object", root);
  }
  auto status = CheckKeys(root, "", kTopLevelKeys);
  if (!status) return tl::unexpected(status.error());
  TokenSpec spec;
  // Each key's reader; keys are read in the documented order.
  auto has = [&root](const char* key) { return root.contains(key); };

  if (has("version")) {
    auto version = ReadU32(root["version"], "version");
    if (!version) return tl::unexpected(version.error());
    if (*version != token_spec::kVersion) {
      return Fail("version", "only version 2 is supported");
    }
  }
  if (has("type")) {
    const Json& value = root["type"];
    if (value.is_string()) {
      auto type = ParseTokenType(value.get_ref<const std::string&>());
      if (!type) return Fail("type", type.error().message);
      spec.type = *type;
    } else {
      auto number = ReadU32(value, "type");
      if (!number) return tl::unexpected(number.error());
      if (*number != 1 && *number != 2) {
        return Fail("type", "expected 1 (primary) or 2 (impersonation)");
      }
      spec.type = static_cast<TokenType>(*number);
    }
  }
  if (has("impersonation_level")) {
    const Json& value = root["impersonation_level"];
    if (value.is_string()) {
      auto level = ParseImpersonationLevel(value.get_ref<const std::string&>());
      if (!level) return Fail("impersonation_level", level.error().message);
      spec.impersonation_level = *level;
    } else {
      auto number = ReadU32(value, "impersonation_level");
      if (!number) return tl::unexpected(number.error());
      if (*number > 3) {
        return Fail("impersonation_level", "expected 0 to 3");
      }
      spec.impersonation_level = static_cast<ImpersonationLevel>(*number);
    }
  }
  if (!has("user")) {
    return Fail("", JsonMissingKeyMessage("user") + " (the user SID)");
  }
  auto user = ReadSid(root["user"], "user");
  if (!user) return tl::unexpected(user.error());
  spec.user = *user;
  if (has("user_deny_only")) {
    auto flag = ReadBool(root["user_deny_only"], "user_deny_only");
    if (!flag) return tl::unexpected(flag.error());
    spec.user_deny_only = *flag;
  }
  if (has("groups")) {
    auto groups = ReadSidList(root["groups"], "groups");
    if (!groups) return tl::unexpected(groups.error());
    spec.groups = std::move(*groups);
  }
  if (has("owner_index")) {
    auto index = ReadIndex(root["owner_index"], "owner_index", spec);
    if (!index) return tl::unexpected(index.error());
    spec.owner_index = *index;
  }
  if (has("primary_group_index")) {
    auto index =
        ReadIndex(root["primary_group_index"], "primary_group_index", spec);
    if (!index) return tl::unexpected(index.error());
    spec.primary_group_index = *index;
  }
  if (has("privileges")) {
    const Json& value = root["privileges"];
    if (!value.is_object()) {
      return WrongKind("privileges", "an object", value);
    }
    status = CheckKeys(value, "privileges", {"present", "enabled"});
    if (!status) return tl::unexpected(status.error());
    std::vector<int> bits;
    if (value.contains("present")) {
      auto mask =
          ReadPrivilegeMask(value["present"], "privileges.present", bits);
      if (!mask) return tl::unexpected(mask.error());
      spec.privileges_present = *mask;
    }
    if (value.contains("enabled")) {
      bits.clear();
      auto mask =
          ReadPrivilegeMask(value["enabled"], "privileges.enabled", bits);
      if (!mask) return tl::unexpected(mask.error());
      spec.privileges_enabled = *mask;
      for (size_t i = 0; i < bits.size(); ++i) {
        if (!(spec.privileges_present & privilege::Bit(bits[i]))) {
          return Fail(
              JsonElementPath("privileges.enabled", i),
              PrivilegeShortName(bits[i]) + " is not in privileges.present");
        }
      }
    }
  }
  if (has("integrity")) {
    const Json& value = root["integrity"];
    if (value.is_string()) {
      auto rid = ParseIntegrityLevel(value.get_ref<const std::string&>());
      if (!rid) return Fail("integrity", rid.error().message);
      spec.integrity_rid = *rid;
    } else {
      auto rid = ReadU32(value, "integrity");
      if (!rid) return tl::unexpected(rid.error());
      spec.integrity_rid = *rid;
    }
  }
  if (has("mandatory_policy")) {
    auto bits = ReadBitNames(root["mandatory_policy"], "mandatory_policy",
                             kMandatoryPolicyNames, "mandatory policy");
    if (!bits) return tl::unexpected(bits.error());
    spec.mandatory_policy = *bits;
  }
  if (has("default_dacl")) {
    const Json& value = root["default_dacl"];
    if (value.is_null()) {
      spec.default_dacl.reset();
    } else if (value.is_string()) {
      auto dacl = ParseSddlDacl(value.get_ref<const std::string&>());
      if (!dacl) {
        std::string text = dacl.error().message;
        if (dacl.error().column > 0 &&
            text.find("column") == std::string::npos) {
          text += " (SDDL column " + std::to_string(dacl.error().column) + ")";
        }
        return Fail("default_dacl", text);
      }
      spec.default_dacl = std::move(*dacl);
      // SDDL has no revision; use the one the ACEs need.
      if (spec.default_dacl) {
        spec.default_dacl->revision = spec.default_dacl->CanonicalRevision();
      }
    } else {
      return WrongKind("default_dacl", "an SDDL string or null", value);
    }
  }
  struct LuidKey {
    const char* key;
    Luid* target;
  };
  for (const LuidKey& entry : {LuidKey{"session_id", &spec.session_id},
                               LuidKey{"origin", &spec.origin}}) {
    if (!has(entry.key)) continue;
    auto number = ReadUnsigned(root[entry.key], entry.key, UINT64_MAX);
    if (!number) return tl::unexpected(number.error());
    *entry.target = Luid{*number};
  }
  if (has("source")) {
    auto source = ReadSource(root["source"], "source");
    if (!source) return tl::unexpected(source.error());
    spec.source = *source;
  }
  if (has("expiration")) {
    auto number = ReadUnsigned(root["expiration"], "expiration", UINT64_MAX);
    if (!number) return tl::unexpected(number.error());
    spec.expiration_ns = *number;
  }
  struct U32Key {
    const char* key;
    uint32_t* target;
  };
  for (const U32Key& entry :
       {U32Key{"interactive_session_id", &spec.interactive_session_id},
        U32Key{"projected_uid", &spec.projected_uid},
        U32Key{"projected_gid", &spec.projected_gid}}) {
    if (!has(entry.key)) continue;
    auto number = ReadU32(root[entry.key], entry.key);
    if (!number) return tl::unexpected(number.error());
    *entry.target = *number;
  }
  if (has("audit_policy")) {
    auto bits = ReadBitNames(root["audit_policy"], "audit_policy",
                             kAuditPolicyNames, "audit policy");
    if (!bits) return tl::unexpected(bits.error());
    spec.audit_policy = *bits;
  }
  if (has("projected_supplementary_gids")) {
    const Json& value = root["projected_supplementary_gids"];
    status = RequireArray(value, "projected_supplementary_gids");
    if (!status) return tl::unexpected(status.error());
    for (size_t i = 0; i < value.size(); ++i) {
      auto gid =
          ReadU32(value[i], JsonElementPath("projected_supplementary_gids", i));
      if (!gid) return tl::unexpected(gid.error());
      spec.supplementary_gids.push_back(*gid);
    }
  }
  struct ListKey {
    const char* key;
    std::vector<SidAndAttributes>* target;
  };
  for (const ListKey& entry :
       {ListKey{"restricted_sids", &spec.restricted_sids},
        ListKey{"device_groups", &spec.device_groups},
        ListKey{"restricted_device_groups", &spec.restricted_device_groups}}) {
    if (!has(entry.key)) continue;
    auto list = ReadSidList(root[entry.key], entry.key);
    if (!list) return tl::unexpected(list.error());
    *entry.target = std::move(*list);
  }
  struct FlagKey {
    const char* key;
    bool* target;
  };
  for (const FlagKey& entry :
       {FlagKey{"write_restricted", &spec.write_restricted},
        FlagKey{"confinement_exempt", &spec.confinement_exempt},
        FlagKey{"isolation_boundary", &spec.isolation_boundary}}) {
    if (!has(entry.key)) continue;
    auto flag = ReadBool(root[entry.key], entry.key);
    if (!flag) return tl::unexpected(flag.error());
    *entry.target = *flag;
  }
  struct ClaimsKey {
    const char* key;
    std::vector<Claim>* target;
  };
  for (const ClaimsKey& entry :
       {ClaimsKey{"user_claims", &spec.user_claims},
        ClaimsKey{"device_claims", &spec.device_claims}}) {
    if (!has(entry.key)) continue;
    auto claims = ReadClaims(root[entry.key], entry.key);
    if (!claims) return tl::unexpected(claims.error());
    *entry.target = std::move(*claims);
  }
  if (has("confinement_sid") && !root["confinement_sid"].is_null()) {
    auto sid = ReadSid(root["confinement_sid"], "confinement_sid");
    if (!sid) return tl::unexpected(sid.error());
    spec.confinement_sid = *sid;
  }
  if (has("capabilities")) {
    auto sids = ReadCapabilities(root["capabilities"], "capabilities");
    if (!sids) return tl::unexpected(sids.error());
    spec.capabilities = std::move(*sids);
  }
  status = ValidateTokenSpec(spec);
  if (!status) return tl::unexpected(status.error());
  return spec;
}

// ---------------------------------------------------------------------------
// Formatting.

std::string_view TypeJsonName(TokenType type) {
  return type == TokenType::kImpersonation ? "impersonation" : "primary";
}

std::string_view LevelJsonName(ImpersonationLevel level) {
  switch (level) {
    case ImpersonationLevel::kAnonymous:
      return "anonymous";
    case ImpersonationLevel::kIdentification:
      return "identification";
    case ImpersonationLevel::kImpersonation:
      return "impersonation";
    case ImpersonationLevel::kDelegation:
      return "delegation";
  }
  return "anonymous";
}

OrderedJson IntegrityJson(uint32_t rid) {
  switch (rid) {
    case kIntegrityUntrusted:
      return "untrusted";
    case kIntegrityLow:
      return "low";
    case kIntegrityMedium:
      return "medium";
    case kIntegrityMediumPlus:
      return "medium-plus";
    case kIntegrityHigh:
      return "high";
    case kIntegritySystem:
      return "system";
    case kIntegrityProtected:
      return "protected";
    default:
      return rid;
  }
}

OrderedJson SidListJson(const std::vector<SidAndAttributes>& list) {
  OrderedJson out = OrderedJson::array();
  for (const auto& entry : list) {
    OrderedJson item = OrderedJson::object();
    item["sid"] = entry.sid.ToString();
    item["attributes"] = BitNames(entry.attributes, kGroupAttributeNames);
    out.push_back(std::move(item));
  }
  return out;
}

OrderedJson PrivilegesJson(uint64_t mask) {
  OrderedJson out = OrderedJson::array();
  for (int bit = 0; bit < 64; ++bit) {
    if (mask & privilege::Bit(bit)) out.push_back(PrivilegeShortName(bit));
  }
  return out;
}

OrderedJson ClaimValueJson(const ClaimValue& value) {
  if (const auto* number = std::get_if<int64_t>(&value)) return *number;
  if (const auto* number = std::get_if<uint64_t>(&value)) return *number;
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* sid = std::get_if<Sid>(&value)) return sid->ToString();
  if (const auto* flag = std::get_if<bool>(&value)) return *flag;
  return FormatClaimValue(value);  // octets: lower-case hex
}

OrderedJson ClaimsJson(const std::vector<Claim>& claims) {
  OrderedJson out = OrderedJson::array();
  for (const Claim& claim : claims) {
    OrderedJson item = OrderedJson::object();
    item["name"] = claim.name;
    item["type"] = ClaimTypeName(claim.type);
    OrderedJson flags = OrderedJson::array();
    for (std::string_view name : ClaimFlagNames(claim.flags)) {
      flags.push_back(name);
    }
    item["flags"] = std::move(flags);
    OrderedJson values = OrderedJson::array();
    for (const ClaimValue& value : claim.values) {
      values.push_back(ClaimValueJson(value));
    }
    item["values"] = std::move(values);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Result<TokenSpec> ParseTokenSpecJson(std::string_view text) {
  if (text.size() > token_spec_json::kMaxTextBytes) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "token spec JSON is " + std::to_string(text.size()) +
                         " bytes (at most 1048576)");
  }
  auto root = ReadStrictJson(text, token_spec_json::kMaxDepth);
  if (!root) {
    const StrictJsonError& error = root.error();
    // The column of a syntax error is its byte offset in `text`.
    return InvalidArgument(
        JsonReadErrorMessage(error, text, token_spec_json::kMaxDepth),
        error.kind == StrictJsonError::Kind::kSyntax
            ? static_cast<int>(std::min<size_t>(error.position, 1 << 30))
            : 0);
  }
  return FromJson(*root);
}

Result<std::vector<Claim>> ParseClaimsJson(std::string_view text,
                                           const std::string& path) {
  if (text.size() > token_spec_json::kMaxTextBytes) {
    return MakeError(ErrorCode::kResourceExhausted,
                     path + " is " + std::to_string(text.size()) +
                         " bytes (at most 1048576)");
  }
  auto root = ReadStrictJson(text, token_spec_json::kMaxDepth);
  if (!root) {
    const StrictJsonError& error = root.error();
    return InvalidArgument(
        path + ": " +
            JsonReadErrorMessage(error, text, token_spec_json::kMaxDepth),
        error.kind == StrictJsonError::Kind::kSyntax
            ? static_cast<int>(std::min<size_t>(error.position, 1 << 30))
            : 0);
  }
  auto claims = ReadClaims(*root, path);
  if (!claims) return claims;
  // The binary array is what a check reads: refuse what cannot be encoded
  // (a repeated name, too large).
  if (auto encoded = EncodeClaims(*claims); !encoded) {
    return InvalidArgument(path + ": " + encoded.error().message);
  }
  return claims;
}

nlohmann::ordered_json TokenSpecToJson(const TokenSpec& spec,
                                       const CapabilityNames* names) {
  OrderedJson out = OrderedJson::object();
  out["version"] = token_spec::kVersion;
  out["type"] = TypeJsonName(spec.type);
  out["impersonation_level"] = LevelJsonName(spec.impersonation_level);
  out["user"] = spec.user.ToString();
  out["user_deny_only"] = spec.user_deny_only;
  out["groups"] = SidListJson(spec.groups);
  out["owner_index"] = spec.owner_index;
  out["primary_group_index"] = spec.primary_group_index;
  OrderedJson privileges = OrderedJson::object();
  privileges["present"] = PrivilegesJson(spec.privileges_present);
  privileges["enabled"] = PrivilegesJson(spec.privileges_enabled);
  out["privileges"] = std::move(privileges);
  out["integrity"] = IntegrityJson(spec.integrity_rid);
  out["mandatory_policy"] =
      BitNames(spec.mandatory_policy, kMandatoryPolicyNames);
  out["default_dacl"] = FormatSddlDacl(spec.default_dacl);
  out["session_id"] = FormatHex(spec.session_id.value);
  OrderedJson source = OrderedJson::object();
  source["name"] = spec.source.NameString();
  source["id"] = FormatHex(spec.source.id.value);
  out["source"] = std::move(source);
  out["origin"] = FormatHex(spec.origin.value);
  out["expiration"] = spec.expiration_ns;
  out["interactive_session_id"] = spec.interactive_session_id;
  out["audit_policy"] = BitNames(spec.audit_policy, kAuditPolicyNames);
  out["projected_uid"] = spec.projected_uid;
  out["projected_gid"] = spec.projected_gid;
  out["projected_supplementary_gids"] = spec.supplementary_gids;
  out["restricted_sids"] = SidListJson(spec.restricted_sids);
  out["write_restricted"] = spec.write_restricted;
  out["device_groups"] = SidListJson(spec.device_groups);
  out["restricted_device_groups"] = SidListJson(spec.restricted_device_groups);
  out["user_claims"] = ClaimsJson(spec.user_claims);
  out["device_claims"] = ClaimsJson(spec.device_claims);
  out["confinement_sid"] = spec.confinement_sid
                               ? OrderedJson(spec.confinement_sid->ToString())
                               : OrderedJson(nullptr);
  OrderedJson capabilities = OrderedJson::array();
  for (const Sid& sid : spec.capabilities) {
    std::optional<std::string> name;
    if (names) name = names->NameForSid(sid);
    capabilities.push_back(name ? *name : sid.ToString());
  }
  out["capabilities"] = std::move(capabilities);
  out["confinement_exempt"] = spec.confinement_exempt;
  out["isolation_boundary"] = spec.isolation_boundary;
  return out;
}

std::string FormatTokenSpecJson(const TokenSpec& spec,
                                const CapabilityNames* names) {
  return TokenSpecToJson(spec, names)
             .dump(2, ' ', false, Json::error_handler_t::replace) +
         "\n";
}

Result<std::vector<uint8_t>> TokenSpecJsonToBinary(std::string_view text) {
  auto spec = ParseTokenSpecJson(text);
  if (!spec) return tl::unexpected(spec.error());
  return EncodeTokenSpec(*spec);
}

Result<std::string> TokenSpecBinaryToJson(std::span<const uint8_t> bytes,
                                          const CapabilityNames* names) {
  auto spec = DecodeTokenSpec(bytes);
  if (!spec) return tl::unexpected(spec.error());
  return FormatTokenSpecJson(*spec, names);
}

}  // namespace tokenfs
