#include "core/linux_credentials.h"

namespace tokenfs {

HeldCapabilities CapabilitiesThatCount(const LinuxCredentials& credentials) {
  if (!credentials.initial_user_namespace) return {};
  return {credentials.cap_permitted,
          credentials.cap_effective & credentials.cap_permitted};
}

bool HoldsCapability(const LinuxCredentials& credentials, int capability) {
  return (CapabilitiesThatCount(credentials).effective >> capability) & 1;
}

}  // namespace tokenfs
