#include "core/claims.h"
