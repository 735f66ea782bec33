#include "core/privilege.h"

#include <array>
#include <cctype>

#include "core/ascii.h"

namespace tokenfs {
namespace {

constexpr std::array<PrivilegeInfo, 36> kCatalog{{
    {2, "SeCreateTokenPrivilege", "SeCreateToken", "Create a token object"},
    {3, "SeAssignPrimaryTokenPrivilege", "SeAssignPrimaryToken",
     "Replace a process-level token"},
    {4, "SeLockMemoryPrivilege", "SeLockMemory", "Lock pages in memory"},
    {5, "SeIncreaseQuotaPrivilege", "SeIncreaseQuota",
     "Adjust memory quotas for a process"},
    {6, "SeMachineAccountPrivilege", "SeMachineAccount",
     "Add workstations to domain"},
    {7, "SeTcbPrivilege", "SeTcb", "Act as part of the operating system"},
    {8, "SeSecurityPrivilege", "SeSecurity",
     "Manage auditing and security log"},
    {9, "SeTakeOwnershipPrivilege", "SeTakeOwnership",
     "Take ownership of files or other objects"},
    {10, "SeLoadDriverPrivilege", "SeLoadDriver",
     "Load and unload device drivers"},
    {11, "SeSystemProfilePrivilege", "SeSystemProfile",
     "Profile system performance"},
    {12, "SeSystemtimePrivilege", "SeSystemtime", "Change the system time"},
    {13, "SeProfileSingleProcessPrivilege", "SeProfileSingleProcess",
     "Profile single process"},
    {14, "SeIncreaseBasePriorityPrivilege", "SeIncreaseBasePriority",
     "Increase scheduling priority"},
    {15, "SeCreatePagefilePrivilege", "SeCreatePagefile", "Create a pagefile"},
    {16, "SeCreatePermanentPrivilege", "SeCreatePermanent",
     "Create permanent shared objects"},
    {17, "SeBackupPrivilege", "SeBackup", "Back up files and directories"},
    {18, "SeRestorePrivilege", "SeRestore", "Restore files and directories"},
    {19, "SeShutdownPrivilege", "SeShutdown", "Shut down the system"},
    {20, "SeDebugPrivilege", "SeDebug", "Debug programs"},
    {21, "SeAuditPrivilege", "SeAudit", "Generate security audits"},
    {22, "SeSystemEnvironmentPrivilege", "SeSystemEnvironment",
     "Modify firmware environment values"},
    {23, "SeChangeNotifyPrivilege", "SeChangeNotify",
     "Bypass traverse checking"},
    {24, "SeRemoteShutdownPrivilege", "SeRemoteShutdown",
     "Force shutdown from a remote system"},
    {25, "SeUndockPrivilege", "SeUndock",
     "Remove computer from docking station"},
    {26, "SeSyncAgentPrivilege", "SeSyncAgent",
     "Synchronize directory service data"},
    {27, "SeEnableDelegationPrivilege", "SeEnableDelegation",
     "Enable accounts to be trusted for delegation"},
    {28, "SeManageVolumePrivilege", "SeManageVolume",
     "Perform volume maintenance tasks"},
    {29, "SeImpersonatePrivilege", "SeImpersonate",
     "Impersonate a client after authentication"},
    {30, "SeCreateGlobalPrivilege", "SeCreateGlobal", "Create global objects"},
    {31, "SeTrustedCredManAccessPrivilege", "SeTrustedCredManAccess",
     "Access Credential Manager as a trusted caller"},
    {32, "SeRelabelPrivilege", "SeRelabel", "Modify an object label"},
    {33, "SeIncreaseWorkingSetPrivilege", "SeIncreaseWorkingSet",
     "Increase a process working set"},
    {34, "SeTimeZonePrivilege", "SeTimeZone", "Change the time zone"},
    {35, "SeCreateSymbolicLinkPrivilege", "SeCreateSymbolicLink",
     "Create symbolic links"},
    {62, "SeCreateJobPrivilege", "SeCreateJob", "Create job objects"},
    {63, "SeBindPrivilegedPortPrivilege", "SeBindPrivilegedPort",
     "Bind to privileged network ports"},
}};

}  // namespace

std::span<const PrivilegeInfo> PrivilegeCatalog() { return kCatalog; }

const PrivilegeInfo* FindPrivilege(int bit) {
  for (const auto& entry : kCatalog) {
    if (entry.bit == bit) return &entry;
  }
  return nullptr;
}

Result<int> ParsePrivilegeName(std::string_view text) {
  for (const auto& entry : kCatalog) {
    if (EqualsIgnoreCase(text, entry.short_name) ||
        EqualsIgnoreCase(text, entry.name)) {
      return entry.bit;
    }
  }
  // A bit number, decimal or 0x-hex.
  if (!text.empty() && text.size() <= 6) {
    int base = 10;
    size_t position = 0;
    if (text.size() > 2 && text[0] == '0' &&
        (text[1] == 'x' || text[1] == 'X')) {
      base = 16;
      position = 2;
    }
    int value = 0;
    bool digits = position < text.size();
    for (; position < text.size() && digits; ++position) {
      const char c = static_cast<char>(
          std::tolower(static_cast<unsigned char>(text[position])));
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (digit < 0) {
        digits = false;
        break;
      }
      value = value * base + digit;
    }
    if (digits && FindPrivilege(value)) return value;
  }
  // The whole word is the offending item, so the column is its start.
  return InvalidArgument("unknown privilege '" + std::string(text) + "'", 1);
}

std::string PrivilegeShortName(int bit) {
  if (const PrivilegeInfo* info = FindPrivilege(bit)) {
    return std::string(info->short_name);
  }
  return "<privilege bit " + std::to_string(bit) + ">";
}

}  // namespace tokenfs
