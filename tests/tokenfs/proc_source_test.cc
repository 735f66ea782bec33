// tokenfs/proc_source: ProcProcessSource reading a task's /proc files and a
// pidfd's fdinfo (the texts themselves are core's to parse:
// tests/core/proc_status_test.cc).
// Against the real /proc for this test's own process and thread, and
// against a directory laid out like /proc for texts no live task shows.
#include "tokenfs/proc_source.h"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/own_capabilities.h"
#include "tests/support/proc_texts.h"

namespace tokenfs {
namespace {

TEST_CASE("this process as /proc shows it: ids, groups, sets and start") {
  ProcProcessSource source;
  Result<TaskInfo> info = source.ReadTask(::getpid());
  REQUIRE(info);
  CHECK(info->tid == ::getpid());
  CHECK(info->tgid == ::getpid());
  CHECK(info->ppid == ::getppid());
  CHECK(info->start_time > 0);
  CHECK(info->thread_start_time == info->start_time);
  CHECK(info->process_group == ::getpgrp());
  CHECK(info->session == ::getsid(0));
  const LinuxCredentials& credentials = info->credentials;
  uid_t real = 0, effective = 0, saved = 0;
  REQUIRE(::getresuid(&real, &effective, &saved) == 0);
  CHECK(credentials.real_uid == real);
  CHECK(credentials.effective_uid == effective);
  CHECK(credentials.saved_uid == saved);
  CHECK(credentials.effective_gid == ::getegid());
  std::vector<gid_t> groups(static_cast<size_t>(::getgroups(0, nullptr)));
  REQUIRE(::getgroups(static_cast<int>(groups.size()), groups.data()) >= 0);
  CHECK(credentials.supplementary_gids ==
        std::vector<uint32_t>(groups.begin(), groups.end()));
  const auto own = test::ReadOwnCapabilities();
  REQUIRE(own);
  CHECK(credentials.cap_effective == own->effective);
  CHECK(credentials.cap_permitted == own->permitted);
  CHECK(credentials.initial_user_namespace);
}

TEST_CASE("a thread of this process belongs to it and has its own start") {
  ProcProcessSource source;
  Result<TaskInfo> info;
  std::thread thread([&] {
    info = source.ReadTask(static_cast<int32_t>(::syscall(SYS_gettid)));
  });
  thread.join();
  REQUIRE(info);
  CHECK(info->tid != ::getpid());
  CHECK(info->tgid == ::getpid());
  Result<TaskInfo> process = source.ReadTask(::getpid());
  REQUIRE(process);
  CHECK(info->start_time == process->start_time);
  CHECK(info->thread_start_time >= process->start_time);
}

TEST_CASE("a pidfd resolves to its process until the process is reaped") {
  ProcProcessSource source;
  const int self = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  REQUIRE(self >= 0);
  auto resolved = source.ResolvePidfd(self);
  ::close(self);
  REQUIRE(resolved);
  CHECK(resolved->pid == ::getpid());

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  REQUIRE(pidfd >= 0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  auto gone = source.ResolvePidfd(pidfd);
  ::close(pidfd);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == ErrorCode::kNotFound);
  CHECK(gone.error().message == "the process has exited");
}

// A directory laid out like /proc, with one task (a tid above the kernel's
// PID_MAX_LIMIT, so no live task has it) whose status and stat the test
// writes.
struct FakeProc {
  static constexpr int32_t kTid = 4194305;
  FakeProc() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tkproc.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root = pattern;
    std::filesystem::create_directory(root + "/" + std::to_string(kTid));
  }
  ~FakeProc() { std::filesystem::remove_all(root); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(root + "/" + std::to_string(kTid) + "/" + name) << text;
  }
  std::string path(const std::string& name) const {
    return root + "/" + std::to_string(kTid) + "/" + name;
  }
  std::string root;
};

TEST_CASE("a task whose status or stat the parser refuses is not read") {
  FakeProc proc;
  ProcStatus status;
  status.tgid = FakeProc::kTid;
  status.ppid = 1;
  status.credentials.cap_permitted = 0x80000;
  std::string text = test::KernelStatusText(status);
  const ProcStat stat{'S', FakeProc::kTid, 1, 0, 99, 0, 0, 0};
  proc.Write("stat", test::KernelStatText(FakeProc::kTid, "sleep", stat));
  ProcProcessSource source(proc.root);

  // Well formed: read (the values are core's to test).
  proc.Write("status", text);
  Result<TaskInfo> info = source.ReadTask(FakeProc::kTid);
  REQUIRE(info);
  CHECK(info->credentials.cap_permitted == 0x80000);
  CHECK(info->start_time == 99);

  // A capability set present but malformed is not taken as empty.
  text.replace(text.find("CapPrm:\t0000000000080000"), 24, "CapPrm:\t8z");
  proc.Write("status", text);
  info = source.ReadTask(FakeProc::kTid);
  REQUIRE_FALSE(info);
  CHECK(info.error().code == ErrorCode::kNotFound);
  CHECK(info.error().message ==
        proc.path("status") + ": CapPrm \"8z\" is not a capability mask");

  proc.Write("status", test::KernelStatusText(status));
  proc.Write("stat", "4194305 (sleep) S 1 2");
  info = source.ReadTask(FakeProc::kTid);
  REQUIRE_FALSE(info);
  CHECK(info.error().code == ErrorCode::kNotFound);
  CHECK(info.error().message ==
        proc.path("stat") +
            ": stat is truncated: 5 fields, at least 22 needed");
}

}  // namespace
}  // namespace tokenfs
