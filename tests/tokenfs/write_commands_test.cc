// The write commands of the /tokens tree (the files that change state when
// written), driven through TokenFilesystem's handlers without FUSE: one
// accepted command shows its effect in the registry or in what the file
// reads back, and one refused command leaves state unchanged.
#include "core/token_spec_json.h"
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
  CHECK_FALSE(
      f.Write(kAlice, ProcessIno(100, Text(TokenFile::kGroups)), "5=enabled"));
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
  auto restricted = f.Write(
      kAlice, ProcessIno(100, Code(NodeCode::kRestrictFile)), mask, &result);
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
  const uint64_t file = ThreadIno(100, 101, Code(NodeCode::kImpersonateFile));
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

TEST_CASE("subtokens lists derived objects; revoking a parent revokes them",
          "[daemon]") {
  Fixture f;
  std::string result;
  REQUIRE(f.Write(kRoot, ProcessIno(1, Code(NodeCode::kDuplicateFile)), "",
                  &result));
  const uint64_t parent = IdIn(result);
  REQUIRE(f.Write(kRoot, ObjectIno(parent, Code(NodeCode::kRestrictFile)), "",
                  &result));
  const uint64_t child = IdIn(result);
  REQUIRE(f.Write(kRoot, ObjectIno(child, Code(NodeCode::kDuplicateFile)), "",
                  &result));
  const uint64_t grandchild = IdIn(result);
  const std::string listed =
      f.ReadFile(kRoot, ProcessIno(1, Code(NodeCode::kSubtokensFile)));
  CHECK(listed.find(std::to_string(parent) + "  duplicate\n") !=
        std::string::npos);
  CHECK(f.ReadFile(kRoot, ObjectIno(parent, Code(NodeCode::kSubtokensFile))) ==
        std::to_string(child) + "  restrict\n");
  REQUIRE(f.Write(kRoot, ObjectIno(parent, Code(NodeCode::kPersistFile)),
                  "revoke", &result));
  CHECK(result == "revoked\nsubtoken  " + std::to_string(child) +
                      "\nsubtoken  " + std::to_string(grandchild) + "\n");
  CHECK_FALSE(f.registry.FindObject(Luid{child}));
  CHECK_FALSE(f.registry.FindObject(Luid{grandchild}));
}

TEST_CASE("tags: add and remove, bad commands change nothing, gated",
          "[daemon]") {
  Fixture f;
  std::string result;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kDuplicateFile)), "",
                  &result));
  const uint64_t id = IdIn(result);
  const uint64_t tags = ObjectIno(id, Code(NodeCode::kTagsFile));
  REQUIRE(f.Write(kAlice, tags, "add Build", &result));
  CHECK(result == "build\n");
  REQUIRE(f.Write(kAlice, tags, "add ci\n", &result));
  CHECK(f.ReadFile(kAlice, tags) == "build\nci\n");
  CHECK(ErrnoOf(f.Write(kAlice, tags, "add a b")) == EINVAL);
  CHECK(ErrnoOf(f.Write(kAlice, tags, "tag x")) == EINVAL);
  REQUIRE(f.Write(kAlice, tags, "remove build", &result));
  CHECK(f.registry.ObjectDetails(Luid{id})->tags ==
        std::vector<std::string>{"ci"});
  // Another user: the object's DACL gives Bob nothing.
  CHECK(f.OpenErrno(kBob, tags, O_RDONLY) == EACCES);
  CHECK(f.OpenErrno(kBob, tags, O_WRONLY) == EACCES);
  // Process directories have no tags file.
  CHECK_FALSE(FindEntry(TokenDirectoryEntries(), "tags", Scope::kProcess));
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

namespace tokenfs::test {
namespace {

using Fixture = FilesystemFixture;

// Alice's token with one optional group (Everyone, enabled) and her Unix
// group, which she may make the owner.
void GiveGroups(Fixture& f) {
  f.EditPrimary(100, [](Token& token) {
    token.groups.push_back(
        {well_known::Everyone(),
         group_attributes::kEnabled | group_attributes::kEnabledByDefault});
    token.groups.push_back(
        {well_known::UnixGroup(1000), group_attributes::kEnabled |
                                          group_attributes::kEnabledByDefault |
                                          group_attributes::kOwner});
  });
}

// A restricted copy of Alice's token that drops nothing: unlike a
// duplicate, which grants its own user no DUPLICATE or ASSIGN_PRIMARY, a
// restricted token of one's own user may be used by that user.
uint64_t UsableCopy(Fixture& f) {
  std::string result;
  auto made = f.Write(kAlice, ProcessIno(100, Code(NodeCode::kRestrictFile)),
                      "", &result);
  if (!made) FAIL(made.error().reason);
  return IdIn(result);
}

TEST_CASE("groups: the owner disables an optional group", "[daemon]") {
  Fixture f;
  GiveGroups(f);
  const uint64_t groups = ProcessIno(100, Text(TokenFile::kGroups));
  CHECK(f.OpenErrno(kBob, groups, O_WRONLY) == EACCES);
  REQUIRE(f.Primary(100)->groups[0].attributes & group_attributes::kEnabled);
  std::string result;
  REQUIRE(f.Write(kAlice, groups, "0=disabled", &result));
  CHECK(result == "ok\n");
  CHECK_FALSE(f.Primary(100)->groups[0].attributes &
              group_attributes::kEnabled);
}

TEST_CASE("owner: a group the token may own becomes the owner", "[daemon]") {
  Fixture f;
  GiveGroups(f);
  const uint64_t owner = ProcessIno(100, Text(TokenFile::kOwner));
  // Everyone lacks the owner attribute: refused, nothing changes.
  CHECK_FALSE(f.Write(kAlice, owner, "S-1-1-0"));
  CHECK(f.Primary(100)->owner_index == 0);
  REQUIRE(f.Write(kAlice, owner, "S-1-22-2-1000"));
  CHECK(f.Primary(100)->owner_index == 2);
  CHECK(f.Primary(100)->Owner() == well_known::UnixGroup(1000));
}

TEST_CASE("group: a group of the token becomes the primary group", "[daemon]") {
  Fixture f;
  GiveGroups(f);
  const uint64_t group = ProcessIno(100, Text(TokenFile::kGroup));
  CHECK(f.OpenErrno(kBob, group, O_WRONLY) == EACCES);
  REQUIRE(f.Write(kAlice, group, "S-1-22-2-1000"));
  CHECK(f.Primary(100)->PrimaryGroup() == well_known::UnixGroup(1000));
}

TEST_CASE("session: SeTcb moves a token to another session", "[daemon]") {
  Fixture f;
  f.GivePrivilege(100, privilege::kTcb);
  const uint32_t session = f.Primary(100)->interactive_session_id;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kSession)),
                  std::to_string(session + 7)));
  CHECK(f.Primary(100)->interactive_session_id == session + 7);
}

TEST_CASE("security: the owner replaces the token's DACL", "[daemon]") {
  Fixture f;
  const uint64_t security = ProcessIno(100, Text(TokenFile::kSecurity));
  CHECK(f.OpenErrno(kBob, security, O_WRONLY) == EACCES);
  const uint64_t privs = ProcessIno(100, Text(TokenFile::kPrivs));
  f.Open(kAlice, privs, O_WRONLY);
  // Only reading is granted now: Alice can no longer adjust her privileges.
  REQUIRE(f.Write(kAlice, security, "D:(A;;GR;;;S-1-22-1-1000)"));
  CHECK(f.OpenErrno(kAlice, privs, O_WRONLY) == EACCES);
  f.Open(kAlice, privs, O_RDONLY);
}

TEST_CASE("restrict: another user may not restrict the token", "[daemon]") {
  Fixture f;
  const size_t objects = f.registry.ListObjects().size();
  CHECK(f.OpenErrno(kBob, ProcessIno(100, Code(NodeCode::kRestrictFile)),
                    O_RDWR) == EACCES);
  CHECK(ErrnoOf(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kRestrictFile)),
                        "drop-privs=nonsense")) == EINVAL);
  CHECK(f.registry.ListObjects().size() == objects);
}

TEST_CASE("persist: holder= hands the object to another process", "[daemon]") {
  Fixture f;
  const uint64_t id = f.Duplicate(kAlice, 100);
  const uint64_t persist = ObjectIno(id, Code(NodeCode::kPersistFile));
  // Alice may not inspect root's process 1: refused.
  CHECK(ErrnoOf(f.Write(kAlice, persist, "holder=pid:1")) == EACCES);
  std::string result;
  REQUIRE(f.Write(kAlice, persist, "holder=pid:100", &result));
  CHECK(result == "holder  pid:100\n");
  // Bob may not manage Alice's object.
  const uint64_t bobs = f.Open(kBob, persist, O_WRONLY);
  CHECK(ErrnoOf(f.fs.DoWrite(kBob, bobs, "yes")) == EACCES);
  CHECK(f.ReadFile(kAlice, persist) == "persist  no\n");
}

TEST_CASE("install: SeAssignPrimaryToken installs a duplicate", "[daemon]") {
  Fixture f;
  f.GivePrivilege(100, privilege::kAssignPrimaryToken);
  const uint64_t id = UsableCopy(f);
  const uint64_t install = ProcessIno(100, Code(NodeCode::kInstallFile));
  std::string result;
  auto installed =
      f.Write(kAlice, install, "id:" + std::to_string(id), &result);
  if (!installed) FAIL(installed.error().reason);
  CHECK(result.find("installed") != std::string::npos);
  CHECK(f.Primary(100)->token_id ==
        (*f.registry.FindObject(Luid{id}))->Get()->token_id);
  // The token is now process 100's primary: another process of Alice's
  // cannot share it (EBUSY) and keeps its own.
  f.facts.AddProcess(300, 1, 40, 1000);
  const Context alice_too{300, 1000, 1000};
  f.GivePrivilege(300, privilege::kAssignPrimaryToken);
  const auto before = f.Primary(300);
  CHECK(
      ErrnoOf(f.Write(alice_too, ProcessIno(300, Code(NodeCode::kInstallFile)),
                      "id:" + std::to_string(id))) == EBUSY);
  CHECK(f.Primary(300) == before);
}

TEST_CASE("create: SeCreateToken creates a token object from a spec",
          "[daemon]") {
  Fixture f;
  f.GivePrivilege(100, privilege::kCreateToken);
  const size_t objects = f.registry.ListObjects().size();
  CHECK(ErrnoOf(f.Write(kAlice, RootIno(NodeCode::kCreateFile), "{")) ==
        EINVAL);
  CHECK(f.registry.ListObjects().size() == objects);
  auto spec = TokenSpecJsonToBinary(
      R"({"version": 2, "type": "primary", "user": "S-1-22-1-4242",
          "session_id": "0x3e7"})");
  if (!spec) FAIL(spec.error().message);
  std::string result;
  auto created =
      f.Write(kAlice, RootIno(NodeCode::kCreateFile),
              std::string_view(reinterpret_cast<const char*>(spec->data()),
                               spec->size()),
              &result);
  if (!created) FAIL(created.error().reason);
  auto object = f.registry.FindObject(Luid{IdIn(result)});
  REQUIRE(object);
  CHECK((*object)->Get()->user == well_known::UnixUser(4242));
  CHECK(f.registry.ListObjects().size() == objects + 1);
}

TEST_CASE("link: SeTcb links two tokens; the filtered one shows linked",
          "[daemon]") {
  Fixture f;
  f.GivePrivilege(100, privilege::kTcb);
  const uint64_t elevated = UsableCopy(f);
  const uint64_t filtered = UsableCopy(f);
  const Luid session = f.Primary(100)->auth_id;
  char command[160];
  std::snprintf(command, sizeof command,
                "elevated=id:%llu filtered=id:%llu session=0x%llx",
                static_cast<unsigned long long>(elevated),
                static_cast<unsigned long long>(filtered),
                static_cast<unsigned long long>(session.value));
  std::string result;
  auto linked = f.Write(kAlice, RootIno(NodeCode::kLinkFile), command, &result);
  if (!linked) FAIL(linked.error().reason);
  CHECK(result == "linked\n");
  auto elevated_object = f.registry.FindObject(Luid{elevated});
  auto filtered_object = f.registry.FindObject(Luid{filtered});
  REQUIRE(elevated_object);
  REQUIRE(filtered_object);
  CHECK((*elevated_object)->Get()->elevation_type == ElevationType::kFull);
  CHECK((*filtered_object)->Get()->elevation_type == ElevationType::kLimited);
  CHECK(f.Listed(f.List(kAlice, ObjectIno(filtered)), "linked"));
  // With SeTcb, `linked` names the partner itself.
  auto link =
      f.fs.DoReadlink(kAlice, ObjectIno(filtered, Code(NodeCode::kLinkedLink)));
  REQUIRE(link);
  CHECK(std::get<Fs::LinkReply>(*link).target ==
        "../" + std::to_string(elevated));
  // Bob may not read Alice's linked token.
  CHECK(ErrnoOf(f.fs.DoReadlink(
            kBob, ObjectIno(filtered, Code(NodeCode::kLinkedLink)))) == EACCES);

  // Without SeTcb every read of `linked` is a new Identification-level copy
  // (Windows returns a new token object for each TokenLinkedToken query).
  f.EditPrimary(100, [](Token& token) {
    token.privileges.enabled &= ~privilege::Bit(privilege::kTcb);
  });
  std::vector<std::string> targets;
  for (int i = 0; i < 3; ++i) {
    auto copy = f.fs.DoReadlink(
        kAlice, ObjectIno(filtered, Code(NodeCode::kLinkedLink)));
    REQUIRE(copy);
    targets.push_back(std::get<Fs::LinkReply>(*copy).target);
  }
  CHECK(targets[0] != targets[1]);
  CHECK(targets[1] != targets[2]);
  for (const std::string& target : targets) {
    REQUIRE(target.rfind("../", 0) == 0);
    CHECK(target != "../" + std::to_string(elevated));
  }
  // The latest copy is an Identification-level copy of the Full partner;
  // the process keeps its two latest copies and the oldest left the object
  // table, so reading the link in a loop does not grow it.
  CHECK(f.registry.FindObject(Luid{std::stoull(targets[1].substr(3))}));
  auto object = f.registry.FindObject(Luid{std::stoull(targets[2].substr(3))});
  REQUIRE(object);
  CHECK((*object)->Get()->impersonation_level ==
        ImpersonationLevel::kIdentification);
  CHECK((*object)->Get()->elevation_type == ElevationType::kFull);
  CHECK_FALSE(f.registry.FindObject(Luid{std::stoull(targets[0].substr(3))}));
}

}  // namespace
}  // namespace tokenfs::test
