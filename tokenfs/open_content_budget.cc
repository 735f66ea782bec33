#include "tokenfs/open_content_budget.h"

#include <algorithm>

namespace tokenfs {

bool OpenContentBudget::Charge(uint32_t uid, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t& held = held_[uid];
  if (held + bytes > kBytesPerUid) {
    if (held == 0) held_.erase(uid);
    return false;
  }
  held += bytes;
  return true;
}

void OpenContentBudget::Release(uint32_t uid, size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(uid);
  if (it == held_.end()) return;
  it->second -= std::min(it->second, bytes);
  if (it->second == 0) held_.erase(it);
}

size_t OpenContentBudget::held(uint32_t uid) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = held_.find(uid);
  return it == held_.end() ? 0 : it->second;
}

}  // namespace tokenfs
