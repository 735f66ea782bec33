// Token spec JSON: a human-writable description of a TokenSpec, so nobody
// has to lay out the binary token spec by hand. `token spec encode` reads it
// and writes the binary spec; `token spec decode` prints a binary spec in it.
// `man 5 token-spec` documents every key; in short:
//
//   {
//     "version": 2,                        only 2
//     "type": "primary",                   primary | impersonation (or 1, 2)
//     "impersonation_level": "anonymous",  anonymous | identification |
//                                          impersonation | delegation (0..3)
//     "user": "S-1-22-1-1000",             REQUIRED; S-... or SDDL alias
//     "user_deny_only": false,
//     "groups": [{"sid": "S-1-22-2-1000",
//                 "attributes": ["mandatory", "default", "enabled"]}],
//     "owner_index": 0,                    index, or a SID of user/groups
//     "primary_group_index": 0,            likewise
//     "privileges": {"present": ["SeChangeNotify"], "enabled": [...]},
//     "integrity": "medium",               name, RID, or S-1-16-N
//     "mandatory_policy": ["no-write-up"], no-write-up, new-process-min
//     "default_dacl": "D:(A;;GA;;;SY)",    SDDL; null or
//                                          "D:NO_ACCESS_CONTROL" for none
//     "session_id": "0x3e6",               logon session LUID
//     "source": {"name": "tokenfs", "id": "0x0"},
//     "origin": "0x0",
//     "expiration": 0,                     ns since the epoch, 0 = never
//     "interactive_session_id": 0,
//     "audit_policy": [],                  object-access-success,
//                                          object-access-failure,
//                                          privilege-use-success,
//                                          privilege-use-failure
//     "projected_uid": 65534, "projected_gid": 65534,
//     "projected_supplementary_gids": [],
//     "restricted_sids": [], "write_restricted": false,
//     "device_groups": [], "restricted_device_groups": [],
//     "user_claims": [{"name": "dept", "type": "string",
//                      "flags": ["case-sensitive"], "values": ["R&D"]}],
//     "device_claims": [],
//     "confinement_sid": null,
//     "capabilities": ["tokeninfo", "S-1-15-3-1024-..."],
//     "confinement_exempt": false, "isolation_boundary": false
//   }
//
// Every key except "user" is optional; a missing key takes TokenSpec's
// default (core/token_spec.h). A SID-list entry is a SID string (attributes
// mandatory, default, enabled) or {"sid", "attributes"}. Integers are JSON
// numbers or strings in decimal or 0x-hex; privileges are names (any case,
// short or full) or bit numbers. Unknown keys, repeated keys, repeated list
// entries and wrongly typed values are errors, so a typo never passes
// silently. Errors are kInvalidArgument naming the JSON path
// ("groups[2].attributes[1]: unknown group attribute 'enabeld'"); JSON
// syntax errors set `column` to the byte position. Rules that tie several
// fields together are then checked by ValidateTokenSpec, whose messages
// name the binary fields ("token spec: write_restricted requires
// user_deny_only").
//
// Formatting prints every key, in the order above, with canonical values:
// names rather than numbers, SIDs as S-..., LUIDs as "0x..." lower-case hex,
// the DACL as canonical SDDL, octets as lower-case hex, capabilities by name
// when `names` knows the SID. ParseTokenSpecJson(FormatTokenSpecJson(s)) ==
// s, hence for a canonical binary spec b, encode(decode(b)) == b byte for
// byte.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_TOKEN_SPEC_JSON_H_
#define TOKENFS_CORE_TOKEN_SPEC_JSON_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/capability.h"
#include "core/result.h"
#include "core/token_spec.h"

namespace tokenfs {

namespace token_spec_json {
// Largest JSON text accepted, and deepest nesting.
inline constexpr size_t kMaxTextBytes = 1 << 20;
inline constexpr size_t kMaxDepth = 16;
}  // namespace token_spec_json

// Parses the JSON form and validates the result (ValidateTokenSpec). Fails
// with kInvalidArgument as described above, or kResourceExhausted when the
// text exceeds 1 MiB.
Result<TokenSpec> ParseTokenSpecJson(std::string_view text);

// The JSON form of `spec`, every key present. `names` may be null (then
// capabilities print as SIDs). REQUIRES: spec is valid
// (ValidateTokenSpec), as DecodeTokenSpec and ParseTokenSpecJson guarantee.
nlohmann::ordered_json TokenSpecToJson(const TokenSpec& spec,
                                       const CapabilityNames* names);
// TokenSpecToJson as text: two-space indentation and a final newline.
std::string FormatTokenSpecJson(const TokenSpec& spec,
                                const CapabilityNames* names);

// A claim array in the form of the spec's "user_claims"/"device_claims"
// ([{"name", "type", "flags", "values"}], as `token access --device-claims`
// takes it). Errors name the JSON path under `path` ("device_claims[0].type:
// unknown claim type"); syntax errors set `column`.
Result<std::vector<Claim>> ParseClaimsJson(std::string_view text,
                                           const std::string& path);

// `token spec encode`: JSON text to the canonical binary spec. Fails as
// ParseTokenSpecJson or EncodeTokenSpec.
Result<std::vector<uint8_t>> TokenSpecJsonToBinary(std::string_view text);
// `token spec decode`: a binary spec to JSON text. Fails as DecodeTokenSpec.
Result<std::string> TokenSpecBinaryToJson(std::span<const uint8_t> bytes,
                                          const CapabilityNames* names);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_TOKEN_SPEC_JSON_H_
