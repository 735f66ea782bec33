// What the `token` subcommands share: the Context they run in, target
// resolution, output, and the `add` functions of the subcommand table
// (cli/subcommand.h). A subcommand's run function returns the exit status to
// use on success (0, or the answer of a predicate: 3 from `caps --check` and
// `access` when not held or not granted, 6 from `diff --quiet` when the
// tokens differ, the command's status from `impersonate -- COMMAND`), or a
// CliError.
//
// Output goes to standard output in one piece at the end (the human layout
// of cli/line_output.h, or one JSON document with --json); notices and errors
// go to standard error as single "token: ..." lines.
//
// Thread-safety: single-threaded; each call does blocking file I/O.
#ifndef TOKENFS_CLI_COMMANDS_H_
#define TOKENFS_CLI_COMMANDS_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cli/arguments.h"
#include "cli/cli_error.h"
#include "cli/mount.h"
#include "cli/subcommand.h"
#include "cli/token_view.h"
#include "core/render.h"

namespace tokenfs::cli {

// What a subcommand runs with: the global options, the mount and the SID
// style they select. Borrows the options.
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

// Runs a parsed subcommand with the global options (checks --raw/--label
// and sets up the mount and the SID style first).
CliResult<int> RunCommand(const Options& options, const Runner& run);

// The run function `run` bound to a new Flags value, whose
// `void Register(CLI::App&)` puts the subcommand's flags on `app`. The Runner
// owns the value; CLI11 fills it during the parse.
template <typename Flags>
Runner Bind(CLI::App& app, CliResult<int> (*run)(Context&, const Flags&)) {
  auto flags = std::make_shared<Flags>();
  flags->Register(app);
  return [flags, run](Context& context) { return run(context, *flags); };
}

// The `add` functions of the subcommand table (cli/subcommand.cc): each
// registers its subcommand's own flags and returns its run function.

// Inspection (cli/inspect.cc).
Runner AddBareToken(CLI::App& app);  // `show --short`
Runner AddShow(CLI::App& app);
Runner AddUser(CLI::App& app);
Runner AddOwner(CLI::App& app);
Runner AddGroup(CLI::App& app);
Runner AddGroups(CLI::App& app);
Runner AddPrivs(CLI::App& app);
Runner AddCaps(CLI::App& app);
Runner AddClaims(CLI::App& app);
Runner AddIntegrity(CLI::App& app);
Runner AddLogon(CLI::App& app);
Runner AddSource(CLI::App& app);
Runner AddOrigin(CLI::App& app);
Runner AddStats(CLI::App& app);
Runner AddDefaultDacl(CLI::App& app);
Runner AddQuery(CLI::App& app);
Runner AddAccess(CLI::App& app);
Runner AddDiff(CLI::App& app);
Runner AddLinked(CLI::App& app);

// Changes and derived tokens (cli/change.cc).
Runner AddAdjustPrivs(CLI::App& app);
Runner AddAdjustGroups(CLI::App& app);
Runner AddAdjustDefault(CLI::App& app);
Runner AddAdjustSession(CLI::App& app);
Runner AddAdjustIntegrity(CLI::App& app);
Runner AddDuplicate(CLI::App& app);
Runner AddRestrict(CLI::App& app);
Runner AddCreate(CLI::App& app);
Runner AddInstall(CLI::App& app);
Runner AddLink(CLI::App& app);
Runner AddPersist(CLI::App& app);
Runner AddRevoke(CLI::App& app);
Runner AddSpecEncode(CLI::App& app);
Runner AddSpecDecode(CLI::App& app);

// Security descriptors (cli/sddl.cc).
Runner AddSddl(CLI::App& app);

// Token objects as a collection (cli/objects.cc).
Runner AddSubtokens(CLI::App& app);
Runner AddTag(CLI::App& app);
Runner AddList(CLI::App& app);
// History and watching (cli/history.cc).
Runner AddHistory(CLI::App& app);
Runner AddWatch(CLI::App& app);

// Impersonation (cli/impersonate.cc).
Runner AddImpersonate(CLI::App& app);
Runner AddRevert(CLI::App& app);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_COMMANDS_H_
