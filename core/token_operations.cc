#include "core/token_operations.h"
