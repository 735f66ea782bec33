// SidType: what kind of account a SID in a token names, as `whoami /groups`
// shows it in its Type column: a label (integrity, S-1-16-*), a logon SID
// (S-1-5-5-*), an alias (a BUILTIN local group, S-1-5-32-*), a user (a Unix
// user S-1-22-1-*), a group (a Unix group S-1-22-2-*, a domain SID
// S-1-5-21-*), or else a well-known group (Everyone, Authenticated Users,
// Local, Interactive...).
//
// Decided from the SID's shape alone, without an account lookup.
// Thread-safety: pure functions.
#ifndef TOKENFS_CORE_SID_TYPE_H_
#define TOKENFS_CORE_SID_TYPE_H_

#include <string_view>

#include "core/sid.h"

namespace tokenfs {

enum class SidType { kWellKnownGroup, kAlias, kLabel, kLogon, kUser, kGroup };

SidType SidTypeOf(const Sid& sid);

// "well-known group", "alias", "label", "logon", "user", "group".
std::string_view SidTypeName(SidType type);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_SID_TYPE_H_
