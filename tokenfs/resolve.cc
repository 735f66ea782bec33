#include "tokenfs/resolve.h"

#include <utility>

namespace tokenfs {

Resolver::Resolver(Registry& registry, ProcessFacts& facts, EventSync& events,
                   std::string mount_point)
    : registry_(registry),
      facts_(facts),
      events_(events),
      mount_point_(std::move(mount_point)) {}

tl::expected<NodeId, FsError> Resolver::Decode(uint64_t inode) const {
  auto node = DecodeInode(inode);
  if (!node) {
    return tl::unexpected(
        Fail(ErrorCode::kNotFound,
             "inode " + std::to_string(inode) + " names nothing"));
  }
  return *node;
}

std::string Resolver::Describe(const NodeId& node) const {
  std::string path = mount_point_;
  switch (node.scope) {
    case Scope::kRoot:
      break;
    case Scope::kProcess:
      path += "/" + std::to_string(node.pid);
      break;
    case Scope::kThread:
      path += "/" + std::to_string(node.pid) + "/" + std::to_string(node.tid);
      break;
    case Scope::kObject:
      path += "/objects/" + std::to_string(node.object);
      break;
  }
  // Code 0 is the scope's own directory (the root, a token directory).
  if (node.code == 0) return path;
  if (const TreeEntry* entry = EntryForNode(node)) {
    if (node.is_token_scope() && IsQueryFileCode(node.code)) {
      path += "/query";
    }
    path += "/";
    path += entry->name;
  }
  return path;
}

void Resolver::SyncFor(const RequestContext& context, const NodeId& node,
                       int32_t extra) {
  const int32_t caller = context.pid;
  events_.Sync(
      {caller, registry_.CachedProcessOf(caller), node.pid, node.tid, extra});
}

tl::expected<Caller, FsError> Resolver::ResolveCaller(
    const RequestContext& context) {
  if (context.pid <= 0) {
    return tl::unexpected(
        Fail(ErrorCode::kAccessDenied,
             "caller outside the daemon's pid namespace (pid 0) refused"));
  }
  auto task = registry_.Task(context.pid);
  if (!task) {
    return tl::unexpected(
        Fail(ErrorCode::kAccessDenied,
             "caller " + std::to_string(context.pid) +
                 " could not be identified: " + task.error().message));
  }
  Caller caller;
  caller.tid = context.pid;
  caller.process = task->process;
  caller.uid = context.uid;
  caller.gid = context.gid;
  caller.primary_object = task->primary;
  caller.effective_object = task->effective();
  caller.primary = caller.primary_object->Get();
  caller.effective = caller.effective_object->Get();
  return caller;
}

tl::expected<Target, FsError> Resolver::ResolveTarget(const NodeId& node) {
  Target target;
  target.node = node;
  switch (node.scope) {
    case Scope::kRoot:
      return tl::unexpected(Fail(ErrorCode::kNotFound, "not a token node"));
    case Scope::kProcess: {
      auto process = registry_.Process(node.pid);
      if (!process) return tl::unexpected(TargetError(process.error()));
      target.object = process->primary;
      target.primary = process->primary;
      target.process = process->key;
      target.process_credentials = process->credentials;
      target.description = "process " + std::to_string(node.pid);
      break;
    }
    case Scope::kThread: {
      auto thread = registry_.Thread(node.pid, node.tid);
      if (!thread) return tl::unexpected(TargetError(thread.error()));
      auto process = registry_.Process(node.pid);
      if (!process) return tl::unexpected(TargetError(process.error()));
      target.object = thread->effective();
      target.primary = thread->primary;
      target.process = thread->process;
      target.process_credentials = process->credentials;
      target.description = "thread " + std::to_string(node.tid) +
                           " of process " + std::to_string(node.pid);
      break;
    }
    case Scope::kObject: {
      auto object = registry_.FindObject(Luid{node.object});
      if (!object) {
        return tl::unexpected(
            Fail(ErrorCode::kNotFound, object.error().message));
      }
      target.object = *object;
      target.description = "token object " + std::to_string(node.object);
      break;
    }
  }
  target.token = target.object->Get();
  return target;
}

tl::expected<Target, FsError> Resolver::ResolveReference(
    const TokenReference& reference) {
  NodeId node;
  switch (reference.kind) {
    case TokenReference::Kind::kProcess:
      node = NodeId{Scope::kProcess, 0, reference.pid};
      break;
    case TokenReference::Kind::kThread:
      node = NodeId{Scope::kThread, 0, reference.pid, reference.tid};
      break;
    case TokenReference::Kind::kObject:
      node = NodeId{Scope::kObject, 0, 0, 0, reference.object_id};
      break;
  }
  events_.Sync({node.pid, node.tid});
  return ResolveTarget(node);
}

tl::expected<ProcessKey, FsError> Resolver::HolderProcess(const Caller& caller,
                                                          int32_t pid) {
  events_.Sync({pid});
  auto process = registry_.Process(pid);
  if (!process) return tl::unexpected(TargetError(process.error()));
  if (auto denial =
          InspectionDenialFor(caller, process->key, process->credentials,
                              "process " + std::to_string(pid))) {
    return tl::unexpected(Fail(ErrorCode::kAccessDenied, "holder: " + *denial));
  }
  return process->key;
}

Inspection Resolver::MakeInspection(const Caller& caller,
                                    const ProcessKey& process,
                                    const LinuxCredentials& credentials,
                                    std::string_view description) const {
  Inspection inspection;
  inspection.caller_fsuid = caller.uid;
  inspection.caller_fsgid = caller.gid;
  inspection.same_process = caller.process == process;
  // The probes refer to `caller` and to this object, which outlive the
  // request's decision; small captures keep std::function off the heap on
  // every open.
  inspection.caller_credentials =
      [this, &caller]() -> std::optional<LinuxCredentials> {
    auto current = facts_.CurrentCapabilities(caller.tid, caller.process);
    if (!current) return std::nullopt;
    // The namespace-owner rule compares with the euid; the request's fsuid
    // stands in for it.
    current->effective_uid = caller.uid;
    return *current;
  };
  inspection.target = credentials;
  const int32_t pid = process.pid;
  inspection.target_state = [this, pid] { return facts_.CurrentState(pid); };
  inspection.description = description;
  return inspection;
}

std::optional<std::string> Resolver::InspectionDenialFor(
    const Caller& caller, const ProcessKey& process,
    const LinuxCredentials& credentials, std::string_view description) const {
  return InspectionDenial(
      MakeInspection(caller, process, credentials, description));
}

}  // namespace tokenfs
