#include "core/access_check.h"

#include <array>
#include <unordered_map>
#include <bit>
#include <utility>

#include "core/ace.h"
#include "core/ascii.h"
#include "core/conditional_expression.h"
#include "core/privilege.h"
#include "core/resource_attribute.h"
#include "core/well_known_sids.h"

// Sources for the order and for each rule: MS-DTYP 2.5.3.2; the Peios v0.20
// access check (its algorithm, DACL walk, integrity and object ACE rules);
// Forshaw's Get-PSGrantedAccess model and NtApiDotNet GenericMapping.cs
// (GetAllowedMandatoryAccess); ReactOS SepAccessCheck; Samba access_check.c.
//
// Where Peios and Windows differ the Peios rule is followed, except where the
// project decided otherwise (each such place says so).

namespace tokenfs {
namespace {

// Privilege-only: no ACE and no mandatory label decides this bit.
constexpr AccessMask kSystemSecurity = access::kAccessSystemSecurity;
constexpr AccessMask kOwnerImplied = access::kReadControl | access::kWriteDac;
constexpr int kNoAce = -1;

// The access check compares every ACE SID against every token SID; the RID
// (inline) rejects almost all pairs before the full comparison.
bool SameSid(const Sid& a, const Sid& b) {
  return a.rid() == b.rid() && a == b;
}

// A 256-bit filter over the RIDs of a SID list: a SID whose RID bit is
// clear is certainly not in the list, so most ACEs that match nothing skip
// the scan of the token's groups (about 1 in 9 passes for 30 groups).
class RidFilter {
 public:
  RidFilter() = default;
  explicit RidFilter(const std::vector<SidAndAttributes>& sids) {
    for (const SidAndAttributes& entry : sids) Add(entry.sid);
  }
  void Add(const Sid& sid) {
    const uint32_t slot = Slot(sid);
    words_[slot >> 6] |= uint64_t{1} << (slot & 63);
  }
  bool MayContain(const Sid& sid) const {
    const uint32_t slot = Slot(sid);
    return words_[slot >> 6] & (uint64_t{1} << (slot & 63));
  }

 private:
  // MurmurHash3's 32-bit finaliser: RIDs come in runs (1000, 1001, ...),
  // which plain multiplicative hashing maps onto each other's slots.
  static uint32_t Slot(const Sid& sid) {
    uint32_t h = sid.rid();
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h & 0xff;
  }
  std::array<uint64_t, 4> words_{};
};

bool SameMapping(const GenericMapping& a, const GenericMapping& b) {
  return a.read == b.read && a.write == b.write && a.execute == b.execute &&
         a.all == b.all;
}

bool IsCallbackAceType(AceType type) {
  switch (type) {
    case AceType::kAccessAllowedCallback:
    case AceType::kAccessDeniedCallback:
    case AceType::kAccessAllowedCallbackObject:
    case AceType::kAccessDeniedCallbackObject:
      return true;
    default:
      return false;
  }
}

// An allow or deny ACE of any flavour (plain, object, callback): the ones
// the DACL walk evaluates and the OWNER RIGHTS pre-scan counts.
bool IsAccessAceType(AceType type) {
  return IsAllowAceType(type) || IsDenyAceType(type);
}

std::string SidName(const Sid& sid) {
  if (auto label = SidLabel(sid)) return *label;
  return sid.ToString();
}

std::string LevelName(uint32_t rid) {
  if (auto name = IntegrityLevelName(rid)) return std::string(*name);
  return "integrity " + FormatHex(rid);
}

// The owner-rights and principal-self SIDs are compared against every ACE;
// build them once.
const Sid& OwnerRightsSid() {
  static const Sid sid = well_known::OwnerRights();
  return sid;
}
const Sid& PrincipalSelfSid() {
  static const Sid sid = well_known::PrincipalSelf();
  return sid;
}

// The privileges the check consults, once resolved.
struct Privileges {
  uint64_t effective = 0;  // enabled, present, backup/restore only with intent
  bool Has(int bit) const { return effective & privilege::Bit(bit); }
};

// Which privilege contributed which bits (first writer wins, like the ACEs).
struct Provenance {
  AccessMask security;
  AccessMask backup;
  AccessMask restore;
  AccessMask take_ownership;
  AccessMask relabel;

  // The privileges whose contributed bits reached `result`.
  uint64_t UsedFor(AccessMask result) const {
    const std::array<std::pair<AccessMask, int>, 5> sources{{
        {security, privilege::kSecurity},
        {backup, privilege::kBackup},
        {restore, privilege::kRestore},
        {take_ownership, privilege::kTakeOwnership},
        {relabel, privilege::kRelabel},
    }};
    uint64_t used = 0;
    for (const auto& [bits, privilege_bit] : sources) {
      if (bits.Intersects(result)) used |= privilege::Bit(privilege_bit);
    }
    return used;
  }
};

enum class PassKind { kNormal, kRestricted };

// The state of one DACL evaluation (the normal pass or the restricted one).
// First writer wins: a bit in `decided` is never changed again; `granted` is
// the decided bits that were granted.
struct PassState {
  AccessMask decided;
  AccessMask granted;
  AccessMask owner_bits;        // granted by owner implied rights
  AccessMask null_dacl_bits;    // granted by an absent or NULL DACL
  AccessMask ace_bits;          // granted by allow ACEs
  int completing_ace = kNoAce;  // the allow ACE that granted the last bit
  // The deny ACE that decided each bit, or kNoAce.
  std::array<int16_t, 32> denied_by;

  PassState() { denied_by.fill(kNoAce); }

  // The first deny ACE (lowest index) that denied one of `bits`.
  int DenyingAce(AccessMask bits) const {
    int best = kNoAce;
    for (uint32_t rest = bits.bits(); rest != 0; rest &= rest - 1) {
      const int ace = denied_by[std::countr_zero(rest)];
      if (ace != kNoAce && (best == kNoAce || ace < best)) best = ace;
    }
    return best;
  }
  // The bits of `bits` that deny ACE `ace` decided.
  AccessMask DeniedBy(int ace, AccessMask bits) const {
    AccessMask result;
    for (uint32_t rest = bits.bits(); rest != 0; rest &= rest - 1) {
      const int bit = std::countr_zero(rest);
      if (denied_by[bit] == ace) result |= AccessMask(uint32_t{1} << bit);
    }
    return result;
  }
};

class Checker {
 public:
  Checker(const Token& token, const SecurityDescriptor& sd,
          const AccessRequest& request, AccessCheckResult& result)
      : token_(token),
        sd_(sd),
        request_(request),
        mapping_(request.mapping),
        token_names_(SameMapping(request.mapping, kTokenGenericMapping)),
        tracing_(request.want_trace),
        // The trace ends with the reason, so a trace always explains.
        explain_grant_(request.want_grant_reason || request.want_trace),
        result_(result),
        normal_filter_(token.groups),
        restricted_filter_(token.restricted_sids
                               ? RidFilter(*token.restricted_sids)
                               : RidFilter()) {
    normal_filter_.Add(token.user);
  }

  void Run();

 private:
  // Formatting.
  std::string Rights(AccessMask mask) const {
    return token_names_ ? FormatTokenRights(mask) : FormatHex(mask.bits());
  }
  std::string DescribeAce(size_t index) const;
  void Trace(const char* step, std::string detail, int ace = kNoAce) {
    result_.trace.push_back(AccessTraceStep{step, std::move(detail), ace});
  }
  void Finish(AccessStatus status, AccessMask granted, std::string reason,
              int deciding_ace = kNoAce);

  // Steps.
  bool PassGate();
  bool PassSecurityDescriptorChecks();
  void ResolvePrivileges();
  void GrantByPrivileges();
  bool EnforceIntegrity();  // false: the check is over
  void FindOwnerRightsAce();
  bool CallerIsOwner(PassKind kind) const;
  bool SidMatches(PassKind kind, const Sid& sid, bool for_allow) const;
  bool AceSidMatches(PassKind kind, bool caller_is_owner, const Sid& sid,
                     bool for_allow) const;
  // Evaluates the condition of callback ACE `index` for `kind`; `*why`
  // receives the sentence the trace and the reason use.
  Tristate EvaluateCondition(PassKind kind, size_t index, bool for_allow,
                             std::string* why);
  // ": <why>" for a deny ACE that applied by its condition, else "".
  std::string ConditionNote(int ace) const {
    auto it = condition_reason_.find(static_cast<size_t>(ace));
    return it == condition_reason_.end() ? "" : ": " + it->second;
  }
  void EvaluateDacl(PassKind kind, PassState& state);
  void GrantOwnershipPrivileges();
  void RunRestrictedPass();
  void Conclude();
  std::string IntegrityReason(AccessMask denied) const;
  std::string SuccessSources(AccessMask rights) const;

  const Token& token_;
  const SecurityDescriptor& sd_;
  const AccessRequest& request_;
  const GenericMapping& mapping_;
  const bool token_names_;
  const bool tracing_;
  const bool explain_grant_;
  AccessCheckResult& result_;
  RidFilter normal_filter_;            // user and groups
  const RidFilter restricted_filter_;  // the restricting SIDs

  AccessMask desired_;  // mapped, without MAXIMUM_ALLOWED
  bool maximum_allowed_ = false;
  Privileges privileges_;
  Provenance provenance_;
  AccessMask privilege_granted_;
  // Seeded by privileges and integrity; the normal pass starts from it.
  PassState normal_;
  AccessMask mandatory_denied_;  // bits the integrity rule decided (denied)
  uint32_t object_level_ = kIntegrityMedium;
  uint32_t label_policy_ = 0;
  int owner_rights_ace_ = kNoAce;
  // The restricted pass, when one ran.
  bool restricted_ran_ = false;
  AccessMask restricted_scope_;  // bits the restricted pass had a say in
  PassState restricted_;
  // The SACL's resource attributes, decoded on first use by a condition.
  bool resource_attributes_loaded_ = false;
  std::vector<Claim> resource_attributes_;
  // For deny ACEs applied by their condition: why, by DACL index.
  std::unordered_map<size_t, std::string> condition_reason_;
};

std::string Checker::DescribeAce(size_t index) const {
  const Ace& ace = sd_.dacl->aces[index];
  std::string text = "ACE " + std::to_string(index) + " (";
  text += IsAllowAceType(ace.type) ? "allow " : "deny ";
  // The mask as written (GENERIC_ALL rather than its mapped list): the
  // trace lines after it say which mapped rights it granted or denied.
  text += Rights(ace.mask);
  text += " to ";
  text += SidName(ace.sid);
  if (IsCallbackAceType(ace.type)) {
    text += "; conditional";
  } else if (IsObjectAceType(ace.type)) {
    text += "; object ACE";
  }
  text += ")";
  return text;
}

void Checker::Finish(AccessStatus status, AccessMask granted,
                     std::string reason, int deciding_ace) {
  result_.status = status;
  result_.granted = status == AccessStatus::kGranted ? granted : AccessMask();
  result_.privileges_used = status == AccessStatus::kGranted
                                ? provenance_.UsedFor(result_.granted)
                                : 0;
  result_.reason = std::move(reason);
  result_.deciding_ace = deciding_ace;
  if (tracing_) Trace("result", result_.reason, deciding_ace);
}

// Gate: Peios lets no Identification-level token through; the project also
// refuses Anonymous (Windows' kernel SeAccessCheck needs >= Impersonation for
// a client token; Peios would run an Anonymous token through the pipeline).
bool Checker::PassGate() {
  if (token_.type == TokenType::kImpersonation &&
      token_.impersonation_level < ImpersonationLevel::kImpersonation) {
    Finish(AccessStatus::kBadImpersonationLevel, AccessMask(),
           "an " +
               std::string(ImpersonationLevelName(token_.impersonation_level)) +
               "-level impersonation token cannot be used for an access check");
    return false;
  }
  if (tracing_) {
    Trace("gate", token_.type == TokenType::kPrimary
                      ? "primary token: usable for an access check"
                      : "impersonation token at level " +
                            std::string(ImpersonationLevelName(
                                token_.impersonation_level)) +
                            ": usable for an access check");
  }
  return true;
}

// Windows' AccessCheck order (Wine's tests verify each status): generic
// rights the mapping cannot resolve, then an owner and a group the check
// needs; both fail the call instead of denying.
bool Checker::PassSecurityDescriptorChecks() {
  const AccessMask left = GenericLeftAfterMapping(request_.desired, mapping_);
  if (!left.empty()) {
    Finish(AccessStatus::kGenericNotMapped, AccessMask(),
           "the generic mapping maps " +
               Rights(request_.desired & access::kAllGeneric) + " to " +
               Rights(MapGeneric(request_.desired & access::kAllGeneric,
                                 mapping_) |
                      left) +
               ", which still holds the generic right " + Rights(left));
    return false;
  }
  if (!sd_.owner || !sd_.group) {
    const char* missing = !sd_.owner && !sd_.group ? "an owner or a group"
                          : !sd_.owner             ? "an owner"
                                                   : "a group";
    Finish(AccessStatus::kInvalidSecurityDescriptor, AccessMask(),
           std::string("the security descriptor has no ") +
               (!sd_.owner && !sd_.group ? "owner and no group"
                : !sd_.owner             ? "owner"
                                         : "group") +
               ": an access check needs " + missing);
    return false;
  }
  return true;
}

void Checker::ResolvePrivileges() {
  const PrivilegeSet& set = token_.privileges;
  privileges_.effective = set.enabled & set.present;
  if (!(request_.intent & privilege_intent::kBackup)) {
    privileges_.effective &= ~privilege::Bit(privilege::kBackup);
  }
  if (!(request_.intent & privilege_intent::kRestore)) {
    privileges_.effective &= ~privilege::Bit(privilege::kRestore);
  }
  if (!tracing_) return;
  const std::array<std::pair<int, uint32_t>, 2> intents{{
      {privilege::kBackup, privilege_intent::kBackup},
      {privilege::kRestore, privilege_intent::kRestore},
  }};
  for (const auto& [bit, intent] : intents) {
    if (set.IsEnabled(bit) && !(request_.intent & intent)) {
      Trace("privilege", PrivilegeShortName(bit) +
                             " is enabled but its intent was not declared: "
                             "not applied");
    }
  }
}

// Peios step 4: privileges decide their bits before integrity and the DACL,
// so neither a label nor a deny ACE takes them back.
void Checker::GrantByPrivileges() {
  PassState& state = normal_;
  // ACCESS_SYSTEM_SECURITY is only ever decided here.
  state.decided |= kSystemSecurity;
  if (privileges_.Has(privilege::kSecurity)) {
    provenance_.security = kSystemSecurity;
    state.granted |= kSystemSecurity;
    if (tracing_) {
      Trace("privilege",
            "SeSecurity is enabled: grants " + Rights(kSystemSecurity));
    }
  }
  if (privileges_.Has(privilege::kBackup)) {
    // Peios: every read-mapped bit (Windows' I/O manager grants the file
    // set READ_CONTROL | ACCESS_SYSTEM_SECURITY | FILE_GENERIC_READ |
    // FILE_TRAVERSE; Peios leaves ACCESS_SYSTEM_SECURITY to SeSecurity).
    const AccessMask bits = MapGeneric(access::kGenericRead, mapping_);
    provenance_.backup = bits & ~state.granted;
    state.decided |= bits;
    state.granted |= bits;
    if (tracing_) {
      Trace("privilege", "SeBackup with backup intent grants " + Rights(bits));
    }
  }
  if (privileges_.Has(privilege::kRestore)) {
    const AccessMask bits = MapGeneric(access::kGenericWrite, mapping_) |
                            access::kWriteDac | access::kWriteOwner |
                            access::kDelete | kSystemSecurity;
    provenance_.restore = bits & ~state.granted;
    state.decided |= bits;
    state.granted |= bits;
    if (tracing_) {
      Trace("privilege",
            "SeRestore with restore intent grants " + Rights(bits));
    }
  }
  privilege_granted_ = state.granted;
}

bool Checker::EnforceIntegrity() {
  const Ace* label = sd_.MandatoryLabel();
  if (label != nullptr && !IsIntegritySid(label->sid)) {
    Finish(AccessStatus::kInvalidSecurityDescriptor, AccessMask(),
           "the mandatory label names " + label->sid.ToString() +
               ", which is not an integrity level (S-1-16-N)");
    return false;
  }
  if (label != nullptr) {
    object_level_ = label->sid.rid();
    label_policy_ = label->mask.bits() &
                    (access::kMandatoryNoWriteUp | access::kMandatoryNoReadUp |
                     access::kMandatoryNoExecuteUp)
                        .bits();
  } else {
    object_level_ = kIntegrityMedium;
    label_policy_ = access::kMandatoryNoWriteUp.bits();
  }
  if (!(token_.mandatory_policy & mandatory_policy::kNoWriteUp)) {
    if (tracing_) {
      Trace("integrity",
            "the token's mandatory policy lacks NO_WRITE_UP: integrity is not "
            "enforced for it");
    }
    return true;
  }
  // Only the trace names the object's level.
  const auto object_text = [&] {
    return (label ? "object label " : "unlabelled object, treated as ") +
           LevelName(object_level_);
  };
  if (token_.integrity_rid >= object_level_) {
    if (tracing_) {
      Trace("integrity", "token " + LevelName(token_.integrity_rid) +
                             " dominates the " + object_text() +
                             ": no restriction");
    }
    return true;
  }
  const AccessMask without_relabel =
      MandatoryAllowedRights(label_policy_, mapping_);
  AccessMask allowed = without_relabel;
  if (privileges_.Has(privilege::kRelabel)) allowed |= access::kWriteOwner;
  // Bits privileges already decided stay theirs (Peios: integrity constrains
  // what the DACL may grant, not what privileges granted).
  mandatory_denied_ = ~allowed & ~normal_.decided & ~access::kMaximumAllowed &
                      ~access::kAllGeneric;
  normal_.decided |= mandatory_denied_;
  if (privileges_.Has(privilege::kRelabel) &&
      !without_relabel.Intersects(access::kWriteOwner) &&
      !normal_.granted.Intersects(access::kWriteOwner)) {
    // Provisional: SeRelabel counts as used only if WRITE_OWNER is granted.
    provenance_.relabel = access::kWriteOwner;
  }
  if (tracing_) {
    std::string detail = "token " + LevelName(token_.integrity_rid) +
                         " is below the " + object_text() + " (policy " +
                         FormatHex(label_policy_) + "): allowed " +
                         Rights(without_relabel);
    if (allowed != without_relabel) detail += ", plus WRITE_OWNER (SeRelabel)";
    Trace("integrity", std::move(detail));
  }
  const AccessMask blocked = desired_ & mandatory_denied_;
  if (!maximum_allowed_ && !blocked.empty()) {
    Finish(AccessStatus::kAccessDenied, AccessMask(), IntegrityReason(blocked));
    return false;
  }
  return true;
}

std::string Checker::IntegrityReason(AccessMask denied) const {
  const AccessMask read =
      MapGeneric(access::kGenericRead, mapping_) | access::kReadControl;
  const AccessMask write = MapGeneric(access::kGenericWrite, mapping_) |
                           access::kDelete | access::kWriteDac |
                           access::kWriteOwner | kSystemSecurity;
  const AccessMask execute =
      (MapGeneric(access::kGenericExecute, mapping_) & ~read) |
      access::kSynchronize;
  const char* verb = "obtain";
  if ((label_policy_ & access::kMandatoryNoWriteUp.bits()) &&
      denied.Intersects(write)) {
    verb = "write up to";
  } else if ((label_policy_ & access::kMandatoryNoReadUp.bits()) &&
             denied.Intersects(read)) {
    verb = "read up to";
  } else if ((label_policy_ & access::kMandatoryNoExecuteUp.bits()) &&
             denied.Intersects(execute)) {
    verb = "execute up to";
  }
  std::string text = "integrity: " + LevelName(token_.integrity_rid) +
                     " token cannot " + verb + " a " +
                     LevelName(object_level_) + " object";
  text += " (" + Rights(denied) + " denied)";
  return text;
}

void Checker::FindOwnerRightsAce() {
  if (!sd_.dacl) return;
  const auto& aces = sd_.dacl->aces;
  for (size_t i = 0; i < aces.size(); ++i) {
    // Presence only: a callback ACE's condition is not consulted (Peios
    // 2-dacl-walk "Owner implicit rights").
    if (!aces[i].inherit_only() && IsAccessAceType(aces[i].type) &&
        SameSid(aces[i].sid, OwnerRightsSid())) {
      owner_rights_ace_ = static_cast<int>(i);
      return;
    }
  }
}

bool Checker::SidMatches(PassKind kind, const Sid& sid, bool for_allow) const {
  if (!(kind == PassKind::kNormal ? normal_filter_ : restricted_filter_)
           .MayContain(sid)) {
    return false;
  }
  if (kind == PassKind::kRestricted) {
    // Restricting SIDs are presence-based: attributes are ignored and they
    // match allow and deny ACEs alike (Peios SidInRestrictingSids).
    for (const SidAndAttributes& entry : *token_.restricted_sids) {
      if (SameSid(entry.sid, sid)) return true;
    }
    return false;
  }
  if (SameSid(sid, token_.user)) {
    return !(for_allow && token_.user_deny_only);
  }
  for (const SidAndAttributes& group : token_.groups) {
    if (!SameSid(group.sid, sid)) continue;
    const bool enabled = group.attributes & group_attributes::kEnabled;
    const bool deny_only = group.attributes & group_attributes::kUseForDenyOnly;
    if (for_allow ? (enabled && !deny_only) : (enabled || deny_only)) {
      return true;
    }
  }
  return false;
}

// Owner: the SD owner matches the token as an allow SID (a deny-only SID
// does not make its holder the owner); in the restricted pass, the owner is
// one of the restricting SIDs.
bool Checker::CallerIsOwner(PassKind kind) const {
  return sd_.owner && SidMatches(kind, *sd_.owner, /*for_allow=*/true);
}

Tristate Checker::EvaluateCondition(PassKind kind, size_t index,
                                    bool for_allow, std::string* why) {
  const Ace& ace = sd_.dacl->aces[index];
  auto expr = DecodeConditionalExpression(ace.application_data);
  if (!expr) {
    *why = "its condition does not decode (" + expr.error().message +
           "): UNKNOWN";
    return Tristate::kUnknown;
  }
  if (!resource_attributes_loaded_) {
    resource_attributes_loaded_ = true;
    if (sd_.sacl_present() && sd_.sacl) {
      for (const Ace& entry : sd_.sacl->aces) {
        if (entry.type != AceType::kSystemResourceAttribute ||
            entry.inherit_only()) {
          continue;
        }
        if (auto claim = DecodeResourceAttribute(entry.application_data)) {
          resource_attributes_.push_back(std::move(*claim));
        }
      }
    }
  }
  ConditionalContext context;
  context.user_claims =
      request_.user_claims ? request_.user_claims : &token_.user_claims;
  context.device_claims =
      request_.device_claims ? request_.device_claims : &token_.device_claims;
  context.resource_attributes = &resource_attributes_;
  context.for_deny = !for_allow;
  if (kind == PassKind::kRestricted) {
    for (const SidAndAttributes& entry : *token_.restricted_sids) {
      context.member_sids.push_back(entry.sid);
    }
  } else {
    if (!(for_allow && token_.user_deny_only)) {
      context.member_sids.push_back(token_.user);
    }
    for (const SidAndAttributes& group : token_.groups) {
      const bool enabled = group.attributes & group_attributes::kEnabled;
      const bool deny_only =
          group.attributes & group_attributes::kUseForDenyOnly;
      if (for_allow ? (enabled && !deny_only) : (enabled || deny_only)) {
        context.member_sids.push_back(group.sid);
      }
    }
  }
  if (token_.device_groups) {
    context.has_device = true;
    for (const SidAndAttributes& group : *token_.device_groups) {
      if (group.attributes & group_attributes::kEnabled) {
        context.device_sids.push_back(group.sid);
      }
    }
  }
  const ConditionalEvaluation evaluation =
      EvaluateConditionalExpression(*expr, context);
  *why = "condition " + FormatConditionalExpression(*expr) + " is " +
         std::string(TristateName(evaluation.result));
  if (!evaluation.reasons.empty()) {
    *why += " (";
    for (size_t k = 0; k < evaluation.reasons.size(); ++k) {
      if (k > 0) *why += "; ";
      *why += evaluation.reasons[k];
    }
    *why += ")";
  }
  return evaluation.result;
}

bool Checker::AceSidMatches(PassKind kind, bool caller_is_owner, const Sid& sid,
                            bool for_allow) const {
  if (SameSid(sid, OwnerRightsSid())) return caller_is_owner;
  if (SameSid(sid, PrincipalSelfSid())) {
    return request_.principal_self &&
           SidMatches(kind, *request_.principal_self, for_allow);
  }
  return SidMatches(kind, sid, for_allow);
}

void Checker::EvaluateDacl(PassKind kind, PassState& state) {
  const char* step = kind == PassKind::kNormal ? "dacl" : "restricted";
  const bool owner = CallerIsOwner(kind);

  // Owner implied rights, before the walk so deny ACEs cannot remove them.
  // The owner is present: the check refused a descriptor without one.
  if (!owner) {
    if (tracing_) {
      Trace("owner",
            kind == PassKind::kNormal
                ? "the caller is not the owner (" + SidName(*sd_.owner) + ")"
                : "the owner (" + SidName(*sd_.owner) +
                      ") is not a restricting SID: no owner rights "
                      "in the restricted pass");
    }
  } else if (owner_rights_ace_ != kNoAce) {
    if (tracing_) {
      Trace("owner",
            "the caller is the owner, but " + DescribeAce(owner_rights_ace_) +
                " names OWNER RIGHTS: implied rights suppressed",
            owner_rights_ace_);
    }
  } else {
    state.owner_bits = kOwnerImplied & ~state.decided;
    state.decided |= state.owner_bits;
    state.granted |= state.owner_bits;
    if (tracing_) {
      std::string detail = "the caller is the owner (" + SidName(*sd_.owner) +
                           "): implied " + Rights(kOwnerImplied);
      if (state.owner_bits != kOwnerImplied) {
        detail +=
            ", of which " + Rights(state.owner_bits) + " was still undecided";
      }
      Trace("owner", std::move(detail));
    }
  }

  if (!sd_.dacl_present() || !sd_.dacl) {
    // Peios: bounded to the mapping's GENERIC_ALL, not every bit.
    state.null_dacl_bits = mapping_.all & ~state.decided;
    state.decided |= state.null_dacl_bits;
    state.granted |= state.null_dacl_bits;
    if (tracing_) {
      Trace(step, std::string(sd_.dacl_present()
                                  ? "the DACL is NULL"
                                  : "the security descriptor has no DACL") +
                      ": grants " + Rights(mapping_.all) +
                      " (GENERIC_ALL of the object class)");
    }
    return;
  }

  const auto& aces = sd_.dacl->aces;
  if (tracing_ && aces.empty()) {
    Trace(step, "the DACL is empty: no ACE grants anything");
  }
  for (size_t i = 0; i < aces.size(); ++i) {
    const int index = static_cast<int>(i);
    // Short-circuit once every requested bit is decided; MAXIMUM_ALLOWED
    // must see every ACE.
    if (!maximum_allowed_ && state.decided.Contains(desired_)) {
      if (tracing_) {
        Trace(step, "every requested right is decided: ACEs " +
                        std::to_string(i) + " and later are not evaluated");
      }
      break;
    }
    const Ace& ace = aces[i];
    if (ace.inherit_only()) {
      if (tracing_) {
        Trace(step, DescribeAce(i) + ": inherit-only, skipped", index);
      }
      continue;
    }
    const bool allow = IsAllowAceType(ace.type);
    if (!allow && !IsDenyAceType(ace.type)) {
      if (tracing_) {
        Trace(step,
              "ACE " + std::to_string(i) + " (type " +
                  FormatHex(static_cast<uint32_t>(ace.type)) +
                  ") is not an allow or deny ACE: skipped",
              index);
      }
      continue;
    }
    if (!AceSidMatches(kind, owner, ace.sid, allow)) {
      if (tracing_) Trace(step, DescribeAce(i) + ": does not match", index);
      continue;
    }
    if (IsCallbackAceType(ace.type)) {
      // MS-DTYP 2.5.3.2: an allow ACE applies only when its condition is
      // TRUE; a deny ACE unless it is FALSE (UNKNOWN denies).
      std::string why;
      const Tristate outcome = EvaluateCondition(kind, i, allow, &why);
      const bool applies =
          allow ? outcome == Tristate::kTrue : outcome != Tristate::kFalse;
      if (!applies) {
        if (tracing_) {
          Trace(step, DescribeAce(i) + ": " + why + ": skipped", index);
        }
        continue;
      }
      if (tracing_) {
        Trace(step, DescribeAce(i) + ": " + why + ": applies", index);
      }
      if (!allow) {
        condition_reason_[i] = std::move(why);
      }
    }
    const AccessMask mask =
        MapGeneric(ace.mask, mapping_) & ~access::kMaximumAllowed;
    const AccessMask fresh = mask & ~state.decided;
    state.decided |= fresh;
    if (allow) {
      state.granted |= fresh;
      state.ace_bits |= fresh;
      if (!maximum_allowed_ && fresh.Intersects(desired_) &&
          state.decided.Contains(desired_)) {
        state.completing_ace = index;
      }
    } else {
      for (uint32_t rest = fresh.bits(); rest != 0; rest &= rest - 1) {
        state.denied_by[std::countr_zero(rest)] = static_cast<int16_t>(i);
      }
    }
    if (tracing_) {
      std::string detail = DescribeAce(i) + ": matches, ";
      if (fresh.empty()) {
        detail += "but every right in it is already decided";
      } else {
        detail += (allow ? "grants " : "denies ") + Rights(fresh);
      }
      Trace(step, std::move(detail), index);
    }
    // A denied requested right fails the request: only WRITE_OWNER can
    // still come back (from SeTakeOwnership), so stop unless that is all.
    if (!allow && !maximum_allowed_ &&
        !(fresh & desired_ & ~access::kWriteOwner).empty()) {
      if (tracing_ && i + 1 < aces.size()) {
        Trace(step, "a requested right is denied: ACEs " +
                        std::to_string(i + 1) + " and later are not evaluated");
      }
      break;
    }
  }
}

// Peios step 9: deny-proof, but never across an integrity denial. SeRelabel
// also grants WRITE_OWNER here, as in Windows (Forshaw's model) and as the
// issue asks; Peios uses SeRelabel only to lift the integrity rule.
void Checker::GrantOwnershipPrivileges() {
  if (!maximum_allowed_ && !desired_.Intersects(access::kWriteOwner)) return;
  if (normal_.granted.Intersects(access::kWriteOwner)) return;
  if (mandatory_denied_.Intersects(access::kWriteOwner)) {
    if (tracing_ && privileges_.Has(privilege::kTakeOwnership)) {
      Trace("privilege",
            "SeTakeOwnership cannot grant WRITE_OWNER: integrity denied it");
    }
    return;
  }
  for (int bit : {privilege::kTakeOwnership, privilege::kRelabel}) {
    if (!privileges_.Has(bit)) continue;
    normal_.decided |= access::kWriteOwner;
    normal_.granted |= access::kWriteOwner;
    privilege_granted_ |= access::kWriteOwner;
    if (bit == privilege::kTakeOwnership) {
      // A provisional SeRelabel credit stays: it lifted the integrity rule
      // that would otherwise have blocked this grant.
      provenance_.take_ownership = access::kWriteOwner;
    } else {
      provenance_.relabel = access::kWriteOwner;
    }
    if (tracing_) {
      Trace("privilege", PrivilegeShortName(bit) +
                             " grants WRITE_OWNER, which the DACL did not");
    }
    return;
  }
}

// Write-restricted tokens: Windows' SepAccessCheck runs the restricted pass
// only over (GenericWrite & ~(GenericRead | GenericExecute)) | DELETE |
// WRITE_DAC | WRITE_OWNER | ACCESS_SYSTEM_SECURITY (Forshaw's
// Test-NtAccessMask -WriteRestricted is the same rule). Peios intersects the
// whole mapped GENERIC_WRITE, which would put READ_CONTROL (in both the token
// and file GENERIC_WRITE) under the restricting SIDs and leave DELETE and
// WRITE_OWNER outside them; the Windows rule is used.
void Checker::RunRestrictedPass() {
  if (!token_.restricted_sids) return;
  if (!maximum_allowed_ && !normal_.granted.Contains(desired_)) return;
  restricted_scope_ =
      token_.write_restricted ? WriteRestrictedRights(mapping_) : ~AccessMask();
  if (!maximum_allowed_ &&
      (desired_ & restricted_scope_ & ~privilege_granted_).empty()) {
    if (tracing_) {
      Trace("restricted",
            token_.write_restricted
                ? "write-restricted token: no write right requested, the "
                  "restricted pass does not apply"
                : "every requested right came from privileges: the "
                  "restricted pass does not apply");
    }
    return;
  }
  restricted_ran_ = true;
  if (tracing_) {
    Trace("restricted",
          "second pass over the " +
              std::to_string(token_.restricted_sids->size()) +
              " restricting SIDs" +
              (token_.write_restricted ? ", for write rights only" : ""));
  }
  // A fresh pass: integrity and privileges were settled in the normal pass,
  // and the intersection below keeps those decisions.
  EvaluateDacl(PassKind::kRestricted, restricted_);
}

std::string Checker::SuccessSources(AccessMask rights) const {
  std::vector<std::string> sources;
  const uint64_t used = provenance_.UsedFor(rights);
  std::string privileges;
  for (int bit = 0; bit < 64; ++bit) {
    if (used & privilege::Bit(bit)) {
      if (!privileges.empty()) privileges += ", ";
      privileges += PrivilegeShortName(bit);
    }
  }
  if (!privileges.empty()) sources.push_back("privilege " + privileges);
  if (normal_.owner_bits.Intersects(rights & ~privilege_granted_)) {
    sources.push_back("ownership");
  }
  if (normal_.null_dacl_bits.Intersects(rights & ~privilege_granted_)) {
    sources.push_back(sd_.dacl_present() ? "the NULL DACL" : "the absent DACL");
  }
  if (normal_.ace_bits.Intersects(rights & ~privilege_granted_)) {
    sources.push_back(normal_.completing_ace != kNoAce
                          ? DescribeAce(normal_.completing_ace) +
                                ", which completed the request"
                          : "the DACL");
  }
  std::string text;
  for (size_t i = 0; i < sources.size(); ++i) {
    if (i > 0) text += i + 1 == sources.size() ? " and " : ", ";
    text += sources[i];
  }
  return text;
}

void Checker::Conclude() {
  // Every right the token ends up with.
  AccessMask final = normal_.granted;
  if (restricted_ran_) {
    final = (final & ~restricted_scope_) |
            (final & restricted_.granted & restricted_scope_);
    // Privilege-granted bits bypass the restricted pass (Peios step 10).
    final |= privilege_granted_;
  }

  const AccessMask missing = desired_ & ~final;
  if (!missing.empty()) {
    if (missing.Intersects(mandatory_denied_)) {
      Finish(AccessStatus::kAccessDenied, AccessMask(),
             IntegrityReason(missing & mandatory_denied_));
      return;
    }
    const AccessMask normal_missing = missing & ~normal_.granted;
    if (!normal_missing.empty()) {
      const int ace = normal_.DenyingAce(normal_missing);
      if (ace != kNoAce) {
        Finish(AccessStatus::kAccessDenied, AccessMask(),
               DescribeAce(ace) + " denied " +
                   Rights(normal_.DeniedBy(ace, normal_missing)) +
                   ConditionNote(ace),
               ace);
        return;
      }
      if (sd_.dacl_present() && sd_.dacl) {
        Finish(AccessStatus::kAccessDenied, AccessMask(),
               "no ACE granted " + Rights(normal_missing));
      } else {
        Finish(AccessStatus::kAccessDenied, AccessMask(),
               Rights(normal_missing) +
                   " is outside GENERIC_ALL of the object class, all that "
                   "a missing or NULL DACL grants");
      }
      return;
    }
    // The normal pass granted them: the restricting SIDs did not.
    const int ace = restricted_.DenyingAce(missing);
    if (ace != kNoAce) {
      Finish(AccessStatus::kAccessDenied, AccessMask(),
             "restricted pass: " + DescribeAce(ace) + " denied " +
                 Rights(restricted_.DeniedBy(ace, missing)) +
                 ConditionNote(ace),
             ace);
    } else {
      Finish(AccessStatus::kAccessDenied, AccessMask(),
             "restricted pass: no ACE granted " + Rights(missing) +
                 " to a restricting SID");
    }
    return;
  }

  if (maximum_allowed_) {
    if (final.empty()) {
      // Windows: an empty MAXIMUM_ALLOWED result is ACCESS_DENIED (Peios
      // would report success with nothing granted).
      Finish(AccessStatus::kAccessDenied, AccessMask(),
             "MAXIMUM_ALLOWED: no right is granted");
      return;
    }
    Finish(AccessStatus::kGranted, final,
           explain_grant_ ? "maximum allowed is " + Rights(final) + ", from " +
                                SuccessSources(final)
                          : std::string("granted"));
    return;
  }
  Finish(AccessStatus::kGranted, desired_,
         explain_grant_
             ? "granted " + Rights(desired_) + " by " + SuccessSources(desired_)
             : std::string("granted"),
         normal_.completing_ace);
}

void Checker::Run() {
  // Mapped first so every result, even a refused one, reports it.
  const AccessMask mapped = MapGeneric(request_.desired, mapping_);
  result_.desired_mapped = mapped;
  if (!PassGate()) return;
  if (!PassSecurityDescriptorChecks()) return;

  maximum_allowed_ = mapped.Intersects(access::kMaximumAllowed);
  desired_ = mapped & ~access::kMaximumAllowed;
  if (tracing_) {
    std::string detail = "desired " + Rights(request_.desired);
    if (request_.desired != mapped) detail += " maps to " + Rights(mapped);
    Trace("mapping", std::move(detail));
  }
  if (desired_.empty() && !maximum_allowed_) {
    // Windows (Wine-verified): asking for nothing is a failed check.
    Finish(AccessStatus::kAccessDenied, AccessMask(),
           "nothing was requested: the desired rights map to 0");
    return;
  }

  ResolvePrivileges();
  GrantByPrivileges();
  if (!EnforceIntegrity()) return;

  if (desired_.Intersects(kSystemSecurity) &&
      !privilege_granted_.Intersects(kSystemSecurity)) {
    const bool present = token_.privileges.IsPresent(privilege::kSecurity);
    Finish(AccessStatus::kPrivilegeNotHeld, AccessMask(),
           std::string("ACCESS_SYSTEM_SECURITY needs SeSecurity, which the "
                       "token ") +
               (present ? "holds but has not enabled" : "does not hold"));
    return;
  }

  FindOwnerRightsAce();
  EvaluateDacl(PassKind::kNormal, normal_);
  GrantOwnershipPrivileges();
  RunRestrictedPass();
  Conclude();
}

}  // namespace

AccessMask WriteRestrictedRights(const GenericMapping& mapping) {
  return (mapping.write & ~(mapping.read | mapping.execute)) | access::kDelete |
         access::kWriteDac | access::kWriteOwner |
         access::kAccessSystemSecurity;
}

// Forshaw's GetAllowedMandatoryAccess: three categories, read = GENERIC_READ
// + READ_CONTROL, execute = (GENERIC_EXECUTE not in GENERIC_READ) +
// SYNCHRONIZE, write = GENERIC_WRITE + DELETE, WRITE_DAC, WRITE_OWNER,
// ACCESS_SYSTEM_SECURITY. Start from read + execute (+ GENERIC_ALL when
// writing is allowed) and drop each bit that only forbidden categories hold.
// Peios' rule (subtract the whole mapped category) would take READ_CONTROL
// and SYNCHRONIZE from a Low reader of a Medium file, which Windows does
// not; Windows' worked values (0x1200a9, 0x100020) follow Windows.
AccessMask MandatoryAllowedRights(uint32_t policy,
                                  const GenericMapping& mapping) {
  const bool no_write = policy & access::kMandatoryNoWriteUp.bits();
  const bool no_read = policy & access::kMandatoryNoReadUp.bits();
  const bool no_execute = policy & access::kMandatoryNoExecuteUp.bits();
  const AccessMask read = mapping.read | access::kReadControl;
  const AccessMask execute =
      (mapping.execute & ~mapping.read) | access::kSynchronize;
  const AccessMask write = mapping.write | access::kDelete | access::kWriteDac |
                           access::kWriteOwner | access::kAccessSystemSecurity;
  AccessMask allowed = mapping.read | mapping.execute | access::kSynchronize |
                       access::kReadControl;
  if (!no_write) allowed |= mapping.all;
  AccessMask forbidden;
  AccessMask permitted;
  (no_read ? forbidden : permitted) |= read;
  (no_execute ? forbidden : permitted) |= execute;
  (no_write ? forbidden : permitted) |= write;
  return allowed & ~(forbidden & ~permitted);
}

AccessCheckResult AccessCheck(const Token& token, const SecurityDescriptor& sd,
                              const AccessRequest& request) {
  AccessCheckResult result;
  Checker(token, sd, request, result).Run();
  return result;
}

std::string_view AccessStatusName(AccessStatus status) {
  switch (status) {
    case AccessStatus::kGranted:
      return "granted";
    case AccessStatus::kAccessDenied:
      return "access-denied";
    case AccessStatus::kPrivilegeNotHeld:
      return "privilege-not-held";
    case AccessStatus::kBadImpersonationLevel:
      return "bad-impersonation-level";
    case AccessStatus::kGenericNotMapped:
      return "generic-not-mapped";
    case AccessStatus::kInvalidSecurityDescriptor:
      return "invalid-security-descriptor";
  }
  return "unknown";
}

}  // namespace tokenfs
