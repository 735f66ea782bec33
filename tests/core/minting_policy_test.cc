#include "core/minting_policy.h"

#include <catch2/catch.hpp>
