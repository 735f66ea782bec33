// LinuxCredentials: the credentials of one process as Linux reports them,
// and which of its capabilities count.
//
// Models /proc/<pid>/status (uids, gids, capability sets, NoNewPrivs),
// /proc/<pid>/sessionid and the controlling terminal, as the daemon reads
// them (core/proc_status.h parses those texts); core does no I/O.
// Capability numbers are the kernel's (include/uapi/linux/capability.h).
//
// Invariant: none beyond the field types; a capability counts only when the
// process is in the initial user namespace (CapabilitiesThatCount).
//
// Thread-safety: plain values and pure functions. Ownership: values.
#ifndef TOKENFS_CORE_LINUX_CREDENTIALS_H_
#define TOKENFS_CORE_LINUX_CREDENTIALS_H_

#include <cstdint>
#include <vector>

namespace tokenfs {

// Linux capability numbers (include/uapi/linux/capability.h).
namespace linux_capability {
inline constexpr int kChown = 0;
inline constexpr int kDacOverride = 1;
inline constexpr int kDacReadSearch = 2;
inline constexpr int kFowner = 3;
inline constexpr int kFsetid = 4;
inline constexpr int kKill = 5;
inline constexpr int kSetgid = 6;
inline constexpr int kSetuid = 7;
inline constexpr int kSetpcap = 8;
inline constexpr int kLinuxImmutable = 9;
inline constexpr int kNetBindService = 10;
inline constexpr int kNetBroadcast = 11;
inline constexpr int kNetAdmin = 12;
inline constexpr int kNetRaw = 13;
inline constexpr int kIpcLock = 14;
inline constexpr int kIpcOwner = 15;
inline constexpr int kSysModule = 16;
inline constexpr int kSysRawio = 17;
inline constexpr int kSysChroot = 18;
inline constexpr int kSysPtrace = 19;
inline constexpr int kSysPacct = 20;
inline constexpr int kSysAdmin = 21;
inline constexpr int kSysBoot = 22;
inline constexpr int kSysNice = 23;
inline constexpr int kSysResource = 24;
inline constexpr int kSysTime = 25;
inline constexpr int kSysTtyConfig = 26;
inline constexpr int kMknod = 27;
inline constexpr int kLease = 28;
inline constexpr int kAuditWrite = 29;
inline constexpr int kAuditControl = 30;
inline constexpr int kSetfcap = 31;
inline constexpr int kMacOverride = 32;
inline constexpr int kMacAdmin = 33;
inline constexpr int kSyslog = 34;
inline constexpr int kWakeAlarm = 35;
inline constexpr int kBlockSuspend = 36;
inline constexpr int kAuditRead = 37;
inline constexpr int kPerfmon = 38;
inline constexpr int kBpf = 39;
inline constexpr int kCheckpointRestore = 40;
inline constexpr int kLast = 40;
// Every capability 0..40.
inline constexpr uint64_t kAllMask = (uint64_t{1} << (kLast + 1)) - 1;

constexpr uint64_t Bit(int capability) { return uint64_t{1} << capability; }
}  // namespace linux_capability

// /proc/<pid>/sessionid when the process is in no audit (login) session.
inline constexpr uint32_t kAuditSessionUnset = 4294967295u;

// The credentials of one process, as /proc/<pid>/status and sessionid show
// them. Capability sets are the CapPrm/CapEff/... masks; they count only when
// `initial_user_namespace` is true: a capability held in any other user
// namespace (after `unshare -U`, in a rootless container) grants nothing
// outside it, so it never becomes a privilege or satisfies a capability
// check here (see HeldCapabilities). Ids are kernel ids, as seen from the
// initial user namespace.
struct LinuxCredentials {
  uint32_t real_uid = 0;
  uint32_t effective_uid = 0;
  uint32_t saved_uid = 0;
  uint32_t fs_uid = 0;
  uint32_t real_gid = 0;
  uint32_t effective_gid = 0;
  uint32_t saved_gid = 0;
  uint32_t fs_gid = 0;
  std::vector<uint32_t> supplementary_gids;
  uint64_t cap_permitted = 0;
  uint64_t cap_effective = 0;
  uint64_t cap_inheritable = 0;
  uint64_t cap_bounding = 0;
  uint64_t cap_ambient = 0;
  bool no_new_privs = false;
  bool has_terminal = false;  // a controlling terminal (tty_nr != 0)
  uint32_t audit_session_id = kAuditSessionUnset;
  // The process's user namespace is the one tokenfs runs in (the initial
  // one on any ordinary host). False when it differs or cannot be read.
  bool initial_user_namespace = true;
  friend bool operator==(const LinuxCredentials&,
                         const LinuxCredentials&) = default;
};

// The capabilities of `credentials` that count: its permitted and effective
// sets when it is in the initial user namespace, none otherwise.
struct HeldCapabilities {
  uint64_t permitted = 0;
  uint64_t effective = 0;
};
HeldCapabilities CapabilitiesThatCount(const LinuxCredentials& credentials);

// True iff `credentials` holds `capability` in its effective set in the
// initial user namespace (the kernel's capable() for the whole system).
bool HoldsCapability(const LinuxCredentials& credentials, int capability);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_LINUX_CREDENTIALS_H_
