#include "core/linux_credentials.h"

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "tests/support/test_support.h"

namespace tokenfs {
namespace {

namespace cap = linux_capability;

uint64_t Caps(std::initializer_list<int> capabilities) {
  uint64_t mask = 0;
  for (int capability : capabilities) mask |= cap::Bit(capability);
  return mask;
}

LinuxCredentials Alice() { return test::AliceCredentials(); }

TEST_CASE("a capability counts only when held in the initial user namespace") {
  LinuxCredentials credentials = Alice();
  credentials.cap_permitted = credentials.cap_effective =
      Caps({cap::kSysPtrace});
  CHECK(HoldsCapability(credentials, cap::kSysPtrace));
  CHECK_FALSE(HoldsCapability(credentials, cap::kSysAdmin));
  credentials.initial_user_namespace = false;
  CHECK_FALSE(HoldsCapability(credentials, cap::kSysPtrace));
  // Effective without permitted does not count either.
  credentials = Alice();
  credentials.cap_effective = Caps({cap::kSysPtrace});
  CHECK_FALSE(HoldsCapability(credentials, cap::kSysPtrace));
}

}  // namespace
}  // namespace tokenfs
