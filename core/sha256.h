// Sha256: the SHA-256 hash of FIPS 180-4, incremental and one-shot.
//
// core has no crypto dependency; its one use of a hash is deriving
// capability SIDs (core/capability.h), which must match what Windows derives,
// so a small, self-contained, test-vector-checked implementation is enough.
// It is not meant for secrets: it makes no attempt at constant time.
//
// Usage: construct, Update() any number of times with any chunk sizes, then
// Finish() once for the 32-byte digest. Finish() leaves the object in its
// initial state, so it can hash another message. Messages are limited to
// 2^61 - 1 bytes (the bit length must fit the 64-bit length field), far
// beyond anything core hashes.
//
// Invariant: buffered_ < kBlockSize; total_bytes_ counts every byte given to
// Update() since the last Finish() (or construction).
//
// Thread-safety: a Sha256 object is a mutable value; use one per thread. The
// static Hash() functions are pure.
#ifndef TOKENFS_CORE_SHA256_H_
#define TOKENFS_CORE_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tokenfs {

class Sha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  static constexpr size_t kBlockSize = 64;
  using Digest = std::array<uint8_t, kDigestSize>;

  Sha256();

  // Appends `data` to the message.
  void Update(std::span<const uint8_t> data);
  void Update(std::string_view data);

  // Pads the message, returns its digest and resets the object.
  Digest Finish();

  // One-shot digests.
  static Digest Hash(std::span<const uint8_t> data);
  static Digest Hash(std::string_view data);

 private:
  void Reset();
  void ProcessBlock(const uint8_t* block);

  std::array<uint32_t, 8> state_;
  std::array<uint8_t, kBlockSize> buffer_;
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// Lower-case hex of a digest, 64 characters (the form FIPS examples and
// sha256sum print).
std::string DigestToHex(const Sha256::Digest& digest);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_SHA256_H_
