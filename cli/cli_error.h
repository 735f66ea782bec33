// CliError: why a `token` command failed, as the exit status and the one-line
// message the user sees on stderr ("token: <message>").
//
// The exit statuses are the documented contract of token(1):
//   0 success, 1 usage error (argument-parser errors included), 2 target not
//   found, 3 access denied (or forbidden by the token model: a privilege or
//   capability not held), 4 invalid spec or input, 5 any other failure.
// `impersonate -- command` returns the command's status instead (126/127 when
// it cannot be run, 128+N when killed by signal N).
//
// Thread-safety: plain values.
#ifndef TOKENFS_CLI_CLI_ERROR_H_
#define TOKENFS_CLI_CLI_ERROR_H_

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace tokenfs::cli {

namespace exit_status {
inline constexpr int kSuccess = 0;
inline constexpr int kUsage = 1;
inline constexpr int kNotFound = 2;
inline constexpr int kDenied = 3;
inline constexpr int kInvalidInput = 4;
inline constexpr int kFailure = 5;
// `token diff --quiet` when the two tokens differ.
inline constexpr int kDiffers = 6;
}  // namespace exit_status

struct [[nodiscard]] CliError {
  int exit_status = exit_status::kFailure;
  // One line, without the "token: " prefix and without a newline.
  std::string message;
};

template <typename T>
using CliResult = tl::expected<T, CliError>;
using CliStatus = tl::expected<void, CliError>;

inline tl::unexpected<CliError> Fail(int exit_status, std::string message) {
  return tl::unexpected<CliError>(CliError{exit_status, std::move(message)});
}
inline tl::unexpected<CliError> UsageError(std::string message) {
  return Fail(exit_status::kUsage, std::move(message));
}
inline tl::unexpected<CliError> InvalidInput(std::string message) {
  return Fail(exit_status::kInvalidInput, std::move(message));
}

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_CLI_ERROR_H_
