// Token: an access token, every field of the Peios KACS v0.20 token structure
// plus the mytoken capabilities tokenfs adds.
//
// A Token is a value. Once a token is published (the registry holds
// std::shared_ptr<const Token>), it is never modified: every operation
// (core/token_operations.h) validates completely and then builds a new Token,
// which replaces the published one. Readers therefore render a consistent
// snapshot without holding any lock.
//
// Invariants of a well-formed token (ValidateToken checks them):
//   - groups.size() <= kMaxGroups; at most one group has the logon-id bits;
//   - owner_index is 0 (the user) or 1..groups.size() naming a group with
//     SE_GROUP_OWNER; primary_group_index is 0..groups.size();
//   - privileges.enabled and enabled_by_default are subsets of present;
//   - a primary token has impersonation level Anonymous;
//   - write_restricted implies user_deny_only;
//   - isolation_boundary implies confinement_sid.
//
// Fields the model keeps but tokenfs does not enforce (confinement, audit
// policy, expiration) are carried so specs round-trip and queries report them.
//
// Thread-safety: a value; share as shared_ptr<const Token>.
#ifndef TOKENFS_CORE_TOKEN_H_
#define TOKENFS_CORE_TOKEN_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/acl.h"
#include "core/capability.h"
#include "core/cow_vector.h"
#include "core/claims.h"
#include "core/luid.h"
#include "core/privilege.h"
#include "core/result.h"
#include "core/security_descriptor.h"
#include "core/sid.h"

namespace tokenfs {

enum class TokenType : uint32_t { kPrimary = 1, kImpersonation = 2 };
enum class ImpersonationLevel : uint32_t {
  kAnonymous = 0,
  kIdentification = 1,
  kImpersonation = 2,
  kDelegation = 3,
};
enum class ElevationType : uint32_t { kDefault = 1, kFull = 2, kLimited = 3 };
enum class LogonType : uint32_t {
  kInteractive = 2,
  kNetwork = 3,
  kBatch = 4,
  kService = 5,
  kNetworkCleartext = 8,
  kNewCredentials = 9,
};

namespace group_attributes {
inline constexpr uint32_t kMandatory = 0x00000001;
inline constexpr uint32_t kEnabledByDefault = 0x00000002;
inline constexpr uint32_t kEnabled = 0x00000004;
inline constexpr uint32_t kOwner = 0x00000008;
inline constexpr uint32_t kUseForDenyOnly = 0x00000010;
inline constexpr uint32_t kIntegrity = 0x00000020;
inline constexpr uint32_t kIntegrityEnabled = 0x00000040;
inline constexpr uint32_t kResource = 0x20000000;
inline constexpr uint32_t kLogonId = 0xC0000000;
// Attributes of a restricting SID as Windows stores them.
inline constexpr uint32_t kRestrictingSid = 0x7;
}  // namespace group_attributes

namespace mandatory_policy {
inline constexpr uint32_t kNoWriteUp = 0x1;
inline constexpr uint32_t kNewProcessMin = 0x2;
inline constexpr uint32_t kValidMask = 0x3;
}  // namespace mandatory_policy

namespace audit_policy {
inline constexpr uint32_t kObjectAccessSuccess = 0x1;
inline constexpr uint32_t kObjectAccessFailure = 0x2;
inline constexpr uint32_t kPrivilegeUseSuccess = 0x4;
inline constexpr uint32_t kPrivilegeUseFailure = 0x8;
inline constexpr uint32_t kValidMask = 0xf;
}  // namespace audit_policy

inline constexpr uint32_t kUnmappedId = 65534;  // projected uid/gid "nobody"

struct SidAndAttributes {
  Sid sid;
  uint32_t attributes = 0;
  friend bool operator==(const SidAndAttributes&,
                         const SidAndAttributes&) = default;
};

struct TokenSource {
  std::array<char, 8> name{};  // raw bytes, NUL-padded
  Luid id;
  // The name with trailing NULs removed.
  std::string NameString() const;
  static TokenSource Make(std::string_view name, Luid id);
  friend bool operator==(const TokenSource&, const TokenSource&) = default;
};

struct Token {
  // Peios: at most 1024 groups including the logon SID.
  static constexpr size_t kMaxGroups = 1024;

  // Identity core.
  Sid user;
  bool user_deny_only = false;
  CowVector<SidAndAttributes> groups;  // logon SID included (logon-id bits)
  // nullopt = unrestricted; a value (even empty) = restricted token.
  std::optional<std::vector<SidAndAttributes>> restricted_sids;
  bool write_restricted = false;

  // Type.
  TokenType type = TokenType::kPrimary;
  ImpersonationLevel impersonation_level = ImpersonationLevel::kAnonymous;

  // Integrity.
  uint32_t integrity_rid = 0x2000;  // Medium
  uint32_t mandatory_policy = mandatory_policy::kNoWriteUp;

  PrivilegeSet privileges;
  ElevationType elevation_type = ElevationType::kDefault;

  // Defaults for new objects.
  uint32_t owner_index = 0;          // 0 = user, N = groups[N-1]
  uint32_t primary_group_index = 0;  // 0 = user, N = groups[N-1]
  std::optional<Acl> default_dacl;   // nullopt = no default DACL

  // Metadata.
  Luid token_id;
  Luid auth_id;  // logon session
  Luid modified_id;
  Luid parent_token_id;  // source token of a restricted copy, else 0
  TokenSource source;
  uint64_t created_ns = 0;     // ns since the epoch
  uint64_t expiration_ns = 0;  // 0 = never
  Luid origin;
  uint32_t interactive_session_id = 0;
  LogonType logon_type = LogonType::kInteractive;

  // Claims and device identity.
  std::vector<Claim> user_claims;
  std::vector<Claim> device_claims;
  std::optional<std::vector<SidAndAttributes>> device_groups;
  std::optional<std::vector<SidAndAttributes>> restricted_device_groups;

  // Confinement (kept, not enforced). The spec's confinement-capability
  // section carries `capabilities` below, so it has no field of its own.
  std::optional<Sid> confinement_sid;
  bool isolation_boundary = false;
  bool confinement_exempt = false;

  uint32_t audit_policy = 0;

  // Linux projection.
  uint32_t projected_uid = kUnmappedId;
  uint32_t projected_gid = kUnmappedId;
  std::vector<uint32_t> projected_supplementary_gids;

  // mytoken capabilities (tokenfs). Their SIDs are what query class 16
  // (CAPABILITIES) returns and what the token spec's confinement-capability
  // section carries; the name is empty for a SID whose name is unknown.
  CowVector<Capability> capabilities;

  // The token object's own security descriptor.
  SecurityDescriptor security;

  // The SID at `index` of [user, groups...]; nullptr when out of range.
  const Sid* SidAtIndex(uint32_t index) const;
  const Sid& Owner() const;         // REQUIRES: a valid owner_index
  const Sid& PrimaryGroup() const;  // REQUIRES: a valid primary_group_index
  Sid IntegritySid() const;
  // The logon SID (the group with the logon-id bits), if any.
  std::optional<Sid> LogonSid() const;
  bool is_restricted() const { return restricted_sids.has_value(); }

  friend bool operator==(const Token&, const Token&) = default;
};

// Checks the invariants listed above, and that every ACL has a binary form
// (at most 65535 bytes; the token's own SACL with room for the integrity
// label LabelTokenSecurity adds when it has none), so the token can be
// recorded exactly. The error names the field.
Status ValidateToken(const Token& token);

// The default security descriptor Peios gives a new token
// (the Peios model's rule): owner = creator; DACL = allow the token's
// user QUERY|ADJUST_PRIVILEGES|ADJUST_GROUPS|ADJUST_DEFAULT, allow the creator
// TOKEN_ALL_ACCESS, allow SYSTEM TOKEN_ALL_ACCESS. When the creator is the
// token's user, the creator ACE is omitted and an OWNER RIGHTS ACE granting
// READ_CONTROL suppresses the owner's implicit WRITE_DAC.
SecurityDescriptor DefaultTokenSecurity(const Sid& token_user,
                                        const Sid& creator);

// Keeps the mandatory label of the token object's own security descriptor in
// step with the token's integrity: adds (ML;;NW;;;<integrity SID>) to the
// SACL when the descriptor has no label, and lowers a label that is above
// the token's integrity. A token lowered to Low can therefore still adjust
// itself, while a Low caller cannot write to a Medium token (no write up).
void LabelTokenSecurity(Token& token);

// About how many bytes of memory `token` takes: the struct, its lists, ACLs,
// claims and names. Quotas by bytes use it; it is an estimate within a
// small factor of what the allocator hands out, never zero.
size_t ApproximateTokenBytes(const Token& token);

std::string_view TokenTypeName(TokenType type);  // "Primary"/"Impersonation"
std::string_view ImpersonationLevelName(ImpersonationLevel level);
std::string_view ElevationTypeName(ElevationType type);  // "Default"...
std::string_view LogonTypeName(LogonType type);          // "Interactive"...
Result<TokenType> ParseTokenType(std::string_view text);
Result<ImpersonationLevel> ParseImpersonationLevel(std::string_view text);

// Group attribute labels in the fixed order mandatory, default,
// enabled|disabled, owner, deny-only, integrity, integrity-enabled, resource,
// logon-id.
std::vector<std::string_view> GroupAttributeLabels(uint32_t attributes);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_TOKEN_H_
