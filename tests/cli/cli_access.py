"""token access: the outcome agrees with core AccessCheck on the same inputs
(cli_access_oracle builds the token from the same spec and runs the check
in-process), matches hand-derived expectations (MS-DTYP 2.5.3.2 order; the
tokens of specs/golden.json and of a backup operator below), prints the
descriptor in canonical SDDL, and answers with exit 0 (granted) or 3.
"""

import json
import os
import subprocess
import sys
import tempfile

import clilib
from clilib import Checks, Mount, run

GOLDEN = os.path.join(clilib.HERE, "specs", "golden.json")
BACKUP_SPEC = {
    "version": 2,
    "user": "S-1-5-21-1-2-3-1500",
    "session_id": "0x0",
    "groups": ["S-1-1-0"],
    "privileges": {"present": ["SeBackup", "SeChangeNotify"],
                   "enabled": ["SeBackup", "SeChangeNotify"]},
}

# (name, spec, sddl, desired, mapping, intent, principal self,
#  expected status, granted, deciding ace, privileges used)
# Hand derivations (golden token: Everyone and Users enabled,
# Administrators deny-only, Backup Operators disabled, Medium integrity with
# NO_WRITE_UP; file mapping: FR 0x120089, FW 0x120116, FA 0x1f01ff):
CASES = [
    ("an allow ACE for Everyone grants FR", "golden",
     "O:SYG:SYD:(A;;FR;;;WD)", "FR", "file", "", None,
     "granted", "0x120089", 0, []),
    ("a deny ACE matches a deny-only group", "golden",
     "O:SYG:SYD:(D;;FW;;;BA)(A;;FA;;;WD)", "FW", "file", "", None,
     "access-denied", "0x0", 0, []),
    ("a disabled group matches nothing", "golden",
     "O:SYG:SYD:(A;;FA;;;BO)", "FR", "file", "", None,
     "access-denied", "0x0", -1, []),
    ("no write up to a High object", "golden",
     "O:SYG:SYD:(A;;FA;;;WD)S:(ML;;NW;;;HI)", "FW", "file", "", None,
     "access-denied", "0x0", None, []),
    ("reading down from Medium to High is allowed", "golden",
     "O:SYG:SYD:(A;;FA;;;WD)S:(ML;;NW;;;HI)", "FR", "file", "", None,
     "granted", "0x120089", 0, []),
    ("MAXIMUM_ALLOWED unions the allow ACEs", "golden",
     "O:SYG:SYD:(A;;FR;;;WD)(A;;FW;;;BU)", "MAXIMUM_ALLOWED", "file", "",
     None, "granted", "0x12019f", None, []),
    ("the owner gets READ_CONTROL and WRITE_DAC", "golden",
     "O:S-1-22-1-4000001G:SYD:", "READ_CONTROL|WRITE_DAC", "token", "", None,
     "granted", "0x60000", -1, []),
    ("PRINCIPAL SELF stands for the given SID", "golden",
     "O:SYG:SYD:(A;;GR;;;PS)", "GENERIC_READ", "token", "",
     "S-1-22-1-4000001", "granted", "0x20008", 0, []),
    ("PRINCIPAL SELF matches nothing without it", "golden",
     "O:SYG:SYD:(A;;GR;;;PS)", "GENERIC_READ", "token", "", None,
     "access-denied", "0x0", -1, []),
    ("SeBackup grants read with backup intent", "backup",
     "O:SYG:SYD:", "FR", "file", "backup", None,
     "granted", "0x120089", None, ["SeBackup"]),
    ("SeBackup does nothing without the intent", "backup",
     "O:SYG:SYD:", "FR", "file", "", None,
     "access-denied", "0x0", None, []),
    # KEY_READ 0x20019; the custom form of the same mapping (GR,GW,GX,GA).
    ("the key mapping maps GR to KEY_READ", "golden",
     "O:SYG:SYD:(A;;GR;;;WD)", "GR", "key", "", None,
     "granted", "0x20019", 0, []),
    ("a custom mapping in hex", "golden",
     "O:SYG:SYD:(A;;GR;;;WD)", "GR", "20019,20006,20019,f003f", "", None,
     "granted", "0x20019", 0, []),
    # PROCESS GENERIC_EXECUTE: TERMINATE | QUERY_LIMITED | SYNCHRONIZE.
    ("the process mapping", "golden",
     "O:SYG:SYD:(A;;0x121001;;;WD)", "GX", "process", "", None,
     "granted", "0x121001", 0, []),
    ("a descriptor without a group is invalid for a check", "golden",
     "O:SYD:(A;;FA;;;WD)", "FR", "file", "", None,
     "invalid-security-descriptor", "0x0", -1, []),
    ("a mapping that leaves a generic bit", "golden",
     "O:SYG:SYD:(A;;GA;;;WD)", "GR", "80000000,1,2,3", "", None,
     "generic-not-mapped", "0x0", -1, []),
]


def main():
    token, tokenfs, helpers = clilib.binaries()
    if not helpers:
        print("usage: cli_access.py TOKEN TOKENFS ORACLE")
        return 2
    oracle = helpers[0]
    clilib.require_root()
    checks = Checks()
    work = tempfile.mkdtemp(prefix="tkcli-access.")
    backup_path = os.path.join(work, "backup.json")
    with open(backup_path, "w") as file:
        json.dump(BACKUP_SPEC, file)
    specs = {"golden": GOLDEN, "backup": backup_path}
    with Mount(tokenfs) as mount:
        ids = {}
        for name, path in specs.items():
            created = run([token, "create", "--persist", path], mount.path)
            if not checks.status(created, 0, f"create the {name} token"):
                return checks.finish()
            ids[name] = created.out.strip()

        for (name, spec, sddl, desired, mapping, intent, principal_self,
             status, granted, deciding, used) in CASES:
            args = [token, "--id", ids[spec], "access", "--sd", sddl,
                    "--desired", desired, "--mapping", mapping]
            if intent:
                args += ["--intent", intent]
            if principal_self:
                args += ["--principal-self", principal_self]
            result = run(args + ["--json"], mount.path)
            checks.status(result, 0 if status == "granted" else 3, name)
            try:
                document = result.json()
            except json.JSONDecodeError:
                checks.check(False, f"{name}: JSON", repr(result))
                continue
            actual = {key: document.get(key) for key in
                      ("status", "granted", "deciding_ace",
                       "privileges_used")}
            expected = {"status": status, "granted": granted,
                        "deciding_ace": deciding if deciding is not None
                        else actual["deciding_ace"],
                        "privileges_used": used}
            checks.equal(actual, expected, f"{name}: as derived by hand")
            oracle_args = [oracle, specs[spec], sddl, desired, mapping,
                           intent]
            if principal_self:
                oracle_args.append(principal_self)
            reference = subprocess.run(oracle_args, capture_output=True,
                                       text=True)
            if checks.check(reference.returncode == 0,
                            f"{name}: oracle ran", reference.stderr):
                checks.equal(actual, json.loads(reference.stdout),
                             f"{name}: agrees with core AccessCheck")

        # Canonical SDDL, and the human layout.
        result = run([token, "--id", ids["golden"], "access", "--sd",
                      " O:SY G:SY D:(a;;fr;;;wd) ", "--desired", "fr",
                      "--mapping", "FILE", "--json"], mount.path)
        if checks.status(result, 0, "lower-case SDDL with spaces"):
            checks.equal(result.json()["sd"], "O:SYG:SYD:(A;;FR;;;WD)",
                         "--json carries the descriptor as canonical SDDL")
        result = run([token, "--id", ids["golden"], "access", "--sd",
                      "O:SYG:SYD:(D;;GW;;;WD)(A;;GA;;;WD)", "--desired",
                      "QUERY|ADJUST_DEFAULT"], mount.path)
        checks.status(result, 3, "a denied request exits 3")
        rows = {}
        sections = []
        for line in result.out.splitlines():
            if line.startswith("["):
                sections.append(line)
            elif line.startswith("  ") and sections == ["[access]"]:
                key, _, value = line[2:].partition("  ")
                rows[key] = value.strip()
        checks.equal(sections, ["[access]", "[trace]"],
                     "access prints [access] then [trace]")
        checks.equal({key: rows.get(key) for key in
                      ("status", "granted", "desired", "mapping",
                       "deciding_ace", "privileges_used", "sd")},
                     {"status": "access-denied", "granted": "0x0",
                      "desired": "0x88 (QUERY | ADJUST_DEFAULT)",
                      "mapping": "token", "deciding_ace": "0",
                      "privileges_used": "none",
                      "sd": "O:SYG:SYD:(D;;GW;;;WD)(A;;GA;;;WD)"},
                     "the [access] rows of a denial by ACE 0")
        checks.check("ACE 0" in rows.get("reason", ""),
                     "the reason names the deciding ACE", rows)

        # Device claims for a conditional ACE (the golden token has none);
        # a string literal travels through the command's quoting.
        conditional = ("O:SYG:SYD:(XA;;FR;;;WD;(@Device.site == \"lab\" && "
                       "@User.Title == \"PM\"))")
        claims_args = [token, "--id", ids["golden"], "access", "--sd",
                       conditional, "--desired", "FR", "--mapping", "file",
                       "--json"]
        result = run(claims_args, mount.path)
        checks.status(result, 3, "no claims: the conditional ACE is not TRUE")
        result = run(claims_args + [
            "--device-claims",
            '[{"name": "site", "type": "string", "values": ["lab"]}]',
            "--user-claims",
            '[{"name": "Title", "type": "string", "values": ["PM"]}]'],
            mount.path)
        if checks.status(result, 0, "--device-claims and --user-claims"):
            checks.equal(result.json()["granted"], "0x120089",
                         "the claims make the condition TRUE")
        result = run(claims_args + ["--device-claims", '[{"name": 1}]'],
                     mount.path)
        checks.status(result, 4, "a bad claim array is refused")
        # Domain aliases: --domain-sid, else the daemon's machine domain.
        result = run([token, "--id", ids["golden"], "access", "--sd",
                      "O:DAG:DUD:(A;;FR;;;LA)", "--desired", "FR",
                      "--mapping", "file", "--domain-sid", "S-1-5-21-7-8-9",
                      "--json"], mount.path)
        if checks.status(result, 3, "--domain-sid: the check runs"):
            checks.equal(result.json()["sd"], "O:DAG:DUD:(A;;FR;;;LA)",
                         "SIDs of the given domain print as their aliases")
        result = run([token, "--id", ids["golden"], "access", "--sd",
                      "O:S-1-5-21-7-8-9-512G:DUD:", "--desired", "FR",
                      "--mapping", "file", "--json"], mount.path)
        if checks.status(result, 3, "the daemon's machine domain"):
            checks.equal(result.json()["sd"],
                         "O:S-1-5-21-7-8-9-512G:DUD:",
                         "another domain's SID keeps its S- form, the "
                         "machine domain's prints as its alias")
        result = run([token, "--id", ids["golden"], "access", "--sd",
                      "O:SYG:SYD:", "--domain-sid", "S-1-5-32-544"],
                     mount.path)
        checks.status(result, 4, "--domain-sid refuses a non-domain SID")

        # Without --sd: the token object's own security descriptor, which
        # lets the token's user QUERY (DefaultTokenSecurity).
        result = run([token, "--id", ids["golden"], "access", "--desired",
                      "QUERY", "--json"], mount.path)
        if checks.status(result, 0, "access against the token's own SD"):
            checks.equal(result.json()["sd"],
                         "O:SYG:SYD:(A;;SWWPDTLO;;;S-1-22-1-4000001)"
                         "(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;SY)"
                         "S:(ML;;NW;;;ME)",
                         "the token's own descriptor")
        for object_id in ids.values():
            run([token, "revoke", object_id], mount.path)
    os.remove(backup_path)
    os.rmdir(work)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
