#!/bin/bash
# Whole-process cost of `token privs` against `cat` of the same tree file
# (issue 4 acceptance: the median of `token privs` within 1.5x of cat's,
# measured in one hyperfine run).
#
# Usage (as root, needs /dev/fuse and hyperfine):
#   bench/cli_bench.sh [BUILD_DIR] [RUNS]
# BUILD_DIR defaults to build/, RUNS to 1000. The script starts its own
# tokenfs on a temp mount and measures two targets: a process of nobody
# (5 privileges, the size of an ordinary user's token) and this root shell
# (the whole catalog, 35-36 privileges). It prints hyperfine's table and
# the median ratios, and exits 1 when a ratio exceeds 1.5.
set -euo pipefail

build=${1:-build}
runs=${2:-1000}
token=$build/cli/token
tokenfs=$build/tokenfs/tokenfs
for binary in "$token" "$tokenfs"; do
  [[ -x $binary ]] || { echo "missing $binary (build it first)"; exit 2; }
done
command -v hyperfine >/dev/null || { echo "hyperfine is missing"; exit 2; }

work=$(mktemp -d /tmp/tkbench.XXXXXX)
chmod 755 "$work"
mount_point=$work/tokens
mkdir "$mount_point"
state_args=()
if "$tokenfs" --help 2>/dev/null | grep -q -- --state; then
  state_args=(--state "$work/state")
fi
"$tokenfs" -f "$mount_point" "${state_args[@]}" 2>"$work/daemon.log" &
daemon=$!
sleeper=
cleanup() {
  [[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null || true
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
  mountpoint -q "$mount_point" && fusermount3 -u -z "$mount_point"
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do
  [[ -e $mount_point/registry ]] && break
  sleep 0.05
done

setpriv --reuid=65534 --regid=65534 --clear-groups sleep 3600 &
sleeper=$!
sleep 0.2
export TOKENFS_ROOT=$mount_point

hyperfine -N --warmup 50 --runs "$runs" --export-json "$work/times.json" \
  "cat $mount_point/$sleeper/privs" \
  "$token privs --pid $sleeper" \
  "cat $mount_point/$$/privs" \
  "$token privs --pid $$"

python3 - "$work/times.json" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
median = {r["command"]: r["median"] * 1000 for r in results}
commands = [r["command"] for r in results]
failed = False
for cat, token in ((commands[0], commands[1]), (commands[2], commands[3])):
    ratio = median[token] / median[cat]
    print(f"median {median[cat]:.3f} ms  {cat}")
    print(f"median {median[token]:.3f} ms  {token}")
    print(f"ratio token/cat = {ratio:.2f} (limit 1.50)")
    failed |= ratio > 1.5
sys.exit(1 if failed else 0)
EOF
