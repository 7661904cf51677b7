// A source stage for pipeline tests: plays a fixed list of MarketEvents into ring A at a bounded
// rate and only when the ring has room, so every run (fused, split, replay) sees the same events.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/thread_placement.hpp"
#include "feeds/synthetic_market.hpp"
#include "pipeline/history.hpp"
#include "pipeline/pipeline.hpp"

namespace cbtrade::testing {

class ScriptedSource final : public SourceStage {
public:
    // pace_ns: at most per_poll events every pace_ns (0: as fast as the ring takes them).
    ScriptedSource(MarketRing& out, std::vector<MarketEvent> script, std::size_t per_poll = 4, std::int64_t pace_ns = 0)
        : out_(out), script_(std::move(script)), per_poll_(per_poll), pace_ns_(pace_ns) {}

    std::string_view name() const noexcept override { return "scripted"; }
    std::size_t poll(std::int64_t now) noexcept override {
        if (pace_ns_ > 0) {
            if (now < next_ns_) return 0;
            next_ns_ = now + pace_ns_;
        }
        std::size_t n = 0;
        while (n < per_poll_ && next_ < script_.size() && out_.write_available() > 0) {
            MarketEvent e = script_[next_];
            e.push_tsc = read_tsc();
            if (e.kind == EventKind::trade) e.trade.receive_tsc = e.push_tsc;
            (void)out_.try_push(e);
            ++next_;
            ++n;
        }
        pushed_.store(next_, std::memory_order_release);
        return n;
    }
    bool drained(std::int64_t) const noexcept override { return next_ == script_.size(); }

    std::int64_t last_message_ns() const noexcept override { return now_ns(); }
    bool fresh() const noexcept override { return true; }
    std::string_view phase() const noexcept override { return "scripted"; }
    std::uint64_t reconnects() const noexcept override { return 0; }
    std::uint64_t gaps() const noexcept override { return 0; }
    std::uint64_t ticks() const noexcept override { return 0; }
    std::uint64_t trades() const noexcept override { return pushed_.load(std::memory_order_relaxed); }
    bool next_error(std::string&) override { return false; }

    [[nodiscard]] bool done() const noexcept { return pushed_.load(std::memory_order_acquire) == script_.size(); }

private:
    MarketRing& out_;
    std::vector<MarketEvent> script_;
    std::size_t per_poll_;
    std::int64_t pace_ns_;
    std::int64_t next_ns_ = 0;
    std::size_t next_ = 0;  // the polling thread only
    std::atomic<std::size_t> pushed_{0};
};

inline MarketEvent status_event(bool fresh, std::uint64_t gaps = 0, std::uint64_t reconnects = 0) {
    MarketEvent e{};
    e.kind = EventKind::status;
    e.status = FeedStatus{reconnects, gaps, 0, static_cast<std::uint8_t>(fresh ? 1 : 0)};
    return e;
}

inline MarketEvent trade_event(std::int64_t time_ns, double price, double size, std::uint64_t id) {
    MarketEvent e{};
    e.kind = EventKind::trade;
    e.trade.exchange_time_ns = time_ns;
    e.trade.price = price;
    e.trade.size = size;
    e.trade.trade_id = id;
    e.trade.taker_side = 1;
    return e;
}

inline MarketEvent clock_event(std::int64_t wall_ns) {
    MarketEvent e{};
    e.kind = EventKind::clock;
    e.clock_ns = wall_ns;
    return e;
}

struct Market {
    std::vector<Candle> history;
    std::vector<Candle> live;
};

inline Market make_market(std::size_t history, std::size_t live, std::uint64_t seed = 7) {
    SyntheticMarketParams p;
    p.seed = seed;
    SyntheticMarket m(p);
    Market out;
    out.history = m.take(history);
    out.live = m.take(live);
    return out;
}

// Each live candle as six trades (open, the nearer extreme, the other, two in between, close) and a
// clock event per trade whose wall time runs with the exchange time.
inline std::vector<MarketEvent> script_from(const std::vector<Candle>& live, bool start_fresh = true) {
    std::vector<MarketEvent> s;
    if (start_fresh) s.push_back(status_event(true));
    std::uint64_t id = 1000;
    for (const Candle& c : live) {
        const std::int64_t t0 = c.time_s * 1'000'000'000;
        const bool low_first = (c.open - c.low) <= (c.high - c.open);
        const double path[6] = {c.open,
                                low_first ? c.low : c.high,
                                (c.open + c.close) / 2,
                                low_first ? c.high : c.low,
                                (c.high + c.low) / 2,
                                c.close};
        const std::int64_t at_s[6] = {1, 10, 20, 30, 45, 58};
        for (int k = 0; k < 6; ++k) {
            const std::int64_t t = t0 + at_s[k] * 1'000'000'000;
            s.push_back(clock_event(t));
            s.push_back(trade_event(t, path[k], c.volume / 6, ++id));
        }
    }
    return s;
}

// What every pipeline test (and bench_tick_to_decision) starts from: the placement the CPU_* keys
// ask for on this process's cores, the prepared history and its model, no status lines. The
// caller adds the source and any option.
inline PipelineSetup setup_from(const Config& c, const PreparedHistory& h, BotMetrics& metrics, const TscClock& clock) {
    PipelineSetup s;
    s.config = c;
    s.plan = plan_placement(c, allowed_cores());
    s.history = h.candles;
    s.model = h.model;
    s.metrics = &metrics;
    s.clock = &clock;
    s.print_status = false;
    return s;
}

}  // namespace cbtrade::testing
