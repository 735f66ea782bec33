// The node table (tokenfs/tree.h): computed inode numbers, the names each
// directory holds in each scope, and the rights their files need. Names and
// rights are written out by hand from man/tokenfs.5, not read back from the
// table under test.
#include "tokenfs/tree.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace tokenfs {
namespace {

TEST_CASE("inode numbers round-trip for every scope", "[daemon]") {
  const NodeId nodes[] = {
      NodeId{Scope::kRoot, CodeOf(NodeCode::kSelfLink)},
      NodeId{Scope::kRoot, CodeOf(NodeCode::kPeerDir)},
      NodeId{Scope::kRoot, CodeOf(NodeCode::kRefusalFile)},
      NodeId{Scope::kRoot, CodeOf(NodeCode::kPeerLink), 0, 0, 7},
      NodeId{Scope::kProcess, CodeOf(NodeCode::kTokenDir), 1},
      NodeId{Scope::kProcess, CodeOf(NodeCode::kTokenDir), 4194304},
      NodeId{Scope::kProcess, TextFileCode(TokenFile::kPrivs), 1234},
      NodeId{Scope::kThread, CodeOf(NodeCode::kImpersonateFile), 1234, 1240},
      NodeId{Scope::kThread, CodeOf(NodeCode::kTokenDir), 4194304, 4194304},
      NodeId{Scope::kObject, CodeOf(NodeCode::kPersistFile), 0, 0, 65537},
      NodeId{Scope::kObject, TextFileCode(TokenFile::kDefaultDacl), 0, 0,
             (uint64_t{1} << 53) - 1},
  };
  std::set<uint64_t> seen;
  for (const NodeId& node : nodes) {
    const uint64_t inode = EncodeInode(node);
    INFO("inode " << std::hex << inode);
    CHECK(inode != 1);
    CHECK(seen.insert(inode).second);
    const std::optional<NodeId> back = DecodeInode(inode);
    REQUIRE(back);
    CHECK(*back == node);
  }
  // The root directory is FUSE's fixed root inode.
  CHECK(EncodeInode(NodeId{}) == 1);
  CHECK(DecodeInode(1) == NodeId{});
}

TEST_CASE("numbers that name no node do not decode", "[daemon]") {
  const uint64_t marker = uint64_t{1} << 63;
  const auto inode = [&](Scope scope, uint8_t code, uint64_t payload) {
    return marker | (static_cast<uint64_t>(scope) << 61) |
           (static_cast<uint64_t>(code) << 53) | payload;
  };
  // No marker bit: not one of ours (0 and 2 are such numbers too).
  CHECK_FALSE(DecodeInode(0));
  CHECK_FALSE(DecodeInode(2));
  CHECK_FALSE(DecodeInode(uint64_t{1} << 40));
  // The root directory has only one number, 1.
  CHECK_FALSE(DecodeInode(inode(Scope::kRoot, CodeOf(NodeCode::kRootDir), 0)));
  // A root entry carries no payload; codes past the last root entry are
  // unknown.
  CHECK_FALSE(DecodeInode(inode(Scope::kRoot, CodeOf(NodeCode::kSelfLink), 5)));
  CHECK_FALSE(DecodeInode(inode(Scope::kRoot, 9, 0)));
  // A peer link names a file descriptor, which fits in an int.
  CHECK_FALSE(DecodeInode(
      inode(Scope::kRoot, CodeOf(NodeCode::kPeerLink), uint64_t{1} << 31)));
  // Processes need a pid; a thread node needs a tid and a process node none.
  CHECK_FALSE(
      DecodeInode(inode(Scope::kProcess, CodeOf(NodeCode::kTokenDir), 0)));
  CHECK_FALSE(DecodeInode(
      inode(Scope::kProcess, CodeOf(NodeCode::kTokenDir), (5ull << 26) | 6)));
  CHECK_FALSE(DecodeInode(
      inode(Scope::kThread, CodeOf(NodeCode::kTokenDir), 5ull << 26)));
  // Object 0 does not exist.
  CHECK_FALSE(
      DecodeInode(inode(Scope::kObject, CodeOf(NodeCode::kTokenDir), 0)));
  // A code with no entry in a token directory (between the text files and
  // the query directory, or past install).
  CHECK_FALSE(DecodeInode(inode(Scope::kProcess, 60, 5ull << 26)));
  CHECK_FALSE(DecodeInode(inode(Scope::kProcess, 200, 5ull << 26)));
  // Files of one scope only, under another scope.
  CHECK_FALSE(DecodeInode(
      inode(Scope::kProcess, CodeOf(NodeCode::kImpersonateFile), 5ull << 26)));
  CHECK_FALSE(DecodeInode(
      inode(Scope::kThread, CodeOf(NodeCode::kInstallFile), (5ull << 26) | 6)));
  CHECK_FALSE(DecodeInode(
      inode(Scope::kProcess, CodeOf(NodeCode::kPersistFile), 5ull << 26)));
}

TEST_CASE("each token directory lists the files of its scope", "[daemon]") {
  const auto names = [](Scope scope) {
    std::set<std::string> found;
    for (const TreeEntry& entry : TokenDirectoryEntries()) {
      if (entry.AppliesTo(scope)) found.insert(std::string(entry.name));
    }
    return found;
  };
  const std::set<std::string> common = {
      "user",    "owner",      "group",        "groups",   "privs",
      "caps",    "claims",     "integrity",    "logon",    "source",
      "origin",  "stats",      "type",         "level",    "elevation",
      "session", "restricted", "default-dacl", "security", "all",
      "query",   "linked",     "duplicate",    "restrict", "access",
      "subtokens", "history"};
  std::set<std::string> process = common;
  process.insert("install");
  std::set<std::string> thread = common;
  thread.insert("impersonate");
  std::set<std::string> object = common;
  object.insert("persist");
  object.insert("tags");
  CHECK(names(Scope::kProcess) == process);
  CHECK(names(Scope::kThread) == thread);
  CHECK(names(Scope::kObject) == object);

  // FindEntry keeps a name out of the scopes it does not belong to.
  CHECK(FindEntry(TokenDirectoryEntries(), "impersonate", Scope::kThread));
  CHECK_FALSE(
      FindEntry(TokenDirectoryEntries(), "impersonate", Scope::kProcess));
  CHECK_FALSE(FindEntry(TokenDirectoryEntries(), "install", Scope::kObject));
  CHECK_FALSE(FindEntry(TokenDirectoryEntries(), "persist", Scope::kThread));
  CHECK_FALSE(FindEntry(TokenDirectoryEntries(), "tags", Scope::kProcess));
  // Names are exact: no case folding, no prefixes.
  CHECK_FALSE(FindEntry(TokenDirectoryEntries(), "Privs", Scope::kProcess));
  CHECK_FALSE(FindEntry(TokenDirectoryEntries(), "priv", Scope::kProcess));
  CHECK_FALSE(FindEntry(TokenDirectoryEntries(), "", Scope::kProcess));
}

TEST_CASE("the root lists its fixed entries and the query directory 25 files",
          "[daemon]") {
  std::set<std::string> root;
  for (const TreeEntry& entry : RootEntries()) {
    root.insert(std::string(entry.name));
  }
  CHECK(root == std::set<std::string>{"self", "objects", "create", "link",
                                      "registry", "peer", "refusal"});
  CHECK(QueryDirectoryEntries().size() == 25);
  const TreeEntry* all =
      FindEntry(QueryDirectoryEntries(), "all", Scope::kProcess);
  REQUIRE(all);
  CHECK(all->code == CodeOf(NodeCode::kQueryAllFile));
  for (const TreeEntry& entry : QueryDirectoryEntries()) {
    INFO(entry.name);
    CHECK(IsQueryFileCode(entry.code));
    CHECK_FALSE(entry.writable);
  }
}

TEST_CASE("files need the token rights man/tokenfs.5 gives them", "[daemon]") {
  struct Expected {
    const char* name;
    uint32_t read;   // right to open for reading
    uint32_t write;  // right to write (0: decided by what is written)
    bool writable;
  };
  // TOKEN_DUPLICATE 0x2, TOKEN_QUERY 0x8, TOKEN_ADJUST_PRIVILEGES 0x20,
  // TOKEN_ADJUST_GROUPS 0x40, TOKEN_ADJUST_DEFAULT 0x80,
  // TOKEN_ADJUST_SESSIONID 0x100, READ_CONTROL 0x20000.
  const Expected table[] = {
      {"user", 0x8, 0, false},        {"privs", 0x8, 0x20, true},
      {"groups", 0x8, 0x40, true},    {"owner", 0x8, 0x80, true},
      {"group", 0x8, 0x80, true},     {"default-dacl", 0x8, 0x80, true},
      {"integrity", 0x8, 0x80, true}, {"session", 0x8, 0x100, true},
      {"security", 0x20000, 0, true}, {"duplicate", 0, 0x2, true},
      {"restrict", 0, 0x2, true},     {"access", 0x8, 0x8, true},
      {"caps", 0x8, 0, false},        {"claims", 0x8, 0, false},
  };
  for (const Expected& want : table) {
    INFO(want.name);
    const TreeEntry* entry =
        FindEntry(TokenDirectoryEntries(), want.name, Scope::kProcess);
    REQUIRE(entry);
    CHECK(entry->read_right.bits() == want.read);
    CHECK(entry->write_right.bits() == want.write);
    CHECK(entry->writable == want.writable);
  }
}

TEST_CASE("a node's table entry is found from its code", "[daemon]") {
  const TreeEntry* privs = EntryForNode(
      NodeId{Scope::kThread, TextFileCode(TokenFile::kPrivs), 3, 4});
  REQUIRE(privs);
  CHECK(privs->name == "privs");
  CHECK(privs->kind == NodeKind::kTextFile);
  CHECK(TextFileOf(privs->code) == TokenFile::kPrivs);
  const TreeEntry* peer =
      EntryForNode(NodeId{Scope::kRoot, CodeOf(NodeCode::kPeerLink), 0, 0, 3});
  REQUIRE(peer);
  CHECK(peer->kind == NodeKind::kSymlink);
  const TreeEntry* registry =
      EntryForNode(NodeId{Scope::kRoot, CodeOf(NodeCode::kRegistryFile)});
  REQUIRE(registry);
  CHECK(registry->name == "registry");
  // Directories of tokens have no entry of their own.
  CHECK_FALSE(
      EntryForNode(NodeId{Scope::kProcess, CodeOf(NodeCode::kTokenDir), 3}));
  // Codes outside the text-file range name no text file.
  CHECK_FALSE(TextFileOf(CodeOf(NodeCode::kTokenDir)));
  CHECK_FALSE(TextFileOf(CodeOf(NodeCode::kQueryDir)));
  CHECK_FALSE(TextFileOf(CodeOf(NodeCode::kInstallFile)));
}

}  // namespace
}  // namespace tokenfs
