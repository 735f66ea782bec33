#include "cli/text.h"

#include <cstdio>

#include "core/number.h"

namespace tokenfs::cli {

std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max) {
  // More than 20 characters is refused even when it is leading zeros.
  if (text.size() > 20) return std::nullopt;
  auto value = ParseUnsigned(text, max, NumberBase::kDecimal);
  if (!value) return std::nullopt;
  return *value;
}

std::string Join(std::span<const std::string> parts,
                 std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
}

std::string_view TrimNewlines(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::vector<std::pair<std::string, std::string>> ParseKeyValueLines(
    std::string_view text) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line =
        end == std::string_view::npos ? text : text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view()
                                         : text.substr(end + 1);
    if (line.empty()) continue;
    const size_t gap = line.find("  ");
    if (gap == std::string_view::npos) {
      pairs.emplace_back(std::string(line), std::string());
    } else {
      pairs.emplace_back(std::string(line.substr(0, gap)),
                         std::string(line.substr(gap + 2)));
    }
  }
  return pairs;
}

}  // namespace tokenfs::cli
