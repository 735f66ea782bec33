// Linux capability names: what capabilities(7) calls each capability
// number, for display ("CAP_SYS_ADMIN" for 21).
//
// Invariant: the table covers 0..kLastLinuxCapability (CAP_CHECKPOINT_RESTORE,
// Linux 5.9) in number order; numbers beyond it have no name.
// Thread-safety: pure functions over a constant table.
#ifndef TOKENFS_CORE_LINUX_CAPABILITY_NAMES_H_
#define TOKENFS_CORE_LINUX_CAPABILITY_NAMES_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace tokenfs {

inline constexpr int kLastLinuxCapability = 40;

// "CAP_CHOWN" for 0 ... "CAP_CHECKPOINT_RESTORE" for 40; "" beyond.
std::string_view LinuxCapabilityName(int capability);

// The names of the bits set in `mask`, in number order, joined by ", ";
// bits without a name are written "cap_N". "" for an empty mask.
std::string LinuxCapabilityList(uint64_t mask);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_LINUX_CAPABILITY_NAMES_H_
