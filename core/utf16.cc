#include "core/utf16.h"

namespace tokenfs {

bool Utf8ToUtf16(std::string_view text, std::u16string& out) {
  out.clear();
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    uint32_t code_point = 0;
    size_t length = 0;
    uint32_t minimum = 0;
    if (byte < 0x80) {
      code_point = byte;
      length = 1;
    } else if ((byte & 0xe0) == 0xc0) {
      code_point = byte & 0x1f;
      length = 2;
      minimum = 0x80;
    } else if ((byte & 0xf0) == 0xe0) {
      code_point = byte & 0x0f;
      length = 3;
      minimum = 0x800;
    } else if ((byte & 0xf8) == 0xf0) {
      code_point = byte & 0x07;
      length = 4;
      minimum = 0x10000;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    if (code_point < minimum || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return false;
    }
    if (code_point >= 0x10000) {
      code_point -= 0x10000;
      out.push_back(static_cast<char16_t>(0xd800 + (code_point >> 10)));
      out.push_back(static_cast<char16_t>(0xdc00 + (code_point & 0x3ff)));
    } else {
      out.push_back(static_cast<char16_t>(code_point));
    }
    i += length;
  }
  return true;
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3f)));
  }
}

bool Utf16ToUtf8(std::u16string_view units, std::string& out) {
  out.clear();
  for (size_t i = 0; i < units.size(); ++i) {
    const uint32_t unit = units[i];
    if (unit >= 0xdc00 && unit <= 0xdfff) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      if (i + 1 >= units.size()) return false;
      const uint32_t low = units[i + 1];
      if (low < 0xdc00 || low > 0xdfff) return false;
      AppendUtf8(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00), out);
      ++i;
      continue;
    }
    AppendUtf8(unit, out);
  }
  return true;
}

bool Utf16LeToUtf8(std::span<const uint8_t> bytes, std::string& out) {
  if (bytes.size() % 2 != 0) return false;
  std::u16string units;
  units.reserve(bytes.size() / 2);
  for (size_t i = 0; i < bytes.size(); i += 2) {
    units.push_back(static_cast<char16_t>(bytes[i] | (bytes[i + 1] << 8)));
  }
  return Utf16ToUtf8(units, out);
}

void AppendUtf16Le(std::u16string_view units, std::vector<uint8_t>& out) {
  for (char16_t unit : units) {
    out.push_back(static_cast<uint8_t>(unit & 0xff));
    out.push_back(static_cast<uint8_t>(unit >> 8));
  }
}

}  // namespace tokenfs
