#include "tests/support/test_support.h"

#include <utility>

namespace tokenfs::test {

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& part : parts)
    out.insert(out.end(), part.begin(), part.end());
  return out;
}

Ace MakeAce(AceType type, uint32_t mask, const Sid& sid, uint8_t flags) {
  Ace ace;
  ace.type = type;
  ace.flags = flags;
  ace.mask = AccessMask(mask);
  ace.sid = sid;
  return ace;
}

FakeAccounts::FakeAccounts(std::map<uint32_t, std::string> users_by_uid,
                           std::map<uint32_t, std::string> groups_by_gid)
    : users(std::move(users_by_uid)), groups(std::move(groups_by_gid)) {}

std::optional<std::string> FakeAccounts::UserName(uint32_t uid) const {
  ++user_calls;
  auto it = users.find(uid);
  if (it == users.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> FakeAccounts::GroupName(uint32_t gid) const {
  ++group_calls;
  auto it = groups.find(gid);
  if (it == groups.end()) return std::nullopt;
  return it->second;
}

LinuxCredentials RootCredentials(uint64_t capabilities) {
  LinuxCredentials credentials;
  credentials.cap_permitted = capabilities;
  credentials.cap_effective = capabilities;
  credentials.cap_bounding = capabilities;
  return credentials;
}

LinuxCredentials AliceCredentials() {
  LinuxCredentials credentials;
  credentials.real_uid = credentials.effective_uid = credentials.saved_uid =
      credentials.fs_uid = 1000;
  credentials.real_gid = credentials.effective_gid = credentials.saved_gid =
      credentials.fs_gid = 1000;
  credentials.supplementary_gids = {100, 1000};
  credentials.cap_bounding = kFullCapabilities;
  credentials.audit_session_id = 42;
  return credentials;
}

}  // namespace tokenfs::test
