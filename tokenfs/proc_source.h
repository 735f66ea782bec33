// ProcProcessSource: the registry's view of processes, read from /proc.
//
// Reads only files that never block on a process stuck in a FUSE request:
// /proc/<tid>/status (credentials, Tgid, PPid), /proc/<tid>/stat (start time,
// controlling terminal), /proc/<tid>/sessionid and the /proc and
// /proc/<pid>/task listings. Never cmdline, environ, maps or mem (they take
// the target's mmap lock; notes/fuse.md pitfall 15), and never anything under
// the daemon's own mount.
//
// Thread-safety: stateless; safe from any thread.
#ifndef TOKENFS_TOKENFS_PROC_SOURCE_H_
#define TOKENFS_TOKENFS_PROC_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/luid.h"
#include "core/registry.h"

namespace tokenfs {

class ProcProcessSource : public ProcessSource {
 public:
  explicit ProcProcessSource(std::string proc_root = "/proc")
      : proc_root_(std::move(proc_root)) {}

  Result<TaskInfo> ReadTask(int32_t tid) const override;
  Result<uint64_t> TaskStartTime(int32_t tid) const override;
  std::vector<int32_t> ListProcesses() const override;
  std::vector<int32_t> ListThreads(int32_t pid) const override;

  // The effective capability set of task `tid` right now (CapEff).
  Result<uint64_t> EffectiveCapabilities(int32_t tid) const;

 private:
  std::string proc_root_;
};

// Parses the text of /proc/<tid>/status into `info` (Tgid, PPid, Uid, Gid,
// Groups, Cap*, NoNewPrivs). Exposed for tests.
Status ParseProcStatus(std::string_view text, TaskInfo& info);
// Parses /proc/<tid>/stat: start time (field 22) and tty_nr (field 7).
struct ProcStat {
  uint64_t start_time = 0;
  int64_t tty = 0;
};
Result<ProcStat> ParseProcStat(std::string_view text);

// Wall clock for token creation times.
class SystemClock : public Clock {
 public:
  uint64_t NowNanoseconds() const override;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_PROC_SOURCE_H_
