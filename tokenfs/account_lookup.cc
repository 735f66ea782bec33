#include "tokenfs/account_lookup.h"

#include <grp.h>
#include <pwd.h>

#include <vector>

#include "tokenfs/worker_pool.h"

namespace tokenfs {
namespace {

constexpr auto kLifetime = std::chrono::seconds(60);

std::optional<std::string> FetchUser(uint32_t uid) {
  MayBlock();  // NSS may ask a daemon or the network
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* result = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result) != 0 ||
      !result) {
    return std::nullopt;
  }
  return std::string(result->pw_name);
}

std::optional<std::string> FetchGroup(uint32_t gid) {
  MayBlock();  // NSS may ask a daemon or the network
  std::vector<char> buffer(16384);
  group entry{};
  group* result = nullptr;
  if (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &result) != 0 ||
      !result) {
    return std::nullopt;
  }
  return std::string(result->gr_name);
}

}  // namespace

std::optional<std::string> SystemAccountLookup::Cached(
    std::unordered_map<uint32_t, Entry>& cache, uint32_t id,
    std::optional<std::string> (*fetch)(uint32_t)) const {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = cache.find(id);
    if (it != cache.end() && now - it->second.fetched < kLifetime) {
      return it->second.name;
    }
  }
  std::optional<std::string> name = fetch(id);
  std::lock_guard<std::mutex> lock(mutex_);
  if (cache.size() >= kMaxEntries && !cache.contains(id)) cache.clear();
  cache[id] = Entry{name, now};
  return name;
}

std::optional<std::string> SystemAccountLookup::UserName(uint32_t uid) const {
  return Cached(users_, uid, &FetchUser);
}

std::optional<std::string> SystemAccountLookup::GroupName(uint32_t gid) const {
  return Cached(groups_, gid, &FetchGroup);
}

std::optional<std::string> SystemAccountLookup::DirectoryName(
    const Sid& sid) const {
  if (!directory_) return std::nullopt;
  return directory_->SidName(sid);
}

}  // namespace tokenfs
