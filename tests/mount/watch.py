"""Change notification, history and `token watch` on a real mount (issue 12).

A poller (select/poll on an open token file) wakes on an adjustment made by
another process, on a re-mint at exec, on a revoke of a token object (write
and rmdir), and not on reads; `token watch --count 3` prints the three
changes a script makes; `token history` names each change's actor (pid and
user SID); history survives a restart on the same --state; reading history
needs tokeninfo:history and watching another token tokeninfo:notify; inotify
sees a write through the watched file itself (IN_MODIFY), not a change the
daemon makes (an exec re-mint).

Usage (as root): watch.py TOKENFS_BINARY FD_HANDOFF_BINARY TOKEN_BINARY
"""

import ctypes
import errno
import json
import os
import pwd
import select
import struct
import subprocess
import sys
import tempfile
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mountlib import Checks, Mount, field, require_root, txn  # noqa: E402

USER = "tkwatch_a"
WAKE = 3.0  # seconds a poller may take to wake (generous: a shared CI box)
QUIET = 0.4  # seconds a poller must stay asleep


def wakes(fd, seconds):
    """select(2) for reading and exceptional conditions on `fd`."""
    readable, _, exceptional = select.select([fd], [], [fd], seconds)
    return bool(readable or exceptional)


def poll_events(fd, seconds):
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    events = poller.poll(seconds * 1000)
    return events[0][1] if events else 0


def as_user(argv, **kwargs):
    entry = pwd.getpwnam(USER)
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}",
            "--init-groups", "--", *argv]


def adjust_as_user(path, commands):
    """Writes each command to `path` from one process of USER; returns
    that process's pid."""
    code = textwrap.dedent('''
        import os, sys
        for command in sys.argv[2:]:
            fd = os.open(sys.argv[1], os.O_WRONLY)
            os.write(fd, command.encode())
            os.close(fd)
        print(os.getpid())
    ''')
    done = subprocess.run(as_user([sys.executable, "-c", code, path,
                                   *commands]),
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return int(done.stdout.strip())


IN_MODIFY = 0x2


def inotify_watch(path):
    """An inotify descriptor watching `path` for everything (nonblocking)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0 or libc.inotify_add_watch(fd, path.encode(), 0xfff) < 0:
        raise OSError(ctypes.get_errno(), "inotify")
    return fd


def inotify_masks(fd):
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return []
    masks = []
    while data:
        _, mask, _, length = struct.unpack_from("iIII", data)
        masks.append(mask)
        data = data[16 + length:]
    return masks


def history(m, directory):
    with open(os.path.join(directory, "history")) as f:
        return [json.loads(line) for line in f.read().splitlines()]


def main():
    require_root()
    daemon, _, token = sys.argv[1:4]
    checks = Checks()
    subprocess.run(["userdel", "-r", USER], capture_output=True)
    subprocess.run(["useradd", "--create-home", USER], check=True,
                   capture_output=True)
    uid = pwd.getpwnam(USER).pw_uid
    user_sid = f"S-1-22-1-{uid}"
    state = tempfile.mkdtemp(prefix="tkwatch.state.")
    sleeper = subprocess.Popen(as_user(["sleep", "300"]))
    try:
        with Mount(daemon, "--state", state) as mount:
            run(checks, mount, token, sleeper, user_sid)
        # Restart on the same store: the sleeper's history is still there.
        with Mount(daemon, "--state", state) as mount:
            events = history(mount.path, mount.file(sleeper.pid))
            adjusted = [e for e in events if e["event"] == "adjusted"]
            checks.ok(len(adjusted) >= 3,
                      "history survives a restart with --state",
                      json.dumps(events))
            checks.ok(all(e["actor_user"] == user_sid for e in adjusted),
                      "... with each actor's user SID")
            checks.finish(mount)
    finally:
        sleeper.kill()
        sleeper.wait()
        subprocess.run(["rm", "-rf", state])
        subprocess.run(["userdel", "-r", USER], capture_output=True)
    checks.finish()


def run(checks, mount, token, sleeper, user_sid):
    m = mount.path
    target = mount.file(sleeper.pid)
    # Wait until the daemon knows the sleeper under its user.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(f"{target}/user") as f:
            if user_sid in f.read():
                break
        time.sleep(0.05)

    # --- A poller wakes on an adjustment by another process ---
    fd = os.open(f"{target}/privs", os.O_RDONLY)
    watcher = inotify_watch(f"{target}/privs")
    checks.ok(not wakes(fd, QUIET), "a fresh open token file has no news")
    adjuster = adjust_as_user(f"{target}/privs", ["SeChangeNotify=disabled"])
    checks.ok(wakes(fd, WAKE), "select wakes on an adjustment by another "
              "process")
    events = poll_events(fd, 0)
    checks.ok(events & select.POLLPRI and events & select.POLLIN,
              "... and poll reports POLLPRI|POLLIN", events)
    os.close(fd)
    checks.ok(any(mask & IN_MODIFY for mask in inotify_masks(watcher)),
              "inotify reports IN_MODIFY for a write through that very file")
    os.close(watcher)

    # --- ... and not on reads ---
    fd = os.open(f"{target}/privs", os.O_RDONLY)
    for _ in range(20):
        for name in ("privs", "user", "groups", "query/all", "history"):
            with open(f"{target}/{name}") as f:
                f.read()
    subprocess.run([token, "show", "--pid", str(sleeper.pid)],
                   capture_output=True, env=dict(os.environ, TOKENFS_ROOT=m))
    checks.ok(not wakes(fd, QUIET), "reads of the token wake no poller")
    os.close(fd)

    # --- history names the actor ---
    events = history(m, target)
    last = events[-1]
    checks.ok(last["event"] == "adjusted" and last["file"] == "privs",
              "history ends with the adjustment", json.dumps(last))
    checks.equal("... made by the adjusting process", adjuster,
                 last["actor_pid"])
    checks.equal("... of the adjusting user", user_sid, last["actor_user"])
    checks.ok("SeChangeNotify" in last["before"] and
              last["before"] != last["after"],
              "... with the file's text before and after", json.dumps(last))

    # --- token watch --count 3 prints three changes made by a script ---
    watch = subprocess.Popen(
        [token, "watch", "--pid", str(sleeper.pid), "--count", "3", "--json",
         "--timeout", "20"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, TOKENFS_ROOT=m))
    time.sleep(0.5)  # let it read what is there and start polling
    script = adjust_as_user(f"{target}/privs",
                            ["SeChangeNotify=enabled",
                             "SeChangeNotify=disabled",
                             "SeChangeNotify=enabled"])
    out, err = watch.communicate(timeout=30)
    lines = [json.loads(line) for line in out.splitlines()]
    checks.equal("token watch --count 3 exits 0", 0, watch.returncode)
    checks.equal("... after printing three changes", 3, len(lines))
    checks.ok(all(e["event"] == "adjusted" and e["actor_pid"] == script and
                  e["actor_user"] == user_sid for e in lines),
              "... each the script's adjustment, with its actor", out + err)
    human = subprocess.run(
        [token, "history", "--pid", str(sleeper.pid)], capture_output=True,
        text=True, env=dict(os.environ, TOKENFS_ROOT=m))
    checks.ok(human.returncode == 0 and
              f"by pid {script} ({user_sid})" in human.stdout and
              "SeChangeNotify" in human.stdout,
              "token history shows the changes in human lines", human.stdout)

    # --- exec re-mint ---
    entry = pwd.getpwnam(USER)
    child = subprocess.Popen(
        ["sh", "-c", f"read line; exec setpriv --reuid={entry.pw_uid} "
         f"--regid={entry.pw_gid} --init-groups sleep 30"],
        stdin=subprocess.PIPE)
    try:
        time.sleep(0.2)
        fd = os.open(mount.file(child.pid, "user"), os.O_RDONLY)
        watcher = inotify_watch(mount.file(child.pid, "user"))
        checks.ok(not wakes(fd, QUIET), "a root process's user file is quiet")
        child.stdin.write(b"go\n")
        child.stdin.flush()
        checks.ok(wakes(fd, WAKE), "a poller wakes when exec re-mints the "
                  "process's token")
        os.close(fd)
        # inotify sees only what goes through the mount point (tokenfs(5),
        # NOTIFICATION): the daemon's change raises no IN_MODIFY.
        checks.ok(not any(mask & IN_MODIFY
                          for mask in inotify_masks(watcher)),
                  "inotify reports no IN_MODIFY for a daemon-side change")
        os.close(watcher)
        time.sleep(0.3)
        reminted = history(m, mount.file(child.pid))
        checks.ok(any(e["event"] == "reminted" for e in reminted),
                  "... and the new token's history says it was re-minted",
                  json.dumps(reminted))
    finally:
        child.kill()
        child.wait()

    # --- revoke of an object: through persist, and by rmdir ---
    for how in ("persist", "rmdir"):
        code, result = txn(mount.file(os.getpid(), "duplicate"),
                           "type=primary persist")
        checks.equal(f"root duplicates its token ({how})", 0, code)
        object_id = int(field(result, "id"))
        directory = mount.file("objects", object_id)
        fd = os.open(f"{directory}/privs", os.O_RDONLY)
        hfd = os.open(f"{directory}/history", os.O_RDONLY)
        checks.ok(not wakes(fd, QUIET), "an object's file is quiet")
        if how == "persist":
            code, _ = txn(f"{directory}/persist", "revoke")
            checks.equal("revoke through persist", 0, code)
        else:
            os.rmdir(directory)
        checks.ok(wakes(fd, WAKE), f"a poller wakes on a revoke ({how})")
        os.lseek(hfd, 0, os.SEEK_SET)
        last = json.loads(os.read(hfd, 1 << 20).decode().splitlines()[-1])
        checks.ok(last["event"] == "revoked" and
                  last["actor_pid"] == os.getpid(),
                  "... and its open history shows the revoke by this "
                  "process", json.dumps(last))
        os.close(fd)
        os.close(hfd)

    # --- the capability gates: tokeninfo:history, tokeninfo:notify ---
    me = mount.file(os.getpid())
    thread = mount.file(os.getpid(), os.getpid())
    for caps, may_read in (("tokeninfo:introspect", False),
                           ("tokeninfo:introspect,tokeninfo:history", True)):
        code, result = txn(f"{me}/restrict", f"caps={caps}")
        checks.equal(f"restrict to caps={caps}", 0, code)
        narrow = int(field(result, "id"))
        code, _ = txn(f"{thread}/impersonate", f"id:{narrow}")
        checks.equal("... and impersonate it", 0, code)
        try:
            try:
                with open(f"{me}/history") as f:
                    f.read()
                outcome = 0
            except OSError as error:
                outcome = error.errno
            if may_read:
                checks.equal(f"with {caps} history can be read", 0, outcome)
            else:
                checks.equal(f"with only {caps} history is refused (EACCES)",
                             errno.EACCES, outcome)
            # Watching another token (the sleeper's) needs tokeninfo:notify.
            fd = os.open(f"{target}/privs", os.O_RDONLY)
            events = poll_events(fd, 1)
            os.close(fd)
            checks.ok(events & select.POLLERR,
                      f"with {caps} watching another token is refused "
                      "(POLLERR)", events)
        finally:
            txn(f"{thread}/impersonate", "revert")
    code, result = txn(f"{me}/restrict",
                       "caps=tokeninfo:introspect,tokeninfo:notify")
    narrow = int(field(result, "id"))
    txn(f"{thread}/impersonate", f"id:{narrow}")
    try:
        fd = os.open(f"{target}/privs", os.O_RDONLY)
        events = poll_events(fd, 0.2)
        os.close(fd)
        checks.ok(not events & select.POLLERR,
                  "with tokeninfo:notify another token can be watched",
                  events)
    finally:
        txn(f"{thread}/impersonate", "revert")


if __name__ == "__main__":
    main()
