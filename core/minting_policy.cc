#include "core/minting_policy.h"
