// Minting policy: how tokenfs turns a process's Linux credentials into the
// token it holds the first time it sees the process.
//
// Linux is the authority for credentials and tokenfs for tokens. The policy
// is a pure function of LinuxCredentials and the settings below (plus the
// injected id allocator, clock and account names), so the daemon reads
// /proc and the policy file and core stays free of I/O:
//   - euid 0 becomes Local System (S-1-5-18) in the shape of Peios' boot
//     SYSTEM token; every other euid N becomes S-1-22-1-N ("Unix User\name")
//     with its gids as S-1-22-2-G plus the well-known groups;
//   - privileges follow the capability sets through PrivilegeCapabilityTable
//     (permitted -> present, effective -> enabled), on top of a baseline;
//   - members of the administrator groups get an elevation pair: the Limited
//     token they run with and a linked Full token;
//   - with a DirectorySource (a joined host), a uid the directory maps gets
//     the directory's user SID and token groups instead of S-1-22 SIDs, and
//     a gid it maps its real SID (docs/policy.md, "Directory users").
// docs/policy.md documents the rules and the JSON schema with the built-in
// default; the two must stay in step with this file.
//
// MintingPolicy is immutable once built and valid by construction: Parse and
// Create validate everything, so Mint only fails for credentials that cannot
// be represented (too many groups).
//
// Thread-safety: the table and the functions are pure; a MintingPolicy may be
// shared between threads (Mint is const; the LuidAllocator is atomic).
#ifndef TOKENFS_CORE_MINTING_POLICY_H_
#define TOKENFS_CORE_MINTING_POLICY_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/access_mask.h"
#include "core/directory.h"
#include "core/linux_credentials.h"
#include "core/luid.h"
#include "core/privilege_capability_table.h"
#include "core/result.h"
#include "core/token.h"
#include "core/well_known_sids.h"

namespace tokenfs {

// Settings of a policy; see docs/policy.md for each key.
struct MintingSettings {
  // Privileges every token holds, and which of them start enabled
  // (enabled ⊆ present). SeChangeNotify is added to both regardless.
  uint64_t baseline_present = 0;
  uint64_t baseline_enabled = 0;
  // What the token's user may do to their own token object.
  AccessMask token_user_access;
  // Integrity and mandatory policy of tokens of ordinary users (and of the
  // Limited token of an elevation pair).
  uint32_t integrity_rid = kIntegrityMedium;
  uint32_t mandatory_policy = 0;
  // tokenfs (mytoken) capabilities of every minted token; nullopt = the full
  // set (FullCapabilitySet()).
  std::optional<std::vector<std::string>> capabilities;
  // Logon type by situation: with a controlling terminal; in an audit
  // session without one; in no session.
  LogonType terminal_logon_type = LogonType::kInteractive;
  LogonType session_logon_type = LogonType::kBatch;
  LogonType no_session_logon_type = LogonType::kService;
  // Elevation: a non-root process any of whose gids is named here (by group
  // name through AccountLookup, or by number) gets a Limited + Full pair.
  std::vector<std::string> admin_group_names;
  std::vector<uint32_t> admin_gids;
  uint64_t limited_removed_privileges = 0;
  uint64_t full_privileges = 0;
  uint32_t full_integrity_rid = kIntegrityHigh;
  // no_new_privs: mandatory policy bits added, and whether the process may
  // still get an elevation pair (sudo cannot elevate it).
  uint32_t no_new_privs_mandatory_policy = 0;
  bool no_new_privs_allow_elevation = false;
  // The machine domain SID (S-1-5-21-a-b-c) that SDDL aliases such as DA and
  // LA stand for in the daemon; nullopt: the one the daemon generated for
  // this host and keeps in its state store.
  std::optional<Sid> domain_sid;
  // The directory source (docs/policy.md §1.6): whether the daemon asks
  // winbind at all, how long an answer is reused, how long one lookup may
  // take, and how many uids, gids and names the cache keeps.
  bool directory_enabled = true;
  uint32_t directory_cache_seconds = 300;
  uint32_t directory_deadline_ms = 200;
  uint32_t directory_cache_entries = 4096;

  friend bool operator==(const MintingSettings&,
                         const MintingSettings&) = default;
};

// What Mint needs from its caller. The allocator hands out token ids (and
// the logon session ids of processes outside any session); the clock stamps
// creation; accounts (may be null) resolve group names for elevation;
// directory (may be null: no directory) says which uids and gids are
// directory accounts. Mint asks the directory only for non-root uids.
struct MintContext {
  LuidAllocator& ids;
  const Clock& clock;
  const AccountLookup* accounts = nullptr;
  DirectorySource* directory = nullptr;
};

// The token a process gets, and for an administrator the linked Full token
// (the registry links the two).
struct MintedIdentity {
  Token token;
  std::optional<Token> linked_full;
  // Where the identity came from, and for kDirectoryCached and
  // kLocalFallback why the directory was not used (for the daemon's log).
  IdentityOrigin origin = IdentityOrigin::kLocal;
  std::string directory_failure;
};

// Source name and id of minted tokens; the source says where the identity
// came from (`token show --all` decodes it):
//   - "tokenfs", id 1: a local identity (S-1-22 SIDs, or SYSTEM);
//   - "tokenfs", id 2: a local identity because the directory did not answer
//     and had no cached answer for the uid (IdentityOrigin::kLocalFallback);
//   - "winbind", id T: the directory's identity, fetched at T seconds since
//     the Unix epoch (fresh or, when the directory stopped answering,
//     cached: T then lies further before the token's creation).
inline constexpr std::string_view kMintSourceName = "tokenfs";
inline constexpr Luid kMintSourceId{1};
inline constexpr Luid kMintFallbackSourceId{2};
inline constexpr std::string_view kDirectorySourceName = "winbind";

// Where a minted token's identity came from, read back from its source:
// "directory (winbind), fetched 2026-12-06T20:01:02.000000000Z", "local", or
// "local (the directory did not answer)"; nullopt for a source Mint never
// writes (a token created from a spec, say).
std::optional<std::string> DescribeMintSource(const TokenSource& source);

class MintingPolicy {
 public:
  // The built-in default (docs/policy.md).
  static MintingPolicy Default();

  // Parses a policy file: a JSON object whose keys (all optional) override
  // the default. Fails with kInvalidArgument:
  //   - syntax: "policy: syntax error at line L, column C: <what>", with
  //     Error::column = C;
  //   - structure: "policy: <path>: <problem>", e.g. "policy:
  //     elevation.admin_groups[2]: expected a group name or a gid number";
  //     unknown and duplicate keys are errors.
  static Result<MintingPolicy> Parse(std::string_view json_text);

  // Validates `settings` (enabled ⊆ present, access within TOKEN_ALL_ACCESS,
  // valid capability names, known mandatory policy bits). Errors name the
  // setting as Parse would.
  static Result<MintingPolicy> Create(MintingSettings settings);

  const MintingSettings& settings() const { return settings_; }

  // Every key with its effective value; Parse(ToJson().dump()) gives back an
  // equal policy.
  nlohmann::json ToJson() const;

  // Builds the token(s) for `credentials` (rules in docs/policy.md). Fails
  // with kResourceExhausted when the groups would exceed Token::kMaxGroups;
  // never returns a token that fails ValidateToken.
  Result<MintedIdentity> Mint(const LinuxCredentials& credentials,
                              const MintContext& context) const;

 private:
  explicit MintingPolicy(MintingSettings settings)
      : settings_(std::move(settings)) {}

  MintingSettings settings_;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_MINTING_POLICY_H_
