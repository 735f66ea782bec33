#include "core/sid.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace tokenfs {
namespace {

// Expected values come from [MS-DTYP] 2.4.2 (SID layout: authority 6 bytes
// big-endian, sub-authorities 32-bit little-endian) and 2.4.2.1 (string
// form), and from Windows-recorded SDDL pairs in Samba's
// libcli/security/tests/windows/non_canonical.txt ("S-1-21474836480-32-579"
// -> "S-1-0x500000000-32-579", "S-1-5000000000-30-40" ->
// "S-1-0x12A05F200-30-40", "S-1-0x2-3-4" -> "S-1-2-3-4"): Windows prints an
// authority of 2^32 or more as upper-case hex without padding. Binary
// vectors are assembled by hand from that layout.

struct CanonicalCase {
  const char* input;
  const char* canonical;
};

const std::vector<CanonicalCase> kCanonicalCases = {
    {"S-1-5-32-544", "S-1-5-32-544"},
    {"s-1-5-18", "S-1-5-18"},
    {"S-1-0-0", "S-1-0-0"},
    {"S-1-5", "S-1-5"},  // zero sub-authorities is a valid SID
    {"S-1-0x2-3-4", "S-1-2-3-4"},
    {"S-1-0X20-3-4", "S-1-32-3-4"},
    {"S-1-0x00000005-18", "S-1-5-18"},
    {"S-1-21474836480-32-579", "S-1-0x500000000-32-579"},
    {"S-1-5000000000-30-40", "S-1-0x12A05F200-30-40"},
    {"S-1-0x12a05f200-30-40", "S-1-0x12A05F200-30-40"},
    {"S-1-4294967295-1", "S-1-4294967295-1"},
    {"S-1-4294967296", "S-1-0x100000000"},
    {"S-1-281474976710655", "S-1-0xFFFFFFFFFFFF"},
    {"S-1-0xffffffffffff-7", "S-1-0xFFFFFFFFFFFF-7"},
    {"S-1-5-4294967295", "S-1-5-4294967295"},
    {"S-1-5-007", "S-1-5-7"},
    {"S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14",
     "S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14"},
    {"S-1-5-5-0-999", "S-1-5-5-0-999"},
    {"S-1-22-1-1000", "S-1-22-1-1000"},
    {"S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-"
     "3232135806-4053264122-3456934681",
     "S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-"
     "3232135806-4053264122-3456934681"},
};

TEST_CASE("SID strings parse and print in Windows' canonical form") {
  for (const CanonicalCase& test : kCanonicalCases) {
    INFO("input: " << test.input);
    auto sid = Sid::Parse(test.input);
    REQUIRE(sid.has_value());
    CHECK(sid->ToString() == test.canonical);
  }
}

struct InvalidCase {
  const char* input;
  const char* fragment;
  int column;
};

const std::vector<InvalidCase> kInvalidCases = {
    {"", "empty SID", 1},
    {"X-1-5", "a SID starts with 'S-'", 1},
    {"S1-5", "a SID starts with 'S-'", 2},
    {"S-", "expected revision", 3},
    {"S-2-5-18", "unsupported SID revision 2 (only 1)", 3},
    {"S-256-5", "revision exceeds 255", 3},
    {"S-0x1-5-18", "unexpected character 'x' in revision", 4},
    {"S-1", "expected '-' and an identifier authority", 4},
    {"S-1-", "expected identifier authority", 5},
    {"S--1-5", "expected revision", 3},
    {"S-1--5", "expected identifier authority", 5},
    {"S-1-5-", "expected sub-authority", 7},
    {"S-1-5--18", "expected sub-authority", 7},
    {"S-1-5-18-", "expected sub-authority", 10},
    {"S-1-5-4294967296", "sub-authority exceeds 4294967295", 7},
    {"S-1-5-99999999999999999999", "sub-authority exceeds 4294967295", 7},
    {"S-1-281474976710656", "identifier authority exceeds 281474976710655", 5},
    {"S-1-0x1000000000000-1", "identifier authority exceeds 281474976710655",
     5},
    {"S-1-0x", "expected hex digits after 0x in identifier authority", 7},
    {"S-1-0xG", "expected hex digits after 0x in identifier authority", 7},
    {"S-1-0x5G", "unexpected character 'G' in identifier authority", 8},
    {"S-1-5-0x12", "unexpected character 'x' in sub-authority", 8},
    {"S-1-5-18x", "unexpected character 'x' in sub-authority", 9},
    {"S-1-5-+18", "unexpected character '+' in sub-authority", 7},
    {"S-1-5-18 ", "byte 0x20 in sub-authority", 9},
    {" S-1-5-18", "a SID starts with 'S-'", 1},
    {"S-1-5-1\xff", "byte 0xff in sub-authority", 8},
    {"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
     "a SID has at most 15 sub-authorities", 43},
};

TEST_CASE("malformed SID strings fail naming the problem and its column") {
  for (const InvalidCase& test : kInvalidCases) {
    INFO("input: " << test.input);
    auto sid = Sid::Parse(test.input);
    REQUIRE_FALSE(sid.has_value());
    CHECK(sid.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(sid.error().message, Catch::Contains(test.fragment));
    CHECK(sid.error().column == test.column);
  }
}

// Canonical strings survive text -> SID -> binary -> SID -> text unchanged.
const std::vector<const char*> kRoundTripCases = {
    "S-1-0-0",
    "S-1-1-0",
    "S-1-5",
    "S-1-5-18",
    "S-1-5-32-544",
    "S-1-16-12288",
    "S-1-5-5-4294967295-4294967295",
    "S-1-22-2-4294967294",
    "S-1-0x500000000-32-579",
    "S-1-0xFFFFFFFFFFFF-0",
    "S-1-5-21-4294967295-4294967295-4294967295-4294967295-4294967295-"
    "4294967295-4294967295-4294967295-4294967295-4294967295-4294967295-"
    "4294967295-4294967295-4294967295",
};

TEST_CASE("canonical SID strings round-trip through the binary form") {
  for (const char* text : kRoundTripCases) {
    INFO("text: " << text);
    auto sid = Sid::Parse(text);
    REQUIRE(sid.has_value());
    CHECK(sid->ToString() == text);
    const std::vector<uint8_t> bytes = sid->ToBinary();
    CHECK(bytes.size() == sid->BinarySize());
    size_t consumed = 0;
    auto decoded = Sid::FromBinary(bytes, &consumed);
    REQUIRE(decoded.has_value());
    CHECK(consumed == bytes.size());
    CHECK(*decoded == *sid);
    CHECK(decoded->ToString() == text);
  }
}

TEST_CASE("a binary SID has a big-endian authority and little-endian RIDs") {
  // S-1-5-32-544: revision 1, two sub-authorities, authority 5, then 32 and
  // 544 (0x220) little-endian.
  const std::vector<uint8_t> admins = {0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x05, 0x20, 0x00, 0x00, 0x00,
                                       0x20, 0x02, 0x00, 0x00};
  CHECK(Sid::Parse("S-1-5-32-544")->ToBinary() == admins);
  auto decoded = Sid::FromBinary(admins);
  REQUIRE(decoded.has_value());
  CHECK(decoded->ToString() == "S-1-5-32-544");

  // The authority's six bytes in order, most significant first; the RID
  // 0x12345678 least significant first.
  const std::vector<uint8_t> mixed = {0x01, 0x01, 0x12, 0x34, 0x56, 0x78,
                                      0x9a, 0xbc, 0x78, 0x56, 0x34, 0x12};
  auto sid = Sid::Parse("S-1-0x123456789ABC-305419896");
  REQUIRE(sid.has_value());
  CHECK(sid->authority() == 0x123456789abcu);
  CHECK(sid->ToBinary() == mixed);
  auto back = Sid::FromBinary(mixed);
  REQUIRE(back.has_value());
  CHECK(*back == *sid);

  // Zero sub-authorities: the 8-byte header alone.
  const std::vector<uint8_t> bare = {0x01, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x05};
  CHECK(Sid::Parse("S-1-5")->ToBinary() == bare);
}

TEST_CASE("a binary SID leaves trailing bytes to the caller") {
  const std::vector<uint8_t> bytes = {0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x05, 0x12, 0x00, 0x00, 0x00, 0xde, 0xad};
  size_t consumed = 0;
  auto sid = Sid::FromBinary(bytes, &consumed);
  REQUIRE(sid.has_value());
  CHECK(consumed == 12);
  CHECK(sid->ToString() == "S-1-5-18");
}

TEST_CASE("malformed binary SIDs fail with the exact reason") {
  struct BinaryCase {
    std::vector<uint8_t> bytes;
    const char* message;
  };
  const std::vector<BinaryCase> cases = {
      {{}, "binary SID truncated: 0 bytes, need at least 8"},
      {{0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05},
       "binary SID truncated: 7 bytes, need at least 8"},
      {{0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05},
       "binary SID has revision 2 (only 1)"},
      {{0x01, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05},
       "binary SID claims 16 sub-authorities (at most 15)"},
      {{0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00},
       "binary SID truncated: 12 bytes, need 16"},
  };
  for (const BinaryCase& test : cases) {
    INFO("expected: " << test.message);
    size_t consumed = 99;
    auto sid = Sid::FromBinary(test.bytes, &consumed);
    REQUIRE_FALSE(sid.has_value());
    CHECK(sid.error().code == ErrorCode::kInvalidArgument);
    CHECK(sid.error().message == test.message);
    CHECK(consumed == 99);  // untouched on failure
  }
}

TEST_CASE("creating a SID refuses an authority or count out of range") {
  const std::vector<uint32_t> sixteen(16, 1);
  auto too_many = Sid::Create(5, sixteen);
  REQUIRE_FALSE(too_many.has_value());
  CHECK(too_many.error().message == "a SID has at most 15 sub-authorities");

  const std::vector<uint32_t> one = {1};
  auto too_wide = Sid::Create(uint64_t{1} << 48, one);
  REQUIRE_FALSE(too_wide.has_value());
  CHECK(too_wide.error().message == "identifier authority exceeds 48 bits");

  auto widest = Sid::Create(Sid::kMaxAuthority, one);
  REQUIRE(widest.has_value());
  CHECK(widest->ToString() == "S-1-0xFFFFFFFFFFFF-1");

  const std::vector<uint32_t> fifteen(15, 7);
  auto most = Sid::Create(5, fifteen);
  REQUIRE(most.has_value());
  CHECK(most->BinarySize() == Sid::kMaxBinarySize);
}

TEST_CASE("a default SID is the null SID S-1-0-0") {
  CHECK(Sid().ToString() == "S-1-0-0");
  CHECK(Sid() == Sid::Known(0, {0}));
}

TEST_CASE("SID accessors report the authority, RID and prefix") {
  const Sid sid = Sid::Known(5, {21, 10, 20, 30, 1013});
  CHECK(sid.authority() == 5);
  CHECK(sid.sub_authority_count() == 5);
  CHECK(sid.rid() == 1013);
  CHECK(sid.HasPrefix(5, {21}));
  CHECK(sid.HasPrefix(5, {21, 10, 20, 30, 1013}));
  CHECK_FALSE(sid.HasPrefix(5, {21, 10, 20, 30, 1013, 1}));
  CHECK_FALSE(sid.HasPrefix(1, {21}));
  CHECK(Sid::Known(5, {}).rid() == 0);
}

TEST_CASE("SIDs compare by authority, then sub-authorities, then length") {
  const Sid world = Sid::Known(1, {0});
  const Sid nt = Sid::Known(5, {});
  const Sid nt0 = Sid::Known(5, {0});
  const Sid system = Sid::Known(5, {18});
  const Sid admins = Sid::Known(5, {32, 544});
  CHECK(world < nt);
  CHECK(nt < nt0);
  CHECK(system < admins);
  CHECK(admins == Sid::Known(5, {32, 544}));
  CHECK(admins != Sid::Known(5, {32, 545}));
  CHECK(Sid::Known(5, {32}) != Sid::Known(5, {32, 0}));

  std::unordered_set<Sid> set = {world,  nt,     nt0,
                                 system, admins, Sid::Known(5, {32, 544})};
  CHECK(set.size() == 5);
  CHECK(admins.Hash() == Sid::Known(5, {32, 544}).Hash());
}

}  // namespace
}  // namespace tokenfs
