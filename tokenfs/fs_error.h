// FsError: a refused request as the daemon replies it to the kernel.
//
// Models one failed FUSE request: the errno the caller sees and the reason
// the daemon logs (one sentence naming the file, the caller and the rule that
// refused). Every unit of the daemon that can refuse a request returns one;
// only the reply path (TokenFilesystem::Send) turns it into a reply.
//
// Invariant: errno_value is a positive errno for every refusal built here
// (an FsError with errno 0 is sent as EIO).
//
// Thread-safety: plain values. Ownership: owns its reason.
#ifndef TOKENFS_TOKENFS_FS_ERROR_H_
#define TOKENFS_TOKENFS_FS_ERROR_H_

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "tokenfs/errno_map.h"

namespace tokenfs {

// An error reply: the errno for the caller and the reason for the log.
struct FsError {
  int errno_value = 0;
  std::string reason;
};

inline FsError Errno(int value, std::string reason) {
  return FsError{value, std::move(reason)};
}

// A core error refused in `context` (a path or a phrase): its code's errno,
// the context and the core message.
inline FsError Refuse(const Error& error, std::string_view context) {
  return FsError{ErrnoFor(error.code),
                 std::string(context) + ": " + error.message};
}

// A target that is gone is ESRCH; any other failure (minting) keeps its
// own errno.
inline FsError TargetError(const Error& error) {
  if (error.code == ErrorCode::kNotFound) return FsError{ESRCH, error.message};
  return FsError{ErrnoFor(error.code), error.message};
}

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_FS_ERROR_H_
