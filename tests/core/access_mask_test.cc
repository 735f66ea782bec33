#include "core/access_mask.h"

#include <catch2/catch.hpp>
