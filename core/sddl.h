// SDDL: the Security Descriptor Definition Language, parsed into
// SecurityDescriptor and printed in Windows' canonical form.
//
// Accepted input (Samba's strict grammar plus Windows' case and whitespace
// leniency): sections O:, G:, D:, S: in any order, each at most once; ACL
// flags P, AR, AI in any order; NO_ACCESS_CONTROL for a NULL ACL; ACEs
// (type;flags;rights;object_guid;inherited_object_guid;sid) of types A D AU AL
// OA OD OU OL ML; flags OI CI NP IO ID SA FA; rights as names (CC DC LC SW RP
// WP DT LO CR SD RC WD WO GA GX GW GR, FA FR FW FX, KA KR KW KX, NW NR NX) or a
// number (0x-hex, 0-octal, decimal); SIDs as S-... or two-letter aliases.
// Conditional and resource-attribute ACEs (XA XD XU ZA RA SP) are refused
// with "unsupported ACE type".
//
// Canonical output: sections in the order O G D S; ACL flags P AR AI; ACE
// flags OI CI NP IO ID SA FA; rights as single-bit names in ascending bit
// order when every bit has one, else FA/FR/FW/FX/KA/KR/KW/KX when the mask
// equals one exactly, else lower-case 0x-hex; SIDs as their alias when one
// exists, else S-...; a NULL DACL as "D:NO_ACCESS_CONTROL".
//
// Errors are kInvalidArgument with a message naming the problem and `column`
// the 1-based position of the offending character in the input.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_SDDL_H_
#define TOKENFS_CORE_SDDL_H_

#include <string>
#include <string_view>

#include "core/access_mask.h"
#include "core/acl.h"
#include "core/result.h"
#include "core/security_descriptor.h"

namespace tokenfs {

Result<SecurityDescriptor> ParseSddl(std::string_view text);
std::string FormatSddl(const SecurityDescriptor& sd);

// A lone DACL as written after "D:" — flags and ACEs, e.g. "P(A;;GA;;;SY)",
// or "NO_ACCESS_CONTROL" (returns nullopt for the NULL ACL). A leading "D:"
// is accepted. Used for token default DACLs.
Result<std::optional<Acl>> ParseSddlDacl(std::string_view text);
// "D:" followed by the ACEs; "D:NO_ACCESS_CONTROL" for nullopt.
std::string FormatSddlDacl(const std::optional<Acl>& dacl);

// One ACE as written in parentheses, without them.
std::string FormatSddlAce(const Ace& ace);

// The rights field alone, canonical form (see above); "" for 0 is never
// produced: 0 prints as "0x0".
std::string FormatSddlRights(AccessMask mask);
Result<AccessMask> ParseSddlRights(std::string_view text);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_SDDL_H_
