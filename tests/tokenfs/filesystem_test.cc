// TokenFilesystem's handlers driven without FUSE, root or /proc: a real core
// Registry over an in-memory process table; each handler is called with a
// caller (pid, uid, gid) and its reply value is inspected.
#include "tokenfs/filesystem.h"

#include <poll.h>

#include "tests/tokenfs/filesystem_fixture.h"

namespace tokenfs::test {
namespace {

using Fixture = FilesystemFixture;

// --- Handlers ---

TEST_CASE("lookup finds root entries and live pids, not unknown names",
          "[daemon]") {
  Fixture f;
  auto self = f.fs.DoLookup(kAlice, FUSE_ROOT_ID, "self");
  REQUIRE(self);
  CHECK(S_ISLNK(std::get<Fs::EntryReply>(*self).entry.attr.st_mode));
  auto process = f.fs.DoLookup(kAlice, FUSE_ROOT_ID, "100");
  REQUIRE(process);
  const auto& entry = std::get<Fs::EntryReply>(*process).entry;
  CHECK(S_ISDIR(entry.attr.st_mode));
  CHECK(entry.attr.st_uid == 1000);
  CHECK(ErrnoOf(f.fs.DoLookup(kAlice, FUSE_ROOT_ID, "nosuch")) == ENOENT);
  CHECK(ErrnoOf(f.fs.DoLookup(kAlice, FUSE_ROOT_ID, "4242")) == ENOENT);
  CHECK(ErrnoOf(f.fs.DoLookup(kAlice, ProcessIno(100, Text(TokenFile::kUser)),
                              "x")) == ENOTDIR);
  CHECK(f.events.syncs > 0);
}

TEST_CASE("lookup takes a pid in one decimal spelling only", "[daemon]") {
  Fixture f;
  REQUIRE(f.fs.DoLookup(kAlice, FUSE_ROOT_ID, "100"));
  for (const char* name : {"0100", "+100", "0x64", " 100", "100 ", "", "-1",
                           "99999999999999999999999"}) {
    INFO(name);
    CHECK(ErrnoOf(f.fs.DoLookup(kAlice, FUSE_ROOT_ID, name)) == ENOENT);
  }
  REQUIRE(f.fs.DoLookup(kAlice, ProcessIno(100), "101"));
  CHECK(ErrnoOf(f.fs.DoLookup(kAlice, ProcessIno(100), "0101")) == ENOENT);
}

TEST_CASE("getattr gives the owner of a process's files, ENOENT when gone",
          "[daemon]") {
  Fixture f;
  auto attr = f.fs.DoGetattr(kBob, ProcessIno(100, Text(TokenFile::kPrivs)));
  REQUIRE(attr);
  const struct stat& st = std::get<Fs::AttrReply>(*attr).attr;
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 0200) != 0);  // privs is writable
  CHECK(st.st_uid == 1000);
  auto user = f.fs.DoGetattr(kBob, ProcessIno(100, Text(TokenFile::kUser)));
  REQUIRE(user);
  CHECK((std::get<Fs::AttrReply>(*user).attr.st_mode & 0222) == 0);
  f.facts.tasks.erase(200);
  CHECK(ErrnoOf(f.fs.DoGetattr(kAlice, ProcessIno(200))) == ENOENT);
}

TEST_CASE("setattr accepts only a truncation to 0 of a writable file",
          "[daemon]") {
  Fixture f;
  struct stat wanted {};
  const uint64_t privs = ProcessIno(100, Text(TokenFile::kPrivs));
  CHECK(f.fs.DoSetattr(kAlice, privs, wanted, FUSE_SET_ATTR_SIZE, false));
  wanted.st_size = 5;
  CHECK(ErrnoOf(f.fs.DoSetattr(kAlice, privs, wanted, FUSE_SET_ATTR_SIZE,
                               false)) == EINVAL);
  wanted.st_size = 0;
  CHECK(ErrnoOf(f.fs.DoSetattr(kAlice, privs, wanted, FUSE_SET_ATTR_MODE,
                               false)) == EPERM);
  CHECK(ErrnoOf(f.fs.DoSetattr(kAlice, ProcessIno(100, Text(TokenFile::kUser)),
                               wanted, FUSE_SET_ATTR_SIZE, false)) == EPERM);
}

TEST_CASE("setattr by path is authorized like an open for writing",
          "[daemon]") {
  Fixture f;
  struct stat wanted {};
  const uint64_t privs = ProcessIno(100, Text(TokenFile::kPrivs));
  // truncate(2) of another user's token file: refused as its open would be.
  CHECK(ErrnoOf(f.fs.DoSetattr(kBob, privs, wanted, FUSE_SET_ATTR_SIZE,
                               false)) == EACCES);
  // Through a handle (ftruncate) the open was already authorized.
  auto truncated =
      f.fs.DoSetattr(kAlice, privs, wanted, FUSE_SET_ATTR_SIZE, true);
  REQUIRE(truncated);
  CHECK(std::get<Fs::AttrReply>(*truncated).attr.st_uid == 1000);
}

TEST_CASE("linked exists only while a token has a partner", "[daemon]") {
  Fixture f;
  CHECK(ErrnoOf(f.fs.DoLookup(kAlice, ProcessIno(100), "linked")) == ENOENT);
  CHECK(ErrnoOf(f.fs.DoReadlink(
            kAlice, ProcessIno(100, Code(NodeCode::kLinkedLink)))) == ENOENT);
}

TEST_CASE("readlink of self names the caller's own thread", "[daemon]") {
  Fixture f;
  auto link = f.fs.DoReadlink(kAlice, RootIno(NodeCode::kSelfLink));
  REQUIRE(link);
  CHECK(std::get<Fs::LinkReply>(*link).target == "100/100");
  const Context thread{101, 1000, 1000};
  auto from_thread = f.fs.DoReadlink(thread, RootIno(NodeCode::kSelfLink));
  REQUIRE(from_thread);
  CHECK(std::get<Fs::LinkReply>(*from_thread).target == "100/101");
  CHECK(ErrnoOf(f.fs.DoReadlink(
            kAlice, ProcessIno(100, Text(TokenFile::kUser)))) == EINVAL);
  // A caller the registry cannot identify is refused.
  CHECK(ErrnoOf(f.fs.DoReadlink(Context{4242, 1000, 1000},
                                RootIno(NodeCode::kSelfLink))) == EACCES);
}

TEST_CASE("open refuses directories, links and writing read-only files",
          "[daemon]") {
  Fixture f;
  CHECK(f.OpenErrno(kAlice, ProcessIno(100), O_RDONLY) == EISDIR);
  CHECK(f.OpenErrno(kAlice, RootIno(NodeCode::kSelfLink), O_RDONLY) == ELOOP);
  CHECK(f.OpenErrno(kAlice, ProcessIno(100, Text(TokenFile::kUser)),
                    O_WRONLY) == EACCES);
  CHECK(f.OpenErrno(kAlice, ProcessIno(4242, Text(TokenFile::kUser)),
                    O_RDONLY) == ESRCH);
  f.Open(kAlice, ProcessIno(100, Text(TokenFile::kUser)), O_RDONLY);
}

TEST_CASE("open refuses another user's token to an unprivileged caller",
          "[daemon]") {
  Fixture f;
  CHECK(f.OpenErrno(kBob, ProcessIno(100, Text(TokenFile::kPrivs)), O_RDONLY) ==
        EACCES);
  // Root (SeDebug through CAP_SYS_PTRACE) may read it.
  f.Open(kRoot, ProcessIno(100, Text(TokenFile::kPrivs)), O_RDONLY);
}

TEST_CASE("read shows the token's user and follows the offset", "[daemon]") {
  Fixture f;
  const uint64_t handle =
      f.Open(kAlice, ProcessIno(100, Text(TokenFile::kUser)), O_RDONLY);
  const std::string text = f.Read(handle);
  CHECK(text.find("S-1-22-1-1000") != std::string::npos);
  CHECK(f.Read(handle, static_cast<off_t>(text.size())).empty());
  CHECK(f.Read(handle, 2) == text.substr(2));
  // A handle opened for writing only cannot be read.
  const uint64_t write_only =
      f.Open(kAlice, ProcessIno(100, Text(TokenFile::kPrivs)), O_WRONLY);
  CHECK(ErrnoOf(f.fs.DoRead(write_only, 10, 0)) == EBADF);
}

TEST_CASE("registry file counts the processes it knows", "[daemon]") {
  Fixture f;
  (void)f.Primary(100);
  const std::string text = f.ReadFile(kAlice, RootIno(NodeCode::kRegistryFile));
  CHECK(text.find("processes") != std::string::npos);
  CHECK(text.find("requests") != std::string::npos);
}

TEST_CASE("write through a descriptor opened by another identity is refused",
          "[daemon]") {
  Fixture f;
  const uint64_t handle =
      f.Open(kAlice, ProcessIno(100, Text(TokenFile::kPrivs)), O_WRONLY);
  CHECK(ErrnoOf(f.fs.DoWrite(kBob, handle, "SeChangeNotify=disabled")) ==
        EPERM);
  CHECK(f.Primary(100)->privileges.IsEnabled(privilege::kChangeNotify));
  const uint64_t read_only =
      f.Open(kAlice, ProcessIno(100, Text(TokenFile::kUser)), O_RDONLY);
  CHECK(ErrnoOf(f.fs.DoWrite(kAlice, read_only, "x")) == EBADF);
  CHECK(ErrnoOf(f.fs.DoWrite(kAlice, handle,
                             std::string(kMaxCommandSize + 1, 'x'))) == EFBIG);
}

TEST_CASE("flush succeeds; release frees the handle", "[daemon]") {
  Fixture f;
  auto flushed = f.fs.DoFlush();
  REQUIRE(flushed);
  CHECK(std::holds_alternative<Fs::NoneReply>(*flushed));
  auto opened =
      f.fs.DoOpen(kAlice, ProcessIno(100, Text(TokenFile::kUser)), O_RDONLY);
  REQUIRE(opened);
  const auto handle = reinterpret_cast<uint64_t>(
      std::get<Fs::OpenReply>(*opened).file.release());
  auto released = f.fs.DoRelease(handle);
  REQUIRE(released);
  CHECK_FALSE(std::get<Fs::ReleaseReply>(*released).release_objects);
}

TEST_CASE("release of an object's file releases an unused object", "[daemon]") {
  Fixture f;
  std::string result;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kDuplicateFile)), "",
                  &result));
  const uint64_t id = IdIn(result);
  REQUIRE(f.registry.FindObject(Luid{id}));
  auto opened =
      f.fs.DoOpen(kAlice, ObjectIno(id, Text(TokenFile::kUser)), O_RDONLY);
  REQUIRE(opened);
  const auto handle = reinterpret_cast<uint64_t>(
      std::get<Fs::OpenReply>(*opened).file.release());
  auto released = f.fs.DoRelease(handle);
  REQUIRE(released);
  CHECK(std::get<Fs::ReleaseReply>(*released).release_objects);
  f.fs.ReleaseUnusedObjects();  // must not throw or crash
}

TEST_CASE("opendir and readdir list the root, pids and a process's threads",
          "[daemon]") {
  Fixture f;
  const auto root = f.List(kAlice, FUSE_ROOT_ID);
  for (const char* name : {".", "..", "self", "objects", "create", "link",
                           "registry", "peer", "1", "100", "200"}) {
    CHECK(f.Listed(root, name));
  }
  CHECK_FALSE(f.Listed(root, "101"));  // a thread is not a process
  const auto process = f.List(kAlice, ProcessIno(100));
  CHECK(f.Listed(process, "privs"));
  CHECK(f.Listed(process, "101"));
  CHECK(f.Listed(process, "install"));
  CHECK_FALSE(f.Listed(process, "impersonate"));  // threads only
  CHECK_FALSE(f.Listed(process, "linked"));       // no partner
  CHECK(ErrnoOf(f.fs.DoOpendir(
            kAlice, ProcessIno(100, Text(TokenFile::kUser)))) == ENOTDIR);
}

TEST_CASE("readdir continues from its offset", "[daemon]") {
  Fixture f;
  auto opened = f.fs.DoOpendir(kAlice, FUSE_ROOT_ID);
  REQUIRE(opened);
  auto& reply = std::get<Fs::OpendirReply>(*opened);
  const auto handle = reinterpret_cast<uint64_t>(reply.directory.get());
  auto rest = f.fs.DoReaddir(handle, 4096, 2);
  REQUIRE(rest);
  const auto& directory = std::get<Fs::DirectoryReply>(*rest);
  REQUIRE_FALSE(directory.entries.empty());
  CHECK(directory.entries[0].name != ".");
  CHECK(directory.entries[0].name != "..");
  auto past = f.fs.DoReaddir(handle, 4096, 1000);
  REQUIRE(past);
  CHECK(std::get<Fs::DirectoryReply>(*past).entries.empty());
  (void)reply.directory.release();
  auto released = f.fs.DoReleasedir(handle);
  CHECK(released);
}

TEST_CASE("access checks existence, execute and the write right", "[daemon]") {
  Fixture f;
  const uint64_t user = ProcessIno(100, Text(TokenFile::kUser));
  CHECK(f.fs.DoAccess(kAlice, user, F_OK));
  CHECK(f.fs.DoAccess(kAlice, user, R_OK));
  CHECK(ErrnoOf(f.fs.DoAccess(kAlice, user, X_OK)) == EACCES);
  CHECK(ErrnoOf(f.fs.DoAccess(kAlice, user, W_OK)) == EACCES);
  CHECK(f.fs.DoAccess(kAlice, ProcessIno(100), X_OK));
  CHECK(ErrnoOf(f.fs.DoAccess(kBob, ProcessIno(100, Text(TokenFile::kPrivs)),
                              R_OK)) == EACCES);
  CHECK(ErrnoOf(f.fs.DoAccess(kAlice, ProcessIno(4242), F_OK)) == ENOENT);
}

TEST_CASE("rmdir removes only token objects", "[daemon]") {
  Fixture f;
  CHECK(ErrnoOf(f.fs.DoRmdir(kAlice, FUSE_ROOT_ID, "100")) == EPERM);
  CHECK(ErrnoOf(f.fs.DoRmdir(kAlice, RootIno(NodeCode::kObjectsDir), "999")) ==
        ENOENT);
  std::string result;
  REQUIRE(f.Write(kAlice, ProcessIno(100, Code(NodeCode::kDuplicateFile)),
                  "persist", &result));
  const std::string id = std::to_string(IdIn(result));
  REQUIRE(f.registry.FindObject(Luid{std::stoull(id)}));
  CHECK(ErrnoOf(f.fs.DoRmdir(kBob, RootIno(NodeCode::kObjectsDir), id)) ==
        EACCES);
  REQUIRE(f.fs.DoRmdir(kAlice, RootIno(NodeCode::kObjectsDir), id));
  CHECK_FALSE(f.registry.FindObject(Luid{std::stoull(id)}));
}

}  // namespace
unsigned PollEvents(Fixture& f, uint64_t handle) {
  auto outcome = f.fs.DoPoll(handle, nullptr);
  REQUIRE(outcome);
  return std::get<Fs::PollReply>(*outcome).revents;
}

TEST_CASE("an open token file has news once its token changes, not on reads",
          "[daemon]") {
  Fixture f;
  const uint64_t privs =
      f.Open(kAlice, ProcessIno(100, Text(TokenFile::kPrivs)), O_RDONLY);
  const uint64_t history =
      f.Open(kAlice, ProcessIno(100, Code(NodeCode::kHistoryFile)), O_RDONLY);
  CHECK(PollEvents(f, privs) == 0);
  (void)f.ReadFile(kAlice, ProcessIno(100, Text(TokenFile::kGroups)));
  (void)f.Read(privs);
  CHECK(PollEvents(f, privs) == 0);
  CHECK(PollEvents(f, history) == 0);
  REQUIRE(f.Write(kAlice, ProcessIno(100, Text(TokenFile::kPrivs)),
                  "SeChangeNotify=disabled"));
  CHECK(PollEvents(f, privs) == (POLLIN | POLLPRI | POLLRDNORM));
  CHECK(PollEvents(f, history) == (POLLIN | POLLPRI | POLLRDNORM));
  // Read again from the start, history shows the adjustment by its actor.
  const std::string text = f.Read(history);
  CHECK(text.find("\"event\":\"adjusted\"") != std::string::npos);
  CHECK(text.find("\"actor_pid\":100") != std::string::npos);
  CHECK(text.find("\"file\":\"privs\"") != std::string::npos);
}

TEST_CASE("a write that changes nothing adds no history event", "[daemon]") {
  Fixture f;
  const uint64_t privs_ino = ProcessIno(100, Text(TokenFile::kPrivs));
  const uint64_t history_ino = ProcessIno(100, Code(NodeCode::kHistoryFile));
  REQUIRE(f.Write(kAlice, privs_ino, "SeChangeNotify=disabled"));
  const std::string once = f.ReadFile(kAlice, history_ino);
  REQUIRE(f.Write(kAlice, privs_ino, "SeChangeNotify=disabled"));
  CHECK(f.ReadFile(kAlice, history_ino) == once);
  REQUIRE(f.Write(kAlice, privs_ino, "SeChangeNotify=enabled"));
  CHECK(f.ReadFile(kAlice, history_ino).size() > once.size());
}

TEST_CASE("history needs tokeninfo:history; watching another token notify",
          "[daemon]") {
  Fixture f;
  const uint64_t id = f.Duplicate(kAlice, 100);
  f.EditPrimary(100, [](Token& token) {
    token.capabilities = {*MakeCapability("tokeninfo:introspect"),
                          *MakeCapability("manage_mytokens:list")};
  });
  CHECK(f.OpenErrno(kAlice, ProcessIno(100, Code(NodeCode::kHistoryFile)),
                    O_RDONLY) == EACCES);
  // The refusal is in the token's history.
  f.EditPrimary(100, [](Token& token) {
    token.capabilities.push_back(*MakeCapability("tokeninfo:history"));
  });
  const std::string text = f.ReadFile(
      kAlice, ProcessIno(100, Code(NodeCode::kHistoryFile)));
  CHECK(text.find("\"event\":\"denied\"") != std::string::npos);
  CHECK(text.find("tokeninfo:history") != std::string::npos);
  // Its own token may be watched; another one of the same user not.
  const uint64_t own =
      f.Open(kAlice, ProcessIno(100, Text(TokenFile::kUser)), O_RDONLY);
  CHECK(PollEvents(f, own) == 0);
  const uint64_t other =
      f.Open(kAlice, ObjectIno(id, Text(TokenFile::kUser)), O_RDONLY);
  CHECK(ErrnoOf(f.fs.DoPoll(other, nullptr)) == EACCES);
}

// --- The page cache ---

namespace {

// A kernel that drops attributes when asked (or refuses, like one without
// inode notifications), counting the requests.
struct FakeKernelCache : KernelCacheInterface {
  bool InvalidateAttributes(uint64_t) override {
    ++invalidations;
    return accept;
  }
  bool accept = true;
  int invalidations = 0;
};

off_t SizeOf(Fixture& f, uint64_t inode, uint64_t handle = 0) {
  auto outcome = f.fs.DoGetattr(kAlice, inode, handle);
  REQUIRE(outcome);
  auto* reply = std::get_if<Fs::AttrReply>(&*outcome);
  REQUIRE(reply);
  return reply->attr.st_size;
}

}  // namespace

TEST_CASE("lookup and getattr give a token file's exact size", "[daemon]") {
  Fixture f;
  for (uint64_t inode : {ProcessIno(100, Text(TokenFile::kPrivs)),
                         ProcessIno(100, Code(NodeCode::kQueryAllFile))}) {
    const std::string content = f.ReadFile(kAlice, inode);
    CHECK(SizeOf(f, inode) == static_cast<off_t>(content.size()));
  }
  auto looked_up = f.fs.DoLookup(kAlice, ProcessIno(100), "privs");
  REQUIRE(looked_up);
  const auto& entry = std::get<Fs::EntryReply>(*looked_up).entry;
  CHECK(entry.attr.st_size ==
        static_cast<off_t>(
            f.ReadFile(kAlice, ProcessIno(100, Text(TokenFile::kPrivs)))
                .size()));
  // Per-open files keep size 0.
  CHECK(SizeOf(f, ProcessIno(100, Code(NodeCode::kHistoryFile))) == 0);
  CHECK(SizeOf(f, RootIno(NodeCode::kRegistryFile)) == 0);
}

TEST_CASE("a read-only open of a token file is page-cached: cold, then warm "
          "once a read showed the open complete",
          "[daemon]") {
  FakeKernelCache kernel;
  Fs::Options options;
  options.kernel_cache = &kernel;
  Fixture f(options);
  const uint64_t privs = ProcessIno(100, Text(TokenFile::kPrivs));
  const uint64_t first = f.Open(kAlice, privs, O_RDONLY);
  CHECK(kernel.invalidations == 1);  // cold: the cached size is dropped
  CHECK(f.fs.page_cache().handles() == 1);
  (void)f.Read(first);
  const uint64_t second = f.Open(kAlice, privs, O_RDONLY);
  CHECK(kernel.invalidations == 1);  // warm
  // Writers and files with per-open content are never page-cached.
  (void)f.Open(kAlice, privs, O_RDWR);
  (void)f.Open(kAlice, ProcessIno(100, Code(NodeCode::kHistoryFile)),
               O_RDONLY);
  CHECK(f.fs.page_cache().handles() == 2);
  CHECK(kernel.invalidations == 1);
  for (uint64_t handle : {first, second}) {
    (void)f.fs.DoRelease(handle);
    std::erase(f.open_files, handle);
  }
  CHECK(f.fs.page_cache().handles() == 0);
  // A change makes the next open cold again.
  REQUIRE(f.Write(kAlice, privs, "SeChangeNotify=disabled"));
  (void)f.Open(kAlice, privs, O_RDONLY);
  CHECK(kernel.invalidations == 2);
}

TEST_CASE("an open falls back to direct I/O when the kernel cannot drop "
          "the cached size",
          "[daemon]") {
  FakeKernelCache kernel;
  kernel.accept = false;
  Fs::Options options;
  options.kernel_cache = &kernel;
  Fixture f(options);
  (void)f.Open(kAlice, ProcessIno(100, Text(TokenFile::kPrivs)), O_RDONLY);
  CHECK(kernel.invalidations == 1);
  CHECK(f.fs.page_cache().handles() == 0);
}

TEST_CASE("while a page-cached reader is open, sizes are its snapshot's; "
          "a newer snapshot's open is direct",
          "[daemon]") {
  FakeKernelCache kernel;
  Fs::Options options;
  options.kernel_cache = &kernel;
  Fixture f(options);
  const uint64_t privs = ProcessIno(100, Text(TokenFile::kPrivs));
  const uint64_t reader = f.Open(kAlice, privs, O_RDONLY);
  const std::string old_text = f.Read(reader);
  REQUIRE(f.Write(kAlice, privs, "SeChangeNotify=removed"));
  const uint64_t newer = f.Open(kAlice, privs, O_RDONLY);
  const std::string new_text = f.Read(newer);
  REQUIRE(new_text.size() != old_text.size());
  CHECK(f.fs.page_cache().handles() == 1);  // the newer open is direct
  CHECK(SizeOf(f, privs, reader) == static_cast<off_t>(old_text.size()));
  CHECK(SizeOf(f, privs) == static_cast<off_t>(old_text.size()));
  for (uint64_t handle : f.open_files) (void)f.fs.DoRelease(handle);
  f.open_files.clear();
  CHECK(SizeOf(f, privs) == static_cast<off_t>(new_text.size()));
}

TEST_CASE("stale inodes are the ones whose token changed since the kernel "
          "was shown them",
          "[daemon]") {
  Fixture f;
  const uint64_t privs = ProcessIno(100, Text(TokenFile::kPrivs));
  const uint64_t groups = ProcessIno(200, Text(TokenFile::kGroups));
  (void)SizeOf(f, privs);
  (void)SizeOf(f, groups);
  CHECK(f.fs.StaleInodes().empty());
  REQUIRE(f.Write(kAlice, privs, "SeChangeNotify=disabled"));
  CHECK(f.fs.StaleInodes() == std::vector<uint64_t>{privs});
  CHECK(f.fs.StaleInodes().empty());  // forgotten once named
}

}  // namespace tokenfs::test
