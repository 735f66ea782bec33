#include "core/write_rules.h"

#include "core/access_check.h"
#include "core/authorization.h"
#include "core/capability.h"
#include "core/well_known_sids.h"

namespace tokenfs {

AccessMask TokenFileWriteRight(TokenFile file) {
  switch (file) {
    case TokenFile::kPrivs:
      return access::kTokenAdjustPrivileges;
    case TokenFile::kGroups:
      return access::kTokenAdjustGroups;
    case TokenFile::kOwner:
    case TokenFile::kGroup:
    case TokenFile::kDefaultDacl:
    case TokenFile::kIntegrity:
      return access::kTokenAdjustDefault;
    case TokenFile::kSession:
      return access::kTokenAdjustSessionId;
    case TokenFile::kUser:
    case TokenFile::kCaps:
    case TokenFile::kClaims:
    case TokenFile::kLogon:
    case TokenFile::kSource:
    case TokenFile::kOrigin:
    case TokenFile::kStats:
    case TokenFile::kType:
    case TokenFile::kLevel:
    case TokenFile::kElevation:
    case TokenFile::kRestricted:
    case TokenFile::kSecurity:
    case TokenFile::kAll:
      return AccessMask();
  }
  return AccessMask();
}

bool TokenFileWritable(TokenFile file) {
  return file == TokenFile::kSecurity || !TokenFileWriteRight(file).empty();
}

AccessMask SecurityWriteRight(uint32_t information) {
  AccessMask needed;
  if (information &
      (security_information::kOwner | security_information::kGroup |
       security_information::kLabel)) {
    needed |= access::kWriteOwner;
  }
  if (information & security_information::kDacl) needed |= access::kWriteDac;
  if (information & security_information::kSacl) {
    needed |= access::kAccessSystemSecurity;
  }
  return needed;
}

Result<TokenFileWrite> ParseTokenFileWrite(TokenFile file,
                                           std::string_view text,
                                           const Sid* domain) {
  TokenFileWrite write;
  write.file = file;
  write.right = TokenFileWriteRight(file);
  switch (file) {
    case TokenFile::kPrivs: {
      auto command = ParsePrivilegesCommand(text);
      if (!command) return tl::unexpected(command.error());
      write.command = std::move(*command);
      return write;
    }
    case TokenFile::kGroups: {
      auto command = ParseGroupsCommand(text);
      if (!command) return tl::unexpected(command.error());
      write.command = std::move(*command);
      return write;
    }
    case TokenFile::kOwner:
    case TokenFile::kGroup: {
      auto selector = ParseSidSelector(text);
      if (!selector) return tl::unexpected(selector.error());
      write.command = OwnerWrite{*selector, file == TokenFile::kOwner};
      return write;
    }
    case TokenFile::kDefaultDacl: {
      auto dacl = ParseDefaultDaclCommand(text, domain);
      if (!dacl) return tl::unexpected(dacl.error());
      write.command = DefaultDaclWrite{std::move(*dacl)};
      return write;
    }
    case TokenFile::kIntegrity: {
      auto rid = ParseIntegrityCommand(text);
      if (!rid) return tl::unexpected(rid.error());
      write.command = IntegrityWrite{*rid};
      return write;
    }
    case TokenFile::kSession: {
      auto session = ParseSessionCommand(text);
      if (!session) return tl::unexpected(session.error());
      write.command = SessionWrite{*session};
      return write;
    }
    case TokenFile::kSecurity: {
      auto command = ParseSecurityCommand(text, domain);
      if (!command) return tl::unexpected(command.error());
      write.right = SecurityWriteRight(command->information);
      write.command = std::move(*command);
      return write;
    }
    default:  // the files TokenFileWritable says take no writes
      break;
  }
  return MakeError(ErrorCode::kAccessDenied, "the file is read-only");
}

Result<Token> ApplyTokenFileWrite(const Token& current,
                                  const TokenFileWrite& write,
                                  const Token& checking, LuidAllocator& ids) {
  struct Apply {
    const Token& current;
    const Token& checking;
    LuidAllocator& ids;

    Result<Token> operator()(const PrivilegesCommand& command) const {
      if (command.reset) return ResetPrivileges(current, ids).token;
      auto result = AdjustPrivileges(current, command.changes, ids);
      if (!result) return tl::unexpected(result.error());
      return std::move(result->token);
    }
    Result<Token> operator()(const GroupsCommand& command) const {
      if (command.reset) return ResetGroups(current, ids).token;
      auto result = AdjustGroups(current, command.changes, ids);
      if (!result) return tl::unexpected(result.error());
      return std::move(result->token);
    }
    Result<Token> operator()(const OwnerWrite& command) const {
      auto index = ResolveSidSelector(command.selector, current);
      if (!index) return tl::unexpected(index.error());
      DefaultChange change;
      (command.owner ? change.owner_index : change.primary_group_index) =
          *index;
      return AdjustDefault(current, change, ids);
    }
    Result<Token> operator()(const DefaultDaclWrite& command) const {
      DefaultChange change;
      change.dacl = command.dacl;
      return AdjustDefault(current, change, ids);
    }
    Result<Token> operator()(const IntegrityWrite& command) const {
      return SetIntegrity(current, command.rid, checking, ids);
    }
    Result<Token> operator()(const SessionWrite& command) const {
      return AdjustSession(current, command.session_id, checking, ids);
    }
    Result<Token> operator()(const SecurityCommand& command) const {
      return SetSecurity(current, command.descriptor, command.information,
                         checking);
    }
  };
  return std::visit(Apply{current, checking, ids}, write.command);
}

Result<uint64_t> DecideCreate(const Token& checking) {
  if (!checking.privileges.IsEnabled(privilege::kCreateToken)) {
    return MakeError(ErrorCode::kPrivilegeNotHeld,
                     "creating a token needs SeCreateToken enabled on the "
                     "caller's token");
  }
  if (!HasCapability(checking.capabilities, tree_capability::kCreate)) {
    return MakeError(ErrorCode::kAccessDenied,
                     "the caller's token lacks the capability '" +
                         std::string(tree_capability::kCreate) + "'");
  }
  return privilege::Bit(privilege::kCreateToken);
}

Status MayInstallPrimary(const Token& checking) {
  if (!checking.privileges.IsEnabled(privilege::kAssignPrimaryToken)) {
    return MakeError(ErrorCode::kPrivilegeNotHeld,
                     "installing a primary token needs SeAssignPrimaryToken "
                     "enabled on the caller's token");
  }
  return Ok();
}

Result<uint64_t> DecideInstall(const Token& checking, const Token& candidate,
                               const Token& current) {
  if (auto allowed = MayInstallPrimary(checking); !allowed) {
    return tl::unexpected(allowed.error());
  }
  if (candidate.type != TokenType::kPrimary) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "it is an impersonation token; install needs a primary "
                     "token (duplicate it with type=primary)");
  }
  uint64_t used = privilege::Bit(privilege::kAssignPrimaryToken);
  const bool other_identity = !(candidate.user == current.user) ||
                              !(candidate.auth_id == current.auth_id);
  if (other_identity) {
    if (!checking.privileges.IsEnabled(privilege::kTcb)) {
      return MakeError(ErrorCode::kPrivilegeNotHeld,
                       "it has another user or logon session; installing it "
                       "also needs SeTcb");
    }
    used |= privilege::Bit(privilege::kTcb);
  }
  return used;
}

Status DecideDuplicateAccess(const Token& checking, const Token& duplicate,
                             AccessMask access) {
  if (access.empty()) return Ok();
  Token labelled = duplicate;
  LabelTokenSecurity(labelled);
  AccessRequest check;
  check.desired = access;
  check.want_trace = false;
  const AccessCheckResult granted =
      AccessCheck(checking, labelled.security, check);
  if (!granted.granted_ok()) {
    return MakeError(ErrorCode::kAccessDenied,
                     "the duplicate would not grant the caller " +
                         FormatTokenRights(access) + ": " + granted.reason);
  }
  return Ok();
}

void GrantOwnRestrictedUse(Token& restricted, const Sid& creator) {
  if (!(creator == restricted.user) || !restricted.security.dacl) return;
  const AccessMask use = access::kTokenQuery | access::kTokenDuplicate |
                         access::kTokenImpersonate |
                         access::kTokenAssignPrimary;
  for (Ace& ace : restricted.security.dacl->aces.Mutable()) {
    if (ace.type == AceType::kAccessAllowed && ace.sid == restricted.user) {
      ace.mask |= use;
      return;
    }
  }
  restricted.security.dacl->aces.insert(restricted.security.dacl->aces.begin(),
                                        Ace{.type = AceType::kAccessAllowed,
                                            .mask = use,
                                            .sid = restricted.user});
}

Status DecideUnsharedPrimary(int32_t primary_of) {
  if (primary_of == 0) return Ok();
  return MakeError(ErrorCode::kBusy,
                   "is already the primary token of process " +
                       std::to_string(primary_of) +
                       " (a token is primary for one process; duplicate it)");
}

Status DecideWriteThroughOpener(const WriterIdentity& opener,
                                const WriterIdentity& writer) {
  if (writer.uid == opener.uid && writer.gid == opener.gid &&
      writer.user == opener.user &&
      writer.integrity_rid == opener.integrity_rid) {
    return Ok();
  }
  return MakeError(ErrorCode::kPrivilegeNotHeld,
                   "the file was opened by another identity (uid " +
                       std::to_string(opener.uid) + ", " +
                       opener.user.ToString() + ")");
}

Status DecideManageObject(const Token& checking, uint32_t caller_uid,
                          uint32_t creator_uid) {
  if (checking.user == well_known::LocalSystem()) return Ok();
  if (caller_uid != creator_uid) {
    return MakeError(ErrorCode::kAccessDenied,
                     "only the creator (uid " + std::to_string(creator_uid) +
                         ") or SYSTEM may manage it; caller uid " +
                         std::to_string(caller_uid));
  }
  if (!HasCapability(checking.capabilities, tree_capability::kRevoke)) {
    return MakeError(ErrorCode::kAccessDenied,
                     "the caller's token lacks the capability '" +
                         std::string(tree_capability::kRevoke) + "'");
  }
  return Ok();
}

Status DecideAdoptAtExec(const ImpersonationDecision& decision,
                         const Token& client, const Token& server_primary) {
  if (decision.level >= ImpersonationLevel::kImpersonation ||
      IsNoLooserThan(client, server_primary)) {
    return Ok();
  }
  return MakeError(ErrorCode::kPrivilegeNotHeld,
                   "it may only be impersonated at " +
                       std::string(ImpersonationLevelName(decision.level)) +
                       " level (" + decision.reason + ")");
}

}  // namespace tokenfs
