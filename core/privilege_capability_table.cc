#include "core/privilege_capability_table.h"

#include <array>

#include "core/privilege.h"

namespace tokenfs {
namespace {

namespace cap = linux_capability;

// ---- The privilege <-> capability table ----
//
// Rows marked "switchboard" invert Peios' PRIVILEGE-mapped capabilities
// exactly; the others are tokenfs's choices (docs/policy.md gives reasons).
constexpr std::array<int, 2> kAssignPrimaryTokenCaps{cap::kSetuid,
                                                     cap::kSetgid};
constexpr std::array<int, 1> kLockMemoryCaps{cap::kIpcLock};  // switchboard
constexpr std::array<int, 1> kIncreaseQuotaCaps{
    cap::kSysResource};                // switchboard
constexpr std::array<int, 14> kTcbCaps{// switchboard
                                       cap::kLinuxImmutable,
                                       cap::kNetAdmin,
                                       cap::kNetRaw,
                                       cap::kSysRawio,
                                       cap::kSysChroot,
                                       cap::kSysPacct,
                                       cap::kSysAdmin,
                                       cap::kSysTtyConfig,
                                       cap::kMknod,
                                       cap::kSyslog,
                                       cap::kWakeAlarm,
                                       cap::kBlockSuspend,
                                       cap::kBpf,
                                       cap::kCheckpointRestore};
constexpr std::array<int, 3> kSecurityCaps{
    // switchboard
    cap::kAuditControl, cap::kMacAdmin, cap::kAuditRead};
constexpr std::array<int, 2> kTakeOwnershipCaps{cap::kChown, cap::kFowner};
constexpr std::array<int, 1> kLoadDriverCaps{cap::kSysModule};  // switchboard
constexpr std::array<int, 1> kSystemProfileCaps{cap::kPerfmon};
constexpr std::array<int, 1> kSystemtimeCaps{cap::kSysTime};  // switchboard
constexpr std::array<int, 1> kProfileSingleProcessCaps{
    cap::kPerfmon};  // switchboard
constexpr std::array<int, 1> kIncreaseBasePriorityCaps{
    cap::kSysNice};  // switchboard
constexpr std::array<int, 1> kCreatePagefileCaps{cap::kSysAdmin};
constexpr std::array<int, 1> kBackupCaps{cap::kDacReadSearch};
constexpr std::array<int, 1> kRestoreCaps{cap::kDacOverride};
constexpr std::array<int, 1> kShutdownCaps{cap::kSysBoot};  // switchboard
constexpr std::array<int, 1> kDebugCaps{cap::kSysPtrace};   // switchboard
constexpr std::array<int, 1> kAuditCaps{cap::kAuditWrite};  // switchboard
constexpr std::array<int, 1> kSystemEnvironmentCaps{cap::kSysAdmin};
constexpr std::array<int, 1> kRemoteShutdownCaps{cap::kSysBoot};
constexpr std::array<int, 1> kManageVolumeCaps{cap::kSysAdmin};
constexpr std::array<int, 1> kImpersonateCaps{cap::kSetuid};
constexpr std::array<int, 2> kRelabelCaps{cap::kMacAdmin, cap::kMacOverride};
constexpr std::array<int, 1> kTimeZoneCaps{cap::kSysTime};
constexpr std::array<int, 1> kBindPrivilegedPortCaps{
    cap::kNetBindService};  // switchboard

constexpr std::array<PrivilegeCapabilityMapping, 24> kMapping{{
    {privilege::kAssignPrimaryToken, kAssignPrimaryTokenCaps},
    {privilege::kLockMemory, kLockMemoryCaps},
    {privilege::kIncreaseQuota, kIncreaseQuotaCaps},
    {privilege::kTcb, kTcbCaps},
    {privilege::kSecurity, kSecurityCaps},
    {privilege::kTakeOwnership, kTakeOwnershipCaps},
    {privilege::kLoadDriver, kLoadDriverCaps},
    {privilege::kSystemProfile, kSystemProfileCaps},
    {privilege::kSystemtime, kSystemtimeCaps},
    {privilege::kProfileSingleProcess, kProfileSingleProcessCaps},
    {privilege::kIncreaseBasePriority, kIncreaseBasePriorityCaps},
    {privilege::kCreatePagefile, kCreatePagefileCaps},
    {privilege::kBackup, kBackupCaps},
    {privilege::kRestore, kRestoreCaps},
    {privilege::kShutdown, kShutdownCaps},
    {privilege::kDebug, kDebugCaps},
    {privilege::kAudit, kAuditCaps},
    {privilege::kSystemEnvironment, kSystemEnvironmentCaps},
    {privilege::kRemoteShutdown, kRemoteShutdownCaps},
    {privilege::kManageVolume, kManageVolumeCaps},
    {privilege::kImpersonate, kImpersonateCaps},
    {privilege::kRelabel, kRelabelCaps},
    {privilege::kTimeZone, kTimeZoneCaps},
    {privilege::kBindPrivilegedPort, kBindPrivilegedPortCaps},
}};

uint64_t CapabilityMask(std::span<const int> capabilities) {
  uint64_t mask = 0;
  for (int capability : capabilities) mask |= cap::Bit(capability);
  return mask;
}

constexpr uint64_t kChangeNotify = privilege::Bit(privilege::kChangeNotify);

}  // namespace

std::span<const PrivilegeCapabilityMapping> PrivilegeCapabilityTable() {
  return kMapping;
}

uint64_t CapabilitiesForPrivilege(int privilege_bit) {
  for (const auto& row : kMapping) {
    if (row.privilege_bit == privilege_bit) {
      return CapabilityMask(row.capabilities);
    }
  }
  return 0;
}

uint64_t PrivilegesForCapabilities(uint64_t capabilities) {
  uint64_t privileges = 0;
  for (const auto& row : kMapping) {
    if (CapabilityMask(row.capabilities) & capabilities) {
      privileges |= privilege::Bit(row.privilege_bit);
    }
  }
  return privileges;
}

uint64_t UnmappedPrivileges() {
  uint64_t mask = privilege::kCatalogMask & ~kChangeNotify;
  for (const auto& row : kMapping) mask &= ~privilege::Bit(row.privilege_bit);
  return mask;
}

uint64_t CapabilitiesToDrop(uint64_t present_privileges) {
  uint64_t drop = 0;
  for (const auto& row : kMapping) {
    if (!(present_privileges & privilege::Bit(row.privilege_bit))) {
      drop |= CapabilityMask(row.capabilities);
    }
  }
  return drop;
}

}  // namespace tokenfs
