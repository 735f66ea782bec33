// Fuzz target for the binary token spec: any input either fails to decode,
// or decodes to a spec whose canonical encoding decodes to the same spec and
// is a fixed point, whose JSON form parses back to the same spec, and from
// which a token can be built.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/capability.h"
#include "core/token_spec.h"
#include "core/token_spec_json.h"

namespace {

class FixedClock : public tokenfs::Clock {
 public:
  uint64_t NowNanoseconds() const override { return 1; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto spec = tokenfs::DecodeTokenSpec(std::span<const uint8_t>(data, size));
  if (!spec) return 0;
  auto encoded = tokenfs::EncodeTokenSpec(*spec);
  if (!encoded) std::abort();
  auto again = tokenfs::DecodeTokenSpec(*encoded);
  if (!again || *again != *spec) std::abort();
  auto reencoded = tokenfs::EncodeTokenSpec(*again);
  if (!reencoded || *reencoded != *encoded) std::abort();
  static tokenfs::LuidAllocator ids;
  static const FixedClock clock;
  static const tokenfs::CapabilityNames names;
  for (const tokenfs::CapabilityNames* table :
       {&names, static_cast<const tokenfs::CapabilityNames*>(nullptr)}) {
    auto parsed =
        tokenfs::ParseTokenSpecJson(tokenfs::FormatTokenSpecJson(*spec, table));
    if (!parsed || *parsed != *spec) std::abort();
  }
  auto token = tokenfs::BuildTokenFromSpec(
      *spec, tokenfs::SpecBuildContext{ids, clock, spec->user, &names});
  // Every spec that decodes builds a valid token.
  if (!token || !tokenfs::ValidateToken(*token)) std::abort();
  return 0;
}
