#include "core/token_spec.h"

#include <algorithm>
#include <string>

#include "core/ascii.h"
#include "core/byte_io.h"
#include "core/privilege.h"

namespace tokenfs {
namespace {

using token_spec::kHeaderSize;
using token_spec::kMaxSize;

// Header field offsets (the Peios v0.20 ABI's token spec header).
namespace field {
constexpr size_t kVersion = 0;
constexpr size_t kTokenType = 4;
constexpr size_t kImpersonationLevel = 5;
constexpr size_t kReserved0 = 6;
constexpr size_t kIntegrityRid = 8;
constexpr size_t kMandatoryPolicy = 12;
constexpr size_t kPrivsPresent = 16;
constexpr size_t kPrivsEnabled = 24;
constexpr size_t kReserved1 = 32;
constexpr size_t kProjectedUid = 36;
constexpr size_t kProjectedGid = 40;
constexpr size_t kAuditPolicy = 44;
constexpr size_t kExpiration = 48;
constexpr size_t kSessionId = 56;
constexpr size_t kOwnerIndex = 64;
constexpr size_t kPrimaryGroupIndex = 68;
constexpr size_t kSourceName = 72;
constexpr size_t kSourceId = 80;
constexpr size_t kUserSidOffset = 88;
constexpr size_t kGroups = 92;
constexpr size_t kDefaultDacl = 100;
constexpr size_t kUserClaims = 108;
constexpr size_t kDeviceClaims = 116;
constexpr size_t kDeviceGroups = 124;
constexpr size_t kRestrictedSids = 132;
constexpr size_t kConfinementSid = 140;
constexpr size_t kConfinementCaps = 148;
constexpr size_t kConfinementExempt = 156;
constexpr size_t kWriteRestricted = 157;
constexpr size_t kUserDenyOnly = 158;
constexpr size_t kIsolationBoundary = 159;
constexpr size_t kSuppGids = 160;
constexpr size_t kRestrictedDeviceGroups = 168;
constexpr size_t kOrigin = 176;
constexpr size_t kInteractiveSessionId = 184;
constexpr size_t kReserved3 = 188;
}  // namespace field

constexpr uint8_t kSddlAceFlags =
    ace_flags::kObjectInherit | ace_flags::kContainerInherit |
    ace_flags::kNoPropagateInherit | ace_flags::kInheritOnly |
    ace_flags::kInherited | ace_flags::kSuccessfulAccess |
    ace_flags::kFailedAccess;

tl::unexpected<Error> SpecError(const std::string& message) {
  return InvalidArgument("token spec: " + message);
}

std::string Indexed(const char* list, size_t index) {
  return std::string(list) + "[" + std::to_string(index) + "]";
}

// Rules shared by every SID-and-attributes list.
Status CheckSidList(const std::vector<SidAndAttributes>& list,
                    const char* name) {
  for (size_t i = 0; i < list.size(); ++i) {
    const uint32_t attributes = list[i].attributes;
    const std::string where = Indexed(name, i);
    if (attributes & group_attributes::kLogonId) {
      return SpecError(where + ": attributes " + FormatHex(attributes) +
                       " include logon-id bits (the logon SID is added by "
                       "tokenfs)");
    }
    if (attributes & ~token_spec::kCallerAttributeMask) {
      return SpecError(
          where + ": attributes " + FormatHex(attributes) +
          " have unknown bits " +
          FormatHex(attributes & ~token_spec::kCallerAttributeMask));
    }
    if ((attributes & group_attributes::kUseForDenyOnly) &&
        (attributes &
         (group_attributes::kEnabled | group_attributes::kEnabledByDefault))) {
      return SpecError(where +
                       ": a deny-only entry cannot be enabled or enabled by "
                       "default");
    }
    for (size_t j = 0; j < i; ++j) {
      if (list[j].sid == list[i].sid) {
        return SpecError(where + ": " + list[i].sid.ToString() + " repeats " +
                         Indexed(name, j));
      }
    }
  }
  return Ok();
}

Status CheckDefaultDacl(const Acl& acl) {
  if (acl.revision != acl.CanonicalRevision()) {
    return SpecError("default_dacl: revision " + std::to_string(acl.revision) +
                     " where its ACEs need revision " +
                     std::to_string(acl.CanonicalRevision()));
  }
  for (size_t i = 0; i < acl.aces.size(); ++i) {
    const Ace& ace = acl.aces[i];
    const std::string where = "default_dacl: ACE " + std::to_string(i);
    switch (ace.type) {
      case AceType::kAccessAllowed:
      case AceType::kAccessDenied:
      case AceType::kAccessAllowedObject:
      case AceType::kAccessDeniedObject:
        break;
      default:
        return SpecError(where + " has type " +
                         FormatHex(static_cast<uint8_t>(ace.type)) +
                         " (a default DACL holds only allow and deny ACEs)");
    }
    if (ace.flags & ~kSddlAceFlags) {
      return SpecError(where + " has unknown flag bits " +
                       FormatHex(ace.flags & ~kSddlAceFlags));
    }
    if (!ace.application_data.empty()) {
      return SpecError(where + " carries " +
                       std::to_string(ace.application_data.size()) +
                       " bytes after its SID");
    }
  }
  return Ok();
}

Status CheckSourceName(const TokenSource& source) {
  bool padding = false;
  for (size_t i = 0; i < source.name.size(); ++i) {
    const auto byte = static_cast<unsigned char>(source.name[i]);
    if (byte == 0) {
      padding = true;
      continue;
    }
    if (padding) {
      return SpecError("source_name byte " + std::to_string(i) + " is " +
                       FormatHex(byte) + " after the NUL padding");
    }
    if (byte < 0x20 || byte > 0x7e) {
      return SpecError("source_name byte " + std::to_string(i) + " is " +
                       FormatHex(byte) +
                       " (printable ASCII, then NUL padding)");
    }
  }
  return Ok();
}

}  // namespace

Status ValidateTokenSpec(const TokenSpec& spec) {
  const auto type = static_cast<uint32_t>(spec.type);
  if (spec.type != TokenType::kPrimary &&
      spec.type != TokenType::kImpersonation) {
    return SpecError("token_type is " + std::to_string(type) +
                     " (1 primary or 2 impersonation)");
  }
  const auto level = static_cast<uint32_t>(spec.impersonation_level);
  if (level > 3) {
    return SpecError("impersonation_level is " + std::to_string(level) +
                     " (0 anonymous to 3 delegation)");
  }
  if (spec.type == TokenType::kPrimary && level != 0) {
    return SpecError(
        "impersonation_level must be 0 (anonymous) for a "
        "primary token");
  }
  if (spec.mandatory_policy & ~mandatory_policy::kValidMask) {
    return SpecError(
        "mandatory_policy has unknown bits " +
        FormatHex(spec.mandatory_policy & ~mandatory_policy::kValidMask));
  }
  if (spec.audit_policy & ~audit_policy::kValidMask) {
    return SpecError("audit_policy has unknown bits " +
                     FormatHex(spec.audit_policy & ~audit_policy::kValidMask));
  }
  if (spec.privileges_present & ~privilege::kCatalogMask) {
    return SpecError(
        "privs_present has bits outside the privilege catalog (" +
        FormatHex(spec.privileges_present & ~privilege::kCatalogMask) + ")");
  }
  if (spec.privileges_enabled & ~spec.privileges_present) {
    return SpecError(
        "privs_enabled has bits outside privs_present (" +
        FormatHex(spec.privileges_enabled & ~spec.privileges_present) + ")");
  }
  if (spec.projected_uid == 0 && spec.user != well_known::LocalSystem()) {
    return SpecError("projected_uid 0 is reserved for S-1-5-18 (the user is " +
                     spec.user.ToString() + ")");
  }
  if (spec.write_restricted && !spec.user_deny_only) {
    return SpecError("write_restricted requires user_deny_only");
  }
  if (spec.isolation_boundary && !spec.confinement_sid) {
    return SpecError("isolation_boundary requires a confinement SID");
  }
  if (spec.confinement_sid &&
      !spec.confinement_sid->HasPrefix(kAppPackageAuthority, {2})) {
    return SpecError("confinement_sid " + spec.confinement_sid->ToString() +
                     " is not an app-container SID (S-1-15-2-...)");
  }
  if (spec.groups.size() > token_spec::kMaxCallerGroups) {
    return SpecError("groups_count " + std::to_string(spec.groups.size()) +
                     " exceeds 1023 (the logon SID tokenfs adds makes 1024)");
  }
  for (size_t i = 0; i < spec.groups.size(); ++i) {
    if (IsLogonSid(spec.groups[i].sid)) {
      return SpecError(Indexed("groups", i) + ": " +
                       spec.groups[i].sid.ToString() +
                       " is a logon SID (the logon SID is added by tokenfs)");
    }
  }
  auto status = CheckSidList(spec.groups, "groups");
  if (!status) return status;
  status = CheckSidList(spec.device_groups, "device_groups");
  if (!status) return status;
  status = CheckSidList(spec.restricted_sids, "restricted_sids");
  if (!status) return status;
  status =
      CheckSidList(spec.restricted_device_groups, "restricted_device_groups");
  if (!status) return status;
  for (size_t i = 0; i < spec.capabilities.size(); ++i) {
    const Sid& sid = spec.capabilities[i];
    if (!IsCapabilitySid(sid)) {
      return SpecError(Indexed("capabilities", i) + ": " + sid.ToString() +
                       " is not a capability SID (S-1-15-3-...)");
    }
    for (size_t j = 0; j < i; ++j) {
      if (spec.capabilities[j] == sid) {
        return SpecError(Indexed("capabilities", i) + ": " + sid.ToString() +
                         " repeats " + Indexed("capabilities", j));
      }
    }
  }
  const size_t group_count = spec.groups.size();
  if (spec.owner_index > group_count) {
    return SpecError("owner_sid_index " + std::to_string(spec.owner_index) +
                     " is beyond the " + std::to_string(group_count) +
                     " caller groups");
  }
  if (spec.owner_index > 0 && !(spec.groups[spec.owner_index - 1].attributes &
                                group_attributes::kOwner)) {
    return SpecError("owner_sid_index " + std::to_string(spec.owner_index) +
                     " names " + Indexed("groups", spec.owner_index - 1) +
                     ", which lacks the owner attribute");
  }
  if (spec.primary_group_index > group_count) {
    return SpecError(
        "primary_group_index " + std::to_string(spec.primary_group_index) +
        " is beyond the " + std::to_string(group_count) + " caller groups");
  }
  if (spec.default_dacl) {
    status = CheckDefaultDacl(*spec.default_dacl);
    if (!status) return status;
  }
  const std::pair<const char*, const std::vector<Claim>*> claim_lists[] = {
      {"user_claims", &spec.user_claims},
      {"device_claims", &spec.device_claims}};
  for (const auto& [name, claims] : claim_lists) {
    for (size_t i = 0; i < claims->size(); ++i) {
      status = ValidateClaim((*claims)[i]);
      if (!status) {
        return SpecError(std::string(name) + ": claim " + std::to_string(i) +
                         ": " + status.error().message);
      }
    }
  }
  return CheckSourceName(spec.source);
}

namespace {

// One present section's byte range, for the overlap check.
struct Extent {
  const char* name;
  uint64_t begin;
  uint64_t end;
};

class SpecDecoder {
 public:
  explicit SpecDecoder(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  Result<TokenSpec> Decode();

 private:
  uint8_t U8(size_t at) const { return bytes_[at]; }
  uint32_t U32(size_t at) const { return ReadU32At(bytes_, at); }
  uint64_t U64(size_t at) const { return ReadU64At(bytes_, at); }

  std::string SizeText() const {
    return "the " + std::to_string(bytes_.size()) + "-byte spec";
  }

  // Reads the (offset, length-or-count) pair at `at`; `present` says
  // whether the section exists. Fails when exactly one of them is zero or
  // the offset is outside the sections area.
  Status ReadPair(size_t at, const char* name, const char* second,
                  uint32_t& offset, uint32_t& amount, bool& present) const {
    offset = U32(at);
    amount = U32(at + 4);
    present = offset != 0 || amount != 0;
    if (!present) return Ok();
    if (offset == 0) {
      return SpecError(std::string(name) + "_offset is 0 but " + name + "_" +
                       second + " is " + std::to_string(amount) +
                       " (both 0 means none)");
    }
    if (amount == 0) {
      return SpecError(std::string(name) + "_" + second + " is 0 but " + name +
                       "_offset is " + std::to_string(offset) +
                       " (both 0 means none)");
    }
    return CheckOffset(name, offset);
  }

  Status CheckOffset(const char* name, uint32_t offset) const {
    if (offset < kHeaderSize) {
      return SpecError(std::string(name) + "_offset " + std::to_string(offset) +
                       " points into the 192-byte header");
    }
    if (offset >= bytes_.size()) {
      return SpecError(std::string(name) + "_offset " + std::to_string(offset) +
                       " is beyond the end of " + SizeText());
    }
    return Ok();
  }

  // A section given by offset and byte length.
  Result<std::span<const uint8_t>> Slice(const char* name, uint32_t offset,
                                         uint32_t length) {
    if (uint64_t{offset} + length > bytes_.size()) {
      return SpecError(std::string(name) + " (offset " +
                       std::to_string(offset) + ", length " +
                       std::to_string(length) + ") runs past the end of " +
                       SizeText());
    }
    extents_.push_back({name, offset, uint64_t{offset} + length});
    return bytes_.subspan(offset, length);
  }

  Result<std::vector<SidAndAttributes>> SidList(const char* name,
                                                uint32_t offset,
                                                uint32_t count) {
    std::vector<SidAndAttributes> list;
    uint64_t position = offset;
    for (uint32_t i = 0; i < count; ++i) {
      const std::string where = Indexed(name, i);
      if (position + 4 > bytes_.size()) {
        return SpecError(where + ": sid_len runs past the end of " +
                         SizeText());
      }
      const uint32_t sid_len = U32(static_cast<size_t>(position));
      if (position + 4 + uint64_t{sid_len} + 4 > bytes_.size()) {
        return SpecError(where + ": sid_len " + std::to_string(sid_len) +
                         " runs past the end of " + SizeText());
      }
      size_t consumed = 0;
      auto sid = Sid::FromBinary(
          bytes_.subspan(static_cast<size_t>(position) + 4, sid_len),
          &consumed);
      if (!sid) return SpecError(where + ": " + sid.error().message);
      if (consumed != sid_len) {
        return SpecError(where + ": sid_len " + std::to_string(sid_len) +
                         " but the SID takes " + std::to_string(consumed) +
                         " bytes");
      }
      const uint32_t attributes =
          U32(static_cast<size_t>(position) + 4 + sid_len);
      list.push_back({*sid, attributes});
      position += 4 + uint64_t{sid_len} + 4;
    }
    extents_.push_back({name, offset, position});
    return list;
  }

  Result<Sid> SingleSid(const char* name, uint32_t offset,
                        std::optional<uint32_t> length) {
    const uint64_t end =
        length ? uint64_t{offset} + *length : uint64_t{bytes_.size()};
    if (end > bytes_.size()) {
      return SpecError(std::string(name) + " (offset " +
                       std::to_string(offset) + ", length " +
                       std::to_string(*length) + ") runs past the end of " +
                       SizeText());
    }
    size_t consumed = 0;
    auto sid = Sid::FromBinary(
        bytes_.subspan(offset, static_cast<size_t>(end - offset)), &consumed);
    if (!sid) return SpecError(std::string(name) + ": " + sid.error().message);
    if (length && consumed != *length) {
      return SpecError(std::string(name) + "_len " + std::to_string(*length) +
                       " but the SID takes " + std::to_string(consumed) +
                       " bytes");
    }
    extents_.push_back({name, offset, uint64_t{offset} + consumed});
    return *sid;
  }

  Status Flag(size_t at, const char* name, bool& value) const {
    const uint8_t byte = U8(at);
    if (byte > 1) {
      return SpecError(std::string(name) + " is " + std::to_string(byte) +
                       " (must be 0 or 1)");
    }
    value = byte == 1;
    return Ok();
  }

  Status CheckOverlaps() {
    std::sort(
        extents_.begin(), extents_.end(),
        [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < extents_.size(); ++i) {
      const Extent& before = extents_[i - 1];
      const Extent& after = extents_[i];
      if (after.begin < before.end) {
        return SpecError(std::string("sections ") + before.name + " (bytes " +
                         std::to_string(before.begin) + ".." +
                         std::to_string(before.end) + ") and " + after.name +
                         " (bytes " + std::to_string(after.begin) + ".." +
                         std::to_string(after.end) + ") overlap");
      }
    }
    return Ok();
  }

  std::span<const uint8_t> bytes_;
  std::vector<Extent> extents_;
};

Result<TokenSpec> SpecDecoder::Decode() {
  if (bytes_.size() > kMaxSize) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "token spec is " + std::to_string(bytes_.size()) +
                         " bytes (at most 65536)");
  }
  if (bytes_.size() < kHeaderSize) {
    return SpecError("only " + std::to_string(bytes_.size()) +
                     " bytes, shorter than the 192-byte header");
  }
  const uint32_t version = U32(field::kVersion);
  if (version != token_spec::kVersion) {
    return SpecError("version is " + std::to_string(version) +
                     " (only version 2 is supported)");
  }
  if (U8(field::kReserved0) != 0 || U8(field::kReserved0 + 1) != 0) {
    return SpecError("reserved0 must be 0");
  }
  if (U32(field::kReserved1) != 0) {
    return SpecError(
        "reserved1 must be 0 (the elevation type is set only by "
        "linking tokens)");
  }
  if (U32(field::kReserved3) != 0) {
    return SpecError(
        "reserved3 at offset 188 must be 0 (LCS credentials are "
        "not supported)");
  }
  TokenSpec spec;
  const uint8_t type = U8(field::kTokenType);
  if (type != 1 && type != 2) {
    return SpecError("token_type is " + std::to_string(type) +
                     " (1 primary or 2 impersonation)");
  }
  spec.type = static_cast<TokenType>(type);
  const uint8_t level = U8(field::kImpersonationLevel);
  if (level > 3) {
    return SpecError("impersonation_level is " + std::to_string(level) +
                     " (0 anonymous to 3 delegation)");
  }
  spec.impersonation_level = static_cast<ImpersonationLevel>(level);
  spec.integrity_rid = U32(field::kIntegrityRid);
  spec.mandatory_policy = U32(field::kMandatoryPolicy);
  spec.privileges_present = U64(field::kPrivsPresent);
  spec.privileges_enabled = U64(field::kPrivsEnabled);
  spec.projected_uid = U32(field::kProjectedUid);
  spec.projected_gid = U32(field::kProjectedGid);
  spec.audit_policy = U32(field::kAuditPolicy);
  spec.expiration_ns = U64(field::kExpiration);
  spec.session_id = Luid{U64(field::kSessionId)};
  spec.owner_index = U32(field::kOwnerIndex);
  spec.primary_group_index = U32(field::kPrimaryGroupIndex);
  for (size_t i = 0; i < spec.source.name.size(); ++i) {
    spec.source.name[i] = static_cast<char>(U8(field::kSourceName + i));
  }
  spec.source.id = Luid{U64(field::kSourceId)};
  spec.origin = Luid{U64(field::kOrigin)};
  spec.interactive_session_id = U32(field::kInteractiveSessionId);
  auto status = Flag(field::kConfinementExempt, "confinement_exempt",
                     spec.confinement_exempt);
  if (!status) return tl::unexpected(status.error());
  status =
      Flag(field::kWriteRestricted, "write_restricted", spec.write_restricted);
  if (!status) return tl::unexpected(status.error());
  status = Flag(field::kUserDenyOnly, "user_deny_only", spec.user_deny_only);
  if (!status) return tl::unexpected(status.error());
  status = Flag(field::kIsolationBoundary, "isolation_boundary",
                spec.isolation_boundary);
  if (!status) return tl::unexpected(status.error());

  // The user SID.
  const uint32_t user_offset = U32(field::kUserSidOffset);
  if (user_offset == 0) {
    return SpecError("user_sid_offset is 0 (the user SID is required)");
  }
  status = CheckOffset("user_sid", user_offset);
  if (!status) return tl::unexpected(status.error());
  auto user = SingleSid("user_sid", user_offset, std::nullopt);
  if (!user) return tl::unexpected(user.error());
  spec.user = *user;

  uint32_t offset = 0;
  uint32_t amount = 0;
  bool present = false;

  // SID-and-attributes lists.
  struct ListField {
    size_t at;
    const char* name;
    std::vector<SidAndAttributes>* target;
  };
  const ListField lists[] = {
      {field::kGroups, "groups", &spec.groups},
      {field::kDeviceGroups, "device_groups", &spec.device_groups},
      {field::kRestrictedSids, "restricted_sids", &spec.restricted_sids},
      {field::kRestrictedDeviceGroups, "restricted_device_groups",
       &spec.restricted_device_groups},
  };
  for (const auto& list : lists) {
    status = ReadPair(list.at, list.name, "count", offset, amount, present);
    if (!status) return tl::unexpected(status.error());
    if (!present) continue;
    if (list.at == field::kGroups && amount > token_spec::kMaxCallerGroups) {
      return SpecError("groups_count " + std::to_string(amount) +
                       " exceeds 1023 (the logon SID tokenfs adds makes "
                       "1024)");
    }
    auto entries = SidList(list.name, offset, amount);
    if (!entries) return tl::unexpected(entries.error());
    *list.target = std::move(*entries);
  }

  // Capabilities: a SID list whose attributes are fixed.
  status = ReadPair(field::kConfinementCaps, "confinement_caps", "count",
                    offset, amount, present);
  if (!status) return tl::unexpected(status.error());
  if (present) {
    auto entries = SidList("capabilities", offset, amount);
    if (!entries) return tl::unexpected(entries.error());
    for (size_t i = 0; i < entries->size(); ++i) {
      const uint32_t attributes = (*entries)[i].attributes;
      if (attributes != token_spec::kCapabilityAttributes) {
        return SpecError(Indexed("capabilities", i) + ": attributes " +
                         FormatHex(attributes) +
                         " (capability entries carry exactly SE_GROUP_ENABLED "
                         "0x4)");
      }
      spec.capabilities.push_back((*entries)[i].sid);
    }
  }

  // Default DACL.
  status = ReadPair(field::kDefaultDacl, "default_dacl", "len", offset, amount,
                    present);
  if (!status) return tl::unexpected(status.error());
  if (present) {
    auto section = Slice("default_dacl", offset, amount);
    if (!section) return tl::unexpected(section.error());
    size_t consumed = 0;
    auto acl = Acl::FromBinary(*section, &consumed);
    if (!acl) return SpecError("default_dacl: " + acl.error().message);
    if (consumed != amount) {
      return SpecError("default_dacl_len " + std::to_string(amount) +
                       " but the ACL size field says " +
                       std::to_string(consumed));
    }
    spec.default_dacl = std::move(*acl);
  }

  // Claims.
  struct ClaimField {
    size_t at;
    const char* name;
    std::vector<Claim>* target;
  };
  const ClaimField claim_fields[] = {
      {field::kUserClaims, "user_claims", &spec.user_claims},
      {field::kDeviceClaims, "device_claims", &spec.device_claims},
  };
  for (const auto& claims_field : claim_fields) {
    status = ReadPair(claims_field.at, claims_field.name, "len", offset, amount,
                      present);
    if (!status) return tl::unexpected(status.error());
    if (!present) continue;
    auto section = Slice(claims_field.name, offset, amount);
    if (!section) return tl::unexpected(section.error());
    auto claims = DecodeClaims(*section);
    if (!claims) {
      return SpecError(std::string(claims_field.name) + ": " +
                       claims.error().message);
    }
    *claims_field.target = std::move(*claims);
  }

  // Confinement SID.
  status = ReadPair(field::kConfinementSid, "confinement_sid", "len", offset,
                    amount, present);
  if (!status) return tl::unexpected(status.error());
  if (present) {
    auto sid = SingleSid("confinement_sid", offset, amount);
    if (!sid) return tl::unexpected(sid.error());
    spec.confinement_sid = *sid;
  }

  // Projected supplementary gids.
  status =
      ReadPair(field::kSuppGids, "supp_gids", "count", offset, amount, present);
  if (!status) return tl::unexpected(status.error());
  if (present) {
    if (uint64_t{offset} + 4 * uint64_t{amount} > bytes_.size()) {
      return SpecError("supp_gids (offset " + std::to_string(offset) + ", " +
                       std::to_string(amount) +
                       " entries) runs past the end of " + SizeText());
    }
    extents_.push_back({"supp_gids", offset, offset + 4 * uint64_t{amount}});
    spec.supplementary_gids.reserve(amount);
    for (uint32_t i = 0; i < amount; ++i) {
      spec.supplementary_gids.push_back(U32(offset + 4 * size_t{i}));
    }
  }

  status = CheckOverlaps();
  if (!status) return tl::unexpected(status.error());
  // Whatever decodes must encode: the canonical form may be larger than the
  // input (claims sharing data, sections packed without padding). Encoding
  // runs ValidateTokenSpec first, whose errors (never kResourceExhausted)
  // pass through unchanged, so the spec is validated once.
  auto canonical = EncodeTokenSpec(spec);
  if (!canonical) {
    if (canonical.error().code != ErrorCode::kResourceExhausted) {
      return tl::unexpected(canonical.error());
    }
    return MakeError(ErrorCode::kResourceExhausted,
                     "token spec: its canonical form would exceed 65536 bytes");
  }
  return spec;
}

void AppendSidList(const std::vector<SidAndAttributes>& list,
                   std::vector<uint8_t>& out) {
  for (const auto& entry : list) {
    AppendU32(out, static_cast<uint32_t>(entry.sid.BinarySize()));
    entry.sid.AppendBinary(out);
    AppendU32(out, entry.attributes);
  }
}

}  // namespace

Result<TokenSpec> DecodeTokenSpec(std::span<const uint8_t> bytes) {
  return SpecDecoder(bytes).Decode();
}

Result<std::vector<uint8_t>> EncodeTokenSpec(const TokenSpec& spec) {
  auto status = ValidateTokenSpec(spec);
  if (!status) return tl::unexpected(status.error());
  std::vector<uint8_t> out(kHeaderSize, 0);
  PatchU32(out, field::kVersion, token_spec::kVersion);
  out[field::kTokenType] = static_cast<uint8_t>(spec.type);
  out[field::kImpersonationLevel] =
      static_cast<uint8_t>(spec.impersonation_level);
  PatchU32(out, field::kIntegrityRid, spec.integrity_rid);
  PatchU32(out, field::kMandatoryPolicy, spec.mandatory_policy);
  PatchU64(out, field::kPrivsPresent, spec.privileges_present);
  PatchU64(out, field::kPrivsEnabled, spec.privileges_enabled);
  PatchU32(out, field::kProjectedUid, spec.projected_uid);
  PatchU32(out, field::kProjectedGid, spec.projected_gid);
  PatchU32(out, field::kAuditPolicy, spec.audit_policy);
  PatchU64(out, field::kExpiration, spec.expiration_ns);
  PatchU64(out, field::kSessionId, spec.session_id.value);
  PatchU32(out, field::kOwnerIndex, spec.owner_index);
  PatchU32(out, field::kPrimaryGroupIndex, spec.primary_group_index);
  for (size_t i = 0; i < spec.source.name.size(); ++i) {
    out[field::kSourceName + i] = static_cast<uint8_t>(spec.source.name[i]);
  }
  PatchU64(out, field::kSourceId, spec.source.id.value);
  out[field::kConfinementExempt] = spec.confinement_exempt ? 1 : 0;
  out[field::kWriteRestricted] = spec.write_restricted ? 1 : 0;
  out[field::kUserDenyOnly] = spec.user_deny_only ? 1 : 0;
  out[field::kIsolationBoundary] = spec.isolation_boundary ? 1 : 0;
  PatchU64(out, field::kOrigin, spec.origin.value);
  PatchU32(out, field::kInteractiveSessionId, spec.interactive_session_id);

  // Starts a section: pads to 4 bytes and returns its offset.
  auto begin_section = [&out]() {
    while (out.size() % 4 != 0) out.push_back(0);
    return static_cast<uint32_t>(out.size());
  };
  // Writes the (offset, amount) pair at `at`.
  auto set_pair = [&out](size_t at, uint32_t offset, size_t amount) {
    PatchU32(out, at, offset);
    PatchU32(out, at + 4, static_cast<uint32_t>(amount));
  };

  PatchU32(out, field::kUserSidOffset, begin_section());
  spec.user.AppendBinary(out);
  if (!spec.groups.empty()) {
    set_pair(field::kGroups, begin_section(), spec.groups.size());
    AppendSidList(spec.groups, out);
  }
  if (spec.default_dacl) {
    auto acl = spec.default_dacl->ToBinary();
    if (!acl) return SpecError("default_dacl: " + acl.error().message);
    set_pair(field::kDefaultDacl, begin_section(), acl->size());
    out.insert(out.end(), acl->begin(), acl->end());
  }
  const std::pair<size_t, const std::vector<Claim>*> claim_fields[] = {
      {field::kUserClaims, &spec.user_claims},
      {field::kDeviceClaims, &spec.device_claims}};
  for (const auto& [at, claims] : claim_fields) {
    if (claims->empty()) continue;
    auto bytes = EncodeClaims(*claims);
    if (!bytes) {
      return SpecError(std::string(at == field::kUserClaims ? "user_claims"
                                                            : "device_claims") +
                       ": " + bytes.error().message);
    }
    set_pair(at, begin_section(), bytes->size());
    out.insert(out.end(), bytes->begin(), bytes->end());
    if (out.size() > kMaxSize) break;
  }
  const std::pair<size_t, const std::vector<SidAndAttributes>*> lists[] = {
      {field::kDeviceGroups, &spec.device_groups},
      {field::kRestrictedSids, &spec.restricted_sids}};
  for (const auto& [at, list] : lists) {
    if (list->empty()) continue;
    set_pair(at, begin_section(), list->size());
    AppendSidList(*list, out);
  }
  if (spec.confinement_sid) {
    set_pair(field::kConfinementSid, begin_section(),
             spec.confinement_sid->BinarySize());
    spec.confinement_sid->AppendBinary(out);
  }
  if (!spec.capabilities.empty()) {
    set_pair(field::kConfinementCaps, begin_section(),
             spec.capabilities.size());
    for (const Sid& sid : spec.capabilities) {
      AppendU32(out, static_cast<uint32_t>(sid.BinarySize()));
      sid.AppendBinary(out);
      AppendU32(out, token_spec::kCapabilityAttributes);
    }
  }
  if (!spec.supplementary_gids.empty()) {
    set_pair(field::kSuppGids, begin_section(), spec.supplementary_gids.size());
    for (uint32_t gid : spec.supplementary_gids) AppendU32(out, gid);
  }
  if (!spec.restricted_device_groups.empty()) {
    set_pair(field::kRestrictedDeviceGroups, begin_section(),
             spec.restricted_device_groups.size());
    AppendSidList(spec.restricted_device_groups, out);
  }
  if (out.size() > kMaxSize) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "token spec: the encoding takes " +
                         std::to_string(out.size()) + " bytes (at most 65536)");
  }
  return out;
}

Result<Token> BuildTokenFromSpec(const TokenSpec& spec,
                                 const SpecBuildContext& context) {
  auto status = ValidateTokenSpec(spec);
  if (!status) return tl::unexpected(status.error());
  Token token;
  token.user = spec.user;
  token.user_deny_only = spec.user_deny_only;
  token.groups.reserve(spec.groups.size() + 1);
  for (SidAndAttributes group : spec.groups) {
    if ((group.attributes & group_attributes::kMandatory) &&
        !(group.attributes & group_attributes::kUseForDenyOnly)) {
      group.attributes |=
          group_attributes::kEnabled | group_attributes::kEnabledByDefault;
    }
    token.groups.push_back(group);
  }
  token.groups.push_back(
      {well_known::LogonSid(spec.session_id.value),
       group_attributes::kMandatory | group_attributes::kEnabledByDefault |
           group_attributes::kEnabled | group_attributes::kLogonId});
  if (!spec.restricted_sids.empty())
    token.restricted_sids = spec.restricted_sids;
  token.write_restricted = spec.write_restricted;
  token.type = spec.type;
  token.impersonation_level = spec.impersonation_level;
  token.integrity_rid = spec.integrity_rid;
  token.mandatory_policy = spec.mandatory_policy;
  token.privileges.present = spec.privileges_present;
  token.privileges.enabled = spec.privileges_enabled;
  token.privileges.enabled_by_default = spec.privileges_enabled;
  token.privileges.used = 0;
  token.elevation_type = ElevationType::kDefault;
  token.owner_index = spec.owner_index;
  token.primary_group_index = spec.primary_group_index;
  token.default_dacl = spec.default_dacl;
  token.auth_id = spec.session_id;
  token.parent_token_id = Luid{0};
  token.source = spec.source;
  token.expiration_ns = spec.expiration_ns;
  token.origin = spec.origin;
  token.interactive_session_id = spec.interactive_session_id;
  token.logon_type = context.logon_type;
  token.user_claims = spec.user_claims;
  token.device_claims = spec.device_claims;
  if (!spec.device_groups.empty()) token.device_groups = spec.device_groups;
  if (!spec.restricted_device_groups.empty()) {
    token.restricted_device_groups = spec.restricted_device_groups;
  }
  token.confinement_sid = spec.confinement_sid;
  token.isolation_boundary = spec.isolation_boundary;
  token.confinement_exempt = spec.confinement_exempt;
  token.audit_policy = spec.audit_policy;
  token.projected_uid = spec.projected_uid;
  token.projected_gid = spec.projected_gid;
  token.projected_supplementary_gids = spec.supplementary_gids;
  token.capabilities.reserve(spec.capabilities.size());
  for (const Sid& sid : spec.capabilities) {
    std::string name;
    if (context.names) name = context.names->NameForSid(sid).value_or("");
    token.capabilities.push_back(Capability{std::move(name), sid});
  }
  token.security = DefaultTokenSecurity(spec.user, context.creator);
  status = ValidateToken(token);
  if (!status) return SpecError(status.error().message);
  // Only a token that is going to exist takes an id and a time.
  token.token_id = context.ids.Next();
  token.modified_id = token.token_id;
  token.created_ns = context.clock.NowNanoseconds();
  return token;
}

}  // namespace tokenfs
