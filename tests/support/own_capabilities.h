// The calling thread's capability sets as capget(2) reports them, for tests
// that check what tokenfs read from /proc against the kernel's own answer.
//
// Thread-safety: reads only the calling thread's credentials.
#ifndef TOKENFS_TESTS_SUPPORT_OWN_CAPABILITIES_H_
#define TOKENFS_TESTS_SUPPORT_OWN_CAPABILITIES_H_

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <optional>

namespace tokenfs::test {

struct OwnCapabilities {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

// nullopt when capget fails.
inline std::optional<OwnCapabilities> ReadOwnCapabilities() {
  struct {
    uint32_t version;
    int pid;
  } header{0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } sets[2] = {};
  if (::syscall(SYS_capget, &header, sets) != 0) return std::nullopt;
  auto join = [](uint32_t low, uint32_t high) {
    return low | uint64_t{high} << 32;
  };
  return OwnCapabilities{join(sets[0].effective, sets[1].effective),
                         join(sets[0].permitted, sets[1].permitted),
                         join(sets[0].inheritable, sets[1].inheritable)};
}

}  // namespace tokenfs::test

#endif  // TOKENFS_TESTS_SUPPORT_OWN_CAPABILITIES_H_
