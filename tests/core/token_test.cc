#include "core/token.h"

#include <catch2/catch.hpp>
