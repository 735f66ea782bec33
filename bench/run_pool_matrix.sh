#!/usr/bin/env bash
# run_pool_matrix.sh: the worker-pool comparison of issue 13. Runs
# run_perf.sh's read-cycle and concurrent-reader sections once per tokenfs
# worker-pool set-up (--threads, --idle-threads, --clone-fd), in two passes
# (the second in reverse order, so drift in the host's load lands on every
# set-up), and prints one line per set-up and pass with the ratios against
# hello_ll / hello_big measured in the same run (docs/benchmarks.md,
# section 10.3).
#
# Needs root. Usage:
#   sudo bench/run_pool_matrix.sh [-b BUILD_DIR] [--tokenfs BIN]
#        [--setups "ARGS;ARGS;..."] [--passes N] [-- run_perf.sh options]
set -euo pipefail

usage() {
  cat <<'EOF'
usage: run_pool_matrix.sh [options] [-- run_perf.sh options]
  -b, --build-dir DIR  passed to run_perf.sh
      --tokenfs BIN    passed to run_perf.sh
      --setups LIST    ';'-separated tokenfs argument lists (default: threads
                       1, 2, 4, 16 x idle threads 1 or threads/2+1 x clone_fd
                       off/on, and 16 threads all idle)
      --passes N       passes over the set-ups, alternating order (2)
  -h, --help
run_perf.sh runs with --sections read,readers and, unless overridden after
"--", -r 1 -n 5000 -w 500 -c 300 --readers-ms 2000.
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
perf_args=()
setups="--threads 1"
for threads in 2 4 16; do
  for idle in 1 $((threads / 2 + 1)); do
    setups+=";--threads $threads --idle-threads $idle"
    setups+=";--threads $threads --idle-threads $idle --clone-fd"
  done
done
setups+=";--threads 16 --idle-threads 16"
passes=2
extra=(-r 1 -n 5000 -w 500 -c 300 --readers-ms 2000)
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b | --build-dir) perf_args+=(-b "$2"); shift 2 ;;
    --tokenfs) perf_args+=(--tokenfs "$2"); shift 2 ;;
    --setups) setups=$2; shift 2 ;;
    --passes) passes=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "run_pool_matrix.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

IFS=';' read -r -a setup_list <<<"$setups"
printf '%-4s %-40s %8s %8s %8s %8s %8s %8s   %s\n' pass setup \
  privs/u privs/p all/u all/p "40r thr" "40r p99" "privs µs u/p; load"
for pass in $(seq "$passes"); do
  order=("${setup_list[@]}")
  if ((pass % 2 == 0)); then
    order=()
    for ((i = ${#setup_list[@]} - 1; i >= 0; --i)); do order+=("${setup_list[i]}"); done
  fi
  for setup in "${order[@]}"; do
    tokenfs_args=()
    read -r -a words <<<"$setup"
    for word in "${words[@]}"; do tokenfs_args+=(--tokenfs-arg "$word"); done
    output=$("$repo/bench/run_perf.sh" "${perf_args[@]}" --sections read,readers \
      "${tokenfs_args[@]}" "${extra[@]}" 2>&1) || {
      echo "$output" | tail -n 20 >&2
      echo "run_pool_matrix.sh: run_perf.sh failed for '$setup'" >&2
      exit 1
    }
    # The summary rows end in: tokenfs baseline ratio "<=" goal verdict.
    ratio() { echo "$output" | awk -v f="$1" 'index($0, f) {print $(NF - 3); exit}'; }
    value() { echo "$output" | awk -v f="$1" 'index($0, f) {print $(NF - 5); exit}'; }
    load=$(echo "$output" | sed -n 's/.*load average \([0-9.]*\) .*/\1/p' | head -n 1)
    printf '%-4s %-40s %8s %8s %8s %8s %8s %8s   %s/%s; %s\n' "$pass" "$setup" \
      "$(ratio 'privs/hello_ll, unpinned, warm')" "$(ratio 'privs/hello_ll, pinned, warm')" \
      "$(ratio 'query/all/hello_big, unpinned, warm')" "$(ratio 'query/all/hello_big, pinned, warm')" \
      "$(ratio 'readers: throughput')" "$(ratio 'readers: p99')" \
      "$(value 'privs/hello_ll, unpinned, warm')" "$(value 'privs/hello_ll, pinned, warm')" "$load"
  done
done
