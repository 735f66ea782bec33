// The text of the tree's generated files: what reading a token file, a
// query file, the impersonate, persist, subtokens and tags files or
// /tokens/registry shows, and what the access file answers.
//
// Models the daemon's view of a token as text. Token files and query
// classes are rendered by core (core/render.h, core/query_class.h); this
// unit picks which rendering a node shows and formats the daemon's own
// files as "key  value" lines.
//
// Invariant: each function is a pure function of its arguments (and, for a
// persist, subtokens or tags file, of the registry's records at the call),
// so a token snapshot renders a token or query file to the same text every
// time; the render cache relies on that (it caches only those two kinds).
//
// Thread-safety: safe to call from any thread. Ownership: borrows its
// arguments for the call only.
#ifndef TOKENFS_TOKENFS_RENDER_H_
#define TOKENFS_TOKENFS_RENDER_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/access_check.h"
#include "core/commands.h"
#include "core/registry.h"
#include "core/render.h"
#include "core/security_descriptor.h"
#include "core/token.h"
#include "tokenfs/tree.h"

namespace tokenfs {

// One line of a daemon file: "key  value\n".
std::string TextLine(std::string_view key, std::string_view value);

// What reading `node` (a token file, query file, impersonate or persist
// file) shows for `token`; empty for nodes without generated content.
std::string RenderNode(const NodeId& node, const Token& token,
                       const RenderOptions& options, const Registry& registry);

// A subtokens file: one line per object derived directly from the token,
// by id: "<object id>  <duplicate|restrict>" ("-" when not recorded).
std::string RenderSubtokens(std::span<const Registry::ObjectInfo> children);

// /tokens/registry: the registry's counters, the event feed's and the
// number of requests served.
std::string RenderRegistryFile(const Registry::Stats& stats,
                               uint64_t events_applied,
                               uint64_t event_overflows, uint64_t requests);

// The access file's answer to `command`: `result` of checking it against
// `sd`, as lines or (command.json) one JSON document; SIDs of `domain` (may
// be null) print as their SDDL aliases.
std::string RenderAccessResult(const AccessCheckResult& result,
                               const AccessCommand& command,
                               const SecurityDescriptor& sd,
                               const Sid* domain = nullptr);

}  // namespace tokenfs

#endif  // TOKENFS_TOKENFS_RENDER_H_
