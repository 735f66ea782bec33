#include "cli/arguments.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <span>
#include <string_view>

#include "cli/mount.h"

namespace tokenfs::cli {
namespace {

constexpr const char* kVersion = "token (tokenfs) 0.1.0";

constexpr const char* kFooter =
    "Targets: with no target flag the target is --self, the effective token "
    "of the process that ran token (usually your shell): `token adjust privs "
    "SeDebug=disabled` changes the shell and the commands it starts later. "
    "--peer FD is resolved when token runs (the peer's current token), not "
    "when the connection was made. The tree is read at $TOKENFS_ROOT, else "
    "/tokens.\n"
    "Exit status: 0 success, 1 usage error, 2 target not found, 3 access "
    "denied or not permitted, 4 invalid spec or input, 5 other failure. "
    "See token(1).";

// Which flag sets a subcommand takes.
enum Trait : unsigned {
  kTakesTarget = 1u << 0,
};

using AddOptions = void (*)(CLI::App&, Options&);

struct SubcommandInfo {
  const char* name;
  const char* alias;  // nullptr when none
  const char* summary;
  unsigned traits;
  AddOptions add;
};

void AddNothing(CLI::App&, Options&) {}

// --persist, for the subcommands that make a token object (duplicate,
// restrict, create).
void AddPersist(CLI::App& app, Options& options) {
  app.add_flag("--persist", options.persist,
               "keep the new token until `token revoke`");
}

void AddShow(CLI::App& app, Options& options) {
  app.add_flag("--short", options.short_form,
               "one line: user, type, integrity, enabled privileges and "
               "groups");
  app.add_flag("--all", options.all,
               "every query class, in the fixed order of token(1)");
}

void AddCaps(CLI::App& app, Options& options) {
  app.add_option("--check", options.check,
                 "exit 0 when the token holds every CAP, 3 when not")
      ->type_name("CAP")
      ->expected(1, -1);
}

void AddQuery(CLI::App& app, Options& options) {
  app.add_option("CLASS", options.positionals,
                 "a query class name or alias (case-insensitive) or its ABI "
                 "number; printed as JSON")
      ->required();
}

void AddAccess(CLI::App& app, Options& options) {
  app.add_option("--sd", options.sd,
                 "the object's security descriptor in SDDL (default: the "
                 "token's own)")
      ->type_name("SDDL");
  app.add_option("--desired", options.desired,
                 "rights asked for: a number, names (QUERY|READ_CONTROL), "
                 "SDDL letters (GR, FA); default MAXIMUM_ALLOWED")
      ->type_name("RIGHTS");
  app.add_option("--mapping", options.mapping,
                 "generic mapping: token (default), file or plain")
      ->type_name("MAPPING");
  app.add_option("--intent", options.intent,
                 "declared intent that lets SeBackup/SeRestore apply: "
                 "backup,restore")
      ->type_name("LIST");
  app.add_option("--principal-self", options.principal_self,
                 "the SID that PRINCIPAL SELF (PS) ACEs stand for")
      ->type_name("SID");
}

void AddDiff(CLI::App& app, Options& options) {
  app.add_option("A", options.positionals,
                 "token references: self, real, pid:N, pid:N/TID, id:N, "
                 "peer:FD; B defaults to the target flags (--self)")
      ->expected(1, 2)
      ->required();
  app.add_flag("-q,--quiet", options.quiet,
               "print nothing; exit 0 when equal, 6 when they differ");
  app.add_flag("--ids", options.ids,
               "also compare token_id, modified_id, parent_token_id and "
               "created, which differ between any two tokens");
}

void AddAdjustList(CLI::App& app, Options& options) {
  app.add_option("ITEM", options.positionals,
                 "NAME=STATE or IDX=STATE items, or `reset`");
  app.add_flag("--reset", options.reset,
               "restore the enabled-by-default states");
}

void AddAdjustDefault(CLI::App& app, Options& options) {
  app.add_option("--dacl", options.dacl,
                 "new default DACL in SDDL (D:(A;;GA;;;SY)...), or `none`")
      ->type_name("SDDL");
  app.add_option("--owner-idx", options.owner_index,
                 "default owner: index into [user, groups...] or a SID")
      ->type_name("N");
  app.add_option("--group-idx", options.group_index,
                 "primary group: index into [user, groups...] or a SID")
      ->type_name("N");
}

void AddAdjustSession(CLI::App& app, Options& options) {
  app.add_option("ID", options.positionals,
                 "the new interactive session id (needs SeTcb)")
      ->required()
      ->expected(1);
}

void AddAdjustIntegrity(CLI::App& app, Options& options) {
  app.add_option("LEVEL", options.positionals,
                 "untrusted, low, medium, medium-plus, high, system, an RID "
                 "or S-1-16-N; raising needs SeTcb")
      ->required()
      ->expected(1);
}

void AddDuplicate(CLI::App& app, Options& options) {
  app.add_option("--type", options.type, "primary (default) or impersonation")
      ->type_name("TYPE");
  app.add_option("--level", options.level,
                 "impersonation level: anonymous, identification, "
                 "impersonation (default for impersonation tokens), "
                 "delegation")
      ->type_name("LEVEL");
  app.add_option("--access", options.access,
                 "rights of the new handle (names or a number)")
      ->type_name("RIGHTS");
  AddPersist(app, options);
}

void AddRestrict(CLI::App& app, Options& options) {
  app.add_option("--drop-privs", options.drop_privs,
                 "privileges to delete: 0xMASK or NAME,NAME (short, full "
                 "or bit numbers)")
      ->type_name("MASK|NAMES");
  app.add_option("--deny", options.deny,
                 "group indices to make deny-only (see `token groups`)")
      ->type_name("IDX,...");
  app.add_flag("--deny-user", options.deny_user, "make the user SID deny-only");
  app.add_option("--restrict", options.restrict_sids,
                 "restricting SIDs (S-... or SDDL aliases)")
      ->type_name("SID,...");
  app.add_flag("--write-restricted", options.write_restricted,
               "the restricting SIDs apply to write access only");
  app.add_flag("--disable-max-privilege", options.disable_max_privilege,
               "delete every privilege but SeChangeNotify");
  app.add_option("--caps", options.caps,
                 "the capabilities of the new token (\"\" for none); must be "
                 "held by the source")
      ->type_name("CAP,...");
  app.add_flag("--tighten", options.tighten,
               "narrow capabilities the source does not hold instead of "
               "failing");
  AddPersist(app, options);
}

// The SPEC of create and install.
void AddSpecArgument(CLI::App& app, Options& options) {
  app.add_option("SPEC", options.positionals,
                 "binary token spec, or its JSON form; - for standard input")
      ->required()
      ->expected(1);
}

void AddCreate(CLI::App& app, Options& options) {
  AddSpecArgument(app, options);
  AddPersist(app, options);
}

void AddLink(CLI::App& app, Options& options) {
  app.add_option("--elevated", options.elevated,
                 "the full token: id:N, pid:N, pid:N/TID, self, real, "
                 "peer:FD")
      ->type_name("REF")
      ->required();
  app.add_option("--filtered", options.filtered, "the limited token")
      ->type_name("REF")
      ->required();
  app.add_option("--session", options.session,
                 "the logon session id the pair shares")
      ->type_name("ID")
      ->required();
}

void AddObjectId(CLI::App& app, Options& options) {
  app.add_option("ID", options.positionals, "token object id (or give --id)")
      ->expected(0, 1);
}

void AddImpersonate(CLI::App& app, Options& options) {
  app.add_option("--level", options.level,
                 "impersonation level: anonymous, identification, "
                 "impersonation (default), delegation")
      ->type_name("LEVEL");
  app.add_flag("--strict", options.strict,
               "with -- COMMAND: fail (exit 5) instead of running the "
               "command with unchanged Linux credentials");
}

void AddSpecFile(CLI::App& app, Options& options) {
  app.add_option("FILE", options.positionals,
                 "input file; - or none for standard input")
      ->expected(0, 1);
}

constexpr SubcommandInfo kSubcommands[] = {
    {"show", nullptr, "print the token (bare `token` is `show --short`)",
     kTakesTarget, AddShow},
    {"user", nullptr, "the user SID", kTakesTarget, AddNothing},
    {"owner", nullptr, "the default owner SID", kTakesTarget, AddNothing},
    {"group", nullptr, "the primary group SID", kTakesTarget, AddNothing},
    {"groups", nullptr, "the groups, with index and attributes", kTakesTarget,
     AddNothing},
    {"privs", nullptr, "the present privileges and their state", kTakesTarget,
     AddNothing},
    {"caps", nullptr, "the capabilities (--check answers by exit status)",
     kTakesTarget, AddCaps},
    {"claims", nullptr, "the user and device claims", kTakesTarget, AddNothing},
    {"integrity", nullptr, "the integrity level and mandatory policy",
     kTakesTarget, AddNothing},
    {"logon", nullptr, "logon type, logon SID, session and origin",
     kTakesTarget, AddNothing},
    {"source", nullptr, "what minted the token", kTakesTarget, AddNothing},
    {"origin", nullptr, "the logon session of the token's creator",
     kTakesTarget, AddNothing},
    {"stats", nullptr, "ids, type, times and counts", kTakesTarget, AddNothing},
    {"default-dacl", nullptr, "the default DACL as SDDL", kTakesTarget,
     AddNothing},
    {"query", nullptr, "one raw query class as JSON", kTakesTarget, AddQuery},
    {"access", nullptr,
     "run an access check: granted rights and the step or ACE that decided",
     kTakesTarget, AddAccess},
    {"diff", nullptr, "compare two tokens field by field", kTakesTarget,
     AddDiff},
    {"adjust", nullptr, "change the token in place (see token adjust --help)",
     kTakesTarget, AddNothing},
    {"duplicate", "dup", "copy the token into a new token object", kTakesTarget,
     AddDuplicate},
    {"restrict", nullptr, "make a restricted copy as a new token object",
     kTakesTarget, AddRestrict},
    {"create", nullptr, "create a token object from a token spec", 0,
     AddCreate},
    {"install", nullptr,
     "create a token from a spec and make it the invoking process's primary",
     kTakesTarget, AddSpecArgument},
    {"link", nullptr, "join two tokens as an elevation pair", 0, AddLink},
    {"linked", nullptr, "the elevation partner of the token (exit 2: none)",
     kTakesTarget, AddNothing},
    {"persist", nullptr, "keep a token object until revoked", kTakesTarget,
     AddObjectId},
    {"revoke", nullptr, "end a token object", kTakesTarget, AddObjectId},
    {"impersonate", nullptr,
     "impersonate the target on the invoking thread, or run -- COMMAND under "
     "it",
     kTakesTarget, AddImpersonate},
    {"revert", nullptr, "end the invoking thread's impersonation", kTakesTarget,
     AddNothing},
    {"spec", nullptr, "convert token specs (see token spec --help)", 0,
     AddNothing},
};

constexpr SubcommandInfo kAdjustSubcommands[] = {
    {"privs", nullptr,
     "NAME=enabled|disabled|removed ...; NAME short, full or a bit number",
     kTakesTarget, AddAdjustList},
    {"groups", nullptr, "IDX=enabled|disabled ...", kTakesTarget,
     AddAdjustList},
    {"default", nullptr, "default DACL, owner and primary group", kTakesTarget,
     AddAdjustDefault},
    {"session", nullptr, "the interactive session id", kTakesTarget,
     AddAdjustSession},
    {"integrity", nullptr, "lower (or with SeTcb raise) the integrity level",
     kTakesTarget, AddAdjustIntegrity},
};

constexpr SubcommandInfo kSpecSubcommands[] = {
    {"encode", nullptr, "JSON token spec to binary (never to a terminal)", 0,
     AddSpecFile},
    {"decode", nullptr, "binary token spec to JSON", 0, AddSpecFile},
};

const SubcommandInfo* Find(std::span<const SubcommandInfo> table,
                           std::string_view name) {
  for (const SubcommandInfo& info : table) {
    if (name == info.name || (info.alias && name == info.alias)) return &info;
  }
  return nullptr;
}

// The global option objects of one parse, to count repeats.
struct GlobalOptions {
  std::vector<CLI::Option*> self, real, pid, tid, peer, id;
};

void AddTargetOptions(CLI::App& app, Options& options, GlobalOptions& all) {
  all.self.push_back(app.add_flag(
      "--self", options.self,
      "the effective token of the process that ran token (default)"));
  all.real.push_back(
      app.add_flag("--real", options.real, "that process's primary token"));
  all.pid.push_back(
      app.add_option("--pid", options.pid, "the primary token of process PID")
          ->type_name("PID"));
  all.tid.push_back(app.add_option("--tid", options.tid,
                                   "with --pid: the effective token of thread "
                                   "TID")
                        ->type_name("TID"));
  all.peer.push_back(
      app.add_option("--peer", options.peer,
                     "the peer process of the connected Unix socket FD, "
                     "resolved now (not at connect time)")
          ->type_name("FD"));
  all.id.push_back(
      app.add_option("--id", options.id, "token object ID")->type_name("ID"));
}

void AddOutputOptions(CLI::App& app, Options& options) {
  app.add_flag("--raw", options.raw, "SIDs raw (S-1-...) only");
  app.add_flag("--label", options.label, "SIDs as their label where known");
  app.add_flag("--json", options.json, "one JSON document (see token(1))");
}

CLI::App* AddSubcommand(CLI::App& parent, const SubcommandInfo& info,
                        Options& options, GlobalOptions& globals) {
  CLI::App* app = parent.add_subcommand(info.name, info.summary);
  if (info.alias) app->alias(info.alias);
  info.add(*app, options);
  if (info.traits & kTakesTarget) AddTargetOptions(*app, options, globals);
  AddOutputOptions(*app, options);
  return app;
}

std::span<const SubcommandInfo> ChildrenOf(std::string_view name) {
  if (name == "adjust") return kAdjustSubcommands;
  if (name == "spec") return kSpecSubcommands;
  return {};
}

// A top-level subcommand and, for adjust and spec, its required children.
void AddSubcommandTree(CLI::App& app, const SubcommandInfo& info,
                       Options& options, GlobalOptions& globals) {
  CLI::App* sub = AddSubcommand(app, info, options, globals);
  const auto children = ChildrenOf(info.name);
  if (children.empty()) return;
  for (const SubcommandInfo& child : children) {
    AddSubcommand(*sub, child, options, globals);
  }
  sub->require_subcommand(1);
}

bool TakesValue(std::string_view argument) {
  return argument == "--pid" || argument == "--tid" || argument == "--peer" ||
         argument == "--id";
}

int Count(const std::vector<CLI::Option*>& options) {
  int count = 0;
  for (const CLI::Option* option : options) {
    count += static_cast<int>(option->count());
  }
  return count;
}

}  // namespace

ParseOutcome ParseArguments(int argc, char** argv) {
  ParseOutcome outcome;
  Options& options = outcome.options;

  // Pre-scan: the subcommand word (and adjust/spec's child), and "--".
  std::string first;
  bool help = false;
  int separator = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (argument == "--") {
      separator = i;
      break;
    }
    if (!argument.empty() && argument[0] == '-') {
      if (argument == "-h" || argument == "--help") help = true;
      if (first.empty() && TakesValue(argument)) ++i;
      continue;
    }
    if (first.empty()) first = argument;
  }

  CLI::App app{
      "token: inspect, adjust and derive NT-style access tokens through the "
      "tokenfs tree",
      "token"};
  app.footer(kFooter);
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(0, 1);
  GlobalOptions globals;
  AddTargetOptions(app, options, globals);
  AddOutputOptions(app, options);
  AddShow(app, options);

  const SubcommandInfo* chosen = nullptr;
  if (!first.empty()) {
    chosen = Find(kSubcommands, first);
    if (!chosen) {
      const std::string message =
          "token: unknown subcommand '" + first + "' (see 'token --help')\n";
      WriteAll(STDERR_FILENO, message);
      outcome.exit_status = 1;
      return outcome;
    }
    AddSubcommandTree(app, *chosen, options, globals);
  } else if (help) {
    for (const SubcommandInfo& info : kSubcommands) {
      AddSubcommandTree(app, info, options, globals);
    }
  }

  // impersonate -- COMMAND: CLI11 sees only what precedes "--".
  int parse_argc = argc;
  if (chosen && std::string_view(chosen->name) == "impersonate" &&
      separator >= 0) {
    parse_argc = separator;
    options.has_command_separator = true;
    for (int i = separator + 1; i < argc; ++i) {
      options.command_argv.emplace_back(argv[i]);
    }
  }

  try {
    app.parse(parse_argc, argv);
  } catch (const CLI::Success& success) {
    outcome.exit_status = app.exit(success);
    return outcome;
  } catch (const CLI::ParseError& error) {
    std::string message = error.what();
    if (message.empty()) message = error.get_name();
    WriteAll(STDERR_FILENO, "token: " + message + " (see 'token --help')\n");
    outcome.exit_status = 1;
    return outcome;
  }

  options.command.clear();  // bare `token`
  for (CLI::App* sub : app.get_subcommands()) {
    options.command = sub->get_name();
    for (CLI::App* child : sub->get_subcommands()) {
      options.command += " " + child->get_name();
    }
  }
  options.self_count = Count(globals.self);
  options.real_count = Count(globals.real);
  options.pid_count = Count(globals.pid);
  options.tid_count = Count(globals.tid);
  options.peer_count = Count(globals.peer);
  options.id_count = Count(globals.id);
  return outcome;
}

}  // namespace tokenfs::cli
