#include "core/well_known_sids.h"

#include <algorithm>
#include <vector>

#include <array>
#include <cstdlib>

#include "core/ascii.h"

namespace tokenfs {
namespace well_known {

Sid Null() { return Sid::Known(kNullAuthority, {0}); }
Sid Everyone() { return Sid::Known(kWorldAuthority, {0}); }
Sid Local() { return Sid::Known(kLocalAuthority, {0}); }
Sid ConsoleLogon() { return Sid::Known(kLocalAuthority, {1}); }
Sid CreatorOwner() { return Sid::Known(kCreatorAuthority, {0}); }
Sid CreatorGroup() { return Sid::Known(kCreatorAuthority, {1}); }
Sid OwnerRights() { return Sid::Known(kCreatorAuthority, {4}); }
Sid Network() { return Sid::Known(kNtAuthority, {2}); }
Sid Interactive() { return Sid::Known(kNtAuthority, {4}); }
Sid Service() { return Sid::Known(kNtAuthority, {6}); }
Sid Anonymous() { return Sid::Known(kNtAuthority, {7}); }
Sid PrincipalSelf() { return Sid::Known(kNtAuthority, {10}); }
Sid AuthenticatedUsers() { return Sid::Known(kNtAuthority, {11}); }
Sid Restricted() { return Sid::Known(kNtAuthority, {12}); }
Sid LocalSystem() { return Sid::Known(kNtAuthority, {18}); }
Sid LocalService() { return Sid::Known(kNtAuthority, {19}); }
Sid NetworkService() { return Sid::Known(kNtAuthority, {20}); }
Sid Administrators() { return Sid::Known(kNtAuthority, {32, 544}); }
Sid Users() { return Sid::Known(kNtAuthority, {32, 545}); }
Sid Guests() { return Sid::Known(kNtAuthority, {32, 546}); }
Sid BackupOperators() { return Sid::Known(kNtAuthority, {32, 551}); }
Sid AllAppPackages() { return Sid::Known(kAppPackageAuthority, {2, 1}); }
Sid IntegrityLevel(uint32_t rid) {
  return Sid::Known(kMandatoryLabelAuthority, {rid});
}
Sid LogonSid(uint64_t logon_session) {
  return Sid::Known(kNtAuthority,
                    {5, static_cast<uint32_t>(logon_session >> 32),
                     static_cast<uint32_t>(logon_session & 0xffffffffu)});
}
Sid UnixUser(uint32_t uid) { return Sid::Known(kUnixAuthority, {1, uid}); }
Sid UnixGroup(uint32_t gid) { return Sid::Known(kUnixAuthority, {2, gid}); }

}  // namespace well_known

namespace {

struct LabelEntry {
  const char* sid;
  const char* label;
};

// Display names, in the spelling Windows and Peios tools print.
constexpr std::array<LabelEntry, 26> kLabels{{
    {"S-1-0-0", "Null"},
    {"S-1-1-0", "Everyone"},
    {"S-1-2-0", "Local"},
    {"S-1-2-1", "Console Logon"},
    {"S-1-3-0", "Creator Owner"},
    {"S-1-3-1", "Creator Group"},
    {"S-1-3-4", "Owner Rights"},
    {"S-1-5-2", "Network"},
    {"S-1-5-4", "Interactive"},
    {"S-1-5-6", "Service"},
    {"S-1-5-7", "Anonymous"},
    {"S-1-5-10", "Self"},
    {"S-1-5-11", "Authenticated Users"},
    {"S-1-5-12", "Restricted"},
    {"S-1-5-18", "Local System"},
    {"S-1-5-19", "Local Service"},
    {"S-1-5-20", "Network Service"},
    {"S-1-5-32-544", "Administrators"},
    {"S-1-5-32-545", "Users"},
    {"S-1-5-32-546", "Guests"},
    {"S-1-5-32-551", "Backup Operators"},
    {"S-1-5-33", "Write Restricted"},
    {"S-1-15-2-1", "All Application Packages"},
    {"S-1-15-2-2", "All Restricted Application Packages"},
    {"S-1-18-1", "Authentication Authority Asserted"},
    {"S-1-18-2", "Service Asserted"},
}};

struct AliasEntry {
  const char* alias;
  const char* sid;
};

// Machine-independent SDDL aliases (MS "SID Strings" table). Ordered so that
// the first alias listed for a SID is the one Windows prints.
constexpr std::array<AliasEntry, 49> kAliases{{
    {"AA", "S-1-5-32-579"},
    {"AC", "S-1-15-2-1"},
    {"AN", "S-1-5-7"},
    {"AO", "S-1-5-32-548"},
    {"AS", "S-1-18-1"},
    {"AU", "S-1-5-11"},
    {"BA", "S-1-5-32-544"},
    {"BG", "S-1-5-32-546"},
    {"BO", "S-1-5-32-551"},
    {"BU", "S-1-5-32-545"},
    {"CD", "S-1-5-32-574"},
    {"CG", "S-1-3-1"},
    {"CO", "S-1-3-0"},
    {"CY", "S-1-5-32-569"},
    {"ED", "S-1-5-9"},
    {"ER", "S-1-5-32-573"},
    {"ES", "S-1-5-32-576"},
    {"HA", "S-1-5-32-578"},
    {"HI", "S-1-16-12288"},
    {"IS", "S-1-5-32-568"},
    {"IU", "S-1-5-4"},
    {"LS", "S-1-5-19"},
    {"LU", "S-1-5-32-559"},
    {"LW", "S-1-16-4096"},
    {"ME", "S-1-16-8192"},
    {"MP", "S-1-16-8448"},
    {"MS", "S-1-5-32-577"},
    {"MU", "S-1-5-32-558"},
    {"NO", "S-1-5-32-556"},
    {"NS", "S-1-5-20"},
    {"NU", "S-1-5-2"},
    {"OW", "S-1-3-4"},
    {"PO", "S-1-5-32-550"},
    {"PS", "S-1-5-10"},
    {"PU", "S-1-5-32-547"},
    {"RA", "S-1-5-32-575"},
    {"RC", "S-1-5-12"},
    {"RD", "S-1-5-32-555"},
    {"RE", "S-1-5-32-552"},
    {"RM", "S-1-5-32-580"},
    {"RU", "S-1-5-32-554"},
    {"SI", "S-1-16-16384"},
    {"SO", "S-1-5-32-549"},
    {"SS", "S-1-18-2"},
    {"SU", "S-1-5-6"},
    {"SY", "S-1-5-18"},
    {"UD", "S-1-5-84-0-0-0-0-0"},
    {"WD", "S-1-1-0"},
    {"WR", "S-1-5-33"},
}};

// Aliases relative to a machine, domain or forest root SID.
struct DomainAlias {
  const char* alias;
  uint32_t rid;
};

// In the order an alias is looked for when printing.
constexpr std::array<DomainAlias, 17> kDomainRelativeAliases{{
    {"LA", 500}, {"LG", 501}, {"DA", 512}, {"DU", 513}, {"DG", 514},
    {"DC", 515}, {"DD", 516}, {"CA", 517}, {"SA", 518}, {"EA", 519},
    {"PA", 520}, {"CN", 522}, {"AP", 525}, {"KA", 526}, {"EK", 527},
    {"RO", 498}, {"RS", 553},
}};

// The `sid` strings of kTable parsed once, so lookups (every SID SDDL parses
// or prints, every SID a renderer labels) compare values instead of parsing
// or printing strings. Built on first use; C++ makes that initialisation
// thread-safe.
template <const auto& kTable>
const std::array<Sid, kTable.size()>& ParsedSids() {
  static const std::array<Sid, kTable.size()> sids = [] {
    std::array<Sid, kTable.size()> out;
    for (size_t i = 0; i < kTable.size(); ++i) {
      auto sid = Sid::Parse(kTable[i].sid);
      if (!sid) std::abort();  // the table is malformed
      out[i] = *sid;
    }
    return out;
  }();
  return sids;
}

}  // namespace

bool IsIntegritySid(const Sid& sid) {
  return sid.authority() == kMandatoryLabelAuthority &&
         sid.sub_authority_count() == 1;
}

bool IsLogonSid(const Sid& sid) {
  return sid.authority() == kNtAuthority && sid.sub_authority_count() == 3 &&
         sid.sub_authorities()[0] == 5;
}

bool IsCapabilitySid(const Sid& sid) {
  return sid.authority() == kAppPackageAuthority &&
         sid.sub_authority_count() >= 2 && sid.sub_authorities()[0] == 3;
}

std::optional<std::string_view> IntegrityLevelName(uint32_t rid) {
  switch (rid) {
    case kIntegrityUntrusted:
      return "Untrusted";
    case kIntegrityLow:
      return "Low";
    case kIntegrityMedium:
      return "Medium";
    case kIntegrityMediumPlus:
      return "Medium Plus";
    case kIntegrityHigh:
      return "High";
    case kIntegritySystem:
      return "System";
    case kIntegrityProtected:
      return "Protected";
    default:
      return std::nullopt;
  }
}

Result<uint32_t> ParseIntegrityLevel(std::string_view text) {
  static constexpr std::array<std::pair<const char*, uint32_t>, 9> kNames{{
      {"untrusted", kIntegrityUntrusted},
      {"low", kIntegrityLow},
      {"medium", kIntegrityMedium},
      {"medium-plus", kIntegrityMediumPlus},
      {"mediumplus", kIntegrityMediumPlus},
      {"medium plus", kIntegrityMediumPlus},
      {"high", kIntegrityHigh},
      {"system", kIntegritySystem},
      {"protected", kIntegrityProtected},
  }};
  for (const auto& [name, rid] : kNames) {
    if (EqualsIgnoreCase(text, name)) return rid;
  }
  if (!text.empty() && (text[0] == 'S' || text[0] == 's')) {
    auto sid = Sid::Parse(text);
    if (!sid) return tl::unexpected(sid.error());
    if (!IsIntegritySid(*sid)) {
      return InvalidArgument("'" + std::string(text) +
                             "' is not an integrity SID (S-1-16-N)");
    }
    return sid->rid();
  }
  // A bare number: decimal or 0x-hex RID. (Sid::Parse takes only decimal
  // sub-authorities, so the number is read here.)
  const bool hex =
      text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string_view digits = hex ? text.substr(2) : text;
  uint64_t value = 0;
  bool valid = !digits.empty();
  for (char c : digits) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (hex && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) {
      valid = false;
      break;
    }
    value = value * (hex ? 16 : 10) + static_cast<uint64_t>(digit);
    if (value > UINT32_MAX) {
      valid = false;
      break;
    }
  }
  if (!valid) {
    return InvalidArgument(
        "unknown integrity level '" + std::string(text) +
        "' (use untrusted, low, medium, medium-plus, high, system, an RID, "
        "or S-1-16-N)");
  }
  return static_cast<uint32_t>(value);
}

std::optional<std::string> SidLabel(const Sid& sid,
                                    const AccountLookup* lookup) {
  if (IsIntegritySid(sid)) {
    if (auto name = IntegrityLevelName(sid.rid())) {
      return std::string(*name) + " Mandatory Level";
    }
    return "Mandatory Level " + std::to_string(sid.rid());
  }
  if (IsLogonSid(sid)) {
    return "Logon Session " + std::to_string(sid.sub_authorities()[1]) + "-" +
           std::to_string(sid.sub_authorities()[2]);
  }
  if (sid.authority() == kUnixAuthority && sid.sub_authority_count() == 2) {
    const uint32_t kind = sid.sub_authorities()[0];
    const uint32_t id = sid.sub_authorities()[1];
    if (kind == 1) {
      std::optional<std::string> name;
      if (lookup) name = lookup->UserName(id);
      return "Unix User\\" + (name ? *name : std::to_string(id));
    }
    if (kind == 2) {
      std::optional<std::string> name;
      if (lookup) name = lookup->GroupName(id);
      return "Unix Group\\" + (name ? *name : std::to_string(id));
    }
    return std::nullopt;
  }
  const auto& sids = ParsedSids<kLabels>();
  for (size_t i = 0; i < sids.size(); ++i) {
    if (sids[i] == sid) return std::string(kLabels[i].label);
  }
  if (lookup) return lookup->DirectoryName(sid);
  return std::nullopt;
}

std::optional<Sid> SidFromSddlAlias(std::string_view alias,
                                    const Sid* domain) {
  for (size_t i = 0; i < kAliases.size(); ++i) {
    if (EqualsIgnoreCase(alias, kAliases[i].alias)) {
      return ParsedSids<kAliases>()[i];
    }
  }
  if (domain) {
    for (const DomainAlias& entry : kDomainRelativeAliases) {
      if (!EqualsIgnoreCase(alias, entry.alias)) continue;
      std::vector<uint32_t> subs(domain->sub_authorities().begin(),
                                 domain->sub_authorities().end());
      subs.push_back(entry.rid);
      auto sid = Sid::Create(domain->authority(), subs);
      if (sid) return *sid;
    }
  }
  return std::nullopt;
}

std::optional<std::string_view> SddlAliasForSid(const Sid& sid,
                                                const Sid* domain) {
  const auto& sids = ParsedSids<kAliases>();
  for (size_t i = 0; i < sids.size(); ++i) {
    if (sids[i] == sid) return std::string_view(kAliases[i].alias);
  }
  if (domain && sid.authority() == domain->authority() &&
      sid.sub_authorities().size() == domain->sub_authorities().size() + 1 &&
      std::equal(domain->sub_authorities().begin(),
                 domain->sub_authorities().end(),
                 sid.sub_authorities().begin())) {
    const uint32_t rid = sid.sub_authorities().back();
    for (const DomainAlias& entry : kDomainRelativeAliases) {
      if (entry.rid == rid) return std::string_view(entry.alias);
    }
  }
  return std::nullopt;
}

bool IsDomainRelativeSddlAlias(std::string_view alias) {
  for (const DomainAlias& entry : kDomainRelativeAliases) {
    if (EqualsIgnoreCase(alias, entry.alias)) return true;
  }
  return false;
}

bool IsDomainSid(const Sid& sid) {
  const auto subs = sid.sub_authorities();
  return sid.authority() == 5 && subs.size() == 4 && subs[0] == 21;
}

Result<Sid> ParseDomainSid(std::string_view text) {
  auto sid = Sid::Parse(text);
  if (!sid || !IsDomainSid(*sid)) {
    return InvalidArgument("wants S-1-5-21-a-b-c, not '" + std::string(text) +
                           "'");
  }
  return *sid;
}

Result<Sid> ParseSidOrAlias(std::string_view text, const Sid* domain) {
  if (text.size() == 2) {
    if (auto sid = SidFromSddlAlias(text, domain)) return *sid;
    if (IsDomainRelativeSddlAlias(text)) {
      return InvalidArgument("SID alias '" + std::string(text) +
                                 "' is relative to a domain, and no domain "
                                 "SID is set; write the S-1-... form",
                             1);
    }
    return InvalidArgument("unknown SID alias '" + std::string(text) + "'", 1);
  }
  return Sid::Parse(text);
}

}  // namespace tokenfs
