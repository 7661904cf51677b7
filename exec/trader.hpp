// exec/: turns decisions into orders under the risk rules (DESIGN.md section 5) and fills them.
//
// The trader holds one position at a time in one product. It never sends anything itself: it
// returns an OrderRequest, the caller hands it to a broker, and the broker's Fill comes back
// through on_fill(). While an order is pending nothing else is requested. All calls are
// allocation-free and never throw, so the same object runs on the exec thread and in backtests.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

#include "core/config.hpp"
#include "core/records.hpp"
#include "core/signal_engine.hpp"
#include "exec/broker.hpp"

namespace cbtrade {

struct TraderParams {
    bool long_only = true;
    double order_min_usd = 5.0;
    double max_daily_loss_pct = 1.0;
    double risk_per_trade_pct = 1.0;
    double take_profit_pct = 0.2;  // 0 disables
    double stop_loss_pct = 0.2;    // 0 disables
    double cost_reserve_bps = 62;  // fee + slippage kept aside so an entry never overdraws cash
    double base_increment = 1e-8;  // BTC-USD's; sizes are floored to it

    [[nodiscard]] static TraderParams from(const Config& c) noexcept;
};

// Why entries did not happen. Exits are never blocked.
struct TraderCounters {
    std::uint64_t entries = 0;
    std::uint64_t signal_exits = 0;
    std::uint64_t stop_losses = 0;
    std::uint64_t take_profits = 0;
    std::uint64_t blocked_breaker = 0;
    std::uint64_t blocked_below_min = 0;
    std::uint64_t blocked_long_only = 0;
    std::uint64_t blocked_market_data = 0;
    std::uint64_t blocked_halt = 0;   // the operator's kill switch (SIGUSR1, HALT_FILE)
    std::uint64_t blocked_funds = 0;  // live: the exchange said INSUFFICIENT_FUND; until equity is refreshed
    std::uint64_t breaker_trips = 0;
    std::uint64_t round_trips = 0;
    std::uint64_t winning_round_trips = 0;
};

// The trader's books: what a restart must get back (the order journal, exec/journal.hpp, writes
// them after every fill and at each day start, breaker trip and rotation). Plain bytes: the journal
// stores the struct as it is, so fields are fixed-size and padding is explicit.
struct TraderBooks {
    double cash_usd = 0;
    double position_qty = 0;  // signed: > 0 long, < 0 short
    double entry_price = 0;
    double entry_fee_usd = 0;
    double fees_usd = 0;
    double stop_level = 0;
    double take_level = 0;
    double day_start_equity_usd = 0;
    std::int64_t day_start_s = 0;  // INT64_MAX: no day started yet
    std::uint8_t breaker_tripped = 0;
    std::uint8_t padding[7] = {};
};
static_assert(std::is_trivially_copyable_v<TraderBooks> && sizeof(TraderBooks) == 80);

class Trader {
public:
    Trader(const TraderParams& p, double starting_equity_usd) noexcept;

    // Marks the position at a new price: rolls the UTC day, trips the daily-loss breaker, and
    // returns an exit when a stop or take level is reached. Non-finite or non-positive prices are
    // ignored (never acted on).
    [[nodiscard]] std::optional<OrderRequest> on_price(double price, std::int64_t time_s) noexcept;

    // Acts on a signal: entry from flat (subject to every gate), exit on the opposite signal.
    [[nodiscard]] std::optional<OrderRequest> on_decision(const Decision& d) noexcept;

    // Applies a broker fill to cash and position, clears the pending order, and marks the equity
    // at the fill price (the breaker trips on a fill too, not only on the next price).
    void on_fill(const Fill& f) noexcept;

    // Live only: the broker gave up on the pending order (rejected, cancelled with nothing filled).
    void on_order_failed() noexcept { pending_ = false; }

    // Entries need fresh market data; the feed sets this false while stale or just reconnected.
    void set_market_data_ok(bool ok) noexcept { market_data_ok_ = ok; }

    // The operator's halt: no new entries while set; exits (signal, stop, take) are never blocked.
    void set_halted(bool halted) noexcept { halted_ = halted; }

    // Live: the exchange refused an order for INSUFFICIENT_FUND, so the cash figure is not what the
    // account holds. No new entries while set (exits are never blocked); cleared when equity is
    // refreshed from the exchange.
    void set_funds_blocked(bool blocked) noexcept { funds_blocked_ = blocked; }
    [[nodiscard]] bool funds_blocked() const noexcept { return funds_blocked_; }

    // Live equity (USE_LIVE_EQUITY=true): the exchange's figures replace the cash the trader tracks
    // from its own fills. `cash_usd`: the quote currency available; `other_base_qty`: base currency
    // the account holds beyond the trader's own position (bought by someone else). That base
    // counts in equity_usd() (sizing, bot_equity_usd) but is never sold: exits sell only the
    // position the trader bought, and the daily-loss breaker measures the trader's own book, so a
    // price move of holdings it does not trade never blocks it. Call only with no order pending.
    void set_account(double cash_usd, double other_base_qty) noexcept {
        cash_ = cash_usd;
        other_base_ = other_base_qty > 0 ? other_base_qty : 0;
    }
    [[nodiscard]] double other_base_qty() const noexcept { return other_base_; }

    [[nodiscard]] double cash_usd() const noexcept { return cash_; }
    [[nodiscard]] double position_qty() const noexcept { return qty_; }
    [[nodiscard]] double entry_price() const noexcept { return entry_price_; }
    // Cash, the position and any other base held (set_account), at `price`.
    [[nodiscard]] double equity_usd(double price) const noexcept { return cash_ + (qty_ + other_base_) * price; }
    // Cash and the trader's own position only: what the daily-loss breaker and the day's P&L measure.
    [[nodiscard]] double book_equity_usd(double price) const noexcept { return cash_ + qty_ * price; }
    [[nodiscard]] double fees_usd() const noexcept { return fees_; }
    [[nodiscard]] bool breaker_tripped() const noexcept { return breaker_; }
    [[nodiscard]] bool pending() const noexcept { return pending_; }
    [[nodiscard]] double day_start_equity_usd() const noexcept { return day_start_equity_; }
    // Exit levels of the open position (0 when none or disabled).
    [[nodiscard]] double stop_level() const noexcept { return stop_level_; }
    [[nodiscard]] double take_level() const noexcept { return take_level_; }
    [[nodiscard]] const TraderCounters& counters() const noexcept { return counters_; }

    // The books as they are, and a restart's way back to them (restart recovery: no order is
    // pending afterwards; an order whose outcome the journal lacks is settled by reconciliation).
    [[nodiscard]] TraderBooks books() const noexcept;
    void restore(const TraderBooks& b) noexcept;

private:
    [[nodiscard]] std::optional<OrderRequest> exit(Side side, double price, std::int64_t t, OrderReason r) noexcept;
    [[nodiscard]] std::optional<OrderRequest> entry(Side side, const Decision& d) noexcept;
    void set_exit_levels() noexcept;
    void apply_fill(const Fill& f) noexcept;
    [[nodiscard]] bool in_current_day(std::int64_t time_s) const noexcept;
    // Trips the daily-loss breaker when `equity` is at or below the day's start minus the limit.
    void check_breaker(double equity) noexcept;

    TraderParams p_;
    double cash_;
    double qty_ = 0;         // signed: > 0 long, < 0 short
    double other_base_ = 0;  // live equity: base held that the trader did not buy (never sold)
    double entry_price_ = 0;
    double entry_fee_ = 0;
    double fees_ = 0;
    double day_start_equity_;
    double daily_loss_limit_usd_ = 0;  // MAX_DAILY_LOSS_PCT of day_start_equity_
    double stop_level_ = 0;            // exit levels of the open position, 0 when none or disabled
    double take_level_ = 0;
    std::int64_t day_start_s_ = INT64_MAX;  // current UTC day is [day_start_s_, day_start_s_ + 86400)
    bool breaker_ = false;
    bool pending_ = false;
    bool market_data_ok_ = true;
    bool halted_ = false;
    bool funds_blocked_ = false;
    TraderCounters counters_;
};

// Paper broker: fills at the market price moved against the order by the slippage, and charges
// the fee on the filled notional. The backtest calls fill(); the live daemon's exec stage uses it
// through the Broker interface (DRY_RUN=true), where every order settles in submit().
class PaperBroker final : public Broker {
public:
    PaperBroker(double fee_bps, double slippage_bps) noexcept : fee_(fee_bps / 1e4), slip_(slippage_bps / 1e4) {}
    [[nodiscard]] Fill fill(const OrderRequest& r, double market_price) const noexcept;

    [[nodiscard]] bool live() const noexcept override { return false; }
    [[nodiscard]] bool submit(const OrderRequest& order, double market_price, std::int64_t,
                              OrderOutcome& out) noexcept override {
        out = OrderOutcome{fill(order, market_price), OrderError::none};
        return true;
    }

private:
    double fee_;
    double slip_;
};

}  // namespace cbtrade
