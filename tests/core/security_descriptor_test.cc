#include "core/security_descriptor.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

// Byte vectors are assembled by hand from [MS-DTYP] 2.4.6
// SECURITY_DESCRIPTOR (self-relative): Revision u8 = 1, Sbz1 u8, Control u16
// LE, then OffsetOwner, OffsetGroup, OffsetSacl, OffsetDacl (u32 LE, 0 =
// absent), with ACLs (2.4.5) and SIDs (2.4.2.2) at those offsets. Control
// bits from 2.4.6: SE_DACL_PRESENT 0x0004, SE_SACL_PRESENT 0x0010,
// SE_DACL_PROTECTED 0x1000, SE_SELF_RELATIVE 0x8000.

// SIDs, the SYSTEM-only ACL, the MS-DTYP example and Concat come from
// tests/support.
using test::Bytes;
using test::Concat;
using test::kAdminsSidBytes;
using test::kAllowSystemAclBytes;
using test::kMsDtypExampleSdBytes;
using test::kSystemSidBytes;

// Header with the given control and offsets (owner, group, SACL, DACL).
Bytes Header(uint16_t control, uint32_t owner, uint32_t group, uint32_t sacl,
             uint32_t dacl) {
  Bytes out = {0x01, 0x00, static_cast<uint8_t>(control),
               static_cast<uint8_t>(control >> 8)};
  for (uint32_t offset : {owner, group, sacl, dacl}) {
    for (int shift = 0; shift < 32; shift += 8) {
      out.push_back(static_cast<uint8_t>(offset >> shift));
    }
  }
  return out;
}

TEST_CASE("a descriptor with no parts is its 20-byte header") {
  const Bytes expected = Header(0x8000, 0, 0, 0, 0);
  SecurityDescriptor sd;
  auto bytes = sd.ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == expected);
  auto decoded = SecurityDescriptor::FromBinary(expected);
  REQUIRE(decoded.has_value());
  CHECK_FALSE(decoded->owner.has_value());
  CHECK_FALSE(decoded->group.has_value());
  CHECK_FALSE(decoded->dacl_present());
  CHECK_FALSE(decoded->sacl_present());
  CHECK(*decoded == sd);
}

TEST_CASE("a descriptor encodes SACL, DACL, owner, group in that order") {
  // Windows' MakeSelfRelativeSD order, as in the [MS-DTYP] 2.5.1.4 example:
  // DACL at 20 (28 bytes), owner at 48 (12 bytes), group at 60 (16 bytes).
  const Bytes expected = Concat({
      Header(0x9004, 48, 60, 0, 20),
      kAllowSystemAclBytes,
      kSystemSidBytes,
      kAdminsSidBytes,
  });
  SecurityDescriptor sd;
  sd.owner = well_known::LocalSystem();
  sd.group = well_known::Administrators();
  Acl dacl;
  Ace ace;
  ace.mask = access::kGenericAll;
  ace.sid = well_known::LocalSystem();
  dacl.aces.push_back(ace);
  sd.SetDacl(dacl);
  sd.control |= sd_control::kDaclProtected;
  auto bytes = sd.ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == expected);

  auto decoded = SecurityDescriptor::FromBinary(expected);
  REQUIRE(decoded.has_value());
  CHECK(*decoded == sd);
}

TEST_CASE("a descriptor decodes its parts in any order") {
  // Owner first, then group, then the DACL: offsets 20, 32, -, 48.
  const Bytes owner_first = Concat({
      Header(0x8004, 20, 32, 0, 48),
      kSystemSidBytes,
      kAdminsSidBytes,
      kAllowSystemAclBytes,
  });
  auto sd = SecurityDescriptor::FromBinary(owner_first);
  REQUIRE(sd.has_value());
  CHECK(sd->owner == well_known::LocalSystem());
  CHECK(sd->group == well_known::Administrators());
  REQUIRE(sd->dacl.has_value());
  REQUIRE(sd->dacl->aces.size() == 1);
  CHECK(sd->dacl->aces[0].sid == well_known::LocalSystem());

  // Re-encoding uses the canonical order; the value is unchanged.
  auto bytes = sd->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes != owner_first);
  CHECK(bytes->size() == owner_first.size());
  auto again = SecurityDescriptor::FromBinary(*bytes);
  REQUIRE(again.has_value());
  CHECK(*again == *sd);
}

TEST_CASE("two parts may share bytes, as MS-DTYP does not forbid it") {
  // Owner and group both point at the same SID.
  const Bytes shared = Concat({Header(0x8000, 20, 20, 0, 0), kSystemSidBytes});
  auto sd = SecurityDescriptor::FromBinary(shared);
  REQUIRE(sd.has_value());
  CHECK(sd->owner == well_known::LocalSystem());
  CHECK(sd->group == well_known::LocalSystem());
}

TEST_CASE("a present DACL at offset 0 is a NULL DACL") {
  const Bytes null_dacl = Header(0x8004, 0, 0, 0, 0);
  auto sd = SecurityDescriptor::FromBinary(null_dacl);
  REQUIRE(sd.has_value());
  CHECK(sd->dacl_present());
  CHECK(sd->has_null_dacl());
  auto bytes = sd->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == null_dacl);

  // Same for the SACL.
  auto null_sacl = SecurityDescriptor::FromBinary(Header(0x8010, 0, 0, 0, 0));
  REQUIRE(null_sacl.has_value());
  CHECK(null_sacl->sacl_present());
  CHECK_FALSE(null_sacl->sacl.has_value());
}

TEST_CASE("the DACL setters keep the present bit and the ACL in step") {
  SecurityDescriptor sd;
  sd.SetNullDacl();
  CHECK(sd.has_null_dacl());
  sd.SetDacl(Acl{});
  CHECK(sd.dacl_present());
  CHECK_FALSE(sd.has_null_dacl());
  REQUIRE(sd.dacl.has_value());
  sd.ClearDacl();
  CHECK_FALSE(sd.dacl_present());
  CHECK_FALSE(sd.dacl.has_value());
  CHECK_FALSE(sd.has_null_dacl());
  sd.SetSacl(Acl{});
  CHECK(sd.sacl_present());
}

TEST_CASE("the mandatory label is the first effective ML ACE of the SACL") {
  SecurityDescriptor sd;
  CHECK(sd.MandatoryLabel() == nullptr);
  Acl sacl;
  Ace audit;
  audit.type = AceType::kSystemAudit;
  audit.sid = well_known::Everyone();
  Ace inherit_only;
  inherit_only.type = AceType::kSystemMandatoryLabel;
  inherit_only.flags = ace_flags::kInheritOnly | ace_flags::kObjectInherit;
  inherit_only.sid = well_known::IntegrityLevel(kIntegrityHigh);
  Ace label;
  label.type = AceType::kSystemMandatoryLabel;
  label.mask = access::kMandatoryNoWriteUp;
  label.sid = well_known::IntegrityLevel(kIntegrityLow);
  Ace second;
  second.type = AceType::kSystemMandatoryLabel;
  second.sid = well_known::IntegrityLevel(kIntegritySystem);
  sacl.aces = {audit, inherit_only, label, second};
  sd.SetSacl(sacl);
  const Ace* found = sd.MandatoryLabel();
  REQUIRE(found != nullptr);
  CHECK(found->sid == well_known::IntegrityLevel(kIntegrityLow));
}

TEST_CASE("the MS-DTYP example descriptor decodes field by field") {
  // [MS-DTYP] 2.5.1.4: control 0xb014 (self-relative, both ACLs present and
  // protected), owner 0x90, group 0xa0, SACL 0x14, DACL 0x30.
  const Bytes& bytes = kMsDtypExampleSdBytes;
  auto sd = SecurityDescriptor::FromBinary(bytes);
  REQUIRE(sd.has_value());
  CHECK(sd->control == 0xb014);
  CHECK(sd->owner == well_known::Administrators());
  CHECK(sd->group == well_known::Administrators());
  REQUIRE(sd->sacl.has_value());
  REQUIRE(sd->sacl->aces.size() == 1);
  CHECK(sd->sacl->aces[0].type == AceType::kSystemAudit);
  CHECK(sd->sacl->aces[0].flags == ace_flags::kFailedAccess);
  CHECK(sd->sacl->aces[0].mask == access::kGenericRead);
  CHECK(sd->sacl->aces[0].sid == well_known::Everyone());
  REQUIRE(sd->dacl.has_value());
  REQUIRE(sd->dacl->aces.size() == 4);
  CHECK(sd->dacl->aces[0].flags ==
        (ace_flags::kObjectInherit | ace_flags::kContainerInherit));
  CHECK(sd->dacl->aces[0].mask ==
        (access::kGenericRead | access::kGenericExecute));
  CHECK(sd->dacl->aces[0].sid == well_known::Users());
  CHECK(sd->dacl->aces[3].sid == well_known::CreatorOwner());
  auto again = sd->ToBinary();
  REQUIRE(again.has_value());
  CHECK(*again == bytes);
}

TEST_CASE("bytes after the descriptor's parts are ignored") {
  Bytes trailing = Concat({Header(0x8000, 20, 0, 0, 0), kSystemSidBytes});
  trailing.push_back(0x55);
  auto sd = SecurityDescriptor::FromBinary(trailing);
  REQUIRE(sd.has_value());
  CHECK(sd->owner == well_known::LocalSystem());
}

TEST_CASE("malformed descriptors fail with the exact reason") {
  struct MalformedCase {
    Bytes bytes;
    const char* message;
  };
  Bytes short_header = Header(0x8000, 0, 0, 0, 0);
  short_header.pop_back();
  Bytes revision2 = Header(0x8000, 0, 0, 0, 0);
  revision2[0] = 0x02;
  const std::vector<MalformedCase> cases = {
      {{}, "security descriptor truncated: 0 bytes, need at least 20"},
      {short_header,
       "security descriptor truncated: 19 bytes, need at least 20"},
      {revision2, "security descriptor revision 2 (expected 1)"},
      {Header(0x0004, 0, 0, 0, 0), "security descriptor is not self-relative"},
      {Header(0x8000, 100, 0, 0, 0),
       "owner offset 100 lies outside the descriptor"},
      {Concat({Header(0x8000, 4, 0, 0, 0), kSystemSidBytes}),
       "owner offset 4 lies outside the descriptor"},
      {Concat({Header(0x8000, 20, 32, 0, 0), kSystemSidBytes}),
       "group offset 32 lies outside the descriptor"},
      {Concat({Header(0x8000, 0, 0, 0, 20), kAllowSystemAclBytes}),
       "DACL offset set without SE_DACL_PRESENT"},
      {Concat({Header(0x8000, 0, 0, 20, 0), kAllowSystemAclBytes}),
       "SACL offset set without SE_SACL_PRESENT"},
      {Concat({Header(0x8004, 0, 0, 0, 200), kAllowSystemAclBytes}),
       "DACL offset 200 lies outside the descriptor"},
      {Concat({Header(0x8010, 0, 0, 0xffffffff, 0), kAllowSystemAclBytes}),
       "SACL offset 4294967295 lies outside the descriptor"},
      {Concat({Header(0x8000, 20, 0, 0, 0), {0x01, 0x01, 0x00, 0x00}}),
       "owner: binary SID truncated: 4 bytes, need at least 8"},
      {Concat({Header(0x8000, 0, 20, 0, 0),
               {0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05}}),
       "group: binary SID has revision 3 (only 1)"},
      {Concat({Header(0x8004, 0, 0, 0, 20),
               {0x03, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00}}),
       "DACL: ACL revision 3 (expected 2 or 4)"},
      // The DACL's AclSize (28) runs past the 24 bytes left.
      {Concat({Header(0x8004, 0, 0, 0, 20),
               Bytes(kAllowSystemAclBytes.begin(),
                     kAllowSystemAclBytes.end() - 4)}),
       "DACL: ACL size 28 does not fit the 24 bytes given"},
      {Concat({Header(0x8010, 0, 0, 20, 0), {0x02, 0x00, 0x08}}),
       "SACL: ACL truncated: 3 bytes, need at least 8"},
  };
  for (const MalformedCase& test : cases) {
    INFO("expected: " << test.message);
    auto sd = SecurityDescriptor::FromBinary(test.bytes);
    REQUIRE_FALSE(sd.has_value());
    CHECK(sd.error().code == ErrorCode::kInvalidArgument);
    CHECK(sd.error().message == test.message);
  }
}

}  // namespace
}  // namespace tokenfs
