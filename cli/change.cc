// Subcommands that change tokens or make new ones: adjust, duplicate,
// restrict, create, install, link, persist, revoke, and the spec converter.
//
// Every input is validated with the core parsers before anything is written,
// so a typo is reported precisely (exit 4) and nothing is half-applied.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "cli/commands.h"
#include "cli/text.h"
#include "core/ascii.h"
#include "core/capability.h"
#include "core/commands.h"
#include "core/privilege.h"
#include "core/token.h"
#include "core/token_spec.h"
#include "core/token_spec_json.h"
#include "core/well_known_sids.h"

namespace tokenfs::cli {
namespace {

// The result of a transaction that made a token object: "id  N", "path  P".
struct NewObject {
  uint64_t id = 0;
  std::string path;
  std::vector<std::string> narrowed;
  std::vector<std::string> dropped;
};

CliResult<NewObject> ParseNewObject(std::string_view text,
                                    const std::string& what) {
  NewObject object;
  bool have_id = false;
  for (const auto& [key, value] : ParseKeyValueLines(text)) {
    if (key == "id") {
      const auto id = ParseDecimal(value, UINT64_MAX);
      if (id) {
        object.id = *id;
        have_id = true;
      }
    } else if (key == "path") {
      object.path = value;
    } else if (key == "narrowed") {
      object.narrowed.push_back(value);
    } else if (key == "dropped") {
      object.dropped.push_back(value);
    }
  }
  if (!have_id) {
    return Fail(exit_status::kFailure,
                "tokenfs did not report the new token's id for " + what);
  }
  return object;
}

void AddNewObject(const Context& context, const NewObject& object, View& view) {
  view.lines.Plain(std::to_string(object.id));
  view.json["id"] = object.id;
  view.json["path"] = object.path.empty() ? context.mount.root() + "/objects/" +
                                                std::to_string(object.id)
                                          : object.path;
}

// Writes `command` to the persist file of token object `id`, the one file
// that decides how long an object lives (persist, revoke, hand over).
CliStatus WritePersist(const Context& context, uint64_t id,
                       std::string_view command, const Operation& operation) {
  const std::string id_text = std::to_string(id);
  auto done = context.mount.Transact(
      context.mount.root() + "/objects/" + id_text + "/persist", command,
      "token object " + id_text, operation);
  if (!done) return tl::unexpected(done.error());
  return {};
}

CliStatus MakePersistent(const Context& context, uint64_t id) {
  return WritePersist(context, id, "yes", Operation{"keeping it", "QUERY"});
}

// `holder=pid:<the process that ran token>`.
std::string HolderItem() {
  return "holder=pid:" + std::to_string(static_cast<long>(::getppid()));
}

// Hands a new object to the process that ran token, so it outlives token.
CliStatus HandToInvoker(const Context& context, uint64_t id) {
  return WritePersist(context, id, HolderItem(),
                      Operation{"handing it to the invoking process", ""});
}

// Adjust privs/groups: items or reset.
CliResult<std::string> AdjustListCommand(const Options& options,
                                         std::string_view what) {
  if (options.reset && !options.positionals.empty()) {
    return UsageError("adjust " + std::string(what) +
                      ": --reset takes no items");
  }
  if (options.reset) return std::string("reset");
  if (options.positionals.empty()) {
    return UsageError("adjust " + std::string(what) +
                      ": give ITEM=STATE items, `reset` or --reset");
  }
  return Join(options.positionals, " ");
}

// Reads a spec file and returns its binary form, validated.
CliResult<std::string> ReadSpec(const std::string& path) {
  auto text = ReadInput(path, "spec");
  if (!text) return tl::unexpected(text.error());
  const size_t first = text->find_first_not_of(" \t\r\n");
  if (first != std::string::npos && (*text)[first] == '{') {
    auto binary = TokenSpecJsonToBinary(*text);
    if (!binary) return InvalidInput("invalid spec: " + binary.error().message);
    return std::string(binary->begin(), binary->end());
  }
  const std::span<const uint8_t> bytes(
      reinterpret_cast<const uint8_t*>(text->data()), text->size());
  auto decoded = DecodeTokenSpec(bytes);
  if (!decoded) return InvalidInput("invalid spec: " + decoded.error().message);
  return std::move(*text);
}

CliResult<NewObject> CreateObject(const Context& context,
                                  const std::string& spec) {
  auto text =
      context.mount.Transact(context.mount.root() + "/create", spec, "create",
                             Operation{"creating a token", "SeCreateToken"});
  if (!text) return tl::unexpected(text.error());
  return ParseNewObject(*text, "create");
}

// The object named by `persist ID` / `revoke ID` or --id.
CliResult<uint64_t> ObjectIdArgument(const Options& options,
                                     std::string_view subcommand) {
  auto flags = TargetFromFlags(options);
  if (!flags) return tl::unexpected(flags.error());
  const bool positional = !options.positionals.empty();
  if (flags->has_value()) {
    if (positional || (*flags)->kind != TargetSpec::Kind::kObject) {
      return UsageError(std::string(subcommand) +
                        " takes one token object: ID or --id ID");
    }
    return (*flags)->object_id;
  }
  if (!positional) {
    return UsageError(std::string(subcommand) + " needs a token object id");
  }
  const auto id = ParseDecimal(options.positionals[0], UINT64_MAX);
  if (!id) {
    return UsageError("invalid token object id '" + options.positionals[0] +
                      "'");
  }
  return *id;
}

}  // namespace

CliResult<int> RunAdjust(Context& context) {
  const Options& options = context.options;
  const std::string& command = options.command;
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  View view = StartView(context, *target);

  // (file, text, operation) steps, all validated before the first write.
  struct Step {
    std::string file;
    std::string text;
    Operation operation;
  };
  std::vector<Step> steps;
  if (command == "adjust privs") {
    auto text = AdjustListCommand(options, "privs");
    if (!text) return tl::unexpected(text.error());
    if (auto parsed = ParsePrivilegesCommand(*text); !parsed) {
      return InvalidInput("adjust privs: " + parsed.error().message);
    }
    steps.push_back(
        {"privs", *text, {"adjusting its privileges", "ADJUST_PRIVILEGES"}});
    view.json["privileges"] = *text;
  } else if (command == "adjust groups") {
    auto text = AdjustListCommand(options, "groups");
    if (!text) return tl::unexpected(text.error());
    if (auto parsed = ParseGroupsCommand(*text); !parsed) {
      return InvalidInput("adjust groups: " + parsed.error().message);
    }
    steps.push_back(
        {"groups", *text, {"adjusting its groups", "ADJUST_GROUPS"}});
    view.json["groups"] = *text;
  } else if (command == "adjust default") {
    if (!options.dacl && !options.owner_index && !options.group_index) {
      return UsageError(
          "adjust default: give at least one of --dacl, --owner-idx, "
          "--group-idx");
    }
    const Operation operation{"adjusting its defaults", "ADJUST_DEFAULT"};
    if (options.owner_index) {
      if (auto parsed = ParseSidSelector(*options.owner_index); !parsed) {
        return InvalidInput("adjust default --owner-idx: " +
                            parsed.error().message);
      }
      steps.push_back({"owner", *options.owner_index, operation});
      view.json["owner"] = *options.owner_index;
    }
    if (options.group_index) {
      if (auto parsed = ParseSidSelector(*options.group_index); !parsed) {
        return InvalidInput("adjust default --group-idx: " +
                            parsed.error().message);
      }
      steps.push_back({"group", *options.group_index, operation});
      view.json["primary_group"] = *options.group_index;
    }
    if (options.dacl) {
      if (auto parsed = ParseDefaultDaclCommand(*options.dacl); !parsed) {
        return InvalidInput("adjust default --dacl: " + parsed.error().message);
      }
      steps.push_back({"default-dacl", *options.dacl, operation});
      view.json["default_dacl"] = *options.dacl;
    }
  } else if (command == "adjust session") {
    const std::string& text = options.positionals.at(0);
    if (auto parsed = ParseSessionCommand(text); !parsed) {
      return InvalidInput("adjust session: " + parsed.error().message);
    }
    steps.push_back(
        {"session", text, {"changing its session", "ADJUST_SESSIONID"}});
    view.json["interactivity_scope"] = text;
  } else {
    const std::string& text = options.positionals.at(0);
    if (auto parsed = ParseIntegrityCommand(text); !parsed) {
      return InvalidInput("adjust integrity: unknown integrity level '" + text +
                          "' (untrusted, low, medium, medium-plus, high, "
                          "system, an RID or S-1-16-N)");
    }
    steps.push_back({"integrity",
                     text,
                     {"changing its integrity level", "ADJUST_DEFAULT"}});
    view.json["integrity"] = text;
  }

  std::vector<std::string> applied;
  for (const Step& step : steps) {
    auto done = context.mount.Transact(target->dir + "/" + step.file, step.text,
                                       target->label, step.operation);
    if (!done) {
      CliError error = done.error();
      if (!applied.empty()) {
        error.message += " (already applied: " + Join(applied, ", ") + ")";
      }
      return tl::unexpected(error);
    }
    applied.push_back(step.file);
  }
  view.json["result"] = "ok";
  if (!options.json) return exit_status::kSuccess;
  return EmitOk(context, view);
}

CliResult<int> RunDuplicate(Context& context) {
  const Options& options = context.options;
  std::vector<std::string> items;
  if (options.type) {
    if (auto type = ParseTokenType(*options.type); !type) {
      return InvalidInput("duplicate --type: " + type.error().message);
    }
    items.push_back("type=" + *options.type);
  }
  if (options.level) {
    if (auto level = ParseImpersonationLevel(*options.level); !level) {
      return InvalidInput("duplicate --level: " + level.error().message);
    }
    items.push_back("level=" + *options.level);
  }
  if (options.access) {
    auto rights = ParseRightsExpression(*options.access);
    if (!rights) {
      return InvalidInput("duplicate --access: " + rights.error().message);
    }
    items.push_back("access=" + FormatHex(rights->bits()));
  }
  if (options.persist) {
    items.push_back("persist");
  } else {
    // token acts for the process that ran it: the new object lives as long
    // as that one (or until revoked), not just as long as token.
    items.push_back(HolderItem());
  }
  const std::string text = Join(items, " ");
  if (auto parsed = ParseDuplicateCommand(text); !parsed) {
    return InvalidInput("duplicate: " + parsed.error().message);
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  auto result =
      // A newline ends the command; an empty write() would never reach the
      // tree, and an empty command is a plain copy.
      context.mount.Transact(target->dir + "/duplicate", text + "\n",
                             target->label,
                             Operation{"duplicating it", "DUPLICATE"});
  if (!result) return tl::unexpected(result.error());
  auto object = ParseNewObject(*result, target->label);
  if (!object) return tl::unexpected(object.error());
  View view;
  view.style = context.style;
  AddNewObject(context, *object, view);
  return EmitOk(context, view);
}

CliResult<int> RunRestrict(Context& context) {
  const Options& options = context.options;
  std::vector<std::string> items;
  if (options.drop_privs) {
    const std::string& value = *options.drop_privs;
    if (value.rfind("0x", 0) != 0 && value.rfind("0X", 0) != 0) {
      for (const std::string& name : Split(value, ',')) {
        if (auto bit = ParsePrivilegeName(name); !bit) {
          return InvalidInput("restrict --drop-privs: " + bit.error().message);
        }
      }
    }
    items.push_back("drop-privs=" + value);
  }
  if (options.deny) {
    for (const std::string& index : Split(*options.deny, ',')) {
      if (!ParseDecimal(index, UINT32_MAX)) {
        return InvalidInput("restrict --deny: '" + index +
                            "' is not a group index");
      }
    }
    items.push_back("deny=" + *options.deny);
  }
  if (options.deny_user) items.push_back("deny-user");
  if (options.restrict_sids) {
    std::vector<std::string> sids;
    for (const std::string& text : Split(*options.restrict_sids, ',')) {
      auto sid = ParseSidOrAlias(text);
      if (!sid) {
        return InvalidInput("restrict --restrict: '" + text +
                            "': " + sid.error().message);
      }
      sids.push_back(sid->ToString());
    }
    items.push_back("restrict=" + Join(sids, ","));
  }
  if (options.write_restricted) items.push_back("write-restricted");
  if (options.disable_max_privilege) items.push_back("disable-max-privilege");
  if (options.caps) {
    if (!options.caps->empty()) {
      for (const std::string& name : Split(*options.caps, ',')) {
        if (auto parsed = ParseCapabilityName(name); !parsed) {
          return InvalidInput("restrict --caps: " + parsed.error().message);
        }
      }
    }
    items.push_back("caps=" + *options.caps);
  }
  if (options.tighten) items.push_back("tighten");
  if (options.persist) {
    items.push_back("persist");
  } else {
    items.push_back(HolderItem());
  }
  const std::string text = Join(items, " ");
  if (auto parsed = ParseRestrictCommand(text); !parsed) {
    return InvalidInput("restrict: " + parsed.error().message);
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  auto result = context.mount.Transact(
      target->dir + "/restrict", text + "\n", target->label,
      Operation{"making a restricted copy of it", "DUPLICATE"});
  if (!result) return tl::unexpected(result.error());
  auto object = ParseNewObject(*result, target->label);
  if (!object) return tl::unexpected(object.error());
  for (const std::string& name : object->narrowed) {
    Notice("capability '" + name + "' narrowed to what the source token holds");
  }
  for (const std::string& name : object->dropped) {
    if (std::find(object->narrowed.begin(), object->narrowed.end(), name) ==
        object->narrowed.end()) {
      Notice("capability '" + name +
             "' dropped: the source token does not hold it");
    }
  }
  View view;
  view.style = context.style;
  AddNewObject(context, *object, view);
  view.json["narrowed"] = object->narrowed;
  view.json["dropped"] = object->dropped;
  return EmitOk(context, view);
}

CliResult<int> RunCreate(Context& context) {
  const Options& options = context.options;
  if (auto status = RejectTargetFlags(options, "create"); !status) {
    return tl::unexpected(status.error());
  }
  auto spec = ReadSpec(options.positionals.at(0));
  if (!spec) return tl::unexpected(spec.error());
  auto object = CreateObject(context, *spec);
  if (!object) return tl::unexpected(object.error());
  if (auto status = options.persist ? MakePersistent(context, object->id)
                                    : HandToInvoker(context, object->id);
      !status) {
    return tl::unexpected(status.error());
  }
  View view;
  view.style = context.style;
  AddNewObject(context, *object, view);
  return EmitOk(context, view);
}

CliResult<int> RunInstall(Context& context) {
  const Options& options = context.options;
  auto flags = TargetFromFlags(options);
  if (!flags) return tl::unexpected(flags.error());
  TargetSpec process;
  process.kind = TargetSpec::Kind::kReal;
  if (flags->has_value()) {
    const TargetSpec::Kind kind = (*flags)->kind;
    if (kind == TargetSpec::Kind::kProcess) {
      process = **flags;
    } else if (kind != TargetSpec::Kind::kSelf &&
               kind != TargetSpec::Kind::kReal) {
      return UsageError(
          "install: the target is a process: --self/--real (the invoking "
          "process) or --pid PID");
    }
  }
  auto target = context.mount.Resolve(process);
  if (!target) return tl::unexpected(target.error());
  auto spec = ReadSpec(options.positionals.at(0));
  if (!spec) return tl::unexpected(spec.error());
  auto object = CreateObject(context, *spec);
  if (!object) return tl::unexpected(object.error());
  const std::string process_dir =
      context.mount.root() + "/" + std::to_string(target->pid);
  auto done = context.mount.Transact(
      process_dir + "/install", "id:" + std::to_string(object->id),
      target->label,
      Operation{"installing a primary token", "SeAssignPrimaryToken"});
  if (!done) return tl::unexpected(done.error());
  View view = StartView(context, *target);
  AddNewObject(context, *object, view);
  view.json["installed"] = true;
  return EmitOk(context, view);
}

CliResult<int> RunLink(Context& context) {
  const Options& options = context.options;
  if (auto status = RejectTargetFlags(options, "link"); !status) {
    return tl::unexpected(status.error());
  }
  auto elevated_spec = ParseTargetReference(*options.elevated);
  if (!elevated_spec) return tl::unexpected(elevated_spec.error());
  auto filtered_spec = ParseTargetReference(*options.filtered);
  if (!filtered_spec) return tl::unexpected(filtered_spec.error());
  auto elevated = context.mount.Resolve(*elevated_spec);
  if (!elevated) return tl::unexpected(elevated.error());
  auto filtered = context.mount.Resolve(*filtered_spec);
  if (!filtered) return tl::unexpected(filtered.error());
  const std::string text = "elevated=" + elevated->reference +
                           " filtered=" + filtered->reference +
                           " session=" + *options.session;
  if (auto parsed = ParseLinkCommand(text, context.mount.root()); !parsed) {
    return InvalidInput("link: " + parsed.error().message);
  }
  auto done = context.mount.Transact(
      context.mount.root() + "/link", text,
      "link of " + elevated->label + " and " + filtered->label,
      Operation{"linking the tokens", "SeTcb"});
  if (!done) return tl::unexpected(done.error());
  if (!options.json) return exit_status::kSuccess;
  View view;
  view.style = context.style;
  view.json["elevated"] = elevated->Json();
  view.json["filtered"] = filtered->Json();
  view.json["session"] = *options.session;
  view.json["result"] = "ok";
  return EmitOk(context, view);
}

CliResult<int> RunPersist(Context& context) {
  auto id = ObjectIdArgument(context.options, "persist");
  if (!id) return tl::unexpected(id.error());
  if (auto status = MakePersistent(context, *id); !status) {
    return tl::unexpected(status.error());
  }
  if (!context.options.json) return exit_status::kSuccess;
  View view;
  view.json["id"] = *id;
  view.json["persist"] = true;
  return EmitOk(context, view);
}

CliResult<int> RunRevoke(Context& context) {
  auto id = ObjectIdArgument(context.options, "revoke");
  if (!id) return tl::unexpected(id.error());
  if (auto status = WritePersist(context, *id, "revoke",
                                 Operation{"revoking it", "QUERY"});
      !status) {
    return tl::unexpected(status.error());
  }
  if (!context.options.json) return exit_status::kSuccess;
  View view;
  view.json["id"] = *id;
  view.json["revoked"] = true;
  return EmitOk(context, view);
}

CliResult<int> RunSpec(Context& context) {
  const Options& options = context.options;
  if (auto status = RejectTargetFlags(options, options.command); !status) {
    return tl::unexpected(status.error());
  }
  const std::string path =
      options.positionals.empty() ? "-" : options.positionals[0];
  const bool encode = options.command == "spec encode";
  if (encode && ::isatty(STDOUT_FILENO)) {
    return UsageError(
        "spec encode: refusing to write a binary token spec to a terminal "
        "(redirect standard output to a file or pipe)");
  }
  auto input = ReadInput(path, "spec");
  if (!input) return tl::unexpected(input.error());
  std::string output;
  if (encode) {
    auto binary = TokenSpecJsonToBinary(*input);
    if (!binary) return InvalidInput("invalid spec: " + binary.error().message);
    output.assign(binary->begin(), binary->end());
  } else {
    const CapabilityNames names;
    auto json = TokenSpecBinaryToJson(
        std::span<const uint8_t>(
            reinterpret_cast<const uint8_t*>(input->data()), input->size()),
        &names);
    if (!json) return InvalidInput("invalid spec: " + json.error().message);
    output = std::move(*json);
  }
  if (!WriteAll(STDOUT_FILENO, output)) {
    return Fail(exit_status::kFailure,
                std::string("writing the spec: ") + std::strerror(errno));
  }
  return exit_status::kSuccess;
}

}  // namespace tokenfs::cli
