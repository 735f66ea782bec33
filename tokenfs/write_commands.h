// WriteCommands: what writing to a file of the /tokens tree does.
//
// Models the tree's write commands, one per writable file:
//   - token files (privs, groups, owner, group, default-dacl, integrity,
//     session, security): adjust the token in place;
//   - <pid>/<tid>/impersonate: impersonate a token, or revert;
//   - access: answer an access check against the token;
//   - duplicate, restrict: derive a new token object;
//   - objects/<id>/persist (and rmdir of objects/<id>): keep, release,
//     hand over or revoke a token object (revoking revokes its subtree);
//   - objects/<id>/tags: add or remove a tag;
//   - <pid>/install: install a primary token;
//   - /tokens/create: create a token from a spec;
//   - /tokens/link: link an elevated and a filtered token.
// Each command is parsed by core, authorized (RequestAuthorizer), decided by
// one core rule (core/write_rules.h, core/token_operations.h) and applied to
// the registry; the result is the text the writer reads back.
//
// Invariant: a refused command changes nothing; every model decision is a
// core function, so this unit only resolves, calls core and applies.
//
// Thread-safety: safe to call from any thread (no state of its own; the
// registry and token objects are internally synchronized).
//
// Ownership: borrows the registry, the id allocator, the clock, the
// capability names, the resolver and the authorizer; they must outlive it.
#ifndef TOKENFS_TOKENFS_WRITE_COMMANDS_H_
#define TOKENFS_TOKENFS_WRITE_COMMANDS_H_

#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "core/capability.h"
#include "core/registry.h"
#include "core/render.h"
#include "tokenfs/authorize.h"
#include "tokenfs/fs_error.h"
#include "tokenfs/resolve.h"
#include "tokenfs/tree.h"

namespace tokenfs {

class WriteCommands {
 public:
  // `domain` (may be null; borrowed, must outlive this) is the machine
  // domain SID that access checks resolve and print SDDL aliases against.
  WriteCommands(Registry& registry, LuidAllocator& ids, const Clock& clock,
                const CapabilityNames& capability_names, Resolver& resolver,
                RequestAuthorizer& authorizer, const Sid* domain = nullptr);
  WriteCommands(const WriteCommands&) = delete;
  WriteCommands& operator=(const WriteCommands&) = delete;

  // Applies `data` written by `caller` to `node`, a file opened on process
  // `opened_on` (zero for objects and the root); the text the writer reads
  // back.
  tl::expected<std::string, FsError> Apply(const NodeId& node,
                                           const ProcessKey& opened_on,
                                           const Caller& caller,
                                           std::string_view data);
  // objects/<id>/persist: "yes", "no", "revoke" or "holder=PID" (rmdir of
  // the object's directory is "revoke").
  tl::expected<std::string, FsError> Persist(const Caller& caller,
                                             const Target& target,
                                             std::string_view data);

 private:
  tl::expected<std::string, FsError> TokenFileWrite(const Caller& caller,
                                                    const Target& target,
                                                    TokenFile text_file,
                                                    std::string_view data);
  tl::expected<std::string, FsError> Impersonate(const Caller& caller,
                                                 const Target& thread,
                                                 std::string_view data);
  tl::expected<std::string, FsError> Access(const Caller& caller,
                                            const Target& target,
                                            std::string_view data);
  tl::expected<std::string, FsError> Derive(const Caller& caller,
                                            const Target& target, NodeCode code,
                                            std::string_view data);
  tl::expected<std::string, FsError> Create(const Caller& caller,
                                            std::string_view data);
  tl::expected<std::string, FsError> Link(const Caller& caller,
                                          std::string_view data);
  tl::expected<std::string, FsError> Install(const Caller& caller,
                                             const Target& process,
                                             std::string_view data);
  tl::expected<std::string, FsError> Tags(const Caller& caller,
                                          const Target& target,
                                          std::string_view data);

  Registry& registry_;
  LuidAllocator& ids_;
  const Clock& clock_;
  const CapabilityNames& capability_names_;
  const Sid* domain_;
  Resolver& resolver_;
  RequestAuthorizer& authorizer_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_WRITE_COMMANDS_H_
