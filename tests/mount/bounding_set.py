"""A daemon under a narrow capability bounding set (tokenfs(8), SYSTEMD).

For a root target the inspection rule's last part, "is it dumpable", can
only be asked of the kernel's ptrace rule from a daemon thread that holds
every capability the target holds. Root callers without CAP_SYS_PTRACE
inspect root processes of their own shape here:

- under a daemon started with the bounding set the unit once had
  (SYS_ADMIN, NET_ADMIN, SYS_PTRACE, DAC_READ_SEARCH, DAC_OVERRIDE):
  - a target holding CAP_CHOWN and CAP_SYS_BOOT, which that daemon lacks,
    is refused, and the log says dumpability could not be told and why
    (not "not dumpable", which would be a wrong answer);
  - a target holding only capabilities the daemon has is readable, and
    refused with "not dumpable" once it calls PR_SET_DUMPABLE 0;
- under a daemon with every capability (the unit today), the first target
  is readable: the kernel would let the caller read it.

Usage: bounding_set.py TOKENFS FD_HANDOFF
"""

import os
import stat
import subprocess
import sys
import tempfile

from mountlib import Checks, Mount, require_root

NARROW = "+sys_admin,+net_admin,+sys_ptrace,+dac_read_search,+dac_override"


def as_root_with(caps, command):
    """`command` as root holding only `caps` (no CAP_SYS_PTRACE)."""
    return ["setpriv", f"--bounding-set=-all,{caps}", "--inh-caps=-all",
            *command]


def read_parent(mount, caps):
    """A shell with `caps` whose child cat reads the shell's token."""
    return subprocess.run(
        as_root_with(caps, ["sh", "-c", f"cat {mount.path}/$$/user"]),
        capture_output=True, text=True, timeout=20)


def read_hidden_parent(mount, caps):
    """As read_parent, but the parent is not dumpable (PR_SET_DUMPABLE 0)."""
    script = ("import ctypes, os, subprocess, sys\n"
              "ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\n"
              f"sys.exit(subprocess.call(['cat', '{mount.path}/' + "
              "str(os.getpid()) + '/user']))\n")
    return subprocess.run(as_root_with(caps, ["python3", "-c", script]),
                          capture_output=True, text=True, timeout=20)


def main():
    tokenfs = os.path.realpath(sys.argv[1])
    require_root()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="tkbound.") as scratch:
        narrow = os.path.join(scratch, "tokenfs-narrow")
        with open(narrow, "w") as wrapper:
            wrapper.write("#!/bin/sh\n"
                          f"exec setpriv --bounding-set=-all,{NARROW} "
                          f"--inh-caps=-all {tokenfs} \"$@\"\n")
        os.chmod(narrow, stat.S_IRWXU)

        with Mount(narrow, own_daemon=True) as mount:
            with open("/proc/" + str(mount.process.pid) + "/status") as s:
                bounding = [line for line in s if line.startswith("CapBnd")]
            checks.ok(bounding and int(bounding[0].split()[1], 16) ==
                      0x281006, "the daemon runs under the narrow set",
                      str(bounding))

            result = read_parent(mount, "+chown,+sys_boot")
            checks.ok(result.returncode != 0 and
                      "Permission denied" in result.stderr,
                      "a target holding capabilities the daemon lacks is "
                      "refused", result.stdout + result.stderr)
            checks.ok("whether it is dumpable cannot be told (it holds "
                      "CAP_CHOWN, CAP_SYS_BOOT, which tokenfs itself lacks"
                      in mount.log(),
                      "the log says why dumpability is unknown",
                      mount.log()[-2000:])
            checks.ok("is not dumpable" not in mount.log(),
                      "the refusal does not claim the target is not "
                      "dumpable")

            inside = "+dac_override,+sys_admin"
            result = read_parent(mount, inside)
            checks.ok(result.returncode == 0 and
                      result.stdout.startswith("S-1-"),
                      "a target holding only the daemon's capabilities is "
                      "readable", result.stdout + result.stderr)
            result = read_hidden_parent(mount, inside)
            checks.ok(result.returncode != 0 and
                      "it is not dumpable" in mount.log(),
                      "that target is refused once it is not dumpable",
                      result.stderr + mount.log()[-2000:])

        with Mount(tokenfs, own_daemon=True) as mount:
            result = read_parent(mount, "+chown,+sys_boot")
            checks.ok(result.returncode == 0 and
                      result.stdout.startswith("S-1-"),
                      "with every capability the daemon lets the caller "
                      "read it, as the kernel would",
                      result.stdout + result.stderr)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
