"""Derived tokens (issue 5, CLI side): duplicate, restrict, create (JSON and
binary specs), persist, revoke, link and linked, install, and diff between
the results. Expectations come from man/token.1 and the token rules (a
restricted copy drops what it is told and nothing else)."""

import json
import os
import pty
import re
import subprocess
import sys
import tempfile

import clilib
from clilib import Checks, Mount, run

GOLDEN = os.path.join(clilib.HERE, "specs", "golden.json")


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    with Mount(tokenfs) as mount:
        root = mount.path

        def tk(*args, **kwargs):
            return run([token, *args], root, **kwargs)

        # create: JSON file, binary file, standard input.
        created = tk("create", "--persist", GOLDEN, "--json")
        if not checks.status(created, 0, "create --json"):
            return checks.finish()
        document = created.json()
        source = str(document["id"])
        checks.equal(document["path"], mount.file("objects", source),
                     "create --json gives the id and the object path")
        checks.check(os.path.isdir(mount.file("objects", source)),
                     "the object directory exists")
        binary = tk("spec", "encode", GOLDEN, input=b"")
        with tempfile.NamedTemporaryFile(suffix=".bin") as spec_file:
            spec_file.write(binary.out)
            spec_file.flush()
            from_binary = tk("create", "--persist", spec_file.name)
            checks.status(from_binary, 0, "create from a binary spec")
        with open(GOLDEN) as file:
            from_stdin = tk("create", "--persist", "-", input=file.read())
        checks.status(from_stdin, 0, "create - reads standard input")
        for result in (from_binary, from_stdin):
            if result.status == 0:
                other = result.out.strip()
                diff = tk("diff", f"id:{source}", f"id:{other}")
                checks.equal((diff.status, diff.out), (0, ""),
                             "tokens from the same spec do not differ")
                checks.status(tk("diff", "-q", f"id:{source}",
                                 f"id:{other}", "--ids"), 6,
                              "but their ids do (--ids, --quiet)")
                tk("revoke", other)

        # duplicate.
        duplicate = tk("--id", source, "dup", "--persist", "--type",
                       "impersonation", "--level", "identification")
        if checks.status(duplicate, 0, "dup to an Identification token"):
            copy = duplicate.out.strip()
            checks.check(copy.isdigit() and copy != source,
                         "dup prints a new id", repr(duplicate.out))
            stats = tk("--id", copy, "stats", "--json").json()["statistics"]
            checks.equal((stats["type"]["name"],
                          stats["impersonation_level"]["name"]),
                         ("Impersonation", "Identification"),
                         "the copy's type and level")
            diff = tk("diff", f"id:{source}", f"id:{copy}")
            checks.equal(diff.out,
                         "\n[differences (2)]\n"
                         "  type                 Primary  ->  Impersonation\n"
                         "  impersonation_level  Anonymous  ->  "
                         "Identification\n",
                         "diff shows only the type and level")
            checks.status(tk("revoke", "--id", copy), 0, "revoke --id")
            gone = tk("--id", copy, "user")
            checks.status(gone, 2, "a revoked object is gone")
        plain = tk("--id", source, "duplicate")
        if checks.status(plain, 0, "duplicate without options"):
            # token hands the object to the process that ran it (this test),
            # so it outlives token itself...
            checks.status(tk("--id", plain.out.strip(), "user"), 0,
                          "without --persist the copy outlives token")
        # ... and ends with that process.
        # (The trailing `:` keeps bash from exec-ing token in its place.)
        shell = run(["bash", "-c", f"'{token}' --id {source} duplicate; :"],
                    root)
        if checks.status(shell, 0, "duplicate run from a short-lived shell"):
            checks.status(tk("--id", shell.out.strip(), "user"), 2,
                          "without --persist the copy ends with the process "
                          "that ran token")

        # restrict.
        restricted = tk("--id", source, "restrict", "--drop-privs",
                        "SeDebug,23", "--deny", "3", "--restrict", "WD,BU",
                        "--persist")
        if checks.status(restricted, 0, "restrict"):
            narrow = restricted.out.strip()
            checks.equal(tk("--id", narrow, "privs").out,
                         "\n[privileges (2)]\n"
                         "  SeShutdown  disabled\n"
                         "  SeTimeZone  enabled, default\n",
                         "SeDebug and SeChangeNotify (bit 23) are gone")
            groups = tk("--id", narrow, "groups", "--raw").out
            checks.check(re.search(r"^  3  S-1-5-32-545 +alias +disabled, deny-only$",
                                   groups, re.M),
                         "group 3 (Users) is deny-only, no longer enabled "
                         "or enabled by default", groups)
            show = tk("--id", narrow, "show", "--all", "--raw").out
            checks.check(re.search(r"^  restricted +yes$", show, re.M),
                         "show says restricted", show)
            checks.check("[restricted sids (2)]" in show and
                         "0  S-1-1-0" in show and "1  S-1-5-32-545" in show,
                         "the restricting SIDs are listed", show)
            source_id = tk("--id", source, "stats", "--json").json()[
                "statistics"]["token_id"]
            parent = tk("--id", narrow, "stats", "--json").json()[
                "statistics"]["parent_token_id"]
            checks.equal(parent, source_id,
                         "parent_token_id names the source token")
            summary = tk("--id", narrow).out
            checks.check(summary.rstrip().endswith("restricted"),
                         "the one-line summary says restricted", summary)
            diff = tk("diff", f"id:{source}", f"id:{narrow}", "--raw",
                      "--json").json()
            fields = {entry["field"]: (entry["a"], entry["b"])
                      for entry in diff["differences"]}
            checks.equal(fields.get("privilege SeDebug"),
                         ("disabled", None), "diff: SeDebug removed")
            checks.equal(fields.get("restricted"), ("no", "yes"),
                         "diff: restricted")
            checks.equal(fields.get("group S-1-5-32-545"),
                         ("default, enabled (index 3)",
                          "disabled, deny-only (index 3)"),
                         "diff: Users became deny-only")
            checks.equal(diff["equal"], False, "diff --json equal is false")
            tk("revoke", narrow)
        by_mask = tk("--id", source, "restrict", "--drop-privs", "0x100000",
                     "--persist")
        if checks.status(by_mask, 0, "restrict --drop-privs 0xMASK"):
            privs = tk("--id", by_mask.out.strip(), "privs").out
            checks.check("SeDebug" not in privs and "SeShutdown" in privs,
                         "the mask 0x100000 is SeDebug (bit 20)", privs)
            tk("revoke", by_mask.out.strip())
        write = tk("--id", source, "restrict", "--restrict", "WD",
                   "--write-restricted", "--persist")
        if checks.status(write, 0, "restrict --write-restricted"):
            checks.check(re.search(r"^  restricted +write-restricted$",
                                   tk("--id", write.out.strip(), "show").out,
                                   re.M), "show says write-restricted")
            tk("revoke", write.out.strip())

        # Capabilities: the source holds tokeninfo and settings:email.
        result = tk("--id", source, "restrict", "--caps",
                    "tokeninfo:introspect,settings", "--persist")
        checks.status(result, 3, "asking for a capability not held")
        checks.check("settings" in result.err, "the refusal names it",
                     result.err)
        result = tk("--id", source, "restrict", "--caps",
                    "tokeninfo:introspect,settings", "--tighten", "--persist",
                    "--json")
        if checks.status(result, 0, "restrict --tighten"):
            document = result.json()
            checks.equal((document["narrowed"], document["dropped"]),
                         (["settings"], ["settings"]),
                         "settings is narrowed (to settings:email)")
            checks.check("notice: capability 'settings' narrowed" in
                         result.err, "a notice says so on stderr", result.err)
            caps = tk("--id", str(document["id"]), "caps").out
            checks.equal([line.split()[0] for line in caps.splitlines()[2:]],
                         ["tokeninfo:introspect", "settings:email"],
                         "the tightened capabilities")
            tk("revoke", str(document["id"]))
        result = tk("--id", source, "restrict", "--caps", "", "--persist")
        if checks.status(result, 0, "restrict --caps '' (none)"):
            checks.equal(tk("--id", result.out.strip(), "caps").out,
                         "\n[capabilities (0)]\n", "no capabilities")
            tk("revoke", result.out.strip())

        # link and linked.
        full = tk("--id", source, "dup", "--persist").out.strip()
        limited = tk("--id", source, "restrict", "--drop-privs", "SeDebug",
                     "--persist").out.strip()
        result = tk("link", "--elevated", f"id:{full}", "--filtered",
                    f"id:{limited}", "--session", "0")
        if checks.status(result, 0, "link"):
            linked = tk("--id", limited, "linked")
            if checks.status(linked, 0, "linked of the limited token"):
                checks.check("elevation_type       Full" in linked.out,
                             "the partner is the Full token", linked.out)
            linked = tk("--id", full, "linked", "--json")
            if checks.status(linked, 0, "linked --json of the full token"):
                checks.equal(linked.json()["linked"]["elevation_type"]["name"],
                             "Limited", "the partner is the Limited token")
        result = tk("link", "--elevated", "id:999999", "--filtered",
                    f"id:{limited}", "--session", "0")
        checks.status(result, 2, "link with a missing token")
        for object_id in (full, limited):
            tk("revoke", object_id)

        # install into another process (root has SeAssignPrimaryToken and
        # SeTcb).
        sleeper = subprocess.Popen(["sleep", "30"])
        try:
            result = tk("--pid", str(sleeper.pid), "install", GOLDEN)
            if checks.status(result, 0, "install into a process"):
                checks.equal(tk("--pid", str(sleeper.pid), "user",
                                "--raw").out, "S-1-22-1-4000001\n",
                             "the process now runs under the spec's user")
            checks.status(tk("--id", source, "install", GOLDEN), 1,
                          "install into a token object is a usage error")
        finally:
            sleeper.kill()
            sleeper.wait()

        # An id printed to a terminal without --persist: stderr says that
        # it goes away with the process that ran token; with --persist, or
        # with stdout a pipe, nothing is added.
        def on_terminal(*args):
            controller, terminal = pty.openpty()
            try:
                completed = subprocess.run(
                    [token, *args], stdout=terminal, stderr=subprocess.PIPE,
                    env=dict(os.environ, TOKENFS_ROOT=root), text=True,
                    timeout=10)
                out = os.read(controller, 4096).decode()
            finally:
                os.close(controller)
                os.close(terminal)
            return completed.returncode, out.strip(), completed.stderr

        for args in (["--id", source, "restrict", "--deny", "3"],
                     ["--id", source, "dup"], ["create", GOLDEN]):
            status, out, err = on_terminal(*args)
            checks.equal(
                (status, err),
                (0, f"token: notice: token object {out} is held by the "
                    f"process that ran token (pid {os.getpid()}) and goes "
                    "away when it exits; --persist keeps it until "
                    f"`token revoke {out}`\n"),
                f"{args[-2]} on a terminal: the holder notice")
        status, out, err = on_terminal("--id", source, "dup", "--persist")
        checks.equal((status, err), (0, ""), "--persist: no notice")
        tk("revoke", out)
        piped = tk("--id", source, "restrict", "--deny", "3")
        checks.equal((piped.status, piped.err), (0, ""),
                     "stdout a pipe: no notice")

        checks.status(tk("persist", source), 0, "persist an object again")
        checks.status(tk("revoke", source), 0, "revoke")
        checks.status(tk("revoke", source), 2, "revoke twice")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
