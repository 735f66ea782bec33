#include "core/access_mask.h"

#include <array>
#include <cctype>
#include <optional>

#include "core/ascii.h"
#include "core/number.h"

namespace tokenfs {

const GenericMapping kTokenGenericMapping{
    access::kTokenQuery | access::kReadControl,
    access::kTokenAdjustPrivileges | access::kTokenAdjustGroups |
        access::kTokenAdjustDefault | access::kReadControl | access::kWriteDac,
    access::kTokenImpersonate,
    access::kTokenAllAccess,
};

const GenericMapping kFileGenericMapping{
    access::kFileGenericRead,
    access::kFileGenericWrite,
    access::kFileGenericExecute,
    access::kFileAllAccess,
};

const GenericMapping kKeyGenericMapping{
    access::kKeyRead,
    access::kKeyWrite,
    access::kKeyExecute,
    access::kKeyAllAccess,
};

const GenericMapping kProcessGenericMapping{
    AccessMask(0x00020410),
    AccessMask(0x00020bea),
    AccessMask(0x00121001),
    AccessMask(0x001fffff),
};

const GenericMapping kThreadGenericMapping{
    AccessMask(0x00020048),
    AccessMask(0x00020437),
    AccessMask(0x00121800),
    AccessMask(0x001fffff),
};

const GenericMapping kServiceGenericMapping{
    AccessMask(0x0002008d),
    AccessMask(0x00020002),
    AccessMask(0x00020170),
    AccessMask(0x000f01ff),
};

const GenericMapping kPlainGenericMapping{
    access::kReadControl,
    access::kReadControl,
    access::kReadControl,
    access::kStandardRightsRequired | AccessMask(0xffff),
};

AccessMask MapGeneric(AccessMask mask, const GenericMapping& mapping) {
  AccessMask result = mask & ~access::kAllGeneric;
  if (mask.Intersects(access::kGenericRead)) result |= mapping.read;
  if (mask.Intersects(access::kGenericWrite)) result |= mapping.write;
  if (mask.Intersects(access::kGenericExecute)) result |= mapping.execute;
  if (mask.Intersects(access::kGenericAll)) result |= mapping.all;
  return result;
}

AccessMask GenericLeftAfterMapping(AccessMask mask,
                                   const GenericMapping& mapping) {
  AccessMask members;
  if (mask.Intersects(access::kGenericRead)) members |= mapping.read;
  if (mask.Intersects(access::kGenericWrite)) members |= mapping.write;
  if (mask.Intersects(access::kGenericExecute)) members |= mapping.execute;
  if (mask.Intersects(access::kGenericAll)) members |= mapping.all;
  return members & access::kAllGeneric;
}

namespace {

struct MappingName {
  std::string_view name;
  const GenericMapping* mapping;
};

constexpr std::array<MappingName, 9> kMappingNames{{
    {"token", &kTokenGenericMapping},
    {"file", &kFileGenericMapping},
    {"directory", &kFileGenericMapping},
    {"key", &kKeyGenericMapping},
    {"process", &kProcessGenericMapping},
    {"thread", &kThreadGenericMapping},
    {"service", &kServiceGenericMapping},
    {"plain", &kPlainGenericMapping},
    {"generic", &kPlainGenericMapping},
}};

constexpr std::string_view kMappingChoices =
    "token, file, directory, key, process, thread, service, plain, or "
    "GR,GW,GX,GA in hex";

}  // namespace

Result<NamedGenericMapping> ParseGenericMapping(std::string_view text) {
  if (text.find(',') == std::string_view::npos) {
    const std::string name = AsciiLower(text);
    for (const MappingName& entry : kMappingNames) {
      if (entry.name == name) {
        return NamedGenericMapping{
            *entry.mapping, name == "generic" ? "plain" : name, false};
      }
    }
    if (text.empty()) {
      return InvalidArgument("empty generic mapping (" +
                             std::string(kMappingChoices) + ")");
    }
    return InvalidArgument("unknown generic mapping '" + std::string(text) +
                           "' (" + std::string(kMappingChoices) + ")");
  }
  static constexpr std::array<std::string_view, 4> kMembers{"GR", "GW", "GX",
                                                            "GA"};
  std::array<AccessMask, 4> members;
  size_t count = 0;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view field = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos
                                               : comma - start);
    if (count < members.size()) {
      std::string_view digits = field;
      if (digits.size() > 2 && digits[0] == '0' &&
          (digits[1] == 'x' || digits[1] == 'X')) {
        digits.remove_prefix(2);
      }
      auto value = ParseUnsigned(digits, 0xffffffff, NumberBase::kHex);
      if (!value) {
        return InvalidArgument(
            "generic mapping column " + std::to_string(start + 1) + ": " +
            std::string(kMembers[count]) + " '" + std::string(field) +
            "' is not a hex number up to 0xffffffff");
      }
      members[count] = AccessMask(static_cast<uint32_t>(*value));
    }
    ++count;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (count != members.size()) {
    return InvalidArgument("generic mapping '" + std::string(text) + "' has " +
                           std::to_string(count) +
                           " values; it needs four: GR,GW,GX,GA");
  }
  GenericMapping mapping{members[0], members[1], members[2], members[3]};
  return NamedGenericMapping{mapping, FormatGenericMapping(mapping), true};
}

std::string FormatGenericMapping(const GenericMapping& mapping) {
  std::string out;
  for (AccessMask member :
       {mapping.read, mapping.write, mapping.execute, mapping.all}) {
    if (!out.empty()) out += ',';
    out += "0x" + FormatUnsigned(member.bits(), NumberBase::kHex);
  }
  return out;
}

namespace {

struct RightName {
  uint32_t bit;
  const char* name;
};

constexpr std::array<RightName, 18> kTokenRightNames{{
    {0x0001, "ASSIGN_PRIMARY"},
    {0x0002, "DUPLICATE"},
    {0x0004, "IMPERSONATE"},
    {0x0008, "QUERY"},
    {0x0010, "QUERY_SOURCE"},
    {0x0020, "ADJUST_PRIVILEGES"},
    {0x0040, "ADJUST_GROUPS"},
    {0x0080, "ADJUST_DEFAULT"},
    {0x0100, "ADJUST_SESSIONID"},
    {0x00010000, "DELETE"},
    {0x00020000, "READ_CONTROL"},
    {0x00040000, "WRITE_DAC"},
    {0x00080000, "WRITE_OWNER"},
    {0x00100000, "SYNCHRONIZE"},
    {0x01000000, "ACCESS_SYSTEM_SECURITY"},
    {0x02000000, "MAXIMUM_ALLOWED"},
    {0x10000000, "GENERIC_ALL"},
    {0x20000000, "GENERIC_EXECUTE"},
}};

// A mask written as a decimal or 0x-hex number of at most 32 bits.
std::optional<uint32_t> ParseNumber(std::string_view text) {
  auto value = ParseUnsigned(text, UINT32_MAX);
  if (!value) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

}  // namespace

std::string FormatTokenRights(AccessMask mask) {
  if (mask.empty()) return "0";
  std::string out;
  uint32_t remaining = mask.bits();
  auto append = [&out](std::string_view word) {
    if (!out.empty()) out += " | ";
    out += word;
  };
  for (const auto& entry : kTokenRightNames) {
    if (remaining & entry.bit) {
      append(entry.name);
      remaining &= ~entry.bit;
    }
  }
  if (remaining & 0x40000000u) {
    append("GENERIC_WRITE");
    remaining &= ~0x40000000u;
  }
  if (remaining & 0x80000000u) {
    append("GENERIC_READ");
    remaining &= ~0x80000000u;
  }
  if (remaining) append(FormatHex(remaining));
  return out;
}

Result<AccessMask> ParseTokenRights(std::string_view input) {
  const std::string_view text = TrimAsciiSpace(input);
  if (text.empty()) return InvalidArgument("empty access rights");
  if (auto number = ParseNumber(text)) return AccessMask(*number);
  // Columns count in `input`, not in the trimmed text, and point at the
  // word itself rather than the spaces before it.
  auto column_of = [input](std::string_view part) {
    return static_cast<int>(part.data() - input.data()) + 1;
  };
  AccessMask result;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of("|,", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view segment = text.substr(start, end - start);
    const std::string_view raw = TrimAsciiSpace(segment);
    if (raw.empty()) {
      return InvalidArgument("empty right name in '" + std::string(text) + "'",
                             column_of(segment));
    }
    std::string word = AsciiUpper(raw);
    if (word.rfind("TOKEN_", 0) == 0) word = word.substr(6);
    bool found = false;
    if (auto number = ParseNumber(raw)) {
      result |= AccessMask(*number);
      found = true;
    } else if (word == "ALL_ACCESS") {
      result |= access::kTokenAllAccess;
      found = true;
    } else if (word == "GENERIC_WRITE") {
      result |= access::kGenericWrite;
      found = true;
    } else if (word == "GENERIC_READ") {
      result |= access::kGenericRead;
      found = true;
    } else if (word == "ADJUST_SESSION_ID" || word == "ADJUST_SESSION") {
      result |= access::kTokenAdjustSessionId;
      found = true;
    } else {
      for (const auto& entry : kTokenRightNames) {
        if (word == entry.name) {
          result |= AccessMask(entry.bit);
          found = true;
          break;
        }
      }
    }
    if (!found) {
      return InvalidArgument("unknown access right '" + std::string(raw) + "'",
                             column_of(raw));
    }
    start = end + 1;
  }
  return result;
}

}  // namespace tokenfs
