// FsError: a refused request as the daemon replies it to the kernel.
//
// Models one failed FUSE request: what went wrong as a core ErrorCode and
// the reason the daemon logs (one sentence naming the file, the caller and
// the rule that refused). Every unit of the daemon that can refuse a request
// returns one; only the reply path (TokenFilesystem::Send) turns it into a
// reply, and the errno the caller sees is always ErrnoFor(code): no unit of
// the daemon chooses an errno itself.
//
// Invariant: the errno of an FsError is a function of its code alone.
//
// Thread-safety: plain values. Ownership: owns its reason.
#ifndef TOKENFS_TOKENFS_FS_ERROR_H_
#define TOKENFS_TOKENFS_FS_ERROR_H_

#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"
#include "tokenfs/errno_map.h"

namespace tokenfs {

// An error reply: what went wrong and the reason for the log.
struct FsError {
  ErrorCode code = ErrorCode::kInternal;
  std::string reason;

  // The errno the caller sees.
  int errno_value() const { return ErrnoFor(code); }
};

inline FsError Fail(ErrorCode code, std::string reason) {
  return FsError{code, std::move(reason)};
}

// A core error refused in `context` (a path or a phrase): its code, the
// context and the core message.
inline FsError Refuse(const Error& error, std::string_view context) {
  return FsError{error.code, std::string(context) + ": " + error.message};
}

// The registry's "not found" for a process or thread a request names means
// that process has exited (kProcessGone); any other failure (minting) keeps
// its own code.
inline FsError TargetError(const Error& error) {
  if (error.code == ErrorCode::kNotFound) {
    return FsError{ErrorCode::kProcessGone, error.message};
  }
  return FsError{error.code, error.message};
}

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_FS_ERROR_H_
