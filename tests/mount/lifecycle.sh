#!/bin/bash
# Daemon life cycle (issue 3): SIGTERM unmounts and exits 0; fusermount3 -u
# ends the daemon; starting on a busy mount point fails with one line and
# exit 1; on its own stale mount (daemon killed with SIGKILL, a process
# still inside the tree) a new daemon detaches it and serves.
#
# Usage (as root): lifecycle.sh TOKENFS_BINARY
source "$(dirname "$0")/lib.sh"
tk_require_root
TOKENFS=$1
tk_make_work
cd "$TK_WORK" || exit 1

# Runs a second daemon on $TK_MNT in the foreground; it must give up. Sets
# SECOND_STATUS and SECOND_ERR (its stderr).
second_daemon() {
  timeout 10 "$TOKENFS" -f "$TK_MNT" --state "$TK_WORK/second-state" \
    2>"$TK_WORK/second.err" >/dev/null
  SECOND_STATUS=$?
  SECOND_ERR=$(cat "$TK_WORK/second.err")
}

# --- SIGTERM ---------------------------------------------------------------------
# A stop by SIGTERM is not a failure: a supervisor (systemctl stop) must see
# exit status 0.
tk_start_daemon "$TOKENFS" || exit 1
tk_stop_daemon
status=$?
tk_expect_eq "the daemon exits 0 on SIGTERM" "0" "$status"
if tk_mounted "$TK_MNT"; then
  tk_fail "the mount is gone after SIGTERM"
else
  tk_pass "the mount is gone after SIGTERM"
fi
tk_expect_match "the log says it unmounted" "unmounted $TK_MNT" \
  "$(cat "$TK_LOG")"

# --- fusermount3 -u ---------------------------------------------------------------
tk_start_daemon "$TOKENFS" || exit 1
pid=$TK_DAEMON_PID
fusermount3 -u "$TK_MNT"
tk_expect_eq "fusermount3 -u succeeds" "0" "$?"
if tk_wait_exit "$pid"; then
  wait "$pid"
  tk_expect_eq "the daemon exits 0 after fusermount3 -u" "0" "$?"
  TK_DAEMON_PID=""
else
  tk_fail "the daemon exits after fusermount3 -u"
fi

# --- Busy mount point ------------------------------------------------------------
tk_start_daemon "$TOKENFS" || exit 1
second_daemon
tk_expect_eq "a second daemon on a busy mount point exits 1" "1" \
  "$SECOND_STATUS"
tk_expect_eq "... printing exactly one line" "1" \
  "$(printf '%s\n' "$SECOND_ERR" | wc -l)"
tk_expect_match "... that says the mount point is busy" \
  "^tokenfs: .*$TK_MNT.* busy" "$SECOND_ERR"
tk_expect_match "the first daemon still serves" '^processes  [0-9]+$' \
  "$(cat "$TK_MNT/registry" 2>&1)"

# --- Stale mount ------------------------------------------------------------------
# The daemon is killed (a crash, kill -9) while a process has its working
# directory in the tree and the test holds a file of it open: a plain
# unmount would fail with EBUSY. A daemon started at once on the same mount
# point and state directory (a supervisor's restart) detaches its stale
# mount itself; the kernel may still answer stat() of the dead mount from
# cached attributes then, so this is the hard case.
(cd "$TK_MNT" && exec sleep 60) &
holder=$!
for attempt in $(seq 100); do
  [[ $(readlink "/proc/$holder/cwd") == "$TK_MNT" ]] && break
  sleep 0.02
done
exec 7<"$TK_MNT/registry"
kill -KILL "$TK_DAEMON_PID"
wait "$TK_DAEMON_PID" 2>/dev/null
TK_DAEMON_PID=""
restart_log=$TK_WORK/restart.log
"$TOKENFS" -f "$TK_MNT" --state "$TK_WORK/state" 2>"$restart_log" &
TK_DAEMON_PID=$!
TK_LOG=$restart_log
for attempt in $(seq 200); do
  [[ -e $TK_MNT/registry ]] && break
  kill -0 "$TK_DAEMON_PID" 2>/dev/null || break
  sleep 0.05
done
tk_expect_match "a daemon started at once on its stale mount serves" \
  '^processes  [0-9]+$' "$(cat "$TK_MNT/registry" 2>&1)"
tk_expect_match "... and logs that it detached the stale mount" \
  "detached the stale tokenfs mount on $TK_MNT" "$(cat "$restart_log")"
tk_expect_match "a file opened on the dead mount stays dead (ENOTCONN)" \
  'Transport endpoint is not connected' "$(cat <&7 2>&1)"
exec 7<&-
tk_expect_eq "the process whose cwd was in the dead mount still runs" "0" \
  "$(kill -0 "$holder" 2>/dev/null; echo $?)"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
tk_stop_daemon
status=$?
tk_expect_eq "... and stops cleanly" "0" "$status"

# Later, once the cached attributes have expired (the daemon's attr timeout
# is 1 s), the same.
tk_start_daemon "$TOKENFS" || exit 1
kill -KILL "$TK_DAEMON_PID"
wait "$TK_DAEMON_PID" 2>/dev/null
TK_DAEMON_PID=""
sleep 1.5
tk_expect_match "after SIGKILL the mount is stale" \
  'Transport endpoint is not connected' "$(stat "$TK_MNT" 2>&1)"
"$TOKENFS" -f "$TK_MNT" --state "$TK_WORK/state" 2>"$restart_log" &
TK_DAEMON_PID=$!
for attempt in $(seq 200); do
  [[ -e $TK_MNT/registry ]] && break
  kill -0 "$TK_DAEMON_PID" 2>/dev/null || break
  sleep 0.05
done
tk_expect_match "a daemon started later on its stale mount serves" \
  '^processes  [0-9]+$' "$(cat "$TK_MNT/registry" 2>&1)"
tk_stop_daemon
status=$?
tk_expect_eq "... and stops cleanly" "0" "$status"
if tk_mounted "$TK_MNT"; then
  tk_fail "no mount is left behind"
else
  tk_pass "no mount is left behind"
fi

# --- -o max_read ------------------------------------------------------------------
# libfuse refuses to start when the mount option and init() disagree; the
# daemon takes the option itself, so a user's value works and a bad one is
# one line before anything is mounted.
timeout 10 "$TOKENFS" -f -o max_read=100 "$TK_MNT" 2>"$TK_WORK/max_read.err" \
  >/dev/null
tk_expect_eq "-o max_read below a page exits 1" "1" "$?"
tk_expect_eq "... with one line naming the option" \
  "tokenfs: -o max_read=100: expected a number of bytes, at least 4096" \
  "$(cat "$TK_WORK/max_read.err")"
if tk_mounted "$TK_MNT"; then
  tk_fail "... and mounts nothing"
else
  tk_pass "... and mounts nothing"
fi
tk_start_daemon "$TOKENFS" -o max_read=4096
tk_expect_eq "tokenfs -o max_read=4096 mounts" "0" "$?"
tk_expect_match "... and negotiates it" "max_read 4096," "$(cat "$TK_LOG")"
query_all=$(cat "$TK_MNT/self/query/all")
tk_expect_eq "... and query/all, many READs long, reads whole" "ok" \
  "$(printf '%s' "$query_all" | python3 -c '
import json, sys
text = sys.stdin.read()
document = json.loads(text)
print("ok" if len(text) > 3 * 4096 and "classes" in document else
      "short: %d bytes" % len(text))')"
tk_stop_daemon >/dev/null

tk_finish
