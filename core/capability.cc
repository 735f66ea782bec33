#include "core/capability.h"
