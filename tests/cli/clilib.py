"""Shared setup of the token CLI tests (stdlib only).

Every test script is run by ctest as
    python3 <script> <token binary> <tokenfs binary> [helper binaries...]
and exits 0 (pass), 1 (a check failed) or 77 (skipped: not root, no
/dev/fuse).

Mount starts its own tokenfs on a fresh mount point in a private temp
directory and stops it afterwards; Users creates real Linux accounts
(tkcli_a, tkcli_b, ...) and deletes them again; Checks prints one line per
check and turns failures into the exit status.

Masking (for golden outputs; see golden/README.md): values that differ
between runs are replaced by "<masked>" before comparing -- the text rows
token_id, modified_id and created, and the JSON keys token_id, modified_id,
created, created_ns and target (the target holds the temporary mount path
and the object id). Capability SIDs are derived independently here
(capability_sid) and substituted for "@CAP:<name>@" in expected files.
"""

import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from tokenfs_daemon import SKIP, mounted, skip  # noqa: E402,F401
import tokenfs_daemon  # noqa: E402
MASK = "<masked>"
MASKED_JSON_KEYS = {"token_id", "modified_id", "created", "created_ns",
                    "target"}
MASKED_ROWS = re.compile(r"^(  (?:token_id|modified_id|created)\s+)\S.*$")

HERE = os.path.dirname(os.path.abspath(__file__))

# A Python the test users can run (the one running the tests may live in
# root's home).
USER_PYTHON = next((path for path in ("/usr/bin/python3", "/bin/python3")
                    if os.access(path, os.X_OK)), sys.executable)


def shared_directory():
    """A fresh temp directory every user may create files in."""
    path = tempfile.mkdtemp(prefix="tkcli-shared.")
    os.chmod(path, 0o1777)
    return path


def require_root():
    tokenfs_daemon.require_root(
        "CLI tests mount tokenfs and create users: they need root")


def binaries():
    """(token, tokenfs, extra helper paths) from the command line;
    TOKENFS_TEST_TOKEN and TOKENFS_TEST_TOKENFS replace the first two (the
    installed package's binaries, tests/package/installed.sh)."""
    if len(sys.argv) < 3:
        print("usage: script TOKEN TOKENFS [HELPERS...]")
        sys.exit(2)
    return (os.environ.get("TOKENFS_TEST_TOKEN") or sys.argv[1],
            os.environ.get("TOKENFS_TEST_TOKENFS") or sys.argv[2],
            sys.argv[3:])


class Mount(tokenfs_daemon.Mount):
    """A tokenfs daemon on a fresh mount point, for a `with` block."""

    def __init__(self, binary, *daemon_args, own_daemon=False):
        super().__init__(binary, *daemon_args, prefix="tkcli.",
                         own_daemon=own_daemon)


class Users:
    """Real Linux users for a `with` block: created fresh, deleted after."""

    def __init__(self, *names):
        self.names = names
        self.created = []

    def __enter__(self):
        if shutil.which("useradd") is None:
            skip("useradd is missing")
        for name in self.names:
            self._delete(name)
            subprocess.run(["useradd", "--no-create-home", "--user-group",
                            "--shell", "/bin/sh", name], check=True,
                           stdout=subprocess.DEVNULL)
            self.created.append(name)
        return self

    def __exit__(self, *exc):
        for name in self.created:
            self._delete(name)
        return False

    @staticmethod
    def _delete(name):
        try:
            pwd.getpwnam(name)
        except KeyError:
            return
        subprocess.run(["userdel", name], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], check=False,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except KeyError:
            pass

    @staticmethod
    def uid(name):
        return pwd.getpwnam(name).pw_uid

    @staticmethod
    def gid(name):
        return pwd.getpwnam(name).pw_gid

    @staticmethod
    def as_user(name):
        """Command prefix that runs a program as `name`."""
        return ["setpriv", f"--reuid={name}", f"--regid={name}",
                "--init-groups"]


# Python source of a Unix socket server for --peer tests: listens on
# sys.argv[1] (open to every user: the client runs as another one), prints
# its pid, accepts one connection and waits for one byte. A test appends
# what the server does next.
PEER_SERVER = r"""
import os, socket, sys
listener = socket.socket(socket.AF_UNIX)
listener.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
listener.listen()
print(os.getpid(), flush=True)
connection, _ = listener.accept()
connection.recv(1)
"""


class PeerServer:
    """`script` (PEER_SERVER or an extension of it) run as `user` with
    TOKENFS_ROOT=root, for a `with` block: `path` is its socket in a fresh
    shared directory, `pid` its process id, `process.stdout` what it prints
    after the pid. Extra `args` follow the socket path in sys.argv."""

    def __init__(self, user, root, script=PEER_SERVER, args=()):
        self.user = user
        self.root = root
        self.script = script
        self.args = list(args)

    def __enter__(self):
        self.shared = shared_directory()
        self.path = os.path.join(self.shared, "peer.sock")
        self.process = subprocess.Popen(
            Users.as_user(self.user) + [USER_PYTHON, "-c", self.script,
                                        self.path, *self.args],
            stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, TOKENFS_ROOT=self.root))
        try:
            self.pid = int(self.process.stdout.readline())
        except ValueError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.shared, ignore_errors=True)
        return False


def wait_exec(pid, name, timeout=5.0):
    """Waits until process `pid` runs program `name` (its credentials are
    then final: setpriv changes them before it executes the program)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/comm") as comm:
                if comm.read().strip() == name:
                    return True
        except OSError:
            return False
        time.sleep(0.005)
    return False


class Result:
    def __init__(self, completed):
        self.status = completed.returncode
        self.out = completed.stdout
        self.err = completed.stderr

    def json(self):
        return json.loads(self.out)

    def __repr__(self):
        return f"exit {self.status}, stdout {self.out!r}, stderr {self.err!r}"


def run(command, root=None, input=None, pass_fds=(), env=None,
        timeout=30):
    """Runs `command` (a list) with TOKENFS_ROOT=root; returns a Result."""
    environment = dict(os.environ)
    if root is not None:
        environment["TOKENFS_ROOT"] = root
    if env:
        environment.update(env)
    completed = subprocess.run(
        command, env=environment, input=input, pass_fds=pass_fds,
        capture_output=True, timeout=timeout,
        text=not isinstance(input, bytes))
    return Result(completed)


def capability_sid(name):
    """The capability SID of `name`, as Windows derives it
    (DeriveCapabilitySidsFromName): S-1-15-3-1024- and the eight
    little-endian u32 words of SHA-256 over the UTF-16LE upper-cased name."""
    digest = hashlib.sha256(name.upper().encode("utf-16-le")).digest()
    return "S-1-15-3-1024-" + "-".join(
        str(word) for word in struct.unpack("<8I", digest))


def substitute(text):
    return re.sub(r"@CAP:([^@]+)@",
                  lambda match: capability_sid(match.group(1)), text)


def mask_text(text):
    return "\n".join(MASKED_ROWS.sub(lambda m: m.group(1) + MASK, line)
                     for line in text.split("\n"))


def mask_json(document):
    if isinstance(document, dict):
        return {key: (MASK if key in MASKED_JSON_KEYS else mask_json(value))
                for key, value in document.items()}
    if isinstance(document, list):
        return [mask_json(item) for item in document]
    return document


def golden_text(name):
    with open(os.path.join(HERE, "golden", name)) as file:
        return substitute(file.read())


def golden_json(name):
    return json.loads(golden_text(name))


def canonical_json_text(document):
    """How token prints a document: two-space indent, sorted keys,
    non-ASCII as is, final newline."""
    return json.dumps(document, indent=2, sort_keys=True,
                      ensure_ascii=False) + "\n"


class Checks:
    """Counts failures; every check prints one line and never raises."""

    def __init__(self):
        self.failures = 0
        self.count = 0

    def check(self, condition, name, detail=""):
        self.count += 1
        if condition:
            print(f"ok    {name}")
        else:
            self.failures += 1
            print(f"FAIL  {name}")
            if detail:
                for line in str(detail).splitlines():
                    print(f"      {line}")
        return condition

    def equal(self, actual, expected, name):
        detail = ""
        if actual != expected:
            detail = f"expected: {expected!r}\nactual:   {actual!r}"
            if isinstance(actual, str) and isinstance(expected, str):
                import difflib
                detail = "\n".join(difflib.unified_diff(
                    expected.split("\n"), actual.split("\n"), "expected",
                    "actual", lineterm=""))
        return self.check(actual == expected, name, detail)

    def status(self, result, expected, name):
        return self.check(result.status == expected,
                          f"{name}: exit {expected}",
                          f"got {result!r}")

    def one_error_line(self, result, name, *fragments):
        """Standard error is one "token: ..." line naming every fragment
        (man/token.1: every error is one such line)."""
        lines = result.err.splitlines()
        self.check(len(lines) == 1 and lines[0].startswith("token: "),
                   f"{name}: one 'token: ' line on stderr", repr(result.err))
        for fragment in fragments:
            self.check(fragment in result.err,
                       f"{name}: the message names {fragment!r}",
                       repr(result.err))

    def finish(self):
        print(f"{self.count - self.failures}/{self.count} checks passed")
        return 1 if self.failures else 0
