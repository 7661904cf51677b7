// Backtest reports: a text summary for the terminal, JSON for machines (byte-identical for the
// same input and configuration: no timings, no wall-clock dates), and one self-contained HTML page
// with price, trade markers and the equity curve as inline SVG.
#pragma once

#include <string>

#include "exec/backtest.hpp"

namespace cbtrade {

[[nodiscard]] std::string report_text(const BacktestReport& r);
[[nodiscard]] std::string report_json(const BacktestReport& r);
[[nodiscard]] std::string report_html(const BacktestReport& r);

}  // namespace cbtrade
