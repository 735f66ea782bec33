#include "core/token_history.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/strict_json.h"

namespace tokenfs {
namespace {

constexpr std::array<std::pair<HistoryKind, std::string_view>, 11> kKindNames{{
    {HistoryKind::kMinted, "minted"},
    {HistoryKind::kInherited, "inherited"},
    {HistoryKind::kReminted, "reminted"},
    {HistoryKind::kAdjusted, "adjusted"},
    {HistoryKind::kDerived, "derived"},
    {HistoryKind::kImpersonated, "impersonated"},
    {HistoryKind::kReverted, "reverted"},
    {HistoryKind::kInstalled, "installed"},
    {HistoryKind::kLinked, "linked"},
    {HistoryKind::kRevoked, "revoked"},
    {HistoryKind::kDenied, "denied"},
}};

std::string StripNewline(std::string text) {
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// RFC 3339 UTC with nanoseconds.
std::string FormatTime(uint64_t time_ns) {
  const std::time_t seconds = static_cast<std::time_t>(time_ns / 1000000000u);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ",
                parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<unsigned>(time_ns % 1000000000u));
  return text;
}

}  // namespace

std::string_view HistoryKindName(HistoryKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<HistoryKind> ParseHistoryKind(std::string_view name) {
  for (const auto& [k, n] : kKindNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::string HistoryEventJson(const HistoryEvent& event) {
  nlohmann::ordered_json line;
  line["seq"] = event.seq;
  line["time"] = FormatTime(event.time_ns);
  line["time_ns"] = event.time_ns;
  line["event"] = HistoryKindName(event.kind);
  line["actor_pid"] = event.actor_pid;
  line["actor_user"] = event.actor_user;
  if (event.kind == HistoryKind::kAdjusted || !event.file.empty()) {
    line["file"] = event.file;
    line["before"] = StripNewline(event.before);
    line["after"] = StripNewline(event.after);
  }
  if (event.token != 0) line["token"] = event.token;
  if (!event.operation.empty()) line["operation"] = event.operation;
  if (event.repeat > 1) line["repeat"] = event.repeat;
  // Replace invalid UTF-8 (a file's text is ASCII, but never throw).
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<HistoryEvent> ParseHistoryEventJson(std::string_view text) {
  // One flat object, read strictly (a repeated key is refused).
  constexpr size_t kDepth = 1;
  auto read = ReadStrictJson(text, kDepth);
  if (!read) {
    return InvalidArgument("history event: " +
                           JsonReadErrorMessage(read.error(), text, kDepth));
  }
  const nlohmann::json& line = *read;
  if (!line.is_object()) {
    return InvalidArgument("history event: " +
                           JsonWrongTypeMessage("an object", line));
  }
  HistoryEvent event;
  auto unsigned_at = [&](const char* key, uint64_t& out, bool required) {
    auto it = line.find(key);
    if (it == line.end()) return !required;
    if (!it->is_number_unsigned()) return false;
    out = it->get<uint64_t>();
    return true;
  };
  auto string_at = [&](const char* key, std::string& out) {
    auto it = line.find(key);
    if (it == line.end()) return true;
    if (!it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  uint64_t repeat = 1;
  std::string kind;
  if (!unsigned_at("seq", event.seq, true) ||
      !unsigned_at("time_ns", event.time_ns, true) ||
      !unsigned_at("token", event.token, false) ||
      !unsigned_at("repeat", repeat, false) || !string_at("event", kind) ||
      !string_at("actor_user", event.actor_user) ||
      !string_at("file", event.file) || !string_at("before", event.before) ||
      !string_at("after", event.after) ||
      !string_at("operation", event.operation) || repeat == 0 ||
      repeat > UINT32_MAX) {
    return InvalidArgument("history event: a field has the wrong type");
  }
  auto pid = line.find("actor_pid");
  if (pid == line.end() || !pid->is_number_integer() ||
      pid->get<int64_t>() < INT32_MIN || pid->get<int64_t>() > INT32_MAX) {
    return InvalidArgument("history event: actor_pid missing or out of range");
  }
  event.actor_pid = static_cast<int32_t>(pid->get<int64_t>());
  auto parsed_kind = ParseHistoryKind(kind);
  if (!parsed_kind) {
    return InvalidArgument("history event: unknown event '" + kind + "'");
  }
  event.kind = *parsed_kind;
  event.repeat = static_cast<uint32_t>(repeat);
  if (event.kind != HistoryKind::kAdjusted && event.file.empty() &&
      (!event.before.empty() || !event.after.empty())) {
    // HistoryEventJson writes a file's texts only with the file.
    return InvalidArgument("history event: 'before' or 'after' without 'file'");
  }
  return event;
}

std::string HistoryJsonLines(const std::vector<HistoryEvent>& events) {
  std::string text;
  for (const HistoryEvent& event : events) {
    text += HistoryEventJson(event);
    text += '\n';
  }
  return text;
}

std::optional<HistoryEvent> TokenHistory::Append(HistoryEvent event) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (event.kind == HistoryKind::kDenied && !events_.empty()) {
    HistoryEvent& newest = events_.back();
    if (newest.kind == HistoryKind::kDenied &&
        newest.actor_pid == event.actor_pid &&
        newest.actor_user == event.actor_user &&
        newest.operation == event.operation) {
      // Same number (a store replaces its copy), but the log changed.
      if (newest.repeat < UINT32_MAX) ++newest.repeat;
      newest.time_ns = event.time_ns;
      last_seq_.fetch_add(1, std::memory_order_acq_rel);
      return newest;
    }
  }
  event.seq = last_seq_.load(std::memory_order_relaxed) + 1;
  last_seq_.store(event.seq, std::memory_order_release);
  if (limit_ == 0) return std::nullopt;
  if (events_.size() == limit_) events_.erase(events_.begin());
  events_.push_back(std::move(event));
  return events_.back();
}

void TokenHistory::Restore(std::vector<HistoryEvent> events) {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.clear();
  uint64_t last = last_seq_.load(std::memory_order_relaxed);
  const size_t skip = events.size() > limit_ ? events.size() - limit_ : 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].seq > last) last = events[i].seq;
    if (i >= skip) events_.push_back(std::move(events[i]));
  }
  last_seq_.store(last, std::memory_order_release);
}

std::vector<HistoryEvent> TokenHistory::Events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {events_.begin(), events_.end()};
}

}  // namespace tokenfs
