#include "core/linux_capability_names.h"

#include <catch2/catch.hpp>

namespace tokenfs {
namespace {

TEST_CASE("capability numbers name as capabilities(7) does") {
  CHECK(LinuxCapabilityName(0) == "CAP_CHOWN");
  CHECK(LinuxCapabilityName(19) == "CAP_SYS_PTRACE");
  CHECK(LinuxCapabilityName(21) == "CAP_SYS_ADMIN");
  CHECK(LinuxCapabilityName(37) == "CAP_AUDIT_READ");
  CHECK(LinuxCapabilityName(38) == "CAP_PERFMON");
  CHECK(LinuxCapabilityName(40) == "CAP_CHECKPOINT_RESTORE");
  CHECK(LinuxCapabilityName(41).empty());
  CHECK(LinuxCapabilityName(-1).empty());
}

TEST_CASE("a capability mask lists its names in number order") {
  CHECK(LinuxCapabilityList(0).empty());
  CHECK(LinuxCapabilityList((uint64_t{1} << 21) | (uint64_t{1} << 6)) ==
        "CAP_SETGID, CAP_SYS_ADMIN");
  CHECK(LinuxCapabilityList(uint64_t{1} << 45) == "cap_45");
}

}  // namespace
}  // namespace tokenfs
