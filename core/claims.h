// Claims: typed name/value attributes carried by a token (user and device
// claims), and their binary form.
//
// One claim is a Windows CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 entry, as the
// Peios claim attribute format fixes it:
//   NameOffset u32 @0 (UTF-16LE, NUL-terminated), ValueType u16 @4,
//   Reserved u16 @6 (0), Flags u32 @8, ValueCount u32 @12,
//   ValueOffsets u32[ValueCount] @16.
// INT64/UINT64/BOOLEAN offsets point at an 8-byte scalar; STRING/SID/OCTET
// offsets point at a u32 that in turn points at the UTF-16LE string, the SID,
// or a [length u32][bytes] blob. Every offset is relative to the entry start
// and must lie inside it. A token's claim array wraps entries as repeated
// [entry_len u32 (non-zero)][entry] consumed exactly.
//
// Invariant of a valid Claim: every value holds the alternative matching
// `type`; names are non-empty valid UTF-8 without NUL; booleans are 0 or 1.
//
// Decoding is strict, stricter than the Peios text where it leaves room:
// Reserved must be 0, unknown ValueType and unknown Flags bits are refused,
// booleans must be 0 or 1 (Peios normalizes any non-zero value; a canonical
// form needs one spelling), names and strings must be well-formed UTF-16
// (no unpaired surrogate) terminated inside the entry, and a claim array may
// not name the same claim twice (names compare ASCII case-insensitively, as
// Windows claim names do). Limits (ours; Peios sets none):
//   name       1..256 UTF-16 code units
//   values     at most 1024 per claim
//   array      at most 64 KiB (the whole token spec is capped at 64 KiB)
// Encoding writes one canonical layout: header, ValueOffsets, the u32
// indirection words (string/SID/octets), the values (scalars 8-byte aligned,
// others 4-byte aligned), then the name; each entry padded to 4 bytes.
//
// Thread-safety: plain values; codec functions are pure.
#ifndef TOKENFS_CORE_CLAIMS_H_
#define TOKENFS_CORE_CLAIMS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/sid.h"

namespace tokenfs {

enum class ClaimType : uint16_t {
  kInt64 = 0x01,
  kUint64 = 0x02,
  kString = 0x03,
  kSid = 0x05,
  kBoolean = 0x06,
  kOctetString = 0x10,
};

namespace claim_flags {
inline constexpr uint32_t kNonInheritable = 0x0001;
inline constexpr uint32_t kCaseSensitive = 0x0002;
inline constexpr uint32_t kUseForDenyOnly = 0x0004;
inline constexpr uint32_t kDisabledByDefault = 0x0008;
inline constexpr uint32_t kDisabled = 0x0010;
inline constexpr uint32_t kMandatory = 0x0020;
inline constexpr uint32_t kAll = 0x003f;
}  // namespace claim_flags

namespace claim_limits {
inline constexpr size_t kMaxNameUnits = 256;
inline constexpr size_t kMaxValues = 1024;
inline constexpr size_t kMaxArrayBytes = 65536;
}  // namespace claim_limits

using ClaimValue = std::variant<int64_t, uint64_t, std::string, Sid, bool,
                                std::vector<uint8_t>>;

struct Claim {
  std::string name;
  ClaimType type = ClaimType::kInt64;
  uint32_t flags = 0;
  std::vector<ClaimValue> values;

  friend bool operator==(const Claim&, const Claim&) = default;
};

// Lower-case type names used in text and JSON: "int64", "uint64", "string",
// "sid", "boolean", "octets". Parsing is case-insensitive and also accepts
// "bool" and "octet"; anything else is kInvalidArgument "unknown claim type".
std::string_view ClaimTypeName(ClaimType type);
Result<ClaimType> ParseClaimTypeName(std::string_view name);

// Flag names in bit order: "non-inheritable" (0x1), "case-sensitive" (0x2),
// "deny-only" (0x4, USE_FOR_DENY_ONLY), "disabled-by-default" (0x8),
// "disabled" (0x10), "mandatory" (0x20). Bits without a name are skipped
// (a valid claim has none). Parsing is case-insensitive and also accepts
// "use-for-deny-only".
std::vector<std::string_view> ClaimFlagNames(uint32_t flags);
Result<uint32_t> ParseClaimFlagName(std::string_view name);

// Checks the invariant above plus the limits and known flag bits. Fails with
// kInvalidArgument naming the claim and the problem ("claim 'dept': value 1
// is a uint64 but the claim type is string").
Status ValidateClaim(const Claim& claim);

// One entry (no length prefix), canonical layout. Fails as ValidateClaim.
Result<std::vector<uint8_t>> EncodeClaim(const Claim& claim);
// Decodes one entry occupying `entry`. Fails with kInvalidArgument naming the
// field ("value 2: string offset 300 is outside the 64-byte entry").
Result<Claim> DecodeClaim(std::span<const uint8_t> entry);

// The token claim array: [entry_len u32][entry]... consumed exactly; an empty
// span is an empty array. Errors name the entry index and the field
// ("claim 2: value 0: ..."). Encoding fails as ValidateClaim, on a repeated
// name, or when the array would exceed 64 KiB.
Result<std::vector<uint8_t>> EncodeClaims(const std::vector<Claim>& claims);
Result<std::vector<Claim>> DecodeClaims(std::span<const uint8_t> bytes);

// One value as text: integers in decimal, booleans "true"/"false", strings
// in double quotes with C escapes (\" \\ \n \r \t, other control bytes
// \xNN; UTF-8 kept as is), SIDs as S-..., octets as lower-case hex ("" when
// empty).
std::string FormatClaimValue(const ClaimValue& value);

// One line per claim for the `claims` file:
//   <name>  <type>  [<flag>,<flag>]  <value>, <value>...
// two-space gutters; "[]" when no flag is set; nothing after the flags when
// there is no value. The name is printed as is when it is printable and has
// no space, quote or backslash, else quoted like a string value.
std::string FormatClaim(const Claim& claim);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_CLAIMS_H_
