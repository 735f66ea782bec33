// core/proc_status.h: the status and stat texts of a task and the fdinfo
// of a pidfd, as the kernel writes them. Three tables each: texts (real ones
// from Linux 6.18, and the layouts of older kernels) and the values they give;
// texts refused and the exact message; values written in the kernel's layout
// (tests/support/proc_texts.h) and parsed back.
#include "core/proc_status.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/support/proc_texts.h"

namespace tokenfs {
namespace {

using test::KernelStatText;
using test::KernelStatusText;

// ---- /proc/<tid>/status

// `cat /proc/self/status` under `setpriv --reuid=65534 --regid=65534
// --groups=27,100,1000 --inh-caps=-all --bounding-set=-all --no-new-privs`
// (Linux 6.18).
constexpr const char* kUnprivilegedStatus =
    "Name:\tcat\n"
    "Umask:\t0022\n"
    "State:\tR (running)\n"
    "Tgid:\t18504\n"
    "Ngid:\t0\n"
    "Pid:\t18504\n"
    "PPid:\t18498\n"
    "TracerPid:\t0\n"
    "Uid:\t65534\t65534\t65534\t65534\n"
    "Gid:\t65534\t65534\t65534\t65534\n"
    "FDSize:\t256\n"
    "Groups:\t27 100 1000 \n"
    "NStgid:\t18504\n"
    "NSpid:\t18504\n"
    "NSpgid:\t18498\n"
    "NSsid:\t12345\n"
    "Kthread:\t0\n"
    "VmPeak:\t    3060 kB\n"
    "VmSize:\t    3060 kB\n"
    "VmLck:\t       0 kB\n"
    "VmPin:\t       0 kB\n"
    "VmHWM:\t    1772 kB\n"
    "VmRSS:\t    1772 kB\n"
    "RssAnon:\t     116 kB\n"
    "RssFile:\t    1656 kB\n"
    "RssShmem:\t       0 kB\n"
    "VmData:\t     360 kB\n"
    "VmStk:\t     132 kB\n"
    "VmExe:\t      20 kB\n"
    "VmLib:\t    1528 kB\n"
    "VmPTE:\t      44 kB\n"
    "VmSwap:\t       0 kB\n"
    "HugetlbPages:\t       0 kB\n"
    "CoreDumping:\t0\n"
    "THP_enabled:\t1\n"
    "untag_mask:\t0xffffffffffffffff\n"
    "Threads:\t1\n"
    "SigQ:\t0/96367\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\n"
    "SigBlk:\t0000000000000000\n"
    "SigIgn:\t0000000000000000\n"
    "SigCgt:\t0000000000000000\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000000000\n"
    "CapEff:\t0000000000000000\n"
    "CapBnd:\t0000000000000000\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t1\n"
    "Seccomp:\t0\n"
    "Seccomp_filters:\t0\n"
    "Speculation_Store_Bypass:\tvulnerable\n"
    "SpeculationIndirectBranch:\talways enabled\n"
    "Cpus_allowed:\t3\n"
    "Cpus_allowed_list:\t0-1\n"
    "Mems_allowed:\t00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000001\n"
    "Mems_allowed_list:\t0\n"
    "voluntary_ctxt_switches:\t4\n"
    "nonvoluntary_ctxt_switches:\t2\n";

// /proc/2/status, kthreadd (Linux 6.18): PPid 0, no groups ("Groups:\t \n"),
// every capability.
constexpr const char* kKernelThreadStatus =
    "Name:\tkthreadd\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t2\n"
    "Ngid:\t0\n"
    "Pid:\t2\n"
    "PPid:\t0\n"
    "TracerPid:\t0\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "FDSize:\t64\n"
    "Groups:\t \n"
    "NStgid:\t2\n"
    "NSpid:\t2\n"
    "NSpgid:\t0\n"
    "NSsid:\t0\n"
    "Kthread:\t1\n"
    "Threads:\t1\n"
    "SigQ:\t7/96367\n"
    "SigPnd:\t0000000000000000\n"
    "ShdPnd:\t0000000000000000\n"
    "SigBlk:\t0000000000000000\n"
    "SigIgn:\tffffffffffffffff\n"
    "SigCgt:\t0000000000000000\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001ffffffffff\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n"
    "Seccomp:\t0\n"
    "Seccomp_filters:\t0\n"
    "Speculation_Store_Bypass:\tvulnerable\n"
    "SpeculationIndirectBranch:\talways enabled\n"
    "Cpus_allowed:\t3\n"
    "Cpus_allowed_list:\t0-1\n"
    "Mems_allowed:\t00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
    "00000000,00000001\n"
    "Mems_allowed_list:\t0\n"
    "voluntary_ctxt_switches:\t218\n"
    "nonvoluntary_ctxt_switches:\t0\n";

// A thread of a multi-threaded process (Linux 6.x layout, lines the parser
// ignores left out): Tgid is its process, not its own Pid.
constexpr const char* kThreadStatus =
    "Name:\tworker\n"
    "Tgid:\t4242\n"
    "Pid:\t4250\n"
    "PPid:\t4100\n"
    "Uid:\t1000\t1001\t1002\t1003\n"
    "Gid:\t100\t101\t102\t103\n"
    "Groups:\t27 100 1000 \n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000080000\n"
    "CapEff:\t0000000000080000\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t0\n";

// Linux 4.1 (before CapAmb, 4.3, and NoNewPrivs, 4.10).
constexpr const char* kLinux41Status =
    "Name:\tsshd\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t812\n"
    "Ngid:\t0\n"
    "Pid:\t812\n"
    "PPid:\t1\n"
    "TracerPid:\t0\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "FDSize:\t64\n"
    "Groups:\t\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000003fffffffff\n"
    "CapEff:\t0000003fffffffff\n"
    "CapBnd:\t0000003fffffffff\n"
    "Seccomp:\t0\n";

LinuxCredentials Credentials(uint32_t uid, uint32_t gid,
                             std::vector<uint32_t> groups, uint64_t permitted,
                             uint64_t effective, uint64_t bounding) {
  LinuxCredentials credentials;
  credentials.real_uid = credentials.effective_uid = credentials.saved_uid =
      credentials.fs_uid = uid;
  credentials.real_gid = credentials.effective_gid = credentials.saved_gid =
      credentials.fs_gid = gid;
  credentials.supplementary_gids = std::move(groups);
  credentials.cap_permitted = permitted;
  credentials.cap_effective = effective;
  credentials.cap_bounding = bounding;
  return credentials;
}

TEST_CASE("status texts give the ids, groups, capability sets and nnp") {
  struct Case {
    std::string name;
    std::string text;
    ProcStatus expected;
  };
  ProcStatus unprivileged{18504, 18498,
                          Credentials(65534, 65534, {27, 100, 1000}, 0, 0, 0)};
  unprivileged.credentials.no_new_privs = true;
  const ProcStatus kernel_thread{
      2, 0, Credentials(0, 0, {}, 0x1ffffffffff, 0x1ffffffffff, 0x1ffffffffff)};
  ProcStatus thread{
      4242, 4100,
      Credentials(0, 0, {27, 100, 1000}, 0x80000, 0x80000, 0x1ffffffffff)};
  thread.credentials.real_uid = 1000;
  thread.credentials.effective_uid = 1001;
  thread.credentials.saved_uid = 1002;
  thread.credentials.fs_uid = 1003;
  thread.credentials.real_gid = 100;
  thread.credentials.effective_gid = 101;
  thread.credentials.saved_gid = 102;
  thread.credentials.fs_gid = 103;
  const ProcStatus linux41{
      812, 1, Credentials(0, 0, {}, 0x3fffffffff, 0x3fffffffff, 0x3fffffffff)};
  ProcStatus ambient{7, 1, Credentials(0, 0, {}, 0, 0, 0)};
  ambient.credentials.cap_inheritable = 0x400;
  ambient.credentials.cap_ambient = 0x400;
  const Case cases[] = {
      {"an unprivileged process with groups and nnp (Linux 6.18)",
       kUnprivilegedStatus, unprivileged},
      {"kthreadd (Linux 6.18)", kKernelThreadStatus, kernel_thread},
      {"a thread: Tgid is its process", kThreadStatus, thread},
      {"Linux 4.1: no CapAmb, no NoNewPrivs, an empty Groups line",
       kLinux41Status, linux41},
      {"ambient and inheritable sets; short hex; spaces for tabs; no final "
       "newline",
       "Tgid: 7\nPPid: 1\nUid: 0 0 0 0\nGid: 0 0 0 0\nGroups:\nCapInh: 400\n"
       "CapPrm: 0\nCapEff: 0\nCapBnd: 0\nCapAmb: 400\nNoNewPrivs: 0",
       ambient},
      {"lines in another order, unknown and colon-less lines ignored",
       "Garbage\nCapBnd:\t0\nCapEff:\t0\nCapPrm:\t0\nCapInh:\t0\nFuture:\tx y\n"
       "Groups:\t \nGid:\t0\t0\t0\t0\nUid:\t0\t0\t0\t0\nPPid:\t1\nTgid:\t7\n",
       ProcStatus{7, 1, Credentials(0, 0, {}, 0, 0, 0)}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Result<ProcStatus> parsed = ParseProcStatus(c.text);
    REQUIRE(parsed);
    CHECK(parsed->tgid == c.expected.tgid);
    CHECK(parsed->ppid == c.expected.ppid);
    CHECK(parsed->credentials == c.expected.credentials);
  }
}

TEST_CASE("the largest ids and masks status can show") {
  Result<ProcStatus> parsed = ParseProcStatus(
      "Tgid:\t2147483647\nPPid:\t2147483647\n"
      "Uid:\t4294967295\t0\t0\t0\nGid:\t0\t0\t0\t4294967295\n"
      "Groups:\t4294967295 0 \nCapInh:\tffffffffffffffff\n"
      "CapPrm:\tFFFFFFFFFFFFFFFF\nCapEff:\t00000000000000000000001\n"
      "CapBnd:\t0\n");
  REQUIRE(parsed);
  CHECK(parsed->tgid == INT32_MAX);
  CHECK(parsed->ppid == INT32_MAX);
  CHECK(parsed->credentials.real_uid == UINT32_MAX);
  CHECK(parsed->credentials.fs_gid == UINT32_MAX);
  CHECK(parsed->credentials.supplementary_gids ==
        std::vector<uint32_t>{UINT32_MAX, 0});
  CHECK(parsed->credentials.cap_inheritable == UINT64_MAX);
  CHECK(parsed->credentials.cap_permitted == UINT64_MAX);
  CHECK(parsed->credentials.cap_effective == 1);
}

// Every required line, well formed, for the refusal table to edit.
constexpr const char* kMinimalStatus =
    "Tgid:\t5\n"
    "PPid:\t1\n"
    "Uid:\t0\t0\t0\t0\n"
    "Gid:\t0\t0\t0\t0\n"
    "Groups:\t \n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000000000\n"
    "CapEff:\t0000000000000000\n"
    "CapBnd:\t000001ffffffffff\n";

// kMinimalStatus with the line of `key` replaced by `line` ("" drops it).
std::string WithLine(const std::string& key, const std::string& line) {
  std::string text = kMinimalStatus;
  const size_t start = text.find(key + ":");
  REQUIRE(start != std::string::npos);
  const size_t end = text.find('\n', start) + 1;
  text.replace(start, end - start, line.empty() ? "" : line + "\n");
  return text;
}

TEST_CASE("status texts that lack a line or break one are refused") {
  struct Case {
    std::string text;
    std::string message;
  };
  std::vector<Case> cases = {
      {"", "status has no Tgid line"},
      {"Name:\tbash\nState:\tS (sleeping)\n", "status has no Tgid line"},
      // Present but malformed: never a default.
      {WithLine("CapPrm", "CapPrm:\t"), "CapPrm \"\" is not a capability mask"},
      {WithLine("CapPrm", "CapPrm:\t00000000004zzz01"),
       "CapPrm \"00000000004zzz01\" is not a capability mask"},
      {WithLine("CapEff", "CapEff:\t0x10"),
       "CapEff \"0x10\" is not a capability mask"},
      {WithLine("CapBnd", "CapBnd:\t10000000000000000"),
       "CapBnd \"10000000000000000\" is not a capability mask"},
      {WithLine("CapInh", "CapInh:\t0 0"),
       "CapInh \"0 0\" is not a capability mask"},
      {WithLine("CapPrm", "CapPrm:\t-1"),
       "CapPrm \"-1\" is not a capability mask"},
      {WithLine("CapPrm", "CapPrm:\t0000000000000000\r"),
       "CapPrm \"0000000000000000\\r\" is not a capability mask"},
      {WithLine("CapPrm", "CapPrm:\t\x01"),
       "CapPrm \"\\x01\" is not a capability mask"},
      {WithLine("CapPrm", "CapPrm:\t" + std::string(100, 'f')),
       "CapPrm \"" + std::string(64, 'f') + "\"... is not a capability mask"},
      {std::string(kMinimalStatus) + "CapAmb:\tzz\n",
       "CapAmb \"zz\" is not a capability mask"},
      {std::string(kMinimalStatus) + "NoNewPrivs:\t2\n",
       "NoNewPrivs \"2\" is not 0 or 1"},
      {std::string(kMinimalStatus) + "NoNewPrivs:\t\n",
       "NoNewPrivs \"\" is not 0 or 1"},
      {WithLine("Tgid", "Tgid:\tfive"), "Tgid \"five\" is not a process id"},
      {WithLine("Tgid", "Tgid:\t2147483648"),
       "Tgid \"2147483648\" is not a process id"},
      {WithLine("Tgid", "Tgid:\t5 6"), "Tgid \"5 6\" is not a process id"},
      {WithLine("PPid", "PPid:\t+1"), "PPid \"+1\" is not a process id"},
      {WithLine("Uid", "Uid:\t0\t0\t0"),
       "Uid \"0\\t0\\t0\" is not four user ids"},
      {WithLine("Uid", "Uid:\t0\t0\t0\t0\t0"),
       "Uid \"0\\t0\\t0\\t0\\t0\" is not four user ids"},
      {WithLine("Uid", "Uid:\t0\tx\t0\t0"),
       "Uid \"0\\tx\\t0\\t0\" is not four user ids"},
      {WithLine("Uid", "Uid:\t4294967296\t0\t0\t0"),
       "Uid \"4294967296\\t0\\t0\\t0\" is not four user ids"},
      {WithLine("Gid", "Gid:\t-1\t0\t0\t0"),
       "Gid \"-1\\t0\\t0\\t0\" is not four group ids"},
      // A dropped group would skip its deny entries.
      {WithLine("Groups", "Groups:\t27 x 100 "),
       "Groups \"27 x 100\" is not a list of group ids"},
      {WithLine("Groups", "Groups:\t27,100"),
       "Groups \"27,100\" is not a list of group ids"},
      {std::string(kMinimalStatus) + "CapPrm:\tffffffffffffffff\n",
       "status has two CapPrm lines"},
      {std::string(kMinimalStatus) + "Tgid:\t5\n", "status has two Tgid lines"},
      {std::string(kMinimalStatus) + "NoNewPrivs:\t0\nNoNewPrivs:\t1\n",
       "status has two NoNewPrivs lines"},
  };
  // Each required line missing (CapAmb and NoNewPrivs are optional).
  for (const std::string key : {"Tgid", "PPid", "Uid", "Gid", "Groups",
                                "CapInh", "CapPrm", "CapEff", "CapBnd"}) {
    cases.push_back({WithLine(key, ""), "status has no " + key + " line"});
  }
  // A key spelled differently is another line: CapPrm is then missing.
  cases.push_back(
      {WithLine("CapPrm", "capprm:\t0"), "status has no CapPrm line"});
  cases.push_back(
      {WithLine("CapPrm", "CapPrm :\t0"), "status has no CapPrm line"});
  for (const Case& c : cases) {
    INFO(c.text);
    Result<ProcStatus> parsed = ParseProcStatus(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message == c.message);
  }
}

TEST_CASE("credentials written in the kernel's status layout parse back") {
  std::vector<ProcStatus> values;
  values.push_back(
      {1, 0,
       Credentials(0, 0, {}, 0x1ffffffffff, 0x1ffffffffff, 0x1ffffffffff)});
  ProcStatus mixed{4242, 4100,
                   Credentials(1000, 100, {4, 24, 27, 1000, 4294967294u},
                               0x3000, 0x1000, 0x1ffffffffff)};
  mixed.credentials.saved_uid = 0;
  mixed.credentials.fs_gid = 65534;
  mixed.credentials.cap_inheritable = 0x3000;
  mixed.credentials.cap_ambient = 0x1000;
  mixed.credentials.no_new_privs = true;
  values.push_back(mixed);
  ProcStatus extremes{INT32_MAX, INT32_MAX,
                      Credentials(UINT32_MAX, UINT32_MAX, {0}, UINT64_MAX,
                                  UINT64_MAX, UINT64_MAX)};
  extremes.credentials.cap_inheritable = UINT64_MAX;
  extremes.credentials.cap_ambient = UINT64_MAX;
  values.push_back(extremes);
  ProcStatus many_groups{300, 1, Credentials(5, 5, {}, 0, 0, 0)};
  for (uint32_t gid = 1; gid <= 2000; gid += 3) {
    many_groups.credentials.supplementary_gids.push_back(gid);
  }
  values.push_back(many_groups);
  for (const ProcStatus& value : values) {
    INFO(KernelStatusText(value));
    Result<ProcStatus> parsed = ParseProcStatus(KernelStatusText(value));
    REQUIRE(parsed);
    CHECK(*parsed == value);
    // The lines kernels before 4.3 and 4.10 lack read as 0.
    Result<ProcStatus> older =
        ParseProcStatus(KernelStatusText(value, false, false));
    REQUIRE(older);
    ProcStatus expected = value;
    expected.credentials.cap_ambient = 0;
    expected.credentials.no_new_privs = false;
    CHECK(*older == expected);
  }
}

// ---- /proc/<tid>/stat

TEST_CASE("stat texts give the state, group, session, tty, start and layout") {
  struct Case {
    std::string name;
    std::string text;
    ProcStat expected;
  };
  const Case cases[] = {
      {"a process renamed \"a) b (c\" (PR_SET_NAME; Linux 6.18)",
       "18510 (a) b (c) R 18498 18498 12345 0 -1 4194304 2896 6512 1 0 9 4 17 "
       "19 20 0 1 0 7792350 17321984 3458 18446744073709551615 "
       "93924987367424 93924987367765 140721387566064 0 0 0 0 16781312 2 0 0 "
       "0 17 0 0 0 0 0 0 93924987379120 93924987379736 93926058496000 "
       "140721387570524 140721387571199 140721387571199 140721387573199 0\n",
       ProcStat{'R', 18498, 12345, 0, 7792350, 93924987367424ull,
                93924987367765ull, 140721387566064ull}},
      {"its zombie child (Linux 6.18): the layout reads 0",
       "18577 (a) b (c) Z 18510 18498 12345 0 -1 4227148 238 0 0 0 0 1 0 0 20 "
       "0 1 0 7792483 0 0 18446744073709551615 0 0 0 0 0 0 0 16781312 2 1 0 "
       "0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
       ProcStat{'Z', 18498, 12345, 0, 7792483, 0, 0, 0}},
      {"kthreadd (Linux 6.18)",
       "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 1 0 0 20 0 1 0 18 0 0 "
       "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 "
       "0 0 0 0 0 0 0\n",
       ProcStat{'S', 0, 0, 0, 18, 0, 0, 0}},
      {"a shell on a pseudo-terminal (tty_nr 34816, /dev/pts/0)",
       "4242 (bash) S 4100 4242 4242 34816 4242 4194560 1 0 0 0 0 0 0 0 20 0 1 "
       "0 2602047 8400896 800 18446744073709551615 94831578877952 "
       "94831578897833 140728007087552 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
       ProcStat{'S', 4242, 4242, 34816, 2602047, 94831578877952ull,
                94831578897833ull, 140728007087552ull}},
      {"another user's task: the kernel hides the layout as 1 1 0",
       "77 (sleep) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 0 1 1 0\n",
       ProcStat{'S', 77, 77, 0, 99, 1, 1, 0}},
      {"fields up to starttime only: the layout reads 0",
       "77 (sleep) D 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99",
       ProcStat{'D', 77, 77, 0, 99, 0, 0, 0}},
      {"a negative tty_nr (a C int past INT_MAX)",
       "77 (x) S 1 2 3 -2147483648 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\n",
       ProcStat{'S', 2, 3, INT32_MIN, 5, 0, 0, 0}},
      {"an empty command name; the largest start time",
       "9 () S 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551615\n",
       ProcStat{'S', 2, 3, 0, UINT64_MAX, 0, 0, 0}},
      {"a command name with a newline",
       "9 (a\nb) S 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 6\n",
       ProcStat{'S', 2, 3, 0, 6, 0, 0, 0}},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Result<ProcStat> parsed = ParseProcStat(c.text);
    REQUIRE(parsed);
    CHECK(*parsed == c.expected);
  }
  CHECK(ParseProcStat(cases[1].text)->exited());
  CHECK_FALSE(ParseProcStat(cases[0].text)->exited());
}

TEST_CASE("stat texts that break the layout are refused") {
  const ProcStat sample{'S', 4242, 4100, 34816, 2602047, 1, 2, 3};
  // KernelStatText(sample) with field `number` (1-based) replaced.
  const auto with_field = [&](int number, const std::string& value) {
    const std::string text = KernelStatText(4242, "sleep", sample);
    const size_t close = text.rfind(')');
    std::vector<std::string> fields;
    size_t at = close + 2;
    while (at < text.size()) {
      size_t end = text.find_first_of(" \n", at);
      fields.push_back(text.substr(at, end - at));
      at = end + 1;
    }
    fields[static_cast<size_t>(number - 3)] = value;
    std::string out = text.substr(0, close + 1);
    for (const std::string& field : fields) out += " " + field;
    return out + "\n";
  };
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"", "stat does not start with a process id and '('"},
      {"4242 sleep S 1", "stat does not start with a process id and '('"},
      {"(sleep) S 1", "stat does not start with a process id and '('"},
      {"-1 (sleep) S 1", "stat does not start with a process id and '('"},
      {"4242 (sleep S 1 2 3", "stat lacks the ')' that ends the command name"},
      {"4242 )( S 1 2 3", "stat does not start with a process id and '('"},
      {"4242 (sleep) S 1 2 3",
       "stat is truncated: 6 fields, at least 22 needed"},
      {"4242 (sleep)", "stat is truncated: 2 fields, at least 22 needed"},
      {"4242 (a) b) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0",
       "stat is truncated: 21 fields, at least 22 needed"},
      {with_field(3, "SS"), "stat field 3 (state) \"SS\" is not one character"},
      {with_field(5, "-1"), "stat field 5 (pgrp) \"-1\" is not a process id"},
      {with_field(5, "2147483648"),
       "stat field 5 (pgrp) \"2147483648\" is not a process id"},
      {with_field(6, "x"), "stat field 6 (session) \"x\" is not a process id"},
      {with_field(7, "2147483648"),
       "stat field 7 (tty_nr) \"2147483648\" is not a decimal int"},
      {with_field(7, "-2147483649"),
       "stat field 7 (tty_nr) \"-2147483649\" is not a decimal int"},
      {with_field(7, "-"), "stat field 7 (tty_nr) \"-\" is not a decimal int"},
      {with_field(7, "--1"),
       "stat field 7 (tty_nr) \"--1\" is not a decimal int"},
      {with_field(22, "notanumber"),
       "stat field 22 (starttime) \"notanumber\" is not a decimal number"},
      {with_field(22, "18446744073709551616"),
       "stat field 22 (starttime) \"18446744073709551616\" is not a decimal "
       "number"},
      {with_field(26, "0x10"),
       "stat field 26 (startcode) \"0x10\" is not a decimal number"},
      {with_field(27, "-1"),
       "stat field 27 (endcode) \"-1\" is not a decimal number"},
      {with_field(28, "1e3"),
       "stat field 28 (startstack) \"1e3\" is not a decimal number"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    Result<ProcStat> parsed = ParseProcStat(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message == c.message);
  }
}

TEST_CASE("stat values written in the kernel's layout parse back") {
  const ProcStat values[] = {
      {'R', 1, 1, 0, 0, 0, 0, 0},
      {'S', 4242, 4100, 34816, 2602047, 94831578877952ull, 94831578897833ull,
       140728007087552ull},
      {'Z', INT32_MAX, INT32_MAX, INT32_MIN, UINT64_MAX, UINT64_MAX, UINT64_MAX,
       UINT64_MAX},
      {'X', 0, 0, INT32_MAX, 1, 1, 1, 0},
  };
  // Command names as PR_SET_NAME allows them (up to 15 bytes, any but NUL).
  const std::string comms[] = {"sleep", "a) b (c",   "",     ")",
                               "((",    ") S 1 2 3", "x\ny", "tab\there"};
  for (const ProcStat& value : values) {
    for (const std::string& comm : comms) {
      const std::string text = KernelStatText(4242, comm, value);
      INFO(text);
      Result<ProcStat> parsed = ParseProcStat(text);
      REQUIRE(parsed);
      CHECK(*parsed == value);
    }
  }
}

// ---- /proc/<pid>/fdinfo/<pidfd>

TEST_CASE("a pidfd's fdinfo gives its process, or 0 once it is gone") {
  struct Case {
    std::string name;
    std::string text;
    int32_t pid;
  };
  const Case cases[] = {
      {"a live process (Linux 6.18)",
       "pos:\t0\nflags:\t02000002\nmnt_id:\t4\nino:\t1969810\nPid:\t23678\n"
       "NSpid:\t23678\n",
       23678},
      {"a reaped process (Linux 6.18)",
       "pos:\t0\nflags:\t02000002\nmnt_id:\t4\nino:\t1969908\nPid:\t-1\n"
       "NSpid:\t-1\n",
       0},
      {"a process outside the reader's pid namespace",
       "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nPid:\t0\n", 0},
      {"Pid alone, no final newline, the largest id", "Pid:\t2147483647",
       INT32_MAX},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    Result<int32_t> pid = ParsePidfdPid(c.text);
    REQUIRE(pid);
    CHECK(*pid == c.pid);
  }
}

TEST_CASE("a pidfd's fdinfo without one well-formed Pid line is refused") {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"", "fdinfo has no Pid line"},
      {"pos:\t0\nflags:\t02000002\nNSpid:\t5\n", "fdinfo has no Pid line"},
      {"Pid:\t5\nPid:\t6\n", "fdinfo has two Pid lines"},
      {"Pid:\t\n", "Pid \"\" is not a process id"},
      {"Pid:\t-2\n", "Pid \"-2\" is not a process id"},
      {"Pid:\t2147483648\n", "Pid \"2147483648\" is not a process id"},
      {"Pid:\t5 6\n", "Pid \"5 6\" is not a process id"},
      {"Pid:\t0x10\n", "Pid \"0x10\" is not a process id"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    Result<int32_t> pid = ParsePidfdPid(c.text);
    REQUIRE_FALSE(pid);
    CHECK(pid.error().code == ErrorCode::kInvalidArgument);
    CHECK(pid.error().message == c.message);
  }
}

TEST_CASE("a pid written in the kernel's fdinfo layout parses back") {
  for (const int pid : {1, 2, 4242, 4194304, INT32_MAX}) {
    INFO(pid);
    Result<int32_t> parsed = ParsePidfdPid(test::KernelPidfdInfoText(pid));
    REQUIRE(parsed);
    CHECK(*parsed == pid);
  }
  Result<int32_t> reaped = ParsePidfdPid(test::KernelPidfdInfoText(-1));
  REQUIRE(reaped);
  CHECK(*reaped == 0);
}

}  // namespace
}  // namespace tokenfs
