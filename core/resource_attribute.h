// ResourceAttribute: the claim a resource attribute ACE (SDDL "RA", type
// SYSTEM_RESOURCE_ATTRIBUTE_ACE in the SACL) carries for conditional ACEs to
// read as @Resource.<name>.
//
// Binary form (MS-DTYP 2.4.10.1 CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1, laid
// out as Windows writes it): NameOffset u32, ValueType u16, Reserved u16 (0),
// Flags u32, ValueCount u32, ValueOffsets u32[ValueCount], then the name
// (UTF-16LE, NUL-terminated), then the values in order with no alignment:
// INT64/UINT64/BOOLEAN as 8 bytes, STRING as UTF-16LE NUL-terminated text,
// SID and OCTET as [length u32][bytes]; the whole padded with zeros to a
// multiple of 4. Unlike the token claim format (core/claims.h), a string or
// SID offset points at the value itself, not at an indirection word.
// Decoding accepts any offsets that lie inside the data.
//
// SDDL form (MS-DTYP 2.5.1): ("name",TYPE,flags,value,...) with TYPE one of
// TI (int64), TU (uint64), TS (string), TD (SID), TX (octets), TB (boolean);
// flags a number; values written as in the conditional language: numbers
// (0x hex, 0 octal, decimal, TI with a sign), "strings", SIDs as S-... or an
// alias (SID(...) is accepted too), octets as bare hex digits, booleans 0/1.
// Canonical text: flags as 0x hex, TI and TU in decimal, TD as the alias or
// S-..., TX as lower-case hex, values separated by "," without spaces.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_RESOURCE_ATTRIBUTE_H_
#define TOKENFS_CORE_RESOURCE_ATTRIBUTE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/claims.h"
#include "core/result.h"

namespace tokenfs {

// Fails with kInvalidArgument when a name or string is not valid UTF-8 or
// a value does not match the claim type. Flags are written as they are.
Result<std::vector<uint8_t>> EncodeResourceAttribute(const Claim& claim);
Result<Claim> DecodeResourceAttribute(std::span<const uint8_t> bytes);

// Parses "(...)" as above. Errors end "at column N", counted in `text`.
// `domain` resolves and prints domain-relative aliases of TD values.
Result<Claim> ParseSddlResourceAttribute(std::string_view text,
                                         const Sid* domain = nullptr);
std::string FormatSddlResourceAttribute(const Claim& claim,
                                        const Sid* domain = nullptr);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_RESOURCE_ATTRIBUTE_H_
