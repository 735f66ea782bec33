// Little-endian byte helpers for the binary codecs (ACL, SD, claims, token
// spec, query payloads).
//
// ByteReader is a bounds-checked cursor over a borrowed span: every Read*
// returns false instead of reading past the end, so decoders cannot overrun.
//
// Thread-safety: ByteReader is not shared; the free functions are pure.
#ifndef TOKENFS_CORE_BYTE_IO_H_
#define TOKENFS_CORE_BYTE_IO_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace tokenfs {

inline void AppendU16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value));
  out.push_back(static_cast<uint8_t>(value >> 8));
}

inline void AppendU32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) {
    out.push_back(static_cast<uint8_t>(value >> shift));
  }
}

inline void AppendU64(std::vector<uint8_t>& out, uint64_t value) {
  for (int shift = 0; shift < 64; shift += 8) {
    out.push_back(static_cast<uint8_t>(value >> shift));
  }
}

// REQUIRES: offset + 2 <= out.size().
inline void PatchU16(std::vector<uint8_t>& out, size_t offset, uint16_t value) {
  out[offset] = static_cast<uint8_t>(value);
  out[offset + 1] = static_cast<uint8_t>(value >> 8);
}

// REQUIRES: offset + 4 <= out.size().
inline void PatchU32(std::vector<uint8_t>& out, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    out[offset + static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (8 * i));
  }
}

// REQUIRES: offset + 8 <= out.size().
inline void PatchU64(std::vector<uint8_t>& out, size_t offset, uint64_t value) {
  for (int i = 0; i < 8; ++i) {
    out[offset + static_cast<size_t>(i)] = static_cast<uint8_t>(value >> (8 * i));
  }
}

// REQUIRES: offset + 2 <= bytes.size().
inline uint16_t ReadU16At(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>(bytes[offset] | (bytes[offset + 1] << 8));
}

// REQUIRES: offset + 4 <= bytes.size().
inline uint32_t ReadU32At(std::span<const uint8_t> bytes, size_t offset) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) {
    value = (value << 8) | bytes[offset + static_cast<size_t>(i)];
  }
  return value;
}

// REQUIRES: offset + 8 <= bytes.size().
inline uint64_t ReadU64At(std::span<const uint8_t> bytes, size_t offset) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) {
    value = (value << 8) | bytes[offset + static_cast<size_t>(i)];
  }
  return value;
}

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  bool ReadU8(uint8_t& value) {
    if (left() < 1) return false;
    value = bytes_[position_++];
    return true;
  }
  bool ReadU16(uint16_t& value) {
    if (left() < 2) return false;
    value = ReadU16At(bytes_, position_);
    position_ += 2;
    return true;
  }
  bool ReadU32(uint32_t& value) {
    if (left() < 4) return false;
    value = ReadU32At(bytes_, position_);
    position_ += 4;
    return true;
  }
  bool ReadU64(uint64_t& value) {
    if (left() < 8) return false;
    value = ReadU64At(bytes_, position_);
    position_ += 8;
    return true;
  }
  bool ReadBytes(uint8_t* out, size_t count) {
    if (left() < count) return false;
    if (count) std::memcpy(out, bytes_.data() + position_, count);
    position_ += count;
    return true;
  }
  // Advances by `count`, clamped to the end.
  void Skip(size_t count) { position_ += count < left() ? count : left(); }

  std::span<const uint8_t> Remaining() const {
    return bytes_.subspan(position_);
  }
  size_t position() const { return position_; }
  size_t left() const { return bytes_.size() - position_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t position_ = 0;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_BYTE_IO_H_
