#include "cli/mount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "cli/text.h"

namespace tokenfs::cli {
namespace {

// statfs(2) f_type of every FUSE file system.
constexpr long kFuseSuperMagic = 0x65735546;

// Closes a descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads from the current offset to EOF. Returns false on error (errno set).
bool ReadToEnd(int fd, std::string& out) {
  char buffer[16384];
  while (true) {
    const ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (count == 0) return true;
    out.append(buffer, static_cast<size_t>(count));
  }
}

// The daemon's explanation from an "error: <strerror>: <reason>" line, with
// the strerror text and a leading "<path>: " removed ("" when the text is not
// such a line).
std::string ReasonFromErrorLine(std::string_view text, int error,
                                const std::string& path) {
  text = TrimNewlines(text);
  constexpr std::string_view kPrefix = "error: ";
  if (text.substr(0, kPrefix.size()) != kPrefix) return "";
  text.remove_prefix(kPrefix.size());
  const std::string strerror_text = std::string(std::strerror(error)) + ": ";
  if (text.substr(0, strerror_text.size()) == strerror_text) {
    text.remove_prefix(strerror_text.size());
  } else if (const size_t colon = text.find(": ");
             colon != std::string_view::npos) {
    text.remove_prefix(colon + 2);
  }
  const std::string path_prefix = path + ": ";
  if (text.substr(0, path_prefix.size()) == path_prefix) {
    text.remove_prefix(path_prefix.size());
  }
  return std::string(text);
}

// The reason of a daemon's refusal, "<step>: <why>", without the request
// the daemon names before it ("read <file> by pid N (uid U): ").
std::string WithoutRequest(std::string reason) {
  const size_t by = reason.find(" by pid ");
  const size_t end = by == std::string::npos ? by : reason.find("): ", by);
  if (end != std::string::npos) reason.erase(0, end + 3);
  return reason;
}

}  // namespace

bool WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t count = ::write(fd, text.data(), text.size());
    if (count < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    text.remove_prefix(static_cast<size_t>(count));
  }
  return true;
}

CliResult<TargetSpec> ParseTargetReference(std::string_view text) {
  TargetSpec spec;
  auto bad = [&text]() {
    return UsageError("bad token reference '" + std::string(text) +
                      "' (self, real, pid:N, pid:N/TID, id:N or peer:FD)");
  };
  if (text == "self") {
    spec.kind = TargetSpec::Kind::kSelf;
    return spec;
  }
  if (text == "real") {
    spec.kind = TargetSpec::Kind::kReal;
    return spec;
  }
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return bad();
  const std::string_view kind = text.substr(0, colon);
  const std::string_view rest = text.substr(colon + 1);
  if (kind == "pid") {
    const size_t slash = rest.find('/');
    const auto pid = ParseDecimal(rest.substr(0, slash), INT32_MAX);
    if (!pid || *pid == 0) return bad();
    spec.pid = static_cast<int32_t>(*pid);
    spec.kind = TargetSpec::Kind::kProcess;
    if (slash != std::string_view::npos) {
      const auto tid = ParseDecimal(rest.substr(slash + 1), INT32_MAX);
      if (!tid || *tid == 0) return bad();
      spec.tid = static_cast<int32_t>(*tid);
      spec.kind = TargetSpec::Kind::kThread;
    }
    return spec;
  }
  if (kind == "id") {
    const auto id = ParseDecimal(rest, UINT64_MAX);
    if (!id) return bad();
    spec.kind = TargetSpec::Kind::kObject;
    spec.object_id = *id;
    return spec;
  }
  if (kind == "peer") {
    const auto fd = ParseDecimal(rest, INT32_MAX);
    if (!fd) return bad();
    spec.kind = TargetSpec::Kind::kPeer;
    spec.peer_fd = static_cast<int>(*fd);
    return spec;
  }
  return bad();
}

nlohmann::json ResolvedTarget::Json() const {
  nlohmann::json json = nlohmann::json::object();
  switch (spec.kind) {
    case TargetSpec::Kind::kSelf:
      json["kind"] = "self";
      break;
    case TargetSpec::Kind::kReal:
      json["kind"] = "real";
      break;
    case TargetSpec::Kind::kProcess:
      json["kind"] = "pid";
      break;
    case TargetSpec::Kind::kThread:
      json["kind"] = "thread";
      break;
    case TargetSpec::Kind::kPeer:
      json["kind"] = "peer";
      json["fd"] = spec.peer_fd;
      break;
    case TargetSpec::Kind::kObject:
      json["kind"] = "object";
      json["id"] = spec.object_id;
      break;
  }
  if (pid != 0) json["pid"] = pid;
  if (tid != 0) json["tid"] = tid;
  json["path"] = dir;
  return json;
}

Mount::Mount(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Mount Mount::FromEnvironment() {
  const char* root = std::getenv("TOKENFS_ROOT");
  return Mount(root && *root ? root : "/tokens");
}

CliResult<ResolvedTarget> Mount::Resolve(const TargetSpec& spec) const {
  ResolvedTarget target;
  target.spec = spec;
  const int32_t parent = static_cast<int32_t>(::getppid());
  const std::string parent_text = std::to_string(parent);
  switch (spec.kind) {
    case TargetSpec::Kind::kSelf:
      target.pid = parent;
      target.tid = parent;
      target.dir = root_ + "/" + parent_text + "/" + parent_text;
      target.label = "self (pid " + parent_text + ")";
      target.reference = "pid:" + parent_text + "/" + parent_text;
      return target;
    case TargetSpec::Kind::kReal:
      target.pid = parent;
      target.dir = root_ + "/" + parent_text;
      target.label = "self, primary token (pid " + parent_text + ")";
      target.reference = "pid:" + parent_text;
      return target;
    case TargetSpec::Kind::kProcess:
      target.pid = spec.pid;
      target.dir = root_ + "/" + std::to_string(spec.pid);
      target.label = "pid " + std::to_string(spec.pid);
      target.reference = "pid:" + std::to_string(spec.pid);
      return target;
    case TargetSpec::Kind::kThread:
      target.pid = spec.pid;
      target.tid = spec.tid;
      target.dir = root_ + "/" + std::to_string(spec.pid) + "/" +
                   std::to_string(spec.tid);
      target.label = "pid " + std::to_string(spec.pid) + " tid " +
                     std::to_string(spec.tid);
      target.reference =
          "pid:" + std::to_string(spec.pid) + "/" + std::to_string(spec.tid);
      return target;
    case TargetSpec::Kind::kObject:
      target.dir = root_ + "/objects/" + std::to_string(spec.object_id);
      target.label = "token object " + std::to_string(spec.object_id);
      target.reference = "id:" + std::to_string(spec.object_id);
      return target;
    case TargetSpec::Kind::kPeer:
      break;
  }
  // Peer: the tree resolves SO_PEERCRED of our descriptor at this moment.
  const std::string fd_text = std::to_string(spec.peer_fd);
  target.label = "peer of fd " + fd_text;
  if (::fcntl(spec.peer_fd, F_GETFD) < 0) {
    return Fail(exit_status::kNotFound, "not found: " + target.label +
                                            ": no such open file descriptor");
  }
  struct stat info {};
  if (::fstat(spec.peer_fd, &info) == 0 && !S_ISSOCK(info.st_mode)) {
    return Fail(exit_status::kNotFound,
                "not found: " + target.label + ": not a socket");
  }
  auto link = ReadLink(root_ + "/peer/" + fd_text, target.label,
                       Operation{"reading its peer", "QUERY"});
  if (!link && link.error().exit_status == exit_status::kNotFound) {
    return Fail(exit_status::kNotFound,
                "not found: " + target.label +
                    ": not a connected Unix socket, or its peer is gone");
  }
  if (!link) return tl::unexpected(link.error());
  const size_t slash = link->find_last_of('/');
  const std::string pid_text =
      slash == std::string::npos ? *link : link->substr(slash + 1);
  const auto pid = ParseDecimal(pid_text, INT32_MAX);
  if (!pid) {
    return Fail(exit_status::kFailure, "tokenfs resolved " + target.label +
                                           " to an unexpected path '" + *link +
                                           "'");
  }
  target.pid = static_cast<int32_t>(*pid);
  target.dir = root_ + "/" + pid_text;
  target.label += " (pid " + pid_text + ")";
  target.reference = "pid:" + pid_text;
  return target;
}

CliResult<std::string> Mount::Read(const ResolvedTarget& target,
                                   std::string_view relative,
                                   const Operation& operation) const {
  return ReadPath(target.dir + "/" + std::string(relative), target.label,
                  operation);
}

CliResult<std::string> Mount::ReadPath(const std::string& path,
                                       const std::string& label,
                                       const Operation& operation) const {
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    return tl::unexpected(ErrorFor(errno, path, label, operation, ""));
  std::string content;
  if (!ReadToEnd(fd.get(), content)) {
    return tl::unexpected(ErrorFor(errno, path, label, operation, ""));
  }
  return content;
}

CliResult<std::string> Mount::Transact(const std::string& path,
                                       std::string_view command,
                                       const std::string& label,
                                       const Operation& operation) const {
  const FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (fd.get() < 0)
    return tl::unexpected(ErrorFor(errno, path, label, operation, ""));
  const ssize_t written = ::write(fd.get(), command.data(), command.size());
  if (written < 0 || static_cast<size_t>(written) != command.size()) {
    const int error = written < 0 ? errno : EIO;
    std::string reason;
    std::string line;
    if (::lseek(fd.get(), 0, SEEK_SET) == 0 && ReadToEnd(fd.get(), line)) {
      reason = ReasonFromErrorLine(line, error, path);
    }
    return tl::unexpected(ErrorFor(error, path, label, operation, reason));
  }
  std::string result;
  if (::lseek(fd.get(), 0, SEEK_SET) != 0 || !ReadToEnd(fd.get(), result)) {
    return tl::unexpected(ErrorFor(errno, path, label, operation, ""));
  }
  return result;
}

CliResult<std::string> Mount::ReadLink(const std::string& path,
                                       const std::string& label,
                                       const Operation& operation) const {
  char buffer[PATH_MAX];
  const ssize_t length = ::readlink(path.c_str(), buffer, sizeof buffer - 1);
  if (length < 0)
    return tl::unexpected(ErrorFor(errno, path, label, operation, ""));
  return std::string(buffer, static_cast<size_t>(length));
}

CliStatus Mount::CheckMounted() const {
  const std::string hint =
      " (start tokenfs, or set TOKENFS_ROOT to where it is mounted)";
  struct statfs info {};
  if (::statfs(root_.c_str(), &info) != 0) {
    if (errno == ENOTCONN || errno == ECONNABORTED) {
      return Fail(exit_status::kFailure,
                  "tokenfs at " + root_ +
                      " is not answering (its daemon is gone); unmount it "
                      "with fusermount3 -u " +
                      root_);
    }
    return Fail(exit_status::kFailure, "no tokenfs mounted at " + root_ + ": " +
                                           std::strerror(errno) + hint);
  }
  struct stat self_link {};
  if (info.f_type != kFuseSuperMagic ||
      ::lstat((root_ + "/self").c_str(), &self_link) != 0 ||
      !S_ISLNK(self_link.st_mode)) {
    return Fail(exit_status::kFailure, "no tokenfs mounted at " + root_ + hint);
  }
  return {};
}

CliError Mount::ErrorFor(int error, const std::string& path,
                         const std::string& label, const Operation& operation,
                         const std::string& daemon_reason) const {
  // A refused open carries no reason; the daemon keeps the last refusal of
  // each thread in /tokens/refusal, which names the step that refused.
  std::string reason = daemon_reason;
  if (reason.empty() && (error == EACCES || error == EPERM)) {
    const FileDescriptor fd(
        ::open((root_ + "/refusal").c_str(), O_RDONLY | O_CLOEXEC));
    std::string line;
    if (fd.get() >= 0 && ReadToEnd(fd.get(), line)) {
      reason = WithoutRequest(ReasonFromErrorLine(line, error, path));
    }
  } else {
    reason = WithoutRequest(reason);
  }
  const std::string because = reason.empty() ? "" : ": " + reason;
  switch (error) {
    case ENOENT:
    case ESRCH:
    case ENOTDIR: {
      if (auto mounted = CheckMounted(); !mounted) return mounted.error();
      return CliError{exit_status::kNotFound, "not found: " + label + because};
    }
    case ENOTCONN:
    case ECONNABORTED: {
      if (auto mounted = CheckMounted(); !mounted) return mounted.error();
      return CliError{exit_status::kFailure,
                      label + ": " + std::strerror(error) + because};
    }
    case EACCES:
      if (!reason.empty()) {
        return CliError{exit_status::kDenied,
                        "access denied: " + label + because};
      }
      return CliError{
          exit_status::kDenied,
          "access denied: " + label + ": " + std::string(operation.doing) +
              " needs " + std::string(operation.right) +
              (operation.capability.empty()
                   ? std::string()
                   : " and the capability " +
                         std::string(operation.capability))};
    case EPERM:
      return CliError{exit_status::kDenied,
                      "not permitted: " + label + ": " +
                          (reason.empty() ? std::string(operation.doing) +
                                                " is forbidden by the token "
                                                "model"
                                          : "token model: " + reason)};
    case EINVAL:
      return CliError{
          exit_status::kInvalidInput,
          "invalid input: " + label +
              (reason.empty() ? ": " + path + ": " + std::strerror(error)
                              : because)};
    case EFBIG:
      return CliError{exit_status::kInvalidInput,
                      "invalid input: " + label +
                          ": the command is larger than tokenfs accepts (64 "
                          "KiB)"};
    case EDQUOT:
      return CliError{
          exit_status::kFailure,
          "quota exceeded: " + label +
              (reason.empty() ? ": too many token objects" : because)};
    default:
      return CliError{exit_status::kFailure,
                      label + ": " + std::string(operation.doing) + ": " +
                          path + ": " + std::strerror(error) + because};
  }
}

}  // namespace tokenfs::cli
