// monitoring/: what operators watch. The code is one piece, the metrics server (/metrics, /healthz,
// /readyz on a low-priority thread); the rest of the folder is the Prometheus rules, Alertmanager
// and Grafana configuration shipped beside it (monitoring/README.md).
#pragma once

#include "monitoring/metrics_server.hpp"
