#include "core/security_descriptor.h"

#include <catch2/catch.hpp>
