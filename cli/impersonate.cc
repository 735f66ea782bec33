// Impersonation subcommands: impersonate (on the invoking thread, or
// running a command under a token) and revert.
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/projection.h"
#include "cli/text.h"
#include "core/commands.h"
#include "core/token.h"

namespace tokenfs::cli {
namespace {

// Linux capability numbers the projection needs to hold.
constexpr int kCapSetgid = 6;
constexpr int kCapSetuid = 7;
constexpr int kCapSetpcap = 8;

// Exit status of a child whose parent gave up before letting it run (the
// parent reports why), as env(1) uses 125 for its own failures.
constexpr int kChildSetupFailed = 125;

bool ReadCapabilities(__user_cap_data_struct (&data)[2]) {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  return ::syscall(SYS_capget, &header, data) == 0;
}

uint64_t EffectiveCapabilities() {
  __user_cap_data_struct data[2]{};
  if (!ReadCapabilities(data)) return 0;
  return uint64_t{data[0].effective} | (uint64_t{data[1].effective} << 32);
}

bool HasProjectionAuthority() {
  const uint64_t needed = (uint64_t{1} << kCapSetgid) |
                          (uint64_t{1} << kCapSetuid) |
                          (uint64_t{1} << kCapSetpcap);
  return (EffectiveCapabilities() & needed) == needed;
}

// The invoking process's thread directory for impersonate/revert.
CliResult<ResolvedTarget> ThreadTarget(const Context& context,
                                       std::string_view subcommand) {
  auto flags = TargetFromFlags(context.options);
  if (!flags) return tl::unexpected(flags.error());
  TargetSpec spec;  // --self: the invoking process's main thread
  if (flags->has_value()) {
    spec = **flags;
    if (spec.kind == TargetSpec::Kind::kReal) {
      spec.kind = TargetSpec::Kind::kSelf;
    } else if (spec.kind == TargetSpec::Kind::kProcess) {
      spec.kind = TargetSpec::Kind::kThread;
      spec.tid = spec.pid;
    } else if (spec.kind != TargetSpec::Kind::kSelf &&
               spec.kind != TargetSpec::Kind::kThread) {
      return UsageError(std::string(subcommand) +
                        " acts on a thread: --self (default), --pid PID or "
                        "--pid PID --tid TID");
    }
  }
  return context.mount.Resolve(spec);
}

// Child side of `impersonate -- COMMAND`: reports a failure through the
// error pipe as [status int][message] and exits.
[[noreturn]] void ChildFail(int error_pipe, int status,
                            const std::string& message) {
  std::string record(sizeof status, '\0');
  std::memcpy(record.data(), &status, sizeof status);
  record += message;
  WriteAll(error_pipe, record);
  ::_exit(status);
}

// Applies the plan to this (child) process. Returns "" or the failure.
std::string ApplyPlan(const CredentialPlan& plan) {
  for (int capability = 0; capability < 64; ++capability) {
    if (!(plan.capabilities_to_drop & (uint64_t{1} << capability))) continue;
    // EINVAL: the kernel does not know this capability; nothing to drop.
    if (::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL) {
      return "dropping capability " + std::to_string(capability) +
             " from the bounding set: " + std::strerror(errno);
    }
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, capability, 0, 0);
  }
  if (::setgroups(plan.groups.size(), plan.groups.data()) != 0) {
    return std::string("setgroups: ") + std::strerror(errno);
  }
  if (::setresgid(plan.gid, plan.gid, plan.gid) != 0) {
    return "setresgid " + std::to_string(plan.gid) + ": " +
           std::strerror(errno);
  }
  if (::setresuid(plan.uid, plan.uid, plan.uid) != 0) {
    return "setresuid " + std::to_string(plan.uid) + ": " +
           std::strerror(errno);
  }
  __user_cap_data_struct data[2]{};
  if (!ReadCapabilities(data)) {
    return std::string("capget: ") + std::strerror(errno);
  }
  for (int word = 0; word < 2; ++word) {
    const auto keep =
        static_cast<uint32_t>(~(plan.capabilities_to_drop >> (32 * word)));
    data[word].effective &= keep;
    data[word].permitted &= keep;
    data[word].inheritable &= keep;
  }
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  if (::syscall(SYS_capset, &header, data) != 0) {
    return std::string("capset: ") + std::strerror(errno);
  }
  if (plan.no_new_privs && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return std::string("no_new_privs: ") + std::strerror(errno);
  }
  return "";
}

// impersonate's flags.
struct ImpersonateFlags {
  std::optional<std::string> level;
  bool strict = false;

  void Register(CLI::App& app) {
    app.add_option("--level", level,
                   "impersonation level: anonymous, identification, "
                   "impersonation (default), delegation")
        ->type_name("LEVEL");
    app.add_flag("--strict", strict,
                 "with -- COMMAND: fail (exit 5) instead of running the "
                 "command with unchanged Linux credentials");
  }
};

// `command_argv`: the words after "--".
CliResult<int> RunUnderToken(Context& context, const ImpersonateFlags& flags,
                             const std::vector<std::string>& command_argv) {
  if (command_argv.empty()) {
    return UsageError("impersonate: no command after --");
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  std::string command = target->reference;
  if (flags.level) command += " level=" + *flags.level;
  command += " exec";
  if (auto parsed = ParseImpersonateCommand(command, context.mount.root());
      !parsed) {
    return InvalidInput("impersonate: " + parsed.error().message);
  }

  std::optional<CredentialPlan> plan;
  if (HasProjectionAuthority()) {
    auto token = TokenData::Load(context.mount, *target, {}, true);
    if (!token) return tl::unexpected(token.error());
    auto planned = PlanCredentials(*token);
    if (!planned) return tl::unexpected(planned.error());
    plan = std::move(*planned);
  } else if (flags.strict) {
    return Fail(exit_status::kFailure,
                "cannot give the command the token's Linux credentials: that "
                "needs root (CAP_SETUID, CAP_SETGID and CAP_SETPCAP), and "
                "--strict was given");
  } else {
    Notice(
        "running the command with unchanged Linux credentials (uid, gids, "
        "capabilities): projecting the token needs root");
  }

  std::vector<char*> argv;
  for (const std::string& argument : command_argv) {
    argv.push_back(const_cast<char*>(argument.c_str()));
  }
  argv.push_back(nullptr);

  int go[2];
  int errors[2];
  if (::pipe2(go, O_CLOEXEC) != 0) {
    return Fail(exit_status::kFailure,
                std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(errors, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(go[0]);
    ::close(go[1]);
    return Fail(exit_status::kFailure,
                std::string("pipe: ") + std::strerror(error));
  }
  const pid_t child = ::fork();
  if (child < 0) {
    const int error = errno;
    for (int fd : {go[0], go[1], errors[0], errors[1]}) ::close(fd);
    return Fail(exit_status::kFailure,
                std::string("fork: ") + std::strerror(error));
  }
  if (child == 0) {
    ::close(go[1]);
    ::close(errors[0]);
    char byte = 0;
    ssize_t count;
    do {
      count = ::read(go[0], &byte, 1);
    } while (count < 0 && errno == EINTR);
    // The parent gave up (it reports why).
    if (count != 1) ::_exit(kChildSetupFailed);
    ::close(go[0]);
    if (plan) {
      const std::string failure = ApplyPlan(*plan);
      if (!failure.empty()) {
        ChildFail(errors[1], exit_status::kFailure,
                  "cannot give the command the token's Linux credentials: " +
                      failure);
      }
    }
    ::execvp(argv[0], argv.data());
    const int error = errno;
    ChildFail(errors[1], error == ENOENT ? 127 : 126,
              command_argv[0] + ": " + std::strerror(error));
  }

  ::close(go[0]);
  ::close(errors[1]);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_interrupt {};
  struct sigaction old_quit {};
  ::sigaction(SIGINT, &ignore, &old_interrupt);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  auto reap = [child]() {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
  };

  const std::string child_text = std::to_string(child);
  auto result = context.mount.Transact(
      context.mount.root() + "/" + child_text + "/" + child_text +
          "/impersonate",
      command, target->label,
      Operation{"running a command under it", "IMPERSONATE"});
  if (!result) {
    ::close(go[1]);
    ::close(errors[0]);
    reap();
    return tl::unexpected(result.error());
  }
  for (const auto& [key, value] : ParseKeyValueLines(*result)) {
    if (key == "capped") Notice("impersonation capped: " + value);
  }
  const char go_byte = 'g';
  WriteAll(go[1], std::string_view(&go_byte, 1));
  ::close(go[1]);
  std::string report;
  char buffer[4096];
  while (true) {
    const ssize_t count = ::read(errors[0], buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) break;
    report.append(buffer, static_cast<size_t>(count));
  }
  ::close(errors[0]);
  const int status = reap();
  ::sigaction(SIGINT, &old_interrupt, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  if (report.size() >= sizeof(int)) {
    int code = 0;
    std::memcpy(&code, report.data(), sizeof code);
    return tl::unexpected(CliError{code, report.substr(sizeof code)});
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return exit_status::kFailure;
}

CliResult<int> RunImpersonate(Context& context, const ImpersonateFlags& flags) {
  const auto& command_argv = context.options.command_after_separator;
  if (command_argv) return RunUnderToken(context, flags, *command_argv);
  if (flags.strict) {
    return UsageError("impersonate: --strict applies to -- COMMAND");
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  std::string command = target->reference;
  if (flags.level) command += " level=" + *flags.level;
  if (auto parsed = ParseImpersonateCommand(command, context.mount.root());
      !parsed) {
    return InvalidInput("impersonate: " + parsed.error().message);
  }
  TargetSpec self;
  auto thread = context.mount.Resolve(self);
  if (!thread) return tl::unexpected(thread.error());
  auto result = context.mount.Transact(
      thread->dir + "/impersonate", command, target->label,
      Operation{"impersonating it", "IMPERSONATE"});
  if (!result) return tl::unexpected(result.error());
  View view = StartView(context, *target);
  view.json["thread"] = thread->Json();
  view.json["capped"] = Json();
  view.lines.Section("impersonation");
  view.lines.Row("thread", "pid " + std::to_string(thread->pid) + " tid " +
                               std::to_string(thread->tid));
  for (const auto& [key, value] : ParseKeyValueLines(*result)) {
    if (key == "impersonating") {
      view.lines.Row("token", value);
      view.json["impersonating"] = value;
    } else if (key == "level") {
      view.lines.Row("level", value);
      view.json["level"] = value;
    } else if (key == "capped") {
      Notice("impersonation capped: " + value);
      view.json["capped"] = value;
    }
  }
  return EmitOk(context, view);
}

CliResult<int> RunRevert(Context& context) {
  auto thread = ThreadTarget(context, "revert");
  if (!thread) return tl::unexpected(thread.error());
  auto result = context.mount.Transact(
      thread->dir + "/impersonate", "revert", thread->label,
      Operation{"ending its impersonation", "the Linux right over it"});
  if (!result) return tl::unexpected(result.error());
  if (!context.options.json) return exit_status::kSuccess;
  View view;
  view.json["thread"] = thread->Json();
  view.json["result"] = "reverted";
  return EmitOk(context, view);
}

}  // namespace

Runner AddImpersonate(CLI::App& app) { return Bind(app, RunImpersonate); }
Runner AddRevert(CLI::App&) { return RunRevert; }

}  // namespace tokenfs::cli
