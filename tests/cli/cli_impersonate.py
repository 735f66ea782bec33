"""impersonate, revert and impersonate -- COMMAND (man/token.1,
"Impersonation"): the invoking thread impersonates; a command runs under
the token with Linux credentials projected from it (uid, gid, groups
without deny-only ones, capabilities of absent privileges dropped,
no_new_privs for restricted tokens); exit statuses follow env(1)."""

import os
import re
import subprocess
import sys

import clilib
from clilib import Checks, Mount, Users, run

GOLDEN = os.path.join(clilib.HERE, "specs", "golden.json")

CLIENT = r"""
import socket, subprocess, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
fd = s.fileno()
for args in (["impersonate", "--peer", str(fd)],
             ["impersonate", "--peer", str(fd), "--", "true"]):
    r = subprocess.run([sys.argv[2], *args], pass_fds=[fd],
                       capture_output=True, text=True)
    print(r.returncode, repr(r.stdout), repr(r.stderr), flush=True)
s.send(b"x")
"""


def status_fields(text):
    """CapEff, CapBnd (as ints) and NoNewPrivs from /proc/self/status."""
    fields = dict(line.split(":\t", 1) for line in text.splitlines()
                  if ":\t" in line)
    return (int(fields.get("CapEff", "0"), 16),
            int(fields.get("CapBnd", "0"), 16),
            fields.get("NoNewPrivs", "").strip())


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    subprocess.run(["groupdel", "tkcli_g"], stderr=subprocess.DEVNULL)
    with Users("tkcli_a", "tkcli_b") as users, Mount(tokenfs) as mount:
        root = mount.path
        subprocess.run(["groupadd", "tkcli_g"], check=True)
        try:
            subprocess.run(["usermod", "-aG", "tkcli_g", "tkcli_a"],
                           check=True)
            run_tests(checks, token, mount, root)
        finally:
            subprocess.run(["groupdel", "tkcli_g"], stderr=subprocess.DEVNULL)
    return checks.finish()


def run_tests(checks, token, mount, root):
    def tk(*args, **kwargs):
        return run([token, *args], root, **kwargs)

    golden = tk("create", "--persist", GOLDEN).out.strip()

    # Impersonation on the invoking thread (the shell), then revert.
    result = run(["bash", "-c",
                  f"{token} impersonate --id {golden}; "
                  f"{token}; {token} --real; {token} revert; {token}; true"],
                 root)
    lines = result.out.splitlines()
    checks.check(len(lines) == 8 and lines[1] == "[impersonation]",
                 "impersonate prints [impersonation]", result.out)
    if len(lines) == 8:
        checks.check(re.match(r"^  level +Impersonation$", lines[4]),
                     "at Impersonation level", lines[4])
        checks.check(lines[5].startswith("Unix User\\4000001 (S-1-22-1-"
                                         "4000001)  Impersonation "
                                         "(Impersonation)"),
                     "--self is now the impersonation token", lines[5])
        checks.check(lines[6].startswith("Local System (S-1-5-18)  Primary"),
                     "--real is still the primary token", lines[6])
        checks.check(lines[7].startswith("Local System (S-1-5-18)  Primary"),
                     "revert prints nothing; --self is the primary again",
                     lines[7])
    after = run(["bash", "-c", f"{token} impersonate --id {golden} >/dev/null;"
                 f" {token} revert; {token}; true"], root)
    checks.check(after.out.startswith("Local System (S-1-5-18)  Primary"),
                 "after revert --self is the primary again", after.out)

    # Capped: tkcli_a impersonates its peer tkcli_b (the peer rule grants
    # IMPERSONATE across users; the identity gate caps the level).
    with clilib.PeerServer("tkcli_b", root) as server:
        client = subprocess.run(
            Users.as_user("tkcli_a") + [clilib.USER_PYTHON, "-c", CLIENT,
                                        server.path, token],
            capture_output=True, text=True,
            env=dict(os.environ, TOKENFS_ROOT=root), timeout=20)
        outcomes = client.stdout.splitlines()
        checks.check(len(outcomes) == 2 and outcomes[0].startswith("0 ") and
                     "Identification" in outcomes[0] and
                     "notice: impersonation capped" in outcomes[0],
                     "another user's peer token is capped to Identification",
                     client.stdout + client.stderr)
        checks.check(len(outcomes) == 2 and outcomes[1].startswith("3 "),
                     "and cannot run a command (exit 3)",
                     client.stdout + client.stderr)

    # Acceptance: a restricted copy of a user's token, run as root.
    uid_a, gid_a = Users.uid("tkcli_a"), Users.gid("tkcli_a")
    import grp
    gid_g = grp.getgrnam("tkcli_g").gr_gid
    sleeper = subprocess.Popen(Users.as_user("tkcli_a") + ["sleep", "60"])
    try:
        clilib.wait_exec(sleeper.pid, "sleep")
        groups = tk("--pid", str(sleeper.pid), "groups", "--raw").out
        index = None
        for line in groups.splitlines():
            match = re.match(rf"^  +(\d+)  S-1-22-2-{gid_g} ", line)
            if match:
                index = match.group(1)
        if not checks.check(index is not None,
                            "tkcli_a's token has the tkcli_g group", groups):
            return
        restricted = tk("--pid", str(sleeper.pid), "restrict", "--drop-privs",
                        "SeChangeNotify", "--deny", index, "--persist")
        if not checks.status(restricted, 0, "restrict tkcli_a's token"):
            return
        object_id = restricted.out.strip()
        result = tk("impersonate", "--id", object_id, "--", "id", "-G")
        checks.equal((result.status, result.out), (0, f"{gid_a}\n"),
                     "id -G lacks the denied group (only the user's gid)")
        result = tk("impersonate", "--id", object_id, "--", "id", "-u")
        checks.equal(result.out, f"{uid_a}\n", "the child runs as tkcli_a")
        result = tk("impersonate", "--id", object_id, "--", "sh", "-c",
                    f"cat {root}/$$/user")
        checks.check(result.out.startswith(f"S-1-22-1-{uid_a}  "),
                     "tokenfs made the token the command's primary",
                     repr(result))
        tk("revoke", object_id)
        free = tk("--pid", str(sleeper.pid), "restrict", "--persist")
        result = tk("impersonate", "--id", free.out.strip(), "--", "id", "-G")
        checks.equal(sorted(result.out.split()), sorted([str(gid_a),
                                                         str(gid_g)]),
                     "without --deny the child keeps tkcli_g")
        tk("revoke", free.out.strip())

        # Without the authority: unchanged credentials, and --strict
        # refuses. The default token security never lets a user impersonate
        # (Peios), so root hands tkcli_a a copy whose DACL allows it.
        mine = tk("--pid", str(sleeper.pid), "dup", "--persist").out.strip()
        with open(mount.file("objects", mine, "security"), "w") as security:
            security.write(f"D:(A;;GA;;;S-1-22-1-{uid_a})(A;;GA;;;SY)")
        as_a = Users.as_user("tkcli_a")
        # (sh runs token, so token acts for that shell, tkcli_a's process.)
        result = run(as_a + ["sh", "-c", f"{token} impersonate --id {mine} "
                             "-- id -u; exit $?"], root)
        checks.equal((result.status, result.out), (0, f"{uid_a}\n"),
                     "a user's command runs with unchanged credentials")
        checks.check("unchanged Linux credentials" in result.err,
                     "and token says so", result.err)
        result = run(as_a + ["sh", "-c", f"{token} impersonate --id {mine} "
                             "--strict -- true; exit $?"], root)
        checks.status(result, 5, "--strict without the authority")
        checks.check("--strict" in result.err, "the message says why",
                     result.err)
        tk("revoke", mine)
    finally:
        sleeper.kill()
        sleeper.wait()

    # The golden token: uid/gid/groups from its projection fields.
    result = tk("impersonate", "--id", golden, "--", "sh", "-c",
                "id -u; id -g; id -G")
    checks.equal(result.out, "4000001\n4000001\n4000001 4000002\n",
                 "uid, gid and supplementary gids of the golden projection")

    # Capabilities: dropping SeDebug (CAP_SYS_PTRACE, 19) from root's token.
    sys_ptrace = 1 << 19
    dropped = tk("restrict", "--drop-privs", "SeDebug", "--persist")
    if checks.status(dropped, 0, "restrict root's token, SeDebug dropped"):
        result = tk("impersonate", "--id", dropped.out.strip(), "--",
                    "cat", "/proc/self/status")
        effective, bounding, no_new_privs = status_fields(result.out)
        checks.check(not effective & sys_ptrace and not bounding & sys_ptrace,
                     "CAP_SYS_PTRACE left the child's effective and bounding "
                     "sets", f"CapEff {effective:x} CapBnd {bounding:x}")
        checks.check(effective & (1 << 21),
                     "other capabilities stay (CAP_SYS_ADMIN)",
                     f"CapEff {effective:x}")
        checks.equal(no_new_privs, "0", "an unrestricted token: no NNP")
        tk("revoke", dropped.out.strip())
    fenced = tk("restrict", "--restrict", "WD", "--persist")
    if checks.status(fenced, 0, "restrict root's token with WD"):
        result = tk("impersonate", "--id", fenced.out.strip(), "--",
                    "cat", "/proc/self/status")
        checks.equal(status_fields(result.out)[2], "1",
                     "a restricted token's child has NoNewPrivs 1")
        tk("revoke", fenced.out.strip())

    # Exit statuses, as env(1).
    not_executable = os.path.join(mount.work, "not-executable")
    with open(not_executable, "w") as file:
        file.write("echo should not run\n")
    os.chmod(not_executable, 0o644)
    for command, expected, name in (
            (["sh", "-c", "exit 7"], 7, "the command's status"),
            (["sh", "-c", "kill -9 $$"], 137, "128 + the signal"),
            (["/nonexistent/command"], 127, "not found: 127"),
            ([not_executable], 126, "not executable: 126")):
        result = tk("impersonate", "--", *command)
        checks.status(result, expected, name)
    result = tk("impersonate", "--", "/nonexistent/command")
    checks.check(result.err.startswith("token: /nonexistent/command: "),
                 "exec failures are one token: line", result.err)

    tk("revoke", golden)

    # An ordinary user runs a command under a restricted copy of its own
    # token: the copy can do nothing the user cannot, so no SeImpersonate is
    # needed; without root the Linux credentials stay and token says so.
    script = (f"id=$('{token}' restrict --drop-privs SeShutdown "
              f"--caps tokeninfo,AT) && '{token}' impersonate --id \"$id\" "
              f"-- sh -c 'cat \"$TOKENFS_ROOT/self/privs\" "
              f"\"$TOKENFS_ROOT/self/caps\"'")
    user_run = run(Users.as_user("tkcli_a") + ["bash", "-c", script], root)
    checks.status(user_run, 0, "a user runs a command under its narrowed token")
    checks.check("SeShutdown" not in user_run.out and
                 "SeChangeNotify  enabled" in user_run.out,
                 "... whose token lacks the dropped privilege", user_run.out)
    checks.check(sorted(line.split()[0] for line in user_run.out.splitlines()
                        if line.startswith(("tokeninfo ", "AT ")))
                 == ["AT", "tokeninfo"] and "create_mytoken" not in
                 user_run.out, "... and holds only the asked capabilities",
                 user_run.out)
    checks.check("unchanged Linux credentials" in user_run.err,
                 "... with a notice that the Linux credentials stay",
                 user_run.err)


if __name__ == "__main__":
    sys.exit(main())
