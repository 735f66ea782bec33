#include "core/directory.h"

#include <utility>

#include "core/well_known_sids.h"

namespace tokenfs {

bool IsDirectorySid(const Sid& sid) {
  if (sid.sub_authority_count() == 0 && sid.authority() == kNullAuthority) {
    return false;
  }
  if (sid == well_known::Null()) return false;
  return sid.authority() != kUnixAuthority;
}

std::string_view IdentityOriginName(IdentityOrigin origin) {
  switch (origin) {
    case IdentityOrigin::kLocal:
      return "local";
    case IdentityOrigin::kDirectory:
      return "directory";
    case IdentityOrigin::kDirectoryCached:
      return "directory-cached";
    case IdentityOrigin::kLocalFallback:
      return "local-fallback";
  }
  return "local";
}

DirectoryCache::DirectoryCache(DirectoryClient& client, const Clock& clock,
                               Options options)
    : client_(client), clock_(clock), options_(options) {}

bool DirectoryCache::Fresh(uint64_t fetched_ns, uint64_t now) const {
  return now >= fetched_ns && now - fetched_ns < options_.ttl_ns;
}

bool DirectoryCache::joined() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return answered_;
}

std::optional<std::string> DirectoryCache::SidName(const Sid& sid) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = names_.find(sid);
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

void DirectoryCache::StoreNames(const DirectoryUser& user) {
  for (const auto& [sid, name] : user.names) {
    if (names_.size() >= options_.max_entries && !names_.contains(sid)) {
      names_.clear();
    }
    names_[sid] = name;
  }
}

DirectoryAnswer DirectoryCache::Resolve(uint32_t uid,
                                        std::span<const uint32_t> gids) {
  DirectoryAnswer answer;
  answer.group_sids.resize(gids.size());
  const uint64_t now = clock_.NowNanoseconds();

  std::optional<UserEntry> entry;  // what is known about `uid`
  bool fresh = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = users_.find(uid); it != users_.end()) {
      entry = it->second;
      fresh = Fresh(entry->fetched_ns, now);
    }
  }
  bool user_failed = false;
  if (!fresh) {
    std::lock_guard<std::mutex> lock(mutex_);
    // A directory that has never answered is asked at most once per
    // kRetryNotJoinedNs: a host without one pays nothing per mint.
    if (!answered_ && now < quiet_until_ns_) return answer;
  }
  if (!fresh) {
    auto looked_up = client_.LookupUser(uid);
    std::lock_guard<std::mutex> lock(mutex_);
    if (looked_up) {
      answered_ = true;
      entry = UserEntry{std::move(*looked_up), now};
      if (users_.size() >= options_.max_entries && !users_.contains(uid)) {
        users_.clear();
      }
      users_[uid] = *entry;
      if (entry->user) StoreNames(*entry->user);
    } else {
      user_failed = true;
      answer.failure = looked_up.error().message;
      if (!answered_) {
        // Never joined (or winbind down since the start): a local host.
        quiet_until_ns_ = now + kRetryNotJoinedNs;
        answer.failure.clear();
        return answer;
      }
    }
  }

  if (entry && entry->user) {
    answer.origin = user_failed ? IdentityOrigin::kDirectoryCached
                                : IdentityOrigin::kDirectory;
    answer.user = entry->user;
    answer.fetched_ns = entry->fetched_ns;
  } else if (entry) {
    answer.origin = IdentityOrigin::kLocal;  // the directory said: local
  } else {
    answer.origin = IdentityOrigin::kLocalFallback;
  }
  if (!user_failed) {
    ResolveGroups(gids, now, answer);
  } else if (answer.origin != IdentityOrigin::kLocalFallback) {
    // Not asked again: the directory just failed. Stale mappings only (a
    // fallback identity is all S-1-22: nothing the directory said is used).
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < gids.size(); ++i) {
      if (auto it = groups_.find(gids[i]); it != groups_.end()) {
        answer.group_sids[i] = it->second.sid;
      }
    }
  }
  return answer;
}

void DirectoryCache::ResolveGroups(std::span<const uint32_t> gids, uint64_t now,
                                   DirectoryAnswer& answer) {
  std::vector<uint32_t> missing;
  std::vector<size_t> missing_index;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < gids.size(); ++i) {
      auto it = groups_.find(gids[i]);
      if (it != groups_.end()) answer.group_sids[i] = it->second.sid;
      if (it == groups_.end() || !Fresh(it->second.fetched_ns, now)) {
        missing.push_back(gids[i]);
        missing_index.push_back(i);
      }
    }
  }
  if (missing.empty()) return;
  auto mapped = client_.MapGroups(missing);
  if (!mapped || mapped->size() != missing.size()) {
    // Stale mappings stay; unknown gids count as local.
    if (answer.failure.empty()) {
      answer.failure = mapped ? "the directory mapped the wrong number of gids"
                              : mapped.error().message;
    }
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  answered_ = true;
  for (size_t k = 0; k < missing.size(); ++k) {
    std::optional<Sid> sid = (*mapped)[k];
    if (sid && !IsDirectorySid(*sid)) sid.reset();
    answer.group_sids[missing_index[k]] = sid;
    if (groups_.size() >= options_.max_entries &&
        !groups_.contains(missing[k])) {
      groups_.clear();
    }
    groups_[missing[k]] = GroupEntry{sid, now};
  }
}

}  // namespace tokenfs
