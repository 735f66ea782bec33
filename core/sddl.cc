#include "core/sddl.h"
