// Tags: free-form labels a user puts on token objects (/tokens/objects/<id>/
// tags) to find them again (`token list --tag NAME`). A tag is metadata of
// the object in the registry, not part of the token: it changes no right,
// no access check and no modified id.
//
// Grammar:
//   tag := alnum *( alnum / "." / "_" / "-" / ":" / "=" / "/" )
// 1 to 64 characters (kMaxTagLength), ASCII only. Tags compare without
// regard to ASCII case and are kept in lower case (the canonical spelling),
// so "Build" and "build" are one tag. An object holds at most kMaxTags.
//
// The tags file's write command (add NAME / remove NAME) is parsed in
// core/commands.h (ParseTagCommand); ApplyTagCommand applies it: adding a
// tag the object holds and removing one it does not hold are no-ops that
// succeed (the file says what holds afterwards).
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_TAG_H_
#define TOKENFS_CORE_TAG_H_

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tokenfs {

inline constexpr size_t kMaxTagLength = 64;
inline constexpr size_t kMaxTags = 32;

// Validates `text` against the grammar and returns its canonical (lower
// case) spelling. Fails with kInvalidArgument naming the tag and the 1-based
// column of the offending character: empty, longer than 64 characters, a
// first character that is not a letter or digit, or a character outside the
// set.
Result<std::string> ParseTag(std::string_view text);

// One write to a tags file (core/commands.h ParseTagCommand).
struct TagCommand {
  bool add = true;  // false: remove
  std::string tag;  // canonical
};

// `tags` with `command` applied: sorted, without repeats. Fails with
// kResourceExhausted when adding would exceed kMaxTags.
Result<std::vector<std::string>> ApplyTagCommand(
    std::span<const std::string> tags, const TagCommand& command);

// The tags file: one tag per line, sorted; "" for none.
std::string RenderTags(std::span<const std::string> tags);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_TAG_H_
