// Fuzz target: SID strings and binary SIDs. A parsed SID must print back to
// text that parses to the same SID, and binary round-trips must be exact.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/sid.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto sid = tokenfs::Sid::Parse(text)) {
    auto again = tokenfs::Sid::Parse(sid->ToString());
    if (!again || !(*again == *sid)) std::abort();
  }
  size_t consumed = 0;
  if (auto sid = tokenfs::Sid::FromBinary({data, size}, &consumed)) {
    const auto bytes = sid->ToBinary();
    if (bytes.size() != consumed) std::abort();
    for (size_t i = 0; i < consumed; ++i) {
      if (bytes[i] != data[i]) std::abort();
    }
  }
  return 0;
}
