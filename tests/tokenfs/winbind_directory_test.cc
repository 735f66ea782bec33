#include "tokenfs/winbind_directory.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/support/fake_directory.h"

// DeadlineDirectory over a directory that hangs on demand, and
// WinbindDirectory on a host without winbindd. The real winbind is tested
// against a Samba DC by tests/directory.

namespace tokenfs {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A directory whose lookups block until released (a hung winbindd).
class HangingDirectory : public test::FakeDirectory {
 public:
  std::mutex mutex;
  std::condition_variable released_cv;
  bool hang = false;  // guarded by mutex
  std::atomic<int> started{0};
  std::atomic<uint32_t> last_uid{0};  // the uid of the newest lookup begun

  Result<std::optional<DirectoryUser>> LookupUser(uint32_t uid) override {
    ++started;
    last_uid = uid;
    std::unique_lock<std::mutex> lock(mutex);
    released_cv.wait(lock, [this] { return !hang; });
    lock.unlock();
    return test::FakeDirectory::LookupUser(uid);
  }
  void Hang(bool on) {
    std::lock_guard<std::mutex> lock(mutex);
    hang = on;
    released_cv.notify_all();
  }
};

double MillisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

TEST_CASE("a hung directory costs one caller the deadline, others nothing") {
  auto owned = std::make_unique<HangingDirectory>();
  HangingDirectory& inner = *owned;
  inner.users[3000015] =
      DirectoryUser{*Sid::Parse("S-1-5-21-1-2-3-1103"), {}, {}};
  DeadlineDirectory directory(std::move(owned), milliseconds(100));

  auto answered = directory.LookupUser(3000015);
  REQUIRE(answered);
  REQUIRE(*answered);
  CHECK((*answered)->user.ToString() == "S-1-5-21-1-2-3-1103");

  inner.Hang(true);
  auto start = Clock::now();
  auto first = directory.LookupUser(3000015);
  const double first_ms = MillisecondsSince(start);
  REQUIRE_FALSE(first);
  CHECK(first.error().message == "winbind did not answer within 100 ms");
  CHECK(first_ms >= 99);
  CHECK(first_ms < 1000);

  start = Clock::now();
  auto second = directory.LookupUser(1000);
  const double second_ms = MillisecondsSince(start);
  REQUIRE_FALSE(second);
  CHECK(second.error().message ==
        "winbind has not answered an earlier request for over 100 ms");
  // Refused without waiting for a deadline of its own (the bound leaves
  // room for a loaded machine), and it never reached the directory.
  CHECK(second_ms < 90);
  CHECK(inner.started <= 2);
  CHECK(inner.last_uid != 1000);

  inner.Hang(false);
  // The stuck call finishes on the worker; then lookups answer again.
  auto deadline = Clock::now() + std::chrono::seconds(5);
  Result<std::optional<DirectoryUser>> again = directory.LookupUser(1000);
  while (!again && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
    again = directory.LookupUser(1000);
  }
  REQUIRE(again);
  CHECK_FALSE(*again);  // uid 1000: not a directory user
}

TEST_CASE("a destroyed DeadlineDirectory leaves a stuck call behind safely") {
  auto owned = std::make_unique<HangingDirectory>();
  HangingDirectory* inner = owned.get();
  {
    DeadlineDirectory directory(std::move(owned), milliseconds(20));
    inner->Hang(true);
    CHECK_FALSE(directory.LookupUser(1));
  }                    // returns at once although the worker is stuck
  inner->Hang(false);  // the worker still owns `inner` and ends
}

// True iff something accepts connections at winbindd's socket.
bool WinbindListens() {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s",
                "/run/samba/winbindd/pipe");
  const bool listens =
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return listens;
}

TEST_CASE("without winbindd every lookup fails at once") {
  if (WinbindListens()) {
    SUCCEED("a winbindd runs on this host; nothing to check");
    return;
  }
  WinbindDirectory directory;
  const auto start = Clock::now();
  auto user = directory.LookupUser(1000);
  auto groups = directory.MapGroups(std::vector<uint32_t>{100});
  auto domain = directory.Domain();
  CHECK(MillisecondsSince(start) < 100);
  REQUIRE_FALSE(user);
  CHECK(user.error().message ==
        "winbind: wbcUidToSid: WBC_ERR_WINBIND_NOT_AVAILABLE");
  CHECK_FALSE(groups);
  CHECK_FALSE(domain);
  auto probed = ProbeDomain(milliseconds(200));
  CHECK_FALSE(probed);
}

}  // namespace
}  // namespace tokenfs
