// Fuzz target: history event lines (core/token_history.h), as the state
// store and `token history` read them. A line that parses must encode back
// to a line that parses to the same event.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/token_history.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto event = tokenfs::ParseHistoryEventJson(text)) {
    auto again =
        tokenfs::ParseHistoryEventJson(tokenfs::HistoryEventJson(*event));
    if (!again || !(*again == *event)) std::abort();
  }
  return 0;
}
