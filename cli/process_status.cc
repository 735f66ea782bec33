#include "cli/process_status.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "core/number.h"

namespace tokenfs::cli {

namespace {

// The value of "<key>:\t<value>" in `text`, or nullopt.
std::optional<std::string_view> Field(std::string_view text,
                                      std::string_view key) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    if (line.size() > key.size() && line.substr(0, key.size()) == key &&
        line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) {
        line.remove_prefix(1);
      }
      return line;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> HexField(std::string_view text, std::string_view key) {
  const auto value = Field(text, key);
  if (!value || value->empty()) return std::nullopt;
  auto number = ParseUnsigned(*value, UINT64_MAX, NumberBase::kHex);
  if (!number) return std::nullopt;
  return *number;
}

}  // namespace

std::optional<ProcessStatus> ParseProcessStatus(std::string_view text) {
  ProcessStatus status;
  const auto inheritable = HexField(text, "CapInh");
  const auto permitted = HexField(text, "CapPrm");
  const auto effective = HexField(text, "CapEff");
  const auto bounding = HexField(text, "CapBnd");
  const auto ambient = HexField(text, "CapAmb");
  if (!inheritable || !permitted || !effective || !bounding || !ambient) {
    return std::nullopt;
  }
  status.cap_inheritable = *inheritable;
  status.cap_permitted = *permitted;
  status.cap_effective = *effective;
  status.cap_bounding = *bounding;
  status.cap_ambient = *ambient;
  const auto no_new_privs = Field(text, "NoNewPrivs");
  status.no_new_privs = no_new_privs && *no_new_privs == "1";
  return status;
}

std::optional<ProcessStatus> ReadProcessStatus(int pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/status");
  if (!file) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(file)),
                         std::istreambuf_iterator<char>());
  auto status = ParseProcessStatus(text);
  if (status && pid == ::getpid()) {
    const int bits = ::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    if (bits >= 0) status->securebits = static_cast<uint64_t>(bits);
  }
  return status;
}

}  // namespace tokenfs::cli
