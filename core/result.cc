#include "core/result.h"

namespace tokenfs {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid-argument";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kAccessDenied:
      return "access-denied";
    case ErrorCode::kPrivilegeNotHeld:
      return "privilege-not-held";
    case ErrorCode::kAlreadyExists:
      return "already-exists";
    case ErrorCode::kFailedPrecondition:
      return "failed-precondition";
    case ErrorCode::kResourceExhausted:
      return "resource-exhausted";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

}  // namespace tokenfs
