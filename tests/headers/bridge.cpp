// Compiles bridge/bridge_server.hpp alone (twice: the include guard holds).
#include "bridge/bridge_server.hpp"
#include "bridge/bridge_server.hpp"
