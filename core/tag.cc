#include "core/tag.h"

#include <algorithm>

#include "core/ascii.h"

namespace tokenfs {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

bool IsTagCharacter(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '-' || c == ':' ||
         c == '=' || c == '/';
}

std::string Printable(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte > 0x20 && byte < 0x7f) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

// The tag as quoted in error messages, shortened when very long.
std::string Quoted(std::string_view text) {
  constexpr size_t kShown = 40;
  std::string shown;
  for (char c : text.substr(0, kShown)) shown += Printable(c);
  return "'" + shown + (text.size() > kShown ? "...'" : "'");
}

}  // namespace

Result<std::string> ParseTag(std::string_view text) {
  if (text.empty()) return InvalidArgument("tag is empty", 1);
  if (text.size() > kMaxTagLength) {
    return InvalidArgument("tag " + Quoted(text) + " is longer than " +
                               std::to_string(kMaxTagLength) + " characters",
                           static_cast<int>(kMaxTagLength) + 1);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const bool ok = i == 0 ? IsAlnum(text[i]) : IsTagCharacter(text[i]);
    if (!ok) {
      const int column = static_cast<int>(i) + 1;
      return InvalidArgument(
          "tag " + Quoted(text) + ": invalid character '" +
              Printable(text[i]) + "' at column " + std::to_string(column) +
              (i == 0 ? " (a tag starts with a letter or digit)"
                      : " (letters, digits and . _ - : = / only)"),
          column);
    }
  }
  return AsciiLower(text);
}

Result<std::vector<std::string>> ApplyTagCommand(
    std::span<const std::string> tags, const TagCommand& command) {
  std::vector<std::string> result(tags.begin(), tags.end());
  const auto found = std::find(result.begin(), result.end(), command.tag);
  if (command.add) {
    if (found == result.end()) {
      if (result.size() >= kMaxTags) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "a token object holds at most " +
                             std::to_string(kMaxTags) + " tags");
      }
      result.push_back(command.tag);
    }
  } else if (found != result.end()) {
    result.erase(found);
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

std::string RenderTags(std::span<const std::string> tags) {
  std::string text;
  for (const std::string& tag : tags) text += tag + "\n";
  return text;
}

}  // namespace tokenfs
