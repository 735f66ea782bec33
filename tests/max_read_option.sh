#!/bin/bash
# tokenfs -o max_read=N: the daemon reads N as a decimal number of bytes, at
# least 4096 and at most UINT32_MAX, and refuses any other spelling with one
# line before it opens anything it would mount. Nothing is mounted here: the
# mount point lies under a regular file, so an accepted value stops at
# "Not a directory" instead.
#
# Usage: max_read_option.sh TOKENFS_BINARY
set -u
tokenfs=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/file"
failures=0

run() {
  "$tokenfs" -f --state "$work/state" -o "max_read=$1" "$work/file/mnt" 2>&1
}

for value in 4096 0004096 16384 4294967295; do
  out=$(run "$value")
  if [[ $out == *max_read* || $out != *"Not a directory"* ]]; then
    echo "FAIL: max_read=$value should be accepted; got: $out"
    failures=$((failures + 1))
  fi
done
for value in "" 4095 0 4096k +4096 -4096 " 4096" "4096 " 0x1000 4294967296 \
  99999999999999999999; do
  out=$(run "$value")
  rc=$?
  expected="tokenfs: -o max_read=$value: expected a number of bytes, at least 4096"
  if [[ $rc != 1 || $out != "$expected" ]]; then
    echo "FAIL: max_read='$value' should be refused; rc $rc, got: $out"
    failures=$((failures + 1))
  fi
done
[[ $failures == 0 ]] && echo "ok" || exit 1
