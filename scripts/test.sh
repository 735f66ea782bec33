#!/usr/bin/env bash
# The README's test command: installs dependencies, builds with warnings as
# errors, and runs every test (unit, fuzz replay, mount, CLI). Run as root on
# Debian 12; mount tests need /dev/fuse and skip (exit 77) without it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd "${TOKENFS_BUILD_DIR:-build}"
ctest --output-on-failure -j"$(nproc)" "$@"
