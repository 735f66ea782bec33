#include "cli/process_status.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

#include "core/proc_status.h"

namespace tokenfs::cli {

Result<ProcessStatus> ReadProcessStatus(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/status";
  std::ifstream file(path);
  if (!file) {
    return MakeError(ErrorCode::kNotFound, path + ": " + std::strerror(errno));
  }
  const std::string text((std::istreambuf_iterator<char>(file)),
                         std::istreambuf_iterator<char>());
  if (file.bad()) {
    return MakeError(ErrorCode::kNotFound, path + ": read error");
  }
  auto parsed = ParseProcStatus(text);
  if (!parsed) {
    return MakeError(parsed.error().code, path + ": " + parsed.error().message);
  }
  ProcessStatus status;
  status.credentials = std::move(parsed->credentials);
  if (pid == ::getpid()) {
    const int bits = ::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    if (bits >= 0) status.securebits = static_cast<uint64_t>(bits);
  }
  return status;
}

}  // namespace tokenfs::cli
