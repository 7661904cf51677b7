// Compiles exec/exec.hpp alone (twice: the include guard holds), so the folder map cannot rot.
#include "exec/exec.hpp"
#include "exec/exec.hpp"  // NOLINT(readability-duplicate-include): the include guard is under test
