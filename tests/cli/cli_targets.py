"""Target flags (man/token.1, TARGETS): --self is the invoking process's
main thread, --real its primary, --pid/--tid other processes and threads,
--peer the peer of an inherited Unix socket resolved when token runs (and
readable across users, unlike --pid)."""

import os
import re
import subprocess
import sys

import clilib
from clilib import Checks, Mount, Users, run

SERVER = clilib.PEER_SERVER + r"""
import subprocess
# Change our own token now: token's parent is this process.
subprocess.run([sys.argv[2], "adjust", "privs", "SeShutdown=enabled"],
               check=True)
print("adjusted", flush=True)
connection.recv(1)
"""

THREADS = r"""
import threading, time, sys
ready = threading.Event()
def work():
    print(threading.get_native_id(), flush=True)
    ready.set()
    time.sleep(30)
threading.Thread(target=work, daemon=True).start()
ready.wait()
time.sleep(30)
"""


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    with Users("tkcli_a", "tkcli_b") as users, Mount(tokenfs) as mount:
        root = mount.path

        # --self and --real name the invoking shell; "; true" keeps bash
        # from executing token in its own place.
        result = run(["bash", "-c", f"echo $$; {token} user --json; "
                      f"{token} --real user --json; true"], root)
        lines = result.out.split("\n", 1)
        shell = int(lines[0])
        decoder = __import__("json").JSONDecoder()
        first, end = decoder.raw_decode(lines[1])
        second, _ = decoder.raw_decode(lines[1][end:].lstrip())
        checks.equal(first["target"],
                     {"kind": "self", "pid": shell, "tid": shell,
                      "path": mount.file(shell, shell)},
                     "--self is <ppid>/<ppid>, the shell's main thread")
        checks.equal(second["target"],
                     {"kind": "real", "pid": shell,
                      "path": mount.file(shell)},
                     "--real is <ppid>, the shell's primary token")
        result = run(["bash", "-c", f"{token} diff self real; echo $?"],
                     root)
        checks.equal(result.out, "0\n",
                     "a shell that does not impersonate: self = real")

        # --pid and --tid.
        threaded = subprocess.Popen([sys.executable, "-c", THREADS],
                                    stdout=subprocess.PIPE, text=True)
        try:
            tid = int(threaded.stdout.readline())
            result = run([token, "--pid", str(threaded.pid), "--tid",
                          str(tid), "user", "--raw", "--json"], root)
            if checks.status(result, 0, "--pid P --tid T"):
                checks.equal(result.json()["target"],
                             {"kind": "thread", "pid": threaded.pid,
                              "tid": tid,
                              "path": mount.file(threaded.pid, tid)},
                             "the thread's directory")
                checks.equal(result.json()["user"]["sid"], "S-1-5-18",
                             "the thread runs as root")
        finally:
            threaded.kill()
            threaded.wait()

        # --peer: tkcli_b serves, tkcli_a connects.
        with clilib.PeerServer("tkcli_b", root, SERVER, [token]) as server:
            uid_b = Users.uid("tkcli_b")
            client_code = (
                "import socket, subprocess, sys\n"
                "s = socket.socket(socket.AF_UNIX)\n"
                "s.connect(sys.argv[1])\n"
                "fd = s.fileno()\n"
                "def tk(*a):\n"
                "    r = subprocess.run([sys.argv[2], *a], pass_fds=[fd],\n"
                "                       capture_output=True, text=True)\n"
                "    print(r.returncode, r.stdout.strip().replace('\\n', '|'),"
                " r.stderr.strip())\n"
                "tk('--peer', str(fd), 'user', '--raw')\n"
                "tk('--pid', sys.argv[3], 'user', '--raw')\n"
                "tk('--peer', str(fd), 'privs', '--raw')\n"
                "s.send(b'x')\n"
                "sys.stdin.readline()\n"
                "tk('--peer', str(fd), 'privs', '--raw')\n"
                "s.send(b'x')\n")
            client = subprocess.Popen(
                Users.as_user("tkcli_a") + [clilib.USER_PYTHON, "-c",
                                            client_code, server.path,
                                            token, str(server.pid)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                env=dict(os.environ, TOKENFS_ROOT=root))
            peer_user = client.stdout.readline().strip()
            by_pid = client.stdout.readline().strip()
            before = client.stdout.readline().strip()
            checks.equal(server.process.stdout.readline().strip(),
                         "adjusted",
                         "the server adjusted its token after accept()")
            client.stdin.write("\n")
            client.stdin.flush()
            after = client.stdout.readline().strip()
            client.wait(timeout=10)
            checks.equal(peer_user, f"0 S-1-22-1-{uid_b}",
                         "tkcli_a reads its peer tkcli_b's token via --peer")
            checks.check(by_pid.startswith("3 ") and
                         "Linux inspection: " in by_pid,
                         "but not through --pid (another user's process)",
                         by_pid)
            checks.check(re.search(r"SeShutdown +disabled", before) and
                         re.search(r"SeShutdown +enabled", after),
                         "--peer is resolved when token runs: the peer's "
                         "current token", f"{before}\n{after}")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
