#include "core/sddl.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "core/ascii.h"
#include "core/conditional_expression.h"
#include "core/resource_attribute.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

// ---------------------------------------------------------------------------
// Tables

struct RightName {
  char name[3];
  uint32_t bits;
};

// Every name the parser accepts in a rights field, in runs that the
// printer's tables below are cut from.
constexpr std::array<RightName, 28> kRightNames{{
    // Single-bit names, in ascending bit order, which is also the print order.
    {"CC", 0x00000001},
    {"DC", 0x00000002},
    {"LC", 0x00000004},
    {"SW", 0x00000008},
    {"RP", 0x00000010},
    {"WP", 0x00000020},
    {"DT", 0x00000040},
    {"LO", 0x00000080},
    {"CR", 0x00000100},
    {"SD", 0x00010000},
    {"RC", 0x00020000},
    {"WD", 0x00040000},
    {"WO", 0x00080000},
    {"GA", 0x10000000},
    {"GX", 0x20000000},
    {"GW", 0x40000000},
    {"GR", 0x80000000},
    // Composites (file and registry key), in the order the printer tries them.
    {"FA", 0x001f01ff},
    {"FR", 0x00120089},
    {"FW", 0x00120116},
    {"FX", 0x001200a0},
    {"KA", 0x000f003f},
    {"KR", 0x00020019},
    {"KW", 0x00020006},
    // KX equals KR (both KEY_READ, 0x20019); the printer names that mask KR.
    {"KX", 0x00020019},
    // The mandatory label policy bits.
    {"NW", 0x00000001},
    {"NR", 0x00000002},
    {"NX", 0x00000004},
}};
constexpr std::span<const RightName> kSingleBitNames =
    std::span(kRightNames).subspan<0, 17>();
// Composite names in the order they are tried when printing, without KX.
// Every composite except the FA/FR/FW/FX family is made only of named bits,
// so in practice the single-bit rule prints those masks first; the entries
// stay so the rule reads as the issue states it.
constexpr std::span<const RightName> kCompositeNames =
    std::span(kRightNames).subspan<17, 7>();
constexpr std::span<const RightName> kMandatoryNames =
    std::span(kRightNames).subspan<25, 3>();

constexpr uint32_t UnionOfBits(std::span<const RightName> names) {
  uint32_t bits = 0;
  for (const RightName& entry : names) bits |= entry.bits;
  return bits;
}
// The bits that have a single-bit name: 0-8, 16-19, 28-31.
constexpr uint32_t kNamedBits = UnionOfBits(kSingleBitNames);
constexpr uint32_t kMandatoryPolicyBits = UnionOfBits(kMandatoryNames);

struct AceFlagName {
  char name[3];
  uint8_t bit;
};

// Print order is Windows': OI CI NP IO ID SA FA (ascending bits, skipping
// CRITICAL, which SDDL cannot express).
constexpr std::array<AceFlagName, 7> kAceFlagNames{{
    {"OI", ace_flags::kObjectInherit},
    {"CI", ace_flags::kContainerInherit},
    {"NP", ace_flags::kNoPropagateInherit},
    {"IO", ace_flags::kInheritOnly},
    {"ID", ace_flags::kInherited},
    {"SA", ace_flags::kSuccessfulAccess},
    {"FA", ace_flags::kFailedAccess},
}};

struct AceTypeName {
  const char* name;
  AceType type;
  bool parsed;  // false: SDDL names it, but tokenfs refuses to parse it
};

constexpr std::array<AceTypeName, 16> kAceTypeNames{{
    {"A", AceType::kAccessAllowed, true},
    {"D", AceType::kAccessDenied, true},
    {"AU", AceType::kSystemAudit, true},
    {"AL", AceType::kSystemAlarm, true},
    {"OA", AceType::kAccessAllowedObject, true},
    {"OD", AceType::kAccessDeniedObject, true},
    {"OU", AceType::kSystemAuditObject, true},
    {"OL", AceType::kSystemAlarmObject, true},
    {"ML", AceType::kSystemMandatoryLabel, true},
    // Conditional (callback) ACEs carry a condition and resource attribute
    // ACEs a claim, as a seventh field; scoped policy ACEs are plain.
    // Windows' codes, with Samba's XU/ZA assignment.
    {"XA", AceType::kAccessAllowedCallback, true},
    {"XD", AceType::kAccessDeniedCallback, true},
    {"ZA", AceType::kAccessAllowedCallbackObject, true},
    {"XU", AceType::kSystemAuditCallback, true},
    {"RA", AceType::kSystemResourceAttribute, true},
    {"SP", AceType::kSystemScopedPolicyId, true},
    // Trust labels refer to protected-process policy tokenfs does not have.
    {"TL", AceType::kSystemProcessTrustLabel, false},
}};

// ---------------------------------------------------------------------------
// Small helpers

// True iff SDDL writes a seventh field for `type`: a condition for the
// callback types, a claim for resource attribute ACEs.
bool TakesConditionField(AceType type) {
  return type == AceType::kAccessAllowedCallback ||
         type == AceType::kAccessDeniedCallback ||
         type == AceType::kAccessAllowedCallbackObject ||
         type == AceType::kAccessDeniedCallbackObject ||
         type == AceType::kSystemAuditCallback ||
         type == AceType::kSystemAuditCallbackObject;
}
bool TakesDataField(AceType type) {
  return TakesConditionField(type) ||
         type == AceType::kSystemResourceAttribute;
}

// The seventh field of `ace` as SDDL text ("(...)"), or "" when its
// application data is empty or does not decode.
std::string DataFieldText(const Ace& ace, const Sid* domain) {
  if (ace.application_data.empty()) return "";
  if (TakesConditionField(ace.type)) {
    auto expr = DecodeConditionalExpression(ace.application_data);
    return expr ? FormatConditionalExpression(*expr, domain) : "";
  }
  if (ace.type == AceType::kSystemResourceAttribute) {
    auto claim = DecodeResourceAttribute(ace.application_data);
    if (!claim) return "";
    // Only a canonical encoding prints: text must give back the same bytes.
    auto bytes = EncodeResourceAttribute(*claim);
    if (!bytes || *bytes != ace.application_data) return "";
    return FormatSddlResourceAttribute(*claim, domain);
  }
  return "";
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// True iff `text` starts with `upper`, compared case-insensitively.
bool StartsWithUpper(std::string_view text, std::string_view upper) {
  return text.size() >= upper.size() &&
         EqualsIgnoreCase(text.substr(0, upper.size()), upper);
}

// Quotes `text` for an error message, escaping bytes that are not printable
// ASCII so a message never carries control characters.
std::string Quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c >= 0x20 && c <= 0x7e) {
      out += c;
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buffer;
    }
  }
  out += '\'';
  return out;
}

// An InvalidArgument whose message ends with the 1-based column of the
// 0-based `position`, and whose `column` field carries the same number.
tl::unexpected<Error> Fail(std::string message, size_t position) {
  const int column = static_cast<int>(position + 1);
  message += " at column ";
  message += std::to_string(column);
  return InvalidArgument(std::move(message), column);
}

// The 0-based position of a sub-parser's error within that parser's input.
size_t ErrorOffset(const Error& error) {
  return error.column > 0 ? static_cast<size_t>(error.column - 1) : 0;
}

// Re-anchors an error from a sub-parser whose input started at `base` (a
// 0-based position in the SDDL text).
tl::unexpected<Error> Reanchor(const Error& error, size_t base) {
  // Sub-parsers that end their messages with their own column have it
  // replaced by the column in the SDDL text.
  std::string message = error.message;
  const std::string suffix = " at column " + std::to_string(error.column);
  if (error.column > 0 && message.ends_with(suffix)) {
    message.resize(message.size() - suffix.size());
  }
  return Fail(std::move(message), base + ErrorOffset(error));
}

// Binary size of `ace` as Acl::ToBinary writes it, for the 64 KiB limit.
size_t AceBinarySize(const Ace& ace) {
  size_t size = 4 + 4 + ace.sid.BinarySize() + ace.application_data.size();
  if (IsObjectAceType(ace.type)) {
    size += 4;
    if (ace.object_type) size += 16;
    if (ace.inherited_object_type) size += 16;
  }
  return size;
}

// ---------------------------------------------------------------------------
// Rights

// Parses a rights field that begins at 0-based `base` in the SDDL text.
// Leading whitespace and spaces between names are accepted; whitespace
// after the last name or a number is not (Windows refuses "GA ;").
Result<AccessMask> ParseRightsAt(std::string_view field, size_t base) {
  size_t i = 0;
  while (i < field.size() && IsSpace(field[i])) ++i;
  // "(A;;;;;BO)": Windows accepts an empty field as the empty mask.
  if (i == field.size()) return AccessMask(0);
  char first = field[i];
  // Windows reads a numeric mask as wcstoul does: a minus sign negates
  // modulo 2^32 ("-99" is 0xffffff9d) and a value above 0xffffffff is
  // clamped to it.
  bool negative = false;
  if (first == '-' && i + 1 < field.size() && field[i + 1] >= '0' &&
      field[i + 1] <= '9') {
    negative = true;
    first = field[++i];
  }
  if (first >= '0' && first <= '9') {
    uint64_t radix = 10;
    if (first == '0' && i + 1 < field.size() &&
        (field[i + 1] == 'x' || field[i + 1] == 'X')) {
      radix = 16;
      i += 2;
      if (i == field.size()) {
        return Fail("expected hex digits after 0x in the access mask",
                    base + i);
      }
    } else if (first == '0') {
      radix = 8;
    }
    uint64_t value = 0;
    for (; i < field.size(); ++i) {
      const char c = field[i];
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      if (digit < 0 || static_cast<uint64_t>(digit) >= radix) {
        return Fail("unexpected " + Quote(field.substr(i, 1)) +
                        " in the numeric access mask",
                    base + i);
      }
      value = value * radix + static_cast<uint64_t>(digit);
      if (value > UINT32_MAX) value = UINT32_MAX;  // clamped, digits go on
    }
    if (negative) value = (uint64_t{1} << 32) - value;
    return AccessMask(static_cast<uint32_t>(value));
  }
  uint32_t bits = 0;
  while (i < field.size()) {
    // Spaces may separate names, as on Windows; tabs and line breaks may
    // not (Windows refuses "RP LC\tLORC").
    if (field[i] == ' ') {
      const size_t space = i;
      while (i < field.size() && field[i] == ' ') ++i;
      if (i == field.size()) {
        return Fail("unexpected whitespace after the access rights",
                    base + space);
      }
    }
    const std::string_view name = field.substr(i, 2);
    bool found = false;
    for (const RightName& entry : kRightNames) {
      if (EqualsIgnoreCase(name, entry.name)) {
        bits |= entry.bits;
        found = true;
        break;
      }
    }
    if (!found) {
      return Fail("unknown access right " + Quote(name), base + i);
    }
    i += 2;
  }
  return AccessMask(bits);
}

void AppendRights(std::string& out, uint32_t bits, bool mandatory_label) {
  if (bits == 0) return;
  if (mandatory_label) {
    if ((bits & ~kMandatoryPolicyBits) == 0) {
      for (const RightName& entry : kMandatoryNames) {
        if (bits & entry.bits) out += entry.name;
      }
    } else {
      out += FormatHex(bits);
    }
    return;
  }
  if ((bits & ~kNamedBits) == 0) {
    for (const RightName& entry : kSingleBitNames) {
      if (bits & entry.bits) out += entry.name;
    }
    return;
  }
  for (const RightName& entry : kCompositeNames) {
    if (bits == entry.bits) {
      out += entry.name;
      return;
    }
  }
  out += FormatHex(bits);
}

// ---------------------------------------------------------------------------
// Formatting

void AppendSid(std::string& out, const Sid& sid, const Sid* domain) {
  if (auto alias = SddlAliasForSid(sid, domain)) {
    out += *alias;
  } else {
    out += sid.ToString();
  }
}

void AppendAce(std::string& out, const Ace& ace, const Sid* domain) {
  const AceTypeName* type_name = nullptr;
  for (const AceTypeName& entry : kAceTypeNames) {
    if (entry.type == ace.type) {
      type_name = &entry;
      break;
    }
  }
  if (type_name) {
    out += type_name->name;
  } else {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "0x%02x",
                  static_cast<unsigned>(ace.type));
    out += buffer;
  }
  out += ';';
  for (const AceFlagName& entry : kAceFlagNames) {
    if (ace.flags & entry.bit) out += entry.name;
  }
  out += ';';
  const bool modeled = IsModeledAceType(ace.type);
  if (modeled) {
    AppendRights(out, ace.mask.bits(),
                 ace.type == AceType::kSystemMandatoryLabel);
  }
  out += ';';
  if (ace.object_type) out += FormatGuid(*ace.object_type);
  out += ';';
  if (ace.inherited_object_type) out += FormatGuid(*ace.inherited_object_type);
  out += ';';
  if (modeled) AppendSid(out, ace.sid, domain);
  const std::string data_text = type_name ? DataFieldText(ace, domain) : "";
  if (!data_text.empty()) {
    out += ';';
    out += data_text;
    return;
  }
  // Anything else that carries bytes (a condition that does not decode, a
  // resource attribute in a layout text cannot reproduce, an unknown body)
  // prints them as a seventh field "0x...", so the text never passes for an
  // unconditional ACE; such text does not parse back.
  if (!type_name || !type_name->parsed ||
      !ace.application_data.empty()) {
    const std::vector<uint8_t>& opaque =
        modeled ? ace.application_data : ace.raw_body;
    if (!opaque.empty()) {
      out += ";0x";
      out += FormatHexBytes(opaque);
    }
  }
}

struct AclFlagBits {
  uint16_t present;
  uint16_t is_protected;
  uint16_t auto_inherit_req;
  uint16_t auto_inherited;
};
constexpr AclFlagBits kDaclBits{
    sd_control::kDaclPresent, sd_control::kDaclProtected,
    sd_control::kDaclAutoInheritReq, sd_control::kDaclAutoInherited};
constexpr AclFlagBits kSaclBits{
    sd_control::kSaclPresent, sd_control::kSaclProtected,
    sd_control::kSaclAutoInheritReq, sd_control::kSaclAutoInherited};

void AppendAclSection(std::string& out, char letter, uint16_t control,
                      const AclFlagBits& bits, const std::optional<Acl>& acl,
                      const Sid* domain) {
  out += letter;
  out += ':';
  if (control & bits.is_protected) out += 'P';
  if (control & bits.auto_inherit_req) out += "AR";
  if (control & bits.auto_inherited) out += "AI";
  if (!acl) {
    out += "NO_ACCESS_CONTROL";
    return;
  }
  for (const Ace& ace : acl->aces) {
    out += '(';
    AppendAce(out, ace, domain);
    out += ')';
  }
}

size_t EstimateSize(const std::optional<Acl>& acl) {
  return acl ? 48 * acl->aces.size() : 0;
}

// ---------------------------------------------------------------------------
// Parsing

// What "D:" or "S:" introduced: the ACL flags (as P=1, AR=2, AI=4) and the
// ACL, or nullopt for NO_ACCESS_CONTROL.
struct AclSection {
  unsigned flags = 0;
  std::optional<Acl> acl;
};
constexpr unsigned kFlagProtected = 1;
constexpr unsigned kFlagAutoInheritReq = 2;
constexpr unsigned kFlagAutoInherited = 4;

uint16_t ControlBits(unsigned flags, const AclFlagBits& bits) {
  uint16_t control = bits.present;
  if (flags & kFlagProtected) control |= bits.is_protected;
  if (flags & kFlagAutoInheritReq) control |= bits.auto_inherit_req;
  if (flags & kFlagAutoInherited) control |= bits.auto_inherited;
  return control;
}

// Reads one SID component the way Windows' SDDL reader does (wcstoul):
// whitespace before it, an optional sign, a "0x" prefix (or hex throughout
// when `hex`), digits; a value above `max` is clamped to `max`, and a minus
// sign negates modulo 2^32. Returns the value and advances `*i`; nullopt
// when there are no digits.
std::optional<uint64_t> ReadWindowsNumber(std::string_view text, size_t* i,
                                          bool hex, uint64_t max) {
  size_t at = *i;
  while (at < text.size() && IsSpace(text[at])) ++at;
  bool negative = false;
  if (at < text.size() && (text[at] == '-' || text[at] == '+')) {
    negative = text[at] == '-';
    ++at;
  }
  unsigned radix = hex ? 16 : 10;
  if (at + 1 < text.size() && text[at] == '0' &&
      (text[at + 1] == 'x' || text[at + 1] == 'X') && at + 2 < text.size() &&
      std::isxdigit(static_cast<unsigned char>(text[at + 2]))) {
    radix = 16;
    at += 2;
  }
  const size_t digits = at;
  uint64_t value = 0;
  bool clamped = false;
  for (; at < text.size(); ++at) {
    const char c = text[at];
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0 || static_cast<unsigned>(digit) >= radix) break;
    if (!clamped) {
      if (value > (max - static_cast<unsigned>(digit)) / radix) {
        clamped = true;
        value = max;
      } else {
        value = value * radix + static_cast<unsigned>(digit);
      }
    }
  }
  if (at == digits) return std::nullopt;
  *i = at;
  if (negative) value = (uint64_t{1} << 32) - (value & 0xffffffff);
  return value & (max == UINT32_MAX ? 0xffffffffu : ~uint64_t{0});
}

// A numeric SID as Windows reads it in SDDL: "S-", the revision 1, the
// authority, then at least one sub-authority, '-' separated; each number
// decimal or 0x-hex (all hex when the revision is written 0x1), whitespace
// allowed before a number, sub-authorities above 0xffffffff clamped.
// `base` is the token's 0-based position in the SDDL text.
Result<Sid> ParseWindowsSid(std::string_view token, size_t base) {
  size_t i = 2;  // after "S-"
  const bool hex = token.size() > 4 && token[2] == '0' &&
                   (token[3] == 'x' || token[3] == 'X');
  auto revision = ReadWindowsNumber(token, &i, hex, UINT32_MAX);
  if (!revision) return Fail("expected the SID revision", base + i);
  if (*revision != 1) {
    return Fail("unsupported SID revision " + std::to_string(*revision) +
                    " (only 1)",
                base + 2);
  }
  std::vector<uint64_t> parts;
  const size_t authority_start = i + 1;
  while (i < token.size()) {
    if (token[i] != '-') {
      return Fail("unexpected " + Quote(token.substr(i, 1)) + " in the SID",
                  base + i);
    }
    ++i;
    const size_t start = i;
    if (parts.size() == Sid::kMaxSubAuthorities + 1) {
      return Fail("a SID has at most 15 sub-authorities", base + start);
    }
    auto value = ReadWindowsNumber(
        token, &i, hex, parts.empty() ? UINT64_MAX : uint64_t{UINT32_MAX});
    if (!value) {
      return Fail(parts.empty() ? "expected the SID authority"
                                : "expected a sub-authority",
                  base + start);
    }
    parts.push_back(*value);
  }
  if (parts.size() < 2) {
    return Fail("a SID needs an authority and at least one sub-authority",
                base + token.size());
  }
  if (parts[0] > Sid::kMaxAuthority) {
    return Fail("SID authority exceeds 2^48-1", base + authority_start);
  }
  std::vector<uint32_t> subs;
  for (size_t k = 1; k < parts.size(); ++k) {
    subs.push_back(static_cast<uint32_t>(parts[k]));
  }
  auto sid = Sid::Create(parts[0], subs);
  if (!sid) return Fail(sid.error().message, base);
  return *sid;
}

// Parses the SID of an "O:"/"G:" section or an ACE trustee: an alias or
// S-1-..., starting at 0-based `base` in the SDDL text.
Result<Sid> ParseSidToken(std::string_view token, size_t base,
                          const Sid* domain) {
  const bool numeric = token.size() >= 2 &&
                       (token[0] == 'S' || token[0] == 's') && token[1] == '-';
  if (!numeric && token.size() > 2) {
    // Name the junk after what reads as an alias ("WDX"), rather than
    // complaining that "WDX" does not start with "S-".
    return Fail("unexpected " + Quote(token.substr(2, 1)) +
                    " after the SID alias " + Quote(token.substr(0, 2)),
                base + 2);
  }
  if (numeric) return ParseWindowsSid(token, base);
  auto sid = ParseSidOrAlias(token, domain);
  if (!sid) return Reanchor(sid.error(), base);
  return *sid;
}

class Parser {
 public:
  Parser(std::string_view text, const Sid* domain)
      : text_(text), domain_(domain) {}

  Result<SecurityDescriptor> ParseDescriptor();
  // Parses ACL flags, NO_ACCESS_CONTROL and ACEs up to the next section or
  // the end. `letter` names the section in messages.
  Result<AclSection> ParseAclBody(char letter);

  void SkipSpace() {
    while (position_ < text_.size() && IsSpace(text_[position_])) ++position_;
  }
  bool AtEnd() const { return position_ >= text_.size(); }
  // True iff a section marker ("O:", "G:", "D:", "S:") starts here. Section
  // letters are upper-case only, as on Windows (which refuses "d:").
  bool AtSection() const {
    if (position_ + 1 >= text_.size() || text_[position_ + 1] != ':') {
      return false;
    }
    const char c = text_[position_];
    return c == 'O' || c == 'G' || c == 'D' || c == 'S';
  }
  size_t position() const { return position_; }
  void set_position(size_t position) { position_ = position; }
  std::string_view text() const { return text_; }

 private:
  Result<Sid> ParseSectionSid(char letter);
  Result<Ace> ParseAce();

  std::string_view text_;
  const Sid* domain_;
  size_t position_ = 0;
};

Result<SecurityDescriptor> Parser::ParseDescriptor() {
  SecurityDescriptor sd;
  bool seen_owner = false, seen_group = false, seen_dacl = false,
       seen_sacl = false;
  for (;;) {
    SkipSpace();
    if (AtEnd()) break;
    const size_t start = position_;
    const char letter = text_[start];
    if (!AtSection()) {
      const bool lower_section =
          start + 1 < text_.size() && text_[start + 1] == ':' &&
          (letter == 'o' || letter == 'g' || letter == 'd' || letter == 's');
      if (lower_section) {
        return Fail("section letters are upper-case: write '" +
                        std::string(1, AsciiToUpper(letter)) + ":'",
                    start);
      }
      return Fail("expected a section 'O:', 'G:', 'D:' or 'S:' but found " +
                      Quote(text_.substr(start, 1)),
                  start);
    }
    bool& seen = letter == 'O'   ? seen_owner
                 : letter == 'G' ? seen_group
                 : letter == 'D' ? seen_dacl
                                 : seen_sacl;
    if (seen) {
      return Fail("duplicate '" + std::string(1, letter) + ":' section", start);
    }
    seen = true;
    position_ += 2;
    if (letter == 'O' || letter == 'G') {
      auto sid = ParseSectionSid(letter);
      if (!sid) return tl::unexpected(sid.error());
      (letter == 'O' ? sd.owner : sd.group) = *sid;
      continue;
    }
    auto section = ParseAclBody(letter);
    if (!section) return tl::unexpected(section.error());
    if (letter == 'D') {
      sd.control |= ControlBits(section->flags, kDaclBits);
      sd.dacl = std::move(section->acl);
    } else {
      sd.control |= ControlBits(section->flags, kSaclBits);
      sd.sacl = std::move(section->acl);
    }
  }
  return sd;
}

Result<Sid> Parser::ParseSectionSid(char letter) {
  SkipSpace();
  const size_t start = position_;
  // The SID runs up to the letter of the next section marker: a ':' can only
  // follow a section letter, so the SID ends one character before it. This
  // also settles "O:S-1-0xAD:" (authority 0xA, then a DACL), where the 'D'
  // could otherwise pass for a hex digit.
  size_t end = text_.find(':', start);
  end = end == std::string_view::npos ? text_.size() : end - 1;
  if (end < start) end = start;
  position_ = end;
  while (end > start && IsSpace(text_[end - 1])) --end;
  if (end == start) {
    return Fail("expected a SID after '" + std::string(1, letter) + ":'",
                start);
  }
  return ParseSidToken(text_.substr(start, end - start), start, domain_);
}

Result<AclSection> Parser::ParseAclBody(char letter) {
  AclSection section;
  section.acl.emplace();
  bool null_acl = false;
  // ACL flags and NO_ACCESS_CONTROL, in any order and repeated (Windows
  // takes "D:PPPP" as "D:P").
  for (;;) {
    SkipSpace();
    if (AtEnd() || AtSection() || text_[position_] == '(') break;
    const std::string_view rest = text_.substr(position_);
    if (StartsWithUpper(rest, "NO_ACCESS_CONTROL")) {
      null_acl = true;
      position_ += 17;
    } else if (StartsWithUpper(rest, "AR")) {
      section.flags |= kFlagAutoInheritReq;
      position_ += 2;
    } else if (StartsWithUpper(rest, "AI")) {
      section.flags |= kFlagAutoInherited;
      position_ += 2;
    } else if (AsciiToUpper(rest[0]) == 'P') {
      section.flags |= kFlagProtected;
      position_ += 1;
    } else {
      return Fail(
          "expected ACL flags (P, AR, AI), NO_ACCESS_CONTROL or '(' "
          "after '" +
              std::string(1, letter) + ":' but found " +
              Quote(rest.substr(0, 1)),
          position_);
    }
  }
  size_t acl_size = 8;
  for (;;) {
    SkipSpace();
    if (AtEnd() || AtSection()) break;
    if (text_[position_] != '(') {
      return Fail(
          "expected '(' to start an ACE or the next section but "
          "found " +
              Quote(text_.substr(position_, 1)),
          position_);
    }
    if (null_acl) {
      return Fail("NO_ACCESS_CONTROL (a NULL ACL) cannot have ACEs", position_);
    }
    const size_t ace_start = position_;
    auto ace = ParseAce();
    if (!ace) return tl::unexpected(ace.error());
    acl_size += AceBinarySize(*ace);
    if (acl_size > Acl::kMaxSize) {
      return Fail("the " + std::string(letter == 'D' ? "DACL" : "SACL") +
                      " would exceed 65535 bytes",
                  ace_start);
    }
    section.acl->aces.push_back(std::move(*ace));
  }
  if (null_acl) {
    section.acl.reset();
  } else {
    section.acl->revision = section.acl->CanonicalRevision();
  }
  return section;
}

Result<Ace> Parser::ParseAce() {
  ++position_;  // '('
  std::array<std::string_view, 6> fields;
  std::array<size_t, 6> starts{};
  const AceTypeName* type_name = nullptr;
  size_t data_start = std::string_view::npos;
  std::string_view data_text;
  size_t data_column = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    SkipSpace();
    starts[i] = position_;
    size_t end = position_;
    while (end < text_.size() && text_[end] != ';' && text_[end] != ')' &&
           text_[end] != '(') {
      ++end;
    }
    fields[i] = text_.substr(position_, end - position_);
    if (i == 0) {
      // The type decides everything else, including whether the ACE may
      // carry a condition, so it is checked before the fields are counted.
      std::string_view type = fields[0];
      size_t trimmed = type.size();
      while (trimmed > 0 && IsSpace(type[trimmed - 1])) --trimmed;
      if (trimmed != type.size()) {
        return Fail("unexpected whitespace after the ACE type",
                    starts[0] + trimmed);
      }
      for (const AceTypeName& entry : kAceTypeNames) {
        if (EqualsIgnoreCase(type, entry.name)) {
          type_name = &entry;
          break;
        }
      }
      if (type.empty()) return Fail("expected an ACE type", starts[0]);
      if (!type_name) {
        return Fail("unknown ACE type " + Quote(type), starts[0]);
      }
      if (!type_name->parsed) {
        return Fail("unsupported ACE type '" + std::string(type_name->name) +
                        "' (tokenfs evaluates no conditional, resource, "
                        "scoped-policy or trust-label ACEs)",
                    starts[0]);
      }
    }
    if (end >= text_.size()) {
      return Fail("unterminated ACE: expected ')'", end);
    }
    const char terminator = text_[end];
    if (terminator == '(') {
      return Fail("unexpected '(' inside an ACE", end);
    }
    if (i + 1 < fields.size() && terminator == ')') {
      return Fail(
          "an ACE has six fields separated by ';' but this one ends "
          "after " +
              std::to_string(i + 1),
          end);
    }
    if (i + 1 == fields.size() && terminator == ';') {
      if (!TakesDataField(type_name->type)) {
        return Fail(
            "unexpected ';' after the trustee SID: an ACE has six "
            "fields",
            end);
      }
      data_start = end + 1;
    }
    position_ = end + 1;
  }
  if (data_start != std::string_view::npos) {
    // The seventh field: "(...)" up to its matching ')', skipping quoted
    // strings, then the ')' that closes the ACE.
    position_ = data_start;
    SkipSpace();
    const size_t open = position_;
    if (position_ >= text_.size() || text_[position_] != '(') {
      return Fail("expected '(' to start the " +
                      std::string(type_name->type ==
                                          AceType::kSystemResourceAttribute
                                      ? "resource attribute"
                                      : "condition"),
                  position_);
    }
    int depth = 0;
    size_t end = position_;
    for (; end < text_.size(); ++end) {
      const char c = text_[end];
      if (c == '"') {
        const size_t close = text_.find('"', end + 1);
        if (close == std::string_view::npos) break;
        end = close;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')' && --depth == 0) {
        break;
      }
    }
    if (end >= text_.size()) {
      return Fail("unterminated ACE: expected ')'", text_.size());
    }
    data_text = text_.substr(open, end + 1 - open);
    data_column = open;
    position_ = end + 1;
    SkipSpace();
    if (position_ >= text_.size() || text_[position_] != ')') {
      return Fail("expected ')' to end the ACE after its condition",
                  position_);
    }
    ++position_;
  }

  Ace ace;
  ace.type = type_name->type;

  const std::string_view flags = fields[1];
  for (size_t i = 0; i < flags.size(); i += 2) {
    if (IsSpace(flags[i])) {
      return Fail("unexpected whitespace in the ACE flags", starts[1] + i);
    }
    const std::string_view name = flags.substr(i, 2);
    bool found = false;
    if (name.size() == 2) {
      for (const AceFlagName& entry : kAceFlagNames) {
        if (EqualsIgnoreCase(name, entry.name)) {
          ace.flags |= entry.bit;
          found = true;
          break;
        }
      }
    }
    if (!found) {
      return Fail("unknown ACE flag " + Quote(name), starts[1] + i);
    }
  }

  auto mask = ParseRightsAt(fields[2], starts[2]);
  if (!mask) return tl::unexpected(mask.error());
  ace.mask = *mask;

  for (size_t i = 3; i <= 4; ++i) {
    if (fields[i].empty()) continue;
    if (!IsObjectAceType(ace.type)) {
      return Fail("ACE type '" + std::string(type_name->name) +
                      "' takes no object GUIDs (use OA, OD, OU or OL)",
                  starts[i]);
    }
    auto guid = ParseGuid(fields[i]);
    if (!guid) {
      return Fail("malformed GUID " + Quote(fields[i]) +
                      ": a GUID is written "
                      "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
                  starts[i] + ErrorOffset(guid.error()));
    }
    (i == 3 ? ace.object_type : ace.inherited_object_type) = *guid;
  }

  // Windows accepts whitespace after an alias trustee ("WD )") but not
  // after a numeric one ("S-1-3-4 )").
  std::string_view trustee = fields[5];
  while (!trustee.empty() && IsSpace(trustee.back())) {
    trustee.remove_suffix(1);
  }
  if (trustee.size() != fields[5].size() && trustee.size() >= 2 &&
      (trustee[0] == 'S' || trustee[0] == 's') && trustee[1] == '-') {
    return Fail("unexpected whitespace after the trustee SID",
                starts[5] + trustee.size());
  }
  if (trustee.empty()) {
    return Fail("expected the ACE's trustee SID", starts[5]);
  }
  auto sid = ParseSidToken(trustee, starts[5], domain_);
  if (!sid) return tl::unexpected(sid.error());
  ace.sid = *sid;
  if (!data_text.empty()) {
    Result<std::vector<uint8_t>> bytes;
    if (ace.type == AceType::kSystemResourceAttribute) {
      auto claim = ParseSddlResourceAttribute(data_text, domain_);
      if (!claim) return Reanchor(claim.error(), data_column);
      bytes = EncodeResourceAttribute(*claim);
    } else {
      auto expr = ParseConditionalExpression(data_text, domain_);
      if (!expr) return Reanchor(expr.error(), data_column);
      bytes = EncodeConditionalExpression(*expr);
    }
    if (!bytes) return Fail(bytes.error().message, data_column);
    ace.application_data = std::move(*bytes);
  }
  return ace;
}

}  // namespace

Result<SecurityDescriptor> ParseSddl(std::string_view text,
                                     const Sid* domain) {
  Parser parser(text, domain);
  return parser.ParseDescriptor();
}

std::string FormatSddl(const SecurityDescriptor& sd, const Sid* domain) {
  std::string out;
  out.reserve(64 + EstimateSize(sd.dacl) + EstimateSize(sd.sacl));
  if (sd.owner) {
    out += "O:";
    AppendSid(out, *sd.owner, domain);
  }
  if (sd.group) {
    out += "G:";
    AppendSid(out, *sd.group, domain);
  }
  if (sd.dacl_present()) {
    AppendAclSection(out, 'D', sd.control, kDaclBits, sd.dacl, domain);
  }
  if (sd.sacl_present()) {
    AppendAclSection(out, 'S', sd.control, kSaclBits, sd.sacl, domain);
  }
  return out;
}

Result<std::optional<Acl>> ParseSddlDacl(std::string_view text,
                                         const Sid* domain) {
  Parser parser(text, domain);
  parser.SkipSpace();
  if (parser.text().substr(parser.position(), 2) == "D:") {
    parser.set_position(parser.position() + 2);
  }
  auto section = parser.ParseAclBody('D');
  if (!section) return tl::unexpected(section.error());
  parser.SkipSpace();
  if (!parser.AtEnd()) {
    return Fail("unexpected " +
                    Quote(parser.text().substr(parser.position(), 1)) +
                    " after the DACL",
                parser.position());
  }
  return std::move(section->acl);
}

std::string FormatSddlDacl(const std::optional<Acl>& dacl,
                           const Sid* domain) {
  std::string out;
  out.reserve(2 + EstimateSize(dacl));
  AppendAclSection(out, 'D', 0, kDaclBits, dacl, domain);
  return out;
}

std::string FormatSddlAce(const Ace& ace, const Sid* domain) {
  std::string out;
  AppendAce(out, ace, domain);
  return out;
}

std::string FormatSddlRights(AccessMask mask) {
  std::string out;
  AppendRights(out, mask.bits(), /*mandatory_label=*/false);
  return out;
}

Result<AccessMask> ParseSddlRights(std::string_view text) {
  return ParseRightsAt(text, 0);
}

}  // namespace tokenfs
