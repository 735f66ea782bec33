#include "core/security_descriptor.h"

#include <string>

#include "core/byte_io.h"

namespace tokenfs {

namespace {
constexpr size_t kHeaderSize = 20;
}  // namespace

const Ace* SecurityDescriptor::MandatoryLabel() const {
  if (!sacl) return nullptr;
  for (const Ace& ace : sacl->aces) {
    if (ace.type == AceType::kSystemMandatoryLabel && !ace.inherit_only()) {
      return &ace;
    }
  }
  return nullptr;
}

Result<std::vector<uint8_t>> SecurityDescriptor::ToBinary() const {
  std::vector<uint8_t> out(kHeaderSize, 0);
  out[0] = kRevision;
  uint16_t flags = control | sd_control::kSelfRelative;
  PatchU16(out, 2, flags);
  if (sacl) {
    auto bytes = sacl->ToBinary();
    if (!bytes) return tl::unexpected(bytes.error());
    PatchU32(out, 12, static_cast<uint32_t>(out.size()));
    out.insert(out.end(), bytes->begin(), bytes->end());
  }
  if (dacl) {
    auto bytes = dacl->ToBinary();
    if (!bytes) return tl::unexpected(bytes.error());
    PatchU32(out, 16, static_cast<uint32_t>(out.size()));
    out.insert(out.end(), bytes->begin(), bytes->end());
  }
  if (owner) {
    PatchU32(out, 4, static_cast<uint32_t>(out.size()));
    owner->AppendBinary(out);
  }
  if (group) {
    PatchU32(out, 8, static_cast<uint32_t>(out.size()));
    group->AppendBinary(out);
  }
  return out;
}

Result<SecurityDescriptor> SecurityDescriptor::FromBinary(
    std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) {
    return InvalidArgument("security descriptor truncated: " +
                           std::to_string(bytes.size()) +
                           " bytes, need at least 20");
  }
  if (bytes[0] != kRevision) {
    return InvalidArgument("security descriptor revision " +
                           std::to_string(bytes[0]) + " (expected 1)");
  }
  SecurityDescriptor sd;
  sd.control = ReadU16At(bytes, 2);
  if (!(sd.control & sd_control::kSelfRelative)) {
    return InvalidArgument("security descriptor is not self-relative");
  }
  const uint32_t owner_offset = ReadU32At(bytes, 4);
  const uint32_t group_offset = ReadU32At(bytes, 8);
  const uint32_t sacl_offset = ReadU32At(bytes, 12);
  const uint32_t dacl_offset = ReadU32At(bytes, 16);

  auto part = [&bytes](uint32_t offset,
                       const char* what) -> Result<std::span<const uint8_t>> {
    if (offset < kHeaderSize || offset >= bytes.size()) {
      return InvalidArgument(std::string(what) + " offset " +
                             std::to_string(offset) +
                             " lies outside the descriptor");
    }
    return bytes.subspan(offset);
  };
  if (owner_offset) {
    auto span = part(owner_offset, "owner");
    if (!span) return tl::unexpected(span.error());
    auto sid = Sid::FromBinary(*span);
    if (!sid) return InvalidArgument("owner: " + sid.error().message);
    sd.owner = *sid;
  }
  if (group_offset) {
    auto span = part(group_offset, "group");
    if (!span) return tl::unexpected(span.error());
    auto sid = Sid::FromBinary(*span);
    if (!sid) return InvalidArgument("group: " + sid.error().message);
    sd.group = *sid;
  }
  if (sacl_offset) {
    if (!sd.sacl_present()) {
      return InvalidArgument("SACL offset set without SE_SACL_PRESENT");
    }
    auto span = part(sacl_offset, "SACL");
    if (!span) return tl::unexpected(span.error());
    auto acl = Acl::FromBinary(*span);
    if (!acl) return InvalidArgument("SACL: " + acl.error().message);
    sd.sacl = std::move(*acl);
  }
  if (dacl_offset) {
    if (!sd.dacl_present()) {
      return InvalidArgument("DACL offset set without SE_DACL_PRESENT");
    }
    auto span = part(dacl_offset, "DACL");
    if (!span) return tl::unexpected(span.error());
    auto acl = Acl::FromBinary(*span);
    if (!acl) return InvalidArgument("DACL: " + acl.error().message);
    sd.dacl = std::move(*acl);
  }
  return sd;
}

}  // namespace tokenfs
