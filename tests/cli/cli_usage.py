"""Usage errors, help, version, input validation and spec conversion: the
parts of token that need no mounted tree.

Expected statuses come from man/token.1 (EXIT STATUS): help and version 0,
usage errors 1 (argument-parser errors too), invalid input 4, no tokenfs
mounted 5; every error is one "token: ..." line on stderr.
"""

import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile

import clilib
from clilib import Checks, run

REPO = os.path.dirname(os.path.dirname(clilib.HERE))


def main():
    token, _, _ = clilib.binaries()
    checks = Checks()
    # A root with nothing mounted: validation must happen before any access.
    nowhere = tempfile.mkdtemp(prefix="tkcli-none.")

    def token_run(*args, **kwargs):
        return run([token, *args], nowhere, **kwargs)

    # Help and version.
    result = token_run("--help")
    checks.status(result, 0, "token --help")
    for fragment in ("Subcommands:", "adjust", "impersonate",
                     "process that ran token",
                     "resolved now (not at connect time)",
                     "Exit status: 0 success, 1 usage error"):
        checks.check(fragment in result.out,
                     f"token --help mentions {fragment!r}")
    for args, fragment in ((["privs", "--help"], "--pid"),
                           (["adjust", "--help"], "integrity"),
                           (["adjust", "privs", "--help"], "--reset"),
                           (["impersonate", "--help"], "--strict"),
                           (["spec", "--help"], "encode"),
                           (["subtokens", "--help"], "--tree"),
                           (["list", "--help"], "--tag"),
                           (["tag", "--help"], "add NAME"),
                           (["-h"], "Subcommands:")):
        result = token_run(*args)
        checks.status(result, 0, f"token {' '.join(args)}")
        checks.check(fragment in result.out,
                     f"token {' '.join(args)} mentions {fragment}")
    result = token_run("--version")
    checks.status(result, 0, "token --version")
    checks.equal(result.out, "token (tokenfs) 0.1.0\n", "version text")

    # Usage errors: exit 1, one line.
    usage = [
        (["bogus"], "bogus"),
        (["privs", "--bogus"], "--bogus"),
        (["--pid"], "--pid"),
        (["privs", "--pid"], "--pid"),
        (["--pid", "1", "--peer", "3", "privs"], "--peer"),
        (["--self", "--real"], "conflicting"),
        (["--pid", "1", "privs", "--pid", "2"], "--pid"),
        (["--id", "1", "--pid", "2", "user"], "conflicting"),
        (["--tid", "5", "privs"], "--tid requires --pid"),
        (["--pid", "abc", "privs"], "abc"),
        (["--pid", "0", "privs"], "invalid pid"),
        (["--pid", "-3", "privs"], None),
        (["--peer", "x"], "--peer"),
        (["--raw", "--label", "user"], "--raw and --label"),
        (["show", "--short", "--all"], "--short and --all"),
        (["adjust"], None),
        (["adjust", "privs"], "reset"),
        (["adjust", "privs", "--reset", "SeDebug=enabled"], "--reset"),
        (["adjust", "default"], "--dacl"),
        (["adjust", "session"], None),
        (["query"], None),
        (["query", "bogus"], "valid classes: user, groups, privileges"),
        (["query", "25"], "valid classes"),
        (["diff"], None),
        (["diff", "pid:x"], "pid:x"),
        (["diff", "self", "real", "extra"], None),
        (["diff", "self", "real", "--pid", "1"], "not both"),
        (["link", "--elevated", "id:1"], None),
        (["create"], None),
        (["create", "--pid", "1", "spec"], None),
        (["revoke"], "id"),
        (["revoke", "x"], "x"),
        (["tag"], "id"),
        (["tag", "x"], "x"),
        (["tag", "5", "frob", "x"], "add NAME or remove NAME"),
        (["tag", "5", "add"], "add NAME or remove NAME"),
        (["--pid", "1", "tag", "add", "x"], "token object"),
        (["--pid", "1", "list"], "takes no target flags"),
        (["subtokens", "extra"], None),
        (["spec"], None),
        (["spec", "encode", "--pid", "1"], None),
        (["revert", "--id", "3"], "thread"),
        (["impersonate", "--strict"], "--strict"),
        (["impersonate", "--"], "no command"),
    ]

    # Invalid input: exit 4 naming the bad item, before touching the tree.
    invalid = [
        (["adjust", "privs", "SeBogus=enabled"], "SeBogus"),
        (["adjust", "privs", "SeDebug=enabled", "SeNope=disabled"],
         "item 2 'SeNope=disabled'"),
        (["adjust", "privs", "SeDebug=maybe"], "maybe"),
        (["adjust", "privs", "SeDebug"], "SeDebug"),
        (["adjust", "groups", "x=on"], "x=on"),
        (["adjust", "groups", "1=removed"], "removed"),
        (["adjust", "default", "--dacl", "D:(X;;GA;;;WD)"], "X"),
        (["adjust", "default", "--owner-idx", "S-1-bad"], "S-1-bad"),
        (["adjust", "integrity", "superhigh"], "superhigh"),
        (["adjust", "session", "abc"], "abc"),
        (["access", "--sd", "O:XXG:SY"], "XX"),
        (["access", "--desired", "BOGUS_RIGHT"], "BOGUS_RIGHT"),
        (["access", "--mapping", "weird"], "weird"),
        (["access", "--intent", "fly"], "fly"),
        (["access", "--principal-self", "S-1-x"], "S-1-x"),
        (["restrict", "--drop-privs", "SeDebug,SeBogus"], "SeBogus"),
        (["restrict", "--deny", "1,a"], "'a'"),
        (["restrict", "--restrict", "WD,S-1-x"], "S-1-x"),
        (["restrict", "--caps", "tokeninfo,bad cap"], "bad cap"),
        (["duplicate", "--type", "weird"], "weird"),
        (["dup", "--level", "weird"], "weird"),
        (["dup", "--access", "NOT_A_RIGHT"], "NOT_A_RIGHT"),
        (["tag", "5", "add", "a@b"], "invalid character '@'"),
        (["list", "--tag", "a b"], "invalid character"),
        (["dup", "--type", "primary", "--level", "delegation"], "level"),
        (["caps", "--check", "tokeninfo", "bad!"], "bad!"),
        (["impersonate", "--level", "weird"], "weird"),
        (["create", "/nonexistent/spec"], "/nonexistent/spec"),
    ]
    for expected, table in ((1, usage), (4, invalid)):
        for args, fragment in table:
            result = token_run(*args)
            name = f"token {' '.join(args)}"
            checks.status(result, expected, name)
            checks.one_error_line(result, name,
                                  *([] if fragment is None else [fragment]))

    # Parser errors in token's own words: what, where, the nearest valid
    # spelling, which --help to read; never CLI11's raw sentences.
    parser_errors = [
        (["privz"], "unknown subcommand 'privz' (did you mean 'privs'?); "
                    "see 'token --help'"),
        (["adjust"], "'token adjust' needs a subcommand: privs, groups, "
                     "default, session, integrity; see 'token adjust --help'"),
        (["adjust", "grups"], "unknown subcommand 'token adjust grups' (did "
                              "you mean 'groups'?); see 'token adjust --help'"),
        (["--pid", "1", "adjust", "grups"],
         "unknown subcommand 'token adjust grups' (did you mean 'groups'?); "
         "see 'token adjust --help'"),
        (["adjust", "privs", "--rset"],
         "unknown option '--rset' for 'token adjust privs' (did you mean "
         "'--reset'?); see 'token adjust privs --help'"),
        (["show", "--al"], "unknown option '--al' for 'token show' (did you "
                           "mean '--all'?); see 'token show --help'"),
        (["restrict", "--deni", "3"],
         "unknown option '--deni' for 'token restrict' (did you mean "
         "'--deny'?); see 'token restrict --help'"),
        (["privs", "extra"], "'token privs' takes no argument 'extra'; see "
                             "'token privs --help'"),
        (["--bogus"], "unknown option '--bogus' for 'token'; see "
                      "'token --help'"),
    ]
    for args, message in parser_errors:
        result = token_run(*args)
        checks.equal((result.status, result.err), (1, f"token: {message}\n"),
                     f"token {' '.join(args)}: the usage error")

    # A spec that fails validation, binary and JSON.
    with tempfile.NamedTemporaryFile("wb", suffix=".bin") as bad:
        bad.write(b"\x03\x00\x00\x00" + b"\x00" * 188)
        bad.flush()
        result = token_run("create", bad.name)
        checks.status(result, 4, "create with a version-3 binary spec")
        checks.one_error_line(result, "create with a version-3 spec",
                              "version")
    result = token_run("create", "-", input='{"version": 2}')
    checks.status(result, 4, "create with a JSON spec lacking the user")
    checks.one_error_line(result, "create with a JSON spec lacking the user",
                          "user")

    # Nothing mounted: exit 5 with a clear message, never a crash.
    for root in (nowhere, "/nonexistent/tokens"):
        result = run([token, "privs"], root)
        checks.status(result, 5, f"privs with nothing mounted at {root}")
        checks.one_error_line(result, f"nothing mounted at {root}",
                              f"no tokenfs mounted at {root}")
    environment = dict(os.environ)
    environment.pop("TOKENFS_ROOT", None)
    if not os.path.exists("/tokens"):
        completed = subprocess.run([token, "user"], env=environment,
                                   capture_output=True, text=True)
        checks.check(completed.returncode == 5 and
                     "no tokenfs mounted at /tokens" in completed.stderr,
                     "without TOKENFS_ROOT the mount is /tokens",
                     completed.stderr)

    # spec encode/decode round trip (token-spec(5)).
    spec = os.path.join(clilib.HERE, "specs", "golden.json")
    with open(spec) as file:
        spec_text = file.read()
    encoded = run([token, "spec", "encode", spec], nowhere, input=b"")
    if checks.status(encoded, 0, "spec encode FILE"):
        binary = encoded.out
        checks.check(len(binary) >= 192 and binary[:4] == b"\x02\x00\x00\x00",
                     "the binary spec starts with version 2 and a 192-byte "
                     "header", repr(binary[:8]))
        from_stdin = run([token, "spec", "encode"], nowhere,
                         input=spec_text.encode())
        checks.check(from_stdin.out == binary,
                     "spec encode reads standard input too")
        decoded = run([token, "spec", "decode", "-"], nowhere, input=binary)
        if checks.status(decoded, 0, "spec decode -"):
            text = decoded.out.decode()
            document = json.loads(text)
            checks.equal(document.get("user"), "S-1-22-1-4000001",
                         "decoded user")
            checks.equal(document.get("capabilities"),
                         ["tokeninfo", "settings:email"],
                         "decoded capabilities are named")
            again = run([token, "spec", "encode"], nowhere,
                        input=decoded.out)
            checks.check(again.out == binary,
                         "encode(decode(binary)) is the same bytes")
    bad_json = run([token, "spec", "encode", "-"], nowhere,
                   input=b'{"version": 2, "user": "S-1-5-18", "bogus": 1}')
    checks.status(bad_json, 4, "spec encode with an unknown key")
    checks.check(b"bogus" in bad_json.err, "the message names the key",
                 repr(bad_json.err))
    bad_binary = run([token, "spec", "decode"], nowhere, input=b"\x02\x00")
    checks.status(bad_binary, 4, "spec decode of a truncated spec")

    # spec encode refuses a terminal.
    main_fd, terminal_fd = pty.openpty()
    completed = subprocess.run([token, "spec", "encode", spec],
                               stdout=terminal_fd, stderr=subprocess.PIPE,
                               text=True)
    os.close(terminal_fd)
    os.close(main_fd)
    checks.check(completed.returncode == 1 and "terminal" in completed.stderr,
                 "spec encode refuses to write binary to a terminal",
                 completed.stderr)

    # Documentation: the man page lints clean and the completion parses.
    man_page = os.path.join(REPO, "man", "token.1")
    if shutil.which("mandoc"):
        completed = subprocess.run(["mandoc", "-T", "lint", "-W", "style",
                                    man_page], capture_output=True, text=True)
        problems = [line for line in
                    (completed.stdout + completed.stderr).splitlines()
                    if "mandoc.db" not in line]
        checks.check(completed.returncode == 0 and not problems,
                     "mandoc -T lint man/token.1 is clean",
                     "\n".join(problems))
    completion = os.path.join(REPO, "cli", "token.bash-completion")
    completed = subprocess.run(["bash", "-n", completion],
                               capture_output=True, text=True)
    checks.check(completed.returncode == 0, "the bash completion parses",
                 completed.stderr)
    os.rmdir(nowhere)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
