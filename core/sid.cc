#include "core/sid.h"

#include <cstdio>
#include <cstdlib>

namespace tokenfs {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Describe(char c) {
  if (c >= 0x21 && c <= 0x7e) return std::string("'") + c + "'";
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "byte 0x%02x",
                static_cast<unsigned>(static_cast<unsigned char>(c)));
  return buffer;
}

// Parses one unsigned component starting at `position`. Accepts decimal, or
// 0x-prefixed hex when `allow_hex`. Stops at '-' or end; anything else is an
// error naming its column.
Result<uint64_t> ParseComponent(std::string_view text, size_t& position,
                                uint64_t max_value, bool allow_hex,
                                std::string_view what) {
  const size_t start = position;
  if (position >= text.size() || text[position] == '-') {
    return InvalidArgument("expected " + std::string(what),
                           static_cast<int>(start + 1));
  }
  uint64_t value = 0;
  const bool hex = allow_hex && position + 1 < text.size() &&
                   text[position] == '0' &&
                   (text[position + 1] == 'x' || text[position + 1] == 'X');
  if (hex) {
    position += 2;
    if (position >= text.size() || HexValue(text[position]) < 0) {
      return InvalidArgument("expected hex digits after 0x in " +
                                 std::string(what),
                             static_cast<int>(position + 1));
    }
  }
  while (position < text.size() && text[position] != '-') {
    const char c = text[position];
    const int digit = hex ? HexValue(c) : (IsDigit(c) ? c - '0' : -1);
    if (digit < 0) {
      return InvalidArgument("unexpected character " + Describe(c) + " in " +
                                 std::string(what),
                             static_cast<int>(position + 1));
    }
    const uint64_t base = hex ? 16 : 10;
    if (value > (max_value - static_cast<uint64_t>(digit)) / base) {
      return InvalidArgument(std::string(what) + " exceeds " +
                                 std::to_string(max_value),
                             static_cast<int>(start + 1));
    }
    value = value * base + static_cast<uint64_t>(digit);
    ++position;
  }
  return value;
}

}  // namespace

Sid::Sid() = default;

Result<Sid> Sid::Create(uint64_t authority,
                        std::span<const uint32_t> sub_authorities) {
  if (authority > kMaxAuthority) {
    return InvalidArgument("identifier authority exceeds 48 bits");
  }
  if (sub_authorities.size() > kMaxSubAuthorities) {
    return InvalidArgument("a SID has at most 15 sub-authorities");
  }
  Sid sid;
  sid.authority_ = authority;
  sid.count_ = static_cast<uint8_t>(sub_authorities.size());
  for (size_t i = 0; i < sub_authorities.size(); ++i) {
    sid.sub_authorities_[i] = sub_authorities[i];
  }
  return sid;
}

Sid Sid::Known(uint64_t authority,
               std::initializer_list<uint32_t> sub_authorities) {
  auto sid = Create(authority, std::span<const uint32_t>(
                                   sub_authorities.begin(),
                                   sub_authorities.size()));
  if (!sid) std::abort();
  return *sid;
}

Result<Sid> Sid::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgument("empty SID", 1);
  if (text[0] != 'S' && text[0] != 's') {
    return InvalidArgument("a SID starts with 'S-'", 1);
  }
  if (text.size() < 2 || text[1] != '-') {
    return InvalidArgument("a SID starts with 'S-'", 2);
  }
  size_t position = 2;
  auto revision = ParseComponent(text, position, 255, false, "revision");
  if (!revision) return tl::unexpected(revision.error());
  if (*revision != kRevision) {
    return InvalidArgument("unsupported SID revision " +
                               std::to_string(*revision) + " (only 1)",
                           3);
  }
  if (position >= text.size()) {
    return InvalidArgument("expected '-' and an identifier authority",
                           static_cast<int>(position + 1));
  }
  ++position;  // the '-' after the revision
  auto authority = ParseComponent(text, position, kMaxAuthority, true,
                                  "identifier authority");
  if (!authority) return tl::unexpected(authority.error());

  std::array<uint32_t, kMaxSubAuthorities> subs{};
  size_t count = 0;
  while (position < text.size()) {
    ++position;  // the '-' before a sub-authority
    if (count == kMaxSubAuthorities) {
      return InvalidArgument("a SID has at most 15 sub-authorities",
                             static_cast<int>(position + 1));
    }
    auto sub = ParseComponent(text, position, UINT32_MAX, false,
                              "sub-authority");
    if (!sub) return tl::unexpected(sub.error());
    subs[count++] = static_cast<uint32_t>(*sub);
  }
  return Create(*authority, std::span<const uint32_t>(subs.data(), count));
}

Result<Sid> Sid::FromBinary(std::span<const uint8_t> bytes, size_t* consumed) {
  if (bytes.size() < 8) {
    return InvalidArgument("binary SID truncated: " +
                           std::to_string(bytes.size()) +
                           " bytes, need at least 8");
  }
  if (bytes[0] != kRevision) {
    return InvalidArgument("binary SID has revision " +
                           std::to_string(bytes[0]) + " (only 1)");
  }
  const size_t count = bytes[1];
  if (count > kMaxSubAuthorities) {
    return InvalidArgument("binary SID claims " + std::to_string(count) +
                           " sub-authorities (at most 15)");
  }
  const size_t size = 8 + 4 * count;
  if (bytes.size() < size) {
    return InvalidArgument("binary SID truncated: " +
                           std::to_string(bytes.size()) + " bytes, need " +
                           std::to_string(size));
  }
  Sid sid;
  for (int i = 2; i < 8; ++i) sid.authority_ = (sid.authority_ << 8) | bytes[i];
  sid.count_ = static_cast<uint8_t>(count);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* p = bytes.data() + 8 + 4 * i;
    sid.sub_authorities_[i] = uint32_t{p[0]} | (uint32_t{p[1]} << 8) |
                              (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
  }
  if (consumed) *consumed = size;
  return sid;
}

std::string Sid::ToString() const {
  std::string out = "S-1-";
  if (authority_ <= UINT32_MAX) {
    out += std::to_string(authority_);
  } else {
    char buffer[24];
    std::snprintf(buffer, sizeof buffer, "0x%llX",
                  static_cast<unsigned long long>(authority_));
    out += buffer;
  }
  for (size_t i = 0; i < count_; ++i) {
    out += '-';
    out += std::to_string(sub_authorities_[i]);
  }
  return out;
}

void Sid::AppendBinary(std::vector<uint8_t>& out) const {
  out.push_back(kRevision);
  out.push_back(count_);
  for (int shift = 40; shift >= 0; shift -= 8) {
    out.push_back(static_cast<uint8_t>(authority_ >> shift));
  }
  for (size_t i = 0; i < count_; ++i) {
    const uint32_t value = sub_authorities_[i];
    out.push_back(static_cast<uint8_t>(value));
    out.push_back(static_cast<uint8_t>(value >> 8));
    out.push_back(static_cast<uint8_t>(value >> 16));
    out.push_back(static_cast<uint8_t>(value >> 24));
  }
}

std::vector<uint8_t> Sid::ToBinary() const {
  std::vector<uint8_t> out;
  out.reserve(BinarySize());
  AppendBinary(out);
  return out;
}

bool Sid::HasPrefix(uint64_t authority,
                    std::initializer_list<uint32_t> prefix) const {
  if (authority_ != authority || prefix.size() > count_) return false;
  size_t i = 0;
  for (uint32_t value : prefix) {
    if (sub_authorities_[i++] != value) return false;
  }
  return true;
}

bool operator==(const Sid& a, const Sid& b) {
  if (a.authority_ != b.authority_ || a.count_ != b.count_) return false;
  for (size_t i = 0; i < a.count_; ++i) {
    if (a.sub_authorities_[i] != b.sub_authorities_[i]) return false;
  }
  return true;
}

std::strong_ordering operator<=>(const Sid& a, const Sid& b) {
  if (auto c = a.authority_ <=> b.authority_; c != 0) return c;
  const size_t common = a.count_ < b.count_ ? a.count_ : b.count_;
  for (size_t i = 0; i < common; ++i) {
    if (auto c = a.sub_authorities_[i] <=> b.sub_authorities_[i]; c != 0) {
      return c;
    }
  }
  return a.count_ <=> b.count_;
}

size_t Sid::Hash() const {
  // FNV-1a over the canonical fields; stable and cheap.
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&hash](uint64_t value) {
    hash ^= value;
    hash *= 1099511628211ull;
  };
  mix(authority_);
  mix(count_);
  for (size_t i = 0; i < count_; ++i) mix(sub_authorities_[i]);
  return static_cast<size_t>(hash);
}

}  // namespace tokenfs
