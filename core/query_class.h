// Query classes: the 24 token information classes of the Peios KACS v0.20
// ABI, their names, and the exact payload bytes the ABI returns for each.
//
// A class is identified by its ABI number (1..24). Each has a canonical name
// (the first name the Peios `token query` tool accepts for it, e.g.
// "primarygroup"), further accepted aliases ("primary-group"), and its ABI
// constant name (KACS_TOKEN_CLASS_PRIMARY_GROUP). tokenfs serves the payload
// of class N under `query/<canonical name>` (as JSON, core/render.h) and the
// CLI's `token query CLASS` accepts every alias.
//
// Payloads are little-endian and byte-for-byte what a KACS kernel returns:
//   SID            binary SID (8 + 4·n bytes)
//   SID list       [count u32] then per entry [sid_len u32][sid][attrs u32]
//   u32 / u64      4 / 8 bytes
// Empty-result conventions (the ABI's): an absent optional SID (class 15) or
// ACL (class 20) and an empty claim array (22, 23) are 0 bytes; an absent or
// empty SID list (9, 14, 16) and an empty gid list (24) are 4 bytes, count 0.
//
// tokenfs choices where the ABI leaves room (also in docs/formats.md):
//   - class 16 CAPABILITIES lists Token::capabilities (the mytoken
//     capability SIDs) with attributes SE_GROUP_ENABLED (0x4), which is what
//     Windows reports for capability SIDs: they are always in force;
//   - class 19 LOGON_SID is the group carrying the logon-id bits when the
//     token has one, else the SID derived from auth_id (S-1-5-5-hi-lo); the
//     two agree for every token tokenfs builds;
//   - class 21 IMPERSONATION_LEVEL is 0 for a primary token whatever the
//     field holds (the ABI says primary tokens always return Anonymous);
//   - class 11 STATISTICS carries expiration_ns as is (0 = never).
//
// Thread-safety: the table is immutable; the functions are pure.
#ifndef TOKENFS_CORE_QUERY_CLASS_H_
#define TOKENFS_CORE_QUERY_CLASS_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/token.h"

namespace tokenfs {

enum class QueryClass : uint32_t {
  kUser = 1,
  kGroups = 2,
  kPrivileges = 3,
  kType = 4,
  kIntegrityLevel = 5,
  kOwner = 6,
  kPrimaryGroup = 7,
  kSessionId = 8,
  kRestrictedSids = 9,
  kSource = 10,
  kStatistics = 11,
  kOrigin = 12,
  kElevationType = 13,
  kDeviceGroups = 14,
  kAppContainerSid = 15,
  kCapabilities = 16,
  kMandatoryPolicy = 17,
  kLogonType = 18,
  kLogonSid = 19,
  kDefaultDacl = 20,
  kImpersonationLevel = 21,
  kUserClaims = 22,
  kDeviceClaims = 23,
  kProjectedSupplementaryGids = 24,
};

inline constexpr uint32_t kQueryClassCount = 24;

struct QueryClassInfo {
  QueryClass id;
  // Canonical name: lower case, the first alias of the class.
  std::string_view name;
  // Every accepted name, canonical name first.
  std::span<const std::string_view> aliases;
  // The ABI constant, e.g. "KACS_TOKEN_CLASS_USER".
  std::string_view abi_name;
};

// The 24 classes in ABI order (entry i describes class i + 1).
std::span<const QueryClassInfo> QueryClassTable();

// The table entry of `query_class`. REQUIRES: a value 1..24.
const QueryClassInfo& GetQueryClassInfo(QueryClass query_class);

// The canonical name of `query_class`. REQUIRES: a value 1..24.
std::string_view QueryClassName(QueryClass query_class);

// Parses a class given as any accepted name or alias (ASCII case-insensitive,
// e.g. "Privs", "primary-group") or as its ABI number in decimal ("11").
// Fails with kInvalidArgument "unknown query class 'X' (valid classes: user,
// groups, ...)" listing every canonical name.
Result<QueryClass> ParseQueryClass(std::string_view text);

// Returns the class with ABI number `id`, or kInvalidArgument when `id` is
// not 1..24 (the kernel's EINVAL for reserved class numbers).
Result<QueryClass> QueryClassFromId(uint32_t id);

// The ABI payload of `query_class` for `token`.
// Fails with kInvalidArgument only when a value cannot be encoded: an owner
// or primary-group index out of range, a default DACL over 65535 bytes, or a
// claim that ValidateClaim rejects. A token that passed ValidateToken and
// whose claims are valid always encodes.
Result<std::vector<uint8_t>> EncodeQueryPayload(const Token& token,
                                                QueryClass query_class);

// As EncodeQueryPayload, returning an empty payload when the value cannot be
// encoded (for callers that only display bytes).
std::vector<uint8_t> QueryPayload(const Token& token, QueryClass query_class);

// Appends a SID list ([count][sid_len][sid][attrs]...) to `out`. Exposed for
// the token spec codec and tests, which use the same entry layout.
void AppendSidList(std::vector<uint8_t>& out,
                   std::span<const SidAndAttributes> entries);

// The SID class 19 reports (see the header comment).
Sid QueryLogonSid(const Token& token);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_QUERY_CLASS_H_
