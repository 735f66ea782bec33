#include "core/number.h"

namespace tokenfs {
namespace {

// Value of `c` as a digit in `radix` (10 or 16), or -1.
int DigitValue(char c, uint64_t radix) {
  if (c >= '0' && c <= '9') return c - '0';
  if (radix == 16 && c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (radix == 16 && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<uint64_t> ParseUnsigned(std::string_view text, uint64_t max,
                               NumberBase base) {
  std::string_view digits = text;
  uint64_t radix = base == NumberBase::kHex ? 16 : 10;
  if (base == NumberBase::kDecimalOrHex && text.size() > 2 && text[0] == '0' &&
      (text[1] == 'x' || text[1] == 'X')) {
    radix = 16;
    digits.remove_prefix(2);
  }
  if (digits.empty()) return InvalidArgument("empty number");
  uint64_t value = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    const int digit = DigitValue(digits[i], radix);
    if (digit < 0) {
      const int column = static_cast<int>(text.size() - digits.size() + i) + 1;
      const char* kind = base == NumberBase::kDecimal ? "a decimal"
                         : base == NumberBase::kHex   ? "a hex"
                                                      : "a decimal or 0x-hex";
      return InvalidArgument(
          "'" + std::string(text) + "' is not " + kind + " number", column);
    }
    // value * radix + digit <= max, written so nothing wraps (a digit may
    // itself be above a small max).
    if (static_cast<uint64_t>(digit) > max ||
        value > (max - static_cast<uint64_t>(digit)) / radix) {
      return InvalidArgument("'" + std::string(text) + "' is more than " +
                             std::to_string(max));
    }
    value = value * radix + static_cast<uint64_t>(digit);
  }
  return value;
}

std::string FormatUnsigned(uint64_t value, NumberBase base) {
  if (base != NumberBase::kHex) return std::to_string(value);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[value % 16]);
    value /= 16;
  } while (value != 0);
  return out;
}

}  // namespace tokenfs
