// Capabilities: what a token's holder may do through tokenfs itself, in the
// mytoken model (../shared/seeds/002_*).
//
// A capability is a ':'-separated path ("tokeninfo:introspect"); a parent
// includes every descendant ("tokeninfo" includes "tokeninfo:history"). A
// "read@" prefix makes the read-only twin: "read@settings" grants reading
// settings and its descendants; the read-write form includes the read-only
// one, never the reverse.
//
// Grammar (case-sensitive, as mytoken's names are):
//   capability := ["read@"] segment { ":" segment }
//   segment    := 1*( "a"-"z" / "A"-"Z" / "0"-"9" / "_" / "-" )
// at most 128 characters in all.
//
// Each capability also has a SID, derived the way Windows derives capability
// SIDs (DeriveCapabilitySidsFromName): S-1-15-3-1024- followed by the eight
// little-endian u32 words of SHA-256 over the UTF-16LE upper-cased name. Token
// specs carry those SIDs; names are shown for SIDs whose name is known.
//
// Thread-safety: plain values; the catalog is immutable.
#ifndef TOKENFS_CORE_CAPABILITY_H_
#define TOKENFS_CORE_CAPABILITY_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/sid.h"

namespace tokenfs {

struct Capability {
  std::string name;  // empty when only the SID is known
  Sid sid;

  friend bool operator==(const Capability&, const Capability&) = default;
};

struct CapabilityInfo {
  std::string_view name;
  std::string_view description;
  // "normal", "powerful" or "very powerful" (mytoken's web UI classes).
  std::string_view danger;
};

// The mytoken catalog (seed 002) in its documented order, read@ forms
// included.
std::span<const CapabilityInfo> CapabilityCatalog();
// Returns the catalog entry for `name`, or nullptr.
const CapabilityInfo* FindCapabilityInfo(std::string_view name);

// Validates `text` against the grammar; returns it unchanged when valid.
// Errors name the 1-based column.
Result<std::string> ParseCapabilityName(std::string_view text);

// The derived SID of a capability name. REQUIRES: a valid name.
Sid CapabilitySid(std::string_view name);

// A capability with its SID.
Result<Capability> MakeCapability(std::string_view name);

// True iff holding `held` grants `wanted` (both valid names): equal, or
// `held` is an ancestor path of `wanted`, where a read-write capability also
// covers the read@ form of itself and of its descendants.
bool CapabilityCovers(std::string_view held, std::string_view wanted);

// True iff some named capability in `held` covers `wanted`.
bool HasCapability(std::span<const Capability> held, std::string_view wanted);

// Subset rule for derived tokens. Every requested capability must be covered
// by `parent`; otherwise kPrivilegeNotHeld naming the first one that is not.
// With `tighten`, uncovered requests are instead narrowed to what the parent
// holds beneath them (e.g. asking "tokeninfo" from a parent holding
// "tokeninfo:introspect" yields "tokeninfo:introspect"), and `dropped`
// receives every request that was narrowed or removed.
struct CapabilityDerivation {
  std::vector<Capability> granted;
  std::vector<std::string> dropped;
};
Result<CapabilityDerivation> DeriveCapabilities(
    std::span<const Capability> parent, std::span<const std::string> requested,
    bool tighten);

// The set the default minting policy gives ordinary tokens: every top-level
// capability of the catalog (which covers all the others).
std::vector<Capability> FullCapabilitySet();

// Maps SIDs back to names: the catalog plus every name registered.
class CapabilityNames {
 public:
  CapabilityNames();
  // Remembers `name` (a valid name) so its SID can be shown by name.
  void Remember(std::string_view name);
  std::optional<std::string> NameForSid(const Sid& sid) const;

 private:
  std::vector<Capability> known_;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_CAPABILITY_H_
