#!/bin/bash
# Token inheritance on a real mount (issue 3): a process forked
# after its parent adjusted its token inherits the adjusted token; a sibling
# forked before the change keeps the token as it was at its fork (and hands
# that one on to its own children); a credential change mints afresh.
#
# Usage (as root): inheritance.sh TOKENFS_BINARY
source "$(dirname "$0")/lib.sh"
tk_require_root
TOKENFS=$1
tk_make_work
cd "$TK_WORK" || exit 1
tk_add_user tkmnt_d || { echo "useradd tkmnt_d failed"; exit 1; }
tk_start_daemon "$TOKENFS" || exit 1
M=$TK_MNT
tk_expect_match "process events are live (inheritance is exact)" \
  '^events  live$' "$(cat "$M/registry")"

# A user's shell: one sibling forked before the change (sleeps), one that
# forks a child only after the change (the late child must inherit from its
# own parent, the sibling, not from the shell).
out=$(tk_as tkmnt_d bash -c '
  M=$1
  bash -c "sleep 0.5; echo \"late-grandchild \$(grep ^SeChangeNotify $M/self/privs)\"" &
  late=$!
  sleep 30 &
  sibling=$!
  echo SeChangeNotify=disabled > "$M/self/privs" && echo "adjusted"
  echo "shell $(grep ^SeChangeNotify "$M/$$/privs")"
  echo "child $(cat "$M/self/privs" | grep ^SeChangeNotify)"
  echo "grandchild $(bash -c "grep ^SeChangeNotify $M/self/privs")"
  echo "sibling $(grep ^SeChangeNotify "$M/$sibling/privs")"
  wait $late
  kill $sibling' _ "$M" 2>&1)
tk_expect_match "the shell adjusted its own token" '^adjusted$' "$out"
tk_expect_match "the shell's token shows the change" \
  '^shell SeChangeNotify  disabled,default$' "$out"
tk_expect_match "a child started after the change inherits it" \
  '^child SeChangeNotify  disabled,default$' "$out"
tk_expect_match "a grandchild inherits it too" \
  '^grandchild SeChangeNotify  disabled,default$' "$out"
tk_expect_match "a sibling started before the change does not see it" \
  '^sibling SeChangeNotify  enabled,default$' "$out"
tk_expect_match "the early sibling's later child inherits the sibling's token" \
  '^late-grandchild SeChangeNotify  enabled,default$' "$out"

# Root's shell adjusts its token; a plain child inherits, a child that drops
# to another uid is minted afresh from its new credentials.
echo SeShutdown=disabled >"$M/self/privs"
tk_expect_match "root's child inherits the adjustment" \
  '^SeShutdown  disabled,default$' "$(cat "$M/self/privs")"
tk_expect_match "a child that changes uid gets a fresh token" \
  '^SeShutdown  disabled$' "$(tk_as tkmnt_d cat "$M/self/privs")"
tk_expect_eq "the fresh token is the new user's" \
  "S-1-22-1-$(id -u tkmnt_d)  Unix User\\tkmnt_d" \
  "$(tk_as tkmnt_d cat "$M/self/user")"

tk_finish
