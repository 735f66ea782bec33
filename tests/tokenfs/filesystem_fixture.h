// A TokenFilesystem over a real core Registry and the fakes of fake_os.h,
// with helpers that call its handlers as a given caller (pid, uid, gid):
// what filesystem_test.cc and write_commands_test.cc share. Uses Catch2
// (REQUIRE) and is included only by tests.
//
// Invariant: processes 1 (root), 100 (uid 1000, thread 101) and 200 (uid
// 2000) exist at start; handles a helper opened are released at the end.
//
// Thread-safety: none; one test thread.
//
// Ownership: FilesystemFixture owns everything it builds.
#ifndef TOKENFS_TESTS_TOKENFS_FILESYSTEM_FIXTURE_H_
#define TOKENFS_TESTS_TOKENFS_FILESYSTEM_FIXTURE_H_

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/privilege.h"
#include "tests/tokenfs/fake_os.h"
#include "tokenfs/filesystem.h"
#include "tokenfs/proc_source.h"
#include "tokenfs/tree.h"

namespace tokenfs::test {

using Fs = TokenFilesystem;
using Context = Fs::RequestContext;

inline const Context kRoot{1, 0, 0};
inline const Context kAlice{100, 1000, 1000};
inline const Context kBob{200, 2000, 2000};

inline uint64_t Ino(const NodeId& node) { return EncodeInode(node); }
inline uint64_t RootIno(NodeCode code) {
  return Ino(NodeId{Scope::kRoot, CodeOf(code)});
}
inline uint64_t ProcessIno(int32_t pid, uint8_t code = 0) {
  return Ino(NodeId{Scope::kProcess, code, pid});
}
inline uint64_t ThreadIno(int32_t pid, int32_t tid, uint8_t code) {
  return Ino(NodeId{Scope::kThread, code, pid, tid});
}
inline uint64_t ObjectIno(uint64_t id, uint8_t code = 0) {
  return Ino(NodeId{Scope::kObject, code, 0, 0, id});
}
inline uint8_t Text(TokenFile file) { return TextFileCode(file); }
inline uint8_t Code(NodeCode code) { return CodeOf(code); }

inline int ErrnoOf(const Fs::Outcome& outcome) {
  REQUIRE_FALSE(outcome);
  return outcome.error().errno_value();
}

// The first number after "id" in a derive command's result.
inline uint64_t IdIn(const std::string& result) {
  const size_t at = result.find("id");
  REQUIRE(at != std::string::npos);
  return std::stoull(result.substr(result.find_first_of("0123456789", at)));
}

struct FilesystemFixture {
  explicit FilesystemFixture(Fs::Options options = {})
      : minter(ids),
        registry(facts, minter, ids, Registry::Options{}),
        fs(registry, facts, events, ids, clock, accounts, std::move(options)) {
    facts.AddProcess(1, 0, 10, 0);
    facts.AddProcess(100, 1, 20, 1000);
    facts.AddThread(101, 100, 21);
    facts.AddProcess(200, 1, 30, 2000);
  }
  ~FilesystemFixture() {
    for (uint64_t handle : open_files) (void)fs.DoRelease(handle);
  }

  // Opens `inode` as `who`; the handle, or the errno.
  uint64_t Open(const Context& who, uint64_t inode, int flags) {
    auto outcome = fs.DoOpen(who, inode, flags);
    if (!outcome) FAIL("open: " << outcome.error().reason);
    auto* reply = std::get_if<Fs::OpenReply>(&*outcome);
    REQUIRE(reply);
    const auto handle = reinterpret_cast<uint64_t>(reply->file.release());
    open_files.push_back(handle);
    return handle;
  }
  int OpenErrno(const Context& who, uint64_t inode, int flags) {
    return ErrnoOf(fs.DoOpen(who, inode, flags));
  }
  std::string Read(uint64_t handle, off_t offset = 0) {
    auto outcome = fs.DoRead(handle, 1 << 20, offset);
    REQUIRE(outcome);
    if (auto* content = std::get_if<Fs::ContentReply>(&*outcome)) {
      return content->text->substr(content->offset, content->size);
    }
    auto* data = std::get_if<Fs::DataReply>(&*outcome);
    REQUIRE(data);
    return data->data;
  }
  std::string ReadFile(const Context& who, uint64_t inode) {
    return Read(Open(who, inode, O_RDONLY));
  }
  // Opens for writing as `who`, writes `command`; the outcome of the write
  // and (through `result`) what reading the same descriptor shows.
  Fs::Outcome Write(const Context& who, uint64_t inode,
                    std::string_view command, std::string* result = nullptr) {
    const uint64_t handle = Open(who, inode, O_RDWR);
    auto outcome = fs.DoWrite(who, handle, command);
    if (result) *result = Read(handle);
    return outcome;
  }
  std::shared_ptr<const Token> Primary(int32_t pid) {
    auto process = registry.Process(pid);
    REQUIRE(process);
    return process->primary->Get();
  }
  // Edits process `pid`'s primary token in place (test setup: what a
  // policy would have minted).
  void EditPrimary(int32_t pid, const std::function<void(Token&)>& edit) {
    auto process = registry.Process(pid);
    REQUIRE(process);
    auto updated = process->primary->Update([&](const Token& token) {
      Token copy = token;
      edit(copy);
      return Result<Token>(copy);
    });
    REQUIRE(updated);
  }
  // Gives process `pid`'s primary token privilege `bit`, enabled.
  void GivePrivilege(int32_t pid, int bit) {
    EditPrimary(pid, [bit](Token& token) {
      token.privileges.present |= privilege::Bit(bit);
      token.privileges.enabled |= privilege::Bit(bit);
    });
  }
  // Derives a token object from process `pid`'s primary token as `who`
  // (duplicate `command`); its id.
  uint64_t Duplicate(const Context& who, int32_t pid,
                     std::string_view command = "") {
    std::string result;
    auto outcome = Write(who, ProcessIno(pid, Code(NodeCode::kDuplicateFile)),
                         command, &result);
    if (!outcome) FAIL("duplicate: " << outcome.error().reason);
    return IdIn(result);
  }
  std::vector<std::string> List(const Context& who, uint64_t inode) {
    auto opened = fs.DoOpendir(who, inode);
    REQUIRE(opened);
    auto* reply = std::get_if<Fs::OpendirReply>(&*opened);
    REQUIRE(reply);
    const auto handle = reinterpret_cast<uint64_t>(reply->directory.get());
    auto listed = fs.DoReaddir(handle, 4096, 0);
    REQUIRE(listed);
    auto* directory = std::get_if<Fs::DirectoryReply>(&*listed);
    REQUIRE(directory);
    std::vector<std::string> names;
    for (const auto& entry : directory->entries) names.push_back(entry.name);
    return names;
  }
  bool Listed(const std::vector<std::string>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  }

  LuidAllocator ids;
  FakeProcessFacts facts;
  FakeMinter minter;
  Registry registry;
  FakeEventSync events;
  SystemClock clock;
  SystemAccountLookup accounts;
  Fs fs;
  std::vector<uint64_t> open_files;
};

}  // namespace tokenfs::test

#endif  // TOKENFS_TESTS_TOKENFS_FILESYSTEM_FIXTURE_H_
