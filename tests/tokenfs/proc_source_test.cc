// The /proc parsers of tokenfs/proc_source against texts in the kernel's
// own layout (fs/proc/array.c): what each field becomes, and which texts
// are refused.
#include "tokenfs/proc_source.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tokenfs {
namespace {

// /proc/<pid>/status of a user process, as Linux 6.x prints it (tabs after
// the colon, the Cap* masks in hex).
constexpr const char* kUserStatus =
    "Name:\tbash\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t4242\n"
    "Ngid:\t0\n"
    "Pid:\t4242\n"
    "PPid:\t4100\n"
    "TracerPid:\t0\n"
    "Uid:\t1000\t1001\t1002\t1003\n"
    "Gid:\t100\t101\t102\t103\n"
    "FDSize:\t256\n"
    "Groups:\t27 100 1000 \n"
    "NStgid:\t4242\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000080000\n"
    "CapEff:\t0000000000080000\n"
    "CapBnd:\t000001ffffffffff\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t1\n"
    "Seccomp:\t0\n";

TEST_CASE("a status text gives the ids, groups, capabilities and nnp") {
  TaskInfo info;
  REQUIRE(ParseProcStatus(kUserStatus, info));
  const LinuxCredentials& c = info.credentials;
  CHECK(info.tgid == 4242);
  CHECK(info.ppid == 4100);
  CHECK(c.real_uid == 1000);
  CHECK(c.effective_uid == 1001);
  CHECK(c.saved_uid == 1002);
  CHECK(c.fs_uid == 1003);
  CHECK(c.real_gid == 100);
  CHECK(c.effective_gid == 101);
  CHECK(c.saved_gid == 102);
  CHECK(c.fs_gid == 103);
  CHECK(c.supplementary_gids == std::vector<uint32_t>{27, 100, 1000});
  CHECK(c.cap_inheritable == 0);
  CHECK(c.cap_permitted == 0x80000);
  CHECK(c.cap_effective == 0x80000);
  CHECK(c.cap_bounding == 0x1ffffffffffull);
  CHECK(c.cap_ambient == 0);
  CHECK(c.no_new_privs);
}

TEST_CASE("a status text with no groups and no nnp line") {
  TaskInfo info;
  REQUIRE(ParseProcStatus(
      "Tgid:\t1\nPPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nGroups:\t\n",
      info));
  CHECK(info.credentials.supplementary_gids.empty());
  CHECK_FALSE(info.credentials.no_new_privs);
}

TEST_CASE("a status text without Tgid, Uid or Gid is refused") {
  const std::vector<std::string> invalid = {
      "",
      "PPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
      "Tgid:\t5\nGid:\t0\t0\t0\t0\n",
      "Tgid:\t5\nUid:\t0\t0\t0\t0\n",
      "Tgid:\t5\nUid:\t0\t0\t0\nGid:\t0\t0\t0\t0\n",     // three uids
      "Tgid:\t5\nUid:\t0\tx\t0\t0\nGid:\t0\t0\t0\t0\n",  // not a number
      "Tgid:\tfive\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
  };
  for (const std::string& text : invalid) {
    INFO(text);
    TaskInfo info;
    auto parsed = ParseProcStatus(text, info);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().message == "status lacks Tgid, Uid or Gid");
  }
}

// /proc/<pid>/stat: 52 fields; the command name (field 2) may hold spaces
// and parentheses.
std::string Stat(const std::string& comm, char state, int tty,
                 const std::string& start_time,
                 const std::string& code_and_stack) {
  std::string text = "4242 (" + comm + ") " + state + " 4100 4242 4100 " +
                     std::to_string(tty) +
                     " -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 " + start_time +
                     " 8400896 800 18446744073709551615 " + code_and_stack;
  if (!code_and_stack.empty()) text += " 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
  return text + "\n";
}

TEST_CASE("a stat text gives the state, tty, start time and exec layout") {
  auto stat =
      ParseProcStat(Stat("a) b (c", 'S', 34816, "2602047",
                         "94831578877952 94831578897833 140728007087552"));
  REQUIRE(stat);
  CHECK(stat->state == 'S');
  CHECK_FALSE(stat->exited());
  CHECK(stat->process_group == 4242);
  CHECK(stat->session == 4100);
  CHECK(stat->tty == 34816);
  CHECK(stat->start_time == 2602047);
  CHECK(stat->start_code == 94831578877952ull);
  CHECK(stat->end_code == 94831578897833ull);
  CHECK(stat->start_stack == 140728007087552ull);
}

TEST_CASE("a zombie or dead task has exited; hidden layout reads as 0") {
  for (char state : {'Z', 'X'}) {
    auto stat = ParseProcStat(Stat("sleep", state, 0, "77", "1 1 0"));
    REQUIRE(stat);
    CHECK(stat->exited());
    // The kernel shows 1 1 0 for another user's task it hides.
    CHECK(stat->start_code == 1);
    CHECK(stat->start_stack == 0);
  }
  // Fields 26 onwards missing (an old kernel): the layout is 0.
  auto short_stat = ParseProcStat(Stat("sleep", 'R', 0, "77", ""));
  REQUIRE(short_stat);
  CHECK(short_stat->start_code == 0);
  CHECK(short_stat->end_code == 0);
}

TEST_CASE("a stat text without its fields is refused") {
  const std::vector<std::pair<std::string, std::string>> invalid = {
      {"4242 sleep S 1", "stat lacks the command name"},
      {"4242 (sleep) S 1 2 3", "stat is truncated"},
      {Stat("sleep", 'S', 0, "notanumber", "1 2 3"),
       "stat has a malformed field"},
  };
  for (const auto& [text, message] : invalid) {
    INFO(text);
    auto stat = ParseProcStat(text);
    REQUIRE_FALSE(stat);
    CHECK(stat.error().message == message);
  }
}

}  // namespace
}  // namespace tokenfs
