#include "core/token_spec_json.h"

#include <catch2/catch.hpp>
