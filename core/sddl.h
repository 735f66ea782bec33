// SDDL: the Security Descriptor Definition Language, parsed into
// SecurityDescriptor and printed in Windows' canonical form.
//
// Accepted input (Samba's strict grammar plus Windows' case and whitespace
// leniency):
//   - sections O:, G:, D:, S: in any order, each at most once; the section
//     letters are upper-case only (Windows refuses "d:");
//   - ACL flags P, AR, AI in any order, repeats allowed ("D:PPPP" is "D:P"),
//     and NO_ACCESS_CONTROL for a NULL ACL (which then takes no ACEs);
//     "D:" alone is a present, empty DACL; "D:P" a protected empty one;
//   - ACEs (type;flags;rights;object_guid;inherited_object_guid;sid) of types
//     A D AU AL OA OD OU OL ML SP; an object type written without GUIDs stays
//     an object ACE (Samba's choice; MS docs say Windows turns OA into A);
//   - conditional ACEs XA XD ZA XU with an optional seventh field, the
//     condition "(...)" (core/conditional_expression.h), stored as its binary
//     form in the ACE's application data; resource attribute ACEs RA with a
//     seventh field ("name",TYPE,flags,values...) (core/resource_attribute.h);
//   - ACE flags OI CI NP IO ID SA FA;
//   - rights as names (CC DC LC SW RP WP DT LO CR SD RC WD WO GA GX GW GR,
//     FA FR FW FX, KA KR KW KX, NW NR NX; any ACE type may use any name) or
//     one number (0x-hex, 0-octal, decimal) read as Windows reads it: a
//     leading '-' negates modulo 2^32 ("-99" is 0xffffff9d) and a value above
//     0xffffffff is clamped to it; an empty field is the mask 0;
//   - SIDs as two-letter aliases or S-1-... read as Windows reads them: each
//     number decimal or 0x-hex (every number hex when the revision is written
//     0x1, so S-0x1-20-0-579 is S-1-32-0-1401), whitespace allowed before a
//     number ("S- 1- 2-3"), sub-authorities above 0xffffffff clamped; at least
//     one sub-authority.
// Types, flags, rights, aliases and GUIDs are case-insensitive. Whitespace
// (space, tab, CR, LF) is accepted before every section, flag, ACE and ACE
// field, after an alias trustee and at the end, and spaces (only) between
// right names; it is refused inside a field and after the type, flags or
// rights (Windows refuses "(D ;", "GA ;" and a tab between rights).
// Refused, each with a message naming the problem and its column:
//   - trust-label ACEs (TL): "unsupported ACE type 'TL'"; a seventh field on
//     any type but XA XD ZA XU RA; errors inside a condition or resource
//     attribute carry their column in the whole SDDL text;
//   - domain-relative aliases (DA, DU, LA, ...) when no domain SID is
//     given (`domain`, the machine domain: see core/well_known_sids.h);
//     with one they resolve, and SIDs in that domain print as their alias;
//   - whitespace after a numeric trustee ("S-1-3-4 )"), a SID with no
//     sub-authority ("S-1-5"), an authority above 2^48-1;
//   - object GUIDs on a non-object ACE type; an ACL over 65535 bytes.
//
// Canonical output (verified against Windows):
//   - sections in the order O G D S; only present ACLs print;
//   - ACL flags P AR AI, then NO_ACCESS_CONTROL for a NULL ACL;
//   - ACE flags OI CI NP IO ID SA FA (CRITICAL, 0x20, has no SDDL name and
//     is not printed);
//   - rights: "" for 0 (Windows prints "(A;;;;;BO)"); single-bit names in
//     ascending bit order when every set bit has one; else FA/FR/FW/FX (and
//     KA/KR/KW, KR for 0x20019) when the mask equals one exactly; else
//     lower-case hex ("0x12019f"). The K* composites are listed as the
//     issue asks, but each consists of named bits only, so the single-bit
//     rule always prints them first (KA, 0xf003f, prints
//     CCDCLCSWRPWPSDRCWDWO), which is what Samba does; Wine would print KA.
//     ML ACEs print NW NR NX when the mask uses only those bits, else hex;
//   - SIDs as their alias when one exists, else S-...; GUIDs lower-case.
//   - a callback ACE's condition and an RA ACE's attribute print as the
//     seventh field in canonical form (conditions exactly as Windows prints
//     them: every sub-expression in parentheses).
// Formatting is total: ACE types the parser refuses still print (with
// Windows' type code, or 0xNN for a type without one), and application
// data that does not decode (or an RA layout text cannot reproduce) follows
// as a seventh field "0x<hex>", so a condition is never silently dropped;
// such text does not parse back. Control bits SDDL cannot
// express (defaulted, trusted, RM-control, ...) are not printed.
//
// Errors are kInvalidArgument; the message names the offending item and
// ends "at column N", and `column` is N, the 1-based position in the input.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_SDDL_H_
#define TOKENFS_CORE_SDDL_H_

#include <optional>
#include <string>
#include <string_view>

#include "core/access_mask.h"
#include "core/acl.h"
#include "core/result.h"
#include "core/security_descriptor.h"

namespace tokenfs {

// Parses a whole security descriptor string. The result is self-relative,
// its ACLs carry their canonical revision (4 iff an object ACE is present),
// and the control has only the present bits and the ACL flags written.
// Fails with kInvalidArgument (column set) on any error; "" is an empty SD.
Result<SecurityDescriptor> ParseSddl(std::string_view text,
                                     const Sid* domain = nullptr);
// Prints `sd` in canonical form; FormatSddl(*ParseSddl(x)) is a fixed point.
std::string FormatSddl(const SecurityDescriptor& sd,
                       const Sid* domain = nullptr);

// A lone DACL as written after "D:" — flags and ACEs, e.g. "P(A;;GA;;;SY)",
// or "NO_ACCESS_CONTROL" (returns nullopt for the NULL ACL). A leading "D:"
// is accepted; any other section is an error. ACL flags are accepted and
// dropped: a lone ACL has no control bits to hold them. Used for token
// default DACLs.
Result<std::optional<Acl>> ParseSddlDacl(std::string_view text,
                                         const Sid* domain = nullptr);
// "D:" followed by the ACEs; "D:NO_ACCESS_CONTROL" for nullopt.
std::string FormatSddlDacl(const std::optional<Acl>& dacl,
                           const Sid* domain = nullptr);

// One ACE as written in parentheses, without them.
std::string FormatSddlAce(const Ace& ace, const Sid* domain = nullptr);

// The rights field alone, canonical form (see above), as for a non-ML ACE.
// Returns "" for 0, as Windows prints an empty mask.
std::string FormatSddlRights(AccessMask mask);
// Parses a rights field alone: names or one number; "" is 0. Columns in
// errors count from the start of `text`.
Result<AccessMask> ParseSddlRights(std::string_view text);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_SDDL_H_
