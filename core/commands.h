// Commands: the text written to tokenfs files, parsed into requests.
//
// One write() to a tree file is one command. A command may span several
// lines; items are separated by whitespace (spaces, tabs or newlines), so
// `echo SeDebug=enabled SeBackup=disabled > privs` and
// `printf 'SeDebug=enabled\nSeBackup=disabled\n' > privs` mean the same.
// Parsing checks everything before anything is applied: a command either
// parses completely or returns kInvalidArgument naming the bad item
// ("item 2 'SeFoo=enabled': unknown privilege 'SeFoo'").
//
// Grammar per file (names case-insensitive unless said otherwise):
//   privs         reset | NAME=STATE...   STATE: enabled|disabled|removed;
//                 NAME: SeDebug, SeDebugPrivilege or a bit number
//   groups        reset | INDEX=STATE...  STATE: enabled|disabled
//   owner, group  INDEX | SID             (index into [user, groups...])
//   default-dacl  SDDL DACL ("D:(A;;GA;;;SY)", "(A;;GA;;;SY)") | none
//   integrity     LEVEL (untrusted|low|medium|high|system, RID, S-1-16-N)
//   session       N (decimal u32)
//   security      SDDL security descriptor; the sections present say what
//                 changes (O: owner, G: group, D: DACL, S: SACL and label)
//   impersonate   REF [level=LEVEL] [exec] | revert
//   access        [sd=SDDL] [desired=RIGHTS] [mapping=NAME|GR,GW,GX,GA]
//                 [intent=backup|restore] [self=SID] [domain=SID]
//                 [user-claims=HEX|none] [device-claims=HEX|none] [json]
//                 (claims: hex of a binary claim array, core/claims.h)
//   duplicate     [type=primary|impersonation] [level=LEVEL] [access=RIGHTS]
//                 [persist] [holder=pid:N]
//   install       REF
//   restrict      [drop-privs=MASK|NAMES] [deny=IDX,...] [restrict=SID,...]
//                 [write-restricted] [caps=CAP,...] [tighten] [persist]
//                 [holder=pid:N]
//   persist       yes | no | revoke | holder=pid:N
//   link          elevated=REF filtered=REF session=N
//   tags          add TAG | remove TAG    (one tag, core/tag.h; the verb is
//                 lower case, words are separated by spaces or tabs, and
//                 one trailing newline is allowed)
// Values containing spaces may be double-quoted: sd="D:(A;;GA;;;WD)"; inside
// quotes \" and \\ stand for " and \:
// sd="D:(XA;;FR;;;WD;(@User.x == \"a\"))".
// Token references REF: pid:N, pid:N/TID, id:N, or a path under the mount
// (/tokens/N, /tokens/N/TID, /tokens/objects/N).
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_COMMANDS_H_
#define TOKENFS_CORE_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access_check.h"
#include "core/access_mask.h"
#include "core/acl.h"
#include "core/result.h"
#include "core/security_descriptor.h"
#include "core/sid.h"
#include "core/tag.h"
#include "core/token.h"
#include "core/token_operations.h"

namespace tokenfs {

// Largest command tokenfs accepts in one write (EFBIG beyond).
inline constexpr size_t kMaxCommandSize = 64 * 1024;

struct PrivilegesCommand {
  bool reset = false;
  std::vector<PrivilegeChange> changes;
};
Result<PrivilegesCommand> ParsePrivilegesCommand(std::string_view text);

struct GroupsCommand {
  bool reset = false;
  std::vector<GroupChange> changes;
};
Result<GroupsCommand> ParseGroupsCommand(std::string_view text);

// An index into [user, groups...] or a SID the daemon resolves to one.
struct SidSelector {
  std::optional<uint32_t> index;
  std::optional<Sid> sid;
};
Result<SidSelector> ParseSidSelector(std::string_view text);
// Resolves `selector` against `token`: the index itself, or the index of the
// SID among [user, groups...]; kInvalidArgument when the SID is not there.
Result<uint32_t> ResolveSidSelector(const SidSelector& selector,
                                    const Token& token);

// nullopt = remove the default DACL.
// `domain` (may be null): the machine domain SDDL aliases (DA, LA, ...)
// resolve against, here and in ParseSecurityCommand.
Result<std::optional<Acl>> ParseDefaultDaclCommand(std::string_view text,
                                                   const Sid* domain = nullptr);

Result<uint32_t> ParseIntegrityCommand(std::string_view text);
Result<uint32_t> ParseSessionCommand(std::string_view text);

struct SecurityCommand {
  SecurityDescriptor descriptor;
  uint32_t information = 0;  // security_information::k* of the sections
};
Result<SecurityCommand> ParseSecurityCommand(std::string_view text,
                                             const Sid* domain = nullptr);

// A token named in a write.
struct TokenReference {
  enum class Kind { kProcess, kThread, kObject };
  Kind kind = Kind::kProcess;
  int32_t pid = 0;
  int32_t tid = 0;
  uint64_t object_id = 0;
};
// `mount_point` is the daemon's mount path (e.g. "/tokens"), for path
// references.
Result<TokenReference> ParseTokenReference(std::string_view text,
                                           std::string_view mount_point);
std::string FormatTokenReference(const TokenReference& reference);

struct ImpersonateCommand {
  bool revert = false;
  TokenReference target;
  ImpersonationLevel level = ImpersonationLevel::kImpersonation;
  // Make the token the process's primary at its next exec (impersonate --
  // command).
  bool adopt_at_exec = false;
};
Result<ImpersonateCommand> ParseImpersonateCommand(
    std::string_view text, std::string_view mount_point);

struct AccessCommand {
  std::optional<SecurityDescriptor> descriptor;  // nullopt: the token's own
  std::string sddl;                              // as written, for echoes
  AccessMask desired = access::kMaximumAllowed;
  GenericMapping mapping = kTokenGenericMapping;
  std::string mapping_name = "token";  // ParseGenericMapping's name
  uint32_t intent = privilege_intent::kNone;
  std::optional<Sid> principal_self;
  // domain=: the machine domain SID for this check's aliases, instead of the
  // daemon's.
  std::optional<Sid> domain;
  // Claims the check reads instead of the token's own (nullopt: the
  // token's).
  std::optional<std::vector<Claim>> user_claims;
  std::optional<std::vector<Claim>> device_claims;
  bool json = false;  // answer as one JSON object
};
// `domain` (may be null) is the daemon's machine domain, for the aliases
// (DA, LA, ...) of sd= and self=; a domain= field replaces it.
Result<AccessCommand> ParseAccessCommand(std::string_view text,
                                         const Sid* domain = nullptr);

// Rights for `access`: a number, token right names (QUERY|READ_CONTROL),
// generic names, or SDDL rights letters (GR, FA, RPWP).
Result<AccessMask> ParseRightsExpression(std::string_view text);

struct DuplicateCommand {
  DuplicateRequest request;
  // Rights the caller must hold on the new token (like the desired access of
  // a handle); empty = none asked.
  AccessMask access;
  bool persist = false;
  // The process whose life keeps the new object, instead of the caller's
  // (the CLI acts for the process that ran it).
  std::optional<int32_t> holder;
};
Result<DuplicateCommand> ParseDuplicateCommand(std::string_view text);

struct RestrictCommand {
  RestrictRequest request;
  bool persist = false;
  std::optional<int32_t> holder;  // as DuplicateCommand::holder
};

// `holder=pid:N`: the process id; kInvalidArgument otherwise.
Result<int32_t> ParseHolder(std::string_view value);
Result<RestrictCommand> ParseRestrictCommand(std::string_view text);

Result<TokenReference> ParseInstallCommand(std::string_view text,
                                           std::string_view mount_point);

struct LinkCommand {
  TokenReference elevated;
  TokenReference filtered;
  uint64_t session = 0;
};
Result<LinkCommand> ParseLinkCommand(std::string_view text,
                                     std::string_view mount_point);

// Parses one write to a tags file. Fails with kInvalidArgument: an empty
// or unknown verb ("expected add NAME or remove NAME"), a missing or extra
// word, or a tag ParseTag refuses (its message, the column shifted to the
// command's).
Result<TagCommand> ParseTagCommand(std::string_view text);

// Splits a command into items at whitespace, honouring double quotes;
// inside quotes \" and \\ stand for " and \. Exposed for tests.
Result<std::vector<std::string>> SplitCommandItems(std::string_view text);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_COMMANDS_H_
