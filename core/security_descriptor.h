// SecurityDescriptor: owner, group, DACL and SACL of a securable object, and
// the MS-DTYP self-relative binary form.
//
// DACL states (they mean different things to the access check):
//   absent        — no SE_DACL_PRESENT: everything is granted
//   NULL          — SE_DACL_PRESENT with no ACL: everything is granted
//                   (SDDL "D:NO_ACCESS_CONTROL")
//   present       — SE_DACL_PRESENT with an ACL (possibly empty: nothing is
//                   granted except owner and privilege grants)
// Invariant: `dacl` has a value only when control has kDaclPresent (same for
// the SACL). Use SetDacl/ClearDacl/SetNullDacl to keep it.
//
// Binary layout (self-relative): revision u8 = 1, sbz1 u8, control u16 LE
// (SE_SELF_RELATIVE set), offsets u32 LE of owner, group, SACL, DACL (0 =
// absent), then the parts. Encoding orders them SACL, DACL, owner, group
// (Windows' MakeSelfRelativeSD order); decoding accepts any order but requires
// every part inside the buffer.
//
// Thread-safety: plain value.
#ifndef TOKENFS_CORE_SECURITY_DESCRIPTOR_H_
#define TOKENFS_CORE_SECURITY_DESCRIPTOR_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/acl.h"
#include "core/result.h"
#include "core/sid.h"

namespace tokenfs {

namespace sd_control {
inline constexpr uint16_t kOwnerDefaulted = 0x0001;
inline constexpr uint16_t kGroupDefaulted = 0x0002;
inline constexpr uint16_t kDaclPresent = 0x0004;
inline constexpr uint16_t kDaclDefaulted = 0x0008;
inline constexpr uint16_t kSaclPresent = 0x0010;
inline constexpr uint16_t kSaclDefaulted = 0x0020;
inline constexpr uint16_t kDaclTrusted = 0x0040;
inline constexpr uint16_t kServerSecurity = 0x0080;
inline constexpr uint16_t kDaclAutoInheritReq = 0x0100;  // SDDL "AR" on D:
inline constexpr uint16_t kSaclAutoInheritReq = 0x0200;  // SDDL "AR" on S:
inline constexpr uint16_t kDaclAutoInherited = 0x0400;   // SDDL "AI" on D:
inline constexpr uint16_t kSaclAutoInherited = 0x0800;   // SDDL "AI" on S:
inline constexpr uint16_t kDaclProtected = 0x1000;       // SDDL "P" on D:
inline constexpr uint16_t kSaclProtected = 0x2000;       // SDDL "P" on S:
inline constexpr uint16_t kRmControlValid = 0x4000;
inline constexpr uint16_t kSelfRelative = 0x8000;
}  // namespace sd_control

struct SecurityDescriptor {
  static constexpr uint8_t kRevision = 1;

  uint16_t control = sd_control::kSelfRelative;
  std::optional<Sid> owner;
  std::optional<Sid> group;
  std::optional<Acl> dacl;
  std::optional<Acl> sacl;

  bool dacl_present() const { return control & sd_control::kDaclPresent; }
  bool sacl_present() const { return control & sd_control::kSaclPresent; }
  // True iff the DACL is present but NULL (grants everything).
  bool has_null_dacl() const { return dacl_present() && !dacl; }

  void SetDacl(Acl acl) {
    control |= sd_control::kDaclPresent;
    dacl = std::move(acl);
  }
  void SetNullDacl() {
    control |= sd_control::kDaclPresent;
    dacl.reset();
  }
  void ClearDacl() {
    control &= static_cast<uint16_t>(~sd_control::kDaclPresent);
    dacl.reset();
  }
  void SetSacl(Acl acl) {
    control |= sd_control::kSaclPresent;
    sacl = std::move(acl);
  }

  // Returns the first non-inherit-only mandatory label ACE in the SACL, if
  // any (the object's integrity label).
  const Ace* MandatoryLabel() const;

  Result<std::vector<uint8_t>> ToBinary() const;
  // Decodes a self-relative SD occupying `bytes` (trailing bytes allowed).
  static Result<SecurityDescriptor> FromBinary(std::span<const uint8_t> bytes);

  friend bool operator==(const SecurityDescriptor&,
                         const SecurityDescriptor&) = default;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_SECURITY_DESCRIPTOR_H_
