// Claims: typed name/value attributes carried by a token (user and device
// claims), and their binary form.
//
// One claim is a Windows CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 entry, as the
// Peios spec (3-security-descriptors/9-claim-attribute-format.md) fixes it:
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
// Thread-safety: plain values; codec functions are pure.
#ifndef TOKENFS_CORE_CLAIMS_H_
#define TOKENFS_CORE_CLAIMS_H_

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
// "sid", "boolean", "octets".
std::string_view ClaimTypeName(ClaimType type);
Result<ClaimType> ParseClaimTypeName(std::string_view name);

// Checks the invariant above; the error names the claim and the problem.
Status ValidateClaim(const Claim& claim);

// One entry (no length prefix).
Result<std::vector<uint8_t>> EncodeClaim(const Claim& claim);
Result<Claim> DecodeClaim(std::span<const uint8_t> entry);

// The token claim array: [entry_len u32][entry]... consumed exactly. Errors
// name the entry index and the field ("claim 2: value offset 3 ...").
Result<std::vector<uint8_t>> EncodeClaims(const std::vector<Claim>& claims);
Result<std::vector<Claim>> DecodeClaims(std::span<const uint8_t> bytes);

// One line per claim for the `claims` file:
//   <name>  <type>  [flags]  value, value...
// Strings are quoted with C escapes, SIDs raw, octets as lower-case hex.
std::string FormatClaimValue(const ClaimValue& value);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_CLAIMS_H_
