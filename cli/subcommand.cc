#include "cli/subcommand.h"

#include "cli/commands.h"

namespace tokenfs::cli {
namespace {

constexpr Subcommand kAdjustSubcommands[] = {
    {.name = "privs",
     .description =
         "NAME=enabled|disabled|removed ...; NAME short, full or a bit number",
     .takes_target = true,
     .add = AddAdjustPrivs},
    {.name = "groups",
     .description = "IDX=enabled|disabled ...",
     .takes_target = true,
     .add = AddAdjustGroups},
    {.name = "default",
     .description = "default DACL, owner and primary group",
     .takes_target = true,
     .add = AddAdjustDefault},
    {.name = "session",
     .description = "the interactive session id",
     .takes_target = true,
     .add = AddAdjustSession},
    {.name = "integrity",
     .description = "lower (or with SeTcb raise) the integrity level",
     .takes_target = true,
     .add = AddAdjustIntegrity},
};

constexpr Subcommand kSpecSubcommands[] = {
    {.name = "encode",
     .description = "JSON token spec to binary (never to a terminal)",
     .add = AddSpecEncode},
    {.name = "decode",
     .description = "binary token spec to JSON",
     .add = AddSpecDecode},
};

constexpr Subcommand kSubcommands[] = {
    {.name = "show",
     .description = "print the token (bare `token` is `show --short`)",
     .takes_target = true,
     .add = AddShow},
    {.name = "user",
     .description = "the user SID",
     .takes_target = true,
     .add = AddUser},
    {.name = "owner",
     .description = "the default owner SID",
     .takes_target = true,
     .add = AddOwner},
    {.name = "group",
     .description = "the primary group SID",
     .takes_target = true,
     .add = AddGroup},
    {.name = "groups",
     .description = "the groups, with index and attributes",
     .takes_target = true,
     .add = AddGroups},
    {.name = "privs",
     .description = "the present privileges and their state",
     .takes_target = true,
     .add = AddPrivs},
    {.name = "caps",
     .description = "the capabilities (--check answers by exit status)",
     .takes_target = true,
     .add = AddCaps},
    {.name = "claims",
     .description = "the user and device claims",
     .takes_target = true,
     .add = AddClaims},
    {.name = "integrity",
     .description = "the integrity level and mandatory policy",
     .takes_target = true,
     .add = AddIntegrity},
    {.name = "logon",
     .description = "logon type, logon SID, session and origin",
     .takes_target = true,
     .add = AddLogon},
    {.name = "source",
     .description = "what minted the token",
     .takes_target = true,
     .add = AddSource},
    {.name = "origin",
     .description = "the logon session of the token's creator",
     .takes_target = true,
     .add = AddOrigin},
    {.name = "stats",
     .description = "ids, type, times and counts",
     .takes_target = true,
     .add = AddStats},
    {.name = "default-dacl",
     .description = "the default DACL as SDDL",
     .takes_target = true,
     .add = AddDefaultDacl},
    {.name = "query",
     .description = "one raw query class as JSON",
     .takes_target = true,
     .add = AddQuery},
    {.name = "access",
     .description =
         "run an access check: granted rights and the step or ACE that decided",
     .takes_target = true,
     .add = AddAccess},
    {.name = "diff",
     .description = "compare two tokens field by field",
     .takes_target = true,
     .add = AddDiff},
    {.name = "adjust",
     .description = "change the token in place (see token adjust --help)",
     .takes_target = true,
     .children = kAdjustSubcommands},
    {.name = "duplicate",
     .alias = "dup",
     .description = "copy the token into a new token object",
     .takes_target = true,
     .add = AddDuplicate},
    {.name = "restrict",
     .description = "make a restricted copy as a new token object",
     .takes_target = true,
     .add = AddRestrict},
    {.name = "create",
     .description = "create a token object from a token spec",
     .add = AddCreate},
    {.name = "install",
     .description =
         "create a token from a spec and make it the invoking process's primary",
     .takes_target = true,
     .add = AddInstall},
    {.name = "link",
     .description = "join two tokens as an elevation pair",
     .add = AddLink},
    {.name = "linked",
     .description = "the elevation partner of the token (exit 2: none)",
     .takes_target = true,
     .add = AddLinked},
    {.name = "persist",
     .description = "keep a token object until revoked",
     .takes_target = true,
     .add = AddPersist},
    {.name = "revoke",
     .description = "end a token object",
     .takes_target = true,
     .add = AddRevoke},
    {.name = "impersonate",
     .description = "impersonate the target on the invoking thread, or run -- "
                    "COMMAND under it",
     .takes_target = true,
     .takes_command = true,
     .add = AddImpersonate},
    {.name = "revert",
     .description = "end the invoking thread's impersonation",
     .takes_target = true,
     .add = AddRevert},
    {.name = "history",
     .description = "the token's event log: what changed it, when, by whom "
                    "(needs tokeninfo:history)",
     .takes_target = true,
     .add = AddHistory},
    {.name = "watch",
     .description = "print each change of the token as it happens "
                    "(--count N, --timeout SECS)",
     .takes_target = true,
     .add = AddWatch},
    {.name = "spec",
     .description = "convert token specs (see token spec --help)",
     .children = kSpecSubcommands},
};

constexpr Subcommand kToken = {
    .description = "token: inspect, adjust and derive NT-style access tokens "
                   "through the tokenfs tree",
    .takes_target = true,
    .children = kSubcommands,
    .add = AddBareToken,
};

}  // namespace

const Subcommand* Subcommand::Child(std::string_view wanted) const {
  for (const Subcommand& child : children) {
    if (wanted == child.name || (!child.alias.empty() && wanted == child.alias)) {
      return &child;
    }
  }
  return nullptr;
}

const Subcommand& TokenCommand() { return kToken; }

}  // namespace tokenfs::cli
