#include "core/resource_attribute.h"

#include <array>
#include <cstdio>

#include "core/ascii.h"
#include "core/byte_io.h"
#include "core/utf16.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

constexpr size_t kHeaderSize = 16;

struct TypeCode {
  char code[3];
  ClaimType type;
};

constexpr std::array<TypeCode, 6> kTypeCodes{{
    {"TI", ClaimType::kInt64},
    {"TU", ClaimType::kUint64},
    {"TS", ClaimType::kString},
    {"TD", ClaimType::kSid},
    {"TX", ClaimType::kOctetString},
    {"TB", ClaimType::kBoolean},
}};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status AppendName(std::vector<uint8_t>& out, std::string_view text) {
  std::u16string units;
  if (!Utf8ToUtf16(text, units) || text.find('\0') != std::string_view::npos) {
    return InvalidArgument("resource attribute: " + QuoteForDisplay(text) +
                           " is not valid text");
  }
  AppendUtf16Le(units, out);
  AppendU16(out, 0);
  return Ok();
}

// The NUL-terminated UTF-16LE string at `offset`.
Result<std::string> ReadText(std::span<const uint8_t> bytes, size_t offset,
                             const std::string& what) {
  size_t end = offset;
  while (true) {
    if (end + 2 > bytes.size()) {
      return InvalidArgument("resource attribute: " + what +
                             " has no NUL terminator inside the data");
    }
    if (bytes[end] == 0 && bytes[end + 1] == 0) break;
    end += 2;
  }
  std::string out;
  if (!Utf16LeToUtf8(bytes.subspan(offset, end - offset), out)) {
    return InvalidArgument("resource attribute: " + what +
                           " is malformed UTF-16");
  }
  return out;
}

class Parser {
 public:
  Parser(std::string_view text, const Sid* domain)
      : text_(text), domain_(domain) {}

  Result<Claim> Parse() {
    Claim claim;
    SkipSpace();
    if (!Take('(')) return Fail("a resource attribute starts with '('");
    SkipSpace();
    if (!At('"')) return Fail("expected the attribute name in double quotes");
    auto name = ParseString();
    if (!name) return tl::unexpected(name.error());
    if (name->empty()) return Fail("the attribute name is empty", position_ - 2);
    auto unescaped = Unescape(*name, position_ - 1 - name->size());
    if (!unescaped) return tl::unexpected(unescaped.error());
    claim.name = std::move(*unescaped);
    if (!Comma()) return Fail("expected ',' after the name");
    SkipSpace();
    const std::string_view code = text_.substr(position_, 2);
    bool found = false;
    for (const TypeCode& entry : kTypeCodes) {
      if (EqualsIgnoreCase(code, entry.code)) {
        claim.type = entry.type;
        found = true;
      }
    }
    if (!found) {
      return Fail("expected a type TI, TU, TS, TD, TX or TB");
    }
    position_ += 2;
    if (!Comma()) return Fail("expected ',' after the type");
    SkipSpace();
    bool negative = false;
    auto flags = ParseNumber(&negative);
    if (!flags) return tl::unexpected(flags.error());
    if (negative || *flags > UINT32_MAX) {
      return Fail("the flags do not fit in 32 bits");
    }
    claim.flags = static_cast<uint32_t>(*flags);
    for (;;) {
      SkipSpace();
      if (Take(')')) break;
      if (!Take(',')) return Fail("expected ',' or ')'");
      SkipSpace();
      auto value = ParseValue(claim.type);
      if (!value) return tl::unexpected(value.error());
      claim.values.push_back(std::move(*value));
    }
    SkipSpace();
    if (position_ != text_.size()) {
      return Fail("unexpected text after the resource attribute");
    }
    return claim;
  }

 private:
  tl::unexpected<Error> Fail(std::string message) const {
    return Fail(std::move(message), position_);
  }
  static tl::unexpected<Error> Fail(std::string message, size_t position) {
    const int column = static_cast<int>(position + 1);
    message += " at column " + std::to_string(column);
    return InvalidArgument(std::move(message), column);
  }
  void SkipSpace() {
    while (position_ < text_.size() && IsSpace(text_[position_])) ++position_;
  }
  bool At(char c) const {
    return position_ < text_.size() && text_[position_] == c;
  }
  bool Take(char c) {
    if (!At(c)) return false;
    ++position_;
    return true;
  }
  bool Comma() {
    SkipSpace();
    return Take(',');
  }

  // A name's %XXXX escapes (four hex digits, one UTF-16 code unit), as
  // Windows reads them; `base` is the position of `text` in the input.
  Result<std::string> Unescape(const std::string& text, size_t base) const {
    if (text.find('%') == std::string::npos) return text;
    std::u16string units;
    std::u16string piece;
    for (size_t i = 0; i < text.size();) {
      if (text[i] != '%') {
        size_t end = i + 1;
        while (end < text.size() && text[end] != '%') ++end;
        Utf8ToUtf16(std::string_view(text).substr(i, end - i), piece);
        units += piece;
        i = end;
        continue;
      }
      unsigned value = 0;
      for (size_t k = 1; k <= 4; ++k) {
        const int digit = i + k < text.size() ? HexValue(text[i + k]) : -1;
        if (digit < 0) {
          return Fail("'%' in a name takes four hex digits", base + i);
        }
        value = value * 16 + static_cast<unsigned>(digit);
      }
      if (value == 0) return Fail("a name cannot hold %0000", base + i);
      units.push_back(static_cast<char16_t>(value));
      i += 5;
    }
    std::string out;
    if (!Utf16ToUtf8(units, out)) {
      return Fail("the name holds an unpaired UTF-16 surrogate", base);
    }
    return out;
  }

  Result<std::string> ParseString() {
    const size_t start = position_;
    const size_t end = text_.find('"', start + 1);
    if (end == std::string_view::npos) return Fail("unterminated string");
    std::string out(text_.substr(start + 1, end - start - 1));
    std::u16string units;
    if (!Utf8ToUtf16(out, units) || out.find('\0') != std::string::npos) {
      return Fail("the string is not valid UTF-8 text", start + 1);
    }
    position_ = end + 1;
    return out;
  }

  // 0x hex, 0 octal or decimal, with an optional sign; the magnitude is at
  // most 2^64-1.
  Result<uint64_t> ParseNumber(bool* negative) {
    const size_t start = position_;
    *negative = false;
    if (At('-') || At('+')) {
      *negative = At('-');
      ++position_;
    }
    unsigned radix = 10;
    if (text_.substr(position_, 2) == "0x" ||
        text_.substr(position_, 2) == "0X") {
      radix = 16;
      position_ += 2;
    } else if (At('0') && position_ + 1 < text_.size() &&
               text_[position_ + 1] >= '0' && text_[position_ + 1] <= '9') {
      radix = 8;
    }
    const size_t digits = position_;
    uint64_t value = 0;
    while (position_ < text_.size()) {
      const int digit = HexValue(text_[position_]);
      if (digit < 0 || static_cast<unsigned>(digit) >= radix) break;
      if (value > (UINT64_MAX - static_cast<unsigned>(digit)) / radix) {
        return Fail("the number exceeds 64 bits", start);
      }
      value = value * radix + static_cast<unsigned>(digit);
      ++position_;
    }
    if (position_ == digits) return Fail("expected a number");
    return value;
  }

  Result<ClaimValue> ParseValue(ClaimType type) {
    const size_t start = position_;
    switch (type) {
      case ClaimType::kInt64:
      case ClaimType::kUint64:
      case ClaimType::kBoolean: {
        bool negative = false;
        auto number = ParseNumber(&negative);
        if (!number) return tl::unexpected(number.error());
        if (type == ClaimType::kBoolean) {
          if (negative || *number > 1) {
            return Fail("a TB value is 0 or 1", start);
          }
          return ClaimValue(*number == 1);
        }
        if (type == ClaimType::kUint64) {
          if (negative) return Fail("a TU value cannot be negative", start);
          return ClaimValue(*number);
        }
        if (negative ? *number > (uint64_t{1} << 63)
                     : *number > uint64_t{INT64_MAX}) {
          return Fail("the TI value does not fit in a signed 64-bit integer",
                      start);
        }
        return ClaimValue(static_cast<int64_t>(
            negative ? uint64_t{0} - *number : *number));
      }
      case ClaimType::kString: {
        if (!At('"')) return Fail("expected a string in double quotes");
        auto text = ParseString();
        if (!text) return tl::unexpected(text.error());
        return ClaimValue(std::move(*text));
      }
      case ClaimType::kSid: {
        size_t end = position_;
        while (end < text_.size() && text_[end] != ',' && text_[end] != ')') {
          ++end;
        }
        std::string_view token = text_.substr(position_, end - position_);
        size_t base = position_;
        if (token.size() > 4 && EqualsIgnoreCase(token.substr(0, 4), "SID(")) {
          end = text_.find(')', position_);
          if (end == std::string_view::npos) return Fail("unterminated SID(");
          token = text_.substr(position_ + 4, end - position_ - 4);
          base = position_ + 4;
          ++end;
        }
        while (!token.empty() && IsSpace(token.back())) token.remove_suffix(1);
        auto sid = ParseSidOrAlias(token, domain_);
        if (!sid) {
          return Fail("bad SID " + QuoteForDisplay(token) + ": " +
                          sid.error().message,
                      base);
        }
        position_ = end;
        return ClaimValue(*sid);
      }
      case ClaimType::kOctetString: {
        std::string digits;
        while (position_ < text_.size() && HexValue(text_[position_]) >= 0) {
          digits += text_[position_++];
        }
        if (digits.size() % 2 != 0) digits.insert(digits.begin(), '0');
        std::vector<uint8_t> octets;
        for (size_t i = 0; i < digits.size(); i += 2) {
          octets.push_back(static_cast<uint8_t>(HexValue(digits[i]) * 16 +
                                                HexValue(digits[i + 1])));
        }
        return ClaimValue(std::move(octets));
      }
    }
    return Fail("unknown type");
  }

  std::string_view text_;
  const Sid* domain_;
  size_t position_ = 0;
};

}  // namespace

Result<std::vector<uint8_t>> EncodeResourceAttribute(const Claim& claim) {
  for (size_t i = 0; i < claim.values.size(); ++i) {
    const ClaimValue& value = claim.values[i];
    const bool matches =
        (claim.type == ClaimType::kInt64 &&
         std::holds_alternative<int64_t>(value)) ||
        (claim.type == ClaimType::kUint64 &&
         std::holds_alternative<uint64_t>(value)) ||
        (claim.type == ClaimType::kString &&
         std::holds_alternative<std::string>(value)) ||
        (claim.type == ClaimType::kSid && std::holds_alternative<Sid>(value)) ||
        (claim.type == ClaimType::kBoolean &&
         std::holds_alternative<bool>(value)) ||
        (claim.type == ClaimType::kOctetString &&
         std::holds_alternative<std::vector<uint8_t>>(value));
    if (!matches) {
      return InvalidArgument("resource attribute '" + claim.name + "': value " +
                             std::to_string(i) +
                             " does not match the claim type");
    }
  }
  std::vector<uint8_t> out(kHeaderSize + 4 * claim.values.size(), 0);
  PatchU32(out, 0, static_cast<uint32_t>(out.size()));
  PatchU16(out, 4, static_cast<uint16_t>(claim.type));
  PatchU32(out, 8, claim.flags);
  PatchU32(out, 12, static_cast<uint32_t>(claim.values.size()));
  auto status = AppendName(out, claim.name);
  if (!status) return tl::unexpected(status.error());
  for (size_t i = 0; i < claim.values.size(); ++i) {
    PatchU32(out, kHeaderSize + 4 * i, static_cast<uint32_t>(out.size()));
    const ClaimValue& value = claim.values[i];
    if (const auto* v = std::get_if<int64_t>(&value)) {
      AppendU64(out, static_cast<uint64_t>(*v));
    } else if (const auto* u = std::get_if<uint64_t>(&value)) {
      AppendU64(out, *u);
    } else if (const auto* b = std::get_if<bool>(&value)) {
      AppendU64(out, *b ? 1 : 0);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      status = AppendName(out, *s);
      if (!status) return tl::unexpected(status.error());
    } else if (const auto* sid = std::get_if<Sid>(&value)) {
      AppendU32(out, static_cast<uint32_t>(sid->BinarySize()));
      sid->AppendBinary(out);
    } else {
      const auto& octets = std::get<std::vector<uint8_t>>(value);
      AppendU32(out, static_cast<uint32_t>(octets.size()));
      out.insert(out.end(), octets.begin(), octets.end());
    }
  }
  while (out.size() % 4 != 0) out.push_back(0);
  return out;
}

Result<Claim> DecodeResourceAttribute(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) {
    return InvalidArgument("resource attribute: " +
                           std::to_string(bytes.size()) +
                           " bytes, need at least 16");
  }
  Claim claim;
  const uint32_t name_offset = ReadU32At(bytes, 0);
  const uint16_t type = ReadU16At(bytes, 4);
  claim.flags = ReadU32At(bytes, 8);
  const uint32_t count = ReadU32At(bytes, 12);
  switch (type) {
    case 0x01: case 0x02: case 0x03: case 0x05: case 0x06: case 0x10:
      claim.type = static_cast<ClaimType>(type);
      break;
    default:
      return InvalidArgument("resource attribute: unknown value type " +
                             FormatHex(type));
  }
  if (ReadU16At(bytes, 6) != 0) {
    return InvalidArgument("resource attribute: reserved field is not 0");
  }
  if (count > (bytes.size() - kHeaderSize) / 4) {
    return InvalidArgument("resource attribute: " + std::to_string(count) +
                           " value offsets do not fit the data");
  }
  if (name_offset >= bytes.size()) {
    return InvalidArgument("resource attribute: name offset " +
                           std::to_string(name_offset) +
                           " is outside the data");
  }
  auto name = ReadText(bytes, name_offset, "the name");
  if (!name) return tl::unexpected(name.error());
  if (name->empty()) return InvalidArgument("resource attribute: empty name");
  claim.name = std::move(*name);
  for (uint32_t i = 0; i < count; ++i) {
    const std::string what = "value " + std::to_string(i);
    const uint32_t offset = ReadU32At(bytes, kHeaderSize + 4 * size_t{i});
    if (offset >= bytes.size()) {
      return InvalidArgument("resource attribute: " + what + " offset " +
                             std::to_string(offset) + " is outside the data");
    }
    switch (claim.type) {
      case ClaimType::kInt64:
      case ClaimType::kUint64:
      case ClaimType::kBoolean: {
        if (bytes.size() - offset < 8) {
          return InvalidArgument("resource attribute: " + what +
                                 " runs past the data");
        }
        const uint64_t raw = ReadU64At(bytes, offset);
        if (claim.type == ClaimType::kInt64) {
          claim.values.emplace_back(std::in_place_type<int64_t>,
                                    static_cast<int64_t>(raw));
        } else if (claim.type == ClaimType::kUint64) {
          claim.values.emplace_back(std::in_place_type<uint64_t>, raw);
        } else {
          if (raw > 1) {
            return InvalidArgument("resource attribute: " + what +
                                   " is a boolean other than 0 or 1");
          }
          claim.values.emplace_back(std::in_place_type<bool>, raw == 1);
        }
        break;
      }
      case ClaimType::kString: {
        auto text = ReadText(bytes, offset, what);
        if (!text) return tl::unexpected(text.error());
        claim.values.push_back(std::move(*text));
        break;
      }
      default: {  // SID and octets: [length u32][bytes]
        if (bytes.size() - offset < 4) {
          return InvalidArgument("resource attribute: " + what +
                                 " runs past the data");
        }
        const uint32_t length = ReadU32At(bytes, offset);
        if (length > bytes.size() - offset - 4) {
          return InvalidArgument("resource attribute: " + what +
                                 " length runs past the data");
        }
        const auto body = bytes.subspan(offset + 4, length);
        if (claim.type == ClaimType::kSid) {
          size_t consumed = 0;
          auto sid = Sid::FromBinary(body, &consumed);
          if (!sid || consumed != length) {
            return InvalidArgument("resource attribute: " + what +
                                   " is not one SID");
          }
          claim.values.push_back(*sid);
        } else {
          claim.values.push_back(std::vector<uint8_t>(body.begin(),
                                                      body.end()));
        }
        break;
      }
    }
  }
  return claim;
}

Result<Claim> ParseSddlResourceAttribute(std::string_view text,
                                         const Sid* domain) {
  Parser parser(text, domain);
  return parser.Parse();
}

namespace {

// The name with %XXXX for control characters, '"', '%' and DEL, which
// the quoted form cannot hold as they are.
std::string EscapeName(std::string_view name) {
  std::string out;
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || c == '"' || c == '%' || byte == 0x7f) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "%%%04x", byte);
      out += buffer;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string FormatSddlResourceAttribute(const Claim& claim,
                                        const Sid* domain) {
  std::string out = "(\"" + EscapeName(claim.name) + "\",";
  for (const TypeCode& entry : kTypeCodes) {
    if (entry.type == claim.type) out += entry.code;
  }
  out += ',';
  out += FormatHex(claim.flags);
  for (const ClaimValue& value : claim.values) {
    out += ',';
    if (const auto* v = std::get_if<int64_t>(&value)) {
      out += std::to_string(*v);
    } else if (const auto* u = std::get_if<uint64_t>(&value)) {
      out += std::to_string(*u);
    } else if (const auto* b = std::get_if<bool>(&value)) {
      out += *b ? '1' : '0';
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      out += '"' + *s + '"';
    } else if (const auto* sid = std::get_if<Sid>(&value)) {
      auto alias = SddlAliasForSid(*sid, domain);
      out += alias ? std::string(*alias) : sid->ToString();
    } else {
      out += FormatHexBytes(std::get<std::vector<uint8_t>>(value));
    }
  }
  out += ')';
  return out;
}

}  // namespace tokenfs
