#!/usr/bin/env python3
"""Directory identities: what a domain user's token costs (issue 16).

Provisions the test Samba AD DC (tests/directory/samba_dc.py), mounts
tokenfs with a 1-second directory cache, and measures, as a domain user and
as a local user:
  - read cycle: open + read + close of /tokens/self/groups, repeated in one
    process whose token is minted (a cache hit: the token exists);
  - first mint: wall time of `setpriv ... cat /tokens/self/user` (fork,
    setuid, exec, read, exit; the daemon mints at the setuid, and the read
    waits for that), with the directory cache expired (every mint asks
    winbind, the local uid too: winbind answers "not mapped") and with it
    warm; the difference is what asking the directory costs.
Prints medians and 90th percentiles in microseconds. Needs root, /dev/fuse
and Samba (scripts/deps.sh). docs/directory.md records the figures.

Usage: bench/directory_bench.py BUILD_DIR [READS] [MINTS]
"""

import ctypes
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "directory"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))

import samba_dc  # noqa: E402
from tokenfs_daemon import Mount, require_root  # noqa: E402

# Runs as the measured user: READS read cycles.
READER = r"""
import json, os, sys, time
path, reads = sys.argv[1], int(sys.argv[2])
samples = []
groups = os.path.join(path, "self", "groups")
with open(groups) as f:
    f.read()                           # minted before the clock starts
for _ in range(reads):
    started = time.perf_counter_ns()
    with open(groups) as f:
        f.read()
    samples.append(time.perf_counter_ns() - started)
print(json.dumps(samples))
"""


def run_as(uid, gids, mount, reads):
    done = subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={gids[0]}",
         "--groups=" + ",".join(map(str, gids)), "--",
         sys.executable, "-c", READER, mount.path, str(reads)],
        capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout)


class WbcSid(ctypes.Structure):
    _fields_ = [("rev", ctypes.c_uint8), ("num_auths", ctypes.c_uint8),
                ("id_auth", ctypes.c_uint8 * 6),
                ("sub_auths", ctypes.c_uint32 * 15)]


def directory_lookup_ns(uid, samples):
    """ns for the libwbclient calls a cold directory lookup makes
    (WinbindDirectory::LookupUser: wbcUidToSid, wbcLookupUserSids,
    wbcLookupSids), called from here through ctypes."""
    wbc = ctypes.CDLL("libwbclient.so.0")
    out = []
    for _ in range(samples):
        sid = WbcSid()
        count = ctypes.c_uint32()
        groups = ctypes.POINTER(WbcSid)()
        domains, names = ctypes.c_void_p(), ctypes.c_void_p()
        domain_count = ctypes.c_int()
        started = time.perf_counter_ns()
        assert wbc.wbcUidToSid(ctypes.c_uint32(uid), ctypes.byref(sid)) == 0
        assert wbc.wbcLookupUserSids(ctypes.byref(sid), ctypes.c_bool(False),
                                     ctypes.byref(count),
                                     ctypes.byref(groups)) == 0
        everyone = (WbcSid * (count.value + 1))(sid, *groups[:count.value])
        assert wbc.wbcLookupSids(everyone, count.value + 1,
                                 ctypes.byref(domains),
                                 ctypes.byref(domain_count),
                                 ctypes.byref(names)) == 0
        out.append(time.perf_counter_ns() - started)
        for pointer in (groups, domains, names):
            wbc.wbcFreeMemory(pointer)
    return out


def spawn_read(uid, gids, mount):
    """ns from spawning `cat self/user` as uid to its exit."""
    started = time.perf_counter_ns()
    subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={gids[0]}",
         "--groups=" + ",".join(map(str, gids)), "--", "cat",
         mount.file("self", "user")],
        stdout=subprocess.DEVNULL, check=True, timeout=30)
    return time.perf_counter_ns() - started


def summary(samples_ns):
    micro = sorted(sample / 1000 for sample in samples_ns)
    p90 = micro[min(len(micro) - 1, int(len(micro) * 0.9))]
    return f"median {statistics.median(micro):8.1f} us  p90 {p90:8.1f} us" \
           f"  (n={len(micro)})"


def main():
    build = sys.argv[1]
    reads = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    mints = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    require_root("runs a domain controller and processes as its users")
    if samba_dc.winbind_answers():
        sys.exit("a winbindd already answers on this host")
    with samba_dc.SambaDC(prefix="tkdcbench.") as dc:
        dc.add_user("alice")
        dc.add_group("inner")
        dc.add_group("readers", scope="Domain")
        dc.add_members("inner", "alice")
        dc.add_members("readers", "inner")
        domain_user = dc.credentials("alice")
        local_user = (4242, [4242, 100])
        policy = os.path.join(dc.work, "policy.json")
        with open(policy, "w") as out:
            out.write('{"directory": {"cache_seconds": 1}}\n')
        tokenfs = os.path.join(build, "tokenfs", "tokenfs")
        with Mount(tokenfs, "--policy", policy,
                   prefix="tkdirbench.") as mount:
            print(f"read cycle of self/groups, {reads} reads, cache hit:")
            for name, user in (("domain", domain_user),
                               ("local", local_user)):
                print(f"  {name:6}  {summary(run_as(*user, mount, reads))}")
            print(f"first mint: setpriv + cat self/user, wall time, "
                  f"{mints} samples each:")
            for name, user in (("domain", domain_user),
                               ("local", local_user)):
                cold, warm = [], []
                for _ in range(mints):
                    time.sleep(1.1)  # the 1 s cache expires
                    cold.append(spawn_read(*user, mount))
                    warm.append(spawn_read(*user, mount))
                print(f"  {name:6} cold cache  {summary(cold)}")
                print(f"  {name:6} warm cache  {summary(warm)}")
        print("a cold directory lookup (the three libwbclient calls), "
              f"{reads // 100} samples:")
        print(f"  domain  {summary(directory_lookup_ns(domain_user[0], reads // 100))}")

if __name__ == "__main__":
    main()
