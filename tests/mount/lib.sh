# lib.sh: shared setup of the tokenfs mount tests (sourced by each script).
#
# Each script runs as root, starts its own daemon on a fresh mount point
# under a private temp directory, drives the mount with real tools and real
# Linux users, and cleans everything up on every exit path (EXIT trap):
# background processes it started (by pid), the daemon (SIGTERM, then
# SIGKILL), the mount (fusermount3 -u -z if still there), the users it
# created and the temp directory.
#
# Checks never stop the script: each prints "ok - ..." or "FAIL - ...", and
# tk_finish exits 1 when any failed. Exit 77 means skipped (ctest
# SKIP_RETURN_CODE).

TK_FAILURES=0
TK_WORK=""
TK_MNT=""
TK_LOG=""
TK_DAEMON_PID=""
TK_PIDS=()
TK_USERS=()
TK_EXTRA_MOUNTS=()
# Python for commands run as the test users: root's python3 may live in a
# directory they cannot read (pyenv under /root).
TK_PY=/usr/bin/python3
[[ -x $TK_PY ]] || TK_PY=$(command -v python3)

tk_skip() {
  echo "SKIP: $*"
  exit 77
}

# Skips unless the script can mount with allow_other and create users.
tk_require_root() {
  [[ $(id -u) == 0 ]] || tk_skip "mount tests need root (allow_other, useradd)"
  [[ -c /dev/fuse ]] || tk_skip "/dev/fuse is missing"
  command -v fusermount3 >/dev/null || tk_skip "fusermount3 is missing"
  command -v setpriv >/dev/null || tk_skip "setpriv is missing"
}

# Known daemon bugs (reported, not fixed yet). `tk_known_bug ID` before a
# check marks that one check: its failure prints "known bug ID - ..." and
# does not fail the script; once it passes it FAILS the script ("remove the
# mark"), so marks never outlive their bug. `tk_known_bug ID flaky` marks a
# check whose outcome also depends on the machine (a pass is fine too).
# TOKENFS_MOUNT_STRICT=1 counts known bugs as failures.
TK_KNOWN=""
TK_KNOWN_MODE=""
TK_KNOWN_SEEN=()
tk_known_bug() {
  local status=$?  # keep $? for a check that reads it
  TK_KNOWN=$1
  TK_KNOWN_MODE=${2:-strict}
  return $status
}

tk_pass() {
  if [[ -n $TK_KNOWN && $TK_KNOWN_MODE == strict ]]; then
    echo "FAIL - $* (passes now: remove the known-bug mark $TK_KNOWN)"
    TK_FAILURES=$((TK_FAILURES + 1))
  else
    echo "ok - $*"
  fi
  TK_KNOWN=""
}
tk_fail() {
  if [[ -n $TK_KNOWN ]]; then
    echo "known bug $TK_KNOWN - $*"
    TK_KNOWN_SEEN+=("$TK_KNOWN")
    [[ ${TOKENFS_MOUNT_STRICT:-0} == 1 ]] && TK_FAILURES=$((TK_FAILURES + 1))
  else
    echo "FAIL - $*"
    TK_FAILURES=$((TK_FAILURES + 1))
  fi
  TK_KNOWN=""
}

# tk_expect_eq WHAT EXPECTED ACTUAL
tk_expect_eq() {
  if [[ "$2" == "$3" ]]; then
    tk_pass "$1"
  else
    tk_fail "$1: expected [$2], got [$3]"
  fi
}

# tk_expect_match WHAT REGEX TEXT (extended regex, multi-line text)
tk_expect_match() {
  if grep -Eq -- "$2" <<<"$3"; then
    tk_pass "$1"
  else
    tk_fail "$1: no match for /$2/ in [$3]"
  fi
}

# tk_expect_no_match WHAT REGEX TEXT
tk_expect_no_match() {
  if grep -Eq -- "$2" <<<"$3"; then
    tk_fail "$1: unexpected match for /$2/ in [$3]"
  else
    tk_pass "$1"
  fi
}

tk_finish() {
  if ((${#TK_KNOWN_SEEN[@]})); then
    echo "known daemon bugs still open: $(printf '%s\n' "${TK_KNOWN_SEEN[@]}" |
      sort -u | tr '\n' ' ')"
  fi
  if ((TK_FAILURES)); then
    echo "$TK_FAILURES check(s) failed"
    if [[ -n $TK_LOG && -s $TK_LOG ]]; then
      echo "daemon log:"
      cat "$TK_LOG"
    fi
    exit 1
  fi
  echo "all checks passed"
  exit 0
}

# True iff something is mounted at $1.
tk_mounted() {
  awk -v target="$1" '$5 == target { found = 1 } END { exit !found }' \
    /proc/self/mountinfo
}

# Makes the private temp directory (readable by the test users).
tk_make_work() {
  [[ -n $TK_WORK ]] && return 0
  TK_WORK=$(mktemp -d "${TMPDIR:-/tmp}/tkmnt.XXXXXX") || exit 1
  chmod 755 "$TK_WORK"
}

# tk_start_daemon BINARY [DAEMON ARGS...]: mounts a fresh tree at
# $TK_WORK/tokens, the daemon's stderr going to $TK_LOG; waits until the
# tree answers. Returns 1 (after printing the log) when it does not.
tk_start_daemon() {
  local binary=$1
  shift
  tk_make_work
  TK_MNT=$TK_WORK/tokens
  TK_LOG=$TK_WORK/daemon.log
  mkdir -p "$TK_MNT"
  # Its own state store: the default, /var/lib/tokenfs, is the host's.
  "$binary" -f "$TK_MNT" --state "$TK_WORK/state" "$@" 2>"$TK_LOG" &
  TK_DAEMON_PID=$!
  local attempt
  for attempt in $(seq 200); do
    if tk_mounted "$TK_MNT" && [[ -e $TK_MNT/registry ]]; then return 0; fi
    if ! kill -0 "$TK_DAEMON_PID" 2>/dev/null; then break; fi
    sleep 0.05
  done
  echo "tokenfs did not come up on $TK_MNT; its log:"
  cat "$TK_LOG"
  return 1
}

# tk_wait_exit PID: waits up to 5 s for process PID to end; true iff it did.
tk_wait_exit() {
  local attempt
  for attempt in $(seq 100); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  ! kill -0 "$1" 2>/dev/null
}

# Stops the daemon with SIGTERM and waits for it; prints its exit status.
tk_stop_daemon() {
  [[ -n $TK_DAEMON_PID ]] || return 0
  local status=0
  kill -TERM "$TK_DAEMON_PID" 2>/dev/null
  if ! tk_wait_exit "$TK_DAEMON_PID"; then
    echo "tokenfs ignored SIGTERM for 5 s; killing it"
    kill -KILL "$TK_DAEMON_PID" 2>/dev/null
  fi
  wait "$TK_DAEMON_PID" 2>/dev/null
  status=$?
  TK_DAEMON_PID=""
  return $status
}

# Remembers a background process to kill at cleanup.
tk_track() { TK_PIDS+=("$@"); }

# tk_add_user NAME: creates the user (idempotent) and remembers to delete it.
tk_add_user() {
  local name=$1
  if ! id -u "$name" >/dev/null 2>&1; then
    useradd --no-create-home --home-dir /nonexistent --shell /bin/bash \
      --user-group "$name" || return 1
  fi
  TK_USERS+=("$name")
}

# tk_as USER COMMAND...: runs COMMAND as the real user USER (uid, gid and
# supplementary groups; capabilities dropped by the uid change).
tk_as() {
  local user=$1
  shift
  setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" \
    --init-groups -- "$@"
}

tk_cleanup() {
  local status=$?
  local pid
  for pid in "${TK_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
  for pid in "${TK_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  tk_stop_daemon >/dev/null 2>&1
  local mount
  for mount in "$TK_MNT" "${TK_EXTRA_MOUNTS[@]}"; do
    [[ -n $mount ]] || continue
    if tk_mounted "$mount"; then fusermount3 -u -z "$mount" 2>/dev/null; fi
  done
  local user
  for user in "${TK_USERS[@]}"; do
    userdel --force "$user" >/dev/null 2>&1
  done
  if [[ -n $TK_WORK ]]; then
    # Never recurse into a mount that is still there.
    if tk_mounted "$TK_MNT"; then
      echo "warning: $TK_MNT still mounted; leaving $TK_WORK"
    else
      rm -rf --one-file-system "$TK_WORK"
    fi
  fi
  exit $status
}

trap tk_cleanup EXIT
trap 'exit 130' INT TERM
