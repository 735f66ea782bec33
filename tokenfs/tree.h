// The /tokens tree: which nodes exist, their inode numbers, names, modes and
// the token right each operation needs (man/tokenfs.5 lists them).
//
// Inode numbers are computed, not allocated: a node is (scope, code, payload)
// packed into 64 bits, so the daemon keeps no inode table and FORGET has
// nothing to free. Layout: bit 63 set (the root is the fixed FUSE_ROOT_ID 1);
// bits 61-62 the scope (root level, process, thread, object); bits 53-60 the
// node code; bits 0-52 the payload: pid << 26 | tid for processes and
// threads (pid_max is at most 2^22), the object id for objects. A pid reused
// by a new process names the same inode: every operation resolves the pid
// afresh, so it always reaches the current process, never the earlier one.
//
// Thread-safety: pure functions and immutable tables.
#ifndef TOKENFS_TOKENFS_TREE_H_
#define TOKENFS_TOKENFS_TREE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/access_mask.h"
#include "core/query_class.h"
#include "core/render.h"

namespace tokenfs {

enum class Scope : uint8_t {
  kRoot = 0,
  kProcess = 1,
  kThread = 2,
  kObject = 3
};

// Node codes. Root scope: kRootDir..kRefusalFile. Token scopes: the rest.
enum class NodeCode : uint8_t {
  // Root level.
  kRootDir = 0,
  kSelfLink = 1,
  kObjectsDir = 2,
  kCreateFile = 3,
  kLinkFile = 4,
  kRegistryFile = 5,
  kPeerDir = 6,
  kPeerLink = 7,  // payload: the caller's file descriptor number
  kRefusalFile = 8,
  // In a token directory (process, thread or object scope).
  kTokenDir = 0,
  kTextFileBase = 1,  // + TokenFile
  kQueryDir = 64,
  kQueryFileBase = 64,  // + QueryClass id (1..24)
  kQueryAllFile = 90,
  kLinkedLink = 91,
  kDuplicateFile = 92,
  kRestrictFile = 93,
  kAccessFile = 94,
  kImpersonateFile = 95,
  kPersistFile = 96,
  kInstallFile = 97,
  kSubtokensFile = 98,
  kTagsFile = 99,
  kHistoryFile = 100,
};

// The number a NodeId, a TreeEntry and an inode carry for `code`: the one
// conversion, so no other file casts a NodeCode. Codes are numbers rather
// than the enum in NodeId because a text file's and a query file's code is a
// base plus an index (TextFileCode, kQueryFileBase + class id).
constexpr uint8_t CodeOf(NodeCode code) { return static_cast<uint8_t>(code); }

struct NodeId {
  Scope scope = Scope::kRoot;
  uint8_t code = 0;
  int32_t pid = 0;
  int32_t tid = 0;
  uint64_t object = 0;  // object id, or the fd number of a peer link

  bool is_token_scope() const { return scope != Scope::kRoot; }
  friend bool operator==(const NodeId&, const NodeId&) = default;
};

uint64_t EncodeInode(const NodeId& node);
// nullopt for numbers that name no node.
std::optional<NodeId> DecodeInode(uint64_t inode);

// The kind of a node, which decides its file type and operations.
enum class NodeKind {
  kDirectory,
  kSymlink,
  kTextFile,     // a TokenFile rendered as text
  kQueryFile,    // one query class (or all) as JSON
  kTransaction,  // write parameters, read the result on the same fd
  kControl,      // write-only command, or a small read/write setting
};

struct TreeEntry {
  std::string_view name;
  uint8_t code;
  NodeKind kind;
  // Right needed to open for reading; empty for files whose content is the
  // result of a write (duplicate, restrict), which are read with
  // `write_right`. Every open of a token directory's file is authorized.
  AccessMask read_right;
  // Right needed to write (checked at open for writing and again at each
  // write); empty when the file is not writable or the right depends on
  // what is written (security, impersonate, persist, install).
  AccessMask write_right;
  bool writable;
  bool thread_only;   // impersonate
  bool object_only;   // persist, tags
  bool process_only;  // install

  // True iff the entry exists in a token directory of `scope`.
  bool AppliesTo(Scope scope) const {
    return (!thread_only || scope == Scope::kThread) &&
           (!object_only || scope == Scope::kObject) &&
           (!process_only || scope == Scope::kProcess);
  }
};

// The entries of a token directory (process, thread or object scope).
std::span<const TreeEntry> TokenDirectoryEntries();
// The entries of the query directory (24 classes + all).
std::span<const TreeEntry> QueryDirectoryEntries();
// The fixed entries of the root directory (pids are added at readdir).
std::span<const TreeEntry> RootEntries();

// Looks up a name in a table; nullptr when absent or not in this scope.
const TreeEntry* FindEntry(std::span<const TreeEntry> entries,
                           std::string_view name, Scope scope);
// The table entry of a node (for its kind and rights); nullptr for token,
// thread and object directories, which have no table entry.
const TreeEntry* EntryForNode(const NodeId& node);

// Node code of text file `file`.
constexpr uint8_t TextFileCode(TokenFile file) {
  return static_cast<uint8_t>(CodeOf(NodeCode::kTextFileBase) +
                              static_cast<uint8_t>(file));
}
// The text file a token-scope node code names; nullopt for other codes.
constexpr std::optional<TokenFile> TextFileOf(uint8_t code) {
  if (code < CodeOf(NodeCode::kTextFileBase) ||
      code >= CodeOf(NodeCode::kQueryDir)) {
    return std::nullopt;
  }
  return static_cast<TokenFile>(code - CodeOf(NodeCode::kTextFileBase));
}
// True iff a token-scope node code names a file in the query directory (a
// class or all).
constexpr bool IsQueryFileCode(uint8_t code) {
  return code > CodeOf(NodeCode::kQueryDir) &&
         code <= CodeOf(NodeCode::kQueryAllFile);
}

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_TREE_H_
