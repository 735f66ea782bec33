#include "tokenfs/linked_copies.h"

#include "core/privilege.h"
#include "core/token_operations.h"

namespace tokenfs {

LinkedCopies::LinkedCopies(Registry& registry, LuidAllocator& ids,
                           Resolver& resolver, RequestAuthorizer& authorizer)
    : registry_(registry),
      ids_(ids),
      resolver_(resolver),
      authorizer_(authorizer) {}

tl::expected<std::string, FsError> LinkedCopies::Resolve(const Caller& caller,
                                                         const Target& target,
                                                         const NodeId& node) {
  auto allowed = authorizer_.Authorize(caller, target, access::kTokenQuery, {},
                                       "read the linked token of");
  if (!allowed) return tl::unexpected(allowed.error());
  TokenObjectPtr partner = target.object->LinkedPartner();
  if (!partner) {
    return tl::unexpected(
        Fail(ErrorCode::kNotFound,
             resolver_.Describe(target.node) + " has no linked token"));
  }
  // Relative to the directory holding `linked`: /tokens/P, /tokens/P/T or
  // /tokens/objects/N.
  const std::string up = node.scope == Scope::kThread   ? "../../objects/"
                         : node.scope == Scope::kObject ? "../"
                                                        : "../objects/";
  const Token& checker = caller.checking();
  auto view = LinkedToken(*partner->Get(), checker, ids_);
  if (!view) {
    return tl::unexpected(
        Refuse(view.error(), resolver_.Describe(target.node)));
  }
  if (!view->is_copy) {
    // With SeTcb: the partner itself.
    caller.checking_object()->MarkPrivilegesUsed(
        privilege::Bit(privilege::kTcb));
    if (!registry_.FindObject(partner->id())) {
      registry_.AddExistingObject(partner, caller.process, caller.uid);
    }
    return up + std::to_string(partner->id().value);
  }
  // Without SeTcb: an Identification-level copy, one per caller process.
  const Key key{caller.process.pid, caller.process.start_time,
                caller.process.instance, partner->id().value};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = copies_.find(key);
    if (it != copies_.end() && registry_.FindObject(Luid{it->second})) {
      return up + std::to_string(it->second);
    }
  }
  auto copy = registry_.AddObject(std::move(view->token), caller.process,
                                  caller.uid, false, caller.gid);
  if (!copy) {
    return tl::unexpected(
        Refuse(copy.error(), resolver_.Describe(target.node)));
  }
  const uint64_t id = (*copy)->id().value;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = copies_.begin(); it != copies_.end();) {
    if (!registry_.FindObject(Luid{it->second})) {
      it = copies_.erase(it);
    } else {
      ++it;
    }
  }
  copies_[key] = id;
  return up + std::to_string(id);
}

}  // namespace tokenfs
