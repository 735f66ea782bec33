#include "core/query_class.h"

#include <catch2/catch.hpp>
