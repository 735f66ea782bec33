#include "core/sha256.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace tokenfs {
namespace {

std::string HexOf(std::string_view message) {
  return DigestToHex(Sha256::Hash(message));
}

// Bytes 0, 1, 2, ... modulo 251: a pattern without long runs, so a wrong
// byte order in the schedule shows up.
std::vector<uint8_t> PatternBytes(size_t length) {
  std::vector<uint8_t> bytes(length);
  for (size_t i = 0; i < length; ++i) bytes[i] = static_cast<uint8_t>(i % 251);
  return bytes;
}

}  // namespace

// Expected digests in the first four tests are the NIST examples for FIPS
// 180-4 (csrc.nist.gov "SHA256.pdf" example values and the FIPS 180-2
// appendix B one-million-'a' vector).
TEST_CASE("sha256 of \"abc\" is the FIPS 180-4 one-block example") {
  CHECK(HexOf("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("sha256 of the empty message is the published empty digest") {
  CHECK(HexOf("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("sha256 of the 448-bit message is the FIPS two-block example") {
  CHECK(HexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256 of one million 'a' is the FIPS long-message example") {
  const std::string message(1000000, 'a');
  CHECK(HexOf(message) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 of the 896-bit message is the NIST example") {
  CHECK(HexOf("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
              "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

// Lengths around the padding boundaries (55 fits the length in one block, 56
// needs a second one; 64 is exactly a block). Expected values were computed
// with Python's hashlib.sha256, an independent implementation.
TEST_CASE("sha256 pads correctly at every block boundary length") {
  struct Case {
    size_t length;
    const char* hex;
  };
  const Case cases[] = {
      {55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"},
      {56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"},
      {63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"},
      {64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"},
      {65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"},
      {119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"},
      {120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"},
      {128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5"},
  };
  for (const Case& c : cases) {
    INFO("length " << c.length);
    CHECK(DigestToHex(Sha256::Hash(PatternBytes(c.length))) == c.hex);
  }
}

TEST_CASE("sha256 gives the same digest however the message is split") {
  const std::vector<uint8_t> message = PatternBytes(300);
  const Sha256::Digest whole = Sha256::Hash(message);
  for (size_t chunk : {1, 3, 55, 63, 64, 65, 200}) {
    INFO("chunk size " << chunk);
    Sha256 hasher;
    for (size_t position = 0; position < message.size(); position += chunk) {
      const size_t take = std::min(chunk, message.size() - position);
      hasher.Update(std::span<const uint8_t>(message.data() + position, take));
    }
    CHECK(hasher.Finish() == whole);
  }
}

TEST_CASE("sha256 finish resets the hasher for the next message") {
  Sha256 hasher;
  hasher.Update(std::string_view("some earlier message"));
  (void)hasher.Finish();
  hasher.Update(std::string_view("abc"));
  CHECK(DigestToHex(hasher.Finish()) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace tokenfs
