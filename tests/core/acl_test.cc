#include "core/acl.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

// Every byte vector below is assembled by hand from [MS-DTYP]:
//   2.4.5   ACL: AclRevision u8, Sbz1 u8, AclSize u16 LE, AceCount u16 LE,
//           Sbz2 u16.
//   2.4.4.1 ACE_HEADER: AceType u8, AceFlags u8, AceSize u16 LE.
//   2.4.4.2 ACCESS_ALLOWED_ACE: header, Mask u32 LE, Sid.
//   2.4.4.3 ACCESS_ALLOWED_OBJECT_ACE: header, Mask, Flags u32 LE
//           (1 = ObjectType present, 2 = InheritedObjectType present), the
//           GUIDs present, Sid.
//   2.4.4.13 SYSTEM_MANDATORY_LABEL_ACE: header, Mask (1 = no write up),
//           Sid.
//   2.4.2.2 SID: Revision, SubAuthorityCount, IdentifierAuthority (6 bytes
//           big-endian), SubAuthority[] u32 LE.
//   2.3.4.2 GUID packet: Data1 u32 LE, Data2 u16 LE, Data3 u16 LE, Data4.

// SIDs, the SYSTEM-only ACL and Concat come from tests/support.
using test::Bytes;
using test::Concat;
using test::kAllowSystemAclBytes;
using test::kEveryoneSidBytes;
using test::kSystemSidBytes;

// bf967aba-0de6-11d0-a285-00aa003049e2 in wire order.
const Bytes kUserClassGuid = {0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11,
                              0xa2, 0x85, 0x00, 0xaa, 0x00, 0x30, 0x49, 0xe2};

TEST_CASE("an ACL decodes from MS-DTYP bytes and encodes back identically") {
  size_t consumed = 0;
  auto acl = Acl::FromBinary(kAllowSystemAclBytes, &consumed);
  REQUIRE(acl.has_value());
  CHECK(consumed == 28);
  CHECK(acl->revision == Acl::kRevision);
  REQUIRE(acl->aces.size() == 1);
  const Ace& ace = acl->aces[0];
  CHECK(ace.type == AceType::kAccessAllowed);
  CHECK(ace.flags == 0);
  CHECK(ace.mask == access::kGenericAll);
  CHECK(ace.sid == well_known::LocalSystem());
  CHECK(ace.application_data.empty());

  auto bytes = acl->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == kAllowSystemAclBytes);
}

TEST_CASE("an ACL built in memory encodes to the MS-DTYP layout") {
  Acl acl;
  Ace deny;
  deny.type = AceType::kAccessDenied;
  deny.flags = ace_flags::kObjectInherit | ace_flags::kContainerInherit;
  deny.mask = AccessMask(0x00040000);  // WRITE_DAC
  deny.sid = well_known::Everyone();
  Ace audit;
  audit.type = AceType::kSystemAudit;
  audit.flags = ace_flags::kSuccessfulAccess | ace_flags::kFailedAccess;
  audit.mask = AccessMask(0x00010000);  // DELETE
  audit.sid = well_known::LocalSystem();
  acl.aces = {deny, audit};
  const Bytes expected = Concat({
      {0x02, 0x00, 0x30, 0x00, 0x02, 0x00, 0x00, 0x00},  // 8 + 2 * 20 = 48
      {0x01, 0x03, 0x14, 0x00, 0x00, 0x00, 0x04, 0x00},  // denied, OI|CI
      kEveryoneSidBytes,
      {0x02, 0xc0, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00},  // audit, SA|FA
      kSystemSidBytes,
  });
  auto bytes = acl.ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == expected);
  auto decoded = Acl::FromBinary(expected);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == acl);
}

TEST_CASE("an empty ACL is its 8-byte header") {
  const Bytes expected = {0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};
  auto bytes = Acl{}.ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == expected);
  auto decoded = Acl::FromBinary(expected);
  REQUIRE(decoded.has_value());
  CHECK(decoded->aces.empty());
}

TEST_CASE("object ACEs carry their GUIDs and need ACL revision 4") {
  // Both GUIDs: 4 + 4 + 4 + 16 + 16 + 12 = 56 (0x38); ACL 64 (0x40).
  const Bytes both = Concat({
      {0x04, 0x00, 0x40, 0x00, 0x01, 0x00, 0x00, 0x00},
      {0x05, 0x02, 0x38, 0x00},  // allowed object, CI
      {0x10, 0x00, 0x00, 0x00},  // RP (0x10)
      {0x03, 0x00, 0x00, 0x00},  // both GUIDs present
      kUserClassGuid,
      kUserClassGuid,
      kEveryoneSidBytes,
  });
  auto acl = Acl::FromBinary(both);
  REQUIRE(acl.has_value());
  CHECK(acl->revision == Acl::kRevisionDs);
  CHECK(acl->CanonicalRevision() == Acl::kRevisionDs);
  REQUIRE(acl->aces.size() == 1);
  const Ace& ace = acl->aces[0];
  CHECK(ace.type == AceType::kAccessAllowedObject);
  CHECK(ace.mask == AccessMask(0x10));
  REQUIRE(ace.object_type.has_value());
  REQUIRE(ace.inherited_object_type.has_value());
  CHECK(FormatGuid(*ace.object_type) == "bf967aba-0de6-11d0-a285-00aa003049e2");
  CHECK(*ace.inherited_object_type == *ace.object_type);
  CHECK(ace.sid == well_known::Everyone());
  auto bytes = acl->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == both);

  // Only the inherited type: it follows the flags word directly.
  const Bytes inherited_only = Concat({
      {0x04, 0x00, 0x30, 0x00, 0x01, 0x00, 0x00, 0x00},
      {0x06, 0x00, 0x28, 0x00},  // denied object, 4+4+4+16+12 = 40
      {0x20, 0x00, 0x00, 0x00},  // WP
      {0x02, 0x00, 0x00, 0x00},  // inherited object type only
      kUserClassGuid,
      kEveryoneSidBytes,
  });
  auto second = Acl::FromBinary(inherited_only);
  REQUIRE(second.has_value());
  REQUIRE(second->aces.size() == 1);
  CHECK_FALSE(second->aces[0].object_type.has_value());
  REQUIRE(second->aces[0].inherited_object_type.has_value());
  CHECK(second->aces[0].sid == well_known::Everyone());
  auto second_bytes = second->ToBinary();
  REQUIRE(second_bytes.has_value());
  CHECK(*second_bytes == inherited_only);
}

TEST_CASE("a mandatory label ACE decodes its policy and integrity SID") {
  const Bytes label = Concat({
      {0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00},
      {0x11, 0x00, 0x14, 0x00},  // SYSTEM_MANDATORY_LABEL_ACE_TYPE
      {0x01, 0x00, 0x00, 0x00},  // SYSTEM_MANDATORY_LABEL_NO_WRITE_UP
      // S-1-16-8192 (medium): authority 16, RID 0x2000.
      {0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x20, 0x00, 0x00},
  });
  auto acl = Acl::FromBinary(label);
  REQUIRE(acl.has_value());
  REQUIRE(acl->aces.size() == 1);
  CHECK(acl->aces[0].type == AceType::kSystemMandatoryLabel);
  CHECK(acl->aces[0].mask == access::kMandatoryNoWriteUp);
  CHECK(acl->aces[0].sid == well_known::IntegrityLevel(kIntegrityMedium));
  auto bytes = acl->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == label);
}

TEST_CASE("ACE bytes tokenfs does not model round-trip untouched") {
  const Bytes acl_bytes = Concat({
      {0x02, 0x00, 0x40, 0x00, 0x03, 0x00, 0x00, 0x00},
      // An unknown type 0x16 with a 4-byte body.
      {0x16, 0x10, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef},
      // ACCESS_ALLOWED_CALLBACK_ACE (0x09): mask, SID, then the condition
      // bytes ("artx" opens a conditional expression, MS-DTYP 2.4.4.17.4).
      {0x09, 0x00, 0x18, 0x00, 0x89, 0x00, 0x12, 0x00},
      kEveryoneSidBytes,
      {0x61, 0x72, 0x74, 0x78},
      // An allowed ACE whose AceSize keeps 4 bytes of padding after the SID.
      {0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00, 0x80},
      kSystemSidBytes,
      {0x00, 0x00, 0x00, 0x00},
  });
  auto acl = Acl::FromBinary(acl_bytes);
  REQUIRE(acl.has_value());
  REQUIRE(acl->aces.size() == 3);
  CHECK(acl->aces[0].type == static_cast<AceType>(0x16));
  CHECK(acl->aces[0].flags == ace_flags::kInherited);
  CHECK(acl->aces[0].raw_body == Bytes{0xde, 0xad, 0xbe, 0xef});
  CHECK(acl->aces[1].type == AceType::kAccessAllowedCallback);
  CHECK(acl->aces[1].mask == AccessMask(0x120089));
  CHECK(acl->aces[1].application_data == Bytes{0x61, 0x72, 0x74, 0x78});
  CHECK(acl->aces[2].application_data == Bytes{0x00, 0x00, 0x00, 0x00});
  auto bytes = acl->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == acl_bytes);
}

TEST_CASE("slack after the last ACE is accepted and not re-emitted") {
  // Windows leaves AclSize larger than the ACEs (Samba's oversize-acls);
  // here 8 bytes of slack: AclSize 36 (0x24).
  Bytes padded = kAllowSystemAclBytes;
  padded[2] = 0x24;
  padded.insert(padded.end(), 8, 0x00);
  size_t consumed = 0;
  auto acl = Acl::FromBinary(padded, &consumed);
  REQUIRE(acl.has_value());
  CHECK(consumed == 36);
  auto bytes = acl->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == kAllowSystemAclBytes);
  auto again = Acl::FromBinary(*bytes);
  REQUIRE(again.has_value());
  CHECK(*again == *acl);
}

TEST_CASE("bytes after AclSize belong to the caller") {
  Bytes trailing = kAllowSystemAclBytes;
  trailing.push_back(0xff);
  size_t consumed = 0;
  auto acl = Acl::FromBinary(trailing, &consumed);
  REQUIRE(acl.has_value());
  CHECK(consumed == 28);
}

TEST_CASE("an ACL's revision survives a binary round trip") {
  // Revision 4 without object ACEs is valid MS-DTYP and must come back as 4.
  Bytes revision4 = kAllowSystemAclBytes;
  revision4[0] = 0x04;
  auto acl = Acl::FromBinary(revision4);
  REQUIRE(acl.has_value());
  CHECK(acl->revision == Acl::kRevisionDs);
  auto bytes = acl->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == revision4);
  auto again = Acl::FromBinary(*bytes);
  REQUIRE(again.has_value());
  CHECK(*again == *acl);

  // Revision 2 holding an object ACE: decoded as needing 4, written as 4,
  // so decode(encode(decode(x))) equals decode(x).
  const Bytes object_in_v2 = Concat({
      {0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00},
      {0x05, 0x00, 0x14, 0x00, 0x10, 0x00, 0x00, 0x00},
      {0x00, 0x00, 0x00, 0x00},                          // no GUIDs
      {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05},  // S-1-5
  });
  auto object_acl = Acl::FromBinary(object_in_v2);
  REQUIRE(object_acl.has_value());
  CHECK(object_acl->revision == Acl::kRevisionDs);
  auto object_bytes = object_acl->ToBinary();
  REQUIRE(object_bytes.has_value());
  CHECK((*object_bytes)[0] == Acl::kRevisionDs);
  auto object_again = Acl::FromBinary(*object_bytes);
  REQUIRE(object_again.has_value());
  CHECK(*object_again == *object_acl);
}

struct MalformedCase {
  Bytes bytes;
  const char* message;
};

TEST_CASE("malformed ACLs fail with the exact reason") {
  const std::vector<MalformedCase> cases = {
      {{0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00},
       "ACL truncated: 7 bytes, need at least 8"},
      {{0x03, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00},
       "ACL revision 3 (expected 2 or 4)"},
      {{0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00},
       "ACL revision 0 (expected 2 or 4)"},
      {{0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00},
       "ACL size 4 does not fit the 8 bytes given"},
      {{0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00},
       "ACL size 28 does not fit the 8 bytes given"},
      {{0x02, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00},
       "ACE 0 starts beyond the ACL size"},
      {Concat({{0x02, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x00, 0x00, 0x02, 0x00}}),
       "ACE 0 size 2 runs past the ACL"},
      {Concat({{0x02, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x00, 0x00, 0x14, 0x00}}),
       "ACE 0 size 20 runs past the ACL"},
      {Concat({{0x02, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x00, 0x00, 0x04, 0x00}}),
       "ACE 0: too short for an access mask"},
      {Concat({{0x02, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x10}}),
       "ACE 0: binary SID truncated: 0 bytes, need at least 8"},
      {Concat({{0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x10},
               {0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00,
                0x00, 0x00}}),
       "ACE 0: binary SID has revision 2 (only 1)"},
      // The SID claims two sub-authorities but the ACE holds one.
      {Concat({{0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x10},
               {0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00,
                0x00, 0x00}}),
       "ACE 0: binary SID truncated: 12 bytes, need 16"},
      {Concat({{0x04, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x05, 0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00}}),
       "ACE 0: too short for object flags"},
      {Concat({{0x04, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x05, 0x00, 0x18, 0x00, 0x00, 0x01, 0x00, 0x00},
               {0x04, 0x00, 0x00, 0x00},
               kEveryoneSidBytes}),
       "ACE 0: unknown object ACE flags"},
      {Concat({{0x04, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x05, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x00, 0x00},
               {0x01, 0x00, 0x00, 0x00}}),
       "ACE 0: truncated object type GUID"},
      {Concat({{0x04, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0x00},
               {0x05, 0x00, 0x1c, 0x00, 0x00, 0x01, 0x00, 0x00},
               {0x03, 0x00, 0x00, 0x00},
               kUserClassGuid}),
       "ACE 0: truncated inherited object type GUID"},
      // The second ACE is the broken one.
      {Concat({{0x02, 0x00, 0x20, 0x00, 0x02, 0x00, 0x00, 0x00},
               {0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x10},
               kSystemSidBytes,
               {0x00, 0x00, 0x03, 0x00}}),
       "ACE 1 size 3 runs past the ACL"},
  };
  for (const MalformedCase& test : cases) {
    INFO("expected: " << test.message);
    size_t consumed = 99;
    auto acl = Acl::FromBinary(test.bytes, &consumed);
    REQUIRE_FALSE(acl.has_value());
    CHECK(acl.error().code == ErrorCode::kInvalidArgument);
    CHECK(acl.error().message == test.message);
    CHECK(consumed == 99);
  }
}

TEST_CASE("encoding refuses an ACL or ACE beyond 65535 bytes") {
  Acl big_ace;
  Ace ace;
  ace.sid = well_known::Everyone();
  ace.application_data.assign(70000, 0);
  big_ace.aces.push_back(ace);
  auto one = big_ace.ToBinary();
  REQUIRE_FALSE(one.has_value());
  CHECK(one.error().message == "ACE 0 exceeds 65535 bytes");

  // 3277 ACEs of 20 bytes: 8 + 65540 bytes.
  Acl many;
  Ace small;
  small.sid = well_known::Everyone();
  many.aces.assign(3277, small);
  auto too_big = many.ToBinary();
  REQUIRE_FALSE(too_big.has_value());
  CHECK(too_big.error().message == "ACL exceeds 65535 bytes");
  many.aces.pop_back();  // 8 + 65520 fits
  auto fits = many.ToBinary();
  REQUIRE(fits.has_value());
  CHECK(fits->size() == 65528);
}

TEST_CASE("GUIDs print lower-case in MS-DTYP byte order and parse any case") {
  const Guid guid{{0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85,
                   0x00, 0xaa, 0x00, 0x30, 0x49, 0xe2}};
  CHECK(FormatGuid(guid) == "bf967aba-0de6-11d0-a285-00aa003049e2");
  auto parsed = ParseGuid("BF967ABA-0DE6-11D0-A285-00AA003049E2");
  REQUIRE(parsed.has_value());
  CHECK(*parsed == guid);

  auto braces = ParseGuid("{bf967aba-0de6-11d0-a285-00aa003049e2}");
  REQUIRE_FALSE(braces.has_value());
  CHECK_THAT(braces.error().message,
             Catch::Contains("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"));
  auto bad_digit = ParseGuid("bf967aba-0de6-11d0-a285-00aa0030g9e2");
  REQUIRE_FALSE(bad_digit.has_value());
  CHECK(bad_digit.error().message == "bad hex digit in GUID");
  CHECK(bad_digit.error().column == 33);
}

TEST_CASE("ACE type predicates sort allow, deny and object types") {
  CHECK(IsAllowAceType(AceType::kAccessAllowed));
  CHECK(IsAllowAceType(AceType::kAccessAllowedObject));
  CHECK(IsAllowAceType(AceType::kAccessAllowedCallback));
  CHECK(IsAllowAceType(AceType::kAccessAllowedCallbackObject));
  CHECK_FALSE(IsAllowAceType(AceType::kAccessDenied));
  CHECK_FALSE(IsAllowAceType(AceType::kSystemAudit));
  CHECK(IsDenyAceType(AceType::kAccessDenied));
  CHECK(IsDenyAceType(AceType::kAccessDeniedObject));
  CHECK(IsDenyAceType(AceType::kAccessDeniedCallback));
  CHECK(IsDenyAceType(AceType::kAccessDeniedCallbackObject));
  CHECK_FALSE(IsDenyAceType(AceType::kAccessAllowed));
  CHECK(IsObjectAceType(AceType::kSystemAuditObject));
  CHECK(IsObjectAceType(AceType::kSystemAlarmCallbackObject));
  CHECK_FALSE(IsObjectAceType(AceType::kSystemMandatoryLabel));
  CHECK(IsModeledAceType(AceType::kSystemAccessFilter));
  CHECK_FALSE(IsModeledAceType(AceType::kAccessAllowedCompound));
  CHECK_FALSE(IsModeledAceType(static_cast<AceType>(0x16)));
}

}  // namespace
}  // namespace tokenfs

namespace tokenfs {
namespace {

Acl TwoAllows(const Sid& first) {
  Acl acl;
  acl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                         .mask = AccessMask{0x1f01ff},
                         .sid = first});
  acl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                         .mask = AccessMask{0x120089},
                         .sid = well_known::LocalSystem()});
  return acl;
}

TEST_CASE("equal interned ACLs share their ACEs; changes stay private") {
  const Acl first = InternAcl(TwoAllows(well_known::Everyone()));
  Acl second = InternAcl(TwoAllows(well_known::Everyone()));
  CHECK(second.aces.SharesWith(first.aces));

  const Acl other = InternAcl(TwoAllows(well_known::Administrators()));
  CHECK_FALSE(other.aces.SharesWith(first.aces));
  CHECK(other.aces[0].sid == well_known::Administrators());

  second.aces.Mutable()[0].mask = AccessMask{0x1};
  CHECK(first.aces[0].mask == AccessMask{0x1f01ff});
  CHECK(InternAcl(TwoAllows(well_known::Everyone())).aces[0].mask ==
        AccessMask{0x1f01ff});
}

TEST_CASE("interning keeps an ACL's revision and an empty ACL empty") {
  Acl revised = TwoAllows(well_known::Everyone());
  revised.revision = Acl::kRevisionDs;
  const Acl interned = InternAcl(revised);
  CHECK(interned.revision == Acl::kRevisionDs);
  CHECK(interned == revised);
  CHECK(InternAcl(Acl{}).aces.empty());
}

}  // namespace
}  // namespace tokenfs
