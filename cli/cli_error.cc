#include "cli/cli_error.h"

namespace tokenfs::cli {

CliError FromCoreError(const Error& error, const std::string& context) {
  const std::string message =
      context.empty() ? error.message : context + ": " + error.message;
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kResourceExhausted:
      return CliError{exit_status::kInvalidInput, message};
    case ErrorCode::kAccessDenied:
    case ErrorCode::kPrivilegeNotHeld:
      return CliError{exit_status::kDenied, message};
    case ErrorCode::kNotFound:
      return CliError{exit_status::kNotFound, message};
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kInternal:
      return CliError{exit_status::kFailure, message};
  }
  return CliError{exit_status::kFailure, message};
}

}  // namespace tokenfs::cli
