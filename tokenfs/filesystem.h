// TokenFilesystem: the FUSE low-level request handlers of the /tokens tree.
//
// Each operation has a public Do* method that takes who sent the request
// (RequestContext: pid, uid, gid) and returns either a reply value or an
// FsError and never replies itself, so it can be called without FUSE; a
// noexcept trampoline catches every exception (bad_alloc -> ENOMEM, anything
// else -> EIO plus a log line) and hands the outcome to Send, the one place
// that turns a value into exactly one fuse_reply_* call. No lock is held
// across a reply or a /proc read.
//
// Per-open state lives in an OpenFile owned by the file handle: the content
// snapshot (generated at open, so later offsets read a consistent text), the
// opener's identity (writes must come from the same identity, and are
// authorized with it), and the token object the file is about.
//
// Thread-safety: the handlers run on libfuse's worker threads; shared state
// is the registry (internally locked), the immutable tables, and two small
// maps with their own mutexes (peer_mutex_, linked_mutex_). Lock order:
// those mutexes may be held while calling into the registry (its mutex comes
// after them); no lock is held across a /proc read or a reply.
//
// Ownership: the filesystem borrows the registry, the process facts, the
// event feed, the id allocator, the clock and the account lookup; they must
// outlive it. An open file or directory belongs to its handle (freed by
// release/releasedir).
#ifndef TOKENFS_TOKENFS_FILESYSTEM_H_
#define TOKENFS_TOKENFS_FILESYSTEM_H_

// 3.12+ selects the fuse_loop_config API the loop is configured with; 34
// would bind fuse_session_loop_mt to the 3.2 ABI, which misreads that config
// (no idle threads: a thread created and destroyed per request).
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/authorization.h"
#include "core/capability.h"
#include "core/commands.h"
#include "core/registry.h"
#include "core/render.h"
#include "core/state_journal.h"
#include "tokenfs/account_lookup.h"
#include "tokenfs/event_sync.h"
#include "tokenfs/process_facts.h"
#include "tokenfs/render_cache.h"
#include "tokenfs/tree.h"

namespace tokenfs {

// An error reply: the errno for the caller and the reason for the log.
struct FsError {
  int errno_value = 0;
  std::string reason;
};

// Bytes of rendered content that open files hold, per opener uid: what an
// open keeps until it is closed. One user opening files of ever-new token
// versions would otherwise hold any amount of daemon memory.
//
// Thread-safety: internally locked.
class OpenContentBudget {
 public:
  // Each uid but root may hold this many bytes in open files.
  static constexpr size_t kBytesPerUid = 16 << 20;

  // Reserves `bytes` for `uid`; false (nothing reserved) when that would
  // pass the limit.
  bool Charge(uint32_t uid, size_t bytes);
  void Release(uint32_t uid, size_t bytes);
  size_t held(uint32_t uid) const;

  // A reservation, released when destroyed.
  class Hold {
   public:
    Hold() = default;
    Hold(OpenContentBudget* budget, uint32_t uid, size_t bytes)
        : budget_(budget), uid_(uid), bytes_(bytes) {}
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() {
      if (budget_) budget_->Release(uid_, bytes_);
    }

   private:
    OpenContentBudget* budget_ = nullptr;
    uint32_t uid_ = 0;
    size_t bytes_ = 0;
  };

 private:
  mutable std::mutex mutex_;
  std::unordered_map<uint32_t, size_t> held_;  // guarded by mutex_
};

class TokenFilesystem {
 public:
  struct Options {
    std::string mount_point = "/tokens";
    double entry_timeout = 1.0;
    double attr_timeout = 1.0;
    // Largest READ request, in bytes; must equal the max_read mount option
    // given to fuse_session_new (libfuse refuses to start otherwise). 0 keeps
    // the kernel's limit.
    uint32_t max_read = 0;
    // Where the registry records changes (may be null): a write or rmdir
    // that changed state replies only once the journal has made it
    // durable.
    StateJournal* journal = nullptr;
  };

  TokenFilesystem(Registry& registry, ProcessFacts& source, EventSync& events,
                  LuidAllocator& ids, const Clock& clock,
                  const SystemAccountLookup& accounts, Options options);
  TokenFilesystem(const TokenFilesystem&) = delete;
  TokenFilesystem& operator=(const TokenFilesystem&) = delete;

  // The operation table to pass to fuse_session_new with `this` as
  // userdata.
  static const fuse_lowlevel_ops& Operations();

  // --- Handlers without FUSE ---
  // Each FUSE callback is a Do* method below, given who sent the request
  // and returning the reply as a value (or an FsError); Send is the one
  // place a value becomes a fuse_reply_* call. Tests call the Do* methods
  // directly.

  // Who sent a request, as the kernel reports it (fuse_req_ctx).
  struct RequestContext {
    int32_t pid = 0;
    uint32_t uid = 0;
    uint32_t gid = 0;
  };

  // An open file (its handle, fh, is the address). Deleted with
  // OpenFileDeleter, so code that sees only this header can own one.
  struct OpenFile;
  struct OpenFileDeleter {
    void operator()(OpenFile* file) const;
  };
  // One entry of a directory listing.
  struct DirEntry {
    std::string name;
    uint64_t inode = 0;
    mode_t mode = 0;
  };
  // An open directory: its listing, taken at opendir.
  struct DirHandle {
    std::vector<DirEntry> entries;
  };

  struct EntryReply {
    fuse_entry_param entry;
  };
  struct AttrReply {
    struct stat attr;
  };
  struct DataReply {
    std::string data;
  };
  // Bytes [offset, offset + size) of an open file's content, sent from the
  // shared text itself.
  struct ContentReply {
    std::shared_ptr<const std::string> text;
    size_t offset = 0;
    size_t size = 0;
  };
  // Entries of an open directory from index `first` on (the span points
  // into its DirHandle), packed into at most `size` bytes when sent; each
  // entry's offset is its index + 1.
  struct DirectoryReply {
    std::span<const DirEntry> entries;
    size_t first = 0;
    size_t size = 0;
  };
  struct LinkReply {
    std::string target;
  };
  // The new handle; it becomes the kernel's (fh) once the reply is sent, and
  // is freed here if the reply fails.
  struct OpenReply {
    std::unique_ptr<OpenFile, OpenFileDeleter> file;
  };
  struct OpendirReply {
    std::unique_ptr<DirHandle> directory;
  };
  struct WriteReply {
    size_t count = 0;
  };
  // RELEASE: success; when `release_objects`, unused token objects are
  // released once the reply is sent (ReleaseUnusedObjects).
  struct ReleaseReply {
    bool release_objects = false;
  };
  // Success without data (errno 0).
  struct NoneReply {};
  using Reply = std::variant<EntryReply, AttrReply, DataReply, ContentReply,
                             DirectoryReply, LinkReply, OpenReply,
                             OpendirReply, WriteReply, ReleaseReply, NoneReply>;
  using Outcome = tl::expected<Reply, FsError>;

  Outcome DoLookup(const RequestContext& context, fuse_ino_t parent,
                   std::string_view name);
  Outcome DoGetattr(const RequestContext& context, fuse_ino_t inode);
  // `has_handle`: the SETATTR came with an open file (ftruncate).
  Outcome DoSetattr(const RequestContext& context, fuse_ino_t inode,
                    const struct stat& wanted, int to_set, bool has_handle);
  Outcome DoReadlink(const RequestContext& context, fuse_ino_t inode);
  Outcome DoOpen(const RequestContext& context, fuse_ino_t inode, int flags);
  Outcome DoRead(uint64_t handle, size_t size, off_t offset);
  Outcome DoWrite(const RequestContext& context, uint64_t handle,
                  std::string_view data);
  Outcome DoFlush();
  // Frees the open file `handle`.
  Outcome DoRelease(uint64_t handle);
  // What follows a RELEASE reply that asked for it.
  void ReleaseUnusedObjects() noexcept;
  Outcome DoOpendir(const RequestContext& context, fuse_ino_t inode);
  Outcome DoReaddir(uint64_t handle, size_t size, off_t offset);
  // Frees the open directory `handle`.
  Outcome DoReleasedir(uint64_t handle);
  Outcome DoAccess(const RequestContext& context, fuse_ino_t inode, int mask);
  Outcome DoRmdir(const RequestContext& context, fuse_ino_t parent,
                  std::string_view name);

 private:
  struct Caller;
  struct Target;
  struct Opener {
    uint32_t uid = 0;
    uint32_t gid = 0;
    Sid user;
    uint32_t integrity_rid = 0;
  };

  // Trampolines (libfuse callbacks).
  static void OnInit(void* userdata, fuse_conn_info* connection) noexcept;
  static void OnLookup(fuse_req_t, fuse_ino_t, const char*) noexcept;
  static void OnGetattr(fuse_req_t, fuse_ino_t, fuse_file_info*) noexcept;
  static void OnSetattr(fuse_req_t, fuse_ino_t, struct stat*, int,
                        fuse_file_info*) noexcept;
  static void OnReadlink(fuse_req_t, fuse_ino_t) noexcept;
  static void OnOpen(fuse_req_t, fuse_ino_t, fuse_file_info*) noexcept;
  static void OnRead(fuse_req_t, fuse_ino_t, size_t, off_t,
                     fuse_file_info*) noexcept;
  static void OnWrite(fuse_req_t, fuse_ino_t, const char*, size_t, off_t,
                      fuse_file_info*) noexcept;
  static void OnFlush(fuse_req_t, fuse_ino_t, fuse_file_info*) noexcept;
  static void OnRelease(fuse_req_t, fuse_ino_t, fuse_file_info*) noexcept;
  static void OnOpendir(fuse_req_t, fuse_ino_t, fuse_file_info*) noexcept;
  static void OnReaddir(fuse_req_t, fuse_ino_t, size_t, off_t,
                        fuse_file_info*) noexcept;
  static void OnReleasedir(fuse_req_t, fuse_ino_t, fuse_file_info*) noexcept;
  static void OnAccess(fuse_req_t, fuse_ino_t, int) noexcept;
  static void OnRmdir(fuse_req_t, fuse_ino_t, const char*) noexcept;
  static void OnRefuse(fuse_req_t) noexcept;

  // Runs `handler` with the request's context, catches everything, logs a
  // refusal, replies once (Send). `info` is the open file of OPEN and
  // OPENDIR, which their replies fill in.
  template <typename Handler>
  static void Serve(fuse_req_t request, const char* operation,
                    Handler&& handler, fuse_file_info* info = nullptr) noexcept;
  // The one place a reply value becomes a fuse_reply_* call: exactly one
  // reply per request; an error with errno 0 is sent as EIO.
  static void Send(fuse_req_t request, Outcome& outcome,
                   fuse_file_info* info) noexcept;

  // Applies pending process events about the caller, `node`'s process and
  // thread, and `extra` (once per request, before anything is resolved).
  void SyncFor(const RequestContext& context, const NodeId& node,
               int32_t extra = 0);

  // Resolution.
  tl::expected<Caller, FsError> ResolveCaller(const RequestContext& context);
  tl::expected<Target, FsError> ResolveTarget(const NodeId& node);
  tl::expected<NodeId, FsError> Decode(fuse_ino_t inode) const;
  tl::expected<struct stat, FsError> Attributes(const NodeId& node);

  // Authorization of `desired` on `target` for `caller`; logs denials.
  tl::expected<AuthorizationResult, FsError> Authorize(
      const Caller& caller, const Target& target, AccessMask desired,
      std::string_view capability, std::string_view operation);
  // What opening `entry` of `target` for writing needs (the write right, or
  // the Linux inspection right when the right depends on the command).
  // Waits until the journal has made every change so far durable; EIO
  // (naming `where`) when it cannot.
  tl::expected<void, FsError> MakeDurable(const std::string& where);
  tl::expected<void, FsError> AuthorizeWriteOpen(const Caller& caller,
                                                 const Target& target,
                                                 const TreeEntry& entry,
                                                 const NodeId& node);
  // The core request for that decision (the caller's peer grants aside).
  AuthorizationRequest MakeAuthorizationRequest(
      const Caller& caller, const Target& target, AccessMask desired,
      std::string_view capability) const;
  // Step 1's facts for `caller` looking at `process` (recorded
  // `credentials`); the probes read /proc lazily.
  Inspection MakeInspection(const Caller& caller, const ProcessKey& process,
                            const LinuxCredentials& credentials,
                            std::string_view description) const;
  // Step 1 of authorization alone (core InspectionDenial) for `caller`.
  std::optional<std::string> InspectionDenialFor(
      const Caller& caller, const ProcessKey& process,
      const LinuxCredentials& credentials, std::string_view description) const;

  // Content and writes.
  std::string Render(const NodeId& node, const Token& token);
  std::string RenderRegistry() const;
  tl::expected<std::string, FsError> ApplyWrite(OpenFile& file,
                                                const Caller& caller,
                                                std::string_view data);
  tl::expected<std::string, FsError> ApplyTokenFileWrite(OpenFile& file,
                                                         const Caller& caller,
                                                         const Target& target,
                                                         TokenFile text_file,
                                                         std::string_view data);
  tl::expected<std::string, FsError> ApplyImpersonate(const Caller& caller,
                                                      const Target& target,
                                                      std::string_view data);
  tl::expected<std::string, FsError> ApplyAccess(const Target& target,
                                                 std::string_view data);
  tl::expected<std::string, FsError> ApplyDerive(const Caller& caller,
                                                 const Target& target,
                                                 NodeCode code,
                                                 std::string_view data);
  tl::expected<std::string, FsError> ApplyCreate(const Caller& caller,
                                                 std::string_view data);
  tl::expected<std::string, FsError> ApplyPersist(const Caller& caller,
                                                  const Target& target,
                                                  std::string_view data);
  tl::expected<std::string, FsError> ApplyLink(const Caller& caller,
                                               std::string_view data);
  // The process `pid` a derived object is handed to (the caller must be
  // able to inspect it).
  tl::expected<ProcessKey, FsError> HolderProcess(const Caller& caller,
                                                  int32_t pid);
  tl::expected<std::string, FsError> ApplyInstall(const Caller& caller,
                                                  const Target& process,
                                                  std::string_view data);
  // /tokens/peer/<fd>: the peer of the caller's socket `fd`.
  tl::expected<std::string, FsError> ResolvePeer(const Caller& caller,
                                                 uint64_t fd);
  // True iff `caller` holds a grant on process `peer` and `token` is the
  // primary token the peer held when the grant was made.
  bool HasPeerGrant(const Caller& caller, const ProcessKey& peer,
                    const TokenObjectPtr& token);
  // /tokens/<...>/linked: the partner, or an Identification-level copy.
  tl::expected<std::string, FsError> ResolveLinked(const Caller& caller,
                                                   const Target& target,
                                                   const NodeId& node);
  // The token a write names (pid:, pid:/tid, id:, or a path).
  tl::expected<Target, FsError> ResolveReference(
      const TokenReference& reference);

  std::string Describe(const NodeId& node) const;
  FsError Refuse(const Error& error, std::string_view context) const;

  Registry& registry_;
  ProcessFacts& source_;
  EventSync& events_;
  LuidAllocator& ids_;
  const Clock& clock_;
  const SystemAccountLookup& accounts_;
  const CapabilityNames capability_names_;
  RenderOptions render_options_;
  RenderCache render_cache_;
  OpenContentBudget open_content_;
  const Options options_;
  const std::time_t start_time_;
  std::atomic<uint64_t> requests_{0};

  // Peer grants: a caller that resolved /tokens/peer/<fd> may QUERY and
  // IMPERSONATE that peer's primary token while both processes live and the
  // peer keeps that token (an exec that re-mints it ends the grant).
  struct PinnedPeer {
    ProcessKey process;
    std::weak_ptr<TokenObject> primary;
  };
  struct PeerGrant {
    ProcessKey caller;
    std::vector<PinnedPeer> peers;  // at most kMaxPeersPerCaller
  };
  std::mutex peer_mutex_;
  std::unordered_map<int32_t, PeerGrant>
      peer_grants_;  // guarded by peer_mutex_

  // Identification-level copies handed out through `linked`, one per
  // (caller process, partner token).
  struct LinkedCopyKey {
    int32_t pid;
    uint64_t start_time;
    uint64_t instance;
    uint64_t partner;
    friend bool operator<(const LinkedCopyKey& a, const LinkedCopyKey& b) {
      return std::tie(a.pid, a.start_time, a.instance, a.partner) <
             std::tie(b.pid, b.start_time, b.instance, b.partner);
    }
  };
  std::mutex linked_mutex_;
  std::map<LinkedCopyKey, uint64_t> linked_copies_;  // guarded by linked_mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_FILESYSTEM_H_
