#include "core/acl.h"

#include <array>
#include <string>

#include "core/byte_io.h"

namespace tokenfs {
namespace {

constexpr size_t kAclHeaderSize = 8;
constexpr size_t kAceHeaderSize = 4;

void AppendAceBody(const Ace& ace, std::vector<uint8_t>& out) {
  if (!IsModeledAceType(ace.type)) {
    out.insert(out.end(), ace.raw_body.begin(), ace.raw_body.end());
    return;
  }
  AppendU32(out, ace.mask.bits());
  if (IsObjectAceType(ace.type)) {
    uint32_t flags = 0;
    if (ace.object_type) flags |= object_ace_flags::kObjectTypePresent;
    if (ace.inherited_object_type) {
      flags |= object_ace_flags::kInheritedObjectTypePresent;
    }
    AppendU32(out, flags);
    if (ace.object_type) {
      out.insert(out.end(), ace.object_type->bytes.begin(),
                 ace.object_type->bytes.end());
    }
    if (ace.inherited_object_type) {
      out.insert(out.end(), ace.inherited_object_type->bytes.begin(),
                 ace.inherited_object_type->bytes.end());
    }
  }
  ace.sid.AppendBinary(out);
  out.insert(out.end(), ace.application_data.begin(),
             ace.application_data.end());
}

Result<Ace> DecodeAce(std::span<const uint8_t> ace_bytes, size_t index) {
  const std::string where = "ACE " + std::to_string(index) + ": ";
  Ace ace;
  ace.type = static_cast<AceType>(ace_bytes[0]);
  ace.flags = ace_bytes[1];
  std::span<const uint8_t> body = ace_bytes.subspan(kAceHeaderSize);
  if (!IsModeledAceType(ace.type)) {
    ace.raw_body.assign(body.begin(), body.end());
    return ace;
  }
  ByteReader reader(body);
  uint32_t mask = 0;
  if (!reader.ReadU32(mask)) {
    return InvalidArgument(where + "too short for an access mask");
  }
  ace.mask = AccessMask(mask);
  if (IsObjectAceType(ace.type)) {
    uint32_t object_flags = 0;
    if (!reader.ReadU32(object_flags)) {
      return InvalidArgument(where + "too short for object flags");
    }
    if (object_flags & ~uint32_t{3}) {
      return InvalidArgument(where + "unknown object ACE flags");
    }
    auto read_guid = [&reader](std::optional<Guid>& target) {
      Guid guid;
      if (!reader.ReadBytes(guid.bytes.data(), guid.bytes.size())) return false;
      target = guid;
      return true;
    };
    if ((object_flags & object_ace_flags::kObjectTypePresent) &&
        !read_guid(ace.object_type)) {
      return InvalidArgument(where + "truncated object type GUID");
    }
    if ((object_flags & object_ace_flags::kInheritedObjectTypePresent) &&
        !read_guid(ace.inherited_object_type)) {
      return InvalidArgument(where + "truncated inherited object type GUID");
    }
  }
  size_t sid_size = 0;
  auto sid = Sid::FromBinary(reader.Remaining(), &sid_size);
  if (!sid) return InvalidArgument(where + sid.error().message);
  ace.sid = *sid;
  reader.Skip(sid_size);
  const auto rest = reader.Remaining();
  ace.application_data.assign(rest.begin(), rest.end());
  return ace;
}

}  // namespace

uint8_t Acl::CanonicalRevision() const {
  for (const Ace& ace : aces) {
    if (IsObjectAceType(ace.type)) return kRevisionDs;
  }
  return kRevision;
}

Result<std::vector<uint8_t>> Acl::ToBinary() const {
  if (aces.size() > 0xffff) return InvalidArgument("too many ACEs in an ACL");
  std::vector<uint8_t> out(kAclHeaderSize, 0);
  for (size_t i = 0; i < aces.size(); ++i) {
    const size_t start = out.size();
    out.push_back(static_cast<uint8_t>(aces[i].type));
    out.push_back(aces[i].flags);
    AppendU16(out, 0);  // size, patched below
    AppendAceBody(aces[i], out);
    const size_t ace_size = out.size() - start;
    if (ace_size > 0xffff) {
      return InvalidArgument("ACE " + std::to_string(i) +
                             " exceeds 65535 bytes");
    }
    PatchU16(out, start + 2, static_cast<uint16_t>(ace_size));
  }
  if (out.size() > kMaxSize) {
    return InvalidArgument("ACL exceeds 65535 bytes");
  }
  // Keep a decoded revision 4 even without object ACEs, so a binary ACL
  // round-trips; never write less than the ACEs need.
  out[0] = revision > CanonicalRevision() ? revision : CanonicalRevision();
  out[1] = 0;
  PatchU16(out, 2, static_cast<uint16_t>(out.size()));
  PatchU16(out, 4, static_cast<uint16_t>(aces.size()));
  return out;
}

Result<Acl> Acl::FromBinary(std::span<const uint8_t> bytes, size_t* consumed) {
  if (bytes.size() < kAclHeaderSize) {
    return InvalidArgument("ACL truncated: " + std::to_string(bytes.size()) +
                           " bytes, need at least 8");
  }
  Acl acl;
  acl.revision = bytes[0];
  if (acl.revision != kRevision && acl.revision != kRevisionDs) {
    return InvalidArgument("ACL revision " + std::to_string(acl.revision) +
                           " (expected 2 or 4)");
  }
  const size_t acl_size = ReadU16At(bytes, 2);
  const size_t ace_count = ReadU16At(bytes, 4);
  if (acl_size < kAclHeaderSize || acl_size > bytes.size()) {
    return InvalidArgument("ACL size " + std::to_string(acl_size) +
                           " does not fit the " +
                           std::to_string(bytes.size()) + " bytes given");
  }
  size_t offset = kAclHeaderSize;
  acl.aces.reserve(ace_count);
  for (size_t i = 0; i < ace_count; ++i) {
    if (offset + kAceHeaderSize > acl_size) {
      return InvalidArgument("ACE " + std::to_string(i) +
                             " starts beyond the ACL size");
    }
    const size_t ace_size = ReadU16At(bytes, offset + 2);
    if (ace_size < kAceHeaderSize || offset + ace_size > acl_size) {
      return InvalidArgument("ACE " + std::to_string(i) + " size " +
                             std::to_string(ace_size) +
                             " runs past the ACL");
    }
    auto ace = DecodeAce(bytes.subspan(offset, ace_size), i);
    if (!ace) return tl::unexpected(ace.error());
    acl.aces.push_back(std::move(*ace));
    offset += ace_size;
  }
  // An object ACE needs revision 4 (MS-DTYP 2.4.5); Windows still reads
  // such ACLs marked 2, so take them and record the revision they need,
  // which is also what ToBinary writes back.
  if (acl.revision < acl.CanonicalRevision()) {
    acl.revision = acl.CanonicalRevision();
  }
  if (consumed) *consumed = acl_size;
  return acl;
}

Acl InternAcl(Acl acl) {
  constexpr size_t kRemembered = 8;
  thread_local std::array<Acl, kRemembered> recent;
  thread_local size_t next = 0;
  if (acl.aces.empty()) return acl;
  for (const Acl& known : recent) {
    if (known == acl) return known;
  }
  recent[next] = acl;
  next = (next + 1) % kRemembered;
  return acl;
}

}  // namespace tokenfs
