#include "tools/sim/sim_context.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "tools/sim/rest_exchange.hpp"

namespace cbtrade::sim {

namespace {
// Synthetic candles start at the given second, or at the start of the current minute.
std::int64_t synthetic_start(const SimOptions& opts) {
    if (opts.start_time_s) return *opts.start_time_s;
    const auto now_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return now_s - now_s % 60;
}
}  // namespace

SimContext::SimContext(const SimOptions& opts, std::shared_ptr<const std::vector<Candle>> csv_candles,
                       std::int64_t csv_step_s)
    : options(opts),
      rest(std::make_unique<RestExchange>(*this)),
      router(make_sim_router(*rest)),
      csv_candles_(std::move(csv_candles)),
      step_s_(csv_candles_ ? (csv_step_s > 0 ? csv_step_s : 60) : opts.step_sec),
      synthetic_start_s_(synthetic_start(opts)) {}

SimContext::~SimContext() = default;

MarketFeed& SimContext::feed(const std::string& product_id) {
    auto it = feeds_.find(product_id);
    if (it != feeds_.end()) return *it->second;
    const std::uint64_t seed = options.seed + feeds_.size();
    seeds_[product_id] = seed;
    std::unique_ptr<MarketFeed> f;
    if (csv_candles_) {
        f = std::make_unique<MarketFeed>(csv_candles_, step_s_, options.loop, seed);
        if (options.feed_from_s) f->start_at(*options.feed_from_s);
    } else {
        SyntheticMarketParams p;
        p.seed = seed;
        p.start_time_s = synthetic_start_s_;
        p.step_s = step_s_;
        p.start_price = options.start_price;
        f = std::make_unique<MarketFeed>(p);
    }
    return *feeds_.emplace(product_id, std::move(f)).first->second;
}

std::vector<Candle> SimContext::series(const std::string& product_id, std::int64_t start_s, std::int64_t end_s) {
    std::vector<Candle> out;
    if (csv_candles_) {
        const auto& all = *csv_candles_;
        auto it = std::lower_bound(all.begin(), all.end(), start_s,
                                   [](const Candle& c, std::int64_t t) { return c.time_s < t; });
        for (; it != all.end() && it->time_s <= end_s; ++it) out.push_back(*it);
        return out;
    }
    (void)feed(product_id);  // fixes the product's seed, as the WebSocket would
    const auto now_s =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count() +
        options.clock_offset_sec;
    // Candles that have closed by now, regenerated from the feed's seed when more are asked for.
    auto& history = synthetic_history_[product_id];
    const std::int64_t last = std::min(end_s, now_s - step_s_);
    if (last >= synthetic_start_s_ && (history.empty() || history.back().time_s < last)) {
        SyntheticMarketParams p;
        p.seed = seeds_[product_id];
        p.start_time_s = synthetic_start_s_;
        p.step_s = step_s_;
        p.start_price = options.start_price;
        SyntheticMarket market(p);
        history = market.take(static_cast<std::size_t>((last - synthetic_start_s_) / step_s_ + 1));
    }
    for (const Candle& c : history)
        if (c.time_s >= start_s && c.time_s <= end_s) out.push_back(c);
    return out;
}

std::int64_t SimContext::current_price_cents(const std::string& product_id) {
    if (const auto p = feed(product_id).last_price_cents()) return *p;
    const double first = csv_candles_ ? csv_candles_->front().open : options.start_price;
    return std::max<std::int64_t>(1, std::llround(first * 100.0));
}

std::int64_t SimContext::tick_interval_us() const noexcept {
    const double us = static_cast<double>(step_s_) * 1e6 / ticks_per_candle / options.pace_factor;
    return us < 1 ? 1 : static_cast<std::int64_t>(us);
}

std::uint64_t SimContext::tick_budget_left() const noexcept {
    if (!options.max_ticks) return UINT64_MAX;
    return ticks_reserved >= *options.max_ticks ? 0 : *options.max_ticks - ticks_reserved;
}

void SimContext::request_stop(const std::string& reason) {
    if (stopping) return;
    stopping = true;
    log("stopping: " + reason);
    if (on_stop) on_stop();
    // wake() may end a session and erase it from the set: iterate over a copy.
    const std::vector<SessionWaker*> live(sessions.begin(), sessions.end());
    for (auto* s : live) s->wake();
    if (sessions.empty() && on_idle) on_idle();
}

void SimContext::add_ws_faults(const std::vector<SimOptions::WsFault>& faults) {
    ws_faults.insert(ws_faults.end(), faults.begin(), faults.end());
    // A session waiting for its next step applies the fault now (wake() may end one: a copy).
    const std::vector<SessionWaker*> live(sessions.begin(), sessions.end());
    for (auto* s : live) s->wake();
}

void SimContext::session_ended() {
    if (stopping && sessions.empty() && on_idle) on_idle();
}

void SimContext::log(const std::string& line) const {
    if (options.quiet) return;
    std::fprintf(stderr, "sim: %s\n", line.c_str());
}

}  // namespace cbtrade::sim
