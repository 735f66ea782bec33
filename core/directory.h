// Directory identity: what a directory (Active Directory, served on Linux by
// winbind) says about a Linux uid and gids, and the cache the minting policy
// asks.
//
// On a host joined to a domain the directory, not /etc/passwd, is the
// authority for who a domain user is: the user's SID, the token groups
// (primary group, global, universal and nested groups, domain-local and
// BUILTIN aliases, as `wbinfo --user-sids` prints them) and the names. A
// DirectoryClient asks the directory; tokenfs implements it over libwbclient
// (tokenfs/winbind_directory.h) and tests use an in-memory fake.
//
// DirectoryCache turns a client that may be slow or down into a
// DirectorySource that answers at once with the best it has:
//   - a fresh cached answer (younger than `ttl`) without asking;
//   - else the client's answer (which tokenfs bounds by a deadline);
//   - when the client does not answer: the stale cached answer
//     (IdentityOrigin::kDirectoryCached), or with none the local identity
//     (kLocalFallback: S-1-22 SIDs, never more groups than the directory
//     gave, which was none);
//   - a client that has never answered since the cache was built means the
//     host is not joined (or winbind was down from the start): the identity is
//     plainly local (kLocal), as on a host without a directory, and the client
//     is asked again at most once per kRetryNotJoinedNs.
// Each cache (users, groups, names) holds at most `max_entries` entries and
// starts over when full; nothing any user does can grow it beyond that.
//
// Thread-safety: DirectoryCache is safe from any thread (one mutex around its
// maps; the client is called outside it, and must itself be safe to call from
// several threads). Ownership: the cache borrows the client and the clock.
#ifndef TOKENFS_CORE_DIRECTORY_H_
#define TOKENFS_CORE_DIRECTORY_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/luid.h"
#include "core/result.h"
#include "core/sid.h"

namespace tokenfs {

// A directory user: the SID the directory maps a uid to, the token groups
// (without the user's own SID, no repeats, in the directory's order: the
// primary group first) and the names the directory gives ("DOMAIN\alice")
// for the user and groups it could name.
struct DirectoryUser {
  Sid user;
  std::vector<Sid> groups;
  std::vector<std::pair<Sid, std::string>> names;

  friend bool operator==(const DirectoryUser&, const DirectoryUser&) = default;
};

// The domain the host is joined to: its NetBIOS name and SID
// (S-1-5-21-a-b-c), which SDDL's domain aliases (DA, DU, ...) stand for.
struct DirectoryDomain {
  std::string name;
  Sid sid;
};

// True iff `sid` is a SID a directory maps a Linux id to: not null, not a
// Samba "Unix User/Group" SID (S-1-22-...), which winbind answers for ids it
// does not map.
bool IsDirectorySid(const Sid& sid);

// Asks a directory. Every call may fail (the directory is down, slow or
// refuses); a failure is an error whose message says why, never a guess.
class DirectoryClient {
 public:
  virtual ~DirectoryClient() = default;
  // The directory user `uid` maps to, or nullopt when the directory does not
  // map it (a local user).
  virtual Result<std::optional<DirectoryUser>> LookupUser(uint32_t uid) = 0;
  // For each gid, the SID the directory maps it to, or nullopt for a gid it
  // does not map (a local group). The result has gids.size() entries.
  virtual Result<std::vector<std::optional<Sid>>> MapGroups(
      std::span<const uint32_t> gids) = 0;
  // The host's own domain.
  virtual Result<DirectoryDomain> Domain() = 0;
};

// Where the identity of a minted token came from.
enum class IdentityOrigin {
  kLocal,            // not a directory user (or no directory): S-1-22 SIDs
  kDirectory,        // the directory answered (now or within the TTL)
  kDirectoryCached,  // the directory did not answer; its last answer was used
  kLocalFallback,    // the directory did not answer and nothing was cached
};
std::string_view IdentityOriginName(IdentityOrigin origin);

// What the minting policy gets for one uid and its gids.
struct DirectoryAnswer {
  IdentityOrigin origin = IdentityOrigin::kLocal;
  // Set iff origin is kDirectory or kDirectoryCached.
  std::optional<DirectoryUser> user;
  // When the directory data used was fetched (ns since the epoch); 0 when no
  // directory data was used.
  uint64_t fetched_ns = 0;
  // For each gid asked about, its directory SID, or nullopt for a local gid
  // (or one whose mapping is unknown because the directory did not answer).
  std::vector<std::optional<Sid>> group_sids;
  // Why the directory was not used, for kDirectoryCached and
  // kLocalFallback (and for a gid mapping that failed); empty otherwise.
  std::string failure;
};

// What MintingPolicy::Mint consults for a non-root uid.
class DirectorySource {
 public:
  virtual ~DirectorySource() = default;
  virtual DirectoryAnswer Resolve(uint32_t uid,
                                  std::span<const uint32_t> gids) = 0;
};

class DirectoryCache : public DirectorySource {
 public:
  static constexpr uint64_t kRetryNotJoinedNs = 1000000000;  // 1 s

  struct Options {
    uint64_t ttl_ns = uint64_t{300} * 1000000000;  // 5 minutes
    size_t max_entries = 4096;
  };

  DirectoryCache(DirectoryClient& client, const Clock& clock, Options options);

  DirectoryAnswer Resolve(uint32_t uid,
                          std::span<const uint32_t> gids) override;

  // The directory's name for `sid` when a cached answer named it; never asks
  // the directory.
  std::optional<std::string> SidName(const Sid& sid) const;

  // True once the client has answered at least once.
  bool joined() const;

 private:
  struct UserEntry {
    std::optional<DirectoryUser> user;  // nullopt: a local uid
    uint64_t fetched_ns = 0;
  };
  struct GroupEntry {
    std::optional<Sid> sid;  // nullopt: a local gid
    uint64_t fetched_ns = 0;
  };

  bool Fresh(uint64_t fetched_ns, uint64_t now) const;
  void StoreNames(const DirectoryUser& user);  // REQUIRES: mutex_ held
  void ResolveGroups(std::span<const uint32_t> gids, uint64_t now,
                     DirectoryAnswer& answer);

  DirectoryClient& client_;
  const Clock& clock_;
  const Options options_;

  mutable std::mutex mutex_;
  bool answered_ = false;                            // guarded by mutex_
  uint64_t quiet_until_ns_ = 0;                      // guarded by mutex_
  std::unordered_map<uint32_t, UserEntry> users_;    // guarded by mutex_
  std::unordered_map<uint32_t, GroupEntry> groups_;  // guarded by mutex_
  std::unordered_map<Sid, std::string> names_;       // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_DIRECTORY_H_
