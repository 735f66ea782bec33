// Resolver: who sent a request and which token it is about.
//
// Models the first step of every request: the kernel's context (pid, uid,
// gid) becomes a Caller (the caller's thread, process incarnation and
// tokens), and a node of the tree becomes a Target (the token object it is
// about, and for a process or thread its Linux credentials). Both are
// snapshots taken once per request: later steps decide on them and never
// look the caller or the target up again. The resolver also builds step 1 of
// authorization (core Inspection) for a caller looking at a process.
//
// Invariant: a resolved Caller or Target always has its token objects and
// token snapshots set; a process that is gone is refused (ESRCH for a
// target, EACCES for a caller), never replaced by another process that
// reused its pid.
//
// Thread-safety: safe to call from any thread (the registry and process
// facts are internally synchronized; the resolver has no state of its own).
//
// Ownership: borrows the registry, the process facts and the event feed;
// they must outlive it. Callers and Targets hold shared references to the
// tokens they name.
#ifndef TOKENFS_TOKENFS_RESOLVE_H_
#define TOKENFS_TOKENFS_RESOLVE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "core/authorization.h"
#include "core/commands.h"
#include "core/registry.h"
#include "tokenfs/event_sync.h"
#include "tokenfs/fs_error.h"
#include "tokenfs/process_facts.h"
#include "tokenfs/tree.h"

namespace tokenfs {

// Who sent a request, as the kernel reports it (fuse_req_ctx).
struct RequestContext {
  int32_t pid = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// Who sent a request.
struct Caller {
  int32_t tid = 0;
  ProcessKey process;
  uint32_t uid = 0;
  uint32_t gid = 0;
  TokenObjectPtr primary_object;
  TokenObjectPtr effective_object;
  std::shared_ptr<const Token> primary;
  std::shared_ptr<const Token> effective;

  // The request's one checking token (core CheckingToken): the effective
  // token, or the primary while impersonating at Anonymous or
  // Identification level. Every right, privilege and capability of the
  // request is checked on it.
  const Token& checking() const {
    return tokenfs::CheckingToken(*effective, *primary);
  }
  const TokenObjectPtr& checking_object() const {
    return &checking() == effective.get() ? effective_object : primary_object;
  }
};

// What a token-scope node is about.
struct Target {
  NodeId node;
  TokenObjectPtr object;
  std::shared_ptr<const Token> token;
  std::optional<LinuxCredentials> process_credentials;
  ProcessKey process;       // zero for objects
  TokenObjectPtr primary;   // the process primary (thread scope)
  std::string description;  // "process 42", "thread 43 of process 42"
};

class Resolver {
 public:
  Resolver(Registry& registry, ProcessFacts& facts, EventSync& events,
           std::string mount_point);
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  const std::string& mount_point() const { return mount_point_; }

  // The node `inode` names; ENOENT when it names nothing.
  tl::expected<NodeId, FsError> Decode(uint64_t inode) const;
  // The node's path under the mount point, for messages.
  std::string Describe(const NodeId& node) const;

  // Applies pending process events about the caller, `node`'s process and
  // thread, and `extra` (once per request, before anything is resolved).
  void SyncFor(const RequestContext& context, const NodeId& node,
               int32_t extra = 0);

  tl::expected<Caller, FsError> ResolveCaller(const RequestContext& context);
  tl::expected<Target, FsError> ResolveTarget(const NodeId& node);
  // The token a write names (pid:, pid:/tid, id:, or a path).
  tl::expected<Target, FsError> ResolveReference(
      const TokenReference& reference);
  // The process `pid` a derived object is handed to (the caller must be
  // able to inspect it).
  tl::expected<ProcessKey, FsError> HolderProcess(const Caller& caller,
                                                  int32_t pid);

  // Step 1's facts for `caller` looking at `process` (recorded
  // `credentials`); the probes read /proc lazily. The result refers to
  // `caller` and to this resolver.
  Inspection MakeInspection(const Caller& caller, const ProcessKey& process,
                            const LinuxCredentials& credentials,
                            std::string_view description) const;
  // Step 1 of authorization alone (core InspectionDenial) for `caller`.
  std::optional<std::string> InspectionDenialFor(
      const Caller& caller, const ProcessKey& process,
      const LinuxCredentials& credentials, std::string_view description) const;

 private:
  Registry& registry_;
  ProcessFacts& facts_;
  EventSync& events_;
  const std::string mount_point_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_RESOLVE_H_
