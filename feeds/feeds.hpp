// feeds/: market data in, live and historical. Everything here turns outside bytes into the
// records of core/records.hpp and core/candle.hpp, refusing and counting what is not sane.
// simdjson stays inside feeds/*.cpp.
//
// This header is the folder's map and its public surface; include the one header you need.
// Live (the feed stage, DESIGN.md section 2):
//   coinbase_feed.hpp     io_uring -> TLS -> WebSocket -> decoder as one non-blocking poll();
//                         ticker, market_trades and heartbeats out through FeedOutput
//   coinbase_decoder.hpp  one Advanced Trade message -> Ticks / Trades, with per-reason counters
//   sequence_tracker.hpp  gaps in the connection's sequence_num, saturating counts
// WebSocket client protocol (used by the feed; transport-agnostic, so tests and benchmarks drive it
// over memory):
//   ws_frame.hpp  ws_handshake.hpp  ws_session.hpp
// History:
//   csv_candles.hpp       the candle CSV the backtest, replay and backfill share (strict, bounded)
//   synthetic_market.hpp  a seeded synthetic market for sample data, tests and benchmarks
#pragma once

#include "feeds/coinbase_decoder.hpp"
#include "feeds/coinbase_feed.hpp"
#include "feeds/csv_candles.hpp"
#include "feeds/sequence_tracker.hpp"
#include "feeds/synthetic_market.hpp"
#include "feeds/ws_frame.hpp"
#include "feeds/ws_handshake.hpp"
#include "feeds/ws_session.hpp"
