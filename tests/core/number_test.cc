#include "core/number.h"

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>

namespace tokenfs {
namespace {

struct Valid {
  std::string text;
  uint64_t max;
  NumberBase base;
  uint64_t value;
};

struct Invalid {
  std::string text;
  uint64_t max;
  NumberBase base;
  std::string message;
  int column;
};

constexpr auto kDec = NumberBase::kDecimal;
constexpr auto kHex = NumberBase::kHex;
constexpr auto kAny = NumberBase::kDecimalOrHex;

TEST_CASE("valid numbers parse to their value") {
  const Valid table[] = {
      {"0", UINT64_MAX, kAny, 0},
      {"7", UINT64_MAX, kAny, 7},
      {"007", UINT64_MAX, kAny, 7},
      {"0x1f", UINT64_MAX, kAny, 0x1f},
      {"0X1F", UINT64_MAX, kAny, 0x1f},
      {"0xAbC", UINT64_MAX, kAny, 0xabc},
      {"0x0", UINT64_MAX, kAny, 0},
      {"4294967295", UINT32_MAX, kAny, UINT32_MAX},
      {"0xffffffff", UINT32_MAX, kAny, UINT32_MAX},
      {"18446744073709551615", UINT64_MAX, kAny, UINT64_MAX},
      {"0xffffffffffffffff", UINT64_MAX, kAny, UINT64_MAX},
      {"2147483647", INT32_MAX, kDec, INT32_MAX},
      {"00000000000000000000001", 1, kDec, 1},
      {"ff", 0xff, kHex, 0xff},
      {"0A", 0xff, kHex, 10},
      {"10", 0xff, kHex, 16},
  };
  for (const auto& row : table) {
    INFO(row.text);
    REQUIRE(row.value <= row.max);  // the table itself is consistent
    auto value = ParseUnsigned(row.text, row.max, row.base);
    REQUIRE(value);
    CHECK(*value == row.value);
  }
}

TEST_CASE("invalid numbers are refused with the exact error") {
  const Invalid table[] = {
      {"", UINT64_MAX, kAny, "empty number", 0},
      {"", UINT64_MAX, kDec, "empty number", 0},
      {"", UINT64_MAX, kHex, "empty number", 0},
      {"0x", UINT64_MAX, kAny, "'0x' is not a decimal or 0x-hex number", 2},
      {"0X", UINT64_MAX, kAny, "'0X' is not a decimal or 0x-hex number", 2},
      {"+1", UINT64_MAX, kAny, "'+1' is not a decimal or 0x-hex number", 1},
      {"-1", UINT64_MAX, kAny, "'-1' is not a decimal or 0x-hex number", 1},
      {" 1", UINT64_MAX, kAny, "' 1' is not a decimal or 0x-hex number", 1},
      {"1 ", UINT64_MAX, kAny, "'1 ' is not a decimal or 0x-hex number", 2},
      {"1f", UINT64_MAX, kAny, "'1f' is not a decimal or 0x-hex number", 2},
      {"0x1g", UINT64_MAX, kAny, "'0x1g' is not a decimal or 0x-hex number",
       4},
      {"0x0x1", UINT64_MAX, kAny, "'0x0x1' is not a decimal or 0x-hex number",
       4},
      {"0x1f", UINT64_MAX, kDec, "'0x1f' is not a decimal number", 2},
      {"x1", UINT64_MAX, kHex, "'x1' is not a hex number", 1},
      {"0x1", UINT64_MAX, kHex, "'0x1' is not a hex number", 2},
      {"4294967296", UINT32_MAX, kAny, "'4294967296' is more than 4294967295",
       0},
      {"0x100000000", UINT32_MAX, kAny,
       "'0x100000000' is more than 4294967295", 0},
      {"18446744073709551616", UINT64_MAX, kAny,
       "'18446744073709551616' is more than 18446744073709551615", 0},
      {"0x10000000000000000", UINT64_MAX, kAny,
       "'0x10000000000000000' is more than 18446744073709551615", 0},
      {"2147483648", INT32_MAX, kDec, "'2147483648' is more than 2147483647",
       0},
      {"100", 0xff, kHex, "'100' is more than 255", 0},
      {"1", 0, kAny, "'1' is more than 0", 0},
  };
  for (const auto& row : table) {
    INFO(row.text);
    auto value = ParseUnsigned(row.text, row.max, row.base);
    REQUIRE_FALSE(value);
    CHECK(value.error().code == ErrorCode::kInvalidArgument);
    CHECK(value.error().message == row.message);
    CHECK(value.error().column == row.column);
  }
}

TEST_CASE("formatted numbers parse back to the same value") {
  const uint64_t values[] = {0,          1,          9,          10,
                             15,         16,         255,        256,
                             INT32_MAX,  UINT32_MAX, 0x8000000000000000u,
                             UINT64_MAX - 1,         UINT64_MAX};
  for (const uint64_t value : values) {
    for (const auto base : {kDec, kHex, kAny}) {
      const std::string text = FormatUnsigned(value, base);
      INFO(text);
      auto again = ParseUnsigned(text, UINT64_MAX, base);
      REQUIRE(again);
      CHECK(*again == value);
      // Canonical: the text is exactly what FormatUnsigned gives back.
      CHECK(FormatUnsigned(*again, base) == text);
    }
  }
  CHECK(FormatUnsigned(255, kHex) == "ff");
  CHECK(FormatUnsigned(255) == "255");
}

}  // namespace
}  // namespace tokenfs
