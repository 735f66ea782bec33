"""Subtokens, tags and their capability gates (issue 12), through the token
CLI on a real mount with a real Linux user.

- Derived objects form a tree: `token subtokens [--tree]` lists it, and
  revoking a parent revokes its children and grandchildren; a process whose
  primary token is a revoked grandchild (installed) keeps it (as with any
  revoked object); the revoke survives a daemon restart on the same --state, while a
  sibling and its tags come back.
- Tags round-trip (`token tag ID add|remove NAME`, `token tag ID`,
  `token list [--tag NAME]`), and bad input changes nothing.
- Each gate refuses without its capability (exit 3, the message names it)
  and allows with it; read@ forms allow the reads only: subtokens of one's
  own token (read@tokeninfo:subtokens), tags of one's own token
  (tokeninfo:tags / read@tokeninfo:tags), tags of another of one's tokens
  (manage_mytokens:tags / read@manage_mytokens:tags), revoke
  (manage_mytokens:revoke).
"""

import errno
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import clilib
from clilib import Checks, Mount, Users, run

USER = "tkcli_st"
# Run as the user: argv is ROOT ID; waits for a line on stdin (root
# installs the token first), then opens the tree itself.
PRELUDE = """
import errno, os, sys
M, ME = sys.argv[1], sys.argv[2]
sys.stdin.readline()
def read(path):
    try:
        with open(path) as f:
            return 0, f.read()
    except OSError as error:
        return errno.errorcode.get(error.errno, error.errno), ''
def txn(path, text):
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as error:
        return errno.errorcode.get(error.errno, error.errno), ''
    try:
        try:
            os.write(fd, text.encode())
        except OSError as error:
            return (errno.errorcode.get(error.errno, error.errno),
                    os.read(fd, 65536).decode())
        return 0, os.read(fd, 65536).decode()
    finally:
        os.close(fd)
"""
# What every restricted token below keeps besides the capability under test:
# reading itself and deriving.
BASE_CAPS = ["tokeninfo:introspect", "manage_mytokens:list", "create_mytoken"]


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    state = tempfile.mkdtemp(prefix="tkcli-state.")
    try:
        with Users(USER):
            tree_and_revoke(checks, token, tokenfs, state)
            gates(checks, token, tokenfs)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return checks.finish()


def ids_of(text):
    """The object ids of `token subtokens` lines (indentation kept out)."""
    return [line.split()[0] for line in text.splitlines() if line.strip()]


def tree_and_revoke(checks, token, tokenfs, state):
    sleeper = None
    with Mount(tokenfs, "--state", state) as mount:
        root = mount.path

        def tk(*args, **kwargs):
            return run([token, *args], root, **kwargs)

        parent = tk("dup", "--persist").out.strip()
        child = tk("--id", parent, "restrict", "--persist").out.strip()
        grandchild = tk("--id", child, "dup", "--persist").out.strip()
        sibling = tk("dup", "--persist").out.strip()
        if not checks.check(all(x.isdigit() for x in
                                (parent, child, grandchild, sibling)),
                            "four derived objects",
                            (parent, child, grandchild, sibling)):
            return

        direct = tk("subtokens")
        checks.status(direct, 0, "token subtokens")
        checks.check(parent in ids_of(direct.out) and
                     sibling in ids_of(direct.out) and
                     child not in ids_of(direct.out),
                     "lists the direct children only", direct.out)
        checks.check(f"{parent}  duplicate\n" in direct.out,
                     "each with how it was derived", direct.out)
        tree = tk("--id", parent, "subtokens", "--tree")
        checks.equal(tree.out, f"{child}  restrict\n  {grandchild}  duplicate\n",
                     "--tree indents each level by two spaces")
        as_json = tk("--id", parent, "subtokens", "--tree", "--json")
        if checks.status(as_json, 0, "subtokens --tree --json"):
            document = as_json.json()["subtokens"]
            checks.equal((document[0]["id"], document[0]["derivation"],
                          document[0]["subtokens"][0]["id"]),
                         (int(child), "restrict", int(grandchild)),
                         "the JSON nests the same tree")
        with open(mount.file("objects", child, "subtokens")) as file:
            checks.equal(file.read(), f"{grandchild}  duplicate\n",
                         "the subtokens file: id, two spaces, derivation")

        # A process runs under the grandchild when the parent is revoked.
        sleeper = subprocess.Popen(["sleep", "60"])
        held_by = sleeper.pid
        clilib.wait_exec(held_by, "sleep")
        install = os.open(mount.file(held_by, "install"), os.O_RDWR)
        try:
            os.write(install, f"id:{grandchild}".encode())
        finally:
            os.close(install)
        tagged = tk("tag", sibling, "add", "Keep")
        checks.equal((tagged.status, tagged.out), (0, "keep\n"),
                     "tag add prints the tags (canonical lower case)")

        revoked = tk("revoke", parent)
        checks.status(revoked, 0, "revoke the parent")
        for name, object_id in (("child", child), ("grandchild", grandchild)):
            gone = tk("--id", object_id, "user")
            checks.status(gone, 2, f"the revoked parent's {name} is gone")
            checks.check(object_id not in os.listdir(mount.file("objects")),
                         f"... and not listed under objects/ ({name})")
        checks.status(tk("--id", sibling, "user"), 0, "the sibling stays")
        with open(mount.file(held_by, "stats")) as file:
            stats = file.read()
        checks.check(re.search(rf"^token_id\s+0x0*{int(grandchild):x}$",
                               stats, re.M) is not None,
                     "a process holding the revoked grandchild keeps its "
                     "token", stats)
        sleeper.kill()
        sleeper.wait()
        sleeper = None

    with Mount(tokenfs, "--state", state) as mount:
        root = mount.path

        def tk(*args, **kwargs):
            return run([token, *args], root, **kwargs)

        for name, object_id in (("parent", parent), ("child", child),
                                ("grandchild", grandchild)):
            checks.status(tk("--id", object_id, "user"), 2,
                          f"after a restart the revoked {name} stays gone")
        checks.status(tk("--id", sibling, "user"), 0,
                      "after a restart the persistent sibling is back")
        listed = tk("list", "--tag", "keep")
        checks.equal((listed.status, listed.out), (0, f"  {sibling}  keep\n"),
                     "its tag came back; list --tag selects it")
        listed = tk("list", "--json")
        if checks.status(listed, 0, "list --json"):
            by_id = {str(entry["id"]): entry for entry in
                     listed.json()["objects"]}
            checks.equal(by_id.get(sibling, {}).get("tags"), ["keep"],
                         "list --json shows the tags")
        # Round trip and bad input.
        checks.equal(tk("tag", sibling, "remove", "keep").out, "",
                     "tag remove leaves no tags")
        checks.equal(tk("list", "--tag", "keep").out, "",
                     "list --tag selects nothing then")
        bad = tk("tag", sibling, "add", "a@b")
        checks.status(bad, 4, "an invalid tag")
        checks.one_error_line(bad, "an invalid tag", "invalid character '@'")
        tags = os.open(mount.file("objects", sibling, "tags"), os.O_WRONLY)
        try:
            os.write(tags, b"add a b\n")
            refused = 0
        except OSError as error:
            refused = error.errno
        finally:
            os.close(tags)
        checks.equal(refused, errno.EINVAL,
                     "writing two tags in one command is EINVAL")
        checks.equal(tk("tag", sibling).out, "",
                     "and the tags are unchanged")
        checks.status(tk("tag", sibling, "frob", "x"), 1,
                      "tag ID with another verb is a usage error")
        checks.status(tk("list", "--tag", "a b"), 4, "list --tag 'a b'")
        tk("revoke", sibling)
    if sleeper:
        sleeper.kill()
        sleeper.wait()


def gates(checks, token, tokenfs):
    with Mount(tokenfs) as mount:
        root = mount.path

        def tk(*args, **kwargs):
            return run([token, *args], root, **kwargs)

        sleeper = subprocess.Popen(Users.as_user(USER) + ["sleep", "60"])
        try:
            clilib.wait_exec(sleeper.pid, "sleep")
            pid = str(sleeper.pid)

            def restricted(*caps):
                result = tk("--pid", pid, "restrict", "--persist", "--caps",
                            ",".join(BASE_CAPS + list(caps)))
                checks.status(result, 0, f"restrict to {caps}")
                return result.out.strip()

            # Another token of the same user.
            other = tk("--pid", pid, "dup", "--persist").out.strip()
            tk("tag", other, "add", "seen")

            def under(caps, command, python=False):
                """Runs `command(id)` as the user in a process whose primary
                token is a fresh restricted object `id` holding BASE_CAPS
                and `caps` (root installs it): a shell (token then acts for
                that shell; its own token is a fork copy, so the shell's is
                "another token of its user"), or with `python` a Python
                snippet that opens the tree itself (its own token is the
                object)."""
                object_id = restricted(*caps)
                if python:
                    argv = [clilib.USER_PYTHON, "-c",
                            PRELUDE + command(object_id), root, object_id]
                    name = os.path.basename(clilib.USER_PYTHON)
                else:
                    argv = ["sh", "-c",
                            "read go && " + command(object_id) + "; exit $?"]
                    name = "sh"
                shell = subprocess.Popen(
                    Users.as_user(USER) + argv,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True,
                    env=dict(os.environ, TOKENFS_ROOT=root))
                clilib.wait_exec(shell.pid, name)
                # The program has its name from the start of its exec, its
                # final credentials only at the end: wait until it blocks
                # reading stdin, so that the install does not race the
                # exec (see tokenfs(8) LIMITATIONS).
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    with open(f"/proc/{shell.pid}/stat") as stat:
                        if stat.read().rsplit(")", 1)[1].split()[0] == "S":
                            break
                    time.sleep(0.005)
                install = os.open(mount.file(shell.pid, "install"), os.O_RDWR)
                try:
                    os.write(install, f"id:{object_id}".encode())
                finally:
                    os.close(install)
                out, err = shell.communicate("go\n", timeout=30)
                return clilib.Result(subprocess.CompletedProcess(
                    shell.args, shell.returncode, out, err))

            def token_cmd(*args):
                return " ".join(shlex.quote(a) for a in [token, *args])

            # One's own token (the process's primary is the object):
            # subtokens needs read@tokeninfo:subtokens, tags
            # read@tokeninfo:tags to read and tokeninfo:tags to change.
            own = (lambda _: "print(read(f'{M}/self/subtokens')[0]);"
                   "print(read(f'{M}/objects/{ME}/tags')[0]);"
                   "code, why = txn(f'{M}/objects/{ME}/tags', 'add x');"
                   "print(code, why.strip());"
                   "print(read(f'{M}/objects/{ME}/tags'))")
            for caps, expected, name in (
                    ([], ["EACCES", "EACCES", "EACCES"],
                     "no capability: neither subtokens nor tags"),
                    (["read@tokeninfo:subtokens", "read@tokeninfo:tags"],
                     ["0", "0", "EACCES"], "read@ forms: reads only"),
                    (["tokeninfo:subtokens", "tokeninfo:tags"],
                     ["0", "0", "0"], "read-write forms: reads and writes")):
                result = under(caps, own, python=True)
                lines = result.out.splitlines()
                checks.equal([line.split()[0] for line in lines[:3]],
                             expected, f"own token, {name}")
                if expected[:3] == ["0", "0", "EACCES"] and len(lines) > 2:
                    checks.check("tokeninfo:tags" in lines[2],
                                 "the refused write names the capability",
                                 lines[2])
                if expected[1] == "0" and len(lines) > 3:
                    checks.equal(lines[3], "(0, 'x\\n')"
                                 if expected[2] == "0" else "(0, '')",
                                 f"own token, {name}: the tags after")

            # Tags of another token of the user: manage_mytokens:tags.
            result = under([], lambda _: token_cmd("tag", other))
            checks.status(result, 3, "no capability: another token's tags")
            checks.one_error_line(result, "another token's tags unread",
                                  "read@manage_mytokens:tags")
            reader = ["read@manage_mytokens:tags"]
            result = under(reader, lambda _: token_cmd("tag", other))
            checks.equal((result.status, result.out), (0, "seen\n"),
                         "read@manage_mytokens:tags reads them")
            result = under(reader, lambda _: token_cmd("tag", other, "add",
                                                       "y"))
            checks.status(result, 3, "read@manage_mytokens:tags cannot add")
            checks.one_error_line(result, "another token's tags refused",
                                  "'manage_mytokens:tags'")
            checks.equal(tk("tag", other).out, "seen\n",
                         "... and nothing was added")
            result = under(reader, lambda _: token_cmd("list", "--tag",
                                                       "seen"))
            checks.check(result.status == 0 and other in result.out,
                         "list --tag works with the read capability",
                         repr(result))
            result = under([], lambda _: token_cmd("list", "--tag", "seen"))
            checks.check(result.status == 0 and other not in result.out,
                         "list --tag never selects unreadable tags",
                         repr(result))
            result = under(["manage_mytokens:tags"],
                           lambda _: token_cmd("tag", other, "add", "y"))
            checks.equal((result.status, result.out), (0, "seen\ny\n"),
                         "manage_mytokens:tags adds one")

            # Revoke: manage_mytokens:revoke. (A derived token's default
            # security gives its user no DUPLICATE; the minted one does.)
            made = under(["manage_mytokens:revoke"],
                         lambda _: token_cmd("--pid", pid, "dup",
                                             "--persist"))
            if checks.status(made, 0, "the user derives an object"):
                mine = made.out.strip()
                result = under([], lambda _: token_cmd("revoke", mine))
                checks.status(result, 3, "revoke without the capability")
                checks.one_error_line(result, "revoke refused",
                                      "manage_mytokens:revoke")
                checks.status(tk("--id", mine, "user"), 0,
                              "... and the object is still there")
                result = under(["manage_mytokens:revoke"],
                               lambda _: token_cmd("revoke", mine))
                checks.status(result, 0, "revoke with the capability")
                checks.status(tk("--id", mine, "user"), 2,
                              "... and the object is gone")
        finally:
            sleeper.kill()
            sleeper.wait()


if __name__ == "__main__":
    sys.exit(main())
