// Acl: an ordered list of ACEs, and its MS-DTYP binary form.
//
// Binary layout: revision u8 (2, or 4 when object ACEs are present), sbz1 u8,
// AclSize u16 LE, AceCount u16 LE, sbz2 u16, then the ACEs, each with a 4-byte
// header (type u8, flags u8, AceSize u16 LE) and a body depending on the type.
// Decoding is strict: sizes must agree, every ACE lies inside AclSize, SIDs
// inside their ACE; padding after the last ACE (AclSize larger than the ACEs)
// is accepted because Windows emits it.
//
// Thread-safety: plain value. InternAcl keeps its memory per thread.
#ifndef TOKENFS_CORE_ACL_H_
#define TOKENFS_CORE_ACL_H_

#include <cstdint>
#include <span>
#include <vector>

#include "core/ace.h"
#include "core/cow_vector.h"
#include "core/result.h"

namespace tokenfs {

struct Acl {
  static constexpr uint8_t kRevision = 2;
  static constexpr uint8_t kRevisionDs = 4;
  static constexpr size_t kMaxSize = 0xffff;

  // 2 or 4. Decoding keeps what the bytes say, raised to 4 when an object
  // ACE is present.
  uint8_t revision = kRevision;
  CowVector<Ace> aces;

  // Revision 4 iff an object ACE is present, else 2 (what Windows writes).
  uint8_t CanonicalRevision() const;

  // Encodes with the larger of `revision` and the canonical revision, so a
  // decoded ACL round-trips to an equal value. Fails with kInvalidArgument
  // when the ACL would exceed 65535 bytes.
  Result<std::vector<uint8_t>> ToBinary() const;
  // Decodes exactly one ACL from the start of `bytes`; `*consumed` receives
  // AclSize.
  static Result<Acl> FromBinary(std::span<const uint8_t> bytes,
                                size_t* consumed = nullptr);

  friend bool operator==(const Acl&, const Acl&) = default;
};

// Returns `acl`, sharing its ACE buffer with an equal ACL this thread made
// recently (the last few are remembered). The thousands of tokens minted for
// one user carry equal default DACLs and token SDs: interned, their ACEs are
// kept once. Values are unaffected (CowVector copies on the first change).
Acl InternAcl(Acl acl);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_ACL_H_
