#include "core/claims.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/catch_support.h"

// Expected bytes below are laid out by hand from the Peios claim format
// (the Peios KACS claim attribute format: NameOffset u32 @0,
// ValueType u16 @4, Reserved u16 @6, Flags u32 @8, ValueCount u32 @12,
// ValueOffsets @16) and the canonical layout documented in core/claims.h. The
// helper below writes fields at explicit offsets; it shares no code with the
// codec.

namespace tokenfs {
namespace {

class Bytes {
 public:
  Bytes& U8(size_t at, uint8_t value) {
    Grow(at + 1);
    bytes_[at] = value;
    return *this;
  }
  Bytes& U16(size_t at, uint16_t value) {
    for (size_t i = 0; i < 2; ++i)
      U8(at + i, static_cast<uint8_t>(value >> (8 * i)));
    return *this;
  }
  Bytes& U32(size_t at, uint32_t value) {
    for (size_t i = 0; i < 4; ++i)
      U8(at + i, static_cast<uint8_t>(value >> (8 * i)));
    return *this;
  }
  Bytes& U64(size_t at, uint64_t value) {
    for (size_t i = 0; i < 8; ++i)
      U8(at + i, static_cast<uint8_t>(value >> (8 * i)));
    return *this;
  }
  // ASCII text as UTF-16LE plus the NUL terminator.
  Bytes& Utf16(size_t at, std::string_view ascii) {
    for (size_t i = 0; i < ascii.size(); ++i) {
      U16(at + 2 * i, static_cast<uint8_t>(ascii[i]));
    }
    return U16(at + 2 * ascii.size(), 0);
  }
  Bytes& Raw(size_t at, std::vector<uint8_t> raw) {
    for (size_t i = 0; i < raw.size(); ++i) U8(at + i, raw[i]);
    return *this;
  }
  Bytes& Size(size_t size) {
    bytes_.resize(size, 0);
    return *this;
  }
  // Claim header fields.
  Bytes& Header(uint32_t name_offset, uint16_t type, uint32_t flags,
                uint32_t count) {
    return U32(0, name_offset)
        .U16(4, type)
        .U16(6, 0)
        .U32(8, flags)
        .U32(12, count);
  }
  const std::vector<uint8_t>& get() const { return bytes_; }
  operator std::vector<uint8_t>() const { return bytes_; }

 private:
  void Grow(size_t size) {
    if (bytes_.size() < size) bytes_.resize(size, 0);
  }
  std::vector<uint8_t> bytes_;
};

// [entry_len u32][entry] for each entry.
std::vector<uint8_t> Wrap(const std::vector<std::vector<uint8_t>>& entries) {
  std::vector<uint8_t> out;
  for (const auto& entry : entries) {
    const auto size = static_cast<uint32_t>(entry.size());
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<uint8_t>(size >> (8 * i)));
    out.insert(out.end(), entry.begin(), entry.end());
  }
  return out;
}

// A short name for the many SID literals below.
constexpr auto& S = test::ParseSidOrDie;

// The canonical entry for {name "a", uint64, no flags, [5]}: header, one value
// offset (16..20), padding to 24, the 8-byte value (24..32), name at 32.
std::vector<uint8_t> CanonicalUint64Entry() {
  return Bytes()
      .Header(32, 0x02, 0, 1)
      .U32(16, 24)
      .U64(24, 5)
      .Utf16(32, "a")
      .Size(36);
}

// The canonical entry for {name "s", string, case-sensitive, ["hi"]}: header,
// value offset (16..20) -> indirection word (20..24) -> "hi\0" at 24..30,
// padding to 32, name at 32.
std::vector<uint8_t> CanonicalStringEntry() {
  return Bytes()
      .Header(32, 0x03, 0x2, 1)
      .U32(16, 20)
      .U32(20, 24)
      .Utf16(24, "hi")
      .Utf16(32, "s")
      .Size(36);
}

TEST_CASE("claim type names print in lower case and parse in any case") {
  CHECK(ClaimTypeName(ClaimType::kInt64) == "int64");
  CHECK(ClaimTypeName(ClaimType::kUint64) == "uint64");
  CHECK(ClaimTypeName(ClaimType::kString) == "string");
  CHECK(ClaimTypeName(ClaimType::kSid) == "sid");
  CHECK(ClaimTypeName(ClaimType::kBoolean) == "boolean");
  CHECK(ClaimTypeName(ClaimType::kOctetString) == "octets");
  CHECK(ParseClaimTypeName("STRING").value() == ClaimType::kString);
  CHECK(ParseClaimTypeName("bool").value() == ClaimType::kBoolean);
  CHECK(ParseClaimTypeName("octet").value() == ClaimType::kOctetString);
  auto bad = ParseClaimTypeName("fqbn");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("unknown claim type 'fqbn'"));
}

TEST_CASE("claim flag names follow bit order and unknown names are refused") {
  using V = std::vector<std::string_view>;
  CHECK(ClaimFlagNames(0x3f) == V{"non-inheritable", "case-sensitive",
                                  "deny-only", "disabled-by-default",
                                  "disabled", "mandatory"});
  CHECK(ClaimFlagNames(0x12) == V{"case-sensitive", "disabled"});
  CHECK(ParseClaimFlagName("Use-For-Deny-Only").value() == 0x4);
  CHECK(ParseClaimFlagName("mandatory").value() == 0x20);
  auto bad = ParseClaimFlagName("sensitive");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message,
             Catch::Contains("unknown claim flag 'sensitive'"));
}

TEST_CASE("claim encoding writes the canonical layout byte for byte") {
  CHECK(EncodeClaim(Claim{"a", ClaimType::kUint64, 0, {uint64_t{5}}}).value() ==
        CanonicalUint64Entry());
  CHECK(EncodeClaim(Claim{"s",
                          ClaimType::kString,
                          claim_flags::kCaseSensitive,
                          {std::string("hi")}})
            .value() == CanonicalStringEntry());
  // SID value: word at 20 -> SID S-1-5-32-544 (16 bytes) at 24, name at 40.
  CHECK(EncodeClaim(Claim{"g", ClaimType::kSid, 0, {S("S-1-5-32-544")}})
            .value() ==
        Bytes()
            .Header(40, 0x05, 0, 1)
            .U32(16, 20)
            .U32(20, 24)
            .Raw(24, {1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0})
            .Utf16(40, "g")
            .Size(44)
            .get());
  // Octets: word at 20 -> [len 3][de ad be] at 24..31, pad to 32, name at 32.
  CHECK(EncodeClaim(Claim{"o",
                          ClaimType::kOctetString,
                          0,
                          {std::vector<uint8_t>{0xde, 0xad, 0xbe}}})
            .value() == Bytes()
                            .Header(32, 0x10, 0, 1)
                            .U32(16, 20)
                            .U32(20, 24)
                            .U32(24, 3)
                            .Raw(28, {0xde, 0xad, 0xbe})
                            .Utf16(32, "o")
                            .Size(36)
                            .get());
  // Two booleans: offsets 16..24, values at 24 and 32, name at 40.
  CHECK(
      EncodeClaim(Claim{"b", ClaimType::kBoolean, 0, {true, false}}).value() ==
      Bytes()
          .Header(40, 0x06, 0, 2)
          .U32(16, 24)
          .U32(20, 32)
          .U64(24, 1)
          .Utf16(40, "b")
          .Size(44)
          .get());
  // No values: the name follows the header directly.
  CHECK(EncodeClaim(Claim{"e", ClaimType::kInt64, 0, {}}).value() ==
        Bytes().Header(16, 0x01, 0, 0).Utf16(16, "e").Size(20).get());
}

TEST_CASE("claim names are converted between UTF-8 and UTF-16LE exactly") {
  // U+00E9 is one UTF-16 unit 0x00E9; U+1F600 is the pair D83D DE00
  // (0x1F600 - 0x10000 = 0xF600; 0xD800 + (0xF600 >> 10), 0xDC00 + 0x200).
  const std::string name = "\xc3\xa9\xf0\x9f\x98\x80";
  auto entry = EncodeClaim(Claim{name, ClaimType::kInt64, 0, {}});
  REQUIRE(entry);
  CHECK(*entry == Bytes()
                      .Header(16, 0x01, 0, 0)
                      .Raw(16, {0xe9, 0x00, 0x3d, 0xd8, 0x00, 0xde, 0x00, 0x00})
                      .get());
  auto decoded = DecodeClaim(*entry);
  REQUIRE(decoded);
  CHECK(decoded->name == name);
}

struct ValidEntry {
  const char* description;
  std::vector<uint8_t> entry;
  Claim expected;
};

TEST_CASE("claim decoding accepts any in-bounds layout") {
  const std::vector<ValidEntry> cases = {
      {"canonical uint64", CanonicalUint64Entry(),
       Claim{"a", ClaimType::kUint64, 0, {uint64_t{5}}}},
      {"canonical string", CanonicalStringEntry(),
       Claim{"s", ClaimType::kString, 0x2, {std::string("hi")}}},
      // Name first, then a negative int64 at an unaligned offset.
      {"name before values, unaligned scalar",
       Bytes()
           .Header(20, 0x01, 0x20, 1)
           .U32(16, 25)
           .Utf16(20, "n")
           .U64(25, uint64_t(-7))
           .Size(33),
       Claim{"n", ClaimType::kInt64, 0x20, {int64_t{-7}}}},
      // Two values sharing one string through the same indirection word.
      {"values sharing a string",
       Bytes()
           .Header(28, 0x03, 0, 2)
           .U32(16, 24)
           .U32(20, 24)
           .U32(24, 32)
           .Utf16(28, "x")
           .Utf16(32, "v"),
       Claim{"x", ClaimType::kString, 0, {std::string("v"), std::string("v")}}},
      {"empty string value",
       Bytes()
           .Header(28, 0x03, 0, 1)
           .U32(16, 20)
           .U32(20, 24)
           .U16(24, 0)
           .Utf16(28, "x"),
       Claim{"x", ClaimType::kString, 0, {std::string()}}},
      {"empty octet string",
       Bytes()
           .Header(28, 0x10, 0, 1)
           .U32(16, 20)
           .U32(20, 24)
           .U32(24, 0)
           .Utf16(28, "x"),
       Claim{"x", ClaimType::kOctetString, 0, {std::vector<uint8_t>{}}}},
      {"trailing unreferenced bytes",
       Bytes().Header(16, 0x06, 0, 0).Utf16(16, "t").Size(40),
       Claim{"t", ClaimType::kBoolean, 0, {}}},
      // A surrogate pair in a string value: U+10400 = D801 DC00.
      {"surrogate pair in a value",
       Bytes()
           .Header(32, 0x03, 0, 1)
           .U32(16, 20)
           .U32(20, 24)
           .U16(24, 0xd801)
           .U16(26, 0xdc00)
           .U16(28, 0)
           .Utf16(32, "p"),
       Claim{"p", ClaimType::kString, 0, {std::string("\xf0\x90\x90\x80")}}},
  };
  for (const auto& test : cases) {
    INFO(test.description);
    auto claim = DecodeClaim(test.entry);
    REQUIRE(claim);
    CHECK(*claim == test.expected);
  }
}

struct InvalidEntry {
  const char* description;
  std::vector<uint8_t> entry;
  const char* fragment;
};

TEST_CASE("claim decoding refuses malformed entries naming the field") {
  std::vector<InvalidEntry> cases = {
      {"short header", Bytes().Size(15),
       "entry is 15 bytes, shorter than the 16-byte header"},
      {"FQBN type", Bytes().Header(16, 0x04, 0, 0).Utf16(16, "a"),
       "value type 0x4 is not supported"},
      {"unknown type", Bytes().Header(16, 0x07, 0, 0).Utf16(16, "a"),
       "value type 0x7 is not supported"},
      {"reserved non-zero",
       Bytes().Header(16, 0x01, 0, 0).U16(6, 1).Utf16(16, "a"),
       "reserved is 0x1 (must be 0)"},
      {"unknown flags", Bytes().Header(16, 0x01, 0x40, 0).Utf16(16, "a"),
       "flags 0x40 has unknown bits 0x40"},
      {"too many values", Bytes().Header(16, 0x01, 0, 1025).Size(20),
       "value count 1025 exceeds 1024"},
      {"offsets past the entry", Bytes().Header(16, 0x01, 0, 2).Size(20),
       "value offsets for 2 values run past the 20-byte entry"},
      {"name offset outside", Bytes().Header(20, 0x01, 0, 0).Size(20),
       "name: offset 20 is outside the 20-byte entry"},
      {"name without terminator",
       Bytes().Header(16, 0x01, 0, 0).U16(16, 'a').U16(18, 'b'),
       "name: no UTF-16 NUL terminator inside the 20-byte entry"},
      {"name with odd tail",
       Bytes().Header(16, 0x01, 0, 0).U16(16, 'a').Size(19),
       "name: no UTF-16 NUL terminator"},
      {"empty name", Bytes().Header(16, 0x01, 0, 0).U16(16, 0),
       "name is empty"},
      {"lone low surrogate",
       Bytes().Header(16, 0x01, 0, 0).U16(16, 0xdc00).U16(18, 0),
       "name: unpaired UTF-16 surrogate 0xdc00 at offset 16"},
      {"high surrogate then letter",
       Bytes().Header(16, 0x01, 0, 0).U16(16, 0xd800).U16(18, 'a').U16(20, 0),
       "name: unpaired UTF-16 surrogate 0xd800 at offset 16"},
      {"high surrogate at the end",
       Bytes().Header(16, 0x01, 0, 0).U16(16, 0xd800),
       "name: unpaired UTF-16 surrogate 0xd800"},
      {"boolean 2",
       Bytes().Header(28, 0x06, 0, 1).U32(16, 20).U64(20, 2).Utf16(28, "b"),
       "value 0: boolean is 2 (must be 0 or 1)"},
      {"scalar past the end",
       Bytes().Header(20, 0x02, 0, 1).U32(16, 24).Utf16(20, "u").Size(28),
       "value 0: offset 24 leaves no room for 8 bytes in the 28-byte entry"},
      {"indirection word past the end",
       Bytes().Header(20, 0x03, 0, 1).U32(16, 22).Utf16(20, "s").Size(24),
       "value 0: offset 22 leaves no room for the u32 data offset"},
      {"string target outside",
       Bytes().Header(24, 0x03, 0, 1).U32(16, 20).U32(20, 99).Utf16(24, "s"),
       "value 0: offset 99 is outside the 28-byte entry"},
      {"string without terminator",
       Bytes()
           .Header(24, 0x03, 0, 1)
           .U32(16, 20)
           .U32(20, 28)
           .Utf16(24, "s")
           .U16(28, 'x'),
       "value 0: no UTF-16 NUL terminator"},
      {"SID target outside",
       Bytes().Header(24, 0x05, 0, 1).U32(16, 20).U32(20, 28).Utf16(24, "g"),
       "value 0: data offset 28 is outside the 28-byte entry"},
      {"SID revision 2",
       Bytes()
           .Header(24, 0x05, 0, 1)
           .U32(16, 20)
           .U32(20, 28)
           .Utf16(24, "g")
           .Raw(28, {2, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}),
       "value 0: binary SID has revision 2"},
      {"SID truncated",
       Bytes()
           .Header(24, 0x05, 0, 1)
           .U32(16, 20)
           .U32(20, 28)
           .Utf16(24, "g")
           .Raw(28, {1, 2, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}),
       "value 0: binary SID truncated"},
      {"octet length truncated",
       Bytes()
           .Header(24, 0x10, 0, 1)
           .U32(16, 20)
           .U32(20, 28)
           .Utf16(24, "o")
           .Size(30),
       "value 0: octet length at offset 28 runs past the 30-byte entry"},
      {"octets past the end",
       Bytes()
           .Header(24, 0x10, 0, 1)
           .U32(16, 20)
           .U32(20, 28)
           .Utf16(24, "o")
           .U32(28, 5)
           .Size(36),
       "value 0: 5 octets at offset 28 run past the 36-byte entry"},
  };
  // A 257-unit name (the limit is 256).
  Bytes long_name;
  long_name.Header(16, 0x01, 0, 0).Utf16(16, std::string(257, 'n'));
  cases.push_back({"name too long", long_name,
                   "name is 257 UTF-16 code units (at most 256)"});
  for (const auto& test : cases) {
    INFO(test.description);
    auto claim = DecodeClaim(test.entry);
    REQUIRE_FALSE(claim);
    CHECK(claim.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(claim.error().message, Catch::Contains(test.fragment));
  }
}

TEST_CASE("a 256-unit claim name is accepted") {
  Bytes entry;
  entry.Header(16, 0x01, 0, 0).Utf16(16, std::string(256, 'n'));
  auto claim = DecodeClaim(entry.get());
  REQUIRE(claim);
  CHECK(claim->name == std::string(256, 'n'));
}

TEST_CASE("claim decoding refuses values whose canonical form would not fit") {
  // 1024 values all pointing at one 60-byte string: the entry is small, but
  // writing each value out would take 1024 * 64 bytes, beyond 64 KiB.
  Bytes shared;
  shared.Header(16 + 4 * 1024, 0x03, 0, 1024);
  const size_t name_at = 16 + 4 * 1024;
  shared.Utf16(name_at, "x");
  const size_t word_at = name_at + 4;
  shared.U32(word_at, static_cast<uint32_t>(word_at + 4));
  shared.Utf16(word_at + 4, std::string(30, 'v'));
  for (size_t i = 0; i < 1024; ++i)
    shared.U32(16 + 4 * i, static_cast<uint32_t>(word_at));
  auto claim = DecodeClaim(shared.get());
  REQUIRE_FALSE(claim);
  CHECK_THAT(claim.error().message,
             Catch::Contains("canonical form exceeds the 65536 bytes left"));
  // The same entry with 100 values fits (100 * (4 + 4 + 64) bytes).
  Bytes fits;
  fits.Header(16 + 4 * 100, 0x03, 0, 100);
  const size_t fits_name = 16 + 4 * 100;
  fits.Utf16(fits_name, "x");
  fits.U32(fits_name + 4, static_cast<uint32_t>(fits_name + 8));
  fits.Utf16(fits_name + 8, std::string(30, 'v'));
  for (size_t i = 0; i < 100; ++i)
    fits.U32(16 + 4 * i, static_cast<uint32_t>(fits_name + 4));
  auto ok = DecodeClaim(fits.get());
  REQUIRE(ok);
  CHECK(ok->values.size() == 100);
  CHECK(EncodeClaim(*ok));
}

TEST_CASE("claim array decoding consumes the buffer exactly") {
  auto both =
      DecodeClaims(Wrap({CanonicalUint64Entry(), CanonicalStringEntry()}));
  REQUIRE(both);
  REQUIRE(both->size() == 2);
  CHECK((*both)[0].name == "a");
  CHECK((*both)[1].name == "s");
  auto empty = DecodeClaims({});
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("claim array decoding refuses bad wrappers naming the claim index") {
  struct Case {
    const char* description;
    std::vector<uint8_t> bytes;
    const char* fragment;
  };
  std::vector<uint8_t> truncated = Wrap({CanonicalUint64Entry()});
  truncated.push_back(1);
  truncated.push_back(0);
  std::vector<uint8_t> zero = Wrap({CanonicalUint64Entry()});
  zero.insert(zero.end(), {0, 0, 0, 0});
  std::vector<uint8_t> past = Wrap({CanonicalUint64Entry()});
  past.insert(past.end(), {40, 0, 0, 0, 1, 2, 3});
  auto bad_second = CanonicalStringEntry();
  bad_second[6] = 1;  // reserved
  auto renamed = CanonicalStringEntry();
  renamed[32] = 'A';  // name "A" repeats "a" (case-insensitive)
  const std::vector<Case> cases = {
      {"truncated entry_len", truncated,
       "claim 1: entry_len truncated (2 bytes left)"},
      {"zero entry_len", zero, "claim 1: entry_len is 0"},
      {"entry_len past the end", past,
       "claim 1: entry_len 40 runs past the array (3 bytes left)"},
      {"bad field in the second claim",
       Wrap({CanonicalUint64Entry(), bad_second}),
       "claim 1: reserved is 0x1 (must be 0)"},
      {"repeated name", Wrap({CanonicalUint64Entry(), renamed}),
       "claim 1: name 'A' repeats claim 0"},
      {"oversized array", std::vector<uint8_t>(65537, 0),
       "claim array is 65537 bytes (at most 65536)"},
  };
  for (const auto& test : cases) {
    INFO(test.description);
    auto claims = DecodeClaims(test.bytes);
    REQUIRE_FALSE(claims);
    CHECK_THAT(claims.error().message, Catch::Contains(test.fragment));
  }
}

TEST_CASE("claim validation refuses claims the codec cannot represent") {
  struct Case {
    const char* description;
    Claim claim;
    const char* fragment;
  };
  std::vector<ClaimValue> too_many(1025, int64_t{1});
  const std::vector<Case> cases = {
      {"empty name", Claim{"", ClaimType::kInt64, 0, {}},
       "claim name is empty"},
      {"NUL in name", Claim{std::string("a\0b", 3), ClaimType::kInt64, 0, {}},
       "claim name contains a NUL"},
      {"overlong UTF-8", Claim{"\xc0\x80", ClaimType::kInt64, 0, {}},
       "claim name is not valid UTF-8"},
      {"UTF-8 surrogate", Claim{"\xed\xa0\x80", ClaimType::kInt64, 0, {}},
       "claim name is not valid UTF-8"},
      {"truncated UTF-8", Claim{"\xe2\x82", ClaimType::kInt64, 0, {}},
       "claim name is not valid UTF-8"},
      {"above U+10FFFF", Claim{"\xf4\x90\x80\x80", ClaimType::kInt64, 0, {}},
       "claim name is not valid UTF-8"},
      {"name too long", Claim{std::string(257, 'x'), ClaimType::kInt64, 0, {}},
       "claim name is 257 UTF-16 code units"},
      {"unknown type", Claim{"a", static_cast<ClaimType>(4), 0, {}},
       "claim 'a': unknown claim type 0x4"},
      {"unknown flags", Claim{"a", ClaimType::kInt64, 0x100, {}},
       "claim 'a': unknown flag bits 0x100"},
      {"too many values", Claim{"a", ClaimType::kInt64, 0, too_many},
       "claim 'a': 1025 values (at most 1024)"},
      {"wrong alternative", Claim{"a", ClaimType::kString, 0, {uint64_t{1}}},
       "claim 'a': value 0 is a uint64 but the claim type is string"},
      {"NUL in a string value",
       Claim{"a", ClaimType::kString, 0, {std::string("x\0y", 3)}},
       "claim 'a': value 0 contains a NUL character"},
      {"bad UTF-8 in a value",
       Claim{"a", ClaimType::kString, 0, {std::string("\xff")}},
       "claim 'a': value 0 is not valid UTF-8"},
  };
  for (const auto& test : cases) {
    INFO(test.description);
    auto status = ValidateClaim(test.claim);
    REQUIRE_FALSE(status);
    CHECK_THAT(status.error().message, Catch::Contains(test.fragment));
    CHECK_FALSE(EncodeClaim(test.claim));
  }
}

TEST_CASE("claim array encoding refuses a repeated name and oversized arrays") {
  auto repeated = EncodeClaims({Claim{"Dept", ClaimType::kInt64, 0, {}},
                                Claim{"dept", ClaimType::kInt64, 0, {}}});
  REQUIRE_FALSE(repeated);
  CHECK_THAT(repeated.error().message,
             Catch::Contains("claim 1: name 'dept' repeats claim 0"));
  // Two claims of 40000 octets each cannot fit in 64 KiB.
  const Claim big{
      "big", ClaimType::kOctetString, 0, {std::vector<uint8_t>(40000, 7)}};
  Claim big2 = big;
  big2.name = "big2";
  auto oversized = EncodeClaims({big, big2});
  REQUIRE_FALSE(oversized);
  CHECK_THAT(oversized.error().message,
             Catch::Contains("claim array exceeds 65536 bytes at claim 1"));
  const Claim huge{
      "huge", ClaimType::kOctetString, 0, {std::vector<uint8_t>(70000, 7)}};
  auto entry = EncodeClaim(huge);
  REQUIRE_FALSE(entry);
  CHECK_THAT(
      entry.error().message,
      Catch::Contains("claim 'huge': encoded entry exceeds 65536 bytes"));
}

TEST_CASE("claims survive an encode and decode round trip") {
  const std::vector<Claim> claims = {
      Claim{"int",
            ClaimType::kInt64,
            claim_flags::kMandatory,
            {int64_t{INT64_MIN}, int64_t{-1}, int64_t{0}, int64_t{INT64_MAX}}},
      Claim{"uint", ClaimType::kUint64, 0, {uint64_t{0}, uint64_t{UINT64_MAX}}},
      Claim{"title",
            ClaimType::kString,
            claim_flags::kCaseSensitive,
            {std::string("Engineer"),
             std::string("caf\xc3\xa9 \xf0\x9f\x98\x80"), std::string()}},
      Claim{"groups",
            ClaimType::kSid,
            claim_flags::kUseForDenyOnly,
            {S("S-1-1-0"), S("S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14")}},
      Claim{"flag", ClaimType::kBoolean, claim_flags::kDisabled, {true, false}},
      Claim{"blob",
            ClaimType::kOctetString,
            claim_flags::kAll,
            {std::vector<uint8_t>{}, std::vector<uint8_t>{1},
             std::vector<uint8_t>{1, 2, 3, 4, 5}}},
      Claim{"none", ClaimType::kString, 0, {}},
  };
  auto bytes = EncodeClaims(claims);
  REQUIRE(bytes);
  CHECK(bytes->size() % 4 == 0);
  auto decoded = DecodeClaims(*bytes);
  REQUIRE(decoded);
  CHECK(*decoded == claims);
  // Re-encoding the decoded claims reproduces the bytes.
  CHECK(EncodeClaims(*decoded).value() == *bytes);
}

TEST_CASE("claim values and claims format as documented") {
  CHECK(FormatClaimValue(int64_t{-5}) == "-5");
  CHECK(FormatClaimValue(uint64_t{UINT64_MAX}) == "18446744073709551615");
  CHECK(FormatClaimValue(true) == "true");
  CHECK(FormatClaimValue(false) == "false");
  CHECK(FormatClaimValue(std::string("a\"b\\c\nd\te\x01")) ==
        "\"a\\\"b\\\\c\\nd\\te\\x01\"");
  CHECK(FormatClaimValue(std::string("caf\xc3\xa9")) == "\"caf\xc3\xa9\"");
  CHECK(FormatClaimValue(S("S-1-5-32-544")) == "S-1-5-32-544");
  CHECK(FormatClaimValue(std::vector<uint8_t>{0xde, 0xad, 0x0f}) == "dead0f");
  CHECK(FormatClaimValue(std::vector<uint8_t>{}) == "");
  CHECK(FormatClaim(Claim{"title",
                          ClaimType::kString,
                          0x2,
                          {std::string("Engineer"), std::string("Lead")}}) ==
        "title  string  [case-sensitive]  \"Engineer\", \"Lead\"");
  CHECK(FormatClaim(
            Claim{"clearance level", ClaimType::kUint64, 0, {uint64_t{3}}}) ==
        "\"clearance level\"  uint64  []  3");
  CHECK(FormatClaim(Claim{"x", ClaimType::kBoolean, 0x14, {}}) ==
        "x  boolean  [deny-only,disabled]");
}

}  // namespace
}  // namespace tokenfs
