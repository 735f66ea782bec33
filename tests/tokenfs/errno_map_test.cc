// ErrnoFor: every core ErrorCode becomes the errno the tree has always
// replied with for it (mount tests and users rely on these values).
#include "tokenfs/errno_map.h"

#include <catch2/catch.hpp>
#include <cerrno>
#include <map>

#include "tokenfs/fs_error.h"

namespace tokenfs {
namespace {

// The errno each code must reply, written out by hand.
const std::map<ErrorCode, int>& Expected() {
  static const std::map<ErrorCode, int> expected = {
      {ErrorCode::kInvalidArgument, EINVAL},
      {ErrorCode::kNotFound, ENOENT},
      {ErrorCode::kAccessDenied, EACCES},
      {ErrorCode::kPrivilegeNotHeld, EPERM},
      {ErrorCode::kAlreadyExists, EEXIST},
      {ErrorCode::kFailedPrecondition, EPERM},
      {ErrorCode::kResourceExhausted, EDQUOT},
      {ErrorCode::kInternal, EIO},
      {ErrorCode::kProcessGone, ESRCH},
      {ErrorCode::kNotPermitted, EPERM},
      {ErrorCode::kNotADirectory, ENOTDIR},
      {ErrorCode::kIsADirectory, EISDIR},
      {ErrorCode::kIsALink, ELOOP},
      {ErrorCode::kBadHandle, EBADF},
      {ErrorCode::kTooLarge, EFBIG},
      {ErrorCode::kBusy, EBUSY},
      {ErrorCode::kTooManyOpen, EMFILE},
      {ErrorCode::kOutOfMemory, ENOMEM},
  };
  return expected;
}

TEST_CASE("every error code replies its errno", "[daemon]") {
  for (const auto& [code, errno_value] : Expected()) {
    INFO("code " << static_cast<int>(code));
    CHECK(ErrnoFor(code) == errno_value);
  }
}

TEST_CASE("the table above names every error code", "[daemon]") {
  // kOutOfMemory is the last enumerator of ErrorCode; a code added after it
  // must be added here and to the table.
  const int last = static_cast<int>(ErrorCode::kOutOfMemory);
  CHECK(Expected().size() == static_cast<size_t>(last + 1));
  for (int value = 0; value <= last; ++value) {
    INFO("code " << value);
    CHECK(Expected().count(static_cast<ErrorCode>(value)) == 1);
  }
}

TEST_CASE("an FsError replies the errno of its code", "[daemon]") {
  CHECK(Fail(ErrorCode::kProcessGone, "gone").errno_value() == ESRCH);
  const Error core{ErrorCode::kNotFound, "no such process"};
  // A target the registry does not know has exited.
  CHECK(TargetError(core).errno_value() == ESRCH);
  CHECK(Refuse(core, "/tokens/42").errno_value() == ENOENT);
  CHECK(Refuse(core, "/tokens/42").reason == "/tokens/42: no such process");
}

}  // namespace
}  // namespace tokenfs
