#include "core/token_spec.h"

#include <catch2/catch.hpp>
