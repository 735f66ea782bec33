// TokenView: what `token` prints about a token, built from the JSON the tree
// serves under query/ (docs/formats.md, section "JSON"), never from the text
// files.
//
// A token is loaded as a TokenData: the decoded documents of the query
// classes a command needs (one query/<class> file each, or query/all when
// the command needs several or the fields only query/all carries). Each
// "part" then adds its human lines to a LineOutput and its keys to the
// command's JSON document, so a key has the same shape in every command that
// prints it (`token privs --json` and `token show --all --json` both carry
// "privileges" and "privileges_raw"). man/token.1 documents every part.
//
// SIDs print in one of three styles (core/render.h SidStyle): "Label (S-…)"
// when a label is known (default), raw "S-…" (--raw), or the label alone
// where known (--label). JSON SID objects keep "sid" and "label" and get a
// "display" field in the requested style.
//
// Missing or mistyped fields in the daemon's documents never throw: they read
// as null, and print as "-" (or are skipped in lists).
//
// Thread-safety: plain values; not shared.
#ifndef TOKENFS_CLI_TOKEN_VIEW_H_
#define TOKENFS_CLI_TOKEN_VIEW_H_

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/cli_error.h"
#include "cli/line_output.h"
#include "cli/mount.h"
#include "core/render.h"

namespace tokenfs::cli {

using Json = nlohmann::json;

// `object[key]`, or a null value when `object` is not an object or lacks
// the key.
const Json& Member(const Json& object, std::string_view key);
// A JSON string as is, a number in decimal, a boolean as yes/no; "" for
// anything else.
std::string Text(const Json& value);

// A SID object ({"sid", "label"?}) in `style`; "-" when not a SID object.
std::string SidText(const Json& sid_object, SidStyle style);
// Copies `document`, setting "display" of every SID object in it (an object
// with a string "sid") to SidText in `style`.
Json Restyle(const Json& document, SidStyle style);

// Prints a JSON document: two-space indentation, keys sorted, a final
// newline; invalid UTF-8 is replaced rather than refused.
std::string FormatJson(const Json& document);

// Parses the daemon's JSON text; an unparsable document is failure (5).
CliResult<Json> ParseDaemonJson(std::string_view text, const std::string& what);

// The decoded query classes of one token.
class TokenData {
 public:
  // From the text of query/all.
  static CliResult<TokenData> FromAll(std::string_view text,
                                      const std::string& label);
  // Reads what a command needs: query/all when `need_all`, else each of
  // `classes` (canonical names) from its own file.
  static CliResult<TokenData> Load(const Mount& mount,
                                   const ResolvedTarget& target,
                                   std::span<const std::string_view> classes,
                                   bool need_all);

  // The "decoded" value of class `name` (canonical name), null when absent.
  const Json& Decoded(std::string_view name) const;
  // The "tokenfs" section of query/all; null when not loaded.
  const Json& Tokenfs() const { return tokenfs_; }

 private:
  Json classes_ = Json::object();  // canonical name -> class document
  Json tokenfs_;
};

// One output under construction: the human lines and the JSON document.
struct View {
  SidStyle style = SidStyle::kLabeled;
  LineOutput lines;
  Json json = Json::object();
};

// Parts (see man/token.1 for the exact lines and keys).
// [token]: user, owner, primary_group, type, impersonation_level,
// elevation_type, integrity, interactivity_scope, authentication_id,
// restricted, user_deny_only, appcontainer. Needs query/all.
void AddPrincipalPart(const TokenData& token, View& view);
// [integrity]: level, mandatory_policy.
void AddIntegrityPart(const TokenData& token, View& view);
// [groups (N)].
void AddGroupsPart(const TokenData& token, View& view);
// [groups (N)] with a type column (well-known group, alias, label, logon,
// user, group) before the attributes (`token groups`); JSON as
// AddGroupsPart.
void AddGroupsTypedPart(const TokenData& token, View& view);
// [privileges (N)].
void AddPrivilegesPart(const TokenData& token, View& view);
// [privileges (N)] with a detail line under each row: its description and
// the Linux capabilities that give it (privs --verbose).
void AddPrivilegesVerbosePart(const TokenData& token, View& view);
// [restricted sids (N)]. Needs query/all.
void AddRestrictedPart(const TokenData& token, View& view);
// [device groups (N)].
void AddDeviceGroupsPart(const TokenData& token, View& view);
// [capabilities (N)].
void AddCapabilitiesPart(const TokenData& token, View& view);
// [user claims (N)] and [device claims (N)].
void AddClaimsPart(const TokenData& token, View& view);
// [logon]: logon_type, logon_sid, authentication_id, origin.
void AddLogonPart(const TokenData& token, View& view);
// [source]: name, source_id.
void AddSourcePart(const TokenData& token, View& view);
// [statistics]. Needs query/all.
void AddStatisticsPart(const TokenData& token, View& view);
// [default dacl]: sddl.
void AddDefaultDaclPart(const TokenData& token, View& view);
// [linux]: projected_uid, projected_gid, supplementary_gids; [privilege
// capabilities]: the Linux capabilities behind each privilege; for a
// process (pid > 0) [linux process]: its capability sets, no_new_privs and
// securebits as setpriv -d shows them, read from /proc. Needs query/all.
void AddLinuxPart(const TokenData& token, View& view, int pid = 0);
// [security]: sddl. Needs query/all.
void AddSecurityPart(const TokenData& token, View& view);

// The one-line summary of bare `token` / `show --short`. Needs query/all.
void AddSummaryLine(const TokenData& token, View& view);

// Single values (user, owner, group, origin, default-dacl): one plain line,
// and the JSON key.
void AddUserValue(const TokenData& token, View& view);
void AddOwnerValue(const TokenData& token, View& view);
void AddPrimaryGroupValue(const TokenData& token, View& view);
void AddOriginValue(const TokenData& token, View& view);
void AddDefaultDaclValue(const TokenData& token, View& view);

// One comparable field of a token, for `token diff`.
struct TokenField {
  std::string match;   // identity of the field ("privilege 20")
  std::string name;    // shown: "privilege SeDebug"
  std::string value;   // shown: "enabled, default"
  bool is_id = false;  // token_id, modified_id, created: compared with --ids
};
// Every field of a token in `show --all` order. Needs query/all.
std::vector<TokenField> TokenFields(const TokenData& token, SidStyle style);

// Group attribute labels joined with ", " (from a SID entry's "attributes").
std::string AttributeText(const Json& entry);
// "enabled|disabled[, default][, used]" of one privilege entry.
std::string PrivilegeStateText(const Json& privilege);
// The short name of a privilege entry, "<privilege bit N>" when unnamed.
std::string PrivilegeName(const Json& privilege);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_TOKEN_VIEW_H_
