#!/usr/bin/env bash
# The Debian package as an administrator meets it (issue 15), run by
# scripts/test.sh after the build-tree tests:
#   1. scripts/package.sh builds the .deb and lintian passes it (0 errors,
#      0 warnings);
#   2. `apt-get install ./tokenfs_*.deb` installs it, with every file where
#      it belongs and the policy as a conffile;
#   3. where systemd is PID 1, `systemctl enable --now tokenfs` mounts
#      /tokens and `systemctl stop` unmounts it; elsewhere it says so and
#      `systemd-analyze verify` checks the unit;
#   4. the daemon started by the unit's own ExecStart line, under the
#      unit's capability bounding set (if any) and no_new_privs, mounts /tokens, and
#      the CLI tests (ctest -L cli in BUILD_DIR) pass against it and the
#      installed /usr/bin/token and /usr/sbin/tokenfs; SIGTERM unmounts
#      and exits 0.
# The package stays installed (CI machines are thrown away); remove it with
# apt-get purge tokenfs.
# Usage: installed.sh BUILD_DIR   (as root; exit 77 without /dev/fuse)
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=$(realpath "${1:?usage: installed.sh BUILD_DIR}")
unit=/lib/systemd/system/tokenfs.service
mount_point=/tokens
failures=0
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; failures=$((failures + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
mounted() { grep -qs " $mount_point fuse.tokenfs " /proc/self/mountinfo; }

if ((EUID != 0)); then
  echo "SKIP: installing a package needs root"
  exit 77
fi

if [ "${TOKENFS_PACKAGE_BUILT:-0}" = 1 ]; then
  echo "== the package built before (TOKENFS_PACKAGE_BUILT=1) =="
  cat build/package/lintian.log
else
  echo "== build the package, lintian =="
  bash scripts/package.sh
fi
deb=$(realpath build/package/tokenfs_*.deb)

echo "== apt-get install $deb =="
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "$deb" >/dev/null
check "tokenfs is installed" dpkg-query -W tokenfs
for path in /usr/sbin/tokenfs /usr/bin/token /etc/tokenfs/policy.json "$unit" \
  /usr/share/bash-completion/completions/token /var/lib/tokenfs; do
  check "installs $path" test -e "$path"
done
for page in token.1 tokenfs.8 tokenfs.5 token-spec.5; do
  check "man ${page##*.} ${page%.*} finds the page" \
    test -n "$(man -w "${page##*.}" "${page%.*}" 2>/dev/null)"
done
check "/etc/tokenfs/policy.json is a conffile" \
  grep -q '^ /etc/tokenfs/policy.json ' <<<"$(dpkg-query -W -f='${Conffiles}\n' tokenfs)"
check "installed token runs" /usr/bin/token --version

if mounted; then
  echo "FAIL  $mount_point is already mounted; stop that daemon first"
  exit 1
fi

echo "== the unit =="
if [ "$(ps -p 1 -o comm=)" = systemd ]; then
  systemctl daemon-reload
  check "systemctl enable --now tokenfs" systemctl enable --now tokenfs
  check "the unit is active" systemctl is-active --quiet tokenfs
  check "/tokens answers" test -e $mount_point/self/user
  check "token runs against the unit's tree" /usr/bin/token
  check "systemctl stop tokenfs" systemctl stop tokenfs
  check "stop unmounts /tokens" bash -c "! grep -qs ' $mount_point fuse.tokenfs ' /proc/self/mountinfo"
  systemctl disable --quiet tokenfs
else
  echo "note  systemd is not PID 1 here (PID 1 is $(ps -p 1 -o comm=)):" \
    "the unit is not started; checking it with systemd-analyze verify"
  findings=$(systemd-analyze verify "$unit" 2>&1) || true
  if [ -z "$findings" ]; then
    ok "systemd-analyze verify $unit"
  else
    fail "systemd-analyze verify $unit"
    printf '%s\n' "$findings"
  fi
fi

echo "== the daemon started by the unit's ExecStart line =="
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
# The unit's capability bounding set, if it has one (tokenfs(8), SYSTEMD).
bounding=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" |
  tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
limits=()
[ -n "$bounding" ] && limits=(--bounding-set "-all,$bounding")
grep -q '^NoNewPrivileges=yes' "$unit" && limits+=(--no-new-privs)
echo "ExecStart=$exec_start"
echo "setpriv ${limits[*]}"
if [ ! -e /dev/fuse ]; then
  echo "SKIP: /dev/fuse is missing"
  exit 77
fi
log=$(mktemp)
# shellcheck disable=SC2086 # ExecStart is split into words as systemd does
setpriv "${limits[@]}" $exec_start >"$log" 2>&1 &
daemon=$!
stop_daemon() {
  if kill -0 "$daemon" 2>/dev/null; then
    kill -TERM "$daemon"
    wait "$daemon" || true
  fi
  if mounted; then fusermount3 -u -z "$mount_point"; fi
  rm -f "$log"
}
trap stop_daemon EXIT
for _ in $(seq 100); do
  [ -e $mount_point/registry ] && break
  sleep 0.1
done
check "ExecStart mounts $mount_point" test -e $mount_point/registry
check "token runs against it" /usr/bin/token

echo "== the CLI tests against the installed binaries =="
if TOKENFS_TEST_MOUNT=$mount_point TOKENFS_TEST_TOKEN=/usr/bin/token \
  TOKENFS_TEST_TOKENFS=/usr/sbin/tokenfs \
  TOKENFS_TEST_COMPLETION=/usr/share/bash-completion/completions/token \
  ctest --test-dir "$build_dir" -L '^cli$' -E '^cli_unit_test$' \
  --output-on-failure; then
  ok "ctest -L cli against the installed package"
else
  fail "ctest -L cli against the installed package"
fi

kill -TERM "$daemon"
status=0
wait "$daemon" || status=$?
check "SIGTERM: the daemon exits 0" test "$status" = 0
check "SIGTERM unmounts $mount_point" bash -c "! grep -qs ' $mount_point fuse.tokenfs ' /proc/self/mountinfo"
if ((failures)); then
  echo "daemon log:"
  cat "$log"
  echo "$failures check(s) failed"
  exit 1
fi
echo "all package checks passed"
