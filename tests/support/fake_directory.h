// FakeDirectory: an in-memory DirectoryClient for tests of the directory
// cache and of minting. It answers from maps the test fills, counts the
// calls, and can be switched "down" (every call fails as winbind's would
// when winbindd is not running).
//
// Thread-safety: none; tests call it from one thread.
#ifndef TOKENFS_TESTS_SUPPORT_FAKE_DIRECTORY_H_
#define TOKENFS_TESTS_SUPPORT_FAKE_DIRECTORY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/directory.h"

namespace tokenfs::test {

class FakeDirectory : public DirectoryClient {
 public:
  std::map<uint32_t, DirectoryUser> users;
  std::map<uint32_t, Sid> groups;
  std::optional<DirectoryDomain> domain;
  bool down = false;
  int user_calls = 0;
  int group_calls = 0;

  Result<std::optional<DirectoryUser>> LookupUser(uint32_t uid) override {
    ++user_calls;
    if (down) return NotRunning();
    auto it = users.find(uid);
    if (it == users.end()) return std::optional<DirectoryUser>();
    return std::optional<DirectoryUser>(it->second);
  }
  Result<std::vector<std::optional<Sid>>> MapGroups(
      std::span<const uint32_t> gids) override {
    ++group_calls;
    if (down) return NotRunning();
    std::vector<std::optional<Sid>> out;
    for (uint32_t gid : gids) {
      auto it = groups.find(gid);
      out.push_back(it == groups.end() ? std::nullopt
                                       : std::optional<Sid>(it->second));
    }
    return out;
  }
  Result<DirectoryDomain> Domain() override {
    if (down) return NotRunning();
    if (!domain) {
      return MakeError(ErrorCode::kFailedPrecondition, "no domain");
    }
    return *domain;
  }

 private:
  static tl::unexpected<Error> NotRunning() {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "winbind: wbcUidToSid: WBC_ERR_WINBIND_NOT_AVAILABLE");
  }
};

}  // namespace tokenfs::test

#endif  // TOKENFS_TESTS_SUPPORT_FAKE_DIRECTORY_H_
