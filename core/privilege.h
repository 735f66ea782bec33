// Privileges: the catalog of system rights and a token's four privilege masks.
//
// The catalog uses the Peios/Windows LUID values as bit numbers (2..35, 62,
// 63), so a mask bit N is the privilege whose LUID is N. Every catalog bit has
// a canonical name ("SeDebugPrivilege"), the short name tools print
// ("SeDebug"; SeSystemtime keeps its lower-case t) and a one-line description.
//
// PrivilegeSet holds the four states as u64 masks. Invariants kept by the
// operations (not by this struct): enabled ⊆ present, enabled_by_default ⊆
// present; used only grows.
//
// Thread-safety: the catalog is immutable; PrivilegeSet is a plain value.
#ifndef TOKENFS_CORE_PRIVILEGE_H_
#define TOKENFS_CORE_PRIVILEGE_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tokenfs {

struct PrivilegeInfo {
  int bit;
  std::string_view name;        // canonical, e.g. "SeDebugPrivilege"
  std::string_view short_name;  // e.g. "SeDebug"
  std::string_view description;
};

// Bit numbers of the privileges the model's rules name.
namespace privilege {
inline constexpr int kCreateToken = 2;
inline constexpr int kAssignPrimaryToken = 3;
inline constexpr int kLockMemory = 4;
inline constexpr int kIncreaseQuota = 5;
inline constexpr int kMachineAccount = 6;
inline constexpr int kTcb = 7;
inline constexpr int kSecurity = 8;
inline constexpr int kTakeOwnership = 9;
inline constexpr int kLoadDriver = 10;
inline constexpr int kSystemProfile = 11;
inline constexpr int kSystemtime = 12;
inline constexpr int kProfileSingleProcess = 13;
inline constexpr int kIncreaseBasePriority = 14;
inline constexpr int kCreatePagefile = 15;
inline constexpr int kCreatePermanent = 16;
inline constexpr int kBackup = 17;
inline constexpr int kRestore = 18;
inline constexpr int kShutdown = 19;
inline constexpr int kDebug = 20;
inline constexpr int kAudit = 21;
inline constexpr int kSystemEnvironment = 22;
inline constexpr int kChangeNotify = 23;
inline constexpr int kRemoteShutdown = 24;
inline constexpr int kUndock = 25;
inline constexpr int kSyncAgent = 26;
inline constexpr int kEnableDelegation = 27;
inline constexpr int kManageVolume = 28;
inline constexpr int kImpersonate = 29;
inline constexpr int kCreateGlobal = 30;
inline constexpr int kTrustedCredManAccess = 31;
inline constexpr int kRelabel = 32;
inline constexpr int kIncreaseWorkingSet = 33;
inline constexpr int kTimeZone = 34;
inline constexpr int kCreateSymbolicLink = 35;
inline constexpr int kCreateJob = 62;
inline constexpr int kBindPrivilegedPort = 63;

// Bits 2-35, 62, 63: the whole catalog (36 privileges).
inline constexpr uint64_t kCatalogMask = 0xC000000FFFFFFFFCull;

constexpr uint64_t Bit(int bit) { return uint64_t{1} << bit; }
}  // namespace privilege

// The whole catalog in bit order.
std::span<const PrivilegeInfo> PrivilegeCatalog();

// Returns the catalog entry for `bit`, or nullptr when the bit is not in the
// catalog.
const PrivilegeInfo* FindPrivilege(int bit);

// Parses a privilege name: short or canonical name in any case ("SeDebug",
// "sedebugprivilege"), or a bit number in decimal or 0x-hex that names a
// catalog bit. Returns the bit, or kInvalidArgument "unknown privilege 'X'".
Result<int> ParsePrivilegeName(std::string_view text);

// Returns the short name of `bit`, or "<privilege bit N>" outside the
// catalog.
std::string PrivilegeShortName(int bit);

struct PrivilegeSet {
  uint64_t present = 0;
  uint64_t enabled = 0;
  uint64_t enabled_by_default = 0;
  uint64_t used = 0;

  bool IsPresent(int bit) const { return present & privilege::Bit(bit); }
  bool IsEnabled(int bit) const { return enabled & privilege::Bit(bit); }

  friend bool operator==(const PrivilegeSet&, const PrivilegeSet&) = default;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_PRIVILEGE_H_
