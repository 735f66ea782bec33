#include "core/acl.h"

#include <catch2/catch.hpp>
