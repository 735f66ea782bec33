#include "tokenfs/filesystem.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <new>

#include "core/access_check.h"
#include "core/commands.h"
#include "core/sddl.h"
#include "core/token_operations.h"
#include "core/token_spec.h"
#include "core/well_known_sids.h"
#include "core/write_rules.h"
#include "tokenfs/errno_map.h"
#include "tokenfs/log.h"

namespace tokenfs {

// Who sent a request.
struct TokenFilesystem::Caller {
  int32_t tid = 0;
  ProcessKey process;
  uint32_t uid = 0;
  uint32_t gid = 0;
  TokenObjectPtr primary_object;
  TokenObjectPtr effective_object;
  std::shared_ptr<const Token> primary;
  std::shared_ptr<const Token> effective;

  // The request's one checking token (core CheckingToken): the effective
  // token, or the primary while impersonating at Anonymous or
  // Identification level. Every right, privilege and capability of the
  // request is checked on it.
  const Token& checking() const {
    return tokenfs::CheckingToken(*effective, *primary);
  }
  const TokenObjectPtr& checking_object() const {
    return &checking() == effective.get() ? effective_object : primary_object;
  }
};

// What a token-scope node is about.
struct TokenFilesystem::Target {
  NodeId node;
  TokenObjectPtr object;
  std::shared_ptr<const Token> token;
  std::optional<LinuxCredentials> process_credentials;
  ProcessKey process;       // zero for objects
  TokenObjectPtr primary;   // the process primary (thread scope)
  std::string description;  // "process 42", "thread 43 of process 42"
};

struct TokenFilesystem::OpenFile {
  NodeId node;
  // The process incarnation the file was opened on: a write after that
  // process is gone must not reach a new process with the same pid.
  ProcessKey process;
  const TreeEntry* entry = nullptr;
  bool readable = false;
  bool writable = false;
  Opener opener;
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
};

void TokenFilesystem::OpenFileDeleter::operator()(OpenFile* file) const {
  delete file;
}

namespace {

// getsockopt SO_PEERPIDFD (Linux 6.5), which Debian 12's headers predate.
constexpr int kSoPeerPidfd = 77;
// Peers one caller process keeps grants for; the oldest goes first.
constexpr size_t kMaxPeersPerCaller = 256;

FsError Errno(int value, std::string reason) {
  return FsError{value, std::move(reason)};
}

std::optional<uint64_t> ParseNumber(std::string_view text) {
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  uint64_t value = 0;
  const auto result =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
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

// Rights as names: token right names for the token mapping, SDDL letters
// otherwise; "-" when nothing was granted.
std::string RightsNames(AccessMask mask, std::string_view mapping) {
  if (mask.empty()) return "-";
  return mapping == "token" ? FormatTokenRights(mask) : FormatSddlRights(mask);
}

std::string Line(std::string_view key, std::string_view value) {
  std::string line(key);
  line += "  ";
  line += value;
  line += '\n';
  return line;
}

std::string Hex(AccessMask mask) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%x", mask.bits());
  return text;
}

// A target that is gone is ESRCH; any other failure (minting) keeps its
// own errno.
FsError TargetError(const Error& error) {
  if (error.code == ErrorCode::kNotFound) return FsError{ESRCH, error.message};
  return FsError{ErrnoFor(error.code), error.message};
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
      ids_(ids),
      clock_(clock),
      accounts_(accounts),
      options_(std::move(options)),
      start_time_(std::time(nullptr)) {
  render_options_.sid_style = SidStyle::kLabeled;
  render_options_.accounts = &accounts_;
  render_options_.capability_names = &capability_names_;
}

// ---------------------------------------------------------------------------
// OpenContentBudget

bool OpenContentBudget::Charge(uint32_t uid, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t& held = held_[uid];
  if (held + bytes > kBytesPerUid) {
    if (held == 0) held_.erase(uid);
    return false;
  }
  held += bytes;
  return true;
}

void OpenContentBudget::Release(uint32_t uid, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(uid);
  if (it == held_.end()) return;
  it->second -= std::min(it->second, bytes);
  if (it->second == 0) held_.erase(it);
}

size_t OpenContentBudget::held(uint32_t uid) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(uid);
  return it == held_.end() ? 0 : it->second;
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
  // and flood FORGETs later (notes/fuse.md pitfall 14).
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
  Outcome refused = tl::unexpected(FsError{EPERM, {}});
  Send(request, refused, nullptr);
}

namespace {

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
  int error = 0;
  std::string reason;
  try {
    self->requests_.fetch_add(1, std::memory_order_relaxed);
    Outcome outcome = handler(self, context);
    if (outcome) {
      Send(request, outcome, info);
      return;
    }
    error = outcome.error().errno_value;
    reason = std::move(outcome.error().reason);
  } catch (const std::bad_alloc&) {
    error = ENOMEM;
    reason = "out of memory";
  } catch (const std::exception& exception) {
    error = EIO;
    reason = std::string("internal error: ") + exception.what();
  } catch (...) {
    error = EIO;
    reason = "internal error";
  }
  try {
    const std::string who = "pid " + std::to_string(context.pid) + " (uid " +
                            std::to_string(context.uid) + ")";
    // Lines any user can provoke are limited per caller uid, so one user's
    // flood never hides another's denials; the log escapes what they quote.
    if (error == EACCES || error == EPERM) {
      LogForCaller(
          LogLevel::kInfo, context.uid,
          std::string("denied: ") + operation + " by " + who + ": " + reason);
    } else if (error == EIO || error == ENOMEM || error == EINVAL ||
               error == EFBIG || error == EDQUOT || error == EBUSY ||
               error == EMFILE) {
      LogForCaller(LogLevel::kWarning, context.uid,
                   std::string(operation) + " by " + who + ": " +
                       std::strerror(error) + ": " + reason);
    } else if (DebugLogging() && !reason.empty()) {
      LogForCaller(LogLevel::kDebug, context.uid,
                   std::string(operation) + " by " + who + ": " +
                       std::strerror(error) + ": " + reason);
    }
  } catch (...) {
    // The reply matters more than the log line.
  }
  Outcome failed = tl::unexpected(FsError{error, {}});
  Send(request, failed, info);
}

void TokenFilesystem::Send(fuse_req_t request, Outcome& outcome,
                           fuse_file_info* info) noexcept {
  if (!outcome) {
    const int error = outcome.error().errno_value;
    fuse_reply_err(request, error != 0 ? error : EIO);
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
            info->direct_io = 1;
            info->keep_cache = 0;
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
                                fuse_file_info*) noexcept {
  Serve(request, "getattr",
        [&](TokenFilesystem* self, const RequestContext& context) {
          return self->DoGetattr(context, inode);
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
          return self->DoWrite(context, info->fh,
                               std::string_view(data, size));
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

// ---------------------------------------------------------------------------
// Resolution

FsError TokenFilesystem::Refuse(const Error& error,
                                std::string_view context) const {
  return FsError{ErrnoFor(error.code),
                 std::string(context) + ": " + error.message};
}

tl::expected<NodeId, FsError> TokenFilesystem::Decode(fuse_ino_t inode) const {
  auto node = DecodeInode(inode);
  if (!node) {
    return tl::unexpected(
        Errno(ENOENT, "inode " + std::to_string(inode) + " names nothing"));
  }
  return *node;
}

std::string TokenFilesystem::Describe(const NodeId& node) const {
  std::string path = options_.mount_point;
  switch (node.scope) {
    case Scope::kRoot:
      break;
    case Scope::kProcess:
      path += "/" + std::to_string(node.pid);
      break;
    case Scope::kThread:
      path += "/" + std::to_string(node.pid) + "/" + std::to_string(node.tid);
      break;
    case Scope::kObject:
      path += "/objects/" + std::to_string(node.object);
      break;
  }
  // Code 0 is the scope's own directory (the root, a token directory).
  if (node.code == 0) return path;
  if (const TreeEntry* entry = EntryForNode(node)) {
    if (node.is_token_scope() && IsQueryFileCode(node.code)) {
      path += "/query";
    }
    path += "/";
    path += entry->name;
  }
  return path;
}

void TokenFilesystem::SyncFor(const RequestContext& context,
                              const NodeId& node, int32_t extra) {
  const int32_t caller = context.pid;
  events_.Sync(
      {caller, registry_.CachedProcessOf(caller), node.pid, node.tid, extra});
}

tl::expected<TokenFilesystem::Caller, FsError> TokenFilesystem::ResolveCaller(
    const RequestContext& context) {
  if (context.pid <= 0) {
    return tl::unexpected(Errno(
        EACCES, "caller outside the daemon's pid namespace (pid 0) refused"));
  }
  auto task = registry_.Task(context.pid);
  if (!task) {
    return tl::unexpected(
        Errno(EACCES, "caller " + std::to_string(context.pid) +
                          " could not be identified: " + task.error().message));
  }
  Caller caller;
  caller.tid = context.pid;
  caller.process = task->process;
  caller.uid = context.uid;
  caller.gid = context.gid;
  caller.primary_object = task->primary;
  caller.effective_object = task->effective();
  caller.primary = caller.primary_object->Get();
  caller.effective = caller.effective_object->Get();
  return caller;
}

tl::expected<TokenFilesystem::Target, FsError> TokenFilesystem::ResolveTarget(
    const NodeId& node) {
  Target target;
  target.node = node;
  switch (node.scope) {
    case Scope::kRoot:
      return tl::unexpected(Errno(ENOENT, "not a token node"));
    case Scope::kProcess: {
      auto process = registry_.Process(node.pid);
      if (!process) return tl::unexpected(TargetError(process.error()));
      target.object = process->primary;
      target.primary = process->primary;
      target.process = process->key;
      target.process_credentials = process->credentials;
      target.description = "process " + std::to_string(node.pid);
      break;
    }
    case Scope::kThread: {
      auto thread = registry_.Thread(node.pid, node.tid);
      if (!thread) return tl::unexpected(TargetError(thread.error()));
      auto process = registry_.Process(node.pid);
      if (!process) return tl::unexpected(TargetError(process.error()));
      target.object = thread->effective();
      target.primary = thread->primary;
      target.process = thread->process;
      target.process_credentials = process->credentials;
      target.description = "thread " + std::to_string(node.tid) +
                           " of process " + std::to_string(node.pid);
      break;
    }
    case Scope::kObject: {
      auto object = registry_.FindObject(Luid{node.object});
      if (!object) {
        return tl::unexpected(Errno(ENOENT, object.error().message));
      }
      target.object = *object;
      target.description = "token object " + std::to_string(node.object);
      break;
    }
  }
  target.token = target.object->Get();
  return target;
}

Inspection TokenFilesystem::MakeInspection(const Caller& caller,
                                           const ProcessKey& process,
                                           const LinuxCredentials& credentials,
                                           std::string_view description) const {
  Inspection inspection;
  inspection.caller_fsuid = caller.uid;
  inspection.caller_fsgid = caller.gid;
  inspection.same_process = caller.process == process;
  // The probes refer to `caller` and to this object, which outlive the
  // request's decision; small captures keep std::function off the heap on
  // every open.
  inspection.caller_credentials =
      [this, &caller]() -> std::optional<LinuxCredentials> {
    auto current = source_.CurrentCapabilities(caller.tid, caller.process);
    if (!current) return std::nullopt;
    // The namespace-owner rule compares with the euid; the request's fsuid
    // stands in for it.
    current->effective_uid = caller.uid;
    return *current;
  };
  inspection.target = credentials;
  const int32_t pid = process.pid;
  inspection.target_state = [this, pid] { return source_.CurrentState(pid); };
  inspection.description = description;
  return inspection;
}

std::optional<std::string> TokenFilesystem::InspectionDenialFor(
    const Caller& caller, const ProcessKey& process,
    const LinuxCredentials& credentials, std::string_view description) const {
  return InspectionDenial(
      MakeInspection(caller, process, credentials, description));
}

AuthorizationRequest TokenFilesystem::MakeAuthorizationRequest(
    const Caller& caller, const Target& target, AccessMask desired,
    std::string_view capability) const {
  AuthorizationRequest request;
  request.caller_effective = caller.effective.get();
  request.caller_primary = caller.primary.get();
  if (target.process_credentials) {
    request.inspection =
        MakeInspection(caller, target.process, *target.process_credentials,
                       target.description);
  }
  request.target = target.token.get();
  request.target_description = target.description;
  request.desired = desired;
  request.capability = capability;
  return request;
}

tl::expected<AuthorizationResult, FsError> TokenFilesystem::Authorize(
    const Caller& caller, const Target& target, AccessMask desired,
    std::string_view capability, std::string_view operation) {
  // The peer of a connection the caller holds: its primary token, as it was
  // when the grant was made (core AuthorizePeer).
  if (target.process_credentials && !desired.empty() &&
      kPeerGrantRights.Contains(desired) &&
      HasPeerGrant(caller, target.process, target.object)) {
    AuthorizationResult result = AuthorizePeer(caller.checking(), desired,
                                               capability, target.description);
    if (result.allowed) return result;
    return tl::unexpected(Errno(EACCES, std::string(operation) + " " +
                                            Describe(target.node) + ": " +
                                            result.reason));
  }
  AuthorizationResult result = tokenfs::Authorize(
      MakeAuthorizationRequest(caller, target, desired, capability));
  if (result.privileges_used) {
    caller.checking_object()->MarkPrivilegesUsed(result.privileges_used);
  }
  if (!result.allowed) {
    return tl::unexpected(Errno(
        EACCES, std::string(operation) + " " + Describe(target.node) +
                    " by pid " + std::to_string(caller.process.pid) + " (uid " +
                    std::to_string(caller.uid) + "): " + result.reason));
  }
  return result;
}

tl::expected<void, FsError> TokenFilesystem::AuthorizeWriteOpen(
    const Caller& caller, const Target& target, const TreeEntry& entry,
    const NodeId& node) {
  if (!entry.write_right.empty()) {
    auto allowed = Authorize(caller, target, entry.write_right, {}, "write");
    if (!allowed) return tl::unexpected(allowed.error());
    return {};
  }
  // security, impersonate, install, persist: the right depends on what is
  // written and is checked then; opening a process's file needs the Linux
  // inspection right.
  if (target.process_credentials) {
    if (auto denial = InspectionDenialFor(caller, target.process,
                                          *target.process_credentials,
                                          target.description)) {
      return tl::unexpected(
          Errno(EACCES, "write " + Describe(node) + ": " + *denial));
    }
  }
  return {};
}

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
    if (!info) return tl::unexpected(Errno(ENOENT, info.error().message));
    attr.st_uid = info->creator_uid;
    attr.st_gid = info->creator_gid;
  } else if (node.scope != Scope::kRoot) {
    auto process = registry_.Process(node.pid);
    if (!process) return tl::unexpected(Errno(ENOENT, process.error().message));
    if (node.scope == Scope::kThread) {
      auto thread = registry_.Thread(node.pid, node.tid);
      if (!thread) return tl::unexpected(Errno(ENOENT, thread.error().message));
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
  if (!entry) return tl::unexpected(Errno(ENOENT, "no such node"));
  attr.st_mode = ModeFor(entry->kind, entry->writable);
  if (entry->kind == NodeKind::kDirectory) attr.st_nlink = 2;
  return attr;
}

// ---------------------------------------------------------------------------
// Operations

TokenFilesystem::Outcome TokenFilesystem::DoLookup(
    const RequestContext& context, fuse_ino_t parent_inode,
    std::string_view name) {
  auto parent = Decode(parent_inode);
  if (!parent) return tl::unexpected(parent.error());
  {
    auto number = ParseNumber(name);
    SyncFor(context, *parent,
            number && *number <= INT32_MAX ? static_cast<int32_t>(*number) : 0);
  }
  NodeId child;
  bool found = false;
  if (parent->scope == Scope::kRoot &&
      parent->code == static_cast<uint8_t>(NodeCode::kRootDir)) {
    if (const TreeEntry* entry = FindEntry(RootEntries(), name, Scope::kRoot)) {
      child = NodeId{Scope::kRoot, entry->code};
      found = true;
    } else if (auto pid = ParseNumber(name); pid && *pid <= INT32_MAX / 2) {
      child = NodeId{Scope::kProcess, 0, static_cast<int32_t>(*pid)};
      found = true;
    }
  } else if (parent->scope == Scope::kRoot &&
             parent->code == static_cast<uint8_t>(NodeCode::kObjectsDir)) {
    if (auto id = ParseNumber(name); id && *id > 0) {
      child = NodeId{Scope::kObject, 0, 0, 0, *id};
      found = true;
    }
  } else if (parent->scope == Scope::kRoot &&
             parent->code == static_cast<uint8_t>(NodeCode::kPeerDir)) {
    if (auto fd = ParseNumber(name); fd && *fd <= INT32_MAX) {
      child = NodeId{Scope::kRoot, static_cast<uint8_t>(NodeCode::kPeerLink), 0,
                     0, *fd};
      found = true;
    }
  } else if (parent->is_token_scope() &&
             parent->code == static_cast<uint8_t>(NodeCode::kTokenDir)) {
    if (const TreeEntry* entry =
            FindEntry(TokenDirectoryEntries(), name, parent->scope)) {
      child = *parent;
      child.code = entry->code;
      found = true;
      if (entry->code == static_cast<uint8_t>(NodeCode::kLinkedLink)) {
        auto target = ResolveTarget(*parent);
        if (!target) return tl::unexpected(target.error());
        found = target->object->LinkedPartner() != nullptr;
      }
    } else if (parent->scope == Scope::kProcess) {
      if (auto tid = ParseNumber(name); tid && *tid <= (1u << 26) - 1) {
        child =
            NodeId{Scope::kThread, 0, parent->pid, static_cast<int32_t>(*tid)};
        found = true;
      }
    }
  } else if (parent->is_token_scope() &&
             parent->code == static_cast<uint8_t>(NodeCode::kQueryDir)) {
    if (const TreeEntry* entry =
            FindEntry(QueryDirectoryEntries(), name, parent->scope)) {
      child = *parent;
      child.code = entry->code;
      found = true;
    }
  } else {
    return tl::unexpected(Errno(ENOTDIR, "not a directory"));
  }
  if (!found) {
    return tl::unexpected(Errno(ENOENT, "no entry '" + std::string(name) +
                                            "' in " + Describe(*parent)));
  }
  auto attr = Attributes(child);
  if (!attr) return tl::unexpected(attr.error());
  EntryReply reply{};
  reply.entry.ino = EncodeInode(child);
  reply.entry.attr = *attr;
  reply.entry.attr_timeout = options_.attr_timeout;
  reply.entry.entry_timeout = options_.entry_timeout;
  return reply;
}

TokenFilesystem::Outcome TokenFilesystem::DoGetattr(
    const RequestContext& context, fuse_ino_t inode) {
  auto node = Decode(inode);
  if (!node) return tl::unexpected(node.error());
  SyncFor(context, *node);
  auto attr = Attributes(*node);
  if (!attr) return tl::unexpected(attr.error());
  return AttrReply{*attr};
}

TokenFilesystem::Outcome TokenFilesystem::DoSetattr(
    const RequestContext& context, fuse_ino_t inode, const struct stat& wanted,
    int to_set, bool has_handle) {
  auto node = Decode(inode);
  if (!node) return tl::unexpected(node.error());
  const TreeEntry* entry = EntryForNode(*node);
  // The shell's `>` may arrive as a truncation to size 0 (without
  // atomic_o_trunc): accept it on writable files as a no-op. Nothing else.
  const bool only_size =
      (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MTIME |
                  FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME)) == 0;
  if (!entry || !entry->writable || !only_size) {
    return tl::unexpected(
        Errno(EPERM, "attributes of " + Describe(*node) + " are fixed"));
  }
  if ((to_set & FUSE_SET_ATTR_SIZE) && wanted.st_size != 0) {
    return tl::unexpected(Errno(
        EINVAL, Describe(*node) + " can only be truncated to size 0, not " +
                    std::to_string(wanted.st_size)));
  }
  if (!has_handle && node->is_token_scope()) {
    // truncate(2) by path opens nothing: authorize it as an open for
    // writing would be.
    SyncFor(context, *node);
    auto caller = ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    auto target = ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    auto allowed = AuthorizeWriteOpen(*caller, *target, *entry, *node);
    if (!allowed) return tl::unexpected(allowed.error());
  }
  auto attr = Attributes(*node);
  if (!attr) return tl::unexpected(attr.error());
  return AttrReply{*attr};
}

TokenFilesystem::Outcome TokenFilesystem::DoReadlink(
    const RequestContext& context, fuse_ino_t inode) {
  auto node = Decode(inode);
  if (!node) return tl::unexpected(node.error());
  SyncFor(context, *node);
  if (node->scope == Scope::kRoot &&
      node->code == static_cast<uint8_t>(NodeCode::kSelfLink)) {
    auto caller = ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    return LinkReply{std::to_string(caller->process.pid) + "/" +
                     std::to_string(caller->tid)};
  }
  if (node->scope == Scope::kRoot &&
      node->code == static_cast<uint8_t>(NodeCode::kPeerLink)) {
    auto caller = ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    auto link = ResolvePeer(*caller, node->object);
    if (!link) return tl::unexpected(link.error());
    return LinkReply{std::move(*link)};
  }
  if (node->is_token_scope() &&
      node->code == static_cast<uint8_t>(NodeCode::kLinkedLink)) {
    auto caller = ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    auto target = ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    auto link = ResolveLinked(*caller, *target, *node);
    if (!link) return tl::unexpected(link.error());
    return LinkReply{std::move(*link)};
  }
  return tl::unexpected(Errno(EINVAL, "not a symbolic link"));
}

TokenFilesystem::Outcome TokenFilesystem::DoOpen(
    const RequestContext& context, fuse_ino_t inode, int flags) {
  auto node = Decode(inode);
  if (!node) return tl::unexpected(node.error());
  const TreeEntry* entry = EntryForNode(*node);
  if (!entry || entry->kind == NodeKind::kDirectory) {
    return tl::unexpected(Errno(EISDIR, Describe(*node) + " is a directory"));
  }
  if (entry->kind == NodeKind::kSymlink) {
    return tl::unexpected(Errno(ELOOP, Describe(*node) + " is a link"));
  }
  SyncFor(context, *node);
  const int mode = flags & O_ACCMODE;
  std::unique_ptr<OpenFile, OpenFileDeleter> file(new OpenFile());
  file->node = *node;
  file->entry = entry;
  file->readable = mode == O_RDONLY || mode == O_RDWR;
  file->writable = mode == O_WRONLY || mode == O_RDWR;
  if (file->writable && !entry->writable) {
    return tl::unexpected(Errno(EACCES, Describe(*node) + " is read-only"));
  }
  auto caller = ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  file->opener = Opener{caller->uid, caller->gid, caller->effective->user,
                        caller->effective->integrity_rid};

  if (node->scope == Scope::kRoot) {
    if (node->code == static_cast<uint8_t>(NodeCode::kRegistryFile)) {
      file->content = std::make_shared<const std::string>(RenderRegistry());
    }
    // create and link decide at write time (privileges, references).
  } else {
    auto target = ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    file->object = node->scope == Scope::kObject ? target->object : nullptr;
    file->process = target->process;
    // Every open is authorized, whatever the file and mode. The impersonate
    // file shows and changes the thread's state, not a token: a process may
    // always see and revert its own threads (as RevertToSelf always works,
    // whatever the thread impersonates); another process's threads need
    // QUERY on that process's primary token.
    Target about = *target;
    const bool thread_state =
        node->code == static_cast<uint8_t>(NodeCode::kImpersonateFile);
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
    if (file->readable && !own_thread_state) {
      const std::string_view capability =
          read_right == access::kTokenQuery && !thread_state
              ? QueryCapabilityFor(*caller->effective, *caller->primary,
                                   *about.token)
              : std::string_view();
      auto allowed = Authorize(*caller, about, read_right, capability, "read");
      if (!allowed) return tl::unexpected(allowed.error());
    }
    if (file->writable) {
      auto allowed = AuthorizeWriteOpen(*caller, about, *entry, *node);
      if (!allowed) return tl::unexpected(allowed.error());
    }
    if (file->readable && (entry->kind == NodeKind::kTextFile ||
                           entry->kind == NodeKind::kQueryFile)) {
      // A pure function of the token snapshot: rendered once per version
      // while the cache keeps it, and opens of that version share the text.
      file->content = render_cache_.Get(target->token, node->code, [&] {
        return Render(*node, *target->token);
      });
    } else if (file->readable && entry->kind == NodeKind::kControl) {
      file->content =
          std::make_shared<const std::string>(Render(*node, *target->token));
    }
  }
  if (file->content && caller->uid != 0) {
    const size_t bytes = file->content->size();
    if (!open_content_.Charge(caller->uid, bytes)) {
      return tl::unexpected(
          Errno(EMFILE, "open " + Describe(*node) + ": uid " +
                            std::to_string(caller->uid) + " already holds " +
                            std::to_string(open_content_.held(caller->uid)) +
                            " bytes in open token files (limit " +
                            std::to_string(OpenContentBudget::kBytesPerUid) +
                            "); close some"));
    }
    file->hold = std::make_unique<OpenContentBudget::Hold>(&open_content_,
                                                           caller->uid, bytes);
  }
  return OpenReply{std::move(file)};
}

TokenFilesystem::Outcome TokenFilesystem::DoRead(uint64_t handle, size_t size,
                                                 off_t offset) {
  auto* file = reinterpret_cast<OpenFile*>(handle);
  if (!file->readable) {
    return tl::unexpected(Errno(EBADF, "file not open for reading"));
  }
  std::lock_guard<std::mutex> lock(file->mutex);
  size_t start = static_cast<size_t>(std::max<off_t>(offset, 0));
  if (file->writable) start = file->read_cursor;
  if (!file->content || start >= file->content->size()) return DataReply{};
  const size_t count = std::min(size, file->content->size() - start);
  if (file->writable) file->read_cursor = start + count;
  return ContentReply{file->content, start, count};
}

TokenFilesystem::Outcome TokenFilesystem::DoWrite(
    const RequestContext& context, uint64_t handle, std::string_view data) {
  const size_t size = data.size();
  auto* file = reinterpret_cast<OpenFile*>(handle);
  if (!file->writable) {
    return tl::unexpected(Errno(EBADF, "file not open for writing"));
  }
  if (size > kMaxCommandSize) {
    return tl::unexpected(Errno(
        EFBIG, "write of " + std::to_string(size) + " bytes to " +
                   Describe(file->node) + " exceeds the " +
                   std::to_string(kMaxCommandSize) + "-byte command limit"));
  }
  SyncFor(context, file->node);
  auto caller = ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  // Writes are authorized with the opener's identity: a write through a
  // descriptor someone else opened is refused (notes/fuse.md fact 5).
  const Opener& opener = file->opener;
  if (caller->uid != opener.uid || caller->gid != opener.gid ||
      !(caller->effective->user == opener.user) ||
      caller->effective->integrity_rid != opener.integrity_rid) {
    return tl::unexpected(Errno(
        EPERM, "write to " + Describe(file->node) + " by pid " +
                   std::to_string(caller->process.pid) + " (uid " +
                   std::to_string(caller->uid) +
                   ") refused: the file was opened by another identity (uid " +
                   std::to_string(opener.uid) + ", " + opener.user.ToString() +
                   ")"));
  }
  std::lock_guard<std::mutex> lock(file->mutex);
  file->read_cursor = 0;
  const auto failed = [file](const FsError& error) {
    file->content = std::make_shared<const std::string>(
        "error: " + std::string(std::strerror(error.errno_value)) + ": " +
        error.reason + "\n");
    return tl::unexpected(error);
  };
  auto result = ApplyWrite(*file, *caller, data);
  if (!result) return failed(result.error());
  if (auto durable = MakeDurable(Describe(file->node)); !durable) {
    return failed(durable.error());
  }
  file->content = std::make_shared<const std::string>(std::move(*result));
  return WriteReply{size};
}

tl::expected<void, FsError> TokenFilesystem::MakeDurable(
    const std::string& where) {
  if (!options_.journal) return {};
  if (Status flushed = options_.journal->Flush(); !flushed) {
    return tl::unexpected(
        Errno(EIO, where + ": the change could not be made durable (" +
                       flushed.error().message + ")"));
  }
  return {};
}

TokenFilesystem::Outcome TokenFilesystem::DoOpendir(
    const RequestContext& context, fuse_ino_t inode) {
  auto node = Decode(inode);
  if (!node) return tl::unexpected(node.error());
  SyncFor(context, *node);
  auto handle = std::make_unique<DirHandle>();
  auto add = [&handle](std::string name, const NodeId& child, mode_t mode) {
    handle->entries.push_back({std::move(name), EncodeInode(child), mode});
  };
  add(".", *node, S_IFDIR);
  add("..", NodeId{}, S_IFDIR);
  if (node->scope == Scope::kRoot &&
      node->code == static_cast<uint8_t>(NodeCode::kRootDir)) {
    for (const TreeEntry& entry : RootEntries()) {
      add(std::string(entry.name), NodeId{Scope::kRoot, entry.code},
          ModeFor(entry.kind, entry.writable));
    }
    for (int32_t pid : source_.ListProcesses()) {
      add(std::to_string(pid), NodeId{Scope::kProcess, 0, pid}, S_IFDIR);
    }
  } else if (node->scope == Scope::kRoot &&
             node->code == static_cast<uint8_t>(NodeCode::kPeerDir)) {
    // Peer links depend on the caller's descriptors: look them up by number.
  } else if (node->scope == Scope::kRoot &&
             node->code == static_cast<uint8_t>(NodeCode::kObjectsDir)) {
    auto caller = ResolveCaller(context);
    if (!caller) return tl::unexpected(caller.error());
    for (Luid id : registry_.ListObjects()) {
      NodeId child{Scope::kObject, 0, 0, 0, id.value};
      auto target = ResolveTarget(child);
      if (!target) continue;
      // Listing shows the objects the caller could read (a probe: nothing
      // logged, no privilege marked used).
      const AuthorizationRequest probe =
          MakeAuthorizationRequest(*caller, *target, access::kTokenQuery, {});
      if (tokenfs::Authorize(probe).allowed) {
        add(std::to_string(id.value), child, S_IFDIR);
      }
    }
  } else if (node->is_token_scope() &&
             node->code == static_cast<uint8_t>(NodeCode::kTokenDir)) {
    auto target = ResolveTarget(*node);
    if (!target) return tl::unexpected(target.error());
    for (const TreeEntry& entry : TokenDirectoryEntries()) {
      if (!entry.AppliesTo(node->scope)) continue;
      // `linked` exists only while there is a partner, so `ls -l`, `cp -r`
      // and `tar` never meet a dangling link.
      if (entry.code == static_cast<uint8_t>(NodeCode::kLinkedLink) &&
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
             node->code == static_cast<uint8_t>(NodeCode::kQueryDir)) {
    for (const TreeEntry& entry : QueryDirectoryEntries()) {
      NodeId child = *node;
      child.code = entry.code;
      add(std::string(entry.name), child, ModeFor(entry.kind, false));
    }
  } else {
    return tl::unexpected(
        Errno(ENOTDIR, Describe(*node) + " is not a directory"));
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
  auto node = Decode(inode);
  if (!node) return tl::unexpected(node.error());
  SyncFor(context, *node);
  auto attr = Attributes(*node);
  if (!attr) return tl::unexpected(attr.error());
  if (mask == F_OK) return NoneReply{};
  const TreeEntry* entry = EntryForNode(*node);
  const bool directory = S_ISDIR(attr->st_mode);
  if ((mask & X_OK) && !directory) {
    return tl::unexpected(
        Errno(EACCES, Describe(*node) + " is not executable"));
  }
  if ((mask & W_OK) && (!entry || !entry->writable)) {
    return tl::unexpected(Errno(EACCES, Describe(*node) + " is read-only"));
  }
  if (node->scope == Scope::kRoot || directory || !entry) return NoneReply{};
  auto caller = ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  auto target = ResolveTarget(*node);
  if (!target) return tl::unexpected(target.error());
  AccessMask desired;
  if (mask & R_OK) desired |= entry->read_right;
  if (mask & W_OK) desired |= entry->write_right;
  if (desired.empty()) return NoneReply{};
  auto allowed = Authorize(*caller, *target, desired, {}, "access");
  if (!allowed) return tl::unexpected(allowed.error());
  return NoneReply{};
}

TokenFilesystem::Outcome TokenFilesystem::DoRmdir(
    const RequestContext& context, fuse_ino_t parent_inode,
    std::string_view name) {
  auto parent = Decode(parent_inode);
  if (!parent) return tl::unexpected(parent.error());
  if (!(parent->scope == Scope::kRoot &&
        parent->code == static_cast<uint8_t>(NodeCode::kObjectsDir))) {
    return tl::unexpected(Errno(EPERM, "only token objects (" +
                                           options_.mount_point +
                                           "/objects/ID) can be removed"));
  }
  auto id = ParseNumber(name);
  if (!id)
    return tl::unexpected(
        Errno(ENOENT, "no token object " + std::string(name)));
  SyncFor(context, *parent);
  auto caller = ResolveCaller(context);
  if (!caller) return tl::unexpected(caller.error());
  auto target = ResolveTarget(NodeId{Scope::kObject, 0, 0, 0, *id});
  if (!target) return tl::unexpected(target.error());
  auto revoked = ApplyPersist(*caller, *target, "revoke");
  if (!revoked) return tl::unexpected(revoked.error());
  if (auto durable = MakeDurable(Describe(target->node)); !durable) {
    return tl::unexpected(durable.error());
  }
  return NoneReply{};
}

// ---------------------------------------------------------------------------
// Content

std::string TokenFilesystem::Render(const NodeId& node, const Token& token) {
  const uint8_t code = node.code;
  if (const std::optional<TokenFile> file = TextFileOf(code)) {
    return RenderTokenFile(token, *file, render_options_);
  }
  if (code == static_cast<uint8_t>(NodeCode::kQueryAllFile)) {
    return AllClassesJson(token, render_options_).dump(2) + "\n";
  }
  if (code > static_cast<uint8_t>(NodeCode::kQueryFileBase) &&
      code < static_cast<uint8_t>(NodeCode::kQueryAllFile)) {
    auto query_class =
        QueryClassFromId(code - static_cast<uint8_t>(NodeCode::kQueryFileBase));
    if (query_class) {
      return QueryClassJson(token, *query_class, render_options_).dump(2) +
             "\n";
    }
  }
  if (code == static_cast<uint8_t>(NodeCode::kImpersonateFile)) {
    if (token.type == TokenType::kImpersonation) {
      return Line("impersonating",
                  "id:" + std::to_string(token.token_id.value)) +
             Line("level", ImpersonationLevelName(token.impersonation_level));
    }
    return Line("impersonating", "none");
  }
  if (code == static_cast<uint8_t>(NodeCode::kPersistFile)) {
    auto info = registry_.ObjectDetails(Luid{node.object});
    return Line("persist", info && info->persist ? "yes" : "no");
  }
  return {};
}

std::string TokenFilesystem::RenderRegistry() const {
  const Registry::Stats stats = registry_.GetStats();
  std::string text;
  text += Line("processes", std::to_string(stats.processes));
  text += Line("threads", std::to_string(stats.threads));
  text += Line("impersonating", std::to_string(stats.impersonating));
  text += Line("objects", std::to_string(stats.objects));
  text += Line("minted", std::to_string(stats.minted));
  text += Line("inherited", std::to_string(stats.inherited));
  text += Line("reminted", std::to_string(stats.reminted));
  text += Line("narrowed", std::to_string(stats.narrowed));
  text += Line("sweeps", std::to_string(stats.sweeps));
  text += Line("events", stats.events_live ? "live" : "validating");
  text += Line("events_applied", std::to_string(events_.events_applied()));
  text += Line("event_overflows", std::to_string(events_.overflows()));
  text += Line("requests", std::to_string(requests_.load()));
  return text;
}

// ---------------------------------------------------------------------------
// Writes

tl::expected<std::string, FsError> TokenFilesystem::ApplyWrite(
    OpenFile& file, const Caller& caller, std::string_view data) {
  const NodeId& node = file.node;
  if (node.scope == Scope::kRoot) {
    if (node.code == static_cast<uint8_t>(NodeCode::kCreateFile)) {
      return ApplyCreate(caller, data);
    }
    if (node.code == static_cast<uint8_t>(NodeCode::kLinkFile)) {
      return ApplyLink(caller, data);
    }
    return tl::unexpected(Errno(EACCES, Describe(node) + " is read-only"));
  }
  auto target = ResolveTarget(node);
  if (!target) return tl::unexpected(target.error());
  if (!(target->process == file.process)) {
    return tl::unexpected(Errno(
        ESRCH, Describe(node) + ": the process this file was opened on has "
                                "exited (its pid now names another process)"));
  }
  const uint8_t code = node.code;
  if (const std::optional<TokenFile> text_file = TextFileOf(code)) {
    return ApplyTokenFileWrite(file, caller, *target, *text_file, data);
  }
  switch (static_cast<NodeCode>(code)) {
    case NodeCode::kImpersonateFile:
      return ApplyImpersonate(caller, *target, data);
    case NodeCode::kAccessFile: {
      auto allowed =
          Authorize(caller, *target, access::kTokenQuery,
                    QueryCapabilityFor(*caller.effective, *caller.primary,
                                       *target->token),
                    "access check with");
      if (!allowed) return tl::unexpected(allowed.error());
      return ApplyAccess(*target, data);
    }
    case NodeCode::kDuplicateFile:
    case NodeCode::kRestrictFile:
      return ApplyDerive(caller, *target, static_cast<NodeCode>(code), data);
    case NodeCode::kPersistFile:
      return ApplyPersist(caller, *target, data);
    case NodeCode::kInstallFile:
      return ApplyInstall(caller, *target, data);
    default:
      return tl::unexpected(Errno(EACCES, Describe(node) + " is read-only"));
  }
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyTokenFileWrite(
    OpenFile& file, const Caller& caller, const Target& target,
    TokenFile text_file, std::string_view data) {
  const std::string where = Describe(file.node);
  auto write = ParseTokenFileWrite(text_file, data);
  if (!write) return tl::unexpected(Refuse(write.error(), where));
  auto allowed = Authorize(caller, target, write->right, {}, "write");
  if (!allowed) return tl::unexpected(allowed.error());
  const Token& checking = caller.checking();
  auto updated = target.object->Update([&](const Token& token) {
    return tokenfs::ApplyTokenFileWrite(token, *write, checking, ids_);
  });
  if (!updated) return tl::unexpected(Refuse(updated.error(), where));
  return std::string("ok\n");
}

tl::expected<TokenFilesystem::Target, FsError>
TokenFilesystem::ResolveReference(const TokenReference& reference) {
  NodeId node;
  switch (reference.kind) {
    case TokenReference::Kind::kProcess:
      node = NodeId{Scope::kProcess, 0, reference.pid};
      break;
    case TokenReference::Kind::kThread:
      node = NodeId{Scope::kThread, 0, reference.pid, reference.tid};
      break;
    case TokenReference::Kind::kObject:
      node = NodeId{Scope::kObject, 0, 0, 0, reference.object_id};
      break;
  }
  events_.Sync({node.pid, node.tid});
  return ResolveTarget(node);
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyImpersonate(
    const Caller& caller, const Target& thread, std::string_view data) {
  const std::string where = Describe(thread.node);
  auto command = ParseImpersonateCommand(data, options_.mount_point);
  if (!command) return tl::unexpected(Refuse(command.error(), where));
  // Changing a thread's token needs the Linux right over its process.
  if (auto denial = InspectionDenialFor(caller, thread.process,
                                        *thread.process_credentials,
                                        thread.description)) {
    return tl::unexpected(
        Errno(EACCES, "impersonate " + where + ": " + *denial));
  }
  if (command->revert) {
    auto reverted = registry_.Revert(thread.node.pid, thread.node.tid);
    if (!reverted) return tl::unexpected(Refuse(reverted.error(), where));
    return std::string("reverted\n");
  }
  auto resolved = ResolveReference(command->target);
  if (!resolved) return tl::unexpected(resolved.error());
  const Target& client = *resolved;
  auto allowed = Authorize(caller, client, kImpersonateRight,
                           tree_capability::kImpersonate, "impersonate");
  if (!allowed) return tl::unexpected(allowed.error());
  // The gates are evaluated against the primary token of the process whose
  // thread will impersonate.
  const std::shared_ptr<const Token> server = thread.primary->Get();
  auto decision = CheckImpersonation(*server, *client.token, command->level);
  if (!decision) return tl::unexpected(Refuse(decision.error(), where));
  if (command->adopt_at_exec) {
    if (auto adopt = DecideAdoptAtExec(*decision, *client.token, *server);
        !adopt) {
      return tl::unexpected(Refuse(
          adopt.error(), "cannot run a command under " + client.description));
    }
  }
  const Sid& creator = caller.checking().user;
  TokenObjectPtr impersonation;
  if (client.token->type == TokenType::kImpersonation &&
      client.token->impersonation_level == decision->level) {
    impersonation = client.object;
  } else {
    auto copy =
        MakeImpersonationToken(*client.token, decision->level, creator, ids_);
    if (!copy) return tl::unexpected(Refuse(copy.error(), where));
    impersonation = registry_.NewObject(std::move(*copy));
  }
  TokenObjectPtr adopt;
  if (command->adopt_at_exec) {
    DuplicateRequest primary_request;
    primary_request.type = TokenType::kPrimary;
    auto primary = Duplicate(*client.token, primary_request, creator, ids_);
    if (!primary) return tl::unexpected(Refuse(primary.error(), where));
    adopt = registry_.NewObject(std::move(*primary));
  }
  auto done = registry_.Impersonate(thread.node.pid, thread.node.tid,
                                    impersonation, adopt);
  if (!done) return tl::unexpected(Refuse(done.error(), where));
  std::string text = Line("impersonating", client.description);
  text += Line("level", ImpersonationLevelName(decision->level));
  if (decision->capped) text += Line("capped", decision->reason);
  if (adopt) text += Line("at_exec", "primary token");
  return text;
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyAccess(
    const Target& target, std::string_view data) {
  const std::string where = Describe(target.node);
  auto command = ParseAccessCommand(data);
  if (!command) return tl::unexpected(Refuse(command.error(), where));
  const SecurityDescriptor& sd =
      command->descriptor ? *command->descriptor : target.token->security;
  AccessRequest request;
  request.desired = command->desired;
  request.mapping = command->mapping;
  request.intent = command->intent;
  request.principal_self = command->principal_self;
  const AccessCheckResult result = AccessCheck(*target.token, sd, request);
  if (result.privileges_used) {
    target.object->MarkPrivilegesUsed(result.privileges_used);
  }
  std::vector<std::string_view> used;
  for (const PrivilegeInfo& info : PrivilegeCatalog()) {
    if (result.privileges_used & privilege::Bit(info.bit)) {
      used.push_back(info.short_name);
    }
  }
  if (command->json) {
    nlohmann::json document = {
        {"status", AccessStatusName(result.status)},
        {"granted", Hex(result.granted)},
        {"granted_names", RightsNames(result.granted, command->mapping_name)},
        {"desired", Hex(result.desired_mapped)},
        {"mapping", command->mapping_name},
        {"reason", result.reason},
        {"deciding_ace", result.deciding_ace},
        {"privileges_used", used},
        {"sd", FormatSddl(sd)},
        {"trace", nlohmann::json::array()},
    };
    for (const AccessTraceStep& step : result.trace) {
      document["trace"].push_back({{"step", step.step},
                                   {"detail", step.detail},
                                   {"ace", step.ace_index}});
    }
    return document.dump(2) + "\n";
  }
  std::string text;
  text += Line("status", AccessStatusName(result.status));
  text += Line("granted", Hex(result.granted));
  // Unlike RightsNames: "0" (token) or "" (SDDL) when nothing was granted.
  text += Line("granted_names", command->mapping_name == "token"
                                    ? FormatTokenRights(result.granted)
                                    : FormatSddlRights(result.granted));
  text += Line("desired", Hex(result.desired_mapped));
  text += Line("mapping", command->mapping_name);
  text += Line("reason", result.reason);
  text += Line("deciding_ace", std::to_string(result.deciding_ace));
  std::string used_names;
  for (std::string_view name : used) {
    if (!used_names.empty()) used_names += ",";
    used_names += name;
  }
  text += Line("privileges_used", used_names.empty() ? "-" : used_names);
  text += Line("sd", FormatSddl(sd));
  for (const AccessTraceStep& step : result.trace) {
    text += Line("trace", step.step + ": " + step.detail);
  }
  return text;
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyDerive(
    const Caller& caller, const Target& target, NodeCode code,
    std::string_view data) {
  const std::string where = Describe(target.node);
  auto allowed = Authorize(caller, target, kDeriveRight,
                           tree_capability::kCreate, "derive a token from");
  if (!allowed) return tl::unexpected(allowed.error());
  const Sid& creator = caller.checking().user;
  Token derived;
  bool persist = false;
  std::optional<int32_t> holder;
  std::string notes;
  if (code == NodeCode::kDuplicateFile) {
    auto command = ParseDuplicateCommand(data);
    if (!command) return tl::unexpected(Refuse(command.error(), where));
    auto result = Duplicate(*target.token, command->request, creator, ids_);
    if (!result) return tl::unexpected(Refuse(result.error(), where));
    if (auto granted =
            DecideDuplicateAccess(caller.checking(), *result, command->access);
        !granted) {
      return tl::unexpected(Refuse(granted.error(), where));
    }
    derived = std::move(*result);
    persist = command->persist;
    holder = command->holder;
  } else {
    auto command = ParseRestrictCommand(data);
    if (!command) return tl::unexpected(Refuse(command.error(), where));
    auto result = Restrict(*target.token, command->request, creator, ids_);
    if (!result) return tl::unexpected(Refuse(result.error(), where));
    derived = std::move(result->token);
    persist = command->persist;
    holder = command->holder;
    GrantOwnRestrictedUse(derived, creator);
    for (const std::string& name : result->narrowed_capabilities) {
      notes += Line("narrowed", name);
    }
    for (const std::string& name : result->dropped_capabilities) {
      notes += Line("dropped", name);
    }
  }
  ProcessKey keeper = caller.process;
  if (holder) {
    auto kept_by = HolderProcess(caller, *holder);
    if (!kept_by) return tl::unexpected(kept_by.error());
    keeper = *kept_by;
  }
  auto object = registry_.AddObject(std::move(derived), keeper, caller.uid,
                                    persist, caller.gid);
  if (!object) return tl::unexpected(Refuse(object.error(), where));
  const std::string id = std::to_string((*object)->id().value);
  return Line("id", id) +
         Line("path", options_.mount_point + "/objects/" + id) + notes;
}

tl::expected<ProcessKey, FsError> TokenFilesystem::HolderProcess(
    const Caller& caller, int32_t pid) {
  events_.Sync({pid});
  auto process = registry_.Process(pid);
  if (!process) return tl::unexpected(TargetError(process.error()));
  if (auto denial =
          InspectionDenialFor(caller, process->key, process->credentials,
                              "process " + std::to_string(pid))) {
    return tl::unexpected(Errno(EACCES, "holder: " + *denial));
  }
  return process->key;
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyCreate(
    const Caller& caller, std::string_view data) {
  const std::string where = options_.mount_point + "/create";
  auto used = DecideCreate(caller.checking());
  if (!used) {
    return tl::unexpected(
        Refuse(used.error(),
               where + " (pid " + std::to_string(caller.process.pid) + ")"));
  }
  caller.checking_object()->MarkPrivilegesUsed(*used);
  auto spec = DecodeTokenSpec(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  if (!spec) {
    if (spec.error().code == ErrorCode::kResourceExhausted) {
      return tl::unexpected(Errno(EFBIG, where + ": " + spec.error().message));
    }
    return tl::unexpected(Refuse(spec.error(), where));
  }
  const std::optional<LogonType> logon_type =
      registry_.SessionLogonType(spec->session_id);
  if (!logon_type) {
    return tl::unexpected(Errno(
        EINVAL, where + ": token spec: session_id " +
                    FormatLuid(spec->session_id) +
                    " names no logon session tokenfs knows (use the session "
                    "of an existing token, e.g. its stats authentication_id)"));
  }
  SpecBuildContext context{ids_, clock_, caller.checking().user,
                           &capability_names_, *logon_type};
  auto token = BuildTokenFromSpec(*spec, context);
  if (!token) return tl::unexpected(Refuse(token.error(), where));
  auto object = registry_.AddObject(std::move(*token), caller.process,
                                    caller.uid, false, caller.gid);
  if (!object) return tl::unexpected(Refuse(object.error(), where));
  const std::string id = std::to_string((*object)->id().value);
  return Line("id", id) + Line("path", options_.mount_point + "/objects/" + id);
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyPersist(
    const Caller& caller, const Target& target, std::string_view data) {
  const std::string where =
      target.object ? Describe(target.node) : options_.mount_point + "/objects";
  if (!target.object) {
    return tl::unexpected(Errno(ENOENT, where + ": no such token object"));
  }
  auto info = registry_.ObjectDetails(Luid{target.node.object});
  if (!info) return tl::unexpected(Refuse(info.error(), where));
  if (auto managed =
          DecideManageObject(caller.checking(), caller.uid, info->creator_uid);
      !managed) {
    return tl::unexpected(Refuse(managed.error(), where));
  }
  auto items = SplitCommandItems(data);
  if (!items || items->size() != 1) {
    return tl::unexpected(
        Errno(EINVAL, where + ": expected yes, no or revoke"));
  }
  const std::string& word = (*items)[0];
  if (word == "revoke") {
    auto removed = registry_.RemoveObject(Luid{target.node.object});
    if (!removed) return tl::unexpected(Refuse(removed.error(), where));
    return std::string("revoked\n");
  }
  if (word.rfind("holder=", 0) == 0) {
    auto pid = ParseHolder(std::string_view(word).substr(7));
    if (!pid) return tl::unexpected(Refuse(pid.error(), where));
    auto holder = HolderProcess(caller, *pid);
    if (!holder) return tl::unexpected(holder.error());
    auto set = registry_.SetHolder(Luid{target.node.object}, *holder);
    if (!set) return tl::unexpected(Refuse(set.error(), where));
    return Line("holder", "pid:" + std::to_string(*pid));
  }
  if (word == "yes" || word == "no") {
    auto set = registry_.SetPersist(Luid{target.node.object}, word == "yes");
    if (!set) return tl::unexpected(Refuse(set.error(), where));
    if (word == "no") registry_.ReleaseUnused();
    return Line("persist", word);
  }
  return tl::unexpected(Errno(
      EINVAL, where + ": expected yes, no or revoke, got '" + word + "'"));
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyLink(
    const Caller& caller, std::string_view data) {
  const std::string where = options_.mount_point + "/link";
  auto command = ParseLinkCommand(data, options_.mount_point);
  if (!command) return tl::unexpected(Refuse(command.error(), where));
  auto elevated = ResolveReference(command->elevated);
  if (!elevated) return tl::unexpected(elevated.error());
  auto filtered = ResolveReference(command->filtered);
  if (!filtered) return tl::unexpected(filtered.error());
  for (const Target* half : {&*elevated, &*filtered}) {
    auto allowed = Authorize(caller, *half, kLinkRight, {}, "link");
    if (!allowed) return tl::unexpected(allowed.error());
  }
  auto pair = LinkTokens(*elevated->token, *filtered->token,
                         Luid{command->session}, caller.checking());
  if (!pair) return tl::unexpected(Refuse(pair.error(), where));
  auto set_role = [](const TokenObjectPtr& object, ElevationType role) {
    return object->Update([role](const Token& token) -> Result<Token> {
      Token copy = token;
      copy.elevation_type = role;
      return copy;
    });
  };
  if (!set_role(elevated->object, ElevationType::kFull) ||
      !set_role(filtered->object, ElevationType::kLimited)) {
    return tl::unexpected(Errno(EIO, where + ": could not record the roles"));
  }
  filtered->object->LinkOwning(elevated->object);
  elevated->object->LinkWeak(filtered->object);
  return std::string("linked\n");
}

tl::expected<std::string, FsError> TokenFilesystem::ApplyInstall(
    const Caller& caller, const Target& process, std::string_view data) {
  const std::string where = Describe(process.node);
  auto reference = ParseInstallCommand(data, options_.mount_point);
  if (!reference) return tl::unexpected(Refuse(reference.error(), where));
  const Token& checking = caller.checking();
  if (auto may = MayInstallPrimary(checking); !may) {
    return tl::unexpected(Refuse(may.error(), where));
  }
  auto resolved = ResolveReference(*reference);
  if (!resolved) return tl::unexpected(resolved.error());
  const Target& token = *resolved;
  auto allowed =
      Authorize(caller, token, access::kTokenAssignPrimary, {}, "install");
  if (!allowed) return tl::unexpected(allowed.error());
  auto used = DecideInstall(checking, *token.token, *process.primary->Get());
  if (!used) {
    return tl::unexpected(
        Refuse(used.error(), where + ": " + token.description));
  }
  if (const int32_t user =
          registry_.PrimaryUser(token.object, process.node.pid)) {
    return tl::unexpected(Errno(
        EBUSY, where + ": " + token.description +
                   " is already the primary token of process " +
                   std::to_string(user) +
                   " (a token is primary for one process; duplicate it)"));
  }
  caller.checking_object()->MarkPrivilegesUsed(*used);
  auto installed = registry_.InstallPrimary(process.node.pid, token.object);
  if (!installed) return tl::unexpected(Refuse(installed.error(), where));
  return Line("installed", token.description);
}

tl::expected<std::string, FsError> TokenFilesystem::ResolvePeer(
    const Caller& caller, uint64_t fd) {
  const std::string where =
      options_.mount_point + "/peer/" + std::to_string(fd);
  // Borrow the caller's descriptor to ask the kernel who is at the other
  // end (Linux has no connect-time token to capture).
  const int pidfd =
      static_cast<int>(::syscall(SYS_pidfd_open, caller.process.pid, 0));
  if (pidfd < 0) {
    return tl::unexpected(Errno(ESRCH, where + ": caller process is gone"));
  }
  const int socket = static_cast<int>(
      ::syscall(SYS_pidfd_getfd, pidfd, static_cast<int>(fd), 0));
  const int getfd_error = errno;
  ::close(pidfd);
  if (socket < 0) {
    return tl::unexpected(Errno(getfd_error == EBADF ? ENOENT : EACCES,
                                where + ": cannot look at the caller's fd " +
                                    std::to_string(fd) + ": " +
                                    std::strerror(getfd_error)));
  }
  int domain = 0;
  socklen_t domain_length = sizeof domain;
  ucred peer{};
  socklen_t peer_length = sizeof peer;
  const bool unix_socket = ::getsockopt(socket, SOL_SOCKET, SO_DOMAIN, &domain,
                                        &domain_length) == 0 &&
                           domain == AF_UNIX;
  const bool have_peer =
      unix_socket &&
      ::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &peer, &peer_length) == 0 &&
      peer.pid > 0;
  // The peer as it connected, pinned (SO_PEERPIDFD, Linux 6.5+): its pid
  // can never name another process through this descriptor.
  int peer_pidfd = -1;
  socklen_t pidfd_length = sizeof peer_pidfd;
  const bool pinned =
      have_peer && ::getsockopt(socket, SOL_SOCKET, kSoPeerPidfd, &peer_pidfd,
                                &pidfd_length) == 0;
  const int pin_error = errno;
  ::close(socket);
  if (!have_peer) {
    return tl::unexpected(
        Errno(ENOENT, where + ": fd " + std::to_string(fd) +
                          " of the caller is not a connected Unix socket"));
  }
  const std::string gone = where + ": the peer (pid " +
                           std::to_string(peer.pid) +
                           ") has exited; its pid may name another process";
  if (!pinned && pin_error != ENOPROTOOPT) {
    return tl::unexpected(Errno(ENOENT, gone));
  }
  // Without SO_PEERPIDFD the peer is pinned by its pid and incarnation as
  // they are now, and the credential checks below must hold.
  std::optional<ProcessFacts::PidfdProcess> pin;
  if (pinned) {
    auto resolved = source_.ResolvePidfd(peer_pidfd);
    ::close(peer_pidfd);
    if (!resolved) return tl::unexpected(Errno(ENOENT, gone));
    pin = *resolved;
  }
  const int32_t peer_pid = pin ? pin->pid : peer.pid;
  events_.Sync({peer_pid});
  auto process = registry_.Process(peer_pid);
  if (!process || (pin && pin->instance != process->key.instance)) {
    return tl::unexpected(Errno(ENOENT, gone));
  }
  // The grant covers the peer as it connected: a peer whose identity
  // changed since (an exec of a setuid, setgid or file-capability program)
  // is refused, unless the caller could inspect it anyway.
  const LinuxCredentials& now = process->credentials;
  std::string changed;
  if (now.effective_uid != peer.uid || now.effective_gid != peer.gid) {
    changed = "its credentials changed since it connected (uid " +
              std::to_string(peer.uid) + " gid " + std::to_string(peer.gid) +
              ", now uid " + std::to_string(now.effective_uid) + " gid " +
              std::to_string(now.effective_gid) + ")";
  } else if (now.effective_uid != 0 && [&] {
               auto state = source_.CurrentState(peer_pid);
               return !state || state->dumpable != true;
             }()) {
    changed =
        "it is not dumpable (it gained privileges at exec, or asked not to "
        "be inspected)";
  }
  if (!changed.empty() &&
      InspectionDenialFor(caller, process->key, now,
                          "process " + std::to_string(peer_pid))) {
    return tl::unexpected(Errno(EACCES, where + ": the peer (pid " +
                                            std::to_string(peer_pid) +
                                            ") is not granted: " + changed));
  }
  std::vector<ProcessKey> callers;
  {
    std::lock_guard<std::mutex> lock(peer_mutex_);
    PeerGrant& grant = peer_grants_[caller.process.pid];
    if (!(grant.caller == caller.process)) {
      grant = PeerGrant{caller.process, {}};
    }
    auto same = std::find_if(grant.peers.begin(), grant.peers.end(),
                             [&](const PinnedPeer& pinned_peer) {
                               return pinned_peer.process == process->key;
                             });
    if (same != grant.peers.end()) grant.peers.erase(same);
    if (grant.peers.size() >= kMaxPeersPerCaller) {
      grant.peers.erase(grant.peers.begin());
    }
    grant.peers.push_back(PinnedPeer{process->key, process->primary});
    if (peer_grants_.size() > 64) {
      for (const auto& [pid, entry] : peer_grants_)
        callers.push_back(entry.caller);
    }
  }
  // Forget grants of callers that are gone (checked without the lock: it
  // reads /proc).
  std::vector<ProcessKey> dead;
  for (const ProcessKey& key : callers) {
    auto incarnation = source_.Incarnation(key.pid);
    if (!incarnation || !(*incarnation == key.incarnation())) {
      dead.push_back(key);
    }
  }
  if (!dead.empty()) {
    std::lock_guard<std::mutex> lock(peer_mutex_);
    for (const ProcessKey& key : dead) {
      auto it = peer_grants_.find(key.pid);
      if (it != peer_grants_.end() && it->second.caller == key) {
        peer_grants_.erase(it);
      }
    }
  }
  return "../" + std::to_string(peer_pid);
}

bool TokenFilesystem::HasPeerGrant(const Caller& caller, const ProcessKey& peer,
                                   const TokenObjectPtr& token) {
  std::lock_guard<std::mutex> lock(peer_mutex_);
  auto it = peer_grants_.find(caller.process.pid);
  if (it == peer_grants_.end() || !(it->second.caller == caller.process)) {
    return false;
  }
  return std::any_of(it->second.peers.begin(), it->second.peers.end(),
                     [&](const PinnedPeer& pinned) {
                       return pinned.process == peer &&
                              pinned.primary.lock() == token;
                     });
}

tl::expected<std::string, FsError> TokenFilesystem::ResolveLinked(
    const Caller& caller, const Target& target, const NodeId& node) {
  auto allowed = Authorize(caller, target, access::kTokenQuery, {},
                           "read the linked token of");
  if (!allowed) return tl::unexpected(allowed.error());
  TokenObjectPtr partner = target.object->LinkedPartner();
  if (!partner) {
    return tl::unexpected(
        Errno(ENOENT, Describe(target.node) + " has no linked token"));
  }
  // Relative to the directory holding `linked`: /tokens/P, /tokens/P/T or
  // /tokens/objects/N.
  const std::string up = node.scope == Scope::kThread   ? "../../objects/"
                         : node.scope == Scope::kObject ? "../"
                                                        : "../objects/";
  const Token& checker = caller.checking();
  auto view = LinkedToken(*partner->Get(), checker, ids_);
  if (!view) return tl::unexpected(Refuse(view.error(), Describe(target.node)));
  if (!view->is_copy) {
    // With SeTcb: the partner itself.
    caller.checking_object()->MarkPrivilegesUsed(
        privilege::Bit(privilege::kTcb));
    if (!registry_.FindObject(partner->id())) {
      registry_.AddExistingObject(partner, caller.process, caller.uid);
    }
    return up + std::to_string(partner->id().value);
  }
  // Without SeTcb: an Identification-level copy, one per caller process.
  const LinkedCopyKey key{caller.process.pid, caller.process.start_time,
                          caller.process.instance, partner->id().value};
  {
    std::lock_guard<std::mutex> lock(linked_mutex_);
    auto it = linked_copies_.find(key);
    if (it != linked_copies_.end() && registry_.FindObject(Luid{it->second})) {
      return up + std::to_string(it->second);
    }
  }
  auto copy = registry_.AddObject(std::move(view->token), caller.process,
                                  caller.uid, false, caller.gid);
  if (!copy) return tl::unexpected(Refuse(copy.error(), Describe(target.node)));
  const uint64_t id = (*copy)->id().value;
  std::lock_guard<std::mutex> lock(linked_mutex_);
  for (auto it = linked_copies_.begin(); it != linked_copies_.end();) {
    if (!registry_.FindObject(Luid{it->second})) {
      it = linked_copies_.erase(it);
    } else {
      ++it;
    }
  }
  linked_copies_[key] = id;
  return up + std::to_string(id);
}

}  // namespace tokenfs
