#include "core/strict_json.h"

#include <utility>
#include <vector>

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

}  // namespace tokenfs
