#include "core/query_class.h"
