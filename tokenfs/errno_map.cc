#include "tokenfs/errno_map.h"

#include <cerrno>

namespace tokenfs {

int ErrnoFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return EINVAL;
    case ErrorCode::kNotFound:
      return ENOENT;
    case ErrorCode::kAccessDenied:
      return EACCES;
    case ErrorCode::kPrivilegeNotHeld:
      return EPERM;
    case ErrorCode::kAlreadyExists:
      return EEXIST;
    case ErrorCode::kFailedPrecondition:
      return EPERM;
    case ErrorCode::kResourceExhausted:
      return EDQUOT;
    case ErrorCode::kInternal:
      return EIO;
  }
  return EIO;
}

}  // namespace tokenfs
