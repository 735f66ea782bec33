// The one place where core error codes become errno values for FUSE replies
// (design §2): EINVAL malformed, EPERM the model forbids it, EACCES the
// caller lacks access, ENOENT/ESRCH target gone, EDQUOT a quota.
//
// Thread-safety: pure function.
#ifndef TOKENFS_TOKENFS_ERRNO_MAP_H_
#define TOKENFS_TOKENFS_ERRNO_MAP_H_

#include "core/result.h"

namespace tokenfs {

// Exhaustive over ErrorCode (no default: -Wswitch flags a new code).
int ErrnoFor(ErrorCode code);

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_ERRNO_MAP_H_
