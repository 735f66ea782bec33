"""Manual page examples run as written.

token(1): every `token sddl` and `token access` command shown in a literal
display of man/token.1 (with or without the `$ ` prompt) runs against a
temporary mount and gives a result, not an error: exit 0, or 3 for an
access check that is denied (EXIT STATUS).

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
import socket
import subprocess
import sys
import tempfile

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
    """The command lines of the literal displays that run `token sddl` or
    `token access`, as the shell would see them."""
    return [re.sub(r"^\$ ", "", line) for _, lines in displays(MAN_PAGE)
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


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    commands = examples()
    checks.check(any(c.startswith("token sddl") for c in commands) and
                 any("--mapping" in c for c in commands) and
                 any("--device-claims" in c for c in commands) and
                 any("--domain-sid" in c for c in commands),
                 "token(1) shows sddl, --mapping, --device-claims and "
                 "--domain-sid examples", "\n".join(commands))
    with Users("tkcli_a") as _, Mount(tokenfs) as mount:
        sessions = tokenfs_sessions()
        checks.check(len(sessions) >= 5, "tokenfs(5) has its EXAMPLES",
                     sessions)
        for script, output in sessions:
            completed = subprocess.run(
                Users.as_user("tkcli_a") +
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
