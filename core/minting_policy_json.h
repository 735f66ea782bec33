// The minting policy file: MintingSettings read from and written as JSON.
//
// Models the JSON schema of docs/policy.md. Reading goes through the
// project's one strict JSON reader (core/strict_json.h): repeated keys,
// unknown keys and wrong kinds are refused, and every error names the
// offending key's path ("policy: elevation.admin_groups[2]: ...") or the
// line and column of a syntax error. MintingPolicy::Parse and ToJson are
// built on these two functions.
//
// Invariant: MintingSettingsToJson's output read by ReadMintingSettings over
// any defaults gives back the same settings.
//
// Thread-safety: pure functions. Ownership: values.
#ifndef TOKENFS_CORE_MINTING_POLICY_JSON_H_
#define TOKENFS_CORE_MINTING_POLICY_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/minting_policy.h"
#include "core/result.h"

namespace tokenfs {

// Parses policy file `json_text`: a JSON object whose keys (all optional)
// override `defaults`. Does not validate across keys; MintingPolicy::Create
// does. Errors are those documented at MintingPolicy::Parse.
Result<MintingSettings> ReadMintingSettings(std::string_view json_text,
                                            MintingSettings defaults);

// Every key of `settings` with its value, in the schema ReadMintingSettings
// reads.
nlohmann::json MintingSettingsToJson(const MintingSettings& settings);

// "policy: <path>: <problem>", the wording of every structural policy error
// ("policy: <problem>" at the top level), as JsonAtPath words it for every
// JSON document.
std::string PolicySettingMessage(const std::string& path,
                                 const std::string& problem);

}  // namespace tokenfs

#endif  // TOKENFS_CORE_MINTING_POLICY_JSON_H_
