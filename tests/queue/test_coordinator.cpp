#include "testing.hpp"
TEST_CASE("placeholder") {}
