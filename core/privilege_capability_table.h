// The privilege <-> Linux capability table: which capabilities a privilege
// stands for.
//
// Models the mapping both ways: a process's capability sets give its token's
// privileges when it is minted (permitted -> present, effective -> enabled),
// and a token's privileges give the capabilities to drop when a child is
// started under it. Rows marked "switchboard" in the source are the exact
// inverse of the capabilities the Peios model guards by a privilege; the
// rest are tokenfs's choices, listed with reasons in docs/policy.md.
//
// Invariant: the table is a compile-time constant; every row names a catalog
// privilege and capabilities 0..linux_capability::kLast.
//
// Thread-safety: pure functions over constant data. Ownership: the returned
// span points into static storage.
#ifndef TOKENFS_CORE_PRIVILEGE_CAPABILITY_TABLE_H_
#define TOKENFS_CORE_PRIVILEGE_CAPABILITY_TABLE_H_

#include <cstdint>
#include <span>

#include "core/linux_credentials.h"

namespace tokenfs {

// One row of the privilege <-> capability mapping: the privilege is present
// when any of its capabilities is permitted, enabled when any is effective.
// The rows for the capabilities Peios guards by a privilege (its
// "switchboard") invert that mapping exactly; the rest are tokenfs's
// choices, listed with reasons in docs/policy.md.
struct PrivilegeCapabilityMapping {
  int privilege_bit;
  std::span<const int> capabilities;
};

// Every catalog privilege that some capability maps to, in bit order.
// Privileges absent from the table (SeCreateToken, SeMachineAccount,
// SeChangeNotify, ...) have no capability.
std::span<const PrivilegeCapabilityMapping> PrivilegeCapabilityTable();

// The capabilities mapped to `privilege_bit`, as a capability mask (0 when
// none).
uint64_t CapabilitiesForPrivilege(int privilege_bit);

// The privileges whose mapped capabilities intersect `capabilities`.
uint64_t PrivilegesForCapabilities(uint64_t capabilities);

// Catalog privileges no capability maps to, SeChangeNotify excepted (every
// token has it): the ones root gets for holding CAP_SYS_ADMIN.
uint64_t UnmappedPrivileges();

// For projecting a token back onto a child process: the capabilities to
// drop from its bounding set when the token holds only `present_privileges`.
// A capability is dropped when ANY privilege it maps to is absent (when in
// doubt, deny): CAP_SETUID goes unless both SeImpersonate and
// SeAssignPrimaryToken are present. Capabilities the table never mentions
// are not in the result; the daemon decides about them.
uint64_t CapabilitiesToDrop(uint64_t present_privileges);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_PRIVILEGE_CAPABILITY_TABLE_H_
