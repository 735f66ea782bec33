// StrictJson: JSON text read into an nlohmann::json value in one pass,
// strictly.
//
// nlohmann's DOM parser keeps the last of a repeated key without a word and
// throws on a syntax error. Every JSON document tokenfs reads (token specs,
// the minting policy, the state store's records) must instead refuse a
// repeated key, bound how deep it nests, and report a syntax error by its
// position, without exceptions. ReadStrictJson does that once for all of
// them; each caller words its own messages from StrictJsonError, so its
// error texts stay its own.
//
// Paths name an element as its keys and indexes from the top, joined as
// "groups[2].sid" (JsonChildPath); the top level is "".
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_STRICT_JSON_H_
#define TOKENFS_CORE_STRICT_JSON_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

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

}  // namespace tokenfs

#endif  // TOKENFS_CORE_STRICT_JSON_H_
