// Arguments: the `token` command line, parsed with CLI11 into Options.
//
// Start-up cost matters (`token privs` should cost about what `cat` of the
// same file costs), so only the parser of the subcommand actually named is
// built: a pre-scan finds the subcommand word, and CLI11 then sees the
// global options plus that one subcommand. `token --help` (or an unknown
// subcommand) builds the whole tree so the help lists everything.
//
// Global options (accepted before or after the subcommand):
//   targets  --self --real --pid PID --tid TID --peer FD --id ID
//   output   --raw --label --json
// and, for bare `token`, --short and --all (bare `token` is `show --short`).
//
// Exit statuses of parsing: help and --version print to stdout and give 0;
// every parser error gives a one-line "token: ..." message and 1.
//
// Thread-safety: not shared; used once by main().
#ifndef TOKENFS_CLI_ARGUMENTS_H_
#define TOKENFS_CLI_ARGUMENTS_H_

#include <optional>
#include <string>
#include <vector>

namespace tokenfs::cli {

// Every value any subcommand can receive. Optional strings distinguish
// "not given" from "given empty" (restrict --caps "" means no capabilities).
struct Options {
  // The subcommand: "show", "privs", "adjust privs", "spec encode", ...;
  // empty for bare `token`.
  std::string command;

  // Target flags, as given (validated by TargetFromFlags).
  bool self = false;
  bool real = false;
  std::optional<std::string> pid;
  std::optional<std::string> tid;
  std::optional<std::string> peer;
  std::optional<std::string> id;
  // How many times each was given, over the global and subcommand forms.
  int self_count = 0;
  int real_count = 0;
  int pid_count = 0;
  int tid_count = 0;
  int peer_count = 0;
  int id_count = 0;

  // Output.
  bool raw = false;
  bool label = false;
  bool json = false;
  bool short_form = false;
  bool all = false;

  // Positional arguments of the subcommand, in order.
  std::vector<std::string> positionals;
  // impersonate: the command after "--" (empty: impersonate on the thread).
  std::vector<std::string> command_argv;
  bool has_command_separator = false;

  // adjust privs/groups.
  bool reset = false;
  // adjust default.
  std::optional<std::string> dacl;
  std::optional<std::string> owner_index;
  std::optional<std::string> group_index;
  // access.
  std::optional<std::string> sd;
  std::optional<std::string> desired;
  std::optional<std::string> mapping;
  std::optional<std::string> intent;
  std::optional<std::string> principal_self;
  // caps --check.
  std::vector<std::string> check;  // empty unless --check was given
  // diff.
  bool quiet = false;
  bool ids = false;
  // duplicate.
  std::optional<std::string> type;
  std::optional<std::string> level;
  std::optional<std::string> access;
  bool persist = false;
  // restrict.
  std::optional<std::string> drop_privs;
  std::optional<std::string> deny;
  std::optional<std::string> restrict_sids;
  std::optional<std::string> caps;
  bool write_restricted = false;
  bool deny_user = false;
  bool disable_max_privilege = false;
  bool tighten = false;
  // link.
  std::optional<std::string> elevated;
  std::optional<std::string> filtered;
  std::optional<std::string> session;
  // impersonate.
  bool strict = false;
};

// The outcome of parsing: options to run, or an exit status to return at
// once (help, version, usage error; the text was already printed).
struct ParseOutcome {
  std::optional<int> exit_status;
  Options options;
};

ParseOutcome ParseArguments(int argc, char** argv);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_ARGUMENTS_H_
