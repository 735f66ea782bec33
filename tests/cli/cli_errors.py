"""One test per exit status and error class, against a real mount and real
users (man/token.1, EXIT STATUS): not found 2, access denied 3 naming the
right, not permitted 3 with tokenfs's reason, invalid input from the tree
4, a dead daemon 5. A refusal names the step that refused (tokenfs(5),
AUTHORIZATION): the Linux inspection, the access check and its right, the
capability gate and its capability, the token model's rule.
"""

import os
import signal
import socket
import subprocess
import sys
import time

import clilib
from clilib import Checks, Mount, Users, run


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    with Users("tkcli_a", "tkcli_b") as users, Mount(tokenfs) as mount:
        root = mount.path
        as_a = Users.as_user("tkcli_a")
        sleeper = subprocess.Popen(Users.as_user("tkcli_b") +
                                   ["sleep", "60"])
        try:
            clilib.wait_exec(sleeper.pid, "sleep")
            time.sleep(0.1)
            pid_b = sleeper.pid

            # 2: not found.
            for args, fragment in (
                    (["--pid", "999999", "privs"], "not found: pid 999999"),
                    (["--pid", str(os.getpid()), "--tid", "999999", "user"],
                     f"not found: pid {os.getpid()} tid 999999"),
                    (["--id", "999999", "user"],
                     "not found: token object 999999"),
                    (["revoke", "999999"], "not found: token object 999999"),
                    (["linked"], "no linked token"),
                    (["--peer", "77", "user"], "peer of fd 77"),
                    (["diff", "pid:999999"], "pid 999999")):
                result = run([token, *args], root)
                name = f"token {' '.join(args)}"
                checks.status(result, 2, name)
                checks.one_error_line(result, name, fragment)
            with open("/etc/hostname") as not_socket:
                result = run([token, "--peer", str(not_socket.fileno()),
                              "user"], root, pass_fds=[not_socket.fileno()])
                checks.status(result, 2, "--peer on a file")
                checks.one_error_line(result, "--peer on a file",
                                      "not a socket")
            # A peer that has exited: SO_PEERCRED names a dead process.
            path = os.path.join(mount.work, "gone.sock")
            server = subprocess.Popen(
                [sys.executable, "-c",
                 "import socket, sys\n"
                 "s = socket.socket(socket.AF_UNIX)\n"
                 "s.bind(sys.argv[1]); s.listen()\n"
                 "print('ready', flush=True)\n"
                 "c, _ = s.accept(); c.recv(1)\n", path],
                stdout=subprocess.PIPE, text=True)
            server.stdout.readline()
            client = socket.socket(socket.AF_UNIX)
            client.connect(path)
            client.send(b"x")
            server.wait()
            result = run([token, "--peer", str(client.fileno()), "user"],
                         root, pass_fds=[client.fileno()])
            client.close()
            checks.status(result, 2, "--peer whose peer process has exited")
            checks.one_error_line(result, "--peer whose peer has exited",
                                  f"peer of fd")

            # 3: another user's process; the Linux inspection refuses
            # before any access check, and the message says so.
            uid_a = Users.uid("tkcli_a")
            result = run(as_a + [token, "--pid", str(pid_b), "privs"], root)
            checks.status(result, 3, "tkcli_a reads tkcli_b's token")
            checks.one_error_line(result, "tkcli_a reads tkcli_b's token",
                                  f"access denied: pid {pid_b}: Linux "
                                  f"inspection: uid {uid_a} may not inspect "
                                  f"process {pid_b}", "CAP_SYS_PTRACE")
            result = run(as_a + [token, "--pid", str(pid_b), "adjust",
                                 "privs", "SeShutdown=enabled"], root)
            checks.status(result, 3, "tkcli_a adjusts tkcli_b's token")
            checks.one_error_line(result, "tkcli_a adjusts tkcli_b's token",
                                  f"pid {pid_b}", "Linux inspection")
            # Own token, but a right the default security does not give:
            # the access check refuses, naming the right.
            result = run(as_a + ["sh", "-c",
                                 f"{token} adjust session 5; exit $?"], root)
            checks.status(result, 3, "tkcli_a changes its session")
            checks.one_error_line(result, "tkcli_a changes its session",
                                  "access check: ", "denies ADJUST_SESSIONID")
            # A token restricted to the tokeninfo capabilities reading
            # another token of its user: the capability gate refuses,
            # naming the capability.
            narrow = run([token, "restrict", "--caps", "tokeninfo",
                          "--persist"], root)
            other = run([token, "duplicate", "--persist"], root)
            if (checks.status(narrow, 0, "restrict to tokeninfo") and
                    checks.status(other, 0, "duplicate")):
                result = run([token, "impersonate", "--id",
                              narrow.out.strip(), "--", token, "--id",
                              other.out.strip(), "privs"], root)
                checks.status(result, 3, "a restricted token reads another")
                checks.one_error_line(result,
                                      "a restricted token reads another",
                                      "capability gate: ",
                                      "'manage_mytokens:list'")
                run([token, "revoke", narrow.out.strip()], root)
                run([token, "revoke", other.out.strip()], root)
            # /tokens/refusal shows a thread its own last refusal only.
            # (The shell opens both files itself: one thread.)
            result = run(as_a + ["sh", "-c",
                                 f"read -r x < {root}/{pid_b}/user; "
                                 f"read -r y < {root}/refusal; "
                                 "echo \"$y\""], root)
            checks.check(result.out.startswith("error: Permission denied: ")
                         and "Linux inspection: " in result.out,
                         "/tokens/refusal shows the shell's refusal",
                         repr(result.out))
            result = run(["cat", f"{root}/refusal"], root)
            checks.equal(result.out, "",
                         "a fresh process has no refusal to show")

            # 3: forbidden by the model, with tokenfs's reason.
            result = run(as_a + ["sh", "-c",
                                 f"{token} adjust privs SeDebug=enabled; "
                                 "exit $?"], root)
            checks.status(result, 3, "enabling an absent privilege")
            checks.one_error_line(result, "enabling an absent privilege",
                                  "not permitted", "token model: ",
                                  "SeDebug")
            result = run(as_a + ["sh", "-c",
                                 f"{token} adjust groups 0=disabled; "
                                 "exit $?"], root)
            checks.status(result, 3, "disabling a mandatory group")
            checks.one_error_line(result, "disabling a mandatory group",
                                  "mandatory")
            result = run(as_a + [token, "create", "-"], root,
                         input='{"user": "S-1-5-18"}')
            checks.status(result, 3, "create without SeCreateToken")
            checks.one_error_line(result, "create without SeCreateToken",
                                  "SeCreateToken")
            result = run(as_a + ["sh", "-c", f"{token} adjust integrity "
                                 "high; exit $?"], root)
            checks.status(result, 3, "raising integrity without SeTcb")
            checks.one_error_line(result, "raising integrity", "SeTcb")

            # 4: input only the tree can judge.
            result = run(as_a + ["sh", "-c", f"{token} adjust groups "
                                 "99=enabled; exit $?"], root)
            checks.status(result, 4, "a group index past the end")
            checks.one_error_line(result, "a group index past the end", "99")

            # Predicates answer with 3.
            result = run([token, "caps", "--check", "tokeninfo:introspect",
                          "read@settings"], root)
            checks.status(result, 0, "caps --check of held capabilities")
            checks.equal(result.out + result.err, "",
                         "caps --check prints nothing when held")
            restricted = run([token, "restrict", "--caps", "tokeninfo",
                              "--persist"], root)
            if checks.status(restricted, 0, "restrict to tokeninfo"):
                object_id = restricted.out.strip()
                result = run([token, "--id", object_id, "caps", "--check",
                              "tokeninfo:history", "settings", "AT"], root)
                checks.status(result, 3, "caps --check of a missing cap")
                checks.one_error_line(result, "caps --check of a missing cap",
                                      "capability not held: settings, AT")
                result = run([token, "--id", object_id, "caps", "--check",
                              "settings", "--json"], root)
                checks.status(result, 3, "caps --check --json")
                if result.out:
                    document = result.json()
                    checks.equal((document["held"], document["missing"]),
                                 ([], ["settings"]), "caps --check JSON")
                # Asking a restricted token for more than it holds.
                wider = run([token, "--id", object_id, "restrict", "--caps",
                             "settings"], root)
                checks.status(wider, 3, "restrict --caps wider than source")
                checks.one_error_line(wider, "restrict --caps wider",
                                      "settings")
                run([token, "revoke", object_id], root)
        finally:
            sleeper.kill()
            sleeper.wait()

    # 5: the daemon died under its mount (a daemon of this test's own).
    with Mount(tokenfs, own_daemon=True) as mount:
        mount.process.send_signal(signal.SIGKILL)
        mount.process.wait()
        result = run([token, "privs"], mount.path)
        checks.status(result, 5, "token with a dead daemon")
        checks.one_error_line(result, "token with a dead daemon",
                              "not answering")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
