#include "core/ace.h"

#include <cstdio>

namespace tokenfs {

bool IsModeledAceType(AceType type) {
  const uint8_t value = static_cast<uint8_t>(type);
  return value <= 0x15 && type != AceType::kAccessAllowedCompound;
}

bool IsObjectAceType(AceType type) {
  switch (type) {
    case AceType::kAccessAllowedObject:
    case AceType::kAccessDeniedObject:
    case AceType::kSystemAuditObject:
    case AceType::kSystemAlarmObject:
    case AceType::kAccessAllowedCallbackObject:
    case AceType::kAccessDeniedCallbackObject:
    case AceType::kSystemAuditCallbackObject:
    case AceType::kSystemAlarmCallbackObject:
      return true;
    default:
      return false;
  }
}

bool IsAllowAceType(AceType type) {
  return type == AceType::kAccessAllowed ||
         type == AceType::kAccessAllowedObject ||
         type == AceType::kAccessAllowedCallback ||
         type == AceType::kAccessAllowedCallbackObject;
}

bool IsDenyAceType(AceType type) {
  return type == AceType::kAccessDenied ||
         type == AceType::kAccessDeniedObject ||
         type == AceType::kAccessDeniedCallback ||
         type == AceType::kAccessDeniedCallbackObject;
}

std::string FormatGuid(const Guid& guid) {
  const auto& b = guid.bytes;
  char buffer[40];
  std::snprintf(buffer, sizeof buffer,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                "%02x%02x%02x%02x%02x%02x",
                b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]);
  return buffer;
}

Result<Guid> ParseGuid(std::string_view text) {
  // Text positions of the 16 bytes, in wire order.
  static constexpr int kPositions[16] = {6,  4,  2,  0,  11, 9,  16, 14,
                                         19, 21, 24, 26, 28, 30, 32, 34};
  if (text.size() != 36 || text[8] != '-' || text[13] != '-' ||
      text[18] != '-' || text[23] != '-') {
    return InvalidArgument("a GUID is written xxxxxxxx-xxxx-xxxx-xxxx-"
                           "xxxxxxxxxxxx");
  }
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Guid guid;
  for (int i = 0; i < 16; ++i) {
    const int position = kPositions[i];
    const int high = hex(text[static_cast<size_t>(position)]);
    const int low = hex(text[static_cast<size_t>(position) + 1]);
    if (high < 0 || low < 0) {
      return InvalidArgument("bad hex digit in GUID", position + 1);
    }
    guid.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(high * 16 + low);
  }
  return guid;
}

}  // namespace tokenfs
