#include "core/privilege_capability_table.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "core/linux_credentials.h"
#include "core/privilege.h"

// Expected masks are summed by hand from the privilege and capability bit
// numbers.

namespace tokenfs {
namespace {

namespace cap = linux_capability;

uint64_t Privs(std::initializer_list<int> bits) {
  uint64_t mask = 0;
  for (int bit : bits) mask |= privilege::Bit(bit);
  return mask;
}

uint64_t Caps(std::initializer_list<int> capabilities) {
  uint64_t mask = 0;
  for (int capability : capabilities) mask |= cap::Bit(capability);
  return mask;
}

// SeChangeNotify, SeShutdown, SeUndock, SeIncreaseWorkingSet, SeTimeZone:
// bits 23, 19, 25, 33, 34.
constexpr uint64_t kUserBaseline = 0x602880000ull;

constexpr uint64_t kChangeNotify = 0x800000ull;

// ---- The mapping table ----

TEST_CASE("the capability table inverts Peios' privilege switchboard") {
  // The switchboard: each Linux capability and the privilege that governs
  // it.
  const std::pair<int, int> switchboard[] = {
      {cap::kLinuxImmutable, privilege::kTcb},
      {cap::kNetBindService, privilege::kBindPrivilegedPort},
      {cap::kNetAdmin, privilege::kTcb},
      {cap::kNetRaw, privilege::kTcb},
      {cap::kIpcLock, privilege::kLockMemory},
      {cap::kSysModule, privilege::kLoadDriver},
      {cap::kSysRawio, privilege::kTcb},
      {cap::kSysChroot, privilege::kTcb},
      {cap::kSysPtrace, privilege::kDebug},
      {cap::kSysPacct, privilege::kTcb},
      {cap::kSysAdmin, privilege::kTcb},
      {cap::kSysBoot, privilege::kShutdown},
      {cap::kSysNice, privilege::kIncreaseBasePriority},
      {cap::kSysResource, privilege::kIncreaseQuota},
      {cap::kSysTime, privilege::kSystemtime},
      {cap::kSysTtyConfig, privilege::kTcb},
      {cap::kMknod, privilege::kTcb},
      {cap::kAuditWrite, privilege::kAudit},
      {cap::kAuditControl, privilege::kSecurity},
      {cap::kMacAdmin, privilege::kSecurity},
      {cap::kSyslog, privilege::kTcb},
      {cap::kWakeAlarm, privilege::kTcb},
      {cap::kBlockSuspend, privilege::kTcb},
      {cap::kAuditRead, privilege::kSecurity},
      {cap::kPerfmon, privilege::kProfileSingleProcess},
      {cap::kBpf, privilege::kTcb},
      {cap::kCheckpointRestore, privilege::kTcb},
  };
  for (const auto& [capability, bit] : switchboard) {
    INFO("capability " << capability << " privilege " << bit);
    CHECK((PrivilegesForCapabilities(cap::Bit(capability)) &
           privilege::Bit(bit)) != 0);
    CHECK((CapabilitiesForPrivilege(bit) & cap::Bit(capability)) != 0);
  }
}

TEST_CASE("the capability table maps the file and identity capabilities") {
  CHECK(CapabilitiesForPrivilege(privilege::kBackup) ==
        Caps({cap::kDacReadSearch}));
  CHECK(CapabilitiesForPrivilege(privilege::kRestore) ==
        Caps({cap::kDacOverride}));
  CHECK(CapabilitiesForPrivilege(privilege::kTakeOwnership) ==
        Caps({cap::kChown, cap::kFowner}));
  CHECK(CapabilitiesForPrivilege(privilege::kImpersonate) ==
        Caps({cap::kSetuid}));
  CHECK(CapabilitiesForPrivilege(privilege::kAssignPrimaryToken) ==
        Caps({cap::kSetuid, cap::kSetgid}));
  CHECK(CapabilitiesForPrivilege(privilege::kChangeNotify) == 0);
  CHECK(CapabilitiesForPrivilege(privilege::kCreateToken) == 0);
  CHECK(PrivilegesForCapabilities(Caps({cap::kSysAdmin})) ==
        Privs({privilege::kTcb, privilege::kCreatePagefile,
               privilege::kSystemEnvironment, privilege::kManageVolume}));
}

TEST_CASE(
    "privileges no capability maps to are the ones root gets by "
    "CAP_SYS_ADMIN") {
  // Bits 2 6 16 25 26 27 30 31 33 35 62.
  CHECK(UnmappedPrivileges() == 0x4000000ACE010044ull);
}

TEST_CASE("a capability is dropped when any privilege it maps to is absent") {
  CHECK(CapabilitiesToDrop(privilege::kCatalogMask) == 0);
  const uint64_t drop = CapabilitiesToDrop(
      privilege::kCatalogMask & ~privilege::Bit(privilege::kImpersonate));
  CHECK(drop == Caps({cap::kSetuid}));
  const uint64_t user_drop = CapabilitiesToDrop(kUserBaseline);
  CHECK((user_drop & Caps({cap::kSysAdmin, cap::kSysPtrace, cap::kSetuid,
                           cap::kSysBoot})) ==
        Caps({cap::kSysAdmin, cap::kSysPtrace, cap::kSetuid, cap::kSysBoot}));
  // Capabilities the table never mentions are left to the daemon.
  CHECK((user_drop & Caps({cap::kKill, cap::kSetpcap, cap::kLease})) == 0);
}

}  // namespace
}  // namespace tokenfs
