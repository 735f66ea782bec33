// AccessCheck: may this token have these rights on an object with this
// security descriptor? The whole Windows/Peios order, with an explanation of
// which step or ACE decided.
//
// Order (MS-DTYP 2.5.3.2, and the Peios model's access check):
//   1. gate: an impersonation token below the Impersonation level (Anonymous
//      or Identification) cannot be used for a check;
//   2. generic mapping of the request (kernel-style: GENERIC_* bits in the
//      request are mapped, not refused) and of every ACE mask; a request
//      whose mapping still holds generic bits (a custom mapping that maps a
//      generic right to a generic right) fails kGenericNotMapped, as
//      Windows' STATUS_GENERIC_NOT_MAPPED; a request that maps to nothing is
//      denied;
//   2a. a security descriptor without an owner or without a group fails
//      kInvalidSecurityDescriptor (Windows' AccessCheck returns
//      ERROR_INVALID_SECURITY_DESCR; nothing is granted or denied);
//   3. privileges that grant before anything else and that no ACE or label
//      can take back: SeSecurity for ACCESS_SYSTEM_SECURITY, SeBackup and
//      SeRestore only with declared intent;
//   4. mandatory integrity: the first non-inherit-only label ACE in the SACL
//      (no label = Medium with NO_WRITE_UP), enforced only when the token's
//      policy has NO_WRITE_UP; a non-dominant token is limited to the rights
//      its NW/NR/NX policy leaves (SeRelabel adds WRITE_OWNER back);
//   5. ACCESS_SYSTEM_SECURITY requested but not granted by a privilege:
//      kPrivilegeNotHeld;
//   6. owner implied READ_CONTROL | WRITE_DAC, unless a non-inherit-only ACE
//      in the DACL names OWNER RIGHTS (S-1-3-4);
//   7. the DACL walk, first writer wins for each bit: inherit-only ACEs
//      skipped, the user SID and enabled groups match allow and deny ACEs,
//      deny-only SIDs match deny ACEs only, disabled groups match nothing,
//      PRINCIPAL SELF stands for request.principal_self, OWNER RIGHTS for the
//      owner; an absent or NULL DACL grants the mapping's GENERIC_ALL, an
//      empty one nothing; a callback (conditional) ACE whose SID matches is
//      then gated by its condition (core/conditional_expression.h), read
//      against the token's user and device claims, its groups and device
//      groups and the resource attributes of the SACL's RA ACEs: an allow
//      ACE applies only when the condition is TRUE, a deny ACE when it is
//      TRUE or UNKNOWN (a condition that does not decode is UNKNOWN); the
//      trace and a denial's reason give the condition, its value and, leaf
//      by leaf, the value seen and the value expected;
//   8. SeTakeOwnership (then SeRelabel) grants WRITE_OWNER when the DACL did
//      not, in MAXIMUM_ALLOWED mode too, but never across an integrity denial;
//   9. a restricted token runs the walk again with only its restricting SIDs
//      (attributes ignored) and keeps the bits both passes grant; for a
//      write-restricted token only the write bits are intersected; bits
//      granted by privileges survive the intersection;
//  10. result: every requested bit granted, or for MAXIMUM_ALLOWED a
//      non-empty result that holds every explicitly requested bit.
//
// The check never modifies the token: privileges whose bits reached the
// result are reported in `privileges_used`, and the caller marks them used on
// the token (core/token_operations.h, MarkPrivilegesUsed).
//
// Thread-safety: a pure function of its arguments; safe to call
// concurrently.
#ifndef TOKENFS_CORE_ACCESS_CHECK_H_
#define TOKENFS_CORE_ACCESS_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/access_mask.h"
#include "core/security_descriptor.h"
#include "core/sid.h"
#include "core/token.h"

namespace tokenfs {

namespace privilege_intent {
inline constexpr uint32_t kNone = 0;
inline constexpr uint32_t kBackup = 0x1;   // KACS_BACKUP_INTENT
inline constexpr uint32_t kRestore = 0x2;  // KACS_RESTORE_INTENT
}  // namespace privilege_intent

struct AccessRequest {
  // Rights asked for; may hold GENERIC_* bits (they are mapped) and
  // MAXIMUM_ALLOWED.
  AccessMask desired;
  GenericMapping mapping = kTokenGenericMapping;
  // Substituted for PRINCIPAL SELF (S-1-5-10) in ACEs; such ACEs match
  // nothing when unset.
  std::optional<Sid> principal_self;
  // privilege_intent bits: SeBackup/SeRestore grant only with their intent.
  uint32_t intent = privilege_intent::kNone;
  // Claims conditional ACEs read instead of the token's own user and device
  // claims (`token access --user-claims/--device-claims`); null: the
  // token's. Borrowed for the call.
  const std::vector<Claim>* user_claims = nullptr;
  const std::vector<Claim>* device_claims = nullptr;
  // Build AccessCheckResult::trace. Hot paths (the file tree) turn it off;
  // `reason` and `deciding_ace` are filled either way.
  bool want_trace = true;
  // Explain a grant in `reason` ("granted QUERY by ACE 0 (...)"). Callers
  // that only report denials (authorization at every open) turn it off and
  // a grant's reason is then just "granted": composing the sentence costs
  // as much as the check. Denials are always explained.
  bool want_grant_reason = true;
};

enum class AccessStatus {
  kGranted,
  kAccessDenied,               // the DACL, integrity or the restricted pass
                               // denied, or nothing was requested
  kPrivilegeNotHeld,           // ACCESS_SYSTEM_SECURITY without SeSecurity
  kBadImpersonationLevel,      // an impersonation token below Impersonation
  kGenericNotMapped,           // generic bits left after mapping
  kInvalidSecurityDescriptor,  // no owner, no group, or a mandatory label
                               // that names a non-integrity SID
};

// One step of the explanation, in evaluation order.
struct AccessTraceStep {
  std::string step;    // "gate", "mapping", "privilege", "integrity",
                       // "owner", "dacl", "restricted", "result"
  std::string detail;  // one human sentence
  int ace_index = -1;  // the DACL ACE this step is about, or -1
};

struct AccessCheckResult {
  AccessStatus status = AccessStatus::kAccessDenied;
  // kGranted: the requested rights (after mapping), or for MAXIMUM_ALLOWED
  // every right the token may have. Otherwise 0.
  AccessMask granted;
  // The request after generic mapping, MAXIMUM_ALLOWED kept when asked for.
  AccessMask desired_mapped;
  // Privilege bits (privilege::Bit) that contributed a right to `granted`.
  uint64_t privileges_used = 0;
  // The deciding step in one sentence, e.g. "ACE 2 (deny WRITE_DAC to
  // Everyone) denied WRITE_DAC" or "no ACE granted QUERY".
  std::string reason;
  // Index in the DACL of the deciding ACE (the denying one, or the one that
  // completed a grant), or -1 when no ACE decided.
  int deciding_ace = -1;
  // Every step taken; empty unless request.want_trace.
  std::vector<AccessTraceStep> trace;

  bool granted_ok() const { return status == AccessStatus::kGranted; }
};

// Runs the check. Never fails as a function: every outcome, including a
// malformed label or a bad impersonation level, is a status in the result.
AccessCheckResult AccessCheck(const Token& token, const SecurityDescriptor& sd,
                              const AccessRequest& request);

// "granted", "access-denied", "privilege-not-held", "bad-impersonation-level",
// "generic-not-mapped", "invalid-security-descriptor".
std::string_view AccessStatusName(AccessStatus status);

// The rights a write-restricted token's restricting SIDs must also grant:
// GENERIC_WRITE's bits that GENERIC_READ and GENERIC_EXECUTE do not also
// map, plus DELETE, WRITE_DAC, WRITE_OWNER and ACCESS_SYSTEM_SECURITY
// (Windows' rule; see access_check.cc).
AccessMask WriteRestrictedRights(const GenericMapping& mapping);

// The rights a token below the object's integrity level keeps under the
// label policy bits `policy` (NO_WRITE_UP 0x1, NO_READ_UP 0x2,
// NO_EXECUTE_UP 0x4), before SeRelabel. For the file mapping: NO_WRITE_UP
// gives 0x1200a9, NO_WRITE_UP | NO_READ_UP 0x100020.
AccessMask MandatoryAllowedRights(uint32_t policy,
                                  const GenericMapping& mapping);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_ACCESS_CHECK_H_
