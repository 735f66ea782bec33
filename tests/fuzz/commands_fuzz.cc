// Fuzz target: every write-command parser of the tree (core/commands.h),
// which parse text any user can write to a tokenfs file. A parser must
// never crash, and every refusal must say why.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/access_mask.h"
#include "core/commands.h"
#include "core/write_rules.h"

namespace {

template <typename Result>
void Check(const Result& result) {
  if (!result && result.error().message.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tokenfs;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(ParsePrivilegesCommand(text));
  Check(ParseGroupsCommand(text));
  Check(ParseSidSelector(text));
  Check(ParseDefaultDaclCommand(text));
  Check(ParseIntegrityCommand(text));
  Check(ParseSessionCommand(text));
  Check(ParseSecurityCommand(text));
  Check(ParseImpersonateCommand(text, "/tokens"));
  Check(ParseAccessCommand(text));
  Check(ParseDuplicateCommand(text));
  Check(ParseRestrictCommand(text));
  Check(ParseLinkCommand(text, "/tokens"));
  Check(ParseInstallCommand(text, "/tokens"));
  Check(ParseTagCommand(text));
  // The write rules' parse of each token file: a parsed write always names
  // the token right it needs.
  for (TokenFile file :
       {TokenFile::kPrivs, TokenFile::kGroups, TokenFile::kOwner,
        TokenFile::kGroup, TokenFile::kDefaultDacl, TokenFile::kIntegrity,
        TokenFile::kSession, TokenFile::kSecurity}) {
    auto write = ParseTokenFileWrite(file, text);
    Check(write);
    if (write && write->right.empty()) std::abort();
  }
  if (auto mapping = ParseGenericMapping(text)) {
    // A parsed mapping's canonical text parses to the same mapping.
    auto again = ParseGenericMapping(mapping->name);
    if (!again || again->mapping != mapping->mapping ||
        again->name != mapping->name) {
      std::abort();
    }
  } else if (mapping.error().message.empty()) {
    std::abort();
  }
  if (auto reference = ParseTokenReference(text, "/tokens")) {
    // A parsed reference prints to text that parses to the same reference.
    auto again = ParseTokenReference(FormatTokenReference(*reference), "");
    if (!again ||
        FormatTokenReference(*again) != FormatTokenReference(*reference)) {
      std::abort();
    }
  }
  return 0;
}
