// The Linux side of a process as setpriv -d shows it: its five capability
// sets and no_new_privs, read from /proc/<pid>/status. Securebits have no
// /proc field: only the process itself can ask for them (PR_GET_SECUREBITS),
// so they are known only when `pid` is the caller.
//
// Thread-safety: a plain value; ReadProcessStatus touches only /proc.
#ifndef TOKENFS_CLI_PROCESS_STATUS_H_
#define TOKENFS_CLI_PROCESS_STATUS_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace tokenfs::cli {

struct ProcessStatus {
  uint64_t cap_inheritable = 0;
  uint64_t cap_permitted = 0;
  uint64_t cap_effective = 0;
  uint64_t cap_bounding = 0;
  uint64_t cap_ambient = 0;
  bool no_new_privs = false;
  std::optional<uint64_t> securebits;  // only for the calling process
};

// Parses the text of /proc/<pid>/status; nullopt when a capability line
// is missing or malformed (NoNewPrivs absent counts as 0: kernels before
// 4.10 lack it).
std::optional<ProcessStatus> ParseProcessStatus(std::string_view text);

// Reads /proc/<pid>/status (and the securebits when pid is getpid());
// nullopt when the process is gone or unreadable.
std::optional<ProcessStatus> ReadProcessStatus(int pid);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_PROCESS_STATUS_H_
