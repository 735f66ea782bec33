#include "core/token_operations.h"

#include <catch2/catch.hpp>
