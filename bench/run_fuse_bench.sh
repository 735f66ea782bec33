#!/usr/bin/env bash
# run_fuse_bench.sh: the daemon benchmarks of issue 3 in one run
# (docs/benchmarks.md has the figures and how to read them).
#
#   1. read cycle: open + read-until-EOF + close of <tokens>/<pid>/privs,
#      of hello_ll's static file and of /proc/self/status, interleaved
#      (bench/fuse_bench.cc), several runs; plus the FUSE requests per
#      tokenfs cycle from the daemon's own counter (<tokens>/registry);
#   2. `ls <tokens>` and `ls -l <tokens>` with N extra sleeping processes;
#   3. the daemon's VmRSS before and after M more tokens exist, made two
#      ways: M forked processes (each gets a token, looked up once through
#      <tokens>/<pid>), then M `persist` duplicates of one token (objects).
# Everything it starts (daemons, mounts, processes, the temp dir) is
# removed on exit, also on failure or Ctrl-C.
#
# Needs root (mounts, the proc connector, allow_other). Usage:
#   sudo bench/run_fuse_bench.sh [-b BUILD_DIR] [options]
set -euo pipefail

usage() {
  cat <<'EOF'
usage: run_fuse_bench.sh [options]
  -b, --build-dir DIR   CMake build tree (default: <repo>/build); missing
                        targets (tokenfs fuse_bench hello_ll) are built
  -n, --iterations N    timed read cycles per target and run (20000)
  -w, --warmup N        untimed cycles per target first (2000)
  -r, --runs N          read-cycle runs; the summary takes their median (3)
  -p, --processes N     extra processes for the ls measurement (2000)
  -t, --tokens N        tokens made for the RSS measurement (10000)
  -l, --ls-runs N       timed runs of each ls command (11)
      --tokenfs BIN     benchmark this tokenfs binary instead of the build's
      --tokenfs-arg ARG pass ARG to tokenfs (repeatable), e.g. --threads 1
      --perf FILE       also record the daemon with perf during one extra
                        tokenfs-only run (perf report -i FILE)
      --cpu N           pin the harness to CPU N
      --pin N           pin both daemons and the harness to CPU N: every
                        FUSE round trip is then a same-CPU switch, which
                        measures the software cost; unpinned, a VM's
                        cross-CPU wake-ups (~60 us each here) dominate and
                        vary with where the scheduler puts each daemon
  -h, --help
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build"
iterations=20000
warmup=2000
runs=3
processes=2000
tokens=10000
ls_runs=11
tokenfs_bin=""
tokenfs_args=()
perf_file=""
cpu_option=()
pin_cpu=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b | --build-dir) build_dir=$2; shift 2 ;;
    -n | --iterations) iterations=$2; shift 2 ;;
    -w | --warmup) warmup=$2; shift 2 ;;
    -r | --runs) runs=$2; shift 2 ;;
    -p | --processes) processes=$2; shift 2 ;;
    -t | --tokens) tokens=$2; shift 2 ;;
    -l | --ls-runs) ls_runs=$2; shift 2 ;;
    --tokenfs) tokenfs_bin=$2; shift 2 ;;
    --tokenfs-arg) tokenfs_args+=("$2"); shift 2 ;;
    --perf) perf_file=$2; shift 2 ;;
    --cpu) cpu_option=(--cpu "$2"); shift 2 ;;
    --pin) pin_cpu=$2; cpu_option=(--cpu "$2"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run_fuse_bench.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s\n' "$*"; }
die() { echo "run_fuse_bench.sh: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (mounts, proc connector, allow_other)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"

# ---------------------------------------------------------------------------
# Binaries

hello_source=/usr/share/doc/libfuse3-dev/examples/hello_ll.c
fuse_bench="$build_dir/bench/fuse_bench"
hello_ll="$build_dir/bench/hello_ll"
[[ -n $tokenfs_bin ]] || tokenfs_bin="$build_dir/tokenfs/tokenfs"
if [[ ! -x $fuse_bench || ! -x $hello_ll || ! -x $tokenfs_bin ]]; then
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    say "configuring $build_dir"
    cmake -S "$repo" -B "$build_dir" -DTOKENFS_BUILD_BENCH=ON >/dev/null
  fi
  say "building tokenfs fuse_bench hello_ll in $build_dir"
  targets=(tokenfs fuse_bench)
  # hello_ll exists as a target only when CMake found the example.
  if grep -q '^TOKENFS_HELLO_LL_SOURCE' "$build_dir/CMakeCache.txt" &&
    [[ -f $hello_source ]]; then
    targets+=(hello_ll)
  fi
  cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}"
fi

work=$(mktemp -d /tmp/tokenfs-bench.XXXXXX)
if [[ ! -x $hello_ll ]]; then
  [[ -f $hello_source ]] || die "no hello_ll: build it or install libfuse3-dev"
  hello_ll="$work/hello_ll"
  read -r -a fuse_flags <<<"$(pkg-config fuse3 --cflags --libs)"
  cc -O2 -w "$hello_source" "${fuse_flags[@]}" -o "$hello_ll"
fi
for binary in "$fuse_bench" "$hello_ll" "$tokenfs_bin"; do
  [[ -x $binary ]] || die "missing $binary"
done

# ---------------------------------------------------------------------------
# Cleanup: everything started below is recorded here.

tokens_dir="$work/tokens"
hello_dir="$work/hello"
mkdir -p "$tokens_dir" "$hello_dir"
tokenfs_pid=""
hello_pid=""
target_pid=""
spawner_pids=()

cleanup() {
  local status=$?
  set +e
  for pid in "${spawner_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${spawner_pids[@]}"; do wait "$pid" 2>/dev/null; done
  [[ -n $target_pid ]] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null
  for dir in "$tokens_dir" "$hello_dir"; do
    if mountpoint -q "$dir" 2>/dev/null; then
      fusermount3 -u "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null
    fi
  done
  for pid in $tokenfs_pid $hello_pid; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ $status -ne 0 ]]; then
    echo "run_fuse_bench.sh: failed (status $status); daemon logs:" >&2
    tail -n 20 "$work"/*.log >&2 2>/dev/null
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_mounted() {
  local dir=$1 pid=$2
  for _ in $(seq 100); do
    mountpoint -q "$dir" && return 0
    kill -0 "$pid" 2>/dev/null || die "daemon for $dir exited (log: $(cat "$work"/*.log))"
    sleep 0.1
  done
  die "$dir not mounted after 10 s"
}

# Starts `fuse_bench --spawn N`, waits for "ready", sets spawned_pid and
# leaves the children's pids in $work/spawn.<label>.pids.
spawn() {
  local count=$1 label=$2
  "$fuse_bench" --spawn "$count" --pid-file "$work/spawn.$label.pids" \
    >"$work/spawn.$label.out" 2>&1 &
  spawned_pid=$!
  spawner_pids+=("$spawned_pid")
  for _ in $(seq 600); do
    grep -q '^ready' "$work/spawn.$label.out" 2>/dev/null && return 0
    kill -0 "$spawned_pid" 2>/dev/null ||
      die "spawning $count processes failed: $(cat "$work/spawn.$label.out")"
    sleep 0.1
  done
  die "spawning $count processes timed out"
}

unspawn() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  local kept=()
  for other in "${spawner_pids[@]}"; do
    [[ $other == "$pid" ]] || kept+=("$other")
  done
  spawner_pids=("${kept[@]}")
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$tokenfs_pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$tokenfs_pid/stat"; }
registry_value() { awk -v key="$1" '$1 == key {print $2}' "$tokens_dir/registry"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# Runs "$@" ls_runs times; prints the median wall time in ms. Errors are
# ignored: `ls -l` complains about processes that exit between its readdir
# and its lstat, which is normal on a busy host.
time_ms() {
  local start end samples=()
  for _ in $(seq "$ls_runs"); do
    start=$EPOCHREALTIME
    "$@" >/dev/null 2>&1 || true
    end=$EPOCHREALTIME
    samples+=("$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", (b - a) * 1000}')")
  done
  printf '%s\n' "${samples[@]}" | median
}
once_ms() {
  local start end
  start=$EPOCHREALTIME
  "$@" >/dev/null 2>&1 || true
  end=$EPOCHREALTIME
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", (b - a) * 1000}'
}

# ---------------------------------------------------------------------------
# Mount both file systems.

say "mounting hello_ll and tokenfs under $work"
"$hello_ll" -f "$hello_dir" >"$work/hello_ll.log" 2>&1 &
hello_pid=$!
# A store of its own (daemons before the state store lack the option).
state_args=()
if "$tokenfs_bin" --help 2>/dev/null | grep -q -- --state; then
  state_args=(--state "$work/state")
fi
# Room for the objects of section 3b (a root token takes about 2.6 kB).
quota_args=(--quota $((tokens + 1024)))
if "$tokenfs_bin" --help 2>/dev/null | grep -q -- --quota-bytes; then
  quota_args+=(--quota-bytes $(((tokens + 1024) * 8192)))
fi
"$tokenfs_bin" -f "${quota_args[@]}" "${state_args[@]}" "${tokenfs_args[@]}" "$tokens_dir" >"$work/tokenfs.log" 2>&1 &
tokenfs_pid=$!
wait_mounted "$hello_dir" "$hello_pid"
wait_mounted "$tokens_dir" "$tokenfs_pid"
if [[ -n $pin_cpu ]]; then
  taskset -a -p -c "$pin_cpu" "$hello_pid" >/dev/null
  taskset -a -p -c "$pin_cpu" "$tokenfs_pid" >/dev/null
  echo "daemons and harness pinned to CPU $pin_cpu"
fi
sleep 100000 &
target_pid=$!
privs="$tokens_dir/$target_pid/privs"
grep -q "^Se" "$privs" || die "cannot read $privs"
grep -q Hello "$hello_dir/hello" || die "hello_ll serves no hello"
events=$(registry_value events)
echo "tokenfs $tokenfs_bin ${tokenfs_args[*]} (pid $tokenfs_pid, process events $events)"
echo "hello_ll $hello_ll (pid $hello_pid); target process $target_pid (root)"

# ---------------------------------------------------------------------------
# 1. Read cycle.

say "1. read cycle: $runs runs x $iterations cycles per target (+$warmup warm-up)"
for run in $(seq "$runs"); do
  requests_before=$(registry_value requests)
  "$fuse_bench" "${cpu_option[@]}" --iterations "$iterations" \
    --warmup "$warmup" --baseline hello_ll --tsv "$work/read.$run.tsv" \
    "tokenfs=$privs" "hello_ll=$hello_dir/hello" "procfs=/proc/self/status"
  requests_after=$(registry_value requests)
  # Reading `registry` twice adds its own OPEN (counted before it renders)
  # and two READs: 3 requests.
  awk -v a="$requests_before" -v b="$requests_after" \
    -v n=$((iterations + warmup)) \
    'BEGIN {printf "%.2f\n", (b - a - 3) / n}' >"$work/requests.$run"
  echo "tokenfs requests per cycle: $(cat "$work/requests.$run")"
done

if [[ -n $perf_file ]]; then
  say "perf: recording tokenfs (pid $tokenfs_pid) during a tokenfs-only run"
  perf record -F 999 -g -p "$tokenfs_pid" -o "$perf_file" 2>"$work/perf.log" &
  perf_pid=$!
  sleep 0.5
  "$fuse_bench" "${cpu_option[@]}" --iterations "$iterations" --warmup 0 \
    "tokenfs=$privs"
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  echo "wrote $perf_file (perf report -i $perf_file --no-children)"
fi

# ---------------------------------------------------------------------------
# 2. ls with many processes.

say "2. ls with $processes extra processes"
spawn "$processes" ls
ls_spawner=$spawned_pid
# ls, not find: the count ls shows is the point.
# shellcheck disable=SC2012
entries=$(ls "$tokens_dir" | wc -l)
# shellcheck disable=SC2012
proc_entries=$(ls /proc | wc -l)
ls_tokens=$(time_ms ls "$tokens_dir")
ls_proc=$(time_ms ls /proc)
ls_l_first=$(once_ms ls -l "$tokens_dir")
ls_l_tokens=$(time_ms ls -l "$tokens_dir")
ls_l_proc=$(time_ms ls -l /proc)
echo "entries: $entries in $tokens_dir, $proc_entries in /proc"
echo "ls: tokenfs ${ls_tokens} ms, /proc ${ls_proc} ms (median of $ls_runs)"
echo "ls -l: tokenfs first ${ls_l_first} ms, then ${ls_l_tokens} ms; /proc ${ls_l_proc} ms"
"$fuse_bench" "${cpu_option[@]}" --list --iterations 200 --warmup 5 \
  --rounds 10 --baseline procfs --tsv "$work/list.tsv" \
  "tokenfs=$tokens_dir" "procfs=/proc"
"$fuse_bench" "${cpu_option[@]}" --list-stat --iterations 40 --warmup 2 \
  --rounds 10 --baseline procfs --tsv "$work/list_stat.tsv" \
  "tokenfs=$tokens_dir" "procfs=/proc"
unspawn "$ls_spawner"

# ---------------------------------------------------------------------------
# 3. RSS with many tokens.

say "3. daemon RSS with $tokens more tokens"
sleep 1  # let the exit events of the ls processes drain
rss_start=$(rss_kb)
objects_start=$(registry_value objects)
processes_start=$(registry_value processes)
echo "start: VmRSS ${rss_start} kB, registry processes $processes_start, objects $objects_start"

# 3a. Processes: each forked child gets a token (inherited at the fork event
# when events are live, minted at the first lookup otherwise); the lookup
# of <tokens>/<pid> makes sure tokenfs has seen every one.
cpu_before=$(cpu_ticks)
spawn_start=$EPOCHREALTIME
spawn "$tokens" rss
rss_spawner=$spawned_pid
spawn_end=$EPOCHREALTIME
missing=0
while read -r pid; do
  [[ -e $tokens_dir/$pid ]] || missing=$((missing + 1))
done <"$work/spawn.rss.pids"
lookup_end=$EPOCHREALTIME
cpu_after=$(cpu_ticks)
rss_processes=$(rss_kb)
processes_with=$(registry_value processes)
minted=$(registry_value minted)
inherited=$(registry_value inherited)
spawn_s=$(awk -v a="$spawn_start" -v b="$spawn_end" 'BEGIN {printf "%.2f", b - a}')
lookup_us=$(awk -v a="$spawn_end" -v b="$lookup_end" -v n="$tokens" 'BEGIN {printf "%.1f", (b - a) * 1e6 / n}')
cpu_us=$(awk -v a="$cpu_before" -v b="$cpu_after" -v n="$tokens" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", (b - a) * 1e6 / hz / n}')
echo "processes: VmRSS ${rss_processes} kB with $processes_with processes" \
  "(minted $minted, inherited $inherited in total; $missing not found);" \
  "fork of $tokens took ${spawn_s} s, first lookup ${lookup_us} µs each," \
  "daemon CPU ${cpu_us} µs per process"
unspawn "$rss_spawner"
sleep 1
rss_after_exit=$(rss_kb)
echo "after the $tokens processes exited: VmRSS ${rss_after_exit} kB," \
  "registry processes $(registry_value processes)"

# 3b. Objects: `persist` duplicates of the target's token.
rss_objects_start=$(rss_kb)
duplicate_start=$EPOCHREALTIME
for _ in $(seq "$tokens"); do
  echo persist >"$tokens_dir/$target_pid/duplicate"
done
duplicate_end=$EPOCHREALTIME
rss_objects=$(rss_kb)
objects_with=$(registry_value objects)
duplicate_us=$(awk -v a="$duplicate_start" -v b="$duplicate_end" -v n="$tokens" 'BEGIN {printf "%.1f", (b - a) * 1e6 / n}')
echo "objects: VmRSS ${rss_objects_start} -> ${rss_objects} kB with $objects_with objects" \
  "(${duplicate_us} µs per duplicate, shell echo included)"

# ---------------------------------------------------------------------------
# Summary.

column_median() {  # column_median TARGET COLUMN: median over the runs
  local target=$1 column=$2
  cat "$work"/read.*.tsv | awk -F'\t' -v t="$target" -v c="$column" '$1 == t {print $c}' | median
}
say "summary ($(uname -r), $(nproc) CPUs, libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?'))"
printf 'read cycle, µs (median over %d runs of each statistic)\n' "$runs"
printf '  %-10s %9s %9s %9s   %s\n' target median p90 p99 "open/read/close medians"
for target in tokenfs hello_ll procfs; do
  printf '  %-10s %9s %9s %9s   %s/%s/%s\n' "$target" \
    "$(column_median "$target" 4)" "$(column_median "$target" 5)" \
    "$(column_median "$target" 6)" "$(column_median "$target" 9)" \
    "$(column_median "$target" 10)" "$(column_median "$target" 11)"
done
ratios=$(for run in $(seq "$runs"); do
  awk -F'\t' '$1 == "tokenfs" {t = $4} $1 == "hello_ll" {h = $4} END {printf "%.2f\n", t / h}' "$work/read.$run.tsv"
done)
ratio=$(echo "$ratios" | median)
verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.5) ? "meets" : "misses"}')
echo "  tokenfs/hello_ll median ratio: $ratio ($verdict the 1.5x goal; runs: ${ratios//$'\n'/ })"
echo "  tokenfs requests per cycle: $(cat "$work"/requests.* | median)" \
  "(OPEN, READ, READ at EOF; noflush skips FLUSH; RELEASE is async and uncounted)"
echo "  hello_ll: OPEN, READ per cycle (page cache; its FLUSH gets ENOSYS once," \
  "after which the kernel sends none; RELEASE is async)"
echo "ls with $processes extra processes ($entries entries)"
echo "  ls:    tokenfs ${ls_tokens} ms, /proc ${ls_proc} ms"
echo "  ls -l: tokenfs ${ls_l_tokens} ms (first ${ls_l_first} ms), /proc ${ls_l_proc} ms"
awk -F'\t' '{printf "  readdir only (fuse_bench --list): %s %s ms\n", $1, $4 / 1000}' "$work/list.tsv"
awk -F'\t' '{printf "  readdir + lstat (--list-stat):     %s %s ms\n", $1, $4 / 1000}' "$work/list_stat.tsv"
echo "daemon VmRSS"
echo "  start ${rss_start} kB"
echo "  +$tokens processes: ${rss_processes} kB (+$((rss_processes - rss_start)) kB," \
  "$(awk -v a="$rss_start" -v b="$rss_processes" -v n="$tokens" 'BEGIN {printf "%.2f", (b - a) / n}') kB per token);" \
  "after they exit ${rss_after_exit} kB"
echo "  +$tokens objects:   ${rss_objects} kB (+$((rss_objects - rss_objects_start)) kB," \
  "$(awk -v a="$rss_objects_start" -v b="$rss_objects" -v n="$tokens" 'BEGIN {printf "%.2f", (b - a) / n}') kB per token)"
