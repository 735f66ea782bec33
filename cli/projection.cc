#include "cli/projection.h"

#include <algorithm>
#include <map>

#include "cli/text.h"
#include "core/minting_policy.h"
#include "core/number.h"
#include "core/sid.h"
#include "core/token.h"
#include "core/well_known_sids.h"

namespace tokenfs::cli {
namespace {

constexpr std::string_view kUnixGroupPrefix = "S-1-22-2-";

std::optional<uint64_t> Number(const Json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0) {
    return static_cast<uint64_t>(value.get<int64_t>());
  }
  return std::nullopt;
}

// tokenfs writes masks as "0x" and lower-case hex digits.
std::optional<uint64_t> HexMask(const Json& value) {
  const std::string text = Text(value);
  if (text.size() < 3 || text.rfind("0x", 0) != 0) return std::nullopt;
  auto mask = ParseUnsigned(std::string_view(text).substr(2), UINT64_MAX,
                            NumberBase::kHex);
  if (!mask) return std::nullopt;
  return *mask;
}

}  // namespace

CliResult<CredentialPlan> PlanCredentials(const TokenData& token) {
  const Json& tokenfs = token.Tokenfs();
  const auto uid = Number(Member(tokenfs, "projected_uid"));
  const auto gid = Number(Member(tokenfs, "projected_gid"));
  const auto present =
      HexMask(Member(Member(token.Decoded("privileges"), "raw"), "present"));
  const auto rid = Number(Member(token.Decoded("integrity"), "rid"));
  if (!uid || !gid || !present || !rid || *uid > UINT32_MAX ||
      *gid > UINT32_MAX) {
    return Fail(exit_status::kFailure,
                "tokenfs did not report the token's projected ids, "
                "privileges and integrity");
  }
  const std::string user = Text(Member(token.Decoded("user"), "sid"));
  if (*uid == 0 && user != well_known::LocalSystem().ToString()) {
    return Fail(exit_status::kDenied,
                "not permitted: the token projects to uid 0 but its user " +
                    user + " is not Local System (S-1-5-18)");
  }
  CredentialPlan plan;
  plan.uid = static_cast<uid_t>(*uid);

  // Usable (enabled) and refused (deny-only or disabled) Unix groups.
  std::map<uint64_t, bool> group_usable;
  const Json& groups = Member(token.Decoded("groups"), "groups");
  if (groups.is_array()) {
    for (const Json& group : groups) {
      const std::string sid = Text(Member(group, "sid"));
      if (sid.rfind(kUnixGroupPrefix, 0) != 0) continue;
      const auto number = ParseDecimal(
          std::string_view(sid).substr(kUnixGroupPrefix.size()), UINT32_MAX);
      if (!number) continue;
      const auto attributes = Number(Member(group, "attributes_raw"));
      const bool usable =
          attributes && (*attributes & group_attributes::kEnabled) != 0 &&
          (*attributes & group_attributes::kUseForDenyOnly) == 0;
      // A gid listed twice is usable only if every entry is.
      const auto [it, inserted] = group_usable.emplace(*number, usable);
      if (!inserted) it->second = it->second && usable;
    }
  }
  auto refused = [&group_usable](uint64_t number) {
    const auto found = group_usable.find(number);
    return found != group_usable.end() && !found->second;
  };
  plan.gid = refused(*gid) ? static_cast<gid_t>(kUnmappedId)
                           : static_cast<gid_t>(*gid);
  std::vector<gid_t> supplementary;
  for (const auto& [number, usable] : group_usable) {
    if (usable) supplementary.push_back(static_cast<gid_t>(number));
  }
  const Json& projected =
      Member(token.Decoded("projectedsupplementarygids"), "gids");
  if (projected.is_array()) {
    for (const Json& value : projected) {
      const auto number = Number(value);
      if (!number || *number > UINT32_MAX || refused(*number)) continue;
      supplementary.push_back(static_cast<gid_t>(*number));
    }
  }
  std::sort(supplementary.begin(), supplementary.end());
  supplementary.erase(std::unique(supplementary.begin(), supplementary.end()),
                      supplementary.end());
  supplementary.erase(
      std::remove(supplementary.begin(), supplementary.end(), plan.gid),
      supplementary.end());
  plan.groups = std::move(supplementary);

  plan.capabilities_to_drop = CapabilitiesToDrop(*present);
  const bool restricted = Member(tokenfs, "restricted").is_boolean() &&
                          Member(tokenfs, "restricted").get<bool>();
  const bool write_restricted =
      Member(tokenfs, "write_restricted").is_boolean() &&
      Member(tokenfs, "write_restricted").get<bool>();
  plan.no_new_privs = restricted || write_restricted || *rid < kIntegrityMedium;
  return plan;
}

}  // namespace tokenfs::cli
