// StrictJson: JSON text read into an nlohmann::json value in one pass,
// strictly.
//
// nlohmann's DOM parser keeps the last of a repeated key without a word and
// throws on a syntax error. Every JSON document tokenfs reads (token specs,
// the minting policy, the state store's records) must instead refuse a
// repeated key, bound how deep it nests, and report a syntax error by its
// position, without exceptions. ReadStrictJson does that once for all of
// them.
//
// The readers of token specs and of the minting policy also word their
// errors with the functions below, so the same mistake reads the same in
// both (the policy prefixes "policy: "):
//   JSON parse error at line 2, column 11: syntax error while parsing ...
//   source: repeated key 'name'
//   JSON nests deeper than 16 levels
//   source: unknown key 'nmae' (did you mean 'name'?)
//   groups[0]: missing key 'sid'
//   user: expected a string, found a number
//
// Paths name an element as its keys and indexes from the top, joined as
// "groups[2].sid" (JsonChildPath, JsonElementPath); the top level is "". A
// message about an element reads "PATH: PROBLEM", or "PROBLEM" at the top
// level (JsonAtPath).
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_STRICT_JSON_H_
#define TOKENFS_CORE_STRICT_JSON_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace tokenfs {

struct StrictJsonError {
  enum class Kind {
    kSyntax,       // not JSON
    kRepeatedKey,  // an object names `key` twice
    kTooDeep,      // a container opened at `path` nests past the limit
  };
  Kind kind = Kind::kSyntax;
  // kRepeatedKey: the object holding the key; kTooDeep: the container in
  // which one more would nest too deep.
  std::string path;
  std::string key;  // kRepeatedKey
  // kSyntax: nlohmann's byte position (one past the offending character)
  // and message, "[json.exception.parse_error.101] parse error at line 1,
  // column 2: syntax error while parsing value - ...".
  size_t position = 0;
  std::string what;
};

// Parses `text`. `max_depth` bounds how many containers may be open at once
// (1: a flat object or array).
tl::expected<nlohmann::json, StrictJsonError> ReadStrictJson(
    std::string_view text, size_t max_depth);

// `path` extended by an object key: "a" + "b" is "a.b", "" + "b" is "b".
std::string JsonChildPath(const std::string& path, std::string_view key);

// nlohmann's message without its "[json.exception.parse_error.101] " tag.
std::string JsonErrorWithoutTag(const std::string& what);

// `path` extended by an array index: "a" + 2 is "a[2]".
std::string JsonElementPath(const std::string& path, size_t index);

// "PATH: PROBLEM", or "PROBLEM" when `path` is the top level.
std::string JsonAtPath(const std::string& path, std::string_view problem);

// 1-based line and column in `text` of the character at 1-based byte
// `position` (StrictJsonError::position). nlohmann's own message counts a
// newline it has read as the start of the next line ("line 3, column 0").
std::pair<int, int> JsonLineAndColumn(std::string_view text, size_t position);

// Why ReadStrictJson refused `text` (with `max_depth`), as one line:
//   kSyntax       "JSON parse error at line L, column C: <nlohmann's detail>"
//   kRepeatedKey  "PATH: repeated key 'KEY'"
//   kTooDeep      "JSON nests deeper than MAX_DEPTH levels"
std::string JsonReadErrorMessage(const StrictJsonError& error,
                                 std::string_view text, size_t max_depth);

// What `value` is, for messages: "null", "a boolean", "a string", "a number",
// "a fractional number", "an array", "an object".
std::string JsonKindName(const nlohmann::json& value);

// "expected WANTED, found <JsonKindName(value)>".
std::string JsonWrongTypeMessage(std::string_view wanted,
                                 const nlohmann::json& value);

// "missing key 'KEY'".
std::string JsonMissingKeyMessage(std::string_view key);

// "" when every key of `object` is in `allowed`; otherwise the first other
// key as "unknown key 'KEY'", followed by " (did you mean 'NAME'?)" when an
// allowed name is within two edits of it, or else by the allowed names
// "(a, b, c)" when there are at most six.
std::string JsonUnknownKeyMessage(const nlohmann::json& object,
                                  std::span<const std::string_view> allowed);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_STRICT_JSON_H_
