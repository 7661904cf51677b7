#include "tools/sim/market_feed.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

namespace cbtrade::sim {

namespace {

constexpr std::int64_t seconds_per_day = 86400;

std::int64_t to_cents(double price) noexcept {
    return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(price * 100.0)));
}

}  // namespace

void append_cents(std::string& out, std::int64_t cents) {
    char buf[32];
    const char* sign = cents < 0 ? "-" : "";
    const std::int64_t a = cents < 0 ? -cents : cents;
    const int n = std::snprintf(buf, sizeof buf, "%s%lld.%02lld", sign, static_cast<long long>(a / 100),
                                static_cast<long long>(a % 100));
    out.append(buf, static_cast<std::size_t>(n));
}

void append_decimal(std::string& out, double value, int digits) {
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%.*f", digits, value);
    if (n <= 0 || n >= static_cast<int>(sizeof buf)) {
        out += '0';
        return;
    }
    std::string_view s(buf, static_cast<std::size_t>(n));
    if (s.find('.') != std::string_view::npos) {
        while (s.back() == '0') s.remove_suffix(1);
        if (s.back() == '.') s.remove_suffix(1);
    }
    if (s == "-0") s = "0";
    out.append(s);
}

void append_size_units(std::string& out, std::int64_t units) {
    char buf[48];
    int n = std::snprintf(buf, sizeof buf, "%lld.%08lld", static_cast<long long>(units / size_units_per_base),
                          static_cast<long long>(units % size_units_per_base));
    while (buf[n - 1] == '0') --n;
    if (buf[n - 1] == '.') --n;
    out.append(buf, static_cast<std::size_t>(n));
}

MarketFeed::MarketFeed(std::shared_ptr<const std::vector<Candle>> candles, std::int64_t step_s, bool loop,
                       std::uint64_t seed)
    : candles_(std::move(candles)),
      loop_(loop),
      step_s_(step_s > 0 ? step_s : 60),
      random_(seed * 0x9E3779B97F4A7C15ull + 7) {}

MarketFeed::MarketFeed(const SyntheticMarketParams& params)
    : synthetic_(std::in_place, params),
      step_s_(params.step_s > 0 ? params.step_s : 60),
      random_(params.seed * 0x9E3779B97F4A7C15ull + 7) {}

void MarketFeed::start_at(std::int64_t time_s) {
    if (!candles_) return;
    csv_index_ =
        static_cast<std::size_t>(std::lower_bound(candles_->begin(), candles_->end(), time_s,
                                                  [](const Candle& c, std::int64_t t) { return c.time_s < t; }) -
                                 candles_->begin());
}

bool MarketFeed::load_next_candle() {
    if (synthetic_) {
        current_ = synthetic_->next();
    } else {
        if (!candles_ || candles_->empty()) return false;
        if (csv_index_ >= candles_->size()) {
            if (!loop_) return false;
            // Keep time increasing across the restart.
            time_shift_s_ += candles_->back().time_s - candles_->front().time_s + step_s_;
            csv_index_ = 0;
        }
        current_ = (*candles_)[csv_index_++];
        current_.time_s += time_shift_s_;
    }
    const std::int64_t open = to_cents(current_.open);
    const std::int64_t close = to_cents(current_.close);
    const std::int64_t high = std::max({to_cents(current_.high), open, close});
    const std::int64_t low = std::min({to_cents(current_.low), open, close});
    // A rising candle most likely dipped first, a falling one rose first.
    const bool rising = close >= open;
    path_cents_[0] = open;
    path_cents_[1] = rising ? low : high;
    path_cents_[2] = rising ? high : low;
    path_cents_[3] = close;
    // The volume in exact units of 1e-8, split into four positive sizes (see the header).
    const std::int64_t units = std::max<std::int64_t>(0, std::llround(current_.volume * size_units_per_base));
    if (units < ticks_per_candle) {
        ++volume_adjusted_;
        for (std::int64_t& u : size_units_) u = 1;
    } else {
        for (std::int64_t& u : size_units_) u = units / ticks_per_candle;
        size_units_[ticks_per_candle - 1] += units % ticks_per_candle;
    }
    tick_index_ = 0;
    current_low_cents_ = open;
    current_high_cents_ = open;
    return true;
}

void MarketFeed::close_current_candle() {
    const WindowCandle w{current_.time_s, path_cents_[0], current_low_cents_, current_high_cents_, current_.volume};
    window_.push_back(w);
    window_volume_ += w.volume;
    while (!window_min_.empty() && window_min_.back().low_cents >= w.low_cents) window_min_.pop_back();
    window_min_.push_back(w);
    while (!window_max_.empty() && window_max_.back().high_cents <= w.high_cents) window_max_.pop_back();
    window_max_.push_back(w);
}

std::optional<TickerQuote> MarketFeed::next() {
    if (tick_index_ >= ticks_per_candle) {
        if (candle_loaded_) close_current_candle();
        candle_loaded_ = load_next_candle();
        if (!candle_loaded_) return std::nullopt;
    }
    const int k = tick_index_++;
    const std::int64_t price = path_cents_[k];
    last_price_cents_ = price;
    current_low_cents_ = std::min(current_low_cents_, price);
    current_high_cents_ = std::max(current_high_cents_, price);
    if (!any_tick_) {
        low_52_w_cents_ = price;
        high_52_w_cents_ = price;
        any_tick_ = true;
    }
    low_52_w_cents_ = std::min(low_52_w_cents_, price);
    high_52_w_cents_ = std::max(high_52_w_cents_, price);

    // Drop closed candles older than 24 h before this candle.
    const std::int64_t cutoff = current_.time_s - seconds_per_day;
    while (!window_.empty() && window_.front().time_s < cutoff) {
        window_volume_ -= window_.front().volume;
        if (!window_min_.empty() && window_min_.front().time_s == window_.front().time_s) window_min_.pop_front();
        if (!window_max_.empty() && window_max_.front().time_s == window_.front().time_s) window_max_.pop_front();
        window_.pop_front();
    }
    if (window_.empty()) window_volume_ = 0;  // no drift from float subtraction

    TickerQuote q;
    q.time_us = current_.time_s * 1'000'000 + static_cast<std::int64_t>(k) * step_s_ * 1'000'000 / ticks_per_candle;
    q.price_cents = price;
    // A one to three cent spread around the trade, the trade at one side or inside.
    const auto below = static_cast<std::int64_t>(random_.next() % 3);
    const auto above = static_cast<std::int64_t>(random_.next() % 3);
    q.best_bid_cents = std::max<std::int64_t>(1, price - below - (below + above == 0 ? 1 : 0));
    q.best_ask_cents = price + above;
    q.best_bid_quantity = 0.0001 + std::floor(random_.next_unit() * 2e4) / 1e4;
    q.best_ask_quantity = 0.0001 + std::floor(random_.next_unit() * 2e4) / 1e4;
    q.volume_24_h = std::max(0.0, window_volume_ + current_.volume * (k + 1) / ticks_per_candle);
    q.low_24_h_cents = current_low_cents_;
    q.high_24_h_cents = current_high_cents_;
    if (!window_min_.empty()) q.low_24_h_cents = std::min(q.low_24_h_cents, window_min_.front().low_cents);
    if (!window_max_.empty()) q.high_24_h_cents = std::max(q.high_24_h_cents, window_max_.front().high_cents);
    q.low_52_w_cents = low_52_w_cents_;
    q.high_52_w_cents = high_52_w_cents_;
    const std::int64_t ref = window_.empty() ? path_cents_[0] : window_.front().open_cents;
    q.price_percent_chg_24_h = 100.0 * static_cast<double>(price - ref) / static_cast<double>(ref);

    q.trade.trade_id = next_trade_id_++;
    q.trade.time_us = q.time_us;
    q.trade.price_cents = price;
    q.trade.size_units = size_units_[k];
    q.trade.buy = last_trade_cents_ == 0 || price >= last_trade_cents_;
    last_trade_cents_ = price;
    recent_trades_.push_back(q.trade);
    if (recent_trades_.size() > recent_trades_kept) recent_trades_.pop_front();
    return q;
}

}  // namespace cbtrade::sim
