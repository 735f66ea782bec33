// Subcommands that change tokens or make new ones: adjust, duplicate,
// restrict, create, install, link, persist, revoke, and the spec converter.
//
// Every input is validated with the core parsers before anything is written,
// so a typo is reported precisely (exit 4) and nothing is half-applied.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
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

// A new object without --persist lives as long as the process that ran
// token (the shell): an id printed to a terminal looks permanent, so say
// so there (stderr; a script capturing stdout gets the id alone).
void NoteHolder(uint64_t id, bool persist) {
  if (persist || ::isatty(STDOUT_FILENO) != 1) return;
  Notice("token object " + std::to_string(id) +
         " is held by the process that ran token (pid " +
         std::to_string(static_cast<long>(::getppid())) +
         ") and goes away when it exits; --persist keeps it until "
         "`token revoke " + std::to_string(id) + "`");
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

// --persist, for the subcommands that make a token object (duplicate,
// restrict, create).
void AddPersistFlag(CLI::App& app, bool& persist) {
  app.add_flag("--persist", persist, "keep the new token until `token revoke`");
}

// adjust privs and adjust groups.
struct AdjustListFlags {
  std::vector<std::string> items;
  bool reset = false;

  void Register(CLI::App& app) {
    app.add_option("ITEM", items,
                   "NAME=STATE items (NAME: a privilege, or a group's index "
                   "as `token groups` numbers it, SID or name), or `reset`");
    app.add_flag("--reset", reset, "restore the enabled-by-default states");
  }
};

// Adjust privs/groups: items or reset.
CliResult<std::string> AdjustListCommand(const AdjustListFlags& flags,
                                         std::string_view what) {
  if (flags.reset && !flags.items.empty()) {
    return UsageError("adjust " + std::string(what) +
                      ": --reset takes no items");
  }
  if (flags.reset) return std::string("reset");
  if (flags.items.empty()) {
    return UsageError("adjust " + std::string(what) +
                      ": give ITEM=STATE items, `reset` or --reset");
  }
  return Join(flags.items, " ");
}

struct AdjustDefaultFlags {
  std::optional<std::string> dacl;
  std::optional<std::string> owner_index;
  std::optional<std::string> group_index;

  void Register(CLI::App& app) {
    app.add_option("--dacl", dacl,
                   "new default DACL in SDDL (D:(A;;GA;;;SY)...), or `none`")
        ->type_name("SDDL");
    app.add_option("--owner-idx", owner_index,
                   "default owner: `user`, a group index as `token groups` "
                   "numbers it, a SID or a name")
        ->type_name("N");
    app.add_option("--group-idx", group_index,
                   "primary group: `user`, a group index as `token groups` "
                   "numbers it, a SID or a name")
        ->type_name("N");
  }
};

struct AdjustSessionFlags {
  std::vector<std::string> id;

  void Register(CLI::App& app) {
    app.add_option("ID", id, "the new interactive session id (needs SeTcb)")
        ->required()
        ->expected(1);
  }
};

struct AdjustIntegrityFlags {
  std::vector<std::string> level;

  void Register(CLI::App& app) {
    app.add_option("LEVEL", level,
                   "untrusted, low, medium, medium-plus, high, system, an RID "
                   "or S-1-16-N; raising needs SeTcb")
        ->required()
        ->expected(1);
  }
};

struct DuplicateFlags {
  std::optional<std::string> type;
  std::optional<std::string> level;
  std::optional<std::string> access;
  bool persist = false;

  void Register(CLI::App& app) {
    app.add_option("--type", type, "primary (default) or impersonation")
        ->type_name("TYPE");
    app.add_option("--level", level,
                   "impersonation level: anonymous, identification, "
                   "impersonation (default for impersonation tokens), "
                   "delegation")
        ->type_name("LEVEL");
    app.add_option("--access", access,
                   "rights of the new handle (names or a number)")
        ->type_name("RIGHTS");
    AddPersistFlag(app, persist);
  }
};

struct RestrictFlags {
  std::optional<std::string> drop_privs;
  std::optional<std::string> deny;
  std::optional<std::string> restrict_sids;
  std::optional<std::string> caps;
  bool write_restricted = false;
  bool deny_user = false;
  bool disable_max_privilege = false;
  bool tighten = false;
  bool persist = false;

  void Register(CLI::App& app) {
    app.add_option("--drop-privs", drop_privs,
                   "privileges to delete: 0xMASK or NAME,NAME (short, full "
                   "or bit numbers)")
        ->type_name("MASK|NAMES");
    app.add_option("--deny", deny,
                   "group indices to make deny-only (see `token groups`)")
        ->type_name("IDX,...");
    app.add_flag("--deny-user", deny_user, "make the user SID deny-only");
    app.add_option("--restrict", restrict_sids,
                   "restricting SIDs (S-... or SDDL aliases)")
        ->type_name("SID,...");
    app.add_flag("--write-restricted", write_restricted,
                 "the restricting SIDs apply to write access only");
    app.add_flag("--disable-max-privilege", disable_max_privilege,
                 "delete every privilege but SeChangeNotify");
    app.add_option("--caps", caps,
                   "the capabilities of the new token (\"\" for none); must "
                   "be held by the source")
        ->type_name("CAP,...");
    app.add_flag("--tighten", tighten,
                 "narrow capabilities the source does not hold instead of "
                 "failing");
    AddPersistFlag(app, persist);
  }
};

// The SPEC of create and install.
void AddSpecArgument(CLI::App& app, std::vector<std::string>& spec) {
  app.add_option("SPEC", spec,
                 "binary token spec, or its JSON form; - for standard input")
      ->required()
      ->expected(1);
}

struct CreateFlags {
  std::vector<std::string> spec;
  bool persist = false;

  void Register(CLI::App& app) {
    AddSpecArgument(app, spec);
    AddPersistFlag(app, persist);
  }
};

struct InstallFlags {
  std::vector<std::string> spec;

  void Register(CLI::App& app) { AddSpecArgument(app, spec); }
};

struct LinkFlags {
  std::optional<std::string> elevated;
  std::optional<std::string> filtered;
  std::optional<std::string> session;

  void Register(CLI::App& app) {
    app.add_option("--elevated", elevated,
                   "the full token: id:N, pid:N, pid:N/TID, self, real, "
                   "peer:FD")
        ->type_name("REF")
        ->required();
    app.add_option("--filtered", filtered, "the limited token")
        ->type_name("REF")
        ->required();
    app.add_option("--session", session, "the logon session id the pair shares")
        ->type_name("ID")
        ->required();
  }
};

// persist and revoke.
struct ObjectIdFlags {
  std::vector<std::string> id;

  void Register(CLI::App& app) {
    app.add_option("ID", id, "token object id (or give --id)")
        ->expected(0, 1);
  }
};

// spec encode and spec decode.
struct SpecFileFlags {
  std::vector<std::string> file;

  void Register(CLI::App& app) {
    app.add_option("FILE", file, "input file; - or none for standard input")
        ->expected(0, 1);
  }
};

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
                                     const ObjectIdFlags& arguments,
                                     std::string_view subcommand) {
  auto flags = TargetFromFlags(options);
  if (!flags) return tl::unexpected(flags.error());
  const bool positional = !arguments.id.empty();
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
  const auto id = ParseDecimal(arguments.id[0], UINT64_MAX);
  if (!id) {
    return UsageError("invalid token object id '" + arguments.id[0] + "'");
  }
  return *id;
}

// One write of an adjust subcommand: the text for one file of the target.
struct AdjustStep {
  std::string file;
  std::string text;
  Operation operation;
};

// Resolves the target, lets `plan` validate the input and list the steps
// (and note them in the view), then applies them all: nothing is written
// unless every step is valid.
// One line of a token's `groups` file: "<index>  <SID>  <attributes>[  <label>]".
struct GroupRow {
  std::string index;
  std::string sid;
  std::string label;
};

CliResult<std::vector<GroupRow>> ReadGroupRows(Context& context,
                                               const ResolvedTarget& target) {
  auto text = context.mount.Read(target, "groups", kReadOperation);
  if (!text) return tl::unexpected(text.error());
  std::vector<GroupRow> rows;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    const std::string line = text->substr(start, end - start);
    start = end + 1;
    std::vector<std::string> fields;
    size_t from = 0;
    while (true) {
      const size_t gap = line.find("  ", from);
      fields.push_back(line.substr(from, gap - from));
      if (gap == std::string::npos) break;
      from = gap + 2;
    }
    if (fields.size() < 3) continue;
    rows.push_back({fields[0], fields[1], fields.size() > 3 ? fields[3] : ""});
  }
  return rows;
}

// Whether `name` names the account `label` ("Unix Group\alice", "Everyone"):
// the whole label or the part after its backslash, in any case.
bool NamesLabel(std::string_view name, std::string_view label) {
  if (label.empty()) return false;
  if (EqualsIgnoreCase(name, label)) return true;
  const size_t slash = label.rfind('\\');
  return slash != std::string_view::npos &&
         EqualsIgnoreCase(name, label.substr(slash + 1));
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

// The `token groups` index of the group `text` names: its index, its SID
// or its name (see NamesLabel). `what` prefixes the error.
CliResult<std::string> GroupIndexOf(const std::vector<GroupRow>& rows,
                                    std::string_view text,
                                    const std::string& what) {
  const bool by_sid = text.size() > 2 && (text[0] == 'S' || text[0] == 's') &&
                      text[1] == '-';
  std::vector<const GroupRow*> found;
  for (const GroupRow& row : rows) {
    if (AllDigits(text) ? row.index == text
        : by_sid        ? EqualsIgnoreCase(row.sid, text)
                        : NamesLabel(text, row.label)) {
      found.push_back(&row);
    }
  }
  if (found.size() == 1) return found[0]->index;
  const std::string shown(text);
  if (found.empty()) {
    return InvalidInput(what + ": no group " +
                        (AllDigits(text) ? "with index " : "") + shown +
                        " in the token (`token groups` lists them)");
  }
  std::string candidates;
  for (const GroupRow* row : found) {
    candidates += (candidates.empty() ? "" : ", ") + row->index + " " + row->sid;
  }
  return InvalidInput(what + ": '" + shown + "' names " +
                      std::to_string(found.size()) + " groups (" + candidates +
                      "); give the index or the SID");
}

// adjust groups items NAME=STATE with NAME an index, a SID or a group name,
// as the groups file's INDEX=STATE.
CliResult<std::string> GroupItemsByIndex(Context& context,
                                         const ResolvedTarget& target,
                                         const std::vector<std::string>& items) {
  std::optional<std::vector<GroupRow>> rows;
  std::vector<std::string> out;
  for (const std::string& item : items) {
    const size_t equals = item.rfind('=');
    if (equals == std::string::npos || AllDigits(item.substr(0, equals)) ||
        AsciiLower(item) == "reset") {
      out.push_back(item);
      continue;
    }
    const std::string state = AsciiLower(item.substr(equals + 1));
    if (state != "enabled" && state != "disabled") {
      return InvalidInput("adjust groups '" + item +
                          "': expected enabled or disabled after '='");
    }
    if (!rows) {
      auto read = ReadGroupRows(context, target);
      if (!read) return tl::unexpected(read.error());
      rows = std::move(*read);
    }
    auto index = GroupIndexOf(*rows, item.substr(0, equals),
                              "adjust groups '" + item + "'");
    if (!index) return tl::unexpected(index.error());
    out.push_back(*index + item.substr(equals));
  }
  return Join(out, " ");
}

// --owner-idx / --group-idx: `user`, an index as `token groups` prints it,
// a SID, or the user's or a group's name; returns what the owner and group
// files take (an index into [user, groups...], so group N is N+1, or a SID).
CliResult<std::string> DefaultSelector(Context& context,
                                       const ResolvedTarget& target,
                                       const std::string& text,
                                       const std::string& what) {
  if (EqualsIgnoreCase(text, "user")) return std::string("0");
  if (text.size() > 2 && (text[0] == 'S' || text[0] == 's') && text[1] == '-') {
    if (auto parsed = ParseSidSelector(text); !parsed) {
      return InvalidInput(what + ": " + parsed.error().message);
    }
    return text;
  }
  if (!AllDigits(text)) {
    auto user = context.mount.Read(target, "user", kReadOperation);
    if (!user) return tl::unexpected(user.error());
    const size_t gap = user->find("  ");
    std::string label =
        gap == std::string::npos ? "" : user->substr(gap + 2);
    while (!label.empty() && label.back() == '\n') label.pop_back();
    if (NamesLabel(text, label)) return std::string("0");
  }
  auto rows = ReadGroupRows(context, target);
  if (!rows) return tl::unexpected(rows.error());
  auto index = GroupIndexOf(*rows, text, what);
  if (!index) return tl::unexpected(index.error());
  return std::to_string(std::stoul(*index) + 1);
}

template <typename Plan>
CliResult<int> Adjust(Context& context, Plan plan) {
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  View view = StartView(context, *target);
  std::vector<AdjustStep> steps;
  if (CliStatus planned = plan(*target, view, steps); !planned) {
    return tl::unexpected(planned.error());
  }
  std::vector<std::string> applied;
  for (const AdjustStep& step : steps) {
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
  if (!context.options.json) return exit_status::kSuccess;
  return EmitOk(context, view);
}

CliResult<int> RunAdjustPrivs(Context& context, const AdjustListFlags& flags) {
  return Adjust(context, [&](const ResolvedTarget& /*target*/, View& view,
                                 std::vector<AdjustStep>& steps)
                             -> CliStatus {
    auto text = AdjustListCommand(flags, "privs");
    if (!text) return tl::unexpected(text.error());
    if (auto parsed = ParsePrivilegesCommand(*text); !parsed) {
      return InvalidInput("adjust privs: " + parsed.error().message);
    }
    steps.push_back(
        {"privs", *text, {"adjusting its privileges", "ADJUST_PRIVILEGES"}});
    view.json["privileges"] = *text;
    return {};
  });
}

CliResult<int> RunAdjustGroups(Context& context, const AdjustListFlags& flags) {
  return Adjust(context, [&](const ResolvedTarget& target, View& view,
                                 std::vector<AdjustStep>& steps)
                             -> CliStatus {
    auto text = AdjustListCommand(flags, "groups");
    if (!text) return tl::unexpected(text.error());
    if (!flags.reset) {
      text = GroupItemsByIndex(context, target, flags.items);
      if (!text) return tl::unexpected(text.error());
    }
    if (auto parsed = ParseGroupsCommand(*text); !parsed) {
      return InvalidInput("adjust groups: " + parsed.error().message);
    }
    steps.push_back(
        {"groups", *text, {"adjusting its groups", "ADJUST_GROUPS"}});
    view.json["groups"] = *text;
    return {};
  });
}

CliResult<int> RunAdjustDefault(Context& context,
                                const AdjustDefaultFlags& flags) {
  return Adjust(context, [&](const ResolvedTarget& target, View& view,
                                 std::vector<AdjustStep>& steps)
                             -> CliStatus {
    if (!flags.dacl && !flags.owner_index && !flags.group_index) {
      return UsageError(
          "adjust default: give at least one of --dacl, --owner-idx, "
          "--group-idx");
    }
    const Operation operation{"adjusting its defaults", "ADJUST_DEFAULT"};
    if (flags.owner_index) {
      auto selector = DefaultSelector(context, target, *flags.owner_index,
                                      "adjust default --owner-idx");
      if (!selector) return tl::unexpected(selector.error());
      steps.push_back({"owner", *selector, operation});
      view.json["owner"] = *flags.owner_index;
    }
    if (flags.group_index) {
      auto selector = DefaultSelector(context, target, *flags.group_index,
                                      "adjust default --group-idx");
      if (!selector) return tl::unexpected(selector.error());
      steps.push_back({"group", *selector, operation});
      view.json["primary_group"] = *flags.group_index;
    }
    if (flags.dacl) {
      if (auto parsed = ParseDefaultDaclCommand(*flags.dacl); !parsed) {
        return InvalidInput("adjust default --dacl: " + parsed.error().message);
      }
      steps.push_back({"default-dacl", *flags.dacl, operation});
      view.json["default_dacl"] = *flags.dacl;
    }
    return {};
  });
}

CliResult<int> RunAdjustSession(Context& context,
                                const AdjustSessionFlags& flags) {
  return Adjust(context, [&](const ResolvedTarget& /*target*/, View& view,
                                 std::vector<AdjustStep>& steps)
                             -> CliStatus {
    const std::string& text = flags.id.at(0);
    if (auto parsed = ParseSessionCommand(text); !parsed) {
      return InvalidInput("adjust session: " + parsed.error().message);
    }
    steps.push_back(
        {"session", text, {"changing its session", "ADJUST_SESSIONID"}});
    view.json["interactivity_scope"] = text;
    return {};
  });
}

CliResult<int> RunAdjustIntegrity(Context& context,
                                  const AdjustIntegrityFlags& flags) {
  return Adjust(context, [&](const ResolvedTarget& /*target*/, View& view,
                                 std::vector<AdjustStep>& steps)
                             -> CliStatus {
    const std::string& text = flags.level.at(0);
    if (auto parsed = ParseIntegrityCommand(text); !parsed) {
      return InvalidInput("adjust integrity: unknown integrity level '" + text +
                          "' (untrusted, low, medium, medium-plus, high, "
                          "system, an RID or S-1-16-N)");
    }
    steps.push_back({"integrity",
                     text,
                     {"changing its integrity level", "ADJUST_DEFAULT"}});
    view.json["integrity"] = text;
    return {};
  });
}

CliResult<int> RunDuplicate(Context& context, const DuplicateFlags& flags) {
  std::vector<std::string> items;
  if (flags.type) {
    if (auto type = ParseTokenType(*flags.type); !type) {
      return InvalidInput("duplicate --type: " + type.error().message);
    }
    items.push_back("type=" + *flags.type);
  }
  if (flags.level) {
    if (auto level = ParseImpersonationLevel(*flags.level); !level) {
      return InvalidInput("duplicate --level: " + level.error().message);
    }
    items.push_back("level=" + *flags.level);
  }
  if (flags.access) {
    auto rights = ParseRightsExpression(*flags.access);
    if (!rights) {
      return InvalidInput("duplicate --access: " + rights.error().message);
    }
    items.push_back("access=" + FormatHex(rights->bits()));
  }
  if (flags.persist) {
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
  NoteHolder(object->id, flags.persist);
  View view;
  view.style = context.style;
  AddNewObject(context, *object, view);
  return EmitOk(context, view);
}

CliResult<int> RunRestrict(Context& context, const RestrictFlags& flags) {
  std::vector<std::string> items;
  if (flags.drop_privs) {
    const std::string& value = *flags.drop_privs;
    if (value.rfind("0x", 0) != 0 && value.rfind("0X", 0) != 0) {
      for (const std::string& name : Split(value, ',')) {
        if (auto bit = ParsePrivilegeName(name); !bit) {
          return InvalidInput("restrict --drop-privs: " + bit.error().message);
        }
      }
    }
    items.push_back("drop-privs=" + value);
  }
  if (flags.deny) {
    for (const std::string& index : Split(*flags.deny, ',')) {
      if (!ParseDecimal(index, UINT32_MAX)) {
        return InvalidInput("restrict --deny: '" + index +
                            "' is not a group index");
      }
    }
    items.push_back("deny=" + *flags.deny);
  }
  if (flags.deny_user) items.push_back("deny-user");
  if (flags.restrict_sids) {
    std::vector<std::string> sids;
    for (const std::string& text : Split(*flags.restrict_sids, ',')) {
      auto sid = ParseSidOrAlias(text);
      if (!sid) {
        return InvalidInput("restrict --restrict: '" + text +
                            "': " + sid.error().message);
      }
      sids.push_back(sid->ToString());
    }
    items.push_back("restrict=" + Join(sids, ","));
  }
  if (flags.write_restricted) items.push_back("write-restricted");
  if (flags.disable_max_privilege) items.push_back("disable-max-privilege");
  if (flags.caps) {
    if (!flags.caps->empty()) {
      for (const std::string& name : Split(*flags.caps, ',')) {
        if (auto parsed = ParseCapabilityName(name); !parsed) {
          return InvalidInput("restrict --caps: " + parsed.error().message);
        }
      }
    }
    items.push_back("caps=" + *flags.caps);
  }
  if (flags.tighten) items.push_back("tighten");
  if (flags.persist) {
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
  NoteHolder(object->id, flags.persist);
  View view;
  view.style = context.style;
  AddNewObject(context, *object, view);
  view.json["narrowed"] = object->narrowed;
  view.json["dropped"] = object->dropped;
  return EmitOk(context, view);
}

CliResult<int> RunCreate(Context& context, const CreateFlags& flags) {
  if (auto status = RejectTargetFlags(context.options, "create"); !status) {
    return tl::unexpected(status.error());
  }
  auto spec = ReadSpec(flags.spec.at(0));
  if (!spec) return tl::unexpected(spec.error());
  auto object = CreateObject(context, *spec);
  if (!object) return tl::unexpected(object.error());
  if (auto status = flags.persist ? MakePersistent(context, object->id)
                                    : HandToInvoker(context, object->id);
      !status) {
    return tl::unexpected(status.error());
  }
  NoteHolder(object->id, flags.persist);
  View view;
  view.style = context.style;
  AddNewObject(context, *object, view);
  return EmitOk(context, view);
}

CliResult<int> RunInstall(Context& context, const InstallFlags& flags) {
  auto target_flags = TargetFromFlags(context.options);
  if (!target_flags) return tl::unexpected(target_flags.error());
  TargetSpec process;
  process.kind = TargetSpec::Kind::kReal;
  if (target_flags->has_value()) {
    const TargetSpec::Kind kind = (*target_flags)->kind;
    if (kind == TargetSpec::Kind::kProcess) {
      process = **target_flags;
    } else if (kind != TargetSpec::Kind::kSelf &&
               kind != TargetSpec::Kind::kReal) {
      return UsageError(
          "install: the target is a process: --self/--real (the invoking "
          "process) or --pid PID");
    }
  }
  auto target = context.mount.Resolve(process);
  if (!target) return tl::unexpected(target.error());
  auto spec = ReadSpec(flags.spec.at(0));
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

CliResult<int> RunLink(Context& context, const LinkFlags& flags) {
  if (auto status = RejectTargetFlags(context.options, "link"); !status) {
    return tl::unexpected(status.error());
  }
  auto elevated_spec = ParseTargetReference(*flags.elevated);
  if (!elevated_spec) return tl::unexpected(elevated_spec.error());
  auto filtered_spec = ParseTargetReference(*flags.filtered);
  if (!filtered_spec) return tl::unexpected(filtered_spec.error());
  auto elevated = context.mount.Resolve(*elevated_spec);
  if (!elevated) return tl::unexpected(elevated.error());
  auto filtered = context.mount.Resolve(*filtered_spec);
  if (!filtered) return tl::unexpected(filtered.error());
  const std::string text = "elevated=" + elevated->reference +
                           " filtered=" + filtered->reference +
                           " session=" + *flags.session;
  if (auto parsed = ParseLinkCommand(text, context.mount.root()); !parsed) {
    return InvalidInput("link: " + parsed.error().message);
  }
  auto done = context.mount.Transact(
      context.mount.root() + "/link", text,
      "link of " + elevated->label + " and " + filtered->label,
      Operation{"linking the tokens", "SeTcb"});
  if (!done) return tl::unexpected(done.error());
  if (!context.options.json) return exit_status::kSuccess;
  View view;
  view.style = context.style;
  view.json["elevated"] = elevated->Json();
  view.json["filtered"] = filtered->Json();
  view.json["session"] = *flags.session;
  view.json["result"] = "ok";
  return EmitOk(context, view);
}

CliResult<int> RunPersist(Context& context, const ObjectIdFlags& flags) {
  auto id = ObjectIdArgument(context.options, flags, "persist");
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

CliResult<int> RunRevoke(Context& context, const ObjectIdFlags& flags) {
  auto id = ObjectIdArgument(context.options, flags, "revoke");
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

// spec encode (`encode`) or spec decode.
CliResult<int> ConvertSpec(Context& context, const SpecFileFlags& flags,
                           bool encode) {
  if (auto status = RejectTargetFlags(
          context.options, encode ? "spec encode" : "spec decode");
      !status) {
    return tl::unexpected(status.error());
  }
  const std::string path = flags.file.empty() ? "-" : flags.file[0];
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

CliResult<int> RunSpecEncode(Context& context, const SpecFileFlags& flags) {
  return ConvertSpec(context, flags, true);
}

CliResult<int> RunSpecDecode(Context& context, const SpecFileFlags& flags) {
  return ConvertSpec(context, flags, false);
}

}  // namespace

Runner AddAdjustPrivs(CLI::App& app) { return Bind(app, RunAdjustPrivs); }
Runner AddAdjustGroups(CLI::App& app) { return Bind(app, RunAdjustGroups); }
Runner AddAdjustDefault(CLI::App& app) { return Bind(app, RunAdjustDefault); }
Runner AddAdjustSession(CLI::App& app) { return Bind(app, RunAdjustSession); }
Runner AddAdjustIntegrity(CLI::App& app) {
  return Bind(app, RunAdjustIntegrity);
}
Runner AddDuplicate(CLI::App& app) { return Bind(app, RunDuplicate); }
Runner AddRestrict(CLI::App& app) { return Bind(app, RunRestrict); }
Runner AddCreate(CLI::App& app) { return Bind(app, RunCreate); }
Runner AddInstall(CLI::App& app) { return Bind(app, RunInstall); }
Runner AddLink(CLI::App& app) { return Bind(app, RunLink); }
Runner AddPersist(CLI::App& app) { return Bind(app, RunPersist); }
Runner AddRevoke(CLI::App& app) { return Bind(app, RunRevoke); }
Runner AddSpecEncode(CLI::App& app) { return Bind(app, RunSpecEncode); }
Runner AddSpecDecode(CLI::App& app) { return Bind(app, RunSpecDecode); }

}  // namespace tokenfs::cli
