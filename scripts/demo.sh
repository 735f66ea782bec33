#!/usr/bin/env bash
# The README's first command: installs dependencies, builds, and shows the
# model at work. (Until the daemon lands this runs the core unit tests.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cd "${TOKENFS_BUILD_DIR:-build}" && ctest -L core --output-on-failure
