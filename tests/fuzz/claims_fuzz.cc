// Fuzz target for the claim array codec: any input either fails to decode
// or decodes to claims that encode and decode back to the same claims, and
// whose canonical encoding is a fixed point.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/claims.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto claims = tokenfs::DecodeClaims(std::span<const uint8_t>(data, size));
  if (!claims) return 0;
  for (const auto& claim : *claims) {
    if (!tokenfs::ValidateClaim(claim)) std::abort();
    (void)tokenfs::FormatClaim(claim);
  }
  auto encoded = tokenfs::EncodeClaims(*claims);
  if (!encoded) std::abort();
  auto again = tokenfs::DecodeClaims(*encoded);
  if (!again || *again != *claims) std::abort();
  auto reencoded = tokenfs::EncodeClaims(*again);
  if (!reencoded || *reencoded != *encoded) std::abort();
  return 0;
}
