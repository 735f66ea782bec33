// Fuzz target for token and credentials records: any input either fails to
// decode (as either kind) with a message, or decodes to a value whose record
// decodes back to the same value and is a fixed point, so a restart restores
// exactly what was recorded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/token_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto token = tokenfs::DecodeTokenRecord(text);
  if (token) {
    if (!tokenfs::ValidateToken(*token)) std::abort();
    const std::string record = tokenfs::EncodeTokenRecord(*token);
    auto again = tokenfs::DecodeTokenRecord(record);
    if (!again || *again != *token) std::abort();
    if (tokenfs::EncodeTokenRecord(*again) != record) std::abort();
  } else if (token.error().message.empty()) {
    std::abort();
  }

  auto credentials = tokenfs::DecodeCredentialsRecord(text);
  if (credentials) {
    const std::string record = tokenfs::EncodeCredentialsRecord(*credentials);
    auto again = tokenfs::DecodeCredentialsRecord(record);
    if (!again || *again != *credentials) std::abort();
    if (tokenfs::EncodeCredentialsRecord(*again) != record) std::abort();
  } else if (credentials.error().message.empty()) {
    std::abort();
  }
  return 0;
}
