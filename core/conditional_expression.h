// ConditionalExpression: the condition of a callback ACE (XA, XD, ZA, XU and
// the object forms), as MS-DTYP defines it in three forms:
//   - SDDL text (MS-DTYP 2.5.1.1), e.g. (@User.Title == "PM" && Member_of
//     {SID(BA)});
//   - the binary form (MS-DTYP 2.4.4.17): the signature "artx", then tokens in
//     postfix order, padded with zero bytes to a multiple of 4;
//   - canonical text exactly as Windows prints it: every sub-expression in
//     parentheses ("((@USER.A) && (@DEVICE.B))"), one space around binary
//     operators, attribute prefixes upper-case (@USER. @DEVICE. @RESOURCE.),
//     operator keywords in Windows' spelling (Member_of, Member_of_any,
//     Not_Device_Member_of_any, Any_of, ...), SIDs as their alias when one
//     exists, composites as "{a, b}", octet strings as "#0102", integers in
//     the base and with the sign they were written with.
//
// The expression is held as its token sequence in postfix order, which is
// the tree in the order the binary form stores it: each operator follows its
// operands. A valid expression reduces to exactly one logical value.
//
// Text accepted (Windows' leniency, learned from its behaviour):
//   - keywords, attribute prefixes and SID(...) are case-insensitive;
//   - "&&" binds tighter than "||", both associate to the left; "!" must be
//     followed by a parenthesised expression ("!(a)", not "! a");
//   - Member_of and friends take SID(x) or {SID(x), ...}, optionally in extra
//     parentheses; a lone SID stays a lone SID token, braces make a composite;
//   - integers: optional + or -, then 0x hex, 0 octal or decimal, magnitude at
//     most 2^64-1 (stored in the int64 field as two's complement); always
//     written as an INT64 token, with the sign (+, -, none) and base kept;
//   - strings in double quotes (no escapes; a string cannot hold '"');
//   - octet strings '#' then hex digits, where a further '#' stands for '0'
//     and an odd count gets a leading 0 ("#1#2#3##" is #01020300);
//   - attribute names: letters, digits and : . / _ plus %XXXX (four hex digits,
//     one UTF-16 code unit); a local attribute (no @ prefix) may only stand on
//     the left of an operator;
//   - whitespace (space, tab, CR, LF) between tokens.
// Errors are kInvalidArgument naming the problem and ending "at column N"
// (1-based, counted in the text given), with `column` set to N.
//
// Binary decoding accepts INT8..INT64 tokens (0x01-0x04), checks every length
// against the bytes present, requires well-formed UTF-16 and SIDs, that
// operators find operands of the kinds they take, that the whole reduces to
// one logical value and that only zero bytes follow the last token.
//
// Evaluation is three-valued (MS-DTYP 2.4.4.17.4-8): TRUE, FALSE, UNKNOWN.
// An attribute that is absent (or a disabled claim, or a deny-only claim when
// the ACE is an allow ACE) is NULL; a comparison with NULL is UNKNOWN;
// Exists is never UNKNOWN; && || ! follow Kleene logic. Strings compare
// ASCII case-insensitively unless a claim involved is case-sensitive.
// Integers, unsigned integers and booleans compare as numbers; values of
// different kinds do not compare (UNKNOWN). ==/!= between multi-valued
// operands compare as sets; < <= > >= need single values. Contains: the
// left holds every right value; Any_of: the left holds at least one.
// Member_of: the token holds every SID (Member_of_any: at least one); the
// Device_ forms look at the device groups (UNKNOWN when the token has no
// device identity). An attribute used as a logical operand is TRUE when its
// single value is a non-zero number or a non-empty string or octet string,
// FALSE when zero or empty, and UNKNOWN otherwise.
//
// Thread-safety: plain values; functions are pure.
#ifndef TOKENFS_CORE_CONDITIONAL_EXPRESSION_H_
#define TOKENFS_CORE_CONDITIONAL_EXPRESSION_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/claims.h"
#include "core/result.h"
#include "core/sid.h"

namespace tokenfs {

// Token byte codes of the binary form (MS-DTYP 2.4.4.17.4-8).
enum class ConditionalTokenKind : uint8_t {
  kInt8 = 0x01,
  kInt16 = 0x02,
  kInt32 = 0x03,
  kInt64 = 0x04,
  kString = 0x10,
  kOctetString = 0x18,
  kComposite = 0x50,
  kSid = 0x51,
  kEqual = 0x80,
  kNotEqual = 0x81,
  kLess = 0x82,
  kLessOrEqual = 0x83,
  kGreater = 0x84,
  kGreaterOrEqual = 0x85,
  kContains = 0x86,
  kExists = 0x87,
  kAnyOf = 0x88,
  kMemberOf = 0x89,
  kDeviceMemberOf = 0x8a,
  kMemberOfAny = 0x8b,
  kDeviceMemberOfAny = 0x8c,
  kNotExists = 0x8d,
  kNotContains = 0x8e,
  kNotAnyOf = 0x8f,
  kNotMemberOf = 0x90,
  kNotDeviceMemberOf = 0x91,
  kNotMemberOfAny = 0x92,
  kNotDeviceMemberOfAny = 0x93,
  kAnd = 0xa0,
  kOr = 0xa1,
  kNot = 0xa2,
  kLocalAttribute = 0xf8,
  kUserAttribute = 0xf9,
  kResourceAttribute = 0xfa,
  kDeviceAttribute = 0xfb,
};

// Sign and base bytes of an integer token.
namespace conditional_sign {
inline constexpr uint8_t kPositive = 1;
inline constexpr uint8_t kNegative = 2;
inline constexpr uint8_t kNone = 3;
}  // namespace conditional_sign
namespace conditional_base {
inline constexpr uint8_t kOctal = 1;
inline constexpr uint8_t kDecimal = 2;
inline constexpr uint8_t kHexadecimal = 3;
}  // namespace conditional_base

struct ConditionalToken {
  ConditionalTokenKind kind = ConditionalTokenKind::kAnd;
  // Integers: the value (two's complement for magnitudes above INT64_MAX),
  // its sign and base bytes.
  int64_t integer = 0;
  uint8_t sign = conditional_sign::kNone;
  uint8_t base = conditional_base::kDecimal;
  // Strings and attribute names, as UTF-8.
  std::string text;
  std::vector<uint8_t> octets;
  Sid sid;
  // Composite elements (literals only).
  std::vector<ConditionalToken> elements;

  friend bool operator==(const ConditionalToken&,
                         const ConditionalToken&) = default;
};

struct ConditionalExpression {
  // Postfix order: operands before their operator.
  std::vector<ConditionalToken> tokens;
  friend bool operator==(const ConditionalExpression&,
                         const ConditionalExpression&) = default;
};

// "artx", the first four bytes of a conditional ACE's application data.
inline constexpr uint8_t kConditionalSignature[4] = {'a', 'r', 't', 'x'};

// True iff `application_data` starts with the "artx" signature.
bool HasConditionalSignature(std::span<const uint8_t> application_data);

// Parses one condition, written with its outer parentheses: "(...)".
// Leading and trailing whitespace is accepted.
// `domain` resolves domain-relative aliases in SID(...) (see
// core/well_known_sids.h).
Result<ConditionalExpression> ParseConditionalExpression(
    std::string_view text, const Sid* domain = nullptr);
// Canonical text, with the outer parentheses. Total: a token sequence that
// is not a valid expression prints its tokens as far as they reduce.
std::string FormatConditionalExpression(const ConditionalExpression& expr,
                                        const Sid* domain = nullptr);

// The binary form: "artx", tokens, zero padding to a multiple of 4.
// Fails with kInvalidArgument when a string or name is not valid UTF-8 or a
// length would not fit in 32 bits.
Result<std::vector<uint8_t>> EncodeConditionalExpression(
    const ConditionalExpression& expr);
// Decodes the application data of a callback ACE. Errors name the byte
// offset ("token at offset 9: string length 7 is odd").
Result<ConditionalExpression> DecodeConditionalExpression(
    std::span<const uint8_t> bytes);

enum class Tristate : uint8_t { kFalse, kTrue, kUnknown };
// "TRUE", "FALSE", "UNKNOWN".
std::string_view TristateName(Tristate value);

// What a condition is evaluated against. Pointers may be null (no claims of
// that kind). Claims are matched by name, ASCII case-insensitively.
struct ConditionalContext {
  const std::vector<Claim>* user_claims = nullptr;
  const std::vector<Claim>* device_claims = nullptr;
  const std::vector<Claim>* resource_attributes = nullptr;
  const std::vector<Claim>* local_attributes = nullptr;
  // The SIDs Member_of matches: the user and the enabled groups, plus the
  // deny-only ones when the ACE is a deny ACE.
  std::vector<Sid> member_sids;
  // The device groups; `has_device` false means the token has no device
  // identity and the Device_ operators are UNKNOWN.
  std::vector<Sid> device_sids;
  bool has_device = false;
  // True for a deny ACE's condition: deny-only claims count.
  bool for_deny = false;
};

struct ConditionalEvaluation {
  Tristate result = Tristate::kUnknown;
  // One sentence per leaf that was evaluated, in order, e.g.
  // "@USER.Title is "Dev", expected == "PM": FALSE" or
  // "@DEVICE.Managed is absent: UNKNOWN".
  std::vector<std::string> reasons;
};

ConditionalEvaluation EvaluateConditionalExpression(
    const ConditionalExpression& expr, const ConditionalContext& context);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_CONDITIONAL_EXPRESSION_H_
