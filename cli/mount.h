// Mount: the mounted /tokens tree as the `token` CLI uses it, and the token
// a command is about (its target).
//
// `token` is a convenience layer over the tree: every operation opens, reads
// and writes files under the mount (tree-interface: one write() is one
// command; after a refused write the same O_RDWR descriptor reads back
// "error: <strerror>: <reason>"). The mount is $TOKENFS_ROOT, else /tokens.
//
// Targets. `token` acts for the process that ran it (its parent, usually a
// shell), never for itself:
//   self       <root>/<ppid>/<ppid>  the effective token of the invoking
//                                    process's main thread
//   real       <root>/<ppid>         its primary token
//   pid P      <root>/P              the primary token of process P
//   pid P/T    <root>/P/T            the effective token of thread T of P
//   peer FD    readlink <root>/peer/FD -> the peer process of the connected
//              Unix socket FD that `token` inherited, resolved now (the
//              peer's current token, not a snapshot taken at connect())
//   id N       <root>/objects/N      a token object
// Errors are classified into exit statuses here, once: ENOENT/ESRCH -> 2 (or
// 5 when nothing is mounted), EACCES/EPERM -> 3, EINVAL/EFBIG -> 4, else 5.
//
// Thread-safety: Mount holds only the root path; its methods do blocking
// file I/O and may be called from any thread.
#ifndef TOKENFS_CLI_MOUNT_H_
#define TOKENFS_CLI_MOUNT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cli/cli_error.h"

namespace tokenfs::cli {

struct TargetSpec {
  enum class Kind { kSelf, kReal, kProcess, kThread, kPeer, kObject };
  Kind kind = Kind::kSelf;
  int32_t pid = 0;         // kProcess, kThread
  int32_t tid = 0;         // kThread
  int peer_fd = -1;        // kPeer
  uint64_t object_id = 0;  // kObject
};

// Parses a token reference as `diff` and `link` take them: "self", "real",
// "pid:N", "pid:N/TID", "id:N", "peer:FD". Fails with a usage error naming
// the text and the accepted forms.
CliResult<TargetSpec> ParseTargetReference(std::string_view text);

// A target whose directory is known.
struct ResolvedTarget {
  TargetSpec spec;
  // The process the token belongs to (self/real: the parent of `token`;
  // peer: the peer process); 0 for objects.
  int32_t pid = 0;
  int32_t tid = 0;  // the thread for self and thread targets, else 0
  std::string dir;  // the token directory, no trailing '/'
  // For messages: "self (pid 42)", "pid 42", "pid 42 tid 43",
  // "peer of fd 3 (pid 42)", "token object 7".
  std::string label;
  // For writes that name a token: "pid:42/42", "pid:42", "id:7".
  std::string reference;

  // {"kind": "self"|"real"|"pid"|"thread"|"peer"|"object", "path": dir,
  //  "pid"/"tid"/"fd"/"id" when they apply}.
  nlohmann::json Json() const;
};

// What an operation needed, for the denial message "access denied: <label>:
// <doing> needs <right>" (" and the capability <capability>" when it has
// one). An open the tree refuses carries no reason, and both the token's
// DACL and the capability gate refuse with EACCES, so the message names
// both, and with them the capability that may be the one missing.
struct Operation {
  std::string_view doing;  // "reading its token"
  std::string_view right;  // "QUERY"
  // The gate on a token of the caller's own user (core CapabilityFor);
  // "" when the operation has none.
  std::string_view capability = {};
};

inline constexpr Operation kReadOperation{
    "reading its token", "QUERY",
    "tokeninfo:introspect (its own token) or manage_mytokens:list (another "
    "token of its user)"};

class Mount {
 public:
  explicit Mount(std::string root);
  // $TOKENFS_ROOT when set and not empty, else /tokens; trailing '/' removed.
  static Mount FromEnvironment();

  const std::string& root() const { return root_; }

  // Finds the directory of `spec`. Only peer targets touch the tree here
  // (readlink); the others are resolved by name and checked on first use.
  CliResult<ResolvedTarget> Resolve(const TargetSpec& spec) const;

  // Reads the whole file `relative` (e.g. "query/privileges") of `target`.
  CliResult<std::string> Read(const ResolvedTarget& target,
                              std::string_view relative,
                              const Operation& operation) const;
  // Reads the whole file at `path`; `label` names what it is about.
  CliResult<std::string> ReadPath(const std::string& path,
                                  const std::string& label,
                                  const Operation& operation) const;
  // One transaction: open `path` O_RDWR, write `command` in one write(),
  // read the result back on the same descriptor. A refused write returns
  // the error classified with the daemon's reason.
  CliResult<std::string> Transact(const std::string& path,
                                  std::string_view command,
                                  const std::string& label,
                                  const Operation& operation) const;
  // The target of the symbolic link at `path`.
  CliResult<std::string> ReadLink(const std::string& path,
                                  const std::string& label,
                                  const Operation& operation) const;

  // Classifies errno `error` from an operation on `path`; `reason` is the
  // daemon's explanation when one was read back ("" otherwise).
  CliError ErrorFor(int error, const std::string& path,
                    const std::string& label, const Operation& operation,
                    const std::string& reason) const;

  // Succeeds iff a tokenfs tree answers at root(); otherwise the error says
  // what is wrong (nothing mounted, stale mount) with exit status 5.
  CliStatus CheckMounted() const;

 private:
  std::string root_;
};

// Writes all of `text` to file descriptor `fd`, retrying short writes.
// Returns false on error (errno set).
bool WriteAll(int fd, std::string_view text);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_MOUNT_H_
