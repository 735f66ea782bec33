#!/usr/bin/env bash
# run_adjust_bench.sh: the latency of one token adjustment (the write(2)
# that changes a token), for one daemon binary or several compared back to
# back (docs/benchmarks.md, section "Adjustment latency", has the figures
# and how to read them).
#
# Every round starts each daemon afresh on its own temporary mount point
# under /tmp (and, when the daemon has --state and none is given, its own
# fresh state directory), runs bench/adjust_bench against it (write alone,
# open+write+close, concurrent writers, and read cycles alone and during
# the writes), optionally the read cycle of bench/fuse_bench, then unmounts
# it and stops it. With several daemons the rounds alternate (A B A B ...),
# so drift on a shared VM lands on all of them; the summary takes the median
# over the rounds of each statistic. Everything it starts (daemons, mounts,
# processes, temporary and state directories) is removed on exit, also on
# failure or Ctrl-C.
#
# Needs root (mounts). Usage:
#   sudo bench/run_adjust_bench.sh [-b BUILD_DIR] [options] [-- ADJUST_BENCH_ARGS]
set -euo pipefail

usage() {
  cat <<'EOF'
usage: run_adjust_bench.sh [options] [-- ADJUST_BENCH_ARGS...]
  -b, --build-dir DIR     CMake build tree (default: <repo>/build); missing
                          targets (tokenfs adjust_bench fuse_bench) are built
      --tokenfs [LABEL=]BIN
                          daemon binary to benchmark (default: the build's);
                          repeat to compare binaries, alternating each round.
                          Labels default to tokenfs (one) or d1, d2, ...
      --daemon-args ARGS  extra daemon arguments for every daemon, split on
                          white space (repeatable), e.g. "--threads 4"
      --daemon-args-for LABEL ARGS
                          extra daemon arguments for one daemon only
      --state-parent DIR  where a fresh --state directory is made for each
                          daemon start when the daemon has --state and the
                          arguments name none (default /var/tmp; it decides
                          which file system the commits sync to)
  -r, --rounds N          rounds; each starts every daemon afresh (3)
  -n, --iterations N      timed writes per mode and per writer (2000)
  -w, --warmup N          untimed writes first, per mode and writer (200)
  -c, --concurrency LIST  writer processes of the concurrent mode, e.g. 4 or
                          1,2,4 (default 4)
      --no-read           skip adjust_bench's read cycles (alone and during
                          the writes)
      --read-cycle N      also run fuse_bench's read cycle (open + read +
                          close of <tokens>/<pid>/privs) with N cycles on
                          each daemon after the writes (default 10000; 0
                          skips it)
      --cpu N             pin the harness to CPU N
      --pin N             pin the daemon and the harness to CPU N (every
                          round trip a same-CPU switch, see run_fuse_bench.sh)
      --keep DIR          copy the raw result files and daemon logs to DIR
  -h, --help
Arguments after -- go to adjust_bench (adjust_bench --help).
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build"
daemon_specs=()
common_args=()
declare -A extra_args=()
state_parent=/var/tmp
rounds=3
iterations=2000
warmup=200
concurrency=4
read_option=yes
read_cycles=10000
cpu_option=()
pin_cpu=""
keep_dir=""
bench_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b | --build-dir) build_dir=$2; shift 2 ;;
    --tokenfs) daemon_specs+=("$2"); shift 2 ;;
    --daemon-args) read -r -a words <<<"$2"; common_args+=("${words[@]}"); shift 2 ;;
    --daemon-args-for) extra_args[$2]="${extra_args[$2]:-} $3"; shift 3 ;;
    --state-parent) state_parent=$2; shift 2 ;;
    -r | --rounds) rounds=$2; shift 2 ;;
    -n | --iterations) iterations=$2; shift 2 ;;
    -w | --warmup) warmup=$2; shift 2 ;;
    -c | --concurrency) concurrency=$2; shift 2 ;;
    --no-read) read_option=""; shift ;;
    --read-cycle) read_cycles=$2; shift 2 ;;
    --cpu) cpu_option=(--cpu "$2"); shift 2 ;;
    --pin) pin_cpu=$2; cpu_option=(--cpu "$2"); shift 2 ;;
    --keep) keep_dir=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    --) shift; bench_args=("$@"); break ;;
    *) echo "run_adjust_bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s\n' "$*"; }
die() { echo "run_adjust_bench.sh: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (mounts)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds needs a count >= 1"
[[ $read_cycles =~ ^[0-9]+$ ]] || die "--read-cycle needs a count >= 0"

# ---------------------------------------------------------------------------
# Binaries and labels

adjust_bench="$build_dir/bench/adjust_bench"
fuse_bench="$build_dir/bench/fuse_bench"
[[ ${#daemon_specs[@]} -gt 0 ]] || daemon_specs=("$build_dir/tokenfs/tokenfs")
labels=()
declare -A binary_of=()
index=0
for spec in "${daemon_specs[@]}"; do
  index=$((index + 1))
  if [[ $spec == *=* && ${spec%%=*} != */* ]]; then
    label=${spec%%=*}
    binary=${spec#*=}
  elif [[ ${#daemon_specs[@]} -eq 1 ]]; then
    label=tokenfs
    binary=$spec
  else
    label=d$index
    binary=$spec
  fi
  [[ $label =~ ^[A-Za-z0-9_.+-]+$ ]] || die "label '$label': use letters, digits, _ . + -"
  [[ -z ${binary_of[$label]:-} ]] || die "label $label given twice"
  labels+=("$label")
  binary_of[$label]=$binary
done
for label in "${!extra_args[@]}"; do
  [[ -n ${binary_of[$label]:-} ]] || die "--daemon-args-for $label: no --tokenfs has that label"
done

needed=()
[[ -x $adjust_bench ]] || needed+=(adjust_bench)
[[ $read_cycles -eq 0 || -x $fuse_bench ]] || needed+=(fuse_bench)
for label in "${labels[@]}"; do
  if [[ ! -x ${binary_of[$label]} && ${binary_of[$label]} == "$build_dir/tokenfs/tokenfs" ]]; then
    needed+=(tokenfs)
  fi
done
if [[ ${#needed[@]} -gt 0 ]]; then
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    say "configuring $build_dir"
    cmake -S "$repo" -B "$build_dir" -DTOKENFS_BUILD_BENCH=ON >/dev/null
  fi
  say "building ${needed[*]} in $build_dir"
  cmake --build "$build_dir" -j"$(nproc)" --target "${needed[@]}"
fi
[[ -x $adjust_bench ]] || die "missing $adjust_bench"
[[ $read_cycles -eq 0 || -x $fuse_bench ]] || die "missing $fuse_bench"
for label in "${labels[@]}"; do
  [[ -x ${binary_of[$label]} ]] || die "missing daemon ${binary_of[$label]}"
done

# ---------------------------------------------------------------------------
# Cleanup: everything started below is recorded here.

work=$(mktemp -d /tmp/tokenfs-adjust.XXXXXX)
mount_dir=""
daemon_pid=""
target_pid=""
state_dir=""

# Called as `stop_daemon || true`: errexit is off inside, every step is
# tried.
stop_daemon() {
  [[ -n $target_pid ]] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null
  target_pid=""
  if [[ -n $mount_dir ]] && mountpoint -q "$mount_dir" 2>/dev/null; then
    fusermount3 -u "$mount_dir" 2>/dev/null || umount -l "$mount_dir" 2>/dev/null
  fi
  if [[ -n $daemon_pid ]]; then
    # An unmounted daemon exits by itself; give it 5 s (a durable store
    # may flush), then TERM, then KILL.
    for _ in $(seq 50); do
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$daemon_pid" 2>/dev/null; then
      kill -TERM "$daemon_pid" 2>/dev/null
      for _ in $(seq 30); do
        kill -0 "$daemon_pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$daemon_pid" 2>/dev/null
    fi
    wait "$daemon_pid" 2>/dev/null
    daemon_pid=""
  fi
  # A killed daemon leaves its mount behind.
  if [[ -n $mount_dir ]] && mountpoint -q "$mount_dir" 2>/dev/null; then
    umount -l "$mount_dir" 2>/dev/null
  fi
  [[ -n $mount_dir ]] && rmdir "$mount_dir" 2>/dev/null
  mount_dir=""
  [[ -n $state_dir ]] && rm -rf "$state_dir"
  state_dir=""
}

cleanup() {
  local status=$?
  set +e
  stop_daemon || true
  if [[ $status -ne 0 ]]; then
    echo "run_adjust_bench.sh: failed (status $status); last daemon log lines:" >&2
    tail -n 20 "$work"/*.log >&2 2>/dev/null
  fi
  if [[ -n $keep_dir ]]; then
    mkdir -p "$keep_dir" && cp "$work"/*.tsv "$work"/*.log "$keep_dir"/ 2>/dev/null
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has_option() {  # has_option OPTION ARGS...: is OPTION among ARGS?
  local option=$1 argument
  shift
  for argument in "$@"; do
    [[ $argument == "$option" || $argument == "$option="* ]] && return 0
  done
  return 1
}

# start_daemon LABEL ROUND: mounts LABEL's daemon on a fresh mount point.
start_daemon() {
  local label=$1 round=$2 binary=${binary_of[$1]} args
  read -r -a args <<<"${extra_args[$label]:-}"
  args=("${common_args[@]}" "${args[@]}")
  if ! has_option --state "${args[@]}" &&
    "$binary" --help 2>/dev/null | grep -q -- '--state'; then
    mkdir -p "$state_parent"
    state_dir=$(mktemp -d "$state_parent/tokenfs-adjust-state.XXXXXX")
    args+=(--state "$state_dir")
  fi
  mount_dir=$(mktemp -d /tmp/tokenfs-adjust-mnt.XXXXXX)
  log="$work/daemon.$label.$round.log"
  echo "$binary -f ${args[*]} $mount_dir" >"$log"
  "$binary" -f "${args[@]}" "$mount_dir" >>"$log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 100); do
    mountpoint -q "$mount_dir" && break
    kill -0 "$daemon_pid" 2>/dev/null || die "daemon $label exited at start: $(cat "$log")"
    sleep 0.1
  done
  mountpoint -q "$mount_dir" || die "$mount_dir not mounted after 10 s"
  if [[ -n $pin_cpu ]]; then
    taskset -a -p -c "$pin_cpu" "$daemon_pid" >/dev/null
  fi
  # A process whose token the read cycles read (root: the SYSTEM token's
  # privs, as in run_fuse_bench.sh); nothing writes to it.
  sleep 100000 &
  target_pid=$!
  privs="$mount_dir/$target_pid/privs"
  grep -q '^Se' "$privs" || die "cannot read $privs"
  echo "$label: $binary ${args[*]} (pid $daemon_pid) on $mount_dir"
  if [[ -n $state_dir ]]; then
    echo "$label: state in $state_dir ($(findmnt -n -o FSTYPE -T "$state_dir" 2>/dev/null || stat -f -c %T "$state_dir") file system)"
  fi
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$daemon_pid/stat"; }

# ---------------------------------------------------------------------------
# Rounds

say "$(uname -r), $(nproc) CPUs, libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?');" \
  "$rounds rounds x ${#labels[@]} daemons; $iterations writes (+$warmup warm-up) per mode and writer"
[[ -n $pin_cpu ]] && echo "daemons and harness pinned to CPU $pin_cpu"
for round in $(seq "$rounds"); do
  for label in "${labels[@]}"; do
    say "round $round: $label"
    start_daemon "$label" "$round"
    read_args=()
    [[ -n $read_option ]] && read_args=(--read "$privs")
    ticks_before=$(cpu_ticks)
    "$adjust_bench" "${cpu_option[@]}" --iterations "$iterations" \
      --warmup "$warmup" --concurrency "$concurrency" "${read_args[@]}" \
      --label "$label" --tsv "$work/adjust.$label.$round.tsv" \
      "${bench_args[@]}" "$mount_dir" | grep -v '^RESULT'
    ticks_after=$(cpu_ticks)
    echo "daemon CPU during adjust_bench: $(awk -v a="$ticks_before" -v b="$ticks_after" \
      -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz}') s;" \
      "VmRSS $(awk '/^VmRSS/ {print $2}' "/proc/$daemon_pid/status") kB"
    if [[ -n $state_dir ]]; then
      echo "state directory: $(du -sk "$state_dir" | cut -f1) kB" \
        "($(find "$state_dir" -type f -printf '%f %s bytes, ' | sed 's/, $//'))"
    fi
    if [[ $read_cycles -gt 0 ]]; then
      "$fuse_bench" "${cpu_option[@]}" --iterations "$read_cycles" \
        --warmup $((read_cycles / 10)) --tsv "$work/read.$label.$round.tsv" \
        "$label=$privs"
    fi
    stop_daemon || true
  done
done

# ---------------------------------------------------------------------------
# Summary

median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# adjust TSV columns: label mode writers count seconds per_s mean min p50
# p90 p99 p999 max.
stat_median() {  # stat_median LABEL MODE WRITERS COLUMN
  cat "$work"/adjust."$1".*.tsv |
    awk -F'\t' -v m="$2" -v w="$3" -v c="$4" '$2 == m && $3 == w {print $c}' | median
}
read_median() {  # read_median LABEL COLUMN (fuse_bench TSV)
  cat "$work"/read."$1".*.tsv 2>/dev/null | awk -F'\t' -v c="$2" '{print $c}' | median
}
rows=$(cut -f2,3 "$work/adjust.${labels[0]}.1.tsv")

say "summary: median over $rounds rounds of each statistic (µs; per_s = operations per second)"
for label in "${labels[@]}"; do
  echo "$label: ${binary_of[$label]} ${common_args[*]} ${extra_args[$label]:-}"
done
printf '%-10s %-18s %7s %9s %9s %9s %9s %9s %9s %9s\n' daemon mode writers per_s mean min p50 p90 p99 max
while IFS=$'\t' read -r mode writers; do
  for label in "${labels[@]}"; do
    printf '%-10s %-18s %7s %9s %9s %9s %9s %9s %9s %9s\n' "$label" "$mode" "$writers" \
      "$(stat_median "$label" "$mode" "$writers" 6)" "$(stat_median "$label" "$mode" "$writers" 7)" \
      "$(stat_median "$label" "$mode" "$writers" 8)" "$(stat_median "$label" "$mode" "$writers" 9)" \
      "$(stat_median "$label" "$mode" "$writers" 10)" "$(stat_median "$label" "$mode" "$writers" 11)" \
      "$(stat_median "$label" "$mode" "$writers" 13)"
  done
done <<<"$rows"
if [[ $read_cycles -gt 0 ]]; then
  echo "fuse_bench read cycle of <tokens>/<pid>/privs, $read_cycles cycles:"
  for label in "${labels[@]}"; do
    printf '%-10s median %s p90 %s p99 %s (open/read/close %s/%s/%s)\n' "$label" \
      "$(read_median "$label" 4)" "$(read_median "$label" 5)" "$(read_median "$label" 6)" \
      "$(read_median "$label" 9)" "$(read_median "$label" 10)" "$(read_median "$label" 11)"
  done
fi
if [[ ${#labels[@]} -gt 1 ]]; then
  base=${labels[0]}
  echo "ratios to $base (p50, p99, per_s):"
  while IFS=$'\t' read -r mode writers; do
    for label in "${labels[@]:1}"; do
      awk -v l="$label" -v m="$mode" -v w="$writers" \
        -v a50="$(stat_median "$base" "$mode" "$writers" 9)" -v b50="$(stat_median "$label" "$mode" "$writers" 9)" \
        -v a99="$(stat_median "$base" "$mode" "$writers" 11)" -v b99="$(stat_median "$label" "$mode" "$writers" 11)" \
        -v ar="$(stat_median "$base" "$mode" "$writers" 6)" -v br="$(stat_median "$label" "$mode" "$writers" 6)" \
        'BEGIN {printf "  %-10s %-18s %3s  p50 %.2f  p99 %.2f  per_s %.2f\n", l, m, w, (a50 > 0) ? b50 / a50 : 0, (a99 > 0) ? b99 / a99 : 0, (ar > 0) ? br / ar : 0}'
    done
  done <<<"$rows"
  if [[ $read_cycles -gt 0 ]]; then
    for label in "${labels[@]:1}"; do
      awk -v l="$label" -v a="$(read_median "$base" 4)" -v b="$(read_median "$label" 4)" \
        'BEGIN {printf "  %-10s fuse_bench read cycle median %.2f\n", l, (a > 0) ? b / a : 0}'
    done
  fi
fi
