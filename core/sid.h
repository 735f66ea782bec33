// Sid: a security identifier, S-1-<authority>-<sub-authority>...
//
// Models the MS-DTYP SID: revision 1, a 48-bit identifier authority and 0..15
// 32-bit sub-authorities. A Sid is an immutable value; every Sid that exists is
// well formed (invariant: revision 1, at most kMaxSubAuthorities, authority
// < 2^48). Construction that can fail goes through Create/Parse/FromBinary.
//
// String form: authority in decimal when < 2^32, else "0x" + upper-case hex
// (Windows' rule); sub-authorities in decimal. Binary form: revision u8,
// count u8, authority 6 bytes big-endian, sub-authorities u32 little-endian
// (the mixed endianness is MS-DTYP's, not ours).
//
// Storage is inline (no heap), so copying and comparing are cheap; the access
// check compares many SIDs.
//
// Thread-safety: immutable value; safe to share.
#ifndef TOKENFS_CORE_SID_H_
#define TOKENFS_CORE_SID_H_

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tokenfs {

class Sid {
 public:
  static constexpr int kRevision = 1;
  static constexpr size_t kMaxSubAuthorities = 15;
  static constexpr uint64_t kMaxAuthority = (uint64_t{1} << 48) - 1;
  // Largest binary SID: 8 header bytes + 15 sub-authorities.
  static constexpr size_t kMaxBinarySize = 8 + 4 * kMaxSubAuthorities;

  // Null SID S-1-0-0, so containers of Sid can be default-constructed.
  Sid();

  // Returns the SID, or kInvalidArgument if authority >= 2^48 or there are
  // more than 15 sub-authorities.
  static Result<Sid> Create(uint64_t authority,
                            std::span<const uint32_t> sub_authorities);

  // For compile-time-known SIDs. REQUIRES: the arguments are valid (aborts
  // otherwise).
  static Sid Known(uint64_t authority,
                   std::initializer_list<uint32_t> sub_authorities);

  // Parses "S-1-..." strictly: upper- or lower-case 'S', revision 1, an
  // authority in decimal or 0x-hex, each sub-authority a decimal u32, no
  // spaces, no empty components, no trailing junk. Errors name the 1-based
  // column of the offending character.
  static Result<Sid> Parse(std::string_view text);

  // Decodes a binary SID at the start of `bytes`. On success `*consumed` (if
  // given) is the number of bytes the SID occupies; trailing bytes are the
  // caller's. Fails with kInvalidArgument when truncated, revision != 1 or
  // more than 15 sub-authorities.
  static Result<Sid> FromBinary(std::span<const uint8_t> bytes,
                                size_t* consumed = nullptr);

  std::string ToString() const;
  std::vector<uint8_t> ToBinary() const;
  void AppendBinary(std::vector<uint8_t>& out) const;
  size_t BinarySize() const { return 8 + 4 * size_t{count_}; }

  uint64_t authority() const { return authority_; }
  size_t sub_authority_count() const { return count_; }
  std::span<const uint32_t> sub_authorities() const {
    return {sub_authorities_.data(), count_};
  }
  // The last sub-authority (the RID), or 0 when there are none.
  uint32_t rid() const { return count_ ? sub_authorities_[count_ - 1] : 0; }

  // True iff this SID's authority equals `authority` and its sub-authorities
  // start with `prefix`.
  bool HasPrefix(uint64_t authority,
                 std::initializer_list<uint32_t> prefix) const;

  friend bool operator==(const Sid& a, const Sid& b);
  friend std::strong_ordering operator<=>(const Sid& a, const Sid& b);

  size_t Hash() const;

 private:
  uint64_t authority_ = 0;
  uint8_t count_ = 1;  // with sub_authorities_[0] == 0: S-1-0-0
  std::array<uint32_t, kMaxSubAuthorities> sub_authorities_{};
};

struct SidHash {
  size_t operator()(const Sid& sid) const { return sid.Hash(); }
};

}  // namespace tokenfs

template <>
struct std::hash<tokenfs::Sid> {
  size_t operator()(const tokenfs::Sid& sid) const { return sid.Hash(); }
};

#endif  // TOKENFS_CORE_SID_H_
