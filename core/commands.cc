#include "core/commands.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/ascii.h"
#include "core/privilege.h"
#include "core/sddl.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

// Parses a decimal or 0x-hex unsigned number that fits `max`.
std::optional<uint64_t> ParseUnsigned(std::string_view text, uint64_t max) {
  if (text.empty()) return std::nullopt;
  int base = 10;
  size_t position = 0;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    position = 2;
  }
  uint64_t value = 0;
  for (; position < text.size(); ++position) {
    const char c = static_cast<char>(
        std::tolower(static_cast<unsigned char>(text[position])));
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (value >
        (max - static_cast<uint64_t>(digit)) / static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  return value;
}

// "item N 'text': " prefix for error messages.
std::string Item(size_t index, std::string_view text) {
  return "item " + std::to_string(index + 1) + " '" + std::string(text) + "': ";
}

Result<std::vector<std::string>> Items(std::string_view text,
                                       std::string_view what) {
  if (text.size() > kMaxCommandSize) {
    return MakeError(ErrorCode::kResourceExhausted,
                     std::string(what) + ": command exceeds " +
                         std::to_string(kMaxCommandSize) + " bytes");
  }
  auto items = SplitCommandItems(text);
  if (!items) return items;
  if (items->empty()) {
    return InvalidArgument(std::string(what) + ": empty command");
  }
  return items;
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

Status RejectDuplicateKey(std::set<std::string>& seen, const KeyValue& field,
                          size_t index, std::string_view item) {
  if (!seen.insert(field.key).second) {
    return InvalidArgument(Item(index, item) + "'" + field.key +
                           "' given twice");
  }
  return Ok();
}

Status RequireValue(const KeyValue& field, size_t index,
                    std::string_view item) {
  if (!field.value || field.value->empty()) {
    return InvalidArgument(Item(index, item) + "'" + field.key +
                           "' needs a value (" + field.key + "=...)");
  }
  return Ok();
}

Status RequireFlag(const KeyValue& field, size_t index, std::string_view item) {
  if (field.value) {
    return InvalidArgument(Item(index, item) + "'" + field.key +
                           "' takes no value");
  }
  return Ok();
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
  auto items = Items(text, "privs");
  if (!items) return tl::unexpected(items.error());
  PrivilegesCommand command;
  if (items->size() == 1 && AsciiLower((*items)[0]) == "reset") {
    command.reset = true;
    return command;
  }
  std::set<int> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const size_t equals = item.find('=');
    if (equals == std::string::npos) {
      if (AsciiLower(item) == "reset") {
        return InvalidArgument(Item(i, item) +
                               "reset cannot be combined with changes");
      }
      return InvalidArgument(Item(i, item) +
                             "expected NAME=enabled|disabled|removed");
    }
    auto bit = ParsePrivilegeName(std::string_view(item).substr(0, equals));
    if (!bit) return InvalidArgument(Item(i, item) + bit.error().message);
    const std::string state =
        AsciiLower(std::string_view(item).substr(equals + 1));
    PrivilegeChange change;
    change.bit = *bit;
    if (state == "enabled" || state == "enable") {
      change.state = PrivilegeState::kEnabled;
    } else if (state == "disabled" || state == "disable") {
      change.state = PrivilegeState::kDisabled;
    } else if (state == "removed" || state == "remove") {
      change.state = PrivilegeState::kRemoved;
    } else {
      return InvalidArgument(Item(i, item) + "unknown state '" +
                             item.substr(equals + 1) +
                             "' (enabled, disabled or removed)");
    }
    if (!seen.insert(*bit).second) {
      return InvalidArgument(Item(i, item) + PrivilegeShortName(*bit) +
                             " is named twice");
    }
    command.changes.push_back(change);
  }
  return command;
}

Result<GroupsCommand> ParseGroupsCommand(std::string_view text) {
  auto items = Items(text, "groups");
  if (!items) return tl::unexpected(items.error());
  GroupsCommand command;
  if (items->size() == 1 && AsciiLower((*items)[0]) == "reset") {
    command.reset = true;
    return command;
  }
  std::set<uint32_t> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const size_t equals = item.find('=');
    if (equals == std::string::npos) {
      if (AsciiLower(item) == "reset") {
        return InvalidArgument(Item(i, item) +
                               "reset cannot be combined with changes");
      }
      return InvalidArgument(Item(i, item) + "expected INDEX=enabled|disabled");
    }
    auto index =
        ParseUnsigned(std::string_view(item).substr(0, equals), UINT32_MAX);
    if (!index) {
      return InvalidArgument(Item(i, item) + "'" + item.substr(0, equals) +
                             "' is not a group index");
    }
    const std::string state =
        AsciiLower(std::string_view(item).substr(equals + 1));
    GroupChange change;
    change.index = static_cast<uint32_t>(*index);
    if (state == "enabled" || state == "enable") {
      change.enable = true;
    } else if (state == "disabled" || state == "disable") {
      change.enable = false;
    } else {
      return InvalidArgument(Item(i, item) + "unknown state '" +
                             item.substr(equals + 1) +
                             "' (enabled or disabled)");
    }
    if (!seen.insert(change.index).second) {
      return InvalidArgument(Item(i, item) + "group " +
                             std::to_string(change.index) + " is named twice");
    }
    command.changes.push_back(change);
  }
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

Result<std::optional<Acl>> ParseDefaultDaclCommand(std::string_view text) {
  if (text.size() > kMaxCommandSize) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "default-dacl: command exceeds " +
                         std::to_string(kMaxCommandSize) + " bytes");
  }
  const std::string_view trimmed = TrimAsciiSpace(text);
  if (trimmed.empty()) return InvalidArgument("default-dacl: empty command");
  if (AsciiLower(trimmed) == "none") return std::optional<Acl>();
  auto dacl = ParseSddlDacl(trimmed);
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

Result<SecurityCommand> ParseSecurityCommand(std::string_view text) {
  if (text.size() > kMaxCommandSize) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "security: command exceeds " +
                         std::to_string(kMaxCommandSize) + " bytes");
  }
  const std::string_view trimmed = TrimAsciiSpace(text);
  if (trimmed.empty()) return InvalidArgument("security: empty command");
  auto sd = ParseSddl(trimmed);
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
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const KeyValue field = SplitKeyValue(item);
    if (field.key == "level") {
      if (auto status = RejectDuplicateKey(seen, field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      auto level = ParseImpersonationLevel(*field.value);
      if (!level) return InvalidArgument(Item(i, item) + level.error().message);
      command.level = *level;
    } else if (field.key == "exec") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      command.adopt_at_exec = true;
    } else if (field.key == "revert") {
      return InvalidArgument(Item(i, item) +
                             "revert cannot be combined with other items");
    } else {
      if (have_target) {
        return InvalidArgument(Item(i, item) + "a second token reference");
      }
      auto reference = ParseTokenReference(item, mount_point);
      if (!reference) {
        return InvalidArgument(Item(i, item) + reference.error().message);
      }
      command.target = *reference;
      have_target = true;
    }
  }
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

Result<AccessCommand> ParseAccessCommand(std::string_view text) {
  auto items = Items(text, "access");
  if (!items) return tl::unexpected(items.error());
  AccessCommand command;
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const KeyValue field = SplitKeyValue(item);
    if (auto status = RejectDuplicateKey(seen, field, i, item); !status) {
      return tl::unexpected(status.error());
    }
    if (field.key == "sd" || field.key == "desired" || field.key == "mapping" ||
        field.key == "intent" || field.key == "self") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
    }
    if (field.key == "sd") {
      auto sd = ParseSddl(*field.value);
      if (!sd) {
        return InvalidArgument(Item(i, item) + sd.error().message,
                               sd.error().column);
      }
      command.descriptor = *sd;
      command.sddl = *field.value;
    } else if (field.key == "desired") {
      auto rights = ParseRightsExpression(*field.value);
      if (!rights)
        return InvalidArgument(Item(i, item) + rights.error().message);
      command.desired = *rights;
    } else if (field.key == "mapping") {
      const std::string name = AsciiLower(*field.value);
      if (name == "token") {
        command.mapping = kTokenGenericMapping;
      } else if (name == "file") {
        command.mapping = kFileGenericMapping;
      } else if (name == "plain" || name == "generic") {
        command.mapping = kPlainGenericMapping;
      } else {
        return InvalidArgument(Item(i, item) + "unknown mapping '" +
                               *field.value + "' (token, file or plain)");
      }
      command.mapping_name = name == "generic" ? "plain" : name;
    } else if (field.key == "intent") {
      for (std::string_view part : SplitList(*field.value)) {
        const std::string name = AsciiLower(part);
        if (name == "backup") {
          command.intent |= privilege_intent::kBackup;
        } else if (name == "restore") {
          command.intent |= privilege_intent::kRestore;
        } else {
          return InvalidArgument(Item(i, item) + "unknown intent '" +
                                 std::string(part) + "' (backup, restore)");
        }
      }
    } else if (field.key == "self") {
      auto sid = ParseSidOrAlias(*field.value);
      if (!sid) return InvalidArgument(Item(i, item) + sid.error().message);
      command.principal_self = *sid;
    } else if (field.key == "json") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      command.json = true;
    } else {
      return InvalidArgument(Item(i, item) + "unknown field '" + field.key +
                             "' (sd, desired, mapping, intent, self, json)");
    }
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

Result<DuplicateCommand> ParseDuplicateCommand(std::string_view text) {
  DuplicateCommand command;
  command.request.type = TokenType::kPrimary;
  command.request.level = ImpersonationLevel::kAnonymous;
  auto items = SplitCommandItems(text);
  if (!items) return tl::unexpected(items.error());
  std::set<std::string> seen;
  bool level_given = false;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const KeyValue field = SplitKeyValue(item);
    if (auto status = RejectDuplicateKey(seen, field, i, item); !status) {
      return tl::unexpected(status.error());
    }
    if (field.key == "type") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      auto type = ParseTokenType(*field.value);
      if (!type) return InvalidArgument(Item(i, item) + type.error().message);
      command.request.type = *type;
    } else if (field.key == "level") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      auto level = ParseImpersonationLevel(*field.value);
      if (!level) return InvalidArgument(Item(i, item) + level.error().message);
      command.request.level = *level;
      level_given = true;
    } else if (field.key == "access") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      auto rights = ParseRightsExpression(*field.value);
      if (!rights)
        return InvalidArgument(Item(i, item) + rights.error().message);
      command.access = *rights;
    } else if (field.key == "persist") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      command.persist = true;
    } else if (field.key == "holder") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      auto holder = ParseHolder(*field.value);
      if (!holder)
        return InvalidArgument(Item(i, item) + holder.error().message);
      command.holder = *holder;
    } else {
      return InvalidArgument(Item(i, item) + "unknown field '" + field.key +
                             "' (type, level, access, persist, holder)");
    }
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
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const KeyValue field = SplitKeyValue(item);
    if (auto status = RejectDuplicateKey(seen, field, i, item); !status) {
      return tl::unexpected(status.error());
    }
    RestrictRequest& request = command.request;
    if (field.key == "drop-privs") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      if (auto mask = ParseUnsigned(*field.value, UINT64_MAX);
          mask && field.value->rfind("0x", 0) == 0) {
        request.drop_privileges = *mask;
        continue;
      }
      for (std::string_view part : SplitList(*field.value)) {
        auto bit = ParsePrivilegeName(part);
        if (!bit) return InvalidArgument(Item(i, item) + bit.error().message);
        request.drop_privileges |= privilege::Bit(*bit);
      }
    } else if (field.key == "deny") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      for (std::string_view part : SplitList(*field.value)) {
        auto index = ParseUnsigned(part, UINT32_MAX);
        if (!index) {
          return InvalidArgument(Item(i, item) + "'" + std::string(part) +
                                 "' is not a group index");
        }
        request.deny_indices.push_back(static_cast<uint32_t>(*index));
      }
    } else if (field.key == "deny-user") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      request.deny_only_user = true;
    } else if (field.key == "restrict") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      std::vector<Sid> sids;
      for (std::string_view part : SplitList(*field.value)) {
        auto sid = ParseSidOrAlias(part);
        if (!sid) return InvalidArgument(Item(i, item) + sid.error().message);
        sids.push_back(*sid);
      }
      request.restricting_sids = std::move(sids);
    } else if (field.key == "write-restricted") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      request.write_restricted = true;
    } else if (field.key == "disable-max-privilege") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      request.disable_max_privilege = true;
    } else if (field.key == "caps") {
      std::vector<std::string> capabilities;
      if (field.value && !field.value->empty()) {
        for (std::string_view part : SplitList(*field.value)) {
          if (part.empty()) {
            return InvalidArgument(Item(i, item) + "empty capability name");
          }
          capabilities.emplace_back(part);
        }
      }
      request.capabilities = std::move(capabilities);
    } else if (field.key == "tighten") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      request.tighten = true;
    } else if (field.key == "persist") {
      if (auto status = RequireFlag(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      command.persist = true;
    } else if (field.key == "holder") {
      if (auto status = RequireValue(field, i, item); !status) {
        return tl::unexpected(status.error());
      }
      auto holder = ParseHolder(*field.value);
      if (!holder)
        return InvalidArgument(Item(i, item) + holder.error().message);
      command.holder = *holder;
    } else {
      return InvalidArgument(Item(i, item) + "unknown field '" + field.key +
                             "' (drop-privs, deny, deny-user, restrict, "
                             "write-restricted, disable-max-privilege, caps, "
                             "tighten, persist, holder)");
    }
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
  std::set<std::string> seen;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string& item = (*items)[i];
    const KeyValue field = SplitKeyValue(item);
    if (auto status = RejectDuplicateKey(seen, field, i, item); !status) {
      return tl::unexpected(status.error());
    }
    if (auto status = RequireValue(field, i, item); !status) {
      return tl::unexpected(status.error());
    }
    if (field.key == "elevated" || field.key == "filtered") {
      auto reference = ParseTokenReference(*field.value, mount_point);
      if (!reference) {
        return InvalidArgument(Item(i, item) + reference.error().message);
      }
      (field.key == "elevated" ? command.elevated : command.filtered) =
          *reference;
    } else if (field.key == "session") {
      auto session = ParseUnsigned(*field.value, UINT64_MAX);
      if (!session) {
        return InvalidArgument(Item(i, item) + "'" + *field.value +
                               "' is not a session id");
      }
      command.session = *session;
    } else {
      return InvalidArgument(Item(i, item) + "unknown field '" + field.key +
                             "' (elevated, filtered, session)");
    }
  }
  for (const char* required : {"elevated", "filtered", "session"}) {
    if (!seen.count(required)) {
      return InvalidArgument(std::string("link: missing ") + required + "=");
    }
  }
  return command;
}

}  // namespace tokenfs
