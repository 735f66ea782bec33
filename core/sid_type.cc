#include "core/sid_type.h"

namespace tokenfs {

SidType SidTypeOf(const Sid& sid) {
  if (sid.HasPrefix(16, {})) return SidType::kLabel;
  if (sid.HasPrefix(5, {5})) return SidType::kLogon;
  if (sid.HasPrefix(5, {32}) && sid.sub_authority_count() == 2) {
    return SidType::kAlias;
  }
  if (sid.HasPrefix(22, {1})) return SidType::kUser;
  if (sid.HasPrefix(22, {2}) || sid.HasPrefix(5, {21})) return SidType::kGroup;
  return SidType::kWellKnownGroup;
}

std::string_view SidTypeName(SidType type) {
  switch (type) {
    case SidType::kWellKnownGroup:
      return "well-known group";
    case SidType::kAlias:
      return "alias";
    case SidType::kLabel:
      return "label";
    case SidType::kLogon:
      return "logon";
    case SidType::kUser:
      return "user";
    case SidType::kGroup:
      return "group";
  }
  return "well-known group";
}

}  // namespace tokenfs
