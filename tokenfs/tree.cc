#include "tokenfs/tree.h"

#include <vector>

#include "core/write_rules.h"

namespace tokenfs {
namespace {

constexpr uint64_t kMarker = uint64_t{1} << 63;
constexpr int kScopeShift = 61;
constexpr int kCodeShift = 53;
constexpr uint64_t kPayloadMask = (uint64_t{1} << 53) - 1;
constexpr int kPidShift = 26;
constexpr uint64_t kTidMask = (uint64_t{1} << 26) - 1;

std::vector<TreeEntry> BuildTokenEntries() {
  std::vector<TreeEntry> entries;
  for (const TokenFileInfo& info : TokenFileTable()) {
    const AccessMask read = info.file == TokenFile::kSecurity
                                ? access::kReadControl
                                : access::kTokenQuery;
    entries.push_back(
        TreeEntry{info.name, TextFileCode(info.file), NodeKind::kTextFile, read,
                  TokenFileWriteRight(info.file), TokenFileWritable(info.file),
                  false, false, false});
  }
  entries.push_back(TreeEntry{"query", CodeOf(NodeCode::kQueryDir),
                              NodeKind::kDirectory, access::kTokenQuery,
                              AccessMask(), false, false, false, false});
  entries.push_back(TreeEntry{"linked", CodeOf(NodeCode::kLinkedLink),
                              NodeKind::kSymlink, access::kTokenQuery,
                              AccessMask(), false, false, false, false});
  entries.push_back(TreeEntry{
      "duplicate", CodeOf(NodeCode::kDuplicateFile), NodeKind::kTransaction,
      AccessMask(), access::kTokenDuplicate, true, false, false, false});
  entries.push_back(TreeEntry{
      "restrict", CodeOf(NodeCode::kRestrictFile), NodeKind::kTransaction,
      AccessMask(), access::kTokenDuplicate, true, false, false, false});
  entries.push_back(TreeEntry{"access", CodeOf(NodeCode::kAccessFile),
                              NodeKind::kTransaction, access::kTokenQuery,
                              access::kTokenQuery, true, false, false, false});
  entries.push_back(TreeEntry{"impersonate", CodeOf(NodeCode::kImpersonateFile),
                              NodeKind::kControl, access::kTokenQuery,
                              AccessMask(), true, true, false, false});
  entries.push_back(TreeEntry{"persist", CodeOf(NodeCode::kPersistFile),
                              NodeKind::kControl, access::kTokenQuery,
                              AccessMask(), true, false, true, false});
  entries.push_back(TreeEntry{"install", CodeOf(NodeCode::kInstallFile),
                              NodeKind::kControl, access::kTokenQuery,
                              AccessMask(), true, false, false, true});
  // The registry's view around the token rather than the token itself:
  // rendered at open, never cached per snapshot (a child can come or go
  // while the token stays the same).
  entries.push_back(TreeEntry{"subtokens", CodeOf(NodeCode::kSubtokensFile),
                              NodeKind::kControl, access::kTokenQuery,
                              AccessMask(), false, false, false, false});
  // Tags are the object's metadata; changing them needs ADJUST_DEFAULT,
  // the right that changes what a token brings along without changing
  // what it grants.
  entries.push_back(TreeEntry{"tags", CodeOf(NodeCode::kTagsFile),
                              NodeKind::kControl, access::kTokenQuery,
                              access::kTokenAdjustDefault, true, false, true,
                              false});
  // The token's event log (JSON lines); reading it also needs
  // tokeninfo:history.
  entries.push_back(TreeEntry{"history", CodeOf(NodeCode::kHistoryFile),
                              NodeKind::kControl, access::kTokenQuery,
                              AccessMask(), false, false, false, false});
  return entries;
}

std::vector<TreeEntry> BuildQueryEntries() {
  std::vector<TreeEntry> entries;
  for (const QueryClassInfo& info : QueryClassTable()) {
    entries.push_back(
        TreeEntry{info.name,
                  static_cast<uint8_t>(CodeOf(NodeCode::kQueryFileBase) +
                                       static_cast<uint8_t>(info.id)),
                  NodeKind::kQueryFile, access::kTokenQuery, AccessMask(),
                  false, false, false, false});
  }
  entries.push_back(TreeEntry{"all", CodeOf(NodeCode::kQueryAllFile),
                              NodeKind::kQueryFile, access::kTokenQuery,
                              AccessMask(), false, false, false, false});
  return entries;
}

}  // namespace

uint64_t EncodeInode(const NodeId& node) {
  if (node.scope == Scope::kRoot && node.code == CodeOf(NodeCode::kRootDir)) {
    return 1;  // FUSE_ROOT_ID
  }
  uint64_t payload = 0;
  if (node.scope == Scope::kObject ||
      (node.scope == Scope::kRoot &&
       node.code == CodeOf(NodeCode::kPeerLink))) {
    payload = node.object & kPayloadMask;
  } else if (node.scope != Scope::kRoot) {
    payload = (static_cast<uint64_t>(node.pid) << kPidShift) |
              (static_cast<uint64_t>(node.tid) & kTidMask);
  }
  return kMarker | (static_cast<uint64_t>(node.scope) << kScopeShift) |
         (static_cast<uint64_t>(node.code) << kCodeShift) | payload;
}

std::optional<NodeId> DecodeInode(uint64_t inode) {
  if (inode == 1) return NodeId{};
  if (!(inode & kMarker)) return std::nullopt;
  NodeId node;
  node.scope = static_cast<Scope>((inode >> kScopeShift) & 0x3);
  node.code = static_cast<uint8_t>((inode >> kCodeShift) & 0xff);
  const uint64_t payload = inode & kPayloadMask;
  switch (node.scope) {
    case Scope::kRoot:
      if (node.code == CodeOf(NodeCode::kPeerLink)) {
        if (payload > INT32_MAX) return std::nullopt;
        node.object = payload;
        return node;
      }
      if (node.code == CodeOf(NodeCode::kRootDir) ||
          node.code > CodeOf(NodeCode::kRefusalFile) || payload != 0) {
        return std::nullopt;
      }
      return node;
    case Scope::kObject:
      node.object = payload;
      if (node.object == 0) return std::nullopt;
      break;
    case Scope::kProcess:
    case Scope::kThread:
      node.pid = static_cast<int32_t>(payload >> kPidShift);
      node.tid = static_cast<int32_t>(payload & kTidMask);
      if (node.pid <= 0) return std::nullopt;
      if ((node.scope == Scope::kThread) != (node.tid != 0)) {
        return std::nullopt;
      }
      break;
  }
  if (node.code != CodeOf(NodeCode::kTokenDir) && !EntryForNode(node)) {
    return std::nullopt;
  }
  return node;
}

std::span<const TreeEntry> TokenDirectoryEntries() {
  static const std::vector<TreeEntry> entries = BuildTokenEntries();
  return entries;
}

std::span<const TreeEntry> QueryDirectoryEntries() {
  static const std::vector<TreeEntry> entries = BuildQueryEntries();
  return entries;
}

std::span<const TreeEntry> RootEntries() {
  static const TreeEntry entries[] = {
      {"self", CodeOf(NodeCode::kSelfLink), NodeKind::kSymlink, AccessMask(),
       AccessMask(), false, false, false, false},
      {"objects", CodeOf(NodeCode::kObjectsDir), NodeKind::kDirectory,
       AccessMask(), AccessMask(), false, false, false, false},
      {"create", CodeOf(NodeCode::kCreateFile), NodeKind::kTransaction,
       AccessMask(), AccessMask(), true, false, false, false},
      {"link", CodeOf(NodeCode::kLinkFile), NodeKind::kControl, AccessMask(),
       AccessMask(), true, false, false, false},
      {"registry", CodeOf(NodeCode::kRegistryFile), NodeKind::kTextFile,
       AccessMask(), AccessMask(), false, false, false, false},
      {"peer", CodeOf(NodeCode::kPeerDir), NodeKind::kDirectory, AccessMask(),
       AccessMask(), false, false, false, false},
      // The last refusal of the thread that reads it (tokenfs.5).
      {"refusal", CodeOf(NodeCode::kRefusalFile), NodeKind::kTextFile,
       AccessMask(), AccessMask(), false, false, false, false},
  };
  return entries;
}

const TreeEntry* FindEntry(std::span<const TreeEntry> entries,
                           std::string_view name, Scope scope) {
  for (const TreeEntry& entry : entries) {
    if (entry.name == name) return entry.AppliesTo(scope) ? &entry : nullptr;
  }
  return nullptr;
}

const TreeEntry* EntryForNode(const NodeId& node) {
  std::span<const TreeEntry> table;
  if (node.scope == Scope::kRoot && node.code == CodeOf(NodeCode::kPeerLink)) {
    static const TreeEntry peer_link{"",
                                     CodeOf(NodeCode::kPeerLink),
                                     NodeKind::kSymlink,
                                     AccessMask(),
                                     AccessMask(),
                                     false,
                                     false,
                                     false,
                                     false};
    return &peer_link;
  }
  if (node.scope == Scope::kRoot) {
    table = RootEntries();
  } else if (IsQueryFileCode(node.code)) {
    table = QueryDirectoryEntries();
  } else {
    table = TokenDirectoryEntries();
  }
  for (const TreeEntry& entry : table) {
    if (entry.code == node.code) {
      return entry.AppliesTo(node.scope) ? &entry : nullptr;
    }
  }
  return nullptr;
}

}  // namespace tokenfs
