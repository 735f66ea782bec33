#include "core/strict_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/ascii.h"

namespace tokenfs {
namespace {

using Json = nlohmann::json;

// Builds the value as nlohmann's own SAX DOM parser does, refusing what
// StrictJsonError lists.
class Builder final : public nlohmann::json_sax<Json> {
 public:
  explicit Builder(size_t max_depth) : max_depth_(max_depth) {}

  bool null() override { return Add(Json(nullptr)); }
  bool boolean(bool value) override { return Add(Json(value)); }
  bool number_integer(number_integer_t value) override {
    return Add(Json(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return Add(Json(value));
  }
  bool number_float(number_float_t value, const string_t&) override {
    return Add(Json(value));
  }
  bool string(string_t& value) override { return Add(Json(value)); }
  bool binary(binary_t& value) override { return Add(Json(value)); }
  bool start_object(std::size_t) override { return Open(Json::object()); }
  bool key(string_t& value) override {
    Frame& frame = stack_.back();
    if (frame.value->contains(value)) {
      error_.kind = StrictJsonError::Kind::kRepeatedKey;
      error_.path = frame.path;
      error_.key = value;
      return false;
    }
    pending_key_ = value;
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return Open(Json::array()); }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    error_.kind = StrictJsonError::Kind::kSyntax;
    error_.position = position;
    error_.what = error.what();
    return false;
  }

  Json& root() { return root_; }
  StrictJsonError& error() { return error_; }

 private:
  struct Frame {
    Json* value;  // stable: only siblings of a container on the path move
    std::string path;
  };

  // Places `value` where the parser is; returns it and its path.
  std::pair<Json*, std::string> Place(Json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return {&root_, ""};
    }
    Frame& frame = stack_.back();
    if (frame.value->is_array()) {
      std::string path =
          frame.path + "[" + std::to_string(frame.value->size()) + "]";
      frame.value->push_back(std::move(value));
      return {&frame.value->back(), std::move(path)};
    }
    Json& slot = (*frame.value)[pending_key_];
    slot = std::move(value);
    return {&slot, JsonChildPath(frame.path, pending_key_)};
  }

  bool Add(Json value) {
    Place(std::move(value));
    return true;
  }

  bool Open(Json container) {
    if (stack_.size() >= max_depth_) {
      error_.kind = StrictJsonError::Kind::kTooDeep;
      error_.path = stack_.empty() ? "" : stack_.back().path;
      return false;
    }
    auto [slot, path] = Place(std::move(container));
    stack_.push_back(Frame{slot, std::move(path)});
    return true;
  }

  const size_t max_depth_;
  Json root_;
  std::vector<Frame> stack_;
  std::string pending_key_;
  StrictJsonError error_;
};

}  // namespace

tl::expected<nlohmann::json, StrictJsonError> ReadStrictJson(
    std::string_view text, size_t max_depth) {
  Builder builder(max_depth);
  if (!Json::sax_parse(text.begin(), text.end(), &builder)) {
    return tl::unexpected(std::move(builder.error()));
  }
  return std::move(builder.root());
}

std::string JsonChildPath(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string JsonErrorWithoutTag(const std::string& what) {
  if (!what.empty() && what[0] == '[') {
    const size_t end = what.find("] ");
    if (end != std::string::npos) return what.substr(end + 2);
  }
  return what;
}

std::string JsonElementPath(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

std::string JsonAtPath(const std::string& path, std::string_view problem) {
  return path.empty() ? std::string(problem)
                      : path + ": " + std::string(problem);
}

std::pair<int, int> JsonLineAndColumn(std::string_view text, size_t position) {
  const size_t index = std::min(position > 0 ? position - 1 : 0, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < index; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(index - line_start + 1)};
}

std::string JsonReadErrorMessage(const StrictJsonError& error,
                                 std::string_view text, size_t max_depth) {
  switch (error.kind) {
    case StrictJsonError::Kind::kSyntax: {
      // nlohmann's text after its own "parse error at line L, column C: ".
      std::string detail = JsonErrorWithoutTag(error.what);
      if (const size_t column = detail.find("column ");
          column != std::string::npos) {
        const size_t colon = detail.find(": ", column);
        if (colon != std::string::npos) detail = detail.substr(colon + 2);
      }
      const auto [line, column] = JsonLineAndColumn(text, error.position);
      return "JSON parse error at line " + std::to_string(line) + ", column " +
             std::to_string(column) + ": " + detail;
    }
    case StrictJsonError::Kind::kRepeatedKey:
      return JsonAtPath(error.path, "repeated key '" + error.key + "'");
    case StrictJsonError::Kind::kTooDeep:
      return "JSON nests deeper than " + std::to_string(max_depth) + " levels";
  }
  return "unknown JSON error";
}

std::string JsonKindName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::number_float:
      return "a fractional number";
    default:
      return "a number";
  }
}

std::string JsonWrongTypeMessage(std::string_view wanted, const Json& value) {
  return "expected " + std::string(wanted) + ", found " + JsonKindName(value);
}

std::string JsonMissingKeyMessage(std::string_view key) {
  return "missing key '" + std::string(key) + "'";
}

std::string JsonUnknownKeyMessage(const Json& object,
                                  std::span<const std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
      continue;
    }
    std::string text = "unknown key '" + key + "'";
    std::string_view best;
    size_t best_distance = 3;
    for (std::string_view candidate : allowed) {
      const size_t distance = EditDistance(key, candidate);
      if (distance < best_distance) {
        best = candidate;
        best_distance = distance;
      }
    }
    if (!best.empty()) {
      text += " (did you mean '" + std::string(best) + "'?)";
    } else if (allowed.size() <= 6) {
      text += " (";
      bool first = true;
      for (std::string_view candidate : allowed) {
        if (!first) text += ", ";
        text += candidate;
        first = false;
      }
      text += ")";
    }
    return text;
  }
  return "";
}

}  // namespace tokenfs
