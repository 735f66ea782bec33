#include "cli/arguments.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>
#include <string_view>
#include <utility>

#include "cli/mount.h"
#include "cli/subcommand.h"
#include "cli/text.h"
#include "core/ascii.h"

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

// The state of one parse beyond Options: the option objects of the target
// flags (to count repeats over the global and subcommand forms), the
// storage --self and --real are bound to (only their counts matter), and
// the run function of every subcommand parser built.
struct Parse {
  std::vector<CLI::Option*> self, real, pid, tid, peer, id;
  bool self_given = false;
  bool real_given = false;
  std::vector<std::pair<const CLI::App*, Runner>> runners;
};

void AddTargetOptions(CLI::App& app, Options& options, Parse& parse) {
  parse.self.push_back(app.add_flag(
      "--self", parse.self_given,
      "the effective token of the process that ran token (default)"));
  parse.real.push_back(app.add_flag("--real", parse.real_given,
                                    "that process's primary token"));
  parse.pid.push_back(
      app.add_option("--pid", options.pid, "the primary token of process PID")
          ->type_name("PID"));
  parse.tid.push_back(app.add_option("--tid", options.tid,
                                     "with --pid: the effective token of "
                                     "thread TID")
                          ->type_name("TID"));
  parse.peer.push_back(
      app.add_option("--peer", options.peer,
                     "the peer process of the connected Unix socket FD, "
                     "resolved now (not at connect time)")
          ->type_name("FD"));
  parse.id.push_back(
      app.add_option("--id", options.id, "token object ID")->type_name("ID"));
}

void AddOutputOptions(CLI::App& app, Options& options) {
  app.add_flag("--raw", options.raw, "SIDs raw (S-1-...) only");
  app.add_flag("--label", options.label, "SIDs as their label where known");
  app.add_flag("--json", options.json, "one JSON document (see token(1))");
}

// A subcommand's parser: its own flags first, then the shared ones.
CLI::App* AddSubcommand(CLI::App& parent, const Subcommand& entry,
                        Options& options, Parse& parse) {
  CLI::App* app = parent.add_subcommand(std::string(entry.name),
                                        std::string(entry.description));
  if (!entry.alias.empty()) app->alias(std::string(entry.alias));
  if (entry.add) parse.runners.emplace_back(app, entry.add(*app));
  if (entry.takes_target) AddTargetOptions(*app, options, parse);
  AddOutputOptions(*app, options);
  return app;
}

// A top-level subcommand and, for a group, its children (one required).
void AddSubcommandTree(CLI::App& parent, const Subcommand& entry,
                       Options& options, Parse& parse) {
  CLI::App* app = AddSubcommand(parent, entry, options, parse);
  if (!entry.IsGroup()) return;
  for (const Subcommand& child : entry.children) {
    AddSubcommand(*app, child, options, parse);
  }
  app->require_subcommand(1);
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

// " (did you mean 'X'?)" for the candidate nearest to `word` -- one that
// starts with it, or within a third of its length in edits -- or "".
std::string DidYouMean(std::string_view word,
                       const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, word.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    if (word.size() >= 3 && candidate.rfind(word, 0) == 0) distance = 1;
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

// "token adjust privs": the names from the root to `app`.
std::string CommandPath(const CLI::App* app) {
  std::vector<std::string> names;
  for (; app != nullptr; app = app->get_parent()) {
    names.insert(names.begin(), app->get_parent() ? app->get_name() : "token");
  }
  return Join(names, " ");
}

// Every option spelling `app` and the commands above it accept.
std::vector<std::string> OptionSpellings(const CLI::App* app) {
  std::vector<std::string> spellings;
  for (; app != nullptr; app = app->get_parent()) {
    for (const CLI::Option* option : app->get_options()) {
      for (const std::string& name : option->get_lnames()) {
        spellings.push_back("--" + name);
      }
      for (const std::string& name : option->get_snames()) {
        spellings.push_back("-" + name);
      }
    }
  }
  return spellings;
}

std::vector<std::string> SubcommandNames(const Subcommand& entry) {
  std::vector<std::string> names;
  for (const Subcommand& child : entry.children) {
    names.emplace_back(child.name);
    if (!child.alias.empty()) names.emplace_back(child.alias);
  }
  return names;
}

// CLI11's message for `error`, raised while parsing under `named` (the
// deepest subcommand named), in token's one-line style: what was wrong,
// where, the nearest valid spelling, and which --help to read.
std::string UsageMessage(const CLI::ParseError& error, const CLI::App* named,
                         const Subcommand* entry,
                         const std::vector<std::string>& arguments) {
  const std::string where = CommandPath(named);
  const std::string help = "; see '" + where + " --help'";
  std::string message = error.what();
  if (message.empty()) message = error.get_name();
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    const size_t colon = message.find(": ");
    std::vector<std::string> extras;
    if (colon != std::string::npos) {
      std::string rest = message.substr(colon + 2);
      size_t start = 0;
      while (start < rest.size()) {
        size_t end = rest.find(' ', start);
        if (end == std::string::npos) end = rest.size();
        if (end > start) extras.push_back(rest.substr(start, end - start));
        start = end + 1;
      }
    }
    if (extras.empty()) return "unexpected arguments for '" + where + "'" + help;
    // CLI11 lists them in no useful order: name an option if there is one,
    // else the one that came first on the command line.
    const auto position = [&arguments](const std::string& extra) {
      const bool option = extra.size() > 1 && extra[0] == '-';
      const auto found = std::find(arguments.begin(), arguments.end(), extra);
      return std::pair(!option, found - arguments.begin());
    };
    const std::string first = *std::min_element(
        extras.begin(), extras.end(),
        [&](const std::string& a, const std::string& b) {
          return position(a) < position(b);
        });
    if (first.size() > 1 && first[0] == '-') {
      return "unknown option '" + first + "' for '" + where + "'" +
             DidYouMean(first.substr(0, first.find('=')),
                        OptionSpellings(named)) +
             help;
    }
    if (entry != nullptr && entry->IsGroup()) {
      return "unknown subcommand '" + where + " " + first + "'" +
             DidYouMean(first, SubcommandNames(*entry)) + help;
    }
    return "'" + where + "' takes no argument '" + first + "'" +
           (extras.size() > 1 ? " (nor the " +
                                    std::to_string(extras.size() - 1) +
                                    " after it)"
                              : "") +
           help;
  }
  if (message == "A subcommand is required" && entry != nullptr) {
    return "'" + where + "' needs a subcommand: " +
           Join(SubcommandNames(*entry), ", ") + help;
  }
  if (!message.empty()) {
    message[0] = static_cast<char>(AsciiToLower(message[0]));
  }
  return message + help;
}

}  // namespace

ParseOutcome ParseArguments(int argc, char** argv) {
  ParseOutcome outcome;
  Options& options = outcome.options;
  const Subcommand& root = TokenCommand();

  // Pre-scan: the subcommand word, and "--".
  std::string first;
  std::string second;  // the word after `first` (a group's subcommand)
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
      if ((first.empty() || second.empty()) && TakesValue(argument)) ++i;
      continue;
    }
    if (first.empty()) {
      first = argument;
    } else if (second.empty()) {
      second = argument;
    }
  }

  CLI::App app{std::string(root.description), "token"};
  app.footer(kFooter);
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(0, 1);
  Parse parse;
  AddTargetOptions(app, options, parse);
  AddOutputOptions(app, options);
  app.add_flag("--short", options.short_form,
               "one line: user, type, integrity, enabled privileges and "
               "groups");
  app.add_flag("--all", options.all,
               "every query class, in the fixed order of token(1)");
  parse.runners.emplace_back(&app, root.add(app));

  const Subcommand* chosen = nullptr;
  if (!first.empty()) {
    chosen = root.Child(first);
    if (!chosen) {
      const std::string message = "token: unknown subcommand '" + first +
                                  "'" +
                                  DidYouMean(first, SubcommandNames(root)) +
                                  "; see 'token --help'\n";
      WriteAll(STDERR_FILENO, message);
      outcome.exit_status = 1;
      return outcome;
    }
    // `token adjust privz`: CLI11 would only say a subcommand is required.
    if (chosen->IsGroup() && !second.empty() && !chosen->Child(second)) {
      WriteAll(STDERR_FILENO,
               "token: unknown subcommand 'token " + first + " " + second +
                   "'" + DidYouMean(second, SubcommandNames(*chosen)) +
                   "; see 'token " + first + " --help'\n");
      outcome.exit_status = 1;
      return outcome;
    }
    AddSubcommandTree(app, *chosen, options, parse);
  } else if (help) {
    for (const Subcommand& entry : root.children) {
      AddSubcommandTree(app, entry, options, parse);
    }
  }

  // A subcommand that takes a command: CLI11 sees only what precedes "--".
  int parse_argc = argc;
  if (chosen && chosen->takes_command && separator >= 0) {
    parse_argc = separator;
    options.command_after_separator.emplace(argv + separator + 1, argv + argc);
  }

  try {
    app.parse(parse_argc, argv);
  } catch (const CLI::Success& success) {
    outcome.exit_status = app.exit(success);
    return outcome;
  } catch (const CLI::ParseError& error) {
    // The deepest subcommand CLI11 got to, and its table entry.
    const CLI::App* named = &app;
    const Subcommand* entry = chosen != nullptr ? chosen : &root;
    while (!named->get_subcommands().empty()) {
      named = named->get_subcommands().front();
      if (named->get_parent() != &app && entry != nullptr) {
        entry = entry->Child(named->get_name());
      }
    }
    if (named == &app) entry = &root;
    WriteAll(STDERR_FILENO,
             "token: " +
                 UsageMessage(error, named, entry,
                              std::vector<std::string>(argv, argv + argc)) +
                 "\n");
    outcome.exit_status = 1;
    return outcome;
  }

  // The deepest subcommand named (bare `token` when none).
  const CLI::App* named = &app;
  while (!named->get_subcommands().empty()) {
    named = named->get_subcommands().front();
  }
  for (auto& [parser, run] : parse.runners) {
    if (parser == named) outcome.run = std::move(run);
  }
  options.self_count = Count(parse.self);
  options.real_count = Count(parse.real);
  options.pid_count = Count(parse.pid);
  options.tid_count = Count(parse.tid);
  options.peer_count = Count(parse.peer);
  options.id_count = Count(parse.id);
  return outcome;
}

}  // namespace tokenfs::cli
