#include "core/privilege.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tokenfs {

// Catalog facts from the Peios KACS v0.20 privilege catalog: a privilege's
// bit number is its Windows LUID value.

TEST_CASE("the privilege catalog has 36 privileges on bits 2-35, 62 and 63") {
  const std::span<const PrivilegeInfo> catalog = PrivilegeCatalog();
  REQUIRE(catalog.size() == 36);
  std::vector<int> bits;
  uint64_t mask = 0;
  for (const PrivilegeInfo& info : catalog) {
    bits.push_back(info.bit);
    mask |= privilege::Bit(info.bit);
  }
  std::vector<int> expected;
  for (int bit = 2; bit <= 35; ++bit) expected.push_back(bit);
  expected.push_back(62);
  expected.push_back(63);
  CHECK(bits == expected);
  CHECK(mask == 0xC000000FFFFFFFFCull);
  CHECK(privilege::kCatalogMask == 0xC000000FFFFFFFFCull);
}

TEST_CASE("every catalog privilege has a canonical, short and described name") {
  for (const PrivilegeInfo& info : PrivilegeCatalog()) {
    INFO(info.bit);
    const std::string name(info.name);
    REQUIRE(name.size() > 11);
    CHECK(name.substr(0, 2) == "Se");
    CHECK(name.substr(name.size() - 9) == "Privilege");
    CHECK(info.short_name == name.substr(0, name.size() - 9));
    CHECK_FALSE(info.description.empty());
    CHECK(FindPrivilege(info.bit) == &info);
  }
}

TEST_CASE("the catalog names the Peios bits as Windows does") {
  struct Case {
    int bit;
    std::string_view name;
  };
  const Case cases[] = {
      {2, "SeCreateTokenPrivilege"},   {7, "SeTcbPrivilege"},
      {12, "SeSystemtimePrivilege"},   {20, "SeDebugPrivilege"},
      {23, "SeChangeNotifyPrivilege"}, {29, "SeImpersonatePrivilege"},
      {32, "SeRelabelPrivilege"},      {35, "SeCreateSymbolicLinkPrivilege"},
      {62, "SeCreateJobPrivilege"},    {63, "SeBindPrivilegedPortPrivilege"},
  };
  for (const Case& c : cases) {
    const PrivilegeInfo* info = FindPrivilege(c.bit);
    REQUIRE(info);
    CHECK(info->name == c.name);
  }
  CHECK(privilege::kTcb == 7);
  CHECK(privilege::kChangeNotify == 23);
  CHECK(privilege::kBindPrivilegedPort == 63);
}

TEST_CASE("bits outside the catalog have no entry") {
  for (int bit : {-1, 0, 1, 36, 50, 61, 64}) {
    INFO(bit);
    CHECK(FindPrivilege(bit) == nullptr);
  }
}

// ---- ParsePrivilegeName: the three parser tables.

TEST_CASE("privilege names parse from short, canonical, any case or numbers") {
  struct Case {
    std::string_view input;
    int bit;
  };
  const Case cases[] = {
      {"SeDebug", 20},
      {"sedebug", 20},
      {"SEDEBUG", 20},
      {"SeDebugPrivilege", 20},
      {"sedebugprivilege", 20},
      {"SeSystemtime", 12},
      {"SeSystemTime", 12},  // older Peios spelling, any case accepted
      {"SeBindPrivilegedPort", 63},
      {"SeBindPrivilegedPortPrivilege", 63},
      {"20", 20},
      {"020", 20},
      {"0x14", 20},
      {"0X14", 20},
      {"0x3F", 63},
      {"2", 2},
      {"62", 62},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    Result<int> bit = ParsePrivilegeName(c.input);
    REQUIRE(bit);
    CHECK(*bit == c.bit);
  }
}

TEST_CASE("unknown privilege names are refused naming them") {
  const std::string_view inputs[] = {
      "",   "SeFoo", "SeDebugPriv", "Debug", "1",   "36",   "61",   "64",
      "0x", "0x1g",  "-1",          "20 ",   " 20", "0x40", "99999"};
  for (std::string_view input : inputs) {
    INFO("'" << input << "'");
    Result<int> bit = ParsePrivilegeName(input);
    REQUIRE_FALSE(bit);
    CHECK(bit.error().code == ErrorCode::kInvalidArgument);
    CHECK(bit.error().message ==
          "unknown privilege '" + std::string(input) + "'");
    CHECK(bit.error().column == 1);
  }
}

TEST_CASE("every privilege name round-trips through its short name") {
  for (const PrivilegeInfo& info : PrivilegeCatalog()) {
    INFO(info.name);
    for (const std::string& spelling :
         {std::string(info.short_name), std::string(info.name),
          std::to_string(info.bit)}) {
      Result<int> bit = ParsePrivilegeName(spelling);
      REQUIRE(bit);
      CHECK(*bit == info.bit);
      CHECK(PrivilegeShortName(*bit) == info.short_name);
    }
  }
}

TEST_CASE("short names drop the suffix and unnamed bits show their number") {
  CHECK(PrivilegeShortName(20) == "SeDebug");
  CHECK(PrivilegeShortName(12) == "SeSystemtime");
  CHECK(PrivilegeShortName(6) == "SeMachineAccount");
  CHECK(PrivilegeShortName(0) == "<privilege bit 0>");
  CHECK(PrivilegeShortName(40) == "<privilege bit 40>");
}

TEST_CASE("a privilege set answers presence and enablement by bit") {
  PrivilegeSet set;
  set.present =
      privilege::Bit(privilege::kDebug) | privilege::Bit(privilege::kBackup);
  set.enabled = privilege::Bit(privilege::kDebug);
  CHECK(set.IsPresent(privilege::kDebug));
  CHECK(set.IsPresent(privilege::kBackup));
  CHECK_FALSE(set.IsPresent(privilege::kTcb));
  CHECK(set.IsEnabled(privilege::kDebug));
  CHECK_FALSE(set.IsEnabled(privilege::kBackup));
  CHECK(privilege::Bit(63) == 0x8000000000000000ull);
}

}  // namespace tokenfs
