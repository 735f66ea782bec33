// Texts of /proc/<tid>/status, /proc/<tid>/stat and a pidfd's fdinfo
// written the way the kernel writes them (fs/proc/array.c: task_state,
// render_cap_t, do_task_stat; kernel/pid.c: pidfd_show_fdinfo), for round-trip
// tests of core/proc_status.h: format a value here, parse it there, compare.
// Written with snprintf, independently of the parser and of core's number
// formatting.
//
// Header-only, so the fuzz targets (linked with tokenfs_core only) can use
// it too. Thread-safety: pure functions.
#ifndef TOKENFS_TESTS_SUPPORT_PROC_TEXTS_H_
#define TOKENFS_TESTS_SUPPORT_PROC_TEXTS_H_

#include <cinttypes>
#include <cstdio>
#include <string>

#include "core/proc_status.h"

namespace tokenfs::test {

namespace proc_texts_detail {
template <typename... Args>
std::string Printf(const char* format, Args... args) {
  char buffer[256];
  const int length = std::snprintf(buffer, sizeof buffer, format, args...);
  return std::string(buffer, static_cast<size_t>(length));
}
}  // namespace proc_texts_detail

// The status text of a task with `status` (Linux 6.x lines and order, the
// lines the parser ignores filled with typical values). `with_ambient` and
// `with_no_new_privs` false leave out the lines kernels before 4.3 and 4.10
// lack.
inline std::string KernelStatusText(const ProcStatus& status,
                                    bool with_ambient = true,
                                    bool with_no_new_privs = true) {
  using proc_texts_detail::Printf;
  const LinuxCredentials& c = status.credentials;
  std::string text = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\n";
  text += Printf("Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
                 status.tgid, status.tgid, status.ppid);
  text += Printf("Uid:\t%u\t%u\t%u\t%u\n", c.real_uid, c.effective_uid,
                 c.saved_uid, c.fs_uid);
  text += Printf("Gid:\t%u\t%u\t%u\t%u\n", c.real_gid, c.effective_gid,
                 c.saved_gid, c.fs_gid);
  text += "FDSize:\t64\nGroups:\t";
  for (size_t i = 0; i < c.supplementary_gids.size(); ++i) {
    text += Printf(i == 0 ? "%u" : " %u", c.supplementary_gids[i]);
  }
  text += " \n";  // the kernel's trailing space
  text +=
      Printf("NStgid:\t%d\nVmPeak:\t    3708 kB\nThreads:\t1\n", status.tgid);
  text += "SigQ:\t0/96367\nSigIgn:\t0000000000000000\n";
  text += Printf("CapInh:\t%016" PRIx64 "\n", c.cap_inheritable);
  text += Printf("CapPrm:\t%016" PRIx64 "\n", c.cap_permitted);
  text += Printf("CapEff:\t%016" PRIx64 "\n", c.cap_effective);
  text += Printf("CapBnd:\t%016" PRIx64 "\n", c.cap_bounding);
  if (with_ambient) text += Printf("CapAmb:\t%016" PRIx64 "\n", c.cap_ambient);
  if (with_no_new_privs) {
    text += Printf("NoNewPrivs:\t%d\n", c.no_new_privs ? 1 : 0);
  }
  text += "Seccomp:\t0\nCpus_allowed_list:\t0-1\n";
  return text;
}

// The stat text of task `pid` named `comm` with `stat` (52 fields, as Linux
// 6.x; fields the parser ignores filled with typical values).
inline std::string KernelStatText(int pid, const std::string& comm,
                                  const ProcStat& stat) {
  using proc_texts_detail::Printf;
  std::string text = Printf("%d (", pid) + comm + ") ";
  text += Printf("%c 1 %d %d %" PRId64
                 " -1 4194304 101 0 0 0 0 0 0 0 20 0 "
                 "1 0 %" PRIu64 " 3133440 390 18446744073709551615 ",
                 stat.state, stat.process_group, stat.session, stat.tty,
                 stat.start_time);
  text += Printf("%" PRIu64 " %" PRIu64 " %" PRIu64, stat.start_code,
                 stat.end_code, stat.start_stack);
  text += " 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
  return text;
}

// The fdinfo text of a pidfd whose process has id `pid` in the reader's
// pid namespace (-1 once reaped), as Linux 6.x writes it.
inline std::string KernelPidfdInfoText(int pid) {
  using proc_texts_detail::Printf;
  return Printf(
      "pos:\t0\nflags:\t02000002\nmnt_id:\t4\nino:\t1969810\n"
      "Pid:\t%d\nNSpid:\t%d\n",
      pid, pid);
}

}  // namespace tokenfs::test

#endif  // TOKENFS_TESTS_SUPPORT_PROC_TEXTS_H_
