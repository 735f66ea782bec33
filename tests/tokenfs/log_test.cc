#include "tokenfs/log.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokenfs {
namespace {

using namespace std::string_literals;

using Suppressed = CallerLogBudget::Suppressed;

// Takes `lines` lines of `uid` at second `now`; returns how many were
// written, and appends every report handed back to `reports`.
int TakeMany(CallerLogBudget& budget, uint32_t uid, int lines, int64_t now,
             std::vector<Suppressed>* reports = nullptr) {
  int written = 0;
  for (int i = 0; i < lines; ++i) {
    CallerLogBudget::Decision decision = budget.Take(uid, now);
    if (decision.write) ++written;
    if (reports) {
      reports->insert(reports->end(), decision.reports.begin(),
                      decision.reports.end());
    }
  }
  return written;
}

TEST_CASE("EscapeLogText writes each byte outside printable ASCII in hex",
          "[log]") {
  struct Case {
    std::string input;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"denied: open: read /tokens/1/user by pid 42 (uid 1000)",
       "denied: open: read /tokens/1/user by pid 42 (uid 1000)"},
      {" ~", " ~"},
      {"x\ntokenfs: info: denied fake", "x\\x0atokenfs: info: denied fake"},
      {"a\r\nb", "a\\x0d\\x0ab"},
      {"\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"},
      {"\x1b]0;title\x07", "\\x1b]0;title\\x07"},
      {"tab\there", "tab\\x09here"},
      {"nul\0byte"s, "nul\\x00byte"},
      {"\x7f", "\\x7f"},
      {"\xff\xfe", "\\xff\\xfe"},
      {"\xc3\xa9t\xc3\xa9", "\\xc3\\xa9t\\xc3\\xa9"},
      {"Unix User\\alice", "Unix User\\\\alice"},
      {"\\x0a", "\\\\x0a"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CHECK(EscapeLogText(c.input) == c.expected);
  }
}

TEST_CASE("EscapeLogText output is one line of printable ASCII", "[log]") {
  std::string every_byte;
  for (int byte = 0; byte < 256; ++byte) every_byte += static_cast<char>(byte);
  const std::string escaped = EscapeLogText(every_byte);
  for (const char c : escaped) {
    CHECK(static_cast<unsigned char>(c) >= 0x20);
    CHECK(static_cast<unsigned char>(c) <= 0x7e);
  }
  // 95 printable bytes, the backslash doubled, the other 161 as \xNN.
  CHECK(escaped.size() == 94 + 2 + 161 * 4);
}

TEST_CASE("EscapeLogText is reversible", "[log]") {
  const std::string original = "a\\x41\\\n\x1b\xff\\"s + '\0';
  const std::string escaped = EscapeLogText(original);
  std::string decoded;
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] != '\\') {
      decoded += escaped[i];
    } else if (escaped[i + 1] == '\\') {
      decoded += '\\';
      i += 1;
    } else {
      REQUIRE(escaped[i + 1] == 'x');
      decoded +=
          static_cast<char>(std::stoi(escaped.substr(i + 2, 2), nullptr, 16));
      i += 3;
    }
  }
  CHECK(decoded == original);
}

TEST_CASE("a caller gets its own lines a second, the rest are suppressed",
          "[log]") {
  CallerLogBudget budget;
  CHECK(TakeMany(budget, 1000, 50, 7) == 50);
  CHECK_FALSE(budget.Take(1000, 7).write);
}

TEST_CASE("one uid's flood does not suppress another uid's lines", "[log]") {
  CallerLogBudget budget;
  std::vector<Suppressed> reports;
  // uid 1001 floods first, then uid 1002 logs within the same second.
  CHECK(TakeMany(budget, 1001, 10000, 100, &reports) == 50);
  CHECK(TakeMany(budget, 1002, 50, 100, &reports) == 50);
  // Interleaved, the same holds.
  CallerLogBudget interleaved;
  int written_1002 = 0;
  for (int i = 0; i < 10000; ++i) {
    interleaved.Take(1001, 100);
    if (i % 200 == 0 && interleaved.Take(1002, 100).write) ++written_1002;
  }
  CHECK(written_1002 == 50);
  CHECK(reports.empty());
}

TEST_CASE("what was suppressed is reported per uid in the next second",
          "[log]") {
  CallerLogBudget budget;
  TakeMany(budget, 1001, 10000, 100);
  TakeMany(budget, 1002, 53, 100);
  TakeMany(budget, 1003, 10, 100);

  // The first line of the next second is written, whoever's it is, and
  // carries the counts; uid 1003 lost nothing and is not reported.
  CallerLogBudget::Decision next = budget.Take(1003, 101);
  CHECK(next.write);
  CHECK(next.reports == std::vector<Suppressed>{{1001, 9950}, {1002, 3}});

  SECTION("each count is reported once") {
    CHECK(budget.Take(1001, 101).reports.empty());
    CHECK(budget.Take(1003, 102).reports.empty());
  }
  SECTION("the next second starts every budget over") {
    CHECK(TakeMany(budget, 1001, 50, 101) == 50);
    CHECK(TakeMany(budget, 1002, 50, 101) == 50);
    CHECK_FALSE(budget.Take(1001, 101).write);
  }
}

TEST_CASE("a count is reported however long the uid stays quiet", "[log]") {
  CallerLogBudget budget;
  TakeMany(budget, 1001, 60, 100);
  CallerLogBudget::Decision later = budget.Take(1001, 5000);
  CHECK(later.write);
  CHECK(later.reports == std::vector<Suppressed>{{1001, 10}});
}

TEST_CASE("a clock that steps back also starts a new second", "[log]") {
  CallerLogBudget budget;
  TakeMany(budget, 1001, 60, 100);
  CallerLogBudget::Decision back = budget.Take(1001, 99);
  CHECK(back.write);
  CHECK(back.reports == std::vector<Suppressed>{{1001, 10}});
}

TEST_CASE("the table holds a bounded number of uids a second", "[log]") {
  CallerLogBudget budget(CallerLogBudget::Limits{3, 4});
  for (uint32_t uid = 1; uid <= 4; ++uid) {
    CHECK(TakeMany(budget, uid, 3, 10) == 3);
  }
  CHECK(budget.tracked() == 4);

  SECTION("uids beyond the bound share one budget") {
    CHECK(budget.Take(5, 10).write);
    CHECK(budget.Take(6, 10).write);
    CHECK(budget.Take(7, 10).write);
    CHECK_FALSE(budget.Take(8, 10).write);
    CHECK_FALSE(budget.Take(5, 10).write);
    CHECK(budget.tracked() == 4);
    // ... and their suppressed lines are reported as one count.
    CallerLogBudget::Decision next = budget.Take(5, 11);
    CHECK(next.write);
    CHECK(next.reports == std::vector<Suppressed>{{std::nullopt, 2}});
  }
  SECTION("tracked uids keep their own budget") {
    TakeMany(budget, 5, 100, 10);
    CHECK_FALSE(budget.Take(1, 10).write);  // its own 3 are spent
    CallerLogBudget::Decision next = budget.Take(1, 11);
    CHECK(next.reports == std::vector<Suppressed>{{1, 1}, {std::nullopt, 97}});
  }
  SECTION("the table is emptied each second") {
    CHECK(budget.Take(9, 11).write);
    CHECK(budget.tracked() == 1);
    CHECK(TakeMany(budget, 10, 3, 11) == 3);
  }
}

TEST_CASE("the default bound tracks 4096 uids, each with 50 lines", "[log]") {
  CallerLogBudget budget;
  for (uint32_t uid = 0; uid < 5000; ++uid) budget.Take(uid, 1);
  CHECK(budget.tracked() == 4096);
  // uid 4095 was tracked and has 49 lines left.
  CHECK(TakeMany(budget, 4095, 100, 1) == 49);
}

// Everything written to stderr while it lives, read back by text().
class CapturedStderr {
 public:
  CapturedStderr() {
    char file_template[] = "/tmp/log_test_stderr.XXXXXX";
    file_ = ::mkstemp(file_template);
    REQUIRE(file_ >= 0);
    ::unlink(file_template);
    saved_ = ::dup(STDERR_FILENO);
    REQUIRE(saved_ >= 0);
    REQUIRE(::dup2(file_, STDERR_FILENO) == STDERR_FILENO);
  }
  ~CapturedStderr() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    ::close(file_);
  }
  std::string text() const {
    std::string text;
    char buffer[4096];
    for (off_t offset = 0;;) {
      const ssize_t got = ::pread(file_, buffer, sizeof buffer, offset);
      if (got <= 0) break;
      text.append(buffer, static_cast<size_t>(got));
      offset += got;
    }
    return text;
  }

 private:
  int file_ = -1;
  int saved_ = -1;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

// The lines of `text` but the reports of earlier floods (which a test run in
// the same process as a flooding test may see).
std::vector<std::string> LinesButReports(const std::string& text) {
  std::vector<std::string> lines;
  for (std::string& line : Lines(text)) {
    if (line.find("log lines suppressed") == std::string::npos) {
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

TEST_CASE("a forged line written by a caller is one escaped log line",
          "[log]") {
  InitLog(/*foreground=*/true, /*debug=*/false);
  CapturedStderr captured;
  LogForCaller(LogLevel::kInfo, 4242,
               "denied: write: x\ntokenfs: info: denied fake\x1b[31m");
  LogWarning("unattributed\r\n\\");
  CHECK(LinesButReports(captured.text()) ==
        std::vector<std::string>{
            "tokenfs: info: denied: write: x\\x0atokenfs: info: denied "
            "fake\\x1b[31m",
            "tokenfs: warning: unattributed\\x0d\\x0a\\\\"});
}

TEST_CASE("a uid's flood leaves another uid's line and the log's own lines",
          "[log]") {
  InitLog(/*foreground=*/true, /*debug=*/false);
  CapturedStderr captured;
  for (int i = 0; i < 10000; ++i) {
    LogForCaller(LogLevel::kWarning, 1001, "flood");
  }
  LogForCaller(LogLevel::kInfo, 1002, "denied: the other user");
  LogInfo("unattributed after the flood");
  LogError("an error after the flood");
  const std::vector<std::string> lines = Lines(captured.text());
  int flood = 0;
  for (const std::string& line : lines) {
    if (line == "tokenfs: warning: flood") ++flood;
  }
  // 50 a second: the loop may straddle a second boundary or two.
  CHECK(flood >= 50);
  CHECK(flood <= 150);
  const auto has = [&lines](std::string_view wanted) {
    for (const std::string& line : lines) {
      if (line == wanted) return true;
    }
    return false;
  };
  CHECK(has("tokenfs: info: denied: the other user"));
  CHECK(has("tokenfs: info: unattributed after the flood"));
  CHECK(has("tokenfs: error: an error after the flood"));
}

TEST_CASE("caller debug lines are written only with -d", "[log]") {
  CapturedStderr captured;
  InitLog(/*foreground=*/true, /*debug=*/false);
  LogForCaller(LogLevel::kDebug, 1001, "hidden");
  InitLog(/*foreground=*/true, /*debug=*/true);
  LogForCaller(LogLevel::kDebug, 1001, "shown");
  InitLog(/*foreground=*/true, /*debug=*/false);
  CHECK(LinesButReports(captured.text()) ==
        std::vector<std::string>{"tokenfs: debug: shown"});
}

// A socket of `type` bound at a fresh path in a fresh directory; removed at
// the end.
class BoundSocket {
 public:
  explicit BoundSocket(int type) {
    char directory_template[] = "/tmp/log_test.XXXXXX";
    REQUIRE(::mkdtemp(directory_template) != nullptr);
    directory_ = directory_template;
    path_ = directory_ + "/log";
    fd_ = ::socket(AF_UNIX, type, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path_.c_str());
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address),
                   sizeof address) == 0);
    if (type == SOCK_STREAM) REQUIRE(::listen(fd_, 1) == 0);
  }
  ~BoundSocket() {
    if (fd_ >= 0) ::close(fd_);
    ::unlink(path_.c_str());
    ::rmdir(directory_.c_str());
  }
  const std::string& path() const { return path_; }
  // Closes the socket, leaving its path: nothing listens there any more.
  void CloseReader() {
    ::close(fd_);
    fd_ = -1;
  }

 private:
  std::string directory_;
  std::string path_;
  int fd_ = -1;
};

TEST_CASE("ProbeSystemLog connects to a listening log socket", "[log]") {
  SECTION("a datagram socket, as syslog daemons and journald make") {
    BoundSocket socket(SOCK_DGRAM);
    CHECK(ProbeSystemLog(socket.path().c_str()));
  }
  SECTION("a stream socket, as syslog(3) also accepts") {
    BoundSocket socket(SOCK_STREAM);
    CHECK(ProbeSystemLog(socket.path().c_str()));
  }
}

TEST_CASE("ProbeSystemLog names the failed call when nothing listens",
          "[log]") {
  SECTION("no such path") {
    const Status probed = ProbeSystemLog("/nonexistent/tokenfs-log-test");
    REQUIRE_FALSE(probed);
    CHECK(probed.error().message == "connect: No such file or directory");
  }
  SECTION("a socket whose reader is gone") {
    BoundSocket socket(SOCK_DGRAM);
    socket.CloseReader();
    const Status probed = ProbeSystemLog(socket.path().c_str());
    REQUIRE_FALSE(probed);
    CHECK(probed.error().message == "connect: Connection refused");
  }
  SECTION("a plain file") {
    char file_template[] = "/tmp/log_test_file.XXXXXX";
    const int fd = ::mkstemp(file_template);
    REQUIRE(fd >= 0);
    ::close(fd);
    const Status probed = ProbeSystemLog(file_template);
    ::unlink(file_template);
    REQUIRE_FALSE(probed);
    CHECK(probed.error().message == "connect: Connection refused");
  }
}

}  // namespace
}  // namespace tokenfs
