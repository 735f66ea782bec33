// The write commands of the /tokens tree (the files that change state when
// written), driven through TokenFilesystem's handlers without FUSE: one
// accepted command shows its effect in the registry or in what the file
// reads back, and one refused command leaves state unchanged.
#include "core/well_known_sids.h"
#include "tests/tokenfs/filesystem_fixture.h"

namespace tokenfs::test {
namespace {

using Fixture = FilesystemFixture;

uint64_t Privs(int32_t pid) { return ProcessIno(pid, Text(TokenFile::kPrivs)); }

TEST_CASE("privs: the owner disables a privilege; another user cannot",
          "[daemon]") {
  Fixture f;
  CHECK(ErrnoOf(f.Write(kAlice, Privs(100), "SeNoSuchThing=enabled")) ==
        EINVAL);
  REQUIRE(f.Primary(100)->privileges.IsEnabled(privilege::kChangeNotify));
  CHECK(f.OpenErrno(kBob, Privs(100), O_WRONLY) == EACCES);
  CHECK(f.Primary(100)->privileges.IsEnabled(privilege::kChangeNotify));
  std::string result;
  REQUIRE(f.Write(kAlice, Privs(100), "SeChangeNotify=disabled", &result));
  CHECK(result == "ok\n");
  CHECK_FALSE(f.Primary(100)->privileges.IsEnabled(privilege::kChangeNotify));
}

TEST_CASE("groups: a malformed command is refused and changes nothing",
          "[daemon]") {
  Fixture f;
  const auto before = f.Primary(100)->groups;
  CHECK(ErrnoOf(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kGroups)),
                        "0=sideways")) == EINVAL);
  CHECK(f.Primary(100)->groups.size() == before.size());
  // A token without groups has no group 5 to enable.
  CHECK_FALSE(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kGroups)),
                      "5=enabled"));
}

TEST_CASE("integrity: lowering is allowed, raising is not", "[daemon]") {
  Fixture f;
  const uint64_t integrity = ProcessIno(100, Text(TokenFile::kIntegrity));
  REQUIRE(f.Write(kAlice, integrity, "low"));
  CHECK(f.Primary(100)->integrity_rid == kIntegrityLow);
  CHECK_FALSE(f.Write(kAlice, integrity, "system"));
  CHECK(f.Primary(100)->integrity_rid == kIntegrityLow);
}

TEST_CASE("default-dacl: a valid DACL replaces it, a broken one is refused",
          "[daemon]") {
  Fixture f;
  const uint64_t dacl = ProcessIno(100, Text(TokenFile::kDefaultDacl));
  CHECK(ErrnoOf(f.Write(kAlice, dacl, "D:(A;;GA;;;SY")) == EINVAL);
  REQUIRE(f.Write(kAlice, dacl, "D:(A;;GA;;;SY)(A;;GR;;;WD)"));
  const std::string text = f.ReadFile(kAlice, dacl);
  CHECK(text.find("(A;;GR;;;WD)") != std::string::npos);  // as written
}

TEST_CASE("owner and group: a SID the token lacks is refused", "[daemon]") {
  Fixture f;
  const Sid owner = f.Primary(100)->user;
  CHECK_FALSE(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kOwner)), "BA"));
  CHECK_FALSE(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kGroup)), "BA"));
  CHECK(f.Primary(100)->user == owner);
}

TEST_CASE("session: an unprivileged caller cannot move a token", "[daemon]") {
  Fixture f;
  const uint32_t session = f.Primary(100)->interactive_session_id;
  CHECK_FALSE(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kSession)),
                      std::to_string(session + 7)));
  CHECK(f.Primary(100)->interactive_session_id == session);
  CHECK(ErrnoOf(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kSession)),
                        "4294967296")) == EINVAL);
}

TEST_CASE("security: an empty command is refused", "[daemon]") {
  Fixture f;
  CHECK(ErrnoOf(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kSecurity)),
                        "  ")) == EINVAL);
}

TEST_CASE("duplicate: makes an object the caller can read", "[daemon]") {
  Fixture f;
  std::string result;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kDuplicateFile)),
                  "type=impersonation", &result));
  const uint64_t id = IdIn(result);
  auto object = f.registry.FindObject(Luid{id});
  REQUIRE(object);
  CHECK((*object)->Get()->type == TokenType::kImpersonation);
  CHECK((*object)->Get()->user == f.Primary(100)->user);
  CHECK(f.OpenErrno(kBob, ProcessIno(100, Code(NodeCode::kDuplicateFile)),
                    O_RDWR) == EACCES);
}

TEST_CASE("restrict: the restricted copy lacks the dropped privilege",
          "[daemon]") {
  Fixture f;
  std::string result;
  char mask[64];
  std::snprintf(mask, sizeof mask, "drop-privs=0x%llx",
                static_cast<unsigned long long>(
                    privilege::Bit(privilege::kChangeNotify)));
  auto restricted = f.Write(kAlice, ProcessIno(100, Code(NodeCode::kRestrictFile)),
                            mask, &result);
  if (!restricted) FAIL(restricted.error().reason);
  auto object = f.registry.FindObject(Luid{IdIn(result)});
  REQUIRE(object);
  CHECK_FALSE((*object)->Get()->privileges.IsEnabled(privilege::kChangeNotify));
  CHECK(f.Primary(100)->privileges.IsEnabled(privilege::kChangeNotify));
}

TEST_CASE("access: answers an access check against the token", "[daemon]") {
  Fixture f;
  std::string result;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kAccessFile)),
                  "desired=GR sd=O:SYG:SYD:(A;;GA;;;SY)", &result));
  // Only SYSTEM is allowed; the token is Unix user 1000.
  CHECK(result.find("status") != std::string::npos);
  CHECK(result.find("granted  0x0") != std::string::npos);
  CHECK(ErrnoOf(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kAccessFile)),
                        "desired=nonsense=1")) == EINVAL);
}

TEST_CASE("impersonate: a thread impersonates its own process and reverts",
          "[daemon]") {
  Fixture f;
  const Context thread{101, 1000, 1000};
  const uint64_t file =
      ThreadIno(100, 101, Code(NodeCode::kImpersonateFile));
  std::string result;
  REQUIRE(f.Write(thread, file, "pid:100", &result));
  CHECK(result.find("impersonating") != std::string::npos);
  auto impersonating = f.registry.Thread(100, 101);
  REQUIRE(impersonating);
  CHECK(impersonating->effective() != impersonating->primary);
  REQUIRE(f.Write(thread, file, "revert"));
  auto reverted = f.registry.Thread(100, 101);
  REQUIRE(reverted);
  CHECK(reverted->effective() == reverted->primary);
  // Another user's process cannot be made to impersonate.
  CHECK(f.OpenErrno(kBob, file, O_WRONLY) == EACCES);
}

TEST_CASE("persist: the creator keeps an object; another user cannot",
          "[daemon]") {
  Fixture f;
  std::string result;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kDuplicateFile)), "",
                  &result));
  const uint64_t id = IdIn(result);
  const uint64_t persist = ObjectIno(id, Code(NodeCode::kPersistFile));
  CHECK(ErrnoOf(f.Write(kAlice, persist, "maybe")) == EINVAL);
  REQUIRE(f.Write(kAlice, persist, "yes"));
  CHECK(f.ReadFile(kAlice, persist) == "persist  yes\n");
  REQUIRE(f.Write(kAlice, persist, "revoke"));
  CHECK_FALSE(f.registry.FindObject(Luid{id}));
}

TEST_CASE("install: needs SeAssignPrimaryToken", "[daemon]") {
  Fixture f;
  std::string result;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kDuplicateFile)), "",
                  &result));
  const auto before = f.Primary(100);
  CHECK(ErrnoOf(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kInstallFile)),
                        "id:" + std::to_string(IdIn(result)))) == EPERM);
  CHECK(f.Primary(100) == before);
}

TEST_CASE("create: needs SeCreateToken; nothing is created without it",
          "[daemon]") {
  Fixture f;
  const size_t objects = f.registry.ListObjects().size();
  CHECK(ErrnoOf(f.Write(kAlice, RootIno(NodeCode::kCreateFile), "{}")) ==
        EPERM);
  CHECK(f.registry.ListObjects().size() == objects);
}

TEST_CASE("link: refused without the link right, no roles recorded",
          "[daemon]") {
  Fixture f;
  CHECK(ErrnoOf(f.Write(kAlice, RootIno(NodeCode::kLinkFile),
                        "elevated=id:5 session=1")) == EINVAL);
  CHECK_FALSE(f.Write(kBob, RootIno(NodeCode::kLinkFile),
                      "elevated=pid:100 filtered=pid:200 session=0x3e7"));
  CHECK(f.Primary(100)->elevation_type == f.Primary(200)->elevation_type);
}

}  // namespace
}  // namespace tokenfs::test
