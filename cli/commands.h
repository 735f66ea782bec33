// The `token` subcommands. Each Run* function does one subcommand with the
// parsed Options and returns the exit status to use on success (0, or the
// answer of a predicate: 3 from `caps --check` and `access` when not held or
// not granted, 6 from `diff --quiet` when the tokens differ, the command's
// status from `impersonate -- COMMAND`), or a CliError.
//
// Output goes to standard output in one piece at the end (the human layout
// of cli/line_output.h, or one JSON document with --json); notices and errors
// go to standard error as single "token: ..." lines.
//
// Thread-safety: single-threaded; each call does blocking file I/O.
#ifndef TOKENFS_CLI_COMMANDS_H_
#define TOKENFS_CLI_COMMANDS_H_

#include <optional>
#include <string>
#include <string_view>

#include "cli/arguments.h"
#include "cli/cli_error.h"
#include "cli/mount.h"
#include "cli/token_view.h"
#include "core/render.h"

namespace tokenfs::cli {

struct Context {
  const Options& options;
  Mount mount;
  SidStyle style = SidStyle::kLabeled;
};

// Checks the target flags (at most one of --self, --real, --pid, --peer,
// --id; --tid only with --pid; numbers in range). nullopt when none was
// given.
CliResult<std::optional<TargetSpec>> TargetFromFlags(const Options& options);
// The target of the flags, --self when none was given, resolved.
CliResult<ResolvedTarget> ResolveTarget(const Context& context);
// Fails with a usage error when any target flag was given (for subcommands
// that take none).
CliStatus RejectTargetFlags(const Options& options,
                            std::string_view subcommand);

// Prints `view` (human lines, or its JSON restyled when --json).
CliStatus Emit(const Context& context, const View& view);
// Emit, then exit status 0 when the output was written.
CliResult<int> EmitOk(const Context& context, const View& view);
// A view in the context's SID style with the target recorded in its JSON.
View StartView(const Context& context, const ResolvedTarget& target);
// Writes a notice line "token: notice: <text>" to standard error.
void Notice(std::string_view text);

// Reads a whole file, or standard input for "-" (or an empty path).
CliResult<std::string> ReadInput(const std::string& path,
                                 std::string_view what);

// Dispatches options.command.
CliResult<int> RunCommand(const Options& options);

// Inspection (cli/inspect.cc).
CliResult<int> RunShow(Context& context);
CliResult<int> RunAccessor(Context& context);
CliResult<int> RunQuery(Context& context);
CliResult<int> RunCaps(Context& context);
CliResult<int> RunDiff(Context& context);
CliResult<int> RunAccess(Context& context);
CliResult<int> RunLinked(Context& context);

// Changes and derived tokens (cli/change.cc).
CliResult<int> RunAdjust(Context& context);
CliResult<int> RunDuplicate(Context& context);
CliResult<int> RunRestrict(Context& context);
CliResult<int> RunCreate(Context& context);
CliResult<int> RunInstall(Context& context);
CliResult<int> RunLink(Context& context);
CliResult<int> RunPersist(Context& context);
CliResult<int> RunRevoke(Context& context);
CliResult<int> RunSpec(Context& context);

// Impersonation (cli/impersonate.cc).
CliResult<int> RunImpersonate(Context& context);
CliResult<int> RunRevert(Context& context);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_COMMANDS_H_
