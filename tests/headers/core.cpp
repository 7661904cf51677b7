// Compiles core/core.hpp alone (twice: the include guard holds), so the folder map cannot rot.
#include "core/core.hpp"
#include "core/core.hpp"  // NOLINT(readability-duplicate-include): the include guard is under test
