"""Manual page examples run as written.

token(1) EXAMPLES: each literal display is one bash session, its `$ `
lines run as a test user, its `# ` lines as root, /tokens replaced by the
temporary mount. The pids the page names stand for processes the test
starts (PAGE_PIDS: another user's process, one of the user's own, a root
daemon); a command naming any other pid fails. After each command the
session prints its status (a separator byte the output never holds), so
every command is checked: exit 0 (3 for `token access` that is not
granted; for a `token: ` error line the page shows, the status EXIT
STATUS gives that error), and where the page shows output, that output,
with the page's names, uids and pids replaced by the real ones and the
parts that differ between runs (VOLATILE: ids, times) matched by pattern.
`token watch` gets the change it waits for (TRIGGERS) once it sleeps in
poll(2).

token(1) elsewhere: every `token sddl` and `token access` command shown in
a literal display outside EXAMPLES runs and gives a result, not an error.

token-spec(5): the EXAMPLES section as a shell session in a scratch
directory -- `$ cat FILE` followed by its text makes that file, every other
`$ ` line runs with token first in PATH and must exit 0 (`spec.bin`, the
"spec written by another tool", is the alice.bin made before it).

tokenfs(5): each literal display of EXAMPLES is one shell session (its
`$ ` lines, a line continuing an open quote joined on), run by bash -e as
a test user with /tokens replaced by the temporary mount; each must exit
0, and the refusal example must print the daemon's reason.
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import clilib
from clilib import Checks, Mount, Users, run

MAN_PAGE = os.path.join(clilib.HERE, "..", "..", "man", "token.1")
SPEC_PAGE = os.path.join(clilib.HERE, "..", "..", "man", "token-spec.5")
TOKENFS_PAGE = os.path.join(clilib.HERE, "..", "..", "man", "tokenfs.5")
WANTED = ("token sddl", "token access")


def displays(page):
    """The literal displays (.Bd -literal ... .Ed) of a man page as
    (section, lines): the .Sh name they are under, and their lines with the
    two roff escapes the pages use in them undone (\\- is -, \\e is \\)."""
    found = []
    section, lines = None, None
    with open(page) as text:
        for line in text:
            line = line.rstrip("\n")
            if line.startswith(".Sh "):
                section = line[len(".Sh "):]
            elif line.startswith(".Bd -literal"):
                lines = []
            elif line.startswith(".Ed") and lines is not None:
                found.append((section, lines))
                lines = None
            elif lines is not None:
                lines.append(line.replace("\\-", "-").replace("\\e", "\\"))
    return found


def session(lines):
    """A display as a shell session: [prompt, command, output lines] per
    command. A line starting with `$ ` or `# ` starts a command, a line
    continuing an open single quote is joined to it, any other line is
    output shown for the command before it."""
    commands = []
    for line in lines:
        if commands and commands[-1][1].count("'") % 2 == 1:
            commands[-1][1] += "\n" + line
        elif line[:2] in ("$ ", "# "):
            commands.append([line[0], line[2:], []])
        elif commands:
            commands[-1][2].append(line)
        else:
            commands.append([None, None, [line]])
    return commands


def examples():
    """The command lines of the literal displays outside EXAMPLES that run
    `token sddl` or `token access`, as the shell would see them (EXAMPLES
    runs as sessions, token_sessions)."""
    return [re.sub(r"^\$ ", "", line)
            for section, lines in displays(MAN_PAGE)
            if section != "EXAMPLES"
            for line in lines if re.sub(r"^\$ ", "", line).startswith(WANTED)]


def spec_session():
    """token-spec(5) EXAMPLES as a list of (kind, text): ("file", name,
    content) for `$ cat NAME` and its text, ("run", command) otherwise."""
    steps = []
    for section, lines in displays(SPEC_PAGE):
        if section != "EXAMPLES":
            continue
        for _, command, output in session(lines):
            if command.startswith("cat ") and ">" not in command:
                steps.append(["file", command[len("cat "):].strip(),
                              "".join(line + "\n" for line in output)])
            else:
                steps.append(["run", command])
    return steps


def tokenfs_sessions():
    """tokenfs(5) EXAMPLES: each literal display as (commands, output),
    the commands as one shell script."""
    return [("\n".join(command for _, command, _ in commands),
             "\n".join(line for _, _, output in commands for line in output))
            for commands in (session(lines)
                             for section, lines in displays(TOKENFS_PAGE)
                             if section == "EXAMPLES")]


# token(1) EXAMPLES, run by check_token_examples. `$ ` runs as YOU, `# `
# as root. The pids the page names stand for processes the test starts;
# every pid a command names (--pid N, pid:N, /tokens/N) must be one of
# these.
YOU, OTHER = "tkcli_a", "tkcli_b"
PAGE_PIDS = {
    "4242": OTHER,   # another user's shell: a process of OTHER
    "4300": YOU,     # your shell in another terminal: a process of YOU
    "812": "root",   # a daemon: a root process in a session of its own
}
# The user and uids the page shows in output.
PAGE_NAMES = {"alice": YOU}
PAGE_UIDS = {"1000": YOU, "1001": OTHER}
# Shown output that differs between runs, matched by pattern; within one
# display the same literal stands for the same value.
VOLATILE = {
    "2026-12-06T02:47:37.123456Z": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z",
    "1234": r"\d+",                    # a token object's id
    "4250": r"\d+",                    # the pid of the token that changed it
    "groups 7/7": r"groups \d+/\d+",   # alice's Linux groups are the host's
}
# The exit status of an error line shown in EXAMPLES (EXIT STATUS).
ERROR_STATUS = {"token: access denied: ": 3}
# Commands that wait for a change made elsewhere: once the command waits in
# poll(2), the test runs `token --pid PID ARGS...` as the owner of PID (the
# change and the changer the shown output reports).
TRIGGERS = {
    "token watch --pid 4300": ("4300", ["adjust", "privs",
                                        "SeShutdown=enabled"]),
}
PID_USE = re.compile(r"(--pid[ =]|pid:|/tokens/)(\d+)")
# After each command the session prints this byte and the status.
MARK = "\x1e"


def token_sessions():
    """token(1) EXAMPLES: each literal display as session() gives it."""
    return [session(lines) for section, lines in displays(MAN_PAGE)
            if section == "EXAMPLES"]


def put_pids(command, pids):
    """`command` with each page pid replaced by its process's pid, and the
    pids the table does not know."""
    unknown = []

    def put(match):
        if match.group(2) not in pids:
            unknown.append(match.group(2))
            return match.group(0)
        return match.group(1) + str(pids[match.group(2)])
    return PID_USE.sub(put, command), unknown


def output_pattern(lines, real, bound):
    """A regular expression for shown output `lines`: page names, uids and
    pids replaced by `real`'s values, VOLATILE literals by their patterns
    (by the value they matched earlier in the display, `bound`, if any).
    Returns (pattern, {group name: volatile literal})."""
    volatile = re.compile(r"\b(" + "|".join(
        re.escape(key) for key in sorted(VOLATILE, key=len, reverse=True)) +
        r")\b")
    known = re.compile(r"\b(" + "|".join(map(re.escape, real)) + r")\b")
    pattern, groups = "", {}
    for index, piece in enumerate(volatile.split("\n".join(lines))):
        if index % 2 == 0:
            pattern += re.escape(known.sub(lambda m: real[m.group(1)], piece))
        elif piece in bound:
            pattern += re.escape(bound[piece])
        elif piece in groups.values():
            name = next(key for key, value in groups.items()
                        if value == piece)
            pattern += f"(?P={name})"
        else:
            name = f"v{len(groups)}"
            groups[name] = piece
            pattern += f"(?P<{name}>{VOLATILE[piece]})"
    return pattern, groups


def waiting_child(parent, name, timeout=10.0):
    """The pid of `parent`'s child running `name` once it sleeps in
    poll(2), or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/comm") as comm:
                    command = comm.read().strip()
                with open(f"/proc/{entry}/wchan") as wchan:
                    waits_in = wchan.read()
            except OSError:
                continue
            if (int(fields[1]) == parent and command == name and
                    "poll" in waits_in):
                return int(entry)
        time.sleep(0.02)
    return None


def run_token_session(checks, commands, token, environment, processes,
                      real):
    """Runs one token(1) EXAMPLES display as one bash session and checks
    each command: its exit status, and its output where the page shows
    some."""
    name = f"token(1) EXAMPLES: {commands[0][0]} {commands[0][1]}"
    prompts = {prompt for prompt, _, _ in commands}
    if not checks.check(prompts in ({"$"}, {"#"}),
                        f"{name}: one prompt, `$ ` or `# `, on every "
                        "command", prompts):
        return
    pids = {page: process.pid for page, process in processes.items()}
    script, unknown = "", []
    for _, command, _ in commands:
        text, missing = put_pids(command, pids)
        unknown += missing
        script += (text.replace("/tokens", environment["TOKENFS_ROOT"]) +
                   f"\nprintf '{MARK}%d\\n' \"$?\"\n")
    if not checks.check(not unknown, f"{name}: names only pids the test "
                        "stands in for", f"unknown: {unknown}, known: "
                        f"{sorted(PAGE_PIDS)}"):
        return
    as_user = Users.as_user(YOU) if commands[0][0] == "$" else []
    shell = subprocess.Popen(as_user + ["bash", "-c", script], cwd="/",
                             env=environment, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True)
    try:
        for _, command, _ in commands:
            trigger = next((value for key, value in TRIGGERS.items()
                            if command.startswith(key)), None)
            if trigger is None:
                continue
            waiting = waiting_child(shell.pid, "token")
            checks.check(waiting is not None,
                         f"{name}: `{command}` waits in poll(2)")
            page_pid, args = trigger
            owner = processes[page_pid].owner
            change = run((Users.as_user(owner) if owner != "root" else []) +
                         [token, "--pid", str(pids[page_pid])] + args,
                         environment["TOKENFS_ROOT"])
            checks.status(change, 0, f"{name}: the change it waits for, "
                          f"`token --pid {page_pid} {' '.join(args)}` as "
                          f"{owner}")
        out, _ = shell.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        # (the whole session: a command still running keeps the pipe open)
        os.killpg(shell.pid, signal.SIGKILL)
        out, _ = shell.communicate()
        checks.check(False, f"{name}: the session ends within 15 s", out)
        return
    bound = {}
    rest = out
    for index, (_, command, shown) in enumerate(commands):
        label = f"token(1) EXAMPLES: {commands[0][0]} {command}"
        output, mark, rest = rest.partition(MARK)
        status_text, _, rest = rest.partition("\n")
        if not (mark and status_text.isdigit()):
            checks.check(False, f"{label}: runs to its end", out)
            return
        status = int(status_text)
        error = shown[0] if shown and shown[0].startswith("token: ") else None
        if error is not None:
            expected = next((value for key, value in ERROR_STATUS.items()
                             if error.startswith(key)), None)
            checks.check(expected is not None,
                         f"{label}: the test knows the status of the error "
                         "shown", error)
            allowed = (expected,)
        elif command.startswith("token access"):
            allowed = (0, 3)   # 3: the request is not granted
        else:
            allowed = (0,)
        checks.check(status in allowed, f"{label}: exit status "
                     f"{' or '.join(map(str, allowed))}",
                     f"exit {status}: {output}")
        if shown:
            pattern, groups = output_pattern(shown, real, bound)
            match = re.fullmatch(pattern, output.rstrip("\n"))
            checks.check(match is not None,
                         f"{label}: prints what the page shows",
                         f"page:\n" + "\n".join(shown) +
                         f"\npattern: {pattern}\nprinted:\n{output}")
            if match:
                bound.update({groups[group]: value for group, value in
                              match.groupdict().items()})
        else:
            checks.check(not any(line.startswith("token: ")
                                 for line in output.splitlines()),
                         f"{label}: no error or notice (the page shows "
                         "none)", output)


class PageProcess:
    """A process standing in for one of the page's pids: `sleep` as
    `owner`, in a session of its own."""

    def __init__(self, owner):
        self.owner = owner
        self.process = subprocess.Popen(
            (Users.as_user(owner) if owner != "root" else []) +
            ["sleep", "600"], start_new_session=True,
            stdin=subprocess.DEVNULL)
        self.pid = self.process.pid
        clilib.wait_exec(self.pid, "sleep")

    def stop(self):
        self.process.kill()
        self.process.wait()


def check_token_examples(checks, token, mount):
    """token(1) EXAMPLES: every display runs as one session."""
    sessions = token_sessions()
    used = " ".join(command for commands in sessions
                    for _, command, _ in commands)
    checks.check(len(sessions) >= 10 and
                 all(re.search(r"\b" + pid + r"\b", used)
                     for pid in PAGE_PIDS),
                 "token(1) has its EXAMPLES, and they use every pid the "
                 "test stands in for", used)
    checks.check(all(any(command.startswith(key)
                         for commands in sessions
                         for _, command, _ in commands)
                     for key in TRIGGERS),
                 "token(1) EXAMPLES run every command the test makes a "
                 "change for", list(TRIGGERS))
    work = tempfile.mkdtemp(prefix="tkcli-examples.")
    os.chmod(work, 0o755)
    os.symlink(os.path.abspath(token), os.path.join(work, "token"))
    environment = dict(os.environ, TOKENFS_ROOT=mount.path,
                       PATH=work + ":" + os.environ["PATH"])
    processes = {}
    try:
        for page_pid, owner in PAGE_PIDS.items():
            processes[page_pid] = PageProcess(owner)
        real = {page: str(process.pid)
                for page, process in processes.items()}
        real.update({page: name for page, name in PAGE_NAMES.items()})
        real.update({page: str(Users.uid(name))
                     for page, name in PAGE_UIDS.items()})
        for commands in sessions:
            run_token_session(checks, commands, token, environment,
                              processes, real)
    finally:
        for process in processes.values():
            process.stop()
        shutil.rmtree(work, ignore_errors=True)


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    commands = examples()
    every = commands + [command for display in token_sessions()
                        for _, command, _ in display]
    checks.check(any(c.startswith("token sddl") for c in every) and
                 any("--mapping" in c for c in every) and
                 any("--device-claims" in c for c in every) and
                 any("--domain-sid" in c for c in every),
                 "token(1) shows sddl, --mapping, --device-claims and "
                 "--domain-sid examples", "\n".join(every))
    with Users(YOU, OTHER) as _, Mount(tokenfs) as mount:
        check_token_examples(checks, token, mount)
        sessions = tokenfs_sessions()
        checks.check(len(sessions) >= 5, "tokenfs(5) has its EXAMPLES",
                     sessions)
        for script, output in sessions:
            completed = subprocess.run(
                Users.as_user(YOU) +
                ["bash", "-e", "-c",
                 script.replace("/tokens", mount.path)],
                cwd="/", capture_output=True, text=True, timeout=30)
            name = script.splitlines()[0]
            # (bash reports the refused write on stderr; the example
            # shows how to read the reason after it.)
            checks.check(completed.returncode == 0,
                         f"tokenfs(5) runs as written: {name}",
                         f"exit {completed.returncode}: {completed.stdout}"
                         f"{completed.stderr}")
            if output.startswith("error: "):
                checks.check(completed.stdout.startswith(output.split()[0]
                                                         + " " +
                                                         output.split()[1]),
                             f"tokenfs(5) prints the reason: {name}",
                             completed.stdout)
        for command in commands:
            argv = shlex.split(command)
            result = run([token] + argv[1:], mount.path)
            allowed = (0, 3) if argv[1] == "access" else (0,)
            checks.check(result.status in allowed and not result.err,
                         f"runs as written: {command}", repr(result))
        # token(1) --peer: the program that connects and hands fd 3 over.
        with open(MAN_PAGE) as page:
            text = page.read()
        start = text.index("python3 \\-c 'import os, socket")
        peer_example = text[start:text.index("\n.Ed", start)].replace(
            "\\-", "-")
        listen_dir = tempfile.mkdtemp(prefix="tkcli-peer.")
        listener = socket.socket(socket.AF_UNIX)
        try:
            path = os.path.join(listen_dir, "service.sock")
            listener.bind(path)
            listener.listen()
            bin_dir = os.path.join(listen_dir, "bin")
            os.mkdir(bin_dir)
            os.symlink(os.path.abspath(token), os.path.join(bin_dir, "token"))
            completed = subprocess.run(
                ["bash", "-c", peer_example.replace("/run/service.sock",
                                                    path)],
                env=dict(os.environ, TOKENFS_ROOT=mount.path,
                         PATH=bin_dir + ":" + os.environ["PATH"]),
                capture_output=True, text=True, timeout=30)
            checks.check(completed.returncode == 0 and
                         "Local System" in completed.stdout,
                         "token(1) --peer example runs as written (the "
                         "listener is this root process)",
                         f"exit {completed.returncode}: {completed.stdout}"
                         f"{completed.stderr}")
        finally:
            listener.close()
            shutil.rmtree(listen_dir, ignore_errors=True)

        steps = spec_session()
        checks.check(any(step[0] == "file" for step in steps) and
                     any("token create" in step[1] for step in steps),
                     "token-spec(5) EXAMPLES write a spec and create a token",
                     steps)
        scratch = tempfile.mkdtemp(prefix="tkcli-spec.")
        os.chmod(scratch, 0o755)
        bin_dir = os.path.join(scratch, "bin")
        os.mkdir(bin_dir)
        os.symlink(os.path.abspath(token), os.path.join(bin_dir, "token"))
        environment = dict(os.environ, TOKENFS_ROOT=mount.path,
                           PATH=bin_dir + ":" + os.environ["PATH"])
        try:
            for step in steps:
                if step[0] == "file":
                    with open(os.path.join(scratch, step[1]), "w") as file:
                        file.write(step[2])
                    continue
                if "spec.bin" in step[1]:
                    shutil.copy(os.path.join(scratch, "alice.bin"),
                                os.path.join(scratch, "spec.bin"))
                completed = subprocess.run(
                    ["bash", "-c", step[1]], cwd=scratch, env=environment,
                    capture_output=True, text=True, timeout=30)
                checks.check(completed.returncode == 0,
                             f"token-spec(5) runs as written: {step[1]}",
                             f"exit {completed.returncode}: "
                             f"{completed.stderr.strip()}")
                if completed.returncode == 0 and "token create" in step[1]:
                    subprocess.run(["bash", "-c", "token revoke " +
                                    completed.stdout.strip()],
                                   env=environment, capture_output=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
