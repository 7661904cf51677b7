// core/: the bottom layer every other folder builds on. It includes no network, TLS or JSON
// library (DESIGN.md section 1), so the backtest, the daemon and the tools share it whole.
//
// This header is the folder's map and its public surface; include the one header you need.
//
// Records and time (what crosses stages):
//   records.hpp        Tick, Trade, Decision, OrderRequest, Fill, Side; sane price/size ranges
//   candle.hpp         Candle, one OHLCV bar (CSV, REST and live candles)
//   candle_builder.hpp live GRANULARITY candles from trades by exchange time (late, repeated, gaps, grace)
//   cpu.hpp            cache_line, now_ns/wall_ns, read_tsc and the calibrated TscClock
// Strategy (shared by live trading and the backtest, allocation-free):
//   indicators.hpp     streaming windows (RollingWindow, SMA, RSI, z-score, volatility)
//   features.hpp       the model's feature rows, baseline and extended
//   model.hpp          logistic model and its deterministic fit
//   strategy.hpp       pUp + thresholds -> buy, sell or flat
//   signal_engine.hpp  closed candle -> features -> pUp -> Decision
// Pipeline building blocks (DESIGN.md section 2):
//   spsc_ring.hpp      single-producer single-consumer ring with counted full pushes
//   stage_runner.hpp   one thread polling one or several stages, IDLE_POLICY
//   thread_placement.hpp  pinning, SCHED_IDLE / nice 19, optional real-time priority
//   placement.hpp      CPU_FEED/CPU_SIGNAL/CPU_EXEC/CPU_OPS -> the thread plan
// Configuration, metrics and errors (the cold path):
//   config.hpp         every configuration key, env files and the environment
//   metrics.hpp        lock-free counters, gauges, histograms; Prometheus text
//   bot_metrics.hpp    the daemon's metric contract, every series registered up front
//   error.hpp          the one cold-path error style and the exit codes
// Helpers, one copy each:
//   base64.hpp  decimal.hpp  json_writer.hpp  random.hpp  rfc3339.hpp  text.hpp  file_read.hpp
#pragma once

#include "core/base64.hpp"
#include "core/bot_metrics.hpp"
#include "core/candle.hpp"
#include "core/candle_builder.hpp"
#include "core/config.hpp"
#include "core/cpu.hpp"
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/features.hpp"
#include "core/file_read.hpp"
#include "core/indicators.hpp"
#include "core/json_writer.hpp"
#include "core/metrics.hpp"
#include "core/model.hpp"
#include "core/placement.hpp"
#include "core/random.hpp"
#include "core/records.hpp"
#include "core/rfc3339.hpp"
#include "core/signal_engine.hpp"
#include "core/spsc_ring.hpp"
#include "core/stage_runner.hpp"
#include "core/strategy.hpp"
#include "core/text.hpp"
#include "core/thread_placement.hpp"
