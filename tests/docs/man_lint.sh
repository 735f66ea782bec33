#!/bin/bash
# Lints the manual pages with mandoc (issue 3: "mandoc -T lint is clean").
#
# Every page of man/ is checked with `mandoc -T lint -W warning`, which
# prints nothing for a clean page, and formatted by groff as man(1) does
# for an 80-column terminal with `man --warnings` (a table row too wide
# to break, a bad escape); any output of either fails the test and is
# shown. Without man(1) only mandoc runs. The four pages the project ships are named so that
# one that is not written yet is reported as skipped rather than silently
# ignored; any other page found in man/ is linted too.
#
# Usage: man_lint.sh MAN_DIRECTORY
# Exit status: 0 all clean, 1 a page has findings (or no page exists),
# 77 mandoc is not installed (ctest reports the test as skipped).
set -u

if [[ $# -ne 1 || ! -d $1 ]]; then
  echo "usage: $0 MAN_DIRECTORY" >&2
  exit 1
fi
man_directory=$1

if ! command -v mandoc >/dev/null 2>&1; then
  echo "mandoc is not installed: skipped"
  exit 77
fi

pages=(token.1 tokenfs.5 tokenfs.8 token-spec.5)
for path in "$man_directory"/*.[1-9]; do
  [[ -e $path ]] || continue
  name=${path##*/}
  [[ " ${pages[*]} " == *" $name "* ]] || pages+=("$name")
done

status=0
checked=0
for name in "${pages[@]}"; do
  path=$man_directory/$name
  if [[ ! -e $path ]]; then
    echo "skip  $name (not written yet)"
    continue
  fi
  checked=$((checked + 1))
  findings=$(mandoc -T lint -W warning "$path" 2>&1)
  if command -v man >/dev/null 2>&1; then
    findings+=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$path" 2>&1 >/dev/null)
  fi
  if [[ -n $findings ]]; then
    echo "FAIL  $name"
    printf '%s\n' "$findings"
    status=1
  else
    echo "ok    $name"
  fi
done

if ((checked == 0)); then
  echo "FAIL  no manual page found in $man_directory"
  exit 1
fi
exit "$status"
