#include "core/claims.h"

#include <cctype>

#include "core/ascii.h"
#include "core/byte_io.h"
#include "core/utf16.h"

namespace tokenfs {
namespace {

constexpr size_t kHeaderSize = 16;

bool IsKnownType(uint16_t type) {
  switch (static_cast<ClaimType>(type)) {
    case ClaimType::kInt64:
    case ClaimType::kUint64:
    case ClaimType::kString:
    case ClaimType::kSid:
    case ClaimType::kBoolean:
    case ClaimType::kOctetString:
      return true;
  }
  return false;
}

// True iff values of `type` are reached through a u32 indirection word.
bool IsIndirectType(ClaimType type) {
  return type == ClaimType::kString || type == ClaimType::kSid ||
         type == ClaimType::kOctetString;
}

// The variant index a value of `type` must hold (see ClaimValue).
size_t AlternativeFor(ClaimType type) {
  switch (type) {
    case ClaimType::kInt64:
      return 0;
    case ClaimType::kUint64:
      return 1;
    case ClaimType::kString:
      return 2;
    case ClaimType::kSid:
      return 3;
    case ClaimType::kBoolean:
      return 4;
    case ClaimType::kOctetString:
      return 5;
  }
  return 0;
}

std::string_view AlternativeName(size_t index) {
  static constexpr std::string_view kNames[] = {
      "an int64", "a uint64", "a string", "a SID", "a boolean", "octets"};
  return index < std::size(kNames) ? kNames[index] : "a value";
}

// Reads the NUL-terminated UTF-16LE string at `offset` of `entry` and returns
// it as UTF-8; `units` receives its length in code units (without the NUL).
// `what` names the field in errors.
Result<std::string> ReadUtf16String(std::span<const uint8_t> entry,
                                    uint64_t offset, const std::string& what,
                                    size_t* units) {
  const std::string size_text = std::to_string(entry.size());
  if (offset >= entry.size()) {
    return InvalidArgument(what + ": offset " + std::to_string(offset) +
                           " is outside the " + size_text + "-byte entry");
  }
  std::string out;
  size_t count = 0;
  uint64_t position = offset;
  while (true) {
    if (position + 2 > entry.size()) {
      return InvalidArgument(what + ": no UTF-16 NUL terminator inside the " +
                             size_text + "-byte entry");
    }
    const uint16_t unit = ReadU16At(entry, static_cast<size_t>(position));
    position += 2;
    if (unit == 0) break;
    ++count;
    if (unit >= 0xdc00 && unit <= 0xdfff) {
      return InvalidArgument(what + ": unpaired UTF-16 surrogate " +
                             FormatHex(unit) + " at offset " +
                             std::to_string(position - 2));
    }
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const uint16_t low = position + 2 <= entry.size()
                               ? ReadU16At(entry, static_cast<size_t>(position))
                               : 0;
      if (low < 0xdc00 || low > 0xdfff) {
        return InvalidArgument(what + ": unpaired UTF-16 surrogate " +
                               FormatHex(unit) + " at offset " +
                               std::to_string(position - 2));
      }
      position += 2;
      ++count;
      AppendUtf8(0x10000 + ((uint32_t{unit} - 0xd800) << 10) +
                     (uint32_t{low} - 0xdc00),
                 out);
      continue;
    }
    AppendUtf8(unit, out);
  }
  if (units) *units = count;
  return out;
}

void AppendUtf16(const std::u16string& text, std::vector<uint8_t>& out) {
  for (char16_t unit : text) AppendU16(out, static_cast<uint16_t>(unit));
  AppendU16(out, 0);
}

void PadTo(std::vector<uint8_t>& out, size_t alignment) {
  while (out.size() % alignment != 0) out.push_back(0);
}

// Checks a name or string value: valid UTF-8 and no NUL. Returns the UTF-16
// form through `units`.
Status CheckText(std::string_view text, const std::string& what,
                 std::u16string& units) {
  if (text.find('\0') != std::string_view::npos) {
    return InvalidArgument(what + " contains a NUL character");
  }
  if (!Utf8ToUtf16(text, units)) {
    return InvalidArgument(what + " is not valid UTF-8");
  }
  return Ok();
}

Status CheckName(std::string_view name, std::u16string& units) {
  auto status = CheckText(name, "claim name", units);
  if (!status) return status;
  if (units.empty()) return InvalidArgument("claim name is empty");
  if (units.size() > claim_limits::kMaxNameUnits) {
    return InvalidArgument("claim name is " + std::to_string(units.size()) +
                           " UTF-16 code units (at most 256)");
  }
  return Ok();
}

}  // namespace

std::string_view ClaimTypeName(ClaimType type) {
  switch (type) {
    case ClaimType::kInt64:
      return "int64";
    case ClaimType::kUint64:
      return "uint64";
    case ClaimType::kString:
      return "string";
    case ClaimType::kSid:
      return "sid";
    case ClaimType::kBoolean:
      return "boolean";
    case ClaimType::kOctetString:
      return "octets";
  }
  return "unknown";
}

Result<ClaimType> ParseClaimTypeName(std::string_view name) {
  struct Entry {
    std::string_view name;
    ClaimType type;
  };
  static constexpr Entry kNames[] = {
      {"int64", ClaimType::kInt64},        {"uint64", ClaimType::kUint64},
      {"string", ClaimType::kString},      {"sid", ClaimType::kSid},
      {"boolean", ClaimType::kBoolean},    {"bool", ClaimType::kBoolean},
      {"octets", ClaimType::kOctetString}, {"octet", ClaimType::kOctetString},
  };
  for (const auto& entry : kNames) {
    if (EqualsIgnoreCase(name, entry.name)) return entry.type;
  }
  return InvalidArgument("unknown claim type '" + std::string(name) +
                         "' (int64, uint64, string, sid, boolean or octets)");
}

namespace {
struct FlagName {
  uint32_t bit;
  std::string_view name;
};
constexpr FlagName kFlagNames[] = {
    {claim_flags::kNonInheritable, "non-inheritable"},
    {claim_flags::kCaseSensitive, "case-sensitive"},
    {claim_flags::kUseForDenyOnly, "deny-only"},
    {claim_flags::kDisabledByDefault, "disabled-by-default"},
    {claim_flags::kDisabled, "disabled"},
    {claim_flags::kMandatory, "mandatory"},
};
}  // namespace

std::vector<std::string_view> ClaimFlagNames(uint32_t flags) {
  std::vector<std::string_view> names;
  for (const auto& entry : kFlagNames) {
    if (flags & entry.bit) names.push_back(entry.name);
  }
  return names;
}

Result<uint32_t> ParseClaimFlagName(std::string_view name) {
  for (const auto& entry : kFlagNames) {
    if (EqualsIgnoreCase(name, entry.name)) return entry.bit;
  }
  if (EqualsIgnoreCase(name, "use-for-deny-only")) {
    return claim_flags::kUseForDenyOnly;
  }
  return InvalidArgument(
      "unknown claim flag '" + std::string(name) +
      "' (non-inheritable, case-sensitive, deny-only, disabled-by-default, "
      "disabled or mandatory)");
}

Status ValidateClaim(const Claim& claim) {
  std::u16string units;
  auto name_status = CheckName(claim.name, units);
  if (!name_status) return name_status;
  const std::string where = "claim '" + claim.name + "': ";
  if (!IsKnownType(static_cast<uint16_t>(claim.type))) {
    return InvalidArgument(where + "unknown claim type " +
                           FormatHex(static_cast<uint16_t>(claim.type)));
  }
  if (claim.flags & ~claim_flags::kAll) {
    return InvalidArgument(where + "unknown flag bits " +
                           FormatHex(claim.flags & ~claim_flags::kAll));
  }
  if (claim.values.size() > claim_limits::kMaxValues) {
    return InvalidArgument(where + std::to_string(claim.values.size()) +
                           " values (at most 1024)");
  }
  const size_t wanted = AlternativeFor(claim.type);
  for (size_t i = 0; i < claim.values.size(); ++i) {
    const ClaimValue& value = claim.values[i];
    const std::string value_where = where + "value " + std::to_string(i);
    if (value.index() != wanted) {
      return InvalidArgument(
          value_where + " is " + std::string(AlternativeName(value.index())) +
          " but the claim type is " + std::string(ClaimTypeName(claim.type)));
    }
    if (const auto* text = std::get_if<std::string>(&value)) {
      auto status = CheckText(*text, value_where, units);
      if (!status) return status;
    }
  }
  return Ok();
}

Result<std::vector<uint8_t>> EncodeClaim(const Claim& claim) {
  auto status = ValidateClaim(claim);
  if (!status) return tl::unexpected(status.error());
  const size_t count = claim.values.size();
  std::vector<uint8_t> out;
  AppendU32(out, 0);  // name offset, patched below
  AppendU16(out, static_cast<uint16_t>(claim.type));
  AppendU16(out, 0);
  AppendU32(out, claim.flags);
  AppendU32(out, static_cast<uint32_t>(count));
  const size_t offsets_at = out.size();
  out.resize(out.size() + 4 * count, 0);
  const bool indirect = IsIndirectType(claim.type);
  size_t words_at = 0;
  if (indirect) {
    words_at = out.size();
    out.resize(out.size() + 4 * count, 0);
    for (size_t i = 0; i < count; ++i) {
      PatchU32(out, offsets_at + 4 * i,
               static_cast<uint32_t>(words_at + 4 * i));
    }
  } else {
    PadTo(out, 8);
  }
  std::u16string units;
  for (size_t i = 0; i < count; ++i) {
    const ClaimValue& value = claim.values[i];
    const auto position = static_cast<uint32_t>(out.size());
    if (indirect) {
      PatchU32(out, words_at + 4 * i, position);
    } else {
      PatchU32(out, offsets_at + 4 * i, position);
    }
    if (const auto* number = std::get_if<int64_t>(&value)) {
      AppendU64(out, static_cast<uint64_t>(*number));
    } else if (const auto* unsigned_number = std::get_if<uint64_t>(&value)) {
      AppendU64(out, *unsigned_number);
    } else if (const auto* flag = std::get_if<bool>(&value)) {
      AppendU64(out, *flag ? 1 : 0);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      Utf8ToUtf16(*text, units);  // validated above
      AppendUtf16(units, out);
      PadTo(out, 4);
    } else if (const auto* sid = std::get_if<Sid>(&value)) {
      sid->AppendBinary(out);
    } else if (const auto* octets = std::get_if<std::vector<uint8_t>>(&value)) {
      AppendU32(out, static_cast<uint32_t>(octets->size()));
      out.insert(out.end(), octets->begin(), octets->end());
      PadTo(out, 4);
    }
    if (out.size() > claim_limits::kMaxArrayBytes) break;
  }
  PadTo(out, 4);
  PatchU32(out, 0, static_cast<uint32_t>(out.size()));
  Utf8ToUtf16(claim.name, units);  // validated above
  AppendUtf16(units, out);
  PadTo(out, 4);
  if (out.size() > claim_limits::kMaxArrayBytes) {
    return InvalidArgument("claim '" + claim.name +
                           "': encoded entry exceeds 65536 bytes");
  }
  return out;
}

namespace {

size_t Align(size_t size, size_t alignment) {
  return (size + alignment - 1) / alignment * alignment;
}

// Decodes one entry whose canonical encoding (what EncodeClaim writes) may
// take at most `budget` bytes; `*canonical_size` receives that size. The
// budget matters because values may share data: a small entry whose 1024
// values all point at one long string would otherwise decode to megabytes
// and fail to re-encode.
Result<Claim> DecodeClaimWithin(std::span<const uint8_t> entry, size_t budget,
                                size_t* canonical_size) {
  const std::string size_text = std::to_string(entry.size());
  if (entry.size() < kHeaderSize) {
    return InvalidArgument("entry is " + size_text +
                           " bytes, shorter than the 16-byte header");
  }
  const uint32_t name_offset = ReadU32At(entry, 0);
  const uint16_t type = ReadU16At(entry, 4);
  const uint16_t reserved = ReadU16At(entry, 6);
  const uint32_t flags = ReadU32At(entry, 8);
  const uint32_t count = ReadU32At(entry, 12);
  if (!IsKnownType(type)) {
    return InvalidArgument("value type " + FormatHex(type) +
                           " is not supported (int64 0x1, uint64 0x2, string "
                           "0x3, sid 0x5, boolean 0x6, octets 0x10)");
  }
  if (reserved != 0) {
    return InvalidArgument("reserved is " + FormatHex(reserved) +
                           " (must be 0)");
  }
  if (flags & ~claim_flags::kAll) {
    return InvalidArgument("flags " + FormatHex(flags) + " has unknown bits " +
                           FormatHex(flags & ~claim_flags::kAll));
  }
  if (count > claim_limits::kMaxValues) {
    return InvalidArgument("value count " + std::to_string(count) +
                           " exceeds 1024");
  }
  if (kHeaderSize + 4 * uint64_t{count} > entry.size()) {
    return InvalidArgument("value offsets for " + std::to_string(count) +
                           " values run past the " + size_text + "-byte entry");
  }
  Claim claim;
  claim.type = static_cast<ClaimType>(type);
  claim.flags = flags;
  size_t name_units = 0;
  auto name = ReadUtf16String(entry, name_offset, "name", &name_units);
  if (!name) return tl::unexpected(name.error());
  if (name_units == 0) return InvalidArgument("name is empty");
  if (name_units > claim_limits::kMaxNameUnits) {
    return InvalidArgument("name is " + std::to_string(name_units) +
                           " UTF-16 code units (at most 256)");
  }
  claim.name = std::move(*name);
  claim.values.reserve(count);
  const bool indirect = IsIndirectType(claim.type);
  size_t canonical = Align(kHeaderSize + 4 * size_t{count}, 4) +
                     (indirect ? 4 * size_t{count} : 0);
  canonical =
      Align(canonical, indirect ? 4 : 8) + Align(2 * (name_units + 1), 4);
  const std::string too_big =
      "canonical form exceeds the " + std::to_string(budget) + " bytes left";
  for (uint32_t i = 0; i < count; ++i) {
    const std::string where = "value " + std::to_string(i);
    if (canonical > budget) return InvalidArgument(where + ": " + too_big);
    const uint64_t offset = ReadU32At(entry, kHeaderSize + 4 * size_t{i});
    if (!indirect) {
      if (offset + 8 > entry.size()) {
        return InvalidArgument(where + ": offset " + std::to_string(offset) +
                               " leaves no room for 8 bytes in the " +
                               size_text + "-byte entry");
      }
      const uint64_t raw = ReadU64At(entry, static_cast<size_t>(offset));
      switch (claim.type) {
        case ClaimType::kInt64:
          claim.values.emplace_back(static_cast<int64_t>(raw));
          break;
        case ClaimType::kUint64:
          claim.values.emplace_back(raw);
          break;
        default:  // boolean
          if (raw > 1) {
            return InvalidArgument(where + ": boolean is " +
                                   std::to_string(raw) + " (must be 0 or 1)");
          }
          claim.values.emplace_back(raw == 1);
          break;
      }
      canonical += 8;
      continue;
    }
    if (offset + 4 > entry.size()) {
      return InvalidArgument(where + ": offset " + std::to_string(offset) +
                             " leaves no room for the u32 data offset in the " +
                             size_text + "-byte entry");
    }
    const uint64_t target = ReadU32At(entry, static_cast<size_t>(offset));
    if (claim.type == ClaimType::kString) {
      size_t units = 0;
      canonical += 2;  // the terminator; checked before decoding the text
      if (canonical > budget) return InvalidArgument(where + ": " + too_big);
      auto text = ReadUtf16String(entry, target, where, &units);
      if (!text) return tl::unexpected(text.error());
      canonical = Align(canonical + 2 * units, 4);
      if (canonical > budget) return InvalidArgument(where + ": " + too_big);
      claim.values.emplace_back(std::move(*text));
      continue;
    }
    if (target >= entry.size()) {
      return InvalidArgument(where + ": data offset " + std::to_string(target) +
                             " is outside the " + size_text + "-byte entry");
    }
    const auto rest = entry.subspan(static_cast<size_t>(target));
    if (claim.type == ClaimType::kSid) {
      auto sid = Sid::FromBinary(rest);
      if (!sid) return InvalidArgument(where + ": " + sid.error().message);
      canonical += sid->BinarySize();
      claim.values.emplace_back(*sid);
      continue;
    }
    if (rest.size() < 4) {
      return InvalidArgument(where + ": octet length at offset " +
                             std::to_string(target) + " runs past the " +
                             size_text + "-byte entry");
    }
    const uint64_t length = ReadU32At(rest, 0);
    if (4 + length > rest.size()) {
      return InvalidArgument(where + ": " + std::to_string(length) +
                             " octets at offset " + std::to_string(target) +
                             " run past the " + size_text + "-byte entry");
    }
    canonical += Align(4 + static_cast<size_t>(length), 4);
    if (canonical > budget) return InvalidArgument(where + ": " + too_big);
    claim.values.emplace_back(std::vector<uint8_t>(
        rest.begin() + 4, rest.begin() + 4 + static_cast<ptrdiff_t>(length)));
  }
  if (canonical > budget) return InvalidArgument(too_big);
  if (canonical_size) *canonical_size = canonical;
  return claim;
}

}  // namespace

Result<Claim> DecodeClaim(std::span<const uint8_t> entry) {
  return DecodeClaimWithin(entry, claim_limits::kMaxArrayBytes, nullptr);
}

Result<std::vector<uint8_t>> EncodeClaims(const std::vector<Claim>& claims) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < claims.size(); ++i) {
    const std::string where = "claim " + std::to_string(i) + ": ";
    for (size_t j = 0; j < i; ++j) {
      if (EqualsIgnoreCase(claims[j].name, claims[i].name)) {
        return InvalidArgument(where + "name '" + claims[i].name +
                               "' repeats claim " + std::to_string(j));
      }
    }
    auto entry = EncodeClaim(claims[i]);
    if (!entry) return InvalidArgument(where + entry.error().message);
    AppendU32(out, static_cast<uint32_t>(entry->size()));
    out.insert(out.end(), entry->begin(), entry->end());
    if (out.size() > claim_limits::kMaxArrayBytes) {
      return InvalidArgument("claim array exceeds 65536 bytes at claim " +
                             std::to_string(i));
    }
  }
  return out;
}

Result<std::vector<Claim>> DecodeClaims(std::span<const uint8_t> bytes) {
  if (bytes.size() > claim_limits::kMaxArrayBytes) {
    return InvalidArgument("claim array is " + std::to_string(bytes.size()) +
                           " bytes (at most 65536)");
  }
  std::vector<Claim> claims;
  size_t position = 0;
  // Bytes the canonical encoding of the claims so far takes; kept at most
  // 64 KiB so whatever decodes also encodes.
  size_t canonical = 0;
  while (position < bytes.size()) {
    const size_t index = claims.size();
    const std::string where = "claim " + std::to_string(index) + ": ";
    const size_t left = bytes.size() - position;
    if (left < 4) {
      return InvalidArgument(where + "entry_len truncated (" +
                             std::to_string(left) + " bytes left)");
    }
    const size_t length = ReadU32At(bytes, position);
    if (length == 0) return InvalidArgument(where + "entry_len is 0");
    if (length > left - 4) {
      return InvalidArgument(where + "entry_len " + std::to_string(length) +
                             " runs past the array (" +
                             std::to_string(left - 4) + " bytes left)");
    }
    size_t entry_size = 0;
    const size_t budget = canonical + 4 < claim_limits::kMaxArrayBytes
                              ? claim_limits::kMaxArrayBytes - canonical - 4
                              : 0;
    auto claim = DecodeClaimWithin(bytes.subspan(position + 4, length), budget,
                                   &entry_size);
    if (!claim) return InvalidArgument(where + claim.error().message);
    canonical += 4 + entry_size;
    for (size_t j = 0; j < claims.size(); ++j) {
      if (EqualsIgnoreCase(claims[j].name, claim->name)) {
        return InvalidArgument(where + "name '" + claim->name +
                               "' repeats claim " + std::to_string(j));
      }
    }
    claims.push_back(std::move(*claim));
    position += 4 + length;
  }
  return claims;
}

std::string FormatClaimValue(const ClaimValue& value) {
  if (const auto* number = std::get_if<int64_t>(&value)) {
    return std::to_string(*number);
  }
  if (const auto* unsigned_number = std::get_if<uint64_t>(&value)) {
    return std::to_string(*unsigned_number);
  }
  if (const auto* flag = std::get_if<bool>(&value)) {
    return *flag ? "true" : "false";
  }
  if (const auto* text = std::get_if<std::string>(&value)) {
    return QuoteForDisplay(*text);
  }
  if (const auto* sid = std::get_if<Sid>(&value)) return sid->ToString();
  if (const auto* octets = std::get_if<std::vector<uint8_t>>(&value)) {
    return FormatHexBytes(*octets);
  }
  return std::string();
}

std::string FormatClaim(const Claim& claim) {
  bool plain = !claim.name.empty();
  for (char c : claim.name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '"' || c == '\\') plain = false;
  }
  std::string out = plain ? claim.name : QuoteForDisplay(claim.name);
  out += "  ";
  out += ClaimTypeName(claim.type);
  out += "  [";
  const auto flags = ClaimFlagNames(claim.flags);
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i) out += ",";
    out += flags[i];
  }
  out += "]";
  for (size_t i = 0; i < claim.values.size(); ++i) {
    out += i ? ", " : "  ";
    out += FormatClaimValue(claim.values[i]);
  }
  return out;
}

}  // namespace tokenfs
