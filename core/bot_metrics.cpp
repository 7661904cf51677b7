#include "core/bot_metrics.hpp"

namespace cbtrade {

BotMetrics::BotMetrics(MetricsRegistry& r, const BuildInfo& build)
    : equity_usd(r.gauge("bot_equity_usd", {}, "Paper or live equity in USD (cash + position at the last price).")),
      vol_risk_factor(r.gauge("bot_vol_risk_factor", {}, "Position size multiplier from volatility, in (0, 1].")),
      walk_forward_fits(r.counter("bot_walk_forward_fits_total", {}, "Walk-forward model refits.")),
      build_info(r.gauge("bot_build_info",
                         {{"version", build.version}, {"wolfssl", build.wolfssl}, {"aesni", build.aesni}},
                         "Build information; always 1.")),
      trades(r.counter("bot_trades_total", {}, "Round trips closed (entry and exit filled).")),
      daily_pnl_usd(r.gauge("bot_daily_pnl_usd", {}, "Equity change since the start of the UTC day, in USD.")),
      position_base(r.gauge("bot_position_base", {}, "Open position in base units (negative when short).")),
      circuit_breaker_tripped(
          r.gauge("bot_circuit_breaker_tripped", {}, "1 while the daily-loss circuit breaker blocks entries.")),
      order_errors_none(r.counter("bot_order_errors_total", {{"reason", "none"}}, "Order errors by reason.")),
      candles(r.counter("bot_candles_total", {}, "Candles closed.")),
      ticks(r.counter("bot_ticks_total", {}, "Ticker messages decoded.")),
      feed_gaps(r.counter("bot_feed_gaps_total", {}, "Sequence gaps seen on the market-data feed.")),
      feed_reconnects(r.counter("bot_feed_reconnects_total", {}, "Market-data feed reconnects.")),
      feed_connect_failures(r.counter("bot_feed_connect_failures_total", {},
                                      "Market-data connections that never reached an open WebSocket (TCP, TLS or "
                                      "upgrade failures, a server hanging up first).")),
      feed_messages_refused(r.counter("bot_feed_messages_refused_total", {},
                                      "Market-data messages the decoder refused (malformed JSON, bad sequence "
                                      "number, oversized...).")),
      feed_records_refused(r.counter("bot_feed_records_refused_total", {},
                                     "Ticker and trade records refused: a price or size outside the sane range, a "
                                     "bad trade id or time.")),
      price_outliers(r.counter("bot_price_outliers_total", {},
                               "Trade prices the sanity gate held: a jump beyond MAX_PRICE_JUMP_PCT not yet "
                               "confirmed by following prices.")),
      feed_age_seconds(r.gauge("bot_feed_age_seconds", {}, "Seconds since the last market-data message.")),
      feed_stale(r.gauge("bot_feed_stale", {}, "1 while the market-data feed is stale.")),
      tick_to_decision(
          r.histogram("bot_tick_to_decision_seconds", {},
                      "From the completion that brought a tick's bytes to the Decision at the exec stage.")),
      ready(r.gauge("bot_ready", {}, "1 when /readyz reports ready.")),
      halted(r.gauge("bot_halted", {}, "1 while the operator's halt (SIGUSR1, HALT_FILE) blocks new entries.")),
      live_equity_refreshes(r.counter("bot_live_equity_refreshes_total", {},
                                      "Account balances read from the exchange (USE_LIVE_EQUITY=true).")),
      live_equity_refresh_failures(r.counter("bot_live_equity_refresh_failures_total", {},
                                             "Live-equity refreshes that failed (the last balances stay in force).")),
      live_equity_age_seconds(r.gauge("bot_live_equity_age_seconds", {},
                                      "Seconds since the account balances were last read (0 without live equity).")),
      notifications(r.counter("bot_notifications_total", {}, "Notifications posted (SLACK_WEBHOOK).")),
      notifications_failed(r.counter("bot_notifications_failed_total", {},
                                     "Notification posts that failed (error answer, timeout, connection).")),
      journal_failures(r.counter("bot_journal_failures_total", {},
                                 "Times the order journal stopped taking records (a write failed, staging full): "
                                 "no order is sent after it.")),
      notifications_dropped(r.counter("bot_notifications_dropped_total", {},
                                      "Notifications never posted: their ring was full, or they were folded into a "
                                      "summary while posting failed.")),
      entries_while_stale(r.counter("bot_entries_while_stale_total", {},
                                    "Entry orders decided on unfit market data (stale feed, gap, lost record) "
                                    "that reached the exec stage; refused there. Must stay 0.")) {
    build_info.set(1);
    vol_risk_factor.set(1);
    static constexpr const char* order_help = "Orders filled, by mode (paper|live) and side (BUY|SELL).";
    for (const OrderMode m : {OrderMode::paper, OrderMode::live})
        for (const OrderSideIndex s : {OrderSideIndex::buy, OrderSideIndex::sell})
            orders_[static_cast<std::size_t>(m)][static_cast<std::size_t>(s)] =
                &r.counter("bot_orders_total",
                           {{"mode", m == OrderMode::paper ? "paper" : "live"},
                            {"side", s == OrderSideIndex::buy ? "BUY" : "SELL"}},
                           order_help);
    for (const Signal s : {Signal::buy, Signal::sell, Signal::flat})
        decisions_[static_cast<std::size_t>(s)] =
            &r.counter("bot_decisions_total", {{"signal", std::string(signal_name(s))}}, "Decisions by signal.");
    for (const ModelMode m : {ModelMode::baseline, ModelMode::extended})
        model_mode_[static_cast<std::size_t>(m)] =
            &r.gauge("bot_model_mode", {{"mode", std::string(model_mode_name(m))}}, "1 for the active model mode.");
    static constexpr std::array<const char*, 6> block_names = {"breaker",     "below_min", "long_only",
                                                               "market_data", "halt",      "insufficient_funds"};
    for (std::size_t i = 0; i < block_names.size(); ++i)
        entries_blocked_[i] = &r.counter("bot_entries_blocked_total", {{"reason", block_names[i]}},
                                         "Entries not taken, by the gate that blocked them.");
    order_errors_[0] = &order_errors_none;
    for (std::size_t i = 1; i < order_error_count; ++i)
        order_errors_[i] = &r.counter("bot_order_errors_total",
                                      {{"reason", std::string(order_error_label(static_cast<OrderError>(i)))}},
                                      "Order errors by reason.");
    static constexpr std::array<const char*, 3> exit_names = {"signal", "stop_loss", "take_profit"};
    for (std::size_t i = 0; i < exit_names.size(); ++i)
        exits_[i] = &r.counter("bot_exits_total", {{"reason", exit_names[i]}}, "Position exits by reason.");
    static constexpr std::array<const char*, 3> ring_names = {"ticks", "decisions", "ops"};
    for (std::size_t i = 0; i < ring_names.size(); ++i)
        ring_full_[i] = &r.counter("bot_ring_full_total", {{"ring", ring_names[i]}},
                                   "Records not passed on because a stage-to-stage ring was full.");
    static constexpr std::array<const char*, 3> stage_names = {"decode", "signal", "exec"};
    for (std::size_t i = 0; i < stage_names.size(); ++i)
        stage_latency_[i] = &r.histogram("bot_stage_latency_seconds", {{"stage", stage_names[i]}},
                                         "Time spent in one pipeline stage per record.");
    set_model_mode(ModelMode::baseline);
}

void BotMetrics::set_model_mode(ModelMode m) noexcept {
    for (std::size_t i = 0; i < model_mode_.size(); ++i)
        model_mode_[i]->set(i == static_cast<std::size_t>(m) ? 1.0 : 0.0);
}

}  // namespace cbtrade
