#include "core/proc_status.h"

#include <array>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/ascii.h"
#include "core/number.h"

namespace tokenfs {
namespace {

// The words of `text` between runs of spaces, tabs and newlines.
std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t position = 0;
  const auto separator = [](char c) {
    return c == ' ' || c == '\t' || c == '\n';
  };
  while (position < text.size()) {
    while (position < text.size() && separator(text[position])) ++position;
    const size_t start = position;
    while (position < text.size() && !separator(text[position])) ++position;
    if (position > start) words.push_back(text.substr(start, position - start));
  }
  return words;
}

// `text` without the spaces and tabs around it.
std::string_view TrimBlanks(std::string_view text) {
  const size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  return text.substr(start, text.find_last_not_of(" \t") - start + 1);
}

// `text` quoted for a message, cut after 64 bytes.
std::string Shown(std::string_view text) {
  constexpr size_t kLongest = 64;
  if (text.size() <= kLongest) return QuoteForDisplay(text);
  return QuoteForDisplay(text.substr(0, kLongest)) + "...";
}

// ---- /proc/<tid>/status

enum StatusLine {
  kTgid,
  kPPid,
  kUid,
  kGid,
  kGroups,
  kCapInh,
  kCapPrm,
  kCapEff,
  kCapBnd,
  kCapAmb,
  kNoNewPrivs,
  kStatusLineCount,
};

struct StatusLineRule {
  std::string_view key;
  bool required;
  std::string_view shape;  // what a well-formed value is, for messages
};

// In StatusLine order.
constexpr std::array<StatusLineRule, kStatusLineCount> kStatusLines = {{
    {"Tgid", true, "a process id"},
    {"PPid", true, "a process id"},
    {"Uid", true, "four user ids"},
    {"Gid", true, "four group ids"},
    {"Groups", true, "a list of group ids"},
    {"CapInh", true, "a capability mask"},
    {"CapPrm", true, "a capability mask"},
    {"CapEff", true, "a capability mask"},
    {"CapBnd", true, "a capability mask"},
    {"CapAmb", false, "a capability mask"},
    {"NoNewPrivs", false, "0 or 1"},
}};

int StatusLineOf(std::string_view key) {
  for (size_t i = 0; i < kStatusLines.size(); ++i) {
    if (kStatusLines[i].key == key) return static_cast<int>(i);
  }
  return -1;
}

// Reads the value (its words) of line `line` into `status`; false when the
// value does not have the line's shape.
bool ReadStatusValue(StatusLine line,
                     const std::vector<std::string_view>& words,
                     ProcStatus& status) {
  LinuxCredentials& credentials = status.credentials;
  const auto one = [&](uint64_t max, NumberBase base, auto& field) {
    if (words.size() != 1) return false;
    const auto value = ParseUnsigned(words[0], max, base);
    if (!value) return false;
    field = static_cast<std::remove_reference_t<decltype(field)>>(*value);
    return true;
  };
  const auto ids = [&](std::vector<uint32_t>& out) {
    out.clear();
    for (std::string_view word : words) {
      const auto value = ParseUnsigned(word, UINT32_MAX, NumberBase::kDecimal);
      if (!value) return false;
      out.push_back(static_cast<uint32_t>(*value));
    }
    return true;
  };
  const auto four = [&](uint32_t& real, uint32_t& effective, uint32_t& saved,
                        uint32_t& fs) {
    std::vector<uint32_t> values;
    if (words.size() != 4 || !ids(values)) return false;
    real = values[0];
    effective = values[1];
    saved = values[2];
    fs = values[3];
    return true;
  };
  switch (line) {
    case kTgid:
      return one(INT32_MAX, NumberBase::kDecimal, status.tgid);
    case kPPid:
      return one(INT32_MAX, NumberBase::kDecimal, status.ppid);
    case kUid:
      return four(credentials.real_uid, credentials.effective_uid,
                  credentials.saved_uid, credentials.fs_uid);
    case kGid:
      return four(credentials.real_gid, credentials.effective_gid,
                  credentials.saved_gid, credentials.fs_gid);
    case kGroups:
      return ids(credentials.supplementary_gids);
    case kCapInh:
      return one(UINT64_MAX, NumberBase::kHex, credentials.cap_inheritable);
    case kCapPrm:
      return one(UINT64_MAX, NumberBase::kHex, credentials.cap_permitted);
    case kCapEff:
      return one(UINT64_MAX, NumberBase::kHex, credentials.cap_effective);
    case kCapBnd:
      return one(UINT64_MAX, NumberBase::kHex, credentials.cap_bounding);
    case kCapAmb:
      return one(UINT64_MAX, NumberBase::kHex, credentials.cap_ambient);
    case kNoNewPrivs: {
      uint64_t value = 0;
      if (!one(1, NumberBase::kDecimal, value)) return false;
      credentials.no_new_privs = value == 1;
      return true;
    }
    case kStatusLineCount:
      break;
  }
  return false;
}

// ---- /proc/<tid>/stat

// Field `number` (1-based, as proc(5) counts) of `fields`, which start at
// field 3.
std::string_view StatField(const std::vector<std::string_view>& fields,
                           int number) {
  return fields[static_cast<size_t>(number - 3)];
}

tl::unexpected<Error> MalformedStatField(int number, std::string_view name,
                                         std::string_view value,
                                         std::string_view shape) {
  return InvalidArgument("stat field " + std::to_string(number) + " (" +
                         std::string(name) + ") " + Shown(value) + " is not " +
                         std::string(shape));
}

// The line of `text` that starts at `position` (without its '\n') in
// `line`, and `position` moved past it; false at the end of the text.
bool NextLine(std::string_view text, size_t& position, std::string_view& line) {
  if (position >= text.size()) return false;
  size_t end = text.find('\n', position);
  if (end == std::string_view::npos) end = text.size();
  line = text.substr(position, end - position);
  position = end + 1;
  return true;
}

}  // namespace

Result<ProcStatus> ParseProcStatus(std::string_view text) {
  ProcStatus status;
  std::array<bool, kStatusLineCount> seen{};
  size_t position = 0;
  std::string_view line;
  while (NextLine(text, position, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const int index = StatusLineOf(line.substr(0, colon));
    if (index < 0) continue;
    const StatusLineRule& rule = kStatusLines[static_cast<size_t>(index)];
    if (seen[static_cast<size_t>(index)]) {
      return InvalidArgument("status has two " + std::string(rule.key) +
                             " lines");
    }
    seen[static_cast<size_t>(index)] = true;
    const std::string_view value = line.substr(colon + 1);
    if (!ReadStatusValue(static_cast<StatusLine>(index), Words(value),
                         status)) {
      return InvalidArgument(std::string(rule.key) + " " +
                             Shown(TrimBlanks(value)) + " is not " +
                             std::string(rule.shape));
    }
  }
  for (size_t i = 0; i < kStatusLines.size(); ++i) {
    if (kStatusLines[i].required && !seen[i]) {
      return InvalidArgument("status has no " +
                             std::string(kStatusLines[i].key) + " line");
    }
  }
  return status;
}

Result<ProcStat> ParseProcStat(std::string_view text) {
  // "<pid> (": the process id, then the command name in parentheses.
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0 || text.substr(digits, 2) != " (") {
    return InvalidArgument("stat does not start with a process id and '('");
  }
  // The command name may hold spaces and parentheses: it ends at the last
  // ')' of the text.
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos || close < digits + 2) {
    return InvalidArgument("stat lacks the ')' that ends the command name");
  }
  // fields[0] is field 3 (state).
  const std::vector<std::string_view> fields = Words(text.substr(close + 1));
  if (fields.size() < 20) {
    return InvalidArgument(
        "stat is truncated: " + std::to_string(fields.size() + 2) +
        " fields, at least 22 needed");
  }
  ProcStat stat;
  const std::string_view state = StatField(fields, 3);
  if (state.size() != 1) {
    return MalformedStatField(3, "state", state, "one character");
  }
  stat.state = state[0];
  const auto process_id = [&](int number, std::string_view name,
                              int32_t& out) -> Status {
    const std::string_view value = StatField(fields, number);
    const auto parsed = ParseUnsigned(value, INT32_MAX, NumberBase::kDecimal);
    if (!parsed) return MalformedStatField(number, name, value, "a process id");
    out = static_cast<int32_t>(*parsed);
    return Ok();
  };
  if (auto ok = process_id(5, "pgrp", stat.process_group); !ok) {
    return tl::unexpected(ok.error());
  }
  if (auto ok = process_id(6, "session", stat.session); !ok) {
    return tl::unexpected(ok.error());
  }
  // tty_nr is a C int: an optional '-', then digits.
  const std::string_view tty = StatField(fields, 7);
  const bool negative = !tty.empty() && tty[0] == '-';
  const auto magnitude =
      ParseUnsigned(negative ? tty.substr(1) : tty,
                    negative ? uint64_t{INT32_MAX} + 1 : uint64_t{INT32_MAX},
                    NumberBase::kDecimal);
  if (!magnitude) {
    return MalformedStatField(7, "tty_nr", tty, "a decimal int");
  }
  stat.tty = negative ? -static_cast<int64_t>(*magnitude)
                      : static_cast<int64_t>(*magnitude);
  const auto unsigned_field = [&](int number, std::string_view name,
                                  uint64_t& out) -> Status {
    const std::string_view value = StatField(fields, number);
    const auto parsed = ParseUnsigned(value, UINT64_MAX, NumberBase::kDecimal);
    if (!parsed) {
      return MalformedStatField(number, name, value, "a decimal number");
    }
    out = *parsed;
    return Ok();
  };
  if (auto ok = unsigned_field(22, "starttime", stat.start_time); !ok) {
    return tl::unexpected(ok.error());
  }
  if (fields.size() >= 26) {
    for (const auto& [number, name, out] :
         {std::tuple{26, "startcode", &stat.start_code},
          std::tuple{27, "endcode", &stat.end_code},
          std::tuple{28, "startstack", &stat.start_stack}}) {
      if (auto ok = unsigned_field(number, name, *out); !ok) {
        return tl::unexpected(ok.error());
      }
    }
  }
  return stat;
}

Result<int32_t> ParsePidfdPid(std::string_view text) {
  std::optional<std::string_view> value;
  size_t position = 0;
  std::string_view line;
  while (NextLine(text, position, line)) {
    if (line.substr(0, 4) != "Pid:") continue;
    if (value) return InvalidArgument("fdinfo has two Pid lines");
    value = TrimBlanks(line.substr(4));
  }
  if (!value) return InvalidArgument("fdinfo has no Pid line");
  if (*value == "-1") return 0;
  const auto pid = ParseUnsigned(*value, INT32_MAX, NumberBase::kDecimal);
  if (!pid) {
    return InvalidArgument("Pid " + Shown(*value) + " is not a process id");
  }
  return static_cast<int32_t>(*pid);
}

}  // namespace tokenfs
