#include "core/sddl.h"

#include <catch2/catch.hpp>
