#!/usr/bin/env bash
# Configures and builds tokenfs into ./build (or $TOKENFS_BUILD_DIR).
# Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${TOKENFS_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOKENFS_WERROR=ON "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
