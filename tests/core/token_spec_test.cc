#include "core/token_spec.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "core/capability.h"
#include "core/well_known_sids.h"
#include "tests/support/catch_support.h"
#include "tests/support/test_support.h"

// Binary specs in these tests are laid out by hand with the Layout helper:
// header fields go at the offsets of the header table of the Peios ABI's
// token spec (man/token-spec.5, section "BINARY FORMAT"), sections where
// the test says. The helper shares no code with the codec; SID bytes come from
// Sid::ToBinary (MS-DTYP 2.4.2.2), claim entries are spelled out field by
// field.

namespace tokenfs {
namespace {

// A short name for the many SID literals below.
constexpr auto& S = test::ParseSidOrDie;
using test::Concat;

class Layout {
 public:
  Layout() : bytes_(192, 0) {}

  Layout& U8(size_t at, uint8_t value) {
    if (bytes_.size() < at + 1) bytes_.resize(at + 1, 0);
    bytes_[at] = value;
    return *this;
  }
  Layout& U16(size_t at, uint16_t value) {
    for (size_t i = 0; i < 2; ++i)
      U8(at + i, static_cast<uint8_t>(value >> (8 * i)));
    return *this;
  }
  Layout& U32(size_t at, uint32_t value) {
    for (size_t i = 0; i < 4; ++i)
      U8(at + i, static_cast<uint8_t>(value >> (8 * i)));
    return *this;
  }
  Layout& U64(size_t at, uint64_t value) {
    for (size_t i = 0; i < 8; ++i)
      U8(at + i, static_cast<uint8_t>(value >> (8 * i)));
    return *this;
  }
  Layout& Raw(size_t at, const std::vector<uint8_t>& raw) {
    for (size_t i = 0; i < raw.size(); ++i) U8(at + i, raw[i]);
    return *this;
  }
  Layout& Size(size_t size) {
    bytes_.resize(size, 0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  uint32_t ReadU32(size_t at) const {
    return uint32_t{bytes_[at]} | uint32_t{bytes_[at + 1]} << 8 |
           uint32_t{bytes_[at + 2]} << 16 | uint32_t{bytes_[at + 3]} << 24;
  }
  const std::vector<uint8_t>& get() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

std::vector<uint8_t> SidBytes(const char* text) { return S(text).ToBinary(); }

// [sid_len u32][sid][attributes u32]
std::vector<uint8_t> Entry(const char* sid, uint32_t attributes) {
  const auto bytes = SidBytes(sid);
  Layout entry;
  entry.Size(0)
      .U32(0, static_cast<uint32_t>(bytes.size()))
      .Raw(4, bytes)
      .U32(4 + bytes.size(), attributes);
  return entry.get();
}

// ACL (A;;GA;;;SY): header rev 2, size 28, count 1; ACE type 0, flags 0,
// size 20, mask GENERIC_ALL 0x10000000, SID S-1-5-18.
std::vector<uint8_t> SystemAllDacl() {
  return Concat({{2, 0, 28, 0, 1, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0x10},
                 SidBytes("S-1-5-18")});
}

// Claim arrays: [entry_len][entry], entries in the canonical layout of
// core/claims.h (see claims_test.cc for the derivation).
std::vector<uint8_t> UserClaimsBytes() {  // {"a", uint64, [5]}
  Layout claim;
  claim.Size(0)
      .U32(0, 36)
      .U32(4, 32)
      .U16(8, 2)
      .U32(16, 1)
      .U32(20, 24)
      .U64(28, 5)
      .U16(36, 'a')
      .Size(40);
  return claim.get();
}
std::vector<uint8_t> DeviceClaimsBytes() {  // {"d", boolean, [true]}
  Layout claim;
  claim.Size(0)
      .U32(0, 36)
      .U32(4, 32)
      .U16(8, 6)
      .U32(16, 1)
      .U32(20, 24)
      .U64(28, 1)
      .U16(36, 'd')
      .Size(40);
  return claim.get();
}

// Section offsets of the full canonical spec (header order, 4-byte aligned):
//   user 192..208, groups 208..276 (20 + 24 + 24), dacl 276..304,
//   user claims 304..344, device claims 344..384, device groups 384..404,
//   restricted sids 404..424, confinement sid 424..440, caps 440..464,
//   supp gids 464..472, restricted device groups 472..492.
constexpr size_t kFullSize = 492;

Layout FullLayout() {
  Layout spec;
  spec.U32(0, 2)          // version
      .U8(4, 2)           // impersonation token
      .U8(5, 2)           // level Impersonation
      .U32(8, 0x3000)     // High
      .U32(12, 3)         // NO_WRITE_UP | NEW_PROCESS_MIN
      .U64(16, 0x900000)  // SeDebug (20), SeChangeNotify (23)
      .U64(24, 0x800000)  // SeChangeNotify enabled
      .U32(36, 1000)      // projected uid
      .U32(40, 1000)      // projected gid
      .U32(44, 0x5)       // audit: object success, privilege success
      .U64(48, 0x1122334455667788)
      .U64(56, 0x100000002)  // session
      .U32(64, 2)            // owner: groups[1]
      .U32(68, 2)            // primary group: groups[1]
      .Raw(72, {'t', 'o', 'k', 'e', 'n', 'f', 's', 0})
      .U64(80, 0x42)
      .U32(88, 192)
      .U32(92, 208)
      .U32(96, 3)
      .U32(100, 276)
      .U32(104, 28)
      .U32(108, 304)
      .U32(112, 40)
      .U32(116, 344)
      .U32(120, 40)
      .U32(124, 384)
      .U32(128, 1)
      .U32(132, 404)
      .U32(136, 1)
      .U32(140, 424)
      .U32(144, 16)
      .U32(148, 440)
      .U32(152, 1)
      .U8(156, 1)
      .U8(157, 1)
      .U8(158, 1)
      .U8(159, 1)
      .U32(160, 464)
      .U32(164, 2)
      .U32(168, 472)
      .U32(172, 1)
      .U64(176, 0x3e7)
      .U32(184, 3);
  spec.Raw(192, SidBytes("S-1-22-1-1000"))
      .Raw(208, Concat({Entry("S-1-1-0", 0x7), Entry("S-1-22-2-1000", 0xf),
                        Entry("S-1-5-32-544", 0x10)}))
      .Raw(276, SystemAllDacl())
      .Raw(304, UserClaimsBytes())
      .Raw(344, DeviceClaimsBytes())
      .Raw(384, Entry("S-1-1-0", 0x7))
      .Raw(404, Entry("S-1-5-4", 0x7))
      .Raw(424, SidBytes("S-1-15-2-1"))
      .Raw(440, Entry("S-1-15-3-1", 0x4))
      .U32(464, 1000)
      .U32(468, 27)
      .Raw(472, Entry("S-1-2-0", 0x7));
  REQUIRE(spec.size() == kFullSize);
  return spec;
}

TokenSpec FullSpec() {
  TokenSpec spec;
  spec.type = TokenType::kImpersonation;
  spec.impersonation_level = ImpersonationLevel::kImpersonation;
  spec.integrity_rid = 0x3000;
  spec.mandatory_policy = 3;
  spec.privileges_present = 0x900000;
  spec.privileges_enabled = 0x800000;
  spec.projected_uid = 1000;
  spec.projected_gid = 1000;
  spec.audit_policy = 5;
  spec.expiration_ns = 0x1122334455667788;
  spec.session_id = Luid{0x100000002};
  spec.owner_index = 2;
  spec.primary_group_index = 2;
  spec.source = TokenSource::Make("tokenfs", Luid{0x42});
  spec.user = S("S-1-22-1-1000");
  spec.groups = {{S("S-1-1-0"), 0x7},
                 {S("S-1-22-2-1000"), 0xf},
                 {S("S-1-5-32-544"), 0x10}};
  Acl dacl;
  dacl.aces.push_back(Ace{.type = AceType::kAccessAllowed,
                          .mask = access::kGenericAll,
                          .sid = S("S-1-5-18")});
  spec.default_dacl = dacl;
  spec.user_claims = {Claim{"a", ClaimType::kUint64, 0, {uint64_t{5}}}};
  spec.device_claims = {Claim{"d", ClaimType::kBoolean, 0, {true}}};
  spec.device_groups = {{S("S-1-1-0"), 0x7}};
  spec.restricted_sids = {{S("S-1-5-4"), 0x7}};
  spec.confinement_sid = S("S-1-15-2-1");
  spec.capabilities = {S("S-1-15-3-1")};
  spec.confinement_exempt = true;
  spec.write_restricted = true;
  spec.user_deny_only = true;
  spec.isolation_boundary = true;
  spec.supplementary_gids = {1000, 27};
  spec.restricted_device_groups = {{S("S-1-2-0"), 0x7}};
  spec.origin = Luid{0x3e7};
  spec.interactive_session_id = 3;
  return spec;
}

// Header of the smallest valid spec: S-1-22-1-1000 at 192 and the values of
// TokenSpec's defaults (primary, anonymous, Medium 0x2000, NO_WRITE_UP,
// projected 65534/65534, session 0x3e6).
Layout MinimalLayout() {
  Layout spec;
  spec.U32(0, 2)
      .U8(4, 1)
      .U32(8, 0x2000)
      .U32(12, 1)
      .U32(36, 65534)
      .U32(40, 65534)
      .U64(56, 0x3e6)
      .U32(88, 192);
  spec.Raw(192, SidBytes("S-1-22-1-1000"));
  return spec;
}

TEST_CASE(
    "the smallest spec decodes to the TokenSpec defaults and encodes back") {
  TokenSpec expected;
  expected.user = S("S-1-22-1-1000");
  auto decoded = DecodeTokenSpec(MinimalLayout().get());
  REQUIRE(decoded);
  CHECK(*decoded == expected);
  auto encoded = EncodeTokenSpec(expected);
  REQUIRE(encoded);
  CHECK(*encoded == MinimalLayout().get());
}

TEST_CASE("a spec using every section decodes field by field") {
  auto decoded = DecodeTokenSpec(FullLayout().get());
  REQUIRE(decoded);
  const TokenSpec expected = FullSpec();
  CHECK(decoded->type == expected.type);
  CHECK(decoded->impersonation_level == expected.impersonation_level);
  CHECK(decoded->integrity_rid == 0x3000);
  CHECK(decoded->privileges_enabled == 0x800000);
  CHECK(decoded->expiration_ns == 0x1122334455667788);
  CHECK(decoded->session_id == Luid{0x100000002});
  CHECK(decoded->source.NameString() == "tokenfs");
  CHECK(decoded->groups == expected.groups);
  CHECK(decoded->default_dacl == expected.default_dacl);
  CHECK(decoded->user_claims == expected.user_claims);
  CHECK(decoded->device_claims == expected.device_claims);
  CHECK(decoded->capabilities == expected.capabilities);
  CHECK(decoded->supplementary_gids == expected.supplementary_gids);
  CHECK(decoded->restricted_device_groups == expected.restricted_device_groups);
  CHECK(*decoded == expected);
}

TEST_CASE("encoding writes sections in header order, 4-byte aligned") {
  auto encoded = EncodeTokenSpec(FullSpec());
  REQUIRE(encoded);
  CHECK(*encoded == FullLayout().get());
}

TEST_CASE("sections may come in any order with gaps and still decode") {
  // The same content as FullLayout with the sections reversed, each after
  // a 3-byte gap, so nothing is aligned.
  const Layout full = FullLayout();
  struct Section {
    size_t pair_at;  // header offset of the section's offset field
    size_t begin;
    size_t end;
  };
  const std::vector<Section> sections = {
      {88, 192, 208},  {92, 208, 276},  {100, 276, 304}, {108, 304, 344},
      {116, 344, 384}, {124, 384, 404}, {132, 404, 424}, {140, 424, 440},
      {148, 440, 464}, {160, 464, 472}, {168, 472, 492}};
  Layout shuffled = full;
  shuffled.Size(192);
  size_t position = 192;
  for (auto it = sections.rbegin(); it != sections.rend(); ++it) {
    position += 3;
    shuffled.Raw(
        position,
        std::vector<uint8_t>(full.get().begin() + static_cast<long>(it->begin),
                             full.get().begin() + static_cast<long>(it->end)));
    shuffled.U32(it->pair_at, static_cast<uint32_t>(position));
    position += it->end - it->begin;
  }
  shuffled.Size(position + 5);
  auto decoded = DecodeTokenSpec(shuffled.get());
  REQUIRE(decoded);
  CHECK(*decoded == FullSpec());
  // Encoding gives back the canonical layout.
  CHECK(EncodeTokenSpec(*decoded).value() == full.get());
}

struct InvalidCase {
  const char* rule;
  std::function<void(Layout&)> mutate;
  const char* fragment;
  ErrorCode code = ErrorCode::kInvalidArgument;
};

// Two claims arrays whose entries point 600 values at one 60-byte string:
// each decodes (about 43 KB canonical), together they cannot be re-encoded
// within 64 KiB.
std::vector<uint8_t> SharedStringClaims(char name) {
  const uint32_t count = 600;
  const size_t name_at = 16 + 4 * count;
  Layout entry;
  entry.Size(0).U32(0, static_cast<uint32_t>(name_at)).U16(4, 3).U32(12, count);
  entry.U16(name_at, static_cast<uint8_t>(name)).U16(name_at + 2, 0);
  entry.U32(name_at + 4, static_cast<uint32_t>(name_at + 8));
  for (size_t i = 0; i < 30; ++i) entry.U16(name_at + 8 + 2 * i, 'v');
  entry.U16(name_at + 68, 0);
  for (uint32_t i = 0; i < count; ++i)
    entry.U32(16 + 4 * i, static_cast<uint32_t>(name_at + 4));
  Layout wrapped;
  wrapped.Size(0)
      .U32(0, static_cast<uint32_t>(entry.size()))
      .Raw(4, entry.get());
  return wrapped.get();
}

TEST_CASE(
    "decoding refuses a spec breaking any validation rule, naming the field") {
  const std::vector<InvalidCase> cases = {
      {"shorter than the header", [](Layout& s) { s.Size(191); },
       "token spec: only 191 bytes, shorter than the 192-byte header"},
      {"larger than 64 KiB", [](Layout& s) { s.Size(65537); },
       "token spec is 65537 bytes (at most 65536)",
       ErrorCode::kResourceExhausted},
      {"version", [](Layout& s) { s.U32(0, 1); },
       "token spec: version is 1 (only version 2 is supported)"},
      {"reserved0", [](Layout& s) { s.U8(7, 1); },
       "token spec: reserved0 must be 0"},
      {"reserved1 (elevation)", [](Layout& s) { s.U32(32, 2); },
       "token spec: reserved1 must be 0"},
      {"reserved3", [](Layout& s) { s.U32(188, 500); },
       "token spec: reserved3 at offset 188 must be 0"},
      {"token type 0", [](Layout& s) { s.U8(4, 0); },
       "token spec: token_type is 0 (1 primary or 2 impersonation)"},
      {"token type 3", [](Layout& s) { s.U8(4, 3); },
       "token spec: token_type is 3"},
      {"level 4", [](Layout& s) { s.U8(5, 4); },
       "token spec: impersonation_level is 4 (0 anonymous to 3 delegation)"},
      {"primary with a level", [](Layout& s) { s.U8(4, 1); },
       "token spec: impersonation_level must be 0 (anonymous) for a primary "
       "token"},
      {"mandatory policy bits", [](Layout& s) { s.U32(12, 7); },
       "token spec: mandatory_policy has unknown bits 0x4"},
      {"audit policy bits", [](Layout& s) { s.U32(44, 0x15); },
       "token spec: audit_policy has unknown bits 0x10"},
      {"privilege outside the catalog", [](Layout& s) { s.U64(16, 0x900001); },
       "token spec: privs_present has bits outside the privilege catalog "
       "(0x1)"},
      {"enabled outside present", [](Layout& s) { s.U64(24, 0x820000); },
       "token spec: privs_enabled has bits outside privs_present (0x20000)"},
      {"uid 0 for a non-system user", [](Layout& s) { s.U32(36, 0); },
       "token spec: projected_uid 0 is reserved for S-1-5-18 (the user is "
       "S-1-22-1-1000)"},
      {"confinement_exempt byte", [](Layout& s) { s.U8(156, 2); },
       "token spec: confinement_exempt is 2 (must be 0 or 1)"},
      {"write_restricted byte", [](Layout& s) { s.U8(157, 0xff); },
       "token spec: write_restricted is 255 (must be 0 or 1)"},
      {"user_deny_only byte", [](Layout& s) { s.U8(158, 2); },
       "token spec: user_deny_only is 2 (must be 0 or 1)"},
      {"isolation_boundary byte", [](Layout& s) { s.U8(159, 2); },
       "token spec: isolation_boundary is 2 (must be 0 or 1)"},
      {"write-restricted without user deny-only",
       [](Layout& s) { s.U8(158, 0); },
       "token spec: write_restricted requires user_deny_only"},
      {"isolation without confinement SID",
       [](Layout& s) { s.U32(140, 0).U32(144, 0); },
       "token spec: isolation_boundary requires a confinement SID"},
      {"no user SID", [](Layout& s) { s.U32(88, 0); },
       "token spec: user_sid_offset is 0 (the user SID is required)"},
      {"user SID in the header", [](Layout& s) { s.U32(88, 100); },
       "token spec: user_sid_offset 100 points into the 192-byte header"},
      {"user SID beyond the end", [](Layout& s) { s.U32(88, 492); },
       "token spec: user_sid_offset 492 is beyond the end of the 492-byte "
       "spec"},
      {"user SID truncated", [](Layout& s) { s.U32(88, 488); },
       "token spec: user_sid: binary SID"},
      {"offset 0 with a count", [](Layout& s) { s.U32(92, 0); },
       "token spec: groups_offset is 0 but groups_count is 3 (both 0 means "
       "none)"},
      {"count 0 with an offset", [](Layout& s) { s.U32(96, 0); },
       "token spec: groups_count is 0 but groups_offset is 208 (both 0 means "
       "none)"},
      {"length 0 with an offset", [](Layout& s) { s.U32(104, 0); },
       "token spec: default_dacl_len is 0 but default_dacl_offset is 276"},
      {"section in the header", [](Layout& s) { s.U32(124, 100); },
       "token spec: device_groups_offset 100 points into the 192-byte header"},
      {"too many caller groups", [](Layout& s) { s.U32(96, 1024); },
       "token spec: groups_count 1024 exceeds 1023"},
      {"sid_len past the end", [](Layout& s) { s.U32(208, 0xffff); },
       "token spec: groups[0]: sid_len 65535 runs past the end of the 492-byte "
       "spec"},
      {"sid_len larger than the SID", [](Layout& s) { s.U32(208, 16); },
       "token spec: groups[0]: sid_len 16 but the SID takes 12 bytes"},
      {"malformed group SID", [](Layout& s) { s.U8(212, 2); },
       "token spec: groups[0]: binary SID has revision 2"},
      {"entries past the end", [](Layout& s) { s.U32(172, 2); },
       "token spec: restricted_device_groups[1]: sid_len runs past the end of "
       "the 492-byte spec"},
      {"overlapping sections", [](Layout& s) { s.U32(88, 212); },
       "token spec: sections groups (bytes 208..276) and user_sid (bytes "
       "212..224) overlap"},
      {"logon-id attribute bits", [](Layout& s) { s.U32(224, 0xc0000007); },
       "token spec: groups[0]: attributes 0xc0000007 include logon-id bits "
       "(the logon SID is added by tokenfs)"},
      {"unknown attribute bits", [](Layout& s) { s.U32(224, 0x107); },
       "token spec: groups[0]: attributes 0x107 have unknown bits 0x100"},
      {"deny-only and enabled", [](Layout& s) { s.U32(272, 0x14); },
       "token spec: groups[2]: a deny-only entry cannot be enabled or enabled "
       "by default"},
      {"unknown bits in restricted SIDs", [](Layout& s) { s.U32(420, 0x80); },
       "token spec: restricted_sids[0]: attributes 0x80 have unknown bits "
       "0x80"},
      {"owner beyond the groups", [](Layout& s) { s.U32(64, 4); },
       "token spec: owner_sid_index 4 is beyond the 3 caller groups"},
      {"owner without the owner attribute", [](Layout& s) { s.U32(64, 1); },
       "token spec: owner_sid_index 1 names groups[0], which lacks the owner "
       "attribute"},
      {"primary group beyond the groups", [](Layout& s) { s.U32(68, 4); },
       "token spec: primary_group_index 4 is beyond the 3 caller groups"},
      {"capability attributes", [](Layout& s) { s.U32(460, 0x7); },
       "token spec: capabilities[0]: attributes 0x7 (capability entries carry "
       "exactly SE_GROUP_ENABLED 0x4)"},
      {"capability that is not S-1-15-3", [](Layout& s) { s.U32(452, 2); },
       "token spec: capabilities[0]: S-1-15-2-1 is not a capability SID "
       "(S-1-15-3-...)"},
      {"confinement SID outside S-1-15-2", [](Layout& s) { s.U32(432, 3); },
       "token spec: confinement_sid S-1-15-3-1 is not an app-container SID "
       "(S-1-15-2-...)"},
      {"confinement_sid_len", [](Layout& s) { s.U32(144, 20); },
       "token spec: confinement_sid_len 20 but the SID takes 16 bytes"},
      {"default_dacl_len differs from the ACL",
       [](Layout& s) { s.U32(104, 24); },
       "token spec: default_dacl: ACL size 28 does not fit the 24 bytes given"},
      {"default_dacl_len beyond the ACL", [](Layout& s) { s.U32(104, 32); },
       "token spec: default_dacl_len 32 but the ACL size field says 28"},
      {"malformed ACL", [](Layout& s) { s.U8(276, 3); },
       "token spec: default_dacl: ACL revision 3"},
      {"ACL revision 4 without object ACEs", [](Layout& s) { s.U8(276, 4); },
       "token spec: default_dacl: revision 4 where its ACEs need revision 2"},
      {"audit ACE in the default DACL", [](Layout& s) { s.U8(284, 2); },
       "token spec: default_dacl: ACE 0 has type 0x2 (a default DACL holds "
       "only allow and deny ACEs)"},
      {"unknown ACE flag", [](Layout& s) { s.U8(285, 0x20); },
       "token spec: default_dacl: ACE 0 has unknown flag bits 0x20"},
      {"malformed claim", [](Layout& s) { s.U16(314, 1); },
       "token spec: user_claims: claim 0: reserved is 0x1 (must be 0)"},
      {"claims past the end", [](Layout& s) { s.U32(120, 1000); },
       "token spec: device_claims (offset 344, length 1000) runs past the end "
       "of the 492-byte spec"},
      {"gids past the end", [](Layout& s) { s.U32(164, 1000); },
       "token spec: supp_gids (offset 464, 1000 entries) runs past the end of "
       "the 492-byte spec"},
      {"non-printable source name", [](Layout& s) { s.U8(73, 1); },
       "token spec: source_name byte 1 is 0x1 (printable ASCII, then NUL "
       "padding)"},
      {"source name after its padding",
       [](Layout& s) { s.U8(75, 0).U8(76, 'x'); },
       "token spec: source_name byte 4 is 0x78 after the NUL padding"},
      {"canonical form beyond 64 KiB",
       [](Layout& s) {
         const auto user = SharedStringClaims('u');
         const auto device = SharedStringClaims('v');
         s.U32(108, static_cast<uint32_t>(s.size()))
             .U32(112, static_cast<uint32_t>(user.size()))
             .Raw(s.size(), user);
         s.U32(116, static_cast<uint32_t>(s.size()))
             .U32(120, static_cast<uint32_t>(device.size()))
             .Raw(s.size(), device);
       },
       "token spec: its canonical form would exceed 65536 bytes",
       ErrorCode::kResourceExhausted},
  };
  for (const auto& test : cases) {
    INFO(test.rule);
    Layout spec = FullLayout();
    test.mutate(spec);
    auto decoded = DecodeTokenSpec(spec.get());
    REQUIRE_FALSE(decoded);
    CHECK(decoded.error().code == test.code);
    CHECK_THAT(decoded.error().message, Catch::Contains(test.fragment));
  }
}

TEST_CASE("a caller group that is a logon SID is refused") {
  Layout spec = MinimalLayout();
  spec.U32(92, 208).U32(96, 1).Raw(208, Entry("S-1-5-5-0-999", 0x7));
  auto decoded = DecodeTokenSpec(spec.get());
  REQUIRE_FALSE(decoded);
  CHECK_THAT(decoded.error().message,
             Catch::Contains("token spec: groups[0]: S-1-5-5-0-999 is a logon "
                             "SID (the logon SID is added by tokenfs)"));
}

TEST_CASE("a SID repeated within a list is refused") {
  Layout spec = MinimalLayout();
  spec.U32(92, 208).U32(96, 2).Raw(
      208, Concat({Entry("S-1-1-0", 0x7), Entry("S-1-1-0", 0x0)}));
  auto decoded = DecodeTokenSpec(spec.get());
  REQUIRE_FALSE(decoded);
  CHECK_THAT(
      decoded.error().message,
      Catch::Contains("token spec: groups[1]: S-1-1-0 repeats groups[0]"));
}

TEST_CASE("an ACE with trailing data in the default DACL is refused") {
  // ACE size 24: mask, S-1-5-18, then 4 bytes of application data.
  Layout spec = MinimalLayout();
  spec.U32(100, 208).U32(104, 32);
  spec.Raw(208, Concat({{2, 0, 32, 0, 1, 0, 0, 0, 0, 0, 24, 0, 0, 0, 0, 0x10},
                        SidBytes("S-1-5-18"),
                        {9, 9, 9, 9}}));
  auto decoded = DecodeTokenSpec(spec.get());
  REQUIRE_FALSE(decoded);
  CHECK_THAT(
      decoded.error().message,
      Catch::Contains(
          "token spec: default_dacl: ACE 0 carries 4 bytes after its SID"));
}

TEST_CASE("uid 0 is accepted for Local System") {
  Layout spec;
  spec.U32(0, 2).U8(4, 1).U32(8, 0x4000).U32(12, 3).U32(88, 192).Raw(
      192, SidBytes("S-1-5-18"));
  auto decoded = DecodeTokenSpec(spec.get());
  REQUIRE(decoded);
  CHECK(decoded->projected_uid == 0);
  CHECK(decoded->user == well_known::LocalSystem());
}

TEST_CASE("1023 caller groups are accepted") {
  TokenSpec spec;
  spec.user = S("S-1-22-1-1000");
  for (uint32_t gid = 0; gid < 1023; ++gid)
    spec.groups.push_back({well_known::UnixGroup(gid), 0x7});
  auto encoded = EncodeTokenSpec(spec);
  REQUIRE(encoded);
  CHECK(encoded->size() == 192 + 16 + 1023 * 24);
  auto decoded = DecodeTokenSpec(*encoded);
  REQUIRE(decoded);
  CHECK(decoded->groups.size() == 1023);
  spec.groups.push_back({well_known::UnixGroup(5000), 0x7});
  auto too_many = EncodeTokenSpec(spec);
  REQUIRE_FALSE(too_many);
  CHECK_THAT(too_many.error().message,
             Catch::Contains("groups_count 1024 exceeds 1023"));
}

TEST_CASE("encoding refuses specs that would not decode") {
  struct Case {
    const char* rule;
    std::function<void(TokenSpec&)> mutate;
    const char* fragment;
    ErrorCode code = ErrorCode::kInvalidArgument;
  };
  const std::vector<Case> cases = {
      {"bad token type",
       [](TokenSpec& s) { s.type = static_cast<TokenType>(7); },
       "token_type is 7"},
      {"bad level",
       [](TokenSpec& s) {
         s.impersonation_level = static_cast<ImpersonationLevel>(9);
       },
       "impersonation_level is 9"},
      {"logon SID group",
       [](TokenSpec& s) {
         s.groups.push_back({well_known::LogonSid(5), 0x7});
       },
       "groups[3]: S-1-5-5-0-5 is a logon SID"},
      {"callback ACE",
       [](TokenSpec& s) {
         s.default_dacl->aces.Mutable()[0].type = AceType::kAccessAllowedCallback;
       },
       "default_dacl: ACE 0 has type 0x9"},
      {"ACE application data",
       [](TokenSpec& s) { s.default_dacl->aces.Mutable()[0].application_data = {1}; },
       "default_dacl: ACE 0 carries 1 bytes after its SID"},
      {"invalid claim",
       [](TokenSpec& s) { s.device_claims[0].values = {int64_t{1}}; },
       "device_claims: claim 0: claim 'd': value 0 is an int64 but the claim "
       "type is boolean"},
      {"repeated claim name",
       [](TokenSpec& s) { s.user_claims.push_back(s.user_claims[0]); },
       "user_claims: claim 1: name 'a' repeats claim 0"},
      {"source name", [](TokenSpec& s) { s.source.name[0] = '\n'; },
       "source_name byte 0 is 0xa"},
      {"too large",
       [](TokenSpec& s) {
         s.user_claims = {Claim{"big",
                                ClaimType::kOctetString,
                                0,
                                {std::vector<uint8_t>(40000, 1)}}};
         s.device_claims = {Claim{"big",
                                  ClaimType::kOctetString,
                                  0,
                                  {std::vector<uint8_t>(40000, 1)}}};
       },
       "token spec: the encoding takes", ErrorCode::kResourceExhausted},
  };
  for (const auto& test : cases) {
    INFO(test.rule);
    TokenSpec spec = FullSpec();
    test.mutate(spec);
    auto encoded = EncodeTokenSpec(spec);
    REQUIRE_FALSE(encoded);
    CHECK(encoded.error().code == test.code);
    CHECK_THAT(encoded.error().message, Catch::Contains(test.fragment));
  }
}

TEST_CASE("token specs survive an encode and decode round trip") {
  std::vector<TokenSpec> specs;
  specs.push_back(FullSpec());
  TokenSpec system;
  system.user = well_known::LocalSystem();
  system.integrity_rid = kIntegritySystem;
  system.privileges_present = privilege::kCatalogMask;
  system.privileges_enabled = privilege::kCatalogMask;
  system.projected_uid = 0;
  system.projected_gid = 0;
  system.session_id = Luid{0};
  system.groups = {{well_known::Administrators(), 0xf},
                   {well_known::Everyone(), 0x7}};
  system.owner_index = 1;
  system.primary_group_index = 1;
  system.default_dacl = Acl{};
  specs.push_back(system);
  TokenSpec odd;
  odd.user = S("S-1-0x123456789ABC-1");
  odd.integrity_rid = 0xffffffff;
  odd.type = TokenType::kImpersonation;
  odd.impersonation_level = ImpersonationLevel::kDelegation;
  odd.mandatory_policy = 0;
  odd.groups = {{S("S-1-16-8192"), 0x60},
                {S("S-1-5-21-1-2-3-1001"), 0x20000000}};
  Acl object_dacl;
  object_dacl.aces.push_back(
      Ace{.type = AceType::kAccessDeniedObject,
          .flags = 0x1f,
          .mask = AccessMask(0x100),
          .sid = well_known::Everyone(),
          .object_type =
              Guid{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}});
  object_dacl.revision = Acl::kRevisionDs;
  odd.default_dacl = object_dacl;
  odd.capabilities = {CapabilitySid("tokeninfo"), CapabilitySid("AT")};
  odd.supplementary_gids = {0, 4294967295u};
  specs.push_back(odd);
  for (size_t i = 0; i < specs.size(); ++i) {
    INFO("spec " << i);
    auto encoded = EncodeTokenSpec(specs[i]);
    REQUIRE(encoded);
    CHECK(encoded->size() % 4 == 0);
    auto decoded = DecodeTokenSpec(*encoded);
    REQUIRE(decoded);
    CHECK(*decoded == specs[i]);
    CHECK(EncodeTokenSpec(*decoded).value() == *encoded);
  }
}

// The time every token below is built at.
constexpr uint64_t kBuildNs = 1700000000123456789ull;

TEST_CASE("building a token appends the logon SID of the session last") {
  LuidAllocator ids(0x5000);
  const test::FixedClock clock(kBuildNs);
  const Sid creator = S("S-1-22-1-0");
  TokenSpec spec = FullSpec();
  spec.session_id = Luid{0x100000002};
  auto token = BuildTokenFromSpec(spec, SpecBuildContext{ids, clock, creator});
  REQUIRE(token);
  REQUIRE(token->groups.size() == 4);
  // S-1-5-5-{0x1}-{0x2}; mandatory|default|enabled|logon-id = 0xc0000007.
  CHECK(token->groups[3].sid == S("S-1-5-5-1-2"));
  CHECK(token->groups[3].attributes == 0xc0000007);
  CHECK(token->LogonSid() == S("S-1-5-5-1-2"));
  CHECK(token->auth_id == Luid{0x100000002});
  // Indices still count from the caller's groups.
  CHECK(token->Owner() == S("S-1-22-2-1000"));
}

TEST_CASE("building a token fills what the kernel generates") {
  LuidAllocator ids(0x5000);
  const test::FixedClock clock(kBuildNs);
  const Sid creator = S("S-1-22-1-0");
  auto token = BuildTokenFromSpec(
      FullSpec(),
      SpecBuildContext{ids, clock, creator, nullptr, LogonType::kService});
  REQUIRE(token);
  CHECK(token->token_id == Luid{0x5000});
  CHECK(token->modified_id == Luid{0x5000});
  CHECK(token->parent_token_id == Luid{0});
  CHECK(token->created_ns == 1700000000123456789ull);
  CHECK(token->elevation_type == ElevationType::kDefault);
  CHECK(token->logon_type == LogonType::kService);
  CHECK(token->privileges.present == 0x900000);
  CHECK(token->privileges.enabled == 0x800000);
  CHECK(token->privileges.enabled_by_default == 0x800000);
  CHECK(token->privileges.used == 0);
  CHECK(token->type == TokenType::kImpersonation);
  CHECK(token->impersonation_level == ImpersonationLevel::kImpersonation);
  CHECK(token->integrity_rid == 0x3000);
  CHECK(token->expiration_ns == 0x1122334455667788);
  CHECK(token->origin == Luid{0x3e7});
  CHECK(token->interactive_session_id == 3);
  CHECK(token->projected_supplementary_gids == std::vector<uint32_t>{1000, 27});
  CHECK(token->source.NameString() == "tokenfs");
  CHECK(token->write_restricted);
  CHECK(token->user_deny_only);
  CHECK(token->confinement_sid == S("S-1-15-2-1"));
  CHECK(token->user_claims == FullSpec().user_claims);
  REQUIRE(token->restricted_sids.has_value());
  CHECK(*token->restricted_sids == FullSpec().restricted_sids);
  REQUIRE(token->device_groups.has_value());
  CHECK(*token->device_groups == FullSpec().device_groups);
  // The token's own SD: owner = creator; the token's user gets
  // QUERY|ADJUST_PRIVILEGES|ADJUST_GROUPS|ADJUST_DEFAULT = 0xe8
  // (the Peios KACS token access rights); the creator gets all access.
  CHECK(token->security.owner == creator);
  REQUIRE(token->security.dacl.has_value());
  REQUIRE(token->security.dacl->aces.size() == 3);
  CHECK(token->security.dacl->aces[0].sid == S("S-1-22-1-1000"));
  CHECK(token->security.dacl->aces[0].mask == AccessMask(0xe8));
  CHECK(token->security.dacl->aces[1].sid == creator);
  CHECK(token->security.dacl->aces[1].mask == AccessMask(0xf01ff));
  // The next token gets the next id.
  auto second =
      BuildTokenFromSpec(FullSpec(), SpecBuildContext{ids, clock, creator});
  REQUIRE(second);
  CHECK(second->token_id == Luid{0x5001});
}

TEST_CASE("building a token forces mandatory groups enabled unless deny-only") {
  LuidAllocator ids;
  const test::FixedClock clock(kBuildNs);
  TokenSpec spec;
  spec.user = S("S-1-22-1-1000");
  spec.groups = {{S("S-1-1-0"), 0x1},
                 {S("S-1-5-32-544"), 0x11},
                 {S("S-1-5-11"), 0x0},
                 {S("S-1-5-4"), 0x2}};
  auto token =
      BuildTokenFromSpec(spec, SpecBuildContext{ids, clock, spec.user});
  REQUIRE(token);
  CHECK(token->groups[0].attributes == 0x7);   // mandatory -> enabled + default
  CHECK(token->groups[1].attributes == 0x11);  // mandatory deny-only stays off
  CHECK(token->groups[2].attributes == 0x0);   // optional stays disabled
  CHECK(token->groups[3].attributes == 0x2);
  // Empty optional lists are absent on the token.
  CHECK_FALSE(token->restricted_sids.has_value());
  CHECK_FALSE(token->device_groups.has_value());
  CHECK_FALSE(token->restricted_device_groups.has_value());
  CHECK_FALSE(token->is_restricted());
  // Creator = user: no creator ACE, an OWNER RIGHTS ACE instead.
  REQUIRE(token->security.dacl.has_value());
  CHECK(token->security.dacl->aces[1].sid == well_known::OwnerRights());
}

TEST_CASE("building a token names capabilities it knows") {
  LuidAllocator ids;
  const test::FixedClock clock(kBuildNs);
  TokenSpec spec;
  spec.user = S("S-1-22-1-1000");
  spec.capabilities = {CapabilitySid("tokeninfo"), S("S-1-15-3-1")};
  const CapabilityNames names;
  auto named =
      BuildTokenFromSpec(spec, SpecBuildContext{ids, clock, spec.user, &names});
  REQUIRE(named);
  REQUIRE(named->capabilities.size() == 2);
  CHECK(named->capabilities[0].name == "tokeninfo");
  CHECK(named->capabilities[0].sid == CapabilitySid("tokeninfo"));
  CHECK(named->capabilities[1].name.empty());
  CHECK(named->capabilities[1].sid == S("S-1-15-3-1"));
  auto unnamed = BuildTokenFromSpec(
      spec, SpecBuildContext{ids, clock, spec.user, nullptr});
  REQUIRE(unnamed);
  CHECK(unnamed->capabilities[0].name.empty());
}

TEST_CASE("building from an invalid spec fails without taking an id") {
  LuidAllocator ids(0x7000);
  const test::FixedClock clock(kBuildNs);
  TokenSpec spec = FullSpec();
  spec.privileges_enabled |= privilege::Bit(privilege::kTcb);
  auto token =
      BuildTokenFromSpec(spec, SpecBuildContext{ids, clock, spec.user});
  REQUIRE_FALSE(token);
  CHECK_THAT(
      token.error().message,
      Catch::Contains("privs_enabled has bits outside privs_present (0x80)"));
  CHECK(ids.Next() == Luid{0x7000});
}

}  // namespace
}  // namespace tokenfs
