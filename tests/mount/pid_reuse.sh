#!/bin/bash
# Pid reuse never shows a previous process's token (issue 3): tokens are
# keyed by pid and start time, so a new process on a reused pid never
# matches the old one's key.
#
# Runs in a private pid namespace (unshare --pid --fork --mount-proc), so the
# pid can be steered without a global sysctl: /proc/sys/kernel/ns_last_pid
# is per pid namespace. The daemon runs inside it, where the proc connector
# is unavailable, so it validates every lookup against /proc. Process A gets
# an adjusted token and dies; process B is forced onto A's pid; B's token
# must be fresh, and a descriptor opened on A's file must not reach B.
#
# Usage (as root): pid_reuse.sh TOKENFS_BINARY HELPER [--net]
# (HELPER, the hand-off helper, is not used here.)
source "$(dirname "$0")/lib.sh"
TOKENFS=$1

# With --net the daemon also gets a network namespace of its own, where the
# proc connector (which lives in the initial one) cannot reach it at all.
if [[ ${3:-} != --inside ]]; then
  tk_require_root
  command -v unshare >/dev/null || tk_skip "unshare is missing"
  if [[ ${3:-} == --net ]]; then
    unshare --pid --fork --mount-proc --net bash "$0" "$TOKENFS" - --inside \
      net
    exit $?
  fi
  # Without --net the daemon shares the host's network namespace. Make sure
  # the proc connector is multicasting host events meanwhile, as on any host
  # that runs a tokenfs of its own: a host daemon subscribes, a loop forks.
  tk_start_daemon "$TOKENFS" || exit 1
  (while :; do /bin/true; sleep 0.02; done) &
  tk_track $!
  unshare --pid --fork --mount-proc bash "$0" "$TOKENFS" - --inside plain
  exit $?
fi

# --- Inside the pid namespace (this shell is its pid 1) ---------------------------
MODE=$4
# In a pid namespace the proc connector does not serve the daemon (the
# kernel ignores the subscription, while other subscribers' host-pid events
# may still arrive): the daemon must notice and validate against /proc.
tk_start_daemon "$TOKENFS" || exit 1
M=$TK_MNT
tk_expect_match "inside a pid namespace the daemon validates against /proc" \
  '^events  validating$' "$(cat "$M/registry")"
tk_expect_match "the daemon log says process events are unavailable" \
  'process events unavailable' "$(cat "$TK_LOG")"

# token_id of /tokens/<pid> (stats).
token_id() { awk -F'  ' '$1 == "token_id" { print $2 }' "$M/$1/stats"; }

sleep 100 &
A=$!
tk_track "$A"
echo SeChangeNotify=disabled >"$M/$A/privs"
tk_expect_match "A's token was adjusted" '^SeChangeNotify  disabled,default$' \
  "$(cat "$M/$A/privs")"
id_a=$(token_id "$A")
# Keep a descriptor on A's privs across A's death.
exec 7>"$M/$A/privs"
kill -KILL "$A"
wait "$A" 2>/dev/null
tk_expect_eq "A is gone" "gone" "$([[ -e /proc/$A ]] && echo alive || echo gone)"

# Steer the next pid onto A's: the kernel hands out ns_last_pid + 1. The
# daemon's worker threads also take pids, so retry a few times.
B=""
for attempt in $(seq 50); do
  echo $((A - 1)) >/proc/sys/kernel/ns_last_pid
  sleep 100 &
  candidate=$!
  if [[ $candidate == "$A" ]]; then
    B=$candidate
    break
  fi
  kill -KILL "$candidate"
  wait "$candidate" 2>/dev/null
done
if [[ -z $B ]]; then
  tk_fail "could not start a process on A's pid $A in 50 attempts"
  tk_finish
fi
tk_track "$B"
tk_pass "B was started on A's pid $A"

tk_expect_match "B's token is fresh: SeChangeNotify enabled" \
  '^SeChangeNotify  enabled,default$' "$(cat "$M/$B/privs")"
id_b=$(token_id "$B")
tk_expect_match "B has a token id" '^0x[0-9a-f]{16}$' "$id_b"
if [[ -n $id_b && $id_b != "$id_a" ]]; then
  tk_pass "B's token id differs from A's ($id_a)"
else
  tk_fail "B's token id [$id_b] must differ from A's [$id_a]"
fi
tk_expect_eq "query/privileges of B shows SeChangeNotify enabled" "True" \
  "$("$TK_PY" -c 'import json, sys
document = json.load(open(sys.argv[1]))
print([entry["enabled"] for entry in document["decoded"]["privileges"]
       if entry["name"] == "SeChangeNotify"][0])' "$M/$B/query/privileges")"

# The descriptor opened on A's file names A's incarnation: writing through
# it after A died must not change B's token.
echo SeShutdown=disabled 2>"$TK_WORK/stale.err" >&7
status=$?
exec 7>&-
tk_expect_eq "a write through a descriptor opened on A fails" "1" "$status"
tk_expect_match "... saying the target is gone" 'No such (process|file or directory)' \
  "$(cat "$TK_WORK/stale.err")"
tk_expect_match "B's token was not changed through A's descriptor" \
  '^SeShutdown  enabled,default$' "$(cat "$M/$B/privs")"

tk_finish
