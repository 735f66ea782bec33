// Fuzz target: the binary form of conditional expressions (MS-DTYP
// 2.4.4.17, the "artx" application data of callback ACEs).
//
// Properties checked (abort() on any violation):
//   - a decoded expression encodes, and the encoding decodes to an equal
//     expression and encodes to the same bytes again (a fixed point);
//   - formatting a decoded expression (which is total) and evaluating it do
//     not crash;
//   - a refusal is kInvalidArgument with a message.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/conditional_expression.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto expr = tokenfs::DecodeConditionalExpression({data, size});
  if (!expr) {
    Check(expr.error().code == tokenfs::ErrorCode::kInvalidArgument);
    Check(!expr.error().message.empty());
    return 0;
  }
  auto bytes = tokenfs::EncodeConditionalExpression(*expr);
  Check(bytes.has_value());
  auto again = tokenfs::DecodeConditionalExpression(*bytes);
  Check(again.has_value());
  Check(*again == *expr);
  auto bytes_again = tokenfs::EncodeConditionalExpression(*again);
  Check(bytes_again.has_value() && *bytes_again == *bytes);
  const std::string text = tokenfs::FormatConditionalExpression(*expr);
  Check(!text.empty());
  tokenfs::ConditionalContext context;
  (void)tokenfs::EvaluateConditionalExpression(*expr, context);
  return 0;
}
