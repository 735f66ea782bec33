// Ace: one access control entry.
//
// Models the MS-DTYP ACE family: a type, inheritance/audit flags, an access
// mask and a trustee SID; object ACEs add up to two GUIDs; callback and
// resource-attribute ACEs carry trailing application data kept as bytes
// exactly as encoded (a condition's "artx" form, decoded by
// core/conditional_expression.h when evaluated or printed; a resource
// attribute, core/resource_attribute.h). ACE types tokenfs
// does not understand still decode (as kind kUnknown with their raw body) so a
// binary ACL round-trips byte for byte.
//
// Invariant: for a non-object type `object_type` and `inherited_object_type`
// are empty; `raw_body` is non-empty only for kind kUnknown.
//
// Thread-safety: plain value.
#ifndef TOKENFS_CORE_ACE_H_
#define TOKENFS_CORE_ACE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/access_mask.h"
#include "core/sid.h"

namespace tokenfs {

enum class AceType : uint8_t {
  kAccessAllowed = 0x00,
  kAccessDenied = 0x01,
  kSystemAudit = 0x02,
  kSystemAlarm = 0x03,
  kAccessAllowedCompound = 0x04,
  kAccessAllowedObject = 0x05,
  kAccessDeniedObject = 0x06,
  kSystemAuditObject = 0x07,
  kSystemAlarmObject = 0x08,
  kAccessAllowedCallback = 0x09,
  kAccessDeniedCallback = 0x0a,
  kAccessAllowedCallbackObject = 0x0b,
  kAccessDeniedCallbackObject = 0x0c,
  kSystemAuditCallback = 0x0d,
  kSystemAlarmCallback = 0x0e,
  kSystemAuditCallbackObject = 0x0f,
  kSystemAlarmCallbackObject = 0x10,
  kSystemMandatoryLabel = 0x11,
  kSystemResourceAttribute = 0x12,
  kSystemScopedPolicyId = 0x13,
  kSystemProcessTrustLabel = 0x14,
  kSystemAccessFilter = 0x15,
};

namespace ace_flags {
inline constexpr uint8_t kObjectInherit = 0x01;       // OI
inline constexpr uint8_t kContainerInherit = 0x02;    // CI
inline constexpr uint8_t kNoPropagateInherit = 0x04;  // NP
inline constexpr uint8_t kInheritOnly = 0x08;         // IO
inline constexpr uint8_t kInherited = 0x10;           // ID
inline constexpr uint8_t kCritical = 0x20;
inline constexpr uint8_t kSuccessfulAccess = 0x40;  // SA
inline constexpr uint8_t kFailedAccess = 0x80;      // FA
}  // namespace ace_flags

// Object ACE flags word (which GUIDs are present).
namespace object_ace_flags {
inline constexpr uint32_t kObjectTypePresent = 0x1;
inline constexpr uint32_t kInheritedObjectTypePresent = 0x2;
}  // namespace object_ace_flags

struct Guid {
  // Bytes in MS-DTYP wire order (Data1..3 little-endian, Data4 as is).
  std::array<uint8_t, 16> bytes{};
  friend bool operator==(const Guid&, const Guid&) = default;
};

// Formats as lower-case "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (what Windows
// SDDL prints); parses the same (any case, no braces).
std::string FormatGuid(const Guid& guid);
Result<Guid> ParseGuid(std::string_view text);

struct Ace {
  AceType type = AceType::kAccessAllowed;
  uint8_t flags = 0;
  AccessMask mask;
  Sid sid;
  std::optional<Guid> object_type;            // object ACEs only
  std::optional<Guid> inherited_object_type;  // object ACEs only
  // Callback condition, resource attribute or other trailing bytes.
  std::vector<uint8_t> application_data;
  // Whole body of an ACE type tokenfs does not model (after the 4-byte
  // header), kept so the ACL round-trips.
  std::vector<uint8_t> raw_body;

  bool inherit_only() const { return flags & ace_flags::kInheritOnly; }
  friend bool operator==(const Ace&, const Ace&) = default;
};

// True iff `type` is one tokenfs decodes into fields (not kept raw).
bool IsModeledAceType(AceType type);
// True iff `type` carries object GUIDs.
bool IsObjectAceType(AceType type);
// True iff `type` is an allow type (allowed, allowed-object, callbacks).
bool IsAllowAceType(AceType type);
// True iff `type` is a deny type.
bool IsDenyAceType(AceType type);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_ACE_H_
