// LinkedCopies: what /tokens/<...>/linked points at.
//
// Models reading the linked token of a split (elevated/filtered) pair: a
// caller with SeTcb gets the partner token object itself; any other caller
// that may QUERY the token gets an Identification-level copy of the partner
// (core LinkedToken), a new token object each time the link is read (as
// Windows returns a new token for every TokenLinkedToken query), held for
// the caller's process.
//
// Thread-safety: stateless apart from the borrowed parts, which lock
// themselves.
//
// Ownership: borrows the registry, the id allocator, the resolver and the
// authorizer; they must outlive it. The copies themselves belong to the
// registry (held for the caller's process, like any derived object).
#ifndef TOKENFS_TOKENFS_LINKED_COPIES_H_
#define TOKENFS_TOKENFS_LINKED_COPIES_H_

#include <string>
#include <tl/expected.hpp>

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
  Registry& registry_;
  LuidAllocator& ids_;
  Resolver& resolver_;
  RequestAuthorizer& authorizer_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_LINKED_COPIES_H_
