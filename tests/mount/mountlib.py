"""Shared setup of the Python tokenfs mount tests (stdlib only).

Mount starts the daemon on a fresh mount point in a private temp directory
(its stderr in a log file), waits until the tree answers, and on exit stops
it with SIGTERM and unmounts whatever is left, so a failing test never
leaves a mount behind. Checks collects "ok"/"FAIL" lines and turns them
into the exit status; skip() exits 77 (ctest SKIP_RETURN_CODE).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77


def skip(reason):
    print(f"SKIP: {reason}")
    sys.exit(SKIP)


def require_root():
    """Skips unless the test can mount with allow_other and create users."""
    if os.geteuid() != 0:
        skip("mount tests need root (allow_other, useradd)")
    if not os.path.exists("/dev/fuse"):
        skip("/dev/fuse is missing")
    if shutil.which("fusermount3") is None:
        skip("fusermount3 is missing")


def mounted(path):
    """True iff something is mounted at `path`."""
    with open("/proc/self/mountinfo") as mountinfo:
        return any(line.split()[4] == path for line in mountinfo)


class Mount:
    """A tokenfs daemon on a fresh mount point, for a `with` block."""

    def __init__(self, binary, *daemon_args):
        self.binary = binary
        self.daemon_args = list(daemon_args)
        self.work = None
        self.path = None
        self.log_path = None
        self.process = None

    def __enter__(self):
        self.work = tempfile.mkdtemp(prefix="tkmnt.")
        os.chmod(self.work, 0o755)
        self.path = os.path.join(self.work, "tokens")
        os.mkdir(self.path)
        self.log_path = os.path.join(self.work, "daemon.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [self.binary, "-f", self.path, *self.daemon_args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if mounted(self.path) and os.path.exists(
                    os.path.join(self.path, "registry")):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.log()
        self.__exit__(None, None, None)
        raise RuntimeError(f"tokenfs did not come up; its log:\n{log}")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                print("tokenfs ignored SIGTERM for 5 s; killing it")
                self.process.kill()
                self.process.wait()
        if self.path and mounted(self.path):
            subprocess.run(["fusermount3", "-u", "-z", self.path],
                           check=False)
        if self.work and not mounted(self.path):
            shutil.rmtree(self.work, ignore_errors=True)
        return False

    def file(self, *parts):
        return os.path.join(self.path, *[str(part) for part in parts])

    def log(self):
        try:
            with open(self.log_path, errors="replace") as log:
                return log.read()
        except OSError:
            return ""

    def registry(self):
        """The /tokens/registry counters as a dict of strings."""
        with open(self.file("registry")) as registry:
            return dict(line.split("  ", 1) for line in
                        registry.read().splitlines())


class Checks:
    """Counts failures; every check prints one line and never raises."""

    def __init__(self):
        self.failures = 0
        self.known = None
        self.known_strict = True
        self.known_seen = set()

    def known_bug(self, bug, strict=True):
        """Marks the next check as a known daemon bug (see lib.sh): its
        failure does not fail the test; a pass fails it unless the mark is
        not strict (outcome also depends on the machine)."""
        self.known = bug
        self.known_strict = strict

    def ok(self, condition, what, detail=""):
        known, self.known = self.known, None
        if condition and known and self.known_strict:
            self.failures += 1
            print(f"FAIL - {what} (passes now: remove the known-bug mark "
                  f"{known})")
        elif condition:
            print(f"ok - {what}")
        elif known:
            self.known_seen.add(known)
            if os.environ.get("TOKENFS_MOUNT_STRICT") == "1":
                self.failures += 1
            print(f"known bug {known} - {what}" +
                  (f": {detail}" if detail else ""))
        else:
            self.failures += 1
            print(f"FAIL - {what}" + (f": {detail}" if detail else ""))
        return condition

    def equal(self, what, expected, actual):
        return self.ok(expected == actual, what,
                       f"expected {expected!r}, got {actual!r}")

    def errno(self, what, expected, action):
        """Runs `action`; passes iff it raises OSError with `expected`."""
        try:
            action()
        except OSError as error:
            return self.ok(error.errno == expected, what,
                           f"expected {errno_name(expected)}, got "
                           f"{errno_name(error.errno)} ({error})")
        return self.ok(False, what,
                       f"expected {errno_name(expected)}, but it succeeded")

    def finish(self, mount=None):
        if self.known_seen:
            print("known daemon bugs still open: " +
                  " ".join(sorted(self.known_seen)))
        if self.failures:
            print(f"{self.failures} check(s) failed")
            if mount is not None:
                print("daemon log:\n" + mount.log())
            sys.exit(1)
        print("all checks passed")
        sys.exit(0)


def errno_name(number):
    import errno
    return errno.errorcode.get(number, str(number))
