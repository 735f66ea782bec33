#!/usr/bin/env bash
# run_poll_bench.sh: change -> poll(2) wake-up latency of an open tokenfs
# file (docs/benchmarks.md, section "Change notification"). Starts the
# build's daemon on a temporary mount point with a fresh --state directory,
# runs bench/poll_bench against it, then unmounts and stops it; everything
# it starts is removed on exit, also on failure or Ctrl-C.
#
# Needs root (mount, allow_other). Usage:
#   sudo bench/run_poll_bench.sh [-b BUILD_DIR] [-- POLL_BENCH_ARGS...]
# Extra daemon arguments: TOKENFS_ARGS="--history 0" bench/run_poll_bench.sh
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build"
while [[ $# -gt 0 ]]; do
  case $1 in
    -b | --build-dir) build_dir=$2; shift 2 ;;
    -h | --help)
      sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
      exit 0 ;;
    --) shift; break ;;
    *) echo "run_poll_bench.sh: unknown argument $1" >&2; exit 1 ;;
  esac
done
daemon="$build_dir/tokenfs/tokenfs"
bench="$build_dir/bench/poll_bench"
for binary in "$daemon" "$bench"; do
  [[ -x $binary ]] || { echo "run_poll_bench.sh: $binary not built" >&2; exit 1; }
done

work=$(mktemp -d /tmp/tkpoll.XXXXXX)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  if mountpoint -q "$work/tokens" 2>/dev/null; then
    fusermount3 -u -z "$work/tokens" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
mkdir "$work/tokens" "$work/state"
# shellcheck disable=SC2086
"$daemon" -f "$work/tokens" --state "$work/state" ${TOKENFS_ARGS:-} \
  >"$work/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
  [[ -e $work/tokens/registry ]] && break
  sleep 0.05
done
[[ -e $work/tokens/registry ]] || { cat "$work/daemon.log" >&2; exit 1; }
"$bench" "$@" "$work/tokens"
