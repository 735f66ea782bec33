#include "core/token_spec_json.h"
