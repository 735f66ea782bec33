#include "core/access_mask.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

// Expected values: the token mapping from the Peios KACS token access rights
// (read TOKEN_QUERY | READ_CONTROL = 0x20008, execute TOKEN_IMPERSONATE =
// 0x4, all TOKEN_ALL_ACCESS = 0xf01ff) with the write member core/
// access_mask.h documents (Windows TOKEN_WRITE 0x200e0 plus WRITE_DAC =
// 0x600e0); the file mapping from the Windows SDK definitions
// FILE_GENERIC_READ = STANDARD_RIGHTS_READ | FILE_READ_DATA |
// FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE = 0x120089,
// FILE_GENERIC_WRITE = 0x120116, FILE_GENERIC_EXECUTE = 0x1200a0,
// FILE_ALL_ACCESS = 0x1f01ff; right bit values from MS-DTYP 2.4.3.

namespace tokenfs {
namespace {

constexpr uint32_t kGenericRead = 0x80000000;
constexpr uint32_t kGenericWrite = 0x40000000;
constexpr uint32_t kGenericExecute = 0x20000000;
constexpr uint32_t kGenericAll = 0x10000000;

uint32_t Map(uint32_t mask, const GenericMapping& mapping) {
  return MapGeneric(AccessMask(mask), mapping).bits();
}

TEST_CASE("the token mapping maps each generic right") {
  CHECK(Map(kGenericRead, kTokenGenericMapping) == 0x20008u);
  CHECK(Map(kGenericWrite, kTokenGenericMapping) == 0x600e0u);
  CHECK(Map(kGenericExecute, kTokenGenericMapping) == 0x4u);
  CHECK(Map(kGenericAll, kTokenGenericMapping) == 0xf01ffu);
}

TEST_CASE("the file mapping maps each generic right") {
  CHECK(Map(kGenericRead, kFileGenericMapping) == 0x120089u);
  CHECK(Map(kGenericWrite, kFileGenericMapping) == 0x120116u);
  CHECK(Map(kGenericExecute, kFileGenericMapping) == 0x1200a0u);
  CHECK(Map(kGenericAll, kFileGenericMapping) == 0x1f01ffu);
}

TEST_CASE("the plain mapping maps read, write and execute to READ_CONTROL") {
  CHECK(Map(kGenericRead, kPlainGenericMapping) == 0x20000u);
  CHECK(Map(kGenericWrite, kPlainGenericMapping) == 0x20000u);
  CHECK(Map(kGenericExecute, kPlainGenericMapping) == 0x20000u);
  // STANDARD_RIGHTS_REQUIRED 0xf0000 | every object-specific bit 0xffff.
  CHECK(Map(kGenericAll, kPlainGenericMapping) == 0xfffffu);
}

// Windows SDK values: KEY_READ = STANDARD_RIGHTS_READ | KEY_QUERY_VALUE |
// KEY_ENUMERATE_SUB_KEYS | KEY_NOTIFY = 0x20019, KEY_WRITE =
// STANDARD_RIGHTS_WRITE | KEY_SET_VALUE | KEY_CREATE_SUB_KEY = 0x20006,
// KEY_EXECUTE = KEY_READ, KEY_ALL_ACCESS = 0xf003f. Process and thread: the
// object types' mappings as Windows 10 reports them (PROCESS_VM_READ 0x10 |
// PROCESS_QUERY_INFORMATION 0x400 | READ_CONTROL; THREAD_GET_CONTEXT 0x8 |
// THREAD_QUERY_INFORMATION 0x40 | READ_CONTROL; ...). Service: the SCM's
// documented GENERIC_* rows (Service Security and Access Rights).
TEST_CASE("each named mapping maps the generic rights as Windows does") {
  struct Row {
    const char* name;
    uint32_t read, write, execute, all;
  };
  const Row rows[] = {
      {"token", 0x20008, 0x600e0, 0x4, 0xf01ff},
      {"file", 0x120089, 0x120116, 0x1200a0, 0x1f01ff},
      {"directory", 0x120089, 0x120116, 0x1200a0, 0x1f01ff},
      {"key", 0x20019, 0x20006, 0x20019, 0xf003f},
      {"process", 0x20410, 0x20bea, 0x121001, 0x1fffff},
      {"thread", 0x20048, 0x20437, 0x121800, 0x1fffff},
      {"service", 0x2008d, 0x20002, 0x20170, 0xf01ff},
      {"plain", 0x20000, 0x20000, 0x20000, 0xfffff},
  };
  for (const Row& row : rows) {
    INFO(row.name);
    auto parsed = ParseGenericMapping(row.name);
    REQUIRE(parsed);
    CHECK(parsed->name == row.name);
    CHECK_FALSE(parsed->custom);
    CHECK(Map(kGenericRead, parsed->mapping) == row.read);
    CHECK(Map(kGenericWrite, parsed->mapping) == row.write);
    CHECK(Map(kGenericExecute, parsed->mapping) == row.execute);
    CHECK(Map(kGenericAll, parsed->mapping) == row.all);
    CHECK(GenericLeftAfterMapping(AccessMask(0xf0000000), parsed->mapping)
              .empty());
  }
}

TEST_CASE("generic mappings parse to their canonical text") {
  struct Row {
    const char* input;
    const char* canonical;
  };
  const Row rows[] = {
      {"token", "token"},
      {"FILE", "file"},
      {"Directory", "directory"},
      {"generic", "plain"},
      {"0x120089,0x120116,0x1200a0,0x1f01ff",
       "0x120089,0x120116,0x1200a0,0x1f01ff"},
      {"120089,120116,1200A0,1F01FF", "0x120089,0x120116,0x1200a0,0x1f01ff"},
      {"0X0,0x00000000,0,00000001", "0x0,0x0,0x0,0x1"},
      {"ffffffff,FFFFFFFF,0xFfFfFfFf,0", "0xffffffff,0xffffffff,0xffffffff,0x0"},
      {"0x80000000,1,2,3", "0x80000000,0x1,0x2,0x3"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto parsed = ParseGenericMapping(row.input);
    REQUIRE(parsed);
    CHECK(parsed->name == row.canonical);
  }
  auto custom = ParseGenericMapping("1,2,4,8");
  REQUIRE(custom);
  CHECK(custom->custom);
  CHECK(custom->mapping == GenericMapping{AccessMask(1), AccessMask(2),
                                          AccessMask(4), AccessMask(8)});
  // A custom mapping that maps a generic right to a generic right leaves it.
  auto leaves = ParseGenericMapping("0x80000001,2,4,8");
  REQUIRE(leaves);
  CHECK(GenericLeftAfterMapping(AccessMask(kGenericRead), leaves->mapping) ==
        AccessMask(kGenericRead));
  CHECK(GenericLeftAfterMapping(AccessMask(kGenericWrite), leaves->mapping)
            .empty());
}

TEST_CASE("bad generic mappings are refused with the column of the problem") {
  struct Row {
    const char* input;
    const char* error;
  };
  const Row rows[] = {
      {"", "empty generic mapping (token, file, directory, key, process, "
           "thread, service, plain, or GR,GW,GX,GA in hex)"},
      {"disk", "unknown generic mapping 'disk' (token, file, directory, key, "
               "process, thread, service, plain, or GR,GW,GX,GA in hex)"},
      {"1,2,3", "generic mapping '1,2,3' has 3 values; it needs four: "
                "GR,GW,GX,GA"},
      {"1,2,3,4,5", "generic mapping '1,2,3,4,5' has 5 values; it needs four: "
                    "GR,GW,GX,GA"},
      {",2,3,4",
       "generic mapping column 1: GR '' is not a hex number up to 0xffffffff"},
      {"1,,3,4",
       "generic mapping column 3: GW '' is not a hex number up to 0xffffffff"},
      {"1,2,0x,4",
       "generic mapping column 5: GX '0x' is not a hex number up to "
       "0xffffffff"},
      {"1,2,3,100000000",
       "generic mapping column 7: GA '100000000' is not a hex number up to "
       "0xffffffff"},
      {"0x1, 2,3,4",
       "generic mapping column 5: GW ' 2' is not a hex number up to "
       "0xffffffff"},
      {"1,2,3,-4",
       "generic mapping column 7: GA '-4' is not a hex number up to "
       "0xffffffff"},
      {"1,2,3,4g",
       "generic mapping column 7: GA '4g' is not a hex number up to "
       "0xffffffff"},
      {"read,2,3,4",
       "generic mapping column 1: GR 'read' is not a hex number up to "
       "0xffffffff"},
      {"1,2,3,4,", "generic mapping '1,2,3,4,' has 5 values"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto parsed = ParseGenericMapping(row.input);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(parsed.error().message, Catch::StartsWith(row.error));
  }
}

TEST_CASE("a formatted generic mapping parses back to itself") {
  const GenericMapping mappings[] = {
      kTokenGenericMapping,   kFileGenericMapping,    kKeyGenericMapping,
      kProcessGenericMapping, kThreadGenericMapping,  kServiceGenericMapping,
      kPlainGenericMapping,
      GenericMapping{AccessMask(0xffffffff), AccessMask(0), AccessMask(1),
                     AccessMask(0x80000000)},
  };
  for (const GenericMapping& mapping : mappings) {
    const std::string text = FormatGenericMapping(mapping);
    INFO(text);
    auto parsed = ParseGenericMapping(text);
    REQUIRE(parsed);
    CHECK(parsed->mapping == mapping);
    CHECK(parsed->name == text);
    CHECK(FormatGenericMapping(parsed->mapping) == text);
  }
}

TEST_CASE("mapping combines generic rights and keeps the other bits") {
  // 0x20008 | 0x600e0 = 0x600e8.
  CHECK(Map(kGenericRead | kGenericWrite, kTokenGenericMapping) == 0x600e8u);
  // QUERY_SOURCE, MAXIMUM_ALLOWED and ACCESS_SYSTEM_SECURITY pass through.
  CHECK(Map(kGenericExecute | 0x10 | 0x2000000 | 0x1000000,
            kTokenGenericMapping) == 0x3000014u);
  CHECK(Map(0, kTokenGenericMapping) == 0u);
  CHECK(Map(0xf0000000, kFileGenericMapping) == 0x1f01ffu);
}

TEST_CASE("mapping with an empty mapping clears the generic bits") {
  CHECK(Map(0xf0000008, GenericMapping{}) == 0x8u);
}

TEST_CASE("token rights format in bit order with Windows names") {
  struct Case {
    uint32_t mask;
    const char* text;
  };
  const Case cases[] = {
      {0x0, "0"},
      {0x8, "QUERY"},
      {0x28, "QUERY | ADJUST_PRIVILEGES"},
      {0x20008, "QUERY | READ_CONTROL"},
      {0x100, "ADJUST_SESSIONID"},
      {0x1000010, "QUERY_SOURCE | ACCESS_SYSTEM_SECURITY"},
      {0x2000000, "MAXIMUM_ALLOWED"},
      {0x80000000, "GENERIC_READ"},
      {0x50000000, "GENERIC_ALL | GENERIC_WRITE"},
      {0x200, "0x200"},
      {0x100001, "ASSIGN_PRIMARY | SYNCHRONIZE"},
      {0x40a00, "WRITE_DAC | 0xa00"},
      {0xffffffff,
       "ASSIGN_PRIMARY | DUPLICATE | IMPERSONATE | QUERY | QUERY_SOURCE | "
       "ADJUST_PRIVILEGES | ADJUST_GROUPS | ADJUST_DEFAULT | ADJUST_SESSIONID "
       "| DELETE | READ_CONTROL | WRITE_DAC | WRITE_OWNER | SYNCHRONIZE | "
       "ACCESS_SYSTEM_SECURITY | MAXIMUM_ALLOWED | GENERIC_ALL | "
       "GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ | 0xce0fe00"},
  };
  for (const Case& c : cases) {
    INFO("mask " << c.mask);
    CHECK(FormatTokenRights(AccessMask(c.mask)) == c.text);
  }
}

TEST_CASE("parsing token rights accepts names, prefixes and numbers") {
  struct Case {
    const char* text;
    const char* canonical;
  };
  const Case cases[] = {
      {"query", "QUERY"},
      {"TOKEN_QUERY", "QUERY"},
      {"token_query | Adjust_Privileges", "QUERY | ADJUST_PRIVILEGES"},
      {"QUERY,ADJUST_DEFAULT", "QUERY | ADJUST_DEFAULT"},
      {"  QUERY  ", "QUERY"},
      {"0x28", "QUERY | ADJUST_PRIVILEGES"},
      {"40", "QUERY | ADJUST_PRIVILEGES"},
      {"0X8", "QUERY"},
      {"0", "0"},
      {"8 | 0x20", "QUERY | ADJUST_PRIVILEGES"},
      {"ALL_ACCESS",
       "ASSIGN_PRIMARY | DUPLICATE | IMPERSONATE | QUERY | QUERY_SOURCE | "
       "ADJUST_PRIVILEGES | ADJUST_GROUPS | ADJUST_DEFAULT | ADJUST_SESSIONID "
       "| DELETE | READ_CONTROL | WRITE_DAC | WRITE_OWNER"},
      {"TOKEN_ALL_ACCESS | SYNCHRONIZE",
       "ASSIGN_PRIMARY | DUPLICATE | IMPERSONATE | QUERY | QUERY_SOURCE | "
       "ADJUST_PRIVILEGES | ADJUST_GROUPS | ADJUST_DEFAULT | ADJUST_SESSIONID "
       "| DELETE | READ_CONTROL | WRITE_DAC | WRITE_OWNER | SYNCHRONIZE"},
      {"adjust_session_id", "ADJUST_SESSIONID"},
      {"ADJUST_SESSION", "ADJUST_SESSIONID"},
      {"generic_read|GENERIC_WRITE", "GENERIC_WRITE | GENERIC_READ"},
      {"GENERIC_ALL|generic_execute", "GENERIC_ALL | GENERIC_EXECUTE"},
      {"maximum_allowed", "MAXIMUM_ALLOWED"},
      {"ACCESS_SYSTEM_SECURITY|READ_CONTROL",
       "READ_CONTROL | ACCESS_SYSTEM_SECURITY"},
      {"4294967295",
       "ASSIGN_PRIMARY | DUPLICATE | IMPERSONATE | QUERY | QUERY_SOURCE | "
       "ADJUST_PRIVILEGES | ADJUST_GROUPS | ADJUST_DEFAULT | ADJUST_SESSIONID "
       "| DELETE | READ_CONTROL | WRITE_DAC | WRITE_OWNER | SYNCHRONIZE | "
       "ACCESS_SYSTEM_SECURITY | MAXIMUM_ALLOWED | GENERIC_ALL | "
       "GENERIC_EXECUTE | GENERIC_WRITE | GENERIC_READ | 0xce0fe00"},
  };
  for (const Case& c : cases) {
    INFO("input '" << c.text << "'");
    auto parsed = ParseTokenRights(c.text);
    REQUIRE(parsed);
    CHECK(FormatTokenRights(*parsed) == c.canonical);
  }
}

TEST_CASE(
    "parsing token rights rejects unknown and empty words with their "
    "column") {
  struct Case {
    const char* text;
    const char* fragment;
    int column;
  };
  const Case cases[] = {
      {"", "empty access rights", 0},
      {"   ", "empty access rights", 0},
      {"BOGUS", "unknown access right 'BOGUS'", 1},
      {"QUERY|BOGUS", "unknown access right 'BOGUS'", 7},
      {"QUERY | BOGUS", "unknown access right 'BOGUS'", 9},
      {"  QUERY|BOGUS", "unknown access right 'BOGUS'", 9},
      {"QUERY|", "empty right name", 7},
      {"|QUERY", "empty right name", 1},
      {"QUERY||DUPLICATE", "empty right name", 7},
      {"QUERY,,", "empty right name", 7},
      {"0x", "unknown access right '0x'", 1},
      {"0xg", "unknown access right '0xg'", 1},
      {"4294967296", "unknown access right '4294967296'", 1},
      {"QUERY|4294967296", "unknown access right '4294967296'", 7},
      {"TOKEN_", "unknown access right 'TOKEN_'", 1},
      {"GENERIC READ", "unknown access right 'GENERIC READ'", 1},
      {"-1", "unknown access right '-1'", 1},
  };
  for (const Case& c : cases) {
    INFO("input '" << c.text << "'");
    auto parsed = ParseTokenRights(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kInvalidArgument);
    CHECK(parsed.error().message.find(c.fragment) != std::string::npos);
    CHECK(parsed.error().column == c.column);
  }
}

TEST_CASE("formatted token rights parse back to the same mask") {
  const uint32_t masks[] = {0x0,       0x8,        0x1ff,      0xf01ff,
                            0x2000000, 0x1000000,  0xc0000000, 0x30000000,
                            0x200,     0x0ce0fe00, 0xffffffff, 0x100000};
  for (uint32_t mask : masks) {
    INFO("mask " << mask);
    auto parsed = ParseTokenRights(FormatTokenRights(AccessMask(mask)));
    REQUIRE(parsed);
    CHECK(parsed->bits() == mask);
  }
}

TEST_CASE("access masks compare and combine as bit sets") {
  const AccessMask query(0x8);
  const AccessMask both(0x28);
  CHECK(both.Contains(query));
  CHECK_FALSE(query.Contains(both));
  CHECK(query.Intersects(both));
  CHECK_FALSE(query.Intersects(AccessMask(0x20)));
  CHECK((query | AccessMask(0x20)) == both);
  CHECK((both & ~query).bits() == 0x20u);
  CHECK(AccessMask().empty());
}

}  // namespace
}  // namespace tokenfs
