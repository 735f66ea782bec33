"""Token files served from the kernel's page cache are never stale (issue 13).

Token and query files opened read-only are page-cached (tokenfs(5),
FILE SEMANTICS). After any change to a token acknowledged to its writer, a read
that starts later must show the change, and `stat` must give the exact
size of what a read returns. Checked for every way a token changes between
two reads: adjustments of privs, groups, default-dacl, owner and integrity,
impersonation and revert on a thread, a re-mint at exec, an install, a
revoke, and a reused pid (in a pid namespace of its own). A stress run has
writer threads change a token while reader threads open, read and close its
files, and checks that no read started after a write was acknowledged
shows an older version, and that no multi-page read mixes versions. The
registry's request counter shows the round trips of a read cycle: one
(OPEN) when warm, OPEN, GETATTR and READ after a change.

Usage (as root): page_cache.py TOKENFS_BINARY FD_HANDOFF_BINARY
"""

import errno
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mountlib import Checks, Mount, field, require_root, txn  # noqa: E402

STRESS_SECONDS = 6.0


def cached(path):
    """A read-only open, read and close: what the page cache serves."""
    with open(path, "rb") as f:
        return f.read()


def fresh(path):
    """The file's content through a read-write open (always direct I/O,
    rendered at the open), or None when the file is not writable."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return None
    try:
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def write(path, text):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def warm(path):
    """Reads a file twice, so its pages and size are cached."""
    cached(path)
    return cached(path)


def agrees(checks, what, path, expect=None):
    """A read after a change: equal to a direct read (when the file can be
    opened read-write), containing `expect`, and sized as `stat` says."""
    content = cached(path)
    again = cached(path)
    size = os.stat(path).st_size
    ok = content == again and size == len(content)
    truth = fresh(path)
    if truth is not None:
        ok = ok and truth == content
    if expect is not None:
        ok = ok and re.search(expect, content.decode(errors="replace"))
    return checks.ok(ok, what, f"read {content[:200]!r} (size {size}), "
                     f"direct {truth[:200] if truth else None!r}")


def single_steps(checks, mount):
    m = mount.path
    sleeper = subprocess.Popen(["sleep", "60"])
    me = os.getpid()
    try:
        time.sleep(0.1)
        p = mount.file(sleeper.pid)
        for name in ("privs", "groups", "default-dacl", "owner", "integrity",
                     "query/all", "query/privileges"):
            warm(f"{p}/{name}")
        # privs: a change of length, and one of the same length (the size
        # alone would not drop the pages).
        before = warm(f"{p}/privs")
        write(f"{p}/privs", "SeChangeNotify=disabled")
        agrees(checks, "privs shows a disable at once", f"{p}/privs",
               r"(?m)^SeChangeNotify  disabled")
        agrees(checks, "... and query/privileges too",
               f"{p}/query/privileges")
        agrees(checks, "... and query/all (several pages) too",
               f"{p}/query/all")
        write(f"{p}/privs", "SeChangeNotify=enabled SeShutdown=disabled")
        warm(f"{p}/privs")
        write(f"{p}/privs", "SeChangeNotify=disabled SeShutdown=enabled")
        after = cached(f"{p}/privs")
        checks.ok(b"SeChangeNotify  disabled" in after and
                  b"SeShutdown  enabled" in after,
                  "a same-size change of privs is seen at once",
                  after[:300])
        checks.ok(after != before, "... and differs from the first read")
        # The shell's `>` truncates; a command that changes nothing leaves
        # the content (and its size) as it was.
        subprocess.run(["sh", "-c", f"echo SeShutdown=enabled > {p}/privs"],
                       check=True)
        agrees(checks, "a truncating write that changes nothing leaves the "
               "content whole", f"{p}/privs", r"(?m)^SeShutdown  enabled")
        checks.equal("... the same as before it", after, cached(f"{p}/privs"))
        # groups: disable one group that may be disabled, if any.
        groups = warm(f"{p}/groups").decode()
        code = 0
        try:
            write(f"{p}/groups", "reset")
        except OSError as error:
            code = error.errno
        checks.equal("groups can be reset", 0, code)
        agrees(checks, "groups after a reset", f"{p}/groups")
        del groups
        # default-dacl: two values of the same length.
        for sddl in ("D:(A;;GA;;;SY)(A;;GR;;;WD)", "D:(A;;GR;;;SY)(A;;GA;;;WD)"):
            warm(f"{p}/default-dacl")
            write(f"{p}/default-dacl", sddl)
            agrees(checks, f"default-dacl shows {sddl} at once",
                   f"{p}/default-dacl", re.escape(sddl))
        agrees(checks, "... and query/all too", f"{p}/query/all",
               re.escape("D:(A;;GR;;;SY)(A;;GA;;;WD)"))
        # owner: the user, then back to the first owner.
        first_owner = warm(f"{p}/owner").decode().split()[0]
        write(f"{p}/owner", "0")
        agrees(checks, "owner shows the user after `echo 0 > owner`",
               f"{p}/owner")
        write(f"{p}/owner", first_owner)
        agrees(checks, "... and the first owner again", f"{p}/owner",
               re.escape(first_owner))
        # integrity: lowered.
        warm(f"{p}/integrity")
        write(f"{p}/integrity", "low")
        agrees(checks, "integrity shows Low at once", f"{p}/integrity",
               r"^Low ")

        # Impersonation on a thread, and revert.
        thread = mount.file(me, me)
        code, result = txn(mount.file(me, "duplicate"), "type=impersonation")
        checks.equal("root duplicates its token for impersonation", 0, code)
        ident = int(field(result, "id"))
        write(mount.file("objects", ident, "privs"), "SeShutdown=removed")
        mine = warm(f"{thread}/privs")
        code, _ = txn(f"{thread}/impersonate", f"id:{ident}")
        checks.equal("the thread impersonates it", 0, code)
        shown = cached(f"{thread}/privs")
        checks.ok(b"SeShutdown" not in shown and
                  os.stat(f"{thread}/privs").st_size == len(shown),
                  "the thread's privs show the impersonation at once",
                  shown[:300])
        code, _ = txn(f"{thread}/impersonate", "revert")
        checks.equal("... and reverts", 0, code)
        checks.equal("... after which they show its own token again", mine,
                     cached(f"{thread}/privs"))

        # Revoke: an object's file must not be served from cached pages.
        code, result = txn(mount.file(me, "duplicate"), "type=primary persist")
        checks.equal("root duplicates its token as an object", 0, code)
        directory = mount.file("objects", int(field(result, "id")))
        warm(f"{directory}/privs")
        os.rmdir(directory)
        checks.errno("a revoked object's privs cannot be read", errno.ENOENT,
                     lambda: cached(f"{directory}/privs"))

        # Install: a duplicate without SeDebug becomes the sleeper's token.
        code, result = txn(mount.file(me, "duplicate"), "type=primary")
        checks.equal("root duplicates a token to install", 0, code)
        object_id = int(field(result, "id"))
        write(mount.file("objects", object_id, "privs"), "SeDebug=removed")
        warm(f"{p}/privs")
        code, result = txn(f"{p}/install", f"id:{object_id}")
        checks.equal("root installs it", 0, code, )
        agrees(checks, "privs show the installed token at once", f"{p}/privs")
        checks.ok(b"SeDebug" not in cached(f"{p}/privs"),
                  "... without SeDebug")
    finally:
        sleeper.kill()
        sleeper.wait()

    # Exec re-mint: root becomes nobody.
    child = subprocess.Popen(
        ["sh", "-c", "read line; exec setpriv --reuid=65534 --regid=65534 "
         "--clear-groups sleep 30"], stdin=subprocess.PIPE)
    try:
        time.sleep(0.2)
        user = mount.file(child.pid, "user")
        checks.ok(warm(user).startswith(b"S-1-5-18"),
                  "a root process's user is Local System")
        child.stdin.write(b"go\n")
        child.stdin.flush()
        deadline = time.monotonic() + 5
        while (time.monotonic() < deadline and
               os.readlink(f"/proc/{child.pid}/exe").endswith("sh")):
            time.sleep(0.01)
        time.sleep(0.05)
        agrees(checks, "after exec under another uid the user is re-minted "
               "at once", user, r"^S-1-22-1-65534")
    finally:
        child.kill()
        child.wait()
    del m


def stress(checks, mount):
    """Writers change the default DACL to unique values; readers check
    that no read shows a value superseded before it started."""
    sleeper = subprocess.Popen(["sleep", "60"])
    time.sleep(0.1)
    p = mount.file(sleeper.pid)
    writes = {}  # n -> (start, ack)
    lock = threading.Lock()
    stop = threading.Event()
    counter = [0]
    failures = []
    reads = [0]

    def sddl(n):
        return f"D:(A;;GA;;;SY)(A;;GR;;;S-1-5-21-1-2-3-{n})"

    def writer():
        while not stop.is_set():
            with lock:
                counter[0] += 1
                n = counter[0]
                start = time.monotonic_ns()
            write(f"{p}/default-dacl", sddl(n))
            ack = time.monotonic_ns()
            with lock:
                writes[n] = (start, ack)

    def reader(name):
        pattern = re.compile(rb"S-1-5-21-1-2-3-(\d+)")
        while not stop.is_set():
            begun = time.monotonic_ns()
            content = cached(f"{p}/{name}")
            seen = pattern.findall(content)
            if name == "query/all":
                try:
                    json.loads(content)
                except ValueError as error:
                    failures.append(f"{name}: not one JSON document "
                                    f"({error})")
                    continue
            if len(set(seen)) > 1:
                failures.append(f"{name}: versions mixed in one read: {seen}")
                continue
            with lock:
                reads[0] += 1
                pending = (begun, int(seen[0]) if seen else 0, name)
                checked.append(pending)

    checked = []
    write(f"{p}/default-dacl", sddl(0))
    writes[0] = (0, time.monotonic_ns())
    threads = [threading.Thread(target=writer) for _ in range(2)]
    threads += [threading.Thread(target=reader, args=(name,))
                for name in ("default-dacl", "default-dacl", "query/all",
                             "query/all")]
    for thread in threads:
        thread.start()
    time.sleep(STRESS_SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    sleeper.kill()
    sleeper.wait()
    # A read that began at `begun` showing write n is stale iff some write
    # started after n was acknowledged and was acknowledged before `begun`.
    stale = 0
    acks = sorted((ack, start) for start, ack in writes.values())
    for begun, n, name in checked:
        if n not in writes:
            failures.append(f"{name}: shows a value never written ({n})")
            continue
        n_ack = writes[n][1]
        for ack, start in acks:
            if ack >= begun:
                break
            if start > n_ack:
                stale += 1
                if stale <= 5:
                    failures.append(f"{name}: read begun at {begun} shows "
                                    f"write {n}, superseded by a write "
                                    f"acknowledged at {ack}")
                break
    checks.ok(len(writes) > 50 and reads[0] > 200,
              f"the stress run made {len(writes)} writes and {reads[0]} reads")
    checks.ok(not failures, "no read showed a superseded or mixed version "
              f"({stale} stale)", "; ".join(failures[:5]))


def round_trips(checks, mount):
    """Requests per open+read+close of privs, from the registry counter."""
    sleeper = subprocess.Popen(["sleep", "60"])
    time.sleep(0.1)
    privs = mount.file(sleeper.pid, "privs")

    def requests():
        return int(mount.registry()["requests"])

    def count(action, times):
        # What reading the counter itself costs, measured beside it.
        a = requests()
        b = requests()
        overhead = b - a
        for _ in range(times):
            action()
        c = requests()
        return (c - b - overhead) / times

    try:
        warm(privs)
        best = min(count(lambda: cached(privs), 20) for _ in range(3))
        checks.ok(best <= 1.0, f"a warm read cycle costs {best:.2f} requests "
                  "(OPEN only)")
        state = ["enabled"]

        def changed_then_read():
            state[0] = "disabled" if state[0] == "enabled" else "enabled"
            write(privs, f"SeChangeNotify={state[0]}")
            before = requests()
            cached(privs)
            cold_counts.append(requests() - before)

        cold_counts = []
        for _ in range(10):
            changed_then_read()
        # Each sample also counts one read of the registry file.
        registry_cost = min(-requests() + requests() for _ in range(3))
        cold = sorted(c - registry_cost
                      for c in cold_counts)[len(cold_counts) // 2]
        checks.ok(cold <= 3, f"a read cycle after a change costs {cold} "
                  "requests (OPEN, GETATTR, READ)")
    finally:
        sleeper.kill()
        sleeper.wait()


def pid_reuse_inside(daemon):
    """In a private pid namespace: a new process on a reused pid shows its
    own token, not the cached text of the previous one."""
    checks = Checks()
    with Mount(daemon) as mount:
        a = subprocess.Popen(["sleep", "60"])
        write(mount.file(a.pid, "privs"), "SeChangeNotify=disabled")
        old = warm(mount.file(a.pid, "privs"))
        warm(mount.file(a.pid, "query/all"))
        checks.ok(b"SeChangeNotify  disabled" in old, "A's token is adjusted")
        pid = a.pid
        a.kill()
        a.wait()
        b = None
        for _ in range(50):
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(pid - 1))
            candidate = subprocess.Popen(["sleep", "60"])
            if candidate.pid == pid:
                b = candidate
                break
            candidate.kill()
            candidate.wait()
        if b is None:
            checks.ok(False, f"start a process on A's pid {pid}")
            checks.finish(mount)
        try:
            agrees(checks, "B on A's reused pid shows its own fresh privs",
                   mount.file(pid, "privs"), r"(?m)^SeChangeNotify  enabled")
            agrees(checks, "... and query/all too", mount.file(pid, "query/all"))
        finally:
            b.kill()
            b.wait()
        checks.finish(mount)


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "--pid-reuse-inside":
        pid_reuse_inside(sys.argv[1])
        return
    require_root()
    daemon = sys.argv[1]
    checks = Checks()
    with Mount(daemon) as mount:
        single_steps(checks, mount)
        round_trips(checks, mount)
        stress(checks, mount)
        if checks.failures:
            checks.finish(mount)
    inside = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", sys.executable,
         os.path.abspath(__file__), daemon, "--pid-reuse-inside"],
        capture_output=True, text=True, timeout=60)
    print(inside.stdout, end="")
    checks.ok(inside.returncode == 0, "pid reuse in a pid namespace",
              inside.stderr[-2000:])
    checks.finish()


if __name__ == "__main__":
    main()
