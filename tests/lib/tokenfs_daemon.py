"""A tokenfs daemon for Python tests (stdlib only), shared by the mount
and CLI tests.

Mount starts the daemon on a fresh mount point in a private temp directory
(its stderr in a log file), waits until the tree answers, and on exit stops
it with SIGTERM and unmounts whatever is left, so a failing test never
leaves a mount behind. skip() exits 77, ctest's SKIP_RETURN_CODE.
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


def require_root(why):
    """Skips unless the test runs as root with FUSE at hand; `why` says
    what the test needs root for."""
    if os.geteuid() != 0:
        skip(why)
    if not os.path.exists("/dev/fuse"):
        skip("/dev/fuse is missing")
    if shutil.which("fusermount3") is None:
        skip("fusermount3 is missing")


def mounted(path):
    """True iff something is mounted at `path`."""
    with open("/proc/self/mountinfo") as mountinfo:
        return any(line.split()[4] == path for line in mountinfo)


class Mount:
    """A tokenfs daemon on a fresh mount point, for a `with` block.

    With TOKENFS_TEST_MOUNT set (tests/package/installed.sh: the daemon of
    the installed package, started by its unit's ExecStart line), a Mount
    without daemon arguments is that tree instead: nothing is started or
    stopped. A Mount with arguments, or own_daemon (a test that kills it),
    still starts its own daemon."""

    def __init__(self, binary, *daemon_args, prefix="tkmnt.",
                 own_daemon=False):
        self.binary = binary
        self.own_daemon = own_daemon
        self.daemon_args = list(daemon_args)
        self.prefix = prefix
        self.work = None
        self.path = None
        self.log_path = None
        self.process = None

    def __enter__(self):
        external = os.environ.get("TOKENFS_TEST_MOUNT")
        if external and not self.daemon_args and not self.own_daemon:
            self.path = external
            self.external = True
            # Scratch space the tests keep beside the mount.
            self.work = tempfile.mkdtemp(prefix=self.prefix)
            os.chmod(self.work, 0o755)
            if not os.path.exists(os.path.join(self.path, "registry")):
                raise RuntimeError(f"TOKENFS_TEST_MOUNT={external}: "
                                   "no tokenfs answers there")
            return self
        self.work = tempfile.mkdtemp(prefix=self.prefix)
        os.chmod(self.work, 0o755)
        self.path = os.path.join(self.work, "tokens")
        os.mkdir(self.path)
        self.log_path = os.path.join(self.work, "daemon.log")
        # Each mount keeps its own state store unless the test names one:
        # the default, /var/lib/tokenfs, belongs to the host's daemon.
        state = []
        if not any(arg == "--state" or arg.startswith("--state=")
                   for arg in self.daemon_args):
            state = ["--state", os.path.join(self.work, "state")]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [self.binary, "-f", self.path, *state, *self.daemon_args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if mounted(self.path) and os.path.exists(
                    os.path.join(self.path, "registry")):
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        log = self.log()
        self.__exit__(None, None, None)
        raise RuntimeError(f"tokenfs did not come up; its log:\n{log}")

    def __exit__(self, *exc):
        if getattr(self, "external", False):
            shutil.rmtree(self.work, ignore_errors=True)
            return False
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
        if getattr(self, "external", False):
            return f"(the daemon on {self.path} was started outside the test)"
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
