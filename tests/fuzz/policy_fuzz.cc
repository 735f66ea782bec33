// Fuzz target for minting policies: any input either fails to parse with an
// error, or parses to a policy that
//   - serializes to JSON that parses back to the same settings, and
//   - mints ValidateToken-valid tokens for several credential shapes (root
//     with full and reduced capabilities, a user with a terminal, an
//     administrator under no_new_privs, a user outside any session), with
//     capability sets derived from the input so they vary too,
// and whose tokens render (every text file, every query class) without
// crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/minting_policy.h"
#include "core/query_class.h"
#include "core/render.h"

namespace {

using tokenfs::LinuxCredentials;

class FuzzClock : public tokenfs::Clock {
 public:
  uint64_t NowNanoseconds() const override { return 1714979289000000010ull; }
};

class FuzzAccounts : public tokenfs::AccountLookup {
 public:
  std::optional<std::string> UserName(uint32_t uid) const override {
    if (uid == 1000) return "alice";
    return std::nullopt;
  }
  std::optional<std::string> GroupName(uint32_t gid) const override {
    if (gid == 27) return "sudo";
    if (gid == 10) return "wheel";
    if (gid == 1000) return "alice";
    return std::nullopt;
  }
};

// FNV-1a, to turn the input into varying capability sets.
uint64_t Hash(const uint8_t* data, size_t size) {
  uint64_t hash = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    hash = (hash ^ data[i]) * 1099511628211ull;
  }
  return hash;
}

void CheckRenders(const tokenfs::Token& token) {
  const tokenfs::CapabilityNames names;
  tokenfs::RenderOptions options;
  options.capability_names = &names;
  const std::string text =
      tokenfs::RenderTokenFile(token, tokenfs::TokenFile::kAll, options);
  if (text.empty() || text.back() != '\n') std::abort();
  for (const auto& info : tokenfs::QueryClassTable()) {
    if (!tokenfs::EncodeQueryPayload(token, info.id)) std::abort();
  }
  (void)tokenfs::AllClassesJson(token, options).dump();
}

void MintAndCheck(const tokenfs::MintingPolicy& policy,
                  const LinuxCredentials& credentials) {
  tokenfs::LuidAllocator ids;
  const FuzzClock clock;
  const FuzzAccounts accounts;
  auto minted = policy.Mint(credentials, {ids, clock, &accounts});
  if (!minted) std::abort();  // no shape here has too many groups
  if (!tokenfs::ValidateToken(minted->token)) std::abort();
  if ((minted->token.privileges.enabled &
       tokenfs::privilege::Bit(tokenfs::privilege::kChangeNotify)) == 0) {
    std::abort();
  }
  CheckRenders(minted->token);
  if (minted->linked_full) {
    if (credentials.effective_uid == 0) std::abort();
    if (!tokenfs::ValidateToken(*minted->linked_full)) std::abort();
    if (minted->linked_full->user != minted->token.user) std::abort();
    CheckRenders(*minted->linked_full);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = tokenfs::MintingPolicy::Parse(text);
  if (!policy) {
    if (policy.error().message.empty()) std::abort();
    return 0;
  }
  auto again = tokenfs::MintingPolicy::Parse(policy->ToJson().dump());
  if (!again || !(again->settings() == policy->settings())) std::abort();

  const uint64_t hash = Hash(data, size);
  const uint64_t all = tokenfs::linux_capability::kAllMask;

  LinuxCredentials root;
  root.cap_permitted = root.cap_effective = all;
  MintAndCheck(*policy, root);

  LinuxCredentials reduced_root;
  reduced_root.cap_permitted = hash & all;
  reduced_root.cap_effective = (hash >> 17) & all;
  reduced_root.audit_session_id = static_cast<uint32_t>(hash >> 40) & 0xff;
  MintAndCheck(*policy, reduced_root);

  LinuxCredentials user;
  user.real_uid = user.effective_uid = 1000;
  user.real_gid = user.effective_gid = 1000;
  user.supplementary_gids = {100, 1000};
  user.has_terminal = true;
  user.audit_session_id = 3;
  user.cap_permitted = (hash >> 3) & all;
  user.cap_effective = hash & all;
  MintAndCheck(*policy, user);

  LinuxCredentials admin = user;
  admin.supplementary_gids = {10, 27, static_cast<uint32_t>(hash >> 32)};
  admin.no_new_privs = (hash & 1) != 0;
  admin.has_terminal = false;
  MintAndCheck(*policy, admin);

  LinuxCredentials sessionless = user;
  sessionless.audit_session_id = tokenfs::kAuditSessionUnset;
  sessionless.has_terminal = false;
  sessionless.effective_gid = static_cast<uint32_t>(hash);
  MintAndCheck(*policy, sessionless);
  return 0;
}
