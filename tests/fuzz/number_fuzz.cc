// Fuzz target: the unsigned number parser. A parsed number must be within
// its bound, and its canonical text must parse back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/number.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tokenfs::NumberBase;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const uint64_t bounds[] = {0, 0xff, INT32_MAX, UINT32_MAX, UINT64_MAX};
  for (const uint64_t max : bounds) {
    for (const auto base : {NumberBase::kDecimal, NumberBase::kHex,
                            NumberBase::kDecimalOrHex}) {
      auto value = tokenfs::ParseUnsigned(text, max, base);
      if (!value) continue;
      if (*value > max) std::abort();
      auto again =
          tokenfs::ParseUnsigned(tokenfs::FormatUnsigned(*value, base), max,
                                 base);
      if (!again || *again != *value) std::abort();
    }
  }
  return 0;
}
