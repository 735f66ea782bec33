// LineOutput: the human layout of every `token` command.
//
// A command builds a list of lines, then prints them at once:
//   - a section prints as an empty line followed by "[title]", so sectioned
//     output starts with an empty line;
//   - a row prints as two spaces, the key left-justified to the key column,
//     two spaces, the value; the key column is as wide as the longest key of
//     any row in the whole output, so every section lines up; a row with an
//     empty value prints its key without trailing spaces;
//   - a detail prints as six spaces and its text;
//   - a plain line prints as is (single-value commands such as `token user`).
// Widths count UTF-8 code points, so a label such as "Unix User\jürgen"
// lines up on a terminal.
//
// Thread-safety: a plain value; not shared.
#ifndef TOKENFS_CLI_LINE_OUTPUT_H_
#define TOKENFS_CLI_LINE_OUTPUT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tokenfs::cli {

class LineOutput {
 public:
  void Section(std::string title);
  void Row(std::string key, std::string value);
  void Detail(std::string text);
  void Plain(std::string text);

  bool empty() const { return lines_.empty(); }

  // The whole output, every line ending in '\n'.
  std::string Render() const;

 private:
  enum class Kind { kSection, kRow, kDetail, kPlain };
  struct Line {
    Kind kind;
    std::string key;  // the title of a section, the text of a detail/plain
    std::string value;
  };
  std::vector<Line> lines_;
};

// Number of UTF-8 code points in `text` (bytes that are not continuation
// bytes).
size_t DisplayWidth(std::string_view text);

}  // namespace tokenfs::cli

#endif  // TOKENFS_CLI_LINE_OUTPUT_H_
