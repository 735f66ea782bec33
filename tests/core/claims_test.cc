#include "core/claims.h"

#include <catch2/catch.hpp>
