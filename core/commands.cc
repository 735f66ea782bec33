#include "core/commands.h"

#include <algorithm>
#include <functional>
#include <set>

#include "core/ascii.h"
#include "core/number.h"
#include "core/privilege.h"
#include "core/sddl.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

// "item N 'text': " prefix for error messages.
std::string Item(size_t index, std::string_view text) {
  return "item " + std::to_string(index + 1) + " '" + std::string(text) + "': ";
}

Status CheckCommandSize(std::string_view text, std::string_view what) {
  if (text.size() > kMaxCommandSize) {
    return MakeError(ErrorCode::kResourceExhausted,
                     std::string(what) + ": command exceeds " +
                         std::to_string(kMaxCommandSize) + " bytes");
  }
  return Ok();
}

Result<std::vector<std::string>> Items(std::string_view text,
                                       std::string_view what) {
  if (auto size = CheckCommandSize(text, what); !size) {
    return tl::unexpected(size.error());
  }
  auto items = SplitCommandItems(text);
  if (!items) return items;
  if (items->empty()) {
    return InvalidArgument(std::string(what) + ": empty command");
  }
  return items;
}

// A command that is one value (SDDL) rather than items, trimmed.
Result<std::string_view> WholeCommand(std::string_view text,
                                      std::string_view what) {
  if (auto size = CheckCommandSize(text, what); !size) {
    return tl::unexpected(size.error());
  }
  const std::string_view trimmed = TrimAsciiSpace(text);
  if (trimmed.empty()) {
    return InvalidArgument(std::string(what) + ": empty command");
  }
  return trimmed;
}

// Splits "key=value" (value may be empty); a bare word has no value.
struct KeyValue {
  std::string key;  // lower-case
  std::optional<std::string> value;
};

KeyValue SplitKeyValue(std::string_view item) {
  const size_t equals = item.find('=');
  if (equals == std::string_view::npos) return {AsciiLower(item), std::nullopt};
  return {AsciiLower(item.substr(0, equals)),
          std::string(item.substr(equals + 1))};
}

std::vector<std::string_view> SplitList(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    parts.push_back(TrimAsciiSpace(text.substr(start, end - start)));
    start = end + 1;
  }
  return parts;
}

// A state word of a privs or groups item ("enable" etc. are accepted too).
std::optional<PrivilegeState> ParseStateWord(std::string_view text) {
  const std::string state = AsciiLower(text);
  if (state == "enabled" || state == "enable") return PrivilegeState::kEnabled;
  if (state == "disabled" || state == "disable") {
    return PrivilegeState::kDisabled;
  }
  if (state == "removed" || state == "remove") return PrivilegeState::kRemoved;
  return std::nullopt;
}

// Walks a "reset" or "NAME=STATE ..." command (privs, groups): hands each
// item's NAME and STATE to `change` and returns whether the command is a lone
// reset. Errors from `change` come back prefixed with the item they concern,
// without a column: a column inside one item is not one in the command.
Result<bool> ForEachStateChange(
    std::string_view text, std::string_view what, std::string_view expected,
    const std::function<Status(std::string_view name, std::string_view state)>&
        change) {
  auto items = Items(text, what);
  if (!items) return tl::unexpected(items.error());
  if (items->size() == 1 && AsciiLower((*items)[0]) == "reset") return true;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string_view item = (*items)[i];
    const size_t equals = item.find('=');
    if (equals == std::string_view::npos) {
      if (AsciiLower(item) == "reset") {
        return InvalidArgument(Item(i, item) +
                               "reset cannot be combined with changes");
      }
      return InvalidArgument(Item(i, item) + std::string(expected));
    }
    if (auto status = change(item.substr(0, equals), item.substr(equals + 1));
        !status) {
      return InvalidArgument(Item(i, item) + status.error().message);
    }
  }
  return false;
}

// How one field of a key=value command takes its value.
enum class FieldValue {
  kRequired,  // key=VALUE with a non-empty VALUE
  kNone,      // a bare word
  kOptional,  // key, key= and key=VALUE; the first two pass an empty value
};

// One field of a key=value command. `apply` records the value in the command
// being built; its error message omits the item prefix, which ApplyFields adds
// (dropping any column, which would count from the value, not the command).
struct FieldRule {
  std::string_view key;
  FieldValue value;
  std::function<Status(const std::string& value)> apply;
};

// A bare word that sets `target`.
FieldRule FlagField(std::string_view key, bool& target) {
  return FieldRule{key, FieldValue::kNone,
                   [&target](const std::string&) -> Status {
                     target = true;
                     return Ok();
                   }};
}

// Applies each "key=value" item to the rule for its key (keys are
// case-insensitive). An item no rule names goes to `other` when given, else
// is an unknown field. A key given twice and a value where the rule wants
// none (or none where it wants one) are errors naming the item. Returns the
// keys given, so callers can insist on required ones.
Result<std::set<std::string>> ApplyFields(
    const std::vector<std::string>& items, const std::vector<FieldRule>& rules,
    const std::function<Status(const std::string& item)>& other = nullptr) {
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string& item = items[i];
    const KeyValue field = SplitKeyValue(item);
    const auto rule = std::find_if(
        rules.begin(), rules.end(),
        [&](const FieldRule& candidate) { return candidate.key == field.key; });
    if (rule == rules.end() && other) {
      if (auto status = other(item); !status) {
        return InvalidArgument(Item(i, item) + status.error().message);
      }
      continue;
    }
    if (rule == rules.end()) {
      std::string known;
      for (const FieldRule& each : rules) {
        known += (known.empty() ? "" : ", ") + std::string(each.key);
      }
      return InvalidArgument(Item(i, item) + "unknown field '" + field.key +
                             "' (" + known + ")");
    }
    if (!seen.insert(field.key).second) {
      return InvalidArgument(Item(i, item) + "'" + field.key + "' given twice");
    }
    if (rule->value == FieldValue::kRequired &&
        (!field.value || field.value->empty())) {
      return InvalidArgument(Item(i, item) + "'" + field.key +
                             "' needs a value (" + field.key + "=...)");
    }
    if (rule->value == FieldValue::kNone && field.value) {
      return InvalidArgument(Item(i, item) + "'" + field.key +
                             "' takes no value");
    }
    if (auto status = rule->apply(field.value.value_or(std::string()));
        !status) {
      return InvalidArgument(Item(i, item) + status.error().message);
    }
  }
  return seen;
}

// Passes a nested parser's error on as the error of the field being applied.
template <typename T>
Status Forward(const Result<T>& result) {
  if (result) return Ok();
  return tl::unexpected(result.error());
}

}  // namespace

Result<std::vector<std::string>> SplitCommandItems(std::string_view text) {
  std::vector<std::string> items;
  std::string current;
  bool in_item = false;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') {
      return InvalidArgument("NUL byte at offset " + std::to_string(i),
                             static_cast<int>(i + 1));
    }
    if (quoted && c == '\\' && i + 1 < text.size() &&
        (text[i + 1] == '"' || text[i + 1] == '\\')) {
      // Inside quotes \" and \\ stand for " and \ (conditional ACEs quote
      // their strings).
      current.push_back(text[++i]);
      continue;
    }
    if (c == '"') {
      quoted = !quoted;
      in_item = true;
      continue;
    }
    if (!quoted && IsAsciiSpace(c)) {
      if (in_item) items.push_back(std::move(current));
      current.clear();
      in_item = false;
      continue;
    }
    current.push_back(c);
    in_item = true;
  }
  if (quoted) return InvalidArgument("unterminated double quote");
  if (in_item) items.push_back(std::move(current));
  return items;
}

Result<PrivilegesCommand> ParsePrivilegesCommand(std::string_view text) {
  PrivilegesCommand command;
  std::set<int> seen;
  auto reset = ForEachStateChange(
      text, "privs", "expected NAME=enabled|disabled|removed",
      [&](std::string_view name, std::string_view state_word) -> Status {
        auto bit = ParsePrivilegeName(name);
        if (!bit) return tl::unexpected(bit.error());
        const std::optional<PrivilegeState> state = ParseStateWord(state_word);
        if (!state) {
          return InvalidArgument("unknown state '" + std::string(state_word) +
                                 "' (enabled, disabled or removed)");
        }
        if (!seen.insert(*bit).second) {
          return InvalidArgument(PrivilegeShortName(*bit) + " is named twice");
        }
        command.changes.push_back(PrivilegeChange{*bit, *state});
        return Ok();
      });
  if (!reset) return tl::unexpected(reset.error());
  command.reset = *reset;
  return command;
}

Result<GroupsCommand> ParseGroupsCommand(std::string_view text) {
  GroupsCommand command;
  std::set<uint32_t> seen;
  auto reset = ForEachStateChange(
      text, "groups", "expected INDEX=enabled|disabled",
      [&](std::string_view name, std::string_view state_word) -> Status {
        auto index = ParseUnsigned(name, UINT32_MAX);
        if (!index) {
          return InvalidArgument("'" + std::string(name) +
                                 "' is not a group index");
        }
        const std::optional<PrivilegeState> state = ParseStateWord(state_word);
        if (!state || *state == PrivilegeState::kRemoved) {
          return InvalidArgument("unknown state '" + std::string(state_word) +
                                 "' (enabled or disabled)");
        }
        const auto group = static_cast<uint32_t>(*index);
        if (!seen.insert(group).second) {
          return InvalidArgument("group " + std::to_string(group) +
                                 " is named twice");
        }
        command.changes.push_back(
            GroupChange{group, *state == PrivilegeState::kEnabled});
        return Ok();
      });
  if (!reset) return tl::unexpected(reset.error());
  command.reset = *reset;
  return command;
}

Result<SidSelector> ParseSidSelector(std::string_view text) {
  auto items = Items(text, "owner/group");
  if (!items) return tl::unexpected(items.error());
  if (items->size() != 1) {
    return InvalidArgument("expected one index or SID, got " +
                           std::to_string(items->size()) + " items");
  }
  const std::string& item = (*items)[0];
  SidSelector selector;
  if (auto index = ParseUnsigned(item, UINT32_MAX)) {
    selector.index = static_cast<uint32_t>(*index);
    return selector;
  }
  auto sid = ParseSidOrAlias(item);
  if (!sid) {
    return InvalidArgument(
        "'" + item + "' is neither an index nor a SID: " + sid.error().message);
  }
  selector.sid = *sid;
  return selector;
}

Result<uint32_t> ResolveSidSelector(const SidSelector& selector,
                                    const Token& token) {
  if (selector.index) return *selector.index;
  if (!selector.sid) return InvalidArgument("no index or SID given");
  if (token.user == *selector.sid) return 0u;
  for (size_t i = 0; i < token.groups.size(); ++i) {
    if (token.groups[i].sid == *selector.sid) {
      return static_cast<uint32_t>(i + 1);
    }
  }
  return InvalidArgument(selector.sid->ToString() +
                         " is neither the token's user nor one of its groups");
}

Result<std::optional<Acl>> ParseDefaultDaclCommand(std::string_view text,
                                                   const Sid* domain) {
  auto trimmed = WholeCommand(text, "default-dacl");
  if (!trimmed) return tl::unexpected(trimmed.error());
  if (AsciiLower(*trimmed) == "none") return std::optional<Acl>();
  auto dacl = ParseSddlDacl(*trimmed, domain);
  if (!dacl) {
    return InvalidArgument("default-dacl: " + dacl.error().message,
                           dacl.error().column);
  }
  return *dacl;
}

Result<uint32_t> ParseIntegrityCommand(std::string_view text) {
  auto items = Items(text, "integrity");
  if (!items) return tl::unexpected(items.error());
  // "Medium Plus" arrives as two items.
  std::string joined;
  for (const auto& item : *items) {
    if (!joined.empty()) joined += ' ';
    joined += item;
  }
  auto rid = ParseIntegrityLevel(joined);
  if (!rid) return InvalidArgument("integrity: " + rid.error().message);
  return *rid;
}

Result<uint32_t> ParseSessionCommand(std::string_view text) {
  auto items = Items(text, "session");
  if (!items) return tl::unexpected(items.error());
  if (items->size() != 1) {
    return InvalidArgument("session: expected one number");
  }
  auto value = ParseUnsigned((*items)[0], UINT32_MAX);
  if (!value) {
    return InvalidArgument("session: '" + (*items)[0] +
                           "' is not a session number (0..4294967295)");
  }
  return static_cast<uint32_t>(*value);
}

Result<SecurityCommand> ParseSecurityCommand(std::string_view text,
                                             const Sid* domain) {
  auto trimmed = WholeCommand(text, "security");
  if (!trimmed) return tl::unexpected(trimmed.error());
  auto sd = ParseSddl(*trimmed, domain);
  if (!sd) {
    return InvalidArgument("security: " + sd.error().message,
                           sd.error().column);
  }
  SecurityCommand command;
  command.descriptor = *sd;
  if (sd->owner) command.information |= security_information::kOwner;
  if (sd->group) command.information |= security_information::kGroup;
  if (sd->dacl_present()) command.information |= security_information::kDacl;
  if (sd->sacl_present()) {
    bool has_label = false;
    bool has_audit = false;
    if (sd->sacl) {
      for (const Ace& ace : sd->sacl->aces) {
        if (ace.type == AceType::kSystemMandatoryLabel) {
          has_label = true;
        } else {
          has_audit = true;
        }
      }
    }
    if (has_label) command.information |= security_information::kLabel;
    if (has_audit || !has_label) {
      command.information |= security_information::kSacl;
    }
  }
  if (command.information == 0) {
    return InvalidArgument("security: no O:, G:, D: or S: section");
  }
  return command;
}

Result<TokenReference> ParseTokenReference(std::string_view text,
                                           std::string_view mount_point) {
  const std::string original(text);
  auto bad = [&original](const std::string& why) {
    return InvalidArgument("token reference '" + original + "': " + why);
  };
  TokenReference reference;
  auto parse_pid = [](std::string_view digits) -> std::optional<int32_t> {
    auto value = ParseUnsigned(digits, INT32_MAX);
    if (!value || *value == 0 || digits.substr(0, 2) == "0x") {
      return std::nullopt;
    }
    return static_cast<int32_t>(*value);
  };
  auto parse_process_path =
      [&](std::string_view rest) -> Result<TokenReference> {
    const size_t slash = rest.find('/');
    auto pid = parse_pid(rest.substr(0, slash));
    if (!pid) return bad("expected a process id");
    reference.pid = *pid;
    reference.kind = TokenReference::Kind::kProcess;
    if (slash != std::string_view::npos) {
      std::string_view tid_text = rest.substr(slash + 1);
      while (!tid_text.empty() && tid_text.back() == '/') {
        tid_text.remove_suffix(1);
      }
      if (!tid_text.empty()) {
        auto tid = parse_pid(tid_text);
        if (!tid) return bad("expected a thread id after '/'");
        reference.tid = *tid;
        reference.kind = TokenReference::Kind::kThread;
      }
    }
    return reference;
  };
  if (text.rfind("pid:", 0) == 0) return parse_process_path(text.substr(4));
  if (text.rfind("id:", 0) == 0) {
    auto id = ParseUnsigned(text.substr(3), UINT64_MAX);
    if (!id || *id == 0) return bad("expected an object id");
    reference.kind = TokenReference::Kind::kObject;
    reference.object_id = *id;
    return reference;
  }
  if (!text.empty() && text[0] == '/') {
    std::string prefix(mount_point);
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (text.substr(0, prefix.size()) != prefix ||
        text.size() <= prefix.size() + 1 || text[prefix.size()] != '/') {
      return bad("not a path under " + std::string(mount_point));
    }
    std::string_view rest = text.substr(prefix.size() + 1);
    if (rest.rfind("objects/", 0) == 0) {
      std::string_view id_text = rest.substr(8);
      while (!id_text.empty() && id_text.back() == '/')
        id_text.remove_suffix(1);
      auto id = ParseUnsigned(id_text, UINT64_MAX);
      if (!id || *id == 0) return bad("expected an object id");
      reference.kind = TokenReference::Kind::kObject;
      reference.object_id = *id;
      return reference;
    }
    return parse_process_path(rest);
  }
  return bad("expected pid:N, pid:N/TID, id:N or a path under " +
             std::string(mount_point));
}

std::string FormatTokenReference(const TokenReference& reference) {
  switch (reference.kind) {
    case TokenReference::Kind::kProcess:
      return "pid:" + std::to_string(reference.pid);
    case TokenReference::Kind::kThread:
      return "pid:" + std::to_string(reference.pid) + "/" +
             std::to_string(reference.tid);
    case TokenReference::Kind::kObject:
      return "id:" + std::to_string(reference.object_id);
  }
  return "?";
}

Result<ImpersonateCommand> ParseImpersonateCommand(
    std::string_view text, std::string_view mount_point) {
  auto items = Items(text, "impersonate");
  if (!items) return tl::unexpected(items.error());
  ImpersonateCommand command;
  if (items->size() == 1 && AsciiLower((*items)[0]) == "revert") {
    command.revert = true;
    return command;
  }
  bool have_target = false;
  const std::vector<FieldRule> rules = {
      {"level", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto level = ParseImpersonationLevel(value);
         if (level) command.level = *level;
         return Forward(level);
       }},
      FlagField("exec", command.adopt_at_exec),
      {"revert", FieldValue::kOptional,
       [](const std::string&) -> Status {
         return InvalidArgument("revert cannot be combined with other items");
       }},
  };
  auto fields = ApplyFields(*items, rules, [&](const std::string& item) {
    if (have_target) return Status(InvalidArgument("a second token reference"));
    auto reference = ParseTokenReference(item, mount_point);
    if (reference) command.target = *reference;
    have_target = reference.has_value();
    return Forward(reference);
  });
  if (!fields) return tl::unexpected(fields.error());
  if (!have_target) {
    return InvalidArgument(
        "impersonate: no token reference (pid:N, id:N, "
        "...) or revert");
  }
  return command;
}

Result<AccessMask> ParseRightsExpression(std::string_view text) {
  auto names = ParseTokenRights(text);
  if (names) return *names;
  auto sddl = ParseSddlRights(text);
  if (sddl) return *sddl;
  return InvalidArgument("unknown access rights '" + std::string(text) +
                         "' (a number, names such as QUERY|READ_CONTROL, or "
                         "SDDL letters such as GR)");
}

// A claim array given as hex of its binary form (core/claims.h), or "none".
Result<std::vector<Claim>> ParseClaimArrayField(std::string_view value) {
  if (AsciiLower(value) == "none") return std::vector<Claim>{};
  std::vector<uint8_t> bytes;
  if (value.size() % 2 != 0) {
    return InvalidArgument(
        "a claim array is hex of its binary form (an even number of hex "
        "digits) or none");
  }
  for (size_t i = 0; i < value.size(); i += 2) {
    auto byte = ParseUnsigned(value.substr(i, 2), 0xff, NumberBase::kHex);
    if (!byte) {
      return InvalidArgument("a claim array is hex of its binary form; '" +
                             std::string(value.substr(i, 2)) +
                             "' at column " + std::to_string(i + 1) +
                             " is not a hex byte");
    }
    bytes.push_back(static_cast<uint8_t>(*byte));
  }
  return DecodeClaims(bytes);
}

Result<AccessCommand> ParseAccessCommand(std::string_view text,
                                         const Sid* domain) {
  auto items = Items(text, "access");
  if (!items) return tl::unexpected(items.error());
  AccessCommand command;
  // The SD and the principal self SID may use domain aliases, so a domain=
  // item applies to them wherever it stands (its own rule reports a bad
  // one).
  const Sid* effective_domain = domain;
  std::optional<Sid> given_domain;
  for (const std::string& item : *items) {
    const KeyValue field = SplitKeyValue(item);
    if (field.key != "domain" || !field.value) continue;
    if (auto sid = ParseDomainSid(*field.value)) {
      given_domain = *sid;
      effective_domain = &*given_domain;
    }
  }
  const std::vector<FieldRule> rules = {
      {"sd", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto descriptor = ParseSddl(value, effective_domain);
         if (!descriptor) return tl::unexpected(descriptor.error());
         command.descriptor = *descriptor;
         command.sddl = value;
         return Ok();
       }},
      {"desired", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto rights = ParseRightsExpression(value);
         if (rights) command.desired = *rights;
         return Forward(rights);
       }},
      {"mapping", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto mapping = ParseGenericMapping(value);
         if (!mapping) return tl::unexpected(mapping.error());
         command.mapping = mapping->mapping;
         command.mapping_name = mapping->name;
         return Ok();
       }},
      {"intent", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         for (std::string_view part : SplitList(value)) {
           const std::string name = AsciiLower(part);
           if (name == "backup") {
             command.intent |= privilege_intent::kBackup;
           } else if (name == "restore") {
             command.intent |= privilege_intent::kRestore;
           } else {
             return InvalidArgument("unknown intent '" + std::string(part) +
                                    "' (backup, restore)");
           }
         }
         return Ok();
       }},
      {"self", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto sid = ParseSidOrAlias(value, effective_domain);
         if (sid) command.principal_self = *sid;
         return Forward(sid);
       }},
      {"domain", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto sid = ParseDomainSid(value);
         if (sid) command.domain = *sid;
         return Forward(sid);
       }},
      {"user-claims", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto claims = ParseClaimArrayField(value);
         if (claims) command.user_claims = std::move(*claims);
         return Forward(claims);
       }},
      {"device-claims", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto claims = ParseClaimArrayField(value);
         if (claims) command.device_claims = std::move(*claims);
         return Forward(claims);
       }},
      FlagField("json", command.json),
  };
  if (auto fields = ApplyFields(*items, rules); !fields) {
    return tl::unexpected(fields.error());
  }
  return command;
}

Result<int32_t> ParseHolder(std::string_view value) {
  auto reference = ParseTokenReference(value, "");
  if (!reference || reference->kind != TokenReference::Kind::kProcess) {
    return InvalidArgument("holder must be pid:N, got '" + std::string(value) +
                           "'");
  }
  return reference->pid;
}

// The "persist" and "holder=pid:N" fields shared by duplicate and restrict.
std::vector<FieldRule> ObjectFields(bool& persist,
                                    std::optional<int32_t>& holder) {
  return {
      FlagField("persist", persist),
      {"holder", FieldValue::kRequired,
       [&holder](const std::string& value) -> Status {
         auto pid = ParseHolder(value);
         if (pid) holder = *pid;
         return Forward(pid);
       }},
  };
}

Result<DuplicateCommand> ParseDuplicateCommand(std::string_view text) {
  DuplicateCommand command;
  command.request.type = TokenType::kPrimary;
  command.request.level = ImpersonationLevel::kAnonymous;
  auto items = SplitCommandItems(text);
  if (!items) return tl::unexpected(items.error());
  bool level_given = false;
  std::vector<FieldRule> rules = {
      {"type", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto type = ParseTokenType(value);
         if (type) command.request.type = *type;
         return Forward(type);
       }},
      {"level", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto level = ParseImpersonationLevel(value);
         if (level) command.request.level = *level;
         level_given = level.has_value();
         return Forward(level);
       }},
      {"access", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto rights = ParseRightsExpression(value);
         if (rights) command.access = *rights;
         return Forward(rights);
       }},
  };
  for (FieldRule& rule : ObjectFields(command.persist, command.holder)) {
    rules.push_back(std::move(rule));
  }
  if (auto fields = ApplyFields(*items, rules); !fields) {
    return tl::unexpected(fields.error());
  }
  if (command.request.type == TokenType::kImpersonation && !level_given) {
    command.request.level = ImpersonationLevel::kImpersonation;
  }
  if (command.request.type == TokenType::kPrimary && level_given &&
      command.request.level != ImpersonationLevel::kAnonymous) {
    return InvalidArgument(
        "level applies to impersonation tokens; a primary token's level is "
        "anonymous");
  }
  return command;
}

Result<RestrictCommand> ParseRestrictCommand(std::string_view text) {
  RestrictCommand command;
  auto items = SplitCommandItems(text);
  if (!items) return tl::unexpected(items.error());
  RestrictRequest& request = command.request;
  std::vector<FieldRule> rules = {
      {"drop-privs", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         if (auto mask = ParseUnsigned(value, UINT64_MAX);
             mask && value.rfind("0x", 0) == 0) {
           request.drop_privileges = *mask;
           return Ok();
         }
         for (std::string_view part : SplitList(value)) {
           auto bit = ParsePrivilegeName(part);
           if (!bit) return tl::unexpected(bit.error());
           request.drop_privileges |= privilege::Bit(*bit);
         }
         return Ok();
       }},
      {"deny", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         for (std::string_view part : SplitList(value)) {
           auto index = ParseUnsigned(part, UINT32_MAX);
           if (!index) {
             return InvalidArgument("'" + std::string(part) +
                                    "' is not a group index");
           }
           request.deny_indices.push_back(static_cast<uint32_t>(*index));
         }
         return Ok();
       }},
      FlagField("deny-user", request.deny_only_user),
      {"restrict", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         std::vector<Sid> sids;
         for (std::string_view part : SplitList(value)) {
           auto sid = ParseSidOrAlias(part);
           if (!sid) return tl::unexpected(sid.error());
           sids.push_back(*sid);
         }
         request.restricting_sids = std::move(sids);
         return Ok();
       }},
      FlagField("write-restricted", request.write_restricted),
      FlagField("disable-max-privilege", request.disable_max_privilege),
      {"caps", FieldValue::kOptional,
       [&](const std::string& value) -> Status {
         // caps= (or a bare caps) grants no capabilities at all.
         std::vector<std::string> capabilities;
         if (!value.empty()) {
           for (std::string_view part : SplitList(value)) {
             if (part.empty()) return InvalidArgument("empty capability name");
             capabilities.emplace_back(part);
           }
         }
         request.capabilities = std::move(capabilities);
         return Ok();
       }},
      FlagField("tighten", request.tighten),
  };
  for (FieldRule& rule : ObjectFields(command.persist, command.holder)) {
    rules.push_back(std::move(rule));
  }
  if (auto fields = ApplyFields(*items, rules); !fields) {
    return tl::unexpected(fields.error());
  }
  return command;
}

Result<TokenReference> ParseInstallCommand(std::string_view text,
                                           std::string_view mount_point) {
  auto items = Items(text, "install");
  if (!items) return tl::unexpected(items.error());
  if (items->size() != 1) {
    return InvalidArgument("install: expected one token reference, got " +
                           std::to_string(items->size()) + " items");
  }
  auto reference = ParseTokenReference((*items)[0], mount_point);
  if (!reference)
    return InvalidArgument("install: " + reference.error().message);
  return *reference;
}

Result<LinkCommand> ParseLinkCommand(std::string_view text,
                                     std::string_view mount_point) {
  auto items = Items(text, "link");
  if (!items) return tl::unexpected(items.error());
  LinkCommand command;
  const auto token = [&](std::string_view key, TokenReference& target) {
    return FieldRule{key, FieldValue::kRequired,
                     [&target, mount_point](const std::string& value) {
                       auto reference = ParseTokenReference(value, mount_point);
                       if (reference) target = *reference;
                       return Forward(reference);
                     }};
  };
  const std::vector<FieldRule> rules = {
      token("elevated", command.elevated),
      token("filtered", command.filtered),
      {"session", FieldValue::kRequired,
       [&](const std::string& value) -> Status {
         auto session = ParseUnsigned(value, UINT64_MAX);
         if (!session) {
           return InvalidArgument("'" + value + "' is not a session id");
         }
         command.session = *session;
         return Ok();
       }},
  };
  auto fields = ApplyFields(*items, rules);
  if (!fields) return tl::unexpected(fields.error());
  for (const char* required : {"elevated", "filtered", "session"}) {
    if (!fields->count(required)) {
      return InvalidArgument(std::string("link: missing ") + required + "=");
    }
  }
  return command;
}

namespace {

// A word of a tags command as quoted in errors: printable ASCII as is,
// other bytes as \xNN, long words shortened.
std::string QuotedWord(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr size_t kShown = 40;
  std::string shown;
  for (char c : text.substr(0, kShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7f) {
      shown += c;
    } else {
      shown += std::string("\\x") + kHex[byte >> 4] + kHex[byte & 0xf];
    }
  }
  return "'" + shown + (text.size() > kShown ? "...'" : "'");
}

}  // namespace

Result<TagCommand> ParseTagCommand(std::string_view text) {
  // Words are separated by spaces or tabs; one trailing newline (echo's) is
  // allowed, nothing else after the tag.
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::vector<std::pair<std::string_view, size_t>> words;  // word, offset
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i == text.size()) break;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    words.emplace_back(text.substr(start, i - start), start);
  }
  if (words.empty()) {
    return InvalidArgument("empty command: expected add NAME or remove NAME",
                           1);
  }
  TagCommand command;
  if (words[0].first == "add") {
    command.add = true;
  } else if (words[0].first == "remove") {
    command.add = false;
  } else {
    return InvalidArgument("unknown command " + QuotedWord(words[0].first) +
                               ": expected add NAME or remove NAME",
                           static_cast<int>(words[0].second) + 1);
  }
  if (words.size() < 2) {
    return InvalidArgument(
        std::string(words[0].first) + " needs a tag: expected " +
            std::string(words[0].first) + " NAME",
        static_cast<int>(text.size()) + 1);
  }
  if (words.size() > 2) {
    return InvalidArgument("one tag per command; unexpected " +
                               QuotedWord(words[2].first),
                           static_cast<int>(words[2].second) + 1);
  }
  auto tag = ParseTag(words[1].first);
  if (!tag) {
    return InvalidArgument(
        tag.error().message,
        tag.error().column + static_cast<int>(words[1].second));
  }
  command.tag = std::move(*tag);
  return command;
}

}  // namespace tokenfs
