// ErrnoFor: the one place where core error codes become errno values for
// FUSE replies. EINVAL malformed, EPERM the model or the tree forbids it,
// EACCES the caller lacks access, ENOENT the name is unknown, ESRCH the
// process it names has exited, EDQUOT a quota; the remaining codes are the
// tree's own (ENOTDIR, EISDIR, ELOOP, EBADF, EFBIG, EBUSY, EMFILE, ENOMEM,
// EIO).
//
// Invariant: every ErrorCode maps to exactly one positive errno, and the
// switch has no default, so a new code does not compile (-Wswitch) until it
// is given one.
//
// Thread-safety: pure function.
#ifndef TOKENFS_TOKENFS_ERRNO_MAP_H_
#define TOKENFS_TOKENFS_ERRNO_MAP_H_

#include "core/result.h"

namespace tokenfs {

int ErrnoFor(ErrorCode code);

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_ERRNO_MAP_H_
