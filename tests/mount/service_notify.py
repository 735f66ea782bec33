"""tokenfs under systemd's Type=notify protocol (tokenfs.service).

The test plays systemd's part: it listens on a datagram socket named by
NOTIFY_SOCKET, starts the daemon the way the unit does (-f, a policy), and
checks that READY=1 arrives only when the tree already answers, that
SIGTERM sends STOPPING=1, unmounts and exits 0, and that after a kill -9
the next start clears the stale mount and is ready again.

Usage: service_notify.py TOKENFS [ignored helper paths...]
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from tokenfs_daemon import mounted, require_root  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
POLICY = os.path.join(HERE, "..", "..", "etc", "tokenfs", "policy.json")

failures = []


def check(condition, what, detail=""):
    print(("ok    " if condition else "FAIL  ") + what)
    if not condition:
        failures.append(what)
        if detail:
            print("      " + str(detail).replace("\n", "\n      "))


def messages(listener, until, timeout=10.0):
    """Datagrams received until one contains `until` (or the timeout)."""
    received = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listener.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            received.append(listener.recv(4096).decode())
        except socket.timeout:
            break
        if any(until in line.split("\n") for line in received[-1:]):
            break
    return received


def start(binary, mount_point, state, notify_path, log):
    return subprocess.Popen(
        [binary, "-f", "--policy", POLICY, "--state", state, mount_point],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        env=dict(os.environ, NOTIFY_SOCKET=notify_path))


def main():
    if len(sys.argv) < 2:
        print("usage: service_notify.py TOKENFS")
        return 2
    binary = sys.argv[1]
    require_root("the notify test mounts tokenfs: it needs root")
    work = tempfile.mkdtemp(prefix="tknotify.")
    mount_point = os.path.join(work, "tokens")
    state = os.path.join(work, "state")
    notify_path = os.path.join(work, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify_path)
    log = open(os.path.join(work, "daemon.log"), "wb")
    daemon = None
    try:
        daemon = start(binary, mount_point, state, notify_path, log)
        got = messages(listener, "READY=1")
        answered = os.path.exists(os.path.join(mount_point, "registry"))
        check(any("READY=1" in m.split("\n") for m in got),
              "READY=1 is sent once mounted", got)
        check(answered, "the tree answers when READY=1 arrives")
        check(any(f"STATUS=serving {mount_point}" in m.split("\n")
                  for m in got), "STATUS names the mount point", got)

        daemon.send_signal(signal.SIGTERM)
        got = messages(listener, "STOPPING=1")
        status = daemon.wait(timeout=10)
        check(any("STOPPING=1" in m.split("\n") for m in got),
              "SIGTERM sends STOPPING=1", got)
        check(status == 0, "SIGTERM: exit status 0", status)
        check(not mounted(mount_point), "SIGTERM unmounts the tree")

        daemon = start(binary, mount_point, state, notify_path, log)
        messages(listener, "READY=1")
        daemon.kill()
        daemon.wait()
        check(mounted(mount_point), "kill -9 leaves a stale mount behind")
        daemon = start(binary, mount_point, state, notify_path, log)
        got = messages(listener, "READY=1")
        check(any("READY=1" in m.split("\n") for m in got) and
              os.path.exists(os.path.join(mount_point, "registry")),
              "the next start clears the stale mount and is ready", got)
    finally:
        if daemon and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        if mounted(mount_point):
            subprocess.run(["fusermount3", "-u", "-z", mount_point],
                           check=False)
        log.close()
        if failures:
            with open(os.path.join(work, "daemon.log"),
                      errors="replace") as text:
                print("daemon log:\n" + text.read())
        listener.close()
        if not mounted(mount_point):
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
