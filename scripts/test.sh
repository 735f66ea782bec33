#!/usr/bin/env bash
# The README's test command: installs dependencies, builds with warnings as
# errors, and runs every test (unit, fuzz replay, mount, CLI). Run as root on
# Debian 12; mount tests need /dev/fuse and skip (exit 77) without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd "${TOKENFS_BUILD_DIR:-build}"
status=0
ctest --output-on-failure -j"$(nproc)" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  # The full output of a failed test can be thousands of lines; repeat the
  # lines that say what failed last, where a truncated log still shows them.
  echo "== why the failed tests failed (from Testing/Temporary/LastTest.log) =="
  grep -E '^ *(not ok|FAIL\b)|\[  FAILED  \]' Testing/Temporary/LastTest.log |
    head -60 || true
fi
exit "$status"
