#include "exec/trader.hpp"

#include <cmath>

namespace cbtrade {

namespace {
constexpr std::int64_t seconds_per_day = 86400;

std::int64_t utc_day(std::int64_t t) noexcept {
    return t >= 0 ? t / seconds_per_day : -((-t + seconds_per_day - 1) / seconds_per_day);
}
bool usable_price(double p) noexcept {
    return std::isfinite(p) && p > 0;
}
}  // namespace

TraderParams TraderParams::from(const Config& c) noexcept {
    TraderParams p;
    p.long_only = c.long_only;
    p.order_min_usd = c.order_min_usd;
    p.max_daily_loss_pct = c.max_daily_loss_pct;
    p.risk_per_trade_pct = c.risk_per_trade_pct;
    p.take_profit_pct = c.take_profit_pct;
    p.stop_loss_pct = c.stop_loss_pct;
    p.cost_reserve_bps = c.fee_bps + c.slippage_bps;
    return p;
}

Trader::Trader(const TraderParams& p, double starting_equity_usd) noexcept
    : p_(p), cash_(starting_equity_usd), day_start_equity_(starting_equity_usd) {}

void Trader::set_exit_levels() noexcept {
    // Computed once per entry: on_price compares against them on every price.
    const double sl = p_.stop_loss_pct / 100, tp = p_.take_profit_pct / 100;
    stop_level_ = qty_ == 0 || sl <= 0 ? 0 : entry_price_ * (qty_ > 0 ? 1 - sl : 1 + sl);
    take_level_ = qty_ == 0 || tp <= 0 ? 0 : entry_price_ * (qty_ > 0 ? 1 + tp : 1 - tp);
}

// Both run on every price: `inline` (and internal to this file) so that the compiler may inline them
// into on_price; an ordinary member function of a -fPIC library could be interposed and so is
// always called (measured: 16% slower per price in bench_strategy trader_per_price).
inline bool Trader::in_current_day(std::int64_t time_s) const noexcept {
    return time_s >= day_start_s_ && time_s - day_start_s_ < seconds_per_day;
}

inline void Trader::check_breaker(double equity) noexcept {
    if (!breaker_ && day_start_equity_ - equity >= daily_loss_limit_usd_) {
        breaker_ = true;
        ++counters_.breaker_trips;
    }
}

std::optional<OrderRequest> Trader::on_price(double price, std::int64_t time_s) noexcept {
    if (!usable_price(price)) return std::nullopt;
    const double equity = book_equity_usd(price);
    // The day changes rarely: compare against its bounds instead of dividing on every price.
    if (!in_current_day(time_s)) {
        day_start_s_ = utc_day(time_s) * seconds_per_day;
        day_start_equity_ = equity;
        daily_loss_limit_usd_ = p_.max_daily_loss_pct / 100 * equity;
        breaker_ = false;
    }
    check_breaker(equity);
    if (pending_ || qty_ == 0) return std::nullopt;
    const double stop = stop_level_;
    const double take = take_level_;
    if (qty_ > 0) {
        if (stop > 0 && price <= stop) return exit(Side::sell, price, time_s, OrderReason::stop_loss);
        if (take > 0 && price >= take) return exit(Side::sell, price, time_s, OrderReason::take_profit);
    } else {
        if (stop > 0 && price >= stop) return exit(Side::buy, price, time_s, OrderReason::stop_loss);
        if (take > 0 && price <= take) return exit(Side::buy, price, time_s, OrderReason::take_profit);
    }
    return std::nullopt;
}

TraderBooks Trader::books() const noexcept {
    TraderBooks b;
    b.cash_usd = cash_;
    b.position_qty = qty_;
    b.entry_price = entry_price_;
    b.entry_fee_usd = entry_fee_;
    b.fees_usd = fees_;
    b.stop_level = stop_level_;
    b.take_level = take_level_;
    b.day_start_equity_usd = day_start_equity_;
    b.day_start_s = day_start_s_;
    b.breaker_tripped = breaker_ ? 1 : 0;
    return b;
}

void Trader::restore(const TraderBooks& b) noexcept {
    cash_ = b.cash_usd;
    qty_ = b.position_qty;
    entry_price_ = b.entry_price;
    entry_fee_ = b.entry_fee_usd;
    fees_ = b.fees_usd;
    // The levels as they were set at entry: a restart with other STOP_LOSS_PCT/TAKE_PROFIT_PCT
    // does not move the exits of a position already open.
    stop_level_ = b.stop_level;
    take_level_ = b.take_level;
    day_start_equity_ = b.day_start_equity_usd;
    day_start_s_ = b.day_start_s;
    daily_loss_limit_usd_ = p_.max_daily_loss_pct / 100 * day_start_equity_;
    breaker_ = b.breaker_tripped != 0;
    pending_ = false;
}

std::optional<OrderRequest> Trader::on_decision(const Decision& d) noexcept {
    if (pending_ || !usable_price(d.price)) return std::nullopt;
    switch (d.signal) {
        case Signal::flat:
            return std::nullopt;
        case Signal::buy:
            if (qty_ < 0) return exit(Side::buy, d.price, d.time_s, OrderReason::signal_exit);
            if (qty_ > 0) return std::nullopt;
            return entry(Side::buy, d);
        case Signal::sell:
            if (qty_ > 0) return exit(Side::sell, d.price, d.time_s, OrderReason::signal_exit);
            if (qty_ < 0) return std::nullopt;
            if (p_.long_only) {
                ++counters_.blocked_long_only;
                return std::nullopt;
            }
            return entry(Side::sell, d);
    }
    return std::nullopt;
}

std::optional<OrderRequest> Trader::exit(Side side, double price, std::int64_t t, OrderReason r) noexcept {
    pending_ = true;
    return OrderRequest{t, std::fabs(qty_), price, side, r};
}

std::optional<OrderRequest> Trader::entry(Side side, const Decision& d) noexcept {
    if (halted_) {
        ++counters_.blocked_halt;
        return std::nullopt;
    }
    if (funds_blocked_) {
        ++counters_.blocked_funds;
        return std::nullopt;
    }
    if (breaker_) {
        ++counters_.blocked_breaker;
        return std::nullopt;
    }
    if (!market_data_ok_) {
        ++counters_.blocked_market_data;
        return std::nullopt;
    }
    const double equity = equity_usd(d.price);
    const double factor = d.vol_factor > 0 && d.vol_factor <= 1 ? d.vol_factor : 1.0;
    double notional = equity * p_.risk_per_trade_pct / 100 * factor;
    // Never spend (or, short, owe) more than the cash, with fees and slippage reserved.
    const double affordable = cash_ / (1 + p_.cost_reserve_bps / 1e4);
    if (notional > affordable) notional = affordable;
    const double units = std::floor(notional / d.price / p_.base_increment);
    const double qty = units * p_.base_increment;
    if (!(qty > 0) || qty * d.price < p_.order_min_usd) {
        ++counters_.blocked_below_min;
        return std::nullopt;
    }
    pending_ = true;
    return OrderRequest{d.time_s, qty, d.price, side, OrderReason::entry};
}

void Trader::on_fill(const Fill& f) noexcept {
    apply_fill(f);
    // Every fill moves equity (fee, slippage, the fill price itself): the breaker is checked right
    // after it, whatever path led to it, so a stop filled at a gapped open whose costs cross the
    // daily-loss limit blocks an entry at the same candle's close (issue 9 item 14).
    // A fill stamped in a later day (an entry at a day's last close carries the next candle's
    // start) leaves the roll to that day's first price, as documented.
    if (usable_price(f.price) && in_current_day(f.time_s)) check_breaker(book_equity_usd(f.price));
}

void Trader::apply_fill(const Fill& f) noexcept {
    pending_ = false;
    const double signed_qty = f.side == Side::buy ? f.qty : -f.qty;
    const double notional = f.qty * f.price;
    cash_ += f.side == Side::buy ? -notional - f.fee_usd : notional - f.fee_usd;
    fees_ += f.fee_usd;
    if (f.reason == OrderReason::entry) {
        qty_ += signed_qty;
        entry_price_ = f.price;
        entry_fee_ = f.fee_usd;
        ++counters_.entries;
        set_exit_levels();
        return;
    }
    const double gross = qty_ > 0 ? (f.price - entry_price_) * f.qty : (entry_price_ - f.price) * f.qty;
    qty_ += signed_qty;
    if (std::fabs(qty_) < p_.base_increment / 2) qty_ = 0;  // a full exit leaves nothing behind
    ++counters_.round_trips;
    if (gross - entry_fee_ - f.fee_usd > 0) ++counters_.winning_round_trips;
    switch (f.reason) {
        case OrderReason::stop_loss:
            ++counters_.stop_losses;
            break;
        case OrderReason::take_profit:
            ++counters_.take_profits;
            break;
        default:
            ++counters_.signal_exits;
            break;
    }
    if (qty_ == 0) {
        entry_price_ = 0;
        entry_fee_ = 0;
    }
    set_exit_levels();
}

Fill PaperBroker::fill(const OrderRequest& r, double market_price) const noexcept {
    const double price = r.side == Side::buy ? market_price * (1 + slip_) : market_price * (1 - slip_);
    return Fill{r.time_s, r.qty, price, r.qty * price * fee_, r.side, r.reason};
}

}  // namespace cbtrade
