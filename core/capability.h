// Capabilities: what a token's holder may do through tokenfs itself, in the
// mytoken model, whose rules follow.
//
// A capability is a ':'-separated path ("tokeninfo:introspect"); a parent
// includes every descendant ("tokeninfo" includes "tokeninfo:history"). A
// "read@" prefix makes the read-only twin: "read@settings" grants reading
// settings and its descendants; the read-write form includes the read-only
// one (of itself and of every descendant), never the reverse.
//
// Grammar:
//   capability := ["read@"] segment { ":" segment }
//   segment    := 1*( "a"-"z" / "A"-"Z" / "0"-"9" / "_" / "-" )
// at most 128 characters in all.
//
// Case: names are compared without regard to ASCII case. mytoken itself
// compares exactly, but a capability's identity in tokenfs is its SID (token
// specs carry only SIDs), and the SID is derived from the upper-cased name,
// so "at" and "AT" are necessarily the same capability; comparing names any
// other way would let the name view and the SID view disagree.
// ParseCapabilityName returns the canonical spelling: "read@" in lower case,
// and the catalog's spelling for catalog names ("at" -> "AT"); other names
// keep the spelling given.
//
// Each capability has a SID, derived the way Windows derives capability SIDs
// (DeriveCapabilitySidsFromName): S-1-15-3-1024- followed by the eight
// little-endian u32 words of SHA-256 over the UTF-16LE upper-cased name.
// Names are ASCII, so upper-casing is plain ASCII upper-casing.
//
// Thread-safety: the free functions are pure and the catalog is immutable.
// CapabilityNames is a mutable object without internal locking (see there).
#ifndef TOKENFS_CORE_CAPABILITY_H_
#define TOKENFS_CORE_CAPABILITY_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/sid.h"

namespace tokenfs {

inline constexpr std::string_view kReadOnlyCapabilityPrefix = "read@";
inline constexpr size_t kMaxCapabilityNameLength = 128;

struct Capability {
  std::string name;  // empty when only the SID is known
  Sid sid;

  friend bool operator==(const Capability&, const Capability&) = default;
};

struct CapabilityInfo {
  std::string_view name;
  std::string_view description;
  // "normal", "powerful" or "very powerful", after the classes of mytoken's
  // web UI. The assignment is tokenfs's: the seed calls settings and
  // settings:grants powerful; manage_mytokens acts on every token of the
  // user and is very powerful; the rest follow their parent or are normal.
  std::string_view danger;
};

// The mytoken catalog (seed 002) in its documented order, read@ forms
// included: 25 entries.
std::span<const CapabilityInfo> CapabilityCatalog();
// Returns the catalog entry for `name` (any ASCII case), or nullptr.
const CapabilityInfo* FindCapabilityInfo(std::string_view name);

// Validates `text` against the grammar and returns its canonical spelling
// (see "Case" above). Fails with kInvalidArgument naming the capability and
// the 1-based column of the offending character: empty name, more than 128
// characters, a character outside the segment set, an empty segment, or a
// prefix other than "read@".
Result<std::string> ParseCapabilityName(std::string_view text);

// The derived SID of a capability name. REQUIRES: a valid name (an invalid
// one still yields a SID, of no capability anyone can name).
Sid CapabilitySid(std::string_view name);

// Parses `name` and pairs its canonical spelling with its SID. Errors as
// ParseCapabilityName.
Result<Capability> MakeCapability(std::string_view name);

// True iff holding `held` grants `wanted` (both valid names): `held`'s path
// is `wanted`'s path or an ancestor of it, and either `held` is read-write or
// both are read@. So "settings" covers "read@settings:email", but
// "read@settings" does not cover "settings".
bool CapabilityCovers(std::string_view held, std::string_view wanted);

// True iff some capability in `held` covers `wanted` (a valid name). A held
// capability whose name is unknown (SID only) counts only when its SID is
// exactly the SID of `wanted`: without a name its descendants are unknown.
bool HasCapability(std::span<const Capability> held, std::string_view wanted);

// Subset rule for derived tokens (duplicate and restrict).
//
// `requested` is the explicit list the new token should hold; an empty list
// grants nothing. (Keeping the parent's set unchanged is expressed by not
// calling this at all: RestrictRequest::capabilities == nullopt.) Every name
// is validated first (kInvalidArgument naming it); exact repeats collapse.
//
// A request covered by `parent` is granted as asked. Otherwise:
//   - without `tighten`: kPrivilegeNotHeld "capability 'X' is not held by the
//     parent token", naming the first such request;
//   - with `tighten`: the request is narrowed to what the parent holds
//     beneath it: the read@ form of the request when it asked read-write and
//     the parent covers read-only, plus every named parent capability the
//     request covers and that is not already covered by what was granted for
//     it ("tokeninfo" from a parent holding "tokeninfo:introspect" yields
//     "tokeninfo:introspect"). A request with nothing beneath it is dropped.
//     The result may be empty; that only ever narrows the token.
// `dropped` lists, in request order, every request not granted as asked;
// `narrowed` is the subset of those that were replaced by something smaller
// (the others were removed outright). `granted` holds no repeats.
struct CapabilityDerivation {
  std::vector<Capability> granted;
  std::vector<std::string> dropped;
  std::vector<std::string> narrowed;
};
Result<CapabilityDerivation> DeriveCapabilities(
    std::span<const Capability> parent, std::span<const std::string> requested,
    bool tighten);

// The set the default minting policy gives ordinary tokens: every top-level
// capability of the catalog (AT, tokeninfo, manage_mytokens, create_mytoken,
// settings), which covers all the others.
std::vector<Capability> FullCapabilitySet();

// Maps SIDs back to names: the catalog plus every name remembered, so a SID
// read from a binary spec can be shown by name.
//
// Thread-safety: NOT thread-safe. Remember() mutates and NameForSid() reads
// the same map without a lock; the daemon wraps the object in its own mutex
// (or gives each thread its own copy).
class CapabilityNames {
 public:
  // Starts with every catalog name.
  CapabilityNames();
  // Remembers `name` so its SID can be shown by name. An invalid name is
  // ignored. When another spelling of the same capability is already known
  // (the catalog's, or an earlier one), the first spelling is kept.
  void Remember(std::string_view name);
  // Returns the name for `sid`, or nullopt when none is known.
  std::optional<std::string> NameForSid(const Sid& sid) const;
  // Fills in the names of `capabilities` whose name is empty and whose SID
  // is known; leaves the others alone.
  void FillNames(std::vector<Capability>& capabilities) const;

 private:
  std::unordered_map<Sid, std::string, SidHash> names_;
};

}  // namespace tokenfs

#endif  // TOKENFS_CORE_CAPABILITY_H_
