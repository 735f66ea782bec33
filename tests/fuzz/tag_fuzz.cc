// Fuzz target: tags (core/tag.h) and tags-file commands (core/commands.h). A parsed tag must parse back to
// itself (canonical spelling), and a parsed command's tag must be a valid
// canonical tag; applying it must keep the set sorted and bounded.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/commands.h"
#include "core/tag.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto tag = tokenfs::ParseTag(text)) {
    auto again = tokenfs::ParseTag(*tag);
    if (!again || *again != *tag || tag->size() > tokenfs::kMaxTagLength) {
      std::abort();
    }
  }
  if (auto command = tokenfs::ParseTagCommand(text)) {
    auto again = tokenfs::ParseTag(command->tag);
    if (!again || *again != command->tag) std::abort();
    const std::vector<std::string> held = {"a", "zz"};
    if (auto applied = tokenfs::ApplyTagCommand(held, *command)) {
      if (!std::is_sorted(applied->begin(), applied->end()) ||
          applied->size() > tokenfs::kMaxTags) {
        std::abort();
      }
    } else {
      std::abort();  // two held tags never reach the bound
    }
  }
  return 0;
}
