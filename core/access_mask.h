// AccessMask: a 32-bit set of access rights, and generic mappings.
//
// Models ACCESS_MASK of MS-DTYP 2.4.3: bits 0-15 object-specific, 16-20
// standard rights, 24 ACCESS_SYSTEM_SECURITY, 25 MAXIMUM_ALLOWED, 28-31 the
// generic rights. A distinct type so a mask never mixes with a count or an id.
//
// A GenericMapping says what GENERIC_READ/WRITE/EXECUTE/ALL mean for one
// object class. The token mapping follows the Peios spec (read 0x20008,
// execute 0x4, all 0xf01ff) and for write takes Windows' TOKEN_WRITE (0x200e0)
// plus the WRITE_DAC the Peios spec adds: 0x600e0.
//
// Thread-safety: plain values and immutable tables.
#ifndef TOKENFS_CORE_ACCESS_MASK_H_
#define TOKENFS_CORE_ACCESS_MASK_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tokenfs {

class AccessMask {
 public:
  constexpr AccessMask() = default;
  constexpr explicit AccessMask(uint32_t bits) : bits_(bits) {}

  constexpr uint32_t bits() const { return bits_; }
  constexpr bool empty() const { return bits_ == 0; }
  // True iff every bit of `other` is in this mask.
  constexpr bool Contains(AccessMask other) const {
    return (bits_ & other.bits_) == other.bits_;
  }
  // True iff this mask and `other` share a bit.
  constexpr bool Intersects(AccessMask other) const {
    return (bits_ & other.bits_) != 0;
  }

  friend constexpr AccessMask operator|(AccessMask a, AccessMask b) {
    return AccessMask(a.bits_ | b.bits_);
  }
  friend constexpr AccessMask operator&(AccessMask a, AccessMask b) {
    return AccessMask(a.bits_ & b.bits_);
  }
  friend constexpr AccessMask operator~(AccessMask a) {
    return AccessMask(~a.bits_);
  }
  constexpr AccessMask& operator|=(AccessMask other) {
    bits_ |= other.bits_;
    return *this;
  }
  constexpr AccessMask& operator&=(AccessMask other) {
    bits_ &= other.bits_;
    return *this;
  }
  friend constexpr bool operator==(AccessMask, AccessMask) = default;

 private:
  uint32_t bits_ = 0;
};

namespace access {
// Standard rights.
inline constexpr AccessMask kDelete{0x00010000};
inline constexpr AccessMask kReadControl{0x00020000};
inline constexpr AccessMask kWriteDac{0x00040000};
inline constexpr AccessMask kWriteOwner{0x00080000};
inline constexpr AccessMask kSynchronize{0x00100000};
inline constexpr AccessMask kStandardRightsRequired{0x000f0000};
inline constexpr AccessMask kStandardRightsAll{0x001f0000};
inline constexpr AccessMask kAccessSystemSecurity{0x01000000};
inline constexpr AccessMask kMaximumAllowed{0x02000000};
// Generic rights.
inline constexpr AccessMask kGenericAll{0x10000000};
inline constexpr AccessMask kGenericExecute{0x20000000};
inline constexpr AccessMask kGenericWrite{0x40000000};
inline constexpr AccessMask kGenericRead{0x80000000};
inline constexpr AccessMask kAllGeneric{0xf0000000};

// Token object rights.
inline constexpr AccessMask kTokenAssignPrimary{0x0001};
inline constexpr AccessMask kTokenDuplicate{0x0002};
inline constexpr AccessMask kTokenImpersonate{0x0004};
inline constexpr AccessMask kTokenQuery{0x0008};
inline constexpr AccessMask kTokenQuerySource{0x0010};
inline constexpr AccessMask kTokenAdjustPrivileges{0x0020};
inline constexpr AccessMask kTokenAdjustGroups{0x0040};
inline constexpr AccessMask kTokenAdjustDefault{0x0080};
inline constexpr AccessMask kTokenAdjustSessionId{0x0100};
inline constexpr AccessMask kTokenAllAccess{0x000f01ff};

// File rights (for the file generic mapping and the FA/FR/FW/FX aliases).
inline constexpr AccessMask kFileReadData{0x0001};
inline constexpr AccessMask kFileWriteData{0x0002};
inline constexpr AccessMask kFileAppendData{0x0004};
inline constexpr AccessMask kFileReadEa{0x0008};
inline constexpr AccessMask kFileWriteEa{0x0010};
inline constexpr AccessMask kFileExecute{0x0020};
inline constexpr AccessMask kFileDeleteChild{0x0040};
inline constexpr AccessMask kFileReadAttributes{0x0080};
inline constexpr AccessMask kFileWriteAttributes{0x0100};
inline constexpr AccessMask kFileAllAccess{0x001f01ff};
inline constexpr AccessMask kFileGenericRead{0x00120089};
inline constexpr AccessMask kFileGenericWrite{0x00120116};
inline constexpr AccessMask kFileGenericExecute{0x001200a0};
// Registry key composites (KA/KR/KW/KX in SDDL).
inline constexpr AccessMask kKeyAllAccess{0x000f003f};
inline constexpr AccessMask kKeyRead{0x00020019};
inline constexpr AccessMask kKeyWrite{0x00020006};
inline constexpr AccessMask kKeyExecute{0x00020019};

// Mandatory label ACE policy bits (in the ACE's mask).
inline constexpr AccessMask kMandatoryNoWriteUp{0x1};
inline constexpr AccessMask kMandatoryNoReadUp{0x2};
inline constexpr AccessMask kMandatoryNoExecuteUp{0x4};
}  // namespace access

struct GenericMapping {
  AccessMask read;
  AccessMask write;
  AccessMask execute;
  AccessMask all;

  friend bool operator==(const GenericMapping&, const GenericMapping&) =
      default;
};

// Token objects: read 0x20008, write 0x600e0, execute 0x4, all 0xf01ff.
// (Windows' token object type maps read 0x20008, write 0x200e0, execute
// 0x20000, all 0xf01ff; docs/architecture.md has the comparison.)
extern const GenericMapping kTokenGenericMapping;
// Files and directories (one object type on Windows): FILE_GENERIC_READ
// 0x120089, FILE_GENERIC_WRITE 0x120116, FILE_GENERIC_EXECUTE 0x1200a0,
// FILE_ALL_ACCESS 0x1f01ff.
extern const GenericMapping kFileGenericMapping;
// Registry keys: KEY_READ 0x20019, KEY_WRITE 0x20006, KEY_EXECUTE 0x20019,
// KEY_ALL_ACCESS 0xf003f.
extern const GenericMapping kKeyGenericMapping;
// Processes (Windows Vista and later): read 0x20410 (VM_READ |
// QUERY_INFORMATION), write 0x20bea, execute 0x121001 (TERMINATE |
// QUERY_LIMITED_INFORMATION | SYNCHRONIZE), all PROCESS_ALL_ACCESS 0x1fffff.
extern const GenericMapping kProcessGenericMapping;
// Threads: read 0x20048 (GET_CONTEXT | QUERY_INFORMATION), write 0x20437,
// execute 0x121800 (QUERY_LIMITED_INFORMATION | RESUME | SYNCHRONIZE), all
// THREAD_ALL_ACCESS 0x1fffff.
extern const GenericMapping kThreadGenericMapping;
// Services: read 0x2008d (QUERY_CONFIG | QUERY_STATUS | ENUMERATE_DEPENDENTS
// | INTERROGATE), write 0x20002 (CHANGE_CONFIG), execute 0x20170 (START |
// STOP | PAUSE_CONTINUE | USER_DEFINED_CONTROL), all SERVICE_ALL_ACCESS
// 0xf01ff.
extern const GenericMapping kServiceGenericMapping;
// A plain object class: read = READ_CONTROL, write/execute = READ_CONTROL,
// all = STANDARD_RIGHTS_REQUIRED | 0xffff (every object-specific bit).
extern const GenericMapping kPlainGenericMapping;

// A generic mapping as a request names it: one of the named mappings above,
// or a custom one written as four hex numbers.
struct NamedGenericMapping {
  GenericMapping mapping;
  // The canonical text: a lower-case name ("token", "file", "directory",
  // "key", "process", "thread", "service", "plain"), or for a custom mapping
  // its four members as FormatGenericMapping writes them.
  std::string name;
  bool custom = false;
};

// Parses a mapping: a name (case-insensitive; "generic" is "plain"), or
// GR,GW,GX,GA: exactly four hex numbers (0x prefix optional, up to
// 0xffffffff, no spaces) separated by commas. A custom member may hold
// generic bits; the access check then refuses requests that use it
// (GenericLeftAfterMapping). Errors are kInvalidArgument naming the problem
// and, for a bad member, its 1-based column in `text`.
Result<NamedGenericMapping> ParseGenericMapping(std::string_view text);

// "0x120089,0x120116,0x1200a0,0x1f01ff": the members in order GR,GW,GX,GA,
// lower-case hex with a 0x prefix. ParseGenericMapping reads it back.
std::string FormatGenericMapping(const GenericMapping& mapping);

// RtlMapGenericMask: each generic bit in `mask` adds its mapping member, then
// the four generic bits are cleared.
AccessMask MapGeneric(AccessMask mask, const GenericMapping& mapping);

// The generic bits that mapping `mask` would leave behind: those held by the
// mapping members its generic bits select (a custom mapping such as
// GR=0x80000000 maps a generic right to a generic right). Empty for every
// named mapping. The access check refuses a request that leaves any
// (STATUS_GENERIC_NOT_MAPPED).
AccessMask GenericLeftAfterMapping(AccessMask mask,
                                   const GenericMapping& mapping);

// Returns token right names for `mask` joined by " | " in bit order
// ("QUERY | ADJUST_PRIVILEGES"); unnamed bits as 0x-hex; "0" for empty.
// Standard and generic bits use their Windows names (READ_CONTROL, ...).
std::string FormatTokenRights(AccessMask mask);

// Parses a rights expression for the token object class: a number (decimal,
// 0x-hex), or names joined by '|' or ',' (case-insensitive): token rights
// with or without the TOKEN_ prefix (QUERY, TOKEN_ADJUST_PRIVILEGES,
// ALL_ACCESS), standard and generic rights (READ_CONTROL, GENERIC_READ,
// MAXIMUM_ALLOWED). Errors name the unknown word and its 1-based column in
// `text`.
Result<AccessMask> ParseTokenRights(std::string_view text);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_ACCESS_MASK_H_
