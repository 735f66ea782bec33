"""Malformed token specs through the CLI (issue 5): one spec per validation
rule of the binary token spec v2 (man token-spec.5), each refused by
`token spec decode` with exit status 4 and a one-line message naming the
field; a valid spec decodes, and `token spec encode | token spec decode`
round-trips.

The specs are built here field by field from the layout in token-spec.5
(offsets of the 192-byte header), independently of the encoder.

Usage: cli_spec_corpus.py TOKEN TOKENFS [HELPERS...]   (needs no mount)
"""

import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clilib  # noqa: E402
from clilib import Checks  # noqa: E402

HEADER = 192


def sid(text):
    parts = text.split("-")
    subs = [int(p) for p in parts[3:]]
    return (bytes([1, len(subs)]) + int(parts[2]).to_bytes(6, "big") +
            b"".join(s.to_bytes(4, "little") for s in subs))


def group_entry(text, attributes):
    body = sid(text)
    return (len(body).to_bytes(4, "little") + body +
            attributes.to_bytes(4, "little"))


class Spec:
    """A valid minimal spec: user S-1-22-1-1000, one owner group, Medium."""

    def __init__(self):
        self.header = bytearray(HEADER)
        struct.pack_into("<IBBH", self.header, 0, 2, 1, 0, 0)
        struct.pack_into("<II", self.header, 8, 0x2000, 1)
        struct.pack_into("<QQ", self.header, 16, 1 << 23, 1 << 23)
        struct.pack_into("<II", self.header, 36, 1000, 1000)
        struct.pack_into("<Q", self.header, 56, 0x3e6)
        self.header[72:80] = b"test\0\0\0\0"
        self.user = sid("S-1-22-1-1000")
        self.groups = group_entry("S-1-22-2-1000", 0xf)  # mandatory..owner
        self.tail = b""

    def set(self, fmt, offset, *values):
        struct.pack_into(fmt, self.header, offset, *values)
        return self

    def bytes(self, layout=True):
        if layout:
            user_offset = HEADER
            groups_offset = HEADER + len(self.user)
            self.set("<I", 88, user_offset)
            self.set("<II", 92, groups_offset, 1)
        return bytes(self.header) + self.user + self.groups + self.tail


def cases():
    """(name, spec bytes, field the message must name)."""
    def spec():
        return Spec()
    yield "version 3", spec().set("<I", 0, 3).bytes(), "version"
    yield "token type 0", spec().set("<B", 4, 0).bytes(), "token_type"
    yield "level 4", spec().set("<BB", 4, 2, 4).bytes(), "impersonation_level"
    yield "primary at a level", spec().set("<B", 5, 2).bytes(), \
        "impersonation_level"
    yield "reserved0", spec().set("<H", 6, 1).bytes(), "reserved0"
    yield "mandatory policy bits", spec().set("<I", 12, 0x8).bytes(), \
        "mandatory_policy"
    yield "enabled outside present", spec().set("<Q", 24, 1 << 20).bytes(), \
        "privs_enabled"
    yield "privilege outside the catalog", \
        spec().set("<QQ", 16, 1 << 40, 0).bytes(), "privs_present"
    yield "reserved1", spec().set("<I", 32, 2).bytes(), "reserved1"
    yield "uid 0 for a user", spec().set("<I", 36, 0).bytes(), "projected_uid"
    yield "audit policy bits", spec().set("<I", 44, 0x10).bytes(), \
        "audit_policy"
    yield "owner index beyond the groups", spec().set("<I", 64, 2).bytes(), \
        "owner_sid_index"
    no_owner = spec()
    no_owner.groups = group_entry("S-1-22-2-1000", 0x7)
    yield "owner index naming a non-owner group", \
        no_owner.set("<I", 64, 1).bytes(), "owner_sid_index"
    yield "primary group index beyond the groups", \
        spec().set("<I", 68, 5).bytes(), "primary_group_index"
    yield "write-restricted without user deny-only", \
        spec().set("<B", 157, 1).bytes(), "write_restricted"
    yield "isolation without a confinement SID", \
        spec().set("<B", 159, 1).bytes(), "isolation_boundary"
    yield "reserved3", spec().set("<I", 188, 1).bytes(), "reserved3"
    logon = spec()
    logon.groups = group_entry("S-1-5-5-0-999", 0x7)
    yield "a caller logon SID", logon.bytes(), "logon"
    logon_bits = spec()
    logon_bits.groups = group_entry("S-1-22-2-1000", 0xC0000007)
    yield "logon-id bits on a caller group", logon_bits.bytes(), "logon"
    out = spec()
    out_bytes = out.bytes()
    out_bytes = out_bytes[:88] + struct.pack("<I", len(out_bytes) + 4) + \
        out_bytes[92:]
    yield "user SID outside the buffer", out_bytes, "user_sid"
    overlap = spec()
    raw = bytearray(overlap.bytes())
    # The restricting SIDs reuse the groups' bytes: both parse, but two
    # sections may not share bytes.
    groups_offset = struct.unpack_from("<I", raw, 92)[0]
    struct.pack_into("<II", raw, 132, groups_offset, 1)
    yield "overlapping sections", bytes(raw), "overlap"
    half = spec()
    raw = bytearray(half.bytes())
    struct.pack_into("<II", raw, 132, HEADER + 4, 0)  # offset without count
    yield "a section with an offset and no count", bytes(raw), \
        "restricted_sids"
    yield "shorter than the header", spec().bytes()[:100], "192"
    big = spec()
    big.tail = bytes(65536)
    yield "larger than 64 KiB", big.bytes(), "65536"
    bad_sid = spec()
    bad_sid.user = bytes([2, 1]) + bytes(10)   # revision 2
    yield "a malformed user SID", bad_sid.bytes(), "user"


def main():
    token, _, _ = clilib.binaries()
    checks = Checks()
    with tempfile.TemporaryDirectory() as directory:
        valid = os.path.join(directory, "valid.bin")
        with open(valid, "wb") as out:
            out.write(Spec().bytes())
        decoded = subprocess.run([token, "spec", "decode", valid],
                                 capture_output=True, text=True)
        checks.status(clilib.Result(decoded), 0,
                      "the hand-built valid spec decodes")
        again = subprocess.run([token, "spec", "encode", "-"],
                               input=decoded.stdout.encode(),
                               capture_output=True)
        with open(valid, "rb") as original:
            checks.check(again.returncode == 0 and
                         again.stdout == original.read(),
                         "spec encode of the decoded JSON gives the same bytes")
        for name, data, field in cases():
            path = os.path.join(directory, "case.bin")
            with open(path, "wb") as out:
                out.write(data)
            result = clilib.Result(subprocess.run(
                [token, "spec", "decode", path], capture_output=True,
                text=True))
            checks.status(result, 4, f"{name}: exit 4")
            message = result.err.strip()
            checks.check(message.startswith("token: ") and
                         "\n" not in message and field in message,
                         f"{name}: one line naming {field!r}", message)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
