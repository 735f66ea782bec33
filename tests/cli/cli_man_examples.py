"""token(1) examples run as written: every `token sddl` and `token access`
command shown in a literal display of man/token.1 (with or without the
`$ ` prompt) runs against a temporary mount and gives a result, not an
error: exit 0, or 3 for an access check that is denied (EXIT STATUS).
"""

import os
import re
import shlex
import sys

import clilib
from clilib import Checks, Mount, run

MAN_PAGE = os.path.join(clilib.HERE, "..", "..", "man", "token.1")
WANTED = ("token sddl", "token access")


def examples():
    """The command lines of the literal displays that run `token sddl` or
    `token access`, as the shell would see them."""
    lines = []
    in_display = False
    with open(MAN_PAGE) as page:
        for line in page:
            line = line.rstrip("\n")
            if line.startswith(".Bd -literal"):
                in_display = True
                continue
            if line.startswith(".Ed"):
                in_display = False
                continue
            if not in_display:
                continue
            text = re.sub(r"^\$ ", "", line).replace("\\-", "-")
            if text.startswith(WANTED):
                lines.append(text)
    return lines


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
    with Mount(tokenfs) as mount:
        for command in commands:
            argv = shlex.split(command)
            result = run([token] + argv[1:], mount.path)
            allowed = (0, 3) if argv[1] == "access" else (0,)
            checks.check(result.status in allowed and not result.err,
                         f"runs as written: {command}", repr(result))
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
