// Rendering: the text files a token directory serves, and the JSON documents
// of the query classes (`query/<class>`, `query/all`).
//
// Text files are line-oriented and stable, for `cat`, `grep`, `cut` and
// `awk`. Conventions (docs/formats.md has every file):
//   - fields are separated by exactly two spaces; no field but the last
//     contains a space, so `awk '{print $1}'` works and the last field (most
//     often a label such as "Unix User\alice") may hold single spaces;
//   - a SID is printed raw (S-1-...) and, where a label is known, the label
//     follows as the last field; text files ignore RenderOptions::sid_style;
//   - every line ends with '\n'; a list file with no entries is empty (zero
//     bytes); no line is empty, so `all` can separate sections by blank lines.
//
// JSON documents (nlohmann::json) have the shapes documented in
// docs/formats.md; the CLI's --json output builds on them, so keys only ever
// get added. A SID is {"sid": "S-...", "label": "..." (when known),
// "display": "..."}, where `display` follows RenderOptions::sid_style. LUIDs
// and 64-bit masks are strings "0x%016x"; counts and 32-bit values are
// numbers.
//
// Rendering reads only the token it is given, so a document built from one
// `const Token&` is one consistent snapshot.
//
// Thread-safety: pure functions; the lookups in RenderOptions must be safe to
// call concurrently when rendering runs on several threads (see
// CapabilityNames).
#ifndef TOKENFS_CORE_RENDER_H_
#define TOKENFS_CORE_RENDER_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/capability.h"
#include "core/luid.h"
#include "core/query_class.h"
#include "core/result.h"
#include "core/sid.h"
#include "core/token.h"
#include "core/well_known_sids.h"

namespace tokenfs {

// How JSON `display` fields (and the CLI) show a SID.
enum class SidStyle {
  kLabeled,    // "Label (S-...)" when a label is known, else "S-..."
  kRaw,        // "S-..."
  kLabelOnly,  // "Label" when known, else "S-..."
};

struct RenderOptions {
  SidStyle sid_style = SidStyle::kLabeled;
  // Names of Unix users and groups (S-1-22-1-N, S-1-22-2-N); null = numbers.
  const AccountLookup* accounts = nullptr;
  // Names of capability SIDs (S-1-15-3-...); null = only the names the
  // token itself carries.
  const CapabilityNames* capability_names = nullptr;
  // The machine domain: its SIDs print as SDDL aliases (DA, LA, ...) in
  // descriptors and DACLs; null = as S-....
  const Sid* domain = nullptr;
};

// The label of `sid`: SidLabel() (well-known names, integrity levels, logon
// sessions, Unix accounts through options.accounts), else for a capability
// SID whose name is known "Capability\<name>"; nullopt otherwise.
std::optional<std::string> RenderSidLabel(const Sid& sid,
                                          const RenderOptions& options);

// `sid` in options.sid_style (see SidStyle).
std::string FormatStyledSid(const Sid& sid, const RenderOptions& options);

// {"sid": "S-...", "label": "..." (only when known), "display": "..."}.
nlohmann::json SidJson(const Sid& sid, const RenderOptions& options);

// "0x" followed by 16 lower-case hex digits.
std::string FormatLuid(Luid luid);
std::string FormatMask64(uint64_t mask);

// Nanoseconds since the epoch as ISO-8601 UTC with nine fraction digits,
// "2024-05-06T07:08:09.000000010Z".
std::string FormatTimestamp(uint64_t nanoseconds);

// Mandatory policy flag names in bit order: "no-write-up",
// "new-process-min", unknown bits as one "0x..." entry.
std::vector<std::string> MandatoryPolicyNames(uint32_t policy);

// The read files of a token directory, in the order `all` prints them.
enum class TokenFile {
  kUser,
  kOwner,
  kGroup,
  kGroups,
  kPrivs,
  kCaps,
  kClaims,
  kIntegrity,
  kLogon,
  kSource,
  kOrigin,
  kStats,
  kType,
  kLevel,
  kElevation,
  kSession,
  kRestricted,
  kDefaultDacl,
  kSecurity,
  kAll,
};

struct TokenFileInfo {
  TokenFile file;
  std::string_view name;     // the file name, e.g. "default-dacl"
  std::string_view summary;  // one line for listings and man pages
};

// Every text file, in enum (and `all`) order; `all` last.
std::span<const TokenFileInfo> TokenFileTable();

// The file name of `file`.
std::string_view TokenFileName(TokenFile file);

// Parses an exact file name ("privs", "default-dacl"; case-sensitive, as
// file names are). Fails with kNotFound "no token file 'X'".
Result<TokenFile> ParseTokenFileName(std::string_view name);

// The content of `file` for `token` (formats in docs/formats.md). Never
// fails: values that cannot be shown (an out-of-range owner index) render as
// "-" fields rather than making the whole file unreadable.
std::string RenderTokenFile(const Token& token, TokenFile file,
                            const RenderOptions& options);

// One query class as {"class", "class_id", "abi_name", "bytes_len",
// "bytes_hex", "decoded"} (plus "error" when the payload cannot be encoded);
// `decoded` per class is documented in docs/formats.md. REQUIRES: a class
// 1..24 (ParseQueryClass and QueryClassFromId only return such).
nlohmann::json QueryClassJson(const Token& token, QueryClass query_class,
                              const RenderOptions& options);

// Every class of one token: {"classes": {<canonical name>: QueryClassJson},
// "tokenfs": {fields no class carries}}; see docs/formats.md.
nlohmann::json AllClassesJson(const Token& token, const RenderOptions& options);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_RENDER_H_
