#include "core/privilege.h"

#include <catch2/catch.hpp>
