"""Shared setup of the Python tokenfs mount tests (stdlib only).

Mount (from tests/lib/tokenfs_daemon.py) starts the daemon on a fresh mount
point and always cleans up after it. Checks collects "ok"/"FAIL" lines and
turns them into the exit status; skip() exits 77 (ctest SKIP_RETURN_CODE).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from tokenfs_daemon import SKIP, Mount, mounted, skip  # noqa: E402,F401
import tokenfs_daemon  # noqa: E402


def require_root():
    """Skips unless the test can mount with allow_other and create users."""
    tokenfs_daemon.require_root("mount tests need root (allow_other, useradd)")


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


def field(text, key):
    """The value of `key` in a transaction's "key  value" lines, or None."""
    for line in text.splitlines():
        name, _, value = line.partition("  ")
        if name == key:
            return value
    return None


def txn(path, text):
    """One transaction (write, then read the result on the same descriptor):
    (0, result) or (errno, reason)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as error:
        return error.errno, str(error)
    try:
        try:
            os.write(fd, text if isinstance(text, bytes) else text.encode())
        except OSError as error:
            try:
                return error.errno, os.read(fd, 65536).decode(errors="replace")
            except OSError:
                return error.errno, str(error)
        return 0, os.read(fd, 65536).decode(errors="replace")
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
