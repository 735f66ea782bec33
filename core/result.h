// Result<T>: the value-or-error type every fallible core function returns.
//
// Models the outcome of an operation as either a T or an Error{code, message}.
// The code is a small closed enum chosen for how callers react (the FUSE edge
// maps each code to one errno in a single exhaustive switch; the CLI maps codes
// to exit statuses). The message is one human sentence naming the offending
// item; parsers also fill `column` (1-based) so callers can point at the spot.
//
// Built on tl::expected (Debian libexpected-dev) because std::expected needs
// C++23 in libstdc++ 12. Result, Status and the error constructors are
// defined here, but code forwarding an error writes tl::unexpected itself,
// and ReadStrictJson (core/strict_json.h) returns a tl::expected, so moving
// to std::expected means replacing tl:: wherever it is named (core, cli,
// tokenfs), a mechanical edit. Avoid tl-only members such as map() so that
// edit stays mechanical.
//
// Thread-safety: plain values; no shared state.
#ifndef TOKENFS_CORE_RESULT_H_
#define TOKENFS_CORE_RESULT_H_

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace tokenfs {

enum class ErrorCode {
  kInvalidArgument,     // malformed input: a parse error, a bad index
  kNotFound,            // the named thing does not exist (or no longer)
  kAccessDenied,        // the security descriptor does not grant the right
  kPrivilegeNotHeld,    // the model's rules forbid it: a privilege is missing,
                        // or it would widen a token
  kAlreadyExists,       // a name or id is taken
  kFailedPrecondition,  // the object is in the wrong state for this
  kResourceExhausted,   // a quota or size limit
  kInternal,            // a broken invariant or an unexpected OS failure
  kProcessGone,         // the process or thread a request names has exited
  kNotPermitted,        // the tree never allows this operation on this node
                        // (its shape and attributes are fixed)
  kNotADirectory,       // a directory operation on a file or link
  kIsADirectory,        // a file operation on a directory
  kIsALink,             // a file operation on a symbolic link
  kBadHandle,           // an open file used against its open mode
  kTooLarge,            // a command or spec larger than one write may be
  kBusy,                // the object is in a use that excludes this
  kTooManyOpen,         // the caller already holds too much in open files
  kOutOfMemory,         // an allocation failed
};

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // 1-based character column of the offending input for parse errors, else 0.
  int column = 0;
};

template <typename T>
using Result = tl::expected<T, Error>;

// Result<void> for operations that only succeed or fail.
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message,
                                       int column = 0) {
  return tl::unexpected<Error>(Error{code, std::move(message), column});
}

inline tl::unexpected<Error> InvalidArgument(std::string message,
                                             int column = 0) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), column);
}

// Success value for Status.
inline Status Ok() { return {}; }

}  // namespace tokenfs

#endif  // TOKENFS_CORE_RESULT_H_
