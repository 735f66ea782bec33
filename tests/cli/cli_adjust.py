"""Adjustments: they land on the invoking process (the shell, and so every
later child of it), validate first, apply all-or-nothing, and the tree
shows the result (man/token.1, "Changing a token")."""

import os
import re
import sys

import clilib
from clilib import Checks, Mount, Users, run


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    with Users("tkcli_a") as users, Mount(tokenfs) as mount:
        root = mount.path
        self_privs = os.path.join(root, "self", "privs")

        # The acceptance case: a shell adjusts, then cat in that shell sees
        # it (cat is forked from the shell after the change).
        for prefix, who in (([], "root"),
                            (Users.as_user("tkcli_a"), "tkcli_a")):
            result = run(prefix + ["bash", "-c",
                                   f"{token} adjust privs "
                                   "SeChangeNotify=disabled && "
                                   f"grep ChangeNotify {self_privs}; "
                                   f"{token} adjust privs --reset && "
                                   f"grep ChangeNotify {self_privs}"], root)
            checks.equal(result.out,
                         "SeChangeNotify  disabled,default\n"
                         "SeChangeNotify  enabled,default\n",
                         f"{who}: the shell's later children see the "
                         "adjustment and the reset")
            checks.equal(result.err, "", f"{who}: adjust prints nothing")
        result = run(Users.as_user("tkcli_a") + [
            "bash", "-c",
            f"{token} adjust privs SeShutdown=enabled SeTimeZone=enabled; "
            f"{token} privs --raw; {token} adjust privs reset; "
            f"{token} privs | grep -c enabled"], root)
        checks.equal(result.out,
                     "\n[privileges (5)]\n"
                     "  SeShutdown            enabled\n"
                     "  SeChangeNotify        enabled, default\n"
                     "  SeUndock              disabled\n"
                     "  SeIncreaseWorkingSet  disabled\n"
                     "  SeTimeZone            enabled\n"
                     "1\n",
                     "several items at once, then `reset` as an item "
                     "(docs/policy.md baseline privileges)")

        # A created token (specs/golden.json) for groups and defaults.
        spec = os.path.join(clilib.HERE, "specs", "golden.json")
        created = run([token, "create", "--persist", spec], root)
        if not checks.status(created, 0, "create"):
            return checks.finish()
        object_id = created.out.strip()

        def on_object(*args):
            return run([token, "--id", object_id, *args], root)

        def group_line(index):
            result = on_object("groups", "--raw")
            for line in result.out.splitlines():
                if line.strip().startswith(f"{index}  "):
                    return re.split(r"\s{2,}", line.strip())[-1]
            return None

        before = on_object("stats", "--json").json()["statistics"]
        checks.status(on_object("adjust", "groups", "3=disabled",
                                "4=enabled"), 0, "adjust groups")
        checks.equal((group_line(3), group_line(4)),
                     ("default, disabled", "enabled"),
                     "groups 3 and 4 changed together")
        after = on_object("stats", "--json").json()["statistics"]
        checks.check(after["modified_id"] != before["modified_id"],
                     "an adjustment changes modified_id")
        checks.status(on_object("adjust", "groups", "--reset"), 0,
                      "adjust groups --reset")
        checks.equal((group_line(3), group_line(4)),
                     ("default, enabled", "disabled"),
                     "reset restores the default states")
        checks.status(on_object("adjust", "groups", "Users=disabled",
                                "S-1-5-32-551=enabled"), 0,
                      "adjust groups by name and by SID")
        checks.equal((group_line(3), group_line(4)),
                     ("default, disabled", "enabled"),
                     "the name and the SID name groups 3 and 4")
        checks.status(on_object("adjust", "groups", "users=enabled",
                                "s-1-5-32-551=disabled"), 0,
                      "names and SIDs in any case")
        checks.equal((group_line(3), group_line(4)),
                     ("default, enabled", "disabled"),
                     "changed back by name and SID")
        result = on_object("adjust", "groups", "Nobody=enabled")
        checks.equal((result.status, result.err),
                     (4, "token: adjust groups 'Nobody=enabled': no group "
                         "Nobody in the token (`token groups` lists them)\n"),
                     "an unknown group name is invalid input")
        refused = on_object("adjust", "groups", "4=enabled", "2=enabled")
        checks.status(refused, 3, "enabling a deny-only group")
        checks.equal(group_line(4), "disabled",
                     "a refused command changes nothing (item 1 not applied)")

        checks.status(on_object("adjust", "privs", "SETIMEZONE=disabled",
                                "sedebugprivilege=enabled", "19=removed"), 0,
                      "short, full and bit-number names, any case")
        result = on_object("privs")
        checks.equal(result.out,
                     "\n[privileges (3)]\n"
                     "  SeDebug         enabled\n"
                     "  SeChangeNotify  enabled, default\n"
                     "  SeTimeZone      disabled, default\n",
                     "SeDebug enabled (not by default), SeShutdown removed, "
                     "SeTimeZone disabled")
        result = on_object("adjust", "privs", "SeShutdown=enabled")
        checks.status(result, 3, "a removed privilege cannot come back")

        # --owner-idx and --group-idx number groups as `token groups` does
        # (and `restrict --deny`); `user` is the user.
        result = on_object("adjust", "default", "--dacl", "D:(A;;GA;;;WD)",
                           "--owner-idx", "user", "--group-idx", "1", "--json")
        if checks.status(result, 0, "adjust default, all three"):
            document = result.json()
            checks.equal({key: document.get(key) for key in
                          ("default_dacl", "owner", "primary_group",
                           "result")},
                         {"default_dacl": "D:(A;;GA;;;WD)", "owner": "user",
                          "primary_group": "1", "result": "ok"},
                         "adjust default --json echoes the request")
        checks.equal(on_object("default-dacl").out, "D:(A;;GA;;;WD)\n",
                     "the new default DACL")
        checks.equal(on_object("group", "--raw").out, "S-1-1-0\n",
                     "--group-idx 1 is group 1 of `token groups`, Everyone")
        checks.equal(on_object("owner", "--raw").out, "S-1-22-1-4000001\n",
                     "--owner-idx user is the user")
        checks.status(on_object("adjust", "default", "--group-idx", "Users"),
                      0, "--group-idx by name")
        checks.equal(on_object("group", "--raw").out, "S-1-5-32-545\n",
                     "the group named Users (index 3)")
        checks.status(on_object("adjust", "default", "--group-idx", "0"), 0,
                      "--group-idx 0")
        checks.equal(on_object("group", "--raw").out, "S-1-22-2-4000001\n",
                     "--group-idx 0 is group 0 of `token groups`")
        checks.status(on_object("adjust", "default", "--group-idx",
                                "S-1-1-0"), 0, "--group-idx by SID")
        result = on_object("adjust", "default", "--group-idx", "3",
                           "--dacl", "D:(A;;GA;;;SY)", "--owner-idx", "2")
        checks.status(result, 3, "an owner without the owner attribute")
        checks.equal(on_object("group", "--raw").out, "S-1-1-0\n",
                     "the owner is applied first, so nothing changed")
        result = on_object("adjust", "default", "--group-idx", "1",
                           "--owner-idx", "99")
        checks.check(result.status == 4 and "99" in result.err,
                     "an owner index past the end", repr(result))
        result = on_object("adjust", "default", "--owner-idx", "user",
                           "--group-idx", "S-1-5-99")
        checks.check(result.status in (3, 4) and
                     "already applied: owner" in result.err,
                     "a later refusal says what was already applied",
                     repr(result))

        checks.status(on_object("adjust", "integrity", "low"), 0,
                      "lower the integrity")
        checks.check("Low Mandatory Level (S-1-16-4096)" in
                     on_object("integrity").out, "the integrity is Low")
        checks.status(on_object("adjust", "integrity", "S-1-16-8192"), 0,
                      "root (SeTcb) raises it back")
        checks.status(on_object("adjust", "session", "7"), 0,
                      "root sets the session")
        checks.check("interactivity_scope  7" in on_object("show").out,
                     "the session is 7")
        run([token, "revoke", object_id], root)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
