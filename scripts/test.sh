#!/usr/bin/env bash
# The README's test command: installs dependencies, builds with warnings as
# errors, and runs every test (unit, fuzz replay, mount, CLI); then builds
# the Debian package, checks it with lintian, installs it and runs the CLI
# tests again against the installed binaries and a daemon started by the
# unit's ExecStart line (tests/package/installed.sh). Run as root on
# Debian 12; mount tests need /dev/fuse and skip (exit 77) without it.
# Arguments go to ctest. TOKENFS_SKIP_PACKAGE=1 skips the package part.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
build_dir=$(realpath "${TOKENFS_BUILD_DIR:-build}")
status=0
(cd "$build_dir" && ctest --output-on-failure -j"$(nproc)" "$@") || status=$?
if [ "$status" -ne 0 ]; then
  # The full output of a failed test can be thousands of lines; repeat the
  # lines that say what failed last, where a truncated log still shows them.
  echo "== why the failed tests failed (from Testing/Temporary/LastTest.log) =="
  grep -E '^ *(not ok|FAIL\b)|\[  FAILED  \]' "$build_dir/Testing/Temporary/LastTest.log" |
    head -60 || true
fi
if [ "${TOKENFS_SKIP_PACKAGE:-0}" != 1 ]; then
  echo "== the Debian package (tests/package/installed.sh) =="
  package_status=0
  bash tests/package/installed.sh "$build_dir" || package_status=$?
  if [ "$package_status" -ne 0 ] && [ "$package_status" -ne 77 ]; then
    status=$package_status
  fi
fi
exit "$status"
