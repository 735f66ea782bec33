// Subcommand: one entry of the table of `token` subcommands, and the table.
//
// An entry owns everything about its subcommand: the name (and alias) it is
// invoked by, the one-line description `token --help` lists, its flags and
// what running it does. Its `add` function registers the flags on the
// subcommand's own CLI::App and returns the run function bound to the values
// they receive, so a subcommand's flags live with it and never in the global
// Options (cli/arguments.h), which holds only the flags every subcommand
// shares (target and output).
//
// The table is a tree rooted at TokenCommand(), the bare `token` (which runs
// `show --short`). An entry with children and no `add` is a group (adjust,
// spec): it does nothing itself and requires one of its children.
//
// Invariant: names and aliases are unique among siblings; every entry has
// children, an `add`, or both (only the root has both).
//
// Thread-safety: the table is immutable static data. A Runner owns the flag
// values it was bound to (shared with the CLI::App that filled them, which
// must not parse again once the Runner runs); use it on one thread.
#ifndef TOKENFS_CLI_SUBCOMMAND_H_
#define TOKENFS_CLI_SUBCOMMAND_H_

#include <functional>
#include <span>
#include <string_view>

#include "cli/cli_error.h"

namespace CLI {
class App;
}  // namespace CLI

namespace tokenfs::cli {

struct Context;

// Runs a subcommand with the flags it was bound to; returns the exit status
// to use on success (see cli/commands.h) or a CliError.
using Runner = std::function<CliResult<int>(Context&)>;

// Registers a subcommand's own flags and positionals on `app` and returns its
// run function bound to their values.
using AddFunction = Runner (*)(CLI::App& app);

struct Subcommand {
  std::string_view name;
  std::string_view alias;  // empty when none
  std::string_view description;
  // Accepts the target flags (--self, --real, --pid, --tid, --peer, --id)
  // after the subcommand word as well as before it.
  bool takes_target = false;
  // Takes a command after "--" (Options::command_after_separator); the
  // argument parser stops at the first "--".
  bool takes_command = false;
  std::span<const Subcommand> children;
  AddFunction add = nullptr;  // nullptr for a group

  bool IsGroup() const { return add == nullptr; }
  // The child named `name` (or aliased so), nullptr when none.
  const Subcommand* Child(std::string_view name) const;
};

// The root of the table: bare `token`, whose children are the subcommands.
const Subcommand& TokenCommand();

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_SUBCOMMAND_H_
