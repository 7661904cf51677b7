// Compiles pipeline/pipeline.hpp alone (twice: the include guard holds), so the folder map cannot rot.
#include "pipeline/pipeline.hpp"
#include "pipeline/pipeline.hpp"  // NOLINT(readability-duplicate-include): the include guard is under test
