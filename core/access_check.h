// AccessCheck: may this token have these rights on an object with this
// security descriptor? The whole Windows/Peios order, with an explanation of
// which step or ACE decided.
//
// Order (MS-DTYP 2.5.3.2, Peios psd-004 §10): gates; generic mapping of the
// request and of every ACE; mandatory integrity (token policy NO_WRITE_UP;
// unlabelled objects are Medium with NO_WRITE_UP; NW/NR/NX); privileges that
// grant (SeSecurity for ACCESS_SYSTEM_SECURITY, SeTakeOwnership and SeRelabel
// for WRITE_OWNER, SeBackup/SeRestore only with declared intent); owner
// implied READ_CONTROL|WRITE_DAC unless an OWNER RIGHTS ACE is present; the
// DACL walk (deny-only groups match deny ACEs only, disabled groups match
// nothing, inherit-only ACEs skipped, PRINCIPAL SELF substituted); for a
// restricted token a second pass over the restricting SIDs that must also
// grant (only for write bits when write-restricted); MAXIMUM_ALLOWED; NULL vs
// empty DACL.
//
// The check never modifies the token: privileges that granted bits are
// reported in `privileges_used`, and the caller marks them used on the token
// (core/token_operations.h, MarkPrivilegesUsed).
//
// Thread-safety: pure function of its arguments.
#ifndef TOKENFS_CORE_ACCESS_CHECK_H_
#define TOKENFS_CORE_ACCESS_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
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
  AccessMask desired;
  GenericMapping mapping = kTokenGenericMapping;
  // Substituted for PRINCIPAL SELF (S-1-5-10) in ACEs; none when unset.
  std::optional<Sid> principal_self;
  uint32_t intent = privilege_intent::kNone;
};

enum class AccessStatus {
  kGranted,
  kAccessDenied,           // the DACL (or MIC, or the restricted pass) denied
  kPrivilegeNotHeld,       // ACCESS_SYSTEM_SECURITY without SeSecurity
  kBadImpersonationLevel,  // an impersonation token below Impersonation
  kGenericNotMapped,       // reserved for API-level callers
  kInvalidSecurityDescriptor,  // no owner or no group
};

// One step of the explanation, in evaluation order.
struct AccessTraceStep {
  std::string step;    // "gate", "mapping", "integrity", "privilege",
                       // "owner", "dacl", "restricted", "result"
  std::string detail;  // one human sentence
  int ace_index = -1;  // the ACE this step is about, or -1
};

struct AccessCheckResult {
  AccessStatus status = AccessStatus::kAccessDenied;
  AccessMask granted;        // 0 unless status == kGranted
  AccessMask desired_mapped;  // the request after generic mapping
  uint64_t privileges_used = 0;  // privilege bits that granted rights
  // The deciding step in one sentence, e.g. "ACE 2 (D;;WD;;;WD) denies
  // WRITE_DAC" or "no ACE grants QUERY".
  std::string reason;
  // Index of the deciding ACE in the DACL, or -1.
  int deciding_ace = -1;
  std::vector<AccessTraceStep> trace;

  bool granted_ok() const { return status == AccessStatus::kGranted; }
};

AccessCheckResult AccessCheck(const Token& token, const SecurityDescriptor& sd,
                              const AccessRequest& request);

// "granted", "access-denied", ...
std::string_view AccessStatusName(AccessStatus status);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_ACCESS_CHECK_H_
