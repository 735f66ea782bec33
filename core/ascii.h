// ASCII text helpers shared by the parsers and renderers.
//
// Names in this model (privileges, SDDL letters, levels, capability and
// claim type names) are ASCII and compared without regard to case; doing it
// here in one place keeps the comparisons locale-independent (std::tolower
// depends on the C locale) and avoids a copy of the loop in every parser.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_ASCII_H_
#define TOKENFS_CORE_ASCII_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tokenfs {

constexpr char AsciiToLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr char AsciiToUpper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
constexpr bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

// True iff `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string AsciiLower(std::string_view text);
std::string AsciiUpper(std::string_view text);
// `text` without leading and trailing ASCII white space.
std::string_view TrimAsciiSpace(std::string_view text);

// Levenshtein distance between two byte strings, for "did you mean"
// suggestions (O(|a|*|b|): meant for short names).
size_t EditDistance(std::string_view a, std::string_view b);
// `text` in double quotes with C escapes (\" \\ \n \r \t, \xNN for other
// control bytes), for showing untrusted strings on one line.
std::string QuoteForDisplay(std::string_view text);
// `value` as "0x" and lower-case hex digits without leading zeros ("0x1f").
std::string FormatHex(uint64_t value);
// Two lower-case hex digits per byte, no prefix ("00ff").
std::string FormatHexBytes(std::span<const uint8_t> bytes);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_ASCII_H_
