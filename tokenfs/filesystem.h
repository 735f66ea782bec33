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
// A request goes through one step of each unit the filesystem owns:
// Resolver (who asks, about which token), RequestAuthorizer (the one
// authorization decision), then a write command (WriteCommands), a peer
// grant (PeerGrants), a linked copy (LinkedCopies) or rendering
// (tokenfs/render.h), and finally one reply. The handlers themselves keep to
// the reply path and the tree's attributes and listings.
//
// Thread-safety: the handlers run on libfuse's worker threads; shared state
// is the registry (internally locked), the immutable tables, and the
// internally locked units (peer grants, linked copies, render cache, open
// content budget). Lock order: their mutexes may be held while calling into
// the registry (its mutex comes after them); no lock is held across a /proc
// read or a reply.
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
#include "tokenfs/authorize.h"
#include "tokenfs/event_sync.h"
#include "tokenfs/fs_error.h"
#include "tokenfs/kernel_cache.h"
#include "tokenfs/linked_copies.h"
#include "tokenfs/open_content_budget.h"
#include "tokenfs/page_cache_state.h"
#include "tokenfs/peer_grants.h"
#include "tokenfs/pollers.h"
#include "tokenfs/process_facts.h"
#include "tokenfs/render_cache.h"
#include "tokenfs/resolve.h"
#include "tokenfs/tree.h"
#include "tokenfs/write_commands.h"

namespace tokenfs {

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
    // Where open files wait for a change (POLL); null: the filesystem's
    // own, which nothing kicks (tests). The daemon shares one with the
    // registry's change observer (TokenObjectHooks::on_change).
    Pollers* pollers = nullptr;
    // What lets token and query files be served from the kernel's page
    // cache (the open-time rule of PageCacheState needs to drop an inode's
    // cached attributes); null: every file is served with direct I/O
    // (tests).
    KernelCacheInterface* kernel_cache = nullptr;
    // The machine domain SID (S-1-5-21-a-b-c) that SDDL aliases such as DA
    // and LA stand for in access checks and rendered descriptors: the
    // policy's domain_sid, else the one the state store keeps; nullopt: the
    // aliases are refused and such SIDs print as S-... (tests).
    std::optional<Sid> domain_sid;
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
  using RequestContext = tokenfs::RequestContext;

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
  // POLL: the events the open file has (POLLIN|POLLPRI|POLLRDNORM when the
  // token it shows changed since it was opened, else 0).
  struct PollReply {
    unsigned revents = 0;
  };
  // Success without data (errno 0).
  struct NoneReply {};
  using Reply = std::variant<EntryReply, AttrReply, DataReply, ContentReply,
                             DirectoryReply, LinkReply, OpenReply, OpendirReply,
                             WriteReply, ReleaseReply, PollReply, NoneReply>;
  using Outcome = tl::expected<Reply, FsError>;

  Outcome DoLookup(const RequestContext& context, fuse_ino_t parent,
                   std::string_view name);
  // `handle`: the open file the GETATTR came with (0: none); a page-cached
  // file reports the size of its own content.
  Outcome DoGetattr(const RequestContext& context, fuse_ino_t inode,
                    uint64_t handle = 0);
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
  // Whether the open file `handle` has news (the token it shows changed, was
  // replaced or revoked, or, for `history`, a new event); when it has none
  // and `poll_handle` is given, the handle is kept and woken at the next
  // change (Pollers). Takes ownership of `poll_handle`. A file opened on
  // another token without tokeninfo:notify is refused (the poller sees
  // POLLERR).
  Outcome DoPoll(uint64_t handle, fuse_pollhandle* poll_handle);
  Outcome DoRmdir(const RequestContext& context, fuse_ino_t parent,
                  std::string_view name);

  // The inodes whose content or size the kernel may hold for a token
  // snapshot that is no longer current, each forgotten as it is named (the
  // notifier of KernelCache drops them). Resolves without waiting for the
  // event feed.
  std::vector<uint64_t> StaleInodes();
  // For tests: the page cache table.
  const PageCacheState& page_cache() const { return page_cache_; }

 private:
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
  static void OnPoll(fuse_req_t, fuse_ino_t, fuse_file_info*,
                     fuse_pollhandle*) noexcept;
  // True iff `file` shows a token that changed since it was opened.
  bool HasNews(const OpenFile& file);

  // Runs `handler` with the request's context, catches everything, logs a
  // refusal, replies once (Send). `info` is the open file of OPEN and
  // OPENDIR, which their replies fill in.
  template <typename Handler>
  static void Serve(fuse_req_t request, const char* operation,
                    Handler&& handler, fuse_file_info* info = nullptr) noexcept;
  // The one place a reply value becomes a fuse_reply_* call: exactly one
  // reply per request; an error is sent as ErrnoFor(code).
  static void Send(fuse_req_t request, Outcome& outcome,
                   fuse_file_info* info) noexcept;

  // The last refusal of each caller thread, as /tokens/refusal shows it to
  // that thread (and only while its uid is the one refused): at most
  // kMaxRefusals threads; when full, the records start over.
  void RecordRefusal(const RequestContext& context, ErrorCode error,
                     const std::string& reason);
  std::string LastRefusal(const RequestContext& context);

  tl::expected<struct stat, FsError> Attributes(const NodeId& node);
  // Sets the size of a token or query file in `attr` (its exact content
  // length, as PageCacheState::Report chooses); other nodes keep size 0.
  void AddSize(const NodeId& node, struct stat& attr);
  // Registers a read-only token or query file showing snapshot `serial`
  // with the page cache table and sets how OPEN's reply serves it.
  void ChoosePageCache(OpenFile& file, fuse_ino_t inode, uint64_t serial);
  // Waits until the journal has made every change so far durable; EIO
  // (naming `where`) when it cannot.
  tl::expected<void, FsError> MakeDurable(const std::string& where);

  Registry& registry_;
  ProcessFacts& source_;
  EventSync& events_;
  const SystemAccountLookup& accounts_;
  const CapabilityNames capability_names_;
  RenderOptions render_options_;
  RenderCache render_cache_;
  OpenContentBudget open_content_;
  PageCacheState page_cache_;
  const Options options_;
  Pollers own_pollers_;
  Pollers& pollers_;
  const std::time_t start_time_;
  std::atomic<uint64_t> requests_{0};
  struct Refusal {
    uint32_t uid = 0;
    std::string line;  // "error: <strerror>: <reason>\n"
  };
  static constexpr size_t kMaxRefusals = 4096;
  std::mutex refusals_mutex_;
  std::unordered_map<int32_t, Refusal> refusals_;  // by caller tid

  // The request's steps, in the order they are constructed (each borrows
  // the ones before it).
  Resolver resolver_;
  PeerGrants peer_grants_;
  RequestAuthorizer authorizer_;
  LinkedCopies linked_copies_;
  WriteCommands write_commands_;
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_FILESYSTEM_H_
