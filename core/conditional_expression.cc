#include "core/conditional_expression.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>

#include "core/ascii.h"
#include "core/byte_io.h"
#include "core/utf16.h"
#include "core/well_known_sids.h"

namespace tokenfs {
namespace {

using Kind = ConditionalTokenKind;

// ---------------------------------------------------------------------------
// Token classes

bool IsIntegerKind(Kind kind) {
  return kind == Kind::kInt8 || kind == Kind::kInt16 || kind == Kind::kInt32 ||
         kind == Kind::kInt64;
}

bool IsLiteralKind(Kind kind) {
  return IsIntegerKind(kind) || kind == Kind::kString ||
         kind == Kind::kOctetString || kind == Kind::kComposite ||
         kind == Kind::kSid;
}

bool IsAttributeKind(Kind kind) {
  return kind == Kind::kLocalAttribute || kind == Kind::kUserAttribute ||
         kind == Kind::kResourceAttribute || kind == Kind::kDeviceAttribute;
}

// Binary operators whose left operand is an attribute.
bool IsRelationalKind(Kind kind) {
  switch (kind) {
    case Kind::kEqual:
    case Kind::kNotEqual:
    case Kind::kLess:
    case Kind::kLessOrEqual:
    case Kind::kGreater:
    case Kind::kGreaterOrEqual:
    case Kind::kContains:
    case Kind::kAnyOf:
    case Kind::kNotContains:
    case Kind::kNotAnyOf:
      return true;
    default:
      return false;
  }
}

bool IsExistsKind(Kind kind) {
  return kind == Kind::kExists || kind == Kind::kNotExists;
}

bool IsMembershipKind(Kind kind) {
  switch (kind) {
    case Kind::kMemberOf:
    case Kind::kDeviceMemberOf:
    case Kind::kMemberOfAny:
    case Kind::kDeviceMemberOfAny:
    case Kind::kNotMemberOf:
    case Kind::kNotDeviceMemberOf:
    case Kind::kNotMemberOfAny:
    case Kind::kNotDeviceMemberOfAny:
      return true;
    default:
      return false;
  }
}

bool IsKnownKind(uint8_t byte) {
  const Kind kind = static_cast<Kind>(byte);
  return IsLiteralKind(kind) || IsAttributeKind(kind) ||
         IsRelationalKind(kind) || IsExistsKind(kind) ||
         IsMembershipKind(kind) || kind == Kind::kAnd || kind == Kind::kOr ||
         kind == Kind::kNot;
}

struct Keyword {
  const char* text;  // Windows' spelling, which is also what prints
  Kind kind;
};

// Word operators. Matching is case-insensitive.
constexpr std::array<Keyword, 14> kKeywords{{
    {"Member_of", Kind::kMemberOf},
    {"Member_of_any", Kind::kMemberOfAny},
    {"Device_Member_of", Kind::kDeviceMemberOf},
    {"Device_Member_of_any", Kind::kDeviceMemberOfAny},
    {"Not_Member_of", Kind::kNotMemberOf},
    {"Not_Member_of_any", Kind::kNotMemberOfAny},
    {"Not_Device_Member_of", Kind::kNotDeviceMemberOf},
    {"Not_Device_Member_of_any", Kind::kNotDeviceMemberOfAny},
    {"Exists", Kind::kExists},
    {"Not_Exists", Kind::kNotExists},
    {"Contains", Kind::kContains},
    {"Not_Contains", Kind::kNotContains},
    {"Any_of", Kind::kAnyOf},
    {"Not_Any_of", Kind::kNotAnyOf},
}};

struct Symbol {
  const char* text;
  Kind kind;
};

// Two-character symbols first, so "<=" is not read as "<".
constexpr std::array<Symbol, 6> kSymbols{{
    {"==", Kind::kEqual},
    {"!=", Kind::kNotEqual},
    {"<=", Kind::kLessOrEqual},
    {">=", Kind::kGreaterOrEqual},
    {"<", Kind::kLess},
    {">", Kind::kGreater},
}};

std::string_view OperatorText(Kind kind) {
  for (const Symbol& symbol : kSymbols) {
    if (symbol.kind == kind) return symbol.text;
  }
  for (const Keyword& keyword : kKeywords) {
    if (keyword.kind == kind) return keyword.text;
  }
  if (kind == Kind::kAnd) return "&&";
  if (kind == Kind::kOr) return "||";
  if (kind == Kind::kNot) return "!";
  return "?";
}

struct Prefix {
  const char* text;  // as printed
  Kind kind;
};

constexpr std::array<Prefix, 3> kPrefixes{{
    {"@USER.", Kind::kUserAttribute},
    {"@DEVICE.", Kind::kDeviceAttribute},
    {"@RESOURCE.", Kind::kResourceAttribute},
}};

// ---------------------------------------------------------------------------
// Formatting

// attr-char1 of MS-DTYP 2.5.1.1: what a local attribute name is made of.
bool IsPlainNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == ':' || c == '.' || c == '/' ||
         c == '_';
}

// attr-char2: what follows @User., @Device. and @Resource.: attr-char1 plus
// the literal characters # $ ' * + - ; ? @ [ \ ] ^ ` { } ~ and anything
// above U+007F.
bool IsPrefixedNameChar(char c) {
  if (IsPlainNameChar(c) || static_cast<unsigned char>(c) >= 0x80) return true;
  switch (c) {
    case '#': case '$': case '\'': case '*': case '+': case '-': case ';':
    case '?': case '@': case '[': case '\\': case ']': case '^': case '`':
    case '{': case '}': case '~':
      return true;
    default:
      return false;
  }
}

// An attribute name, with %XXXX for every ASCII character outside the set
// its kind allows (and for a first character a local name cannot start
// with).
void AppendName(std::string& out, std::string_view name, bool prefixed) {
  auto allowed = [prefixed](char c) {
    return prefixed ? IsPrefixedNameChar(c) : IsPlainNameChar(c);
  };
  bool plain = true;
  for (char c : name) plain = plain && allowed(c);
  if (plain) {
    out += name;
    return;
  }
  std::u16string units;
  if (!Utf8ToUtf16(name, units)) {
    out += name;
    return;
  }
  for (size_t i = 0; i < units.size(); ++i) {
    const char16_t unit = units[i];
    if (unit >= 0x80 && prefixed) {
      // Above U+007F: printed as is (the surrogate pair, if any, together).
      std::string piece;
      const size_t count =
          (unit >= 0xd800 && unit <= 0xdbff && i + 1 < units.size()) ? 2 : 1;
      if (Utf16ToUtf8(std::u16string_view(units).substr(i, count), piece)) {
        out += piece;
        i += count - 1;
        continue;
      }
    }
    if (unit < 0x80 && allowed(static_cast<char>(unit))) {
      out += static_cast<char>(unit);
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "%%%04x",
                    static_cast<unsigned>(unit));
      out += buffer;
    }
  }
}

std::string FormatInteger(const ConditionalToken& token) {
  uint64_t magnitude = static_cast<uint64_t>(token.integer);
  std::string out;
  if (token.sign == conditional_sign::kNegative) {
    out += '-';
    magnitude = uint64_t{0} - magnitude;
  } else if (token.sign == conditional_sign::kPositive) {
    out += '+';
  }
  char buffer[32];
  if (token.base == conditional_base::kHexadecimal) {
    std::snprintf(buffer, sizeof buffer, "0x%llx",
                  static_cast<unsigned long long>(magnitude));
  } else if (token.base == conditional_base::kOctal) {
    std::snprintf(buffer, sizeof buffer, "0%llo",
                  static_cast<unsigned long long>(magnitude));
  } else {
    std::snprintf(buffer, sizeof buffer, "%llu",
                  static_cast<unsigned long long>(magnitude));
  }
  out += buffer;
  return out;
}

void AppendSidLiteral(std::string& out, const Sid& sid, const Sid* domain) {
  out += "SID(";
  if (auto alias = SddlAliasForSid(sid, domain)) {
    out += *alias;
  } else {
    out += sid.ToString();
  }
  out += ')';
}

void AppendOperand(std::string& out, const ConditionalToken& token,
                   const Sid* domain = nullptr) {
  if (IsIntegerKind(token.kind)) {
    out += FormatInteger(token);
    return;
  }
  switch (token.kind) {
    case Kind::kString:
      out += '"';
      out += token.text;
      out += '"';
      return;
    case Kind::kOctetString:
      out += '#';
      out += FormatHexBytes(token.octets);
      return;
    case Kind::kSid:
      AppendSidLiteral(out, token.sid, domain);
      return;
    case Kind::kComposite:
      out += '{';
      for (size_t i = 0; i < token.elements.size(); ++i) {
        if (i > 0) out += ", ";
        AppendOperand(out, token.elements[i], domain);
      }
      out += '}';
      return;
    case Kind::kLocalAttribute:
      AppendName(out, token.text, /*prefixed=*/false);
      return;
    default:
      break;
  }
  for (const Prefix& prefix : kPrefixes) {
    if (prefix.kind == token.kind) {
      out += prefix.text;
      AppendName(out, token.text, /*prefixed=*/true);
      return;
    }
  }
  out += OperatorText(token.kind);
}

// A formatted sub-expression: its text, and whether it is a logical
// expression (already in parentheses) rather than a bare operand.
struct Formatted {
  std::string text;
  bool logical = false;
};

std::string AsLogical(const Formatted& item) {
  return item.logical ? item.text : "(" + item.text + ")";
}

// ---------------------------------------------------------------------------
// Structure check, shared by the decoder and the evaluator's preconditions.

enum class Shape { kAttribute, kLocal, kLiteral, kLogical };

// Checks that `tokens` reduce to one logical value (or one attribute, which
// is then read as logical). Returns an error naming the token index.
Status CheckShape(const std::vector<ConditionalToken>& tokens) {
  std::vector<Shape> stack;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Kind kind = tokens[i].kind;
    const std::string where =
        "token " + std::to_string(i) + " ('" +
        std::string(IsLiteralKind(kind) || IsAttributeKind(kind)
                        ? "operand"
                        : OperatorText(kind)) +
        "'): ";
    if (IsLiteralKind(kind)) {
      if (kind == Kind::kComposite) {
        for (const ConditionalToken& element : tokens[i].elements) {
          if (!IsLiteralKind(element.kind) ||
              element.kind == Kind::kComposite) {
            return InvalidArgument(where +
                                   "a composite holds literals only");
          }
        }
      }
      stack.push_back(Shape::kLiteral);
    } else if (IsAttributeKind(kind)) {
      stack.push_back(kind == Kind::kLocalAttribute ? Shape::kLocal
                                                    : Shape::kAttribute);
    } else if (IsRelationalKind(kind)) {
      if (stack.size() < 2) return InvalidArgument(where + "needs 2 operands");
      const Shape right = stack.back();
      stack.pop_back();
      const Shape left = stack.back();
      stack.pop_back();
      if (left != Shape::kAttribute && left != Shape::kLocal) {
        return InvalidArgument(where + "the left operand is not an attribute");
      }
      if (right == Shape::kLogical) {
        return InvalidArgument(where + "the right operand is not a value");
      }
      stack.push_back(Shape::kLogical);
    } else if (IsExistsKind(kind)) {
      if (stack.empty() || (stack.back() != Shape::kAttribute &&
                            stack.back() != Shape::kLocal)) {
        return InvalidArgument(where + "needs an attribute");
      }
      stack.back() = Shape::kLogical;
    } else if (IsMembershipKind(kind)) {
      if (stack.empty() || stack.back() != Shape::kLiteral) {
        return InvalidArgument(where + "needs SIDs");
      }
      stack.back() = Shape::kLogical;
    } else if (kind == Kind::kNot) {
      if (stack.empty() || stack.back() == Shape::kLiteral) {
        return InvalidArgument(where + "needs a logical operand");
      }
      stack.back() = Shape::kLogical;
    } else if (kind == Kind::kAnd || kind == Kind::kOr) {
      if (stack.size() < 2 || stack.back() == Shape::kLiteral ||
          stack[stack.size() - 2] == Shape::kLiteral) {
        return InvalidArgument(where + "needs 2 logical operands");
      }
      stack.pop_back();
      stack.back() = Shape::kLogical;
    } else {
      return InvalidArgument(where + "unknown token");
    }
  }
  if (stack.size() != 1 || stack.back() == Shape::kLiteral) {
    return InvalidArgument("the tokens do not reduce to one condition (" +
                           std::to_string(stack.size()) + " items left)");
  }
  return Ok();
}

// ---------------------------------------------------------------------------
// Text parsing

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

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

class TextParser {
 public:
  TextParser(std::string_view text, const Sid* domain)
      : text_(text), domain_(domain) {}

  Result<ConditionalExpression> Parse() {
    SkipSpace();
    if (!At('(')) {
      return Fail("a condition starts with '('", position_);
    }
    auto status = ParseParenthesised();
    if (!status) return tl::unexpected(status.error());
    SkipSpace();
    if (position_ < text_.size()) {
      return Fail("unexpected " + Quote(text_.substr(position_, 1)) +
                      " after the condition",
                  position_);
    }
    ConditionalExpression expr;
    expr.tokens = std::move(tokens_);
    return expr;
  }

 private:
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
  bool AtText(std::string_view s) const {
    return text_.substr(position_, s.size()) == s;
  }
  std::string Found() const {
    return position_ < text_.size() ? Quote(text_.substr(position_, 1))
                                    : std::string("the end");
  }

  // "(" or-expression ")".
  Status ParseParenthesised() {
    if (++depth_ > kMaxDepth) {
      return Fail("the condition nests more than " +
                      std::to_string(kMaxDepth) + " levels deep",
                  position_);
    }
    ++position_;  // '('
    auto status = ParseOr();
    if (!status) return status;
    SkipSpace();
    if (!At(')')) {
      return Fail("expected ')' or an operator but found " + Found(),
                  position_);
    }
    ++position_;
    --depth_;
    return Ok();
  }

  Status ParseOr() {
    auto status = ParseAnd();
    if (!status) return status;
    for (;;) {
      SkipSpace();
      if (!AtText("||")) return Ok();
      position_ += 2;
      status = ParseAnd();
      if (!status) return status;
      Push(Kind::kOr);
    }
  }

  Status ParseAnd() {
    auto status = ParseUnary();
    if (!status) return status;
    for (;;) {
      SkipSpace();
      if (!AtText("&&")) return Ok();
      position_ += 2;
      status = ParseUnary();
      if (!status) return status;
      Push(Kind::kAnd);
    }
  }

  Status ParseUnary() {
    SkipSpace();
    if (At('!') && !AtText("!=")) {
      ++position_;
      SkipSpace();
      if (!At('(')) {
        return Fail("'!' must be followed by a condition in parentheses",
                    position_);
      }
      auto status = ParseParenthesised();
      if (!status) return status;
      Push(Kind::kNot);
      return Ok();
    }
    if (At('(')) return ParseParenthesised();
    return ParseTerm();
  }

  // A word of attribute-name characters (without %-escapes) at the current
  // position; empty when none.
  std::string_view PeekWord() const {
    size_t end = position_;
    while (end < text_.size() &&
           (IsPlainNameChar(text_[end]) || text_[end] == '%')) {
      ++end;
    }
    return text_.substr(position_, end - position_);
  }

  const Keyword* MatchKeyword(std::string_view word) const {
    for (const Keyword& keyword : kKeywords) {
      if (EqualsIgnoreCase(word, keyword.text)) return &keyword;
    }
    return nullptr;
  }

  Status ParseTerm() {
    SkipSpace();
    const size_t start = position_;
    const std::string_view word = PeekWord();
    if (const Keyword* keyword = MatchKeyword(word)) {
      position_ += word.size();
      if (IsMembershipKind(keyword->kind)) {
        auto operand = ParseValue(/*allow_attribute=*/false);
        if (!operand) return tl::unexpected(operand.error());
        tokens_.push_back(std::move(*operand));
        Push(keyword->kind);
        return Ok();
      }
      if (IsExistsKind(keyword->kind)) {
        SkipSpace();
        auto attribute = ParseAttribute(/*allow_local=*/true);
        if (!attribute) return tl::unexpected(attribute.error());
        tokens_.push_back(std::move(*attribute));
        Push(keyword->kind);
        return Ok();
      }
      return Fail(Quote(word) + " needs an attribute on its left", start);
    }
    if (position_ >= text_.size() || (!At('@') && word.empty())) {
      return Fail("expected an attribute, Member_of, Exists, '!' or '(' but "
                  "found " +
                      Found(),
                  position_);
    }
    auto left = ParseAttribute(/*allow_local=*/true);
    if (!left) return tl::unexpected(left.error());
    tokens_.push_back(std::move(*left));
    SkipSpace();
    std::optional<Kind> op;
    for (const Symbol& symbol : kSymbols) {
      if (AtText(symbol.text)) {
        op = symbol.kind;
        position_ += std::string_view(symbol.text).size();
        break;
      }
    }
    if (!op) {
      const std::string_view next = PeekWord();
      const Keyword* keyword = MatchKeyword(next);
      if (keyword && IsRelationalKind(keyword->kind)) {
        op = keyword->kind;
        position_ += next.size();
      } else if (!next.empty()) {
        return Fail("unknown operator " + Quote(next), position_);
      }
    }
    if (!op) return Ok();  // an attribute read as a logical value
    auto right = ParseValue(/*allow_attribute=*/true);
    if (!right) return tl::unexpected(right.error());
    tokens_.push_back(std::move(*right));
    Push(*op);
    return Ok();
  }

  // "@User.name", "@Device.name", "@Resource.name" or a local name.
  Result<ConditionalToken> ParseAttribute(bool allow_local) {
    const size_t start = position_;
    ConditionalToken token;
    token.kind = Kind::kLocalAttribute;
    if (At('@')) {
      bool matched = false;
      for (const Prefix& prefix : kPrefixes) {
        const std::string_view text = prefix.text;
        if (EqualsIgnoreCase(text_.substr(position_, text.size()), text)) {
          token.kind = prefix.kind;
          position_ += text.size();
          matched = true;
          break;
        }
      }
      if (!matched) {
        return Fail("an attribute starts @User., @Device. or @Resource.",
                    start);
      }
    } else if (!allow_local) {
      return Fail("a local attribute may only stand on the left", start);
    }
    std::u16string units;
    const size_t name_start = position_;
    const bool prefixed = token.kind != Kind::kLocalAttribute;
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (static_cast<unsigned char>(c) >= 0x80 && prefixed) {
        // A UTF-8 sequence: take every continuation byte with it.
        size_t end = position_ + 1;
        while (end < text_.size() &&
               (static_cast<unsigned char>(text_[end]) & 0xc0) == 0x80) {
          ++end;
        }
        std::u16string piece;
        if (!Utf8ToUtf16(text_.substr(position_, end - position_), piece)) {
          return Fail("the name is not valid UTF-8", position_);
        }
        units += piece;
        position_ = end;
      } else if (prefixed ? IsPrefixedNameChar(c) : IsPlainNameChar(c)) {
        units.push_back(static_cast<char16_t>(c));
        ++position_;
      } else if (c == '%') {
        unsigned value = 0;
        for (size_t k = 1; k <= 4; ++k) {
          const int digit = position_ + k < text_.size()
                                ? HexValue(text_[position_ + k])
                                : -1;
          if (digit < 0) {
            return Fail("'%' in a name takes four hex digits",
                        std::min(position_ + k, text_.size()));
          }
          value = value * 16 + static_cast<unsigned>(digit);
        }
        if (value == 0) {
          return Fail("a name cannot hold %0000", position_);
        }
        units.push_back(static_cast<char16_t>(value));
        position_ += 5;
      } else {
        break;
      }
    }
    if (units.empty()) {
      return Fail("expected an attribute name but found " + Found(),
                  name_start);
    }
    if (!Utf16ToUtf8(units, token.text)) {
      return Fail("the name holds an unpaired UTF-16 surrogate", name_start);
    }
    return token;
  }

  // A right-hand operand or a Member_of operand: a literal, a composite, an
  // attribute (when allowed), optionally in parentheses.
  Result<ConditionalToken> ParseValue(bool allow_attribute) {
    SkipSpace();
    if (At('(')) {
      const size_t open = position_;
      if (++depth_ > kMaxDepth) {
        return Fail("the condition nests too deeply", position_);
      }
      ++position_;
      auto inner = ParseValue(allow_attribute);
      if (!inner) return inner;
      SkipSpace();
      if (!At(')')) {
        return Fail("expected ')' to close the '(' at column " +
                        std::to_string(open + 1) + " but found " + Found(),
                    position_);
      }
      ++position_;
      --depth_;
      return inner;
    }
    if (At('{')) return ParseComposite();
    if (At('@')) {
      if (!allow_attribute) {
        return Fail("expected SID(...) or {SID(...), ...}", position_);
      }
      return ParseAttribute(/*allow_local=*/false);
    }
    if (position_ < text_.size() && !At('"') && !At('#') && !At('+') &&
        !At('-') && !IsDigit(text_[position_]) && !AtSidLiteral()) {
      const std::string_view word = PeekWord();
      if (!word.empty() && allow_attribute) {
        return Fail("a local attribute may only stand on the left",
                    position_);
      }
    }
    return ParseLiteral();
  }

  bool AtSidLiteral() const {
    size_t end = position_ + 3;
    if (!EqualsIgnoreCase(text_.substr(position_, 3), "SID")) return false;
    while (end < text_.size() && IsSpace(text_[end])) ++end;
    return end < text_.size() && text_[end] == '(';
  }

  Result<ConditionalToken> ParseComposite() {
    const size_t open = position_;
    ++position_;  // '{'
    ConditionalToken token;
    token.kind = Kind::kComposite;
    SkipSpace();
    if (At('}')) {
      ++position_;
      return token;
    }
    for (;;) {
      SkipSpace();
      auto element = ParseLiteral();
      if (!element) return element;
      token.elements.push_back(std::move(*element));
      SkipSpace();
      if (At(',')) {
        ++position_;
        continue;
      }
      if (At('}')) {
        ++position_;
        return token;
      }
      return Fail("expected ',' or '}' to go on with the '{' at column " +
                      std::to_string(open + 1) + " but found " + Found(),
                  position_);
    }
  }

  Result<ConditionalToken> ParseLiteral() {
    SkipSpace();
    const size_t start = position_;
    if (position_ >= text_.size()) {
      return Fail("expected a value but found the end", start);
    }
    const char c = text_[position_];
    if (c == '"') return ParseString();
    if (c == '#') return ParseOctets();
    if (c == '+' || c == '-' || IsDigit(c)) return ParseInteger();
    if (AtSidLiteral()) return ParseSid();
    if (c == '{') {
      return Fail("a composite cannot hold another composite", start);
    }
    return Fail("expected a value (number, \"string\", SID(...), #octets) "
                "but found " +
                    Found(),
                start);
  }

  Result<ConditionalToken> ParseString() {
    const size_t start = position_;
    const size_t end = text_.find('"', position_ + 1);
    if (end == std::string_view::npos) {
      return Fail("unterminated string", start);
    }
    ConditionalToken token;
    token.kind = Kind::kString;
    token.text = std::string(text_.substr(start + 1, end - start - 1));
    std::u16string units;
    if (!Utf8ToUtf16(token.text, units) ||
        token.text.find('\0') != std::string::npos) {
      return Fail("the string is not valid UTF-8 text", start + 1);
    }
    position_ = end + 1;
    return token;
  }

  Result<ConditionalToken> ParseOctets() {
    ++position_;  // '#'
    std::string digits;
    while (position_ < text_.size()) {
      const char c = text_[position_];
      if (c == '#') {
        digits += '0';  // Windows reads a further '#' as a zero digit
      } else if (HexValue(c) >= 0) {
        digits += c;
      } else {
        break;
      }
      ++position_;
    }
    if (digits.size() % 2 != 0) digits.insert(digits.begin(), '0');
    ConditionalToken token;
    token.kind = Kind::kOctetString;
    for (size_t i = 0; i < digits.size(); i += 2) {
      token.octets.push_back(static_cast<uint8_t>(HexValue(digits[i]) * 16 +
                                                  HexValue(digits[i + 1])));
    }
    if (position_ < text_.size() && IsPlainNameChar(text_[position_])) {
      return Fail("unexpected " + Quote(text_.substr(position_, 1)) +
                      " in the octet string",
                  position_);
    }
    return token;
  }

  Result<ConditionalToken> ParseInteger() {
    const size_t start = position_;
    ConditionalToken token;
    token.kind = Kind::kInt64;
    if (At('+') || At('-')) {
      token.sign = At('-') ? conditional_sign::kNegative
                           : conditional_sign::kPositive;
      ++position_;
    }
    const size_t digits_start = position_;
    unsigned radix = 10;
    if (AtText("0x") || AtText("0X")) {
      radix = 16;
      token.base = conditional_base::kHexadecimal;
      position_ += 2;
    } else if (At('0') && position_ + 1 < text_.size() &&
               IsDigit(text_[position_ + 1])) {
      radix = 8;
      token.base = conditional_base::kOctal;
      ++position_;
    }
    const size_t value_start = position_;
    uint64_t value = 0;
    while (position_ < text_.size() && IsPlainNameChar(text_[position_])) {
      const int digit = HexValue(text_[position_]);
      if (digit < 0 || static_cast<unsigned>(digit) >= radix) {
        return Fail("unexpected " + Quote(text_.substr(position_, 1)) +
                        " in the number",
                    position_);
      }
      if (value > (UINT64_MAX - static_cast<unsigned>(digit)) / radix) {
        return Fail("the number " +
                        Quote(text_.substr(start, position_ + 1 - start)) +
                        "... exceeds 64 bits",
                    start);
      }
      value = value * radix + static_cast<unsigned>(digit);
      ++position_;
    }
    if (position_ == value_start) {
      return Fail("expected digits", digits_start);
    }
    token.integer = static_cast<int64_t>(
        token.sign == conditional_sign::kNegative ? uint64_t{0} - value
                                                  : value);
    return token;
  }

  Result<ConditionalToken> ParseSid() {
    position_ += 3;  // "SID"
    SkipSpace();
    ++position_;  // '('
    SkipSpace();
    const size_t start = position_;
    const size_t close = text_.find(')', position_);
    if (close == std::string_view::npos) {
      return Fail("unterminated SID(", start);
    }
    std::string_view inside = text_.substr(start, close - start);
    while (!inside.empty() && IsSpace(inside.back())) inside.remove_suffix(1);
    if (inside.empty()) return Fail("expected a SID inside SID()", start);
    const bool numeric = inside.size() >= 2 &&
                         (inside[0] == 'S' || inside[0] == 's') &&
                         inside[1] == '-';
    if (!numeric && inside.size() != 2) {
      return Fail("unknown SID alias " + Quote(inside) + " in SID()", start);
    }
    auto sid = ParseSidOrAlias(inside, domain_);
    if (!sid) {
      const int column = sid.error().column > 0 ? sid.error().column - 1 : 0;
      return Fail("bad SID " + Quote(inside) + ": " + sid.error().message,
                  start + static_cast<size_t>(column));
    }
    ConditionalToken token;
    token.kind = Kind::kSid;
    token.sid = *sid;
    position_ = close + 1;
    return token;
  }

  void Push(Kind kind) {
    ConditionalToken token;
    token.kind = kind;
    tokens_.push_back(std::move(token));
  }

  static constexpr int kMaxDepth = 256;
  std::string_view text_;
  const Sid* domain_;
  size_t position_ = 0;
  int depth_ = 0;
  std::vector<ConditionalToken> tokens_;
};

// ---------------------------------------------------------------------------
// Binary

Status AppendText(std::vector<uint8_t>& out, std::string_view text) {
  std::u16string units;
  if (!Utf8ToUtf16(text, units)) {
    return InvalidArgument("text " + QuoteForDisplay(text) +
                           " is not valid UTF-8");
  }
  if (units.size() > 0x7fffffff) return InvalidArgument("text too long");
  AppendU32(out, static_cast<uint32_t>(units.size() * 2));
  AppendUtf16Le(units, out);
  return Ok();
}

Status AppendToken(std::vector<uint8_t>& out, const ConditionalToken& token) {
  if (IsIntegerKind(token.kind)) {
    out.push_back(static_cast<uint8_t>(token.kind));
    AppendU64(out, static_cast<uint64_t>(token.integer));
    out.push_back(token.sign);
    out.push_back(token.base);
    return Ok();
  }
  out.push_back(static_cast<uint8_t>(token.kind));
  switch (token.kind) {
    case Kind::kString:
    case Kind::kLocalAttribute:
    case Kind::kUserAttribute:
    case Kind::kResourceAttribute:
    case Kind::kDeviceAttribute:
      return AppendText(out, token.text);
    case Kind::kOctetString:
      AppendU32(out, static_cast<uint32_t>(token.octets.size()));
      out.insert(out.end(), token.octets.begin(), token.octets.end());
      return Ok();
    case Kind::kSid:
      AppendU32(out, static_cast<uint32_t>(token.sid.BinarySize()));
      token.sid.AppendBinary(out);
      return Ok();
    case Kind::kComposite: {
      const size_t length_at = out.size();
      AppendU32(out, 0);
      for (const ConditionalToken& element : token.elements) {
        auto status = AppendToken(out, element);
        if (!status) return status;
      }
      PatchU32(out, length_at,
               static_cast<uint32_t>(out.size() - length_at - 4));
      return Ok();
    }
    default:
      return Ok();  // operators are one byte
  }
}

class BinaryDecoder {
 public:
  explicit BinaryDecoder(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  Result<ConditionalExpression> Decode() {
    if (bytes_.size() < 4 || !HasConditionalSignature(bytes_)) {
      return InvalidArgument("conditional expression: no \"artx\" signature");
    }
    ConditionalExpression expr;
    size_t offset = 4;
    while (offset < bytes_.size()) {
      if (bytes_[offset] == 0) {
        for (size_t i = offset; i < bytes_.size(); ++i) {
          if (bytes_[i] != 0) {
            return InvalidArgument("conditional expression: byte " +
                                   std::to_string(i) +
                                   " is not zero padding after the tokens");
          }
        }
        break;
      }
      auto token = DecodeToken(offset, bytes_.size(), /*depth=*/0);
      if (!token) return tl::unexpected(token.error());
      expr.tokens.push_back(std::move(*token));
    }
    if (expr.tokens.empty()) {
      return InvalidArgument("conditional expression: no tokens");
    }
    auto shape = CheckShape(expr.tokens);
    if (!shape) {
      return InvalidArgument("conditional expression: " +
                             shape.error().message);
    }
    return expr;
  }

 private:
  Result<ConditionalToken> DecodeToken(size_t& offset, size_t end,
                                       int depth) {
    const size_t at = offset;
    const std::string where =
        "conditional expression: token at offset " + std::to_string(at) + ": ";
    const uint8_t byte = bytes_[offset++];
    if (!IsKnownKind(byte)) {
      return InvalidArgument(where + "unknown token byte " + FormatHex(byte));
    }
    ConditionalToken token;
    token.kind = static_cast<Kind>(byte);
    if (IsIntegerKind(token.kind)) {
      if (end - offset < 10) return InvalidArgument(where + "truncated");
      token.integer = static_cast<int64_t>(ReadU64At(bytes_, offset));
      token.sign = bytes_[offset + 8];
      token.base = bytes_[offset + 9];
      offset += 10;
      if (token.sign < 1 || token.sign > 3 || token.base < 1 ||
          token.base > 3) {
        return InvalidArgument(where + "bad integer sign or base");
      }
      return token;
    }
    const bool has_length = IsLiteralKind(token.kind) ||
                            IsAttributeKind(token.kind);
    if (!has_length) return token;
    if (end - offset < 4) return InvalidArgument(where + "truncated length");
    const uint32_t length = ReadU32At(bytes_, offset);
    offset += 4;
    if (length > end - offset) {
      return InvalidArgument(where + "length " + std::to_string(length) +
                             " runs past the expression");
    }
    const std::span<const uint8_t> body = bytes_.subspan(offset, length);
    const size_t body_end = offset + length;
    switch (token.kind) {
      case Kind::kOctetString:
        token.octets.assign(body.begin(), body.end());
        break;
      case Kind::kSid: {
        size_t consumed = 0;
        auto sid = Sid::FromBinary(body, &consumed);
        if (!sid) return InvalidArgument(where + sid.error().message);
        if (consumed != length) {
          return InvalidArgument(where + "SID length " +
                                 std::to_string(length) +
                                 " does not match the SID");
        }
        token.sid = *sid;
        break;
      }
      case Kind::kComposite: {
        if (depth > 0) {
          return InvalidArgument(where + "a composite inside a composite");
        }
        size_t inner = offset;
        while (inner < body_end) {
          auto element = DecodeToken(inner, body_end, depth + 1);
          if (!element) return element;
          if (!IsLiteralKind(element->kind)) {
            return InvalidArgument(where + "a composite holds literals only");
          }
          token.elements.push_back(std::move(*element));
        }
        break;
      }
      default: {  // strings and attribute names
        if (!Utf16LeToUtf8(body, token.text)) {
          return InvalidArgument(where + "malformed UTF-16 text");
        }
        if (token.text.find('\0') != std::string::npos) {
          return InvalidArgument(where + "text holds a NUL");
        }
        if (IsAttributeKind(token.kind) && token.text.empty()) {
          return InvalidArgument(where + "empty attribute name");
        }
        break;
      }
    }
    offset = body_end;
    return token;
  }

  std::span<const uint8_t> bytes_;
};

// ---------------------------------------------------------------------------
// Evaluation

// A stack item during evaluation.
struct Operand {
  enum class Type { kLogical, kNull, kValues };
  Type type = Type::kNull;
  Tristate logical = Tristate::kUnknown;
  std::vector<ClaimValue> values;
  bool case_sensitive = false;
  bool is_attribute = false;
  std::string text;  // how it reads in a reason: "@USER.Title"
};

ClaimValue LiteralValue(const ConditionalToken& token) {
  if (IsIntegerKind(token.kind)) return token.integer;
  switch (token.kind) {
    case Kind::kString:
      return token.text;
    case Kind::kSid:
      return token.sid;
    default:
      return token.octets;
  }
}

std::string DescribeValues(const Operand& operand) {
  if (operand.type == Operand::Type::kNull) return "absent";
  std::string out;
  if (operand.values.size() != 1) out += '{';
  for (size_t i = 0; i < operand.values.size(); ++i) {
    if (i > 0) out += ", ";
    out += FormatClaimValue(operand.values[i]);
  }
  if (operand.values.size() != 1) out += '}';
  return out;
}

// A number as sign and magnitude (int64, uint64 and boolean values all
// fit), or nullopt for non-numbers. `negative` implies magnitude > 0.
struct Number {
  bool negative = false;
  uint64_t magnitude = 0;
};

std::optional<Number> AsNumber(const ClaimValue& value) {
  if (const auto* v = std::get_if<int64_t>(&value)) {
    if (*v < 0) return Number{true, uint64_t{0} - static_cast<uint64_t>(*v)};
    return Number{false, static_cast<uint64_t>(*v)};
  }
  if (const auto* v = std::get_if<uint64_t>(&value)) return Number{false, *v};
  if (const auto* v = std::get_if<bool>(&value)) {
    return Number{false, *v ? 1u : 0u};
  }
  return std::nullopt;
}

int CompareNumbers(const Number& a, const Number& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  if (a.magnitude == b.magnitude) return 0;
  const bool less = a.magnitude < b.magnitude;
  return (less != a.negative) ? -1 : 1;
}

// -1/0/1, or nullopt when the values do not compare. `ordered` is set when
// < and > mean something for them (numbers and strings).
std::optional<int> Compare(const ClaimValue& a, const ClaimValue& b,
                           bool case_sensitive, bool* ordered) {
  *ordered = false;
  auto na = AsNumber(a);
  auto nb = AsNumber(b);
  if (na && nb) {
    *ordered = true;
    return CompareNumbers(*na, *nb);
  }
  if (na || nb) return std::nullopt;
  if (a.index() != b.index()) return std::nullopt;
  if (const auto* sa = std::get_if<std::string>(&a)) {
    *ordered = true;
    const std::string& sb = std::get<std::string>(b);
    const int c = case_sensitive ? sa->compare(sb)
                                 : AsciiLower(*sa).compare(AsciiLower(sb));
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (const auto* sa = std::get_if<Sid>(&a)) {
    return *sa == std::get<Sid>(b) ? 0 : 1;
  }
  const auto& oa = std::get<std::vector<uint8_t>>(a);
  const auto& ob = std::get<std::vector<uint8_t>>(b);
  return oa == ob ? 0 : 1;
}

bool Holds(const std::vector<ClaimValue>& set, const ClaimValue& value,
           bool case_sensitive) {
  for (const ClaimValue& member : set) {
    bool ordered = false;
    auto c = Compare(member, value, case_sensitive, &ordered);
    if (c && *c == 0) return true;
  }
  return false;
}

Tristate Negate(Tristate value) {
  if (value == Tristate::kTrue) return Tristate::kFalse;
  if (value == Tristate::kFalse) return Tristate::kTrue;
  return Tristate::kUnknown;
}

Tristate FromBool(bool value) {
  return value ? Tristate::kTrue : Tristate::kFalse;
}

Tristate ToLogical(const Operand& operand) {
  if (operand.type == Operand::Type::kLogical) return operand.logical;
  if (operand.type == Operand::Type::kNull || operand.values.size() != 1) {
    return Tristate::kUnknown;
  }
  const ClaimValue& value = operand.values[0];
  if (auto number = AsNumber(value)) return FromBool(number->magnitude != 0);
  if (const auto* s = std::get_if<std::string>(&value)) {
    return FromBool(!s->empty());
  }
  if (const auto* o = std::get_if<std::vector<uint8_t>>(&value)) {
    return FromBool(!o->empty());
  }
  return Tristate::kUnknown;
}

const Claim* FindClaim(const std::vector<Claim>* claims, std::string_view name,
                       bool for_deny) {
  if (!claims) return nullptr;
  for (const Claim& claim : *claims) {
    if (!EqualsIgnoreCase(claim.name, name)) continue;
    if (claim.flags & claim_flags::kDisabled) return nullptr;
    if ((claim.flags & claim_flags::kUseForDenyOnly) && !for_deny) {
      return nullptr;
    }
    return &claim;
  }
  return nullptr;
}

class Evaluator {
 public:
  explicit Evaluator(const ConditionalContext& context) : context_(context) {}

  ConditionalEvaluation Run(const ConditionalExpression& expr) {
    ConditionalEvaluation evaluation;
    if (auto shape = CheckShape(expr.tokens); !shape) {
      evaluation.reasons.push_back("malformed condition (" +
                                   shape.error().message + "): UNKNOWN");
      return evaluation;
    }
    for (const ConditionalToken& token : expr.tokens) Step(token);
    evaluation.result = ToLogical(stack_.back());
    if (stack_.back().type != Operand::Type::kLogical) {
      reasons_.push_back(stack_.back().text + " is " +
                         DescribeValues(stack_.back()) + ": " +
                         std::string(TristateName(evaluation.result)));
    }
    evaluation.reasons = std::move(reasons_);
    return evaluation;
  }

 private:
  Operand Pop() {
    Operand operand = std::move(stack_.back());
    stack_.pop_back();
    return operand;
  }

  void PushLogical(Tristate value) {
    Operand operand;
    operand.type = Operand::Type::kLogical;
    operand.logical = value;
    stack_.push_back(std::move(operand));
  }

  Operand Attribute(const ConditionalToken& token) {
    Operand operand;
    operand.is_attribute = true;
    AppendOperand(operand.text, token);
    const std::vector<Claim>* claims = nullptr;
    switch (token.kind) {
      case Kind::kUserAttribute:
        claims = context_.user_claims;
        break;
      case Kind::kDeviceAttribute:
        claims = context_.device_claims;
        break;
      case Kind::kResourceAttribute:
        claims = context_.resource_attributes;
        break;
      default:
        claims = context_.local_attributes;
        break;
    }
    const Claim* claim = FindClaim(claims, token.text, context_.for_deny);
    if (claim && !claim->values.empty()) {
      operand.type = Operand::Type::kValues;
      operand.values = claim->values;
      operand.case_sensitive = claim->flags & claim_flags::kCaseSensitive;
    }
    return operand;
  }

  void Step(const ConditionalToken& token) {
    const Kind kind = token.kind;
    if (IsLiteralKind(kind)) {
      Operand operand;
      operand.type = Operand::Type::kValues;
      AppendOperand(operand.text, token);
      if (kind == Kind::kComposite) {
        for (const ConditionalToken& element : token.elements) {
          operand.values.push_back(LiteralValue(element));
        }
      } else {
        operand.values.push_back(LiteralValue(token));
      }
      stack_.push_back(std::move(operand));
      return;
    }
    if (IsAttributeKind(kind)) {
      stack_.push_back(Attribute(token));
      return;
    }
    if (IsRelationalKind(kind)) {
      Operand right = Pop();
      Operand left = Pop();
      const Tristate result = Relational(kind, left, right);
      std::string reason = left.text + " is " + DescribeValues(left) +
                           ", expected " + std::string(OperatorText(kind)) +
                           " ";
      reason += right.is_attribute
                    ? right.text + " (" + DescribeValues(right) + ")"
                    : right.text;
      reasons_.push_back(reason + ": " + std::string(TristateName(result)));
      PushLogical(result);
      return;
    }
    if (IsExistsKind(kind)) {
      Operand operand = Pop();
      const bool present = operand.type != Operand::Type::kNull;
      const Tristate result =
          kind == Kind::kExists ? FromBool(present) : FromBool(!present);
      reasons_.push_back(std::string(OperatorText(kind)) + " " +
                         operand.text + ": " +
                         (present ? "present" : "absent") + ": " +
                         std::string(TristateName(result)));
      PushLogical(result);
      return;
    }
    if (IsMembershipKind(kind)) {
      Operand operand = Pop();
      const Tristate result = Membership(kind, operand);
      reasons_.push_back(std::string(OperatorText(kind)) + " " +
                         operand.text + ": " +
                         std::string(TristateName(result)));
      PushLogical(result);
      return;
    }
    if (kind == Kind::kNot) {
      const Tristate value = ToLogical(Pop());
      PushLogical(Negate(value));
      return;
    }
    const Tristate right = ToLogical(Pop());
    const Tristate left = ToLogical(Pop());
    if (kind == Kind::kAnd) {
      if (left == Tristate::kFalse || right == Tristate::kFalse) {
        PushLogical(Tristate::kFalse);
      } else if (left == Tristate::kTrue && right == Tristate::kTrue) {
        PushLogical(Tristate::kTrue);
      } else {
        PushLogical(Tristate::kUnknown);
      }
      return;
    }
    if (left == Tristate::kTrue || right == Tristate::kTrue) {
      PushLogical(Tristate::kTrue);
    } else if (left == Tristate::kFalse && right == Tristate::kFalse) {
      PushLogical(Tristate::kFalse);
    } else {
      PushLogical(Tristate::kUnknown);
    }
  }

  Tristate Relational(Kind kind, const Operand& left, const Operand& right) {
    if (left.type != Operand::Type::kValues ||
        right.type != Operand::Type::kValues) {
      return Tristate::kUnknown;
    }
    const bool case_sensitive = left.case_sensitive || right.case_sensitive;
    switch (kind) {
      case Kind::kEqual:
      case Kind::kNotEqual: {
        Tristate equal;
        if (left.values.size() == 1 && right.values.size() == 1) {
          bool ordered = false;
          auto c = Compare(left.values[0], right.values[0], case_sensitive,
                           &ordered);
          if (!c) return Tristate::kUnknown;
          equal = FromBool(*c == 0);
        } else {
          bool same = true;
          for (const ClaimValue& v : left.values) {
            same = same && Holds(right.values, v, case_sensitive);
          }
          for (const ClaimValue& v : right.values) {
            same = same && Holds(left.values, v, case_sensitive);
          }
          equal = FromBool(same);
        }
        return kind == Kind::kEqual ? equal : Negate(equal);
      }
      case Kind::kLess:
      case Kind::kLessOrEqual:
      case Kind::kGreater:
      case Kind::kGreaterOrEqual: {
        if (left.values.size() != 1 || right.values.size() != 1) {
          return Tristate::kUnknown;
        }
        bool ordered = false;
        auto c =
            Compare(left.values[0], right.values[0], case_sensitive, &ordered);
        if (!c || !ordered) return Tristate::kUnknown;
        if (kind == Kind::kLess) return FromBool(*c < 0);
        if (kind == Kind::kLessOrEqual) return FromBool(*c <= 0);
        if (kind == Kind::kGreater) return FromBool(*c > 0);
        return FromBool(*c >= 0);
      }
      case Kind::kContains:
      case Kind::kNotContains: {
        bool all = true;
        for (const ClaimValue& v : right.values) {
          all = all && Holds(left.values, v, case_sensitive);
        }
        return kind == Kind::kContains ? FromBool(all) : FromBool(!all);
      }
      default: {  // Any_of, Not_Any_of
        bool any = false;
        for (const ClaimValue& v : right.values) {
          any = any || Holds(left.values, v, case_sensitive);
        }
        return kind == Kind::kAnyOf ? FromBool(any) : FromBool(!any);
      }
    }
  }

  Tristate Membership(Kind kind, const Operand& operand) {
    const bool device =
        kind == Kind::kDeviceMemberOf || kind == Kind::kDeviceMemberOfAny ||
        kind == Kind::kNotDeviceMemberOf ||
        kind == Kind::kNotDeviceMemberOfAny;
    const bool any = kind == Kind::kMemberOfAny ||
                     kind == Kind::kDeviceMemberOfAny ||
                     kind == Kind::kNotMemberOfAny ||
                     kind == Kind::kNotDeviceMemberOfAny;
    const bool negated = kind >= Kind::kNotMemberOf;
    if (device && !context_.has_device) return Tristate::kUnknown;
    const std::vector<Sid>& held =
        device ? context_.device_sids : context_.member_sids;
    bool all_held = true;
    bool some_held = false;
    for (const ClaimValue& value : operand.values) {
      const Sid* sid = std::get_if<Sid>(&value);
      if (!sid) return Tristate::kUnknown;
      bool found = false;
      for (const Sid& candidate : held) found = found || candidate == *sid;
      all_held = all_held && found;
      some_held = some_held || found;
    }
    const bool result = any ? some_held : all_held;
    return FromBool(negated ? !result : result);
  }

  const ConditionalContext& context_;
  std::vector<Operand> stack_;
  std::vector<std::string> reasons_;
};

}  // namespace

bool HasConditionalSignature(std::span<const uint8_t> application_data) {
  return application_data.size() >= 4 &&
         application_data[0] == kConditionalSignature[0] &&
         application_data[1] == kConditionalSignature[1] &&
         application_data[2] == kConditionalSignature[2] &&
         application_data[3] == kConditionalSignature[3];
}

Result<ConditionalExpression> ParseConditionalExpression(
    std::string_view text, const Sid* domain) {
  TextParser parser(text, domain);
  return parser.Parse();
}

std::string FormatConditionalExpression(const ConditionalExpression& expr,
                                        const Sid* domain) {
  std::vector<Formatted> stack;
  for (const ConditionalToken& token : expr.tokens) {
    const Kind kind = token.kind;
    if (IsLiteralKind(kind) || IsAttributeKind(kind)) {
      Formatted item;
      AppendOperand(item.text, token, domain);
      stack.push_back(std::move(item));
      continue;
    }
    const bool binary =
        IsRelationalKind(kind) || kind == Kind::kAnd || kind == Kind::kOr;
    if (stack.size() < (binary ? 2u : 1u)) {
      Formatted item;
      item.text = OperatorText(kind);
      stack.push_back(std::move(item));
      continue;
    }
    Formatted result;
    result.logical = true;
    if (binary) {
      Formatted right = std::move(stack.back());
      stack.pop_back();
      Formatted left = std::move(stack.back());
      stack.pop_back();
      if (IsRelationalKind(kind)) {
        result.text = "(" + left.text + " " + std::string(OperatorText(kind)) +
                      " " + right.text + ")";
      } else {
        result.text = "(" + AsLogical(left) + " " +
                      std::string(OperatorText(kind)) + " " +
                      AsLogical(right) + ")";
      }
    } else {
      Formatted operand = std::move(stack.back());
      stack.pop_back();
      if (kind == Kind::kNot) {
        result.text = "(!" + AsLogical(operand) + ")";
      } else {
        result.text = "(" + std::string(OperatorText(kind)) + " " +
                      operand.text + ")";
      }
    }
    stack.push_back(std::move(result));
  }
  std::string out;
  for (size_t i = 0; i < stack.size(); ++i) {
    if (i > 0) out += ' ';
    out += AsLogical(stack[i]);
  }
  if (stack.empty()) out = "()";
  return out;
}

Result<std::vector<uint8_t>> EncodeConditionalExpression(
    const ConditionalExpression& expr) {
  std::vector<uint8_t> out(std::begin(kConditionalSignature),
                           std::end(kConditionalSignature));
  for (const ConditionalToken& token : expr.tokens) {
    auto status = AppendToken(out, token);
    if (!status) return tl::unexpected(status.error());
  }
  while (out.size() % 4 != 0) out.push_back(0);
  return out;
}

Result<ConditionalExpression> DecodeConditionalExpression(
    std::span<const uint8_t> bytes) {
  BinaryDecoder decoder(bytes);
  return decoder.Decode();
}

std::string_view TristateName(Tristate value) {
  switch (value) {
    case Tristate::kTrue:
      return "TRUE";
    case Tristate::kFalse:
      return "FALSE";
    case Tristate::kUnknown:
      break;
  }
  return "UNKNOWN";
}

ConditionalEvaluation EvaluateConditionalExpression(
    const ConditionalExpression& expr, const ConditionalContext& context) {
  Evaluator evaluator(context);
  return evaluator.Run(expr);
}

}  // namespace tokenfs
