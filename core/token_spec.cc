#include "core/token_spec.h"
