// Compiles feeds/feeds.hpp alone (twice: the include guard holds), so the folder map cannot rot.
#include "feeds/feeds.hpp"
#include "feeds/feeds.hpp"  // NOLINT(readability-duplicate-include): the include guard is under test
