// TokenSpec: everything the creator of a new token chooses, and the binary
// token spec version 2 that carries it (Peios KACS v0.20 ABI,
// the argument of kacs_create_token; `man 5 token-spec`).
//
// A TokenSpec holds the 192-byte header's scalars and the variable sections
// decoded into values: SIDs, SID-and-attribute lists, the default DACL, claim
// arrays and the projected gid list. What the creator does not choose
// (token id, modified id, creation time, elevation type, the logon SID, the
// token's own security descriptor) is added by BuildTokenFromSpec.
//
// Binary layout (little-endian; offsets into the spec buffer):
//   0 version u32 (2)          4 token_type u8        5 impersonation_level u8
//   6 reserved0 u8[2] (0)      8 integrity_rid u32   12 mandatory_policy u32
//  16 privs_present u64       24 privs_enabled u64   32 reserved1 u32 (0)
//  36 projected_uid u32       40 projected_gid u32   44 audit_policy u32
//  48 expiration u64          56 session_id u64      64 owner_sid_index u32
//  68 primary_group_index u32 72 source_name u8[8]   80 source_id u64
//  88 user_sid_offset         92/96 groups offset/count
// 100/104 default_dacl offset/len   108/112 user_claims offset/len
// 116/120 device_claims offset/len  124/128 device_groups offset/count
// 132/136 restricted_sids offset/count  140/144 confinement_sid offset/len
// 148/152 confinement_caps offset/count 156..159 confinement_exempt,
//   write_restricted, user_deny_only, isolation_boundary (u8 each, 0 or 1)
// 160/164 supp_gids offset/count    168/172 restricted_device_groups
// 176 origin u64  184 interactive_session_id u32  188 reserved3 u32 (0)
// SID lists are [sid_len u32][SID][attributes u32] per entry; claims are the
// claim arrays of core/claims.h; the DACL is a binary ACL; gids are u32s.
//
// Validation (DecodeTokenSpec applies every rule; EncodeTokenSpec refuses a
// spec that breaks one, so whatever encodes also decodes):
//   - total size 192..65536; version 2; reserved0, reserved1 and reserved3
//     zero (reserved3 is the later LCS-credentials offset, unsupported);
//   - token_type 1 or 2; level 0..3; a primary token has level 0;
//   - mandatory_policy only 0x1|0x2; audit_policy only 0x1..0x8; privilege
//     masks only catalog bits; privs_enabled ⊆ privs_present;
//   - the four flag bytes are 0 or 1; write_restricted ⇒ user_deny_only;
//     isolation_boundary ⇒ a confinement SID;
//   - projected_uid 0 only when the user is S-1-5-18 (no other identity may
//     project to root);
//   - every (offset, length|count) pair is (0, 0) for none or both non-zero;
//     sections start after the header, lie inside the buffer and do not
//     overlap; the user SID is required; sid_len equals the SID's size;
//     default_dacl_len and confinement_sid_len equal what they hold;
//   - at most 1023 caller groups (the logon SID makes 1024); no caller group
//     is a logon SID (S-1-5-5-X-Y) — tokenfs appends it from session_id;
//     attributes in every SID list use only the known SE_GROUP_* bits and
//     never the logon-id bits; a deny-only entry is neither enabled nor
//     enabled by default; no SID repeats within a list;
//   - owner_sid_index is 0 (the user) or 1..N naming a caller group with
//     SE_GROUP_OWNER; primary_group_index is 0..N;
//   - capability entries are S-1-15-3-... SIDs with attributes exactly
//     SE_GROUP_ENABLED (0x4), Windows' value; the confinement SID is
//     S-1-15-2-...;
//   - the default DACL holds only allow/deny ACEs (plain or object) without
//     trailing data or unknown flags, at its canonical revision, so that its
//     SDDL form says everything it says;
//   - claim arrays decode under core/claims.h's rules;
//   - source_name is printable ASCII followed only by NUL padding;
//   - the canonical encoding fits in 65536 bytes.
// Sections may appear in any order and with gaps on input. Encoding writes
// the header and then the present sections in header order, each 4-byte
// aligned, padding zero; that is the canonical form.
//
// Thread-safety: plain values and pure functions; BuildTokenFromSpec uses
// the context's allocator (thread-safe) and clock.
#ifndef TOKENFS_CORE_TOKEN_SPEC_H_
#define TOKENFS_CORE_TOKEN_SPEC_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/acl.h"
#include "core/capability.h"
#include "core/claims.h"
#include "core/luid.h"
#include "core/result.h"
#include "core/sid.h"
#include "core/token.h"
#include "core/well_known_sids.h"

namespace tokenfs {

namespace token_spec {
inline constexpr uint32_t kVersion = 2;
inline constexpr size_t kHeaderSize = 192;
inline constexpr size_t kMaxSize = 65536;
// Caller groups; the logon SID tokenfs appends makes Token::kMaxGroups.
inline constexpr size_t kMaxCallerGroups = Token::kMaxGroups - 1;
// SE_GROUP_* bits a caller may set in any SID list (everything but the
// logon-id bits, which belong to the logon SID tokenfs adds).
inline constexpr uint32_t kCallerAttributeMask =
    group_attributes::kMandatory | group_attributes::kEnabledByDefault |
    group_attributes::kEnabled | group_attributes::kOwner |
    group_attributes::kUseForDenyOnly | group_attributes::kIntegrity |
    group_attributes::kIntegrityEnabled | group_attributes::kResource;
// The attributes of every capability entry.
inline constexpr uint32_t kCapabilityAttributes = group_attributes::kEnabled;
// Windows' ANONYMOUS_LOGON_LUID; the default session of a TokenSpec.
inline constexpr uint64_t kAnonymousLogonSession = 0x3e6;
}  // namespace token_spec

// Default member values are the defaults of the JSON form
// (core/token_spec_json.h): a primary, anonymous-level, Medium token with
// NO_WRITE_UP, no privileges, projected to 65534/65534, in the anonymous
// logon session.
struct TokenSpec {
  TokenType type = TokenType::kPrimary;
  ImpersonationLevel impersonation_level = ImpersonationLevel::kAnonymous;
  uint32_t integrity_rid = kIntegrityMedium;
  uint32_t mandatory_policy = mandatory_policy::kNoWriteUp;
  uint64_t privileges_present = 0;
  // Also becomes enabled_by_default (the spec has no separate field).
  uint64_t privileges_enabled = 0;
  uint32_t projected_uid = kUnmappedId;
  uint32_t projected_gid = kUnmappedId;
  uint32_t audit_policy = 0;
  uint64_t expiration_ns = 0;  // 0 = never
  // The logon session (the token's auth_id); its logon SID is derived.
  Luid session_id{token_spec::kAnonymousLogonSession};
  uint32_t owner_index = 0;          // 0 = user, N = groups[N-1]
  uint32_t primary_group_index = 0;  // 0 = user, N = groups[N-1]
  TokenSource source;

  Sid user;
  // Caller groups, without the logon SID.
  std::vector<SidAndAttributes> groups;
  std::optional<Acl> default_dacl;  // nullopt = none
  std::vector<Claim> user_claims;
  std::vector<Claim> device_claims;
  // Empty lists are absent sections: an empty restricted_sids means an
  // unrestricted token (the spec cannot say "restricted by nothing").
  std::vector<SidAndAttributes> device_groups;
  std::vector<SidAndAttributes> restricted_sids;
  std::vector<SidAndAttributes> restricted_device_groups;
  std::optional<Sid> confinement_sid;
  // Capability SIDs (S-1-15-3-...), the confinement-capability section;
  // they become Token::capabilities.
  std::vector<Sid> capabilities;
  bool confinement_exempt = false;
  bool write_restricted = false;
  bool user_deny_only = false;
  bool isolation_boundary = false;
  std::vector<uint32_t> supplementary_gids;
  Luid origin;
  uint32_t interactive_session_id = 0;

  friend bool operator==(const TokenSpec&, const TokenSpec&) = default;
};

// Checks every rule above that concerns values rather than bytes. Fails with
// kInvalidArgument "token spec: <field>: <problem>", fields named as in the
// binary header ("token spec: privs_enabled has bits outside privs_present
// (0x100000)", "token spec: groups[3]: ...").
Status ValidateTokenSpec(const TokenSpec& spec);

// Decodes a binary spec occupying all of `bytes`, applying every rule.
// Fails with kInvalidArgument naming the field ("token spec: reserved0 must
// be 0", "token spec: groups[3]: sid_len 12 runs past the end of the
// 240-byte spec"), or kResourceExhausted when the input or its canonical
// form exceeds 65536 bytes.
Result<TokenSpec> DecodeTokenSpec(std::span<const uint8_t> bytes);

// Writes the canonical layout. Fails as ValidateTokenSpec, or with
// kResourceExhausted when the result would exceed 65536 bytes. On success
// DecodeTokenSpec of the result equals `spec`.
Result<std::vector<uint8_t>> EncodeTokenSpec(const TokenSpec& spec);

// What BuildTokenFromSpec needs besides the spec. References must outlive
// the call.
struct SpecBuildContext {
  LuidAllocator& ids;  // hands out the token id
  const Clock& clock;  // the creation time
  // The creating caller's user SID: owner of the token's own SD, and granted
  // TOKEN_ALL_ACCESS by it (DefaultTokenSecurity).
  Sid creator;
  // Names capability SIDs; may be null (then every name is empty).
  const CapabilityNames* names = nullptr;
  // The logon type of the session session_id names (the spec has no field
  // for it; the daemon knows the session).
  LogonType logon_type = LogonType::kInteractive;
};

// Builds the token CreateToken would make (the Peios model's rules):
// ValidateTokenSpec first; then a new token_id, modified_id = token_id,
// created_ns = now, elevation Default, enabled_by_default = enabled
// privileges, used = 0, auth_id = session_id, mandatory groups that are not
// deny-only forced enabled and enabled by default (NtCreateToken does the
// same), the logon SID S-1-5-5-{hi}-{lo} of session_id appended last with
// mandatory|enabled-by-default|enabled|logon-id, empty optional lists as
// absent, capabilities named through `names`, and the default token security
// descriptor for (user, creator); finally ValidateToken. Fails with the
// validation error; allocates an id only on success. Privilege checks
// (SeCreateToken) and whether the session exists are the caller's business.
Result<Token> BuildTokenFromSpec(const TokenSpec& spec,
                                 const SpecBuildContext& context);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_TOKEN_SPEC_H_
