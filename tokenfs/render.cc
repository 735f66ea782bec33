#include "tokenfs/render.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "core/privilege.h"
#include "core/query_class.h"
#include "core/sddl.h"
#include "core/tag.h"

namespace tokenfs {

namespace {

// Rights as names: token right names for the token mapping, SDDL letters
// otherwise; "-" when nothing was granted.
std::string RightsNames(AccessMask mask, std::string_view mapping) {
  if (mask.empty()) return "-";
  return mapping == "token" ? FormatTokenRights(mask) : FormatSddlRights(mask);
}

std::string Hex(AccessMask mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", mask.bits());
  return text;
}

}  // namespace

std::string TextLine(std::string_view key, std::string_view value) {
  std::string line(key);
  line += "  ";
  line += value;
  line += '\n';
  return line;
}

std::string RenderNode(const NodeId& node, const Token& token,
                       const RenderOptions& options, const Registry& registry) {
  const uint8_t code = node.code;
  if (const std::optional<TokenFile> file = TextFileOf(code)) {
    return RenderTokenFile(token, *file, options);
  }
  if (code == CodeOf(NodeCode::kQueryAllFile)) {
    return AllClassesJson(token, options).dump(2) + "\n";
  }
  if (code > CodeOf(NodeCode::kQueryFileBase) &&
      code < CodeOf(NodeCode::kQueryAllFile)) {
    auto query_class =
        QueryClassFromId(code - CodeOf(NodeCode::kQueryFileBase));
    if (query_class) {
      return QueryClassJson(token, *query_class, options).dump(2) + "\n";
    }
  }
  if (code == CodeOf(NodeCode::kImpersonateFile)) {
    if (token.type == TokenType::kImpersonation) {
      return TextLine("impersonating",
                      "id:" + std::to_string(token.token_id.value)) +
             TextLine("level",
                      ImpersonationLevelName(token.impersonation_level));
    }
    return TextLine("impersonating", "none");
  }
  if (code == CodeOf(NodeCode::kPersistFile)) {
    auto info = registry.ObjectDetails(Luid{node.object});
    return TextLine("persist", info && info->persist ? "yes" : "no");
  }
  if (code == CodeOf(NodeCode::kSubtokensFile)) {
    return RenderSubtokens(registry.ObjectChildren(token.token_id));
  }
  if (code == CodeOf(NodeCode::kTagsFile)) {
    auto info = registry.ObjectDetails(Luid{node.object});
    return info ? RenderTags(info->tags) : std::string();
  }
  return {};
}

std::string RenderSubtokens(std::span<const Registry::ObjectInfo> children) {
  std::string text;
  for (const Registry::ObjectInfo& child : children) {
    text += TextLine(std::to_string(child.id.value),
                     child.derivation.empty() ? "-" : child.derivation);
  }
  return text;
}

std::string RenderRegistryFile(const Registry::Stats& stats,
                               uint64_t events_applied,
                               uint64_t event_overflows, uint64_t requests) {
  std::string text;
  text += TextLine("processes", std::to_string(stats.processes));
  text += TextLine("pending", std::to_string(stats.pending));
  text += TextLine("threads", std::to_string(stats.threads));
  text += TextLine("impersonating", std::to_string(stats.impersonating));
  text += TextLine("objects", std::to_string(stats.objects));
  text += TextLine("minted", std::to_string(stats.minted));
  text += TextLine("inherited", std::to_string(stats.inherited));
  text += TextLine("reminted", std::to_string(stats.reminted));
  text += TextLine("narrowed", std::to_string(stats.narrowed));
  text += TextLine("sweeps", std::to_string(stats.sweeps));
  text += TextLine("events", stats.events_live ? "live" : "validating");
  text += TextLine("events_applied", std::to_string(events_applied));
  text += TextLine("event_overflows", std::to_string(event_overflows));
  text += TextLine("requests", std::to_string(requests));
  return text;
}

std::string RenderAccessResult(const AccessCheckResult& result,
                               const AccessCommand& command,
                               const SecurityDescriptor& sd,
                               const Sid* domain) {
  std::vector<std::string_view> used;
  for (const PrivilegeInfo& info : PrivilegeCatalog()) {
    if (result.privileges_used & privilege::Bit(info.bit)) {
      used.push_back(info.short_name);
    }
  }
  if (command.json) {
    nlohmann::json document = {
        {"status", AccessStatusName(result.status)},
        {"granted", Hex(result.granted)},
        {"granted_names", RightsNames(result.granted, command.mapping_name)},
        {"desired", Hex(result.desired_mapped)},
        {"mapping", command.mapping_name},
        {"reason", result.reason},
        {"deciding_ace", result.deciding_ace},
        {"privileges_used", used},
        {"sd", FormatSddl(sd, domain)},
        {"trace", nlohmann::json::array()},
    };
    for (const AccessTraceStep& step : result.trace) {
      document["trace"].push_back({{"step", step.step},
                                   {"detail", step.detail},
                                   {"ace", step.ace_index}});
    }
    return document.dump(2) + "\n";
  }
  std::string text;
  text += TextLine("status", AccessStatusName(result.status));
  text += TextLine("granted", Hex(result.granted));
  // Unlike RightsNames: "0" (token) or "" (SDDL) when nothing was granted.
  text += TextLine("granted_names", command.mapping_name == "token"
                                        ? FormatTokenRights(result.granted)
                                        : FormatSddlRights(result.granted));
  text += TextLine("desired", Hex(result.desired_mapped));
  text += TextLine("mapping", command.mapping_name);
  text += TextLine("reason", result.reason);
  text += TextLine("deciding_ace", std::to_string(result.deciding_ace));
  std::string used_names;
  for (std::string_view name : used) {
    if (!used_names.empty()) used_names += ",";
    used_names += name;
  }
  text += TextLine("privileges_used", used_names.empty() ? "-" : used_names);
  text += TextLine("sd", FormatSddl(sd, domain));
  for (const AccessTraceStep& step : result.trace) {
    text += TextLine("trace", step.step + ": " + step.detail);
  }
  return text;
}

}  // namespace tokenfs
