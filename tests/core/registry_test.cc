#include "core/registry.h"

#include <catch2/catch.hpp>
