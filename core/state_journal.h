// StateJournal: where the registry records every change to what it holds,
// so that a restarted daemon gets back exactly the tokens it had; and
// StoredState, what a journal hands back at start-up.
//
// tokenfs is the only authority for its tokens: there is no kernel copy, so
// a restart that forgot an adjustment would hand the process back the full
// token its Linux credentials mint (wider than what it had). The registry
// therefore records, in the order it makes them, each change to
//   - token objects: every published snapshot of a TokenObject with its
//     elevation partner (RecordToken), and its end (ForgetToken, when the
//     last reference goes);
//   - processes: (pid, start time, instance), parent, recorded credentials,
//     primary token id and any adoption at exec (RecordProcess /
//     ForgetProcess);
//   - impersonating threads (RecordThread / ForgetThread; a thread that does
//     not impersonate has no record);
//   - token objects under /tokens/objects with their holder, owner and
//     persistence (RecordObject / ForgetObject);
//   - each token's history events (RecordHistory; a store keeps at most
//     the history bound per token and drops them with ForgetToken).
// References between records are token ids; a record may name a token whose
// RecordToken came earlier in the same order (the registry records a token
// before it refers to it). Token ids themselves come from a LuidAllocator
// whose reservations the same store keeps (core/luid.h).
//
// Write-ahead: Record*/Forget* only queue; Flush returns once everything
// recorded before the call is durable. A write through the tree calls Flush
// before it replies, so a write that returned success survives a crash, and
// one that did not return never happened as far as a restart can tell.
// Reads never wait on the journal.
//
// Thread-safety: implementations must accept calls from any thread, with
// the caller's locks held (the registry records under its mutex and a token
// object under its own, so that the order of records is the order of
// changes); Record*/Forget* must therefore never block on I/O or call back.
#ifndef TOKENFS_CORE_STATE_JOURNAL_H_
#define TOKENFS_CORE_STATE_JOURNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/luid.h"
#include "core/minting_policy.h"
#include "core/registry.h"
#include "core/result.h"
#include "core/token.h"
#include "core/token_history.h"

namespace tokenfs {

// A process as the journal keeps it.
struct ProcessRecord {
  ProcessKey key;
  int32_t ppid = 0;
  LinuxCredentials credentials;  // as the registry last recorded them
  Luid primary;                  // token id of the primary token
  Luid adopt_at_exec;            // 0: no adoption pending
  // The program image the process ran when a thread-level state that an
  // exec ends was recorded (adoption pending, leader impersonating): an
  // exec while the daemon was down changes it (ProcessSource::ExecMark).
  // 0 when nothing depends on it.
  uint64_t exec_mark = 0;
  // The token the process held before a set-user-ID or set-group-ID exec
  // gave it ids it did not hold, and the credentials it held then (see
  // Registry: origin); 0 when there is none.
  Luid origin;
  LinuxCredentials origin_credentials;
  friend bool operator==(const ProcessRecord&, const ProcessRecord&) = default;
};

// An impersonating thread.
struct ThreadRecord {
  int32_t tid = 0;
  int32_t tgid = 0;
  TaskIncarnation incarnation;
  Luid impersonation;  // token id
  Luid adopt_at_exec;  // 0: none registered by this impersonation
  friend bool operator==(const ThreadRecord&, const ThreadRecord&) = default;
};

using ObjectRecord = Registry::ObjectInfo;

// A token object as stored: its current token and elevation partner.
struct StoredToken {
  Token token;   // token.token_id is the object's id
  Luid partner;  // 0: none
  bool owns_partner = false;
};

// Everything a journal held at start-up.
struct StoredState {
  std::string boot_id;  // of the boot the records were made in; "" if none
  std::vector<StoredToken> tokens;
  std::vector<ProcessRecord> processes;
  std::vector<ThreadRecord> threads;
  std::vector<ObjectRecord> objects;
  // History events by token id, oldest first per token.
  std::vector<std::pair<Luid, HistoryEvent>> history;
  bool empty() const {
    return tokens.empty() && processes.empty() && threads.empty() &&
           objects.empty();
  }
};

class StateJournal {
 public:
  virtual ~StateJournal() = default;

  virtual void RecordToken(std::shared_ptr<const Token> token, Luid partner,
                           bool owns_partner) = 0;
  virtual void ForgetToken(Luid id) = 0;
  virtual void RecordProcess(const ProcessRecord& process) = 0;
  virtual void ForgetProcess(const ProcessKey& key) = 0;
  virtual void RecordThread(const ThreadRecord& thread) = 0;
  virtual void ForgetThread(int32_t tid,
                            const TaskIncarnation& incarnation) = 0;
  virtual void RecordObject(const ObjectRecord& object) = 0;
  virtual void ForgetObject(Luid id) = 0;
  // A history event of token `id` (core/token_history.h). A journal that
  // keeps no history may ignore it.
  virtual void RecordHistory(Luid /*id*/, const HistoryEvent& /*event*/) {}

  // Returns once every record and forget made before the call is durable;
  // an error when it cannot be (the store has failed).
  virtual Status Flush() = 0;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_STATE_JOURNAL_H_
