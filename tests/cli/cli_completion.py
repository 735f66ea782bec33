"""Bash completion (cli/token.bash-completion) as a user meets it: group
indexes and SIDs of the targeted token for `adjust groups`, --owner-idx,
--group-idx and restrict --deny, and the command (then its own arguments)
after `impersonate ... --`. Runs bash with bash-completion loaded and the
completion function called as readline would.
"""

import os
import shlex
import subprocess
import sys

import clilib
from clilib import Checks, Mount, run

# TOKENFS_TEST_COMPLETION: the installed file (tests/package/installed.sh).
COMPLETION = os.environ.get("TOKENFS_TEST_COMPLETION") or os.path.join(
    clilib.HERE, "..", "..", "cli", "token.bash-completion")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def complete(root, words):
    """COMPREPLY for the command line `words` (the last one is the word
    being completed), as a list."""
    line = " ".join(shlex.quote(word) if word else "" for word in words)
    script = f"""
source {BASH_COMPLETION}
source {shlex.quote(COMPLETION)}
COMP_WORDS=({' '.join(shlex.quote(word) for word in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={shlex.quote(line)}
COMP_POINT={len(line)}
_token token "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    completed = subprocess.run(["bash", "-c", script], capture_output=True,
                               text=True, env=dict(os.environ,
                                                   TOKENFS_ROOT=root))
    return [line for line in completed.stdout.splitlines() if line]


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    if not os.path.exists(BASH_COMPLETION):
        clilib.skip("bash-completion is not installed")
    checks = Checks()
    with Mount(tokenfs) as mount:
        root = mount.path
        spec = os.path.join(clilib.HERE, "specs", "golden.json")
        created = run([token, "create", "--persist", spec], root)
        if not checks.status(created, 0, "create"):
            return checks.finish()
        object_id = created.out.strip()

        got = complete(root, ["token", "--id", object_id, "adjust", "groups",
                              ""])
        for wanted in ("0=", "4=", "S-1-1-0=", "S-1-5-32-551=", "reset"):
            checks.check(wanted in got, f"adjust groups offers {wanted}", got)
        got = complete(root, ["token", "--id", object_id, "adjust", "groups",
                              "S-1-5-32-5"])
        checks.equal(sorted(got), ["S-1-5-32-544=", "S-1-5-32-545=",
                                   "S-1-5-32-551="],
                     "adjust groups completes a SID prefix")
        got = complete(root, ["token", "--id", object_id, "adjust", "groups",
                              "3="])
        checks.equal(sorted(got), ["3=disabled", "3=enabled"],
                     "then the state")
        got = complete(root, ["token", "--id", object_id, "adjust",
                              "default", "--owner-idx", ""])
        checks.check("user" in got and "2" in got and "S-1-1-0" in got,
                     "--owner-idx offers user, indexes and SIDs", got)
        got = complete(root, ["token", "--id", object_id, "restrict",
                              "--deny", ""])
        with open(mount.file("objects", object_id, "groups")) as groups:
            indexes = [line.split("  ")[0] for line in groups]
        checks.equal(sorted(got), sorted(indexes),
                     "restrict --deny offers the group indexes")
        # The shell's own token: self, when no target is given.
        got = complete(root, ["token", "adjust", "groups", ""])
        checks.check("S-1-1-0=" in got, "self's groups without a target", got)

        got = complete(root, ["token", "impersonate", "--id", object_id,
                              "--", "whoam"])
        checks.equal(sorted(set(got)), ["whoami"],
                     "after impersonate ... --: the command name")
        got = complete(root, ["token", "impersonate", "--", "token", "pri"])
        checks.equal(got, ["privs"],
                     "then the command's own completion (token's here)")
        run([token, "revoke", object_id], root)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
