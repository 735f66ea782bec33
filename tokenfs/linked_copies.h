// LinkedCopies: what /tokens/<...>/linked points at.
//
// Models reading the linked token of a split (elevated/filtered) pair: a
// caller with SeTcb gets the partner token object itself; any other caller
// that may QUERY the token gets an Identification-level copy of the partner
// (core LinkedToken), a new token object each time the link is read (as
// Windows returns a new token for every TokenLinkedToken query), held for
// the caller's process. A process keeps its two latest copies; an older one
// leaves the object table (unless an object was derived from it), as
// Windows frees a copy whose handle is closed, so reading the link in a
// loop does not grow the table.
//
// Invariant: copies_ maps (caller process incarnation, partner) to the two
// latest copies handed out (0: none); entries whose latest object is gone
// are dropped when a new copy is made.
//
// Thread-safety: internally locked (a mutex that may be held while calling
// into the registry).
//
// Ownership: borrows the registry, the id allocator, the resolver and the
// authorizer; they must outlive it. The copies themselves belong to the
// registry (held for the caller's process, like any derived object).
#ifndef TOKENFS_TOKENFS_LINKED_COPIES_H_
#define TOKENFS_TOKENFS_LINKED_COPIES_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tl/expected.hpp>
#include <tuple>

#include "core/luid.h"
#include "core/registry.h"
#include "tokenfs/authorize.h"
#include "tokenfs/fs_error.h"
#include "tokenfs/resolve.h"

namespace tokenfs {

class LinkedCopies {
 public:
  LinkedCopies(Registry& registry, LuidAllocator& ids, Resolver& resolver,
               RequestAuthorizer& authorizer);
  LinkedCopies(const LinkedCopies&) = delete;
  LinkedCopies& operator=(const LinkedCopies&) = delete;

  // The target of the `linked` link of `node` (whose token is `target`) for
  // `caller`: a path relative to the directory holding the link.
  tl::expected<std::string, FsError> Resolve(const Caller& caller,
                                             const Target& target,
                                             const NodeId& node);

 private:
  struct Key {
    int32_t pid;
    uint64_t start_time;
    uint64_t instance;
    uint64_t partner;
    friend bool operator<(const Key& a, const Key& b) {
      return std::tie(a.pid, a.start_time, a.instance, a.partner) <
             std::tie(b.pid, b.start_time, b.instance, b.partner);
    }
  };

  Registry& registry_;
  LuidAllocator& ids_;
  Resolver& resolver_;
  RequestAuthorizer& authorizer_;
  std::mutex mutex_;
  struct Latest {
    uint64_t latest = 0;
    uint64_t before = 0;
  };
  std::map<Key, Latest> copies_;  // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_LINKED_COPIES_H_
