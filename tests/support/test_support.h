// Shared helpers for the core/ unit tests and core_bench: byte-vector
// building, hand-assembled MS-DTYP byte fixtures, an ACE builder and fakes for
// the injected account lookup and clock. Built as the tokenfs_test_support
// library; it does not use Catch2, so the benchmark can link it too (the
// Catch2-only helpers are in catch_support.h).
#ifndef TOKENFS_TESTS_SUPPORT_TEST_SUPPORT_H_
#define TOKENFS_TESTS_SUPPORT_TEST_SUPPORT_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ace.h"
#include "core/luid.h"
#include "core/minting_policy.h"
#include "core/sid.h"
#include "core/token.h"
#include "core/well_known_sids.h"

namespace tokenfs::test {

using Bytes = std::vector<uint8_t>;

// The parts, one after the other.
Bytes Concat(std::initializer_list<Bytes> parts);

// Byte fixtures assembled by hand from [MS-DTYP], not produced by the codecs:
//   2.4.2.2 SID: Revision, SubAuthorityCount, IdentifierAuthority (6 bytes
//           big-endian), SubAuthority[] u32 LE.
//   2.4.5   ACL: AclRevision u8, Sbz1 u8, AclSize u16 LE, AceCount u16 LE,
//           Sbz2 u16.
//   2.4.4.2 ACCESS_ALLOWED_ACE: header (type, flags, size u16 LE), Mask u32
//           LE, Sid.
// They are inline variables so a test's own namespace-scope fixtures can be
// built from them (they are initialised first).

// S-1-5-18 (LocalSystem), 12 bytes.
inline const Bytes kSystemSidBytes = {0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x05, 0x12, 0x00, 0x00, 0x00};
// S-1-1-0 (Everyone), 12 bytes.
inline const Bytes kEveryoneSidBytes = {0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
                                        0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
// S-1-5-32-544 (Administrators), 16 bytes.
inline const Bytes kAdminsSidBytes = {0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x05, 0x20, 0x00, 0x00, 0x00,
                                      0x20, 0x02, 0x00, 0x00};

// One ACCESS_ALLOWED_ACE granting GENERIC_ALL to SYSTEM: 4 + 4 + 12 = 20
// bytes, in an ACL of 8 + 20 = 28 (0x1c) bytes.
inline const Bytes kAllowSystemAclBytes = {
    0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00,  // ACL header
    0x00, 0x00, 0x14, 0x00,                          // allowed, no flags, 20
    0x00, 0x00, 0x00, 0x10,                          // GENERIC_ALL
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00,
};

// [MS-DTYP] 2.5.1.4 "SDDL String to Binary Security Descriptor Examples":
// the hex dump of the self-relative descriptor for
//   O:BAG:BAD:P(A;CIOI;GRGX;;;BU)(A;CIOI;GA;;;BA)(A;CIOI;GA;;;SY)
//   (A;CIOI;GA;;;CO)S:P(AU;FA;GR;;;WD)
// 0xb0 bytes: control 0xb014 (self-relative, both ACLs present and
// protected), owner at 0x90, group at 0xa0, SACL at 0x14, DACL at 0x30.
inline const Bytes kMsDtypExampleSdBytes = {
    0x01, 0x00, 0x14, 0xb0, 0x90, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x02, 0x00, 0x1c, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x02, 0x80, 0x14, 0x00, 0x00, 0x00, 0x00, 0x80,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x60, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x18, 0x00,
    0x00, 0x00, 0x00, 0xa0, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x21, 0x02, 0x00, 0x00, 0x00, 0x03, 0x18, 0x00,
    0x00, 0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00, 0x00, 0x03, 0x14, 0x00,
    0x00, 0x00, 0x00, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x12, 0x00, 0x00, 0x00, 0x00, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00,
    0x20, 0x02, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
};

// A group that is mandatory, enabled by default and enabled (0x7).
inline constexpr uint32_t kEnabledGroup = group_attributes::kMandatory |
                                          group_attributes::kEnabledByDefault |
                                          group_attributes::kEnabled;

// An ACE with the given fields and everything else at its default.
Ace MakeAce(AceType type, uint32_t mask, const Sid& sid, uint8_t flags = 0);

// A fixed account table standing in for /etc/passwd and /etc/group, counting
// the lookups made.
class FakeAccounts : public AccountLookup {
 public:
  FakeAccounts(std::map<uint32_t, std::string> users_by_uid,
               std::map<uint32_t, std::string> groups_by_gid);

  std::optional<std::string> UserName(uint32_t uid) const override;
  std::optional<std::string> GroupName(uint32_t gid) const override;

  std::map<uint32_t, std::string> users;
  std::map<uint32_t, std::string> groups;
  mutable int user_calls = 0;
  mutable int group_calls = 0;
};

// Every capability of a current kernel (bits 0..40).
inline constexpr uint64_t kFullCapabilities = 0x1ffffffffffull;

// Root holding `capabilities` (permitted, effective and bounding).
LinuxCredentials RootCredentials(uint64_t capabilities = kFullCapabilities);

// alice: uid and gid 1000, groups users (100) and alice, audit session 42,
// no capabilities (a full bounding set).
LinuxCredentials AliceCredentials();

// A clock that always reads `now_ns`.
class FixedClock : public Clock {
 public:
  explicit FixedClock(uint64_t now_ns) : now_ns_(now_ns) {}
  uint64_t NowNanoseconds() const override { return now_ns_; }

 private:
  uint64_t now_ns_;
};

}  // namespace tokenfs::test

#endif  // TOKENFS_TESTS_SUPPORT_TEST_SUPPORT_H_
