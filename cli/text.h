// Small text helpers shared by the `token` commands.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CLI_TEXT_H_
#define TOKENFS_CLI_TEXT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tokenfs::cli {

// Parses a decimal number without sign, leading '+' or spaces, at most
// `max`; nullopt otherwise.
std::optional<uint64_t> ParseDecimal(std::string_view text, uint64_t max);

// Joins `parts` with `separator`.
std::string Join(std::span<const std::string> parts,
                 std::string_view separator);

// Splits at `separator`, keeping empty parts ("a,,b" -> a, "", b; "" -> one
// empty part).
std::vector<std::string> Split(std::string_view text, char separator);

// Removes trailing '\n' and '\r'.
std::string_view TrimNewlines(std::string_view text);

// Parses "key  value" lines (fields separated by two spaces, the format of
// the tree's result texts) into pairs; a line without two spaces is a key
// with an empty value. Keys may repeat.
std::vector<std::pair<std::string, std::string>> ParseKeyValueLines(
    std::string_view text);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_TEXT_H_
