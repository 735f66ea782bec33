#include "core/render.h"

#include <catch2/catch.hpp>
