#include "core/well_known_sids.h"

#include <catch2/catch.hpp>
