// Fuzz target: /proc/<tid>/status texts (core/proc_status.h). A text either
// parses or fails with a message; a parsed value is within its bounds and,
// written back in the kernel's layout (tests/support/proc_texts.h), parses
// to the same value, with and without the lines older kernels lack. The
// same text is also read as a pidfd's fdinfo (ParsePidfdPid): a pid that
// parses is not negative and parses back from the kernel's layout.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/proc_status.h"
#include "tests/support/proc_texts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A pidfd's fdinfo is the same kind of "key:\tvalue" text.
  if (auto pid = tokenfs::ParsePidfdPid(text)) {
    if (*pid < 0) std::abort();
    auto again =
        tokenfs::ParsePidfdPid(tokenfs::test::KernelPidfdInfoText(*pid));
    if (!again || *again != *pid) std::abort();
  } else if (pid.error().message.empty()) {
    std::abort();
  }
  auto status = tokenfs::ParseProcStatus(text);
  if (!status) {
    if (status.error().message.empty()) std::abort();
    return 0;
  }
  if (status->tgid < 0 || status->ppid < 0) std::abort();
  auto again =
      tokenfs::ParseProcStatus(tokenfs::test::KernelStatusText(*status));
  if (!again || *again != *status) std::abort();
  auto older = tokenfs::ParseProcStatus(
      tokenfs::test::KernelStatusText(*status, false, false));
  if (!older || older->credentials.cap_ambient != 0 ||
      older->credentials.no_new_privs ||
      older->credentials.cap_permitted != status->credentials.cap_permitted ||
      older->credentials.supplementary_gids !=
          status->credentials.supplementary_gids) {
    std::abort();
  }
  return 0;
}
