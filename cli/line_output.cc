#include "cli/line_output.h"

#include <algorithm>
#include <utility>

namespace tokenfs::cli {

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

void LineOutput::Section(std::string title) {
  lines_.push_back(Line{Kind::kSection, std::move(title), {}});
}

void LineOutput::Row(std::string key, std::string value) {
  lines_.push_back(Line{Kind::kRow, std::move(key), std::move(value)});
}

void LineOutput::Detail(std::string text) {
  lines_.push_back(Line{Kind::kDetail, std::move(text), {}});
}

void LineOutput::Plain(std::string text) {
  lines_.push_back(Line{Kind::kPlain, std::move(text), {}});
}

std::string LineOutput::Render() const {
  size_t key_width = 0;
  for (const Line& line : lines_) {
    if (line.kind == Kind::kRow) {
      key_width = std::max(key_width, DisplayWidth(line.key));
    }
  }
  std::string out;
  for (const Line& line : lines_) {
    switch (line.kind) {
      case Kind::kSection:
        out += "\n[";
        out += line.key;
        out += "]\n";
        break;
      case Kind::kRow:
        out += "  ";
        out += line.key;
        if (!line.value.empty()) {
          out.append(key_width - DisplayWidth(line.key) + 2, ' ');
          out += line.value;
        }
        out += '\n';
        break;
      case Kind::kDetail:
        out += "      ";
        out += line.key;
        out += '\n';
        break;
      case Kind::kPlain:
        out += line.key;
        out += '\n';
        break;
    }
  }
  return out;
}

}  // namespace tokenfs::cli
