#!/usr/bin/env bash
# Installs every package tokenfs needs to build, test, fuzz and benchmark on Debian 12.
# Idempotent; needs root. Kept in one place so README, .ci/run and the demo agree.
set -euo pipefail
if ((EUID != 0)); then
  echo "$0: run as root (it installs packages with apt-get)" >&2
  exit 1
fi
packages=(
  build-essential cmake pkg-config g++ clang libclang-rt-14-dev
  libfuse3-dev fuse3 libsqlite3-dev sqlite3
  nlohmann-json3-dev libcli11-dev catch2 libexpected-dev libcap-dev
  libbenchmark-dev
  mandoc man-db bash-completion python3 procps util-linux passwd acl
  libpam-modules-bin  # unix_chkpwd, the setgid program tests/attack aims at
  # Directory identities: libwbclient for the daemon, and for
  # tests/directory a Samba AD DC (samba, its AD provisioning data and DSDB
  # modules) with winbind and wbinfo.
  libwbclient-dev winbind samba samba-ad-provision samba-dsdb-modules
  # The Debian package (scripts/package.sh, tests/package/installed.sh):
  # sd_notify for tokenfs.service, the packaging tools, systemd-analyze.
  libsystemd-dev debhelper lintian systemd
)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
