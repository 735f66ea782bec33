#!/usr/bin/env python3
"""rss_bench.py: the daemon's memory under what one user can do, and with
10,000 tokens (docs/benchmarks.md has the figures and how to read them).

Each scenario runs against a fresh daemon (`tokenfs -f MOUNTPOINT` on a
temporary mount point) whose VmRSS is sampled from /proc/<pid>/status every
SAMPLE seconds; the peak, the final value and a few samples are printed.

  a. One unprivileged user, created for the run (useradd; userdel at the
     end), toggles a privilege of its own token through one long-lived
     writer of <tokens>/self/privs (SeChangeNotify disabled, then enabled:
     every write publishes a new token snapshot) for --seconds. After every
     toggle it reads <tokens>/self/query/all (the largest file), and in the
     second half also every other readable file of its token directory.
     The final RSS is taken after the loop has stopped and the daemon has
     been idle for a moment.
  b. --tokens token objects, made by root writing to <tokens>/self/duplicate
     (each a copy of root's own SYSTEM token, the largest the default policy
     mints; the daemon runs with a --quota above that), then every readable
     file of every object read once.

Needs root (mounts, useradd, switching to the user) and /dev/fuse.
Everything it starts is removed on exit, also on failure or Ctrl-C.

Usage: sudo bench/rss_bench.py [-b BUILD_DIR | --tokenfs BIN] [options]
"""

import argparse
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
import tokenfs_daemon  # noqa: E402

# Readable files of a token directory, relative to it. Transaction files
# (access, duplicate, restrict) are left out: reading one without writing
# renders nothing.
TEXT_FILES = ["user", "owner", "group", "groups", "privs", "caps", "claims",
              "integrity", "logon", "source", "origin", "stats", "type",
              "level", "elevation", "session", "restricted", "default-dacl",
              "security", "all", "impersonate"]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Sampler:
    """Samples a process's VmRSS every `interval` seconds in a thread."""

    def __init__(self, pid, interval):
        self.pid = pid
        self.interval = interval
        self.samples = []  # (seconds since start, kB)
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self):
        value = rss_kb(self.pid)
        self.samples.append((time.monotonic() - self.started, value))
        return value

    def peak(self):
        return max(kb for _, kb in self.samples)

    def series(self, points=8):
        """A few evenly spaced samples, as 't=..s kB' strings."""
        step = max(1, len(self.samples) // points)
        picked = self.samples[::step]
        return ", ".join(f"{t:.0f}s {kb}" for t, kb in picked)


def read_file(path):
    """Reads `path` to end of file; returns its length, or -1 on error."""
    try:
        with open(path, "rb", buffering=0) as handle:
            total = 0
            while True:
                chunk = handle.read(65536)
                if not chunk:
                    return total
                total += len(chunk)
    except OSError:
        return -1


def token_files(directory):
    """Every readable file of a token directory (query/* included)."""
    files = [os.path.join(directory, name) for name in TEXT_FILES]
    query = os.path.join(directory, "query")
    files += [os.path.join(query, name) for name in sorted(os.listdir(query))]
    return files


# ---------------------------------------------------------------------------
# Scenario a: the worker runs as the unprivileged user.

def worker(mount_path, seconds):
    """Toggles SeChangeNotify and reads files, until `seconds` pass: for the
    first half only query/all after every toggle, then every file after
    every toggle. Prints one line of counts."""
    self_dir = os.path.realpath(os.path.join(mount_path, "self"))
    files = token_files(self_dir)
    query_all = os.path.join(self_dir, "query", "all")
    others = [path for path in files if path != query_all]
    with open(os.path.join(self_dir, "user")) as user:
        who = " ".join(user.read().split())
    writer = os.open(os.path.join(self_dir, "privs"), os.O_WRONLY)
    commands = [b"SeChangeNotify=disabled\n", b"SeChangeNotify=enabled\n"]
    toggles = reads = failed = query_bytes = 0
    started = time.monotonic()
    halfway = started + seconds / 2
    deadline = started + seconds
    first_half_toggles = None
    while (now := time.monotonic()) < deadline:
        os.write(writer, commands[toggles % 2])
        toggles += 1
        size = read_file(query_all)
        query_bytes = max(query_bytes, size)
        reads += 1
        failed += size < 0
        if now < halfway:
            continue
        if first_half_toggles is None:
            first_half_toggles = toggles - 1
        for path in others:
            reads += 1
            failed += read_file(path) < 0
    os.close(writer)
    print(f"worker: {who}; {toggles} toggles = token versions "
          f"({first_half_toggles} with query/all only, then every file), "
          f"{reads} file reads ({failed} failed), query/all {query_bytes} "
          f"bytes, {len(files)} files", flush=True)


def scenario_one_user(binary, seconds, interval, daemon_args):
    # The user must be able to run it: not an interpreter under /root.
    python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if python is None:
        raise RuntimeError("no python3 in /usr/local/bin, /usr/bin or /bin")
    name = f"tkrss{os.getpid()}"
    subprocess.run(["useradd", "--no-create-home", "--shell",
                    "/usr/sbin/nologin", "--no-user-group", name], check=True)
    try:
        account = pwd.getpwnam(name)
        with tokenfs_daemon.Mount(binary, *daemon_args,
                                  prefix="tkrss.") as mount:
            pid = mount.process.pid
            start = rss_kb(pid)
            with Sampler(pid, interval) as sampler:
                sampler.sample()
                result = subprocess.run(
                    [python, os.path.abspath(__file__), "--worker",
                     mount.path, str(seconds)],
                    user=account.pw_uid, group=account.pw_gid,
                    extra_groups=[], cwd="/", capture_output=True, text=True,
                    check=False)
                after_loop = sampler.sample()
                time.sleep(2)  # idle: nothing may shrink while it works
                final = sampler.sample()
            if result.returncode != 0:
                raise RuntimeError(f"worker failed ({result.returncode}):\n"
                                   f"{result.stdout}{result.stderr}")
            print(result.stdout.strip())
            print(f"daemon VmRSS: start {start} kB, peak {sampler.peak()} kB,"
                  f" at the end of the loop {after_loop} kB, final (2 s "
                  f"idle) {final} kB")
            print(f"  samples (s kB): {sampler.series()}")
            return start, sampler.peak(), final
    finally:
        subprocess.run(["userdel", name], check=False)


# ---------------------------------------------------------------------------
# Scenario b: many tokens.

def scenario_many_tokens(binary, tokens, interval, daemon_args):
    args = ["--quota", str(tokens + 1024), *daemon_args]
    with tokenfs_daemon.Mount(binary, *args, prefix="tkrss.") as mount:
        pid = mount.process.pid
        start = rss_kb(pid)
        with Sampler(pid, interval) as sampler:
            began = time.monotonic()
            duplicate = mount.file("self", "duplicate")
            for _ in range(tokens):
                with open(duplicate, "w") as handle:
                    handle.write("\n")
            made = time.monotonic() - began
            ids = [name for name in os.listdir(mount.file("objects"))]
            after_create = sampler.sample()
            began = time.monotonic()
            reads = failed = 0
            files = None
            for object_id in ids:
                directory = mount.file("objects", object_id)
                if files is None:  # objects have no impersonate file
                    files = [os.path.relpath(path, directory)
                             for path in token_files(directory)
                             if os.path.exists(path)]
                for relative in files:
                    reads += 1
                    failed += read_file(os.path.join(directory,
                                                     relative)) < 0
            read_seconds = time.monotonic() - began
            after_reads = sampler.sample()
            time.sleep(2)
            final = sampler.sample()
        print(f"{len(ids)} token objects made in {made:.1f} s "
              f"(registry objects {mount.registry().get('objects')}); "
              f"{reads} file reads ({failed} failed, "
              f"{len(files or [])} per token) in {read_seconds:.1f} s")
        print(f"daemon VmRSS: start {start} kB, after the objects were made "
              f"{after_create} kB, after every file was read {after_reads} "
              f"kB, peak {sampler.peak()} kB, final (2 s idle) {final} kB")
        print(f"  samples (s kB): {sampler.series()}")
        return start, sampler.peak(), final


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], float(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description="Daemon VmRSS under one user's privilege-toggling loop "
                    "and with many tokens.")
    parser.add_argument("-b", "--build-dir", default=os.path.join(REPO,
                                                                  "build"))
    parser.add_argument("--tokenfs", help="daemon binary (default: "
                        "BUILD_DIR/tokenfs/tokenfs)")
    parser.add_argument("--tokenfs-arg", action="append", default=[],
                        help="pass ARG to tokenfs (repeatable)")
    parser.add_argument("-s", "--seconds", type=float, default=20,
                        help="length of the one-user loop (20)")
    parser.add_argument("-t", "--tokens", type=int, default=10000,
                        help="token objects for scenario b (10000)")
    parser.add_argument("--sample", type=float, default=0.1,
                        help="seconds between VmRSS samples (0.1)")
    parser.add_argument("--scenario", choices=["a", "b", "both"],
                        default="both")
    parser.add_argument("--limit-mib", type=float, default=64,
                        help="report whether every peak stays under this "
                             "(64)")
    options = parser.parse_args()
    binary = options.tokenfs or os.path.join(options.build_dir, "tokenfs",
                                             "tokenfs")
    tokenfs_daemon.require_root("rss_bench.py needs root (mounts, useradd)")
    if not os.access(binary, os.X_OK):
        sys.exit(f"rss_bench.py: no daemon binary {binary} (build the "
                 "tokenfs target or pass --tokenfs)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"tokenfs {binary} {' '.join(options.tokenfs_arg)}; "
          f"{os.uname().release}, {os.cpu_count()} CPUs")
    peaks = {}
    if options.scenario in ("a", "both"):
        print(f"\n== a. one user toggles SeChangeNotify and reads its files"
              f" for {options.seconds:g} s")
        _, peaks["a"], _ = scenario_one_user(
            binary, options.seconds, options.sample, options.tokenfs_arg)
    if options.scenario in ("b", "both"):
        print(f"\n== b. {options.tokens} token objects, every file read once")
        _, peaks["b"], _ = scenario_many_tokens(
            binary, options.tokens, options.sample, options.tokenfs_arg)
    limit_kb = options.limit_mib * 1024
    print()
    for scenario, peak in peaks.items():
        verdict = "under" if peak < limit_kb else "OVER"
        print(f"scenario {scenario}: peak VmRSS {peak} kB = "
              f"{peak / 1024:.1f} MiB, {verdict} {options.limit_mib:g} MiB")
    sys.exit(0 if all(peak < limit_kb for peak in peaks.values()) else 1)


if __name__ == "__main__":
    main()
