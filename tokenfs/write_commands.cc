#include "tokenfs/write_commands.h"

#include <cstdint>
#include <optional>
#include <span>

#include "core/access_check.h"
#include "core/authorization.h"
#include "core/commands.h"
#include "core/token_operations.h"
#include "core/tag.h"
#include "core/token_spec.h"
#include "core/write_rules.h"
#include "tokenfs/render.h"

namespace tokenfs {

WriteCommands::WriteCommands(Registry& registry, LuidAllocator& ids,
                             const Clock& clock,
                             const CapabilityNames& capability_names,
                             Resolver& resolver, RequestAuthorizer& authorizer,
                             const Sid* domain)
    : registry_(registry),
      ids_(ids),
      clock_(clock),
      capability_names_(capability_names),
      domain_(domain),
      resolver_(resolver),
      authorizer_(authorizer) {}

namespace {

// An event `caller` caused, with its pid and the user SID of its checking
// token.
HistoryEvent CallerEvent(const Caller& caller, HistoryKind kind,
                         uint64_t other = 0, std::string operation = {}) {
  HistoryEvent event;
  event.kind = kind;
  event.actor_pid = caller.process.pid;
  event.actor_user = caller.checking().user.ToString();
  event.token = other;
  event.operation = std::move(operation);
  return event;
}

}  // namespace

tl::expected<std::string, FsError> WriteCommands::Apply(
    const NodeId& node, const ProcessKey& opened_on, const Caller& caller,
    std::string_view data) {
  if (node.scope == Scope::kRoot) {
    if (node.code == CodeOf(NodeCode::kCreateFile)) {
      return Create(caller, data);
    }
    if (node.code == CodeOf(NodeCode::kLinkFile)) {
      return Link(caller, data);
    }
    return tl::unexpected(Fail(ErrorCode::kAccessDenied,
                               resolver_.Describe(node) + " is read-only"));
  }
  auto target = resolver_.ResolveTarget(node);
  if (!target) return tl::unexpected(target.error());
  if (!(target->process == opened_on)) {
    return tl::unexpected(
        Fail(ErrorCode::kProcessGone,
             resolver_.Describe(node) +
                 ": the process this file was opened on has "
                 "exited (its pid now names another process)"));
  }
  const uint8_t code = node.code;
  if (const std::optional<TokenFile> text_file = TextFileOf(code)) {
    return TokenFileWrite(caller, *target, *text_file, data);
  }
  switch (static_cast<NodeCode>(code)) {
    case NodeCode::kImpersonateFile:
      return Impersonate(caller, *target, data);
    case NodeCode::kAccessFile:
      return Access(caller, *target, data);
    case NodeCode::kDuplicateFile:
    case NodeCode::kRestrictFile:
      return Derive(caller, *target, static_cast<NodeCode>(code), data);
    case NodeCode::kPersistFile:
      return Persist(caller, *target, data);
    case NodeCode::kInstallFile:
      return Install(caller, *target, data);
    case NodeCode::kTagsFile:
      return Tags(caller, *target, data);
    default:
      return tl::unexpected(Fail(ErrorCode::kAccessDenied,
                                 resolver_.Describe(node) + " is read-only"));
  }
}

tl::expected<std::string, FsError> WriteCommands::TokenFileWrite(
    const Caller& caller, const Target& target, TokenFile text_file,
    std::string_view data) {
  const std::string where = resolver_.Describe(target.node);
  auto write = ParseTokenFileWrite(text_file, data, domain_);
  if (!write) return tl::unexpected(Refuse(write.error(), where));
  auto allowed =
      authorizer_.Authorize(caller, target, write->right, {}, "write");
  if (!allowed) return tl::unexpected(allowed.error());
  const Token& checking = caller.checking();
  // The file's text before and after, for the token's history (plain SIDs:
  // no account lookups on the write path).
  const RenderOptions plain;
  HistoryEvent event = CallerEvent(caller, HistoryKind::kAdjusted);
  event.file = TokenFileName(text_file);
  auto updated = target.object->Update([&](const Token& token) {
    if (target.object->history_limit() != 0) {
      event.before = RenderTokenFile(token, text_file, plain);
    }
    return tokenfs::ApplyTokenFileWrite(token, *write, checking, ids_);
  });
  if (!updated) return tl::unexpected(Refuse(updated.error(), where));
  if (target.object->history_limit() != 0) {
    event.after = RenderTokenFile(**updated, text_file, plain);
    // A write that leaves the file as it was (enabling what is enabled)
    // changed nothing a reader of the history could see.
    if (event.after != event.before) target.object->Record(std::move(event));
  }
  return std::string("ok\n");
}

tl::expected<std::string, FsError> WriteCommands::Impersonate(
    const Caller& caller, const Target& thread, std::string_view data) {
  const std::string where = resolver_.Describe(thread.node);
  auto command = ParseImpersonateCommand(data, resolver_.mount_point());
  if (!command) return tl::unexpected(Refuse(command.error(), where));
  // Changing a thread's token needs the Linux right over its process.
  if (auto denial = resolver_.InspectionDenialFor(caller, thread.process,
                                                  *thread.process_credentials,
                                                  thread.description)) {
    return tl::unexpected(Fail(ErrorCode::kAccessDenied,
                               "impersonate " + where + ": " + *denial));
  }
  if (command->revert) {
    const TokenObjectPtr was =
        thread.object != thread.primary ? thread.object : nullptr;
    auto reverted = registry_.Revert(thread.node.pid, thread.node.tid);
    if (!reverted) return tl::unexpected(Refuse(reverted.error(), where));
    if (was) {
      was->Record(CallerEvent(caller, HistoryKind::kReverted, 0,
                              thread.description));
    }
    return std::string("reverted\n");
  }
  auto resolved = resolver_.ResolveReference(command->target);
  if (!resolved) return tl::unexpected(resolved.error());
  const Target& client = *resolved;
  auto allowed =
      authorizer_.Authorize(caller, client, kImpersonateRight,
                            tree_capability::kImpersonate, "impersonate");
  if (!allowed) return tl::unexpected(allowed.error());
  // The gates are evaluated against the primary token of the process whose
  // thread will impersonate.
  const std::shared_ptr<const Token> server = thread.primary->Get();
  auto decision = CheckImpersonation(*server, *client.token, command->level);
  if (!decision) return tl::unexpected(Refuse(decision.error(), where));
  if (command->adopt_at_exec) {
    if (auto adopt = DecideAdoptAtExec(*decision, *client.token, *server);
        !adopt) {
      return tl::unexpected(Refuse(
          adopt.error(), "cannot run a command under " + client.description));
    }
  }
  const Sid& creator = caller.checking().user;
  TokenObjectPtr impersonation;
  if (client.token->type == TokenType::kImpersonation &&
      client.token->impersonation_level == decision->level) {
    impersonation = client.object;
  } else {
    auto copy =
        MakeImpersonationToken(*client.token, decision->level, creator, ids_);
    if (!copy) return tl::unexpected(Refuse(copy.error(), where));
    impersonation = registry_.NewObject(std::move(*copy));
  }
  TokenObjectPtr adopt;
  if (command->adopt_at_exec) {
    DuplicateRequest primary_request;
    primary_request.type = TokenType::kPrimary;
    auto primary = Duplicate(*client.token, primary_request, creator, ids_);
    if (!primary) return tl::unexpected(Refuse(primary.error(), where));
    adopt = registry_.NewObject(std::move(*primary));
  }
  auto done = registry_.Impersonate(thread.node.pid, thread.node.tid,
                                    impersonation, adopt);
  if (!done) return tl::unexpected(Refuse(done.error(), where));
  client.object->Record(CallerEvent(caller, HistoryKind::kImpersonated,
                                    impersonation->id().value,
                                    thread.description));
  if (impersonation != client.object) {
    impersonation->Record(CallerEvent(caller, HistoryKind::kMinted,
                                      client.object->id().value,
                                      "impersonate"));
  }
  std::string text = TextLine("impersonating", client.description);
  text += TextLine("level", ImpersonationLevelName(decision->level));
  if (decision->capped) text += TextLine("capped", decision->reason);
  if (adopt) text += TextLine("at_exec", "primary token");
  return text;
}

tl::expected<std::string, FsError> WriteCommands::Access(
    const Caller& caller, const Target& target, std::string_view data) {
  auto allowed = authorizer_.Authorize(
      caller, target, access::kTokenQuery,
      QueryCapabilityFor(*caller.effective, *caller.primary, *target.token),
      "access check with");
  if (!allowed) return tl::unexpected(allowed.error());
  const std::string where = resolver_.Describe(target.node);
  auto command = ParseAccessCommand(data, domain_);
  if (!command) return tl::unexpected(Refuse(command.error(), where));
  const SecurityDescriptor& sd =
      command->descriptor ? *command->descriptor : target.token->security;
  AccessRequest request;
  request.desired = command->desired;
  request.mapping = command->mapping;
  request.intent = command->intent;
  request.principal_self = command->principal_self;
  if (command->user_claims) request.user_claims = &*command->user_claims;
  if (command->device_claims) request.device_claims = &*command->device_claims;
  const AccessCheckResult result = AccessCheck(*target.token, sd, request);
  if (result.privileges_used) {
    target.object->MarkPrivilegesUsed(result.privileges_used);
  }
  return RenderAccessResult(result, *command, sd,
                            command->domain ? &*command->domain : domain_);
}

tl::expected<std::string, FsError> WriteCommands::Derive(
    const Caller& caller, const Target& target, NodeCode code,
    std::string_view data) {
  const std::string where = resolver_.Describe(target.node);
  auto allowed =
      authorizer_.Authorize(caller, target, kDeriveRight,
                            tree_capability::kCreate, "derive a token from");
  if (!allowed) return tl::unexpected(allowed.error());
  const Sid& creator = caller.checking().user;
  Token derived;
  bool persist = false;
  std::optional<int32_t> holder;
  std::string notes;
  if (code == NodeCode::kDuplicateFile) {
    auto command = ParseDuplicateCommand(data);
    if (!command) return tl::unexpected(Refuse(command.error(), where));
    auto result = Duplicate(*target.token, command->request, creator, ids_);
    if (!result) return tl::unexpected(Refuse(result.error(), where));
    if (auto granted =
            DecideDuplicateAccess(caller.checking(), *result, command->access);
        !granted) {
      return tl::unexpected(Refuse(granted.error(), where));
    }
    derived = std::move(*result);
    persist = command->persist;
    holder = command->holder;
  } else {
    auto command = ParseRestrictCommand(data);
    if (!command) return tl::unexpected(Refuse(command.error(), where));
    auto result = Restrict(*target.token, command->request, creator, ids_);
    if (!result) return tl::unexpected(Refuse(result.error(), where));
    derived = std::move(result->token);
    persist = command->persist;
    holder = command->holder;
    GrantOwnRestrictedUse(derived, creator);
    for (const std::string& name : result->narrowed_capabilities) {
      notes += TextLine("narrowed", name);
    }
    for (const std::string& name : result->dropped_capabilities) {
      notes += TextLine("dropped", name);
    }
  }
  ProcessKey keeper = caller.process;
  if (holder) {
    auto kept_by = resolver_.HolderProcess(caller, *holder);
    if (!kept_by) return tl::unexpected(kept_by.error());
    keeper = *kept_by;
  }
  auto object = registry_.AddObject(
      std::move(derived), keeper, caller.uid, persist, caller.gid,
      Registry::Derivation{target.token->token_id,
                           code == NodeCode::kDuplicateFile ? "duplicate"
                                                            : "restrict"});
  if (!object) return tl::unexpected(Refuse(object.error(), where));
  const std::string operation =
      code == NodeCode::kDuplicateFile ? "duplicate" : "restrict";
  target.object->Record(CallerEvent(caller, HistoryKind::kDerived,
                                    (*object)->id().value, operation));
  (*object)->Record(CallerEvent(caller, HistoryKind::kMinted,
                                target.object->id().value, operation));
  const std::string id = std::to_string((*object)->id().value);
  return TextLine("id", id) +
         TextLine("path", resolver_.mount_point() + "/objects/" + id) + notes;
}

tl::expected<std::string, FsError> WriteCommands::Create(
    const Caller& caller, std::string_view data) {
  const std::string where = resolver_.mount_point() + "/create";
  auto used = DecideCreate(caller.checking());
  if (!used) {
    return tl::unexpected(
        Refuse(used.error(),
               where + " (pid " + std::to_string(caller.process.pid) + ")"));
  }
  caller.checking_object()->MarkPrivilegesUsed(*used);
  auto spec = DecodeTokenSpec(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  if (!spec) {
    // A spec over the size limit is refused like an oversized write.
    if (spec.error().code == ErrorCode::kResourceExhausted) {
      return tl::unexpected(
          Fail(ErrorCode::kTooLarge, where + ": " + spec.error().message));
    }
    return tl::unexpected(Refuse(spec.error(), where));
  }
  const std::optional<LogonType> logon_type =
      registry_.SessionLogonType(spec->session_id);
  if (!logon_type) {
    return tl::unexpected(Fail(
        ErrorCode::kInvalidArgument,
        where + ": token spec: session_id " + FormatLuid(spec->session_id) +
            " names no logon session tokenfs knows (use the session "
            "of an existing token, e.g. its stats authentication_id)"));
  }
  SpecBuildContext context{ids_, clock_, caller.checking().user,
                           &capability_names_, *logon_type};
  auto token = BuildTokenFromSpec(*spec, context);
  if (!token) return tl::unexpected(Refuse(token.error(), where));
  auto object = registry_.AddObject(std::move(*token), caller.process,
                                    caller.uid, false, caller.gid);
  if (!object) return tl::unexpected(Refuse(object.error(), where));
  (*object)->Record(CallerEvent(caller, HistoryKind::kMinted, 0, "create"));
  const std::string id = std::to_string((*object)->id().value);
  return TextLine("id", id) +
         TextLine("path", resolver_.mount_point() + "/objects/" + id);
}

tl::expected<std::string, FsError> WriteCommands::Persist(
    const Caller& caller, const Target& target, std::string_view data) {
  const std::string where = target.object
                                ? resolver_.Describe(target.node)
                                : resolver_.mount_point() + "/objects";
  if (!target.object) {
    return tl::unexpected(
        Fail(ErrorCode::kNotFound, where + ": no such token object"));
  }
  auto info = registry_.ObjectDetails(Luid{target.node.object});
  if (!info) return tl::unexpected(Refuse(info.error(), where));
  if (auto managed =
          DecideManageObject(caller.checking(), caller.uid, info->creator_uid);
      !managed) {
    return tl::unexpected(Refuse(managed.error(), where));
  }
  auto items = SplitCommandItems(data);
  if (!items || items->size() != 1) {
    return tl::unexpected(Fail(ErrorCode::kInvalidArgument,
                               where + ": expected yes, no or revoke"));
  }
  const std::string& word = (*items)[0];
  if (word == "revoke") {
    const HistoryEvent why = CallerEvent(caller, HistoryKind::kRevoked);
    auto removed = registry_.RemoveObject(Luid{target.node.object}, &why);
    if (!removed) return tl::unexpected(Refuse(removed.error(), where));
    // The first id is the object itself; the rest its subtree.
    std::string text = "revoked\n";
    for (size_t i = 1; i < removed->size(); ++i) {
      text += TextLine("subtoken", std::to_string((*removed)[i].value));
    }
    return text;
  }
  if (word.rfind("holder=", 0) == 0) {
    auto pid = ParseHolder(std::string_view(word).substr(7));
    if (!pid) return tl::unexpected(Refuse(pid.error(), where));
    auto holder = resolver_.HolderProcess(caller, *pid);
    if (!holder) return tl::unexpected(holder.error());
    auto set = registry_.SetHolder(Luid{target.node.object}, *holder);
    if (!set) return tl::unexpected(Refuse(set.error(), where));
    return TextLine("holder", "pid:" + std::to_string(*pid));
  }
  if (word == "yes" || word == "no") {
    auto set = registry_.SetPersist(Luid{target.node.object}, word == "yes");
    if (!set) return tl::unexpected(Refuse(set.error(), where));
    if (word == "no") registry_.ReleaseUnused();
    return TextLine("persist", word);
  }
  return tl::unexpected(
      Fail(ErrorCode::kInvalidArgument,
           where + ": expected yes, no or revoke, got '" + word + "'"));
}

tl::expected<std::string, FsError> WriteCommands::Tags(
    const Caller& caller, const Target& target, std::string_view data) {
  const std::string where = resolver_.Describe(target.node);
  auto command = ParseTagCommand(data);
  if (!command) return tl::unexpected(Refuse(command.error(), where));
  auto allowed = authorizer_.Authorize(
      caller, target, access::kTokenAdjustDefault,
      CapabilityFor(TreeAction::kChangeTags, *caller.effective,
                    *caller.primary, *target.token),
      "change the tags of");
  if (!allowed) return tl::unexpected(allowed.error());
  auto tags = registry_.UpdateTags(
      Luid{target.node.object}, [&](const std::vector<std::string>& held) {
        return ApplyTagCommand(held, *command);
      });
  if (!tags) return tl::unexpected(Refuse(tags.error(), where));
  return RenderTags(*tags);
}

tl::expected<std::string, FsError> WriteCommands::Link(const Caller& caller,
                                                       std::string_view data) {
  const std::string where = resolver_.mount_point() + "/link";
  auto command = ParseLinkCommand(data, resolver_.mount_point());
  if (!command) return tl::unexpected(Refuse(command.error(), where));
  auto elevated = resolver_.ResolveReference(command->elevated);
  if (!elevated) return tl::unexpected(elevated.error());
  auto filtered = resolver_.ResolveReference(command->filtered);
  if (!filtered) return tl::unexpected(filtered.error());
  for (const Target* half : {&*elevated, &*filtered}) {
    auto allowed = authorizer_.Authorize(caller, *half, kLinkRight, {}, "link");
    if (!allowed) return tl::unexpected(allowed.error());
  }
  auto pair = LinkTokens(*elevated->token, *filtered->token,
                         Luid{command->session}, caller.checking());
  if (!pair) return tl::unexpected(Refuse(pair.error(), where));
  auto set_role = [](const TokenObjectPtr& object, ElevationType role) {
    return object->Update([role](const Token& token) -> Result<Token> {
      Token copy = token;
      copy.elevation_type = role;
      return copy;
    });
  };
  if (!set_role(elevated->object, ElevationType::kFull) ||
      !set_role(filtered->object, ElevationType::kLimited)) {
    return tl::unexpected(
        Fail(ErrorCode::kInternal, where + ": could not record the roles"));
  }
  filtered->object->LinkOwning(elevated->object);
  elevated->object->LinkWeak(filtered->object);
  filtered->object->Record(CallerEvent(caller, HistoryKind::kLinked,
                                       elevated->object->id().value, "full"));
  elevated->object->Record(CallerEvent(caller, HistoryKind::kLinked,
                                       filtered->object->id().value,
                                       "limited"));
  return std::string("linked\n");
}

tl::expected<std::string, FsError> WriteCommands::Install(
    const Caller& caller, const Target& process, std::string_view data) {
  const std::string where = resolver_.Describe(process.node);
  auto reference = ParseInstallCommand(data, resolver_.mount_point());
  if (!reference) return tl::unexpected(Refuse(reference.error(), where));
  const Token& checking = caller.checking();
  if (auto may = MayInstallPrimary(checking); !may) {
    return tl::unexpected(Refuse(may.error(), where));
  }
  auto resolved = resolver_.ResolveReference(*reference);
  if (!resolved) return tl::unexpected(resolved.error());
  const Target& token = *resolved;
  auto allowed = authorizer_.Authorize(
      caller, token, access::kTokenAssignPrimary, {}, "install");
  if (!allowed) return tl::unexpected(allowed.error());
  auto used = DecideInstall(checking, *token.token, *process.primary->Get());
  if (!used) {
    return tl::unexpected(
        Refuse(used.error(), where + ": " + token.description));
  }
  if (auto unshared = DecideUnsharedPrimary(
          registry_.PrimaryUser(token.object, process.node.pid));
      !unshared) {
    return tl::unexpected(Fail(
        unshared.error().code,
        where + ": " + token.description + " " + unshared.error().message));
  }
  caller.checking_object()->MarkPrivilegesUsed(*used);
  auto installed = registry_.InstallPrimary(process.node.pid, token.object);
  if (!installed) return tl::unexpected(Refuse(installed.error(), where));
  token.object->Record(CallerEvent(caller, HistoryKind::kInstalled, 0,
                                   process.description));
  return TextLine("installed", token.description);
}

}  // namespace tokenfs
