#include "core/capability.h"

#include <catch2/catch.hpp>
