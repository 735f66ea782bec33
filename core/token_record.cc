#include "core/token_record.h"

#include <algorithm>
#include <exception>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include "core/acl.h"
#include "core/capability.h"
#include "core/claims.h"
#include "core/security_descriptor.h"
#include "core/strict_json.h"

namespace tokenfs {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kTokenRecord = "token record";
constexpr std::string_view kCredentialsRecord = "credentials record";
constexpr std::string_view kUnencodable = "unencodable: ";

// ---------------------------------------------------------------------------
// Drift guards: each fails to compile when its struct gains or loses a data
// member. Add the field to the record (and raise token_record::kVersion when
// old records cannot carry it), then here.

[[maybe_unused]] void TokenFieldsAreAllRecorded(const Token& token) {
  [[maybe_unused]] const auto& [user, user_deny_only, groups, restricted_sids,
                                write_restricted, type, impersonation_level,
                                integrity_rid, mandatory_policy_bits,
                                privileges, elevation_type, owner_index,
                                primary_group_index, default_dacl, token_id,
                                auth_id, modified_id, parent_token_id, source,
                                created_ns, expiration_ns, origin,
                                interactive_session_id, logon_type, user_claims,
                                device_claims, device_groups,
                                restricted_device_groups, confinement_sid,
                                isolation_boundary, confinement_exempt,
                                audit_policy_bits, projected_uid, projected_gid,
                                projected_supplementary_gids, capabilities,
                                security] = token;
}

[[maybe_unused]] void CredentialsFieldsAreAllRecorded(
    const LinuxCredentials& credentials) {
  [[maybe_unused]] const auto& [real_uid, effective_uid, saved_uid, fs_uid,
                                real_gid, effective_gid, saved_gid, fs_gid,
                                supplementary_gids, cap_permitted,
                                cap_effective, cap_inheritable, cap_bounding,
                                cap_ambient, no_new_privs, has_terminal,
                                audit_session_id, initial_user_namespace] =
      credentials;
}

[[maybe_unused]] void PartFieldsAreAllRecorded(const SecurityDescriptor& sd,
                                               const PrivilegeSet& privileges,
                                               const TokenSource& source,
                                               const SidAndAttributes& entry,
                                               const Capability& capability) {
  [[maybe_unused]] const auto& [control, owner, group, dacl, sacl] = sd;
  [[maybe_unused]] const auto& [present, enabled, enabled_by_default, used] =
      privileges;
  [[maybe_unused]] const auto& [name, id] = source;
  [[maybe_unused]] const auto& [sid, attributes] = entry;
  [[maybe_unused]] const auto& [capability_name, capability_sid] = capability;
}

// ---------------------------------------------------------------------------
// Spellings shared by the encoder and the decoder.

constexpr char kHexDigits[] = "0123456789abcdef";

std::string HexBytes(std::span<const uint8_t> bytes) {
  std::string text;
  text.reserve(bytes.size() * 2);
  for (uint8_t byte : bytes) {
    text.push_back(kHexDigits[byte >> 4]);
    text.push_back(kHexDigits[byte & 0xf]);
  }
  return text;
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical
}

std::optional<std::vector<uint8_t>> ParseHexBytes(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> bytes;
  bytes.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int high = HexDigitValue(text[i]);
    const int low = HexDigitValue(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<uint8_t>(high << 4 | low));
  }
  return bytes;
}

// "0x" and lower-case hex without leading zeros.
std::string Hex64(uint64_t value) {
  std::string digits;
  do {
    digits.push_back(kHexDigits[value & 0xf]);
    value >>= 4;
  } while (value != 0);
  std::reverse(digits.begin(), digits.end());
  return "0x" + digits;
}

std::optional<uint64_t> ParseHex64(std::string_view text) {
  if (text.size() < 3 || text.size() > 18 || text.substr(0, 2) != "0x") {
    return std::nullopt;
  }
  const std::string_view digits = text.substr(2);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    const int digit = HexDigitValue(c);
    if (digit < 0) return std::nullopt;
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return value;
}

std::optional<uint64_t> ParseDecimal64(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

// ---------------------------------------------------------------------------
// Encoding.

OrderedJson SidJson(const Sid& sid) { return sid.ToString(); }

OrderedJson OptionalSidJson(const std::optional<Sid>& sid) {
  return sid ? SidJson(*sid) : OrderedJson(nullptr);
}

OrderedJson SidListJson(const std::vector<SidAndAttributes>& list) {
  OrderedJson array = OrderedJson::array();
  for (const SidAndAttributes& entry : list) {
    array.push_back(OrderedJson{{"sid", SidJson(entry.sid)},
                                {"attributes", OrderedJson(entry.attributes)}});
  }
  return array;
}

OrderedJson OptionalSidListJson(
    const std::optional<std::vector<SidAndAttributes>>& list) {
  return list ? SidListJson(*list) : OrderedJson(nullptr);
}

OrderedJson U32Array(const std::vector<uint32_t>& values) {
  OrderedJson array = OrderedJson::array();
  for (uint32_t value : values) array.push_back(value);
  return array;
}

// The hex of encode(value) when decode gives `value` back exactly, else
// "unencodable: <reason>".
template <typename T, typename Encode, typename Decode>
std::string ExactBinary(const T& value, Encode encode, Decode decode,
                        std::string_view what) {
  Result<std::vector<uint8_t>> bytes = encode(value);
  if (!bytes) return std::string(kUnencodable) + bytes.error().message;
  Result<T> again = decode(*bytes);
  if (!again || !(*again == value)) {
    return std::string(kUnencodable) + std::string(what) +
           " does not survive its binary form";
  }
  return HexBytes(*bytes);
}

OrderedJson AclJson(const Acl& acl) {
  return ExactBinary(
      acl, [](const Acl& value) { return value.ToBinary(); },
      [](std::span<const uint8_t> bytes) { return Acl::FromBinary(bytes); },
      "the ACL (its revision is below what its ACEs need, or not 2 or 4)");
}

OrderedJson OptionalAclJson(const std::optional<Acl>& acl) {
  return acl ? AclJson(*acl) : OrderedJson(nullptr);
}

OrderedJson ClaimsJson(const std::vector<Claim>& claims) {
  return ExactBinary(
      claims,
      [](const std::vector<Claim>& value) { return EncodeClaims(value); },
      [](std::span<const uint8_t> bytes) { return DecodeClaims(bytes); },
      "the claims");
}

OrderedJson SecurityJson(const SecurityDescriptor& sd) {
  return OrderedJson{{"control", OrderedJson(sd.control)},
                     {"owner", OptionalSidJson(sd.owner)},
                     {"group", OptionalSidJson(sd.group)},
                     {"dacl", OptionalAclJson(sd.dacl)},
                     {"sacl", OptionalAclJson(sd.sacl)}};
}

OrderedJson CapabilitiesJson(const std::vector<Capability>& capabilities) {
  OrderedJson array = OrderedJson::array();
  for (const Capability& capability : capabilities) {
    array.push_back(OrderedJson{{"name", capability.name},
                                {"sid", SidJson(capability.sid)}});
  }
  return array;
}

std::string Dump(const OrderedJson& record) {
  // `replace` so that a string that is not UTF-8 (only a capability name
  // that breaks the token's invariants could be) never throws; such a name
  // fails to decode.
  return record.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

// Parses `text` into `json`, or returns why not.
Status ParseJson(std::string_view record, std::string_view text, Json& json) {
  if (text.size() > token_record::kMaxRecordBytes) {
    return MakeError(ErrorCode::kResourceExhausted,
                     std::string(record) + ": " + std::to_string(text.size()) +
                         " bytes, more than the " +
                         std::to_string(token_record::kMaxRecordBytes) +
                         " a record may have");
  }
  auto parsed = ReadStrictJson(text, token_record::kMaxDepth);
  if (!parsed) {
    const StrictJsonError& error = parsed.error();
    if (error.kind == StrictJsonError::Kind::kRepeatedKey) {
      // Records speak of fields, as the rest of their messages do.
      return InvalidArgument(std::string(record) + ": field '" +
                             JsonChildPath(error.path, error.key) +
                             "' is repeated");
    }
    return InvalidArgument(
        std::string(record) + ": " +
            JsonReadErrorMessage(error, text, token_record::kMaxDepth),
        error.kind == StrictJsonError::Kind::kSyntax
            ? static_cast<int>(std::min<size_t>(error.position, 1 << 30))
            : 0);
  }
  json = std::move(*parsed);
  return Ok();
}

// ---------------------------------------------------------------------------
// Decoding. A Reader walks the parsed JSON and keeps the first error; once it
// has one, every further read does nothing, so a decoder reads like the
// schema and checks failed() at the end.

// A value in the record and its path ("security.dacl", "groups[2].sid");
// `value` is null once reading has failed.
struct Node {
  const Json* value = nullptr;
  std::string path;
};

class Reader {
 public:
  explicit Reader(std::string_view record) : record_(record) {}

  bool failed() const { return error_.has_value(); }
  tl::unexpected<Error> error() const { return tl::unexpected(*error_); }

  void Fail(const std::string& path, const std::string& problem) {
    if (failed()) return;
    error_ = Error{ErrorCode::kInvalidArgument,
                   std::string(record_) + ": field '" + path + "': " + problem};
  }
  void FailRecord(const std::string& problem) {
    if (failed()) return;
    error_ = Error{ErrorCode::kInvalidArgument,
                   std::string(record_) + ": " + problem};
  }

  // The root object: checks the version first, then the fields.
  Node Root(const Json& json, std::initializer_list<std::string_view> fields) {
    if (!json.is_object()) {
      FailRecord("expected a JSON object");
      return {};
    }
    const auto version = json.find("v");
    if (version == json.end()) {
      FailRecord("field 'v' is missing (the format version)");
      return {};
    }
    if (!version->is_number_unsigned()) {
      Fail("v", "expected the format version, an unsigned number");
      return {};
    }
    if (version->get<uint64_t>() != token_record::kVersion) {
      Fail("v", "version " + std::to_string(version->get<uint64_t>()) +
                    " is not supported (this build reads version " +
                    std::to_string(token_record::kVersion) + ")");
      return {};
    }
    return Object(Node{&json, ""}, fields);
  }

  // `node` as an object holding exactly "v" (at the root) and `fields`.
  Node Object(const Node& node,
              std::initializer_list<std::string_view> fields) {
    if (!node.value) return {};
    if (!node.value->is_object()) {
      Fail(node.path, "expected an object");
      return {};
    }
    const bool root = node.path.empty();
    for (std::string_view field : fields) {
      if (!node.value->contains(field)) {
        FailRecord("field '" + Child(node.path, field) + "' is missing");
        return {};
      }
    }
    for (const auto& [key, value] : node.value->items()) {
      if (root && key == "v") continue;
      if (std::find(fields.begin(), fields.end(), key) == fields.end()) {
        FailRecord("unknown field '" + Child(node.path, key) + "'");
        return {};
      }
    }
    return node;
  }

  // The field `key` of an object Object() has checked.
  Node Field(const Node& object, std::string_view key) const {
    if (!object.value || failed()) return {};
    return Node{&*object.value->find(key), Child(object.path, key)};
  }

  // The size of the array `node`, or nullopt (after failing) when it is not
  // one.
  std::optional<size_t> Array(const Node& node) {
    if (!node.value) return std::nullopt;
    if (!node.value->is_array()) {
      Fail(node.path, "expected an array");
      return std::nullopt;
    }
    return node.value->size();
  }

  Node Element(const Node& array, size_t index) const {
    if (!array.value || failed()) return {};
    return Node{&(*array.value)[index],
                array.path + "[" + std::to_string(index) + "]"};
  }

  // True iff `node` is null (nothing is read then).
  bool IsNull(const Node& node) const {
    return node.value && node.value->is_null();
  }

  void U32(const Node& node, uint32_t& out) {
    if (auto value = Unsigned(node, UINT32_MAX, "an unsigned 32-bit number")) {
      out = static_cast<uint32_t>(*value);
    }
  }

  void U16(const Node& node, uint16_t& out) {
    if (auto value = Unsigned(node, UINT16_MAX, "an unsigned 16-bit number")) {
      out = static_cast<uint16_t>(*value);
    }
  }

  // An enum stored as its number; `allowed` lists its values and `what`
  // names it with them ("a token type (1 or 2)").
  template <typename Enum>
  void EnumValue(const Node& node, Enum& out,
                 std::initializer_list<Enum> allowed, const char* what) {
    uint32_t number = 0;
    U32(node, number);
    if (failed() || !node.value) return;
    for (Enum value : allowed) {
      if (static_cast<uint32_t>(value) == number) {
        out = value;
        return;
      }
    }
    Fail(node.path, std::to_string(number) + " is not " + what);
  }

  void Bool(const Node& node, bool& out) {
    if (!node.value) return;
    if (!node.value->is_boolean()) {
      Fail(node.path, "expected true or false");
      return;
    }
    out = node.value->get<bool>();
  }

  void Hex64(const Node& node, uint64_t& out) {
    const std::string* text =
        String(node,
               "a 64-bit number as a string \"0x...\" (lower-case hex, no "
               "leading zeros)");
    if (!text) return;
    if (auto value = ParseHex64(*text)) {
      out = *value;
    } else {
      Fail(node.path, "'" + *text +
                          "' is not a 64-bit number as \"0x...\" (lower-case "
                          "hex, no leading zeros)");
    }
  }

  void LuidValue(const Node& node, Luid& out) { Hex64(node, out.value); }

  void Decimal64(const Node& node, uint64_t& out) {
    const std::string* text =
        String(node, "a 64-bit number as a decimal string (no leading zeros)");
    if (!text) return;
    if (auto value = ParseDecimal64(*text)) {
      out = *value;
    } else {
      Fail(node.path, "'" + *text +
                          "' is not a 64-bit number in decimal (no leading "
                          "zeros)");
    }
  }

  void Text(const Node& node, std::string& out) {
    if (const std::string* text = String(node, "a string")) out = *text;
  }

  void SidValue(const Node& node, Sid& out) {
    const std::string* text = String(node, "a SID string");
    if (!text) return;
    Result<Sid> sid = Sid::Parse(*text);
    if (!sid) {
      Fail(node.path, "'" + *text + "' is not a SID: " + sid.error().message);
      return;
    }
    if (sid->ToString() != *text) {
      Fail(node.path,
           "'" + *text + "' is not canonical (" + sid->ToString() + ")");
      return;
    }
    out = *sid;
  }

  void OptionalSid(const Node& node, std::optional<Sid>& out) {
    if (IsNull(node)) {
      out.reset();
      return;
    }
    Sid sid;
    SidValue(node, sid);
    if (!failed()) out = sid;
  }

  // Lower-case hex; an "unencodable: ..." string reports why the encoder
  // could not record the value.
  std::optional<std::vector<uint8_t>> Bytes(const Node& node) {
    const std::string* text = String(node, "a lower-case hex string");
    if (!text) return std::nullopt;
    if (text->starts_with(kUnencodable)) {
      Fail(node.path, "the value could not be recorded exactly (" +
                          text->substr(kUnencodable.size()) + ")");
      return std::nullopt;
    }
    auto bytes = ParseHexBytes(*text);
    if (!bytes) Fail(node.path, "expected a lower-case hex string");
    return bytes;
  }

  void SidList(const Node& node, std::vector<SidAndAttributes>& out) {
    const std::optional<size_t> size = Array(node);
    if (!size) return;
    out.clear();
    out.reserve(*size);
    for (size_t i = 0; i < *size && !failed(); ++i) {
      const Node entry = Object(Element(node, i), {"sid", "attributes"});
      SidAndAttributes item;
      SidValue(Field(entry, "sid"), item.sid);
      U32(Field(entry, "attributes"), item.attributes);
      out.push_back(item);
    }
  }

  void OptionalSidList(const Node& node,
                       std::optional<std::vector<SidAndAttributes>>& out) {
    if (IsNull(node)) {
      out.reset();
      return;
    }
    std::vector<SidAndAttributes> list;
    SidList(node, list);
    if (!failed()) out = std::move(list);
  }

  void U32List(const Node& node, std::vector<uint32_t>& out) {
    const std::optional<size_t> size = Array(node);
    if (!size) return;
    out.assign(*size, 0);
    for (size_t i = 0; i < *size; ++i) U32(Element(node, i), out[i]);
  }

  void AclValue(const Node& node, Acl& out) {
    auto bytes = Bytes(node);
    if (!bytes) return;
    Result<Acl> acl = Acl::FromBinary(*bytes);
    if (!acl) {
      Fail(node.path, acl.error().message);
      return;
    }
    Canonical(node, acl->ToBinary(), *bytes, "ACL");
    out = std::move(*acl);
  }

  void OptionalAcl(const Node& node, std::optional<Acl>& out) {
    if (IsNull(node)) {
      out.reset();
      return;
    }
    Acl acl;
    AclValue(node, acl);
    if (!failed()) out = std::move(acl);
  }

  void Claims(const Node& node, std::vector<Claim>& out) {
    auto bytes = Bytes(node);
    if (!bytes) return;
    Result<std::vector<Claim>> claims = DecodeClaims(*bytes);
    if (!claims) {
      Fail(node.path, claims.error().message);
      return;
    }
    Canonical(node, EncodeClaims(*claims), *bytes, "claim array");
    out = std::move(*claims);
  }

 private:
  static std::string Child(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  std::optional<uint64_t> Unsigned(const Node& node, uint64_t max,
                                   const char* what) {
    if (!node.value) return std::nullopt;
    if (!node.value->is_number_unsigned() ||
        node.value->get<uint64_t>() > max) {
      Fail(node.path, std::string("expected ") + what);
      return std::nullopt;
    }
    return node.value->get<uint64_t>();
  }

  const std::string* String(const Node& node, const char* what) {
    if (!node.value) return nullptr;
    if (!node.value->is_string()) {
      Fail(node.path, std::string("expected ") + what);
      return nullptr;
    }
    return &node.value->get_ref<const std::string&>();
  }

  // Fails unless `bytes` is exactly the encoding of what they decoded to.
  void Canonical(const Node& node,
                 const Result<std::vector<uint8_t>>& reencoded,
                 const std::vector<uint8_t>& bytes, const char* what) {
    if (!reencoded || *reencoded != bytes) {
      Fail(node.path,
           std::string("not the canonical binary form of its ") + what);
    }
  }

  std::string_view record_;
  std::optional<Error> error_;
};

Result<Token> DecodeToken(const Json& json) {
  Reader r(kTokenRecord);
  const Node root = r.Root(json, {"user",
                                  "user_deny_only",
                                  "groups",
                                  "restricted_sids",
                                  "write_restricted",
                                  "type",
                                  "impersonation_level",
                                  "integrity_rid",
                                  "mandatory_policy",
                                  "privileges",
                                  "elevation_type",
                                  "owner_index",
                                  "primary_group_index",
                                  "default_dacl",
                                  "token_id",
                                  "auth_id",
                                  "modified_id",
                                  "parent_token_id",
                                  "source",
                                  "created_ns",
                                  "expiration_ns",
                                  "origin",
                                  "interactive_session_id",
                                  "logon_type",
                                  "user_claims",
                                  "device_claims",
                                  "device_groups",
                                  "restricted_device_groups",
                                  "confinement_sid",
                                  "isolation_boundary",
                                  "confinement_exempt",
                                  "audit_policy",
                                  "projected_uid",
                                  "projected_gid",
                                  "projected_supplementary_gids",
                                  "capabilities",
                                  "security"});
  Token token;
  r.SidValue(r.Field(root, "user"), token.user);
  r.Bool(r.Field(root, "user_deny_only"), token.user_deny_only);
  r.SidList(r.Field(root, "groups"), token.groups.Mutable());
  r.OptionalSidList(r.Field(root, "restricted_sids"), token.restricted_sids);
  r.Bool(r.Field(root, "write_restricted"), token.write_restricted);
  r.EnumValue(r.Field(root, "type"), token.type,
              {TokenType::kPrimary, TokenType::kImpersonation},
              "a token type (1 or 2)");
  r.EnumValue(
      r.Field(root, "impersonation_level"), token.impersonation_level,
      {ImpersonationLevel::kAnonymous, ImpersonationLevel::kIdentification,
       ImpersonationLevel::kImpersonation, ImpersonationLevel::kDelegation},
      "an impersonation level (0 to 3)");
  r.U32(r.Field(root, "integrity_rid"), token.integrity_rid);
  r.U32(r.Field(root, "mandatory_policy"), token.mandatory_policy);

  const Node privileges =
      r.Object(r.Field(root, "privileges"),
               {"present", "enabled", "enabled_by_default", "used"});
  r.Hex64(r.Field(privileges, "present"), token.privileges.present);
  r.Hex64(r.Field(privileges, "enabled"), token.privileges.enabled);
  r.Hex64(r.Field(privileges, "enabled_by_default"),
          token.privileges.enabled_by_default);
  r.Hex64(r.Field(privileges, "used"), token.privileges.used);

  r.EnumValue(
      r.Field(root, "elevation_type"), token.elevation_type,
      {ElevationType::kDefault, ElevationType::kFull, ElevationType::kLimited},
      "an elevation type (1 to 3)");
  r.U32(r.Field(root, "owner_index"), token.owner_index);
  r.U32(r.Field(root, "primary_group_index"), token.primary_group_index);
  r.OptionalAcl(r.Field(root, "default_dacl"), token.default_dacl);

  r.LuidValue(r.Field(root, "token_id"), token.token_id);
  r.LuidValue(r.Field(root, "auth_id"), token.auth_id);
  r.LuidValue(r.Field(root, "modified_id"), token.modified_id);
  r.LuidValue(r.Field(root, "parent_token_id"), token.parent_token_id);

  const Node source = r.Object(r.Field(root, "source"), {"name", "id"});
  const Node source_name = r.Field(source, "name");
  if (auto bytes = r.Bytes(source_name)) {
    if (bytes->size() != token.source.name.size()) {
      r.Fail(source_name.path, "expected 8 bytes (16 hex digits), found " +
                                   std::to_string(bytes->size()));
    } else {
      std::transform(bytes->begin(), bytes->end(), token.source.name.begin(),
                     [](uint8_t byte) { return static_cast<char>(byte); });
    }
  }
  r.LuidValue(r.Field(source, "id"), token.source.id);

  r.Decimal64(r.Field(root, "created_ns"), token.created_ns);
  r.Decimal64(r.Field(root, "expiration_ns"), token.expiration_ns);
  r.LuidValue(r.Field(root, "origin"), token.origin);
  r.U32(r.Field(root, "interactive_session_id"), token.interactive_session_id);
  r.EnumValue(r.Field(root, "logon_type"), token.logon_type,
              {LogonType::kInteractive, LogonType::kNetwork, LogonType::kBatch,
               LogonType::kService, LogonType::kNetworkCleartext,
               LogonType::kNewCredentials},
              "a logon type (2, 3, 4, 5, 8 or 9)");

  r.Claims(r.Field(root, "user_claims"), token.user_claims);
  r.Claims(r.Field(root, "device_claims"), token.device_claims);
  r.OptionalSidList(r.Field(root, "device_groups"), token.device_groups);
  r.OptionalSidList(r.Field(root, "restricted_device_groups"),
                    token.restricted_device_groups);

  r.OptionalSid(r.Field(root, "confinement_sid"), token.confinement_sid);
  r.Bool(r.Field(root, "isolation_boundary"), token.isolation_boundary);
  r.Bool(r.Field(root, "confinement_exempt"), token.confinement_exempt);
  r.U32(r.Field(root, "audit_policy"), token.audit_policy);

  r.U32(r.Field(root, "projected_uid"), token.projected_uid);
  r.U32(r.Field(root, "projected_gid"), token.projected_gid);
  r.U32List(r.Field(root, "projected_supplementary_gids"),
            token.projected_supplementary_gids);

  const Node capabilities = r.Field(root, "capabilities");
  if (const std::optional<size_t> size = r.Array(capabilities)) {
    for (size_t i = 0; i < *size && !r.failed(); ++i) {
      const Node entry = r.Object(r.Element(capabilities, i), {"name", "sid"});
      Capability capability;
      const Node name = r.Field(entry, "name");
      const Node sid = r.Field(entry, "sid");
      r.Text(name, capability.name);
      r.SidValue(sid, capability.sid);
      if (r.failed() || capability.name.empty()) {
        token.capabilities.push_back(std::move(capability));
        continue;
      }
      // A name grants through CapabilityCovers, a SID through the spec: the
      // two must name the same capability.
      Result<std::string> canonical = ParseCapabilityName(capability.name);
      if (!canonical) {
        r.Fail(name.path, canonical.error().message);
      } else if (CapabilitySid(*canonical) != capability.sid) {
        r.Fail(sid.path, capability.sid.ToString() +
                             " is not the SID of capability '" +
                             capability.name + "' (" +
                             CapabilitySid(*canonical).ToString() + ")");
      }
      token.capabilities.push_back(std::move(capability));
    }
  }

  const Node security = r.Object(r.Field(root, "security"),
                                 {"control", "owner", "group", "dacl", "sacl"});
  r.U16(r.Field(security, "control"), token.security.control);
  r.OptionalSid(r.Field(security, "owner"), token.security.owner);
  r.OptionalSid(r.Field(security, "group"), token.security.group);
  const Node dacl = r.Field(security, "dacl");
  const Node sacl = r.Field(security, "sacl");
  r.OptionalAcl(dacl, token.security.dacl);
  r.OptionalAcl(sacl, token.security.sacl);
  // SecurityDescriptor's invariant: an ACL only with its present bit.
  if (!r.failed() && token.security.dacl && !token.security.dacl_present()) {
    r.Fail(dacl.path, "an ACL while control lacks SE_DACL_PRESENT (0x4)");
  }
  if (!r.failed() && token.security.sacl && !token.security.sacl_present()) {
    r.Fail(sacl.path, "an ACL while control lacks SE_SACL_PRESENT (0x10)");
  }

  if (r.failed()) return r.error();
  if (Status valid = ValidateToken(token); !valid) {
    return InvalidArgument(std::string(kTokenRecord) + ": " +
                           valid.error().message);
  }
  return token;
}

Result<LinuxCredentials> DecodeCredentials(const Json& json) {
  Reader r(kCredentialsRecord);
  const Node root = r.Root(
      json, {"real_uid", "effective_uid", "saved_uid", "fs_uid", "real_gid",
             "effective_gid", "saved_gid", "fs_gid", "supplementary_gids",
             "cap_permitted", "cap_effective", "cap_inheritable",
             "cap_bounding", "cap_ambient", "no_new_privs", "has_terminal",
             "audit_session_id", "initial_user_namespace"});
  LinuxCredentials credentials;
  r.U32(r.Field(root, "real_uid"), credentials.real_uid);
  r.U32(r.Field(root, "effective_uid"), credentials.effective_uid);
  r.U32(r.Field(root, "saved_uid"), credentials.saved_uid);
  r.U32(r.Field(root, "fs_uid"), credentials.fs_uid);
  r.U32(r.Field(root, "real_gid"), credentials.real_gid);
  r.U32(r.Field(root, "effective_gid"), credentials.effective_gid);
  r.U32(r.Field(root, "saved_gid"), credentials.saved_gid);
  r.U32(r.Field(root, "fs_gid"), credentials.fs_gid);
  r.U32List(r.Field(root, "supplementary_gids"),
            credentials.supplementary_gids);
  r.Hex64(r.Field(root, "cap_permitted"), credentials.cap_permitted);
  r.Hex64(r.Field(root, "cap_effective"), credentials.cap_effective);
  r.Hex64(r.Field(root, "cap_inheritable"), credentials.cap_inheritable);
  r.Hex64(r.Field(root, "cap_bounding"), credentials.cap_bounding);
  r.Hex64(r.Field(root, "cap_ambient"), credentials.cap_ambient);
  r.Bool(r.Field(root, "no_new_privs"), credentials.no_new_privs);
  r.Bool(r.Field(root, "has_terminal"), credentials.has_terminal);
  r.U32(r.Field(root, "audit_session_id"), credentials.audit_session_id);
  r.Bool(r.Field(root, "initial_user_namespace"),
         credentials.initial_user_namespace);
  if (r.failed()) return r.error();
  return credentials;
}

// Parses and decodes, turning any exception (none is expected: the syntax
// pass and the type checks come first) into an error.
template <typename T>
Result<T> Decode(std::string_view record, std::string_view text,
                 Result<T> (*decode)(const Json&)) {
  try {
    Json json;
    if (Status parsed = ParseJson(record, text, json); !parsed) {
      return tl::unexpected(parsed.error());
    }
    return decode(json);
  } catch (const std::exception& exception) {
    return MakeError(
        ErrorCode::kInternal,
        std::string(record) + ": unexpected failure: " + exception.what());
  }
}

}  // namespace

std::string EncodeTokenRecord(const Token& token) {
  const OrderedJson record = {
      {"v", token_record::kVersion},
      {"user", SidJson(token.user)},
      {"user_deny_only", token.user_deny_only},
      {"groups", SidListJson(token.groups)},
      {"restricted_sids", OptionalSidListJson(token.restricted_sids)},
      {"write_restricted", token.write_restricted},
      {"type", static_cast<uint32_t>(token.type)},
      {"impersonation_level", static_cast<uint32_t>(token.impersonation_level)},
      {"integrity_rid", token.integrity_rid},
      {"mandatory_policy", token.mandatory_policy},
      {"privileges", OrderedJson{{"present", Hex64(token.privileges.present)},
                                 {"enabled", Hex64(token.privileges.enabled)},
                                 {"enabled_by_default",
                                  Hex64(token.privileges.enabled_by_default)},
                                 {"used", Hex64(token.privileges.used)}}},
      {"elevation_type", static_cast<uint32_t>(token.elevation_type)},
      {"owner_index", token.owner_index},
      {"primary_group_index", token.primary_group_index},
      {"default_dacl", OptionalAclJson(token.default_dacl)},
      {"token_id", Hex64(token.token_id.value)},
      {"auth_id", Hex64(token.auth_id.value)},
      {"modified_id", Hex64(token.modified_id.value)},
      {"parent_token_id", Hex64(token.parent_token_id.value)},
      {"source", OrderedJson{{"name", HexBytes(std::span<const uint8_t>(
                                          reinterpret_cast<const uint8_t*>(
                                              token.source.name.data()),
                                          token.source.name.size()))},
                             {"id", Hex64(token.source.id.value)}}},
      {"created_ns", std::to_string(token.created_ns)},
      {"expiration_ns", std::to_string(token.expiration_ns)},
      {"origin", Hex64(token.origin.value)},
      {"interactive_session_id", token.interactive_session_id},
      {"logon_type", static_cast<uint32_t>(token.logon_type)},
      {"user_claims", ClaimsJson(token.user_claims)},
      {"device_claims", ClaimsJson(token.device_claims)},
      {"device_groups", OptionalSidListJson(token.device_groups)},
      {"restricted_device_groups",
       OptionalSidListJson(token.restricted_device_groups)},
      {"confinement_sid", OptionalSidJson(token.confinement_sid)},
      {"isolation_boundary", token.isolation_boundary},
      {"confinement_exempt", token.confinement_exempt},
      {"audit_policy", token.audit_policy},
      {"projected_uid", token.projected_uid},
      {"projected_gid", token.projected_gid},
      {"projected_supplementary_gids",
       U32Array(token.projected_supplementary_gids)},
      {"capabilities", CapabilitiesJson(token.capabilities)},
      {"security", SecurityJson(token.security)},
  };
  return Dump(record);
}

Result<Token> DecodeTokenRecord(std::string_view text) {
  return Decode<Token>(kTokenRecord, text, &DecodeToken);
}

std::string EncodeCredentialsRecord(const LinuxCredentials& credentials) {
  const OrderedJson record = {
      {"v", token_record::kVersion},
      {"real_uid", credentials.real_uid},
      {"effective_uid", credentials.effective_uid},
      {"saved_uid", credentials.saved_uid},
      {"fs_uid", credentials.fs_uid},
      {"real_gid", credentials.real_gid},
      {"effective_gid", credentials.effective_gid},
      {"saved_gid", credentials.saved_gid},
      {"fs_gid", credentials.fs_gid},
      {"supplementary_gids", U32Array(credentials.supplementary_gids)},
      {"cap_permitted", Hex64(credentials.cap_permitted)},
      {"cap_effective", Hex64(credentials.cap_effective)},
      {"cap_inheritable", Hex64(credentials.cap_inheritable)},
      {"cap_bounding", Hex64(credentials.cap_bounding)},
      {"cap_ambient", Hex64(credentials.cap_ambient)},
      {"no_new_privs", credentials.no_new_privs},
      {"has_terminal", credentials.has_terminal},
      {"audit_session_id", credentials.audit_session_id},
      {"initial_user_namespace", credentials.initial_user_namespace},
  };
  return Dump(record);
}

Result<LinuxCredentials> DecodeCredentialsRecord(std::string_view text) {
  return Decode<LinuxCredentials>(kCredentialsRecord, text, &DecodeCredentials);
}

}  // namespace tokenfs
