// Compiles monitoring/monitoring.hpp alone (twice: the include guard holds), so the folder map cannot rot.
#include "monitoring/monitoring.hpp"
#include "monitoring/monitoring.hpp"  // NOLINT(readability-duplicate-include): the include guard is under test
