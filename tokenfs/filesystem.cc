#include "tokenfs/filesystem.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <new>
#include <utility>
#include <poll.h>

#include "core/access_check.h"
#include "core/commands.h"
#include "core/number.h"
#include "core/sddl.h"
#include "core/token_history.h"
#include "core/token_operations.h"
#include "core/token_spec.h"
#include "core/well_known_sids.h"
#include "core/write_rules.h"
#include "tokenfs/errno_map.h"
#include "tokenfs/log.h"
#include "tokenfs/render.h"

namespace tokenfs {

struct TokenFilesystem::OpenFile {
  NodeId node;
  // The process incarnation the file was opened on: a write after that
  // process is gone must not reach a new process with the same pid.
  ProcessKey process;
  const TreeEntry* entry = nullptr;
  bool readable = false;
  bool writable = false;
  WriterIdentity opener;
  TokenObjectPtr object;  // keeps an object alive while the file is open
  std::mutex mutex;
  // Fixed at open (shared with the render cache) and replaced by each write;
  // null reads as empty. Guarded by mutex.
  std::shared_ptr<const std::string> content;
  // For files open for writing, reads continue from this cursor, which each
  // write resets, so `exec 3<>file; echo cmd >&3; cat <&3` shows the whole
  // result although the file position moved past the written bytes.
  size_t read_cursor = 0;  // guarded by mutex
  // The opener's share of OpenContentBudget for `content` at open.
  std::unique_ptr<OpenContentBudget::Hold> hold;
  // What a poller compares with (token-scope files opened for reading):
  // the token object the file showed at open (weakly: an open file does
  // not keep a replaced process token), its change count and history
  // number then, and why the opener may not watch it (nullopt: may).
  bool watchable = false;
  bool history = false;
  std::weak_ptr<TokenObject> watched;
  const TokenObject* watched_address = nullptr;
  uint64_t seen_changes = 0;
  uint64_t seen_history = 0;
  std::optional<std::string> watch_denial;
  // How the kernel serves the file (OPEN's reply): token and query files
  // opened read-only may use the page cache (PageCacheState decides);
  // everything else is direct I/O.
  bool direct_io = true;
  bool keep_cache = false;
  // Set while registered in `page_cache` (under `inode`), which the
  // destructor undoes.
  PageCacheState* page_cache = nullptr;
  uint64_t inode = 0;
  // A cold open waiting for its first request (PageCacheState::Confirm).
  std::atomic<bool> confirm_pending{false};

  ~OpenFile() {
    if (page_cache) page_cache->Close(inode, reinterpret_cast<uint64_t>(this));
  }
};

void TokenFilesystem::OpenFileDeleter::operator()(OpenFile* file) const {
  delete file;
}

namespace {

// A decimal number naming a pid, tid, descriptor or object in a path (core
// ParseUnsigned), at most `max`. A leading zero is refused so that each
// node has one name ("0100" is not "100").
std::optional<uint64_t> ParseNodeNumber(std::string_view text, uint64_t max) {
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  auto value = ParseUnsigned(text, max, NumberBase::kDecimal);
  if (!value) return std::nullopt;
  return *value;
}

// The identity a request writes (or opens a file) with.
WriterIdentity WriterOf(const Caller& caller) {
  return WriterIdentity{caller.uid, caller.gid, caller.effective->user,
                        caller.effective->integrity_rid};
}

mode_t ModeFor(NodeKind kind, bool writable) {
  switch (kind) {
    case NodeKind::kDirectory:
      return S_IFDIR | 0555;
    case NodeKind::kSymlink:
      return S_IFLNK | 0777;
    case NodeKind::kTextFile:
    case NodeKind::kQueryFile:
    case NodeKind::kControl:
      return S_IFREG | (writable ? 0644 : 0444);
    case NodeKind::kTransaction:
      return S_IFREG | 0666;
  }
  return S_IFREG | 0444;
}

}  // namespace

TokenFilesystem::TokenFilesystem(Registry& registry, ProcessFacts& source,
                                 EventSync& events, LuidAllocator& ids,
                                 const Clock& clock,
                                 const SystemAccountLookup& accounts,
                                 Options options)
    : registry_(registry),
      source_(source),
      events_(events),
      accounts_(accounts),
      options_(std::move(options)),
      pollers_(options_.pollers ? *options_.pollers : own_pollers_),
      start_time_(std::time(nullptr)),
      resolver_(registry, source, events, options_.mount_point),
      peer_grants_(registry, source, events, resolver_),
      authorizer_(resolver_, peer_grants_),
      linked_copies_(registry, ids, resolver_, authorizer_),
      write_commands_(registry, ids, clock, capability_names_, resolver_,
                      authorizer_,
                      options_.domain_sid ? &*options_.domain_sid : nullptr) {
  render_options_.sid_style = SidStyle::kLabeled;
  render_options_.accounts = &accounts_;
  render_options_.capability_names = &capability_names_;
  render_options_.domain = options_.domain_sid ? &*options_.domain_sid : nullptr;
}

// ---------------------------------------------------------------------------
// Trampolines

const fuse_lowlevel_ops& TokenFilesystem::Operations() {
  static const fuse_lowlevel_ops operations = [] {
    fuse_lowlevel_ops ops{};
    ops.init = &TokenFilesystem::OnInit;
    ops.lookup = &TokenFilesystem::OnLookup;
    ops.getattr = &TokenFilesystem::OnGetattr;
    ops.setattr = &TokenFilesystem::OnSetattr;
    ops.readlink = &TokenFilesystem::OnReadlink;
    ops.open = &TokenFilesystem::OnOpen;
    ops.read = &TokenFilesystem::OnRead;
    ops.write = &TokenFilesystem::OnWrite;
    ops.flush = &TokenFilesystem::OnFlush;
    ops.release = &TokenFilesystem::OnRelease;
    ops.opendir = &TokenFilesystem::OnOpendir;
    ops.readdir = &TokenFilesystem::OnReaddir;
    ops.releasedir = &TokenFilesystem::OnReleasedir;
    ops.access = &TokenFilesystem::OnAccess;
    ops.rmdir = &TokenFilesystem::OnRmdir;
    ops.poll = &TokenFilesystem::OnPoll;
    ops.mkdir = [](fuse_req_t request, fuse_ino_t, const char*, mode_t) {
      OnRefuse(request);
    };
    ops.mknod = [](fuse_req_t request, fuse_ino_t, const char*, mode_t, dev_t) {
      OnRefuse(request);
    };
    ops.unlink = [](fuse_req_t request, fuse_ino_t, const char*) {
      OnRefuse(request);
    };
    ops.symlink = [](fuse_req_t request, const char*, fuse_ino_t, const char*) {
      OnRefuse(request);
    };
    ops.rename = [](fuse_req_t request, fuse_ino_t, const char*, fuse_ino_t,
                    const char*, unsigned) { OnRefuse(request); };
    ops.link = [](fuse_req_t request, fuse_ino_t, fuse_ino_t, const char*) {
      OnRefuse(request);
    };
    ops.create = [](fuse_req_t request, fuse_ino_t, const char*, mode_t,
                    fuse_file_info*) { OnRefuse(request); };
    return ops;
  }();
  return operations;
}

void TokenFilesystem::OnInit(void* userdata,
                             fuse_conn_info* connection) noexcept {
  const auto* self = static_cast<const TokenFilesystem*>(userdata);
  // Every direct-I/O READ pins as much of the reader's buffer as the request
  // may fill (cat's 128 KiB: 32 pages), however short the token file is; a
  // smaller limit makes each READ cheaper and costs larger files more READs.
  if (self->options_.max_read != 0) {
    connection->max_read = self->options_.max_read;
  }
  // READDIRPLUS would instantiate a dentry for every pid of `ls /tokens`
  // and flood FORGETs later.
  connection->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
  // Symlink targets depend on the caller (self): never cache them.
  connection->want &= ~FUSE_CAP_CACHE_SYMLINKS;
  // Token files are small and read whole: plain synchronous READs, not the
  // background requests and completions of asynchronous direct I/O.
  connection->want &= ~FUSE_CAP_ASYNC_DIO;
  char line[512];
  std::snprintf(line, sizeof line,
                "FUSE protocol %u.%u; capable 0x%x, want 0x%x; max_write %u, "
                "max_read %u, max_readahead %u",
                connection->proto_major, connection->proto_minor,
                connection->capable, connection->want, connection->max_write,
                connection->max_read, connection->max_readahead);
  LogInfo(line);
}

void TokenFilesystem::OnRefuse(fuse_req_t request) noexcept {
  Outcome refused = tl::unexpected(FsError{ErrorCode::kNotPermitted, {}});
  Send(request, refused, nullptr);
}

namespace {

// How a refusal is logged: as a denial (info), as a problem worth a warning,
// or only when debugging (the caller asked for something that is not
// there).
enum class RefusalLog { kDenied, kWarning, kDebug };

RefusalLog RefusalLogFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kAccessDenied:
    case ErrorCode::kPrivilegeNotHeld:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kNotPermitted:
      return RefusalLog::kDenied;
    case ErrorCode::kInternal:
    case ErrorCode::kOutOfMemory:
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kTooLarge:
    case ErrorCode::kResourceExhausted:
    case ErrorCode::kBusy:
    case ErrorCode::kTooManyOpen:
      return RefusalLog::kWarning;
    case ErrorCode::kNotFound:
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kProcessGone:
    case ErrorCode::kNotADirectory:
    case ErrorCode::kIsADirectory:
    case ErrorCode::kIsALink:
    case ErrorCode::kBadHandle:
      return RefusalLog::kDebug;
  }
  return RefusalLog::kWarning;
}

// The visitor of Send: one lambda per reply type.
template <typename... Lambdas>
struct Overloaded : Lambdas... {
  using Lambdas::operator()...;
};
template <typename... Lambdas>
Overloaded(Lambdas...) -> Overloaded<Lambdas...>;

}  // namespace

template <typename Handler>
void TokenFilesystem::Serve(fuse_req_t request, const char* operation,
                            Handler&& handler, fuse_file_info* info) noexcept {
  auto* self = static_cast<TokenFilesystem*>(fuse_req_userdata(request));
  const fuse_ctx* fuse_context = fuse_req_ctx(request);
  const RequestContext context{fuse_context->pid, fuse_context->uid,
                               fuse_context->gid};
  ErrorCode error = ErrorCode::kInternal;
  std::string reason;
  try {
    self->requests_.fetch_add(1, std::memory_order_relaxed);
    Outcome outcome = handler(self, context);
    if (outcome) {
      Send(request, outcome, info);
      return;
    }
    error = outcome.error().code;
    reason = std::move(outcome.error().reason);
  } catch (const std::bad_alloc&) {
    error = ErrorCode::kOutOfMemory;
    reason = "out of memory";
  } catch (const std::exception& exception) {
    error = ErrorCode::kInternal;
    reason = std::string("internal error: ") + exception.what();
  } catch (...) {
    error = ErrorCode::kInternal;
    reason = "internal error";
  }
  try {
    const std::string who = "pid " + std::to_string(context.pid) + " (uid " +
                            std::to_string(context.uid) + ")";
    // Lines any user can provoke are limited per caller uid, so one user's
    // flood never hides another's denials; the log escapes what they quote.
    const RefusalLog log = RefusalLogFor(error);
    if (log == RefusalLog::kDenied) {
      LogForCaller(
          LogLevel::kInfo, context.uid,
          std::string("denied: ") + operation + " by " + who + ": " + reason);
      self->RecordRefusal(context, error, reason);
    } else if (log == RefusalLog::kWarning) {
      LogForCaller(LogLevel::kWarning, context.uid,
                   std::string(operation) + " by " + who + ": " +
                       std::strerror(ErrnoFor(error)) + ": " + reason);
    } else if (DebugLogging() && !reason.empty()) {
      LogForCaller(LogLevel::kDebug, context.uid,
                   std::string(operation) + " by " + who + ": " +
                       std::strerror(ErrnoFor(error)) + ": " + reason);
    }
  } catch (...) {
    // The reply matters more than the log line.
  }
  Outcome failed = tl::unexpected(FsError{error, {}});
  Send(request, failed, info);
}

void TokenFilesystem::RecordRefusal(const RequestContext& context,
                                    ErrorCode error,
                                    const std::string& reason) {
  std::string line = std::string("error: ") + std::strerror(ErrnoFor(error)) +
                     ": " + reason + "\n";
  const std::lock_guard<std::mutex> lock(refusals_mutex_);
  if (refusals_.size() >= kMaxRefusals && !refusals_.contains(context.pid)) {
    refusals_.clear();
  }
  refusals_[context.pid] = Refusal{context.uid, std::move(line)};
}

std::string TokenFilesystem::LastRefusal(const RequestContext& context) {
  const std::lock_guard<std::mutex> lock(refusals_mutex_);
  const auto found = refusals_.find(context.pid);
  if (found == refusals_.end() || found->second.uid != context.uid) return "";
  return found->second.line;
}

void TokenFilesystem::Send(fuse_req_t request, Outcome& outcome,
                           fuse_file_info* info) noexcept {
  if (!outcome) {
    fuse_reply_err(request, outcome.error().errno_value());
    return;
  }
  std::visit(
      Overloaded{
          [&](EntryReply& entry) { fuse_reply_entry(request, &entry.entry); },
          [&](AttrReply& attr) {
            auto* self =
                static_cast<TokenFilesystem*>(fuse_req_userdata(request));
            fuse_reply_attr(request, &attr.attr, self->options_.attr_timeout);
          },
          [&](DataReply& data) {
            fuse_reply_buf(request, data.data.data(), data.data.size());
          },
          [&](ContentReply& content) {
            fuse_reply_buf(request, content.text->data() + content.offset,
                           content.size);
          },
          [&](DirectoryReply& directory) {
            // Packed here, where the buffer is sent: a reader's READDIR
            // asks for `size` bytes and gets the entries that fit.
            std::vector<char> buffer(directory.size);
            size_t used = 0;
            for (size_t index = 0; index < directory.entries.size(); ++index) {
              const DirEntry& entry = directory.entries[index];
              struct stat attr {};
              attr.st_ino = entry.inode;
              attr.st_mode = entry.mode;
              const size_t needed = fuse_add_direntry(
                  request, buffer.data() + used, directory.size - used,
                  entry.name.c_str(), &attr,
                  static_cast<off_t>(directory.first + index + 1));
              if (needed > directory.size - used) break;
              used += needed;
            }
            fuse_reply_buf(request, buffer.data(), used);
          },
          [&](LinkReply& link) {
            fuse_reply_readlink(request, link.target.c_str());
          },
          [&](OpenReply& open) {
            info->fh = reinterpret_cast<uint64_t>(open.file.get());
            info->direct_io = open.file->direct_io ? 1 : 0;
            info->keep_cache = open.file->keep_cache ? 1 : 0;
            // Nothing happens at close, so a read-only file can skip the
            // FLUSH round trip.
            info->noflush = !open.file->writable;
            // Once replied, the handle is the kernel's (RELEASE frees it);
            // if the caller was interrupted, the unique_ptr frees it here.
            if (fuse_reply_open(request, info) == 0) (void)open.file.release();
          },
          [&](OpendirReply& opened) {
            info->fh = reinterpret_cast<uint64_t>(opened.directory.get());
            if (fuse_reply_open(request, info) == 0) {
              (void)opened.directory.release();
            }
          },
          [&](WriteReply& write) { fuse_reply_write(request, write.count); },
          [&](ReleaseReply&) { fuse_reply_err(request, 0); },
          [&](PollReply& poll) { fuse_reply_poll(request, poll.revents); },
          [&](NoneReply&) { fuse_reply_err(request, 0); },
      },
      *outcome);
}

void TokenFilesystem::OnLookup(fuse_req_t request, fuse_ino_t parent,
                               const char* name) noexcept {
  Serve(request, "lookup",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoLookup(context, parent, name);
        });
}

void TokenFilesystem::OnGetattr(fuse_req_t request, fuse_ino_t inode,
                                fuse_file_info* info) noexcept {
  // The kernel names the open file (FUSE_GETATTR_FH) when a read of it
  // wants the size.
  Serve(request, "getattr",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoGetattr(context, inode, info ? info->fh : 0);
        });
}

void TokenFilesystem::OnSetattr(fuse_req_t request, fuse_ino_t inode,
                                struct stat* attr, int to_set,
                                fuse_file_info* info) noexcept {
  Serve(request, "setattr",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoSetattr(context, inode, *attr, to_set,
                                 info != nullptr);
        });
}

void TokenFilesystem::OnReadlink(fuse_req_t request,
                                 fuse_ino_t inode) noexcept {
  Serve(request, "readlink",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoReadlink(context, inode);
        });
}

void TokenFilesystem::OnOpen(fuse_req_t request, fuse_ino_t inode,
                             fuse_file_info* info) noexcept {
  Serve(
      request, "open",
      [&](TokenFilesystem* self, const RequestContext& context) {
        return self->DoOpen(context, inode, info->flags);
      },
      info);
}

void TokenFilesystem::OnRead(fuse_req_t request, fuse_ino_t, size_t size,
                             off_t offset, fuse_file_info* info) noexcept {
  Serve(request, "read", [&](TokenFilesystem* self, const RequestContext&) {
    return self->DoRead(info->fh, size, offset);
  });
}

void TokenFilesystem::OnWrite(fuse_req_t request, fuse_ino_t, const char* data,
                              size_t size, off_t,
                              fuse_file_info* info) noexcept {
  Serve(request, "write",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoWrite(context, info->fh, std::string_view(data, size));
        });
}

// FLUSH, RELEASE and RELEASEDIR cannot fail and are not counted as requests
// (they bypass Serve); they still reply through Send.
void TokenFilesystem::OnFlush(fuse_req_t request, fuse_ino_t,
                              fuse_file_info* info) noexcept {
  auto* self = static_cast<TokenFilesystem*>(fuse_req_userdata(request));
  Outcome outcome = self->DoFlush();
  Send(request, outcome, info);
}

void TokenFilesystem::OnRelease(fuse_req_t request, fuse_ino_t,
                                fuse_file_info* info) noexcept {
  auto* self = static_cast<TokenFilesystem*>(fuse_req_userdata(request));
  Outcome outcome = self->DoRelease(info->fh);
  Send(request, outcome, info);
  const auto* released =
      outcome ? std::get_if<ReleaseReply>(&*outcome) : nullptr;
  if (released && released->release_objects) self->ReleaseUnusedObjects();
}

void TokenFilesystem::OnOpendir(fuse_req_t request, fuse_ino_t inode,
                                fuse_file_info* info) noexcept {
  Serve(
      request, "opendir",
      [&](TokenFilesystem* self, const RequestContext& context) {
        return self->DoOpendir(context, inode);
      },
      info);
}

void TokenFilesystem::OnReaddir(fuse_req_t request, fuse_ino_t, size_t size,
                                off_t offset, fuse_file_info* info) noexcept {
  Serve(request, "readdir", [&](TokenFilesystem* self, const RequestContext&) {
    return self->DoReaddir(info->fh, size, offset);
  });
}

void TokenFilesystem::OnReleasedir(fuse_req_t request, fuse_ino_t,
                                   fuse_file_info* info) noexcept {
  auto* self = static_cast<TokenFilesystem*>(fuse_req_userdata(request));
  Outcome outcome = self->DoReleasedir(info->fh);
  Send(request, outcome, info);
}

void TokenFilesystem::OnAccess(fuse_req_t request, fuse_ino_t inode,
                               int mask) noexcept {
  Serve(request, "access",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoAccess(context, inode, mask);
        });
}

void TokenFilesystem::OnRmdir(fuse_req_t request, fuse_ino_t parent,
                              const char* name) noexcept {
  Serve(request, "rmdir",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoRmdir(context, parent, name);
        });
}

void TokenFilesystem::OnPoll(fuse_req_t request, fuse_ino_t,
                             fuse_file_info* info,
                             fuse_pollhandle* poll_handle) noexcept {
  Serve(request, "poll", [&](TokenFilesystem* self, const RequestContext&) {
    fuse_pollhandle* handle = std::exchange(poll_handle, nullptr);
    return self->DoPoll(info->fh, handle);
  });
  // Serve's handler threw before taking it.
  if (poll_handle) fuse_pollhandle_destroy(poll_handle);
}

// ---------------------------------------------------------------------------
// Attributes

tl::expected<struct stat, FsError> TokenFilesystem::Attributes(
    const NodeId& node) {
  struct stat attr {};
  attr.st_ino = EncodeInode(node);
  attr.st_nlink = 1;
  attr.st_atime = attr.st_mtime = attr.st_ctime = start_time_;
  attr.st_blksize = 4096;
  // Token scopes: the owner is the process's user (or the object's creator);
  // the root scope's nodes belong to root.
  if (node.scope == Scope::kObject) {
    auto info = registry_.ObjectDetails(Luid{node.object});
    if (!info)
      return tl::unexpected(Fail(ErrorCode::kNotFound, info.error().message));
    attr.st_uid = info->creator_uid;
    attr.st_gid = info->creator_gid;
  } else if (node.scope != Scope::kRoot) {
    auto process = registry_.Process(node.pid);
    if (!process)
      return tl::unexpected(
          Fail(ErrorCode::kNotFound, process.error().message));
    if (node.scope == Scope::kThread) {
      auto thread = registry_.Thread(node.pid, node.tid);
      if (!thread)
        return tl::unexpected(
            Fail(ErrorCode::kNotFound, thread.error().message));
    }
    attr.st_uid = process->credentials.effective_uid;
    attr.st_gid = process->credentials.effective_gid;
  }
  // Each scope's own directory (the mount root, a token directory) has no
  // entry in the scope's table.
  const NodeCode scope_directory =
      node.scope == Scope::kRoot ? NodeCode::kRootDir : NodeCode::kTokenDir;
  if (node.code == static_cast<uint8_t>(scope_directory)) {
    attr.st_mode = S_IFDIR | 0555;
    attr.st_nlink = 2;
    return attr;
  }
  const TreeEntry* entry = EntryForNode(node);
  if (!entry) return tl::unexpected(Fail(ErrorCode::kNotFound, "no such node"));
  attr.st_mode = ModeFor(entry->kind, entry->writable);
  if (entry->kind == NodeKind::kDirectory) attr.st_nlink = 2;
  return attr;
}

void TokenFilesystem::AddSize(const NodeId& node, struct stat& attr) {
  const TreeEntry* entry = EntryForNode(node);
  if (!node.is_token_scope() || !entry ||
      (entry->kind != NodeKind::kTextFile &&
       entry->kind != NodeKind::kQueryFile)) {
    return;
  }
  auto target = resolver_.ResolveTarget(node);
  if (!target) return;
  const auto content = render_cache_.Get(target->token, node.code, [&] {
    return RenderNode(node, *target->token, render_options_, registry_);
  });
  const size_t size = page_cache_.Report(
      attr.st_ino, SnapshotSerial(target->token), content->size());
  attr.st_size = static_cast<off_t>(size);
  attr.st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
}

// ---------------------------------------------------------------------------
// Operations

TokenFilesystem::Outcome TokenFilesystem::DoLookup(
    const RequestContext& context, fuse_ino_t parent_inode,
    std::string_view name) {
  auto parent = resolver_.Decode(parent_inode);
  if (!parent) return tl::unexpected(parent.error());
  {
    auto number = ParseNodeNumber(name, INT32_MAX);
    resolver_.SyncFor(context, *parent,
                      number ? static_cast<int32_t>(*number) : 0);
  }
  NodeId child;
  bool found = false;
  if (parent->scope == Scope::kRoot &&
      parent->code == CodeOf(NodeCode::kRootDir)) {
    if (const TreeEntry* entry = FindEntry(RootEntries(), name, Scope::kRoot)) {
      child = NodeId{Scope::kRoot, entry->code};
      found = true;
    } else if (auto pid = ParseNodeNumber(name, INT32_MAX / 2)) {
      child = NodeId{Scope::kProcess, 0, static_cast<int32_t>(*pid)};
      found = true;
    }
  } else if (parent->scope == Scope::kRoot &&
             parent->code == CodeOf(NodeCode::kObjectsDir)) {
    if (auto id = ParseNodeNumber(name, UINT64_MAX); id && *id > 0) {
      child = NodeId{Scope::kObject, 0, 0, 0, *id};
      found = true;
    }
  } else if (parent->scope == Scope::kRoot &&
             parent->code == CodeOf(NodeCode::kPeerDir)) {
    if (auto fd = ParseNodeNumber(name, INT32_MAX)) {
      child = NodeId{Scope::kRoot, CodeOf(NodeCode::kPeerLink), 0, 0, *fd};
      found = true;
    }
  } else if (parent->is_token_scope() &&
             parent->code == CodeOf(NodeCode::kTokenDir)) {
    if (const TreeEntry* entry =
            FindEntry(TokenDirectoryEntries(), name, parent->scope)) {
      child = *parent;
      child.code = entry->code;
      found = true;
      if (entry->code == CodeOf(NodeCode::kLinkedLink)) {
        auto target = resolver_.ResolveTarget(*parent);
        if (!target) return tl::unexpected(target.error());
        found = target->object->LinkedPartner() != nullptr;
      }
    } else if (parent->scope == Scope::kProcess) {
      if (auto tid = ParseNodeNumber(name, (1u << 26) - 1)) {
        child =
            NodeId{Scope::kThread, 0, parent->pid, static_cast<int32_t>(*tid)};
        found = true;
      }
    }
  } else if (parent->is_token_scope() &&
             parent->code == CodeOf(NodeCode::kQueryDir)) {
    if (const TreeEntry* entry =
            FindEntry(QueryDirectoryEntries(), name, parent->scope)) {
      child = *parent;
      child.code = entry->code;
      found = true;
    }
  } else {
    return tl::unexpected(Fail(ErrorCode::kNotADirectory, "not a directory"));
  }
  if (!found) {
    return tl::unexpected(
        Fail(ErrorCode::kNotFound, "no entry '" + std::string(name) + "' in " +
                                       resolver_.Describe(*parent)));
  }
  auto attr = Attributes(child);
  if (!attr) return tl::unexpected(attr.error());
  AddSize(child, *attr);
  EntryReply reply{};
  reply.entry.ino = EncodeInode(child);
  reply.entry.attr = *attr;
  reply.entry.attr_timeout = options_.attr_timeout;
  reply.entry.entry_timeout = options_.entry_timeout;
  return reply;
}

TokenFilesystem::Outcome TokenFilesystem::DoGetattr(
    const RequestContext& context, fuse_ino_t inode, uint64_t handle) {
  auto node = resolver_.Decode(inode);
  if (!node) return tl::unexpected(node.error());
  resolver_.SyncFor(context, *node);
  auto attr = Attributes(*node);
  if (!attr) return tl::unexpected(attr.error());
  auto* file = reinterpret_cast<OpenFile*>(handle);
  if (file && file->page_cache) {
    // A page-cached file's read asks the size of its own snapshot, so its
    // text is never cut or padded by another version's size.
    if (file->confirm_pending.exchange(false)) {
      page_cache_.Confirm(file->inode, handle);
    }
    std::lock_guard<std::mutex> lock(file->mutex);
    const size_t size = file->content ? file->content->size() : 0;
    attr->st_size = static_cast<off_t>(size);
    attr->st_blocks = static_cast<blkcnt_t>((size + 511) / 512);
    return AttrReply{*attr};
  }
  AddSize(*node, *attr);
  return AttrReply{*attr};
}

TokenFilesystem::Outcome TokenFilesystem::DoSetattr(
    const RequestContext& context, fuse_ino_t inode, const struct stat& wanted,
    int to_set, bool has_handle) {
  auto node = resolver_.Decode(inode);
  if (!node) return tl::unexpected(node.error());
  const TreeEntry* entry = EntryForNode(*node);
  // The shell's `>` may arrive as a truncation to size 0 (without
  // atomic_o_trunc): accept it on writable files as a no-op. Nothing else.
  const bool only_size =
      (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MTIME |
                  FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME)) == 0;
  if (!entry || !entry->writable || !only_size) {
    return tl::unexpected(
        Fail(ErrorCode::kNotPermitted,
             "attributes of " + resolver_.Describe(*node) + " are fixed"));
  }
  if ((to_set & FUSE_SET_ATTR_SIZE) && wanted.st_size != 0) {
    return tl::unexpected(Fail(ErrorCode::kInvalidArgument,
                               resolver_.Describe(*node) +
                                   " can only be truncated to size 0, not " +
                                   std::to_string(wanted.st_size)));
  }
  if (!has_handle && node->is_token_scope()) {
    // truncate(2) by path opens nothing: authorize it as an open for
    // writing would be.
    resolver_.SyncFor(context, *node);
    auto caller = resolver_.ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    auto target = resolver_.ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    auto allowed =
        authorizer_.AuthorizeWriteOpen(*caller, *target, *entry, *node);
    if (!allowed) return tl::unexpected(allowed.error());
  }
  auto attr = Attributes(*node);
  if (!attr) return tl::unexpected(attr.error());
  // The kernel takes this reply's size as the file's: truncating a token
  // file changes nothing, so its size stays the content's.
  AddSize(*node, *attr);
  return AttrReply{*attr};
}

TokenFilesystem::Outcome TokenFilesystem::DoReadlink(
    const RequestContext& context, fuse_ino_t inode) {
  auto node = resolver_.Decode(inode);
  if (!node) return tl::unexpected(node.error());
  resolver_.SyncFor(context, *node);
  if (node->scope == Scope::kRoot &&
      node->code == CodeOf(NodeCode::kSelfLink)) {
    auto caller = resolver_.ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    return LinkReply{std::to_string(caller->process.pid) + "/" +
                     std::to_string(caller->tid)};
  }
  if (node->scope == Scope::kRoot &&
      node->code == CodeOf(NodeCode::kPeerLink)) {
    auto caller = resolver_.ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    auto link = peer_grants_.Resolve(*caller, node->object);
    if (!link) return tl::unexpected(link.error());
    return LinkReply{std::move(*link)};
  }
  if (node->is_token_scope() && node->code == CodeOf(NodeCode::kLinkedLink)) {
    auto caller = resolver_.ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    auto target = resolver_.ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    auto link = linked_copies_.Resolve(*caller, *target, *node);
    if (!link) return tl::unexpected(link.error());
    return LinkReply{std::move(*link)};
  }
  return tl::unexpected(
      Fail(ErrorCode::kInvalidArgument, "not a symbolic link"));
}

TokenFilesystem::Outcome TokenFilesystem::DoOpen(const RequestContext& context,
                                                 fuse_ino_t inode, int flags) {
  auto node = resolver_.Decode(inode);
  if (!node) return tl::unexpected(node.error());
  const TreeEntry* entry = EntryForNode(*node);
  if (!entry || entry->kind == NodeKind::kDirectory) {
    return tl::unexpected(Fail(ErrorCode::kIsADirectory,
                               resolver_.Describe(*node) + " is a directory"));
  }
  if (entry->kind == NodeKind::kSymlink) {
    return tl::unexpected(
        Fail(ErrorCode::kIsALink, resolver_.Describe(*node) + " is a link"));
  }
  resolver_.SyncFor(context, *node);
  const int mode = flags & O_ACCMODE;
  std::unique_ptr<OpenFile, OpenFileDeleter> file(new OpenFile());
  file->node = *node;
  file->entry = entry;
  file->readable = mode == O_RDONLY || mode == O_RDWR;
  file->writable = mode == O_WRONLY || mode == O_RDWR;
  if (file->writable && !entry->writable) {
    return tl::unexpected(Fail(ErrorCode::kAccessDenied,
                               resolver_.Describe(*node) + " is read-only"));
  }
  auto caller = resolver_.ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  file->opener = WriterOf(*caller);
  // The snapshot a page-cacheable file shows (0: the file is not one).
  uint64_t serial = 0;

  if (node->scope == Scope::kRoot) {
    if (node->code == CodeOf(NodeCode::kRegistryFile)) {
      file->content = std::make_shared<const std::string>(
          RenderRegistryFile(registry_.GetStats(), events_.events_applied(),
                             events_.overflows(), requests_.load()));
    }
    if (node->code == CodeOf(NodeCode::kRefusalFile)) {
      file->content =
          std::make_shared<const std::string>(LastRefusal(context));
    }
    // create and link decide at write time (privileges, references).
  } else {
    auto target = resolver_.ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    file->object = node->scope == Scope::kObject ? target->object : nullptr;
    file->process = target->process;
    // Every open is authorized, whatever the file and mode. The impersonate
    // file shows and changes the thread's state, not a token: a process may
    // always see and revert its own threads (as RevertToSelf always works,
    // whatever the thread impersonates); another process's threads need
    // QUERY on that process's primary token.
    Target about = *target;
    const bool thread_state = node->code == CodeOf(NodeCode::kImpersonateFile);
    if (thread_state) {
      about.object = target->primary;
      about.token = target->primary->Get();
    }
    const bool own_thread_state =
        thread_state && caller->process == target->process;
    // A file whose content is only the result of a write (duplicate,
    // restrict) is read with the right its write needs.
    const AccessMask read_right =
        entry->read_right.empty() ? entry->write_right : entry->read_right;
    file->history = node->code == CodeOf(NodeCode::kHistoryFile);
    if (file->readable && !own_thread_state) {
      // The gate follows whose token it is (core CapabilityFor); the
      // subtokens, tags and history files name their own capability.
      const TreeAction action =
          node->code == CodeOf(NodeCode::kSubtokensFile)
              ? TreeAction::kListSubtokens
          : node->code == CodeOf(NodeCode::kTagsFile) ? TreeAction::kReadTags
          : file->history                             ? TreeAction::kReadHistory
                                                      : TreeAction::kRead;
      const std::string_view capability =
          read_right == access::kTokenQuery && !thread_state
              ? CapabilityFor(action, *caller->effective, *caller->primary,
                              *about.token)
              : std::string_view();
      auto allowed =
          authorizer_.Authorize(*caller, about, read_right, capability, "read");
      if (!allowed) return tl::unexpected(allowed.error());
    }
    if (file->writable) {
      auto allowed =
          authorizer_.AuthorizeWriteOpen(*caller, about, *entry, *node);
      if (!allowed) return tl::unexpected(allowed.error());
    }
    if (file->readable) {
      // What a poller compares with; taken before the content is made, and
      // a token replaced since it was resolved counts as news at once.
      file->watchable = true;
      file->watched = target->object;
      file->watched_address = target->object.get();
      file->seen_changes = target->object->changes();
      file->seen_history = target->object->history_seq();
      if (target->object->Get() != target->token) --file->seen_changes;
      file->watch_denial =
          WatchDenial(*caller->effective, *caller->primary, caller->checking(),
                      *target->token);
    }
    if (file->readable && file->history) {
      file->content = std::make_shared<const std::string>(
          HistoryJsonLines(target->object->History()));
    } else if (file->readable && (entry->kind == NodeKind::kTextFile ||
                                  entry->kind == NodeKind::kQueryFile)) {
      // A pure function of the token snapshot: rendered once per version
      // while the cache keeps it, and opens of that version share the text.
      file->content = render_cache_.Get(target->token, node->code, [&] {
        return RenderNode(*node, *target->token, render_options_, registry_);
      });
      if (!file->writable) serial = SnapshotSerial(target->token);
    } else if (file->readable && entry->kind == NodeKind::kControl) {
      file->content = std::make_shared<const std::string>(
          RenderNode(*node, *target->token, render_options_, registry_));
    }
  }
  if (file->content && caller->uid != 0) {
    const size_t bytes = file->content->size();
    if (!open_content_.Charge(caller->uid, bytes)) {
      return tl::unexpected(
          Fail(ErrorCode::kTooManyOpen,
               "open " + resolver_.Describe(*node) + ": uid " +
                   std::to_string(caller->uid) + " already holds " +
                   std::to_string(open_content_.held(caller->uid)) +
                   " bytes in open token files (limit " +
                   std::to_string(OpenContentBudget::kBytesPerUid) +
                   "); close some"));
    }
    file->hold = std::make_unique<OpenContentBudget::Hold>(&open_content_,
                                                           caller->uid, bytes);
  }
  if (serial != 0 && options_.kernel_cache) {
    ChoosePageCache(*file, inode, serial);
  }
  return OpenReply{std::move(file)};
}

void TokenFilesystem::ChoosePageCache(OpenFile& file, fuse_ino_t inode,
                                      uint64_t serial) {
  const auto handle = reinterpret_cast<uint64_t>(&file);
  const size_t size = file.content ? file.content->size() : 0;
  switch (page_cache_.Open(inode, handle, serial, size)) {
    case PageCacheState::OpenMode::kDirect:
      return;
    case PageCacheState::OpenMode::kWarm:
      file.keep_cache = true;
      break;
    case PageCacheState::OpenMode::kCold:
      // The kernel drops the pages as the open completes (no keep_cache);
      // its cached size may be another version's, so the first read must
      // ask (GETATTR with this handle). Attributes only: that takes no page
      // lock, so a handler may do it.
      if (!options_.kernel_cache->InvalidateAttributes(inode)) {
        page_cache_.Close(inode, handle);
        return;
      }
      file.confirm_pending = true;
      break;
  }
  file.direct_io = false;
  file.page_cache = &page_cache_;
  file.inode = inode;
}

TokenFilesystem::Outcome TokenFilesystem::DoRead(uint64_t handle, size_t size,
                                                 off_t offset) {
  auto* file = reinterpret_cast<OpenFile*>(handle);
  if (!file->readable) {
    return tl::unexpected(
        Fail(ErrorCode::kBadHandle, "file not open for reading"));
  }
  if (file->confirm_pending.exchange(false)) {
    page_cache_.Confirm(file->inode, handle);
  }
  std::lock_guard<std::mutex> lock(file->mutex);
  size_t start = static_cast<size_t>(std::max<off_t>(offset, 0));
  if (file->writable) start = file->read_cursor;
  // A history file read again from the start shows its token's events as
  // they are now (like /proc/self/mounts after POLLPRI), also after the
  // token was revoked or its process ended.
  if (file->history && start == 0) {
    if (auto object = file->watched.lock()) {
      file->content =
          std::make_shared<const std::string>(HistoryJsonLines(object->History()));
    }
  }
  if (!file->content || start >= file->content->size()) return DataReply{};
  const size_t count = std::min(size, file->content->size() - start);
  if (file->writable) file->read_cursor = start + count;
  return ContentReply{file->content, start, count};
}

TokenFilesystem::Outcome TokenFilesystem::DoWrite(const RequestContext& context,
                                                  uint64_t handle,
                                                  std::string_view data) {
  const size_t size = data.size();
  auto* file = reinterpret_cast<OpenFile*>(handle);
  if (!file->writable) {
    return tl::unexpected(
        Fail(ErrorCode::kBadHandle, "file not open for writing"));
  }
  if (size > kMaxCommandSize) {
    return tl::unexpected(
        Fail(ErrorCode::kTooLarge,
             "write of " + std::to_string(size) + " bytes to " +
                 resolver_.Describe(file->node) + " exceeds the " +
                 std::to_string(kMaxCommandSize) + "-byte command limit"));
  }
  resolver_.SyncFor(context, file->node);
  auto caller = resolver_.ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  // Writes are authorized with the opener's identity: a write through a
  // descriptor someone else opened is refused (core
  // DecideWriteThroughOpener).
  if (auto same = DecideWriteThroughOpener(file->opener, WriterOf(*caller));
      !same) {
    return tl::unexpected(Refuse(
        same.error(), "write to " + resolver_.Describe(file->node) +
                          " by pid " + std::to_string(caller->process.pid) +
                          " (uid " + std::to_string(caller->uid) +
                          ") refused"));
  }
  std::lock_guard<std::mutex> lock(file->mutex);
  file->read_cursor = 0;
  const auto failed = [file](const FsError& error) {
    file->content = std::make_shared<const std::string>(
        "error: " + std::string(std::strerror(error.errno_value())) + ": " +
        error.reason + "\n");
    return tl::unexpected(error);
  };
  auto result = write_commands_.Apply(file->node, file->process, *caller, data);
  if (!result) return failed(result.error());
  if (auto durable = MakeDurable(resolver_.Describe(file->node)); !durable) {
    return failed(durable.error());
  }
  file->content = std::make_shared<const std::string>(std::move(*result));
  return WriteReply{size};
}

tl::expected<void, FsError> TokenFilesystem::MakeDurable(
    const std::string& where) {
  if (!options_.journal) return {};
  if (Status flushed = options_.journal->Flush(); !flushed) {
    return tl::unexpected(Fail(ErrorCode::kInternal,
                               where +
                                   ": the change could not be made durable (" +
                                   flushed.error().message + ")"));
  }
  return {};
}

TokenFilesystem::Outcome TokenFilesystem::DoOpendir(
    const RequestContext& context, fuse_ino_t inode) {
  auto node = resolver_.Decode(inode);
  if (!node) return tl::unexpected(node.error());
  resolver_.SyncFor(context, *node);
  auto handle = std::make_unique<DirHandle>();
  auto add = [&handle](std::string name, const NodeId& child, mode_t mode) {
    handle->entries.push_back({std::move(name), EncodeInode(child), mode});
  };
  add(".", *node, S_IFDIR);
  add("..", NodeId{}, S_IFDIR);
  if (node->scope == Scope::kRoot && node->code == CodeOf(NodeCode::kRootDir)) {
    for (const TreeEntry& entry : RootEntries()) {
      add(std::string(entry.name), NodeId{Scope::kRoot, entry.code},
          ModeFor(entry.kind, entry.writable));
    }
    for (int32_t pid : source_.ListProcesses()) {
      add(std::to_string(pid), NodeId{Scope::kProcess, 0, pid}, S_IFDIR);
    }
  } else if (node->scope == Scope::kRoot &&
             node->code == CodeOf(NodeCode::kPeerDir)) {
    // Peer links depend on the caller's descriptors: look them up by number.
  } else if (node->scope == Scope::kRoot &&
             node->code == CodeOf(NodeCode::kObjectsDir)) {
    auto caller = resolver_.ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    for (Luid id : registry_.ListObjects()) {
      NodeId child{Scope::kObject, 0, 0, 0, id.value};
      auto target = resolver_.ResolveTarget(child);
      if (!target) continue;
      // Listing shows the objects the caller could read (a probe: nothing
      // logged, no privilege marked used).
      const AuthorizationRequest probe =
          authorizer_.MakeRequest(*caller, *target, access::kTokenQuery, {});
      if (tokenfs::Authorize(probe).allowed) {
        add(std::to_string(id.value), child, S_IFDIR);
      }
    }
  } else if (node->is_token_scope() &&
             node->code == CodeOf(NodeCode::kTokenDir)) {
    auto target = resolver_.ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    for (const TreeEntry& entry : TokenDirectoryEntries()) {
      if (!entry.AppliesTo(node->scope)) continue;
      // `linked` exists only while there is a partner, so `ls -l`, `cp -r`
      // and `tar` never meet a dangling link.
      if (entry.code == CodeOf(NodeCode::kLinkedLink) &&
          !target->object->LinkedPartner()) {
        continue;
      }
      NodeId child = *node;
      child.code = entry.code;
      add(std::string(entry.name), child, ModeFor(entry.kind, entry.writable));
    }
    if (node->scope == Scope::kProcess) {
      for (int32_t tid : source_.ListThreads(node->pid)) {
        add(std::to_string(tid), NodeId{Scope::kThread, 0, node->pid, tid},
            S_IFDIR);
      }
    }
  } else if (node->is_token_scope() &&
             node->code == CodeOf(NodeCode::kQueryDir)) {
    for (const TreeEntry& entry : QueryDirectoryEntries()) {
      NodeId child = *node;
      child.code = entry.code;
      add(std::string(entry.name), child, ModeFor(entry.kind, false));
    }
  } else {
    return tl::unexpected(
        Fail(ErrorCode::kNotADirectory,
             resolver_.Describe(*node) + " is not a directory"));
  }
  return OpendirReply{std::move(handle)};
}

TokenFilesystem::Outcome TokenFilesystem::DoReaddir(uint64_t handle,
                                                    size_t size, off_t offset) {
  const auto* directory = reinterpret_cast<const DirHandle*>(handle);
  const size_t first = std::min(static_cast<size_t>(std::max<off_t>(offset, 0)),
                                directory->entries.size());
  return DirectoryReply{
      std::span<const DirEntry>(directory->entries).subspan(first), first,
      size};
}

TokenFilesystem::Outcome TokenFilesystem::DoFlush() {
  // Commands were applied (and refused) at write(); close never fails.
  return NoneReply{};
}

TokenFilesystem::Outcome TokenFilesystem::DoRelease(uint64_t handle) {
  auto* file = reinterpret_cast<OpenFile*>(handle);
  pollers_.Drop(handle);
  const bool object_scope = file && file->node.scope == Scope::kObject;
  delete file;
  return ReleaseReply{object_scope};
}

void TokenFilesystem::ReleaseUnusedObjects() noexcept {
  try {
    registry_.ReleaseUnused();
  } catch (...) {
    LogError("release: internal error while releasing objects");
  }
}

TokenFilesystem::Outcome TokenFilesystem::DoReleasedir(uint64_t handle) {
  delete reinterpret_cast<DirHandle*>(handle);
  return NoneReply{};
}

TokenFilesystem::Outcome TokenFilesystem::DoAccess(
    const RequestContext& context, fuse_ino_t inode, int mask) {
  auto node = resolver_.Decode(inode);
  if (!node) return tl::unexpected(node.error());
  resolver_.SyncFor(context, *node);
  auto attr = Attributes(*node);
  if (!attr) return tl::unexpected(attr.error());
  if (mask == F_OK) return NoneReply{};
  const TreeEntry* entry = EntryForNode(*node);
  const bool directory = S_ISDIR(attr->st_mode);
  if ((mask & X_OK) && !directory) {
    return tl::unexpected(
        Fail(ErrorCode::kAccessDenied,
             resolver_.Describe(*node) + " is not executable"));
  }
  if ((mask & W_OK) && (!entry || !entry->writable)) {
    return tl::unexpected(Fail(ErrorCode::kAccessDenied,
                               resolver_.Describe(*node) + " is read-only"));
  }
  if (node->scope == Scope::kRoot || directory || !entry) return NoneReply{};
  auto caller = resolver_.ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  auto target = resolver_.ResolveTarget(*node);
  if (!target) return tl::unexpected(target.error());
  AccessMask desired;
  if (mask & R_OK) desired |= entry->read_right;
  if (mask & W_OK) desired |= entry->write_right;
  if (desired.empty()) return NoneReply{};
  auto allowed = authorizer_.Authorize(*caller, *target, desired, {}, "access");
  if (!allowed) return tl::unexpected(allowed.error());
  return NoneReply{};
}

std::vector<uint64_t> TokenFilesystem::StaleInodes() {
  std::vector<uint64_t> stale;
  for (const PageCacheState::Shown& shown : page_cache_.Showing()) {
    auto node = DecodeInode(shown.inode);
    if (!node) continue;
    auto target = resolver_.ResolveTarget(*node);
    const uint64_t current = target ? SnapshotSerial(target->token) : 0;
    if (current == shown.serial) continue;
    page_cache_.Forget(shown.inode, shown.serial);
    stale.push_back(shown.inode);
  }
  return stale;
}

bool TokenFilesystem::HasNews(const OpenFile& file) {
  const NodeId& node = file.node;
  TokenObjectPtr current;
  if (node.scope == Scope::kObject) {
    auto object = registry_.FindObject(Luid{node.object});
    if (!object) return true;  // revoked
    current = std::move(*object);
  } else if (node.scope == Scope::kProcess) {
    auto process = registry_.Process(node.pid);
    if (!process || !(process->key == file.process)) return true;
    current = process->primary;
  } else if (node.scope == Scope::kThread) {
    auto thread = registry_.Thread(node.pid, node.tid);
    if (!thread || !(thread->process == file.process)) return true;
    current = thread->effective();
  }
  if (!current || current.get() != file.watched_address) return true;
  if (current->changes() != file.seen_changes) return true;
  return file.history && current->history_seq() != file.seen_history;
}

TokenFilesystem::Outcome TokenFilesystem::DoPoll(uint64_t handle,
                                                 fuse_pollhandle* poll_handle) {
  auto* file = reinterpret_cast<OpenFile*>(handle);
  // Files that show no token (root files, writers) are always readable.
  if (!file->watchable) {
    if (poll_handle) fuse_pollhandle_destroy(poll_handle);
    return PollReply{POLLIN | POLLRDNORM};
  }
  if (file->watch_denial) {
    if (poll_handle) fuse_pollhandle_destroy(poll_handle);
    return tl::unexpected(Fail(ErrorCode::kAccessDenied,
                               "watch " + resolver_.Describe(file->node) +
                                   ": " + *file->watch_denial));
  }
  // Kept first, checked after: a change between the two still wakes it.
  pollers_.Keep(handle, poll_handle);
  if (HasNews(*file)) return PollReply{POLLIN | POLLPRI | POLLRDNORM};
  return PollReply{0};
}

TokenFilesystem::Outcome TokenFilesystem::DoRmdir(const RequestContext& context,
                                                  fuse_ino_t parent_inode,
                                                  std::string_view name) {
  auto parent = resolver_.Decode(parent_inode);
  if (!parent) return tl::unexpected(parent.error());
  if (!(parent->scope == Scope::kRoot &&
        parent->code == CodeOf(NodeCode::kObjectsDir))) {
    return tl::unexpected(Fail(ErrorCode::kNotPermitted,
                               "only token objects (" + options_.mount_point +
                                   "/objects/ID) can be removed"));
  }
  auto id = ParseNodeNumber(name, UINT64_MAX);
  if (!id)
    return tl::unexpected(
        Fail(ErrorCode::kNotFound, "no token object " + std::string(name)));
  resolver_.SyncFor(context, *parent);
  auto caller = resolver_.ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  auto target = resolver_.ResolveTarget(NodeId{Scope::kObject, 0, 0, 0, *id});
  if (!target) return tl::unexpected(target.error());
  auto revoked = write_commands_.Persist(*caller, *target, "revoke");
  if (!revoked) return tl::unexpected(revoked.error());
  if (auto durable = MakeDurable(resolver_.Describe(target->node)); !durable) {
    return tl::unexpected(durable.error());
  }
  return NoneReply{};
}

}  // namespace tokenfs
