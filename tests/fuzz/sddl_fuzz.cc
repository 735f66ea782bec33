// Fuzz target: SDDL text and binary security descriptors.
//
// Properties checked (abort() on any violation):
//   - ParseSddl: a parsed SD formats to canonical text that parses back to an
//     equal SD and formats to the same text again (a fixed point); its binary
//     form decodes to an equal SD. A refusal names a column inside the input
//     (1 .. size+1) and says so at the end of its message.
//   - ParseSddlDacl and ParseSddlRights: format -> parse gives the same value.
//   - SecurityDescriptor::FromBinary: a decoded SD encodes, decodes to an
//     equal value, and encodes to the same bytes again; formatting it as
//     SDDL (which is total) does not crash.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "core/sddl.h"
#include "core/security_descriptor.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckError(const tokenfs::Error& error, size_t size) {
  Check(error.code == tokenfs::ErrorCode::kInvalidArgument);
  Check(error.column >= 1 && static_cast<size_t>(error.column) <= size + 1);
  const std::string suffix = " at column " + std::to_string(error.column);
  Check(error.message.size() > suffix.size() &&
        error.message.compare(error.message.size() - suffix.size(),
                              suffix.size(), suffix) == 0);
}

void CheckSddl(std::string_view text) {
  auto sd = tokenfs::ParseSddl(text);
  if (!sd) {
    CheckError(sd.error(), text.size());
    return;
  }
  const std::string canonical = tokenfs::FormatSddl(*sd);
  auto again = tokenfs::ParseSddl(canonical);
  Check(again.has_value());
  Check(*again == *sd);
  Check(tokenfs::FormatSddl(*again) == canonical);

  auto bytes = sd->ToBinary();
  Check(bytes.has_value());
  auto decoded = tokenfs::SecurityDescriptor::FromBinary(*bytes);
  Check(decoded.has_value());
  Check(*decoded == *sd);
}

void CheckDaclAndRights(std::string_view text) {
  auto dacl = tokenfs::ParseSddlDacl(text);
  if (dacl) {
    auto again = tokenfs::ParseSddlDacl(tokenfs::FormatSddlDacl(*dacl));
    Check(again.has_value());
    Check(*again == *dacl);
  } else {
    CheckError(dacl.error(), text.size());
  }
  auto mask = tokenfs::ParseSddlRights(text);
  if (mask) {
    auto again = tokenfs::ParseSddlRights(tokenfs::FormatSddlRights(*mask));
    Check(again.has_value());
    Check(*again == *mask);
  } else {
    CheckError(mask.error(), text.size());
  }
}

void CheckBinary(std::span<const uint8_t> input) {
  auto sd = tokenfs::SecurityDescriptor::FromBinary(input);
  if (!sd) return;
  auto bytes = sd->ToBinary();
  Check(bytes.has_value());
  auto again = tokenfs::SecurityDescriptor::FromBinary(*bytes);
  Check(again.has_value());
  Check(*again == *sd);
  auto bytes_again = again->ToBinary();
  Check(bytes_again.has_value());
  Check(*bytes_again == *bytes);
  const std::string text = tokenfs::FormatSddl(*sd);
  Check(text.size() < (size_t{1} << 24));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckSddl(text);
  CheckDaclAndRights(text);
  CheckBinary({data, size});
  return 0;
}
