// Fuzz target: /proc/<tid>/stat texts (core/proc_status.h). A text either
// parses or fails with a message; a parsed value, written back in the
// kernel's layout (tests/support/proc_texts.h) under command names with
// spaces and parentheses, parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/proc_status.h"
#include "tests/support/proc_texts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto stat = tokenfs::ParseProcStat(text);
  if (!stat) {
    if (stat.error().message.empty()) std::abort();
    return 0;
  }
  if (stat->process_group < 0 || stat->session < 0 || stat->tty < INT32_MIN ||
      stat->tty > INT32_MAX) {
    std::abort();
  }
  for (const std::string comm : {"sleep", "a) b (c", ") R 1 2 3", ""}) {
    auto again =
        tokenfs::ParseProcStat(tokenfs::test::KernelStatText(1, comm, *stat));
    if (!again || *again != *stat) std::abort();
  }
  return 0;
}
