#!/usr/bin/env bash
# core/ is a pure library (issue 2): no libfuse, no CLI11, no file or /proc
# access. Fails, naming the line, if a core source includes or calls them.
# Usage: purity.sh CORE_DIRECTORY
set -u
core=${1:?core directory}
status=0
forbidden_includes='#include <(fuse[^>]*|CLI/[^>]*|fstream|fcntl\.h|unistd\.h|dirent\.h|sys/stat\.h|sys/syscall\.h|filesystem)>'
forbidden_calls='(^|[^A-Za-z_:])(fopen|freopen|ifstream|ofstream|opendir|readdir|readlink|::open|::read|getpwuid|getgrgid)[[:space:]]*\('
if grep -nE "$forbidden_includes" "$core"/*.h "$core"/*.cc; then
  echo "FAIL: core/ includes an I/O, FUSE or CLI11 header (above)"
  status=1
fi
if grep -nE "$forbidden_calls" "$core"/*.h "$core"/*.cc | grep -v '^\S*:[0-9]*: *//'; then
  echo "FAIL: core/ calls a file or account function (above)"
  status=1
fi
if grep -nE 'target_link_libraries.*(fuse3|FUSE3|CLI11)' "$core"/CMakeLists.txt; then
  echo "FAIL: core/CMakeLists.txt links libfuse or CLI11"
  status=1
fi
[ $status -eq 0 ] && echo "core/ reads no files and links neither libfuse nor CLI11"
exit $status
