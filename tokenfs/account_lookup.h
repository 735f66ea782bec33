// SystemAccountLookup: Linux account names for SID labels (Unix User\alice).
//
// Names come from NSS (getpwuid_r/getgrgid_r) and are cached for a minute,
// misses included, so a slow directory service costs one lookup per minute,
// not one per read. Labels are best effort: a failed lookup shows the number.
//
// Memory: any user can have labels made for ids of their choosing (the SIDs
// of a restricted token, for one), so each cache (users, groups) holds at
// most kMaxEntries ids (about 80 bytes each, plus names longer than 15
// bytes) and starts over when full.
//
// Names of directory accounts (a joined host's domain users and groups) come
// from the directory cache, never from a new directory request.
//
// Thread-safety: safe from any thread (one mutex around the cache; the NSS
// call happens outside it). SetDirectory must be called before other
// threads use the lookup.
#ifndef TOKENFS_TOKENFS_ACCOUNT_LOOKUP_H_
#define TOKENFS_TOKENFS_ACCOUNT_LOOKUP_H_

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/directory.h"
#include "core/well_known_sids.h"

namespace tokenfs {

class SystemAccountLookup : public AccountLookup {
 public:
  static constexpr size_t kMaxEntries = 8192;

  std::optional<std::string> UserName(uint32_t uid) const override;
  std::optional<std::string> GroupName(uint32_t gid) const override;
  std::optional<std::string> DirectoryName(const Sid& sid) const override;

  // The cache whose answers name directory SIDs (borrowed; null: none).
  void SetDirectory(const DirectoryCache* directory) { directory_ = directory; }

 private:
  struct Entry {
    std::optional<std::string> name;
    std::chrono::steady_clock::time_point fetched;
  };
  std::optional<std::string> Cached(
      std::unordered_map<uint32_t, Entry>& cache, uint32_t id,
      std::optional<std::string> (*fetch)(uint32_t)) const;

  const DirectoryCache* directory_ = nullptr;
  mutable std::mutex mutex_;
  mutable std::unordered_map<uint32_t, Entry> users_;   // guarded by mutex_
  mutable std::unordered_map<uint32_t, Entry> groups_;  // guarded by mutex_
};

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_ACCOUNT_LOOKUP_H_
