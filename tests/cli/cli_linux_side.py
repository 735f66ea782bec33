"""token show --all shows the Linux side, as setpriv -d does (man/token.1,
show): the five capability sets, no_new_privs and securebits of the
target process, and which capability backs each privilege.

The process is a shell made with setpriv, so its sets are known in
advance; the expected values are also decoded here, independently, from
its /proc/<pid>/status.
"""

import json
import sys

import clilib
from clilib import Checks, Mount, run

# Bit numbers of linux/capability.h, for decoding /proc masks here.
NAMES = {0: "CAP_CHOWN", 3: "CAP_FOWNER", 19: "CAP_SYS_PTRACE",
         22: "CAP_SYS_BOOT", 25: "CAP_SYS_TIME"}


def decode(hex_mask):
    mask = int(hex_mask, 16)
    return [NAMES.get(bit, f"bit {bit}") for bit in range(64)
            if mask >> bit & 1]


def main():
    token, tokenfs, _ = clilib.binaries()
    clilib.require_root()
    checks = Checks()
    with Mount(tokenfs) as mount:
        # The shell is the target (self: token's parent). It prints its
        # /proc status, then token's JSON and text.
        script = (f"grep -E '^(Cap|NoNewPrivs)' /proc/$$/status; echo ==; "
                  f"{token} show --all --json; echo ==; {token} show --all; "
                  "exit $?")
        result = run(["setpriv", "--inh-caps=-all",
                      "--bounding-set=-all,+chown,+sys_boot",
                      "--no-new-privs", "sh", "-c", script], mount.path)
        if not checks.status(result, 0, "token show --all under setpriv"):
            return checks.finish()
        status_text, json_text, text = result.out.split("==\n")
        status = dict(line.split(":\t") for line in status_text.splitlines())
        process = json.loads(json_text)["linux"]["process"]
        expected = ["CAP_CHOWN", "CAP_SYS_BOOT"]
        for key, field in (("cap_effective", "CapEff"),
                           ("cap_permitted", "CapPrm"),
                           ("cap_bounding", "CapBnd"),
                           ("cap_inheritable", "CapInh"),
                           ("cap_ambient", "CapAmb")):
            checks.equal(process[key], decode(status[field]),
                         f"{key} is /proc's {field}")
        checks.equal(process["cap_bounding"], expected,
                     "the bounding set is what setpriv left")
        checks.equal(process["cap_inheritable"], [], "no inheritable caps")
        checks.equal(process["no_new_privs"], True, "no_new_privs is set")
        checks.equal(process["securebits"], None,
                     "securebits of another process are unknown")
        lines = text.splitlines()
        section = lines[lines.index("[linux process]"):]
        for row in ("cap_effective", "cap_permitted", "cap_bounding"):
            checks.check(any(line.split()[:1] == [row] and
                             line.endswith("CAP_CHOWN, CAP_SYS_BOOT")
                             for line in section),
                         f"text row {row} names the two capabilities",
                         text)
        for row, value in (("cap_inheritable", "none"),
                           ("cap_ambient", "none"),
                           ("no_new_privs", "yes")):
            checks.check(any(line.split() == [row, value]
                             for line in section),
                         f"text row {row} reads {value}", text)
        # Root's token: SeTakeOwnership is backed by CAP_CHOWN and
        # CAP_FOWNER, SeShutdown by CAP_SYS_BOOT, SeChangeNotify by none
        # (docs/policy.md, section 1.3).
        backing = json.loads(json_text)["linux"]["privilege_capabilities"]
        checks.equal(backing.get("SeShutdown"), ["CAP_SYS_BOOT"],
                     "SeShutdown is backed by CAP_SYS_BOOT")
        checks.equal(backing.get("SeChangeNotify"), [],
                     "SeChangeNotify is backed by no capability")
        checks.check(any(line.split() == ["SeShutdown", "CAP_SYS_BOOT"]
                         for line in lines),
                     "text: [privilege capabilities] SeShutdown row", text)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
