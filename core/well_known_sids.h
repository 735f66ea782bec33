// Well-known SIDs: the fixed identities the model names, their display
// labels, and the SDDL two-letter aliases.
//
// Labels follow the Peios/Windows display names ("Everyone", "Local System",
// "Administrators"). Names that depend on the machine (Unix users and groups,
// S-1-22-1-N / S-1-22-2-N) come from an injected AccountLookup so core reads no
// files; a lookup that fails leaves the SID raw. Labels never block: the
// lookup is expected to be a cache or a fake.
//
// Thread-safety: the tables are immutable; AccountLookup implementations must
// be safe to call from several threads.
#ifndef TOKENFS_CORE_WELL_KNOWN_SIDS_H_
#define TOKENFS_CORE_WELL_KNOWN_SIDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sid.h"

namespace tokenfs {

// Identifier authorities.
inline constexpr uint64_t kNullAuthority = 0;
inline constexpr uint64_t kWorldAuthority = 1;
inline constexpr uint64_t kLocalAuthority = 2;
inline constexpr uint64_t kCreatorAuthority = 3;
inline constexpr uint64_t kNtAuthority = 5;
inline constexpr uint64_t kAppPackageAuthority = 15;
inline constexpr uint64_t kMandatoryLabelAuthority = 16;
inline constexpr uint64_t kUnixAuthority = 22;  // Samba's "Unix User/Group"

// Integrity level RIDs (S-1-16-<rid>).
inline constexpr uint32_t kIntegrityUntrusted = 0;
inline constexpr uint32_t kIntegrityLow = 0x1000;
inline constexpr uint32_t kIntegrityMedium = 0x2000;
inline constexpr uint32_t kIntegrityMediumPlus = 0x2100;
inline constexpr uint32_t kIntegrityHigh = 0x3000;
inline constexpr uint32_t kIntegritySystem = 0x4000;
inline constexpr uint32_t kIntegrityProtected = 0x5000;

namespace well_known {
Sid Null();                  // S-1-0-0
Sid Everyone();              // S-1-1-0
Sid Local();                 // S-1-2-0
Sid ConsoleLogon();          // S-1-2-1
Sid CreatorOwner();          // S-1-3-0
Sid CreatorGroup();          // S-1-3-1
Sid OwnerRights();           // S-1-3-4
Sid Network();               // S-1-5-2
Sid Interactive();           // S-1-5-4
Sid Service();               // S-1-5-6
Sid Anonymous();             // S-1-5-7
Sid PrincipalSelf();         // S-1-5-10
Sid AuthenticatedUsers();    // S-1-5-11
Sid Restricted();            // S-1-5-12
Sid LocalSystem();           // S-1-5-18
Sid LocalService();          // S-1-5-19
Sid NetworkService();        // S-1-5-20
Sid Administrators();        // S-1-5-32-544
Sid Users();                 // S-1-5-32-545
Sid Guests();                // S-1-5-32-546
Sid BackupOperators();       // S-1-5-32-551
Sid AllAppPackages();        // S-1-15-2-1
Sid IntegrityLevel(uint32_t rid);     // S-1-16-<rid>
Sid LogonSid(uint64_t logon_session);  // S-1-5-5-<hi32>-<lo32>
Sid UnixUser(uint32_t uid);           // S-1-22-1-<uid>
Sid UnixGroup(uint32_t gid);          // S-1-22-2-<gid>
}  // namespace well_known

// Names of Linux accounts for S-1-22-1-N / S-1-22-2-N labels.
class AccountLookup {
 public:
  virtual ~AccountLookup() = default;
  // Returns the account name, or nullopt when unknown. Must not block long.
  virtual std::optional<std::string> UserName(uint32_t uid) const = 0;
  virtual std::optional<std::string> GroupName(uint32_t gid) const = 0;
  // The directory's name ("DOMAIN\alice") of any other SID, when known
  // without asking anyone (a joined host's cached directory answers).
  virtual std::optional<std::string> DirectoryName(const Sid&) const {
    return std::nullopt;
  }
};

// True iff `sid` is S-1-16-<rid>.
bool IsIntegritySid(const Sid& sid);
// True iff `sid` is a logon SID S-1-5-5-X-Y.
bool IsLogonSid(const Sid& sid);
// True iff `sid` is S-1-15-3-... (a capability SID).
bool IsCapabilitySid(const Sid& sid);

// Returns the display name of an integrity RID: "Untrusted", "Low", "Medium",
// "Medium Plus", "High", "System", "Protected"; otherwise nullopt.
std::optional<std::string_view> IntegrityLevelName(uint32_t rid);
// Parses an integrity level given as a name (case-insensitive), an RID in
// decimal or 0x-hex, or an S-1-16-N SID.
Result<uint32_t> ParseIntegrityLevel(std::string_view text);

// Returns the display label of `sid`: well-known names ("Everyone"), integrity
// levels ("Medium Mandatory Level"), logon SIDs ("Logon Session 0-42"), Unix
// accounts ("Unix User\alice", via `lookup` when given, "Unix User\1000"
// otherwise), other SIDs by `lookup`'s DirectoryName (a joined host's domain
// accounts, "DOMAIN\bob"); nullopt when no label is known.
std::optional<std::string> SidLabel(const Sid& sid,
                                    const AccountLookup* lookup = nullptr);

// SDDL aliases ("WD" <-> S-1-1-0). The machine-independent ones always
// resolve; the domain-relative ones (LA = <domain>-500, LG -501, DA -512,
// DU -513, DG -514, DC -515, DD -516, CA -517, SA -518, EA -519, PA -520,
// CN -522, AP -525, KA -526, EK -527, RO -498, RS -553) resolve and print
// only against a domain SID (S-1-5-21-a-b-c), the machine domain tokenfs
// keeps; with `domain` null they are refused. Forest-root aliases (SA, EA,
// EK, RO) resolve against the same domain: tokenfs has no forest.
// Returns the SID for a two-letter alias (case-insensitive), or nullopt.
std::optional<Sid> SidFromSddlAlias(std::string_view alias,
                                    const Sid* domain = nullptr);
// Returns the alias Windows prints for `sid`, or nullopt (then print S-...).
std::optional<std::string_view> SddlAliasForSid(const Sid& sid,
                                                const Sid* domain = nullptr);
// True iff `alias` is a known domain-relative alias.
bool IsDomainRelativeSddlAlias(std::string_view alias);
// True iff `sid` can serve as a machine domain: S-1-5-21 and three more
// sub-authorities.
bool IsDomainSid(const Sid& sid);
// Parses a machine domain SID as `token sddl --domain-sid`, `token access
// --domain-sid` and the policy's domain_sid take it: S-1-5-21-a-b-c
// (Sid::Parse's spellings). Fails with kInvalidArgument "wants
// S-1-5-21-a-b-c, not 'TEXT'".
Result<Sid> ParseDomainSid(std::string_view text);

// Parses a SID given as "S-..." or an SDDL alias. Errors as Sid::Parse; a
// domain-relative alias without `domain` fails naming the alias.
Result<Sid> ParseSidOrAlias(std::string_view text,
                            const Sid* domain = nullptr);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_WELL_KNOWN_SIDS_H_
