// exec/: from decisions to orders and fills, under the money-safety rules of DESIGN.md section 5,
// and everything that talks to the exchange's REST API.
//
// This header is the folder's map and its public surface; include the one header you need.
// Trading (allocation-free, shared by the daemon and the backtest):
//   broker.hpp            the Broker interface the exec stage hands orders to (paper, Coinbase, bridge)
//   trader.hpp            position, sizing, stops and takes, the daily-loss breaker; PaperBroker
//   backtest.hpp          the live signal stage and trader replayed over candles
//   backtest_metrics.hpp  a running backtest exported through the metric contract
//   report.hpp            text, JSON and HTML backtest reports
// Exchange (cold path; wolfCrypt and simdjson stay inside exec/*.cpp):
//   jwt.hpp               CDP API key JWTs, ES256 and EdDSA
//   api_key.hpp           where the key comes from (variable, file, Coinbase's key JSON)
//   rest_messages.hpp     REST requests and answer decoders as data, no I/O
//   rest_client.hpp       the REST calls over a transport: budget, retries, order idempotency
//   rest_session.hpp      the client wired from configuration over io/http_client
// Real orders (DRY_RUN=false; library exec_live):
//   token_pool.hpp        pre-signed order JWTs, ops thread -> exec thread
//   live_orders.hpp       the Coinbase broker (exec thread), token refills (ops), the order desk
//   live_start.hpp        the start-up checks and statement for real money
#pragma once

#include "exec/api_key.hpp"
#include "exec/backtest.hpp"
#include "exec/backtest_metrics.hpp"
#include "exec/broker.hpp"
#include "exec/jwt.hpp"
#include "exec/live_orders.hpp"
#include "exec/live_start.hpp"
#include "exec/report.hpp"
#include "exec/rest_client.hpp"
#include "exec/rest_messages.hpp"
#include "exec/rest_session.hpp"
#include "exec/token_pool.hpp"
#include "exec/trader.hpp"
