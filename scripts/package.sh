#!/usr/bin/env bash
# Builds the Debian package (dpkg-buildpackage -us -uc -b) from this tree
# and checks it with lintian. The tree is copied first, so the build leaves
# nothing in it: the .deb and the build logs land in
# ${TOKENFS_PACKAGE_DIR:-build/package}. Needs the packages of
# scripts/deps.sh (run it first as root); building itself needs no root.
# With ccache installed, compiles go through it (TOKENFS_CCACHE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${TOKENFS_PACKAGE_DIR:-build/package}
version=$(dpkg-parsechangelog -S Version)
source_dir=$out/tokenfs-$version
rm -rf "$out"
mkdir -p "$source_dir"
# What git tracks plus new files not ignored; a tree without .git is
# copied whole but for build directories.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' path; do [ -e "$path" ] && printf '%s\0' "$path"; done |
    tar --null -T - -cf - | tar -xf - -C "$source_dir"
else
  tar --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . |
    tar -xf - -C "$source_dir"
fi
if command -v ccache >/dev/null 2>&1; then
  # debhelper gives the build a HOME of its own: name the cache directory.
  CCACHE_DIR=${CCACHE_DIR:-$(ccache -k cache_dir)}
  export TOKENFS_CCACHE=1 CCACHE_DIR CCACHE_BASEDIR=$PWD/$source_dir CCACHE_NOHASHDIR=1
fi
(cd "$source_dir" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build.log" 2>&1 || {
  tail -40 "$out/build.log" >&2
  echo "$0: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
}
deb=$(ls "$out"/tokenfs_"$version"_*.deb)
# lintian exits non-zero on errors only; fail on warnings too (overrides,
# each with its reason, are in debian/tokenfs.lintian-overrides).
lintian --fail-on error,warning "$deb" "$out"/tokenfs_"$version"_*.changes |
  tee "$out/lintian.log"
echo "package: $deb"
