#!/bin/bash
# Several real Linux users on one mount (issue 3): each reads and adjusts its
# own token; another user's token is out of reach (EACCES); root reads all;
# the model refuses what the token does not allow (EPERM: an absent
# privilege, a mandatory group, raising integrity); a Low-integrity token
# cannot adjust a Medium one of the same user (EACCES); a descriptor opened
# by one identity and written by another is refused (EPERM); the daemon log
# names the reason of every denial.
#
# Usage (as root): users.sh TOKENFS_BINARY FD_HANDOFF_BINARY
source "$(dirname "$0")/lib.sh"
tk_require_root
TOKENFS=$1
HANDOFF=$2
SCRIPT_PID=$BASHPID
TRY="$TK_PY $(cd "$(dirname "$0")" && pwd)/try_io.py"
tk_make_work
cd "$TK_WORK" || exit 1
for user in tkmnt_a tkmnt_b tkmnt_c; do
  tk_add_user "$user" || { echo "useradd $user failed"; exit 1; }
done
UID_A=$(id -u tkmnt_a)
UID_B=$(id -u tkmnt_b)
UID_C=$(id -u tkmnt_c)
tk_start_daemon "$TOKENFS" || exit 1
M=$TK_MNT

# tk_as_bg USER COMMAND...: starts COMMAND as USER in the background; its
# pid (setpriv execs the command) is in BG_PID.
tk_as_bg() {
  local user=$1
  shift
  setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" \
    --init-groups -- "$@" &
  BG_PID=$!
  tk_track "$BG_PID"
}

# --- Own token ------------------------------------------------------------------
# uid N is minted as S-1-22-1-N, labelled Unix User\name.
tk_expect_eq "tkmnt_a reads its own user" \
  "S-1-22-1-$UID_A  Unix User\\tkmnt_a" "$(tk_as tkmnt_a cat "$M/self/user")"
own=$(tk_as tkmnt_a bash -c '
  echo SeChangeNotify=disabled > "$1/self/privs" && echo adjusted
  grep "^SeChangeNotify  " "$1/self/privs"' _ "$M" 2>&1)
tk_expect_eq "tkmnt_a adjusts its own token (a child sees the change)" \
  $'adjusted\nSeChangeNotify  disabled,default' "$own"
tk_expect_match "runuser works too: tkmnt_b reads its privs" \
  '^SeChangeNotify  enabled,default$' \
  "$(runuser -u tkmnt_b -- cat "$M/self/privs" 2>&1)"

# --- Other users' tokens ---------------------------------------------------------
tk_as_bg tkmnt_a sleep 60
PID_A=$BG_PID
tk_as_bg tkmnt_b sleep 60
PID_B=$BG_PID
sleep 0.2
tk_expect_eq "root sees tkmnt_a's sleeper as tkmnt_a" \
  "S-1-22-1-$UID_A  Unix User\\tkmnt_a" "$(cat "$M/$PID_A/user")"
tk_expect_eq "tkmnt_b reading tkmnt_a's privs gets EACCES" "EACCES" \
  "$(tk_as tkmnt_b $TRY read "$M/$PID_A/privs")"
tk_expect_eq "tkmnt_b reading tkmnt_a's query/all gets EACCES" "EACCES" \
  "$(tk_as tkmnt_b $TRY read "$M/$PID_A/query/all")"
tk_expect_eq "tkmnt_a reading tkmnt_b's user gets EACCES" "EACCES" \
  "$(tk_as tkmnt_a $TRY read "$M/$PID_B/user")"
tk_expect_eq "tkmnt_c writing tkmnt_a's privs gets EACCES" "EACCES" \
  "$(tk_as tkmnt_c $TRY write "$M/$PID_A/privs" SeChangeNotify=disabled)"
tk_expect_eq "tkmnt_a reading root's token gets EACCES" "EACCES" \
  "$(tk_as tkmnt_a $TRY read "$M/$SCRIPT_PID/privs")"
tk_expect_match "cat as tkmnt_b prints Permission denied" \
  'Permission denied' "$(tk_as tkmnt_b cat "$M/$PID_A/privs" 2>&1)"
tk_expect_match "tkmnt_a reads its sleeper's token" \
  '^SeChangeNotify  enabled,default$' \
  "$(tk_as tkmnt_a cat "$M/$PID_A/privs" 2>&1)"
tk_expect_match "root reads tkmnt_a's token" \
  '^SeChangeNotify  enabled,default$' "$(cat "$M/$PID_A/privs" 2>&1)"
tk_expect_eq "root reads tkmnt_b's token" \
  "S-1-22-1-$UID_B  Unix User\\tkmnt_b" "$(cat "$M/$PID_B/user" 2>&1)"

# --- What the model forbids a standard user (EPERM) ---------------------------
# A standard user holds SeShutdown, SeChangeNotify, SeUndock,
# SeIncreaseWorkingSet and SeTimeZone only (Windows' standard-user set);
# SeDebug is absent.
tk_expect_eq "enabling an absent privilege (SeDebug) gets EPERM" "EPERM" \
  "$(tk_as tkmnt_a $TRY write "$M/self/privs" SeDebug=enabled)"
tk_expect_match "group 0 is mandatory" '^0  S-1-22-2-[0-9]+  mandatory' \
  "$(tk_as tkmnt_a cat "$M/self/groups")"
tk_expect_eq "disabling a mandatory group gets EPERM" "EPERM" \
  "$(tk_as tkmnt_a $TRY write "$M/self/groups" 0=disabled)"
tk_expect_eq "raising integrity to High gets EPERM" "EPERM" \
  "$(tk_as tkmnt_a $TRY write "$M/self/integrity" high)"
tk_expect_eq "raising integrity to System gets EPERM" "EPERM" \
  "$(tk_as tkmnt_a $TRY write "$M/self/integrity" system)"
tk_expect_match "shell: enabling SeDebug is Operation not permitted" \
  'write error: Operation not permitted' \
  "$(tk_as tkmnt_a bash -c 'echo SeDebug=enabled > "$1/self/privs"' _ "$M" \
    2>&1)"
tk_expect_eq "the refusals changed nothing (still Medium)" \
  "Medium  S-1-16-8192" "$(tk_as tkmnt_a head -n 1 "$M/self/integrity")"

# --- Low integrity cannot adjust Medium -----------------------------------------
# The user's shell starts a Medium process, lowers its own integrity, then
# tries to adjust that process: the Medium token's mandatory label
# (no-write-up) refuses the Low caller ADJUST_PRIVILEGES.
low=$(tk_as tkmnt_a bash -c '
  M=$1; TRY=$2
  sleep 30 & peer=$!
  echo "peer-before $(head -n 1 "$M/$peer/integrity")"
  echo low > "$M/self/integrity" && echo "lowered"
  echo "child $(head -n 1 "$M/self/integrity")"
  echo "adjust-peer $($TRY write "$M/$peer/privs" SeChangeNotify=disabled)"
  echo "adjust-peer-groups $($TRY write "$M/$peer/groups" reset)"
  echo "read-peer $($TRY read "$M/$peer/privs" | grep "^SeChangeNotify")"
  echo "adjust-self $($TRY write "$M/self/privs" SeChangeNotify=disabled)"
  echo "shell-adjust-peer $(echo SeShutdown=enabled 2>&1 >"$M/$peer/privs")"
  echo "peer-after $(head -n 1 "$M/$peer/integrity")"
  kill $peer' _ "$M" "$TRY" 2>&1)
tk_expect_match "the Medium peer starts Medium" \
  '^peer-before Medium  S-1-16-8192$' "$low"
tk_expect_match "the shell lowers its own integrity" '^lowered$' "$low"
tk_expect_match "a child of the lowered shell is Low" \
  '^child Low  S-1-16-4096$' "$low"
tk_expect_match "Low adjusting a Medium token's privs gets EACCES" \
  '^adjust-peer EACCES$' "$low"
tk_expect_match "Low adjusting a Medium token's groups gets EACCES" \
  '^adjust-peer-groups EACCES$' "$low"
tk_expect_match "the shell sees Permission denied" \
  '^shell-adjust-peer .*Permission denied' "$low"
tk_expect_match "the Medium token was not changed" \
  '^read-peer SeChangeNotify  enabled,default$' "$low"
tk_expect_match "Low may still adjust its own (Low) token" \
  '^adjust-self ok$' "$low"
tk_expect_match "the peer is still Medium" '^peer-after Medium  S-1-16-8192$' \
  "$low"

# --- Descriptors change hands ----------------------------------------------------
handoff() {
  "$HANDOFF" "$1" "$M" "$UID_C" "$(id -g tkmnt_c)" SeChangeNotify=disabled \
    2>&1
}
control=$(handoff user-both)
tk_expect_match "control: the opener's own write is applied" '^write ok$' \
  "$control"
tk_expect_match "control: the change is visible" \
  '^privs SeChangeNotify  disabled,default$' "$control"
user_opens=$(handoff user-opens)
tk_expect_match "root writing an fd tkmnt_c opened gets EPERM" \
  '^write errno EPERM ' "$user_opens"
tk_expect_match "root's write through tkmnt_c's fd changed nothing" \
  '^privs SeChangeNotify  enabled,default$' "$user_opens"
root_opens=$(handoff root-opens)
tk_expect_match "tkmnt_c writing an fd root opened gets EPERM" \
  '^write errno EPERM ' "$root_opens"
tk_expect_match "tkmnt_c's write through root's fd changed nothing" \
  '^privs SeChangeNotify  enabled,default$' "$root_opens"

# --- The log says why ------------------------------------------------------------
log=$(cat "$TK_LOG")
tk_expect_match "log: the other user's read names the inspection rule" \
  "denied: .*uid $UID_B may not inspect process $PID_A" "$log"
tk_expect_match "log: the absent privilege is named" \
  'denied: .*privilege SeDebug is not present' "$log"
tk_expect_match "log: the mandatory group is named" \
  'denied: .*group 0 .*mandatory' "$log"
tk_expect_match "log: raising integrity names SeTcb" \
  'denied: .*raising integrity .*SeTcb' "$log"
tk_expect_match "log: the Low caller is refused by the integrity rule" \
  'denied: .*Low token cannot write up to a Medium' "$log"
tk_expect_match "log: the hand-off names the other identity" \
  'denied: .*opened by another identity' "$log"

tk_finish
