#!/usr/bin/env python3
"""Directory identities against a real Active Directory (issue 16).

Provisions a Samba AD DC on loopback (samba_dc.py), creates users, groups
and nested groups, starts tokenfs, and runs processes as the uids winbind
maps the domain users to (setpriv). Checks that:
  - a domain user's token has the user SID and exactly the token groups
    `wbinfo --user-sids` prints, plus the policy's well-known groups, with
    the directory's names as labels, and `token show --all` says the
    identity came from the directory and when;
  - an SD granting a domain-local group grants a user who is a member only
    through a nested global group, and the SDDL alias DU stands for the
    joined domain's Domain Users;
  - a local user keeps S-1-22 SIDs while the DC is up;
  - with winbindd stopped (SIGSTOP: it accepts, never answers) a new token
    is minted within a bounded time, from the cached answer for a known user
    and with local S-1-22 SIDs (and a log line) for an unknown one; with the
    DC gone altogether, likewise.
The DC is stopped and its directory removed at the end, also on failure.

Usage: directory.py TOKENFS TOKEN_CLI
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

import samba_dc  # noqa: E402
from tokenfs_daemon import Mount, require_root, skip  # noqa: E402

TOKENFS, TOKEN = sys.argv[1], sys.argv[2]
failures = []
MOUNT_ROOT = ["/tokens"]  # where the token CLI looks (TOKENFS_ROOT)

# Well-known groups the built-in policy adds to every non-root token (the
# logon SID S-1-5-5-... and Interactive are checked apart).
POLICY_GROUPS = ["S-1-1-0", "S-1-5-11", "S-1-5-32-545", "S-1-2-0"]


def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def run_as(uid, gids, *command, timeout=20):
    """Runs `command` as uid with primary gid gids[0] and groups `gids`;
    returns (exit code, stdout, seconds taken)."""
    started = time.monotonic()
    done = subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={gids[0]}",
         "--groups=" + ",".join(str(gid) for gid in gids), "--", *command],
        capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, TOKENFS_ROOT=MOUNT_ROOT[0]))
    return done.returncode, done.stdout + done.stderr, \
        time.monotonic() - started


def token_cli(uid, gids, *args):
    """Runs the token CLI as uid from a shell of that uid, which is the
    CLI's `self` (its parent)."""
    return run_as(uid, gids, "sh", "-c", '"$0" "$@"; exit $?', TOKEN, *args)


def status_of(out):
    """The `status` line of token access's output."""
    for line in out.splitlines():
        if line.strip().startswith("status"):
            return line.strip()
    return out.strip()[-300:]


def token_file(mount, uid, gids, name):
    code, out, took = run_as(uid, gids, "cat", mount.file("self", name))
    if code != 0:
        raise RuntimeError(f"cat self/{name} as {uid}: {out}")
    return out, took


def groups_of(mount, uid, gids):
    """[(sid, label)] of the token's groups, in token order."""
    text, _ = token_file(mount, uid, gids, "groups")
    groups = []
    for line in text.splitlines():
        fields = line.split("  ")
        groups.append((fields[1], fields[3] if len(fields) > 3 else ""))
    return groups


def directory_groups(groups):
    """The token's groups that are not the policy's own."""
    return [sid for sid, _ in groups
            if sid not in POLICY_GROUPS and not sid.startswith("S-1-5-5-")
            and sid != "S-1-5-4"]


def main():
    # ctest's timeout sends SIGTERM: unwind, so the DC and the mount go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    require_root("runs a domain controller and processes as domain users")
    if missing_tools := samba_dc.missing_tools():
        message = "Samba is not installed (" + ", ".join(missing_tools) + \
            "); scripts/deps.sh installs it"
        if os.environ.get("CI"):
            print("FAIL " + message)
            return 1
        skip(message)
    if samba_dc.winbind_answers():
        skip("a winbindd already answers on this host (a joined host?): "
             "the test DC cannot take its socket")

    started = time.monotonic()
    with samba_dc.SambaDC() as dc:
        print(f"DC up in {time.monotonic() - started:.1f} s")
        # alice is in `inner` (global), which is in `outer` (global) and in
        # `readers` (domain-local); bob is in no group of his own.
        dc.add_user("alice")
        dc.add_user("bob")
        dc.add_user("carol")
        dc.add_group("inner")
        dc.add_group("outer")
        dc.add_group("readers", scope="Domain")
        dc.add_members("inner", "alice")
        dc.add_members("outer", "inner")
        dc.add_members("readers", "inner")
        domain = dc.domain_sid()
        alice_sid, bob_sid = dc.sid("alice"), dc.sid("bob")
        readers_sid = dc.sid("readers")
        alice = dc.credentials("alice")
        bob = dc.credentials("bob")
        carol = dc.credentials("carol")
        alice_sids = dc.user_sids(alice_sid)
        print(f"domain {domain}; alice {alice} {alice_sids}; bob {bob}")
        check(readers_sid in alice_sids,
              "wbinfo --user-sids lists the domain-local group alice is in "
              "through `inner`")

        # A short cache so that the outage below outlives it.
        policy = os.path.join(dc.work, "policy.json")
        with open(policy, "w") as out:
            out.write('{"directory": {"cache_seconds": 3}}\n')
        with Mount(TOKENFS, "--policy", policy, prefix="tkdir.") as mount:
            MOUNT_ROOT[0] = mount.path
            check("joined to domain TOKENFS (" + domain + ")" in mount.log(),
                  "the daemon logs the joined domain")

            # ---- a domain user's token ----
            user, took = token_file(mount, *alice, "user")
            check(user == f"{alice_sid}  TOKENFS\\alice\n",
                  f"alice's user is her domain SID with her name ({user!r}, "
                  f"first mint {took * 1000:.0f} ms)")
            groups = groups_of(mount, *alice)
            check(directory_groups(groups) ==
                  [sid for sid in alice_sids[1:] if sid not in POLICY_GROUPS]
                  and "S-1-5-32-545" in [sid for sid, _ in groups],
                  "alice's groups are wbinfo --user-sids plus the policy's")
            for sid, label in groups:
                print(f"     {sid}  {label}")
            labels = dict(groups)
            check(labels.get(f"{domain}-513") == "TOKENFS\\Domain Users",
                  "Domain Users is named from the directory")
            check(labels.get(dc.sid("inner")) == "TOKENFS\\inner",
                  "a global group is named from the directory")
            primary, _ = token_file(mount, *alice, "group")
            check(primary.startswith(f"{domain}-513"),
                  "alice's primary group is Domain Users")
            code, out, _ = token_cli(*alice, "show", "--all")
            identity = [line for line in out.splitlines()
                        if line.strip().startswith("identity")]
            check(code == 0 and len(identity) == 1 and
                  "directory (winbind), fetched 20" in identity[0],
                  f"token show --all says where the identity came from "
                  f"({identity})")

            # bob has no group of his own: Domain Users and BUILTIN\Users.
            bob_groups = directory_groups(groups_of(mount, *bob))
            check(bob_groups == [sid for sid in dc.user_sids(bob_sid)[1:]
                                 if sid not in POLICY_GROUPS],
                  "bob's groups are wbinfo --user-sids plus the policy's")

            # ---- access through nesting and the domain aliases ----
            sd = f"O:SYG:SYD:(A;;GR;;;{readers_sid})"
            code, out, _ = token_cli(*alice, "access", "--sd", sd, "--desired", "GR")
            check(code == 0, f"an SD granting `readers` grants alice, a "
                  f"member through `inner` ({status_of(out)})")
            code, out, _ = token_cli(*bob, "access", "--sd", sd, "--desired", "GR")
            check(code == 3, f"the same SD denies bob ({status_of(out)})")
            code, out, _ = token_cli(*bob, "access", "--sd", "O:SYG:SYD:(A;;GR;;;DU)",
                                  "--desired", "GR")
            check(code == 0, f"DU stands for the joined domain's Domain "
                  f"Users ({status_of(out)})")

            # ---- a local user on the joined host ----
            user, _ = token_file(mount, 4242, [4242], "user")
            check(user.startswith("S-1-22-1-4242"),
                  f"a local uid keeps its Unix User SID ({user.strip()})")

            # ---- winbindd stops answering ----
            time.sleep(3.2)  # alice's cached answer expires
            pids = dc.winbindd_pids()
            check(bool(pids), f"found the DC's winbindd ({pids})")
            for pid in pids:
                os.kill(pid, 19)  # SIGSTOP: connects, never answers
            try:
                user, took = token_file(mount, *alice, "user")
                check(user.startswith(alice_sid) and took < 2,
                      f"with winbindd stopped alice is minted from the "
                      f"cache in {took * 1000:.0f} ms")
                check(directory_groups(groups_of(mount, *alice)) ==
                      [sid for sid in alice_sids[1:]
                       if sid not in POLICY_GROUPS],
                      "... with the cached groups")
                code, out, _ = token_cli(*alice,     "show", "--all")
                check("directory (winbind), fetched" in out,
                      "... and its source says directory")
                user, took = token_file(mount, *carol, "user")
                check(user.startswith(f"S-1-22-1-{carol[0]}") and took < 2,
                      f"carol (never looked up) gets S-1-22 SIDs in "
                      f"{took * 1000:.0f} ms")
                code, out, _ = token_cli(*carol,     "show", "--all")
                check("local (the directory did not answer)" in out,
                      "... and her source says the directory did not answer")
                log = mount.log()
                check(f"uid {alice[0]}:" in log and
                      "minted from the cached directory answer" in log,
                      "the daemon logs the cached mint")
                check(f"uid {carol[0]}:" in log and
                      "minted with local S-1-22 SIDs" in log,
                      "the daemon logs the local fallback")
            finally:
                for pid in pids:
                    os.kill(pid, 18)  # SIGCONT

            # ---- the DC goes away ----
            dc.stop()
            user, took = token_file(mount, *bob, "user")
            check(user.startswith(bob_sid) and took < 2,
                  f"with the DC stopped bob is minted from the cache in "
                  f"{took * 1000:.0f} ms")
            user, took = token_file(mount, 4243, [4243], "user")
            check(user.startswith("S-1-22-1-4243") and took < 2,
                  f"a local uid is minted in {took * 1000:.0f} ms")
    print(f"directory test took {time.monotonic() - started:.1f} s")
    if failures:
        print(f"{len(failures)} checks failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
