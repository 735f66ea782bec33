#include "core/capability.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/ascii.h"
#include "core/sha256.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

constexpr std::array<CapabilityInfo, 25> kCatalog{{
    {"AT", "Obtain impersonation tokens from this token.", "normal"},
    {"tokeninfo",
     "Query everything about this token (every tokeninfo:* capability).",
     "normal"},
    {"tokeninfo:introspect",
     "Read this token's contents and check that it is still valid.", "normal"},
    {"tokeninfo:history", "Read this token's event history.", "normal"},
    {"tokeninfo:subtokens", "List the tree of tokens derived from this token.",
     "normal"},
    {"tokeninfo:notify", "Manage change notifications for this token.",
     "normal"},
    {"tokeninfo:tags", "Manage the tags of this token.", "normal"},
    {"manage_mytokens",
     "Manage the user's other tokens (every manage_mytokens:* capability).",
     "very powerful"},
    {"manage_mytokens:list", "List the metadata of all the user's tokens.",
     "normal"},
    {"manage_mytokens:revoke", "Revoke any of the user's tokens by its id.",
     "powerful"},
    {"manage_mytokens:history",
     "Read the event history of any of the user's tokens.", "normal"},
    {"manage_mytokens:notify",
     "Manage notifications for any of the user's tokens.", "normal"},
    {"manage_mytokens:tags", "Manage the tags of any of the user's tokens.",
     "normal"},
    {"create_mytoken",
     "Derive new tokens (duplicate, restrict) from this token; never more "
     "than it holds.",
     "powerful"},
    {"settings",
     "Read and change the user's tokenfs settings (every settings:* "
     "capability).",
     "powerful"},
    {"settings:grants", "Read and change which grant types the user allows.",
     "powerful"},
    {"settings:grants:ssh", "Read and change the user's ssh grant.",
     "powerful"},
    {"settings:email", "Read and change the user's email settings.", "normal"},
    {"settings:tags", "Read and change the user's tags.", "normal"},
    {"read@settings",
     "Read the user's settings (every read@settings:* capability).", "normal"},
    {"read@settings:grants", "Read which grant types the user allows.",
     "normal"},
    {"read@settings:grants:ssh",
     "Read the user's ssh grant, which lists their ssh keys.", "normal"},
    {"read@settings:email", "Read the user's email settings.", "normal"},
    {"read@settings:tags", "Read the user's tags.", "normal"},
    {"read@manage_mytokens:notify",
     "Read the notifications of any of the user's tokens.", "normal"},
}};

constexpr std::array<std::string_view, 5> kTopLevel{
    "AT", "tokeninfo", "manage_mytokens", "create_mytoken", "settings"};

bool IsSegmentCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool HasReadOnlyPrefix(std::string_view name) {
  return name.size() >= kReadOnlyCapabilityPrefix.size() &&
         EqualsIgnoreCase(name.substr(0, kReadOnlyCapabilityPrefix.size()),
                          kReadOnlyCapabilityPrefix);
}

// A valid name split into its mode and path segments.
struct SplitName {
  bool read_only = false;
  std::vector<std::string_view> segments;
};

SplitName Split(std::string_view name) {
  SplitName split;
  if (HasReadOnlyPrefix(name)) {
    split.read_only = true;
    name.remove_prefix(kReadOnlyCapabilityPrefix.size());
  }
  size_t start = 0;
  while (true) {
    const size_t colon = name.find(':', start);
    split.segments.push_back(name.substr(start, colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return split;
}

// How a character is shown in an error message.
std::string Printable(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string(1, c);
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("\\x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

// The name as quoted in error messages, shortened when very long.
std::string Quoted(std::string_view text) {
  constexpr size_t kShown = 40;
  if (text.size() <= kShown) return "'" + std::string(text) + "'";
  return "'" + std::string(text.substr(0, kShown)) + "...'";
}

Capability MakeValidCapability(std::string name) {
  Sid sid = CapabilitySid(name);
  return Capability{std::move(name), sid};
}

}  // namespace

std::span<const CapabilityInfo> CapabilityCatalog() { return kCatalog; }

const CapabilityInfo* FindCapabilityInfo(std::string_view name) {
  for (const CapabilityInfo& info : kCatalog) {
    if (EqualsIgnoreCase(info.name, name)) return &info;
  }
  return nullptr;
}

Result<std::string> ParseCapabilityName(std::string_view text) {
  if (text.empty()) return InvalidArgument("capability name is empty", 1);
  if (text.size() > kMaxCapabilityNameLength) {
    return InvalidArgument("capability " + Quoted(text) + " is longer than " +
                               std::to_string(kMaxCapabilityNameLength) +
                               " characters",
                           static_cast<int>(kMaxCapabilityNameLength) + 1);
  }
  size_t body = 0;
  // An '@' after a run of segment characters is a mode prefix; only read@
  // is defined. An '@' anywhere else is just an invalid character.
  if (const size_t at = text.find('@'); at != std::string_view::npos) {
    const std::string_view prefix = text.substr(0, at + 1);
    if (std::all_of(prefix.begin(), prefix.end() - 1, IsSegmentCharacter)) {
      if (!EqualsIgnoreCase(prefix, kReadOnlyCapabilityPrefix)) {
        return InvalidArgument("capability " + Quoted(text) +
                                   ": unknown prefix '" + std::string(prefix) +
                                   "' (only 'read@' is defined)",
                               1);
      }
      body = prefix.size();
    }
  }
  size_t segment_length = 0;
  for (size_t i = body; i <= text.size(); ++i) {
    const int column = static_cast<int>(i) + 1;
    if (i == text.size() || text[i] == ':') {
      if (segment_length == 0) {
        return InvalidArgument("capability " + Quoted(text) +
                                   ": empty path segment at column " +
                                   std::to_string(column),
                               column);
      }
      segment_length = 0;
      continue;
    }
    if (!IsSegmentCharacter(text[i])) {
      return InvalidArgument("capability " + Quoted(text) +
                                 ": invalid character '" + Printable(text[i]) +
                                 "' at column " + std::to_string(column),
                             column);
    }
    ++segment_length;
  }
  std::string canonical =
      (body > 0 ? std::string(kReadOnlyCapabilityPrefix) : std::string()) +
      std::string(text.substr(body));
  if (const CapabilityInfo* info = FindCapabilityInfo(canonical)) {
    return std::string(info->name);
  }
  return canonical;
}

Sid CapabilitySid(std::string_view name) {
  // DeriveCapabilitySidsFromName: SHA-256 over the UTF-16LE upper-cased name;
  // the digest read as eight little-endian u32 words follows the 1024 RID.
  Sha256 hasher;
  for (char c : name) {
    const uint8_t unit[2] = {static_cast<uint8_t>(AsciiToUpper(c)), 0};
    hasher.Update(std::span<const uint8_t>(unit, 2));
  }
  const Sha256::Digest digest = hasher.Finish();
  // SECURITY_CAPABILITY_BASE_RID 3, SECURITY_CAPABILITY_APP_RID 1024.
  std::array<uint32_t, 10> sub_authorities{3, 1024};
  for (size_t word = 0; word < 8; ++word) {
    const uint8_t* p = digest.data() + 4 * word;
    sub_authorities[word + 2] = uint32_t{p[0]} | (uint32_t{p[1]} << 8) |
                                (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
  }
  Result<Sid> sid = Sid::Create(kAppPackageAuthority, sub_authorities);
  // Ten sub-authorities under authority 15 are always valid.
  if (!sid) return Sid();
  return *sid;
}

Result<Capability> MakeCapability(std::string_view name) {
  Result<std::string> canonical = ParseCapabilityName(name);
  if (!canonical) return tl::unexpected(canonical.error());
  return MakeValidCapability(std::move(*canonical));
}

bool CapabilityCovers(std::string_view held, std::string_view wanted) {
  const SplitName held_split = Split(held);
  const SplitName wanted_split = Split(wanted);
  if (held_split.read_only && !wanted_split.read_only) return false;
  if (held_split.segments.size() > wanted_split.segments.size()) return false;
  for (size_t i = 0; i < held_split.segments.size(); ++i) {
    if (!EqualsIgnoreCase(held_split.segments[i], wanted_split.segments[i])) {
      return false;
    }
  }
  return true;
}

bool HasCapability(std::span<const Capability> held, std::string_view wanted) {
  std::optional<Sid> wanted_sid;
  for (const Capability& capability : held) {
    if (!capability.name.empty()) {
      if (CapabilityCovers(capability.name, wanted)) return true;
      continue;
    }
    if (!wanted_sid) wanted_sid = CapabilitySid(wanted);
    if (capability.sid == *wanted_sid) return true;
  }
  return false;
}

Result<CapabilityDerivation> DeriveCapabilities(
    std::span<const Capability> parent, std::span<const std::string> requested,
    bool tighten) {
  // Validate every name before deciding anything.
  std::vector<std::string> requests;
  for (const std::string& text : requested) {
    Result<std::string> canonical = ParseCapabilityName(text);
    if (!canonical) return tl::unexpected(canonical.error());
    const bool repeat = std::any_of(
        requests.begin(), requests.end(), [&](const std::string& earlier) {
          return EqualsIgnoreCase(earlier, *canonical);
        });
    if (!repeat) requests.push_back(std::move(*canonical));
  }

  CapabilityDerivation derivation;
  auto grant = [&derivation](const std::string& name) {
    Capability capability = MakeValidCapability(name);
    for (const Capability& existing : derivation.granted) {
      if (existing.sid == capability.sid) return;
    }
    derivation.granted.push_back(std::move(capability));
  };

  for (const std::string& request : requests) {
    if (HasCapability(parent, request)) {
      grant(request);
      continue;
    }
    if (!tighten) {
      return MakeError(
          ErrorCode::kPrivilegeNotHeld,
          "capability '" + request + "' is not held by the parent token");
    }
    // Narrow to what the parent holds beneath the request.
    std::vector<std::string> beneath;
    if (!HasReadOnlyPrefix(request)) {
      std::string read_only = std::string(kReadOnlyCapabilityPrefix) + request;
      if (HasCapability(parent, read_only)) beneath.push_back(read_only);
    }
    for (const Capability& held : parent) {
      if (held.name.empty() || !CapabilityCovers(request, held.name)) continue;
      const bool already = std::any_of(
          beneath.begin(), beneath.end(), [&](const std::string& kept) {
            return CapabilityCovers(kept, held.name);
          });
      if (already) continue;
      // A broader parent capability replaces narrower ones kept before it.
      std::erase_if(beneath, [&](const std::string& kept) {
        return CapabilityCovers(held.name, kept);
      });
      beneath.push_back(held.name);
    }
    derivation.dropped.push_back(request);
    if (!beneath.empty()) derivation.narrowed.push_back(request);
    for (const std::string& name : beneath) grant(name);
  }
  return derivation;
}

std::vector<Capability> FullCapabilitySet() {
  std::vector<Capability> set;
  for (std::string_view name : kTopLevel) {
    set.push_back(MakeValidCapability(std::string(name)));
  }
  return set;
}

CapabilityNames::CapabilityNames() {
  for (const CapabilityInfo& info : kCatalog) Remember(info.name);
}

void CapabilityNames::Remember(std::string_view name) {
  Result<std::string> canonical = ParseCapabilityName(name);
  if (!canonical) return;
  const Sid sid = CapabilitySid(*canonical);
  names_.try_emplace(sid, std::move(*canonical));
}

std::optional<std::string> CapabilityNames::NameForSid(const Sid& sid) const {
  const auto found = names_.find(sid);
  if (found == names_.end()) return std::nullopt;
  return found->second;
}

void CapabilityNames::FillNames(std::vector<Capability>& capabilities) const {
  for (Capability& capability : capabilities) {
    if (!capability.name.empty()) continue;
    if (std::optional<std::string> name = NameForSid(capability.sid)) {
      capability.name = std::move(*name);
    }
  }
}

}  // namespace tokenfs
