// WinbindDirectory: the directory of a host joined to a domain, asked through
// libwbclient (Samba's client library for winbindd), and DeadlineDirectory,
// which keeps any directory from holding up a FUSE request.
//
// WinbindDirectory maps a uid with wbcUidToSid, lists the user's token groups
// with wbcLookupUserSids (the set `wbinfo --user-sids` prints: primary group,
// global, universal and nested groups, domain-local and BUILTIN aliases),
// names them with wbcLookupSids, maps gids with wbcUnixIdsToSids and reads
// the own domain from wbcInterfaceDetails and wbcDomainInfo. A uid or gid
// winbind answers with a Samba "Unix User/Group" SID (S-1-22-...) is one it
// does not map: a local account. libwbclient talks to winbindd over the
// socket in Samba's compiled-in directory (/run/samba/winbindd on Debian);
// with no winbindd every call fails at once (the socket is missing).
// libwbclient's calls block (its own timeouts are many seconds), so
// WinbindDirectory must only be used through DeadlineDirectory.
//
// DeadlineDirectory runs another client's calls on one worker thread of its
// own (started by the first call) and waits for each at most `deadline`. A call
// not answered by then fails ("winbind did not answer within N ms"); it is left
// to finish on the worker, whose answer is dropped. While the worker is stuck
// on a call older than the deadline, further calls fail at once instead of
// queueing behind it, so a hung winbindd costs one request the deadline and the
// others nothing. At most kMaxQueued calls wait for the worker.
//
// Thread-safety: WinbindDirectory is not thread-safe (one wbcContext; the
// worker is its only caller). DeadlineDirectory is safe from any thread.
// Ownership: DeadlineDirectory owns the inner client; a worker stuck in a
// call when the DeadlineDirectory is destroyed is detached and keeps it.
#ifndef TOKENFS_TOKENFS_WINBIND_DIRECTORY_H_
#define TOKENFS_TOKENFS_WINBIND_DIRECTORY_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/directory.h"

struct wbcContext;

namespace tokenfs {

class WinbindDirectory : public DirectoryClient {
 public:
  WinbindDirectory();
  ~WinbindDirectory() override;
  WinbindDirectory(const WinbindDirectory&) = delete;
  WinbindDirectory& operator=(const WinbindDirectory&) = delete;

  Result<std::optional<DirectoryUser>> LookupUser(uint32_t uid) override;
  Result<std::vector<std::optional<Sid>>> MapGroups(
      std::span<const uint32_t> gids) override;
  Result<DirectoryDomain> Domain() override;

 private:
  // The NetBIOS name of the domain `sid` belongs to when it is the own
  // domain or BUILTIN, else "".
  std::string DomainNameOf(const Sid& sid);

  wbcContext* context_;
  std::optional<DirectoryDomain> own_domain_;  // asked once, then kept
};

class DeadlineDirectory : public DirectoryClient {
 public:
  static constexpr size_t kMaxQueued = 64;

  DeadlineDirectory(std::unique_ptr<DirectoryClient> inner,
                    std::chrono::milliseconds deadline);
  ~DeadlineDirectory() override;
  DeadlineDirectory(const DeadlineDirectory&) = delete;
  DeadlineDirectory& operator=(const DeadlineDirectory&) = delete;

  Result<std::optional<DirectoryUser>> LookupUser(uint32_t uid) override;
  Result<std::vector<std::optional<Sid>>> MapGroups(
      std::span<const uint32_t> gids) override;
  Result<DirectoryDomain> Domain() override;

 private:
  struct Shared;
  template <typename T, typename Call>
  Result<T> Run(Call call);

  std::shared_ptr<Shared> shared_;
};

// The host's own domain, asked of winbind on a thread of its own and waited
// for at most `deadline` (a stuck thread is left behind; it has its own
// wbcContext). For the daemon's start, before fuse_daemonize.
Result<DirectoryDomain> ProbeDomain(std::chrono::milliseconds deadline);

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_WINBIND_DIRECTORY_H_
