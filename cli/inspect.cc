// Inspection and diagnosis subcommands: show, the accessors, query, caps,
// diff, access, linked.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/commands.h"
#include "cli/text.h"
#include "core/access_mask.h"
#include "core/ascii.h"
#include "core/capability.h"
#include "core/commands.h"
#include "core/query_class.h"
#include "core/sddl.h"
#include "core/sid.h"
#include "core/token_spec_json.h"
#include "core/well_known_sids.h"

namespace tokenfs::cli {
namespace {

using PartFunction = void (*)(const TokenData&, View&);

// An accessor subcommand (user, privs, ...): the query classes it reads and
// the part of the token view it prints.
struct Accessor {
  // The query classes it reads (at most two); none = query/all.
  std::array<std::string_view, 2> classes;
  PartFunction part;

  std::vector<std::string_view> ClassList() const {
    std::vector<std::string_view> list;
    for (const std::string_view class_name : classes) {
      if (!class_name.empty()) list.push_back(class_name);
    }
    return list;
  }
};

constexpr Accessor kUser{{"user"}, AddUserValue};
constexpr Accessor kOwner{{"owner"}, AddOwnerValue};
constexpr Accessor kGroup{{"primarygroup"}, AddPrimaryGroupValue};
constexpr Accessor kGroups{{"groups"}, AddGroupsTypedPart};
constexpr Accessor kPrivs{{"privileges"}, AddPrivilegesPart};
constexpr Accessor kPrivsVerbose{{"privileges"}, AddPrivilegesVerbosePart};
constexpr Accessor kCaps{{"capabilities"}, AddCapabilitiesPart};
constexpr Accessor kClaims{{"userclaims", "deviceclaims"}, AddClaimsPart};
constexpr Accessor kIntegrity{{"integrity", "mandatorypolicy"},
                              AddIntegrityPart};
constexpr Accessor kLogon{{}, AddLogonPart};
constexpr Accessor kSource{{"source"}, AddSourcePart};
constexpr Accessor kOrigin{{"origin"}, AddOriginValue};
constexpr Accessor kStats{{}, AddStatisticsPart};
constexpr Accessor kDefaultDacl{{"defaultdacl"}, AddDefaultDaclValue};

CliResult<int> RunAccessor(Context& context, const Accessor& accessor) {
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  const std::vector<std::string_view> classes = accessor.ClassList();
  auto token =
      TokenData::Load(context.mount, *target, classes, classes.empty());
  if (!token) return tl::unexpected(token.error());
  View view = StartView(context, *target);
  accessor.part(*token, view);
  return EmitOk(context, view);
}

Runner AccessorRunner(const Accessor& accessor) {
  return [&accessor](Context& context) {
    return RunAccessor(context, accessor);
  };
}

// show's flags; bare `token` has none of its own (it reads the global
// --short and --all, as show does too).
struct ShowFlags {
  bool short_form = false;
  bool all = false;

  void Register(CLI::App& app) {
    app.add_flag("--short", short_form,
                 "one line: user, type, integrity, enabled privileges and "
                 "groups");
    app.add_flag("--all", all,
                 "every query class, in the fixed order of token(1)");
  }
};

// `bare`: the subcommand word was omitted, so the short form is the default.
CliResult<int> RunShow(Context& context, const ShowFlags& flags, bool bare) {
  const Options& options = context.options;
  const bool want_short = flags.short_form || options.short_form;
  const bool want_all = flags.all || options.all;
  if (want_short && want_all) {
    return UsageError("--short and --all conflict (give one)");
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  auto token = TokenData::Load(context.mount, *target, {}, true);
  if (!token) return tl::unexpected(token.error());
  View view = StartView(context, *target);
  const bool short_form = want_short || (bare && !want_all);
  if (short_form) {
    AddSummaryLine(*token, view);
  } else {
    AddPrincipalPart(*token, view);
    if (want_all) {
      AddIntegrityPart(*token, view);
      AddGroupsPart(*token, view);
      AddPrivilegesPart(*token, view);
      AddRestrictedPart(*token, view);
      AddDeviceGroupsPart(*token, view);
      AddCapabilitiesPart(*token, view);
      AddClaimsPart(*token, view);
      AddLogonPart(*token, view);
      AddSourcePart(*token, view);
      AddStatisticsPart(*token, view);
      AddDefaultDaclPart(*token, view);
      AddLinuxPart(*token, view, target->pid);
      AddSecurityPart(*token, view);
      view.json["origin"] = Member(view.json["logon"], "origin");
    }
  }
  return EmitOk(context, view);
}

struct QueryFlags {
  std::vector<std::string> positionals;

  void Register(CLI::App& app) {
    app.add_option("CLASS", positionals,
                   "query class names or aliases (case-insensitive) or ABI "
                   "numbers, or `all`; printed as JSON")
        ->required();
  }
};

struct CapsFlags {
  std::vector<std::string> check;  // empty unless --check was given

  void Register(CLI::App& app) {
    app.add_option("--check", check,
                   "exit 0 when the token holds every CAP, 3 when not")
        ->type_name("CAP")
        ->expected(1, -1);
  }
};

struct DiffFlags {
  std::vector<std::string> positionals;
  bool quiet = false;
  bool ids = false;

  void Register(CLI::App& app) {
    app.add_option("A", positionals,
                   "token references: self, real, pid:N, pid:N/TID, id:N, "
                   "peer:FD; B defaults to the target flags (--self)")
        ->expected(1, 2)
        ->required();
    app.add_flag("-q,--quiet", quiet,
                 "print nothing; exit 0 when equal, 6 when they differ");
    app.add_flag("--ids", ids,
                 "also compare token_id, modified_id, parent_token_id and "
                 "created, which differ between any two tokens");
  }
};

struct AccessFlags {
  std::optional<std::string> sd;
  std::optional<std::string> desired;
  std::optional<std::string> mapping;
  std::optional<std::string> intent;
  std::optional<std::string> principal_self;
  std::optional<std::string> domain_sid;
  std::optional<std::string> user_claims;
  std::optional<std::string> device_claims;

  void Register(CLI::App& app) {
    app.add_option("--sd", sd,
                   "the object's security descriptor in SDDL (default: the "
                   "token's own)")
        ->type_name("SDDL");
    app.add_option("--desired", desired,
                   "rights asked for: a number, names (QUERY|READ_CONTROL), "
                   "SDDL letters (GR, FA); default MAXIMUM_ALLOWED")
        ->type_name("RIGHTS");
    app.add_option("--mapping", mapping,
                   "generic mapping: token (default), file, directory, key, "
                   "process, thread, service, plain, or a custom GR,GW,GX,GA "
                   "in hex")
        ->type_name("MAPPING");
    app.add_option("--intent", intent,
                   "declared intent that lets SeBackup/SeRestore apply: "
                   "backup,restore")
        ->type_name("LIST");
    app.add_option("--principal-self", principal_self,
                   "the SID that PRINCIPAL SELF (PS) ACEs stand for")
        ->type_name("SID");
    app.add_option("--domain-sid", domain_sid,
                   "the domain SID (S-1-5-21-a-b-c) that LA, LG, DA, DU... "
                   "stand for (default: the daemon's machine domain)")
        ->type_name("SID");
    app.add_option("--user-claims", user_claims,
                   "user claims for conditional ACEs instead of the token's, "
                   "as a JSON array like token spec's user_claims")
        ->type_name("JSON");
    app.add_option("--device-claims", device_claims,
                   "device claims for conditional ACEs instead of the "
                   "token's: [{\"name\": \"managed\", \"type\": "
                   "\"boolean\", \"values\": [true]}]")
        ->type_name("JSON");
  }
};

// `value` double-quoted for a write command: \ and " escaped.
std::string QuotedItem(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// One class: its document. Several: an object of the documents keyed by
// class name, in the order given. `all` alone: query/all, every class.
CliResult<int> RunQuery(Context& context, const QueryFlags& flags) {
  std::vector<std::string> files;
  for (const std::string& name : flags.positionals) {
    if (EqualsIgnoreCase(name, "all")) {
      if (flags.positionals.size() != 1) {
        return UsageError("query: `all` already holds every class; give it "
                          "alone");
      }
      files.push_back("all");
      continue;
    }
    auto query_class = ParseQueryClass(name);
    if (!query_class) return UsageError(query_class.error().message);
    const std::string file(QueryClassName(*query_class));
    if (std::find(files.begin(), files.end(), file) != files.end()) {
      return UsageError("query: class " + file + " is named twice");
    }
    files.push_back(file);
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  Json result = Json::object();
  for (const std::string& file : files) {
    auto text = context.mount.Read(*target, "query/" + file, kReadOperation);
    if (!text) return tl::unexpected(text.error());
    auto document = ParseDaemonJson(*text, target->label);
    if (!document) return tl::unexpected(document.error());
    if (files.size() == 1) {
      result = std::move(*document);
    } else {
      result[file] = std::move(*document);
    }
  }
  // Several classes keep the order they were given in.
  std::string out;
  if (files.size() == 1) {
    out = FormatJson(Restyle(result, context.style));
  } else {
    out = "{\n";
    for (size_t i = 0; i < files.size(); ++i) {
      std::string member = FormatJson(Restyle(result[files[i]], context.style));
      while (!member.empty() && member.back() == '\n') member.pop_back();
      std::string indented;
      for (char c : member) {
        indented += c;
        if (c == '\n') indented += "  ";
      }
      out += "  " + Json(files[i]).dump() + ": " + indented +
             (i + 1 < files.size() ? ",\n" : "\n");
    }
    out += "}\n";
  }
  if (!WriteAll(STDOUT_FILENO, out)) {
    return Fail(exit_status::kFailure, "writing the output failed");
  }
  return exit_status::kSuccess;
}

CliResult<int> RunCaps(Context& context, const CapsFlags& flags) {
  const Options& options = context.options;
  if (flags.check.empty()) return RunAccessor(context, kCaps);
  std::vector<std::string> wanted;
  for (const std::string& name : flags.check) {
    auto canonical = ParseCapabilityName(name);
    if (!canonical) {
      return InvalidInput("caps --check: " + canonical.error().message);
    }
    wanted.push_back(*canonical);
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  const std::string_view classes[] = {"capabilities"};
  auto token = TokenData::Load(context.mount, *target, classes, false);
  if (!token) return tl::unexpected(token.error());
  std::vector<Capability> held;
  for (const Json& entry :
       Member(token->Decoded("capabilities"), "capabilities")) {
    auto sid = Sid::Parse(Text(Member(entry, "sid")));
    if (!sid) continue;
    held.push_back(Capability{Text(Member(entry, "name")), *sid});
  }
  View view = StartView(context, *target);
  view.json["held"] = Json::array();
  view.json["missing"] = Json::array();
  std::vector<std::string> missing;
  for (const std::string& name : wanted) {
    if (HasCapability(held, name)) {
      view.json["held"].push_back(name);
    } else {
      view.json["missing"].push_back(name);
      missing.push_back(name);
    }
  }
  if (options.json) {
    if (auto status = Emit(context, view); !status) {
      return tl::unexpected(status.error());
    }
  }
  if (missing.empty()) return exit_status::kSuccess;
  WriteAll(STDERR_FILENO, "token: " + target->label +
                              ": capability not held: " + Join(missing, ", ") +
                              "\n");
  return exit_status::kDenied;
}

CliResult<int> RunDiff(Context& context, const DiffFlags& flags) {
  const std::vector<std::string>& references = flags.positionals;
  if (references.empty() || references.size() > 2) {
    return UsageError("diff takes one or two token references");
  }
  auto first_spec = ParseTargetReference(references[0]);
  if (!first_spec) return tl::unexpected(first_spec.error());
  CliResult<ResolvedTarget> second = tl::unexpected(CliError{});
  if (references.size() == 2) {
    auto target_flags = TargetFromFlags(context.options);
    if (!target_flags) return tl::unexpected(target_flags.error());
    if (target_flags->has_value()) {
      return UsageError(
          "diff: give B as a reference or as target flags, not both");
    }
    auto second_spec = ParseTargetReference(references[1]);
    if (!second_spec) return tl::unexpected(second_spec.error());
    second = context.mount.Resolve(*second_spec);
  } else {
    second = ResolveTarget(context);
  }
  if (!second) return tl::unexpected(second.error());
  auto first = context.mount.Resolve(*first_spec);
  if (!first) return tl::unexpected(first.error());
  auto a = TokenData::Load(context.mount, *first, {}, true);
  if (!a) return tl::unexpected(a.error());
  auto b = TokenData::Load(context.mount, *second, {}, true);
  if (!b) return tl::unexpected(b.error());

  const std::vector<TokenField> a_fields = TokenFields(*a, context.style);
  const std::vector<TokenField> b_fields = TokenFields(*b, context.style);
  std::unordered_map<std::string, const TokenField*> b_by_match;
  for (const TokenField& field : b_fields) b_by_match[field.match] = &field;
  std::unordered_map<std::string, bool> in_a;
  struct Difference {
    std::string name;
    std::optional<std::string> a;
    std::optional<std::string> b;
  };
  std::vector<Difference> differences;
  for (const TokenField& field : a_fields) {
    in_a[field.match] = true;
    if (field.is_id && !flags.ids) continue;
    const auto found = b_by_match.find(field.match);
    if (found == b_by_match.end()) {
      differences.push_back({field.name, field.value, std::nullopt});
    } else if (found->second->value != field.value) {
      differences.push_back({field.name, field.value, found->second->value});
    }
  }
  for (const TokenField& field : b_fields) {
    if (field.is_id && !flags.ids) continue;
    if (!in_a.count(field.match)) {
      differences.push_back({field.name, std::nullopt, field.value});
    }
  }
  if (flags.quiet) {
    return differences.empty() ? exit_status::kSuccess : exit_status::kDiffers;
  }
  View view;
  view.style = context.style;
  view.json["a"] = first->Json();
  view.json["b"] = second->Json();
  view.json["equal"] = differences.empty();
  view.json["differences"] = Json::array();
  if (!differences.empty()) {
    view.lines.Section("differences (" + std::to_string(differences.size()) +
                       ")");
  }
  for (const Difference& difference : differences) {
    view.lines.Row(difference.name, difference.a.value_or("absent") + "  ->  " +
                                        difference.b.value_or("absent"));
    Json entry = Json::object();
    entry["field"] = difference.name;
    entry["a"] = difference.a ? Json(*difference.a) : Json();
    entry["b"] = difference.b ? Json(*difference.b) : Json();
    view.json["differences"].push_back(std::move(entry));
  }
  return EmitOk(context, view);
}

CliResult<int> RunAccess(Context& context, const AccessFlags& flags) {
  std::string command;
  std::optional<Sid> domain;
  if (flags.domain_sid) {
    auto sid = ParseDomainSid(*flags.domain_sid);
    if (!sid) {
      return InvalidInput("access --domain-sid " + sid.error().message);
    }
    domain = *sid;
    command += "domain=" + sid->ToString() + " ";
  }
  // Checked here for a message with its column; the daemon reads the text
  // itself, against its own machine domain unless --domain-sid names one
  // (a stand-in domain lets the aliases pass this check).
  const Sid stand_in = Sid::Known(kNtAuthority, {21, 0, 0, 0});
  const Sid* check_domain = domain ? &*domain : &stand_in;
  if (flags.sd) {
    auto sd = ParseSddl(*flags.sd, check_domain);
    if (!sd) return InvalidInput("access --sd: " + sd.error().message);
    command += "sd=" + QuotedItem(*flags.sd) + " ";
  }
  const std::pair<const std::optional<std::string>*, const char*> claim_flags[] =
      {{&flags.user_claims, "user-claims"},
       {&flags.device_claims, "device-claims"}};
  for (const auto& [text, name] : claim_flags) {
    if (!*text) continue;
    auto claims = ParseClaimsJson(**text, std::string("--") + name);
    if (!claims) return InvalidInput("access " + claims.error().message);
    auto bytes = EncodeClaims(*claims);
    if (!bytes) return InvalidInput("access --" + std::string(name) + ": " +
                                    bytes.error().message);
    command += std::string(name) + "=" +
               (bytes->empty() ? std::string("none") : FormatHexBytes(*bytes)) +
               " ";
  }
  AccessMask desired = access::kMaximumAllowed;
  if (flags.desired) {
    auto rights = ParseRightsExpression(*flags.desired);
    if (!rights) {
      return InvalidInput("access --desired: " + rights.error().message);
    }
    desired = *rights;
  }
  command += "desired=" + FormatHex(desired.bits()) + " ";
  std::string mapping = "token";
  if (flags.mapping) {
    auto parsed = ParseGenericMapping(*flags.mapping);
    if (!parsed) {
      return InvalidInput("access --mapping: " + parsed.error().message);
    }
    mapping = parsed->name;
  }
  command += "mapping=" + mapping + " ";
  if (flags.intent) {
    std::vector<std::string> intents;
    for (const std::string& part : Split(*flags.intent, ',')) {
      const std::string name = AsciiLower(part);
      if (name != "backup" && name != "restore") {
        return InvalidInput("access --intent: unknown intent '" + part +
                            "' (backup, restore)");
      }
      intents.push_back(name);
    }
    command += "intent=" + Join(intents, ",") + " ";
  }
  if (flags.principal_self) {
    auto sid = ParseSidOrAlias(*flags.principal_self, check_domain);
    if (!sid) {
      return InvalidInput("access --principal-self: '" +
                          *flags.principal_self +
                          "': " + sid.error().message);
    }
    command += "self=" + *flags.principal_self + " ";
  }
  command += "json";
  if (auto parsed = ParseAccessCommand(command, check_domain); !parsed) {
    return InvalidInput("access: " + parsed.error().message);
  }
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  auto text = context.mount.Transact(
      target->dir + "/access", command, target->label,
      Operation{"running an access check with its token", "QUERY"});
  if (!text) return tl::unexpected(text.error());
  auto result = ParseDaemonJson(*text, target->label);
  if (!result) return tl::unexpected(result.error());

  View view = StartView(context, *target);
  for (auto it = result->begin(); it != result->end(); ++it) {
    view.json[it.key()] = it.value();
  }
  const std::string status = Text(Member(*result, "status"));
  const std::string granted = Text(Member(*result, "granted"));
  const std::string granted_names = Text(Member(*result, "granted_names"));
  const bool token_mapping = mapping == "token";
  const std::string desired_names =
      token_mapping ? FormatTokenRights(desired) : FormatSddlRights(desired);
  std::vector<std::string> used;
  for (const Json& name : Member(*result, "privileges_used")) {
    used.push_back(Text(name));
  }
  const Json& deciding = Member(*result, "deciding_ace");
  view.lines.Section("access");
  view.lines.Row("status", status);
  view.lines.Row("granted",
                 granted + (granted_names.empty() || granted_names == "0" ||
                                    granted_names == "-"
                                ? ""
                                : " (" + granted_names + ")"));
  view.lines.Row("desired", FormatHex(desired.bits()) +
                                (desired_names.empty() || desired_names == "0"
                                     ? ""
                                     : " (" + desired_names + ")"));
  view.lines.Row("mapping", Text(Member(*result, "mapping")));
  view.lines.Row("reason", Text(Member(*result, "reason")));
  view.lines.Row("deciding_ace",
                 deciding.is_number_integer() && deciding.get<int64_t>() >= 0
                     ? Text(deciding)
                     : "none");
  view.lines.Row("privileges_used", used.empty() ? "none" : Join(used, ", "));
  view.lines.Row("sd", Text(Member(*result, "sd")));
  const Json& trace = Member(*result, "trace");
  if (trace.is_array() && !trace.empty()) {
    view.lines.Section("trace");
    for (const Json& step : trace) {
      view.lines.Row(Text(Member(step, "step")), Text(Member(step, "detail")));
    }
  }
  if (auto emitted = Emit(context, view); !emitted) {
    return tl::unexpected(emitted.error());
  }
  return status == "granted" ? exit_status::kSuccess : exit_status::kDenied;
}

CliResult<int> RunLinked(Context& context) {
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  const std::string link_path = target->dir + "/linked";
  auto link = context.mount.ReadLink(link_path, target->label, kReadOperation);
  if (!link) {
    struct stat info {};
    if (link.error().exit_status == exit_status::kNotFound &&
        ::stat(target->dir.c_str(), &info) == 0) {
      return Fail(exit_status::kNotFound, "no linked token: " + target->label +
                                              " has no elevation partner");
    }
    return tl::unexpected(link.error());
  }
  const size_t slash = link->find_last_of('/');
  const std::string id_text =
      slash == std::string::npos ? *link : link->substr(slash + 1);
  const auto id = ParseDecimal(id_text, UINT64_MAX);
  if (!id) {
    return Fail(exit_status::kFailure, "tokenfs linked " + target->label +
                                           " to an unexpected path '" + *link +
                                           "'");
  }
  TargetSpec partner_spec;
  partner_spec.kind = TargetSpec::Kind::kObject;
  partner_spec.object_id = *id;
  auto partner = context.mount.Resolve(partner_spec);
  if (!partner) return tl::unexpected(partner.error());
  auto token = TokenData::Load(context.mount, *partner, {}, true);
  if (!token) return tl::unexpected(token.error());
  View view = StartView(context, *target);
  const Json& elevation = token->Decoded("elevationtype");
  const Json& type = token->Decoded("type");
  const Json& level = token->Decoded("impersonationlevel");
  view.lines.Section("linked");
  view.lines.Row("id", id_text);
  view.lines.Row("path", partner->dir);
  view.lines.Row("elevation_type", Text(Member(elevation, "name")));
  view.lines.Row("type", Text(Member(type, "name")));
  view.lines.Row("impersonation_level", Text(Member(level, "name")));
  view.lines.Row("integrity", SidText(token->Decoded("integrity"), view.style));
  Json linked = Json::object();
  linked["id"] = *id;
  linked["path"] = partner->dir;
  linked["elevation_type"] = elevation;
  linked["type"] = type;
  linked["impersonation_level"] = level;
  linked["integrity"] = token->Decoded("integrity");
  view.json["linked"] = std::move(linked);
  return EmitOk(context, view);
}

}  // namespace

Runner AddBareToken(CLI::App&) {
  return [](Context& context) { return RunShow(context, ShowFlags{}, true); };
}

Runner AddShow(CLI::App& app) {
  auto flags = std::make_shared<ShowFlags>();
  flags->Register(app);
  return [flags](Context& context) { return RunShow(context, *flags, false); };
}

Runner AddUser(CLI::App&) { return AccessorRunner(kUser); }
Runner AddOwner(CLI::App&) { return AccessorRunner(kOwner); }
Runner AddGroup(CLI::App&) { return AccessorRunner(kGroup); }
Runner AddGroups(CLI::App&) { return AccessorRunner(kGroups); }
Runner AddPrivs(CLI::App& app) {
  auto verbose = std::make_shared<bool>(false);
  app.add_flag("-v,--verbose", *verbose,
               "add what each privilege allows and the Linux capabilities "
               "that give it");
  return [verbose](Context& context) {
    return RunAccessor(context, *verbose ? kPrivsVerbose : kPrivs);
  };
}
Runner AddCaps(CLI::App& app) { return Bind(app, RunCaps); }
Runner AddClaims(CLI::App&) { return AccessorRunner(kClaims); }
Runner AddIntegrity(CLI::App&) { return AccessorRunner(kIntegrity); }
Runner AddLogon(CLI::App&) { return AccessorRunner(kLogon); }
Runner AddSource(CLI::App&) { return AccessorRunner(kSource); }
Runner AddOrigin(CLI::App&) { return AccessorRunner(kOrigin); }
Runner AddStats(CLI::App&) { return AccessorRunner(kStats); }
Runner AddDefaultDacl(CLI::App&) { return AccessorRunner(kDefaultDacl); }
Runner AddQuery(CLI::App& app) { return Bind(app, RunQuery); }
Runner AddAccess(CLI::App& app) { return Bind(app, RunAccess); }
Runner AddDiff(CLI::App& app) { return Bind(app, RunDiff); }
Runner AddLinked(CLI::App&) { return RunLinked; }

}  // namespace tokenfs::cli
