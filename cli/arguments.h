// Arguments: the `token` command line, parsed with CLI11 into the global
// Options and the run function of the subcommand it names.
//
// The subcommands, their flags and their help come from the table in
// cli/subcommand.h; this parser only adds what every subcommand shares.
// Start-up cost matters (`token privs` should cost about what `cat` of the
// same file costs), so only the parser of the subcommand actually named is
// built: a pre-scan finds the subcommand word, and CLI11 then sees the
// global options plus that one subcommand (with its children). `token
// --help` (or -h with no subcommand) builds the whole tree so the help lists
// everything.
//
// Global options (accepted before the subcommand, and after it too):
//   targets  --self --real --pid PID --tid TID --peer FD --id ID
//            (after the subcommand only where it takes a target)
//   output   --raw --label --json
// and, before any subcommand, --short and --all (bare `token` is
// `show --short`; show also reads them).
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

#include "cli/subcommand.h"

namespace tokenfs::cli {

// The flags every subcommand shares. A subcommand's own flags are not here:
// they live with it (cli/subcommand.h).
struct Options {
  // Target flags: how many times each was given, over the global and
  // subcommand forms, and the value (the last one given) of those that take
  // one. Validated by TargetFromFlags.
  int self_count = 0;
  int real_count = 0;
  int pid_count = 0;
  int tid_count = 0;
  int peer_count = 0;
  int id_count = 0;
  std::optional<std::string> pid;
  std::optional<std::string> tid;
  std::optional<std::string> peer;
  std::optional<std::string> id;

  // Output.
  bool raw = false;
  bool label = false;
  bool json = false;
  // --short and --all given before any subcommand.
  bool short_form = false;
  bool all = false;

  // The words after the first "--", for a subcommand that takes a command
  // (impersonate); nullopt when there was no "--" or the subcommand takes
  // none.
  std::optional<std::vector<std::string>> command_after_separator;
};

// The outcome of parsing: options and the subcommand to run, or an exit
// status to return at once (help, version, usage error; the text was already
// printed).
struct ParseOutcome {
  std::optional<int> exit_status;
  Options options;
  Runner run;  // set unless exit_status is
};

ParseOutcome ParseArguments(int argc, char** argv);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_ARGUMENTS_H_
