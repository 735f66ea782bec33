#include "core/registry.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <unordered_set>
#include <utility>

#include "core/state_journal.h"

namespace tokenfs {

// ---------------------------------------------------------------------------
// TokenObject

namespace {
Token Labelled(Token token) {
  LabelTokenSecurity(token);
  return token;
}

// The deleter of every snapshot a TokenObject publishes; it carries the
// snapshot's serial, which SnapshotSerial reads back.
struct PublishedSnapshot {
  uint64_t serial = 0;
  void operator()(const Token* token) const { delete token; }
};

std::atomic<uint64_t> next_snapshot_serial{1};

std::shared_ptr<const Token> Publish(Token token) {
  return std::shared_ptr<const Token>(
      new Token(std::move(token)),
      PublishedSnapshot{
          next_snapshot_serial.fetch_add(1, std::memory_order_relaxed)});
}
}  // namespace

uint64_t SnapshotSerial(const std::shared_ptr<const Token>& token) {
  const auto* snapshot = std::get_deleter<PublishedSnapshot>(token);
  return snapshot ? snapshot->serial : 0;
}

TokenObject::TokenObject(Token token, StateJournal* journal,
                         const TokenObjectHooks* hooks)
    : id_(token.token_id),
      journal_(journal),
      hooks_(hooks),
      history_(hooks ? hooks->history_limit : kDefaultHistoryLimit),
      token_(Publish(Labelled(std::move(token)))) {
  if (journal_) {
    std::lock_guard<std::mutex> lock(mutex_);
    RecordLocked();
  }
}

TokenObject::~TokenObject() {
  if (journal_) journal_->ForgetToken(id_);
}

void TokenObject::RecordLocked() {
  if (!journal_) return;
  Luid partner;
  bool owns = false;
  if (owned_partner_) {
    partner = owned_partner_->id();
    owns = true;
  } else if (auto weak = weak_partner_.lock()) {
    partner = weak->id();
  }
  journal_->RecordToken(token_, partner, owns);
}

void TokenObject::Notify() const {
  if (hooks_ && hooks_->on_change) hooks_->on_change();
}

void TokenObject::MarkChanged() {
  changes_.fetch_add(1, std::memory_order_acq_rel);
  Notify();
}

void TokenObject::Record(HistoryEvent event) {
  if (event.time_ns == 0 && hooks_ && hooks_->clock) {
    event.time_ns = hooks_->clock->NowNanoseconds();
  }
  auto kept = history_.Append(std::move(event));
  if (kept && journal_) journal_->RecordHistory(id_, *kept);
  Notify();
}

std::shared_ptr<const Token> TokenObject::Get() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return token_;
}

Result<std::shared_ptr<const Token>> TokenObject::Update(
    const std::function<Result<Token>(const Token&)>& change) {
  // Children forked from the current snapshot get their own objects first,
  // and those forked while this runs get theirs after (Registry).
  const bool hooked = hooks_ && hooks_->before_update;
  if (hooked && pending_children() > 0) hooks_->before_update(*this);
  struct After {
    const TokenObject* self;
    bool hooked;
    ~After() {
      if (hooked && self->pending_children() > 0) {
        self->hooks_->before_update(*self);
      }
    }
  } after{this, hooked};
  std::shared_ptr<const Token> updated;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    auto result = UpdateLocked(change);
    if (!result) return result;
    updated = std::move(*result);
    changes_.fetch_add(1, std::memory_order_acq_rel);
  }
  Notify();
  return updated;
}

Result<std::shared_ptr<const Token>> TokenObject::UpdateLocked(
    const std::function<Result<Token>(const Token&)>& change) {
  auto replacement = change(*token_);
  if (!replacement) return tl::unexpected(replacement.error());
  // An operation may never change which token this object is.
  replacement->token_id = id_;
  LabelTokenSecurity(*replacement);
  // Whatever the operation checked, the object never holds a token that
  // breaks an invariant or that the state store could not record exactly.
  if (Status valid = ValidateToken(*replacement); !valid) {
    return tl::unexpected(valid.error());
  }
  token_ = Publish(std::move(*replacement));
  RecordLocked();
  return token_;
}

void TokenObject::MarkPrivilegesUsed(uint64_t privileges) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t fresh =
      privileges & token_->privileges.present & ~token_->privileges.used;
  if (!fresh) return;
  Token copy = *token_;
  copy.privileges.used |= fresh;
  token_ = Publish(std::move(copy));
  RecordLocked();
}

void TokenObject::LinkOwning(std::shared_ptr<TokenObject> partner) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    weak_partner_.reset();
    owned_partner_ = std::move(partner);
    RecordLocked();
    changes_.fetch_add(1, std::memory_order_acq_rel);
  }
  Notify();
}

void TokenObject::LinkWeak(const std::shared_ptr<TokenObject>& partner) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    owned_partner_.reset();
    weak_partner_ = partner;
    RecordLocked();
    changes_.fetch_add(1, std::memory_order_acq_rel);
  }
  Notify();
}

std::shared_ptr<TokenObject> TokenObject::LinkedPartner() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (owned_partner_) return owned_partner_;
  return weak_partner_.lock();
}

// ---------------------------------------------------------------------------
// Registry

Registry::Registry(const ProcessSource& source, TokenMinter& minter,
                   LuidAllocator& ids, Options options, StateJournal* journal)
    : source_(source),
      minter_(minter),
      ids_(ids),
      options_(WithOwnHooks(std::move(options), this)),
      journal_(journal) {}

Registry::Options Registry::WithOwnHooks(Options options, Registry* registry) {
  options.hooks.before_update = [registry](const TokenObject& object) {
    registry->MaterializeChildrenOf(&object, 0);
  };
  return options;
}

TokenObjectPtr Registry::NewObject(Token token) {
  return std::make_shared<TokenObject>(std::move(token), journal_,
                                       &options_.hooks);
}

void Registry::NotifyChange() const {
  if (options_.hooks.on_change) options_.hooks.on_change();
}

void Registry::RecordEvent(const TokenObjectPtr& object, HistoryKind kind,
                           int32_t actor_pid, const Token* actor,
                           uint64_t other, std::string operation,
                           uint64_t time_ns) {
  if (!object) return;
  HistoryEvent event;
  event.time_ns = time_ns;
  event.kind = kind;
  event.actor_pid = actor_pid;
  if (actor) event.actor_user = actor->user.ToString();
  event.token = other;
  event.operation = std::move(operation);
  object->Record(std::move(event));
}

void Registry::RecordProcessLocked(const ProcessEntry& entry) {
  if (!journal_) return;
  ProcessRecord record;
  record.key = entry.key;
  record.ppid = entry.ppid;
  record.credentials = entry.credentials;
  record.primary = entry.primary->id();
  if (entry.adopt_at_exec) record.adopt_at_exec = entry.adopt_at_exec->id();
  record.exec_mark = entry.exec_mark;
  if (entry.origin) {
    record.origin = entry.origin->id();
    record.origin_credentials = entry.origin_credentials;
  }
  journal_->RecordProcess(record);
}

void Registry::ForgetProcessLocked(const ProcessKey& key) {
  if (journal_) journal_->ForgetProcess(key);
}

void Registry::RecordThreadLocked(int32_t tid, const ThreadEntry& entry) {
  if (!journal_ || !entry.impersonation) return;
  ThreadRecord record;
  record.tid = tid;
  record.tgid = entry.tgid;
  record.incarnation = entry.incarnation;
  record.impersonation = entry.impersonation->id();
  if (entry.adopt_at_exec) record.adopt_at_exec = entry.adopt_at_exec->id();
  journal_->RecordThread(record);
}

void Registry::ForgetThreadLocked(int32_t tid, const ThreadEntry& entry) {
  // Only impersonating threads have records.
  if (journal_ && entry.impersonation) {
    journal_->ForgetThread(tid, entry.incarnation);
  }
}

void Registry::RecordObjectLocked(const ObjectInfo& info) {
  if (journal_) journal_->RecordObject(info);
}

void Registry::EraseProcessLocked(
    std::unordered_map<int32_t, ProcessEntry>::iterator it) {
  const int32_t pid = it->first;
  ForgetProcessLocked(it->second.key);
  processes_.erase(it);
  NotifyChange();
  for (auto thread = threads_.begin(); thread != threads_.end();) {
    if (thread->second.tgid == pid) {
      ForgetThreadLocked(thread->first, thread->second);
      thread = threads_.erase(thread);
    } else {
      ++thread;
    }
  }
}

void Registry::SetEventsLive(bool live) {
  std::lock_guard<std::mutex> lock(mutex_);
  events_live_ = live;
}

bool Registry::events_live() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_live_;
}

Result<TokenObjectPtr> Registry::MintObject(
    const LinuxCredentials& credentials) {
  auto minted = minter_.Mint(credentials);
  if (!minted) return tl::unexpected(minted.error());
  auto object = NewObject(std::move(minted->token));
  if (minted->linked_full) {
    auto full = NewObject(std::move(*minted->linked_full));
    full->LinkWeak(object);
    object->LinkOwning(std::move(full));
  }
  return object;
}

void Registry::RegisterPartner(const TokenObjectPtr& object,
                               const ProcessKey& process, uint32_t uid) {
  // The Full half of a minted pair lives under /tokens/objects so `linked`
  // can name it; it stays while a Limited half owns it.
  if (auto partner = object->LinkedPartner()) {
    AddExistingObject(std::move(partner), process, uid);
  }
}

TokenObjectPtr Registry::CopyForFork(const Token& token,
                                     const TokenObject& parent) {
  Token copy = token;
  copy.token_id = ids_.Next();
  auto child = NewObject(std::move(copy));
  // A fork copy stays in the parent's elevation pair (the pair belongs to
  // the logon session, not to one token object).
  if (auto partner = parent.LinkedPartner()) {
    if (child->Get()->elevation_type == ElevationType::kLimited) {
      child->LinkOwning(std::move(partner));
    } else {
      child->LinkWeak(partner);
    }
  }
  return child;
}

Result<Registry::Followed> Registry::FollowCredentials(
    const TokenObjectPtr& held, const LinuxCredentials& before,
    const LinuxCredentials& after, const ProcessKey& key, bool copy,
    const TokenObjectPtr& origin, const LinuxCredentials& origin_credentials) {
  if (origin && ClassifyCredentialChange(origin_credentials, after) !=
                    CredentialChange::kNewIdentity) {
    // Back within the ids it held before a set-ID program: what it had then,
    // narrowed, never the fresh token the program's ids minted.
    auto back = FollowCredentials(origin, origin_credentials, after, key,
                                  /*copy=*/true);
    if (!back) return back;
    back->change = CredentialChange::kNarrowed;
    back->origin_spent = true;
    return back;
  }
  Followed followed;
  followed.change = ClassifyCredentialChange(before, after);
  if (followed.change == CredentialChange::kNone) {
    followed.object = copy ? CopyForFork(*held->Get(), *held) : held;
    return followed;
  }
  if (followed.change == CredentialChange::kNewIdentity) {
    auto minted = MintObject(after);
    if (!minted) return tl::unexpected(minted.error());
    followed.object = std::move(*minted);
    RegisterPartner(followed.object, key, after.effective_uid);
    return followed;
  }
  // Narrowed: the held token stays, bounded by what `after` mints (and
  // losing what `before` gave it and `after` does not).
  auto was = minter_.Mint(before);
  if (!was) return tl::unexpected(was.error());
  auto fresh = minter_.Mint(after);
  if (!fresh) return tl::unexpected(fresh.error());
  const auto narrow = [this, &was, &fresh](const TokenObject& object) {
    const std::shared_ptr<const Token> current = object.Get();
    Token token = NarrowToCredentials(*current, *was, *fresh);
    const bool changed = !(token == *current);
    token.token_id = ids_.Next();
    if (changed) token.modified_id = ids_.Next();
    return NewObject(std::move(token));
  };
  followed.object = narrow(*held);
  auto partner = held->LinkedPartner();
  if (partner && fresh->linked_full) {
    if (followed.object->Get()->elevation_type == ElevationType::kLimited) {
      auto full = narrow(*partner);
      full->LinkWeak(followed.object);
      followed.object->LinkOwning(std::move(full));
      RegisterPartner(followed.object, key, after.effective_uid);
    } else {
      followed.object->LinkWeak(partner);
    }
  }
  return followed;
}

void Registry::KeepOrigin(ProcessEntry& entry, const TokenObjectPtr& held,
                          const LinuxCredentials& before,
                          const LinuxCredentials& after,
                          CredentialChange change, bool origin_spent) {
  if (origin_spent) {
    entry.origin.reset();
  } else if (change == CredentialChange::kNewIdentity &&
             before.real_uid == after.real_uid &&
             (!entry.origin ||
              ClassifyCredentialChange(entry.origin_credentials, before) ==
                  CredentialChange::kNewIdentity)) {
    // New ids for the same real user (a set-user-ID or set-group-ID
    // program, or a process switching among ids it may take back): keep
    // what it had, for when it comes back. An origin of an earlier
    // identity (inherited from a root ancestor that became this user) is
    // replaced; one the process's ids still stand within is older and
    // stays (a set-ID program run from a set-ID program).
    entry.origin = held;
    entry.origin_credentials = before;
  }
}

void Registry::CountChangeLocked(CredentialChange change) {
  if (change == CredentialChange::kNarrowed) {
    ++counters_.narrowed;
  } else {
    ++counters_.reminted;
  }
}

bool Registry::StillAlive(const ProcessKey& key) const {
  auto incarnation = source_.Incarnation(key.pid);
  return incarnation && *incarnation == key.incarnation();
}

Result<Registry::ProcessEntry> Registry::MakeEntry(const TaskInfo& task,
                                                   int depth) {
  ProcessEntry entry;
  entry.key = task.process_key();
  entry.ppid = task.ppid;
  entry.credentials = task.credentials;

  TokenObjectPtr parent_primary;
  LinuxCredentials parent_credentials;
  ProcessKey parent_key;
  TokenObjectPtr origin;
  LinuxCredentials origin_credentials;
  bool live = false;
  bool parent_known = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    live = events_live_;
    auto it = processes_.find(task.ppid);
    parent_known = it != processes_.end();
    if (parent_known && it->second.key.start_time <= task.start_time) {
      parent_primary = it->second.primary;
      parent_credentials = it->second.credentials;
      parent_key = it->second.key;
      origin = it->second.origin;
      origin_credentials = it->second.origin_credentials;
    }
  }
  if (parent_primary && !live && !StillAlive(parent_key)) {
    parent_primary.reset();  // a stale entry for an earlier incarnation
    parent_known = false;
  }
  if (auto leader = LineageLeader(task, depth)) {
    parent_primary = leader->primary;
    parent_credentials = leader->credentials;
    parent_key = leader->key;
    parent_known = true;
    // As if the leader had forked it: what the leader would drop back to
    // (a set-ID program's inheritance) comes along.
    origin.reset();
    origin_credentials = LinuxCredentials{};
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(leader->key.pid);
    if (it != processes_.end() && it->second.key == leader->key) {
      origin = it->second.origin;
      origin_credentials = it->second.origin_credentials;
    }
  }
  if (!parent_known && task.ppid > 0 && depth < kMaxAncestors) {
    // An unknown parent (forked while the daemon was down, or older than
    // the daemon) is seen first, from its own nearest known ancestor: a
    // restricted process's grandchild must not get a freshly minted token.
    auto parent =
        LookupProcess(task.ppid, /*force_validation=*/false, depth + 1);
    if (parent && parent->key.start_time <= task.start_time) {
      parent_primary = parent->primary;
      parent_credentials = parent->credentials;
      parent_key = parent->key;
    }
  }
  if (parent_primary) {
    // The child is seen as if its fork had been: a copy of the parent's
    // token, then whatever its credentials did since (an unprivileged
    // narrowing must not buy it a fresh token).
    auto followed =
        FollowCredentials(parent_primary, parent_credentials, task.credentials,
                          entry.key, /*copy=*/true, origin, origin_credentials);
    if (!followed) return tl::unexpected(followed.error());
    entry.primary = std::move(followed->object);
    if (!followed->origin_spent) {
      entry.origin = std::move(origin);
      entry.origin_credentials = origin_credentials;
    }
    // A child first seen as a set-ID program's (its fork or exec not yet
    // reported) keeps what it inherited, for when it drops back.
    KeepOrigin(entry, parent_primary, parent_credentials, task.credentials,
               followed->change, followed->origin_spent);
    // Minted afresh for its own credentials: the process is the actor;
    // else the copy of its parent's (or ancestor's) token.
    if (followed->change == CredentialChange::kNewIdentity) {
      RecordEvent(entry.primary, HistoryKind::kMinted, task.tgid,
                  entry.primary->Get().get());
    } else {
      RecordEvent(entry.primary, HistoryKind::kInherited, parent_key.pid,
                  parent_primary->Get().get(), parent_primary->id().value);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    switch (followed->change) {
      case CredentialChange::kNone:
        ++counters_.inherited;
        break;
      case CredentialChange::kNarrowed:
        ++counters_.inherited;
        ++counters_.narrowed;
        break;
      case CredentialChange::kNewIdentity:
        ++counters_.minted;
        break;
    }
    return entry;
  }
  auto minted = MintObject(task.credentials);
  if (!minted) return tl::unexpected(minted.error());
  entry.primary = std::move(*minted);
  RecordEvent(entry.primary, HistoryKind::kMinted, task.tgid,
              entry.primary->Get().get());
  RegisterPartner(entry.primary, entry.key, task.credentials.effective_uid);
  std::lock_guard<std::mutex> lock(mutex_);
  ++counters_.minted;
  return entry;
}

std::optional<Registry::ProcessView> Registry::LineageLeader(
    const TaskInfo& task, int depth) {
  // Session 0 is a real session in the initial pid namespace: pid 1's,
  // when it never called setsid, and every process it forks without one.
  if (task.session < 0 || task.session == task.tgid || task.ppid <= 0 ||
      depth >= kMaxAncestors) {
    return std::nullopt;
  }
  auto parent = source_.ReadTask(task.ppid);
  if (!parent) return std::nullopt;
  std::vector<int32_t> leaders;
  if (parent->session != task.session) {
    // Sessions are inherited at fork: a process whose session is not its
    // parent's (nor its own, made by setsid) was forked by another process,
    // which has ended and left it to pid 1 or a subreaper.
    leaders = {task.process_group, task.session};
  } else if (parent->process_group != task.process_group &&
             task.process_group > 0 && task.process_group != task.tgid &&
             IsAncestor(task.ppid, task.process_group, depth)) {
    // The same session but another group, led by a descendant of the
    // parent: either a re-parented process whose reaper shares its session
    // (pid 1 in session 0, a subreaper that did not setsid), or one its
    // parent put into a sibling's group (a shell's pipeline). The leader is
    // the nearest ancestor Linux still shows for the first; for the second
    // it holds a copy of the same parent's token.
    leaders = {task.process_group};
  }
  for (int32_t leader : leaders) {
    if (leader <= 0 || leader == task.tgid || leader == task.ppid) continue;
    auto view = LookupProcess(leader, /*force_validation=*/false, depth + 1);
    if (view && view->key.start_time <= task.start_time) return *view;
  }
  return std::nullopt;
}

bool Registry::IsAncestor(int32_t ancestor, int32_t pid, int depth) const {
  for (int steps = depth; steps < kMaxAncestors; ++steps) {
    auto task = source_.ReadTask(pid);
    if (!task || task->ppid <= 0) return false;
    if (task->ppid == ancestor) return true;
    pid = task->ppid;
  }
  return false;
}

Result<Registry::ProcessView> Registry::Process(int32_t pid) {
  return LookupProcess(pid, /*force_validation=*/false);
}

Result<Registry::ProcessView> Registry::LookupProcess(int32_t pid,
                                                      bool force_validation,
                                                      int depth) {
  if (pid <= 0) {
    return MakeError(ErrorCode::kNotFound, "no process " + std::to_string(pid));
  }
  std::optional<ProcessView> cached;
  bool live = false;
  bool pending = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    live = events_live_;
    auto it = processes_.find(pid);
    if (it != processes_.end()) {
      const ProcessEntry& entry = it->second;
      cached =
          ProcessView{entry.key, entry.ppid, entry.credentials, entry.primary};
    } else {
      pending = pending_.count(pid) != 0;
    }
  }
  if (pending) {
    // Forked and not looked at since: its token object is made now, from
    // the snapshot its fork gave it.
    MaterializePending(pid);
    return LookupProcess(pid, force_validation, depth);
  }
  if (cached && live && !force_validation) return *cached;

  // Without live events nothing told us about exits, execs or setuid calls:
  // check the incarnation and the credentials against the OS.
  auto task = source_.ReadTask(pid);
  if (!task) {
    return MakeError(ErrorCode::kNotFound, "no process " + std::to_string(pid));
  }
  if (task->tgid != pid) {
    return MakeError(ErrorCode::kNotFound,
                     std::to_string(pid) + " is a thread of process " +
                         std::to_string(task->tgid) + ", not a process");
  }
  if (cached) {
    if (cached->key == task->process_key()) {
      return ApplyCredentials(cached->key, *task);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(pid);
    if (it != processes_.end() && it->second.key == cached->key) {
      EraseProcessLocked(it);
    }
  }
  auto entry = MakeEntry(*task, depth);
  if (!entry) return tl::unexpected(entry.error());

  bool sweep = false;
  bool inserted = false;
  ProcessView view;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(pid);
    if (it != processes_.end() && it->second.key == entry->key) {
      // Another request created it meanwhile; keep the first.
      view = ProcessView{it->second.key, it->second.ppid,
                         it->second.credentials, it->second.primary};
    } else {
      if (it != processes_.end()) EraseProcessLocked(it);
      view = ProcessView{entry->key, entry->ppid, entry->credentials,
                         entry->primary};
      RecordProcessLocked(*entry);
      processes_[pid] = std::move(*entry);
      inserted = true;
      if (!events_live_ &&
          ++inserts_since_sweep_ >= options_.sweep_after_inserts) {
        sweep = true;
      }
    }
  }
  if (inserted && live && !StillAlive(view.key)) {
    // The process ended between the read above and the insert: its exit
    // event may already have been applied, and nothing would drop the
    // entry again.
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(pid);
    if (it != processes_.end() && it->second.key == view.key) {
      EraseProcessLocked(it);
    }
    return MakeError(ErrorCode::kNotFound, "no process " + std::to_string(pid));
  }
  if (sweep) Sweep();
  return view;
}

Result<Registry::ProcessView> Registry::ApplyCredentials(const ProcessKey& key,
                                                         const TaskInfo& task) {
  // The token is followed outside the lock; when another change replaced
  // the entry's token or credentials meanwhile (an install, another event),
  // the result is stale and the follow starts again from the new state.
  for (int attempt = 0;; ++attempt) {
    LinuxCredentials recorded;
    TokenObjectPtr held;
    TokenObjectPtr origin;
    LinuxCredentials origin_credentials;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = processes_.find(key.pid);
      if (it == processes_.end() || !(it->second.key == key)) {
        return MakeError(ErrorCode::kNotFound,
                         "process " + std::to_string(key.pid) + " is gone");
      }
      if (SameCredentials(it->second.credentials, task.credentials)) {
        return ProcessView{it->second.key, it->second.ppid,
                           it->second.credentials, it->second.primary};
      }
      recorded = it->second.credentials;
      held = it->second.primary;
      origin = it->second.origin;
      origin_credentials = it->second.origin_credentials;
    }
    if (held->pending_children() > 0) MaterializeChildrenOf(held.get(), key.pid);
    // The credentials changed: a new identity is minted afresh, a narrowing
    // narrows the held token. An adoption pending at exec does not defer
    // this: it may be reverted, and until the exec the process runs with
    // these credentials.
    auto followed =
        FollowCredentials(held, recorded, task.credentials, key,
                          /*copy=*/false, origin, origin_credentials);
    if (!followed) return tl::unexpected(followed.error());
    TokenObjectPtr primary = std::move(followed->object);
    const CredentialChange change = followed->change;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(key.pid);
    if (it == processes_.end() || !(it->second.key == key)) {
      return MakeError(ErrorCode::kNotFound,
                       "process " + std::to_string(key.pid) + " is gone");
    }
    if ((it->second.primary != held || it->second.origin != origin ||
         !SameCredentials(it->second.credentials, recorded)) &&
        attempt < kMaxFollowAttempts) {
      continue;
    }
    if (it->second.adopt_at_exec && change == CredentialChange::kNewIdentity &&
        recorded.real_uid == task.credentials.real_uid) {
      // With an adoption pending the process has chosen its next token: a
      // new identity now (the kernel reports a set-ID exec's ids before the
      // exec) comes back to that token, not to the one it is leaving.
      it->second.origin = it->second.adopt_at_exec;
      it->second.origin_credentials = recorded;
    } else if (it->second.origin == origin) {
      KeepOrigin(it->second, held, recorded, task.credentials, change,
                 followed->origin_spent);
    }
    it->second.credentials = task.credentials;
    if (primary && primary != it->second.primary) {
      RecordEvent(primary, HistoryKind::kReminted, key.pid,
                  primary->Get().get(), held ? held->id().value : 0,
                  "credentials");
      it->second.primary = std::move(primary);
      CountChangeLocked(change);
      NotifyChange();
    }
    RecordProcessLocked(it->second);
    return ProcessView{it->second.key, it->second.ppid, it->second.credentials,
                       it->second.primary};
  }
}

void Registry::Revalidate() {
  std::vector<int32_t> pids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // Events were lost: a pending child may have ended and its pid be
    // reused. Those still running are seen as on first sight.
    while (!pending_.empty()) ErasePendingLocked(pending_.begin());
    pids.reserve(processes_.size());
    for (const auto& [pid, entry] : processes_) pids.push_back(pid);
  }
  for (int32_t pid : pids) {
    if (!LookupProcess(pid, /*force_validation=*/true)) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = processes_.find(pid);
      if (it != processes_.end()) EraseProcessLocked(it);
    }
  }
  Sweep();
}

Result<Registry::ThreadView> Registry::Thread(int32_t pid, int32_t tid) {
  auto process = Process(pid);
  if (!process) return tl::unexpected(process.error());
  ThreadView view;
  view.process = process->key;
  view.tid = tid;
  view.primary = process->primary;

  std::optional<ThreadEntry> cached;
  bool live = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    live = events_live_;
    auto it = threads_.find(tid);
    if (it != threads_.end() && it->second.tgid == pid) cached = it->second;
  }
  if (tid == pid) {
    // The leader thread shares the process's incarnation.
    if (cached && cached->incarnation == process->key.incarnation()) {
      view.impersonation = cached->impersonation;
    }
    return view;
  }
  if (cached) {
    const bool valid = live ? true : [&] {
      auto incarnation = source_.Incarnation(tid);
      // Start time 0 means unknown (a fork-event entry): re-read.
      return incarnation && cached->incarnation.start_time != 0 &&
             *incarnation == cached->incarnation;
    }();
    if (valid) {
      view.impersonation = cached->impersonation;
      return view;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = threads_.find(tid);
    if (it != threads_.end() && it->second.tgid == pid &&
        it->second.incarnation == cached->incarnation) {
      ForgetThreadLocked(it->first, it->second);
      threads_.erase(it);
    }
  }
  auto task = source_.ReadTask(tid);
  if (!task || task->tgid != pid) {
    return MakeError(ErrorCode::kNotFound, "no thread " + std::to_string(tid) +
                                               " in process " +
                                               std::to_string(pid));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto [it, inserted] = threads_.try_emplace(tid);
  if (inserted || it->second.tgid != pid) {
    ForgetThreadLocked(it->first, it->second);
    it->second = ThreadEntry{pid, task->thread_incarnation(), nullptr, nullptr};
  }
  view.impersonation = it->second.impersonation;
  return view;
}

Result<Registry::ThreadView> Registry::Task(int32_t tid) {
  if (tid <= 0) {
    return MakeError(ErrorCode::kNotFound, "no task " + std::to_string(tid));
  }
  int32_t tgid = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (processes_.count(tid) || pending_.count(tid)) {
      tgid = tid;
    } else if (auto it = threads_.find(tid); it != threads_.end()) {
      tgid = it->second.tgid;
    }
  }
  if (tgid != 0) {
    auto view = Thread(tgid, tid);
    if (view) return view;
    // A stale cache entry (the tid now belongs elsewhere): ask the OS.
  }
  auto task = source_.ReadTask(tid);
  if (!task) {
    return MakeError(ErrorCode::kNotFound, "no task " + std::to_string(tid));
  }
  return Thread(task->tgid, tid);
}

int32_t Registry::CachedProcessOf(int32_t tid) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (processes_.count(tid) || pending_.count(tid)) return tid;
  if (auto it = threads_.find(tid); it != threads_.end())
    return it->second.tgid;
  return 0;
}

void Registry::OnFork(int32_t parent_tgid, int32_t child_tid,
                      int32_t child_tgid) {
  if (child_tid != child_tgid) {
    // A new thread: remember which process it belongs to, unless the
    // thread was seen already (it impersonated before its clone was
    // reported): that entry is newer than this event.
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (auto pending = pending_.find(child_tgid); pending != pending_.end()) {
        pending->second.threaded = true;
      }
    }
    auto start = source_.Incarnation(child_tid);
    std::lock_guard<std::mutex> lock(mutex_);
    ThreadEntry& thread = threads_[child_tid];
    if (start && thread.tgid == child_tgid &&
        thread.incarnation.start_time != 0 && thread.incarnation == *start) {
      return;
    }
    ForgetThreadLocked(child_tid, thread);
    thread = ThreadEntry{child_tgid, {}, nullptr, nullptr};
    return;
  }
  bool parent_known = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    parent_known = processes_.count(parent_tgid) || pending_.count(parent_tgid);
  }
  // The parent is minted first when unseen, so that the child inherits its
  // token as it is now, not as it may be when the child is first looked at.
  if (!parent_known && !Process(parent_tgid)) {
    return;  // the parent is gone; the child is seen lazily
  }
  const uint64_t now =
      options_.hooks.clock ? options_.hooks.clock->NowNanoseconds() : 0;
  std::lock_guard<std::mutex> lock(mutex_);
  if (processes_.count(child_tgid) || pending_.count(child_tgid)) {
    // A lookup saw this child before its fork was reported (its parent
    // wrote to it at once, as `token impersonate -- cmd` does): that entry
    // already follows from the parent and may hold the child's own
    // adjustments or an adoption pending at exec. Keep it. (The exit of an
    // earlier process with this pid was reported before this fork, so an
    // entry here is this child's.)
    return;
  }
  PendingChild child;
  if (auto it = processes_.find(parent_tgid); it != processes_.end()) {
    child.token = it->second.primary->Get();
    child.source = it->second.primary;
    child.credentials = it->second.credentials;
    child.origin = it->second.origin;
    child.origin_credentials = it->second.origin_credentials;
  } else if (auto pending = pending_.find(parent_tgid);
             pending != pending_.end()) {
    child.token = pending->second.token;
    child.source = pending->second.source;
    child.credentials = pending->second.credentials;
    child.origin = pending->second.origin;
    child.origin_credentials = pending->second.origin_credentials;
    ++pending->second.children;
  } else {
    return;  // gone again meanwhile
  }
  child.ppid = parent_tgid;
  child.source_id = child.source->id().value;
  child.forked_ns = now;
  child.source->AddPendingChild();
  // A reused tid may have left a thread entry behind.
  if (auto thread = threads_.find(child_tgid); thread != threads_.end()) {
    ForgetThreadLocked(thread->first, thread->second);
    threads_.erase(thread);
  }
  if (!spare_pending_.empty()) {
    PendingMap::node_type node = std::move(spare_pending_.back());
    spare_pending_.pop_back();
    node.key() = child_tgid;
    node.mapped() = std::move(child);
    pending_.insert(std::move(node));
  } else {
    pending_.emplace(child_tgid, std::move(child));
  }
  ++counters_.inherited;
}

void Registry::ErasePendingLocked(PendingMap::iterator it) {
  PendingChild& child = it->second;
  child.source->DropPendingChild();
  if (auto parent = pending_.find(child.ppid);
      parent != pending_.end() && parent->second.children > 0) {
    --parent->second.children;
  }
  if (spare_pending_.size() < kMaxSparePending) {
    PendingMap::node_type node = pending_.extract(it);
    // Keep the node, not what it refers to.
    node.mapped() = PendingChild{};
    spare_pending_.push_back(std::move(node));
  } else {
    pending_.erase(it);
  }
}

void Registry::MaterializePending(int32_t pid) {
  PendingChild child;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pending_.find(pid);
    if (it == pending_.end()) return;
    child = it->second;
  }
  // Its own pending children were forked from its snapshot; they stay
  // pending, now on the object made here (below).
  auto start = source_.Incarnation(pid);
  ProcessEntry entry;
  if (start) {
    entry.key = ProcessKey{pid, start->start_time, start->instance};
    entry.ppid = child.ppid;
    entry.credentials = child.credentials;
    entry.origin = child.origin;
    entry.origin_credentials = child.origin_credentials;
    entry.primary = CopyForFork(*child.token, *child.source);
    RecordEvent(entry.primary, HistoryKind::kInherited, child.ppid,
                child.token.get(), child.source_id, {}, child.forked_ns);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = pending_.find(pid);
  // Another thread materialized it (or its exit came) meanwhile.
  if (it == pending_.end() || it->second.token != child.token ||
      it->second.source != child.source) {
    return;
  }
  const uint32_t children = it->second.children;
  ErasePendingLocked(it);
  if (!start) return;  // gone: its exit event will find nothing
  if (children > 0) {
    for (auto& [other, pending] : pending_) {
      if (pending.ppid != pid) continue;
      pending.source->DropPendingChild();
      pending.source = entry.primary;
      pending.source_id = entry.primary->id().value;
      pending.source->AddPendingChild();
    }
  }
  if (auto old = processes_.find(pid); old != processes_.end()) {
    EraseProcessLocked(old);
  }
  RecordProcessLocked(entry);
  processes_[pid] = std::move(entry);
}

void Registry::MaterializeChildrenOfProcess(int32_t pid) {
  TokenObjectPtr primary;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(pid);
    if (it == processes_.end()) return;
    primary = it->second.primary;
  }
  // Its pending children were forked from its primary (a change of that
  // primary made them first), so the object's count says whether any are.
  if (primary->pending_children() > 0) MaterializeChildrenOf(primary.get(), pid);
}

void Registry::MaterializeChildrenOf(const TokenObject* source, int32_t ppid) {
  std::vector<int32_t> pids;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [pid, child] : pending_) {
      if (child.source.get() == source || (ppid != 0 && child.ppid == ppid)) {
        pids.push_back(pid);
      }
    }
  }
  for (int32_t pid : pids) MaterializePending(pid);
}

void Registry::OnExec(int32_t tgid) {
  // The exec may replace the token: pending children keep theirs.
  MaterializePending(tgid);
  MaterializeChildrenOfProcess(tgid);
  ProcessKey key;
  LinuxCredentials recorded;
  TokenObjectPtr adopt;
  TokenObjectPtr held;
  TokenObjectPtr held_at_exec;
  TokenObjectPtr origin;
  LinuxCredentials origin_credentials;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(tgid);
    if (it == processes_.end()) return;
    key = it->second.key;
    recorded = it->second.credentials;
    held = it->second.primary;
    held_at_exec = held;
    origin = it->second.origin;
    origin_credentials = it->second.origin_credentials;
    adopt = std::move(it->second.adopt_at_exec);
    it->second.adopt_at_exec.reset();
    it->second.exec_mark = 0;
    // Exec always ends impersonation; it also ends every other thread.
    for (auto thread = threads_.begin(); thread != threads_.end();) {
      if (thread->second.tgid == tgid) {
        ForgetThreadLocked(thread->first, thread->second);
        thread = threads_.erase(thread);
      } else {
        ++thread;
      }
    }
    RecordProcessLocked(it->second);
  }
  auto task = source_.ReadTask(tgid);
  if (!task) return;
  // An adoption is the token the process chose; what this exec (a set-ID
  // program) or anything after it did to the credentials follows from
  // there, as from any held token. The kernel reports a set-ID exec's new
  // ids before the exec itself: that change, taken while the adoption was
  // pending, made the adopted token the origin (ApplyCredentials), which
  // stays for when the program drops back to the user's ids. Any other
  // origin is spent: the process chose its token.
  const bool adopted = adopt != nullptr;
  if (adopted) {
    if (origin != adopt) origin.reset();
    held = std::move(adopt);
  }
  auto followed = FollowCredentials(held, recorded, task->credentials, key,
                                    /*copy=*/false, origin, origin_credentials);
  if (!followed) return;
  TokenObjectPtr primary = std::move(followed->object);
  CredentialChange change = followed->change;
  if (adopted && change == CredentialChange::kNone) {
    change = CredentialChange::kNewIdentity;  // counted as a new token
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    auto it = processes_.find(tgid);
    if (it == processes_.end() || !(it->second.key == key)) return;
    if (it->second.primary != held_at_exec ||
        !SameCredentials(it->second.credentials, recorded)) {
      // Replaced since the exec was taken (an install, a credential event
      // that got there first): that later decision stands; only what the
      // credentials did since is followed from it.
      lock.unlock();
      (void)ApplyCredentials(key, *task);
      NotifyChange();
      return;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = processes_.find(tgid);
  if (it == processes_.end() || !(it->second.key == key)) return;
  if (adopted && it->second.origin != origin) it->second.origin.reset();
  if (it->second.origin == origin) {
    KeepOrigin(it->second, held, recorded, task->credentials, followed->change,
               followed->origin_spent);
  }
  it->second.credentials = task->credentials;
  if (primary != it->second.primary) {
    RecordEvent(primary, HistoryKind::kReminted, tgid, primary->Get().get(),
                held ? held->id().value : 0, adopted ? "adopt" : "exec");
    it->second.primary = std::move(primary);
    CountChangeLocked(change);
  }
  RecordProcessLocked(it->second);
  // Exec ended impersonation even when the token stayed.
  NotifyChange();
}

void Registry::OnCredentialsChanged(int32_t tid, int32_t tgid) {
  MaterializePending(tgid);
  MaterializeChildrenOfProcess(tgid);
  ProcessKey key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(tgid);
    if (it == processes_.end()) return;
    key = it->second.key;
  }
  // Credentials are per thread: read the thread that changed them (the
  // main thread may have exited and show stale ones), else the process.
  auto task = source_.ReadTask(tid);
  if (!task || task->tgid != tgid) task = source_.ReadTask(tgid);
  if (!task || !(task->process_key() == key)) return;
  // Failure means the process went meanwhile; nothing to record.
  (void)ApplyCredentials(key, *task);
}

void Registry::OnExit(int32_t tid, int32_t tgid) {
  if (tid != tgid) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = threads_.find(tid);
    if (it != threads_.end() && it->second.tgid == tgid) {
      ForgetThreadLocked(it->first, it->second);
      threads_.erase(it);
    }
    return;
  }
  // The leader may exit while other threads run on (pthread_exit from
  // main, or exit_group reaching the leader first), and a thread that
  // execs makes the old leader exit and takes over its pid, start time and
  // pidfd inode (de_thread): the process lives on. Either way ReapExited
  // drops the entry once the process has really ended.
  {
    std::unique_lock<std::mutex> lock(mutex_);
    auto pending = pending_.find(tgid);
    if (pending != pending_.end() && !pending->second.threaded) {
      // Never looked at and single-threaded: nothing to record or free.
      // Its own pending children are about to be re-parented, which a
      // restart could not tell; they get their objects now.
      const bool orphans = pending->second.children > 0;
      if (orphans) {
        lock.unlock();
        MaterializeChildrenOf(nullptr, tgid);
        lock.lock();
        pending = pending_.find(tgid);
      }
      if (pending != pending_.end()) ErasePendingLocked(pending);
      return;
    }
  }
  MaterializePending(tgid);
  MaterializeChildrenOfProcess(tgid);
  ProcessKey key;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(tgid);
    if (it == processes_.end()) return;
    key = it->second.key;
  }
  const std::vector<int32_t> threads = source_.ListThreads(tgid);
  const bool others_run = std::any_of(threads.begin(), threads.end(),
                                      [tgid](int32_t t) { return t != tgid; });
  const bool lives = others_run || StillAlive(key);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(tgid);
    if (it == processes_.end() || !(it->second.key == key)) return;
    if (lives) {
      exiting_.push_back(key);
      return;
    }
    EraseProcessLocked(it);
  }
  ReleaseUnused();
}

void Registry::ReapExited() {
  std::vector<ProcessKey> exiting;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (exiting_.empty()) return;
    exiting.swap(exiting_);
  }
  std::vector<ProcessKey> still;
  bool erased = false;
  for (const ProcessKey& key : exiting) {
    if (StillAlive(key)) {
      still.push_back(key);
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(key.pid);
    if (it != processes_.end() && it->second.key == key) {
      EraseProcessLocked(it);
      erased = true;
    }
  }
  if (!still.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    exiting_.insert(exiting_.end(), still.begin(), still.end());
  }
  if (erased) ReleaseUnused();
}

void Registry::Sweep() {
  std::vector<int32_t> pending;
  std::vector<ProcessKey> processes;
  std::vector<std::pair<int32_t, ThreadEntry>> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    processes.reserve(processes_.size());
    for (const auto& [pid, entry] : processes_) processes.push_back(entry.key);
    for (const auto& [tid, entry] : threads_) {
      threads.emplace_back(
          tid, ThreadEntry{entry.tgid, entry.incarnation, nullptr, nullptr});
    }
    pending.reserve(pending_.size());
    for (const auto& [pid, child] : pending_) pending.push_back(pid);
  }
  std::vector<int32_t> dead_pending;
  for (int32_t pid : pending) {
    if (!source_.Incarnation(pid)) dead_pending.push_back(pid);
  }
  std::vector<ProcessKey> dead_processes;
  for (const ProcessKey& key : processes) {
    if (!StillAlive(key)) dead_processes.push_back(key);
  }
  std::vector<std::pair<int32_t, ThreadEntry>> dead_threads;
  for (const auto& [tid, entry] : threads) {
    auto incarnation = source_.Incarnation(tid);
    // Entries of unknown start time are only a cache; drop them too.
    if (!incarnation || entry.incarnation.start_time == 0 ||
        *incarnation != entry.incarnation) {
      dead_threads.emplace_back(tid, entry);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int32_t pid : dead_pending) {
      // An exit event that never came (the entry is kept until its pid is
      // free, so that a reused pid's fork event starts afresh).
      if (auto it = pending_.find(pid); it != pending_.end()) {
        ErasePendingLocked(it);
      }
    }
    for (const ProcessKey& key : dead_processes) {
      auto it = processes_.find(key.pid);
      if (it != processes_.end() && it->second.key == key) {
        EraseProcessLocked(it);
      }
    }
    for (const auto& [tid, entry] : dead_threads) {
      auto it = threads_.find(tid);
      if (it != threads_.end() && it->second.tgid == entry.tgid &&
          it->second.incarnation == entry.incarnation) {
        ForgetThreadLocked(it->first, it->second);
        threads_.erase(it);
      }
    }
    inserts_since_sweep_ = 0;
    ++counters_.sweeps;
  }
  ReleaseUnused();
}

Status Registry::Impersonate(int32_t pid, int32_t tid, TokenObjectPtr token,
                             TokenObjectPtr adopt_at_exec) {
  auto thread = Thread(pid, tid);
  if (!thread) return tl::unexpected(thread.error());
  TaskIncarnation start = thread->process.incarnation();
  if (tid != pid) {
    auto task_start = source_.Incarnation(tid);
    if (!task_start) {
      return MakeError(ErrorCode::kNotFound,
                       "thread " + std::to_string(tid) + " is gone");
    }
    start = *task_start;
  }
  // What an exec ends (an adoption pending, the leader's impersonation)
  // must end too when the exec happens while the daemon is down.
  const uint64_t exec_mark =
      adopt_at_exec || tid == pid ? source_.ExecMark(pid) : 0;
  std::lock_guard<std::mutex> lock(mutex_);
  auto process = processes_.find(pid);
  if (process == processes_.end() ||
      !(process->second.key == thread->process)) {
    return MakeError(ErrorCode::kNotFound,
                     "process " + std::to_string(pid) + " is gone");
  }
  process->second.adopt_at_exec = adopt_at_exec;
  if (exec_mark != 0) process->second.exec_mark = exec_mark;
  RecordProcessLocked(process->second);
  ThreadEntry& entry = threads_[tid];
  if (entry.tgid != pid || !(entry.incarnation == start)) {
    ForgetThreadLocked(tid, entry);
  }
  entry = ThreadEntry{pid, start, std::move(token), std::move(adopt_at_exec)};
  RecordThreadLocked(tid, entry);
  NotifyChange();
  return Ok();
}

Status Registry::Revert(int32_t pid, int32_t tid) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = threads_.find(tid);
    if (it != threads_.end() && it->second.tgid == pid &&
        it->second.impersonation) {
      auto process = processes_.find(pid);
      if (process != processes_.end() && it->second.adopt_at_exec &&
          process->second.adopt_at_exec == it->second.adopt_at_exec) {
        process->second.adopt_at_exec.reset();
        RecordProcessLocked(process->second);
      }
      ForgetThreadLocked(it->first, it->second);
      it->second.impersonation.reset();
      it->second.adopt_at_exec.reset();
      NotifyChange();
    }
  }
  ReleaseUnused();
  return Ok();
}

Status Registry::InstallPrimary(int32_t pid, TokenObjectPtr token) {
  // Checked against the OS first, not taken from the cache: a credential
  // change (a setuid before an exec) that has happened but was not yet
  // reported is applied now, so that its report, arriving after the
  // install, finds nothing left to change and leaves the installed token.
  auto process = LookupProcess(pid, /*force_validation=*/true);
  if (!process) return tl::unexpected(process.error());
  MaterializeChildrenOfProcess(pid);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = processes_.find(pid);
    if (it == processes_.end() || !(it->second.key == process->key)) {
      return MakeError(ErrorCode::kNotFound,
                       "process " + std::to_string(pid) + " is gone");
    }
    it->second.primary = std::move(token);
    RecordProcessLocked(it->second);
  }
  NotifyChange();
  ReleaseUnused();
  return Ok();
}

Result<TokenObjectPtr> Registry::AddObject(Token token,
                                           const ProcessKey& creator,
                                           uint32_t creator_uid, bool persist,
                                           uint32_t creator_gid,
                                           Derivation derivation) {
  const size_t bytes = ApproximateTokenBytes(token);
  std::lock_guard<std::mutex> lock(mutex_);
  size_t held = 0;
  size_t held_bytes = 0;
  for (const auto& [id, entry] : objects_) {
    if (entry.info.creator_uid == creator_uid) {
      ++held;
      held_bytes += entry.info.bytes;
    }
  }
  if (held >= options_.object_quota_per_user) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "user " + std::to_string(creator_uid) + " already holds " +
                         std::to_string(held) +
                         " token objects, the per-user quota");
  }
  if (held_bytes + bytes > options_.object_bytes_per_user) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "user " + std::to_string(creator_uid) + " holds " +
                         std::to_string(held_bytes) +
                         " bytes of token objects; this one (" +
                         std::to_string(bytes) + " bytes) would exceed the " +
                         std::to_string(options_.object_bytes_per_user) +
                         "-byte per-user quota");
  }
  auto object = NewObject(std::move(token));
  ObjectInfo info{object->id(), creator, creator_uid,
                  creator_gid,  persist, bytes};
  info.derived_from = derivation.from;
  info.derivation = std::move(derivation.how);
  objects_[object->id().value] = ObjectEntry{object, info};
  RecordObjectLocked(info);
  return object;
}

Result<TokenObjectPtr> Registry::FindObject(Luid id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(id.value);
  if (it == objects_.end()) {
    return MakeError(ErrorCode::kNotFound,
                     "no token object " + std::to_string(id.value));
  }
  return it->second.object;
}

Result<Registry::ObjectInfo> Registry::ObjectDetails(Luid id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(id.value);
  if (it == objects_.end()) {
    return MakeError(ErrorCode::kNotFound,
                     "no token object " + std::to_string(id.value));
  }
  return it->second.info;
}

void Registry::AddExistingObject(TokenObjectPtr object,
                                 const ProcessKey& creator,
                                 uint32_t creator_uid) {
  std::lock_guard<std::mutex> lock(mutex_);
  const Luid id = object->id();
  ObjectEntry& entry = objects_[id.value];
  entry = ObjectEntry{std::move(object),
                      ObjectInfo{id, creator, creator_uid, creator_uid, false}};
  RecordObjectLocked(entry.info);
}

Status Registry::SetPersist(Luid id, bool persist) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(id.value);
  if (it == objects_.end()) {
    return MakeError(ErrorCode::kNotFound,
                     "no token object " + std::to_string(id.value));
  }
  it->second.info.persist = persist;
  RecordObjectLocked(it->second.info);
  return Ok();
}

Status Registry::SetHolder(Luid id, const ProcessKey& holder) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = objects_.find(id.value);
    if (it == objects_.end()) {
      return MakeError(ErrorCode::kNotFound,
                       "no token object " + std::to_string(id.value));
    }
    it->second.info.creator = holder;
    RecordObjectLocked(it->second.info);
  }
  ReleaseUnused();
  return Ok();
}

int32_t Registry::PrimaryUser(const TokenObjectPtr& object,
                              int32_t except_pid) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [pid, entry] : processes_) {
    if (pid != except_pid && entry.primary == object) return pid;
  }
  return 0;
}

Result<std::vector<Luid>> Registry::RemoveObject(Luid id,
                                                 const HistoryEvent* why) {
  std::vector<Luid> revoked;
  std::vector<TokenObjectPtr> released;  // freed after the lock
  std::lock_guard<std::mutex> lock(mutex_);
  if (!objects_.count(id.value)) {
    return MakeError(ErrorCode::kNotFound,
                     "no token object " + std::to_string(id.value));
  }
  // Breadth first from `id`; an object is visited once (ids are unique and
  // a derivation always names an older token, so there are no cycles, but
  // the set makes that no precondition).
  std::unordered_set<uint64_t> seen{id.value};
  revoked.push_back(id);
  for (size_t next = 0; next < revoked.size(); ++next) {
    std::vector<Luid> children;
    for (const auto& [child, entry] : objects_) {
      if (entry.info.derived_from == revoked[next] &&
          seen.insert(child).second) {
        children.push_back(Luid{child});
      }
    }
    std::sort(children.begin(), children.end());
    revoked.insert(revoked.end(), children.begin(), children.end());
  }
  std::sort(revoked.begin() + 1, revoked.end());
  for (Luid gone : revoked) {
    auto it = objects_.find(gone.value);
    if (why) {
      HistoryEvent event = *why;
      if (gone != id) {
        event.token = id.value;
        event.operation = "with_ancestor";
      }
      it->second.object->Record(std::move(event));
    }
    it->second.object->MarkChanged();  // wakes its pollers
    released.push_back(std::move(it->second.object));
    objects_.erase(it);
    if (journal_) journal_->ForgetObject(gone);
  }
  return revoked;
}

std::vector<Registry::ObjectInfo> Registry::ObjectChildren(Luid parent) const {
  std::vector<ObjectInfo> children;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [id, entry] : objects_) {
      if (parent.value != 0 && entry.info.derived_from == parent) {
        children.push_back(entry.info);
      }
    }
  }
  std::sort(
      children.begin(), children.end(),
      [](const ObjectInfo& a, const ObjectInfo& b) { return a.id < b.id; });
  return children;
}

Result<std::vector<std::string>> Registry::UpdateTags(
    Luid id, const std::function<Result<std::vector<std::string>>(
                 const std::vector<std::string>&)>& change) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = objects_.find(id.value);
  if (it == objects_.end()) {
    return MakeError(ErrorCode::kNotFound,
                     "no token object " + std::to_string(id.value));
  }
  Result<std::vector<std::string>> tags = change(it->second.info.tags);
  if (!tags) return tags;
  it->second.info.tags = *tags;
  RecordObjectLocked(it->second.info);
  return tags;
}

bool Registry::ProcessAliveLocked(const ProcessKey& key) const {
  auto it = processes_.find(key.pid);
  return it != processes_.end() && it->second.key == key;
}

void Registry::ReleaseUnused() {
  std::lock_guard<std::mutex> lock(mutex_);
  // An object with a live child stays: the child's subtree is revoked with
  // it, so it must remain reachable. Releasing a child may free its parent,
  // hence the passes until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    std::unordered_set<uint64_t> parents;
    for (const auto& [id, entry] : objects_) {
      parents.insert(entry.info.derived_from.value);
    }
    for (auto it = objects_.begin(); it != objects_.end();) {
      const ObjectEntry& entry = it->second;
      const bool in_use =
          entry.info.persist || ProcessAliveLocked(entry.info.creator) ||
          entry.object.use_count() > 1 || parents.count(it->first);
      if (in_use) {
        ++it;
      } else {
        if (journal_) journal_->ForgetObject(entry.info.id);
        it = objects_.erase(it);
        changed = true;
      }
    }
  }
}

std::vector<Luid> Registry::ListObjects() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Luid> ids;
  ids.reserve(objects_.size());
  for (const auto& [id, entry] : objects_) ids.push_back(Luid{id});
  std::sort(ids.begin(), ids.end());
  return ids;
}

TokenObjectPtr Registry::FindTokenById(Luid id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto it = objects_.find(id.value); it != objects_.end()) {
    return it->second.object;
  }
  for (const auto& [pid, entry] : processes_) {
    if (entry.primary->id() == id) return entry.primary;
  }
  for (const auto& [tid, entry] : threads_) {
    if (entry.impersonation && entry.impersonation->id() == id) {
      return entry.impersonation;
    }
  }
  return nullptr;
}

std::optional<LogonType> Registry::SessionLogonType(Luid session) const {
  if (session.value == 0 || session.value == 0x3e7) return LogonType::kService;
  if (session.value == 0x3e6) return LogonType::kNetwork;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [pid, entry] : processes_) {
    const auto token = entry.primary->Get();
    if (token->auth_id == session) return token->logon_type;
  }
  for (const auto& [id, entry] : objects_) {
    const auto token = entry.object->Get();
    if (token->auth_id == session) return token->logon_type;
  }
  return std::nullopt;
}

Registry::RestoreReport Registry::Restore(const StoredState& state,
                                          const std::string& boot_id) {
  RestoreReport report;
  const auto forget_all = [this, &state] {
    if (!journal_) return;
    for (const ProcessRecord& process : state.processes) {
      journal_->ForgetProcess(process.key);
    }
    for (const ThreadRecord& thread : state.threads) {
      journal_->ForgetThread(thread.tid, thread.incarnation);
    }
    for (const ObjectRecord& object : state.objects) {
      journal_->ForgetObject(object.id);
    }
    for (const StoredToken& token : state.tokens) {
      journal_->ForgetToken(token.token.token_id);
    }
  };
  if (state.empty()) return report;
  if (state.boot_id != boot_id) {
    // Pids and start times count from each boot: another boot's records
    // would name strangers.
    report.other_boot = true;
    forget_all();
    return report;
  }

  // Token objects are made on demand, so that only those something refers
  // to come back; a Limited half brings its Full partner.
  std::unordered_map<uint64_t, const StoredToken*> stored;
  for (const StoredToken& token : state.tokens) {
    stored[token.token.token_id.value] = &token;
  }
  std::unordered_map<uint64_t, std::vector<HistoryEvent>> stored_history;
  for (const auto& [id, event] : state.history) {
    stored_history[id.value].push_back(event);
  }
  std::unordered_map<uint64_t, TokenObjectPtr> built;
  std::function<TokenObjectPtr(Luid)> object_for =
      [&](Luid id) -> TokenObjectPtr {
    if (id.value == 0) return nullptr;
    if (auto it = built.find(id.value); it != built.end()) return it->second;
    auto it = stored.find(id.value);
    if (it == stored.end()) return nullptr;
    auto object = NewObject(it->second->token);
    if (auto events = stored_history.find(id.value);
        events != stored_history.end()) {
      object->RestoreHistory(std::move(events->second));
    }
    built[id.value] = object;
    if (it->second->owns_partner) {
      if (auto partner = object_for(it->second->partner)) {
        object->LinkOwning(partner);
      }
    }
    return object;
  };

  // Processes first: they decide which threads and objects count.
  std::unordered_set<int32_t> exec_missed;
  std::unordered_set<int32_t> leader_impersonates;
  for (const ThreadRecord& record : state.threads) {
    if (record.tid == record.tgid) leader_impersonates.insert(record.tgid);
  }
  for (const ProcessRecord& record : state.processes) {
    auto incarnation = source_.Incarnation(record.key.pid);
    if (!incarnation || !(*incarnation == record.key.incarnation())) {
      ++report.gone;
      if (journal_) journal_->ForgetProcess(record.key);
      continue;
    }
    ProcessEntry entry;
    entry.key = record.key;
    entry.ppid = record.ppid;
    entry.credentials = record.credentials;
    entry.primary = object_for(record.primary);
    entry.adopt_at_exec = object_for(record.adopt_at_exec);
    entry.exec_mark = record.exec_mark;
    entry.origin = object_for(record.origin);
    entry.origin_credentials = record.origin_credentials;
    if (!entry.primary ||
        (record.adopt_at_exec.value != 0 && !entry.adopt_at_exec) ||
        (record.origin.value != 0 && !entry.origin)) {
      // Seen afresh below, from its nearest known ancestor.
      ++report.dangling;
      if (journal_) journal_->ForgetProcess(record.key);
      continue;
    }
    auto task = source_.ReadTask(record.key.pid);
    if (!task || !(task->process_key() == record.key)) {
      ++report.gone;
      if (journal_) journal_->ForgetProcess(record.key);
      continue;
    }
    // An exec while the daemon was down: what a live exec ends, ends now.
    // Where the layout is not randomized (no mark), an exec cannot be
    // ruled out, so it is taken to have happened: the adoption the process
    // asked for is taken, the main thread's impersonation ends.
    const bool depends_on_exec =
        entry.adopt_at_exec || leader_impersonates.count(record.key.pid);
    const bool exec_seen =
        entry.exec_mark != 0
            ? source_.ExecMark(record.key.pid) != entry.exec_mark
            : depends_on_exec;
    if (exec_seen) {
      ++report.missed_execs;
      exec_missed.insert(record.key.pid);
      entry.exec_mark = 0;
      if (entry.adopt_at_exec) {
        entry.primary = std::move(entry.adopt_at_exec);
        entry.adopt_at_exec.reset();
        entry.credentials = task->credentials;
      }
    }
    // Credentials that changed while the daemon was down: applied as a
    // live change would be.
    if (!SameCredentials(entry.credentials, task->credentials)) {
      auto followed = FollowCredentials(
          entry.primary, entry.credentials, task->credentials, entry.key,
          /*copy=*/false, entry.origin, entry.origin_credentials);
      if (!followed) {
        ++report.dangling;
        if (journal_) journal_->ForgetProcess(record.key);
        continue;
      }
      KeepOrigin(entry, entry.primary, entry.credentials, task->credentials,
                 followed->change, followed->origin_spent);
      entry.primary = std::move(followed->object);
      if (followed->change == CredentialChange::kNewIdentity) {
        ++report.reminted;
      } else {
        ++report.narrowed;
      }
      entry.credentials = task->credentials;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    RecordProcessLocked(entry);
    processes_[record.key.pid] = std::move(entry);
    ++report.processes;
  }

  for (const ThreadRecord& record : state.threads) {
    bool keep = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto process = processes_.find(record.tgid);
      keep = process != processes_.end() && !exec_missed.count(record.tgid) &&
             (record.tid != record.tgid ||
              record.incarnation == process->second.key.incarnation());
    }
    if (keep) {
      auto incarnation = source_.Incarnation(record.tid);
      keep = incarnation && *incarnation == record.incarnation;
    }
    TokenObjectPtr impersonation =
        keep ? object_for(record.impersonation) : nullptr;
    TokenObjectPtr adopt = keep ? object_for(record.adopt_at_exec) : nullptr;
    if (!impersonation || (record.adopt_at_exec.value != 0 && !adopt)) {
      if (keep)
        ++report.dangling;
      else
        ++report.gone;
      if (journal_) journal_->ForgetThread(record.tid, record.incarnation);
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ThreadEntry entry{record.tgid, record.incarnation, std::move(impersonation),
                      std::move(adopt)};
    RecordThreadLocked(record.tid, entry);
    threads_[record.tid] = std::move(entry);
    ++report.threads;
  }

  for (const ObjectRecord& record : state.objects) {
    TokenObjectPtr object = object_for(record.id);
    if (!object) {
      ++report.dangling;
      if (journal_) journal_->ForgetObject(record.id);
      continue;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    objects_[record.id.value] = ObjectEntry{std::move(object), record};
    RecordObjectLocked(record);
  }

  // Weak links (Full halves to their Limited owners) once every object
  // that came back exists.
  for (const auto& [id, object] : built) {
    const StoredToken& token = *stored.at(id);
    if (token.owns_partner || token.partner.value == 0) continue;
    if (auto partner = built.find(token.partner.value);
        partner != built.end()) {
      object->LinkWeak(partner->second);
    }
  }
  // Records of tokens nothing refers to any more.
  if (journal_) {
    for (const StoredToken& token : state.tokens) {
      if (!built.count(token.token.token_id.value)) {
        journal_->ForgetToken(token.token.token_id);
      }
    }
  }
  built.clear();
  ReleaseUnused();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    report.objects = objects_.size();
  }
  return report;
}

Registry::Stats Registry::GetStats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats stats = counters_;
  stats.processes = processes_.size() + pending_.size();
  stats.pending = pending_.size();
  stats.threads = threads_.size();
  stats.impersonating = static_cast<size_t>(std::count_if(
      threads_.begin(), threads_.end(),
      [](const auto& entry) { return entry.second.impersonation != nullptr; }));
  stats.objects = objects_.size();
  stats.events_live = events_live_;
  return stats;
}

}  // namespace tokenfs
