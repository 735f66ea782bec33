// ParseProcStatus, ParseProcStat, ParsePidfdPid: the texts the kernel writes
// about one task, /proc/<tid>/status and /proc/<tid>/stat (fs/proc/array.c)
// and the fdinfo of a pidfd (kernel/pid.c), read into values. The daemon
// (tokenfs/proc_source.cc) and the CLI (token show --all) read the files;
// every byte of them is interpreted here, and numbers go through
// ParseUnsigned (core/number.h).
//
// status: "Key:\tvalue" lines. Only the lines below are read; any other line
// (and its shape) is ignored, so new kernel lines change nothing. Each read
// line may appear once; values are split at spaces and tabs.
//
//   line        value                          required
//   Tgid, PPid  one decimal id <= 2147483647   yes
//   Uid, Gid    four decimal ids <= 4294967295 yes (real, effective, saved, fs)
//   Groups      zero or more such ids          yes
//   CapInh, CapPrm, CapEff, CapBnd
//               one hex mask, no prefix        yes
//   CapAmb      one hex mask                   no (Linux 4.3+; absent = 0)
//   NoNewPrivs  0 or 1                         no (Linux 4.10+; absent = 0)
//
// Every required line exists on every kernel tokenfs supports. A line that
// is read and present but malformed is an error, never a default: a
// capability set taken as 0, or a group dropped, would let a process pass a
// subset test or miss a deny entry it should meet.
//
// stat: "<pid> (<comm>) <field 3> <field 4> ...". The command name may hold
// spaces and parentheses, so the fields after it start after the last ')'.
// Fields 3 to 22 are required; 26 to 28 (the program layout) are read when
// the text goes that far (0 otherwise). Only the fields read are checked.
//
// fdinfo of a pidfd: "key:\tvalue" lines like status; only "Pid:" is read
// (required, once): the process's id in the reader's pid namespace, -1 once
// it has been reaped, 0 when it is outside that namespace.
//
// Invariant: a returned value came from a text of exactly the shape above;
// errors are kInvalidArgument with a message naming the line or field.
//
// Thread-safety: pure functions. Ownership: borrows `text` for the call only.
#ifndef TOKENFS_CORE_PROC_STATUS_H_
#define TOKENFS_CORE_PROC_STATUS_H_

#include <cstdint>
#include <string_view>

#include "core/linux_credentials.h"
#include "core/result.h"

namespace tokenfs {

// What /proc/<tid>/status says about a task.
struct ProcStatus {
  int32_t tgid = 0;  // the process (thread group) the task belongs to
  int32_t ppid = 0;  // the parent of that process; 0 for init and kthreadd
  // Ids, groups (in the kernel's order), the five capability sets and
  // no_new_privs. The fields status does not show (has_terminal,
  // audit_session_id, initial_user_namespace) keep their defaults.
  LinuxCredentials credentials;
  friend bool operator==(const ProcStatus&, const ProcStatus&) = default;
};

Result<ProcStatus> ParseProcStatus(std::string_view text);

// What /proc/<tid>/stat says about a task (the fields tokenfs uses).
struct ProcStat {
  char state = 0;             // field 3: R, S, D, Z (zombie), X (dead)...
  int32_t process_group = 0;  // field 5
  int32_t session = 0;        // field 6
  int64_t tty = 0;            // field 7, tty_nr: 0 without a controlling tty
  uint64_t start_time = 0;    // field 22, in clock ticks since boot
  // Fields 26-28 (start and end of the program text, start of the stack):
  // randomized at each exec; 0 when the kernel hides them.
  uint64_t start_code = 0;
  uint64_t end_code = 0;
  uint64_t start_stack = 0;
  bool exited() const { return state == 'Z' || state == 'X'; }
  friend bool operator==(const ProcStat&, const ProcStat&) = default;
};

Result<ProcStat> ParseProcStat(std::string_view text);

// The process a pidfd refers to, from /proc/<pid>/fdinfo/<pidfd>: its id,
// or 0 when it has been reaped or is outside the reader's pid namespace
// (then its number may name another process, or none).
Result<int32_t> ParsePidfdPid(std::string_view text);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_PROC_STATUS_H_
