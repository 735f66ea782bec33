#include "core/access_check.h"
