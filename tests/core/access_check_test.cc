#include "core/access_check.h"

#include <catch2/catch.hpp>
