#include "tokenfs/linked_copies.h"

#include <optional>

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
  // Without SeTcb: a new Identification-level copy on every fetch, as each
  // TokenLinkedToken query returns a new token object on Windows; it is
  // held for the caller's process like any object it derived.
  auto copy = registry_.AddObject(std::move(view->token), caller.process,
                                  caller.uid, false, caller.gid);
  if (!copy) {
    return tl::unexpected(
        Refuse(copy.error(), resolver_.Describe(target.node)));
  }
  const uint64_t id = (*copy)->id().value;
  // Windows frees a copy when its handle closes; here nothing closes, so a
  // process keeps its two latest copies (a readlink and the path walk that
  // follows it read the link twice) and older ones leave the object table
  // (a holder keeps its reference) unless something was derived from them:
  // reading `linked` in a loop cannot grow the table.
  const Key key{caller.process.pid, caller.process.start_time,
                caller.process.instance, partner->id().value};
  std::optional<uint64_t> oldest;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto entry = copies_.begin(); entry != copies_.end();) {
      if (!registry_.FindObject(Luid{entry->second.latest})) {
        entry = copies_.erase(entry);
      } else {
        ++entry;
      }
    }
    Latest& latest = copies_[key];
    if (latest.before != 0) oldest = latest.before;
    latest.before = latest.latest;
    latest.latest = id;
  }
  if (oldest && registry_.FindObject(Luid{*oldest}) &&
      registry_.ObjectChildren(Luid{*oldest}).empty()) {
    (void)registry_.RemoveObject(Luid{*oldest});
  }
  return up + std::to_string(id);
}

}  // namespace tokenfs
