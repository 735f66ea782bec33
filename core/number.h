// ParseUnsigned: the one parser for unsigned numbers written as text.
//
// Models a non-negative integer spelled in ASCII digits, bounded above by a
// caller-given maximum. Every number the model reads from text (access
// masks, indexes, ids, pids, JSON strings holding numbers) goes through here,
// so all of them accept and refuse exactly the same spellings:
//   - kDecimal: one or more of 0-9.
//   - kHex: one or more of 0-9, a-f, A-F, with no prefix.
//   - kDecimalOrHex: decimal, or "0x"/"0X" followed by one or more hex digits.
// Nothing else is accepted: no sign, no whitespace, no empty digit string, no
// value above `max`. Leading zeros are accepted ("007" is 7). Overflow is
// detected before it happens, so any `max` up to UINT64_MAX is exact.
//
// Invariant: a returned value is <= max. Errors are kInvalidArgument with a
// message naming the text and, for out-of-range values, the maximum.
//
// Thread-safety: pure functions. Ownership: borrows `text` for the call only.
#ifndef TOKENFS_CORE_NUMBER_H_
#define TOKENFS_CORE_NUMBER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tokenfs {

enum class NumberBase {
  kDecimal,
  kHex,
  kDecimalOrHex,
};

// Parses `text` as a whole (see above) and checks it is at most `max`.
Result<uint64_t> ParseUnsigned(std::string_view text, uint64_t max,
                               NumberBase base = NumberBase::kDecimalOrHex);

// Canonical text of `value`: decimal for kDecimal and kDecimalOrHex,
// lower-case hex digits without a prefix for kHex. ParseUnsigned reads it
// back to `value`.
std::string FormatUnsigned(uint64_t value,
                           NumberBase base = NumberBase::kDecimal);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_NUMBER_H_
