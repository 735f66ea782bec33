#include "core/sddl.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "core/security_descriptor.h"
#include "core/well_known_sids.h"
#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

// Where the expected strings come from. Each table row names one of these.
//
// [win-canon]   Samba libcli/security/tests/windows/canonical.txt,
// [win-noncanon] .../non_canonical.txt and [win-lenient]
//   .../windows_is_less_fussy.txt: "input -> output" pairs recorded by
//   running windows-sddl-tests.c (same directory) on Windows, which converts
//   each input with ConvertStringSecurityDescriptorToSecurityDescriptorW and
//   prints it back. Lines that use a machine- or domain-relative alias (LG,
//   LA, DA, DU, RS) are adapted: the alias is replaced by WD or SY, which
//   leaves the part under test (rights, flags, ordering) unchanged. Lines
//   that only exercise hex sub-authorities are left out (see the invalid
//   table).
// [win-fail]    .../should_fail.txt: inputs Windows refuses.
// [win-weird]   .../windows_is_weird.txt: overflow and negative masks that
//   Windows clamps or wraps and tokenfs refuses (Samba's choice).
// [ms-sdsf]     learn.microsoft.com/windows/win32/secauthz/
//   security-descriptor-string-format, "String 1" and "String 2"; the
//   documented binary dump gives the masks, and the canonical text follows
//   the Windows-verified rules above. DA (domain admins) is replaced by BA.
// [ms-ace]      learn.microsoft.com/windows/win32/secauthz/ace-strings, the
//   access-allowed example (mask 0x100e003f per the page).
// [ms-dtyp]     [MS-DTYP] 2.5.1.4 "SDDL String to Binary Security Descriptor
//   Examples" (msdn hh877835): SDDL text and its self-relative bytes.
// [wine]        Wine dlls/advapi32/tests/security.c,
//   test_ConvertSecurityDescriptorToString: strings Windows produced from SDs
//   built with the API (the Vista+ variant where two are allowed).
// [hand]        Derived by hand from the rules in core/sddl.h.

struct CanonicalCase {
  const char* input;
  const char* canonical;
};

// Valid input -> canonical text.
const std::vector<CanonicalCase> kCanonicalCases = {
    // [win-cond] Samba's data/conditional_aces.txt, checked against the
    // bytes Windows wrote for the same strings (windows/
    // conditional_aces.txt.json): conditional, resource attribute and
    // scoped policy ACEs.
    {"D:(XA;;FX;;;S-1-1-0;(@User.Title == \"PM\"))",
     "D:(XA;;FX;;;WD;(@USER.Title == \"PM\"))"},
    {"D:(XD;;FX;;;S-1-1-0;(@User.Project Any_of @Resource.Project))",
     "D:(XD;;FX;;;WD;(@USER.Project Any_of @RESOURCE.Project))"},
    {"D:(XA;;0x1f;;;AA;(@Device.colour == @Resource.colour))"
     "S:(RA;;;;;WD;(\"colour\",TS,0,\"blue\", \"red\"))",
     "D:(XA;;CCDCLCSWRP;;;AA;(@DEVICE.colour == @RESOURCE.colour))"
     "S:(RA;;;;;WD;(\"colour\",TS,0x0,\"blue\",\"red\"))"},
    {"O:SYG:SYD:(XA;OICI;CR;;;WD;(@USER.ad://ext/AuthenticationSilo == "
     "\"siloname\"))",
     "O:SYG:SYD:(XA;OICI;CR;;;WD;(@USER.ad://ext/AuthenticationSilo == "
     "\"siloname\"))"},
    // [hand] The other callback types, object forms and attribute types.
    {"D:(ZA;;RP;bf967aa5-0de6-11d0-a285-00aa003049e2;;WD;(Exists @User.x))",
     "D:(ZA;;RP;bf967aa5-0de6-11d0-a285-00aa003049e2;;WD;(Exists @USER.x))"},
    {"S:(XU;SA;FR;;;WD;(@Device.Managed))",
     "S:(XU;SA;FR;;;WD;(@DEVICE.Managed))"},
    {"D:(XA;;FR;;;WD)", "D:(XA;;FR;;;WD)"},
    {"S:(SP;;;;;S-1-17-1)", "S:(SP;;;;;S-1-17-1)"},
    {"S:(RA;;;;;WD;(\"n\",TI,0x10,-5,0x10,7))",
     "S:(RA;;;;;WD;(\"n\",TI,0x10,-5,16,7))"},
    {"S:(RA;;;;;WD;(\"n\",TU,0,18446744073709551615))",
     "S:(RA;;;;;WD;(\"n\",TU,0x0,18446744073709551615))"},
    {"S:(RA;;;;;WD;(\"n\",TD,0,BA,S-1-5-21-1-2-3-500))",
     "S:(RA;;;;;WD;(\"n\",TD,0x0,BA,S-1-5-21-1-2-3-500))"},
    {"S:(RA;;;;;WD;(\"n\",TX,0,0077,abc))",
     "S:(RA;;;;;WD;(\"n\",TX,0x0,0077,0abc))"},
    {"S:(RA;;;;;WD;(\"n\",TB,0,1,0))", "S:(RA;;;;;WD;(\"n\",TB,0x0,1,0))"},
    {"S:(RA;;;;;WD;(\"n\",TS,0))", "S:(RA;;;;;WD;(\"n\",TS,0x0))"},
    // [win-canon] Already canonical.
    {"D:(A;;GA;;;SY)", "D:(A;;GA;;;SY)"},
    {"D:(A;;GA;;;RU)", "D:(A;;GA;;;RU)"},
    {"D:(A;;0x401200a0;;;WD)", "D:(A;;0x401200a0;;;WD)"},  // LG -> WD
    {"D:S:", "D:S:"},
    {"D:PS:", "D:PS:"},
    {"S:(AU;SA;CR;;;WD)(AU;SA;CR;;;WD)", "S:(AU;SA;CR;;;WD)(AU;SA;CR;;;WD)"},
    {"S:(OU;CISA;WP;f30e3bbe-9ff0-11d1-b603-0000f80367c1;"
     "bf967aa5-0de6-11d0-a285-00aa003049e2;WD)",
     "S:(OU;CISA;WP;f30e3bbe-9ff0-11d1-b603-0000f80367c1;"
     "bf967aa5-0de6-11d0-a285-00aa003049e2;WD)"},
    {"D:(A;;GA;;;S-1-3-4294967295-3-4)", "D:(A;;GA;;;S-1-3-4294967295-3-4)"},
    {"D:(A;;GA;;;S-1-5-21-1-2-3-513)", "D:(A;;GA;;;S-1-5-21-1-2-3-513)"},
    {"O:S-1-2-512D:", "O:S-1-2-512D:"},
    {"D:PARAI(A;;GA;;;SY)", "D:PARAI(A;;GA;;;SY)"},
    {"D:P(A;;GA;;;SY)(A;;GX;;;AA)", "D:P(A;;GA;;;SY)(A;;GX;;;AA)"},  // LG->SY
    {"D:(A;;FA;;;WD)", "D:(A;;FA;;;WD)"},
    {"D:(A;;CCDCLCSWRPWPDTLOCR;;;WD)", "D:(A;;CCDCLCSWRPWPDTLOCR;;;WD)"},
    {"D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)",
     "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)"},
    // [win-noncanon] Rights reordered into ascending bit order.
    {"D:(A;;CC;;;BA)(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;SY)(A;;RPLCLORC;;;AU)",
     "D:(A;;CC;;;BA)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)(A;;LCRPLORC;;;AU)"},
    {"D:(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;BO)(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;"
     "SY)(A;;RPLCLORC;;;AU)S:(AU;SA;CRWP;;;WD)",
     "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BO)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;"
     "SY)(A;;LCRPLORC;;;AU)S:(AU;SA;WPCR;;;WD)"},
    {"D:(A;;RPWPCRCCDCLCLORCWOWDSW;;;BO)(A;;RPWPCRCCDCLCLORCWOWDSDDTSW;;;SY)"
     "(A;;RPLCLORC;;;AU)",
     "D:(A;;CCDCLCSWRPWPLOCRRCWDWO;;;BO)(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)"
     "(A;;LCRPLORC;;;AU)"},
    {"D:(A;CI;RPWPCRCCDCLCLORCWOWDSDDTSW;;;BO)",
     "D:(A;CI;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BO)"},
    // [win-noncanon] Sections reordered O G D S.
    {"S:D:P", "D:PS:"},
    {"S:D:", "D:S:"},
    // [win-noncanon] Numbers: decimal, octal and hex re-emitted canonically.
    {"D:(A;;123456789;;;WD)", "D:(A;;0x75bcd15;;;WD)"},
    {"D:(A;;01234567;;;WD)", "D:(A;;0x53977;;;WD)"},
    {"D:(A;;16;;;WD)", "D:(A;;RP;;;WD)"},
    {"D:(A;;17;;;WD)", "D:(A;;CCRP;;;WD)"},
    {"D:(A;;0xff;;;WD)", "D:(A;;CCDCLCSWRPWPDTLO;;;WD)"},
    {"D:(A;;0xf01ff;;;WD)", "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;WD)"},
    {"D:(A;;0xe00f0000;;;WD)", "D:(A;;SDRCWDWOGXGWGR;;;WD)"},
    {"D:(A;;FAGX;;;SY)", "D:(A;;0x201f01ff;;;SY)"},
    {"O:SYG:BAD:P(A;OICI;0x1f01ff;;;BA)", "O:SYG:BAD:P(A;OICI;FA;;;BA)"},
    {"O:SYG:BAD:(A;;0x1ff;;;WD)", "O:SYG:BAD:(A;;CCDCLCSWRPWPDTLOCR;;;WD)"},
    // [win-noncanon] ACL flags reordered P AR AI, duplicates merged.
    {"D:ARPAI(A;;GA;;;SY)", "D:PARAI(A;;GA;;;SY)"},
    {"D:AIPAR(A;;GA;;;SY)", "D:PARAI(A;;GA;;;SY)"},
    {"D:PARP(A;;GA;;;SY)", "D:PAR(A;;GA;;;SY)"},
    {"D:PPPPPPPPPPPP(A;;GA;;;SY)", "D:P(A;;GA;;;SY)"},
    // [win-noncanon] Authorities of 2^32 and more print in upper-case hex.
    {"D:(A;;CC;;;S-1-21474836480-32-579)",
     "D:(A;;CC;;;S-1-0x500000000-32-579)"},
    {"D:(A;;GA;;;S-1-5000000000-30-40)", "D:(A;;GA;;;S-1-0x12A05F200-30-40)"},
    {"D:(A;;GA;;;S-1-0x2-3-4)", "D:(A;;GA;;;S-1-2-3-4)"},
    {"D:(A;;GA;;;S-1-0x20-3-4)", "D:(A;;GA;;;S-1-32-3-4)"},
    // [win-noncanon] Upper-case GUIDs print lower-case.
    {"D:(OA;;CCDC;bf967aa8-0de6-11d0-a285-00aa003049e2;;PO)"
     "(OA;;CCDC;4828CC14-1437-45bc-9B07-AD6F015E5F28;;AO)",
     "D:(OA;;CCDC;bf967aa8-0de6-11d0-a285-00aa003049e2;;PO)"
     "(OA;;CCDC;4828cc14-1437-45bc-9b07-ad6f015e5f28;;AO)"},
    // [win-noncanon] Domain SIDs written numerically need no domain.
    {"O:S-1-5-21-2212615479-2695158682-2101375468-512G:S-1-5-21-2212615479-"
     "2695158682-2101375468-513D:P(A;OICI;0x001f01ff;;;S-1-5-21-2212615479-"
     "2695158682-2101375468-512)(A;OICIIO;0x001f01ff;;;CO)(A;OICI;0x001f01ff;"
     ";;SY)(A;OICI;0x001200a9;;;AU)(A;OICI;0x001200a9;;;ED)S:AI(OU;CIIDSA;WP;"
     "f30e3bbe-9ff0-11d1-b603-0000f80367c1;bf967aa5-0de6-11d0-a285-"
     "00aa003049e2;WD)",
     "O:S-1-5-21-2212615479-2695158682-2101375468-512G:S-1-5-21-2212615479-"
     "2695158682-2101375468-513D:P(A;OICI;FA;;;S-1-5-21-2212615479-2695158682-"
     "2101375468-512)(A;OICIIO;FA;;;CO)(A;OICI;FA;;;SY)(A;OICI;0x1200a9;;;AU)"
     "(A;OICI;0x1200a9;;;ED)S:AI(OU;CIIDSA;WP;f30e3bbe-9ff0-11d1-b603-"
     "0000f80367c1;bf967aa5-0de6-11d0-a285-00aa003049e2;WD)"},
    // [win-lenient] Whitespace and case that Windows accepts (LG -> WD).
    {"D:(A;;GA;;; WD)", "D:(A;;GA;;;WD)"},
    {"D: (A;;GA;;;WD)", "D:(A;;GA;;;WD)"},
    {"D: AI(A;;GA;;;WD)", "D:AI(A;;GA;;;WD)"},
    {"D:(a;;GA;;;WD)", "D:(A;;GA;;;WD)"},
    {"D:(A;;GA;;;wd)", "D:(A;;GA;;;WD)"},
    {"D:(A;;ga;;;WD)", "D:(A;;GA;;;WD)"},
    {"D: S:", "D:S:"},
    {"D: P(A;;GA;;;WD)", "D:P(A;;GA;;;WD)"},
    {"D:P (A;;GA;;;WD)", "D:P(A;;GA;;;WD)"},
    {"D:P(A;;GA;;;WD) (A;;GX;;;AA)", "D:P(A;;GA;;;WD)(A;;GX;;;AA)"},
    {"D:(A; ;GA;;;WD)", "D:(A;;GA;;;WD)"},
    {"D:(A;;GA;;;WD )", "D:(A;;GA;;;WD)"},
    {"D:(A;;GA;;; S-1-3-4)", "D:(A;;GA;;;OW)"},
    {"D:(A;;GA;; ;S-1-3-4)", "D:(A;;GA;;;OW)"},
    {"D:(A;;GA; ;;S-1-3-4)", "D:(A;;GA;;;OW)"},
    {"D:(A;;GA;;; S-1-333-4)", "D:(A;;GA;;;S-1-333-4)"},
    {" O:AA", "O:AA"},
    {"  O:AA   ", "O:AA"},
    {"  O:AA G:WD  ", "O:AAG:WD"},
    // [ms-sdsf] String 1 (G:DA dropped).
    {"O:AOD:(A;;RPWPCCDCLCSWRCWDWOGA;;;S-1-0-0)",
     "O:AOD:(A;;CCDCLCSWRPWPRCWDWOGA;;;S-1-0-0)"},
    // [ms-sdsf] String 2 (DA replaced by BA).
    {"O:BAG:BAD:(A;;RPWPCCDCLCRCWOWDSDSW;;;SY)(A;;RPWPCCDCLCRCWOWDSDSW;;;BA)"
     "(OA;;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;AO)"
     "(OA;;CCDC;bf967a9c-0de6-11d0-a285-00aa003049e2;;AO)"
     "(OA;;CCDC;6da8a4ff-0e52-11d0-a286-00aa003049e2;;AO)"
     "(OA;;CCDC;bf967aa8-0de6-11d0-a285-00aa003049e2;;PO)"
     "(A;;RPLCRC;;;AU)S:(AU;SAFA;WDWOSDWPCCDCSW;;;WD)",
     "O:BAG:BAD:(A;;CCDCLCSWRPWPSDRCWDWO;;;SY)(A;;CCDCLCSWRPWPSDRCWDWO;;;BA)"
     "(OA;;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;AO)"
     "(OA;;CCDC;bf967a9c-0de6-11d0-a285-00aa003049e2;;AO)"
     "(OA;;CCDC;6da8a4ff-0e52-11d0-a286-00aa003049e2;;AO)"
     "(OA;;CCDC;bf967aa8-0de6-11d0-a285-00aa003049e2;;PO)"
     "(A;;LCRPRC;;;AU)S:(AU;SAFA;CCDCSWWPSDWDWO;;;WD)"},
    // [ms-ace] S-1-1-0 has the alias WD.
    {"D:(A;;RPWPCCDCLCSWRCWDWOGA;;;S-1-1-0)",
     "D:(A;;CCDCLCSWRPWPRCWDWOGA;;;WD)"},
    // [ms-dtyp] 2.5.1.4.
    {"O:BAG:BAD:P(A;CIOI;GRGX;;;BU)(A;CIOI;GA;;;BA)(A;CIOI;GA;;;SY)"
     "(A;CIOI;GA;;;CO)S:P(AU;FA;GR;;;WD)",
     "O:BAG:BAD:P(A;OICI;GXGR;;;BU)(A;OICI;GA;;;BA)(A;OICI;GA;;;SY)"
     "(A;OICI;GA;;;CO)S:P(AU;FA;GR;;;WD)"},
    // [wine] Windows' own output, so already canonical.
    {"O:S-1-2-0", "O:S-1-2-0"},
    {"O:SYG:S-1-5-21-93476-23408-4576D:(A;NP;GAGXGWGR;;;SU)(A;IOID;CCDC;;;SU)"
     "(D;OICI;0xffffffff;;;S-1-5-21-93476-23408-4576)",
     "O:SYG:S-1-5-21-93476-23408-4576D:(A;NP;GAGXGWGR;;;SU)(A;IOID;CCDC;;;SU)"
     "(D;OICI;0xffffffff;;;S-1-5-21-93476-23408-4576)"},
    {"O:SYG:S-1-5-21-93476-23408-4576D:NO_ACCESS_CONTROLS:(AU;OICINPIOIDSAFA;"
     "CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)",
     "O:SYG:S-1-5-21-93476-23408-4576D:NO_ACCESS_CONTROLS:(AU;OICINPIOIDSAFA;"
     "CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)"},
    // [hand] The rest of the rules.
    {"", ""},
    {"D:", "D:"},
    {"D:P", "D:P"},
    {"S:", "S:"},
    {"D:NO_ACCESS_CONTROL", "D:NO_ACCESS_CONTROL"},
    {"D:no_access_control", "D:NO_ACCESS_CONTROL"},
    {"D:NO_ACCESS_CONTROLP", "D:PNO_ACCESS_CONTROL"},
    {"G:BUO:BA", "O:BAG:BU"},
    {"D:(A;;;;;BO)", "D:(A;;;;;BO)"},  // [win-noncanon]: empty rights
    {"D:(A;;0;;;WD)", "D:(A;;;;;WD)"},
    {"D:(A;;0x0;;;WD)", "D:(A;;;;;WD)"},
    {"D:(A;;GR GW;;;SY)", "D:(A;;GWGR;;;SY)"},
    {"D:(A;;ka;;;SY)", "D:(A;;CCDCLCSWRPWPSDRCWDWO;;;SY)"},
    {"D:(A;;KR;;;SY)", "D:(A;;CCSWRPRC;;;SY)"},
    {"D:(A;;KX;;;SY)", "D:(A;;CCSWRPRC;;;SY)"},
    {"D:(A;;KW;;;SY)", "D:(A;;DCLCRC;;;SY)"},
    {"D:(A;;FR;;;SY)(A;;FW;;;SY)(A;;FX;;;SY)",
     "D:(A;;FR;;;SY)(A;;FW;;;SY)(A;;FX;;;SY)"},
    {"D:(A;;0x01000000;;;SY)", "D:(A;;0x1000000;;;SY)"},
    {"D:(A;;0XFFFFFFFF;;;SY)", "D:(A;;0xffffffff;;;SY)"},
    {"D:(A;FASAIDIONPCIOI;GA;;;SY)", "D:(A;OICINPIOIDSAFA;GA;;;SY)"},
    {"D:(A;oici;GA;;;SY)", "D:(A;OICI;GA;;;SY)"},
    {"D:(A;;GA;;;s-1-5-32-544)", "D:(A;;GA;;;BA)"},
    {"O:s-1-5-18", "O:SY"},
    // [win-weird] Windows reads numbers as wcstoul does: masks wrap when
    // negative and clamp above 0xffffffff, sub-authorities clamp, and a
    // revision written 0x1 makes every number hex.
    {"D:(A;;0x123456789;;;WD)", "D:(A;;0xffffffff;;;WD)"},
    {"D:(A;;100000000000000000000000;;;WD)", "D:(A;;0xffffffff;;;WD)"},
    {"D:(A;;-99;;;WD)", "D:(A;;0xffffff9d;;;WD)"},
    {"D:(A;;-0xffffff55;;;WD)", "D:(A;;CCDCSWWPLO;;;WD)"},
    {"D:(A;;-9876543210;;;WD)", "D:(A;;CC;;;WD)"},
    {"D:(A;;GA;;;S-1-3-4294967296-3-4)", "D:(A;;GA;;;S-1-3-4294967295-3-4)"},
    {"D:(A;;GA;;;S-1-3-0x100000000-3-4)", "D:(A;;GA;;;S-1-3-4294967295-3-4)"},
    {"D:(A;;GA;;;S-1-5-21-0x1313131313131-513)",
     "D:(A;;GA;;;S-1-5-21-4294967295-513)"},
    {"D:(A;;CC;;;S-0x1-0-0-579)", "D:(A;;CC;;;S-1-0-0-1401)"},
    {"O:S-0x1-20-0-579", "O:S-1-32-0-1401"},
    // [win-noncanon] Hex sub-authorities and spaces before numbers.
    {"D:(A;;GA;;;S-1-3-0x00000002-3-4)", "D:(A;;GA;;;S-1-3-2-3-4)"},
    {"D:(A;;GA;;;S-1-5-21-0x1-0x2-0x3-513)", "D:(A;;GA;;;S-1-5-21-1-2-3-513)"},
    {"O:S-1-2-0x200D:", "O:S-1-2-512D:"},
    {"O:S- 1- 2-3", "O:S-1-2-3"},
    {"D:\t(A;;GA;;;SY)\n(A;;GR;;;WD)\r\n", "D:(A;;GA;;;SY)(A;;GR;;;WD)"},
    {"S:(ML;;NW;;;LW)", "S:(ML;;NW;;;LW)"},
    {"S:(ML;;NXNRNW;;;HI)", "S:(ML;;NWNRNX;;;HI)"},
    {"S:(ML;;0x2;;;SI)", "S:(ML;;NR;;;SI)"},
    {"S:(ML;OICI;NW;;;S-1-16-4096)", "S:(ML;OICI;NW;;;LW)"},
    {"S:(ML;;0x8;;;ME)", "S:(ML;;0x8;;;ME)"},
    {"S:(AL;SA;GA;;;WD)(OL;FA;CR;;;WD)", "S:(AL;SA;GA;;;WD)(OL;FA;CR;;;WD)"},
    {"D:(OD;;RP;;bf967aba-0de6-11d0-a285-00aa003049e2;WD)",
     "D:(OD;;RP;;bf967aba-0de6-11d0-a285-00aa003049e2;WD)"},
    {"D:(OA;;CR;;;WD)", "D:(OA;;CR;;;WD)"},
    {"D:(A;;GA;;;S-1-5-5-0-12345)(A;;GR;;;S-1-22-1-1000)",
     "D:(A;;GA;;;S-1-5-5-0-12345)(A;;GR;;;S-1-22-1-1000)"},
    {"D:(A;;GR;;;S-1-15-3-1024-1-2-3-4-5-6-7-8)(A;;GR;;;AC)",
     "D:(A;;GR;;;S-1-15-3-1024-1-2-3-4-5-6-7-8)(A;;GR;;;AC)"},
};

TEST_CASE("SDDL parses valid input and prints Windows' canonical text") {
  for (const CanonicalCase& test : kCanonicalCases) {
    INFO("input: " << test.input);
    auto sd = ParseSddl(test.input);
    REQUIRE(sd.has_value());
    CHECK(FormatSddl(*sd) == test.canonical);
  }
}

struct InvalidCase {
  const char* input;
  const char* fragment;
  int column;
};

const std::vector<InvalidCase> kInvalidCases = {
    // [win-fail] Windows refuses these too.
    {"Z:(A;;GA;;;SY)",
     "expected a section 'O:', 'G:', 'D:' or 'S:' but found "
     "'Z'",
     1},
    {"D:(Antlers;;GA;;;SY)", "unknown ACE type 'Antlers'", 4},
    {"d:(A;;GA;;;SY)", "section letters are upper-case: write 'D:'", 1},
    {"D:((A;;GA;;;SY))", "expected an ACE type", 4},
    {"D:(A;;GA;;)", "ends after 5", 11},
    {"D :S:", "found 'D'", 1},
    {"S:(AU;SA;CROOO;;;WD)", "unknown access right 'OO'", 12},
    {"D:(A;;GA;;;S-1-0x1313131313131-513)", "SID authority exceeds 2^48-1",
     16},
    // [win-fail] A numeric trustee followed by whitespace; no sub-authority.
    {"D:(A;;GA;;;S-1-3-4 )", "unexpected whitespace after the trustee SID",
     19},
    {"O:S-1-5", "at least one sub-authority", 8},
    {"O:S-1-0xAD:", "at least one sub-authority", 10},
    {"D:(A;;GA;a;;S-1-5-21-1-2)", "ACE type 'A' takes no object GUIDs", 10},
    {"S:(OOU;CISA;WP;;;WD)", "unknown ACE type 'OOU'", 4},
    {"S:(OU;CISA;WP;f30e3bbe-9ff0-11d1-b603-00potato7c1;;WD)",
     "malformed GUID 'f30e3bbe-9ff0-11d1-b603-00potato7c1'", 15},
    {"D:P:S:", "but found ':'", 4},
    {"D:(\xc4\x80;;GA;;;SY)", "unknown ACE type '\\xc4\\x80'", 4},
    {"D:(A;;123456789 ;;;WD)", "unexpected ' ' in the numeric access mask", 16},
    {"D:(A;;0x75bcd15\t;;;WD)", "unexpected '\\x09' in the numeric access mask",
     16},
    {"D:(A;; 0x75bcd15;;;WD", "unterminated ACE: expected ')'", 22},
    {"D:(A;;0x 75bcd15;;;WD)", "unexpected ' ' in the numeric access mask", 9},
    {"D:(A;;GA ;;;WD)", "unexpected whitespace after the access rights", 9},
    {"D:AI(A;CI;RP LCLOR C;;;AU)", "unknown access right 'R '", 18},
    {"D:AI(A;CI;RP LC\tLORC;;;AU)", "unknown access right '\\x09L'", 16},
    {"O:S", "a SID starts with 'S-'", 4},
    {"O:S-", "expected the SID revision", 5},
    {"O:S-1", "at least one sub-authority", 6},
    {"O:S-10", "unsupported SID revision 10 (only 1)", 5},
    {"O:S-1-", "expected the SID authority", 7},
    {"O:S-0x1", "at least one sub-authority", 8},
    {"O:", "expected a SID after 'O:'", 3},
    {"O:XX", "unknown SID alias 'XX'", 3},
    // [hand] tokenfs' own refusals.
    {"D:(TL;;;;;S-1-19-512-1024)", "unsupported ACE type 'TL'", 4},
    // [hand] Conditions and resource attributes: errors point into them.
    {"D:(XA;;FR;;;WD;(Member_of {SID(ZZ)}))", "unknown SID alias", 32},
    {"D:(XA;;FR;;;WD;Member_of)", "expected '(' to start the condition", 16},
    {"D:(XA;;FR;;;WD;(@User.x == 1)x)",
     "expected ')' to end the ACE after its condition", 30},
    {"D:(XD;;FR;;;WD;(@User.x == 1)",
     "expected ')' to end the ACE after its condition", 30},
    {"S:(RA;;;;;WD;(\"a\",TQ,0,1))",
     "expected a type TI, TU, TS, TD, TX or TB", 19},
    {"D:(A;;FR;;;WD;(@User.x == 1))",
     "unexpected ';' after the trustee SID", 14},
    {"D:(A;;GA;;;DA)", "relative to a domain, and no domain SID is set", 12},
    {"O:LA", "relative to a domain, and no domain SID is set", 3},
    {"D:NO_ACCESS_CONTROL(A;;GA;;;SY)",
     "NO_ACCESS_CONTROL (a NULL ACL) cannot have ACEs", 20},
    {"D:(A;;GA;;;SY)D:", "duplicate 'D:' section", 15},
    {"O:SYO:BA", "duplicate 'O:' section", 5},
    {"D:(A;;GA;;;SY;)", "unexpected ';' after the trustee SID", 14},
    {"D:(A;;GA;;;SY", "unterminated ACE: expected ')'", 14},
    {"D:(A;XX;GA;;;SY)", "unknown ACE flag 'XX'", 6},
    {"D:(A;OIC;GA;;;SY)", "unknown ACE flag 'C'", 8},
    {"D:(A;OI CI;GA;;;SY)", "unexpected whitespace in the ACE flags", 8},
    {"D:(A ;;GA;;;SY)", "unexpected whitespace after the ACE type", 5},
    {"D:(A;;0x;;;SY)", "expected hex digits after 0x", 9},
    {"D:(A;;08;;;SY)", "unexpected '8' in the numeric access mask", 8},
    {"D:(A;;GAX;;;SY)", "unknown access right 'X'", 9},
    {"D:(A;;GX GA ;;;SY)", "unexpected whitespace after the access rights", 12},
    {"D:(A;;GA;;;SYX)", "unexpected 'X' after the SID alias 'SY'", 14},
    {"D:(A;;GA;;;)", "expected the ACE's trustee SID", 12},
    {"D:(;;GA;;;SY)", "expected an ACE type", 4},
    {"O:S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
     "a SID has at most 15 sub-authorities", 45},
    {"O:SYG:BA garbage", "unexpected ' ' after the SID alias 'BA'", 9},
    {"D:(A;;GA;;;WD)P", "expected '(' to start an ACE or the next section", 15},
    {"D:(OA;;CR;;bf967aba-0de6-11d0-a285-00aa00304XYZ;WD)", "malformed GUID",
     44},
    {"D:(OA;;CR;{bf967aba-0de6-11d0-a285-00aa003049e2};;WD)", "malformed GUID",
     11},
    {"D:(A;;GA;;;SY)(", "expected an ACE type", 16},
    {"D:(A;;GA;;;SY) x", "but found 'x'", 16},
};

TEST_CASE("SDDL refuses invalid input naming the problem and its column") {
  for (const InvalidCase& test : kInvalidCases) {
    INFO("input: " << test.input);
    auto sd = ParseSddl(test.input);
    REQUIRE_FALSE(sd.has_value());
    CHECK(sd.error().code == ErrorCode::kInvalidArgument);
    CHECK_THAT(sd.error().message, Catch::Contains(test.fragment));
    CHECK(sd.error().column == test.column);
    CHECK_THAT(sd.error().message,
               Catch::EndsWith("at column " + std::to_string(test.column)));
  }
}

// Canonical strings: each must be a fixed point of parse + format, parse to
// the same value again, and survive the binary form unchanged.
const std::vector<const char*> kRoundTripCases = {
    "",
    "O:SY",
    "O:BAG:BU",
    "D:",
    "D:P",
    "D:PARAI",
    "D:NO_ACCESS_CONTROL",
    "D:PNO_ACCESS_CONTROLS:NO_ACCESS_CONTROL",
    "S:PAI(AU;SAFA;FA;;;WD)",
    "O:SYG:SYD:P(A;OICI;GA;;;SY)(D;;WDWO;;;WD)S:(ML;;NWNR;;;HI)",
    "D:(A;;;;;BO)",
    "D:(A;;0xffffffff;;;S-1-0x500000000-32-579)",
    "D:(OA;CIIO;RP;037088f8-0ae1-11d2-b422-00a0c968f939;"
    "bf967aba-0de6-11d0-a285-00aa003049e2;RU)(OA;;CR;;;WD)",
    "D:(OU;;CR;;bf967aba-0de6-11d0-a285-00aa003049e2;WD)",
    "D:(A;ID;0x1200a9;;;S-1-22-2-100)(A;;FA;;;S-1-22-1-0)",
    "D:(A;;GA;;;S-1-5-5-4294967295-4294967295)",
    "D:(A;;GR;;;S-1-15-3-1)(A;;GR;;;S-1-1-0-1-2-3-4-5-6-7-8-9-10-11-12-13)",
    "S:(ML;OICIIO;NX;;;S-1-16-12345)",
    // [ms-dtyp], [wine] and [ms-sdsf] canonical forms.
    "O:BAG:BAD:P(A;OICI;GXGR;;;BU)(A;OICI;GA;;;BA)(A;OICI;GA;;;SY)"
    "(A;OICI;GA;;;CO)S:P(AU;FA;GR;;;WD)",
    "O:SYG:S-1-5-21-93476-23408-4576D:NO_ACCESS_CONTROLS:(AU;OICINPIOIDSAFA;"
    "CCDCLCSWRPRC;;;SU)(AU;NPSA;0x12019f;;;SU)",
    "O:AOD:(A;;CCDCLCSWRPWPRCWDWOGA;;;S-1-0-0)",
};

TEST_CASE("canonical SDDL round-trips through parse, format and binary") {
  for (const char* text : kRoundTripCases) {
    INFO("text: " << text);
    auto sd = ParseSddl(text);
    REQUIRE(sd.has_value());
    CHECK(FormatSddl(*sd) == text);
    auto again = ParseSddl(FormatSddl(*sd));
    REQUIRE(again.has_value());
    CHECK(*again == *sd);
    auto bytes = sd->ToBinary();
    REQUIRE(bytes.has_value());
    auto decoded = SecurityDescriptor::FromBinary(*bytes);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == *sd);
    CHECK(FormatSddl(*decoded) == text);
  }
}

TEST_CASE("ACLs holding object ACEs are written with revision 4") {
  // ACL_REVISION_DS (4) when an object ACE (OA, OD, OU, ZA, ...) is in the
  // ACL, ACL_REVISION (2) otherwise, as Windows writes them. The DACL is the
  // only ACL here: it starts right after the 20-byte header.
  struct Row {
    const char* sddl;
    uint8_t revision;
  };
  const Row rows[] = {
      {"O:BAG:BAD:(A;;GA;;;WD)", 2},
      {"O:BAG:BAD:(OA;;CCDC;bf967aba-0de6-11d0-a285-00aa003049e2;;AO)", 4},
      {"O:BAG:BAD:(A;;GA;;;WD)(OD;;WP;;bf967aba-0de6-11d0-a285-00aa003049e2;"
       "WD)",
       4},
      {"O:BAG:BAD:(ZA;;CR;bf967aba-0de6-11d0-a285-00aa003049e2;;WD;"
       "(@User.Title == \"PM\"))",
       4},
      {"O:BAG:BAD:(XA;;FR;;;WD;(@User.Title == \"PM\"))", 2},
  };
  for (const Row& row : rows) {
    INFO(row.sddl);
    auto sd = ParseSddl(row.sddl);
    REQUIRE(sd);
    sd->owner.reset();
    sd->group.reset();
    auto bytes = sd->ToBinary();
    REQUIRE(bytes);
    REQUIRE(bytes->size() > 20);
    CHECK((*bytes)[20] == row.revision);
  }
}

TEST_CASE("the MS-DTYP example SDDL encodes to the documented bytes") {
  // [ms-dtyp] 2.5.1.4, the hex dump under the SDDL string, 0xb0 bytes.
  const std::vector<uint8_t>& expected = test::kMsDtypExampleSdBytes;
  REQUIRE(expected.size() == 0xb0);
  auto sd = ParseSddl(
      "O:BAG:BAD:P(A;CIOI;GRGX;;;BU)(A;CIOI;GA;;;BA)(A;CIOI;GA;;;SY)"
      "(A;CIOI;GA;;;CO)S:P(AU;FA;GR;;;WD)");
  REQUIRE(sd.has_value());
  auto bytes = sd->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(*bytes == expected);

  auto decoded = SecurityDescriptor::FromBinary(expected);
  REQUIRE(decoded.has_value());
  CHECK(FormatSddl(*decoded) ==
        "O:BAG:BAD:P(A;OICI;GXGR;;;BU)(A;OICI;GA;;;BA)(A;OICI;GA;;;SY)"
        "(A;OICI;GA;;;CO)S:P(AU;FA;GR;;;WD)");
}

TEST_CASE("SDDL sets the control bits and ACL states the sections describe") {
  SECTION("an absent DACL is not present") {
    auto sd = ParseSddl("O:SY");
    REQUIRE(sd.has_value());
    CHECK_FALSE(sd->dacl_present());
    CHECK_FALSE(sd->sacl_present());
    CHECK(sd->control == sd_control::kSelfRelative);
  }
  SECTION("D: alone is a present, empty DACL") {
    auto sd = ParseSddl("D:");
    REQUIRE(sd.has_value());
    CHECK(sd->dacl_present());
    REQUIRE(sd->dacl.has_value());
    CHECK(sd->dacl->aces.empty());
    CHECK_FALSE(sd->has_null_dacl());
  }
  SECTION("D:P alone is a protected, empty DACL") {
    auto sd = ParseSddl("D:P");
    REQUIRE(sd.has_value());
    CHECK(sd->control == (sd_control::kSelfRelative | sd_control::kDaclPresent |
                          sd_control::kDaclProtected));
    REQUIRE(sd->dacl.has_value());
    CHECK(sd->dacl->aces.empty());
  }
  SECTION("NO_ACCESS_CONTROL is a NULL DACL") {
    auto sd = ParseSddl("D:NO_ACCESS_CONTROL");
    REQUIRE(sd.has_value());
    CHECK(sd->has_null_dacl());
  }
  SECTION("SACL flags land on the SACL control bits") {
    auto sd = ParseSddl("S:PARAI");
    REQUIRE(sd.has_value());
    CHECK(sd->control ==
          (sd_control::kSelfRelative | sd_control::kSaclPresent |
           sd_control::kSaclProtected | sd_control::kSaclAutoInheritReq |
           sd_control::kSaclAutoInherited));
  }
  SECTION("an ACL takes revision 4 only when it holds an object ACE") {
    auto sd = ParseSddl(
        "D:(A;;GA;;;SY)S:(OU;SA;WP;bf967aba-0de6-11d0-a285-00aa003049e2;;WD)");
    REQUIRE(sd.has_value());
    CHECK(sd->dacl->revision == Acl::kRevision);
    CHECK(sd->sacl->revision == Acl::kRevisionDs);
  }
}

TEST_CASE("SDDL decodes ACE fields into the binary model") {
  auto sd = ParseSddl(
      "D:(OD;CIID;RPWP;bf967aba-0de6-11d0-a285-00aa003049e2;"
      "4828CC14-1437-45bc-9B07-AD6F015E5F28;S-1-5-21-1-2-3-500)");
  REQUIRE(sd.has_value());
  REQUIRE(sd->dacl->aces.size() == 1);
  const Ace& ace = sd->dacl->aces[0];
  CHECK(ace.type == AceType::kAccessDeniedObject);
  CHECK(ace.flags == (ace_flags::kContainerInherit | ace_flags::kInherited));
  CHECK(ace.mask == AccessMask(0x30));
  REQUIRE(ace.object_type.has_value());
  // MS-DTYP GUID wire order: Data1..3 little-endian, Data4 as written.
  const Guid object{{0xba, 0x7a, 0x96, 0xbf, 0xe6, 0x0d, 0xd0, 0x11, 0xa2, 0x85,
                     0x00, 0xaa, 0x00, 0x30, 0x49, 0xe2}};
  CHECK(*ace.object_type == object);
  REQUIRE(ace.inherited_object_type.has_value());
  CHECK(FormatGuid(*ace.inherited_object_type) ==
        "4828cc14-1437-45bc-9b07-ad6f015e5f28");
  const uint32_t subs[] = {21, 1, 2, 3, 500};
  CHECK(ace.sid == *Sid::Create(kNtAuthority, subs));
}

TEST_CASE("SDDL refuses an ACL that would not fit in 65535 bytes") {
  // Each ACE is 4 header + 4 mask + 28 SID (five sub-authorities) = 36
  // bytes, so 1820 ACEs make 8 + 65520 bytes and the 1821st overflows.
  const std::string ace = "(A;;GA;;;S-1-5-21-1-2-3-4)";
  std::string text = "D:";
  for (int i = 0; i < 1820; ++i) text += ace;
  auto fits = ParseSddl(text);
  REQUIRE(fits.has_value());
  auto bytes = fits->ToBinary();
  REQUIRE(bytes.has_value());
  CHECK(bytes->size() == 20 + 8 + 1820 * 36);

  const size_t column = text.size() + 1;
  text += ace;
  auto too_big = ParseSddl(text);
  REQUIRE_FALSE(too_big.has_value());
  CHECK_THAT(too_big.error().message,
             Catch::Contains("the DACL would exceed 65535 bytes"));
  CHECK(too_big.error().column == static_cast<int>(column));
}

TEST_CASE("rights print as names, composites or hex by Windows' rules") {
  struct RightsCase {
    uint32_t bits;
    const char* text;
  };
  // [win-noncanon] for 0xff, 0xf01ff, 0xe00f0000, 0x75bcd15, 0x1f01ff,
  // 0x201f01ff; [wine] for 0xf0000000, 0xffffffff, 0x12019f; [win-canon] for
  // 0 ("(A;;;;;BO)"); the rest by hand.
  const std::vector<RightsCase> cases = {
      {0x0, ""},
      {0x1, "CC"},
      {0x10, "RP"},
      {0xff, "CCDCLCSWRPWPDTLO"},
      {0xf01ff, "CCDCLCSWRPWPDTLOCRSDRCWDWO"},
      {0xe00f0000, "SDRCWDWOGXGWGR"},
      {0xf0000000, "GAGXGWGR"},
      {0x75bcd15, "0x75bcd15"},
      {0x1f01ff, "FA"},
      {0x120089, "FR"},
      {0x120116, "FW"},
      {0x1200a0, "FX"},
      {0x201f01ff, "0x201f01ff"},
      {0x12019f, "0x12019f"},
      {0xffffffff, "0xffffffff"},
      {0x100000, "0x100000"},
      {0x1000000, "0x1000000"},
      {0x2000000, "0x2000000"},
      {0xf003f, "CCDCLCSWRPWPSDRCWDWO"},  // KA: every bit has a name
      {0x20019, "CCSWRPRC"},              // KR and KX
      {0x20006, "DCLCRC"},                // KW
  };
  for (const RightsCase& test : cases) {
    INFO("bits: " << test.bits);
    CHECK(FormatSddlRights(AccessMask(test.bits)) == test.text);
  }
}

TEST_CASE("a rights field parses names, composites and numbers") {
  struct ParseCase {
    const char* text;
    uint32_t bits;
  };
  // Composite values: FILE_ALL_ACCESS etc. and KEY_* from winnt.h (also
  // core/access_mask.h); NW/NR/NX are the SYSTEM_MANDATORY_LABEL_NO_*_UP
  // bits 1, 2, 4.
  const std::vector<ParseCase> cases = {
      {"", 0},
      {"GA", 0x10000000},
      {"gr", 0x80000000},
      {"FA", 0x1f01ff},
      {"FR", 0x120089},
      {"FW", 0x120116},
      {"FX", 0x1200a0},
      {"KA", 0xf003f},
      {"KR", 0x20019},
      {"KW", 0x20006},
      {"KX", 0x20019},
      {"NWNRNX", 0x7},
      {"CCCC", 0x1},
      {"RP WP", 0x30},
      {"  GA", 0x10000000},
      {"0", 0},
      {"0x1F", 0x1f},
      {"0X1f", 0x1f},
      {"017", 0xf},
      {"4294967295", 0xffffffff},
      {"037777777777", 0xffffffff},
      // [win-weird] wcstoul: clamped above 0xffffffff, negated mod 2^32.
      {"0x100000000", 0xffffffff},
      {"040000000000", 0xffffffff},
      {"-1", 0xffffffff},
  };
  for (const ParseCase& test : cases) {
    INFO("text: " << test.text);
    auto mask = ParseSddlRights(test.text);
    REQUIRE(mask.has_value());
    CHECK(mask->bits() == test.bits);
  }
}

TEST_CASE("a rights field names the first bad character") {
  const std::vector<InvalidCase> cases = {
      {"GAROB", "unknown access right 'RO'", 3},
      {"GA ", "unexpected whitespace after the access rights", 3},
      {"0x1G", "unexpected 'G' in the numeric access mask", 4},
      {"GR0xFFFFFFFF", "unknown access right '0x'", 3},
  };
  for (const InvalidCase& test : cases) {
    INFO("text: " << test.input);
    auto mask = ParseSddlRights(test.input);
    REQUIRE_FALSE(mask.has_value());
    CHECK_THAT(mask.error().message, Catch::Contains(test.fragment));
    CHECK(mask.error().column == test.column);
  }
}

TEST_CASE("a lone DACL parses with or without its D: prefix") {
  auto plain = ParseSddlDacl("(A;;GA;;;SY)(A;;GR;;;OW)");
  REQUIRE(plain.has_value());
  REQUIRE(plain->has_value());
  CHECK((*plain)->aces.size() == 2);
  CHECK(FormatSddlDacl(*plain) == "D:(A;;GA;;;SY)(A;;GR;;;OW)");

  auto prefixed = ParseSddlDacl(" D:(A;;GA;;;SY)(A;;GR;;;OW)");
  REQUIRE(prefixed.has_value());
  CHECK(*prefixed == *plain);

  auto with_flags = ParseSddlDacl("P(A;;GA;;;SY)");
  REQUIRE(with_flags.has_value());
  CHECK(FormatSddlDacl(*with_flags) == "D:(A;;GA;;;SY)");

  auto null_dacl = ParseSddlDacl("NO_ACCESS_CONTROL");
  REQUIRE(null_dacl.has_value());
  CHECK_FALSE(null_dacl->has_value());
  CHECK(FormatSddlDacl(std::nullopt) == "D:NO_ACCESS_CONTROL");

  auto empty = ParseSddlDacl("");
  REQUIRE(empty.has_value());
  REQUIRE(empty->has_value());
  CHECK((*empty)->aces.empty());
  CHECK(FormatSddlDacl(*empty) == "D:");
}

TEST_CASE("a lone DACL refuses other sections and trailing text") {
  const std::vector<InvalidCase> cases = {
      {"(A;;GA;;;SY)S:", "unexpected 'S' after the DACL", 13},
      {"O:SY", "unexpected 'O' after the DACL", 1},
      {"(A;;GA;;;DU)", "relative to a domain", 10},
  };
  for (const InvalidCase& test : cases) {
    INFO("text: " << test.input);
    auto dacl = ParseSddlDacl(test.input);
    REQUIRE_FALSE(dacl.has_value());
    CHECK_THAT(dacl.error().message, Catch::Contains(test.fragment));
    CHECK(dacl.error().column == test.column);
  }
}

TEST_CASE("ACEs the parser refuses still format without losing their data") {
  SECTION("a callback ACE whose condition does not decode prints its bytes") {
    Ace ace;
    ace.type = AceType::kAccessAllowedCallback;
    ace.mask = AccessMask(0x120089);
    ace.sid = well_known::Everyone();
    ace.application_data = {0x61, 0x72, 0x74, 0x78};  // "artx", no tokens
    CHECK(FormatSddlAce(ace) == "XA;;FR;;;WD;0x61727478");
    auto parsed = ParseSddl("D:(" + FormatSddlAce(ace) + ")");
    REQUIRE_FALSE(parsed.has_value());
    CHECK_THAT(parsed.error().message,
               Catch::Contains("expected '(' to start the condition"));
  }
  SECTION("an unknown ACE type prints as hex with its raw body") {
    Ace ace;
    ace.type = static_cast<AceType>(0x04);
    ace.flags = ace_flags::kInherited;
    ace.raw_body = {0x01, 0x02};
    CHECK(FormatSddlAce(ace) == "0x04;ID;;;;;0x0102");
  }
  SECTION("the CRITICAL flag has no SDDL name and is not printed") {
    Ace ace;
    ace.flags = ace_flags::kCritical | ace_flags::kObjectInherit;
    ace.mask = access::kGenericAll;
    ace.sid = well_known::LocalSystem();
    CHECK(FormatSddlAce(ace) == "A;OI;GA;;;SY");
  }
}

}  // namespace
}  // namespace tokenfs
