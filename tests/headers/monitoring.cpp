// Compiles monitoring/monitoring.hpp alone (twice: the include guard holds), so the folder map cannot rot.
#include "monitoring/monitoring.hpp"
#include "monitoring/monitoring.hpp"
