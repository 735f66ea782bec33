// The reference side of `token access` tests: runs core AccessCheck on the
// token a JSON token spec describes, without the daemon or the CLI, and
// prints the outcome as JSON so cli_access.py can compare the two.
//
// Usage: cli_access_oracle SPEC.json SDDL DESIRED MAPPING INTENT [SELF_SID]
//   DESIRED  a rights expression (core/commands.h ParseRightsExpression)
//   MAPPING  token | file | plain
//   INTENT   "", backup, restore or backup,restore
// Prints {"status", "granted" ("0x%x"), "deciding_ace", "privileges_used"
// (names)}. Exit 0, or 2 with a message on bad arguments.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/access_check.h"
#include "core/access_mask.h"
#include "core/commands.h"
#include "core/luid.h"
#include "core/privilege.h"
#include "core/sddl.h"
#include "core/token_spec.h"
#include "core/token_spec_json.h"
#include "core/well_known_sids.h"

namespace {

class ZeroClock : public tokenfs::Clock {
 public:
  uint64_t NowNanoseconds() const override { return 0; }
};

int Fail(const std::string& message) {
  std::cerr << "cli_access_oracle: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tokenfs;
  if (argc < 6) {
    return Fail("usage: SPEC.json SDDL DESIRED MAPPING INTENT [SELF_SID]");
  }
  std::ifstream file(argv[1]);
  std::stringstream text;
  text << file.rdbuf();
  auto spec = ParseTokenSpecJson(text.str());
  if (!spec) return Fail(spec.error().message);
  LuidAllocator ids;
  ZeroClock clock;
  const SpecBuildContext context{ids, clock, well_known::LocalSystem()};
  auto token = BuildTokenFromSpec(*spec, context);
  if (!token) return Fail(token.error().message);
  auto sd = ParseSddl(argv[2]);
  if (!sd) return Fail(sd.error().message);
  auto desired = ParseRightsExpression(argv[3]);
  if (!desired) return Fail(desired.error().message);
  AccessRequest request;
  request.desired = *desired;
  auto mapping = ParseGenericMapping(argv[4]);
  if (!mapping) return Fail(mapping.error().message);
  request.mapping = mapping->mapping;
  const std::string intent = argv[5];
  if (intent.find("backup") != std::string::npos) {
    request.intent |= privilege_intent::kBackup;
  }
  if (intent.find("restore") != std::string::npos) {
    request.intent |= privilege_intent::kRestore;
  }
  if (argc > 6) {
    auto self = ParseSidOrAlias(argv[6]);
    if (!self) return Fail(self.error().message);
    request.principal_self = *self;
  }
  const AccessCheckResult result = AccessCheck(*token, *sd, request);
  char granted[16];
  std::snprintf(granted, sizeof granted, "0x%x", result.granted.bits());
  nlohmann::json out = {
      {"status", std::string(AccessStatusName(result.status))},
      {"granted", granted},
      {"deciding_ace", result.deciding_ace},
      {"privileges_used", nlohmann::json::array()},
  };
  for (const PrivilegeInfo& info : PrivilegeCatalog()) {
    if (result.privileges_used & privilege::Bit(info.bit)) {
      out["privileges_used"].push_back(std::string(info.short_name));
    }
  }
  std::cout << out.dump() << "\n";
  return 0;
}
