#include "core/utf16.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace tokenfs {
namespace {

TEST_CASE("UTF-8 converts to UTF-16 and back, surrogate pairs included") {
  const std::string text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";  // aé€😀
  std::u16string units;
  REQUIRE(Utf8ToUtf16(text, units));
  CHECK(units == u"a\u00e9\u20ac\U0001F600");
  std::vector<uint8_t> bytes;
  AppendUtf16Le(units, bytes);
  CHECK(bytes.size() == 10);
  CHECK(bytes[0] == 'a');
  CHECK(bytes[1] == 0);
  std::string back;
  REQUIRE(Utf16LeToUtf8(bytes, back));
  CHECK(back == text);
}

TEST_CASE("malformed UTF-8 and UTF-16 are refused") {
  std::u16string units;
  CHECK_FALSE(Utf8ToUtf16("\xc0\x80", units));          // overlong NUL
  CHECK_FALSE(Utf8ToUtf16("\xed\xa0\x80", units));      // surrogate
  CHECK_FALSE(Utf8ToUtf16("\xe2\x82", units));          // truncated
  CHECK_FALSE(Utf8ToUtf16("\xf4\x90\x80\x80", units));  // above U+10FFFF
  std::string out;
  CHECK_FALSE(Utf16ToUtf8(u"\xd800", out));         // lone high surrogate
  CHECK_FALSE(Utf16ToUtf8(u"\xdc00x", out));        // lone low surrogate
  const std::vector<uint8_t> odd = {'a', 0, 'b'};
  CHECK_FALSE(Utf16LeToUtf8(odd, out));
}

}  // namespace
}  // namespace tokenfs
