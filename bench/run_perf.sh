#!/usr/bin/env bash
# run_perf.sh: every performance figure of issue 13 in one run, on one
# harness, with one summary table of the acceptance figures (PASS/FAIL) and
# the raw numbers (docs/benchmarks.md, section 10, says how to read them).
#
#   1. read cycle: open + read-until-EOF + close (bench/fuse_bench.cc) of
#      tokenfs <pid>/privs (~1 KB) and <pid>/query/all (~24 KB), hello_ll's
#      hello, hello_big (hello_ll serving a file as large as query/all) and
#      /proc/self/status; unpinned and pinned (both daemons and the harness
#      on one CPU), warm (the same file read again) and cold (the first read
#      after the token changed); plus FUSE requests per cycle from the
#      daemon's counter (<tokens>/registry, `requests`);
#   2. 40 concurrent readers: cycles per second and p99, tokenfs vs hello_ll;
#   3. daemon VmRSS after 10,000 more tokens (forked processes, then objects),
#      on a daemon started afresh (the one the read sections used is shown);
#   4. fork+exit storm (bench/fork_storm.cc): the rate without tokenfs, with
#      a bare proc-connector listener, and with tokenfs mounted for a storm
#      parent tokenfs never looked up and for one whose token it holds; the
#      daemon's (and the listener's) CPU per 1,000 forks.
# Targets alternate within each run and runs repeat, so host noise lands on
# all of them; the summary takes medians over the runs. Everything it starts
# (daemons, mounts, processes, the temp dir) is removed on exit, also on
# failure or Ctrl-C.
#
# Needs root (mounts, the proc connector, allow_other). Usage:
#   sudo bench/run_perf.sh [-b BUILD_DIR] [--tokenfs BIN] [options]
set -euo pipefail

usage() {
  cat <<'EOF'
usage: run_perf.sh [options]
  -b, --build-dir DIR   CMake build tree (default: <repo>/build); missing
                        targets (tokenfs fuse_bench fork_storm hello_ll
                        hello_big) are built
      --tokenfs BIN     benchmark this tokenfs binary instead of the build's
      --tokenfs-arg ARG pass ARG to tokenfs (repeatable), e.g. --threads 2
  -r, --runs N          runs of every section; the summary takes medians (3)
  -n, --iterations N    timed warm read cycles per target and run (20000)
  -w, --warmup N        untimed warm cycles per target first (2000)
  -c, --cold N          timed cold read cycles per target and run (2000)
      --readers N       concurrent readers (40)
      --readers-ms MS   time each readers target gets per run (6000)
      --storm-ms MS     length of each fork storm (5000)
  -t, --tokens N        tokens made for the RSS measurement (10000)
      --pin CPU         the CPU of the pinned runs (0)
      --sections LIST   comma-separated subset of read,readers,rss,storm
                        (default: all four)
  -q, --quick           1 run, 5000/500/500 cycles, 2 s readers, 2 s storms,
                        2000 tokens (about 2 minutes; RSS not comparable)
  -h, --help
EOF
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir="$repo/build"
tokenfs_bin=""
tokenfs_args=()
runs=3
iterations=20000
warmup=2000
cold=2000
readers=40
readers_ms=6000
storm_ms=5000
tokens=10000
pin_cpu=0
sections="read,readers,rss,storm"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -b | --build-dir) build_dir=$2; shift 2 ;;
    --tokenfs) tokenfs_bin=$2; shift 2 ;;
    --tokenfs-arg) tokenfs_args+=("$2"); shift 2 ;;
    -r | --runs) runs=$2; shift 2 ;;
    -n | --iterations) iterations=$2; shift 2 ;;
    -w | --warmup) warmup=$2; shift 2 ;;
    -c | --cold) cold=$2; shift 2 ;;
    --readers) readers=$2; shift 2 ;;
    --readers-ms) readers_ms=$2; shift 2 ;;
    --storm-ms) storm_ms=$2; shift 2 ;;
    -t | --tokens) tokens=$2; shift 2 ;;
    --pin) pin_cpu=$2; shift 2 ;;
    --sections) sections=$2; shift 2 ;;
    -q | --quick)
      runs=1 iterations=5000 warmup=500 cold=500 readers_ms=2000
      storm_ms=2000 tokens=2000
      shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run_perf.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

say() { printf '\n== %s\n' "$*"; }
die() { echo "run_perf.sh: $*" >&2; exit 1; }
section() { [[ ,$sections, == *,$1,* ]]; }

[[ $(id -u) -eq 0 ]] || die "run as root (mounts, proc connector, allow_other)"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing"
cpus=$(nproc)
((pin_cpu < cpus)) || die "--pin $pin_cpu: this machine has $cpus CPUs"

# ---------------------------------------------------------------------------
# Binaries

bench_dir="$build_dir/bench"
fuse_bench="$bench_dir/fuse_bench"
fork_storm="$bench_dir/fork_storm"
hello_ll="$bench_dir/hello_ll"
hello_big="$bench_dir/hello_big"
[[ -n $tokenfs_bin ]] || tokenfs_bin="$build_dir/tokenfs/tokenfs"
needed=()
[[ -x $fuse_bench ]] || needed+=(fuse_bench)
[[ -x $fork_storm ]] || needed+=(fork_storm)
[[ -x $hello_ll ]] || needed+=(hello_ll)
[[ -x $hello_big ]] || needed+=(hello_big)
[[ -x $tokenfs_bin ]] || needed+=(tokenfs)
if [[ ${#needed[@]} -gt 0 ]]; then
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    say "configuring $build_dir"
    cmake -S "$repo" -B "$build_dir" -DTOKENFS_BUILD_BENCH=ON >/dev/null
  fi
  say "building ${needed[*]} in $build_dir"
  cmake --build "$build_dir" -j"$cpus" --target "${needed[@]}"
fi
for binary in "$fuse_bench" "$fork_storm" "$hello_ll" "$hello_big" "$tokenfs_bin"; do
  [[ -x $binary ]] || die "missing $binary (hello_ll and hello_big need libfuse3-dev's examples)"
done

# ---------------------------------------------------------------------------
# Cleanup: everything started below is recorded here.

work=$(mktemp -d /tmp/tokenfs-perf.XXXXXX)
tokens_dir="$work/tokens"
hello_dir="$work/hello"
big_dir="$work/big"
mkdir -p "$tokens_dir" "$hello_dir" "$big_dir"
tokenfs_pid=""
hello_pid=""
big_pid=""
target_pid=""
listener_pid=""
spawner_pids=()

unmount() {
  local dir=$1
  if mountpoint -q "$dir" 2>/dev/null; then
    fusermount3 -u "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null
  fi
}
reap() {  # reap PID: waits up to 2 s for it to exit, then kills it
  local pid=$1
  [[ -n $pid ]] || return 0
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 0
}
cleanup() {
  local status=$?
  set +e
  for pid in "${spawner_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${spawner_pids[@]}"; do wait "$pid" 2>/dev/null; done
  [[ -n $listener_pid ]] && kill -TERM "$listener_pid" 2>/dev/null && reap "$listener_pid"
  [[ -n $target_pid ]] && kill "$target_pid" 2>/dev/null && wait "$target_pid" 2>/dev/null
  for dir in "$tokens_dir" "$hello_dir" "$big_dir"; do unmount "$dir"; done
  for pid in $tokenfs_pid $hello_pid $big_pid; do reap "$pid"; done
  if [[ $status -ne 0 ]]; then
    echo "run_perf.sh: failed (status $status); daemon logs:" >&2
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

# A store of its own per start (daemons before the state store lack the
# option), so every start begins with no tokens.
state_option=0
if "$tokenfs_bin" --help 2>/dev/null | grep -q -- --state; then state_option=1; fi
# Room for the RSS section's objects (a root token takes about 2.6 kB).
quota_args=(--quota $((tokens + 1024)))
if "$tokenfs_bin" --help 2>/dev/null | grep -q -- --quota-bytes; then
  quota_args+=(--quota-bytes $(((tokens + 1024) * 8192)))
fi
starts=0
start_tokenfs() {
  local state_args=()
  starts=$((starts + 1))
  ((state_option)) && state_args=(--state "$work/state.$starts")
  "$tokenfs_bin" -f "${quota_args[@]}" "${state_args[@]}" \
    "${tokenfs_args[@]}" "$tokens_dir" >>"$work/tokenfs.log" 2>&1 &
  tokenfs_pid=$!
  wait_mounted "$tokens_dir" "$tokenfs_pid"
}
stop_tokenfs() {
  unmount "$tokens_dir"
  reap "$tokenfs_pid"
  tokenfs_pid=""
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
  local pid=$1 kept=()
  kill -TERM "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  for other in "${spawner_pids[@]}"; do
    [[ $other == "$pid" ]] || kept+=("$other")
  done
  spawner_pids=("${kept[@]}")
}

pin_daemons() {  # pin_daemons CPUS: every thread of the three daemons
  for pid in $tokenfs_pid $hello_pid $big_pid; do
    taskset -a -p -c "$1" "$pid" >/dev/null
  done
}
all_cpus="0-$((cpus - 1))"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$tokenfs_pid/status"; }
# CPU time of every thread of process $1 in ns (schedstat: exact, where
# /proc/<pid>/stat counts 10 ms ticks, too coarse for a 5 s storm).
cpu_ns() { cat "/proc/$1/task/"*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
registry_value() { awk -v key="$1" '$1 == key {print $2}' "$tokens_dir/registry"; }
median() { sort -g | awk 'NF {v[++n] = $1} END {if (!n) print "nan"; else print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2}'; }

# ---------------------------------------------------------------------------
# Mount the three file systems.

say "mounting hello_ll, hello_big and tokenfs under $work"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
"$hello_ll" -f "$hello_dir" >"$work/hello_ll.log" 2>&1 &
hello_pid=$!
"$hello_big" -f "$big_dir" >"$work/hello_big.log" 2>&1 &
big_pid=$!
start_tokenfs
wait_mounted "$hello_dir" "$hello_pid"
wait_mounted "$big_dir" "$big_pid"
sleep 100000 &
target_pid=$!
privs="$tokens_dir/$target_pid/privs"
query_all="$tokens_dir/$target_pid/query/all"
grep -q "^Se" "$privs" || die "cannot read $privs"
grep -q . "$query_all" || die "cannot read $query_all"
grep -q Hello "$hello_dir/hello" || die "hello_ll serves no hello"
grep -q Hello "$big_dir/hello" || die "hello_big serves no hello"
all_bytes=$(wc -c <"$query_all")
big_bytes=$(wc -c <"$big_dir/hello")
# Cold cycles toggle two privileges of the target's token, one per tokenfs
# target, so that every write changes the token.
mapfile -t toggled < <(awk '$1 ~ /^Se/ {print $1}' "$privs" | head -n 2)
[[ ${#toggled[@]} -eq 2 ]] || die "$privs lists fewer than two privileges"
for name in "${toggled[@]}"; do
  echo "$name=enabled" >"$privs" || die "cannot adjust $name through $privs"
done
echo "tokenfs $tokenfs_bin ${tokenfs_args[*]} (pid $tokenfs_pid, process events $(registry_value events))"
echo "hello_ll (pid $hello_pid), hello_big (pid $big_pid, $big_bytes bytes);" \
  "target process $target_pid (root): query/all $all_bytes bytes"
echo "$cpus CPUs; pinned runs use CPU $pin_cpu; load average $load_start"

read_targets=("tokenfs=$privs" "all=$query_all" "hello_ll=$hello_dir/hello"
  "hello_big=$big_dir/hello" "procfs=/proc/self/status")
toggle_privs=(--toggle "tokenfs:$privs:${toggled[0]}=disabled:${toggled[0]}=enabled")
toggle_all=(--toggle "all:$privs:${toggled[1]}=disabled:${toggled[1]}=enabled")
toggles=("${toggle_privs[@]}" "${toggle_all[@]}")

# ---------------------------------------------------------------------------
# 1. Read cycle.

# requests_per_cycle LABEL CYCLES FUSE_BENCH_ARGS...: the daemon's requests
# per cycle of one fuse_bench call. Reading `registry` twice adds its own
# OPEN (counted before it renders) and two READs: 3 requests.
requests_per_cycle() {
  local label=$1 cycles=$2 before after
  shift 2
  before=$(registry_value requests)
  "$fuse_bench" --rounds 1 --warmup 0 --iterations "$cycles" "$@" >/dev/null
  after=$(registry_value requests)
  awk -v a="$before" -v b="$after" -v n="$cycles" \
    'BEGIN {printf "%.2f\n", (b - a - 3) / n}' >"$work/requests.$label"
}

if section read; then
  say "1. read cycle: $runs runs; warm $iterations cycles (+$warmup), cold $cold per target"
  for run in $(seq "$runs"); do
    for placement in unpinned pinned; do
      cpu_option=()
      if [[ $placement == pinned ]]; then
        pin_daemons "$pin_cpu"
        cpu_option=(--cpu "$pin_cpu")
      fi
      echo "-- run $run, $placement, warm"
      "$fuse_bench" "${cpu_option[@]}" --iterations "$iterations" \
        --warmup "$warmup" --baseline hello_ll \
        --tsv "$work/read.$placement.warm.$run.tsv" "${read_targets[@]}"
      echo "-- run $run, $placement, cold"
      "$fuse_bench" "${cpu_option[@]}" --cold "${toggles[@]}" \
        --iterations "$cold" --warmup 100 --baseline hello_ll \
        --tsv "$work/read.$placement.cold.$run.tsv" "${read_targets[@]}"
      [[ $placement == pinned ]] && pin_daemons "$all_cpus"
    done
  done
  # Requests per cycle do not depend on the placement: counted once.
  requests_per_cycle privs.warm 2000 "tokenfs=$privs"
  requests_per_cycle all.warm 2000 "all=$query_all"
  requests_per_cycle privs.change 1000 --changes-only "${toggle_privs[@]}" "tokenfs=$privs"
  requests_per_cycle privs.cold 1000 --cold "${toggle_privs[@]}" "tokenfs=$privs"
  requests_per_cycle all.cold 1000 --cold "${toggle_all[@]}" "all=$query_all"
fi

# ---------------------------------------------------------------------------
# 2. Concurrent readers.

if section readers; then
  say "2. $readers concurrent readers: $runs runs, $readers_ms ms per target and run"
  for run in $(seq "$runs"); do
    "$fuse_bench" --readers "$readers" --duration-ms $((readers_ms * 2)) \
      --rounds 6 --warmup 200 --baseline hello_ll \
      --tsv "$work/readers.$run.tsv" "tokenfs=$privs" "hello_ll=$hello_dir/hello"
  done
fi

# ---------------------------------------------------------------------------
# 3. RSS with many tokens.

if section rss; then
  say "3. daemon RSS with $tokens more tokens"
  # The figure is the tokens' cost, so it is taken on a daemon started
  # afresh: the read sections fill the render cache's 8 MiB budget with
  # query/all texts (a cold cycle renders a new version each time) and keep
  # each toggled token's history. Their daemon's RSS is shown first.
  if section read || section readers; then
    echo "after the read sections: VmRSS $(rss_kb) kB," \
      "$(ls "/proc/$tokenfs_pid/task" | wc -l) threads," \
      "$(awk '/^RssAnon/ {print $2}' "/proc/$tokenfs_pid/status") kB anonymous;" \
      "restarting tokenfs"
    stop_tokenfs
    start_tokenfs
  fi
  sleep 1
  rss_start=$(rss_kb)
  spawn "$tokens" rss
  rss_spawner=$spawned_pid
  missing=0
  while read -r pid; do
    [[ -e $tokens_dir/$pid ]] || missing=$((missing + 1))
  done <"$work/spawn.rss.pids"
  rss_processes=$(rss_kb)
  echo "processes: VmRSS $rss_start -> $rss_processes kB with" \
    "$(registry_value processes) processes ($missing not found)"
  unspawn "$rss_spawner"
  sleep 1
  rss_objects_start=$(rss_kb)
  for _ in $(seq "$tokens"); do
    echo persist >"$tokens_dir/$target_pid/duplicate"
  done
  rss_objects=$(rss_kb)
  echo "objects: VmRSS $rss_objects_start -> $rss_objects kB with $(registry_value objects) objects"
fi

# ---------------------------------------------------------------------------
# 4. Fork storm.

# storm OUT [ARGS...]: one storm; its line goes to OUT.
storm() {
  local out=$1
  shift
  "$fork_storm" --duration-ms "$storm_ms" "$@" >"$out"
}
field() { awk -v key="$1" '{for (i = 1; i < NF; ++i) if ($i == key) print $(i + 1)}' "$2"; }
# ms_per_kfork NS_BEFORE NS_AFTER STORM_OUT
ms_per_kfork() {
  awk -v a="$1" -v b="$2" -v n="$(field forks "$3")" \
    'BEGIN {printf "%.2f\n", (b - a) / 1e6 / (n / 1000)}'
}

if section storm; then
  say "4. fork+exit storm: $runs runs of $storm_ms ms per case"
  # The storms without tokenfs need it gone; it is started afresh (no
  # tokens, a new store) for the storms with it.
  stop_tokenfs
  storm "$work/storm.warm-up" --duration-ms 500  # page in, untimed
  for run in $(seq "$runs"); do
    storm "$work/storm.none.$run"
    "$fork_storm" --listen >"$work/listener.out" 2>&1 &
    listener_pid=$!
    for _ in $(seq 100); do
      grep -q '^ready' "$work/listener.out" && break
      kill -0 "$listener_pid" 2>/dev/null || die "listener failed: $(cat "$work/listener.out")"
      sleep 0.05
    done
    before=$(cpu_ns "$listener_pid")
    storm "$work/storm.listener.$run"
    after=$(cpu_ns "$listener_pid")
    kill -TERM "$listener_pid"
    wait "$listener_pid" || true
    listener_pid=""
    ms_per_kfork "$before" "$after" "$work/storm.listener.$run" >"$work/cpu.listener.$run"
    # Every process on the machine reports to the proc connector: messages
    # (events) per storm fork above 2 (fork, exit) are other processes'.
    awk -v m="$(field messages "$work/listener.out")" \
      -v n="$(field forks "$work/storm.listener.$run")" \
      'BEGIN {printf "%.2f\n", m / n}' >"$work/events.listener.$run"

    start_tokenfs
    sleep 0.5
    for case in unknown known; do
      read_option=()
      [[ $case == known ]] && read_option=(--read "$tokens_dir/self/privs")
      events_before=$(registry_value events_applied)
      before=$(cpu_ns "$tokenfs_pid")
      storm "$work/storm.$case.$run" "${read_option[@]}"
      after=$(cpu_ns "$tokenfs_pid")
      events_after=$(registry_value events_applied)
      ms_per_kfork "$before" "$after" "$work/storm.$case.$run" >"$work/cpu.$case.$run"
      awk -v a="$events_before" -v b="$events_after" \
        -v n="$(field forks "$work/storm.$case.$run")" \
        'BEGIN {printf "%.2f\n", (b - a) / n}' >"$work/events.$case.$run"
    done
    stop_tokenfs
    printf 'run %d: forks/s without %s, listener %s (%s ms/1000), tokenfs unknown parent %s (%s ms/1000), known parent %s (%s ms/1000)\n' \
      "$run" "$(field rate "$work/storm.none.$run")" \
      "$(field rate "$work/storm.listener.$run")" "$(cat "$work/cpu.listener.$run")" \
      "$(field rate "$work/storm.unknown.$run")" "$(cat "$work/cpu.unknown.$run")" \
      "$(field rate "$work/storm.known.$run")" "$(cat "$work/cpu.known.$run")"
  done
fi

# ---------------------------------------------------------------------------
# Summary.

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
# tsv_median GLOB TARGET COLUMN: median over the runs' files
tsv_median() {
  # shellcheck disable=SC2086
  cat $1 2>/dev/null | awk -F'\t' -v t="$2" -v c="$3" '$1 == t {print $c}' | median
}
# ratio_median GLOB A B COLUMN: median over the runs of A/B
ratio_median() {
  local file
  # shellcheck disable=SC2086
  for file in $1; do
    [[ -f $file ]] || continue
    awk -F'\t' -v a="$2" -v b="$3" -v c="$4" \
      '$1 == a {x = $c} $1 == b {y = $c} END {if (y > 0) printf "%.2f\n", x / y}' "$file"
  done | median
}
row() {  # row FIGURE VALUE BASELINE RATIO GOAL: GOAL is "<= X", ">= X" or "-"
  local verdict="-"
  if [[ $5 != "-" && $4 != nan ]]; then
    verdict=$(awk -v r="$4" -v op="${5%% *}" -v x="${5##* }" \
      'BEGIN {ok = (op == "<=") ? r <= x : r >= x; print ok ? "PASS" : "FAIL"}')
  fi
  printf '  %-46s %12s %12s %7s %7s  %s\n' "$1" "$2" "$3" "$4" "$5" "$verdict"
}

say "summary ($(uname -r), $cpus CPUs, libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?'); load average $load_start at start, $load_end at end)"
echo "tokenfs: $tokenfs_bin ${tokenfs_args[*]}"
printf '  %-46s %12s %12s %7s %7s  %s\n' figure tokenfs baseline ratio goal verdict
if section read; then
  for placement in unpinned pinned; do
    for temperature in warm cold; do
      glob="$work/read.$placement.$temperature.*.tsv"
      goal_privs="-" goal_all="-"
      if [[ $temperature == warm ]]; then goal_privs="<= 0.7" goal_all="<= 1.0"; fi
      row "read privs/hello_ll, $placement, $temperature (µs)" \
        "$(tsv_median "$glob" tokenfs 4)" "$(tsv_median "$glob" hello_ll 4)" \
        "$(ratio_median "$glob" tokenfs hello_ll 4)" "$goal_privs"
      row "read query/all/hello_big, $placement, $temperature" \
        "$(tsv_median "$glob" all 4)" "$(tsv_median "$glob" hello_big 4)" \
        "$(ratio_median "$glob" all hello_big 4)" "$goal_all"
    done
  done
fi
if section readers; then
  glob="$work/readers.*.tsv"
  row "$readers readers: throughput (cycles/s)" \
    "$(tsv_median "$glob" tokenfs 12)" "$(tsv_median "$glob" hello_ll 12)" \
    "$(ratio_median "$glob" tokenfs hello_ll 12)" ">= 1.0"
  row "$readers readers: p99 (µs)" \
    "$(tsv_median "$glob" tokenfs 6)" "$(tsv_median "$glob" hello_ll 6)" \
    "$(ratio_median "$glob" tokenfs hello_ll 6)" "<= 1.2"
fi
if section storm; then
  none=$(for run in $(seq "$runs"); do field rate "$work/storm.none.$run"; done | median)
  for case in unknown known; do
    rates=$(for run in $(seq "$runs"); do
      awk -v a="$(field rate "$work/storm.$case.$run")" \
        -v b="$(field rate "$work/storm.none.$run")" 'BEGIN {printf "%.2f\n", a / b}'
    done)
    row "fork storm rate, $case parent (forks/s)" \
      "$(for run in $(seq "$runs"); do field rate "$work/storm.$case.$run"; done | median)" \
      "$none" "$(echo "$rates" | median)" ">= 0.9"
    cpu=$(cat "$work"/cpu."$case".* | median)
    row "daemon CPU per 1000 forks, $case parent (ms)" "$cpu" 6 \
      "$(awk -v c="$cpu" 'BEGIN {printf "%.2f", c / 6}')" "<= 1.0"
  done
  row "listener: storm rate (forks/s); CPU/1000 forks" \
    "$(for run in $(seq "$runs"); do field rate "$work/storm.listener.$run"; done | median)" \
    "$none" "$(cat "$work"/cpu.listener.* | median) ms" "-"
fi
if section rss; then
  row "VmRSS +$tokens processes (kB)" "$rss_processes" 40960 \
    "$(awk -v a="$rss_processes" 'BEGIN {printf "%.2f", a / 40960}')" "<= 1.0"
  row "VmRSS +$tokens objects (kB)" "$rss_objects" 40960 \
    "$(awk -v a="$rss_objects" 'BEGIN {printf "%.2f", a / 40960}')" "<= 1.0"
fi
echo "(ratios: median over the runs of each run's ratio; baselines: hello_ll, hello_big ($big_bytes bytes)"
echo " against query/all ($all_bytes bytes), the rate without tokenfs, 6 ms, 40 MiB)"

if section read; then
  echo
  echo "read cycle, µs: median / p99 (median over $runs runs); open/read/close medians"
  for placement in unpinned pinned; do
    for temperature in warm cold; do
      glob="$work/read.$placement.$temperature.*.tsv"
      for target in tokenfs all hello_ll hello_big procfs; do
        printf '  %-8s %-4s %-10s %9s / %9s   %s/%s/%s\n' "$placement" "$temperature" "$target" \
          "$(tsv_median "$glob" "$target" 4)" "$(tsv_median "$glob" "$target" 6)" \
          "$(tsv_median "$glob" "$target" 9)" "$(tsv_median "$glob" "$target" 10)" \
          "$(tsv_median "$glob" "$target" 11)"
      done
    done
  done
  change=$(cat "$work/requests.privs.change")
  echo "tokenfs requests per cycle: privs warm $(cat "$work/requests.privs.warm")," \
    "query/all warm $(cat "$work/requests.all.warm");" \
    "cold (the change's own $change subtracted): privs" \
    "$(awk -v a="$(cat "$work/requests.privs.cold")" -v c="$change" 'BEGIN {printf "%.2f", a - c}'), query/all" \
    "$(awk -v a="$(cat "$work/requests.all.cold")" -v c="$change" 'BEGIN {printf "%.2f", a - c}')"
fi
if section readers; then
  echo "$readers readers, per run (cycles/s, p99 µs):"
  for file in "$work"/readers.*.tsv; do
    awk -F'\t' '{printf "  %s %s / %s", $1, $12, $6} END {print ""}' "$file"
  done
fi
if section storm; then
  echo "fork storms, forks/s per run: without $(cat "$work"/storm.none.* | awk '{printf "%s ", $6}')"
  for case in listener unknown known; do
    echo "  $case: $(cat "$work"/storm."$case".* | awk '{printf "%s ", $6}')" \
      "(CPU ms/1000 forks: $(cat "$work"/cpu."$case".* | tr '\n' ' ');" \
      "events per storm fork: $(cat "$work"/events."$case".* | tr '\n' ' '))"
  done
fi
if section rss; then
  echo "VmRSS: start $rss_start kB; +$tokens processes $rss_processes kB; before objects $rss_objects_start kB, +$tokens objects $rss_objects kB"
fi
