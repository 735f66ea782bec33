// Fuzz target: conditional expressions as SDDL text (the condition field of
// XA, XD, ZA and XU ACEs).
//
// Properties checked (abort() on any violation):
//   - a parsed condition formats to canonical text that parses back to an
//     equal expression and formats to the same text again (a fixed point);
//   - it encodes to a binary form whose length is a multiple of 4 and that
//     decodes to an equal expression;
//   - evaluating it (no claims, and a world with claims) gives one of TRUE,
//     FALSE, UNKNOWN without crashing;
//   - a refusal is kInvalidArgument with a column inside the input
//     (1 .. size+1) that its message ends with.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/conditional_expression.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = tokenfs::ParseConditionalExpression(text);
  if (!expr) {
    const tokenfs::Error& error = expr.error();
    Check(error.code == tokenfs::ErrorCode::kInvalidArgument);
    Check(error.column >= 1 && static_cast<size_t>(error.column) <= size + 1);
    const std::string suffix = " at column " + std::to_string(error.column);
    Check(error.message.size() > suffix.size() &&
          error.message.ends_with(suffix));
    return 0;
  }
  const std::string canonical = tokenfs::FormatConditionalExpression(*expr);
  auto again = tokenfs::ParseConditionalExpression(canonical);
  Check(again.has_value());
  Check(*again == *expr);
  Check(tokenfs::FormatConditionalExpression(*again) == canonical);

  auto bytes = tokenfs::EncodeConditionalExpression(*expr);
  Check(bytes.has_value());
  Check(bytes->size() % 4 == 0);
  auto decoded = tokenfs::DecodeConditionalExpression(*bytes);
  Check(decoded.has_value());
  Check(*decoded == *expr);

  tokenfs::ConditionalContext empty;
  (void)tokenfs::EvaluateConditionalExpression(*expr, empty);
  std::vector<tokenfs::Claim> claims(1);
  claims[0].name = "a";
  claims[0].type = tokenfs::ClaimType::kInt64;
  claims[0].values = {int64_t{1}, int64_t{-2}};
  tokenfs::ConditionalContext world;
  world.user_claims = &claims;
  world.device_claims = &claims;
  world.resource_attributes = &claims;
  world.local_attributes = &claims;
  world.has_device = true;
  world.member_sids = {tokenfs::Sid()};
  (void)tokenfs::EvaluateConditionalExpression(*expr, world);
  return 0;
}
