// Projection: the Linux credentials a command gets when `token impersonate
// -- COMMAND` runs it under a token.
//
// tokenfs is the authority for tokens and Linux for credentials, so a child
// that should *be* the token on Linux needs credentials derived from it:
//   uid     the token's projected uid; 0 only when the user is Local System
//           (S-1-5-18), the one identity that may project to root;
//   gid     the projected gid, unless the token's group for that gid
//           (S-1-22-2-<gid>) is deny-only or disabled: then 65534, so a
//           denied group grants nothing through the process's gid;
//   groups  the gid G of every enabled (hence not deny-only) group
//           S-1-22-2-G, plus each projected supplementary gid whose group is
//           not deny-only or disabled in the token; ascending, no repeats,
//           the process gid excluded;
//   capabilities  CapabilitiesToDrop(present privileges) (core/minting_
//           policy.h) leave the bounding, permitted, effective, inheritable
//           and ambient sets: a privilege the token lacks cannot come back
//           through its capability;
//   no_new_privs  for restricted or write-restricted tokens and for
//           integrity below Medium, so setuid programs cannot widen them.
//
// Thread-safety: pure functions.
#ifndef TOKENFS_CLI_PROJECTION_H_
#define TOKENFS_CLI_PROJECTION_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "cli/cli_error.h"
#include "cli/token_view.h"

namespace tokenfs::cli {

struct CredentialPlan {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  // Linux capability mask (bit N = capability N) to remove everywhere.
  uint64_t capabilities_to_drop = 0;
  bool no_new_privs = false;
};

// Derives the plan from a token loaded with query/all. Fails (exit 3) when
// the token projects to uid 0 without being Local System, and (exit 5) when
// the document lacks the fields the plan needs.
CliResult<CredentialPlan> PlanCredentials(const TokenData& token);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_PROJECTION_H_
