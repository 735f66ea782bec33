#include "tokenfs/proc_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

#include "core/ascii.h"

namespace tokenfs {
namespace {

// Reads a small /proc file whole. kNotFound when it does not exist.
Result<std::string> ReadSmallFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return MakeError(error == ENOENT || error == ESRCH ? ErrorCode::kNotFound
                                                       : ErrorCode::kInternal,
                     path + ": " + std::strerror(error));
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return MakeError(
          error == ESRCH ? ErrorCode::kNotFound : ErrorCode::kInternal,
          path + ": " + std::strerror(error));
    }
    if (count == 0) break;
    text.append(buffer, static_cast<size_t>(count));
    if (text.size() > 1 << 20) break;
  }
  ::close(fd);
  return text;
}

bool ParseU64(std::string_view text, uint64_t& value, int base = 10) {
  const auto result =
      std::from_chars(text.data(), text.data() + text.size(), value, base);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

std::vector<std::string_view> Fields(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t position = 0;
  while (position < text.size()) {
    while (position < text.size() &&
           (text[position] == ' ' || text[position] == '\t')) {
      ++position;
    }
    const size_t start = position;
    while (position < text.size() && text[position] != ' ' &&
           text[position] != '\t') {
      ++position;
    }
    if (position > start)
      fields.push_back(text.substr(start, position - start));
  }
  return fields;
}

std::vector<int32_t> NumericEntries(const std::string& directory) {
  std::vector<int32_t> ids;
  DIR* dir = ::opendir(directory.c_str());
  if (!dir) return ids;
  while (const dirent* entry = ::readdir(dir)) {
    uint64_t value = 0;
    if (ParseU64(entry->d_name, value) && value > 0 && value <= INT32_MAX) {
      ids.push_back(static_cast<int32_t>(value));
    }
  }
  ::closedir(dir);
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace

Status ParseProcStatus(std::string_view text, TaskInfo& info) {
  bool have_tgid = false;
  bool have_uid = false;
  bool have_gid = false;
  LinuxCredentials& credentials = info.credentials;
  size_t position = 0;
  while (position < text.size()) {
    size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(position, end - position);
    position = end + 1;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const std::vector<std::string_view> values = Fields(line.substr(colon + 1));
    uint64_t number = 0;
    auto four = [&](uint32_t& a, uint32_t& b, uint32_t& c, uint32_t& d) {
      uint64_t parsed[4];
      if (values.size() < 4) return false;
      for (int i = 0; i < 4; ++i) {
        if (!ParseU64(values[static_cast<size_t>(i)], parsed[i])) return false;
      }
      a = static_cast<uint32_t>(parsed[0]);
      b = static_cast<uint32_t>(parsed[1]);
      c = static_cast<uint32_t>(parsed[2]);
      d = static_cast<uint32_t>(parsed[3]);
      return true;
    };
    if (key == "Tgid" && values.size() == 1 && ParseU64(values[0], number)) {
      info.tgid = static_cast<int32_t>(number);
      have_tgid = true;
    } else if (key == "PPid" && values.size() == 1 &&
               ParseU64(values[0], number)) {
      info.ppid = static_cast<int32_t>(number);
    } else if (key == "Uid") {
      have_uid = four(credentials.real_uid, credentials.effective_uid,
                      credentials.saved_uid, credentials.fs_uid);
    } else if (key == "Gid") {
      have_gid = four(credentials.real_gid, credentials.effective_gid,
                      credentials.saved_gid, credentials.fs_gid);
    } else if (key == "Groups") {
      credentials.supplementary_gids.clear();
      for (std::string_view value : values) {
        if (ParseU64(value, number)) {
          credentials.supplementary_gids.push_back(
              static_cast<uint32_t>(number));
        }
      }
    } else if (values.size() == 1 && key.substr(0, 3) == "Cap" &&
               ParseU64(values[0], number, 16)) {
      if (key == "CapInh") credentials.cap_inheritable = number;
      if (key == "CapPrm") credentials.cap_permitted = number;
      if (key == "CapEff") credentials.cap_effective = number;
      if (key == "CapBnd") credentials.cap_bounding = number;
      if (key == "CapAmb") credentials.cap_ambient = number;
    } else if (key == "NoNewPrivs" && values.size() == 1 &&
               ParseU64(values[0], number)) {
      credentials.no_new_privs = number != 0;
    }
  }
  if (!have_tgid || !have_uid || !have_gid) {
    return InvalidArgument("status lacks Tgid, Uid or Gid");
  }
  return Ok();
}

Result<ProcStat> ParseProcStat(std::string_view text) {
  // The command name (field 2) may contain spaces and parentheses; the
  // fields after it start after the last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) {
    return InvalidArgument("stat lacks the command name");
  }
  const std::vector<std::string_view> fields = Fields(text.substr(close + 1));
  // fields[0] is field 3 (state); field N is fields[N - 3].
  if (fields.size() < 20) return InvalidArgument("stat is truncated");
  ProcStat stat;
  int64_t tty = 0;
  const std::string_view tty_text = fields[4];
  const auto tty_result =
      std::from_chars(tty_text.data(), tty_text.data() + tty_text.size(), tty);
  if (tty_result.ec != std::errc() || !ParseU64(fields[19], stat.start_time)) {
    return InvalidArgument("stat has a malformed field");
  }
  stat.tty = tty;
  return stat;
}

Result<TaskInfo> ProcProcessSource::ReadTask(int32_t tid) const {
  const std::string base = proc_root_ + "/" + std::to_string(tid);
  auto status = ReadSmallFile(base + "/status");
  if (!status) return tl::unexpected(status.error());
  TaskInfo info;
  info.tid = tid;
  if (auto parsed = ParseProcStatus(*status, info); !parsed) {
    return MakeError(ErrorCode::kNotFound,
                     base + "/status: " + parsed.error().message);
  }
  auto thread_stat_text = ReadSmallFile(base + "/stat");
  if (!thread_stat_text) return tl::unexpected(thread_stat_text.error());
  auto thread_stat = ParseProcStat(*thread_stat_text);
  if (!thread_stat) {
    return MakeError(ErrorCode::kNotFound,
                     base + "/stat: " + thread_stat.error().message);
  }
  info.thread_start_time = thread_stat->start_time;
  info.start_time = thread_stat->start_time;
  info.credentials.has_terminal = thread_stat->tty != 0;
  if (info.tgid != tid) {
    auto leader = TaskStartTime(info.tgid);
    if (!leader) return tl::unexpected(leader.error());
    info.start_time = *leader;
  }
  if (auto session = ReadSmallFile(base + "/sessionid")) {
    uint64_t value = 0;
    if (ParseU64(TrimAsciiSpace(*session), value) && value <= UINT32_MAX) {
      info.credentials.audit_session_id = static_cast<uint32_t>(value);
    }
  }
  return info;
}

Result<uint64_t> ProcProcessSource::TaskStartTime(int32_t tid) const {
  auto text = ReadSmallFile(proc_root_ + "/" + std::to_string(tid) + "/stat");
  if (!text) return tl::unexpected(text.error());
  auto stat = ParseProcStat(*text);
  if (!stat) return MakeError(ErrorCode::kNotFound, stat.error().message);
  return stat->start_time;
}

Result<uint64_t> ProcProcessSource::EffectiveCapabilities(int32_t tid) const {
  auto text = ReadSmallFile(proc_root_ + "/" + std::to_string(tid) + "/status");
  if (!text) return tl::unexpected(text.error());
  TaskInfo info;
  if (auto parsed = ParseProcStatus(*text, info); !parsed) {
    return tl::unexpected(parsed.error());
  }
  return info.credentials.cap_effective;
}

std::vector<int32_t> ProcProcessSource::ListProcesses() const {
  return NumericEntries(proc_root_);
}

std::vector<int32_t> ProcProcessSource::ListThreads(int32_t pid) const {
  return NumericEntries(proc_root_ + "/" + std::to_string(pid) + "/task");
}

uint64_t SystemClock::NowNanoseconds() const {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000ull +
         static_cast<uint64_t>(now.tv_nsec);
}

}  // namespace tokenfs
