// LinkedCopies: what /tokens/<...>/linked points at.
//
// Models reading the linked token of a split (elevated/filtered) pair: a
// caller with SeTcb gets the partner token object itself; any other caller
// that may QUERY the token gets an Identification-level copy of the partner
// (core LinkedToken), made once per (caller process incarnation, partner)
// and handed out again while it exists.
//
// Invariant: a remembered copy names a token object the registry still
// holds when it is handed out; entries whose object is gone are dropped
// whenever a new copy is remembered.
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
  std::map<Key, uint64_t> copies_;  // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_LINKED_COPIES_H_
