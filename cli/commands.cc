#include "cli/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "cli/text.h"

namespace tokenfs::cli {
namespace {

CliResult<int32_t> ParsePositiveId(const std::string& text,
                                   std::string_view what) {
  const auto value = ParseDecimal(text, INT32_MAX);
  if (!value || *value == 0) {
    return UsageError("invalid " + std::string(what) + " '" + text +
                      "' (a positive decimal number)");
  }
  return static_cast<int32_t>(*value);
}

}  // namespace

CliResult<std::optional<TargetSpec>> TargetFromFlags(const Options& options) {
  const struct {
    const char* flag;
    int count;
  } counts[] = {{"--self", options.self_count}, {"--real", options.real_count},
                {"--pid", options.pid_count},   {"--tid", options.tid_count},
                {"--peer", options.peer_count}, {"--id", options.id_count}};
  std::vector<std::string> given;
  for (const auto& [flag, count] : counts) {
    if (count > 1) {
      return UsageError(std::string(flag) + " given more than once");
    }
    if (count == 1 && std::string_view(flag) != "--tid") given.push_back(flag);
  }
  if (given.size() > 1) {
    return UsageError("conflicting target flags " + Join(given, " and ") +
                      " (give one of --self, --real, --pid, --peer, --id)");
  }
  if (options.tid_count > 0 && options.pid_count == 0) {
    return UsageError("--tid requires --pid");
  }
  if (given.empty()) return std::optional<TargetSpec>();
  TargetSpec spec;
  if (options.self_count > 0) {
    spec.kind = TargetSpec::Kind::kSelf;
  } else if (options.real_count > 0) {
    spec.kind = TargetSpec::Kind::kReal;
  } else if (options.pid_count > 0) {
    auto pid = ParsePositiveId(*options.pid, "pid");
    if (!pid) return tl::unexpected(pid.error());
    spec.kind = TargetSpec::Kind::kProcess;
    spec.pid = *pid;
    if (options.tid_count > 0) {
      auto tid = ParsePositiveId(*options.tid, "tid");
      if (!tid) return tl::unexpected(tid.error());
      spec.kind = TargetSpec::Kind::kThread;
      spec.tid = *tid;
    }
  } else if (options.peer_count > 0) {
    const auto fd = ParseDecimal(*options.peer, INT32_MAX);
    if (!fd) {
      return UsageError("invalid --peer '" + *options.peer +
                        "' (a file descriptor number)");
    }
    spec.kind = TargetSpec::Kind::kPeer;
    spec.peer_fd = static_cast<int>(*fd);
  } else {
    const auto id = ParseDecimal(*options.id, UINT64_MAX);
    if (!id) {
      return UsageError("invalid --id '" + *options.id +
                        "' (a token object id)");
    }
    spec.kind = TargetSpec::Kind::kObject;
    spec.object_id = *id;
  }
  return std::optional<TargetSpec>(spec);
}

CliResult<ResolvedTarget> ResolveTarget(const Context& context) {
  auto spec = TargetFromFlags(context.options);
  if (!spec) return tl::unexpected(spec.error());
  return context.mount.Resolve(spec->value_or(TargetSpec{}));
}

CliStatus RejectTargetFlags(const Options& options,
                            std::string_view subcommand) {
  if (options.self_count + options.real_count + options.pid_count +
          options.tid_count + options.peer_count + options.id_count >
      0) {
    return UsageError(std::string(subcommand) + " takes no target flags");
  }
  return {};
}

CliStatus Emit(const Context& context, const View& view) {
  const std::string text = context.options.json
                               ? FormatJson(Restyle(view.json, context.style))
                               : view.lines.Render();
  if (!WriteAll(STDOUT_FILENO, text)) {
    return Fail(exit_status::kFailure,
                std::string("writing the output: ") + std::strerror(errno));
  }
  return {};
}

CliResult<int> EmitOk(const Context& context, const View& view) {
  if (auto status = Emit(context, view); !status) {
    return tl::unexpected(status.error());
  }
  return exit_status::kSuccess;
}

View StartView(const Context& context, const ResolvedTarget& target) {
  View view;
  view.style = context.style;
  view.json["target"] = target.Json();
  return view;
}

void Notice(std::string_view text) {
  WriteAll(STDERR_FILENO, "token: notice: " + std::string(text) + "\n");
}

CliResult<std::string> ReadInput(const std::string& path,
                                 std::string_view what) {
  const bool standard_input = path.empty() || path == "-";
  const int fd = standard_input ? STDIN_FILENO
                                : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return InvalidInput("invalid " + std::string(what) + ": reading " + path +
                        ": " + std::strerror(errno));
  }
  std::string content;
  char buffer[65536];
  while (true) {
    const ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      const int error = errno;
      if (!standard_input) ::close(fd);
      return InvalidInput("invalid " + std::string(what) + ": reading " +
                          (standard_input ? "standard input" : path) + ": " +
                          std::strerror(error));
    }
    if (count == 0) break;
    content.append(buffer, static_cast<size_t>(count));
    // Specs are at most 64 KiB binary, 1 MiB JSON: refuse runaway input.
    if (content.size() > (4u << 20)) {
      if (!standard_input) ::close(fd);
      return InvalidInput("invalid " + std::string(what) + ": " +
                          (standard_input ? "standard input" : path) +
                          " is larger than 4 MiB");
    }
  }
  if (!standard_input) ::close(fd);
  return content;
}

CliResult<int> RunCommand(const Options& options, const Runner& run) {
  if (options.raw && options.label) {
    return UsageError("--raw and --label conflict (give one)");
  }
  Context context{options, Mount::FromEnvironment(), SidStyle::kLabeled};
  if (options.raw) context.style = SidStyle::kRaw;
  if (options.label) context.style = SidStyle::kLabelOnly;
  return run(context);
}

}  // namespace tokenfs::cli
