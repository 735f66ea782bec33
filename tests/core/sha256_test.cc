#include "core/sha256.h"

#include <catch2/catch.hpp>
