// The subcommands about token objects as a collection: `subtokens` (the tree
// of objects derived from a token), `tag` (an object's labels) and `list`
// (the objects the caller can see, with their tags). Each reads or writes
// the tree's subtokens and tags files and lays the text out; the rules
// (grammar, gates, what a revoke reaches) are the daemon's and core's.
#include <dirent.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/text.h"
#include "core/tag.h"

namespace tokenfs::cli {
namespace {

constexpr Operation kSubtokensOperation{
    "listing its subtokens", "QUERY",
    "read@tokeninfo:subtokens (its own token) or manage_mytokens:list "
    "(another token of its user)"};
constexpr Operation kReadTagsOperation{
    "reading its tags", "QUERY",
    "read@tokeninfo:tags (its own token) or read@manage_mytokens:tags "
    "(another token of its user)"};
constexpr Operation kChangeTagsOperation{
    "changing its tags", "QUERY and ADJUST_DEFAULT",
    "tokeninfo:tags (its own token) or manage_mytokens:tags (another token "
    "of its user)"};

// Deeper than any derivation chain a quota allows; bounds --tree.
constexpr int kMaxDepth = 64;

struct Child {
  uint64_t id = 0;
  std::string derivation;
};

// The lines of a subtokens file: "<id>  <how>".
CliResult<std::vector<Child>> ParseSubtokens(const std::string& text,
                                             const std::string& label) {
  std::vector<Child> children;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const size_t gap = line.find("  ");
    const auto id = ParseDecimal(line.substr(0, gap), UINT64_MAX);
    if (!id || gap == std::string::npos) {
      return Fail(exit_status::kFailure, "tokenfs listed an unexpected "
                                         "subtoken line for " +
                                             label + ": '" + line + "'");
    }
    children.push_back(Child{*id, line.substr(gap + 2)});
  }
  return children;
}

// Adds the children of the token whose subtokens file is `path` to `lines`
// (indented by `depth`) and returns them as JSON; recurses with `tree`.
CliResult<Json> AddChildren(const Context& context, const std::string& path,
                            const std::string& label, bool tree, int depth,
                            LineOutput& lines) {
  auto text = context.mount.ReadPath(path, label, kSubtokensOperation);
  if (!text) return tl::unexpected(text.error());
  auto children = ParseSubtokens(*text, label);
  if (!children) return tl::unexpected(children.error());
  Json list = Json::array();
  for (const Child& child : *children) {
    const std::string id = std::to_string(child.id);
    lines.Plain(std::string(2 * depth, ' ') + id + "  " + child.derivation);
    Json entry = {{"id", child.id}, {"derivation", child.derivation}};
    if (tree && depth < kMaxDepth) {
      auto below = AddChildren(
          context, context.mount.root() + "/objects/" + id + "/subtokens",
          "token object " + id, tree, depth + 1, lines);
      if (!below) {
        // Revoked or released between the two reads: it has no subtree.
        if (below.error().exit_status != exit_status::kNotFound) {
          return tl::unexpected(below.error());
        }
        below = Json::array();
      }
      entry["subtokens"] = std::move(*below);
    }
    list.push_back(std::move(entry));
  }
  return list;
}

struct SubtokensFlags {
  bool tree = false;

  void Register(CLI::App& app) {
    app.add_flag("--tree", tree,
                 "list the whole subtree, each level indented by two spaces");
  }
};

CliResult<int> RunSubtokens(Context& context, const SubtokensFlags& flags) {
  auto target = ResolveTarget(context);
  if (!target) return tl::unexpected(target.error());
  View view = StartView(context, *target);
  auto children = AddChildren(context, target->dir + "/subtokens",
                              target->label, flags.tree, 0, view.lines);
  if (!children) return tl::unexpected(children.error());
  view.json["subtokens"] = std::move(*children);
  return EmitOk(context, view);
}

// The tags of a tags file, one per line.
std::vector<std::string> TagLines(const std::string& text) {
  std::vector<std::string> tags;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) tags.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return tags;
}

std::string JoinTags(const std::vector<std::string>& tags) {
  std::string text;
  for (const std::string& tag : tags) text += (text.empty() ? "" : ",") + tag;
  return text;
}

struct TagFlags {
  std::vector<std::string> words;

  void Register(CLI::App& app) {
    app.add_option("ID", words,
                   "token object id (or give --id), then add NAME or remove "
                   "NAME; without a change, print its tags")
        ->expected(0, 3);
  }
};

CliResult<int> RunTag(Context& context, const TagFlags& flags) {
  auto spec = TargetFromFlags(context.options);
  if (!spec) return tl::unexpected(spec.error());
  std::vector<std::string> words = flags.words;
  uint64_t id = 0;
  if (spec->has_value()) {
    if ((*spec)->kind != TargetSpec::Kind::kObject) {
      return UsageError("tag takes one token object: ID or --id ID");
    }
    id = (*spec)->object_id;
  } else {
    if (words.empty()) return UsageError("tag needs a token object id");
    const auto parsed = ParseDecimal(words[0], UINT64_MAX);
    if (!parsed) {
      return UsageError("invalid token object id '" + words[0] + "'");
    }
    id = *parsed;
    words.erase(words.begin());
  }
  if (!words.empty() && (words.size() != 2 ||
                         (words[0] != "add" && words[0] != "remove"))) {
    return UsageError("tag ID takes add NAME or remove NAME");
  }
  if (!words.empty()) {
    if (auto tag = ParseTag(words[1]); !tag) {
      return InvalidInput("invalid tag: " + tag.error().message);
    }
  }
  const std::string id_text = std::to_string(id);
  const std::string path =
      context.mount.root() + "/objects/" + id_text + "/tags";
  const std::string label = "token object " + id_text;
  auto text =
      words.empty()
          ? context.mount.ReadPath(path, label, kReadTagsOperation)
          : context.mount.Transact(path, words[0] + " " + words[1], label,
                                   kChangeTagsOperation);
  if (!text) return tl::unexpected(text.error());
  const std::vector<std::string> tags = TagLines(*text);
  View view;
  view.style = context.style;
  for (const std::string& tag : tags) view.lines.Plain(tag);
  view.json["id"] = id;
  view.json["tags"] = tags;
  return EmitOk(context, view);
}

struct ListFlags {
  std::string tag;

  void Register(CLI::App& app) {
    app.add_option("--tag", tag, "only the objects carrying tag NAME")
        ->type_name("NAME");
  }
};

CliResult<int> RunList(Context& context, const ListFlags& flags) {
  if (auto status = RejectTargetFlags(context.options, "list"); !status) {
    return tl::unexpected(status.error());
  }
  std::string wanted;
  if (!flags.tag.empty()) {
    auto tag = ParseTag(flags.tag);
    if (!tag) return InvalidInput("invalid tag: " + tag.error().message);
    wanted = *tag;
  }
  if (auto mounted = context.mount.CheckMounted(); !mounted) {
    return tl::unexpected(mounted.error());
  }
  const std::string objects = context.mount.root() + "/objects";
  std::vector<uint64_t> ids;
  {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(objects.c_str()),
                                            ::closedir);
    if (!dir) {
      return Fail(exit_status::kFailure,
                  objects + ": " + std::string(std::strerror(errno)));
    }
    while (const dirent* entry = ::readdir(dir.get())) {
      if (auto id = ParseDecimal(entry->d_name, UINT64_MAX)) {
        ids.push_back(*id);
      }
    }
  }
  std::sort(ids.begin(), ids.end());
  View view;
  view.style = context.style;
  Json list = Json::array();
  for (uint64_t id : ids) {
    const std::string id_text = std::to_string(id);
    auto text = context.mount.ReadPath(objects + "/" + id_text + "/tags",
                                       "token object " + id_text,
                                       kReadTagsOperation);
    // Gone since the listing: skip. Tags the caller may not read: shown as
    // unknown ("?", null), and never selected by --tag.
    if (!text && text.error().exit_status == exit_status::kNotFound) continue;
    std::vector<std::string> tags;
    if (text) tags = TagLines(*text);
    if (!wanted.empty() &&
        (!text || std::find(tags.begin(), tags.end(), wanted) == tags.end())) {
      continue;
    }
    view.lines.Row(id_text, text ? JoinTags(tags) : "?");
    Json entry = {{"id", id}, {"path", objects + "/" + id_text}};
    entry["tags"] = text ? Json(tags) : Json(nullptr);
    list.push_back(std::move(entry));
  }
  view.json["objects"] = std::move(list);
  return EmitOk(context, view);
}

}  // namespace

Runner AddSubtokens(CLI::App& app) { return Bind(app, RunSubtokens); }
Runner AddTag(CLI::App& app) { return Bind(app, RunTag); }
Runner AddList(CLI::App& app) { return Bind(app, RunList); }

}  // namespace tokenfs::cli
