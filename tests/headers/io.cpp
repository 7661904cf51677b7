// Compiles io/io.hpp alone (twice: the include guard holds), so the folder map cannot rot.
#include "io/io.hpp"
#include "io/io.hpp"  // NOLINT(readability-duplicate-include): the include guard is under test
