// Utf16: strict conversion between UTF-8 text and UTF-16 code units, as the
// Windows binary formats (claims, conditional expressions, resource
// attributes) store strings.
//
// Invariant: a conversion that succeeds is lossless both ways; anything that
// is not well-formed (overlong UTF-8, surrogate code points in UTF-8, an
// unpaired surrogate in UTF-16, a truncated sequence) is refused.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_UTF16_H_
#define TOKENFS_CORE_UTF16_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tokenfs {

// Strict UTF-8 to UTF-16 code units: no overlong forms, no surrogate code
// points, nothing above U+10FFFF, no truncated sequence. Returns false on any
// of those (`out` is then unspecified).
bool Utf8ToUtf16(std::string_view text, std::u16string& out);

// UTF-16 code units to UTF-8. Returns false on an unpaired surrogate.
bool Utf16ToUtf8(std::u16string_view units, std::string& out);

// Appends `code_point` (at most U+10FFFF, not a surrogate) as UTF-8.
void AppendUtf8(uint32_t code_point, std::string& out);

// `bytes` (an even count) read as UTF-16LE code units, converted to UTF-8.
// Returns false on an odd length or an unpaired surrogate.
bool Utf16LeToUtf8(std::span<const uint8_t> bytes, std::string& out);

// Appends `units` as UTF-16LE, without a terminator.
void AppendUtf16Le(std::u16string_view units, std::vector<uint8_t>& out);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_UTF16_H_
