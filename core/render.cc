#include "core/render.h"
