// token: inspect, adjust and derive access tokens through the tokenfs tree
// (man token.1).
//
// main() only maps outcomes to exit statuses: parse (help, version and usage
// errors exit here), run the subcommand, print a failure as one
// "token: <message>" line on stderr.
#include <unistd.h>

#include <exception>
#include <string>

#include "cli/arguments.h"
#include "cli/commands.h"
#include "cli/mount.h"

int main(int argc, char** argv) {
  using tokenfs::cli::WriteAll;
  try {
    tokenfs::cli::ParseOutcome parsed =
        tokenfs::cli::ParseArguments(argc, argv);
    if (parsed.exit_status) return *parsed.exit_status;
    auto result = tokenfs::cli::RunCommand(parsed.options, parsed.run);
    if (!result) {
      WriteAll(STDERR_FILENO, "token: " + result.error().message + "\n");
      return result.error().exit_status;
    }
    return *result;
  } catch (const std::exception& error) {
    // Out of memory or a bug: still one line and a defined status.
    WriteAll(STDERR_FILENO,
             std::string("token: internal error: ") + error.what() + "\n");
    return tokenfs::cli::exit_status::kFailure;
  }
}
