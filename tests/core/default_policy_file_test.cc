// etc/tokenfs/policy.json, the policy file the Debian package installs and
// tokenfs.service passes to --policy: it must be the built-in default
// written out in full (docs/policy.md, section 3), so that installing the
// package changes nothing about the tokens minted and every knob is there
// to edit.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/minting_policy.h"

namespace tokenfs {
namespace {

std::string ReadPolicyFile() {
  std::ifstream file(TOKENFS_POLICY_FILE);
  REQUIRE(file);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST_CASE("the shipped policy file parses as a policy") {
  const auto parsed = MintingPolicy::Parse(ReadPolicyFile());
  REQUIRE(parsed.has_value());
  CHECK(parsed->ToJson() == MintingPolicy::Default().ToJson());
}

TEST_CASE("the shipped policy file names every key of the built-in default") {
  // Key for key and value for value, not just an empty object the parser
  // fills with defaults.
  CHECK(nlohmann::json::parse(ReadPolicyFile()) ==
        MintingPolicy::Default().ToJson());
}

}  // namespace
}  // namespace tokenfs
