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
    case ErrorCode::kProcessGone:
      return ESRCH;
    case ErrorCode::kNotPermitted:
      return EPERM;
    case ErrorCode::kNotADirectory:
      return ENOTDIR;
    case ErrorCode::kIsADirectory:
      return EISDIR;
    case ErrorCode::kIsALink:
      return ELOOP;
    case ErrorCode::kBadHandle:
      return EBADF;
    case ErrorCode::kTooLarge:
      return EFBIG;
    case ErrorCode::kBusy:
      return EBUSY;
    case ErrorCode::kTooManyOpen:
      return EMFILE;
    case ErrorCode::kOutOfMemory:
      return ENOMEM;
  }
  // Not reached for a valid ErrorCode (the switch is exhaustive).
  return EIO;
}

}  // namespace tokenfs
