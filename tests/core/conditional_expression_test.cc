#include "core/conditional_expression.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "core/ascii.h"
#include "tests/support/catch_support.h"

// Sources of the expected values:
// [win-bin]   Samba libcli/security/tests/windows/conditional_aces.txt.json:
//   SDDL strings and the self-relative bytes Windows produced for them. The
//   conditions and their application data are extracted into
//   tests/core/data/windows_conditions.tsv ("condition<TAB>hex").
// [win-text]  Samba libcli/security/tests/data/conditional_aces.txt and
//   conditional_aces_windows_only.txt: the canonical text for those inputs.
// [win-fail]  Samba .../conditional_aces_should_fail.txt: input Windows
//   refuses.
// [ms-dtyp]   MS-DTYP 2.4.4.17 (token bytes) and 2.5.1.1 (grammar).
// [hand]      Derived by hand from the rules in core/conditional_expression.h.

namespace tokenfs {
namespace {

using test::ParseSidOrDie;

struct CanonicalCase {
  const char* input;
  const char* canonical;
};

// Valid input -> canonical text.
const std::vector<CanonicalCase> kCanonicalCases = {
    // [win-text]
    {"(@User.Title == @User.Title)", "(@USER.Title == @USER.Title)"},
    {"(@User.Title == \"PM\")", "(@USER.Title == \"PM\")"},
    {"(@User.title == \"perambuator\")", "(@USER.title == \"perambuator\")"},
    {"(@USER.ad://ext/AuthenticationSilo == \"siloname\")",
     "(@USER.ad://ext/AuthenticationSilo == \"siloname\")"},
    {"(@User.Title == \"\")", "(@USER.Title == \"\")"},
    {"(@User.Title != @User.Title)", "(@USER.Title != @USER.Title)"},
    {"(@User.Project Any_of @Resource.Project)",
     "(@USER.Project Any_of @RESOURCE.Project)"},
    {"(OctetStringType==##1#2#3##)", "(OctetStringType == #01020300)"},
    {"(OctetStringType==#01020300)", "(OctetStringType == #01020300)"},
    {"(OctetStringType==#1#2#3##)", "(OctetStringType == #01020300)"},
    {"(Member_of {SID(S-1-999-777-7-7), SID(BO)} && @Device.Bitlocker)",
     "((Member_of {SID(S-1-999-777-7-7), SID(BO)}) && (@DEVICE.Bitlocker))"},
    {"(@User.Title==\"PM\" && (@User.Division==\"Finance\" || "
     "@User.Division ==\"Sales\"))",
     "((@USER.Title == \"PM\") && ((@USER.Division == \"Finance\") || "
     "(@USER.Division == \"Sales\")))"},
    {"(@Device.colour == {\"orange\", \"blue\"})",
     "(@DEVICE.colour == {\"orange\", \"blue\"})"},
    {"(@Device.legs >= 1)", "(@DEVICE.legs >= 1)"},
    {"(Device_Member_of{SID(BA)} && Member_of{SID(WD)})",
     "((Device_Member_of {SID(BA)}) && (Member_of {SID(WD)}))"},
    {"(Member_of_Any{SID(S-1-222-333)})",
     "(Member_of_any {SID(S-1-222-333)})"},
    {"(Member_of{SID(S-1-1-0)})", "(Member_of {SID(WD)})"},
    {"(Member_of SID(S-1-1-0))", "(Member_of SID(WD))"},
    {"(Member_of(SID(S-1-1-0)))", "(Member_of SID(WD))"},
    {"(member_of((sid(s-1-1-0))))", "(Member_of SID(WD))"},
    {"(Member_of_Any{SID(AS),SID(WD)})", "(Member_of_any {SID(AS), SID(WD)})"},
    {"(mEMBER_of{SID(S-1-1-0)})", "(Member_of {SID(WD)})"},
    {"(!(! (Member_of{SID(AA)})))", "(!(!(Member_of {SID(AA)})))"},
    {"(@Device.colour Contains @Resource.colour)",
     "(@DEVICE.colour Contains @RESOURCE.colour)"},
    {"(a == 1)", "(a == 1)"},
    {"(a == @User.a)", "(a == @USER.a)"},
    {"(@USER.A && @Device.B && @USER.C)",
     "(((@USER.A) && (@DEVICE.B)) && (@USER.C))"},
    {"(@USER.A && @Device.B || @USER.C)",
     "(((@USER.A) && (@DEVICE.B)) || (@USER.C))"},
    {"(@USER.A || @Device.B && @USER.C)",
     "((@USER.A) || ((@DEVICE.B) && (@USER.C)))"},
    {"(@USER.A || @Device.B || @USER.C)",
     "(((@USER.A) || (@DEVICE.B)) || (@USER.C))"},
    {"(@Device.bb == 0x7fffffffffffffff)", "(@DEVICE.bb == 0x7fffffffffffffff)"},
    {"(@Device.bb == 0xffffffffffffffff)", "(@DEVICE.bb == 0xffffffffffffffff)"},
    {"(!(@USER.Project Not_Any_of 1))", "(!(@USER.Project Not_Any_of 1))"},
    {"(Member_of {1, 2, 3})", "(Member_of {1, 2, 3})"},
    // [hand] Every operator, literal type, sign and base.
    {"(@User.n < -5)", "(@USER.n < -5)"},
    {"(@User.n <= +0x1F)", "(@USER.n <= +0x1f)"},
    {"(@User.n > 017)", "(@USER.n > 017)"},
    {"(@User.n>0)", "(@USER.n > 0)"},
    {"(@User.s Not_Contains {\"a\",\"b\"})",
     "(@USER.s Not_Contains {\"a\", \"b\"})"},
    {"(@User.s Contains \"a\")", "(@USER.s Contains \"a\")"},
    {"(Exists @User.x)", "(Exists @USER.x)"},
    {"(Not_Exists @Resource.x)", "(Not_Exists @RESOURCE.x)"},
    {"(Not_Member_of {SID(BA)})", "(Not_Member_of {SID(BA)})"},
    {"(Not_Member_of_Any {SID(BA)})", "(Not_Member_of_any {SID(BA)})"},
    {"(Device_Member_of_Any {SID(BA)})", "(Device_Member_of_any {SID(BA)})"},
    {"(Not_Device_Member_of {SID(BA)})", "(Not_Device_Member_of {SID(BA)})"},
    {"(Not_Device_Member_of_any {SID(BA)})",
     "(Not_Device_Member_of_any {SID(BA)})"},
    {"(@User.sid == SID(S-1-5-21-1-2-3-1001))",
     "(@USER.sid == SID(S-1-5-21-1-2-3-1001))"},
    {"(@User.o == #)", "(@USER.o == #)"},
    {"(@User.e == {})", "(@USER.e == {})"},
    {"(@User.a%0020b == 1)", "(@USER.a%0020b == 1)"},
    {"  ( \t@User.x\n== 1 )  ", "(@USER.x == 1)"},
    {"((@User.x == 1))", "(@USER.x == 1)"},
};

struct InvalidCase {
  const char* input;
  const char* message;  // the whole message, column included
};

// Invalid input -> exact error.
const std::vector<InvalidCase> kInvalidCases = {
    // [win-fail]
    {"(Member_of {SID(ernie), SID(BO)} && @Device.Bitlocker)",
     "unknown SID alias 'ernie' in SID() at column 17"},
    {"(!!! !!!  !!! Member_of{SID(BA)})",
     "'!' must be followed by a condition in parentheses at column 3"},
    {"(Member_of_AnySID(S-1-1-0))",
     "expected ')' or an operator but found '(' at column 18"},
    {"(@User.Title == !(@User.Title))",
     "expected a value (number, \"string\", SID(...), #octets) but found '!' "
     "at column 17"},
    {"(! Member_of{SID(BA)})",
     "'!' must be followed by a condition in parentheses at column 4"},
    {"(a == a)", "a local attribute may only stand on the left at column 7"},
    {"(@Device.bb == 0x10000000000000000)",
     "the number '0x10000000000000000'... exceeds 64 bits at column 16"},
    {"(@Device.bb == 624677746777766777767)",
     "the number '62467774677776677776'... exceeds 64 bits at column 16"},
    {"(@Device.bb == 055555624677746777766777767)",
     "the number '05555562467774677776677'... exceeds 64 bits at column 16"},
    // [hand]
    {"", "a condition starts with '(' at column 1"},
    {"@User.x", "a condition starts with '(' at column 1"},
    {"(@User.x == 1", "expected ')' or an operator but found the end at "
                      "column 14"},
    {"(@User.x == 1))", "unexpected ')' after the condition at column 15"},
    {"(@Foo.x == 1)",
     "an attribute starts @User., @Device. or @Resource. at column 2"},
    {"(@User. == 1)", "expected an attribute name but found ' ' at column 8"},
    {"(@User.x === 1)",
     "expected a value (number, \"string\", SID(...), #octets) but found '=' "
     "at column 12"},
    {"(@User.x == \"abc)", "unterminated string at column 13"},
    {"(@User.x == 12ab)", "unexpected 'a' in the number at column 15"},
    {"(@User.x == 09)", "unexpected '9' in the number at column 14"},
    {"(@User.x == {1, {2}})",
     "a composite cannot hold another composite at column 17"},
    {"(@User.x == {1 2})",
     "expected ',' or '}' to go on with the '{' at column 13 but found '2' "
     "at column 16"},
    {"(@User.x Foo 1)", "unknown operator 'Foo' at column 10"},
    {"(Exists \"x\")",
     "expected an attribute name but found '\"' at column 9"},
    {"(Contains 1)", "'Contains' needs an attribute on its left at column 2"},
    {"(Member_of @User.x)",
     "expected SID(...) or {SID(...), ...} at column 12"},
    {"(@User.a%00g1 == 1)", "'%' in a name takes four hex digits at column 12"},
    {"(@User.x == SID(S-1-5-))",
     "bad SID 'S-1-5-': expected sub-authority at column 23"},
    {"(@User.x == 1 &&)",
     "expected an attribute, Member_of, Exists, '!' or '(' but found ')' at "
     "column 17"},
};

Result<std::vector<uint8_t>> HexToBytes(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned value = 0;
    std::sscanf(std::string(hex.substr(i, 2)).c_str(), "%02x", &value);
    out.push_back(static_cast<uint8_t>(value));
  }
  return out;
}

TEST_CASE("conditions parse and print as Windows prints them") {
  for (const CanonicalCase& c : kCanonicalCases) {
    INFO(c.input);
    auto expr = ParseConditionalExpression(c.input);
    REQUIRE(expr.has_value());
    CHECK(FormatConditionalExpression(*expr) == c.canonical);
  }
}

TEST_CASE("invalid conditions fail with the problem and its column") {
  for (const InvalidCase& c : kInvalidCases) {
    INFO(c.input);
    auto expr = ParseConditionalExpression(c.input);
    REQUIRE_FALSE(expr.has_value());
    CHECK(expr.error().code == ErrorCode::kInvalidArgument);
    CHECK(expr.error().message == c.message);
    const std::string suffix =
        " at column " + std::to_string(expr.error().column);
    CHECK(expr.error().message.ends_with(suffix));
  }
}

TEST_CASE("conditions round-trip through text and binary") {
  for (const CanonicalCase& c : kCanonicalCases) {
    INFO(c.input);
    auto expr = ParseConditionalExpression(c.input);
    REQUIRE(expr.has_value());
    const std::string canonical = FormatConditionalExpression(*expr);
    auto again = ParseConditionalExpression(canonical);
    REQUIRE(again.has_value());
    CHECK(*again == *expr);
    CHECK(FormatConditionalExpression(*again) == canonical);
    auto bytes = EncodeConditionalExpression(*expr);
    REQUIRE(bytes.has_value());
    CHECK(bytes->size() % 4 == 0);
    auto decoded = DecodeConditionalExpression(*bytes);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == *expr);
  }
}

TEST_CASE("conditions encode to the bytes Windows wrote (conformance)") {
  std::ifstream file(TOKENFS_TEST_DATA_DIR "/windows_conditions.tsv");
  REQUIRE(file.good());
  std::string line;
  int total = 0, passed = 0;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    REQUIRE(tab != std::string::npos);
    const std::string text = line.substr(0, tab);
    auto expected = HexToBytes(std::string_view(line).substr(tab + 1));
    ++total;
    INFO(text);
    auto expr = ParseConditionalExpression(text);
    bool ok = expr.has_value();
    if (ok) {
      auto bytes = EncodeConditionalExpression(*expr);
      ok = bytes.has_value() && *bytes == *expected;
      auto decoded = DecodeConditionalExpression(*expected);
      ok = ok && decoded.has_value() && *decoded == *expr;
    }
    CHECK(ok);
    if (ok) ++passed;
  }
  std::printf("conditional SDDL -> binary (Windows-verified): %d/%d pass\n",
              passed, total);
  CHECK(total >= 50);
}

TEST_CASE("integer literals keep sign and base in the binary form") {
  // [ms-dtyp] 2.4.4.17.5: INT64 token 0x04, value, sign (1 +, 2 -, 3 none),
  // base (1 octal, 2 decimal, 3 hex). [win-bin] writes every integer as
  // INT64.
  struct IntCase {
    const char* text;
    int64_t value;
    uint8_t sign;
    uint8_t base;
  };
  const std::vector<IntCase> cases = {
      {"(a == 1)", 1, 3, 2},      {"(a == -1)", -1, 2, 2},
      {"(a == +1)", 1, 1, 2},     {"(a == 010)", 8, 3, 1},
      {"(a == 0x10)", 16, 3, 3},  {"(a == -0x10)", -16, 2, 3},
      {"(a == 0xffffffffffffffff)", -1, 3, 3},
      {"(a == 0)", 0, 3, 2},
  };
  for (const IntCase& c : cases) {
    INFO(c.text);
    auto expr = ParseConditionalExpression(c.text);
    REQUIRE(expr.has_value());
    REQUIRE(expr->tokens.size() == 3);
    const ConditionalToken& token = expr->tokens[1];
    CHECK(token.kind == ConditionalTokenKind::kInt64);
    CHECK(token.integer == c.value);
    CHECK(token.sign == c.sign);
    CHECK(token.base == c.base);
  }
}

TEST_CASE("the binary decoder refuses malformed expressions") {
  struct BadCase {
    std::vector<uint8_t> bytes;
    const char* message;
  };
  const std::vector<BadCase> cases = {
      {{'a', 'r', 't'}, "conditional expression: no \"artx\" signature"},
      {{'a', 'r', 't', 'y', 0xa0}, "conditional expression: no \"artx\" "
                                   "signature"},
      {{'a', 'r', 't', 'x'}, "conditional expression: no tokens"},
      {{'a', 'r', 't', 'x', 0x77},
       "conditional expression: token at offset 4: unknown token byte 0x77"},
      {{'a', 'r', 't', 'x', 0xf9, 4, 0, 0, 0, 'a', 0},
       "conditional expression: token at offset 4: length 4 runs past the "
       "expression"},
      {{'a', 'r', 't', 'x', 0xf9, 1, 0, 0, 0, 'a'},
       "conditional expression: token at offset 4: malformed UTF-16 text"},
      {{'a', 'r', 't', 'x', 0xa0},
       "conditional expression: token 0 ('&&'): needs 2 logical operands"},
      {{'a', 'r', 't', 'x', 0x04, 1, 0, 0, 0, 0, 0, 0, 0, 3, 2},
       "conditional expression: the tokens do not reduce to one condition "
       "(1 items left)"},
      {{'a', 'r', 't', 'x', 0xf9, 2, 0, 0, 0, 'a', 0, 0, 1},
       "conditional expression: byte 12 is not zero padding after the "
       "tokens"},
      {{'a', 'r', 't', 'x', 0x04, 1, 0, 0, 0, 0, 0, 0, 0, 4, 2},
       "conditional expression: token at offset 4: bad integer sign or base"},
  };
  for (const BadCase& c : cases) {
    auto expr = DecodeConditionalExpression(c.bytes);
    REQUIRE_FALSE(expr.has_value());
    CHECK(expr.error().message == c.message);
  }
}

TEST_CASE("the binary decoder accepts the narrow integer tokens") {
  // INT8..INT32 share the INT64 layout (MS-DTYP 2.4.4.17.5).
  const std::vector<uint8_t> bytes = {'a', 'r', 't', 'x', 0xf8, 2, 0, 0, 0,
                                      'a', 0,   0x01, 7,   0,   0, 0, 0,
                                      0,   0,   0,    3,   2,   0x80, 0};
  auto expr = DecodeConditionalExpression(bytes);
  REQUIRE(expr.has_value());
  CHECK(expr->tokens[1].kind == ConditionalTokenKind::kInt8);
  CHECK(FormatConditionalExpression(*expr) == "(a == 7)");
}

// --- Evaluation -----------------------------------------------------------

Claim MakeClaim(std::string name, ClaimType type,
                std::vector<ClaimValue> values, uint32_t flags = 0) {
  Claim claim;
  claim.name = std::move(name);
  claim.type = type;
  claim.flags = flags;
  claim.values = std::move(values);
  return claim;
}

struct World {
  std::vector<Claim> user = {
      MakeClaim("Title", ClaimType::kString, {std::string("PM")}),
      MakeClaim("Projects", ClaimType::kString,
                {std::string("Alpha"), std::string("Beta")}),
      MakeClaim("Level", ClaimType::kInt64, {int64_t{5}}),
      MakeClaim("Big", ClaimType::kUint64, {uint64_t{1} << 63}),
      MakeClaim("Admin", ClaimType::kBoolean, {true}),
      MakeClaim("Zero", ClaimType::kInt64, {int64_t{0}}),
      MakeClaim("Blob", ClaimType::kOctetString,
                {std::vector<uint8_t>{1, 2, 3}}),
      MakeClaim("Owner", ClaimType::kSid,
                {ParseSidOrDie("S-1-5-21-1-2-3-1001")}),
      MakeClaim("Code", ClaimType::kString, {std::string("abc")},
                claim_flags::kCaseSensitive),
      MakeClaim("Off", ClaimType::kString, {std::string("x")},
                claim_flags::kDisabled),
      MakeClaim("DenyOnly", ClaimType::kString, {std::string("x")},
                claim_flags::kUseForDenyOnly),
  };
  std::vector<Claim> device = {
      MakeClaim("Managed", ClaimType::kBoolean, {true}),
      MakeClaim("colour", ClaimType::kString, {std::string("blue")}),
  };
  std::vector<Claim> resource = {
      MakeClaim("colour", ClaimType::kString,
                {std::string("blue"), std::string("red")}),
      MakeClaim("Project", ClaimType::kString, {std::string("beta")}),
      MakeClaim("Secrecy", ClaimType::kInt64, {int64_t{3}}),
  };

  ConditionalContext Context(bool for_deny = false, bool device_ids = true) {
    ConditionalContext context;
    context.user_claims = &user;
    context.device_claims = &device;
    context.resource_attributes = &resource;
    context.member_sids = {ParseSidOrDie("S-1-5-21-1-2-3-1001"),
                           ParseSidOrDie("S-1-1-0"),
                           ParseSidOrDie("S-1-5-32-545")};
    context.has_device = device_ids;
    if (device_ids) context.device_sids = {ParseSidOrDie("S-1-5-32-544")};
    context.for_deny = for_deny;
    return context;
  }
};

Tristate Eval(World& world, std::string_view text, bool for_deny = false,
              bool device_ids = true) {
  auto expr = ParseConditionalExpression(text);
  REQUIRE(expr.has_value());
  return EvaluateConditionalExpression(*expr,
                                       world.Context(for_deny, device_ids))
      .result;
}

constexpr Tristate T = Tristate::kTrue;
constexpr Tristate F = Tristate::kFalse;
constexpr Tristate U = Tristate::kUnknown;

TEST_CASE("evaluation: every operator against claims, TRUE FALSE UNKNOWN") {
  World world;
  struct EvalCase {
    const char* text;
    Tristate expected;
  };
  const std::vector<EvalCase> cases = {
      // == and != with strings (case-insensitive by default)
      {"(@User.Title == \"PM\")", T},
      {"(@User.Title == \"pm\")", T},
      {"(@User.Title == \"Dev\")", F},
      {"(@User.Title != \"Dev\")", T},
      {"(@User.Missing == \"PM\")", U},
      {"(@User.Missing != \"PM\")", U},
      // case-sensitive claim
      {"(@User.Code == \"abc\")", T},
      {"(@User.Code == \"ABC\")", F},
      // integers, signs and bases; int64 vs uint64 vs boolean
      {"(@User.Level == 5)", T},
      {"(@User.Level == 0x5)", T},
      {"(@User.Level == 05)", T},
      {"(@User.Level < 6)", T},
      {"(@User.Level <= 5)", T},
      {"(@User.Level > 5)", F},
      {"(@User.Level >= -1)", T},
      {"(@User.Level > -0x10)", T},
      {"(@User.Big > 0x7fffffffffffffff)", T},
      {"(@User.Admin == 1)", T},
      {"(@User.Level == \"5\")", U},  // different kinds do not compare
      {"(@User.Title < \"Q\")", T},   // strings order
      // octet strings and SIDs
      {"(@User.Blob == #010203)", T},
      {"(@User.Blob == #0102)", F},
      {"(@User.Blob < #ff)", U},
      {"(@User.Owner == SID(S-1-5-21-1-2-3-1001))", T},
      {"(@User.Owner != SID(WD))", T},
      {"(@User.Owner > SID(WD))", U},
      // multi-valued: set comparison, Contains, Any_of
      {"(@User.Projects == {\"beta\", \"alpha\"})", T},
      {"(@User.Projects == {\"alpha\"})", F},
      {"(@User.Projects < \"z\")", U},
      {"(@User.Projects Contains \"Alpha\")", T},
      {"(@User.Projects Contains {\"Alpha\", \"Gamma\"})", F},
      {"(@User.Projects Not_Contains {\"Alpha\", \"Gamma\"})", T},
      {"(@User.Projects Any_of {\"Gamma\", \"beta\"})", T},
      {"(@User.Projects Any_of {\"Gamma\"})", F},
      {"(@User.Projects Not_Any_of {\"Gamma\"})", T},
      {"(@User.Missing Any_of {\"Gamma\"})", U},
      {"(@User.Missing Not_Any_of {\"Gamma\"})", U},
      // Exists is never UNKNOWN
      {"(Exists @User.Title)", T},
      {"(Exists @User.Missing)", F},
      {"(Not_Exists @User.Missing)", T},
      {"(Not_Exists @Device.Managed)", F},
      // disabled and deny-only claims are absent (deny-only: for allow)
      {"(Exists @User.Off)", F},
      {"(Exists @User.DenyOnly)", F},
      // attributes as logical values
      {"(@User.Admin)", T},
      {"(@User.Zero)", F},
      {"(@User.Title)", T},
      {"(@User.Missing)", U},
      {"(@User.Owner)", U},
      {"(@User.Projects)", U},
      // Kleene logic
      {"(@User.Admin && @User.Zero)", F},
      {"(@User.Admin && @User.Missing)", U},
      {"(@User.Zero && @User.Missing)", F},
      {"(@User.Admin || @User.Missing)", T},
      {"(@User.Zero || @User.Missing)", U},
      {"(@User.Zero || @User.Zero)", F},
      {"(!(@User.Admin))", F},
      {"(!(@User.Missing))", U},
      {"(!(!(@User.Admin)))", T},
      // membership
      {"(Member_of {SID(WD), SID(BU)})", T},
      {"(Member_of {SID(WD), SID(BA)})", F},
      {"(Member_of SID(S-1-5-21-1-2-3-1001))", T},
      {"(Member_of_any {SID(BA), SID(BU)})", T},
      {"(Member_of_any {SID(BA)})", F},
      {"(Not_Member_of {SID(BA)})", T},
      {"(Not_Member_of_any {SID(BA), SID(BU)})", F},
      {"(Member_of {1, 2})", U},
      // device claims and device groups
      {"(@Device.Managed)", T},
      {"(@Device.colour == \"blue\")", T},
      {"(@User.Title == @Device.colour)", F},
      {"(Device_Member_of {SID(BA)})", T},
      {"(Device_Member_of_any {SID(BU), SID(BA)})", T},
      {"(Not_Device_Member_of {SID(BA)})", F},
      {"(Not_Device_Member_of_any {SID(BU)})", T},
      // resource attributes
      {"(@Resource.Secrecy <= 3)", T},
      {"(@Device.colour Contains @Resource.colour)", F},
      {"(@Resource.colour Contains @Device.colour)", T},
      {"(@User.Projects Any_of @Resource.Project)", T},
      {"(@Resource.colour == {\"red\", \"blue\"})", T},
      {"(@Resource.Missing == 1)", U},
      // local attributes (none supplied)
      {"(a == 1)", U},
  };
  for (const EvalCase& c : cases) {
    INFO(c.text);
    CHECK(Eval(world, c.text) == c.expected);
  }
}

TEST_CASE("evaluation: deny-only claims count for deny ACEs only") {
  World world;
  CHECK(Eval(world, "(@User.DenyOnly == \"x\")", /*for_deny=*/false) == U);
  CHECK(Eval(world, "(@User.DenyOnly == \"x\")", /*for_deny=*/true) == T);
}

TEST_CASE("evaluation: without a device identity Device_Member_of is UNKNOWN") {
  World world;
  CHECK(Eval(world, "(Device_Member_of {SID(BA)})", false, false) == U);
  CHECK(Eval(world, "(Not_Device_Member_of_any {SID(BA)})", false, false) ==
        U);
  CHECK(Eval(world, "(Member_of {SID(WD)})", false, false) == T);
}

TEST_CASE("evaluation: reasons name the value seen and the value expected") {
  World world;
  auto expr = ParseConditionalExpression(
      "(@User.Title == \"Dev\" || @Device.Gone == 1)");
  REQUIRE(expr.has_value());
  auto evaluation = EvaluateConditionalExpression(*expr, world.Context());
  CHECK(evaluation.result == U);
  REQUIRE(evaluation.reasons.size() == 2);
  CHECK(evaluation.reasons[0] ==
        "@USER.Title is \"PM\", expected == \"Dev\": FALSE");
  CHECK(evaluation.reasons[1] ==
        "@DEVICE.Gone is absent, expected == 1: UNKNOWN");
}

TEST_CASE("evaluation of a malformed token sequence is UNKNOWN") {
  World world;
  ConditionalExpression expr;
  expr.tokens.resize(1);
  expr.tokens[0].kind = ConditionalTokenKind::kAnd;
  auto evaluation = EvaluateConditionalExpression(expr, world.Context());
  CHECK(evaluation.result == U);
  REQUIRE(evaluation.reasons.size() == 1);
  CHECK(evaluation.reasons[0].starts_with("malformed condition"));
}

}  // namespace
}  // namespace tokenfs
