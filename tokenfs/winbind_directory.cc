#include "tokenfs/winbind_directory.h"

#include <sys/types.h>
// wbclient.h uses these without including their headers.
#include <cstddef>
#include <cstdint>
#include <ctime>

extern "C" {
#include <wbclient.h>
}

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "core/well_known_sids.h"
#include "tokenfs/worker_pool.h"

namespace tokenfs {
namespace {

Error WinbindError(const char* call, wbcErr error) {
  return Error{ErrorCode::kFailedPrecondition,
               std::string("winbind: ") + call + ": " + wbcErrorString(error)};
}

// Errors that mean "winbind answered: it does not map this", not "winbind
// did not answer".
bool IsNotMapped(wbcErr error) {
  return error == WBC_ERR_DOMAIN_NOT_FOUND || error == WBC_ERR_INVALID_SID ||
         error == WBC_ERR_UNKNOWN_USER || error == WBC_ERR_UNKNOWN_GROUP;
}

std::optional<Sid> FromWbc(const wbcDomainSid& sid) {
  char text[WBC_SID_STRING_BUFLEN];
  if (wbcSidToStringBuf(&sid, text, sizeof text) <= 0) return std::nullopt;
  auto parsed = Sid::Parse(text);
  if (!parsed) return std::nullopt;
  return *parsed;
}

}  // namespace

// ---- WinbindDirectory ----

WinbindDirectory::WinbindDirectory() : context_(wbcCtxCreate()) {}

WinbindDirectory::~WinbindDirectory() {
  if (context_) wbcCtxFree(context_);
}

Result<std::optional<DirectoryUser>> WinbindDirectory::LookupUser(
    uint32_t uid) {
  if (!context_) return MakeError(ErrorCode::kOutOfMemory, "wbcCtxCreate");
  wbcDomainSid user_sid{};
  const wbcErr mapped = wbcCtxUidToSid(context_, uid, &user_sid);
  if (IsNotMapped(mapped)) return std::optional<DirectoryUser>();
  if (!WBC_ERROR_IS_OK(mapped)) {
    return tl::unexpected(WinbindError("wbcUidToSid", mapped));
  }
  std::optional<Sid> user = FromWbc(user_sid);
  if (!user || !IsDirectorySid(*user)) return std::optional<DirectoryUser>();

  DirectoryUser answer{*user, {}, {}};
  uint32_t count = 0;
  wbcDomainSid* sids = nullptr;
  const wbcErr listed =
      wbcCtxLookupUserSids(context_, &user_sid, false, &count, &sids);
  if (!WBC_ERROR_IS_OK(listed)) {
    // A mapped user whose groups cannot be listed is not minted with fewer
    // groups than the directory would give: the directory did not answer.
    return tl::unexpected(WinbindError("wbcLookupUserSids", listed));
  }
  std::vector<wbcDomainSid> to_name = {user_sid};
  for (uint32_t i = 0; i < count; ++i) {
    std::optional<Sid> group = FromWbc(sids[i]);
    if (!group) {
      wbcFreeMemory(sids);
      return MakeError(ErrorCode::kFailedPrecondition,
                       "winbind: wbcLookupUserSids returned an invalid SID");
    }
    if (*group == *user) continue;
    if (std::find(answer.groups.begin(), answer.groups.end(), *group) !=
        answer.groups.end()) {
      continue;
    }
    answer.groups.push_back(*group);
    to_name.push_back(sids[i]);
  }
  wbcFreeMemory(sids);

  // Names are labels: best effort, one call for all.
  struct wbcDomainInfo* domains = nullptr;
  int domain_count = 0;
  wbcTranslatedName* names = nullptr;
  const wbcErr named = wbcCtxLookupSids(context_, to_name.data(),
                                        static_cast<int>(to_name.size()),
                                        &domains, &domain_count, &names);
  if (WBC_ERROR_IS_OK(named)) {
    for (size_t i = 0; i < to_name.size(); ++i) {
      const wbcTranslatedName& name = names[i];
      if (name.type == WBC_SID_NAME_UNKNOWN || !name.name || !*name.name) {
        continue;
      }
      const Sid& sid = i == 0 ? answer.user : answer.groups[i - 1];
      std::string domain;
      if (name.domain_index >= 0 && name.domain_index < domain_count &&
          domains[name.domain_index].short_name) {
        domain = domains[name.domain_index].short_name;
      }
      // Samba's DC answers its own domain with an empty name here.
      if (domain.empty()) domain = DomainNameOf(sid);
      answer.names.emplace_back(sid, domain.empty()
                                         ? std::string(name.name)
                                         : domain + "\\" + name.name);
    }
    wbcFreeMemory(domains);
    wbcFreeMemory(names);
  }
  return std::optional<DirectoryUser>(std::move(answer));
}

Result<std::vector<std::optional<Sid>>> WinbindDirectory::MapGroups(
    std::span<const uint32_t> gids) {
  if (!context_) return MakeError(ErrorCode::kOutOfMemory, "wbcCtxCreate");
  std::vector<std::optional<Sid>> out(gids.size());
  if (gids.empty()) return out;
  std::vector<wbcUnixId> ids(gids.size());
  for (size_t i = 0; i < gids.size(); ++i) {
    ids[i].type = WBC_ID_TYPE_GID;
    ids[i].id.gid = gids[i];
  }
  std::vector<wbcDomainSid> sids(gids.size());
  const wbcErr mapped = wbcCtxUnixIdsToSids(
      context_, ids.data(), static_cast<uint32_t>(ids.size()), sids.data());
  if (!WBC_ERROR_IS_OK(mapped)) {
    return tl::unexpected(WinbindError("wbcUnixIdsToSids", mapped));
  }
  for (size_t i = 0; i < gids.size(); ++i) {
    std::optional<Sid> sid = FromWbc(sids[i]);
    if (sid && IsDirectorySid(*sid)) out[i] = *sid;
  }
  return out;
}

std::string WinbindDirectory::DomainNameOf(const Sid& sid) {
  if (sid.authority() == kNtAuthority && sid.sub_authority_count() == 2 &&
      sid.sub_authorities()[0] == 32) {
    return "BUILTIN";
  }
  if (!own_domain_) {
    auto domain = Domain();
    if (!domain) return "";
    own_domain_ = *domain;
  }
  const auto sub = sid.sub_authorities();
  const auto own = own_domain_->sid.sub_authorities();
  if (sid.authority() == own_domain_->sid.authority() &&
      sub.size() == own.size() + 1 &&
      std::equal(own.begin(), own.end(), sub.begin())) {
    return own_domain_->name;
  }
  return "";
}

Result<DirectoryDomain> WinbindDirectory::Domain() {
  if (!context_) return MakeError(ErrorCode::kOutOfMemory, "wbcCtxCreate");
  struct wbcInterfaceDetails* details = nullptr;
  const wbcErr asked = wbcCtxInterfaceDetails(context_, &details);
  if (!WBC_ERROR_IS_OK(asked)) {
    return tl::unexpected(WinbindError("wbcInterfaceDetails", asked));
  }
  const std::string name =
      details->netbios_domain ? details->netbios_domain : "";
  wbcFreeMemory(details);
  if (name.empty()) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "winbind: the host belongs to no domain");
  }
  struct wbcDomainInfo* info = nullptr;
  const wbcErr found = wbcCtxDomainInfo(context_, name.c_str(), &info);
  if (!WBC_ERROR_IS_OK(found)) {
    return tl::unexpected(WinbindError("wbcDomainInfo", found));
  }
  std::optional<Sid> sid = FromWbc(info->sid);
  wbcFreeMemory(info);
  if (!sid || !IsDomainSid(*sid)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "winbind: domain " + name + " has no S-1-5-21-a-b-c SID");
  }
  return DirectoryDomain{name, *sid};
}

// ---- DeadlineDirectory ----

struct DeadlineDirectory::Shared {
  struct Job {
    std::function<void(DirectoryClient&)> run;
    bool done = false;
    bool abandoned = false;
  };

  std::unique_ptr<DirectoryClient> inner;
  std::chrono::milliseconds deadline{200};
  std::mutex mutex;
  std::condition_variable wake;            // the worker: a job or stop
  std::condition_variable done;            // callers: a job finished
  std::deque<std::shared_ptr<Job>> queue;  // guarded
  std::optional<std::chrono::steady_clock::time_point> busy;  // guarded
  bool stop = false;                                          // guarded
  bool started = false;                                       // guarded

  void Work() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return stop || !queue.empty(); });
      if (stop) return;
      std::shared_ptr<Job> job = std::move(queue.front());
      queue.pop_front();
      if (job->abandoned) continue;
      busy = std::chrono::steady_clock::now();
      lock.unlock();
      job->run(*inner);
      lock.lock();
      busy.reset();
      job->done = true;
      done.notify_all();
    }
  }
};

DeadlineDirectory::DeadlineDirectory(std::unique_ptr<DirectoryClient> inner,
                                     std::chrono::milliseconds deadline)
    : shared_(std::make_shared<Shared>()) {
  shared_->inner = std::move(inner);
  shared_->deadline = deadline;
}

DeadlineDirectory::~DeadlineDirectory() {
  // The worker holds its own reference to the shared state: when it is
  // stuck in a call it finishes that call, sees `stop` and ends.
  std::lock_guard<std::mutex> lock(shared_->mutex);
  shared_->stop = true;
  for (auto& job : shared_->queue) job->abandoned = true;
  shared_->wake.notify_all();
}

template <typename T, typename Call>
Result<T> DeadlineDirectory::Run(Call call) {
  Shared& shared = *shared_;
  auto result = std::make_shared<std::optional<Result<T>>>();
  auto job = std::make_shared<Shared::Job>();
  job->run = [result, call](DirectoryClient& inner) { *result = call(inner); };
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(shared.mutex);
  const auto ms = std::to_string(shared.deadline.count());
  if (shared.busy && now - *shared.busy >= shared.deadline) {
    return MakeError(
        ErrorCode::kBusy,
        "winbind has not answered an earlier request for over " + ms + " ms");
  }
  if (shared.queue.size() >= kMaxQueued) {
    return MakeError(ErrorCode::kBusy, "too many directory requests waiting");
  }
  if (!shared.started) {
    // Started by the first call, not at construction: the daemon builds its
    // directory before fuse_daemonize forks, and threads do not survive a
    // fork.
    std::thread([shared = shared_] { shared->Work(); }).detach();
    shared.started = true;
  }
  shared.queue.push_back(job);
  shared.wake.notify_one();
  MayBlock();  // winbind may take up to the deadline
  if (!shared.done.wait_until(lock, now + shared.deadline,
                              [&job] { return job->done; })) {
    job->abandoned = true;
    return MakeError(ErrorCode::kBusy,
                     "winbind did not answer within " + ms + " ms");
  }
  return std::move(**result);
}

Result<std::optional<DirectoryUser>> DeadlineDirectory::LookupUser(
    uint32_t uid) {
  return Run<std::optional<DirectoryUser>>(
      [uid](DirectoryClient& inner) { return inner.LookupUser(uid); });
}

Result<std::vector<std::optional<Sid>>> DeadlineDirectory::MapGroups(
    std::span<const uint32_t> gids) {
  std::vector<uint32_t> copy(gids.begin(), gids.end());
  return Run<std::vector<std::optional<Sid>>>(
      [copy = std::move(copy)](DirectoryClient& inner) {
        return inner.MapGroups(copy);
      });
}

Result<DirectoryDomain> ProbeDomain(std::chrono::milliseconds deadline) {
  struct Probe {
    std::mutex mutex;
    std::condition_variable done_cv;
    std::optional<Result<DirectoryDomain>> result;
  };
  auto probe = std::make_shared<Probe>();
  std::thread([probe] {
    WinbindDirectory directory;
    Result<DirectoryDomain> domain = directory.Domain();
    std::lock_guard<std::mutex> lock(probe->mutex);
    probe->result = std::move(domain);
    probe->done_cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(probe->mutex);
  if (!probe->done_cv.wait_for(
          lock, deadline, [&probe] { return probe->result.has_value(); })) {
    return MakeError(ErrorCode::kBusy, "winbind did not answer within " +
                                           std::to_string(deadline.count()) +
                                           " ms");
  }
  return std::move(*probe->result);
}

Result<DirectoryDomain> DeadlineDirectory::Domain() {
  return Run<DirectoryDomain>(
      [](DirectoryClient& inner) { return inner.Domain(); });
}

}  // namespace tokenfs
