#!/usr/bin/env bash
# The README's first command: installs dependencies, builds, installs tokenfs
# and token under /usr/local, mounts tokenfs on /tokens and shows the token of
# the shell that ran this script. Run as root on Debian 12.
# Leaves tokenfs mounted; unmount with: fusermount3 -u /tokens
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
cmake --install "${TOKENFS_BUILD_DIR:-build}" >/dev/null
mount_point=${TOKENFS_ROOT:-/tokens}
if grep -qs " $mount_point fuse.tokenfs " /proc/self/mountinfo; then
  fusermount3 -u "$mount_point"
fi
/usr/local/sbin/tokenfs "$mount_point"
for _ in $(seq 50); do
  [ -e "$mount_point/self" ] && break
  sleep 0.1
done
echo "tokenfs is mounted on $mount_point (unmount: fusermount3 -u $mount_point)"
if command -v /usr/local/bin/token >/dev/null 2>&1; then
  TOKENFS_ROOT=$mount_point /usr/local/bin/token show --all
else
  cat "$mount_point/self/all"
fi
