#!/bin/bash
# Shell use of a real tokenfs mount (issue 3): cat, head, grep, ls -l, stat,
# find, cp -r, tar, python3, echo/printf redirections, and a bad command
# that the shell reports as a write error while nothing changes.
#
# Usage (as root): shell_tools.sh TOKENFS_BINARY
source "$(dirname "$0")/lib.sh"
tk_require_root
TOKENFS=$1
tk_start_daemon "$TOKENFS" || exit 1
M=$TK_MNT
cd "$TK_WORK" || exit 1
# This shell: "self" for its builtins (echo), the parent of every command.
SHELL_PID=$BASHPID
ME=$M/$SHELL_PID
ERR=$TK_WORK/stderr
# A token directory lists `linked` only while the token has an elevation
# partner, so ls -l, cp -r and tar never meet a dangling link.

# --- Reading -----------------------------------------------------------------
# Root is minted as Local System with the whole catalog enabled;
# SeChangeNotify is on every token, enabled by default.
privs=$(cat "$ME/privs")
tk_expect_match "cat privs shows SeChangeNotify enabled by default" \
  '^SeChangeNotify  enabled,default$' "$privs"
tk_expect_eq "head -n 1 user is Local System (uid 0 mints S-1-5-18)" \
  "S-1-5-18  Local System" "$(head -n 1 "$ME/user")"
tk_expect_eq "grep finds one SeShutdown line" "1" \
  "$(grep -c '^SeShutdown  ' "$ME/privs")"
tk_expect_eq "cat of self/privs in a child equals the shell's privs" \
  "$privs" "$(cat "$M/self/privs")"

listing=$(ls -l "$ME" 2>"$ERR")
status=$?
tk_expect_eq "ls -l of a token directory exits 0" "0" "$status"
tk_expect_eq "ls -l of a token directory prints no error" "" "$(cat "$ERR")"
tk_expect_match "ls -l shows privs as a writable regular file" \
  '^-rw-r--r-- .* privs$' "$listing"
tk_expect_match "ls -l shows user as read-only" '^-r--r--r-- .* user$' \
  "$listing"
# A process may exit between readdir and ls's lstat of its directory (as in
# /proc on a busy machine): that error is expected; no other.
ls -l "$M" >/dev/null 2>"$ERR"
status=$?
vanished="^ls: cannot access '$M/[0-9]+': No such file or directory\$"
tk_expect_eq "ls -l of the mount root reports only vanished processes" "" \
  "$(grep -Ev "$vanished" "$ERR")"
if ! grep -Eq "$vanished" "$ERR"; then
  tk_expect_eq "ls -l of the mount root exits 0" "0" "$status"
fi

tk_expect_eq "stat: privs has its content's exact size, mode 644" \
  "$(wc -c <"$ME/privs") regular file 644" "$(stat -c '%s %F %a' "$ME/privs")"
tk_expect_eq "stat: history has size 0 (per-open content, like /proc)" \
  "0 regular empty file" "$(stat -c '%s %F' "$ME/history")"
tk_expect_eq "stat: self is a symbolic link" "symbolic link" \
  "$(stat -c '%F' "$M/self")"
tk_expect_eq "stat -L: self leads to a directory" "directory" \
  "$(stat -L -c '%F' "$M/self")"

tk_expect_eq "find locates privs" "$ME/privs" \
  "$(find "$ME" -maxdepth 1 -type f -name privs)"
# query/ holds the 24 ABI classes plus all (docs/formats.md, section "JSON").
tk_expect_eq "find counts 25 query files" "25" \
  "$(find "$ME/query" -type f | wc -l)"
find "$ME" >/dev/null 2>"$ERR"
tk_expect_eq "find over a token directory exits 0 silently" "0:" \
  "$?:$(cat "$ERR")"

# --- Copying -------------------------------------------------------------------
# cp -r of the shell's process directory copies every file's full content:
# compare each copied file with a cat of the original.
cp -r "$ME" "$TK_WORK/copy" 2>"$ERR"
status=$?
tk_expect_eq "cp -r of a token directory exits 0" "0" "$status"
tk_expect_eq "cp -r of a token directory prints no error" "" "$(cat "$ERR")"
differences=0
copied=0
while IFS= read -r -d '' copy; do
  relative=${copy#"$TK_WORK/copy/"}
  copied=$((copied + 1))
  if ! cmp -s "$copy" <(cat "$ME/$relative"); then
    differences=$((differences + 1))
    echo "  differs: $relative"
  fi
done < <(find "$TK_WORK/copy" -type f -print0)
tk_expect_eq "every file cp -r copied equals cat of the original" "0" \
  "$differences"
tk_expect_match "cp -r copied the token files (count)" '^[0-9]{2,}$' "$copied"
tk_expect_eq "the copied privs is the full file" "$privs" \
  "$(cat "$TK_WORK/copy/privs" 2>/dev/null)"
# self is a symlink, like /proc/self: cp -r copies the link itself unless
# the path goes through it (trailing slash).
cp -r "$M/self/" "$TK_WORK/self-copy" 2>"$ERR"
status=$?
tk_expect_eq "cp -r self/ exits 0 silently" "0:" "$status:$(cat "$ERR")"
tk_expect_eq "cp -r self/ copies cp's own (inherited) privs" "$privs" \
  "$(cat "$TK_WORK/self-copy/privs" 2>/dev/null)"

# tar trusts sizes: token and query files report theirs (stored whole),
# the per-open files size 0 (stored empty); it must succeed and list every
# file.
tar -cf "$TK_WORK/tree.tar" -C "$M" "$SHELL_PID" 2>"$ERR"
status=$?
tk_expect_eq "tar of a token directory exits 0" "0" "$status"
tk_expect_eq "tar of a token directory prints no error" "" "$(cat "$ERR")"
members=$(tar -tf "$TK_WORK/tree.tar" 2>/dev/null)
tk_expect_match "tar lists privs" "^$SHELL_PID/privs\$" "$members"
tk_expect_match "tar lists query/all" "^$SHELL_PID/query/all\$" "$members"
tk_expect_eq "tar stored privs whole" "$(cat "$ME/privs")" \
  "$(tar -xOf "$TK_WORK/tree.tar" "$SHELL_PID/privs" 2>/dev/null)"

# --- Python ------------------------------------------------------------------
python_read=$("$TK_PY" -c 'import sys; print(open(sys.argv[1]).read(), end="")' \
  "$ME/privs")
tk_expect_eq "python3 open().read() returns the whole file" "$privs" \
  "$python_read"
# Python writes its own token (one write at close) and reads it back.
python_write=$("$TK_PY" - "$M" <<'PY'
import sys
mount = sys.argv[1]
with open(f"{mount}/self/privs", "w") as privs:
    privs.write("SeShutdown=disabled\n")
print([line for line in open(f"{mount}/self/privs").read().splitlines()
       if line.startswith("SeShutdown  ")][0])
PY
)
tk_expect_eq "python3 write to self/privs is applied" \
  "SeShutdown  disabled,default" "$python_write"
tk_expect_match "python3 changed its own token, not the shell's" \
  '^SeShutdown  enabled,default$' "$(cat "$ME/privs")"

# --- Writing with the shell ---------------------------------------------------
echo SeShutdown=disabled >"$M/self/privs"
tk_expect_eq "echo > self/privs succeeds" "0" "$?"
tk_expect_match "echo > self/privs disabled SeShutdown" \
  '^SeShutdown  disabled,default$' "$(cat "$ME/privs")"
printf 'SeShutdown=enabled\nSeUndock=disabled\n' >"$M/self/privs"
tk_expect_eq "printf of two lines > self/privs succeeds" "0" "$?"
after=$(cat "$ME/privs")
tk_expect_match "printf line 1 applied (SeShutdown enabled)" \
  '^SeShutdown  enabled,default$' "$after"
tk_expect_match "printf line 2 applied (SeUndock disabled)" \
  '^SeUndock  disabled,default$' "$after"
echo -n SeUndock=enabled >"$M/self/privs"
tk_expect_eq "echo -n (no newline) > self/privs succeeds" "0" "$?"
tk_expect_match "echo -n applied (SeUndock enabled)" \
  '^SeUndock  enabled,default$' "$(cat "$ME/privs")"

# A bad item makes the whole write fail; the valid item before it is not
# applied either (all-or-nothing).
before=$(cat "$ME/privs")
echo 'SeShutdown=disabled SeNoSuchPrivilege=enabled' 2>"$ERR" >"$M/self/privs"
status=$?
tk_expect_eq "a bad item makes echo fail" "1" "$status"
tk_expect_match "the shell reports write error: Invalid argument" \
  'write error: Invalid argument' "$(cat "$ERR")"
tk_expect_eq "a bad item changes nothing" "$before" "$(cat "$ME/privs")"
# bash's builtin printf and echo -e write line by line (each line is its own
# command); /usr/bin/printf sends both lines in one write().
env printf 'SeShutdown=disabled\nSeUndock=sideways\n' 2>"$ERR" >"$ME/privs"
tk_expect_match "a bad second line: write error: Invalid argument" \
  'write error: Invalid argument' "$(cat "$ERR")"
tk_expect_eq "a bad second line in the same write changes nothing" \
  "$before" "$(cat "$ME/privs")"
tk_expect_match "the daemon log names the bad item" \
  "unknown privilege 'SeNoSuchPrivilege'" "$(cat "$TK_LOG")"

# --- The tree is fixed --------------------------------------------------------
mkdir "$ME/new" 2>"$ERR"
tk_expect_match "mkdir in a token directory: Operation not permitted" \
  'Operation not permitted' "$(cat "$ERR")"
mkdir "$M/new" 2>"$ERR"
tk_expect_match "mkdir at the root: Operation not permitted" \
  'Operation not permitted' "$(cat "$ERR")"
rm -f "$ME/privs" 2>"$ERR"
tk_expect_match "rm of a token file: Operation not permitted" \
  'Operation not permitted' "$(cat "$ERR")"
mv "$ME/privs" "$ME/privs2" 2>"$ERR"
tk_expect_match "mv of a token file: Operation not permitted" \
  'Operation not permitted' "$(cat "$ERR")"
rmdir "$ME/query" 2>"$ERR"
tk_expect_match "rmdir of query/: Operation not permitted" \
  'Operation not permitted' "$(cat "$ERR")"
touch "$ME/newfile" 2>"$ERR"
tk_expect_match "creating a file: Operation not permitted" \
  'Operation not permitted' "$(cat "$ERR")"
tk_expect_match "privs is still there" '^SeChangeNotify' "$(cat "$ME/privs")"

tk_finish
