#!/bin/bash
# tokenfs --loop, --threads, --idle-threads and --clone-fd: accepted values reach the
# mount point, refused ones stop with one line naming the option before
# anything is opened. Nothing is mounted here: the mount point lies under a
# regular file, so an accepted set-up stops at "Not a directory" instead.
#
# Usage: pool_options.sh TOKENFS_BINARY
set -u
tokenfs=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/file"
failures=0

run() {
  "$tokenfs" -f --state "$work/state" "$@" "$work/file/mnt" 2>&1
}

for setup in "--threads 1" "--threads 2 --idle-threads 1" \
  "--loop shared --threads 4 --idle-threads 4 --clone-fd" \
  "--loop shared --clone-fd" "--loop reader" "--loop=shared" \
  "--idle-threads 256" "--loop shared --threads 256 --idle-threads 1 --clone-fd"; do
  # shellcheck disable=SC2086
  out=$(run $setup)
  if [[ $out != *"Not a directory"* ]]; then
    echo "FAIL: '$setup' should be accepted; got: $out"
    failures=$((failures + 1))
  fi
done
for setup in "--idle-threads 0" "--idle-threads 257" "--idle-threads x" \
  "--idle-threads" "--threads 0" "--loop fifo" "--clone-fd" \
  "--clone-fd --loop reader"; do
  option=${setup%% *}
  option=${option%%=*}
  # shellcheck disable=SC2086
  out=$(run $setup)
  rc=$?
  if [[ $rc != 1 || $out != "tokenfs: "*"$option"* || $out == *"Not a directory"* ||
    $(wc -l <<<"$out") != 1 ]]; then
    echo "FAIL: '$setup' should be refused with one line; rc $rc, got: $out"
    failures=$((failures + 1))
  fi
done
[[ $failures == 0 ]] && echo "ok" || exit 1
