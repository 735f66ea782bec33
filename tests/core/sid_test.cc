#include "core/sid.h"

#include <catch2/catch.hpp>
