// The Linux side of a process as setpriv -d shows it: its five capability
// sets and no_new_privs, from /proc/<pid>/status (parsed by core
// ParseProcStatus). Securebits have no /proc field: only the process itself
// can ask for them (PR_GET_SECUREBITS), so they are known only when `pid` is
// the caller.
//
// Thread-safety: a plain value; ReadProcessStatus touches only /proc.
#ifndef TOKENFS_CLI_PROCESS_STATUS_H_
#define TOKENFS_CLI_PROCESS_STATUS_H_

#include <cstdint>
#include <optional>

#include "core/linux_credentials.h"
#include "core/result.h"

namespace tokenfs::cli {

struct ProcessStatus {
  // What /proc/<pid>/status shows: ids, groups, capability sets,
  // no_new_privs.
  LinuxCredentials credentials;
  std::optional<uint64_t> securebits;  // only for the calling process
};

// Reads and parses /proc/<pid>/status (and the securebits when pid is
// getpid()). An error, saying why, when the process is gone, the file is
// unreadable or its text is not the kernel's layout.
Result<ProcessStatus> ReadProcessStatus(int pid);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_PROCESS_STATUS_H_
