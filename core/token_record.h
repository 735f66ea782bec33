// Token records: the exact, versioned text form of a Token and of
// LinuxCredentials that the daemon's state store keeps (one SQLite row each),
// so that a restarted daemon gets back exactly the tokens it had.
//
// A record is one line of JSON, so the store stays readable with the sqlite3
// CLI (json_extract, json_pretty). It is an object holding "v" (the format
// version, 1) and every field of the value under its C++ name, in
// declaration order, nothing else:
//   - SIDs: their string form (Sid::ToString, which Sid::Parse reads back
//     exactly);
//   - 16- and 32-bit numbers, group attributes and enums: JSON numbers,
//     enums by their numeric (ABI) value;
//   - 64-bit numbers: strings, so no JSON reader rounds them (SQLite's
//     json_extract and jq would, past 2^53 or 2^63): LUIDs and masks as "0x"
//     and lower-case hex without leading zeros ("0x0", "0x3e7"); times in
//     nanoseconds as decimal;
//   - bytes: lower-case hex. The source name is its 8 raw bytes, NULs
//     included; ACLs and claim arrays are in their binary forms
//     (Acl::ToBinary, EncodeClaims), which carry every field of every ACE and
//     claim, where SDDL would not (unknown ACE types, ACL revision);
//   - optional values: null when absent, so "restricted_sids": null (not
//     restricted) differs from [] (restricted, no restricting SID);
//   - the token's security descriptor as {control, owner, group, dacl, sacl}
//     rather than its self-relative binary form, whose encoder forces
//     SE_SELF_RELATIVE into the control word.
//
// For example (the expected record of tests/core/token_record_test.cc,
// wrapped; a restricted impersonation token with no restricting SID):
//   {"v":1,"user":"S-1-22-1-1000","user_deny_only":false,
//    "groups":[{"sid":"S-1-22-2-1000","attributes":7},
//    {"sid":"S-1-5-5-0-999","attributes":3221225479}],
//    "restricted_sids":[],"write_restricted":false,"type":2,
//    "impersonation_level":2,"integrity_rid":8192,"mandatory_policy":1,
//    "privileges":{"present":"0x8000000000800000","enabled":"0x800000",
//    "enabled_by_default":"0x800000","used":"0x0"},"elevation_type":3,
//    "owner_index":0,"primary_group_index":1,
//    "default_dacl":"02001c00010000000000140000000010010100000000000512000000",
//    "token_id":"0x10000","auth_id":"0x3e7","modified_id":"0x10001",
//    "parent_token_id":"0xfffe","source":{"name":"746f6b656e667300",
//    "id":"0x1"},"created_ns":"1714979289000000010",
//    "expiration_ns":"18446744073709551615","origin":"0x3e4",
//    "interactive_session_id":1,"logon_type":2,"user_claims":"",
//    "device_claims":"","device_groups":null,
//    "restricted_device_groups":null,"confinement_sid":null,
//    "isolation_boundary":false,"confinement_exempt":false,
//    "audit_policy":0,"projected_uid":1000,"projected_gid":1001,
//    "projected_supplementary_gids":[1000,27],
//    "capabilities":[{"name":"tokeninfo","sid":"S-1-15-3-1024-2357454845-
//    810818666-733784065-248858355-2413091408-1438984108-1525821559-
//    702439586"}],"security":{"control":32772,"owner":"S-1-22-1-1000",
//    "group":null,"dacl":"02001c000100000000001400000000100101000000000005
//    12000000","sacl":null}}
//
// Exactness: DecodeTokenRecord(EncodeTokenRecord(t)) == t for every
// well-formed token t: one that passes ValidateToken, whose claims pass
// ValidateClaim, whose ACLs fit their binary form (at most 65535 bytes,
// revision 2 or 4 and at least what their ACEs need), and whose capabilities
// have no name or a valid name of their SID. Every token core builds is
// well-formed. The encoder never fails, throws or aborts: a part the binary
// codecs cannot carry exactly is written as "unencodable: <reason>", and a
// token that breaks an invariant is written as it is. Decoding either record
// fails and names the field, so a restart reports the loss instead of
// restoring a different token. The same holds for credentials, all of which
// are well-formed.
//
// Decoding is strict; a record has one spelling of each value, so encoding a
// decoded record gives back its text byte for byte when it came from the
// encoder. It fails with kInvalidArgument and a one-line message starting
// "token record: " or "credentials record: " when
//   - the text is not JSON, repeats a key in an object or nests deeper than
//     8 levels;
//   - the version is not 1 ("field 'v': version 2 is not supported (this
//     build reads version 1)"), checked before anything else;
//   - an object lacks a field or has one more ("field 'user' is missing",
//     "unknown field 'security.frob'");
//   - a value has the wrong type, is out of range, is not an enum value, or
//     is not canonical ("field 'integrity_rid': expected an unsigned 32-bit
//     number", "field 'type': 3 is not a token type (1 or 2)", "field
//     'user': 's-1-5-18' is not canonical (S-1-5-18)");
//   - a binary part does not decode or is not the canonical encoding of what
//     it decodes to;
//   - the decoded token fails ValidateToken (its message after the prefix).
// Texts over kMaxRecordBytes fail with kResourceExhausted. Decoding never
// throws and never crashes on any input.
//
// Changing the format: a change that old records cannot satisfy (a new
// field, a new spelling) raises kVersion, and DecodeTokenRecord learns to
// read the old version too. token_record.cc fails to compile when Token or
// LinuxCredentials gains or loses a field, so no field is left out silently.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_TOKEN_RECORD_H_
#define TOKENFS_CORE_TOKEN_RECORD_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/minting_policy.h"
#include "core/result.h"
#include "core/token.h"

namespace tokenfs {

namespace token_record {
// The format version this build writes and reads.
inline constexpr uint32_t kVersion = 1;
// Longest record accepted, and deepest JSON nesting.
inline constexpr size_t kMaxRecordBytes = size_t{16} << 20;
inline constexpr size_t kMaxDepth = 8;
}  // namespace token_record

// The record of `token`, one line of JSON without a final newline.
std::string EncodeTokenRecord(const Token& token);
// The token a record holds. Fails as described above.
Result<Token> DecodeTokenRecord(std::string_view text);

// The record of `credentials`: {"v":1,"real_uid":1000,...} with every field
// of LinuxCredentials, the capability masks as "0x..." strings.
std::string EncodeCredentialsRecord(const LinuxCredentials& credentials);
// The credentials a record holds. Fails as described above.
Result<LinuxCredentials> DecodeCredentialsRecord(std::string_view text);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_TOKEN_RECORD_H_
